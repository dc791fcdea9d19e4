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
import { CLIP } from "./layers/crossEntropy";
import type { Layer } from "./layers/layer";
import { mean } from "./ops/ops";
import { softmaxRows } from "./layers/softmax";
import { classIndices, readTargets } from "./layers/targets";
import { Rng } from "./rng";
import { type Tensor, type TensorLike, clone, isTensor, tensor } from "./tensor";
import { unflatIndex } from "./trace/stats";
import { paramGradientName } from "./trace/tensorNames";
import type { GradCheckTensor } from "./trace/traceTypes";

export interface GradCheckOptions {
  /** Step of the central difference, relative to max(1, |x|). Default 1e-6. */
  h?: number;
  /** Relative tolerance. Default 1e-5. */
  rtol?: number;
  /** Absolute tolerance. Default 1e-7. */
  atol?: number;
  /** At most this many elements per tensor are checked (a seeded sample beyond that). Default 512. */
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
  return { h: o.h ?? 1e-6, rtol: o.rtol ?? 1e-5, atol: o.atol ?? 1e-7, maxElements: o.maxElements ?? 512, rng: o.rng ?? new Rng(1) };
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
  const o = defaults(options);
  if (analytic.length !== x.length) throw new ArgumentError(`gradient check of ${name}: ${analytic.length} gradient values for ${x.length} elements`);
  const indices = sampleIndices(x.length, o.maxElements, o.rng);
  const f0 = f();
  let worstScore = -Infinity;
  let worst: GradCheckTensor["worst"];
  let ok = true;
  let kinks = 0;
  let visited = 0;
  for (const i of indices) {
    if (options.deadline !== undefined && visited >= MIN_ELEMENTS_PAST_DEADLINE && Date.now() > options.deadline) break;
    visited++;
    if (options.skip?.(i) === true) {
      kinks++;
      continue;
    }
    const xi = x[i] as number;
    const h = o.h * Math.max(1, Math.abs(xi));
    x[i] = xi + h;
    const fp = f();
    x[i] = xi - h;
    const fm = f();
    x[i] = xi;
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
    const score = allowed > 0 ? absErr / allowed : absErr;
    if (score > worstScore || Number.isNaN(absErr)) {
      worstScore = Number.isNaN(absErr) ? Infinity : score;
      worst = { index: unflatIndex(shape, i), analytic: a, numeric, absErr, relErr: absErr / Math.max(Math.abs(numeric), Number.MIN_VALUE) };
    }
    if (!pass) ok = false;
  }
  return { name, ok, checked: visited - kinks, total: x.length, kinks, worst, rtol: o.rtol, atol: o.atol };
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
  const tensors: GradCheckTensor[] = [checkTensor("dinputs", x.data, x.shape, dinputs, objective, { ...each, ...(skip ? { skip } : {}) })];
  for (const p of params) {
    if (p.grad === undefined) continue;
    tensors.push(checkTensor(paramGradientName(p.name), p.value.data, p.value.shape, p.grad, objective, each));
  }
  return { ok: tensors.every((t) => t.ok), tensors };
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
