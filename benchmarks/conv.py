"""Convolutional workloads: a LeNet-5 training step and one Conv2d layer's forward and backward.

As in ``mlp.py``, chainrule and PyTorch run the same code (``lib`` is either), from the same
weights; the NumPy version spells the network out by hand, as a course would: im2col through
``sliding_window_view`` and a matrix product forward; backward with the weight gradient as a
matrix product and the input gradient as col2im (one strided addition per kernel position).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# LeNet-5 on 1x28x28: conv5 (6) - relu - maxpool2 - conv5 (16) - relu - maxpool2 - 120 - 84 - 10
LENET_CONVS = [(6, 1, 5), (16, 6, 5)]
LENET_LINEARS = [(120, 16 * 4 * 4), (84, 120), (10, 84)]


def uniform_weights(shapes, seed=0):
    """(weight, bias) pairs in PyTorch's default range U(-1/sqrt(fan_in), 1/sqrt(fan_in)), float32."""
    rng = np.random.default_rng(seed)
    layers = []
    for shape in shapes:
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        layers.append((rng.uniform(-bound, bound, shape).astype(np.float32), rng.uniform(-bound, bound, shape[0]).astype(np.float32)))
    return layers


def lenet_weights():
    convs = uniform_weights([(out, inp, k, k) for out, inp, k in LENET_CONVS])
    return convs + uniform_weights(LENET_LINEARS, seed=1)


def lenet_data(batch=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, batch)


def build_lenet(lib, weights):
    nn = lib.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )
    layers = [module for module in model if hasattr(module, "weight")]
    with lib.no_grad():
        for layer, (weight, bias) in zip(layers, weights):
            layer.weight.copy_(lib.tensor(weight))
            layer.bias.copy_(lib.tensor(bias))
    return model


def library_lenet_step(lib, weights, X, y, lr=0.01, compiled=False):
    """A closure running one LeNet-5 training step in ``lib``; ``compiled``: its tensor work is
    ``chainrule.compile``d. Returns (step, losses so far)."""
    model = build_lenet(lib, weights)
    optimizer = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    inputs, targets = lib.tensor(X), lib.tensor(y)
    losses = []

    def tensor_step(inputs, targets):
        loss = lib.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    run = lib.compile(tensor_step) if compiled else tensor_step

    def step():
        losses.append(run(inputs, targets).item())

    return step, losses


# ----------------------------------------------------------------------------- NumPy by hand
def im2col(x, k):
    """(N, C, H, W) -> (N·Ho·Wo, C·k·k): every k x k window as a row (valid padding, stride 1)."""
    windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, Ho, Wo, k, k)
    n, c, ho, wo = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k), (n, ho, wo)


def col2im(columns, shape, k):
    """The adjoint of im2col: rows (N·Ho·Wo, C·k·k) summed back into (N, C, H, W)."""
    n, c, h, w = shape
    ho, wo = h - k + 1, w - k + 1
    patches = columns.reshape(n, ho, wo, c, k, k)
    out = np.zeros(shape, dtype=columns.dtype)
    for p in range(k):
        for q in range(k):
            out[:, :, p : p + ho, q : q + wo] += patches[:, :, :, :, p, q].transpose(0, 3, 1, 2)
    return out


def conv_forward(x, weight, bias):
    k = weight.shape[-1]
    columns, (n, ho, wo) = im2col(x, k)
    out = columns @ weight.reshape(weight.shape[0], -1).T + bias
    return out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2), columns


def conv_backward(grad, x_shape, columns, weight, need_input=True):
    """Gradients of weight, bias and (if needed) input from the output gradient (N, O, Ho, Wo)."""
    rows = grad.transpose(0, 2, 3, 1).reshape(-1, weight.shape[0])
    grad_weight = (rows.T @ columns).reshape(weight.shape)
    grad_bias = rows.sum(0)
    grad_input = col2im(rows @ weight.reshape(weight.shape[0], -1), x_shape, weight.shape[-1]) if need_input else None
    return grad_input, grad_weight, grad_bias


def pool_forward(x):
    n, c, h, w = x.shape
    tiles = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = tiles.max(axis=(3, 5))
    mask = tiles == out[:, :, :, None, :, None]
    return out, mask


def pool_backward(grad, mask):
    spread = mask * grad[:, :, :, None, :, None]
    return spread.reshape(mask.shape[0], mask.shape[1], mask.shape[2] * 2, mask.shape[4] * 2)


class NumpyLeNet:
    def __init__(self, weights, lr=0.01):
        self.params = [array.copy() for layer in weights for array in layer]
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.lr = lr

    def step(self, X, y):
        p = self.params
        a1, cols1 = conv_forward(X, p[0], p[1])
        r1 = np.maximum(a1, 0)
        m1, mask1 = pool_forward(r1)
        a2, cols2 = conv_forward(m1, p[2], p[3])
        r2 = np.maximum(a2, 0)
        m2, mask2 = pool_forward(r2)
        flat = m2.reshape(len(X), -1)
        h1 = np.maximum(flat @ p[4].T + p[5], 0)
        h2 = np.maximum(h1 @ p[6].T + p[7], 0)
        scores = h2 @ p[8].T + p[9]
        shifted = scores - scores.max(1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(1, keepdims=True)
        n = len(X)
        loss = float(np.mean(np.log(total[:, 0]) - shifted[np.arange(n), y]))
        grad = exp / total
        grad[np.arange(n), y] -= 1
        grad /= n
        grads = [None] * 10
        grads[8], grads[9] = grad.T @ h2, grad.sum(0)
        grad = (grad @ p[8]) * (h2 > 0)
        grads[6], grads[7] = grad.T @ h1, grad.sum(0)
        grad = (grad @ p[6]) * (h1 > 0)
        grads[4], grads[5] = grad.T @ flat, grad.sum(0)
        grad = (grad @ p[4]).reshape(m2.shape)
        grad = pool_backward(grad, mask2) * (a2 > 0)
        grad, grads[2], grads[3] = conv_backward(grad, m1.shape, cols2, p[2])
        grad = pool_backward(grad, mask1) * (a1 > 0)
        _, grads[0], grads[1] = conv_backward(grad, X.shape, cols1, p[0], need_input=False)
        for param, gradient, velocity in zip(p, grads, self.velocity):
            velocity *= 0.9
            velocity += gradient
            param -= self.lr * velocity
        return loss


def numpy_lenet_step(weights, X, y, lr=0.01):
    model = NumpyLeNet(weights, lr)
    losses = []

    def step():
        losses.append(model.step(X, y))

    return step, losses


# ----------------------------------------------------------------------------- one Conv2d layer
def layer_data(seed=0):
    """x (32, 64, 32, 32), Conv2d(64, 64, 3, padding=1) weights, and the output weights of the loss."""
    rng = np.random.default_rng(seed)
    (weight, bias), = uniform_weights([(64, 64, 3, 3)])
    x = rng.standard_normal((32, 64, 32, 32)).astype(np.float32)
    return x, weight, bias


def library_layer(lib, x, weight, bias):
    """forward + backward of the layer, loss = mean(out²) / 2; returns (run, losses)."""
    layer = lib.nn.Conv2d(64, 64, 3, padding=1)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(weight))
        layer.bias.copy_(lib.tensor(bias))
    inputs = lib.tensor(x, requires_grad=True)
    losses = []

    def run():
        out = layer(inputs)
        loss = (out * out).mean() / 2
        loss.backward()
        losses.append(loss.item())
        layer.zero_grad()
        inputs.grad = None

    return run, losses


def numpy_layer(x, weight, bias):
    losses = []
    padded_shape = (x.shape[0], x.shape[1], x.shape[2] + 2, x.shape[3] + 2)

    def run():
        padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        out, columns = conv_forward(padded, weight, bias)
        losses.append(float((out * out).mean() / 2))
        grad = out / out.size
        grad_padded, _, _ = conv_backward(grad, padded_shape, columns, weight)
        return grad_padded[:, :, 1:-1, 1:-1]

    return run, losses
