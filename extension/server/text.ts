/**
 * Short texts for the editor: compact numbers for statistics, lenses and hints, shapes, and the
 * NumPy-style corner of a tensor (core/format.ts does the NumPy part).
 */
import { formatNumber, formatTensor, shortNumber } from "../../core/format";
import type { TensorPeek } from "./lspProtocol";

/** A number in at most `digits` significant digits, in the product's one notation (`shortNumber`: `4.11`, `3.1e−4`, `−∞`). */
export function short(v: number, digits = 4): string {
  return shortNumber(v, digits);
}

/** `[300, 3]`. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * The corner a peek holds, printed the way NumPy prints (aligned columns, `1.` for 1.0), with `...`
 * where rows or columns were cut: `[[ 0.44 -0.38 ...]` / ` ...]`. Empty when no values were kept.
 */
export function cornerText(p: TensorPeek): string {
  const rows = p.corner.length;
  if (rows === 0) return "";
  const cols = (p.corner[0] as number[]).length;
  const size = p.shape.reduce((x, y) => x * y, 1);
  const rank = p.shape.length;
  const data = Float64Array.from(p.corner.flat());
  if (rank === 0) return formatNumber(data[0] as number).trim();
  const totalRows = rank === 1 ? 1 : (p.shape[0] as number);
  const totalCols = totalRows === 0 ? 0 : size / totalRows;
  const cutCols = cols < totalCols;
  const cutRows = rows < totalRows;
  if (rank === 1) {
    const text = formatTensor({ shape: [cols], data });
    return cutCols ? `${text.slice(0, -1)} ...]` : text;
  }
  const lines = formatTensor({ shape: [rows, cols], data }).split("\n");
  const out = lines.map((line, i) => {
    const closing = i === lines.length - 1 ? 2 : 1;
    const body = line.slice(0, line.length - closing);
    const brackets = cutRows && i === lines.length - 1 ? "]" : line.slice(line.length - closing);
    return `${body}${cutCols ? " ..." : ""}${brackets}`;
  });
  if (cutRows) out.push(" ...]");
  return out.join("\n");
}
