/**
 * A matrix as a canvas heatmap: one pixel per element in an ImageData, scaled up with
 * `image-rendering: pixelated`; the exact value under the pointer in a tooltip and a readout;
 * a keyboard cursor (arrows, Home/End, PageUp/PageDown) announced through an aria-live region;
 * click or Enter picks the element.
 */
import { shortNumber } from "../../core/format";
import type { TensorData } from "../../core/trace/traceTypes";
import { cellAt, displaySize, fillHeatmap, matrixShape, moveCursor, symmetricMax, type ColorTable } from "../heatmapCore";
import { scaleCss } from "../colors";
import { h } from "./dom";

export interface HeatmapOptions {
  t: TensorData;
  /** What the matrix is, for labels: `dense1.dinputs`. */
  label: string;
  /** Base cell size in CSS px (already zoomed). */
  cell: number;
  maxWidth: number;
  maxHeight: number;
  colors: ColorTable;
  special: readonly [number, number, number];
  selected?: readonly number[] | undefined;
  /** Called with [row, col] on click or Enter; absent → the heatmap is read-only. */
  onPick?: ((r: number, c: number) => void) | undefined;
  recordDraw?: (ms: number) => void;
  testid?: string;
}

/** `[r][c] = v` with v at full precision (shortest round-trip form). */
export function cellText(label: string, t: TensorData, r: number, c: number): string {
  const [, cols] = matrixShape(t.shape);
  const v = t.data[r * cols + c] as number;
  const idx = t.shape.length <= 1 ? `[${c}]` : `[${r}][${c}]`;
  return `${label}${idx} = ${String(v)}`;
}

export class HeatmapView {
  readonly el: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly cursor: HTMLDivElement;
  private readonly mark: HTMLDivElement;
  private readonly tip: HTMLDivElement;
  private readonly readout: HTMLDivElement;
  private readonly rows: number;
  private readonly cols: number;
  private readonly size: { width: number; height: number };
  private cur: [number, number] = [0, 0];
  /** Milliseconds the last fill + putImageData took. */
  drawMs = 0;

  constructor(private readonly o: HeatmapOptions) {
    [this.rows, this.cols] = matrixShape(o.t.shape);
    // The keyboard cursor starts on the picked element (focus is restored there after a re-render).
    if (o.selected && o.selected.length > 0) this.cur = o.selected.length >= 2 ? [o.selected[0] as number, o.selected[1] as number] : [0, o.selected[0] as number];
    this.size = displaySize(this.rows, this.cols, o.cell, o.maxWidth, o.maxHeight);
    this.canvas = h("canvas", {
      class: "heatmap",
      testid: o.testid ?? "heatmap",
      attrs: {
        tabindex: 0,
        role: "img",
        "aria-label": `${o.label}: heatmap of ${this.rows} × ${this.cols} values. Arrow keys move a cursor${o.onPick ? ", Enter explains the element" : ""}.`,
        "aria-roledescription": "heatmap",
        "data-rows": this.rows,
        "data-cols": this.cols,
      },
    });
    this.canvas.width = Math.max(1, this.cols);
    this.canvas.height = Math.max(1, this.rows);
    this.canvas.style.width = `${this.size.width}px`;
    this.canvas.style.height = `${this.size.height}px`;
    this.cursor = h("div", { class: "heat-cursor", attrs: { "aria-hidden": "true" } });
    this.mark = h("div", { class: "heat-selected", attrs: { "aria-hidden": "true" } });
    this.tip = h("div", { class: "heat-tip", attrs: { role: "tooltip" } });
    this.readout = h("div", { class: "heat-readout", testid: "readout", attrs: { "aria-live": "polite" } });
    const stage = h("div", { class: "heat-stage" }, this.canvas, this.mark, this.cursor, this.tip);
    stage.style.width = `${this.size.width}px`;
    stage.style.height = `${this.size.height}px`;
    const max = symmetricMax(o.t.data);
    const legend = h(
      "div",
      { class: "heat-legend", attrs: { "aria-hidden": "true" } },
      h("span", {}, `−${fmtShort(max)}`),
      h("span", { class: "heat-ramp" }),
      h("span", {}, `+${fmtShort(max)}`),
    );
    const ramp = legend.querySelector(".heat-ramp") as HTMLElement;
    // CSSOM (not a style attribute), which the CSP allows.
    ramp.style.backgroundImage = `linear-gradient(to right, ${scaleCss(-max, max)}, ${scaleCss(0, max)}, ${scaleCss(max, max)})`;
    this.el = h("div", { class: "heat" }, stage, h("div", { class: "heat-foot" }, legend, this.readout));
    this.draw();
    this.placeBox(this.mark, o.selected);
    this.cursor.hidden = true;
    this.tip.hidden = true;
    this.listen();
  }

  /** Fills the ImageData and puts it (timed). */
  draw(): void {
    const ctx = this.canvas.getContext("2d");
    if (!ctx || this.rows * this.cols === 0) return;
    const t0 = performance.now();
    const img = ctx.createImageData(this.cols, this.rows);
    fillHeatmap(this.o.t.data, img.data, this.o.colors, symmetricMax(this.o.t.data), this.o.special);
    ctx.putImageData(img, 0, 0);
    this.drawMs = performance.now() - t0;
    this.canvas.setAttribute("data-draw-ms", this.drawMs.toFixed(3));
    this.o.recordDraw?.(this.drawMs);
  }

  private placeBox(box: HTMLElement, at: readonly number[] | undefined): void {
    if (!at || at.length === 0) {
      box.hidden = true;
      return;
    }
    const r = at.length >= 2 ? (at[0] as number) : 0;
    const c = at.length >= 2 ? (at[1] as number) : (at[0] as number);
    const cw = this.size.width / this.cols;
    const ch = this.size.height / this.rows;
    box.hidden = false;
    box.style.left = `${c * cw}px`;
    box.style.top = `${r * ch}px`;
    box.style.width = `${Math.max(2, cw)}px`;
    box.style.height = `${Math.max(2, ch)}px`;
  }

  private show(r: number, c: number, announce: boolean): void {
    this.cur = [r, c];
    this.placeBox(this.cursor, [r, c]);
    const text = cellText(this.o.label, this.o.t, r, c);
    this.readout.textContent = text;
    if (announce) this.canvas.setAttribute("aria-description", text);
  }

  private listen(): void {
    const cv = this.canvas;
    cv.addEventListener("pointermove", (e) => {
      const rect = cv.getBoundingClientRect();
      const [r, c] = cellAt(e.clientX - rect.left, e.clientY - rect.top, rect.width, rect.height, this.rows, this.cols);
      this.show(r, c, false);
      this.tip.hidden = false;
      this.tip.textContent = cellText("", this.o.t, r, c).replace(/^ ?/, "");
      const x = e.clientX - rect.left + 12;
      const y = e.clientY - rect.top + 14;
      this.tip.style.left = `${Math.min(x, Math.max(0, rect.width - 40))}px`;
      this.tip.style.top = `${y}px`;
    });
    cv.addEventListener("pointerleave", () => {
      this.tip.hidden = true;
      if (document.activeElement !== cv) this.cursor.hidden = true;
    });
    cv.addEventListener("click", (e) => {
      const rect = cv.getBoundingClientRect();
      const [r, c] = cellAt(e.clientX - rect.left, e.clientY - rect.top, rect.width, rect.height, this.rows, this.cols);
      this.show(r, c, true);
      this.o.onPick?.(r, c);
    });
    cv.addEventListener("focus", () => this.show(this.cur[0], this.cur[1], true));
    cv.addEventListener("blur", () => (this.cursor.hidden = true));
    cv.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === " ") && this.o.onPick) {
        e.preventDefault();
        this.o.onPick(this.cur[0], this.cur[1]);
        return;
      }
      const next = moveCursor(e.key, e.ctrlKey || e.metaKey, this.cur[0], this.cur[1], this.rows, this.cols);
      if (!next) return;
      e.preventDefault();
      this.show(next[0], next[1], true);
    });
  }

  /** Moves the keyboard cursor (for reveal / restore). */
  focusCell(r: number, c: number): void {
    this.cur = [r, c];
    this.canvas.focus();
  }
}

/** A number on the heatmap's legend and tooltip: 3 significant digits, the product's one notation. */
function fmtShort(v: number): string {
  return shortNumber(v, 3);
}
