import { ArgumentError, ShapeError, showShape } from "../errors";
import { reluBackward, reluForward } from "../ops/elementwise";
import { type Tensor, type TensorLike, tensor, uninitialized } from "../tensor";
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
    const out = uninitialized(x.shape); // every element is written
    reluForward(x.data, out.data); // as np.maximum(0, x): a NaN stays NaN, so the tracer can find where it began
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
    const out = uninitialized(dy.shape); // every element is written
    // The book's `dinputs[inputs <= 0] = 0`: everything else (a NaN input included) passes the gradient.
    reluBackward(this.inputs.data, dy.data, out.data);
    this.dinputs = out;
    return out;
  }
}
