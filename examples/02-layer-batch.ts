// Chapter 9, a layer of 3 neurons over a batch of 3 samples: the gradients a Dense layer passes
// back (dinputs = dvalues · weightsᵀ) and keeps (dweights = inputsᵀ · dvalues, dbiases = Σ dvalues).
import { Dense, ReLU, SGD } from "backprop-lens";

// A batch of 3 samples with 4 features each
const inputs = [
  [1.0, 2.0, 3.0, 2.5],
  [2.0, 5.0, -1.0, 2.0],
  [-1.5, 2.7, 3.3, -0.8],
];
// 3 neurons of 4 weights, as the book writes them ([neurons, inputs]); the layer stores the transpose
const neuronWeights = [
  [0.2, 0.8, -0.5, 1.0],
  [0.5, -0.91, 0.26, -0.5],
  [-0.26, -0.27, 0.17, 0.87],
];
const weights = neuronWeights[0]!.map((_, i) => neuronWeights.map((row) => row[i]!)); // [4, 3]
const biases = [[2.0, 3.0, 0.5]];

const dense1 = new Dense(4, 3, { weights, biases });
dense1.forward(inputs);

// Gradients from the next layer, one row per sample
const dvalues = [
  [1.0, 1.0, 1.0],
  [2.0, 2.0, 2.0],
  [3.0, 3.0, 3.0],
];
dense1.backward(dvalues);
console.log(dense1.dinputs); // [[ 0.44 -0.38 -0.07  1.37] …]
console.log(dense1.dweights);
console.log(dense1.dbiases); // [[6. 6. 6.]]

// The same layer followed by ReLU, with the ReLU's own outputs standing in as the gradient, and one SGD step
const dense2 = new Dense(4, 3, { weights, biases });
const relu = new ReLU();
dense2.forward(inputs);
relu.forward(dense2.output);
relu.backward(relu.output);
dense2.backward(relu.dinputs);
new SGD({ learningRate: 0.001 }).step(dense2);
console.log(dense2.weights);
console.log(dense2.biases);
