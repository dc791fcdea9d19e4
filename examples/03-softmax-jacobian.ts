// Chapter 9, softmax: its Jacobian diag(s) − s·sᵀ for one sample, and the proof that the combined
// softmax + cross-entropy gradient (ŷ − y)/n equals cross-entropy backward followed by each
// sample's Jacobian.
import { CategoricalCrossentropy, Softmax, SoftmaxCategoricalCrossentropy, compareSoftmaxCcePaths, softmaxJacobian } from "backprop-lens";

// One sample's softmax output and its Jacobian
const softmaxOutput = [0.7, 0.1, 0.2];
console.log(softmaxJacobian(softmaxOutput)); // [[ 0.21 -0.07 -0.14] …]

// A batch of three softmax outputs and their classes
const softmaxOutputs = [
  [0.7, 0.1, 0.2],
  [0.1, 0.5, 0.4],
  [0.02, 0.9, 0.08],
];
const classTargets = [0, 1, 1];

// Combined: (ŷ − y) / n
const softmaxLoss = new SoftmaxCategoricalCrossentropy();
softmaxLoss.backward(softmaxOutputs, classTargets);
const dvalues1 = softmaxLoss.dinputs;

// Separate: cross-entropy backward, then softmax backward through each sample's Jacobian
const activation = new Softmax();
activation.forward(softmaxOutputs.map((row) => row.map(Math.log))); // inputs whose softmax is softmaxOutputs
const loss = new CategoricalCrossentropy();
loss.backward(softmaxOutputs, classTargets);
activation.backward(loss.dinputs);
const dvalues2 = activation.dinputs;

console.log("Gradients: combined loss and activation:");
console.log(dvalues1); // [[-0.1  0.0333  0.0667] …]
console.log("Gradients: separate loss and activation:");
console.log(dvalues2);
console.log("largest difference:", compareSoftmaxCcePaths(softmaxOutputs, classTargets).maxDiff);
