# Source: Kevin Murphy, "Probabilistic Machine Learning" book code (pyprobml), the supplement
# "Automatic differentation using PyTorch", with the torch functions of the script version:
#   https://github.com/probml/pyprobml  notebooks/autodiff_pytorch.ipynb (book1/supplements)
#   https://github.com/probml/pyprobml  scripts/autodiff_logreg.py (compute_gradients_torch, _torch_nn)
# Shrunk: sklearn's iris data and LogisticRegression fit replaced by 50 synthetic 4-feature test rows
# (numpy, seeded) and the weight vector the notebook prints for the sklearn fit ([-4.414 -9.111 6.539
# 12.686]); scipy's logsumexp written with numpy; torchvision import and the GPU checks left out; the
# JAX/TF parts of autodiff_logreg.py left out. The notebook's cells in order; its displayed expressions
# (net[2].weight.grad == None, rgnet[0][1][0].bias.data) printed.
from collections import OrderedDict

import numpy as np

np.set_printoptions(precision=3)

import torch
import torch.nn as nn

device = torch.device("cpu")

# Synthetic stand-in for the iris test split (y = 1 if "Virginica")
rng = np.random.RandomState(42)
X_test = np.round(rng.uniform([4.3, 2.0, 1.0, 0.1], [7.9, 4.4, 6.9, 2.5], size=(50, 4)), 1)
y_test = (X_test[:, 2] + X_test[:, 3] > 6.2).astype(int)
N, D = X_test.shape
w_mle_sklearn = np.array([-4.414, -9.111, 6.539, 12.686])
print(w_mle_sklearn)


def logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


# Binary cross entropy
def BCE_with_logits(logits, targets):
    N = logits.shape[0]
    logits = logits.reshape(N, 1)
    logits_plus = np.hstack([np.zeros((N, 1)), logits])  # e^0=1
    logits_minus = np.hstack([np.zeros((N, 1)), -logits])
    logp1 = -logsumexp(logits_minus, axis=1)
    logp0 = -logsumexp(logits_plus, axis=1)
    logprobs = logp1 * targets + logp0 * (1 - targets)
    return -np.sum(logprobs) / N


# Compute using numpy
def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def predict_logit(weights, inputs):
    return np.dot(inputs, weights)  # Already vectorized


def predict_np(weights, inputs):
    return sigmoid(predict_logit(weights, inputs))


def NLL(weights, batch):
    X, y = batch
    logits = predict_logit(weights, X)
    return BCE_with_logits(logits, y)


def NLL_grad(weights, batch):
    X, y = batch
    N = X.shape[0]
    mu = predict_np(weights, X)
    g = np.sum(np.dot(np.diag(mu - y), X), axis=0) / N
    return g


w_np = w_mle_sklearn
y_pred = predict_np(w_np, X_test)
loss_np = NLL(w_np, (X_test, y_test))
grad_np = NLL_grad(w_np, (X_test, y_test))
print("params {}".format(w_np))
print("loss {}".format(loss_np))
print("grad {}".format(grad_np))

# data. By default, numpy uses double but torch uses float
X_test_t = torch.tensor(X_test, dtype=torch.float)
y_test_t = torch.tensor(y_test, dtype=torch.float)

# parameters
W = np.reshape(w_mle_sklearn, [D, 1])  # convert 1d vector to 2d matrix
w_torch = torch.tensor(W, requires_grad=True, dtype=torch.float)


# binary logistic regression in one line of Pytorch
def predict(X, w):
    y_pred = torch.sigmoid(torch.matmul(X, w))[:, 0]
    return y_pred


# This returns Nx1 probabilities
y_pred = predict(X_test_t, w_torch)

# loss function is average NLL
criterion = torch.nn.BCELoss(reduction="mean")
loss_torch = criterion(y_pred, y_test_t)
print(loss_torch)

# Backprop
loss_torch.backward()
print(w_torch.grad)

# convert to numpy. We have to "detach" the gradient tracing feature
loss_torch = loss_torch.detach().numpy()
grad_torch = w_torch.grad[:, 0].detach().numpy()

# Test
assert np.allclose(loss_np, loss_torch, atol=1e-5)
assert np.allclose(grad_np, grad_torch, atol=1e-5)

print("loss {}".format(loss_torch))
print("grad {}".format(grad_torch))


# scripts/autodiff_logreg.py: the same gradient with w.requires_grad_() and with an nn.Module
def compute_gradients_torch(w, X_test, y_test):
    print("Starting torch demo")
    N, D = X_test.shape
    w_torch = torch.Tensor(np.reshape(w, [D, 1])).to(device)
    w_torch.requires_grad_()
    x_test_tensor = torch.Tensor(X_test).to(device)
    y_test_tensor = torch.Tensor(y_test).to(device)
    y_pred = torch.sigmoid(torch.matmul(x_test_tensor, w_torch))[:, 0]
    criterion = torch.nn.BCELoss(reduction="mean")
    loss_torch = criterion(y_pred, y_test_tensor)
    loss_torch.backward()
    grad_torch = w_torch.grad[:, 0].numpy()
    print("params {}".format(w_torch))
    print("loss {}".format(loss_torch))
    print("grad {}".format(grad_torch))
    return grad_torch


def compute_gradients_torch_nn(w, X_test, y_test):
    print("Starting torch demo: NN version")
    N, D = X_test.shape
    x_test_tensor = torch.Tensor(X_test).to(device)
    y_test_tensor = torch.Tensor(y_test).to(device)

    class Model(torch.nn.Module):
        def __init__(self):
            super(Model, self).__init__()
            self.linear = torch.nn.Linear(D, 1, bias=False)

        def forward(self, x):
            y_pred = torch.sigmoid(self.linear(x))
            return y_pred

    model = Model()
    # Manually set parameters to desired values
    print(model.state_dict())
    w1 = torch.Tensor(np.reshape(w, [1, D])).to(device)  # row vector
    new_state_dict = OrderedDict({"linear.weight": w1})
    model.load_state_dict(new_state_dict, strict=False)
    print(model.state_dict())
    model.to(device)  # make sure new params are on same device as data

    criterion = torch.nn.BCELoss(reduction="mean")
    y_pred2 = model(x_test_tensor)[:, 0]
    loss_torch2 = criterion(y_pred2, y_test_tensor)
    loss_torch2.backward()
    params_torch2 = list(model.parameters())
    grad_torch2 = params_torch2[0].grad[0].numpy()

    print("params {}".format(w1))
    print("loss {}".format(loss_torch2))
    print("grad {}".format(grad_torch2))
    return grad_torch2


grad_t = compute_gradients_torch(w_mle_sklearn, X_test, y_test)
assert np.allclose(grad_np, grad_t, atol=1e-5)
grad_t_nn = compute_gradients_torch_nn(w_mle_sklearn, X_test, y_test)
assert np.allclose(grad_np, grad_t_nn, atol=1e-5)

# Autograd on a DNN: sequential models
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
X = torch.rand(size=(2, 4))  # batch x Din, batch=2, Din=4
out = net(X)  # batch x Dout, Dout=1
print(out)

print(net)

for i in range(3):
    print(f"layer {i}")
    print(net[i].state_dict())

print(*[(name, param.shape) for name, param in net.named_parameters()])

print(type(net[2].bias))
print(net[2].bias)
print(net[2].bias.data)

print(net.state_dict()["2.bias"].data)

print(net[2].weight.grad == None)


# Nested models
def block1():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())


def block2():
    net = nn.Sequential()
    for i in range(4):
        # Nested here
        net.add_module(f"block {i}", block1())
    return net


rgnet = nn.Sequential(block2(), nn.Linear(4, 1))
print(rgnet(X))
print(rgnet)

print(rgnet[0][1][0].bias.data)

# set loss function to output squared
out = rgnet(X)
loss = torch.mean(out ** 2, dim=0)

# Backprop
loss.backward()
print(rgnet[0][1][0].bias.grad)

# Tied parameters
torch.manual_seed(0)
shared = nn.Linear(8, 8)
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(8, 1))
net(X)
# Check whether the parameters are the same
print(net[2].weight.data[0] == net[4].weight.data[0])
net[2].weight.data[0, 0] = 100
# Make sure that they are actually the same object rather than just having the
# same value
print(net[2].weight.data[0] == net[4].weight.data[0])

# gradient of a function that does not return a scalar
x = torch.tensor([-2, -1, 0, 1, 2], dtype=float, requires_grad=True)
print(x)
y = torch.pow(x, 2)
print(y)
y.backward(torch.ones_like(x))
print(x.grad)
