/**
 * A matrix as a canvas heatmap: one pixel per element of the region shown in an ImageData, scaled
 * with `image-rendering: pixelated` to a size that fits the card (a 784-wide matrix is as wide as the
 * card, never wider; cells may be under a pixel). The exact value under the pointer in a tooltip and
 * a readout; a keyboard cursor (arrows, Home/End, PageUp/PageDown) announced through an aria-live
 * region; click or Enter picks the element.
 *
 * Region zoom and pan, on one heatmap at a time (`HeatZoom`): drag a rectangle to zoom into it,
 * Ctrl/⌘ + wheel or `+`/`−` zoom around the pointer or cursor, Shift + drag pans, `0` or the reset
 * button shows the whole matrix again. The readout stays exact: it reads the element under the pointer.
 *
 * The colour scale follows what the values are (`chooseScale`): diverging for signed values and
 * gradients, sequential for non-negative values, 0 … 1 for probabilities, categorical for class
 * targets; the legend names it.
 */
import { exactNumber, shortNumber } from "../../core/format";
import type { TensorData } from "../../core/trace/traceTypes";
import {
  cellAt,
  chooseScale,
  clampRegion,
  fillRegion,
  fitSize,
  fullRegion,
  matrixShape,
  moveCursor,
  panRegion,
  regionBetween,
  scaleName,
  zoomRegion,
  type Region,
  type Scale,
  type ScaleTables,
} from "../heatmapCore";
import { categoricalCss, scaleCss, sequentialCss } from "../colors";
import { h } from "./dom";

/** Who holds the zoom: only one heatmap of the inspector is zoomed at a time. */
export interface HeatZoom {
  /** The zoomed heatmap's key and region, if any. */
  readonly active: { key: string; region: Region } | undefined;
  /** Takes the zoom for `key` (region undefined: shows all again); the previous holder is told to reset. */
  claim(key: string, region: Region | undefined, reset: () => void): void;
}

export interface HeatmapOptions {
  t: TensorData;
  /** What the matrix is, for labels: `dense1.dinputs`. */
  label: string;
  /** The tensor's name, for the choice of scale (`targets`, `output`, `dweights`). */
  name?: string;
  /** Base cell size in CSS px (already zoomed). */
  cell: number;
  maxWidth: number;
  maxHeight: number;
  tables: ScaleTables;
  special: readonly [number, number, number];
  /** The scale to use instead of the one the values call for (a difference map is diverging). */
  scale?: Scale;
  selected?: readonly number[] | undefined;
  /** Called with [row, col] on click or Enter; absent → the heatmap is read-only. */
  onPick?: ((r: number, c: number) => void) | undefined;
  recordDraw?: (ms: number) => void;
  testid?: string;
  /** Key for the zoom coordinator (`seq:name`); without it the heatmap does not zoom. */
  zoomKey?: string;
  zoom?: HeatZoom;
  /** A cell to mark (the worst element of a gradient check). */
  marked?: readonly [number, number];
}

/** `[r][c] = v` with v at full precision (the shortest form that reads back as v in the tensor's dtype). */
export function cellText(label: string, t: TensorData, r: number, c: number): string {
  const [, cols] = matrixShape(t.shape);
  const v = t.data[r * cols + c] as number;
  const idx = t.shape.length <= 1 ? `[${c}]` : `[${r}][${c}]`;
  return `${label}${idx} = ${exactNumber(v, t.dtype)}`;
}

export class HeatmapView {
  readonly el: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly stage: HTMLDivElement;
  private readonly cursor: HTMLDivElement;
  private readonly mark: HTMLDivElement;
  private readonly worst: HTMLDivElement;
  private readonly band: HTMLDivElement;
  private readonly tip: HTMLDivElement;
  private readonly readout: HTMLDivElement;
  private readonly zoomBar: HTMLDivElement;
  private readonly rows: number;
  private readonly cols: number;
  private readonly size: { width: number; height: number };
  readonly scale: Scale;
  private region: Region;
  private cur: [number, number] = [0, 0];
  private drag: { start: [number, number]; x: number; y: number; pan: boolean; region: Region; moved: boolean } | undefined;
  /** Milliseconds the last fill + putImageData took. */
  drawMs = 0;

  constructor(private readonly o: HeatmapOptions) {
    [this.rows, this.cols] = matrixShape(o.t.shape);
    this.scale = o.scale ?? chooseScale(o.name ?? "", o.t.data, this.cols);
    this.region = fullRegion(this.rows, this.cols);
    const held = o.zoomKey !== undefined ? o.zoom?.active : undefined;
    if (held && held.key === o.zoomKey) this.region = clampRegion(held.region, this.rows, this.cols);
    // The keyboard cursor starts on the picked element (focus is restored there after a re-render).
    if (o.selected && o.selected.length > 0) this.cur = o.selected.length >= 2 ? [o.selected[0] as number, o.selected[1] as number] : [0, o.selected[0] as number];
    this.size = fitSize(this.rows, this.cols, o.cell, o.maxWidth, o.maxHeight);
    this.canvas = h("canvas", {
      class: "heatmap",
      testid: o.testid ?? "heatmap",
      attrs: {
        tabindex: 0,
        role: "img",
        "aria-label": `${o.label}: heatmap of ${this.rows} × ${this.cols} values, ${scaleName(this.scale)}. Arrow keys move a cursor${o.onPick ? ", Enter explains the element" : ""}${o.zoomKey ? "; + and − zoom, 0 shows everything" : ""}.`,
        "aria-roledescription": "heatmap",
        "data-rows": this.rows,
        "data-cols": this.cols,
        "data-scale": this.scale.kind,
      },
    });
    // The stage has the size; the canvas fills it (and shrinks with it if the card is narrower).
    this.canvas.style.width = "100%";
    this.canvas.style.height = "100%";
    this.cursor = h("div", { class: "heat-cursor", attrs: { "aria-hidden": "true" } });
    this.mark = h("div", { class: "heat-selected", attrs: { "aria-hidden": "true" } });
    this.worst = h("div", { class: "heat-worst", testid: "heat-worst", attrs: { "aria-hidden": "true" } });
    this.band = h("div", { class: "heat-band", attrs: { "aria-hidden": "true" } });
    this.tip = h("div", { class: "heat-tip", attrs: { role: "tooltip" } });
    this.readout = h("div", { class: "heat-readout", testid: "readout", attrs: { "aria-live": "polite" } });
    this.stage = h("div", { class: "heat-stage" }, this.canvas, this.mark, this.worst, this.cursor, this.band, this.tip);
    this.stage.style.width = `${this.size.width}px`;
    this.stage.style.height = `${this.size.height}px`;
    this.zoomBar = h("div", { class: "heat-zoom", testid: "heat-zoom" });
    this.el = h("div", { class: "heat", attrs: { "data-zoomed": "false" } }, this.stage, h("div", { class: "heat-foot" }, this.legend(), this.zoomBar, this.readout));
    this.cursor.hidden = true;
    this.tip.hidden = true;
    this.band.hidden = true;
    this.draw();
    this.listen();
  }

  /** The region shown (the whole matrix unless zoomed). */
  get shown(): Region {
    return { ...this.region };
  }

  private legend(): HTMLElement {
    const s = this.scale;
    const name = h("span", { class: "heat-scale", testid: "heat-scale", attrs: { "data-scale": s.kind } }, scaleName(s));
    if (s.kind === "categorical") {
      const n = Math.min(s.classes ?? 1, 10);
      const sw = Array.from({ length: n }, (_, i) => {
        const b = h("span", { class: "heat-swatch" }, String(i));
        b.style.backgroundColor = categoricalCss(i);
        return b;
      });
      return h("div", { class: "heat-legend", testid: "heat-legend" }, name, ...sw);
    }
    const ramp = h("span", { class: "heat-ramp" });
    // CSSOM (not a style attribute), which the CSP allows.
    ramp.style.backgroundImage =
      s.kind === "diverging" ? `linear-gradient(to right, ${scaleCss(-1, 1)}, ${scaleCss(0, 1)}, ${scaleCss(1, 1)})` : `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(sequentialCss).join(", ")})`;
    const lo = s.kind === "diverging" ? `−${shortNumber(s.hi, 3)}` : shortNumber(s.lo, 3);
    const hi = s.kind === "diverging" ? `+${shortNumber(s.hi, 3)}` : shortNumber(s.hi, 3);
    return h("div", { class: "heat-legend", testid: "heat-legend" }, name, h("span", {}, lo), ramp, h("span", {}, hi));
  }

  /** Fills the ImageData of the region and puts it (timed). */
  draw(): void {
    const g = this.region;
    this.canvas.width = Math.max(1, g.cols);
    this.canvas.height = Math.max(1, g.rows);
    const zoomed = g.rows !== this.rows || g.cols !== this.cols;
    this.el.setAttribute("data-zoomed", String(zoomed));
    this.canvas.setAttribute("data-region", `${g.r0},${g.c0},${g.rows},${g.cols}`);
    this.renderZoomBar(zoomed);
    this.placeBox(this.mark, this.o.selected);
    this.placeBox(this.worst, this.o.marked);
    if (!this.cursor.hidden) this.placeBox(this.cursor, this.cur);
    const ctx = this.canvas.getContext("2d");
    if (!ctx || this.rows * this.cols === 0) return;
    const t0 = performance.now();
    const img = ctx.createImageData(g.cols, g.rows);
    fillRegion(this.o.t.data, this.cols, g, img.data, this.scale, this.o.tables, this.o.special);
    ctx.putImageData(img, 0, 0);
    this.drawMs = performance.now() - t0;
    this.canvas.setAttribute("data-draw-ms", this.drawMs.toFixed(3));
    this.o.recordDraw?.(this.drawMs);
  }

  private renderZoomBar(zoomed: boolean): void {
    if (this.o.zoomKey === undefined) {
      this.zoomBar.replaceChildren();
      return;
    }
    const g = this.region;
    const big = this.rows * this.cols > 64;
    if (!zoomed) {
      this.zoomBar.replaceChildren(big ? h("span", { class: "muted heat-hint" }, "drag to zoom into a region") : "");
      return;
    }
    const reset = h("button", { class: "link", testid: "heat-reset", title: "Show the whole matrix (0)", attrs: { type: "button" }, on: { click: (e) => (e.stopPropagation(), this.setRegion(undefined)) } }, "show all");
    const rows = this.o.t.shape.length <= 1 ? "" : `rows ${g.r0}–${g.r0 + g.rows - 1}, `;
    this.zoomBar.replaceChildren(h("span", { class: "heat-region", testid: "heat-region" }, `${rows}columns ${g.c0}–${g.c0 + g.cols - 1}`), " ", reset, h("span", { class: "muted heat-hint" }, " · Shift+drag pans"));
  }

  private setRegion(g: Region | undefined): void {
    const next = g ? clampRegion(g, this.rows, this.cols) : fullRegion(this.rows, this.cols);
    const same = next.r0 === this.region.r0 && next.c0 === this.region.c0 && next.rows === this.region.rows && next.cols === this.region.cols;
    if (same) return;
    this.region = next;
    const whole = next.rows === this.rows && next.cols === this.cols;
    if (this.o.zoomKey !== undefined) this.o.zoom?.claim(this.o.zoomKey, whole ? undefined : next, () => this.resetZoom());
    this.draw();
  }

  /** Shows the whole matrix again (another heatmap took the zoom). */
  resetZoom(): void {
    if (this.region.rows === this.rows && this.region.cols === this.cols) return;
    this.region = fullRegion(this.rows, this.cols);
    this.draw();
  }

  /** The cell (matrix coordinates) under a point of the canvas. */
  private cellAtPoint(x: number, y: number, width: number, height: number): [number, number] {
    const g = this.region;
    const [r, c] = cellAt(x, y, width, height, g.rows, g.cols);
    return [g.r0 + r, g.c0 + c];
  }

  private placeBox(box: HTMLElement, at: readonly number[] | undefined): void {
    if (!at || at.length === 0) {
      box.hidden = true;
      return;
    }
    const r = at.length >= 2 ? (at[0] as number) : 0;
    const c = at.length >= 2 ? (at[1] as number) : (at[0] as number);
    const g = this.region;
    if (r < g.r0 || r >= g.r0 + g.rows || c < g.c0 || c >= g.c0 + g.cols) {
      box.hidden = true;
      return;
    }
    // Percentages: right whatever size CSS gives the canvas.
    box.hidden = false;
    box.style.left = `${((c - g.c0) / g.cols) * 100}%`;
    box.style.top = `${((r - g.r0) / g.rows) * 100}%`;
    box.style.width = `max(3px, ${100 / g.cols}%)`;
    box.style.height = `max(3px, ${100 / g.rows}%)`;
  }

  private show(r: number, c: number, announce: boolean): void {
    this.cur = [r, c];
    this.placeBox(this.cursor, [r, c]);
    const text = cellText(this.o.label, this.o.t, r, c);
    this.readout.textContent = text;
    if (announce) this.canvas.setAttribute("aria-description", text);
  }

  /** Keeps the cursor's cell in view when zoomed (keyboard moves pan the region). */
  private follow(r: number, c: number): void {
    const g = this.region;
    let dr = 0;
    let dc = 0;
    if (r < g.r0) dr = r - g.r0;
    else if (r >= g.r0 + g.rows) dr = r - (g.r0 + g.rows - 1);
    if (c < g.c0) dc = c - g.c0;
    else if (c >= g.c0 + g.cols) dc = c - (g.c0 + g.cols - 1);
    if (dr || dc) this.setRegion(panRegion(g, dr, dc, this.rows, this.cols));
  }

  private listen(): void {
    const cv = this.canvas;
    const zoomable = this.o.zoomKey !== undefined;
    cv.addEventListener("pointerdown", (e) => {
      if (!zoomable || e.button !== 0) return;
      const rect = cv.getBoundingClientRect();
      const x = e.clientX - rect.left;
      const y = e.clientY - rect.top;
      this.drag = { start: this.cellAtPoint(x, y, rect.width, rect.height), x, y, pan: e.shiftKey, region: { ...this.region }, moved: false };
      cv.setPointerCapture?.(e.pointerId);
    });
    cv.addEventListener("pointermove", (e) => {
      const rect = cv.getBoundingClientRect();
      const x = e.clientX - rect.left;
      const y = e.clientY - rect.top;
      const [r, c] = this.cellAtPoint(x, y, rect.width, rect.height);
      const d = this.drag;
      if (d && (Math.abs(x - d.x) > 3 || Math.abs(y - d.y) > 3)) d.moved = true;
      if (d?.moved && d.pan) {
        const dr = Math.round(((d.y - y) / rect.height) * d.region.rows);
        const dc = Math.round(((d.x - x) / rect.width) * d.region.cols);
        this.setRegion(panRegion(d.region, dr, dc, this.rows, this.cols));
      } else if (d?.moved) {
        const g = regionBetween(d.start, [r, c]);
        this.band.hidden = false;
        const R = this.region;
        this.band.style.left = `${((g.c0 - R.c0) / R.cols) * 100}%`;
        this.band.style.top = `${((g.r0 - R.r0) / R.rows) * 100}%`;
        this.band.style.width = `${(g.cols / R.cols) * 100}%`;
        this.band.style.height = `${(g.rows / R.rows) * 100}%`;
      }
      this.show(r, c, false);
      this.tip.hidden = false;
      this.tip.textContent = cellText("", this.o.t, r, c).replace(/^ ?/, "");
      this.tip.style.left = `${Math.min(x + 12, Math.max(0, rect.width - 40))}px`;
      this.tip.style.top = `${y + 14}px`;
    });
    const endDrag = (e: PointerEvent): boolean => {
      const d = this.drag;
      this.drag = undefined;
      this.band.hidden = true;
      if (!d?.moved) return false;
      if (!d.pan) {
        const rect = cv.getBoundingClientRect();
        const end = this.cellAtPoint(e.clientX - rect.left, e.clientY - rect.top, rect.width, rect.height);
        const g = regionBetween(d.start, end);
        if (g.rows * g.cols > 1) this.setRegion(g);
      }
      return true;
    };
    cv.addEventListener("pointerup", (e) => {
      if (endDrag(e)) return;
      const rect = cv.getBoundingClientRect();
      const [r, c] = this.cellAtPoint(e.clientX - rect.left, e.clientY - rect.top, rect.width, rect.height);
      this.show(r, c, true);
      this.o.onPick?.(r, c);
    });
    cv.addEventListener("pointercancel", () => {
      this.drag = undefined;
      this.band.hidden = true;
    });
    cv.addEventListener("pointerleave", () => {
      this.tip.hidden = true;
      if (document.activeElement !== cv) this.cursor.hidden = true;
    });
    cv.addEventListener(
      "wheel",
      (e) => {
        if (!zoomable || !(e.ctrlKey || e.metaKey)) return;
        e.preventDefault();
        const rect = cv.getBoundingClientRect();
        const [r, c] = this.cellAtPoint(e.clientX - rect.left, e.clientY - rect.top, rect.width, rect.height);
        this.setRegion(zoomRegion(this.region, e.deltaY < 0 ? 2 : 0.5, r, c, this.rows, this.cols));
      },
      { passive: false },
    );
    cv.addEventListener("focus", () => this.show(this.cur[0], this.cur[1], true));
    cv.addEventListener("blur", () => (this.cursor.hidden = true));
    cv.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === " ") && this.o.onPick) {
        e.preventDefault();
        this.o.onPick(this.cur[0], this.cur[1]);
        return;
      }
      if (zoomable && (e.key === "+" || e.key === "=" || e.key === "-" || e.key === "0" || e.key === "Escape")) {
        if (e.key === "Escape" && this.region.rows === this.rows && this.region.cols === this.cols) return;
        e.preventDefault();
        if (e.key === "0" || e.key === "Escape") this.setRegion(undefined);
        else this.setRegion(zoomRegion(this.region, e.key === "-" ? 0.5 : 2, this.cur[0], this.cur[1], this.rows, this.cols));
        return;
      }
      const next = moveCursor(e.key, e.ctrlKey || e.metaKey, this.cur[0], this.cur[1], this.rows, this.cols);
      if (!next) return;
      e.preventDefault();
      this.follow(next[0], next[1]);
      this.show(next[0], next[1], true);
    });
  }

  /** Moves the keyboard cursor (for reveal / restore). */
  focusCell(r: number, c: number): void {
    this.cur = [r, c];
    this.canvas.focus();
  }

  /** Zooms to a region (tests, the compare view's linked maps). */
  zoomTo(g: Region | undefined): void {
    this.setRegion(g);
  }
}
