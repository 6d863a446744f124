# Source: Kevin Murphy, "Probabilistic Machine Learning: An Introduction" book code (pyprobml), chapter 14
# (CNNs) PyTorch notebooks, in this order: "Foundations of Convolutional neural nets" (corr2d, edge
# detection, convolution as a matrix, learning a kernel with nn.Conv2d, multi-channel in/out, 1x1
# convolution, pooling, nn.MaxPool2d), the transposed convolution notebook (trans_conv, nn.ConvTranspose2d
# with weight.data assigned, transposed matrix multiplication) and the batch norm vs layer norm notebook
# (nn.BatchNorm1d, nn.LayerNorm):
#   https://github.com/probml/pyprobml  notebooks/book1/14/conv2d_torch.ipynb
#   https://github.com/probml/pyprobml  notebooks/book1/14/transposed_conv_torch.ipynb
#   https://github.com/probml/pyprobml  notebooks/book1/14/layer_norm_torch.ipynb
# Shrunk: nothing; the notebooks' seed torch.manual_seed(hash("by removing stochasticity") % 2**32 - 1)
# depends on PYTHONHASHSEED, so a fixed seed is used; matplotlib, "!mkdir figures" and the CUDA seed left
# out. The displayed expressions (X, corr2d(X.t(), K)) are printed, and so are the commented-out Y2 and
# the final shapes; the asserts kept.
import numpy as np

np.random.seed(seed=1)
import math

import torch
from torch import nn
from torch.nn import functional as F

import warnings

warnings.filterwarnings("ignore")

# For reproducibility on different runs
torch.backends.cudnn.deterministic = True
torch.manual_seed(1234)


# Cross correlation
def corr2d(X, K):
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
print(corr2d(X, K))

# Edge detection
X = torch.ones((6, 8))
X[:, 2:6] = 0
print(X)

K = torch.tensor([[1.0, -1.0]])
Y = corr2d(X, K)
print(Y)

print(corr2d(X.t(), K))

# Convolution as matrix multiplication
K = torch.tensor([[1, 2], [3, 4]])

print(K)


def kernel2matrix(K):
    k, W = torch.zeros(5), torch.zeros((4, 9))
    k[:2], k[3:5] = K[0, :], K[1, :]
    W[0, :5], W[1, 1:6], W[2, 3:8], W[3, 4:] = k, k, k, k
    return W


W = kernel2matrix(K)
print(W)

X = torch.arange(9.0).reshape(3, 3)
Y = corr2d(X, K)
print(Y)

Y2 = torch.mv(W, X.reshape(-1)).reshape(2, 2)
assert np.allclose(Y, Y2)

# Optimizing the kernel parameters
# Construct a two-dimensional convolutional layer with 1 output channel and a
# kernel of shape (1, 2). For the sake of simplicity, we ignore the bias here
conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)

# Defining X and Y again.
X = torch.ones((6, 8))
X[:, 2:6] = 0

K = torch.tensor([[1.0, -1.0]])
Y = corr2d(X, K)

X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))

for i in range(10):
    Y_hat = conv2d(X)
    l = (Y_hat - Y) ** 2
    conv2d.zero_grad()
    l.sum().backward()
    # Update the kernel
    conv2d.weight.data[:] -= 3e-2 * conv2d.weight.grad
    if (i + 1) % 2 == 0:
        print(f"batch {i + 1}, loss {l.sum():.3f}")

print(conv2d.weight.data.reshape((1, 2)))


# Multiple input channels
def corr2d(X, K):
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = torch.sum((X[i : i + h, j : j + w] * K))
    return Y


def corr2d_multi_in(X, K):
    # First, iterate through the 0th dimension (channel dimension) of `X` and
    # `K`. Then, add them together
    return sum(corr2d(x, k) for x, k in zip(X, K))


X = torch.tensor(
    [[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]
)
K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])

print(X.shape)  # 2 channels, each 3x3
print(K.shape)  # 2 sets of 2x2 filters
out = corr2d_multi_in(X, K)
print(out.shape)
print(out)


# Multiple output channels
def corr2d_multi_in_out(X, K):
    # Iterate through the 0th dimension of `K`, and each time, perform
    # cross-correlation operations with input `X`. All of the results are
    # stacked together
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


K = torch.stack((K, K + 1, K + 2), 0)
print(K.shape)
out = corr2d_multi_in_out(X, K)
print(out.shape)
print(out)


# 1x1 convolution
# 1x1 conv is same as multiplying each feature column at each pixel
# by a fully connected matrix
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    Y = torch.matmul(K, X)  # Matrix multiplication in the fully-connected layer
    return Y.reshape((c_o, h, w))


X = torch.normal(0, 1, (3, 3, 3))  # 3 channels per pixel
K = torch.normal(0, 1, (2, 3, 1, 1))  # map from 3 channels to 2

Y1 = corr2d_multi_in_out_1x1(X, K)
Y2 = corr2d_multi_in_out(X, K)
print(Y2.shape)
print(Y1)
assert float(torch.abs(Y1 - Y2).sum()) < 1e-5


# Pooling
def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == "max":
                Y[i, j] = X[i : i + p_h, j : j + p_w].max()
            elif mode == "avg":
                Y[i, j] = X[i : i + p_h, j : j + p_w].mean()
    return Y


X = torch.arange(16, dtype=torch.float32).reshape((4, 4))
print(X)
print(X.shape)
print(pool2d(X, (3, 3), "max"))
print(pool2d(X, (2, 2), "avg"))

X = torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))
pool2d = nn.MaxPool2d(3, padding=0, stride=1)
print(pool2d(X))


# ---- transposed_conv_torch.ipynb (based on http://d2l.ai/chapter_computer-vision/transposed-conv.html)
def trans_conv(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] + h - 1, X.shape[1] + w - 1))
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            Y[i : i + h, j : j + w] += X[i, j] * K
    return Y


# Example from D2L fig 13.10.1
X = torch.tensor([[0.0, 1], [2, 3]])
K = torch.tensor([[0.0, 1], [2, 3]])
Y = trans_conv(X, K)
print(Y)

X, K = X.reshape(1, 1, 2, 2), K.reshape(1, 1, 2, 2)
tconv = nn.ConvTranspose2d(1, 1, kernel_size=2, bias=False)
tconv.weight.data = K
Y2 = tconv(X)
print(Y2)
assert torch.allclose(Y, Y2)

tconv = nn.ConvTranspose2d(1, 1, kernel_size=2, padding=1, bias=False)
tconv.weight.data = K
Y2 = tconv(X)
print("Y2", Y2)

# Transposed Matrix multiplication
K = torch.tensor([[1, 2], [3, 4]])


def kernel2matrix(K):
    k, W = torch.zeros(5), torch.zeros((4, 9))
    k[:2], k[3:5] = K[0, :], K[1, :]
    W[0, :5], W[1, 1:6], W[2, 3:8], W[3, 4:] = k, k, k, k
    return W


W = kernel2matrix(K)

X = torch.tensor([[0.0, 1], [2, 3]])
Y = trans_conv(X, K)
Y2 = torch.mv(W.T, X.reshape(-1)).reshape(3, 3)
print(Y)
assert torch.allclose(Y, Y2)

# Example from Geron fig 14.27
X = torch.ones((2, 3))
K = torch.ones(3, 3)
X, K = X.reshape(1, 1, 2, 3), K.reshape(1, 1, 3, 3)
tconv = nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, bias=False)
tconv.weight.data = K
Y2 = tconv(X)
print(Y2.shape)
print(Y2)

# ---- layer_norm_torch.ipynb
# batch size 3, feature size 2
X = np.array([[1, 2, 3], [4, 5, 6]])

print("batch norm")
mu_batch = np.mean(X, axis=0)
sigma_batch = np.std(X, axis=0)
XBN = (X - mu_batch) / sigma_batch
print(XBN)

print("layer norm")
mu_layer = np.expand_dims(np.mean(X, axis=1), axis=1)
sigma_layer = np.expand_dims(np.std(X, axis=1), axis=1)
XLN = (X - mu_layer) / sigma_layer
print(XLN)

X = torch.tensor(X, dtype=torch.float32)
N, D = X.shape

ln = nn.LayerNorm(D)
bn = nn.BatchNorm1d(D)

print("batch norm")
XBN_t = bn(X)
print(XBN_t)
assert np.allclose(XBN_t.detach().numpy(), XBN, atol=1e-3)

print("layer norm")
XLN_t = ln(X)
print(XLN_t)
assert np.allclose(XLN_t.detach().numpy(), XLN, atol=1e-3)
print(bn.running_mean, bn.running_var, bn.num_batches_tracked)
