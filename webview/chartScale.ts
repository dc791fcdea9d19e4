/** Axis ticks for the inspector's charts, pure (no DOM, no uPlot), so that tests can run them alone. */

/** Powers of ten from `min` to `max`, every k-th decade so that there are at most `most` of them. */
export function logSplits(min: number, max: number, most: number): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [];
  const lo = Math.ceil(Math.log10(min) - 1e-9);
  const hi = Math.floor(Math.log10(max) + 1e-9);
  if (hi < lo) return [min, max];
  const k = Math.max(1, Math.ceil((hi - lo + 1) / most));
  const out: number[] = [];
  for (let e = hi; e >= lo; e -= k) out.unshift(Number(`1e${e}`));
  return out;
}
