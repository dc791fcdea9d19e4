/**
 * The pure part of the heatmaps: a 256-entry colour table for a diverging scale symmetric around 0,
 * the fill of an RGBA buffer (one pixel per element, drawn scaled with `image-rendering: pixelated`),
 * and the pointer → cell mapping. No DOM, so it is tested and timed in Node.
 */

/** 256 RGB triples, index 0 = most negative, 128 ≈ 0, 255 = most positive. */
export type ColorTable = Uint8Array;

/** Parses `rgb(r, g, b)` or `#rrggbb` (what d3-scale-chromatic interpolators return). */
export function parseColor(s: string): [number, number, number] {
  const m = /rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  const h = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(s.trim());
  if (h) return [parseInt(h[1] as string, 16), parseInt(h[2] as string, 16), parseInt(h[3] as string, 16)];
  return [128, 128, 128];
}

/** Samples `interpolate(t)` for t in [0, 1] into a table; `reverse` flips it (RdBu reversed: negative blue, positive red). */
export function buildColorTable(interpolate: (t: number) => string, reverse = true): ColorTable {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const [r, g, b] = parseColor(interpolate(reverse ? 1 - t : t));
    lut[i * 3] = r;
    lut[i * 3 + 1] = g;
    lut[i * 3 + 2] = b;
  }
  return lut;
}

/** The largest finite |value| (the scale runs from −max to +max); 1 when all are 0 or non-finite. */
export function symmetricMax(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i] as number);
    if (a > m && a !== Infinity) m = a;
  }
  return m > 0 ? m : 1;
}

/**
 * Writes one RGBA pixel per element of `data` (row-major) into `out` (length ≥ 4·data.length).
 * Colour index = round((v / maxAbs + 1) · 127.5), clamped; NaN and ±Infinity get `special`.
 */
export function fillHeatmap(data: ArrayLike<number>, out: Uint8ClampedArray, lut: ColorTable, maxAbs: number, special: readonly [number, number, number]): void {
  const k = 127.5 / maxAbs;
  const n = data.length;
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const v = data[i] as number;
    if (v - v !== 0) {
      out[o] = special[0];
      out[o + 1] = special[1];
      out[o + 2] = special[2];
    } else {
      let c = (v * k + 127.5 + 0.5) | 0;
      if (c < 0) c = 0;
      else if (c > 255) c = 255;
      const l = c * 3;
      out[o] = lut[l] as number;
      out[o + 1] = lut[l + 1] as number;
      out[o + 2] = lut[l + 2] as number;
    }
    out[o + 3] = 255;
  }
}

/** Rows and columns of a tensor shown as a matrix: 1-D is one row, ≥ 3-D folds the leading dimensions into rows. */
export function matrixShape(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [1, shape[0] as number];
  const cols = shape[shape.length - 1] as number;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return [rows, cols];
}

/** The cell under a point of a `width × height` box showing `rows × cols` cells (clamped to the grid). */
export function cellAt(x: number, y: number, width: number, height: number, rows: number, cols: number): [number, number] {
  const r = Math.min(rows - 1, Math.max(0, Math.floor((y / height) * rows)));
  const c = Math.min(cols - 1, Math.max(0, Math.floor((x / width) * cols)));
  return [r, c];
}

/**
 * Display size of a heatmap in CSS pixels: square cells of `cell` px while the matrix fits in
 * `maxWidth × maxHeight`, else each axis squeezed independently (cells may be under a pixel).
 */
export function displaySize(rows: number, cols: number, cell: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  let c = cell;
  if (cols * c > maxWidth) c = Math.max(1, maxWidth / cols);
  const fitsSquare = rows * c <= maxHeight;
  let width = Math.max(8, Math.round(cols * c));
  const height = fitsSquare ? Math.max(8, Math.round(rows * c)) : Math.max(8, Math.round(maxHeight));
  // A tall, narrow matrix (300 samples × 3 classes) would be a thin strip: widen its cells.
  if (!fitsSquare && width < 160) width = Math.min(maxWidth, 160);
  return { width, height };
}

/** A key move on a grid cursor: arrows, Home/End (row), PageUp/PageDown (10 rows), Ctrl+Home/End (corners). */
export function moveCursor(key: string, ctrl: boolean, r: number, c: number, rows: number, cols: number): [number, number] | undefined {
  const clampR = (x: number): number => Math.min(rows - 1, Math.max(0, x));
  const clampC = (x: number): number => Math.min(cols - 1, Math.max(0, x));
  switch (key) {
    case "ArrowUp":
      return [clampR(r - 1), c];
    case "ArrowDown":
      return [clampR(r + 1), c];
    case "ArrowLeft":
      return [r, clampC(c - 1)];
    case "ArrowRight":
      return [r, clampC(c + 1)];
    case "Home":
      return ctrl ? [0, 0] : [r, 0];
    case "End":
      return ctrl ? [rows - 1, cols - 1] : [r, cols - 1];
    case "PageUp":
      return [clampR(r - 10), c];
    case "PageDown":
      return [clampR(r + 10), c];
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- scales

/**
 * Which colour scale a tensor gets, named in its legend:
 * - `diverging`: signed values (and every gradient), symmetric around 0 (negative blue, 0 white, positive red);
 * - `probability`: rows of probabilities (a softmax output: every value in [0, 1], each row summing to 1), 0 … 1;
 * - `sequential`: other non-negative values (a ReLU output), 0 … max; values that are all positive and
 *   close together (a sigmoid output of 0.497 … 0.503) from their smallest to their largest, so that
 *   they are not one flat block (the legend says so);
 * - `categorical`: class targets (integer class indices, or one-hot rows), one colour per class.
 */
export type ScaleKind = "diverging" | "sequential" | "probability" | "categorical";

export interface Scale {
  kind: ScaleKind;
  /** The value at the low and high end (diverging: −max and +max; categorical: the first and last class). */
  lo: number;
  hi: number;
  /** Number of classes (categorical). */
  classes?: number;
  /** One-hot rows (categorical): the class of a cell is its column, 0 cells are background. */
  oneHot?: boolean;
}

/** The words of the legend: `diverging around 0`, `sequential 0 … max`, `probabilities 0 … 1`, `categorical: 3 classes`. */
export function scaleName(s: Scale): string {
  switch (s.kind) {
    case "diverging":
      return "diverging scale, symmetric around 0";
    case "probability":
      return "sequential scale of probabilities, 0 to 1";
    case "sequential":
      return s.lo > 0 ? "sequential scale, smallest to largest value (they are close together)" : "sequential scale, 0 to the largest value";
    case "categorical":
      return `categorical: ${s.classes ?? 0} class${s.classes === 1 ? "" : "es"}${s.oneHot ? " (one-hot)" : ""}`;
  }
}

/** Picks the scale of a tensor from its name and values (see `ScaleKind`). */
export function chooseScale(name: string, data: ArrayLike<number>, cols: number): Scale {
  const n = data.length;
  let min = Infinity;
  let max = -Infinity;
  let integers = true;
  for (let i = 0; i < n; i++) {
    const v = data[i] as number;
    if (v - v !== 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (integers && !Number.isInteger(v)) integers = false;
  }
  const gradient = /^d[A-Za-z]/.test(name);
  if (!gradient && name === "targets" && n > 0 && integers && min >= 0) {
    if (max <= 1 && cols > 1 && isOneHot(data, cols)) return { kind: "categorical", lo: 0, hi: cols - 1, classes: cols, oneHot: true };
    return { kind: "categorical", lo: 0, hi: max, classes: Math.max(1, max + 1) };
  }
  if (!gradient && n > 0 && min >= 0 && max > 0) {
    if (max <= 1 && cols > 1 && rowsSumToOne(data, cols)) return { kind: "probability", lo: 0, hi: 1 };
    // All positive, the largest under 1.4 × the smallest: 0 … max would draw them as one colour.
    if (min > 0 && max - min < 0.4 * min) return { kind: "sequential", lo: min, hi: max };
    return { kind: "sequential", lo: 0, hi: max };
  }
  const m = symmetricMax(data);
  return { kind: "diverging", lo: -m, hi: m };
}

function isOneHot(data: ArrayLike<number>, cols: number): boolean {
  for (let r = 0; r * cols < data.length; r++) {
    let ones = 0;
    for (let c = 0; c < cols; c++) if ((data[r * cols + c] as number) === 1) ones++;
    if (ones !== 1) return false;
  }
  return true;
}

function rowsSumToOne(data: ArrayLike<number>, cols: number): boolean {
  for (let r = 0; r * cols < data.length; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += data[r * cols + c] as number;
    if (Math.abs(s - 1) > 1e-6) return false;
  }
  return true;
}

/** The colour tables of the scales: diverging and sequential ramps of 256, a categorical palette. */
export interface ScaleTables {
  diverging: ColorTable;
  sequential: ColorTable;
  categorical: ColorTable;
}

// ---------------------------------------------------------------- regions

/** The part of a matrix a heatmap shows: rows [r0, r0 + rows), columns [c0, c0 + cols). */
export interface Region {
  r0: number;
  c0: number;
  rows: number;
  cols: number;
}

export function fullRegion(rows: number, cols: number): Region {
  return { r0: 0, c0: 0, rows, cols };
}

/** Keeps a region inside a `rows × cols` matrix, at least 1×1. */
export function clampRegion(g: Region, rows: number, cols: number): Region {
  const h = Math.max(1, Math.min(rows, Math.round(g.rows)));
  const w = Math.max(1, Math.min(cols, Math.round(g.cols)));
  return { r0: Math.max(0, Math.min(rows - h, Math.round(g.r0))), c0: Math.max(0, Math.min(cols - w, Math.round(g.c0))), rows: h, cols: w };
}

/** The region zoomed by `factor` (> 1 in) around the cell (r, c), which stays under the pointer. */
export function zoomRegion(g: Region, factor: number, r: number, c: number, rows: number, cols: number): Region {
  const h = g.rows / factor;
  const w = g.cols / factor;
  const fr = (r - g.r0) / g.rows;
  const fc = (c - g.c0) / g.cols;
  return clampRegion({ r0: r - fr * h, c0: c - fc * w, rows: h, cols: w }, rows, cols);
}

/** The region from two corner cells (a dragged rectangle), inclusive. */
export function regionBetween(a: readonly [number, number], b: readonly [number, number]): Region {
  return { r0: Math.min(a[0], b[0]), c0: Math.min(a[1], b[1]), rows: Math.abs(a[0] - b[0]) + 1, cols: Math.abs(a[1] - b[1]) + 1 };
}

/** The region moved by (dr, dc) cells, kept inside the matrix. */
export function panRegion(g: Region, dr: number, dc: number, rows: number, cols: number): Region {
  return clampRegion({ ...g, r0: g.r0 + dr, c0: g.c0 + dc }, rows, cols);
}

/**
 * Writes one RGBA pixel per element of region `g` of the row-major `cols`-wide matrix `data`, coloured
 * by `scale`. NaN and ±∞ get `special`; a categorical cell that is not a class gets `special` too.
 */
export function fillRegion(data: ArrayLike<number>, cols: number, g: Region, out: Uint8ClampedArray, scale: Scale, tables: ScaleTables, special: readonly [number, number, number], background: readonly [number, number, number] = [128, 128, 128]): void {
  let o = 0;
  const put = (lut: ColorTable, i: number): void => {
    out[o] = lut[i * 3] as number;
    out[o + 1] = lut[i * 3 + 1] as number;
    out[o + 2] = lut[i * 3 + 2] as number;
  };
  const palette = tables.categorical.length / 3;
  const span = scale.hi - scale.lo;
  const k = scale.kind === "diverging" ? 127.5 / (scale.hi > 0 ? scale.hi : 1) : 255 / (span > 0 ? span : 1);
  for (let r = g.r0; r < g.r0 + g.rows; r++) {
    const row = r * cols;
    for (let c = g.c0; c < g.c0 + g.cols; c++, o += 4) {
      const v = data[row + c] as number;
      out[o + 3] = 255;
      if (v - v !== 0) {
        out[o] = special[0];
        out[o + 1] = special[1];
        out[o + 2] = special[2];
        continue;
      }
      if (scale.kind === "categorical") {
        const cls = scale.oneHot ? (v === 1 ? c : -1) : v;
        if (scale.oneHot && v === 0) {
          out[o] = background[0];
          out[o + 1] = background[1];
          out[o + 2] = background[2];
        } else if (Number.isInteger(cls) && cls >= 0) put(tables.categorical, cls % palette);
        else {
          out[o] = special[0];
          out[o + 1] = special[1];
          out[o + 2] = special[2];
        }
        continue;
      }
      let i = scale.kind === "diverging" ? (v * k + 127.5 + 0.5) | 0 : ((v - scale.lo) * k + 0.5) | 0;
      if (i < 0) i = 0;
      else if (i > 255) i = 255;
      put(scale.kind === "diverging" ? tables.diverging : tables.sequential, i);
    }
  }
}

/**
 * Display size that fits the card: the width never exceeds `maxWidth` (cells may be under a pixel, the
 * readout stays exact), square cells while they fit, tall matrices up to `maxHeight`.
 */
export function fitSize(rows: number, cols: number, cell: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  const cw = Math.min(cell, maxWidth / cols);
  const ch = Math.min(cell, maxHeight / rows);
  // Square cells when both axes allow it; else each axis on its own (a 300 × 3 matrix stays readable).
  const square = Math.min(cw, ch);
  let width = cols * square;
  let height = rows * square;
  if (width < Math.min(160, maxWidth) && cols * cw > width) width = Math.min(cols * cw, Math.max(width, Math.min(160, maxWidth)));
  if (height < Math.min(120, maxHeight) && rows * ch > height) height = Math.min(rows * ch, Math.max(height, Math.min(120, maxHeight)));
  return { width: Math.max(8, Math.min(maxWidth, Math.round(width))), height: Math.max(8, Math.min(maxHeight, Math.round(height))) };
}
