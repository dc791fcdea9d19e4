/**
 * Prints tensors the way the book's NumPy output looks:
 *
 *     [[ 0.44 -0.38 -0.07  1.37]
 *      [ 0.88 -0.76 -0.14  2.74]]
 *
 * At most 8 digits after the point, trailing zeros dropped ("1." for 1.0), columns aligned on the
 * point, scientific notation when values are very large or very small, and `...` for tensors of
 * more than 1000 elements (3 items kept at each edge), as `np.set_printoptions` does by default.
 */
import { type Tensor, sizeOf } from "./tensor";

const PRECISION = 8;

/** How much of a large tensor to print. */
export interface FormatOptions {
  /** Tensors with more elements than this are summarised with `...` (NumPy: 1000). */
  threshold?: number;
  /** Items kept at each edge of a summarised dimension (NumPy: 3). */
  edgeItems?: number;
}

/** A number as NumPy prints a single float64 (`0.44`, `1.`, `-3.`, `nan`, `inf`). */
export function formatNumber(v: number): string {
  return formatAll([v])[0] as string;
}

/** Formats `values` with one shared style (positional or scientific), padded to a common width. */
function formatAll(values: readonly number[]): string[] {
  const finite = values.filter((v) => Number.isFinite(v));
  const abs = finite.map(Math.abs).filter((a) => a !== 0);
  const maxAbs = abs.length ? Math.max(...abs) : 0;
  const minAbs = abs.length ? Math.min(...abs) : 0;
  const scientific = maxAbs >= 1e8 || (abs.length > 0 && (minAbs < 1e-4 || maxAbs / minAbs > 1e3));
  const special = (v: number): string => (v !== v ? "nan" : v > 0 ? "inf" : "-inf");
  if (scientific) {
    // NumPy gives every mantissa the digits the most precise one needs (zeros padded): 1.0e-05 1.5e-05.
    const digits = Math.max(0, ...finite.map((v) => sciDigits(v)));
    const raw = values.map((v) => (Number.isFinite(v) ? sci(v, digits) : special(v)));
    const w = Math.max(...raw.map((s) => s.length));
    return raw.map((s) => s.padStart(w));
  }
  const raw = values.map((v) => (Number.isFinite(v) ? positional(v) : special(v)));
  // Align on the decimal point: pad the integer part on the left, the fraction on the right
  // (NumPy's FloatingFormat: non-finite values widen the integer part and are right-justified).
  let left = 0;
  let right = 0;
  raw.forEach((s, i) => {
    if (!Number.isFinite(values[i] as number)) return;
    const dot = s.indexOf(".");
    left = Math.max(left, dot);
    right = Math.max(right, s.length - dot - 1);
  });
  raw.forEach((s, i) => {
    if (!Number.isFinite(values[i] as number)) left = Math.max(left, s.length - right - 1);
  });
  return raw.map((s, i) => {
    if (!Number.isFinite(values[i] as number)) return s.padStart(left + right + 1);
    const dot = s.indexOf(".");
    return " ".repeat(left - dot) + s + " ".repeat(right - (s.length - dot - 1));
  });
}

function positional(v: number): string {
  let s = v.toFixed(PRECISION);
  s = s.replace(/0+$/, "");
  if (s === "-0.") s = Object.is(v, -0) || v < 0 ? "-0." : "0.";
  return s;
}

/** Fraction digits of v's mantissa at 8-digit precision, trailing zeros dropped. */
function sciDigits(v: number): number {
  const mant = v.toExponential(PRECISION).split("e")[0] as string;
  const frac = mant.split(".")[1] ?? "";
  return frac.replace(/0+$/, "").length;
}

function sci(v: number, digits: number): string {
  const [mant, exp] = v.toExponential(digits).split("e") as [string, string];
  const e = Number(exp);
  return `${digits === 0 ? `${mant}.` : mant}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

/** The NumPy-style text of a tensor (any rank; 0-D prints as a number). */
export function formatTensor(t: Tensor, options: FormatOptions = {}): string {
  const shape = t.shape;
  if (shape.length === 0) return formatNumber(t.data[0] as number);
  const edge = options.edgeItems ?? 3;
  const summarize = sizeOf(shape) > (options.threshold ?? 1000);
  // Collect the printed elements first so that all share one width, as NumPy does.
  const shown: number[] = [];
  const walk = (dim: number, offset: number): void => {
    const n = shape[dim] as number;
    const stride = sizeOf(shape.slice(dim + 1));
    for (const i of indices(n, summarize, edge)) {
      if (i < 0) continue;
      if (dim === shape.length - 1) shown.push(t.data[offset + i] as number);
      else walk(dim + 1, offset + i * stride);
    }
  };
  walk(0, 0);
  const strs = formatAll(shown);
  let k = 0;
  const render = (dim: number, indent: string): string => {
    const n = shape[dim] as number;
    const parts: string[] = [];
    for (const i of indices(n, summarize, edge)) {
      if (i < 0) {
        parts.push("...");
        continue;
      }
      parts.push(dim === shape.length - 1 ? (strs[k++] as string) : render(dim + 1, indent + " "));
    }
    if (dim === shape.length - 1) return `[${parts.join(" ")}]`;
    const sep = "\n".repeat(shape.length - dim - 1) + indent + " ";
    return `[${parts.join(sep)}]`;
  };
  return render(0, "");
}

/** Indices to print along a dimension of length n; -1 marks the `...`. */
function indices(n: number, summarize: boolean, edge: number): number[] {
  if (!summarize || n <= 2 * edge) return Array.from({ length: n }, (_, i) => i);
  return [...Array.from({ length: edge }, (_, i) => i), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)];
}

/** The minus sign of every number written for people (not the NumPy tensor text above): U+2212. */
export const MINUS = "\u2212";

/**
 * A number as the product writes it for people everywhere outside NumPy-style tensor text: messages,
 * hovers, lenses, inline hints, statistics, equations, chart legends and the CLI's summaries.
 * `digits` significant digits, trailing zeros dropped; whole numbers below 1e15 in full (`300`);
 * exponent form below 1e−3 and from 1e5, written `5.6e−4` / `2.5e6` (no `+`, no padding); a real
 * minus sign; `NaN`, `∞`, `−∞`.
 */
export function shortNumber(v: number, digits = 4): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : `${MINUS}∞`;
  if (v === 0) return "0";
  const a = Math.abs(v);
  let s: string;
  if (Number.isInteger(a) && a < 1e15) s = String(a);
  else if (a < 1e-3 || a >= 1e5) {
    const [m, e] = a.toExponential(Math.max(0, digits - 1)).split("e") as [string, string];
    const exp = Number(e);
    s = `${trimZeros(m)}e${exp < 0 ? MINUS : ""}${Math.abs(exp)}`;
  } else {
    // In [1e−3, 1e5) String() of the rounded value never uses an exponent.
    s = String(Number(a.toPrecision(digits)));
  }
  return v < 0 ? `${MINUS}${s}` : s;
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/**
 * A duration as the product writes it (the inspector's header, the status bar): `4.2 ms` below 10 ms,
 * whole milliseconds below 10 s, then seconds with one decimal (`12.3 s`).
 */
export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * One element at full precision: the shortest text that reads back as exactly this value in the
 * producer's element type. A float64 gets JavaScript's shortest round-trip form; a float32 (or the
 * narrower float16/bfloat16, which float32 holds exactly) gets the shortest decimal that rounds to the
 * same float32, as NumPy prints it (`0.1`, not the float64 digits `0.10000000149011612`).
 */
export function exactNumber(v: number, dtype?: string): string {
  if ((dtype === "float32" || dtype === "float16" || dtype === "bfloat16") && Number.isFinite(v) && v !== 0 && Math.fround(v) === v) {
    for (let p = 1; p <= 9; p++) {
      const n = Number(v.toPrecision(p));
      if (Math.fround(n) === v) return String(n);
    }
  }
  return String(v);
}
