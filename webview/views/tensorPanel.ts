/**
 * One tensor of a call: name, shape, statistics, then (once the card is near the viewport and the
 * tensor has arrived) its heatmap and, for small matrices, its number grid.
 */
import { shortNumber } from "../../core/format";
import type { TensorData, TensorStats } from "../../core/trace/traceTypes";
import type { Scale } from "../heatmapCore";
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
  /** Heatmap height limit (default 260 px, 360 px for more than 64 rows). */
  maxHeight?: number;
  /** A colour scale other than the one the values call for. */
  scale?: Scale;
  /** A cell to mark on the heatmap (the worst element of a gradient check). */
  marked?: readonly [number, number];
  /** The heatmap's key for region zoom (default `seq:name` of a fetched tensor; none: it does not zoom). */
  zoomKey?: string;
}

/** A number for statistics: 4 significant digits in the product's one notation (`shortNumber`). */
export function statNumber(v: number): string {
  return shortNumber(v, 4);
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * `min … max … mean … std … norm … zeros … non-finite …`, true for any float64: a statistic that does
 * not exist (the minimum of an all-NaN tensor) is `–`, mean and std say when they leave out non-finite
 * elements, and the non-finite count is split into NaN, +∞ and −∞ when the producer counted them.
 */
export function statsLine(st: TensorStats): HTMLElement {
  const item = (k: string, label: string, v: string, cls = "", title?: string): HTMLElement =>
    h("span", { class: `stat${cls}`, attrs: { "data-stat": k, ...(title ? { title } : {}) } }, h("span", { class: "stat-k" }, label), " ", h("span", { class: "stat-v" }, v));
  const finite = st.size - st.nonFinite;
  const some = st.nonFinite > 0 && finite > 0;
  const none = (v: number): string => (Number.isNaN(v) ? "–" : statNumber(v));
  const parts: string[] = [];
  if (st.nan !== undefined) {
    if (st.nan) parts.push(`${st.nan.toLocaleString("en-US")} NaN`);
    if (st.posInf) parts.push(`${st.posInf.toLocaleString("en-US")} +∞`);
    if (st.negInf) parts.push(`${st.negInf.toLocaleString("en-US")} −∞`);
  }
  const allNaN = st.nan !== undefined ? st.nan === st.size && st.size > 0 : false;
  return h(
    "div",
    { class: "stats", testid: "stats" },
    item("min", "min", allNaN || (Number.isNaN(st.min) && st.nonFinite === st.size) ? "–" : statNumber(st.min), "", allNaN ? "every element is NaN" : undefined),
    item("max", "max", allNaN || (Number.isNaN(st.max) && st.nonFinite === st.size) ? "–" : statNumber(st.max)),
    item("mean", some ? `mean of ${finite.toLocaleString("en-US")} finite` : "mean", finite === 0 ? "–" : none(st.mean)),
    item("std", some ? "std of finite" : "std", finite === 0 ? "–" : none(st.std)),
    item("norm", "norm", statNumber(st.norm), st.nonFinite > 0 ? " bad" : "", st.nonFinite > 0 ? "the L2 norm of every element: NaN when one is NaN, ∞ when one is infinite" : undefined),
    item("zeros", "zeros", st.zeros.toLocaleString("en-US"), st.zeros === st.size && st.size > 0 ? " warn" : ""),
    item("non-finite", "non-finite", `${st.nonFinite.toLocaleString("en-US")}${parts.length ? ` (${parts.join(", ")})` : ""}`, st.nonFinite > 0 ? " bad" : ""),
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
      // Pulled data carries no dtype; the call's tensor info does (the readout prints float32 as float32).
      t: o.dtype !== undefined && t.dtype === undefined ? { ...t, dtype: o.dtype } : t,
      label: o.label,
      name: o.name,
      cell: Math.round(18 * zoom),
      // Never wider than the card: the panel itself must not scroll sideways.
      maxWidth: Math.max(120, Math.min(ctx.contentWidth - 40, 560 * zoom)),
      maxHeight: (o.maxHeight ?? (t.shape[0] !== undefined && t.shape[0] > 64 ? 360 : 260)) * zoom,
      tables: ctx.tables,
      special: ctx.special,
      ...(o.scale ? { scale: o.scale } : {}),
      ...(o.marked ? { marked: o.marked } : {}),
      selected: o.selected,
      onPick: pick,
      recordDraw: (ms) => ctx.recordDraw(`${o.label}${shapeText(t.shape)}`, ms),
      ...(o.zoomKey !== undefined || "seq" in o.source ? { zoomKey: o.zoomKey ?? `${(o.source as { seq: number }).seq}:${o.name}`, zoom: ctx.heatZoom } : {}),
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
