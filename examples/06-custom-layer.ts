// Your own layer: extend Layer, write forward and backward with the book's field names, and
// Backprop Lens traces it, shows it and gradient-checks it like the built-in layers
// (`npx backprop-lens check examples/06-custom-layer.ts`).
import { Dense, Layer, SoftmaxCategoricalCrossentropy, type Tensor, map, spiralData, zip } from "backprop-lens";

/** Leaky ReLU: output = x if x > 0 else α·x; dinputs = dvalues · (1 if x > 0 else α). */
class LeakyReLU extends Layer {
  constructor(readonly alpha = 0.1) {
    super();
  }

  forward(inputs: Tensor): Tensor {
    this.inputs = inputs;
    this.output = map(inputs, (x) => (x > 0 ? x : this.alpha * x));
    return this.output;
  }

  backward(dvalues: Tensor): Tensor {
    this.dinputs = zip(dvalues, this.inputs, (d, x) => (x > 0 ? d : this.alpha * d));
    return this.dinputs;
  }
}

const [X, y] = spiralData(50, 3);
const dense1 = new Dense(2, 8);
const leaky = new LeakyReLU(0.1);
const dense2 = new Dense(8, 3);
const lossActivation = new SoftmaxCategoricalCrossentropy();

dense1.forward(X);
leaky.forward(dense1.output);
dense2.forward(leaky.output);
console.log("loss:", lossActivation.forward(dense2.output, y));

lossActivation.backward(lossActivation.output, y);
dense2.backward(lossActivation.dinputs);
leaky.backward(dense2.dinputs);
dense1.backward(leaky.dinputs);
console.log(leaky.dinputs);
