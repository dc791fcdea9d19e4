import { mean } from "../ops/ops";
import { type Tensor, type TensorLike, expect2d, tensor, uninitialized, zeros } from "../tensor";
import { Layer, type LayerKind } from "./layer";
import { softmaxBackward, softmaxRow, softmaxRows } from "./softmax";
import { type Targets, classIndices, readTargetsTransient as readTargets } from "./targets";

/** Predictions are clipped to [CLIP, 1 − CLIP] before the log, so −log never sees 0. */
export const CLIP = 1e-7;

/** Per-sample losses `−log(clip(ŷ)[n, y_n])` for sparse or one-hot targets. */
function sampleLosses(yPred: Tensor, t: Targets, n: number, k: number): Tensor {
  const out = zeros([n]);
  const p = yPred.data;
  for (let i = 0; i < n; i++) {
    let correct: number;
    if (t.kind === "sparse") {
      correct = clip(p[i * k + (t.index[i] as number)] as number);
    } else {
      correct = 0;
      for (let j = 0; j < k; j++) correct += clip(p[i * k + j] as number) * (t.values.data[i * k + j] as number);
    }
    out.data[i] = -Math.log(correct);
  }
  return out;
}

function clip(v: number): number {
  return v < CLIP ? CLIP : v > 1 - CLIP ? 1 - CLIP : v;
}


/**
 * Categorical cross-entropy, the book's `Loss_CategoricalCrossentropy`.
 *
 * - forward:  per sample `L_n = −log(clip(ŷ_n)[y_n])` (clip to [1e−7, 1 − 1e−7]); `calculate` returns the mean
 * - backward: `dinputs = −y / ŷ / n` (y one-hot; sparse targets are expanded), the gradient of the mean loss
 */
export class CategoricalCrossentropy extends Layer {
  /** The per-sample losses of the last forward (same as `output`). */
  declare sampleLosses: Tensor;

  constructor(options: { name?: string } = {}) {
    super();
    if (options.name !== undefined) this.name = options.name;
  }

  override get kind(): LayerKind {
    return "cce";
  }

  override paramNames(): string[] {
    return [];
  }

  /** Per-sample losses `[samples]`. Returns them (and keeps them as `output`). */
  forward(yPred: TensorLike, yTrue: TensorLike): Tensor {
    const p = tensor(yPred);
    const [n, k] = expect2d("CategoricalCrossentropy.forward", "yPred", p);
    const t = readTargets("CategoricalCrossentropy.forward", yTrue, n, k);
    this.inputs = p;
    this.output = sampleLosses(p, t, n, k);
    this.sampleLosses = this.output;
    return this.output;
  }

  /** The mean loss over the batch: `Loss.calculate` in the book (runs `forward`). */
  calculate(yPred: TensorLike, yTrue: TensorLike): number {
    return mean(this.forward(yPred, yTrue));
  }

  /** `dinputs = −y / dvalues / n` where `dvalues` are the predictions ŷ. Returns `dinputs`. */
  backward(dvalues: TensorLike, yTrue: TensorLike): Tensor {
    const d = tensor(dvalues);
    const [n, k] = expect2d("CategoricalCrossentropy.backward", "dvalues", d);
    const t = readTargets("CategoricalCrossentropy.backward", yTrue, n, k);
    const out = uninitialized([n, k]); // every element is written
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const y = t.kind === "sparse" ? (t.index[i] === j ? 1 : 0) : (t.values.data[i * k + j] as number);
        out.data[i * k + j] = -y / (d.data[i * k + j] as number) / n;
      }
    }
    this.dinputs = out;
    return out;
  }
}

/**
 * Softmax and categorical cross-entropy in one step, the book's
 * `Activation_Softmax_Loss_CategoricalCrossentropy`.
 *
 * - forward:  `output = softmax(inputs)`; returns the mean cross-entropy loss
 * - backward: `dinputs = (ŷ − y) / n` (y one-hot), where `dvalues` are the softmax outputs ŷ.
 *   This is what the separate path (CCE backward, then each sample's softmax Jacobian) computes,
 *   in one subtraction: see `compareSoftmaxCcePaths`.
 */
export class SoftmaxCategoricalCrossentropy extends Layer {
  /** The per-sample losses of the last forward. */
  declare sampleLosses: Tensor;
  /** The mean loss of the last forward. */
  loss = NaN;

  constructor(options: { name?: string } = {}) {
    super();
    if (options.name !== undefined) this.name = options.name;
  }

  override get kind(): LayerKind {
    return "softmax-cce";
  }

  override paramNames(): string[] {
    return [];
  }

  /** Softmax of `inputs` into `output`; returns the mean loss against `yTrue`. */
  forward(inputs: TensorLike, yTrue: TensorLike): number {
    const x = tensor(inputs);
    const [n, k] = expect2d("SoftmaxCategoricalCrossentropy.forward", "inputs", x);
    const t = readTargets("SoftmaxCategoricalCrossentropy.forward", yTrue, n, k);
    this.inputs = x;
    if (t.kind === "sparse") {
      // Class indices: each sample's softmax row and its loss in one pass (the same operations as
      // softmaxRows, then sampleLosses).
      const out = uninitialized([n, k]); // every element is written
      const losses = zeros([n]);
      const xs = x.data;
      const ys = out.data;
      const idx = t.index;
      for (let i = 0; i < n; i++) {
        softmaxRow(xs, ys, i * k, k);
        losses.data[i] = -Math.log(clip(ys[i * k + (idx[i] as number)] as number));
      }
      this.output = out;
      this.sampleLosses = losses;
    } else {
      this.output = softmaxRows(x);
      this.sampleLosses = sampleLosses(this.output, t, n, k);
    }
    this.loss = mean(this.sampleLosses);
    return this.loss;
  }

  /** `dinputs = (dvalues − y) / n` with `dvalues` the softmax outputs. Returns `dinputs`. */
  backward(dvalues: TensorLike, yTrue: TensorLike): Tensor {
    const d = tensor(dvalues);
    const [n, k] = expect2d("SoftmaxCategoricalCrossentropy.backward", "dvalues", d);
    const idx = classIndices(readTargets("SoftmaxCategoricalCrossentropy.backward", yTrue, n, k), k);
    // (ŷ − y) / n in one pass: ŷ/n, and (ŷ − 1)/n at each sample's target class.
    const out = uninitialized([n, k]); // every element is written
    const o = out.data;
    const p = d.data;
    for (let i = 0; i < n; i++) {
      const r = i * k;
      const t = r + (idx[i] as number);
      for (let c = r; c < r + k; c++) o[c] = (c === t ? (p[c] as number) - 1 : (p[c] as number)) / n;
    }
    this.dinputs = out;
    return out;
  }
}

/** Fraction of samples whose largest prediction is the target class (`np.mean(argmax(ŷ) == y)`). */
export function accuracy(yPred: TensorLike, yTrue: TensorLike): number {
  const p = tensor(yPred);
  const [n, k] = expect2d("accuracy", "yPred", p);
  const idx = classIndices(readTargets("accuracy", yTrue, n, k), k);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if ((p.data[i * k + j] as number) > (p.data[i * k + best] as number)) best = j;
    if (best === idx[i]) hits++;
  }
  return n === 0 ? NaN : hits / n;
}

/** The two ways to backpropagate softmax + cross-entropy, side by side. */
export interface SoftmaxCcePaths {
  /** `(ŷ − y) / n`. */
  combined: Tensor;
  /** CCE backward `−y/ŷ/n`, then each sample's Jacobian `diag(s) − s·sᵀ`. */
  separate: Tensor;
  /** What the cross-entropy backward alone gives (`−y/ŷ/n`). */
  cceDinputs: Tensor;
  /** Largest |combined − separate| and where it is. */
  maxDiff: number;
  maxDiffAt: [number, number];
}

/**
 * Computes the combined and the separate backward of softmax + CCE for softmax outputs `probs`
 * and targets `yTrue`, and their largest difference (the book's check that both agree).
 */
export function compareSoftmaxCcePaths(probs: TensorLike, yTrue: TensorLike): SoftmaxCcePaths {
  const s = tensor(probs);
  const [n, k] = expect2d("compareSoftmaxCcePaths", "probs", s);
  const t = readTargets("compareSoftmaxCcePaths", yTrue, n, k);
  const idx = classIndices(t, k);
  const combined = { shape: [n, k], data: s.data.slice() } as Tensor;
  for (let i = 0; i < n; i++) combined.data[i * k + (idx[i] as number)] = (combined.data[i * k + (idx[i] as number)] as number) - 1;
  for (let i = 0; i < combined.data.length; i++) combined.data[i] = (combined.data[i] as number) / n;
  const cceDinputs = zeros([n, k]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const y = t.kind === "sparse" ? (idx[i] === j ? 1 : 0) : (t.values.data[i * k + j] as number);
      cceDinputs.data[i * k + j] = -y / (s.data[i * k + j] as number) / n;
    }
  }
  const separate = softmaxBackward(s, cceDinputs);
  let maxDiff = 0;
  let maxDiffAt: [number, number] = [0, 0];
  for (let i = 0; i < combined.data.length; i++) {
    const dd = Math.abs((combined.data[i] as number) - (separate.data[i] as number));
    if (dd > maxDiff || Number.isNaN(dd)) {
      maxDiff = dd;
      maxDiffAt = [Math.floor(i / k), i % k];
    }
  }
  return { combined, separate, cceDinputs, maxDiff, maxDiffAt };
}
