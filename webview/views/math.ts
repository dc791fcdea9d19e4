/**
 * Equations with KaTeX's `render()` into DOM elements (renderToString + innerHTML would break under
 * the CSP). `trust` stays off, and `text` (the plain form) goes into `data-text` for tests and as
 * the fallback when KaTeX refuses the input.
 */
import katex from "katex";
import { h } from "./dom";

export function math(latex: string, text: string, props: { display?: boolean; testid?: string; class?: string } = {}): HTMLElement {
  const el = h("div", { class: `math${props.display ? " display" : ""}${props.class ? ` ${props.class}` : ""}`, attrs: { "data-text": text }, ...(props.testid ? { testid: props.testid } : {}) });
  try {
    katex.render(latex, el, { displayMode: props.display ?? false, throwOnError: true, trust: false, strict: "ignore", output: "htmlAndMathml" });
  } catch {
    el.textContent = text;
  }
  if (props.display) markOverflow(el);
  return el;
}

/**
 * A displayed equation wider than the panel scrolls sideways; it says so (issue 13: equations were cut
 * at the panel's edge with no sign that they scroll): a fade at the cut edge and a "scroll" hint, gone
 * once scrolled to the end.
 */
export function markOverflow(el: HTMLElement, what = "the equation goes on"): void {
  const hint = h("div", { class: "math-more", testid: "math-more", attrs: { "aria-hidden": "true" } }, `⇢ ${what}: scroll it sideways`);
  const update = (): void => {
    const over = el.scrollWidth > el.clientWidth + 1;
    const atEnd = el.scrollLeft + el.clientWidth >= el.scrollWidth - 1;
    el.classList.toggle("overflows", over && !atEnd);
    hint.hidden = !over || atEnd;
    if (over && !hint.isConnected) el.after(hint);
  };
  el.addEventListener("scroll", update, { passive: true });
  // Measured once it is laid out (and again when the panel resizes).
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => requestAnimationFrame(update));
  // (in a frame of its own: changing the class inside the observer's callback would loop it)
  if (typeof ResizeObserver === "function") new ResizeObserver(() => requestAnimationFrame(update)).observe(el);
}
