/**
 * A small sequential helper: layers applied in order, a loss at the end, and an optimizer step.
 * It only calls the layers' own `forward`/`backward`, so everything it does is traced exactly as
 * the book's imperative style is.
 */
import { ArgumentError } from "./errors";
import { CategoricalCrossentropy, SoftmaxCategoricalCrossentropy, accuracy } from "./layers/crossEntropy";
import type { Layer } from "./layers/layer";
import type { Optimizer } from "./optim/optimizer";
import type { Tensor, TensorLike } from "./tensor";

/** The loss layers a `Sequential` can end with. */
export type LossLayer = SoftmaxCategoricalCrossentropy | CategoricalCrossentropy;

export class Sequential {
  constructor(
    /** The layers, first to last. */
    readonly layers: readonly Layer[],
    /** The loss at the end (softmax + cross-entropy in the book's models). */
    readonly loss: LossLayer = new SoftmaxCategoricalCrossentropy(),
  ) {
    if (layers.length === 0) throw new ArgumentError("Sequential: give at least one layer");
  }

  /** Runs every layer forward on `X`; returns the last layer's output (before the loss). */
  predict(X: TensorLike): Tensor {
    let x = X as Tensor;
    for (const l of this.layers) {
      l.forward(x);
      x = l.output;
    }
    return x;
  }

  /** Forward through every layer and the loss; returns `{ loss, accuracy }` for targets `y`. */
  forward(X: TensorLike, y: TensorLike): { loss: number; accuracy: number } {
    const logits = this.predict(X);
    let loss: number;
    if (this.loss instanceof SoftmaxCategoricalCrossentropy) loss = this.loss.forward(logits, y);
    else loss = this.loss.calculate(logits, y);
    const probs = this.loss instanceof SoftmaxCategoricalCrossentropy ? this.loss.output : logits;
    return { loss, accuracy: accuracy(probs, y) };
  }

  /** Backward from the loss through every layer, last to first (the book's order). */
  backward(y: TensorLike): void {
    if (this.loss instanceof SoftmaxCategoricalCrossentropy) this.loss.backward(this.loss.output, y);
    else this.loss.backward(this.loss.inputs, y);
    let d = this.loss.dinputs;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i] as Layer;
      l.backward(d);
      d = l.dinputs;
    }
  }

  /** One training step: forward, backward, and the optimizer's update of every layer. */
  trainStep(X: TensorLike, y: TensorLike, optimizer: Optimizer): { loss: number; accuracy: number } {
    const r = this.forward(X, y);
    this.backward(y);
    optimizer.step(...this.layers);
    return r;
  }
}
