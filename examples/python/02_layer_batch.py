# Chapter 9, a layer of 3 neurons over a batch of 3 samples: the gradients a Dense layer passes
# back (dinputs = dvalues . weights.T) and keeps (dweights = inputs.T . dvalues, dbiases = sum of
# dvalues), with the book's Layer_Dense and Activation_ReLU, then one SGD step.
import numpy as np
from nnfs_ch9 import Activation_ReLU, Layer_Dense, Optimizer_SGD

# A batch of 3 samples with 4 features each
inputs = np.array([[1, 2, 3, 2.5],
                   [2., 5., -1., 2],
                   [-1.5, 2.7, 3.3, -0.8]])

# 3 neurons of 4 weights, as the book writes them; the layer keeps the transpose, [inputs, neurons]
weights = np.array([[0.2, 0.8, -0.5, 1],
                    [0.5, -0.91, 0.26, -0.5],
                    [-0.26, -0.27, 0.17, 0.87]]).T
biases = np.array([[2, 3, 0.5]])

dense1 = Layer_Dense(4, 3)
dense1.weights = weights.copy()
dense1.biases = biases.copy()
dense1.forward(inputs)

# Passed-in gradient from the next layer, one row per sample
dvalues = np.array([[1., 1., 1.],
                    [2., 2., 2.],
                    [3., 3., 3.]])
dense1.backward(dvalues)
print(dense1.dinputs)
print(dense1.dweights)
print(dense1.dbiases)

# The same layer followed by ReLU, with the ReLU's own outputs standing in as the gradient
dense2 = Layer_Dense(4, 3)
dense2.weights = weights.copy()
dense2.biases = biases.copy()
relu = Activation_ReLU()
dense2.forward(inputs)
relu.forward(dense2.output)
relu.backward(relu.output)
dense2.backward(relu.dinputs)

# One step of gradient descent
optimizer = Optimizer_SGD(learning_rate=0.001)
optimizer.update_params(dense2)
print(dense2.weights)
print(dense2.biases)
