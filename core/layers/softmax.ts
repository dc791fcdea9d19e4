import { ArgumentError, ShapeError, showShape } from "../errors";
import { type Tensor, type TensorLike, expect2d, tensor, uninitialized, zeros } from "../tensor";
import { Layer, type LayerKind } from "./layer";

/**
 * Row-wise softmax with the row maximum subtracted first (so `exp` cannot overflow):
 * `s_ij = exp(z_ij − max_j z_ij) / Σ_k exp(z_ik − max_j z_ij)`. Rows sum to 1.
 */
export function softmaxRows(inputs: Tensor): Tensor {
  const [r, c] = expect2d("softmax", "inputs", inputs);
  const out = uninitialized([r, c]); // every element is written
  for (let i = 0; i < r; i++) softmaxRow(inputs.data, out.data, i * c, c);
  return out;
}

/** One row of `softmaxRows`: `y[o … o+c)` = softmax of `x[o … o+c)`, the max subtracted first. */
export function softmaxRow(x: Float64Array, y: Float64Array, o: number, c: number): void {
  let m = -Infinity;
  for (let j = 0; j < c; j++) m = Math.max(m, x[o + j] as number);
  let s = 0;
  for (let j = 0; j < c; j++) {
    const e = Math.exp((x[o + j] as number) - m);
    y[o + j] = e;
    s += e;
  }
  for (let j = 0; j < c; j++) y[o + j] = (y[o + j] as number) / s;
}

/**
 * The softmax Jacobian of one sample, `J = diag(s) − s·sᵀ`, i.e. `∂s_i/∂z_j = s_i(δ_ij − s_j)`.
 * `s` is that sample's softmax output (a row); the result is `[k, k]`.
 */
export function softmaxJacobian(s: Tensor | ArrayLike<number>): Tensor {
  const v = "data" in s && "shape" in s ? (s as Tensor).data : (s as ArrayLike<number>);
  const k = v.length;
  const J = zeros([k, k]);
  for (let i = 0; i < k; i++) {
    const si = v[i] as number;
    for (let j = 0; j < k; j++) J.data[i * k + j] = (i === j ? si : 0) - si * (v[j] as number);
  }
  return J;
}

/**
 * Backward through softmax, one sample at a time: `dinputs_n = J_n · dvalues_n` with
 * `J_n = diag(s_n) − s_n·s_nᵀ` (the book's loop over `zip(self.output, dvalues)`).
 */
export function softmaxBackward(output: Tensor, dvalues: Tensor): Tensor {
  const [r, c] = expect2d("Softmax.backward", "dvalues", dvalues);
  if (output.data.length !== dvalues.data.length) {
    throw new ShapeError(`Softmax.backward: dvalues are ${showShape(dvalues.shape)} but the output was ${showShape(output.shape)}`, "Softmax.backward", {
      dvalues: dvalues.shape,
      output: output.shape,
    });
  }
  const out = uninitialized([r, c]); // every element is written
  const s = output.data;
  const g = dvalues.data;
  for (let n = 0; n < r; n++) {
    const o = n * c;
    // J·g = s ⊙ g − s (s·g): the same product as building J, without the k×k matrix.
    let sg = 0;
    for (let j = 0; j < c; j++) sg += (s[o + j] as number) * (g[o + j] as number);
    for (let i = 0; i < c; i++) out.data[o + i] = (s[o + i] as number) * ((g[o + i] as number) - sg);
  }
  return out;
}

/**
 * The softmax activation, the book's `Activation_Softmax`.
 *
 * - forward:  `output = softmax(inputs)` per row (max subtracted first)
 * - backward: per sample, `dinputs_n = (diag(s_n) − s_n·s_nᵀ) · dvalues_n`; `jacobian(n)` returns that matrix
 */
export class Softmax extends Layer {
  constructor(options: { name?: string } = {}) {
    super();
    if (options.name !== undefined) this.name = options.name;
  }

  override get kind(): LayerKind {
    return "softmax";
  }

  override paramNames(): string[] {
    return [];
  }

  /** Row-wise softmax of `inputs`. Returns `output`. */
  forward(inputs: TensorLike): Tensor {
    const x = tensor(inputs);
    this.inputs = x;
    this.output = softmaxRows(x);
    return this.output;
  }

  /** `dinputs` through each sample's Jacobian. Returns `dinputs`. */
  backward(dvalues: TensorLike): Tensor {
    if (this.output === undefined) throw new ArgumentError("Softmax.backward: call forward before backward");
    this.dinputs = softmaxBackward(this.output, tensor(dvalues));
    return this.dinputs;
  }

  /** The Jacobian `diag(s) − s·sᵀ` of sample `n` of the last forward, `[k, k]`. */
  jacobian(n: number): Tensor {
    if (this.output === undefined) throw new ArgumentError("Softmax.jacobian: call forward first");
    const [r, c] = this.output.shape as [number, number];
    if (!Number.isInteger(n) || n < 0 || n >= r) throw new ArgumentError(`Softmax.jacobian: sample ${n} is outside 0..${r - 1}`);
    return softmaxJacobian(this.output.data.subarray(n * c, (n + 1) * c));
  }
}
