/**
 * A 1,000-line model file for the shape analysis benchmark (test/bench/shapes.mjs): the kind of file a
 * learner ends up with after a few chapters. Two user layers (one inferred, one with weights of its
 * own), a helper that builds layers, then two dozen spiral models, each trained for two epochs in the
 * book's imperative style, every third one through `Sequential` instead. It runs (`node
 * test/bench/shapes.mjs --write=model.ts` writes it; `npx backprop-lens run model.ts` runs it).
 */

/** The model's text with about `lines` lines; `variant` changes one hidden width (a "change" of the file). */
export function bigModel(lines = 1000, variant = 0) {
  const head = `// A long model file: many spiral models with user layers, loops and Sequential (shape analysis benchmark).
import { Adam, Dense, Layer, ReLU, SGD, Sequential, SoftmaxCategoricalCrossentropy, type Tensor, accuracy, addRowInPlace, dot, map, randn, spiralData, sumRows, zeros, zip } from "backprop-lens";

/** Leaky ReLU: output = x if x > 0 else alpha * x. */
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

/** A dense layer written out by hand: weights [nIn, nOut], biases [1, nOut]. */
class MyDense extends Layer {
  weights: Tensor;
  biases: Tensor;
  dweights!: Tensor;
  dbiases!: Tensor;

  constructor(readonly nIn: number, readonly nOut: number) {
    super();
    this.weights = map(randn([nIn, nOut]), (w) => 0.01 * w);
    this.biases = zeros([1, nOut]);
  }

  forward(inputs: Tensor): Tensor {
    this.inputs = inputs;
    this.output = addRowInPlace(dot(inputs, this.weights), this.biases);
    return this.output;
  }

  backward(dvalues: Tensor): Tensor {
    this.dweights = dot(this.inputs, dvalues, { transA: true });
    this.dbiases = sumRows(dvalues);
    this.dinputs = dot(dvalues, this.weights, { transB: true });
    return this.dinputs;
  }
}

/** Dense → ReLU pairs of the given widths. */
function stack(widths: number[]): Layer[] {
  const layers: Layer[] = [];
  for (let i = 1; i < widths.length; i++) {
    layers.push(new Dense(widths[i - 1] as number, widths[i] as number));
    if (i < widths.length - 1) layers.push(new ReLU());
  }
  return layers;
}
`;
  const blocks = [];
  let count = head.split("\n").length;
  for (let k = 0; count < lines - 5; k++) {
    const h = 4 + (k % 5) * 2 + (k === 12 ? variant : 0);
    const h2 = 3 + (k % 3);
    const n = 20 + k;
    let b;
    if (k % 3 === 2) {
      b = `
// ---- model ${k}: the same network through Sequential
const [X${k}, y${k}] = spiralData(${n}, 3);
const model${k} = new Sequential(stack([2, ${h}, ${h2}, 3]));
const optimizer${k} = new SGD({ learningRate: 0.5 });
for (let epoch = 0; epoch < 2; epoch++) {
  const { loss, accuracy: acc } = model${k}.trainStep(X${k}, y${k}, optimizer${k});
  if (epoch === 1) console.log("model ${k}", loss.toFixed(3), acc.toFixed(3));
}
const probs${k} = model${k}.predict(X${k});
console.log(probs${k}.shape);
`;
    } else {
      b = `
// ---- model ${k}: Dense(2, ${h}) → ReLU → Dense(${h}, ${h2}) → LeakyReLU → MyDense(${h2}, 3) → softmax + cross-entropy
const [X${k}, y${k}] = spiralData(${n}, 3);
const dense${k}a = new Dense(2, ${h});
const activation${k}a = new ReLU();
const dense${k}b = new Dense(${h}, ${h2});
const activation${k}b = new LeakyReLU(0.05);
const dense${k}c = new MyDense(${h2}, 3);
const lossActivation${k} = new SoftmaxCategoricalCrossentropy();
const optimizer${k} = new Adam({ learningRate: 0.02 });

for (let epoch = 0; epoch < 2; epoch++) {
  // forward
  dense${k}a.forward(X${k});
  activation${k}a.forward(dense${k}a.output);
  dense${k}b.forward(activation${k}a.output);
  activation${k}b.forward(dense${k}b.output);
  dense${k}c.forward(activation${k}b.output);
  const loss = lossActivation${k}.forward(dense${k}c.output, y${k});
  const acc = accuracy(lossActivation${k}.output, y${k});
  if (epoch === 1) console.log("model ${k}", loss.toFixed(3), acc.toFixed(3));

  // backward
  lossActivation${k}.backward(lossActivation${k}.output, y${k});
  dense${k}c.backward(lossActivation${k}.dinputs);
  activation${k}b.backward(dense${k}c.dinputs);
  dense${k}b.backward(activation${k}b.dinputs);
  activation${k}a.backward(dense${k}b.dinputs);
  dense${k}a.backward(activation${k}a.dinputs);

  // update
  optimizer${k}.preUpdateParams();
  optimizer${k}.updateParams(dense${k}a);
  optimizer${k}.updateParams(dense${k}b);
  optimizer${k}.updateParams(dense${k}c);
  optimizer${k}.postUpdateParams();
}
console.log(dense${k}a.dweights.shape, dense${k}c.dweights.shape);
`;
    }
    blocks.push(b);
    count += b.split("\n").length - 1;
  }
  return head + blocks.join("");
}
