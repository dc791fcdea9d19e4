import { ArgumentError, ShapeError, showShape } from "../errors";
import { type Tensor, type TensorLike, tensor, zeros } from "../tensor";
import { Layer, type LayerKind } from "./layer";

/**
 * The rectified linear activation, the book's `Activation_ReLU`.
 *
 * - forward:  `output = max(inputs, 0)`
 * - backward: `dinputs = dvalues` where `inputs > 0`, else 0 (the book's `dinputs[inputs <= 0] = 0`)
 */
export class ReLU extends Layer {
  constructor(options: { name?: string } = {}) {
    super();
    if (options.name !== undefined) this.name = options.name;
  }

  override get kind(): LayerKind {
    return "relu";
  }

  override paramNames(): string[] {
    return [];
  }

  /** `output = max(inputs, 0)`. Returns `output`. */
  forward(inputs: TensorLike): Tensor {
    const x = tensor(inputs);
    this.inputs = x;
    const out = zeros(x.shape);
    const s = x.data;
    const d = out.data;
    for (let i = 0; i < s.length; i++) {
      const v = s[i] as number;
      d[i] = v < 0 ? 0 : v; // as np.maximum(0, x): a NaN stays NaN, so the tracer can find where it began
    }
    this.output = out;
    return out;
  }

  /** `dinputs = dvalues` where `inputs > 0`, else 0. Returns `dinputs`. */
  backward(dvalues: TensorLike): Tensor {
    const dy = tensor(dvalues);
    if (this.inputs === undefined) throw new ArgumentError("ReLU.backward: call forward before backward");
    if (dy.data.length !== this.inputs.data.length) {
      throw new ShapeError(`ReLU.backward: dvalues are ${showShape(dy.shape)} but the inputs were ${showShape(this.inputs.shape)}`, "ReLU.backward", {
        dvalues: dy.shape,
        inputs: this.inputs.shape,
      });
    }
    const out = zeros(dy.shape);
    const x = this.inputs.data;
    const g = dy.data;
    const d = out.data;
    // The book's `dinputs[inputs <= 0] = 0`: everything else (a NaN input included) passes the gradient.
    for (let i = 0; i < g.length; i++) d[i] = (x[i] as number) <= 0 ? 0 : (g[i] as number);
    this.dinputs = out;
    return out;
  }
}
