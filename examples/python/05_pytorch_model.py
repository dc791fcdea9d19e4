# A small PyTorch model of the chapter's shape: Linear(2, 64) -> ReLU -> Linear(64, 3) with
# cross-entropy (PyTorch's CrossEntropyLoss is the book's combined softmax + cross-entropy), trained
# for a few steps with SGD. Backprop Lens shows it the way the book draws it: each layer's inputs,
# output, dinputs, and for Linear `weights` = weight.T ([in, out]) and `biases` = bias as a row,
# with `dweights`, `dbiases` in the same orientation.
import numpy as np
import torch
import torch.nn as nn
from nnfs.datasets import spiral_data

torch.manual_seed(0)
np.random.seed(0)

X_np, y_np = spiral_data(samples=100, classes=3)
X = torch.tensor(X_np, dtype=torch.float32)
y = torch.tensor(y_np, dtype=torch.long)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense1 = nn.Linear(2, 64)
        self.activation1 = nn.ReLU()
        self.dense2 = nn.Linear(64, 3)

    def forward(self, x):
        return self.dense2(self.activation1(self.dense1(x)))


model = Net()
loss_function = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1.0)

for epoch in range(101):
    optimizer.zero_grad()
    logits = model(X)
    loss = loss_function(logits, y)
    loss.backward()
    optimizer.step()
    if epoch % 25 == 0:
        accuracy = (logits.argmax(dim=1) == y).float().mean()
        print(f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss.item():.3f}")
