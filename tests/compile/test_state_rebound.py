"""State a step replaces rather than writes into, replayed as eagerly: a running statistic kept in a
plain tensor attribute or a registered buffer and rebound each call (makemore's BatchNorm1d class,
d2l's BatchNorm module), a recurrent state carried as ``self.h = h.detach()``, a parameter given a
new array by hand (``w.data = w.data - lr * w.grad.data``, the course's lecture 4), a gradient set
by hand (``p.grad = p.grad + noise``), and an index written as a ``range``. Each runs 12 calls
eagerly and compiled from the same seed and must agree bit for bit, recording at most twice and
never falling back; what cannot replay falls back with a warning."""
import warnings

import pytest

import chainrule as torch
from chainrule import nn
from tests.compile.bitwise import assert_identical

CALLS = 12


class MakemoreBatchNorm:
    """makemore part 3's layer: a plain class whose running statistics are rebound under no_grad."""

    def __init__(self, dim, momentum=0.1):
        self.momentum, self.training = momentum, True
        self.gamma, self.beta = torch.ones(dim), torch.zeros(dim)
        self.running_mean, self.running_var = torch.zeros(dim), torch.ones(dim)

    def __call__(self, x):
        if self.training:
            mean, var = x.mean(0, keepdim=True), x.var(0, keepdim=True)
        else:
            mean, var = self.running_mean, self.running_var
        self.out = self.gamma * (x - mean) / torch.sqrt(var + 1e-5) + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var
        return self.out


class D2lBatchNorm(nn.Module):
    """d2l's BatchNorm from scratch: the moving statistics returned as ``.data`` and rebound."""

    def __init__(self, n):
        super().__init__()
        self.gamma, self.beta = nn.Parameter(torch.ones(n)), nn.Parameter(torch.zeros(n))
        self.moving_mean, self.moving_var = torch.zeros(n), torch.ones(n)

    def forward(self, x):
        mean = x.mean(dim=0)
        var = ((x - mean) ** 2).mean(dim=0)
        self.moving_mean = (0.9 * self.moving_mean + 0.1 * mean).data
        self.moving_var = (0.9 * self.moving_var + 0.1 * var).data
        return self.gamma * (x - mean) / torch.sqrt(var + 1e-5) + self.beta


class BufferBatchNorm(nn.Module):
    """A running mean kept as a registered buffer and rebound (Module.__setattr__ puts it back in
    ``_buffers``), as PyTorch-style code from scratch writes it."""

    def __init__(self, n):
        super().__init__()
        self.gamma, self.beta = nn.Parameter(torch.ones(n)), nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))

    def forward(self, x):
        mean = x.mean(0)
        with torch.no_grad():
            self.running_mean = 0.9 * self.running_mean + 0.1 * mean
        return self.gamma * (x - mean) + self.beta


class CarriedState(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.RNNCell(3, 5)
        self.h = torch.zeros(2, 5)

    def forward(self, xs):
        h = self.h
        for x in xs:
            h = self.cell(x, h)
        self.h = h.detach()
        return h


def makemore(compile):
    bn, W = MakemoreBatchNorm(4), torch.randn(3, 4)
    params = [W, bn.gamma, bn.beta]
    for p in params:
        p.requires_grad = True

    def step(x):
        loss = bn(x @ W).tanh().sum()
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -0.1 * p.grad
        return loss

    return compile(step), lambda: [bn.running_mean, bn.running_var, *params]


class MakemoreSequential:
    """makemore part 5's container: it keeps its output in ``.out`` too, the same tensor as its
    last layer's ``.out``."""

    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        self.out = x
        return x


def makemore_outputs_kept(compile):
    """Every layer's ``.out`` (the container's is the last layer's) rebound by each call while the
    caller keeps the last call's for its plots: the old tensors are held elsewhere, but never read."""
    model = MakemoreSequential([MakemoreBatchNorm(3), MakemoreBatchNorm(3)])
    params = [p for layer in model.layers for p in (layer.gamma, layer.beta)]
    for p in params:
        p.requires_grad = True
    kept = []

    def step(x):
        loss = model(x).tanh().sum()
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -0.1 * p.grad
        return loss

    def state():
        kept.append([layer.out for layer in model.layers] + [model.out])
        assert model.out is model.layers[-1].out
        return [*kept[-1], *params]

    return compile(step), state


def d2l(compile):
    net = nn.Sequential(nn.Linear(3, 4), D2lBatchNorm(4), nn.Sigmoid(), nn.Linear(4, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = net(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    return compile(step), lambda: [net[1].moving_mean, net[1].moving_var, *net.parameters()]


def buffer(compile):
    net = nn.Sequential(nn.Linear(3, 4), BufferBatchNorm(4))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = net(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    return compile(step), lambda: [net[1].running_mean, *net.parameters(), *net.buffers()]


def carried(compile):
    net = CarriedState()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = net(x.reshape(4, 2, 3)).sum()
        loss.backward()
        opt.step()
        return loss, net.h

    return compile(step), lambda: [net.h, *net.parameters()]


def by_hand(compile, how):
    lin = nn.Linear(3, 2)

    def step(x):
        lin.zero_grad()
        loss = lin(x).pow(2).mean()
        loss.backward()
        for p in lin.parameters():
            if how == "lecture 4":
                p.data = p.data - 0.1 * p.grad.data
                p.grad.data.zero_()
            elif how == "then decayed in place":
                p.data = p.data - 0.1 * p.grad
                p.data.mul_(0.99)
            else:  # range index
                p.data.add_(p.grad[range(p.shape[0])], alpha=-0.1)
        return loss

    return compile(step), lambda: [*lin.parameters(), *(p.grad for p in lin.parameters())]


def gradient_by_hand(compile, how):
    lin = nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)

    def step(x):
        opt.zero_grad()
        if how == "zeros first":
            for p in lin.parameters():
                p.grad = torch.zeros_like(p)
        loss = lin(x).pow(2).mean()
        loss.backward()
        if how == "noise added":
            with torch.no_grad():
                for p in lin.parameters():
                    p.grad = p.grad + 0.01 * torch.randn_like(p)
        opt.step()
        return loss, lin.weight.grad

    return compile(step), lambda: [*lin.parameters(), *(p.grad for p in lin.parameters())]


CASES = {
    "makemore BatchNorm1d class": makemore,
    "makemore layers' .out kept by the caller": makemore_outputs_kept,
    "d2l BatchNorm module": d2l,
    "registered buffer rebound": buffer,
    "recurrent state carried": carried,
    "w.data = w.data - lr * w.grad.data": lambda compile: by_hand(compile, "lecture 4"),
    "w.data = ..., then w.data.mul_": lambda compile: by_hand(compile, "then decayed in place"),
    "a range as an index": lambda compile: by_hand(compile, "range"),
    "p.grad = torch.zeros_like(p) before backward": lambda compile: gradient_by_hand(compile, "zeros first"),
    "p.grad = p.grad + noise": lambda compile: gradient_by_hand(compile, "noise added"),
}


def run(case, compiled):
    torch.manual_seed(0)
    step, state = case(torch.compile if compiled else (lambda function: function))
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(CALLS):
            result = step(torch.randn(8, 3))
            results = result if isinstance(result, tuple) else (result,)
            log.append([t.detach().numpy().copy() for t in (*results, *state())])
    recordings = sum(map(len, step.recordings.values())) if compiled else 0
    return log, recordings, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


@pytest.mark.parametrize("name", CASES)
def test_replaced_state_replays_as_eager(name):
    eager, _, _ = run(CASES[name], compiled=False)
    compiled, recordings, warned = run(CASES[name], compiled=True)
    assert_identical(compiled, eager)
    assert warned == []
    assert 1 <= recordings <= 2  # (a first call with no .grad yet may record apart)


def test_the_rebound_attribute_is_the_returned_tensor_as_eagerly():
    step, _ = carried(torch.compile)
    for _ in range(3):
        _, h = step(torch.randn(8, 3))
    assert h is _carried_state(step)


def _carried_state(step):
    return next(cell.cell_contents for cell in step.function.__closure__ if isinstance(cell.cell_contents, CarriedState)).h


def test_a_gradient_set_by_hand_is_the_tensor_grad_holds_as_eagerly():
    step, _ = gradient_by_hand(torch.compile, "noise added")
    for _ in range(3):
        _, grad = step(torch.randn(8, 3))
    lin = next(cell.cell_contents for cell in step.function.__closure__ if isinstance(cell.cell_contents, nn.Linear))
    assert grad is lin.weight.grad and not step.eager_reason


def test_a_rebound_tensor_that_keeps_its_graph_is_not_replayed_stale():
    # self.h = h (no detach): the next call's backward would run through the last call's graph, and
    # fails eagerly; compiled it must fail too, never replay a stale state
    net = CarriedState()

    def step(x):
        h = net.h
        for row in x.reshape(4, 2, 3):
            h = net.cell(row, h)
        net.h = h
        h.sum().backward()

    compiled = torch.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled(torch.randn(8, 3))
        with pytest.raises(RuntimeError):
            for _ in range(3):
                compiled(torch.randn(8, 3))
