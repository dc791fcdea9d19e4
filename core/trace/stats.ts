import type { Tensor } from "../tensor";
import type { TensorStats } from "./traceTypes";

/** Min, max, mean, standard deviation, L2 norm and counts of non-finite and zero elements, in one pass. */
export function tensorStats(t: Tensor): TensorStats {
  const d = t.data;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  let nonFinite = 0;
  let zeros = 0;
  let finite = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    if (v - v !== 0) {
      // NaN or ±Infinity (v − v is NaN for both)
      nonFinite++;
      continue;
    }
    finite++;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === 0) zeros++;
    sum += v;
    sumSq += v * v;
  }
  const mean = finite === 0 ? NaN : sum / finite;
  const variance = finite === 0 ? NaN : Math.max(0, sumSq / finite - mean * mean);
  return {
    size: d.length,
    min: finite === 0 ? NaN : min,
    max: finite === 0 ? NaN : max,
    mean,
    std: Math.sqrt(variance),
    norm: Math.sqrt(sumSq),
    nonFinite,
    zeros,
  };
}

/** L2 norm (NaN when any element is not finite). */
export function l2norm(t: Tensor): number {
  let s = 0;
  const d = t.data;
  for (let i = 0; i < d.length; i++) s += (d[i] as number) * (d[i] as number);
  return Math.sqrt(s);
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
