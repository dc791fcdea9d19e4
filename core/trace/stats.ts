import type { Tensor } from "../tensor";
import type { TensorStats } from "./traceTypes";

/**
 * Statistics of a tensor, right for any float64 values:
 * - `nan`, `posInf`, `negInf` count the non-finite elements (`nonFinite` is their sum), `zeros` the exact zeros;
 * - `min` and `max` are over every element that is not NaN (so a +∞ element makes `max` +∞); NaN when all are NaN;
 * - `mean` and `std` are over the finite elements (NaN when there are none): the inspector says so when
 *   some elements were left out;
 * - `norm` is the L2 norm of the whole tensor: NaN when any element is NaN, +∞ when any is ±∞, and
 *   otherwise finite whenever the true norm is (computed on values scaled by the largest |value|, so
 *   `[1e200, 1e200]` has norm 1.414e200 instead of overflowing to ∞, and `[1e-200]` does not underflow to 0).
 */
export function tensorStats(t: Tensor): TensorStats {
  const d = t.data;
  const n = d.length;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  let zeros = 0;
  let finite = 0;
  let maxAbs = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = d[i] as number;
    if (v !== v) {
      nan++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === Infinity) {
      posInf++;
      continue;
    }
    if (v === -Infinity) {
      negInf++;
      continue;
    }
    finite++;
    if (v === 0) zeros++;
    const a = v < 0 ? -v : v;
    if (a > maxAbs) maxAbs = a;
    sum += v;
  }
  let mean = NaN;
  let std = NaN;
  let finiteNorm = 0;
  if (finite > 0) {
    mean = sum / finite;
    if (!Number.isFinite(mean) || maxAbs > SAFE_MAX || maxAbs < SAFE_MIN) {
      // The plain sum overflowed (or squares would): sum values scaled by the largest |value| instead.
      const s = maxAbs === 0 ? 1 : maxAbs;
      let ss = 0;
      for (let i = 0; i < n; i++) {
        const v = d[i] as number;
        if (v - v === 0) ss += v / s;
      }
      const m = ss / finite;
      let dev = 0;
      let dsum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const v = d[i] as number;
        if (v - v !== 0) continue;
        const x = v / s;
        dev += (x - m) * (x - m);
        dsum += x - m;
        sq += x * x;
      }
      mean = (m + dsum / finite) * s;
      std = Math.sqrt(Math.max(0, dev - (dsum * dsum) / finite) / finite) * s;
      finiteNorm = Math.sqrt(sq) * s;
    } else {
      // Two passes (deviations from the mean): no cancellation of sumSq/n − mean², which can go negative.
      // The corrected two-pass formula: the sum of the deviations takes the mean's rounding error out of the variance.
      let dev = 0;
      let dsum = 0;
      let sq = 0;
      const m = mean;
      for (let i = 0; i < n; i++) {
        const v = d[i] as number;
        if (v - v !== 0) continue;
        dev += (v - m) * (v - m);
        dsum += v - m;
        sq += v * v;
      }
      std = Math.sqrt(Math.max(0, dev - (dsum * dsum) / finite) / finite);
      finiteNorm = Math.sqrt(sq);
    }
  }
  const nonFinite = nan + posInf + negInf;
  return {
    size: n,
    min: nan === n ? NaN : min,
    max: nan === n ? NaN : max,
    mean,
    std,
    norm: nan > 0 ? NaN : posInf + negInf > 0 ? Infinity : finiteNorm,
    nonFinite,
    zeros,
    nan,
    posInf,
    negInf,
  };
}

/** Beyond these magnitudes, squares overflow to ∞ or underflow to 0: sums of squares are scaled. */
const SAFE_MAX = 1e150;
const SAFE_MIN = 1e-150;

/**
 * L2 norm: NaN when any element is NaN, +∞ when any is ±∞ (and none is NaN), else the norm, finite
 * whenever the true norm is (a sum of squares that overflows or underflows is redone on scaled values).
 */
export function l2norm(t: Tensor): number {
  // Four independent sums: the adds no longer wait on each other (about twice as fast).
  const d = t.data;
  const n = d.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const a = d[i] as number;
    const b = d[i + 1] as number;
    const c = d[i + 2] as number;
    const e = d[i + 3] as number;
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += e * e;
  }
  for (; i < n; i++) s0 += (d[i] as number) * (d[i] as number);
  const sq = s0 + s1 + s2 + s3;
  // NaN stays NaN; a sum in the safe range is right; otherwise (∞ from overflow or from an ∞ element,
  // or a tiny sum that may have lost its squares to underflow) look again.
  if (sq !== sq || (sq < 1e300 && sq > 1e-290) || sq === 0) return sq === 0 ? zeroOrTiny(d) : Math.sqrt(sq);
  return scaledNorm(d);
}

/**
 * The L2 norm (as `l2norm`) and the mean |value| of a gradient, in one pass where the sums allow.
 * Four independent accumulators per sum (as in `l2norm`): the adds do not wait on each other.
 */
export function normAndMeanAbs(t: Tensor): { norm: number; meanAbs: number } {
  const d = t.data;
  const n = d.length;
  let q0 = 0;
  let q1 = 0;
  let q2 = 0;
  let q3 = 0;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const v0 = d[i] as number;
    const v1 = d[i + 1] as number;
    const v2 = d[i + 2] as number;
    const v3 = d[i + 3] as number;
    q0 += v0 * v0;
    q1 += v1 * v1;
    q2 += v2 * v2;
    q3 += v3 * v3;
    a0 += Math.abs(v0);
    a1 += Math.abs(v1);
    a2 += Math.abs(v2);
    a3 += Math.abs(v3);
  }
  for (; i < n; i++) {
    const v = d[i] as number;
    q0 += v * v;
    a0 += Math.abs(v);
  }
  const sq = q0 + q1 + q2 + q3;
  const abs = a0 + a1 + a2 + a3;
  const meanAbs = n === 0 ? NaN : abs / n;
  // NaN stays NaN; a sum in the safe range is right; ∞ (overflow, or an ∞ element) and tiny sums look again.
  const norm = sq !== sq || (sq < 1e300 && sq > 1e-290) ? Math.sqrt(sq) : sq === 0 ? zeroOrTiny(d) : scaledNorm(d);
  return { norm, meanAbs: Number.isFinite(meanAbs) || meanAbs !== meanAbs ? meanAbs : meanAbsScaled(d) };
}

function meanAbsScaled(d: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < d.length; i++) m += Math.abs(d[i] as number) / d.length;
  return m;
}

/** 0 for an all-zero tensor; the scaled norm when the squares of tiny non-zero values underflowed. */
function zeroOrTiny(d: ArrayLike<number>): number {
  for (let i = 0; i < d.length; i++) if ((d[i] as number) !== 0) return scaledNorm(d);
  return 0;
}

function scaledNorm(d: ArrayLike<number>): number {
  let maxAbs = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    if (v !== v) return NaN;
    const a = v < 0 ? -v : v;
    if (a > maxAbs) maxAbs = a;
  }
  if (maxAbs === Infinity) return Infinity;
  if (maxAbs === 0) return 0;
  let s = 0;
  for (let i = 0; i < d.length; i++) {
    const x = (d[i] as number) / maxAbs;
    s += x * x;
  }
  return Math.sqrt(s) * maxAbs;
}

/** Index of the first NaN or ±Infinity element, or -1. */
export function firstNonFinite(t: Tensor): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** `[row, col]` of a flat index in a tensor (or `[i]` for 1-D). */
export function unflatIndex(shape: readonly number[], i: number): number[] {
  const out: number[] = [];
  let rest = i;
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k] as number;
    out.unshift(d === 0 ? 0 : rest % d);
    rest = d === 0 ? 0 : Math.floor(rest / d);
  }
  return out;
}
