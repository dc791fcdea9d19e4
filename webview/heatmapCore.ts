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
