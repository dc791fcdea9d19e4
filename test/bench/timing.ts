/**
 * How every JavaScript figure of the suite is measured.
 *
 * - `measure` (the training steps of the headline table): tinybench, one sample per call (a whole
 *   training step), warm-up first, median of the samples. run.mjs runs every implementation in two
 *   or more rounds, one after the other, and pools their samples, so that a burst of load from other
 *   processes on a shared machine does not land on one implementation only.
 * - `measureInterleaved` (variants of the same thing compared with each other: traced or not, the two
 *   softmax + CCE backward paths, old and new kernel): one call of each variant in turn, over and
 *   over, with the order rotating, so every variant sees the same load; median of each.
 */
import { Bench } from "tinybench";

export interface Timing {
  /** Median ms per call over all samples. */
  median: number;
  /** 25th and 75th percentiles, and the fastest call (ms). */
  p25: number;
  p75: number;
  min: number;
  samples: number;
  /** The samples themselves (ms), for pooling rounds. */
  raw?: number[];
}

export interface MeasureOptions {
  /** Milliseconds of measurement per task. */
  time: number;
  /** At least this many samples per task. */
  iterations: number;
  /** Warm-up per task (ms, and at least `warmupIterations` calls). */
  warmupTime?: number;
  warmupIterations?: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const x = (sorted.length - 1) * q;
  const i = Math.floor(x);
  const a = sorted[i] as number;
  const b = sorted[Math.min(i + 1, sorted.length - 1)] as number;
  return a + (x - i) * (b - a);
}

export function summarize(samples: readonly number[], keepRaw = false): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const t: Timing = { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0] ?? NaN, samples: s.length };
  if (keepRaw) t.raw = samples.map((x) => Math.round(x * 1e4) / 1e4);
  return t;
}

/** Measures each task with tinybench, one after the other; returns each one's timing (with raw samples). */
export function measure(tasks: Record<string, () => unknown>, o: MeasureOptions): Record<string, Timing> {
  const bench = new Bench({
    time: o.time,
    iterations: o.iterations,
    warmupTime: o.warmupTime ?? 200,
    warmupIterations: o.warmupIterations ?? 10,
    throws: true,
  });
  for (const [n, fn] of Object.entries(tasks)) bench.add(n, fn);
  bench.runSync();
  const out: Record<string, Timing> = {};
  for (const t of bench.tasks) {
    const res = t.result as { latency?: { samples: number[] } } | undefined;
    out[t.name] = summarize(res?.latency?.samples ?? [], true);
  }
  return out;
}

/** Calls each variant in turn (rotating order) until `time` ms and `iterations` rounds; median of each. */
export function measureInterleaved(tasks: Record<string, () => unknown>, o: MeasureOptions): Record<string, Timing> {
  const names = Object.keys(tasks);
  const fns = names.map((n) => tasks[n] as () => unknown);
  const warmEnd = performance.now() + (o.warmupTime ?? 200);
  for (let i = 0; i < (o.warmupIterations ?? 10) || performance.now() < warmEnd; i++) for (const f of fns) f();
  const samples: number[][] = names.map(() => []);
  const end = performance.now() + o.time * names.length;
  for (let r = 0; r < o.iterations || performance.now() < end; r++) {
    for (let j = 0; j < fns.length; j++) {
      const v = (j + r) % fns.length;
      const t0 = performance.now();
      (fns[v] as () => unknown)();
      (samples[v] as number[]).push(performance.now() - t0);
    }
  }
  const out: Record<string, Timing> = {};
  names.forEach((n, i) => (out[n] = summarize(samples[i] as number[])));
  return out;
}
