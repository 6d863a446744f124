"""A recurrent workload: an LSTM reading a sequence, classified from its last step, as a course's
sequence classifier or character model trains it.

One step: LSTM(32, 128) over 50 steps of a batch of 32, Linear(128, 10) on the last output,
cross-entropy, backward, SGD, zero_grad. chainrule and PyTorch run the same code (``lib`` is
either), from the same weights; the NumPy version spells the LSTM and backpropagation through time
out by hand, as a course's from-scratch chapter does.
"""
import numpy as np

STEPS, BATCH, FEATURES, HIDDEN, CLASSES = 50, 32, 32, 128, 10


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((STEPS, BATCH, FEATURES)).astype(np.float32), rng.integers(0, CLASSES, BATCH)


def weights(seed=0):
    """weight_ih, weight_hh, bias_ih, bias_hh, head weight, head bias: PyTorch's default ranges."""
    rng = np.random.default_rng(seed)
    bound, head_bound = 1 / np.sqrt(HIDDEN), 1 / np.sqrt(HIDDEN)
    shapes = [(4 * HIDDEN, FEATURES), (4 * HIDDEN, HIDDEN), (4 * HIDDEN,), (4 * HIDDEN,)]
    arrays = [rng.uniform(-bound, bound, shape).astype(np.float32) for shape in shapes]
    return arrays + [rng.uniform(-head_bound, head_bound, shape).astype(np.float32) for shape in ((CLASSES, HIDDEN), (CLASSES,))]


def library_step(lib, arrays, X, y, lr=0.1):
    """A closure running one training step in ``lib``; returns (step, losses so far)."""
    lstm, head = lib.nn.LSTM(FEATURES, HIDDEN), lib.nn.Linear(HIDDEN, CLASSES)
    with lib.no_grad():
        for parameter, array in zip([*lstm.parameters(), *head.parameters()], arrays):
            parameter.copy_(lib.tensor(array))
    optimizer = lib.optim.SGD([*lstm.parameters(), *head.parameters()], lr=lr)
    inputs, targets = lib.tensor(X), lib.tensor(y)
    losses = []

    def step():
        output, _ = lstm(inputs)
        loss = lib.nn.functional.cross_entropy(head(output[-1]), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())

    return step, losses


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_step(arrays, X, y, lr=0.1):
    """The same step with every derivative written by hand."""
    params = [array.copy() for array in arrays]
    losses = []

    def step():
        weight_ih, weight_hh, bias_ih, bias_hh, head_weight, head_bias = params
        h, c = np.zeros((BATCH, HIDDEN), np.float32), np.zeros((BATCH, HIDDEN), np.float32)
        input_parts = (X.reshape(-1, FEATURES) @ weight_ih.T + bias_ih).reshape(STEPS, BATCH, -1)
        kept = []
        for t in range(STEPS):
            gates = input_parts[t] + h @ weight_hh.T + bias_hh
            i, f, o = sigmoid(gates[:, :HIDDEN]), sigmoid(gates[:, HIDDEN : 2 * HIDDEN]), sigmoid(gates[:, 3 * HIDDEN :])
            g = np.tanh(gates[:, 2 * HIDDEN : 3 * HIDDEN])
            kept.append((i, f, g, o, h, c))
            c = f * c + i * g
            h = o * np.tanh(c)
            kept[-1] += (np.tanh(c),)
        scores = h @ head_weight.T + head_bias
        shifted = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        losses.append(float(np.mean(np.log(total[:, 0]) - shifted[np.arange(BATCH), y])))
        grad_scores = exp / total
        grad_scores[np.arange(BATCH), y] -= 1
        grad_scores /= BATCH
        grads_head = [grad_scores.T @ h, grad_scores.sum(axis=0)]
        grad_h, grad_c = grad_scores @ head_weight, np.zeros_like(c)
        grad_gates = np.empty_like(input_parts)
        for t in range(STEPS - 1, -1, -1):
            i, f, g, o, h_before, c_before, tanh_c = kept[t]
            grad_c = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
            grad_gates[t] = np.concatenate([grad_c * g * i * (1 - i), grad_c * c_before * f * (1 - f), grad_c * i * (1 - g * g), grad_h * tanh_c * o * (1 - o)], axis=1)
            grad_c = grad_c * f
            grad_h = grad_gates[t] @ weight_hh
        flat = grad_gates.reshape(-1, 4 * HIDDEN)
        hidden_before = np.stack([record[4] for record in kept]).reshape(-1, HIDDEN)
        bias_grad = flat.sum(axis=0)
        grads = [flat.T @ X.reshape(-1, FEATURES), flat.T @ hidden_before, bias_grad, bias_grad, *grads_head]
        for param, grad in zip(params, grads):
            param -= lr * grad

    return step, losses
