/**
 * Numerical gradient checks: central differences in float64.
 *
 * For a parameter or input element x, the numeric derivative is `(f(x + h) − f(x − h)) / 2h` and the
 * check passes when `|analytic − numeric| ≤ atol + rtol · |numeric|`. Where the one-sided slopes
 * disagree and one of them equals the analytic value, the function has a kink there (ReLU at exactly
 * 0, a clip boundary): that element is counted as a kink and not judged.
 *
 * For a layer, f is the scalar whose gradient its backward computes: the loss itself for loss layers
 * (forward returns a number, or the layer is a cross-entropy), otherwise `Σ output ⊙ dvalues` for the
 * `dvalues` passed to backward (so `dinputs` must equal ∂f/∂inputs and `dP` must equal ∂f/∂P).
 */
import { ArgumentError } from "./errors";
import { RUN_LIMITS } from "./limits";
import { CLIP, CategoricalCrossentropy, SoftmaxCategoricalCrossentropy } from "./layers/crossEntropy";
import { Dense } from "./layers/dense";
import { ReLU } from "./layers/relu";
import type { Layer } from "./layers/layer";
import { mean } from "./ops/ops";
import { Softmax, softmaxRows } from "./layers/softmax";
import { classIndices, readTargets } from "./layers/targets";
import { Rng } from "./rng";
import { type Tensor, type TensorLike, clone, isTensor, tensor } from "./tensor";
import { unflatIndex } from "./trace/stats";
import { paramGradientName } from "./trace/tensorNames";
import type { GradCheckTensor } from "./trace/traceTypes";

export interface GradCheckOptions {
  /** Step of the central difference, relative to max(1, |x|). Default 1e-6. */
  h?: number;
  /** Relative tolerance. Default: `RUN_LIMITS.gradientCheckRtol` (1e-5, core/limits.ts). */
  rtol?: number;
  /** Absolute tolerance. Default: `RUN_LIMITS.gradientCheckAtol` (1e-7). */
  atol?: number;
  /** At most this many elements per tensor are checked (a seeded sample beyond that). Default: `RUN_LIMITS.gradientCheckMaxElements`. */
  maxElements?: number;
  /** Generator for `dvalues` (when none are given) and for sampling elements. Default `new Rng(1)`. */
  rng?: Rng;
  /** Elements not to judge (counted with the kinks), e.g. where a loss clips its input. */
  skip?: (index: number) => boolean;
  /**
   * A time (`Date.now()` milliseconds) after which each tensor stops at the elements checked so far,
   * but never before `MIN_ELEMENTS_PAST_DEADLINE` of them: big layers then get a verdict quickly.
   */
  deadline?: number;
}

/** Elements every tensor gets checked even when the deadline has passed. */
export const MIN_ELEMENTS_PAST_DEADLINE = 8;

export interface GradCheckReport {
  ok: boolean;
  tensors: GradCheckTensor[];
}

interface Defaults {
  h: number;
  rtol: number;
  atol: number;
  maxElements: number;
  rng: Rng;
}

function defaults(o: GradCheckOptions): Defaults {
  return { h: o.h ?? 1e-6, rtol: o.rtol ?? RUN_LIMITS.gradientCheckRtol.default, atol: o.atol ?? RUN_LIMITS.gradientCheckAtol.default, maxElements: o.maxElements ?? RUN_LIMITS.gradientCheckMaxElements.default, rng: o.rng ?? new Rng(1) };
}

/**
 * Compares one analytic gradient with central differences of `f` over the elements of `x`
 * (which `f` must read). `x` is restored exactly after each element.
 */
export function checkTensor(
  name: string,
  x: Float64Array,
  shape: readonly number[],
  analytic: Float64Array,
  f: () => number,
  options: GradCheckOptions = {},
): GradCheckTensor {
  const one = new Float64Array(1);
  return checkTensorParts(name, x, shape, analytic, { count: 1, partOf: () => 0, evaluate: () => ((one[0] = f()), one) }, options);
}

/**
 * How an objective splits into independent parts: element i of the checked tensor moves only part
 * `partOf(i)`, and the parts add up to the objective. Elements of different parts can then be moved
 * together, and each one's difference read from its own part: one pair of forward passes checks as
 * many elements as there are parts (one per sample row of a Dense input, one per column of its weights).
 * A single part (`count` 1) is the plain check: one pair of forward passes per element.
 */
interface ObjectiveParts {
  count: number;
  partOf(i: number): number;
  /** Runs the forward pass and returns every part's value (may reuse one buffer between calls). */
  evaluate(): Float64Array;
}

function checkTensorParts(
  name: string,
  x: Float64Array,
  shape: readonly number[],
  analytic: Float64Array,
  parts: ObjectiveParts,
  options: GradCheckOptions,
): GradCheckTensor {
  const o = defaults(options);
  if (analytic.length !== x.length) throw new ArgumentError(`gradient check of ${name}: ${analytic.length} gradient values for ${x.length} elements`);
  const indices = sampleIndices(x.length, o.maxElements, o.rng);
  const p0 = parts.evaluate().slice();
  // Per position of `indices`: visited, skipped, and the element's step and part values.
  const done = new Uint8Array(indices.length);
  const skipped = new Uint8Array(indices.length);
  const hOf = new Float64Array(indices.length);
  const fpOf = new Float64Array(indices.length);
  const fmOf = new Float64Array(indices.length);
  const f0Of = new Float64Array(indices.length);
  const used = new Uint8Array(parts.count);
  const group: number[] = [];
  const saved: number[] = [];
  let visited = 0;
  let next = 0; // first position not yet visited
  while (next < indices.length) {
    // Past the deadline each tensor still gets MIN_ELEMENTS_PAST_DEADLINE elements, then stops.
    let cap = Infinity;
    if (options.deadline !== undefined && Date.now() > options.deadline) {
      if (visited >= MIN_ELEMENTS_PAST_DEADLINE) break;
      cap = MIN_ELEMENTS_PAST_DEADLINE - visited;
    }
    // A group: the next unvisited elements, in order, whose parts all differ.
    group.length = 0;
    used.fill(0);
    let taken = 0;
    for (let q = next; q < indices.length && taken < cap && group.length < parts.count; q++) {
      if (done[q] === 1) continue;
      const i = indices[q] as number;
      if (options.skip?.(i) === true) {
        done[q] = 1;
        skipped[q] = 1;
        visited++;
        taken++;
        continue;
      }
      const part = parts.partOf(i);
      if (used[part] === 1) continue;
      used[part] = 1;
      done[q] = 1;
      group.push(q);
      visited++;
      taken++;
    }
    if (group.length > 0) {
      saved.length = 0;
      for (const q of group) {
        const i = indices[q] as number;
        const xi = x[i] as number;
        saved.push(xi);
        hOf[q] = o.h * Math.max(1, Math.abs(xi));
        x[i] = xi + (hOf[q] as number);
      }
      const plus = parts.evaluate();
      for (const q of group) fpOf[q] = plus[parts.partOf(indices[q] as number)] as number;
      group.forEach((q, g) => (x[indices[q] as number] = (saved[g] as number) - (hOf[q] as number)));
      const minus = parts.evaluate();
      group.forEach((q, g) => {
        const i = indices[q] as number;
        const part = parts.partOf(i);
        fmOf[q] = minus[part] as number;
        f0Of[q] = p0[part] as number;
        x[i] = saved[g] as number;
      });
    }
    while (next < indices.length && done[next] === 1) next++;
  }
  // Judge the visited elements in index order (the same verdicts and worst element whatever the grouping).
  let worstScore = -Infinity;
  let worst: GradCheckTensor["worst"];
  let ok = true;
  let kinks = 0;
  const checkedAt: number[] = [];
  const numerics: number[] = [];
  for (let q = 0; q < indices.length; q++) {
    if (done[q] !== 1) continue;
    if (skipped[q] === 1) {
      kinks++;
      continue;
    }
    const i = indices[q] as number;
    const h = hOf[q] as number;
    const fp = fpOf[q] as number;
    const fm = fmOf[q] as number;
    const f0 = f0Of[q] as number;
    const numeric = (fp - fm) / (2 * h);
    const a = analytic[i] as number;
    const absErr = Math.abs(a - numeric);
    const allowed = o.atol + o.rtol * Math.abs(numeric);
    const pass = absErr <= allowed;
    if (!pass) {
      const right = (fp - f0) / h;
      const left = (f0 - fm) / h;
      const near = (s: number): boolean => Math.abs(a - s) <= o.atol + o.rtol * Math.abs(s) + 1e-3 * Math.abs(right - left);
      if (Math.abs(right - left) > allowed && (near(right) || near(left))) {
        kinks++;
        continue;
      }
    }
    checkedAt.push(i);
    numerics.push(numeric);
    const score = allowed > 0 ? absErr / allowed : absErr;
    if (score > worstScore || Number.isNaN(absErr)) {
      worstScore = Number.isNaN(absErr) ? Infinity : score;
      worst = { index: unflatIndex(shape, i), analytic: a, numeric, absErr, relErr: absErr / Math.max(Math.abs(numeric), Number.MIN_VALUE) };
    }
    if (!pass) ok = false;
  }
  return { name, ok, checked: visited - kinks, total: x.length, kinks, worst, rtol: o.rtol, atol: o.atol, numeric: { indices: checkedAt, values: numerics } };
}

function sampleIndices(n: number, max: number, rng: Rng): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  // A seeded sample without repetition (partial Fisher–Yates over a sparse map), sorted for locality.
  const picked = new Map<number, number>();
  const out: number[] = [];
  for (let k = 0; k < max; k++) {
    const j = k + rng.int(n - k);
    const vj = picked.get(j) ?? j;
    picked.set(j, picked.get(k) ?? k);
    out.push(vj);
  }
  return out.sort((a, b) => a - b);
}

/** How a layer's objective is formed for the check (see the module comment). */
function isLossLayer(layer: Layer): boolean {
  return layer.kind === "cce" || layer.kind === "softmax-cce";
}


/**
 * Checks `layer.backward` against central differences: `dinputs` and every parameter gradient.
 *
 * `forwardArgs` are the arguments of forward (inputs first; targets for loss layers). `backwardArgs`
 * are those of backward; for ordinary layers the first is `dvalues` (random normal values when omitted),
 * for loss layers they default to the book's (`[output, targets]` for softmax + CCE, `[inputs, targets]` for CCE).
 * The layer's parameters are restored; its `output`/`d…` fields hold the last evaluation.
 */
export function gradCheckLayer(layer: Layer, forwardArgs: readonly unknown[], backwardArgs?: readonly unknown[], options: GradCheckOptions = {}): GradCheckReport {
  const o = defaults(options);
  if (forwardArgs.length === 0) throw new ArgumentError("gradCheckLayer: forward needs at least the inputs");
  const x = clone(tensor(forwardArgs[0] as TensorLike));
  const rest = forwardArgs.slice(1);
  const call = (fn: (...a: unknown[]) => unknown, args: unknown[]): unknown => fn.apply(layer, args);
  const forward = layer.forward as (...a: unknown[]) => unknown;
  const backward = layer.backward as (...a: unknown[]) => unknown;

  // Decide the objective with one forward call.
  const first = call(forward, [x, ...rest]);
  const returnsLoss = typeof first === "number";
  const loss = returnsLoss || isLossLayer(layer);
  let g: Tensor | undefined;
  if (!loss) {
    const out = layer.output;
    if (!isTensor(out)) throw new ArgumentError(`gradCheckLayer: ${layer.constructor.name}.forward did not set this.output to a tensor`);
    const given = backwardArgs?.[0];
    g = given !== undefined ? clone(tensor(given as TensorLike)) : { shape: [...out.shape], data: out.data.map(() => o.rng.normal()) };
  }
  const objective = (): number => {
    const r = call(forward, [x, ...rest]);
    if (typeof r === "number") return r;
    if (loss) return mean(layer.output);
    const out = layer.output.data;
    const gd = (g as Tensor).data;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += (out[i] as number) * (gd[i] as number);
    return s;
  };

  // Analytic gradients at the unperturbed point.
  call(forward, [x, ...rest]);
  let bargs: unknown[];
  if (!loss) bargs = [g, ...(backwardArgs?.slice(1) ?? [])];
  else if (backwardArgs !== undefined) bargs = [...backwardArgs];
  else bargs = layer.kind === "softmax-cce" ? [layer.output, rest[0]] : [x, rest[0]];
  if (loss && layer.kind === "softmax-cce") bargs[0] = layer.output; // the book passes the softmax output as dvalues
  call(backward, bargs);
  if (!isTensor(layer.dinputs)) throw new ArgumentError(`gradCheckLayer: ${layer.constructor.name}.backward did not set this.dinputs to a tensor`);
  const dinputs = layer.dinputs.data.slice();
  const params = layer.params().map((p) => ({ name: p.name, value: p.value, grad: p.grad?.data.slice() }));

  // Cross-entropy clips ŷ to [1e-7, 1 − 1e-7]: where a sample's target-class probability is clipped
  // the loss is flat, while the book's backward is the gradient of the unclipped loss. Those rows
  // are not judged (they are counted with the kinks).
  const skip = loss ? clippedRows(layer, x, rest[0]) : undefined;
  const each: GradCheckOptions = { ...options, ...o };
  const whole: ObjectiveParts = { count: 1, partOf: () => 0, evaluate: () => ((single[0] = objective()), single) };
  const single = new Float64Array(1);
  const partsOf = (tensor: string): ObjectiveParts => objectiveParts(layer, tensor, x, rest, loss, g) ?? whole;
  const tensors: GradCheckTensor[] = [checkTensorParts("dinputs", x.data, x.shape, dinputs, partsOf("inputs"), { ...each, ...(skip ? { skip } : {}) })];
  for (const p of params) {
    if (p.grad === undefined) continue;
    tensors.push(checkTensorParts(paramGradientName(p.name), p.value.data, p.value.shape, p.grad, partsOf(p.name), each));
  }
  return { ok: tensors.every((t) => t.ok), tensors };
}

/**
 * The independent parts of a built-in layer's objective, for the tensor `name` ("inputs" or a
 * parameter), or undefined (then the whole objective, one element at a time). Only where the forward
 * pass is the engine's own (the method itself, not an override: a user layer that extends Dense and
 * writes its own backward still qualifies, as the backward is what is checked), so the dependencies are
 * known: a Dense output row depends only on its input row and an output column only on its weight
 * column and bias; ReLU is element-wise; softmax and the cross-entropies work row by row.
 */
function objectiveParts(layer: Layer, name: string, x: Tensor, rest: readonly unknown[], loss: boolean, g: Tensor | undefined): ObjectiveParts | undefined {
  const forward = layer.forward as (...a: unknown[]) => unknown;
  const run = (): void => void forward.apply(layer, [x, ...rest]);
  const n = x.shape[0] as number;
  const cols = x.shape.length === 2 ? (x.shape[1] as number) : 0;
  // Σ output ⊙ dvalues per row, per column or per element of the output.
  const byRow = (): ObjectiveParts | undefined => {
    if (g === undefined || g.shape.length !== 2) return undefined;
    const [r, c] = g.shape as [number, number];
    const out = new Float64Array(r);
    return {
      count: r,
      partOf: (i) => Math.floor(i / cols),
      evaluate: () => {
        run();
        const y = layer.output.data;
        const gd = g.data;
        for (let a = 0; a < r; a++) {
          let s = 0;
          for (let b = 0; b < c; b++) s += (y[a * c + b] as number) * (gd[a * c + b] as number);
          out[a] = s;
        }
        return out;
      },
    };
  };
  if (x.shape.length !== 2 && !(forward === ReLU.prototype.forward && name === "inputs")) return undefined;
  if (forward === Dense.prototype.forward && !loss && g !== undefined) {
    const [r, c] = g.shape as [number, number];
    if (name === "inputs") return byRow();
    if (name !== "weights" && name !== "biases") return undefined;
    const out = new Float64Array(c);
    return {
      count: c,
      partOf: (i) => i % c,
      evaluate: () => {
        run();
        const y = layer.output.data;
        const gd = g.data;
        out.fill(0);
        for (let a = 0; a < r; a++) for (let b = 0; b < c; b++) out[b] = (out[b] as number) + (y[a * c + b] as number) * (gd[a * c + b] as number);
        return out;
      },
    };
  }
  if (name !== "inputs") return undefined;
  if (forward === Softmax.prototype.forward && !loss) return byRow();
  if (forward === ReLU.prototype.forward && !loss && g !== undefined) {
    const out = new Float64Array(g.data.length);
    return {
      count: out.length,
      partOf: (i) => i,
      evaluate: () => {
        run();
        const y = layer.output.data;
        for (let k = 0; k < out.length; k++) out[k] = (y[k] as number) * (g.data[k] as number);
        return out;
      },
    };
  }
  if ((forward === SoftmaxCategoricalCrossentropy.prototype.forward || forward === CategoricalCrossentropy.prototype.forward) && loss) {
    // The mean loss is Σ_n L_n / n: sample n's part is L_n / n.
    const out = new Float64Array(n);
    return {
      count: n,
      partOf: (i) => Math.floor(i / cols),
      evaluate: () => {
        run();
        const l = (layer as SoftmaxCategoricalCrossentropy | CategoricalCrossentropy).sampleLosses.data;
        for (let a = 0; a < n; a++) out[a] = (l[a] as number) / n;
        return out;
      },
    };
  }
  return undefined;
}

/** For a loss layer: elements of rows whose target-class probability is clipped, or undefined when none are. */
function clippedRows(layer: Layer, x: Tensor, yTrue: unknown): ((i: number) => boolean) | undefined {
  if (x.shape.length !== 2 || yTrue === undefined) return undefined;
  const [n, k] = x.shape as [number, number];
  let probs: Float64Array;
  if (layer.kind === "softmax-cce") probs = softmaxRows(x).data;
  else probs = x.data;
  let idx: Int32Array;
  try {
    idx = classIndices(readTargets("gradCheck", yTrue as TensorLike, n, k), k);
  } catch {
    return undefined;
  }
  const clipped = new Uint8Array(n);
  let any = false;
  for (let r = 0; r < n; r++) {
    const p = probs[r * k + (idx[r] as number)] as number;
    if (p < CLIP || p > 1 - CLIP) {
      clipped[r] = 1;
      any = true;
    }
  }
  return any ? (i) => clipped[Math.floor(i / k)] === 1 : undefined;
}

/** A trainable tensor of a whole model and a way to read its gradient after `backward`. */
export interface ModelParam {
  name: string;
  value: Tensor;
  grad: () => Tensor;
}

/**
 * Checks a whole model: `loss()` runs the forward pass and returns the loss, `backward()` runs the
 * backward pass, and each parameter's gradient is compared with central differences of the loss.
 */
export function gradCheckModel(loss: () => number, backward: () => void, params: readonly ModelParam[], options: GradCheckOptions = {}): GradCheckReport {
  loss();
  backward();
  const grads = params.map((p) => p.grad().data.slice());
  const tensors = params.map((p, i) => checkTensor(p.name, p.value.data, p.value.shape, grads[i] as Float64Array, loss, options));
  return { ok: tensors.every((t) => t.ok), tensors };
}
