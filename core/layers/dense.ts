import { ArgumentError, ShapeError, showShape } from "../errors";
import { sumRowsInto } from "../ops/elementwise";
import { gemm, gemmBias } from "../ops/gemm";
import { addRowInPlace, dot, sumRows } from "../ops/ops";
import { WASM_GEMM_MIN, wasmDenseBackward } from "../ops/wasm";
import { type Rng, defaultRng, randn } from "../rng";
import { type Tensor, type TensorLike, expect2d, sizeOf, tensor, uninitialized, zeros } from "../tensor";
import { Layer, type LayerKind } from "./layer";

/** Options of a Dense layer. */
export interface DenseOptions {
  /** Initial weights `[nInputs, nNeurons]` (as in the book's hand-written examples); default `0.01 · randn`. */
  weights?: TensorLike;
  /** Initial biases `[1, nNeurons]` (or `[nNeurons]`); default zeros. */
  biases?: TensorLike;
  /** Generator for the default initialisation; default the shared one (`seed()`). */
  rng?: Rng;
  /** Scale of the default initialisation (the book's 0.01). */
  weightScale?: number;
  /** Name shown in the inspector and in messages. */
  name?: string;
}

/**
 * A fully connected layer, the book's `Layer_Dense`.
 *
 * - forward:  `output = inputs · weights + biases`            `[batch, in] · [in, out] + [1, out]`
 * - backward: `dweights = inputsᵀ · dvalues`                  `[in, batch] · [batch, out]`
 *             `dbiases  = Σ_samples dvalues` (kept as a row)  `[1, out]`
 *             `dinputs  = dvalues · weightsᵀ`                 `[batch, out] · [out, in]`
 */
export class Dense extends Layer {
  /** Weights `[nInputs, nNeurons]`: column j holds neuron j's weights. */
  weights: Tensor;
  /** Biases `[1, nNeurons]`. */
  biases: Tensor;
  /** ∂L/∂weights `[nInputs, nNeurons]` from the last backward. */
  declare dweights: Tensor;
  /** ∂L/∂biases `[1, nNeurons]` from the last backward. */
  declare dbiases: Tensor;

  constructor(
    readonly nInputs: number,
    readonly nNeurons: number,
    options: DenseOptions = {},
  ) {
    super();
    if (!Number.isInteger(nInputs) || nInputs < 1 || !Number.isInteger(nNeurons) || nNeurons < 1) {
      throw new ArgumentError(`Dense(${nInputs}, ${nNeurons}): the number of inputs and of neurons must be whole numbers ≥ 1`);
    }
    if (options.name !== undefined) this.name = options.name;
    if (options.weights !== undefined) {
      const w = tensor(options.weights);
      if (w.shape.length !== 2 || w.shape[0] !== nInputs || w.shape[1] !== nNeurons) {
        throw new ShapeError(
          `Dense(${nInputs}, ${nNeurons}): initial weights are ${showShape(w.shape)}, expected [${nInputs}, ${nNeurons}] ([inputs, neurons]; transpose a [neurons, inputs] list)`,
          "Dense",
          { weights: w.shape, expected: [nInputs, nNeurons] },
        );
      }
      this.weights = { shape: w.shape, data: w.data.slice() };
    } else {
      const w = randn([nInputs, nNeurons], options.rng ?? defaultRng());
      const s = options.weightScale ?? 0.01;
      for (let i = 0; i < w.data.length; i++) w.data[i] = (w.data[i] as number) * s;
      this.weights = w;
    }
    if (options.biases !== undefined) {
      const b = tensor(options.biases);
      if (b.data.length !== nNeurons || (b.shape.length === 2 && b.shape[0] !== 1)) {
        throw new ShapeError(`Dense(${nInputs}, ${nNeurons}): initial biases are ${showShape(b.shape)}, expected [1, ${nNeurons}]`, "Dense", {
          biases: b.shape,
          expected: [1, nNeurons],
        });
      }
      this.biases = { shape: [1, nNeurons], data: b.data.slice() };
    } else {
      this.biases = zeros([1, nNeurons]);
    }
  }

  override get kind(): LayerKind {
    return "dense";
  }

  override paramNames(): string[] {
    return ["weights", "biases"];
  }

  /** `output = inputs · weights + biases`. Returns `output`. */
  forward(inputs: TensorLike): Tensor {
    const x = tensor(inputs);
    const [, cols] = expect2d("Dense.forward", "inputs", x);
    const [wr] = this.weights.shape as [number, number];
    if (cols !== wr) {
      throw new ShapeError(
        `Dense.forward: inputs are ${showShape(x.shape)} but the weights are ${showShape(this.weights.shape)}: ` +
          `each input row has ${cols} values, this layer takes ${wr}`,
        "Dense.forward",
        { inputs: x.shape, weights: this.weights.shape },
      );
    }
    this.inputs = x;
    const w = this.weights;
    const [M] = x.shape as [number, number];
    const [, N] = expect2d("Dense.forward", "b", w);
    if (sizeOf(this.biases.shape) !== N) {
      // The same error the separate bias addition gives.
      addRowInPlace(dot(x, w, {}, "Dense.forward"), this.biases, "Dense.forward");
    }
    // out = x · w + b, the bias added in the same pass (the same numbers as the product, then the bias).
    // Every element is written by the product (uninitialized: no zeroing of memory written at once).
    const out = uninitialized([M, N]);
    gemmBias(M, N, cols, x.data, w.data, this.biases.data, out.data);
    this.output = out;
    return out;
  }

  /** Computes `dweights`, `dbiases` and `dinputs` from `dvalues` = ∂L/∂output. Returns `dinputs`. */
  backward(dvalues: TensorLike): Tensor {
    const dy = tensor(dvalues);
    if (this.inputs === undefined) throw new ArgumentError("Dense.backward: call forward before backward");
    const [r, c] = expect2d("Dense.backward", "dvalues", dy);
    const [xr] = this.inputs.shape as [number, number];
    if (r !== xr || c !== this.nNeurons) {
      throw new ShapeError(
        `Dense.backward: dvalues are ${showShape(dy.shape)} but the output was [${xr}, ${this.nNeurons}]: dvalues must have the output's shape`,
        "Dense.backward",
        { dvalues: dy.shape, output: [xr, this.nNeurons] },
      );
    }
    const w = this.weights;
    const [, xc] = this.inputs.shape as [number, number];
    if (w.shape.length === 2 && w.shape[0] === xc && w.shape[1] === c) {
      // Every element of the three is written below (uninitialized: no zeroing first).
      const dW = uninitialized([xc, c]);
      const db = uninitialized([1, c]);
      const dX = uninitialized([r, xc]);
      // All three gradients in one visit of the WebAssembly kernels (dvalues copied in once), or the
      // same operations in TypeScript.
      if (r * xc * c < WASM_GEMM_MIN || !wasmDenseBackward(this.inputs.data, dy.data, w.data, r, xc, c, dW.data, db.data, dX.data)) {
        gemm(true, false, xc, c, r, this.inputs.data, dy.data, dW.data);
        sumRowsInto(dy.data, r, c, db.data);
        gemm(false, true, r, xc, c, dy.data, w.data, dX.data);
      }
      this.dweights = dW;
      this.dbiases = db;
      this.dinputs = dX;
      return dX;
    }
    // Weights of another shape (replaced by the model): the general products, with their shape errors.
    this.dweights = dot(this.inputs, dy, { transA: true }, "Dense.backward");
    this.dbiases = sumRows(dy);
    this.dinputs = dot(dy, w, { transB: true }, "Dense.backward");
    return this.dinputs;
  }
}
