# Chapter 9, softmax: its Jacobian diagflat(s) - s . s.T for one sample, and the proof that the
# combined softmax + cross-entropy gradient (y_hat - y) / n equals cross-entropy backward followed
# by each sample's Jacobian, with the book's classes.
import numpy as np
from nnfs_ch9 import Activation_Softmax, Activation_Softmax_Loss_CategoricalCrossentropy, Loss_CategoricalCrossentropy

softmax_output = [0.7, 0.1, 0.2]
softmax_output = np.array(softmax_output).reshape(-1, 1)
print(np.diagflat(softmax_output) - np.dot(softmax_output, softmax_output.T))

softmax_outputs = np.array([[0.7, 0.1, 0.2],
                            [0.1, 0.5, 0.4],
                            [0.02, 0.9, 0.08]])
class_targets = np.array([0, 1, 1])

# Combined
softmax_loss = Activation_Softmax_Loss_CategoricalCrossentropy()
softmax_loss.backward(softmax_outputs, class_targets)
dvalues1 = softmax_loss.dinputs

# Separate: the softmax forward on inputs whose softmax is softmax_outputs, then cross-entropy
# backward and softmax backward through each sample's Jacobian
activation = Activation_Softmax()
activation.forward(np.log(softmax_outputs))
loss = Loss_CategoricalCrossentropy()
print('loss:', loss.calculate(activation.output, class_targets))
loss.backward(activation.output, class_targets)
activation.backward(loss.dinputs)
dvalues2 = activation.dinputs

print('Gradients: combined loss and activation:')
print(dvalues1)
print('Gradients: separate loss and activation:')
print(dvalues2)
print('largest difference:', np.abs(dvalues1 - dvalues2).max())
