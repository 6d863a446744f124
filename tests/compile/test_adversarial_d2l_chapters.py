"""chainrule.compile against eager execution on "DIVE INTO DEEP LEARNING" CHAPTERS 3-8 (PyTorch edition)
as a reader copies them: linear regression from scratch (synthetic_data with torch.normal, data_iter
with random.shuffle of the indices, linreg, squared_loss, sgd under no_grad, a smaller last batch),
softmax regression from scratch (softmax, cross_entropy by fancy indexing, accuracy, Accumulator,
train_epoch_ch3 with its isinstance(updater, torch.optim.Optimizer) branches), the MLP from scratch
with relu as torch.max(X, a), dropout from scratch, weight decay (l2_penalty and per-group
weight_decay), init_weights via net.apply, LeNet, AlexNet/VGG/NiN blocks, GoogLeNet's Inception,
batch norm (from scratch and nn.BatchNorm2d), ResNet's Residual and DenseNet's blocks, and the
train_ch6 loop with evaluate_accuracy_gpu and X.to(device).

Each case is built from the same seeds eagerly and with its pieces compiled (the train step,
the net through torch.compile(net) / net.compile(), evaluate_accuracy); everything observable must
agree bit for bit. Cases marked ``replays`` must not fall back; the others may, with one warning per
compiled function at most, for a reason that is pinned.
"""
import random
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch  # the book's spelling
from chainrule import nn
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

real_torch = pytest.importorskip("torch")


# ----------------------------------------------------------------------------- the harness
def plain(value):
    if isinstance(value, chainrule.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if not callable(item)}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return value


def run(case, compiled):
    chainrule.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    made = []

    def compile_(thing, inplace=False):
        if not compiled:
            return thing
        if inplace:
            thing.compile()
            made.append(thing._compiled_call_impl)
            return thing
        made.append(torch.compile(thing))
        return made[-1]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = plain(case(compile_))
    result = (result, chainrule.default_generator.state_bytes(), random.random(), float(np.random.random()))
    return result, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)], made


def assert_same_as_eager(case, replays=True, falls_back_on=None):
    eager, eager_warnings, _ = run(case, compiled=False)
    assert not eager_warnings
    compiled, warned, made = run(case, compiled=True)
    assert made, "the case compiled nothing"
    assert_identical(compiled, eager, "compiled run")
    reasons = [function.eager_reason for function in made]
    if replays:
        assert warned == [], warned
        assert reasons == [None] * len(made), reasons
    else:
        assert len(warned) <= len(made), warned
        assert any(reason and falls_back_on in reason for reason in reasons), reasons
    return reasons


# ----------------------------------------------------------------------------- d2l's helpers
def try_gpu(i=0):
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


class Accumulator:
    """For accumulating sums over `n` variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def correct(y_hat, y):
    """accuracy without the float(): the count stays a tensor (what a compiled step can return)."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return cmp.type(y.dtype).sum()


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def evaluate_accuracy_gpu(net, data_iter, device=None):
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            if isinstance(X, list):
                X = [x.to(device) for x in X]
            else:
                X = X.to(device)
            y = y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def images(n_batches, batch, shape, classes, seed=0, last=None):
    generator = np.random.default_rng(seed)
    sizes = [batch] * n_batches + ([last] if last else [])
    return [(torch.tensor(generator.normal(size=(n,) + shape).astype(np.float32)), torch.tensor(generator.integers(0, classes, size=n))) for n in sizes]


def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:  # noqa: E721 (the book's spelling)
        nn.init.xavier_uniform_(m.weight)


# ----------------------------------------------------------------------------- 3.2 linear regression from scratch
def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def linear_regression_scratch(compile):
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 14)  # batches of 4, 4, 4, 2
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr, batch_size = 0.03, 4
    net, loss = linreg, squared_loss

    def train_batch(X, y):
        l = loss(net(X, w, b), y)
        l.sum().backward()
        sgd([w, b], lr, batch_size)
        return l

    def epoch_loss():
        with torch.no_grad():
            return loss(net(features, w, b), labels).mean()

    train_batch, epoch_loss = compile(train_batch), compile(epoch_loss)
    results = []
    for epoch in range(3):
        for X, y in data_iter(batch_size, features, labels):
            results.append(train_batch(X, y))
        train_l = epoch_loss()
        results.append((train_l, f"epoch {epoch + 1}, loss {float(train_l.mean()):f}"))
    return results, w, b, w.grad, b.grad, features, labels


def test_linear_regression_from_scratch_with_shuffled_indices_and_a_smaller_last_batch_replays():
    assert_same_as_eager(linear_regression_scratch)


def test_linear_regression_from_scratch_agrees_with_pytorch():
    """The same book code in real PyTorch from the same data and initial weights: the same values."""
    generator = np.random.default_rng(1)
    features = generator.normal(size=(14, 2)).astype(np.float32)
    labels = (features @ np.array([[2], [-3.4]], np.float32) + 4.2).astype(np.float32)
    w0 = generator.normal(scale=0.01, size=(2, 1)).astype(np.float32)
    order = [list(generator.permutation(14)) for _ in range(3)]

    def train(T, compiled):
        w = T.tensor(w0, requires_grad=True)
        b = T.zeros(1, requires_grad=True)
        F_, L_ = T.tensor(features), T.tensor(labels)

        def step(X, y):
            l = (T.matmul(X, w) + b - y.reshape((-1, 1))) ** 2 / 2
            l.sum().backward()
            with T.no_grad():
                for param in (w, b):
                    param -= 0.03 * param.grad / 4
                    param.grad.zero_()
            return l

        step = chainrule.compile(step) if compiled else step
        losses = []
        for indices in order:
            for i in range(0, 14, 4):
                idx = T.tensor(indices[i:i + 4])
                losses.append(step(F_[idx], L_[idx]).detach().numpy().copy())
        return losses, w.detach().numpy().copy(), b.detach().numpy().copy()

    ours = train(torch, True)
    assert_identical(ours, train(torch, False))
    theirs = train(real_torch, False)
    for mine, other in zip(ours[0] + [ours[1], ours[2]], theirs[0] + [theirs[1], theirs[2]]):
        np.testing.assert_allclose(mine, other, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- 4.4 softmax regression from scratch
def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def softmax_scratch(compile, whole_epoch):
    num_inputs, num_outputs = 12, 4
    W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
    b = torch.zeros(num_outputs, requires_grad=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def updater(batch_size):
        return sgd([W, b], 0.1, batch_size)

    train_iter = images(3, 4, (1, 3, 4), num_outputs, seed=0, last=3)
    test_iter = images(2, 5, (1, 3, 4), num_outputs, seed=1)
    results = []
    if whole_epoch:
        # the reader wraps the book's whole train_epoch_ch3 (float() of the loss inside it)
        train_epoch = compile(train_epoch_ch3)
        evaluate = compile(evaluate_accuracy)
        for epoch in range(3):
            results.append((train_epoch(net, train_iter, cross_entropy, updater), evaluate(net, test_iter)))
    else:
        # the replaying spelling: the step returns tensors, the float()s and the Accumulator stay outside

        def train_batch(X, y):
            y_hat = net(X)
            l = cross_entropy(y_hat, y)
            l.sum().backward()
            updater(X.shape[0])
            return l.sum(), correct(y_hat, y)

        def predict(X):
            with torch.no_grad():
                return correct(net(X), torch.zeros(X.shape[0], dtype=torch.int64)), net(X)

        train_batch, predict = compile(train_batch), compile(predict)
        for epoch in range(3):
            metric = Accumulator(3)
            for X, y in train_iter:
                l, acc = train_batch(X, y)
                metric.add(float(l), float(acc), y.numel())
            results.append((metric[0] / metric[2], metric[1] / metric[2], [predict(X) for X, _ in test_iter]))
    return results, W, b, W.grad, b.grad


def test_softmax_regression_from_scratch_train_epoch_ch3_compiled_whole_falls_back_on_float():
    # float(l.sum()) in train_epoch_ch3 and float(...) in accuracy: both compiled functions run eagerly
    assert_same_as_eager(lambda compile: softmax_scratch(compile, True), replays=False, falls_back_on="__float__")


def test_softmax_regression_from_scratch_with_the_floats_outside_replays():
    assert_same_as_eager(lambda compile: softmax_scratch(compile, False))


def softmax_concise(compile, inplace):
    """4.5: nn.Sequential(Flatten, Linear) with init_weights(normal_(std=0.01)) through net.apply,
    CrossEntropyLoss(reduction='none'), torch.optim.SGD: train_epoch_ch3's Optimizer branch with
    l.mean().backward(), the net compiled (torch.compile(net) or net.compile())."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 4))

    def init(m):
        if type(m) == nn.Linear:  # noqa: E721
            nn.init.normal_(m.weight, std=0.01)

    net.apply(init)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)
    net = compile(net, inplace=inplace)
    train_iter = images(3, 4, (1, 3, 4), 4, seed=0, last=2)
    test_iter = images(2, 5, (1, 3, 4), 4, seed=1)
    results = []
    for epoch in range(3):
        results.append((train_epoch_ch3(net, train_iter, loss, trainer), evaluate_accuracy(net, test_iter)))
    return results, getattr(net, '_orig_mod', net).state_dict(), [p.grad for p in net.parameters()], trainer.state_dict()


@pytest.mark.parametrize("inplace", [False, True], ids=["torch.compile(net)", "net.compile()"])
def test_softmax_regression_concise_with_the_net_compiled_replays(inplace):
    assert_same_as_eager(lambda compile: softmax_concise(compile, inplace))


# ----------------------------------------------------------------------------- 5.2 MLP from scratch, 5.6 dropout
def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def mlp_scratch(compile):
    num_inputs, num_outputs, num_hiddens = 12, 4, 8
    W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * 0.01)
    b1 = nn.Parameter(torch.zeros(num_hiddens))
    W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * 0.01)
    b2 = nn.Parameter(torch.zeros(num_outputs))
    params = [W1, b1, W2, b2]

    def net(X):
        X = X.reshape((-1, num_inputs))
        H = relu(X @ W1 + b1)
        return H @ W2 + b2

    loss = nn.CrossEntropyLoss(reduction="none")
    updater = torch.optim.SGD(params, lr=0.5)

    def train_batch(X, y):
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        return l.sum(), correct(y_hat, y), y_hat

    train_batch = compile(train_batch)
    results = []
    for epoch in range(2):
        for X, y in images(3, 4, (1, 3, 4), num_outputs, seed=epoch, last=1):
            results.append(train_batch(X, y))
    return results, params, [p.grad for p in params]


def test_mlp_from_scratch_relu_by_torch_max_replays():
    assert_same_as_eager(mlp_scratch)


def test_relu_by_torch_max_ties_gradient_matches_pytorch():
    """torch.max(X, zeros) at X == 0 splits the gradient half and half in PyTorch."""
    values = np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.0]], np.float32)
    grads = []
    for T in (torch, real_torch):
        X = T.tensor(values, requires_grad=True)
        (relu(X) * T.tensor([[1.0, 2.0, 3.0]])).sum().backward() if T is torch else (T.max(X, T.zeros_like(X)) * T.tensor([[1.0, 2.0, 3.0]])).sum().backward()
        grads.append(X.grad.numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1])

    def step(X):
        relu(X).sum().backward()
        return X.grad

    compiled = chainrule.compile(step)
    for scale in (1.0, -1.0, 0.0, 2.0):
        assert_identical(plain(compiled(torch.tensor(values * scale, requires_grad=True))), plain(step(torch.tensor(values * scale, requires_grad=True))))
    assert compiled.eager_reason is None


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


class DropoutNet(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2, is_training=True):
        super().__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.dropout1, self.dropout2 = dropout1, dropout2
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training == True:  # noqa: E712
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:  # noqa: E712
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)


def dropout_scratch_net_compiled(compile):
    """the net compiled, trained by train_epoch_ch3 with the Optimizer branch, evaluated in eval mode
    between epochs; the reader then changes the dropout rates (attributes read by forward)."""
    net = DropoutNet(12, 4, 8, 6, 0.2, 0.5)
    net.apply(init_weights)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    net = compile(net)
    train_iter = images(2, 4, (1, 3, 4), 4, seed=0, last=3)
    test_iter = images(1, 5, (1, 3, 4), 4, seed=1)
    results = []
    for epoch, rates in enumerate([(0.2, 0.5), (0.2, 0.5), (0.0, 1.0), (0.5, 0.0)]):
        net.dropout1, net.dropout2 = rates
        results.append((train_epoch_ch3(net, train_iter, loss, trainer), evaluate_accuracy(net, test_iter)))
        with torch.no_grad():
            results.append(net(test_iter[0][0]))
    return results, getattr(net, '_orig_mod', net).state_dict(), [p.grad for p in net.parameters()]


def test_dropout_from_scratch_net_compiled_with_rates_changed_replays():
    assert_same_as_eager(dropout_scratch_net_compiled)


# ----------------------------------------------------------------------------- 3.7 weight decay
def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def weight_decay_scratch(compile):
    n_train, num_inputs, batch_size = 10, 6, 4
    true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
    features, labels = synthetic_data(true_w.reshape(-1), true_b, n_train)
    w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    state = {"lambd": 0}

    def train_batch(X, y):
        l = squared_loss(linreg(X, w, b), y) + state["lambd"] * l2_penalty(w)
        l.sum().backward()
        sgd([w, b], 0.003, batch_size)
        return l

    train_batch = compile(train_batch)
    results = []
    for epoch, lambd in enumerate([0, 3, 3, 0.5, 0]):
        state["lambd"] = lambd  # the reader tries several lambdas with the same compiled step
        for X, y in data_iter(batch_size, features, labels):
            results.append(train_batch(X, y))
        results.append(float(torch.norm(w).item()))
    return results, w, b, w.grad, b.grad


def test_weight_decay_from_scratch_with_lambda_read_from_state_replays():
    assert_same_as_eager(weight_decay_scratch)


def weight_decay_concise(compile):
    """d2l's train_concise: SGD with a per-group weight_decay on net[0].weight only; the reader
    changes wd in param_groups between epochs, and re-initializes with param.data.normal_()."""
    num_inputs = 6
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    for param in net.parameters():
        param.data.normal_()
    loss = nn.MSELoss(reduction="none")
    trainer = torch.optim.SGD([{"params": net[0].weight, "weight_decay": 3}, {"params": net[0].bias}], lr=0.003)
    generator = np.random.default_rng(0)
    data = [(torch.tensor(generator.normal(size=(n, num_inputs)).astype(np.float32)), torch.tensor(generator.normal(size=(n, 1)).astype(np.float32))) for n in (4, 4, 2)]

    def train_batch(X, y):
        trainer.zero_grad()
        l = loss(net(X), y)
        l.mean().backward()
        trainer.step()
        return l

    train_batch = compile(train_batch)
    results = []
    for epoch, wd in enumerate([3, 3, 0, 10, 0.5]):
        trainer.param_groups[0]["weight_decay"] = wd
        if epoch == 3:
            for param in net.parameters():
                param.data.normal_()
        for X, y in data:
            results.append(train_batch(X, y))
        results.append(net[0].weight.norm().item())
    return results, getattr(net, '_orig_mod', net).state_dict(), [p.grad for p in net.parameters()], trainer.state_dict()


def test_weight_decay_concise_param_groups_changed_between_epochs_replays():
    assert_same_as_eager(weight_decay_concise)


# ----------------------------------------------------------------------------- 7.6 LeNet and train_ch6
def train_ch6_like(net, train_iter, test_iter, num_epochs, lr, device, compile, compile_step, compile_eval):
    """d2l's train_ch6 with net.apply(init_weights), net.to(device), the step (optionally) compiled,
    evaluate_accuracy_gpu (optionally) compiled; the animator replaced by a list."""
    net.apply(init_weights)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()

    def train_batch(X, y):
        optimizer.zero_grad()
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        return l * X.shape[0], correct(y_hat, y)

    evaluate = evaluate_accuracy_gpu
    if compile_step:
        train_batch = compile(train_batch)
    if compile_eval:
        evaluate = compile(evaluate_accuracy_gpu)
    history = []
    for epoch in range(num_epochs):
        metric = Accumulator(3)
        net.train()
        for X, y in train_iter:
            l, acc = train_batch(X, y)
            with torch.no_grad():
                metric.add(l, acc, X.shape[0])
        history.append((metric[0] / metric[2], metric[1] / metric[2], evaluate(net, test_iter)))
    return history, getattr(net, '_orig_mod', net).state_dict(), [p.grad for p in net.parameters()], optimizer.state_dict()


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 2, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(2, 3, kernel_size=3), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(3, 6), nn.Sigmoid(), nn.Linear(6, 4), nn.Sigmoid(), nn.Linear(4, 3))


def lenet_train_ch6(compile):
    train_iter = images(2, 4, (1, 8, 8), 3, seed=0, last=1)
    test_iter = images(1, 3, (1, 8, 8), 3, seed=1)
    return train_ch6_like(lenet(), train_iter, test_iter, 3, 0.9, try_gpu(), compile, True, False)


def test_lenet_train_ch6_step_compiled_replays():
    assert_same_as_eager(lenet_train_ch6)


def lenet_train_ch6_eval_compiled(compile):
    train_iter = images(2, 4, (1, 8, 8), 3, seed=0)
    test_iter = images(2, 3, (1, 8, 8), 3, seed=1)
    return train_ch6_like(lenet(), train_iter, test_iter, 3, 0.9, try_gpu(), compile, True, True)


def test_lenet_evaluate_accuracy_gpu_compiled_falls_back_on_float():
    # evaluate_accuracy_gpu float()s each batch's count inside: the compiled copy runs eagerly
    assert_same_as_eager(lenet_train_ch6_eval_compiled, replays=False, falls_back_on="float")


def test_lenet_forward_agrees_with_pytorch():
    torch.manual_seed(0)
    net = lenet()
    net.apply(init_weights)
    theirs = real_torch.nn.Sequential(
        real_torch.nn.Conv2d(1, 2, kernel_size=5, padding=2), real_torch.nn.Sigmoid(), real_torch.nn.AvgPool2d(kernel_size=2, stride=2),
        real_torch.nn.Conv2d(2, 3, kernel_size=3), real_torch.nn.Sigmoid(), real_torch.nn.AvgPool2d(kernel_size=2, stride=2),
        real_torch.nn.Flatten(), real_torch.nn.Linear(3, 6), real_torch.nn.Sigmoid(), real_torch.nn.Linear(6, 4), real_torch.nn.Sigmoid(), real_torch.nn.Linear(4, 3))
    theirs.load_state_dict({k: real_torch.tensor(v.numpy().copy()) for k, v in getattr(net, '_orig_mod', net).state_dict().items()})
    compiled = torch.compile(net)
    X, y = images(1, 4, (1, 8, 8), 3, seed=2)[0]
    for scale in (1.0, 2.0, -1.0):
        ours = compiled(X * scale)
        loss = F.cross_entropy(ours, y)
        loss.backward()
        other = theirs(real_torch.tensor(X.numpy() * scale))
        real_torch.nn.functional.cross_entropy(other, real_torch.tensor(y.numpy())).backward()
        np.testing.assert_allclose(ours.detach().numpy(), other.detach().numpy(), rtol=1e-5, atol=1e-6)
        for (name, p), q in zip(net.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


# ----------------------------------------------------------------------------- 8.1-8.3 AlexNet, VGG, NiN (tiny)
def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg(conv_arch):
    conv_blks = []
    in_channels = 1
    for (num_convs, out_channels) in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return nn.Sequential(*conv_blks, nn.Flatten(), nn.Linear(out_channels * 2 * 2, 8), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(8, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))


def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())


def nin():
    return nn.Sequential(
        nin_block(1, 4, kernel_size=3, strides=1, padding=1), nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        nin_block(4, 3, kernel_size=3, strides=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())


def alexnet():
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(4, 6, kernel_size=3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(6, 10), nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(10, 3))


@pytest.mark.parametrize("build", [alexnet, lambda: vgg(((1, 2), (2, 4))), nin], ids=["alexnet", "vgg", "nin"])
def test_classic_cnns_train_ch6_net_compiled_replays(build):
    def case(compile):
        net = compile(build(), inplace=True)
        train_iter = images(2, 4, (1, 8, 8), 3, seed=0, last=2)
        test_iter = images(1, 3, (1, 8, 8), 3, seed=1)
        return train_ch6_like(net, train_iter, test_iter, 2, 0.05, torch.device("cpu"), compile, False, False)

    assert_same_as_eager(case)


# ----------------------------------------------------------------------------- 8.4 GoogLeNet's Inception
class Inception(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):
        super(Inception, self).__init__(**kwargs)
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def googlenet():
    b1 = nn.Sequential(nn.Conv2d(1, 4, kernel_size=3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(Inception(4, 2, (2, 3), (1, 2), 2), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b3 = nn.Sequential(Inception(9, 3, (2, 3), (1, 1), 1), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
    return nn.Sequential(b1, b2, b3, nn.Linear(8, 3))


def test_googlenet_inception_train_ch6_step_compiled_replays():
    def case(compile):
        train_iter = images(2, 4, (1, 8, 8), 3, seed=0, last=3)
        test_iter = images(1, 3, (1, 8, 8), 3, seed=1)
        return train_ch6_like(googlenet(), train_iter, test_iter, 3, 0.1, try_gpu(), compile, True, False)

    assert_same_as_eager(case)


# ----------------------------------------------------------------------------- 8.5 batch norm
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.9)
        return Y


def bn_lenet(scratch):
    def bn(n, dims):
        return BatchNorm(n, num_dims=dims) if scratch else (nn.BatchNorm2d(n) if dims == 4 else nn.BatchNorm1d(n))

    return nn.Sequential(
        nn.Conv2d(1, 2, kernel_size=5), bn(2, 4), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(2 * 2 * 2, 5), bn(5, 2), nn.Sigmoid(), nn.Linear(5, 3))


@pytest.mark.parametrize("scratch", [True, False], ids=["from_scratch", "nn.BatchNorm2d"])
def test_batch_norm_lenet_net_compiled_train_then_eval_replays(scratch):
    """The net compiled (torch.compile(net)), trained by train_ch6 and evaluated under no_grad in
    eval mode each epoch; the moving statistics are part of what is compared."""

    def case(compile):
        net = compile(bn_lenet(scratch))
        train_iter = images(2, 4, (1, 8, 8), 3, seed=0, last=3)
        test_iter = images(1, 3, (1, 8, 8), 3, seed=1)
        result = train_ch6_like(net, train_iter, test_iter, 3, 0.9, try_gpu(), compile, False, False)
        moving = [(m.moving_mean, m.moving_var) for m in net.modules() if isinstance(m, BatchNorm)]
        with torch.no_grad():
            net.eval()
            held = net(test_iter[0][0])
        return result, moving, held

    assert_same_as_eager(case)


def test_batch_norm_from_scratch_eval_under_no_grad_in_train_mode():
    """d2l's batch_norm decides by torch.is_grad_enabled() alone: a no_grad call in train mode
    uses the moving statistics; the compiled net must follow grad mode, not train mode."""

    def case(compile):
        net = compile(bn_lenet(True))
        X, _ = images(1, 4, (1, 8, 8), 3, seed=3)[0]
        out = []
        for i in range(5):
            if i % 2:
                with torch.no_grad():
                    out.append(net(X * (i + 1)))
            else:
                out.append(net(X * (i + 1)))
                out[-1].sum().backward()
        return out, [(m.moving_mean, m.moving_var) for m in net.modules() if isinstance(m, BatchNorm)], [p.grad for p in net.parameters()]

    assert_same_as_eager(case)


# ----------------------------------------------------------------------------- 8.6 ResNet, 8.7 DenseNet
class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk


def resnet():
    b1 = nn.Sequential(nn.Conv2d(1, 3, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(*resnet_block(3, 3, 1, first_block=True))
    b3 = nn.Sequential(*resnet_block(3, 4, 1))
    return nn.Sequential(b1, b2, b3, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(4, 3))


def conv_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(), nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, input_channels, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels * i + input_channels, num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(), nn.Conv2d(input_channels, num_channels, kernel_size=1), nn.AvgPool2d(kernel_size=2, stride=2))


def densenet():
    b1 = nn.Sequential(nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
    return nn.Sequential(b1, DenseBlock(2, 4, 2), transition_block(8, 4), DenseBlock(1, 4, 2),
                         nn.BatchNorm2d(6), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(6, 3))


@pytest.mark.parametrize("build", [resnet, densenet], ids=["resnet", "densenet"])
@pytest.mark.parametrize("where", ["step", "net"])
def test_resnet_densenet_train_ch6_replays(build, where):
    def case(compile):
        net = build()
        if where == "net":
            net = compile(net, inplace=True)
        train_iter = images(2, 4, (1, 8, 8), 3, seed=0, last=3)
        test_iter = images(1, 3, (1, 8, 8), 3, seed=1)
        return train_ch6_like(net, train_iter, test_iter, 2, 0.05, try_gpu(), compile, where == "step", False), [b for b in net.buffers()]

    assert_same_as_eager(case)


def test_residual_block_agrees_with_pytorch():
    torch.manual_seed(0)
    ours = Residual(3, 4, use_1x1conv=True, strides=2)

    class TheirResidual(real_torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = real_torch.nn.Conv2d(3, 4, kernel_size=3, padding=1, stride=2)
            self.conv2 = real_torch.nn.Conv2d(4, 4, kernel_size=3, padding=1)
            self.conv3 = real_torch.nn.Conv2d(3, 4, kernel_size=1, stride=2)
            self.bn1 = real_torch.nn.BatchNorm2d(4)
            self.bn2 = real_torch.nn.BatchNorm2d(4)

        def forward(self, X):
            Y = real_torch.relu(self.bn1(self.conv1(X)))
            Y = self.bn2(self.conv2(Y))
            X = self.conv3(X)
            Y += X
            return real_torch.relu(Y)

    theirs = TheirResidual()
    theirs.load_state_dict({k: real_torch.tensor(v.numpy().copy()) for k, v in ours.state_dict().items()})
    compiled = torch.compile(ours)
    for i in range(3):
        X = images(1, 2, (3, 6, 6), 3, seed=10 + i)[0][0]
        mine = compiled(X)
        mine.sum().backward()
        other = theirs(real_torch.tensor(X.numpy()))
        other.sum().backward()
        np.testing.assert_allclose(mine.detach().numpy(), other.detach().numpy(), rtol=1e-4, atol=1e-5)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)
    for (name, b), q in zip(ours.named_buffers(), theirs.buffers()):
        np.testing.assert_allclose(b.numpy(), q.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


# ----------------------------------------------------------------------------- whole epochs compiled
def linreg_epoch(compile, shuffle_by):
    """The whole epoch compiled, the minibatches drawn inside it: d2l's data_iter (random.shuffle of a
    Python list, torch.tensor of its slices) or the randperm spelling of the later chapters."""
    features, labels = synthetic_data(torch.tensor([2, -3.4]), 4.2, 10)
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)

    def batches():
        if shuffle_by == "random.shuffle":
            yield from data_iter(4, features, labels)
        else:
            indices = torch.randperm(10)
            for i in range(0, 10, 4):
                yield features[indices[i:i + 4]], labels[indices[i:i + 4]]

    def epoch():
        for X, y in batches():
            l = squared_loss(linreg(X, w, b), y)
            l.sum().backward()
            sgd([w, b], 0.03, 4)
        with torch.no_grad():
            return squared_loss(linreg(features, w, b), labels).mean()

    epoch = compile(epoch)
    return [epoch() for _ in range(4)], w, b, w.grad, b.grad


def test_linreg_whole_epoch_with_data_iter_random_shuffle_falls_back():
    # the shuffled Python indices become a tensor outside any recorded operation
    assert_same_as_eager(lambda compile: linreg_epoch(compile, "random.shuffle"), replays=False, falls_back_on="computed outside a recorded operation")


def test_linreg_whole_epoch_with_randperm_batches_replays():
    assert_same_as_eager(lambda compile: linreg_epoch(compile, "randperm"))


def test_synthetic_data_compiled_draws_anew_each_call_replays():
    def case(compile):
        make = compile(synthetic_data)
        return [make(torch.tensor([2, -3.4 + i]), 4.2, 5 + (i % 2)) for i in range(5)]

    assert_same_as_eager(case)


def test_whole_training_with_net_apply_init_inside_then_eval_replays():
    def case(compile):
        net = lenet()
        opt = torch.optim.SGD(net.parameters(), lr=0.9)
        loss = nn.CrossEntropyLoss()

        def whole(train_iter):
            net.apply(init_weights)  # xavier_uniform_ draws in place under no_grad, inside the call
            for X, y in train_iter:
                opt.zero_grad()
                l = loss(net(X), y)
                l.backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                return [correct(net(X), y) for X, y in train_iter], l

        whole = compile(whole)
        out = []
        for i in range(4):
            net.train()
            out.append(whole(images(2, 4, (1, 8, 8), 3, seed=i)))
        return out, net.state_dict(), [p.grad for p in net.parameters()]

    assert_same_as_eager(case)


def test_net_apply_reinit_between_compiled_steps_replays():
    def case(compile):
        net = lenet()
        opt = torch.optim.SGD(net.parameters(), lr=0.9)
        loss = nn.CrossEntropyLoss()

        def step(X, y):
            opt.zero_grad()
            l = loss(net(X), y)
            l.backward()
            opt.step()
            return l

        step = compile(step)
        out = []
        for i, (X, y) in enumerate(images(5, 4, (1, 8, 8), 3)):
            if i in (0, 2, 3):
                net.apply(init_weights)
            out.append(step(X, y))
        return out, net.state_dict()

    assert_same_as_eager(case)


def test_evaluate_counting_tensors_compiled_with_weights_changed_replays():
    def case(compile):
        net = compile(googlenet(), inplace=True)
        net.apply(init_weights)
        test_iter = images(2, 3, (1, 8, 8), 3, seed=1, last=1)

        def evaluate(net, data_iter):
            net.eval()
            hits, n = 0, 0
            with torch.no_grad():
                for X, y in data_iter:
                    hits = hits + correct(net(X), y)
                    n += y.numel()
            return hits, n

        evaluate = compile(evaluate)
        out = []
        for i in range(4):
            with torch.no_grad():
                for p in net.parameters():
                    p.mul_(1.0 + 0.5 * i)
            out.append(evaluate(net, test_iter))
        return out

    assert_same_as_eager(case)


def test_batch_norm_from_scratch_under_inference_mode_and_set_grad_enabled_replays():
    def case(compile):
        net = compile(bn_lenet(True))
        X, _ = images(1, 4, (1, 8, 8), 3, seed=3)[0]
        out = []
        for i in range(6):
            if i % 3 == 1:
                with torch.inference_mode():
                    out.append(net(X * (i + 1)))
            elif i % 3 == 2:
                torch.set_grad_enabled(False)
                try:
                    out.append(net(X * (i + 1)))
                finally:
                    torch.set_grad_enabled(True)
            else:
                out.append(net(X * (i + 1)))
                out[-1].sum().backward()
        return out, [(m.moving_mean, m.moving_var) for m in net.modules() if isinstance(m, BatchNorm)], [p.grad for p in net.parameters()]

    assert_same_as_eager(case)


# ----------------------------------------------------------------------------- 6 builders' guide
class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.rand_weight = torch.rand((6, 6), requires_grad=False)
        self.linear = nn.Linear(6, 6)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(torch.mm(X, self.rand_weight) + 1)
        X = self.linear(X)
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()


class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)


def builders(compile, which):
    shared = nn.Linear(6, 6)
    net = {"FixedHiddenMLP": lambda: FixedHiddenMLP(),
           "MyLinear.data": lambda: nn.Sequential(MyLinear(6, 6), nn.Linear(6, 1)),
           "shared": lambda: nn.Sequential(nn.Linear(6, 6), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(6, 1))}[which]()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def step(X):
        opt.zero_grad()
        out = net(X)
        l = (out ** 2).mean()
        l.backward()
        opt.step()
        return out, l

    step = compile(step)
    out = []
    for i in range(5):
        X = torch.tensor(np.random.RandomState(i).rand(3, 6).astype(np.float32) * (i + 1))
        if which == "shared" and i == 2:
            net[2].weight.data[0, 0] = 100
        if which == "MyLinear.data" and i == 3:
            net[0].weight.data[:] = 0.5
        out.append(step(X))
        out.append([p.grad for p in net.parameters()])
    return out, net.state_dict()


def test_builders_guide_fixed_hidden_mlp_while_loop_falls_back():
    assert_same_as_eager(lambda compile: builders(compile, "FixedHiddenMLP"), replays=False, falls_back_on="__bool__")


@pytest.mark.parametrize("which", ["MyLinear.data", "shared"])
def test_builders_guide_data_reads_and_tied_weights_edited_between_calls_replay(which):
    assert_same_as_eager(lambda compile: builders(compile, which))


def test_softmax_from_scratch_overflowing_to_nan_replays():
    """The naive softmax (no max subtracted) overflows for large inputs: inf/inf = nan in y_hat, the
    loss and the weights after sgd; compiled must carry the same nans (payload and sign included)."""

    def case(compile):
        W = torch.normal(0, 0.01, size=(12, 4), requires_grad=True)
        b = torch.zeros(4, requires_grad=True)

        def net(X):
            return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

        def step(X, y):
            y_hat = net(X)
            l = cross_entropy(y_hat, y)
            l.sum().backward()
            sgd([W, b], 0.1, X.shape[0])
            return l, y_hat, correct(y_hat, y)

        step = compile(step)
        out = []
        for i, (X, y) in enumerate(images(5, 4, (1, 3, 4), 4)):
            out.append(step(X * [1, 1e3, 1e5, 1, 1][i], y))
            out.append((W, b))
        return out

    assert_same_as_eager(case)
