"""Training steps of multi-layer perceptrons: the work our users do on laptops.

One step is forward + loss + backward + optimizer step + zero_grad. The chainrule and PyTorch
versions are the same code (``lib`` is ``chainrule`` or ``torch``): course code written for PyTorch
runs with only the import changed. The NumPy version spells forward and backward out by hand: the
floor for any NumPy-based library.
"""
import numpy as np


def initial_weights(sizes, seed=0):
    """Weights and biases (PyTorch's default uniform range) as float32 arrays, shared by all three."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        bias = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        layers.append((weight, bias))
    return layers


def build_model(lib, weights, activation):
    modules = []
    for index, (weight, bias) in enumerate(weights):
        linear = lib.nn.Linear(weight.shape[1], weight.shape[0])
        with lib.no_grad():
            linear.weight.copy_(lib.tensor(weight))
            linear.bias.copy_(lib.tensor(bias))
        modules.append(linear)
        if index < len(weights) - 1:
            modules.append(activation(lib))
    return lib.nn.Sequential(*modules)


def make_optimizer(lib, model, name, lr):
    if name == "sgd":
        return lib.optim.SGD(model.parameters(), lr=lr)
    if name == "momentum":
        return lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return lib.optim.Adam(model.parameters(), lr=lr)


def library_step(lib, weights, X, y, loss_name, optimizer_name, activation, lr, compiled=False):
    """A closure running one training step in ``lib``; returns (step, losses so far).

    ``compiled``: the step's tensor work is ``chainrule.compile``d (the loss is read outside it).
    """
    model = build_model(lib, weights, activation)
    optimizer = make_optimizer(lib, model, optimizer_name, lr)
    inputs = lib.tensor(X)
    targets = lib.tensor(y)
    losses = []

    def tensor_step(inputs, targets):
        scores = model(inputs)
        if loss_name == "cross_entropy":
            loss = lib.nn.functional.cross_entropy(scores, targets)
        else:  # micrograd's max-margin loss with L2 regularization
            data_loss = lib.nn.functional.relu(1 - targets * scores.squeeze(1)).mean()
            loss = data_loss + 1e-4 * sum((p * p).sum() for p in model.parameters())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    run = lib.compile(tensor_step) if compiled else tensor_step

    def step():
        losses.append(run(inputs, targets).item())

    return step, losses


class NumpyMLP:
    """The same network and optimizer with every derivative written by hand (no graph at all)."""

    def __init__(self, weights, activation_name, optimizer_name, lr):
        self.params = [array.copy() for layer in weights for array in layer]
        self.activation_name = activation_name
        self.optimizer_name = optimizer_name
        self.lr = lr
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.second = [np.zeros_like(p) for p in self.params]
        self.steps = 0

    def activation(self, z):
        return np.maximum(z, 0) if self.activation_name == "relu" else np.tanh(z)

    def activation_grad(self, a):
        return (a > 0).astype(a.dtype) if self.activation_name == "relu" else 1 - a * a

    def loss_and_grads(self, X, y, loss_name):
        activations = [X]
        for index in range(0, len(self.params), 2):
            z = activations[-1] @ self.params[index].T + self.params[index + 1]
            activations.append(self.activation(z) if index + 2 < len(self.params) else z)
        scores = activations[-1]
        n = X.shape[0]
        if loss_name == "cross_entropy":
            shifted = scores - scores.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=1, keepdims=True)
            loss = float(np.mean(np.log(total[:, 0]) - shifted[np.arange(n), y]))
            grad = exp / total
            grad[np.arange(n), y] -= 1
            grad /= n
        else:
            margins = 1 - y * scores[:, 0]
            active = margins > 0
            loss = float(np.mean(np.maximum(margins, 0))) + 1e-4 * sum(float((p * p).sum()) for p in self.params)
            grad = (-(y * active) / n)[:, None].astype(np.float32)
        grads = [None] * len(self.params)
        for index in range(len(self.params) - 2, -1, -2):
            grads[index] = grad.T @ activations[index // 2]
            grads[index + 1] = grad.sum(axis=0)
            if index:
                grad = (grad @ self.params[index]) * self.activation_grad(activations[index // 2])
        if loss_name != "cross_entropy":
            grads = [g + 2e-4 * p for g, p in zip(grads, self.params)]
        return loss, grads

    def step(self, X, y, loss_name):
        loss, grads = self.loss_and_grads(X, y, loss_name)
        self.steps += 1
        for p, g, v, s in zip(self.params, grads, self.velocity, self.second):
            if self.optimizer_name == "sgd":
                p -= self.lr * g
            elif self.optimizer_name == "momentum":
                v *= 0.9
                v += g
                p -= self.lr * v
            else:
                v *= 0.9
                v += 0.1 * g
                s *= 0.999
                s += 0.001 * g * g
                v_hat = v / (1 - 0.9**self.steps)
                s_hat = s / (1 - 0.999**self.steps)
                p -= self.lr * v_hat / (np.sqrt(s_hat) + 1e-8)
        return loss


def numpy_step(weights, X, y, loss_name, optimizer_name, activation_name, lr):
    model = NumpyMLP(weights, activation_name, optimizer_name, lr)
    losses = []

    def step():
        losses.append(model.step(X, y, loss_name))

    return step, losses
