/**
 * Splits `formatTensor`'s NumPy-style text into its tokens so that the inspector can show each
 * number as its own element (clickable, highlightable) while the text reads exactly as NumPy prints
 * it. Pure: no DOM.
 */
import { formatTensor } from "../core/format";
import type { TensorData } from "../core/trace/traceTypes";
import { matrixShape } from "./heatmapCore";

/** Matrices up to this many rows and columns also get a number grid. */
export const GRID_MAX = 12;

export function wantsGrid(shape: readonly number[]): boolean {
  const [r, c] = matrixShape(shape);
  return shape.length <= 2 && r <= GRID_MAX && c <= GRID_MAX;
}

/** One printed row: the bracket prefix, the numbers (padding split off), the bracket suffix. */
export interface GridRow {
  prefix: string;
  cells: { text: string; padLeft: number; padRight: number }[];
  suffix: string;
}

/**
 * The rows of the NumPy text of a (small, 1-D or 2-D) tensor. Each cell's `text` is the number
 * without its alignment spaces; `padLeft`/`padRight` say how many character widths NumPy put around
 * it, so a view can reproduce the alignment with CSS while its text content stays
 * `[[0.44 -0.38 -0.07 1.37]` (one space between numbers).
 */
export function gridRows(t: TensorData): GridRow[] {
  const text = formatTensor({ shape: t.shape.length === 0 ? [1] : t.shape, data: t.data });
  const out: GridRow[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\s*\[+)(.*?)(\]+)$/.exec(line);
    if (!m) continue;
    const body = m[2] as string;
    // Cells are separated by one space; the rest of the whitespace is each cell's padding.
    const cells: GridRow["cells"] = [];
    const re = /(\s*)(\S+)/g;
    let mm: RegExpExecArray | null;
    let first = true;
    while ((mm = re.exec(body))) {
      const lead = (mm[1] as string).length - (first ? 0 : 1);
      cells.push({ text: mm[2] as string, padLeft: Math.max(0, lead), padRight: 0 });
      first = false;
    }
    // NumPy pads fractions on the right ("0.0022222 ]"): the last cell keeps that as padRight.
    const last = cells[cells.length - 1];
    if (last) last.padRight = body.length - body.trimEnd().length;
    out.push({ prefix: m[1] as string, suffix: m[3] as string, cells });
  }
  return out;
}
