/**
 * The engine's side of `npm run bench` (bundled by run.mjs and run in its own Node process):
 * - W1, W2, W3 full SGD steps through the public API (the headline), and the side measurement of W2/W3
 *   without the first layer's dinputs;
 * - the book's combined softmax + CCE backward against CCE backward then the softmax Jacobian;
 * - the tracer's overhead on W1 and W2 (the runner's recorder, with and without a site provider);
 * - the kernel alone on every product of the three steps, WebAssembly SIMD and TypeScript;
 * - the gradient check of a Dense(784, 128) on 256 samples, by independent parts and one element at a time.
 * Prints one line `@@RESULT <json>` for run.mjs; `--only=steps,softmax,trace,kernel` picks sections,
 * `--scale=x` scales every time budget (run.mjs runs the steps in rounds), `--quick` divides them by 4.
 */
import { CategoricalCrossentropy, Dense, Rng, Softmax, SoftmaxCategoricalCrossentropy, type Tensor, gradCheckLayer, randn } from "../../core/index";
import { TraceRecorder, type SiteProvider, type SourceSite } from "../../core/host";
import { gemmTs } from "../../core/ops/gemm";
import { kernelInfo, setWasmKernels, wasmGemm } from "../../core/ops/wasm";
import { type Timing, measure, measureInterleaved } from "./timing";
import { WORKLOADS, type WorkloadSpec, buildModel, softmaxCase, stepFlops, workloadData } from "./workloads";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const want = (s: string): boolean => only === undefined || only.includes(s);
/** Time budgets are scaled by `--scale=x` (run.mjs splits a run into rounds) and by `--quick` (¼). */
const scale = (quick ? 0.25 : 1) * Number(args.find((a) => a.startsWith("--scale="))?.slice(8) ?? 1);
const q = (ms: number): number => Math.max(50, ms * scale);
const n = (count: number): number => Math.max(2, Math.ceil(count * scale));

function log(msg: string): void {
  process.stderr.write(`[engine] ${msg}\n`);
}

/** Per-workload measurement budget: W3 steps take a quarter of a second. */
function budget(spec: WorkloadSpec): { time: number; iterations: number; warmupTime: number; warmupIterations: number } {
  if (spec.id === "W1") return { time: q(1500), iterations: n(200), warmupTime: q(500), warmupIterations: 300 };
  if (spec.id === "W2") return { time: q(2000), iterations: n(40), warmupTime: q(500), warmupIterations: 20 };
  return { time: q(2500), iterations: n(10), warmupTime: 0, warmupIterations: quick ? 2 : 3 };
}

const result: Record<string, unknown> = { impl: "engine", dtype: "float64", kernels: kernelInfo() };

// ------------------------------------------------------------------ training steps

if (want("steps")) {
  const steps: Record<string, unknown>[] = [];
  for (const spec of WORKLOADS) {
    const { X, y } = workloadData(spec);
    const model = buildModel(spec, X, y);
    const lean = buildModel(spec, X, y);
    const plain = buildModel(spec, X, y);
    const b = budget(spec);
    log(`${spec.id} …`);
    // `typescript`: the same step with the WebAssembly kernels switched off (the engine's fallback).
    const typescript = (): number => {
      setWasmKernels(false);
      try {
        return plain.step();
      } finally {
        setWasmKernels(true);
      }
    };
    const t = measure({ book: () => model.step(), lean: () => lean.stepWithoutFirstDinputs(), typescript }, b);
    const book = t.book as Timing;
    const noDx = t.lean as Timing;
    const finalLoss = model.step();
    steps.push({
      id: spec.id,
      title: spec.title,
      flops: stepFlops(spec, true),
      flopsNoFirstDinputs: stepFlops(spec, false),
      timing: book,
      timingNoFirstDinputs: noDx,
      timingTypeScript: t.typescript,
      loss: finalLoss,
    });
    log(`${spec.id}: ${book.median.toFixed(3)} ms (without the first layer's dinputs ${noDx.median.toFixed(3)} ms, TypeScript kernels ${(t.typescript as Timing).median.toFixed(3)} ms), loss ${finalLoss.toFixed(4)}`);
  }
  result.steps = steps;
}

// ------------------------------------------------------------------ softmax + CCE backward paths

if (want("softmax")) {
  const out: Record<string, unknown>[] = [];
  for (const [n, k] of [
    [300, 3],
    [128, 10],
    [1000, 100],
  ] as [number, number][]) {
    const { logits, y } = softmaxCase(n, k);
    const combined = new SoftmaxCategoricalCrossentropy();
    combined.forward(logits, y);
    const softmax = new Softmax();
    softmax.forward(logits);
    const cce = new CategoricalCrossentropy();
    cce.forward(softmax.output, y);
    const t = measureInterleaved(
      {
        combined: () => combined.backward(combined.output, y),
        separate: () => softmax.backward(cce.backward(softmax.output, y)),
      },
      { time: q(400), iterations: 50, warmupTime: q(150), warmupIterations: 50 },
    );
    // Both paths must agree (the book's check).
    const a = combined.backward(combined.output, y).data;
    const s = softmax.backward(cce.backward(softmax.output, y)).data;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (s[i] as number)));
    out.push({ n, k, combined: t.combined, separate: t.separate, maxDiff });
    log(`softmax+CCE ${n}×${k}: combined ${(t.combined as Timing).median.toFixed(4)} ms, separate ${(t.separate as Timing).median.toFixed(4)} ms`);
  }
  result.softmax = out;
}

// ------------------------------------------------------------------ tracer overhead

/**
 * Site providers with the runner's cost profile: V8 structured frames (as `extension/runner/sites.ts`
 * captures them), or the formatted `new Error().stack` string, cached per position. The source-map
 * lookup the runner adds is cached per position there too, so it is not paid per call.
 */
class FrameSites implements SiteProvider {
  private readonly cache = new Map<number, SourceSite>();
  capture(): SourceSite | undefined {
    const prevPrepare = Error.prepareStackTrace;
    const prevLimit = Error.stackTraceLimit;
    Error.prepareStackTrace = (_e, frames) => frames;
    Error.stackTraceLimit = 40;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, this.capture);
    const frames = holder.stack as NodeJS.CallSite[];
    Error.prepareStackTrace = prevPrepare;
    Error.stackTraceLimit = prevLimit;
    // The runner keeps the innermost frame in the user's file; here: the caller of the layer call.
    for (let i = 2; i < frames.length; i++) {
      const f = frames[i] as NodeJS.CallSite;
      const line = f.getLineNumber();
      const col = f.getColumnNumber();
      if (f.getFileName() === undefined || line === null || col === null) continue;
      const key = line * 1_000_003 + col;
      let site = this.cache.get(key);
      if (site === undefined) {
        site = { file: f.getFileName() ?? "", line, column: col };
        this.cache.set(key, site);
      }
      return site;
    }
    return undefined;
  }
}

class StackStringSites implements SiteProvider {
  private readonly cache = new Map<string, SourceSite>();
  capture(): SourceSite | undefined {
    const stack = new Error().stack ?? "";
    const lines = stack.split("\n");
    const frame = lines[4] ?? lines[lines.length - 1] ?? "";
    let site = this.cache.get(frame);
    if (site === undefined) {
      const m = /\(?([^()\s]+):(\d+):(\d+)\)?\s*$/.exec(frame);
      site = m ? { file: m[1] as string, line: Number(m[2]), column: Number(m[3]) } : { file: "?", line: 0, column: 0 };
      this.cache.set(frame, site);
    }
    return site;
  }
}

if (want("trace")) {
  const out: Record<string, unknown>[] = [];
  for (const spec of WORKLOADS.filter((w) => w.id !== "W3")) {
    const { X, y } = workloadData(spec);
    const plain = buildModel(spec, X, y);
    const variants: Record<string, () => unknown> = { untraced: () => plain.step() };
    const recorders: TraceRecorder[] = [];
    const mk = (name: string, sites: SiteProvider | undefined): void => {
      // As the runner does: install before the layers are constructed.
      const rec = new TraceRecorder({ sink: { emit() {} }, keepSteps: 3, ...(sites ? { sites } : {}) });
      rec.install();
      const m = buildModel(spec, X, y);
      rec.uninstall(); // the wrappers keep reporting; later models are not observed
      recorders.push(rec);
      variants[name] = () => m.step();
    };
    mk("traced", undefined);
    mk("traced + frame sites", new FrameSites());
    mk("traced + Error().stack sites", new StackStringSites());
    // Past the kept steps before measuring (steady state): warm-up runs far more than 3 steps.
    const b = budget(spec);
    log(`tracer overhead ${spec.id} …`);
    const t = measureInterleaved(variants, b);
    const base = (t.untraced as Timing).median;
    const row: Record<string, unknown> = { id: spec.id, title: spec.title, timings: t, stepsRecorded: recorders.map((r) => r.stepCount) };
    out.push(row);
    log(`${spec.id}: ${Object.entries(t).map(([k, v]) => `${k} ${v.median.toFixed(3)} ms (${((v.median / base - 1) * 100).toFixed(0)}%)`).join(", ")}`);
    for (const r of recorders) r.finish({ completed: false });
  }
  result.trace = out;
}

// ------------------------------------------------------------------ the kernel alone

if (want("kernel")) {
  type P = [string, boolean, boolean, number, number, number];
  const products: P[] = [];
  for (const spec of WORKLOADS) {
    for (let i = 0; i + 1 < spec.dims.length; i++) {
      const n = spec.batch;
      const a = spec.dims[i] as number;
      const o = spec.dims[i + 1] as number;
      products.push([`${spec.id} L${i + 1} forward X·W`, false, false, n, o, a]);
      products.push([`${spec.id} L${i + 1} dweights Xᵀ·dY`, true, false, a, o, n]);
      products.push([`${spec.id} L${i + 1} dinputs dY·Wᵀ`, false, true, n, a, o]);
    }
  }
  const rows: Record<string, unknown>[] = [];
  const filled = (len: number, seed: number): Float64Array => {
    const x = new Float64Array(len);
    let s = seed >>> 0;
    for (let i = 0; i < len; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      x[i] = s / 2 ** 32 - 0.5;
    }
    return x;
  };
  for (const [name, tA, tB, M, N, K] of products) {
    const A = filled(M * K, 1);
    const B = filled(K * N, 2);
    const C = new Float64Array(M * N);
    const big = M * N * K > 1e8;
    const t = measureInterleaved(
      { wasm: () => wasmGemm(tA, tB, M, N, K, A, B, C, false), typescript: () => gemmTs(tA, tB, M, N, K, A, B, C) },
      big ? { time: q(600), iterations: n(4), warmupTime: 0, warmupIterations: 1 } : { time: q(250), iterations: 30, warmupTime: q(100), warmupIterations: 20 },
    );
    rows.push({ name, transA: tA, transB: tB, M, N, K, flops: 2 * M * N * K, wasm: t.wasm, typescript: t.typescript });
  }
  log(`kernel: ${rows.length} products`);
  result.kernel = rows;
}

// ------------------------------------------------------------------ gradient checks

if (want("gradcheck")) {
  /** A Dense whose forward is an override: the check cannot know its structure and moves one element at a time. */
  class OpaqueDense extends Dense {
    override forward(inputs: Tensor): Tensor {
      return super.forward(inputs);
    }
  }
  const X = randn([256, 784], new Rng(3));
  const make = <T extends Dense>(C: new (i: number, o: number, opts: { rng: Rng }) => T): T => new C(784, 128, { rng: new Rng(4) });
  const parts = make(Dense);
  const single = make(OpaqueDense);
  const calls = { parts: 0, single: 0 };
  const counted = (layer: Dense, key: "parts" | "single"): (() => boolean) => {
    return () => {
      const proto = (key === "parts" ? Dense.prototype : OpaqueDense.prototype) as unknown as { forward: (...a: unknown[]) => unknown };
      const original = proto.forward;
      let forwards = 0;
      proto.forward = function (this: unknown, ...a: unknown[]): unknown {
        forwards++;
        return original.apply(this, a);
      };
      try {
        return gradCheckLayer(layer, [X], undefined, { rng: new Rng(5), maxElements: 128 }).ok;
      } finally {
        proto.forward = original;
        calls[key] = forwards;
      }
    };
  };
  log("gradient check of Dense(784, 128) on 256×784 …");
  const t = measureInterleaved({ parts: counted(parts, "parts"), single: counted(single, "single") }, { time: q(1500), iterations: n(3), warmupTime: 0, warmupIterations: 1 });
  result.gradcheck = { layer: "Dense(784, 128)", samples: 256, maxElements: 128, parts: t.parts, single: t.single, forwardsParts: calls.parts, forwardsSingle: calls.single };
  log(`gradient check: by parts ${(t.parts as Timing).median.toFixed(1)} ms (${calls.parts} forward passes), one element at a time ${(t.single as Timing).median.toFixed(1)} ms (${calls.single})`);
}

process.stdout.write(`@@RESULT ${JSON.stringify(result)}\n`);
