// A layer of MNIST size for the inspector's draw-time measurement: Dense(784, 128) over a batch of
// 32, so dweights and the weights snapshot are 784×128 heatmaps.
import { Dense, ReLU, randn, seed } from "backprop-lens";

seed(7);
const X = randn([32, 784]);
const dense1 = new Dense(784, 128);
const activation1 = new ReLU();
dense1.forward(X);
activation1.forward(dense1.output);
activation1.backward(activation1.output);
dense1.backward(activation1.dinputs);
