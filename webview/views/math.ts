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
  return el;
}
