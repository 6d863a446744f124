# Source: Andrej Karpathy's micrograd, demo.ipynb (the binary classifier on make_moons: an MLP
# 2-16-16-1 with ReLU, the SVM "max-margin" loss, L2 regularization with alpha 1e-4, full-batch SGD
# with a learning rate decaying from 1.0 to 0.1, accuracy per step, the decision boundary on a grid),
# ported to torch as the notebook's own check against PyTorch would write it: the network as
# nn.Linear layers initialized uniform in [-1, 1] as micrograd's Neuron is, the loop unchanged.
#   https://github.com/karpathy/micrograd  demo.ipynb (micrograd/nn.py for the initialization)
# Shrunk: make_moons written out with NumPy (sklearn's algorithm: two half circles, Gaussian noise 0.1),
# 100 points as in the demo, 40 steps instead of 100 (the decay kept over 100), the plot printed as the
# grid's predicted-class counts.
import random

import numpy as np
import torch
import torch.nn as nn

np.random.seed(1337)
random.seed(1337)


def make_moons(n_samples=100, noise=None):
    n_samples_out = n_samples // 2
    n_samples_in = n_samples - n_samples_out
    outer_circ_x = np.cos(np.linspace(0, np.pi, n_samples_out))
    outer_circ_y = np.sin(np.linspace(0, np.pi, n_samples_out))
    inner_circ_x = 1 - np.cos(np.linspace(0, np.pi, n_samples_in))
    inner_circ_y = 1 - np.sin(np.linspace(0, np.pi, n_samples_in)) - 0.5
    X = np.vstack([np.append(outer_circ_x, inner_circ_x), np.append(outer_circ_y, inner_circ_y)]).T
    y = np.hstack([np.zeros(n_samples_out, dtype=np.intp), np.ones(n_samples_in, dtype=np.intp)])
    permutation = np.random.permutation(n_samples)
    X, y = X[permutation], y[permutation]
    if noise is not None:
        X += np.random.normal(scale=noise, size=X.shape)
    return X, y


X, y = make_moons(n_samples=100, noise=0.1)
y = y*2 - 1  # make y be -1 or 1
print(X[:3], y[:10])


# initialize a model
class MLP(nn.Module):
    def __init__(self, nin, nouts):
        super().__init__()
        sz = [nin] + nouts
        self.layers = nn.ModuleList([nn.Linear(sz[i], sz[i+1]) for i in range(len(nouts))])
        for layer in self.layers:
            nn.init.uniform_(layer.weight, -1, 1)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i != len(self.layers) - 1:
                x = x.relu()
        return x

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


model = MLP(2, [16, 16, 1])  # 2-layer neural network
print(model)
print("number of parameters", sum(p.numel() for p in model.parameters()))


# loss function
def loss(batch_size=None):

    # inline DataLoader :)
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = torch.tensor(Xb, dtype=torch.float32)
    yb = torch.tensor(yb, dtype=torch.float32)

    # forward the model to get scores
    scores = model(inputs).squeeze(1)

    # svm "max-margin" loss
    losses = (1 + -yb*scores).relu()
    data_loss = losses.sum() * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum((p*p).sum() for p in model.parameters())
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = ((yb > 0) == (scores.data > 0)).float()
    return total_loss, accuracy.sum().item() / len(accuracy)


total_loss, acc = loss()
print(total_loss, acc)

# optimization
for k in range(40):

    # forward
    total_loss, acc = loss()

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9*k/100
    with torch.no_grad():
        for p in model.parameters():
            p.data -= learning_rate * p.grad

    if k % 1 == 0:
        print(f"step {k} loss {total_loss.item()}, accuracy {acc*100}%")

total_loss, acc = loss(batch_size=32)
print("minibatch", total_loss.item(), acc)

# visualize decision boundary
h = 0.25
x_min, x_max = X[:, 0].min() - 1, X[:, 0].max() + 1
y_min, y_max = X[:, 1].min() - 1, X[:, 1].max() + 1
xx, yy = np.meshgrid(np.arange(x_min, x_max, h),
                     np.arange(y_min, y_max, h))
Xmesh = np.c_[xx.ravel(), yy.ravel()]
with torch.no_grad():
    scores = model(torch.tensor(Xmesh, dtype=torch.float32))
Z = np.array([s.item() > 0 for s in scores])
Z = Z.reshape(xx.shape)
print(Z.shape, Z.sum(), Z[::3, ::3].astype(int))
