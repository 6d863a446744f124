"""chainrule.compile on PyTorch's official tutorials, written as a learner copies them with
``import chainrule as torch``: "Learning PyTorch with Examples" (manual gradients, autograd with
in-place updates under no_grad, LegendrePolynomial3, nn.Sequential with Flatten(0, 1), RMSprop,
DynamicNet drawing from Python's random), "Quickstart" (train and test loops with .item()),
"What is torch.nn really" (Mnist_Logistic, Lambda, loss_batch, fit, WrappedDataLoader), the
torch.compile tutorial (decorated functions, graph breaks, reset, new shapes, mode=/backend=) and
"Optimizing model parameters" (zero_grad order variants), with compile applied the ways the
torch.compile tutorial shows.

Each test runs the script from the same seeds eagerly and compiled,
for several calls whose data, learning rates and batch sizes change, and compares bit for bit what
the calls return, the parameters, gradients, optimizer state, printed lines and where the random
streams stand after. A fall-back (at most one warning) is allowed, a different result never.
"""
import math
import random
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch  # the tutorials' spelling
from chainrule import nn, optim
from chainrule.utils.data import DataLoader, TensorDataset
from tests.compile.bitwise import assert_identical


def plain(value):
    if isinstance(value, torch.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    return value


class Eager:
    """Stands in for compile in the eager runs: every form the torch.compile tutorial uses."""
    compiled = False

    def __call__(self, model=None, **options):
        if model is None:
            return lambda function: function
        return model

    def module(self, model):
        return model


class Compiled:
    compiled = True

    def __call__(self, model=None, **options):
        return torch.compile(model, **options) if model is not None else torch.compile(**options)

    def module(self, model):
        model.compile()
        return model


def run(case, compiled):
    torch._dynamo.reset()
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        observed = plain(case(Compiled() if compiled else Eager()))
    streams = [plain(torch.rand(3)), np.random.rand(3), random.random()]
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    others = [str(w.message) for w in caught if not str(w.message).startswith("chainrule.compile")]
    return {"observed": observed, "streams": streams, "warnings": others}, fallbacks


def assert_same_as_eager(case, compiled_functions=1):
    eager, eager_fallbacks = run(case, False)
    assert not eager_fallbacks
    compiled, fallbacks = run(case, True)
    assert len(fallbacks) <= compiled_functions, fallbacks
    assert_identical(compiled, eager, "compiled against eager")
    return eager["observed"]


def grads(model):
    return [None if p.grad is None else p.grad for p in model.parameters()]


# ============================================================================ Learning PyTorch with Examples
def tensors_manual_gradients(compile):
    """The "Tensors" section: y = a + b x + c x^2 + d x^3 with gradients written by hand; the
    learning rate is a module-level name the learner edits between calls, t decides a print."""
    printed = []
    settings = {"learning_rate": 1e-6}
    a, b, c, d = (torch.randn((), dtype=torch.float) for _ in range(4))
    state = {"a": a, "b": b, "c": c, "d": d}

    @compile()
    def step(t, x, y):
        a, b, c, d = state["a"], state["b"], state["c"], state["d"]
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 2 == 1:
            printed.append((t, loss))
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        learning_rate = settings["learning_rate"]
        state["a"] = a - learning_rate * grad_a
        state["b"] = b - learning_rate * grad_b
        state["c"] = c - learning_rate * grad_c
        state["d"] = d - learning_rate * grad_d
        return loss

    losses = []
    for t in range(6):
        x = torch.linspace(-math.pi, math.pi, 50 + 10 * (t % 3), dtype=torch.float)
        y = torch.sin(x + 0.1 * t)
        settings["learning_rate"] = (1e-6, 3e-6, 2e-6)[t % 3]
        losses.append(step(t, x, y))
    return losses, printed, state


def test_tensors_with_manual_gradients_and_a_changing_learning_rate():
    assert_same_as_eager(tensors_manual_gradients)


def autograd_in_place(compile, learning_rate_of):
    """The "Autograd" section: requires_grad tensors, loss.backward(), `a -= learning_rate *
    a.grad` under no_grad and `a.grad = None`, compiled as a whole train step."""
    x = torch.linspace(-math.pi, math.pi, 40, dtype=torch.float)
    y = torch.sin(x)
    a = torch.randn((), dtype=torch.float, requires_grad=True)
    b = torch.randn((), dtype=torch.float, requires_grad=True)
    c = torch.randn((), dtype=torch.float, requires_grad=True)
    d = torch.randn((), dtype=torch.float, requires_grad=True)
    printed = []

    def train_step(t, learning_rate):
        nonlocal a, b, c, d
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            printed.append((t, loss.item()))
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
        return loss

    train_step = compile(train_step)
    losses = [train_step(t, learning_rate_of(t)) for t in (97, 98, 99, 100, 199, 200)]
    return losses, printed, [a, b, c, d], [a.grad, b.grad, c.grad, d.grad]


@pytest.mark.parametrize("learning_rate_of", [lambda t: 1e-6, lambda t: 1e-6 * (1 + t % 3), lambda t: torch.tensor(1e-6 * (1 + t % 2))],
                         ids=["constant", "python_float_changes", "tensor_changes"])
def test_autograd_tutorial_with_in_place_updates_and_grad_none(learning_rate_of):
    observed = assert_same_as_eager(lambda compile: autograd_in_place(compile, learning_rate_of))
    assert [t for t, _ in observed[1]] == [99, 199]


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def legendre(module, compile):
    """"Defining new autograd functions": P3 = LegendrePolynomial3.apply inside the loop, the
    initial values of the tutorial (b = -1, d = 0.3), x resampled between calls."""
    dtype = module.float
    a = module.full((), 0.0, dtype=dtype, requires_grad=True)
    b = module.full((), -1.0, dtype=dtype, requires_grad=True)
    c = module.full((), 0.0, dtype=dtype, requires_grad=True)
    d = module.full((), 0.3, dtype=dtype, requires_grad=True)

    def step(x, y, learning_rate):
        nonlocal a, b, c, d
        P3 = Legendre.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with module.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
        return loss

    Legendre = LegendrePolynomial3 if module is torch else real_legendre()
    step = compile(step)
    losses = []
    for t in range(5):
        x = module.linspace(-math.pi, math.pi, 30 + 5 * (t % 2), dtype=dtype)
        y = module.sin(x) * (1 + 0.1 * t)
        losses.append(step(x, y, (5e-6, 4e-6)[t % 2]))
    return losses, [a, b, c, d]


def real_legendre():
    import torch as real_torch

    class Real(real_torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return Real


def test_legendre_polynomial3_with_resampled_inputs_and_pytorch_values():
    observed = assert_same_as_eager(lambda compile: legendre(torch, compile))
    import torch as real_torch
    losses, params = legendre(real_torch, lambda f: f)
    np.testing.assert_allclose(observed[0], [loss.item() for loss in losses], rtol=1e-5)
    np.testing.assert_allclose(observed[1], [p.item() for p in params], rtol=1e-5, atol=1e-7)


def sequential_polynomial(module, compile, optimizer_name):
    """"nn module" and "optim" sections: Sequential(Linear(3, 1), Flatten(0, 1)) on
    x.unsqueeze(-1).pow(p), MSELoss(reduction='sum'), RMSprop whose lr the learner changes."""
    nn_, optim_ = module.nn, module.optim
    model = nn_.Sequential(nn_.Linear(3, 1), nn_.Flatten(0, 1))
    with module.no_grad():
        model[0].weight.copy_(module.tensor([[0.1, -0.2, 0.05]]))
        model[0].bias.fill_(0.3)
    loss_fn = nn_.MSELoss(reduction="sum")
    if optimizer_name == "RMSprop":
        optimizer = optim_.RMSprop(model.parameters(), lr=1e-3)
    else:
        optimizer = None
    p = module.tensor([1, 2, 3])

    def step(x, y, learning_rate):
        xx = x.unsqueeze(-1).pow(p)
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        else:
            model.zero_grad()
            loss.backward()
            with module.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad
        return loss

    step = compile(step)
    losses = []
    for t in range(6):
        if optimizer is not None:
            for group in optimizer.param_groups:
                group["lr"] = (1e-3, 2e-3, 5e-4)[t % 3]
        x = module.linspace(-math.pi, math.pi, 20 + 4 * (t % 2))
        losses.append(step(x, module.sin(x), (1e-5, 2e-5)[t % 2]))
    linear = model[0]
    opt_state = [] if optimizer is None else [optimizer.state[q]["square_avg"] for q in model.parameters()]
    return losses, [linear.weight, linear.bias], [linear.weight.grad, linear.bias.grad], opt_state


@pytest.mark.parametrize("optimizer_name", ["RMSprop", "manual"])
def test_sequential_polynomial_with_flatten_and_pytorch_values(optimizer_name):
    observed = assert_same_as_eager(lambda compile: sequential_polynomial(torch, compile, optimizer_name))
    import torch as real_torch
    expected = plain_real(sequential_polynomial(real_torch, lambda f: f, optimizer_name))
    for ours, theirs in zip(observed, expected):
        for mine, other in zip(ours, theirs):
            np.testing.assert_allclose(mine, other, rtol=2e-5, atol=1e-6)


def plain_real(value):
    if hasattr(value, "detach"):
        return value.detach().numpy().copy()
    if isinstance(value, (list, tuple)):
        return type(value)(plain_real(item) for item in value)
    return value


class DynamicNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(()))
        self.b = nn.Parameter(torch.randn(()))
        self.c = nn.Parameter(torch.randn(()))
        self.d = nn.Parameter(torch.randn(()))
        self.e = nn.Parameter(torch.randn(()))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y


def dynamic_net(compile, how):
    """"Control flow + weight sharing": the forward draws random.randint(4, 6) from Python's
    random to choose how many times e is reused; SGD with momentum, as in the tutorial."""
    x = torch.linspace(-math.pi, math.pi, 30)
    y = torch.sin(x)
    model = DynamicNet()
    criterion = nn.MSELoss(reduction="sum")
    optimizer = optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    if how == "torch.compile(model)":
        forward = compile(model)
    elif how == "model.compile()":
        forward = compile.module(model)
    else:
        forward = model

    def step(t):
        y_pred = forward(x)
        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss, loss.item()

    if how == "train step":
        step = compile(step)
    results = [step(t) for t in range(6)]
    return results, dict(model.named_parameters()), grads(model), [optimizer.state[p]["momentum_buffer"] for p in model.parameters()]


@pytest.mark.parametrize("how", ["torch.compile(model)", "model.compile()", "train step"])
def test_dynamic_net_drawing_python_random_in_forward(how):
    assert_same_as_eager(lambda compile: dynamic_net(compile, how))


# ============================================================================ Quickstart
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(4 * 4, 12), nn.ReLU(), nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 5))

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def quickstart(compile, how):
    """Quickstart's train(dataloader, ...) and test(dataloader, ...): loss.item(), a print every
    few batches, correct += (pred.argmax(1) == y).type(torch.float).sum().item()."""
    generator = np.random.default_rng(3)
    X = torch.tensor(generator.normal(size=(26, 1, 4, 4)).astype(np.float32))
    Y = torch.tensor(generator.integers(0, 5, size=26))
    model = original = NeuralNetwork()
    if how == "model.compile()":
        compile.module(model)
    elif how == "torch.compile(model)":
        model = compile(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=1e-1)
    printed = []

    def train_batch(batch, X, y):
        model.train()
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 2 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            printed.append(f"loss: {loss:>7f}  [{current:>5d}]")
        return loss

    def test_batch(X, y):
        model.eval()
        with torch.no_grad():
            pred = model(X)
            test_loss = loss_fn(pred, y).item()
            correct = (pred.argmax(1) == y).type(torch.float).sum().item()
        return test_loss, correct

    if how == "functions":
        train_batch, test_batch = compile(train_batch), compile(test_batch)
    history = []
    for epoch, batch_size in enumerate((8, 6, 8)):
        for group in optimizer.param_groups:
            group["lr"] = 0.1 / (epoch + 1)
        train = DataLoader(TensorDataset(X[:20], Y[:20]), batch_size=batch_size)
        for batch, (xb, yb) in enumerate(train):
            history.append(train_batch(batch, xb, yb))
        test_loss, correct = 0, 0
        test = DataLoader(TensorDataset(X[20:], Y[20:]), batch_size=4)
        for xb, yb in test:
            loss, right = test_batch(xb, yb)
            test_loss += loss
            correct += right
        test_loss /= len(test)
        correct /= len(test.dataset)
        printed.append(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
        history.append((test_loss, correct))
    return history, printed, original.state_dict(), grads(original)


@pytest.mark.parametrize("how", ["functions", "model.compile()", "torch.compile(model)"])
def test_quickstart_train_and_test_loops(how):
    assert_same_as_eager(lambda compile: quickstart(compile, how), compiled_functions=2 if how == "functions" else 1)


# ============================================================================ What is torch.nn really
class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(16, 4)

    def forward(self, xb):
        return self.lin(xb)


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


class WrappedDataLoader:
    def __init__(self, dl, func):
        self.dl = dl
        self.func = func

    def __len__(self):
        return len(self.dl)

    def __iter__(self):
        for b in self.dl:
            yield (self.func(*b))


def preprocess(x, y):
    return x.view(-1, 1, 4, 4), y


def nn_really(compile, architecture, how):
    """get_model / loss_batch / fit: loss_batch returns loss.item(), len(xb) and steps only when
    opt is given; validation under no_grad with model.eval(); the last batch is smaller."""
    generator = np.random.default_rng(5)
    x_train = torch.tensor(generator.normal(size=(22, 16)).astype(np.float32))
    y_train = torch.tensor(generator.integers(0, 4, size=22))
    x_valid = torch.tensor(generator.normal(size=(9, 16)).astype(np.float32))
    y_valid = torch.tensor(generator.integers(0, 4, size=9))
    if architecture == "logistic":
        model = Mnist_Logistic()
        train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=5, shuffle=True)
        valid_dl = DataLoader(TensorDataset(x_valid, y_valid), batch_size=4)
    else:
        model = nn.Sequential(
            Lambda(lambda x: x.view(-1, 1, 4, 4)),
            nn.Conv2d(1, 3, kernel_size=3, stride=1, padding=1), nn.ReLU(),
            nn.Conv2d(3, 4, kernel_size=3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), Lambda(lambda x: x.view(x.size(0), -1)))
        train_dl = WrappedDataLoader(DataLoader(TensorDataset(x_train, y_train), batch_size=5, shuffle=True), preprocess)
        valid_dl = WrappedDataLoader(DataLoader(TensorDataset(x_valid, y_valid), batch_size=4), preprocess)
    original = model
    if how == "torch.compile(model)":
        model = compile(model)
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9 if architecture == "cnn" else 0)
    loss_func = nn.functional.cross_entropy

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    if how == "loss_batch":
        loss_batch = compile(loss_batch)
    printed = []

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
        for epoch in range(epochs):
            model.train()
            for xb, yb in train_dl:
                loss_batch(model, loss_func, xb, yb, opt)
            model.eval()
            with torch.no_grad():
                losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
            val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
            printed.append((epoch, float(val_loss)))
            opt.param_groups[0]["lr"] *= 0.5

    fit(3, model, loss_func, opt, train_dl, valid_dl)
    return printed, original.state_dict(), grads(original)


@pytest.mark.parametrize("architecture", ["logistic", "cnn"])
@pytest.mark.parametrize("how", ["loss_batch", "torch.compile(model)"])
def test_nn_really_fit_with_loss_batch(architecture, how):
    assert_same_as_eager(lambda compile: nn_really(compile, architecture, how))


# ============================================================================ torch.compile tutorial
def compile_tutorial_foo(compile):
    """`def foo(x, y): a = torch.sin(x); b = torch.cos(y); return a + b`, compiled by call and
    by decorator with mode= and backend= keywords, called with new shapes and after reset()."""
    def foo(x, y):
        a = torch.sin(x)
        b = torch.cos(y)
        return a + b

    opt_foo1 = compile(foo)

    @compile(mode="reduce-overhead")
    def opt_foo2(x, y):
        a = torch.sin(x)
        b = torch.cos(y)
        return a + b

    opt_foo3 = compile(foo, backend="eager", mode="max-autotune")
    results = []
    for shape in ((10, 10), (10, 10), (3, 7), (10, 10), (5,), (3, 7)):
        x, y = torch.randn(*shape), torch.randn(*shape)
        results.append([opt_foo1(x, y), opt_foo2(x, y), opt_foo3(x, y)])
        if shape == (5,):
            torch._dynamo.reset()
        if shape == (3, 7):
            torch.compiler.reset()
    return results


def test_compile_tutorial_foo_with_new_shapes_modes_and_resets():
    assert_same_as_eager(compile_tutorial_foo)


class MyModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(10, 10)

    def forward(self, x):
        return nn.functional.relu(self.lin(x))


def compile_tutorial_module(compile, how):
    mod = MyModule()
    if how == "torch.compile(mod)":
        opt_mod = compile(mod)
    else:
        opt_mod = compile.module(mod)
    optimizer = optim.Adam(mod.parameters(), lr=1e-2)
    results = []
    for t in range(5):
        x = torch.randn(1 + t % 3, 10)
        out = opt_mod(x)
        out.sum().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=(t % 2 == 0))
        results.append(out)
    return results, mod.state_dict(), grads(mod)


@pytest.mark.parametrize("how", ["torch.compile(mod)", "mod.compile()"])
def test_compile_tutorial_my_module_trained_with_changing_batch(how):
    assert_same_as_eager(lambda compile: compile_tutorial_module(compile, how))


def compile_tutorial_graph_break(compile):
    """The tutorial's graph break: `if b.sum() < 0: b = b * -1`, with signs that flip."""
    @compile()
    def bar(a, b):
        x = a / (torch.abs(a) + 1)
        if b.sum() < 0:
            b = b * -1
        return x * b

    results = []
    for t in range(6):
        a = torch.randn(4) + t
        b = torch.randn(4) + (2.0 if t % 3 == 0 else -2.0)
        results.append(bar(a, b))
    return results


def test_compile_tutorial_graph_break_on_a_sign():
    assert_same_as_eager(compile_tutorial_graph_break)


def compile_tutorial_graph_break_training(compile):
    """A train step with the tutorial's data-dependent branch on a loss-derived tensor and a
    scalar pulled out by .item() deciding the step."""
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.05)

    @compile(fullgraph=False)
    def step(x, y):
        optimizer.zero_grad()
        out = model(x).squeeze(-1)
        b = out - y
        if b.sum() < 0:
            b = b * -1
        loss = b.mean()
        loss.backward()
        if loss.item() > 0.5:
            optimizer.step()
        return loss, b

    results = []
    for t in range(6):
        x = torch.randn(3 + t % 2, 4)
        y = torch.randn(3 + t % 2) * (t - 2)
        results.append(step(x, y))
    return results, model.state_dict(), grads(model)


def test_compile_tutorial_graph_break_inside_a_train_step():
    assert_same_as_eager(compile_tutorial_graph_break_training)


# ============================================================================ Optimizing model parameters
def optimization_loop(compile, order):
    """"Optimization loop": loss_fn = nn.CrossEntropyLoss(), optimizer = SGD; the three calls in
    the tutorial's order and the variants learners write."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 8), nn.ReLU(), nn.Linear(8, 3))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=1e-1, momentum=0.5, weight_decay=1e-3)

    def train_step(X, y):
        if order == "zero_grad first":
            optimizer.zero_grad()
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        if order == "zero_grad last":
            optimizer.zero_grad()
        elif order == "model.zero_grad(set_to_none=False)":
            model.zero_grad(set_to_none=False)
        return loss.item()

    train_step = compile(train_step)
    generator = np.random.default_rng(9)
    losses = []
    for t, batch_size in enumerate((4, 4, 3, 4, 2)):
        optimizer.param_groups[0]["lr"] = 0.1 * (0.7 ** t)
        X = torch.tensor(generator.normal(size=(batch_size, 3, 3)).astype(np.float32))
        y = torch.tensor(generator.integers(0, 3, size=batch_size))
        losses.append(train_step(X, y))
    return losses, model.state_dict(), grads(model), [optimizer.state[p]["momentum_buffer"] for p in model.parameters()]


@pytest.mark.parametrize("order", ["zero_grad first", "zero_grad last", "model.zero_grad(set_to_none=False)", "never"])
def test_optimization_loop_zero_grad_orders(order):
    assert_same_as_eager(lambda compile: optimization_loop(compile, order))


# ============================================================================ the same scripts, written so that they replay
learning_rate = 1e-6  # a module-level name, as in the tutorials' scripts; tests rebind it


def autograd_replaying(compile, reset_grad):
    """The "Autograd" loop with the print moved out of the step (so nothing is read into Python):
    the learning rate is the script's global, rebound between calls."""
    global learning_rate
    x = torch.linspace(-math.pi, math.pi, 40, dtype=torch.float)
    y = torch.sin(x)
    a, b, c, d = (torch.randn((), dtype=torch.float, requires_grad=True) for _ in range(4))

    def train_step(x, y):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for t in (a, b, c, d):
                t -= learning_rate * t.grad
                if reset_grad == "none":
                    t.grad = None
                elif reset_grad == "zero_":
                    t.grad.zero_()
        return loss

    train_step = compile(train_step)
    losses = []
    for t in range(6):
        learning_rate = (1e-6, 2e-6, 1e-6, 3e-7)[t % 4]
        losses.append(train_step(x * (1 - 0.01 * t), y))
    learning_rate = 1e-6
    return losses, [a, b, c, d], [t.grad for t in (a, b, c, d)]


@pytest.mark.parametrize("reset_grad", ["none", "zero_", "accumulate"])
def test_autograd_tutorial_with_the_scripts_global_learning_rate(reset_grad):
    assert_same_as_eager(lambda compile: autograd_replaying(compile, reset_grad))


def manual_gradients_replaying(compile):
    """The "Tensors" section with a, b, c, d passed in and returned (a functional step)."""
    @compile()
    def step(a, b, c, d, x, y, learning_rate):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        grad_y_pred = 2.0 * (y_pred - y)
        grads = [grad_y_pred.sum(), (grad_y_pred * x).sum(), (grad_y_pred * x ** 2).sum(), (grad_y_pred * x ** 3).sum()]
        return loss, [p - learning_rate * g for p, g in zip((a, b, c, d), grads)]

    params = [torch.randn((), dtype=torch.float) for _ in range(4)]
    losses = []
    for t in range(6):
        x = torch.linspace(-math.pi, math.pi, 30 + 3 * (t % 2), dtype=torch.float)
        loss, params = step(*params, x, torch.sin(x), (1e-6, 2e-6, 5e-7)[t % 3])
        losses.append(loss)
    return losses, params


def test_tensors_with_manual_gradients_as_a_functional_step():
    assert_same_as_eager(manual_gradients_replaying)


def nn_really_manual_module(compile):
    """"Refactor using nn.Module": Mnist_Logistic with Parameters, `for p in model.parameters():
    p -= p.grad * lr` and model.zero_grad(), accuracy(out, yb); lr is the script's global."""
    global learning_rate
    generator = np.random.default_rng(6)
    x_train = torch.tensor(generator.normal(size=(17, 16)).astype(np.float32))
    y_train = torch.tensor(generator.integers(0, 4, size=17))

    class Logistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(16, 4) / math.sqrt(16))
            self.bias = nn.Parameter(torch.zeros(4))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    model = Logistic()
    loss_func = nn.functional.cross_entropy

    def accuracy(out, yb):
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    def fit_batch(xb, yb):
        pred = model(xb)
        loss = loss_func(pred, yb)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= p.grad * learning_rate
            model.zero_grad()
        return loss, accuracy(pred, yb)

    fit_batch = compile(fit_batch)
    results = []
    bs = 5
    for epoch in range(2):
        learning_rate = 0.5 / (epoch + 1)
        for i in range((17 - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            results.append(fit_batch(x_train[start_i:end_i], y_train[start_i:end_i]))
    learning_rate = 1e-6
    return results, model.state_dict(), grads(model)


def test_nn_really_refactored_module_with_global_learning_rate():
    assert_same_as_eager(nn_really_manual_module)


def nn_really_loss_batch_returning_tensors(compile):
    """loss_batch returning the loss tensor and len(xb): the same compiled function called with and
    without opt, in train mode and under no_grad in eval mode, with a WrappedDataLoader."""
    generator = np.random.default_rng(7)
    x_train = torch.tensor(generator.normal(size=(13, 16)).astype(np.float32))
    y_train = torch.tensor(generator.integers(0, 4, size=13))
    x_valid = torch.tensor(generator.normal(size=(7, 16)).astype(np.float32))
    y_valid = torch.tensor(generator.integers(0, 4, size=7))
    model = nn.Sequential(Lambda(lambda x: x.view(-1, 1, 4, 4)), nn.Conv2d(1, 2, kernel_size=3, padding=1), nn.ReLU(),
                          nn.BatchNorm2d(2), nn.Dropout(0.3), nn.AdaptiveAvgPool2d(1), Lambda(lambda x: x.view(x.size(0), -1)),
                          nn.Linear(2, 4))
    opt = optim.SGD(model.parameters(), lr=0.3, momentum=0.9)

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss, len(xb)

    loss_batch = compile(loss_batch)
    train_dl = WrappedDataLoader(DataLoader(TensorDataset(x_train, y_train), batch_size=4, shuffle=True), lambda x, y: (x * 2, y))
    valid_dl = WrappedDataLoader(DataLoader(TensorDataset(x_valid, y_valid), batch_size=3), lambda x, y: (x * 2, y))
    history = []
    for epoch in range(3):
        model.train()
        for xb, yb in train_dl:
            loss, n = loss_batch(model, nn.functional.cross_entropy, xb, yb, opt)
            history.append((loss.item(), n))
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, nn.functional.cross_entropy, xb, yb) for xb, yb in valid_dl])
        history.append((list(losses), nums, float(np.sum(np.multiply([l.item() for l in losses], nums)) / np.sum(nums))))
        opt.param_groups[0]["lr"] *= 0.5
    buffers = [model[3].running_mean, model[3].running_var, model[3].num_batches_tracked]
    return history, model.state_dict(), grads(model), buffers


def test_nn_really_loss_batch_returning_tensors_with_batchnorm_and_dropout():
    assert_same_as_eager(nn_really_loss_batch_returning_tensors)


def compile_tutorial_train_and_evaluate(compile):
    """The torch.compile tutorial's init_model / evaluate / train: evaluate compiled with
    mode="reduce-overhead" and called under no_grad between train steps compiled separately,
    opt.zero_grad(True); torch._dynamo.reset() half way through."""
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def evaluate(mod, inp):
        return mod(inp)

    def train(mod, data):
        opt.zero_grad(True)
        pred = mod(data[0])
        loss = nn.CrossEntropyLoss()(pred, data[1])
        loss.backward()
        opt.step()
        return loss

    evaluate_opt = compile(evaluate, mode="reduce-overhead")
    train_opt = compile(train)
    results = []
    for t in range(6):
        n = (4, 4, 5, 4, 3, 4)[t]
        data = (torch.randn(n, 6), torch.randint(3, (n,)))
        model.train()
        results.append(train_opt(model, data))
        model.eval()
        with torch.no_grad():
            results.append(evaluate_opt(model, data[0]))
        if t == 2:
            torch._dynamo.reset()
    return results, model.state_dict(), grads(model), [opt.state[p]["exp_avg_sq"] for p in model.parameters()]


def test_compile_tutorial_train_and_evaluate_with_reset():
    assert_same_as_eager(compile_tutorial_train_and_evaluate, compiled_functions=2)


def whole_epoch(compile):
    """A learner compiles the whole epoch of "What is torch.nn really" fit: the DataLoader with
    shuffle=True is iterated inside the compiled function."""
    generator = np.random.default_rng(8)
    x_train = torch.tensor(generator.normal(size=(11, 16)).astype(np.float32))
    y_train = torch.tensor(generator.integers(0, 4, size=11))
    model = Mnist_Logistic()
    opt = optim.SGD(model.parameters(), lr=0.5)
    train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=4, shuffle=True)

    @compile()
    def epoch(lr):
        opt.param_groups[0]["lr"] = lr
        model.train()
        losses = []
        for xb, yb in train_dl:
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(loss)
        return torch.stack(losses)

    results = [epoch(lr) for lr in (0.5, 0.4, 0.4, 0.2, 0.1)]
    return results, model.state_dict(), grads(model)


def test_whole_epoch_over_a_shuffling_dataloader():
    assert_same_as_eager(whole_epoch)


# ============================================================================ more of the same tutorials, and PyTorch's values
class OldDynamicNet(nn.Module):
    """The older "Learning PyTorch with Examples" DynamicNet: middle_linear reused
    random.randint(0, 3) times, with clamp(min=0) as ReLU."""

    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.input_linear(x).clamp(min=0)
        for _ in range(random.randint(0, 3)):
            h_relu = self.middle_linear(h_relu).clamp(min=0)
        y_pred = self.output_linear(h_relu)
        return y_pred


def old_dynamic_net(compile, how):
    model = OldDynamicNet(5, 7, 2)
    criterion = nn.MSELoss(reduction="sum")
    optimizer = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    forward = compile.module(model) if how == "model.compile()" else model

    def step(x, y):
        y_pred = forward(x)
        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    if how == "train step":
        step = compile(step)
    results = []
    for t in range(6):
        n = 4 + t % 2
        results.append(step(torch.randn(n, 5), torch.randn(n, 2)))
    return results, model.state_dict(), grads(model)


@pytest.mark.parametrize("how", ["model.compile()", "train step"])
def test_old_dynamic_net_reusing_a_layer_a_random_number_of_times(how):
    assert_same_as_eager(lambda compile: old_dynamic_net(compile, how))


def test_dynamic_net_eager_matches_pytorch():
    import torch as real_torch
    initial = [0.1, -0.3, 0.2, 0.05, -0.01]

    def train(module, model):
        with module.no_grad():
            for p, value in zip(model.parameters(), initial):
                p.fill_(value)
        x = module.linspace(-1.5, 1.5, 25)
        criterion = module.nn.MSELoss(reduction="sum")
        optimizer = module.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        random.seed(4)
        losses = []
        for t in range(6):
            loss = criterion(model(x), module.sin(x))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses, [p.item() for p in model.parameters()]

    class RealDynamicNet(real_torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name in "abcde":
                setattr(self, name, real_torch.nn.Parameter(real_torch.randn(())))

        forward = DynamicNet.forward

    ours = train(torch, DynamicNet())
    theirs = train(real_torch, RealDynamicNet())
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-7)


def test_quickstart_eager_matches_pytorch():
    import torch as real_torch
    generator = np.random.default_rng(3)
    X = generator.normal(size=(12, 1, 4, 4)).astype(np.float32)
    Y = generator.integers(0, 5, size=12)
    ours = NeuralNetwork()
    initial = [np.array(p.detach().numpy(), copy=True) for p in ours.parameters()]

    def train(module, model):
        with module.no_grad():
            for p, value in zip(model.parameters(), initial):
                p.copy_(module.tensor(value))
        loss_fn = module.nn.CrossEntropyLoss()
        optimizer = module.optim.SGD(model.parameters(), lr=1e-1)
        losses = []
        for start in range(0, 12, 5):
            X_, y_ = module.tensor(X[start:start + 5]), module.tensor(Y[start:start + 5])
            loss = loss_fn(model(X_), y_)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        model.eval()
        with module.no_grad():
            pred = model(module.tensor(X))
            correct = (pred.argmax(1) == module.tensor(Y)).type(module.float).sum().item()
        return losses, correct, [p.detach().numpy().copy() for p in model.parameters()]

    class RealNeuralNetwork(real_torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = real_torch.nn.Flatten()
            self.linear_relu_stack = real_torch.nn.Sequential(real_torch.nn.Linear(16, 12), real_torch.nn.ReLU(), real_torch.nn.Linear(12, 12),
                                                              real_torch.nn.ReLU(), real_torch.nn.Linear(12, 5))

        forward = NeuralNetwork.forward

    mine, theirs = train(torch, ours), train(real_torch, RealNeuralNetwork())
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-5)
    assert mine[1] == theirs[1]
    for a, b in zip(mine[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def save_and_load(compile, how):
    """"Save and load the model" between calls of a compiled model: torch.save(state_dict) to a
    buffer, training on, then model.load_state_dict(torch.load(...)) rolls the weights back."""
    import io
    model = NeuralNetwork()
    if how == "torch.compile(model)":
        opt_model = compile(model)
    else:
        opt_model = compile.module(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.2)
    generator = np.random.default_rng(11)
    buffer = io.BytesIO()
    results = []
    for t in range(6):
        X = torch.tensor(generator.normal(size=(4, 1, 4, 4)).astype(np.float32))
        y = torch.tensor(generator.integers(0, 5, size=4))
        if t == 1:
            torch.save(model.state_dict(), buffer)
        if t == 4:
            buffer.seek(0)
            model.load_state_dict(torch.load(buffer, weights_only=True))
        pred = opt_model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        results.append([pred, loss])
    return results, model.state_dict()


@pytest.mark.parametrize("how", ["torch.compile(model)", "model.compile()"])
def test_save_and_load_state_dict_between_compiled_calls(how):
    assert_same_as_eager(lambda compile: save_and_load(compile, how))


@pytest.mark.parametrize("options", [dict(centered=True), dict(momentum=0.5, weight_decay=1e-2), dict(alpha=0.9, eps=1e-6, centered=True, momentum=0.3)],
                         ids=["centered", "momentum_weight_decay", "all"])
def test_polynomial_with_rmsprop_variants_and_a_changing_lr(options):
    def case(compile):
        model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
        loss_fn = nn.MSELoss(reduction="sum")
        optimizer = optim.RMSprop(model.parameters(), lr=1e-3, **options)
        p = torch.tensor([1, 2, 3])

        @compile()
        def step(x, y):
            xx = x.unsqueeze(-1).pow(p)
            loss = loss_fn(model(xx), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        losses = []
        for t in range(6):
            optimizer.param_groups[0]["lr"] = (1e-3, 3e-3)[t % 2]
            x = torch.linspace(-math.pi, math.pi, 16 + 2 * (t % 3))
            losses.append(step(x, torch.sin(x)))
        return losses, model.state_dict(), grads(model), [dict(optimizer.state[q]) for q in model.parameters()]

    assert_same_as_eager(case)


def test_compile_tutorial_dynamic_shapes_keywords():
    def case(compile):
        mod = MyModule()
        results = []
        for dynamic in (True, False, None):
            opt_mod = compile(mod, dynamic=dynamic)
            for n in (2, 3, 2, 5):
                results.append(opt_mod(torch.randn(n, 10)))
            with torch.no_grad():
                mod.lin.weight.mul_(0.9)
        return results

    assert_same_as_eager(case, compiled_functions=3)


def autograd_with_learning_rates_of_many_kinds(compile, kinds):
    """The "Autograd" step with a learning rate the learner keeps in a NumPy scalar, an int, or a
    0-d tensor decayed in place between calls (lr.mul_(0.5)), and some grads reset only on odd t."""
    x = torch.linspace(-math.pi, math.pi, 24, dtype=torch.float)
    y = torch.sin(x)
    a, b, c, d = (torch.randn((), dtype=torch.float, requires_grad=True) for _ in range(4))
    lr_tensor = torch.tensor(2e-6)
    holder = {"lr": 1e-6}

    @compile()
    def train_step(t):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        learning_rate = holder["lr"]
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
            a.grad = None
            if t % 2:
                b.grad = None
        return loss

    losses = []
    for t in range(6):
        kind = kinds[t % len(kinds)]
        if kind == "tensor":
            holder["lr"] = lr_tensor
            lr_tensor.mul_(0.5)
        elif kind == "np.float32":
            holder["lr"] = np.float32(1e-6 * (t + 1))
        elif kind == "np.float64":
            holder["lr"] = np.float64(1e-6 * (t + 1))
        elif kind == "int":
            holder["lr"] = t % 2
        else:
            holder["lr"] = 1e-6 * (t + 1)
        losses.append(train_step(t))
    return losses, [a, b, c, d], [p.grad for p in (a, b, c, d)]


@pytest.mark.parametrize("kinds", [("tensor",), ("np.float32", "np.float64", "float"), ("float", "int"), ("tensor", "float", "np.float32")],
                         ids=["tensor_decayed_in_place", "numpy_scalars", "int_and_float", "mixed"])
def test_autograd_tutorial_with_learning_rates_of_many_kinds(kinds):
    assert_same_as_eager(lambda compile: autograd_with_learning_rates_of_many_kinds(compile, kinds))


def test_optimization_loop_with_the_optimizer_passed_in_and_replaced():
    """"Optimizing model parameters"'s train_loop(dataloader, model, loss_fn, optimizer) per batch,
    compiled; the learner swaps SGD for a fresh Adam, then back to a fresh SGD, between calls."""
    def case(compile):
        model = nn.Sequential(nn.Flatten(), nn.Linear(9, 6), nn.ReLU(), nn.Linear(6, 3))
        loss_fn = nn.CrossEntropyLoss()

        @compile()
        def train_batch(X, y, model, loss_fn, optimizer):
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss

        generator = np.random.default_rng(12)
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for t in range(7):
            if t == 3:
                optimizer = optim.Adam(model.parameters(), lr=1e-2)
            if t == 5:
                optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
            X = torch.tensor(generator.normal(size=(4, 3, 3)).astype(np.float32))
            y = torch.tensor(generator.integers(0, 3, size=4))
            losses.append(train_batch(X, y, model, loss_fn, optimizer))
        return losses, model.state_dict(), grads(model), [dict(optimizer.state[p]) for p in model.parameters()]

    assert_same_as_eager(case)
