/**
 * The only way the inspector builds DOM: elements from tag names, text as text nodes, attributes
 * through a guard that refuses `style` and event-handler attributes. Data never goes through
 * innerHTML (the CSP forbids inline styles and scripts anyway, and run data is untrusted: a layer may
 * be named `<img src=x onerror=alert(1)>`).
 */
import type { SourceSite } from "../../core/trace/traceTypes";

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** `data-testid`, for end-to-end tests. */
  testid?: string;
  title?: string;
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

const FORBIDDEN = /^(style|on.*|srcdoc|formaction)$/i;

/** Sets an attribute unless it could carry styles or script; `false`/`undefined` remove it. */
export function setAttr(el: Element, name: string, value: string | number | boolean | undefined): void {
  if (FORBIDDEN.test(name)) throw new Error(`refusing to set attribute ${name}`);
  if (value === undefined || value === false) el.removeAttribute(name);
  else el.setAttribute(name, value === true ? "" : String(value));
}

function apply(el: Element, props: Props | undefined): void {
  if (!props) return;
  if (props.class) el.setAttribute("class", props.class);
  if (props.testid) el.setAttribute("data-testid", props.testid);
  if (props.title !== undefined) el.setAttribute("title", props.title);
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) setAttr(el, k, v);
  if (props.on) for (const [k, fn] of Object.entries(props.on)) if (fn) el.addEventListener(k, fn as EventListener);
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** `h("div", { class: "x" }, "text", child)`. Strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** A custom element (vscode-elements). */
export function hx(tag: string, props?: Props, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function s<K extends keyof SVGElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** A codicon (decorative unless labelled). */
export function icon(name: string, label?: string): HTMLSpanElement {
  const el = h("span", { class: `codicon codicon-${name}`, attrs: label ? { role: "img", "aria-label": label } : { "aria-hidden": "true" } });
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A text button that looks like a link (Enter and Space activate it like any button). */
export function linkButton(text: string, title: string, onActivate: () => void, testid?: string): HTMLButtonElement {
  return h("button", { class: "link", title, attrs: { type: "button" }, ...(testid ? { testid } : {}), on: { click: (e) => (e.stopPropagation(), onActivate()) } }, text);
}

/** A link to a source position: `file.ts:12`, click → reveal it in the editor. */
export function siteLink(site: SourceSite, label: string, open: (s: SourceSite) => void, testid = "source-link"): HTMLButtonElement {
  const b = linkButton(label, `Open ${site.file}:${site.line}:${site.column}`, () => open(site), testid);
  b.setAttribute("data-line", String(site.line));
  return b;
}

/** A small icon-only button with an accessible label. */
export function iconButton(name: string, label: string, onActivate: () => void, testid?: string): HTMLButtonElement {
  return h("button", { class: "icon-button", title: label, attrs: { type: "button", "aria-label": label }, ...(testid ? { testid } : {}), on: { click: (e) => (e.stopPropagation(), onActivate()) } }, icon(name));
}

/**
 * A region whose content is rebuilt only when its signature changes (the inspector re-renders
 * every animation frame while a run streams in; most regions stay as they are).
 */
export class Slot {
  private sig: string | undefined;
  constructor(readonly el: HTMLElement) {}

  update(sig: string, build: () => Child | Child[]): boolean {
    if (sig === this.sig) return false;
    this.sig = sig;
    clear(this.el);
    const out = build();
    append(this.el, Array.isArray(out) ? out : [out]);
    return true;
  }

  reset(): void {
    this.sig = undefined;
  }
}
