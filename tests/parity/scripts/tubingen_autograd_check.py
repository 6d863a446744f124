# Source: University of Tübingen, Deep Learning (winter 2025/26): assignment 11 "autograd.py / train.py" (a
# NumPy reverse-mode autodiff with Neg, Sqrt, ReduceMean, Add, Mul, MatMul, ReLU, Sigmoid nodes, used to train a
# 2-layer classifier with an MSE loss) and assignment 8 "Implementing backpropagation with NumPy (1/2)" (a
# tanh/softmax network on XOR-like data, gradients derived by hand, per-sample SGD), as a student solved them:
#   https://github.com/ahmetalperengungor/Tubingen_University_Homeworks
#   Deep_Learning_Winter25/HW11/autograd.py, HW11/train.py, HW8/backprop_1.ipynb
# Shrunk: the course's own hand-written gradients are kept and each is checked against torch.autograd on the
# same graph (float64 tensors, retain_grad, torch.autograd.grad, F.mse_loss, F.cross_entropy with one-hot
# probability targets); 24 training / 12 test points of the assignment's CSV inlined; 200 steps instead of
# 10000, 20 hidden units instead of 100; XOR trained 5 epochs instead of 1000 with per-sample prints every
# epoch only; graphviz drawing and matplotlib plots left out.
import numpy as np
import torch
import torch.nn.functional as F


# ---------------------------------------------------------------- HW11 autograd.py (NumPy)
class Tensor:
    all_tensors = []

    def __init__(self, data, inputs=()):
        """ data: value of this tensor, inputs: list of input tensors """
        self.id = len(self.all_tensors)
        self.data = data
        self.inputs = inputs
        self.grad = np.zeros_like(data)
        self.all_tensors.append(self)

        self.forward_usages = 0
        self.backward_usages = 0
        for input_ in self.inputs:
            input_.forward_usages += 1

    def prev(self) -> list:
        return self.inputs

    def print(self):
        print('%d)' % self.id, self.__class__.__name__)
        print('data\n', self.data)
        print('grad\n', self.grad)
        print('inputs', [p.id for p in self.prev()])

    @classmethod
    def reset_tensors(cls):
        cls.all_tensors = []

    def backward(self, start=True):
        """ Recursively back-propagate gradients """
        if start:
            self.grad.fill(1.0)
        self.backward_usages += 1
        if start or self.backward_usages == self.forward_usages:
            self._assign_grads()
            for input_ in self.inputs:
                input_.backward(start=False)

    def _assign_grads(self):
        raise NotImplementedError


class Variable(Tensor):
    def __init__(self, name, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._name = name

    def _assign_grads(self):
        pass


class Neg(Tensor):
    def __init__(self, a: Tensor):
        super().__init__(-a.data, [a])
        self.a = a

    def _assign_grads(self):
        self.a.grad -= self.grad


class Sqrt(Tensor):
    def __init__(self, a: Tensor):
        super().__init__(np.sqrt(a.data), [a])
        self.a = a

    def _assign_grads(self):
        self.a.grad += self.grad / (2 * np.sqrt(self.a.data))


class ReduceMean(Tensor):
    def __init__(self, a: Tensor):
        super().__init__(np.mean(a.data), [a])
        self.a = a

    def _assign_grads(self):
        self.a.grad += self.grad / self.a.data.size


class Add(Tensor):
    def __init__(self, *tensors: [Tensor]):
        super().__init__(sum([v.data for v in tensors]), tensors)

    def _assign_grads(self):
        for tensor in self.inputs:
            tensor.grad += self.grad


class Mul(Tensor):
    def __init__(self, a: Tensor, b: Tensor):
        super().__init__(a.data * b.data, [a, b])
        self.a = a
        self.b = b

    def _assign_grads(self):
        self.a.grad += self.grad * self.b.data
        self.b.grad += self.grad * self.a.data


class MatMul(Tensor):
    def __init__(self, a: Tensor, b: Tensor):
        super().__init__(np.matmul(a.data, b.data), [a, b])
        self.a = a
        self.b = b

    def _assign_grads(self):
        self.a.grad += np.matmul(self.grad, self.b.data.T)
        self.b.grad += np.matmul(self.a.data.T, self.grad)


class ReLU(Tensor):
    def __init__(self, a: Tensor):
        super().__init__((a.data > 0) * a.data, [a])
        self.a = a

    def _assign_grads(self):
        self.a.grad += self.grad * (self.a.data > 0)


class Sigmoid(Tensor):
    def __init__(self, a: Tensor):
        super().__init__(1 / (1 + np.exp(-a.data)), [a])
        self.a = a

    def _assign_grads(self):
        self.a.grad += self.grad * self.data * (1 - self.data)


def mse(a: Tensor, b: Tensor) -> Tensor:
    diff = Add(a, Neg(b))
    sq = Mul(diff, diff)
    return ReduceMean(sq)


# HW11 main(): the example graph sqrt(-A), NumPy autograd ...
A = np.array([[-5.0, -2.0, -1.0], [-5.0, -1.0, -3.0]])
v0 = Variable('A', A.copy())
vx = Sqrt(Neg(v0))
vx.backward()
for v_ in Tensor.all_tensors:
    print('-' * 50)
    v_.print()
Tensor.reset_tensors()

# ... and the same graph with torch.autograd (backward of a non-scalar needs its gradient)
a = torch.tensor(A, requires_grad=True)
neg = -a
neg.retain_grad()
out = torch.sqrt(neg)
print(out, out.grad_fn.__class__.__name__, neg.grad_fn.__class__.__name__)
out.backward(torch.ones_like(out))
print('torch grad of A\n', a.grad)
print('torch grad of -A\n', neg.grad)
print('agree:', np.allclose(a.grad.numpy(), v0.grad), a.is_leaf, neg.is_leaf, out.requires_grad)

# a node used twice (Mul(diff, diff)) counts its usages before passing gradients on
p, t = Variable('p', np.array([[0.2], [0.9], [0.4]])), Variable('t', np.array([[0.0], [1.0], [1.0]]))
loss = mse(p, t)
loss.backward()
print('numpy mse', loss.data, 'grad', p.grad.ravel(), 'grad t', t.grad.ravel())
Tensor.reset_tensors()
pt = torch.tensor([[0.2], [0.9], [0.4]], dtype=torch.float64, requires_grad=True)
tt = torch.tensor([[0.0], [1.0], [1.0]], dtype=torch.float64, requires_grad=True)
diff = pt - tt
loss_t = (diff * diff).mean()
gp, gt = torch.autograd.grad(loss_t, [pt, tt])
print('torch mse', loss_t, 'grad', gp.view(-1), 'grad t', gt.flatten())
print('F.mse_loss', F.mse_loss(pt, tt), F.mse_loss(pt, tt, reduction='sum').item())

# ---------------------------------------------------------------- HW11 train.py
data_train = np.array([
    [2.4, 4.7, 1], [4.4, 7.4, 1], [7.3, 6.5, 1], [0.3, 8.1, 0], [1.1, 8.0, 0], [0.6, 0.9, 0], [8.5, 1.7, 0],
    [6.0, 5.1, 1], [3.7, 0.8, 0], [3.9, 8.6, 0], [8.9, 9.4, 0], [8.1, 2.4, 0], [6.7, 2.5, 0], [0.3, 2.8, 0],
    [1.9, 6.1, 0], [1.5, 1.7, 0], [7.7, 7.0, 0], [7.2, 3.3, 1], [0.2, 0.2, 0], [5.0, 1.7, 0], [0.5, 8.1, 0],
    [1.7, 1.0, 0], [2.4, 7.6, 0], [5.5, 7.8, 1]])
data_test = np.array([
    [8.3, 3.3, 0], [7.3, 4.4, 1], [0.8, 8.3, 0], [2.6, 2.1, 0], [2.6, 4.6, 1], [4.3, 0.3, 0], [8.4, 7.3, 0],
    [1.7, 1.7, 0], [0.9, 7.9, 0], [6.8, 4.2, 1], [9.8, 6.3, 0], [5.6, 5.8, 1]])


def load_data(xy):
    """the data as a matrix for X and a vector for y"""
    return xy[:, 0:2], xy[:, 2]


def forward(weights, inputs):
    all_vars, vx = [], Variable('x', inputs)
    for i, w in enumerate(weights):
        w2 = Variable('W%d' % i, w)
        all_vars.append(w2)
        if i > 0:
            vx = ReLU(vx)
        vx = MatMul(vx, w2)
    vx = Sigmoid(vx)
    return all_vars, vx


def apply_grads(weights, all_vars, outputs, targets, lr):
    loss = mse(outputs, Variable('targets', targets))
    loss.backward()
    for w, v in zip(weights, all_vars):
        w -= lr * v.grad
    return loss.data


def forward_torch(weights, inputs):
    x = torch.from_numpy(inputs)
    for i, w in enumerate(weights):
        if i > 0:
            x = torch.relu(x)
        x = x @ w
    return torch.sigmoid(x)


def accuracy(inputs, targets, weights_trained):
    _, result = forward(weights_trained, inputs)
    return np.mean((result.data >= 0.5) == targets)


train_inputs, train_targets = load_data(data_train)
test_inputs, test_targets = load_data(data_test)
train_targets = np.expand_dims(train_targets, -1)
test_targets = np.expand_dims(test_targets, -1)

# extend the input data in order to add a bias term to the dot product with theta
train_inputs = np.column_stack([np.ones(len(train_targets)), train_inputs])
test_inputs = np.column_stack([np.ones(len(test_targets)), test_inputs])
print('-' * 100, '\ninputs\n', train_inputs[:5])
print('-' * 100, '\ntargets\n', train_targets[:5].T, '\n', '-' * 100)

weights = []
num_neurons = [len(train_inputs[0, :]), 20, 1]
for n0, n1 in zip(num_neurons[:-1], num_neurons[1:]):
    weights.append(np.random.randn(n0, n1) * 0.1)
# the same starting weights as torch leaves
weights_torch = [torch.tensor(w, requires_grad=True) for w in weights]
targets_torch = torch.from_numpy(train_targets)

lr = 0.5
for step in range(200):
    all_vars, outputs = forward(weights, train_inputs)
    loss_np = apply_grads(weights, all_vars, outputs, train_targets, lr)
    Tensor.reset_tensors()

    out_t = forward_torch(weights_torch, train_inputs)
    loss_t = F.mse_loss(out_t, targets_torch)
    loss_t.backward()
    with torch.no_grad():
        for w in weights_torch:
            w -= lr * w.grad
            w.grad.zero_()
    if step % 40 == 0 or step == 199:
        print(f"step {step:3d}  numpy loss {loss_np:.6f}  torch loss {loss_t.item():.6f}  "
              f"max |W0 - W0_torch| {np.abs(weights[0] - weights_torch[0].detach().numpy()).max():.2e}")

print("Weights (first 6 of each):\n  %s" % '\n  '.join(['%s' % w.reshape(-1)[:6] for w in weights]))
print("torch W1[:6]:", weights_torch[1].detach().view(-1)[:6])
print("Train accuracy: %.2f" % accuracy(train_inputs, train_targets, weights))
print("Test accuracy: %.2f" % accuracy(test_inputs, test_targets, weights))
with torch.no_grad():
    pred = forward_torch(weights_torch, test_inputs)
    print("torch test accuracy:", ((pred >= 0.5).double() == torch.from_numpy(test_targets)).double().mean())
    print("torch test outputs:", pred.squeeze(1))

# ---------------------------------------------------------------- HW8 backprop_1 (by hand vs autograd)
X = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], dtype=float)
y_real = np.array([[0, 1], [1, 0], [0, 1], [1, 0]])


def tanh(x):
    return np.tanh(x)


def softmax_crossentropy(a, y: np.ndarray):
    an = (a.T - np.amax(a, axis=-1)).T
    return np.log(np.sum(np.exp(an), axis=-1)) - an[np.where(y == 1)]


def softmax(a):
    an = (a.T - np.amax(a, axis=-1)).T
    expa = np.exp(an)
    return (expa.T / np.sum(expa, axis=-1)).T


def grad_softmax_crossentropy(a, y):
    return softmax(a) - y


learning_rate = 1
epochs = 5
W1 = np.array(np.random.normal(size=(2, 3)), dtype=float)
b1 = np.zeros((1, 3), dtype=float)
W2 = np.array(np.random.normal(size=(3, 2)), dtype=float)
b2 = np.zeros((1, 2), dtype=float)


def forward_xor(x):
    u1 = x @ W1 + b1
    z = tanh(u1)
    u2 = z @ W2 + b2
    return softmax(u2)


print(50 * "+")
print("Before training:")
print("Prediction:", forward_xor(X))
print(50 * "+")

worst = 0.0
for epoch in range(epochs):
    for sample_number in range(X.shape[0]):
        X_batch = np.array([X[sample_number]], dtype=float)
        y_batch = np.array([y_real[sample_number]])

        # forward pass
        u1 = X_batch @ W1 + b1
        z = tanh(u1)
        u2 = z @ W2 + b2
        loss = softmax_crossentropy(u2, y_batch)

        # gradients by hand
        dLdu2 = grad_softmax_crossentropy(u2, y_batch)
        delta2 = dLdu2
        dLdW2 = z.T @ delta2
        dLdb2 = delta2
        delta1 = dLdu2 @ W2.T * (1 - z ** 2)
        dLdW1 = X_batch.T @ delta1
        dLdb1 = delta1

        # the same gradients from torch.autograd
        params = [torch.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
        tW1, tb1, tW2, tb2 = params
        logits = torch.tanh(torch.from_numpy(X_batch) @ tW1 + tb1) @ tW2 + tb2
        loss_t = F.cross_entropy(logits, torch.from_numpy(y_batch).double())
        loss_t.backward()
        for p, g in zip(params, (dLdW1, dLdb1, dLdW2, dLdb2)):
            worst = max(worst, np.abs(p.grad.numpy() - g).max())
        if epoch == epochs - 1:
            print(f"sample {sample_number}: hand loss {loss}, torch loss {loss_t}")
            print("  dL/dW1 by hand:\n", dLdW1)
            print("  dL/dW1 autograd:", tW1.grad)
            print("  dL/db2 autograd:", tb2.grad, F.softmax(logits, dim=1).detach())

        assert W1.shape == dLdW1.shape and b1.shape == dLdb1.shape
        assert W2.shape == dLdW2.shape and b2.shape == dLdb2.shape
        W1 -= learning_rate * dLdW1
        b1 -= learning_rate * dLdb1
        W2 -= learning_rate * dLdW2
        b2 -= learning_rate * dLdb2

    print(f"epoch {epoch}: loss {softmax_crossentropy(tanh(X @ W1 + b1) @ W2 + b2, y_real)}")

print("largest |hand - autograd| gradient difference: %.1e" % worst)
print(50 * "+")
print("After training:")
print("Final prediction: ", forward_xor(X))
print(50 * "+")
print("Final prediction: ", forward_xor(X).round(0))
print(50 * "+")
