/**
 * One tensor of a call: name, shape, statistics, then (once the card is near the viewport and the
 * tensor has arrived) its heatmap and, for small matrices, its number grid.
 */
import type { TensorData, TensorStats } from "../../core/trace/traceTypes";
import { wantsGrid } from "../numberGrid";
import type { Ctx } from "./context";
import { h, icon } from "./dom";
import { numberGrid } from "./grid";
import { HeatmapView } from "./heatmap";

export interface TensorPanelOptions {
  ctx: Ctx;
  /** The tensor's data, or where to fetch it. */
  source: { seq: number; name: string } | { data: TensorData };
  /** The tensor's name as shown (`dinputs`, `jacobian`). */
  name: string;
  /** Prefix for value labels: `dense1.dinputs`. */
  label: string;
  shape: number[];
  /** The model's element type when it was not float64 (`float32` from NumPy or PyTorch): shown after the shape. */
  dtype?: string;
  stats?: TensorStats | undefined;
  /** A short note under the name (`parameter snapshot`, `(ŷ − y)/n`). */
  note?: string;
  selected?: readonly number[] | undefined;
  onPick?: ((index: number[]) => void) | undefined;
  testid?: string;
  /** Extra attributes (`data-phase`, …). */
  attrs?: Record<string, string | number>;
  /** Heatmap height limit (default 260 px). */
  maxHeight?: number;
}

/** A number for statistics: 4 significant digits, exponent form when tiny or huge. */
export function statNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  const s = a >= 1e5 || a < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
  return s.replace("-", "−");
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

export function statsLine(st: TensorStats): HTMLElement {
  const item = (k: string, v: string, cls = ""): HTMLElement => h("span", { class: `stat${cls}`, attrs: { "data-stat": k } }, h("span", { class: "stat-k" }, k), " ", h("span", { class: "stat-v" }, v));
  return h(
    "div",
    { class: "stats", testid: "stats" },
    item("min", statNumber(st.min)),
    item("max", statNumber(st.max)),
    item("mean", statNumber(st.mean)),
    item("std", statNumber(st.std)),
    item("norm", statNumber(st.norm)),
    item("zeros", String(st.zeros), st.zeros === st.size && st.size > 0 ? " warn" : ""),
    item("non-finite", String(st.nonFinite), st.nonFinite > 0 ? " bad" : ""),
  );
}

export function tensorPanel(o: TensorPanelOptions): HTMLElement {
  const { ctx } = o;
  const body = h("div", { class: "tensor-body" });
  const el = h(
    "figure",
    { class: "tensor", testid: o.testid ?? "tensor", attrs: { "data-tensor": o.name, ...(o.attrs ?? {}) } },
    h("figcaption", {}, h("span", { class: "tensor-name" }, o.name), " ", h("span", { class: "tensor-shape", testid: "shape" }, shapeText(o.shape)), o.dtype ? h("span", { class: "tensor-dtype", testid: "dtype" }, ` ${o.dtype}`) : null, o.note ? h("span", { class: "tensor-note" }, o.note) : null),
    o.stats ? statsLine(o.stats) : null,
    body,
  );
  const pick = o.onPick ? (r: number, c: number) => o.onPick?.(o.shape.length <= 1 ? [c] : [r, c]) : undefined;
  const show = (t: TensorData): void => {
    body.replaceChildren();
    el.classList.remove("loading");
    const zoom = ctx.view.zoom;
    const heat = new HeatmapView({
      t,
      label: o.label,
      cell: Math.round(18 * zoom),
      maxWidth: Math.max(120, Math.min(ctx.contentWidth - 24, 560 * zoom)),
      maxHeight: (o.maxHeight ?? 260) * zoom,
      colors: ctx.colors,
      special: ctx.special,
      selected: o.selected,
      onPick: pick,
      recordDraw: (ms) => ctx.recordDraw(`${o.label}${shapeText(t.shape)}`, ms),
    });
    body.appendChild(heat.el);
    if (wantsGrid(t.shape)) body.appendChild(numberGrid(t, { name: o.name, selected: o.selected, onPick: pick }));
  };
  if ("data" in o.source) {
    show(o.source.data);
    return el;
  }
  const { seq, name } = o.source;
  const cached = ctx.peekTensor(seq, name);
  if (cached) {
    show(cached);
    return el;
  }
  el.classList.add("loading");
  body.appendChild(h("div", { class: "tensor-placeholder" }, icon("loading codicon-modifier-spin"), " loading…"));
  ctx.whenVisible(el, () => {
    ctx.tensor(seq, name).then(show, (err: unknown) => {
      body.replaceChildren(h("div", { class: "tensor-error", attrs: { role: "status" } }, icon("warning"), ` ${err instanceof Error ? err.message : String(err)}`));
      el.classList.remove("loading");
    });
  });
  return el;
}
