// Training the spiral model: Dense(2, 64) → ReLU → Dense(64, 3) with softmax + cross-entropy and the
// Adam optimizer for 10,000 epochs. Step 0 shows the untrained network; the inspector's step list
// also holds the last step, and the loss and accuracy curves show everything in between.
import { Adam, Dense, ReLU, SoftmaxCategoricalCrossentropy, accuracy, spiralData } from "backprop-lens";

const [X, y] = spiralData(100, 3);

const dense1 = new Dense(2, 64);
const activation1 = new ReLU();
const dense2 = new Dense(64, 3);
const lossActivation = new SoftmaxCategoricalCrossentropy();
const optimizer = new Adam({ learningRate: 0.1, decay: 1e-4 });

for (let epoch = 0; epoch <= 10000; epoch++) {
  dense1.forward(X);
  activation1.forward(dense1.output);
  dense2.forward(activation1.output);
  const loss = lossActivation.forward(dense2.output, y);
  const acc = accuracy(lossActivation.output, y);
  if (epoch % 1000 === 0) console.log(`epoch: ${epoch}, acc: ${acc.toFixed(3)}, loss: ${loss.toFixed(3)}, lr: ${optimizer.currentLearningRate}`);

  lossActivation.backward(lossActivation.output, y);
  dense2.backward(lossActivation.dinputs);
  activation1.backward(dense2.dinputs);
  dense1.backward(activation1.dinputs);

  optimizer.preUpdateParams();
  optimizer.updateParams(dense1);
  optimizer.updateParams(dense2);
  optimizer.postUpdateParams();
}
