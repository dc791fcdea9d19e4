// Chapter 9, the full model: spiral data through Dense(2, 3) → ReLU → Dense(3, 3) → softmax with
// categorical cross-entropy, forward and backward once. Before training the loss is about ln 3.
import { Dense, ReLU, SoftmaxCategoricalCrossentropy, accuracy, spiralData } from "backprop-lens";

// Create dataset
const [X, y] = spiralData(100, 3);

// Create Dense layer with 2 input features and 3 output values
const dense1 = new Dense(2, 3);
// Create ReLU activation (to be used with Dense layer)
const activation1 = new ReLU();
// Create second Dense layer with 3 input features (the output of the previous layer) and 3 output values
const dense2 = new Dense(3, 3);
// Create Softmax classifier's combined loss and activation
const lossActivation = new SoftmaxCategoricalCrossentropy();

// Forward pass
dense1.forward(X);
activation1.forward(dense1.output);
dense2.forward(activation1.output);
const loss = lossActivation.forward(dense2.output, y);

console.log("loss:", loss); // ≈ 1.0986 = ln 3
console.log("acc:", accuracy(lossActivation.output, y));

// Backward pass
lossActivation.backward(lossActivation.output, y);
dense2.backward(lossActivation.dinputs);
activation1.backward(dense2.dinputs);
dense1.backward(activation1.dinputs);

// Print gradients
console.log(dense1.dweights);
console.log(dense1.dbiases);
console.log(dense2.dweights);
console.log(dense2.dbiases);
