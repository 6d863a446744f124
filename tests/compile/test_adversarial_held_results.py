"""chainrule.compile against eager execution on what the CALLER KEEPS from one compiled call while
later calls run. A replayed program may reuse preallocated buffers and scratch arrays, so anything
it hands out (returned tensors and containers, views of them, NumPy arrays of them, gradients,
optimizer state, state dicts, buffers, tensors the step keeps on ``self`` or in a global list,
constants it creates) must not be overwritten by the next call, and what the caller writes into
them must not leak into later calls' results.

Each scenario is ``scenario(compiled)``: it builds everything from seeds, calls the step (compiled
or not) several times with changing values, records what it holds right after each call and again
at the end. Eager runs once and compiled once; they must agree bit for
bit, with at most one fall-back warning.
"""
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

CALLS = 5


# ----------------------------------------------------------------------------- the harness
def arr(tensor):
    return np.array(tensor.detach().numpy(), copy=True)


def rt(shape, seed, requires_grad=False):
    return torch.tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=requires_grad)


def params_of(*modules):
    found = []
    for module in modules:
        for p in module.parameters():
            found.append((arr(p), None if p.grad is None else arr(p.grad)))
    return found


def deep(value):
    """Copies of everything held, keeping the container types."""
    if isinstance(value, torch.Tensor):
        return arr(value)
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(deep(v) for v in value)
    return value


def observe(scenario, compiled):
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = scenario(compiled)
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    return found, fallbacks


def check(scenario):
    eager, eager_fallbacks = observe(scenario, False)
    assert not eager_fallbacks
    compiled, fallbacks = observe(scenario, True)
    assert_identical(compiled, eager, "compiled against eager")
    assert len(fallbacks) <= 1, fallbacks
    return compiled


def maybe(compiled, step):
    return chainrule.compile(step) if compiled else step


def mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


# ----------------------------------------------------------------------------- returned tensors and containers
@pytest.mark.parametrize("shape", ["tuple", "dict", "list", "nested"])
def test_returned_containers_of_outputs_kept_from_every_call(shape):
    def scenario(compiled):
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            hidden = net[1](net[0](x))
            logits = net[2](hidden)
            loss = F.mse_loss(logits, y)
            loss.backward()
            opt.step()
            parts = (loss.detach(), logits.detach(), hidden.detach(), logits.detach().argmax(1))
            if shape == "tuple":
                return parts
            if shape == "dict":
                return {"loss": parts[0], "logits": parts[1], "hidden": parts[2], "pred": parts[3]}
            if shape == "list":
                return list(parts)
            return {"loss": parts[0], "out": [parts[1], (parts[2], parts[3])]}

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            result = function(rt((5, 3), index), rt((5, 2), 50 + index))
            kept.append(result)
            found.append([deep(result), params_of(net)])
            found.append([deep(k) for k in kept])
        return found

    check(scenario)


@pytest.mark.parametrize("edit", ["append", "setitem", "pop", "clear"])
def test_returned_python_container_edited_by_the_caller(edit):
    """The caller edits the list or dict the step returned; the next call returns a new one."""

    def scenario(compiled):
        w = rt((3,), 1, requires_grad=True)

        def step(x):
            y = (w * x).tanh()
            return [y.detach(), y.sum().detach()], {"y": y.detach(), "n": 3}

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            out_list, out_dict = function(rt((3,), index))
            found.append([deep(out_list), deep(out_dict)])
            kept.append((out_list, out_dict))
            found.append([out_list is k[0] or out_dict is k[1] for k in kept[:-1]])
            if edit == "append":
                out_list.append(index)
                out_dict["extra"] = index
            elif edit == "setitem":
                out_list[0] = "gone"
                out_dict["y"] = None
                out_dict["n"] = 99
            elif edit == "pop":
                out_list.pop()
                out_dict.pop("y")
            else:
                out_list.clear()
                out_dict.clear()
        found.append([deep(k) for k in kept])
        return found

    check(scenario)


@pytest.mark.parametrize("edit", ["add_", "setitem", "zero_", "numpy write", "fill_", "copy_"])
def test_returned_tensors_written_by_the_caller_do_not_leak(edit):
    def scenario(compiled):
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            logits = net(x)
            loss = F.mse_loss(logits, y)
            loss.backward()
            opt.step()
            return loss.detach(), logits.detach(), (logits.detach() - y).abs()

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            result = function(rt((5, 3), index), rt((5, 2), 50 + index))
            found.append([deep(result), params_of(net)])
            kept.append(result)
            for t in result:
                if edit == "add_":
                    t.add_(1000.0)
                elif edit == "setitem":
                    t[...] = 5.0 if t.dim() == 0 else t[...]
                    if t.dim():
                        t[0] = 5.0
                elif edit == "zero_":
                    t.zero_()
                elif edit == "numpy write":
                    t.numpy()[...] = -7.0
                elif edit == "fill_":
                    t.fill_(float(index))
                else:
                    t.copy_(torch.full_like(t, 3.0))
        found.append([deep(k) for k in kept])
        return found

    check(scenario)


@pytest.mark.parametrize("what", ["zeros", "ones", "tensor literal", "arange", "eye", "full", "constant product", "new_ones", "mask"])
def test_constant_tensor_returned_and_mutated_by_the_caller(what):
    """A tensor the step creates from constants only: the caller changes it in place, the next
    call must return a fresh, unchanged one (a program must not hand out a cached constant)."""

    def scenario(compiled):
        w = rt((3,), 1, requires_grad=True)

        def step(x):
            loss = (w * x).pow(2).sum()
            loss.backward()
            if what == "zeros":
                c = torch.zeros(3, dtype=torch.float64)
            elif what == "ones":
                c = torch.ones(3, dtype=torch.float64)
            elif what == "tensor literal":
                c = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
            elif what == "arange":
                c = torch.arange(3)
            elif what == "eye":
                c = torch.eye(3, dtype=torch.float64)
            elif what == "full":
                c = torch.full((3,), 0.5, dtype=torch.float64)
            elif what == "constant product":
                c = torch.ones(3, dtype=torch.float64) * 2 + 1
            elif what == "new_ones":
                c = x.new_ones(3)
            else:
                c = torch.ones(3, dtype=torch.bool)
            return loss.detach(), c

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            loss, c = function(rt((3,), index))
            found.append([arr(loss), arr(c), arr(w.grad)])
            kept.append(c)
            if c.dtype == torch.bool:
                c[0] = False
            else:
                c.add_(10)
            c.numpy().reshape(-1)[-1] = 0
        found.append([deep(k) for k in kept])
        found.append([kept[i] is kept[j] for i in range(len(kept)) for j in range(i)])
        return found

    check(scenario)


@pytest.mark.parametrize("how", ["twice", "and a view", "and detach", "and a transpose"])
def test_the_same_tensor_returned_twice_then_written_by_the_caller(how):
    def scenario(compiled):
        net = nn.Linear(3, 3).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            h = net(x).relu()
            loss = h.pow(2).mean()
            loss.backward()
            opt.step()
            d = h.detach()
            if how == "twice":
                return d, d, loss.detach()
            if how == "and a view":
                return d, d.view(-1), loss.detach()
            if how == "and detach":
                return d, d.detach(), loss.detach()
            return d, d.T, loss.detach()

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            a, b, loss = function(rt((3, 3), index))
            found.append([arr(a), arr(b), arr(loss), a is b, np.shares_memory(a.numpy(), b.numpy()), params_of(net)])
            a.mul_(-2.0)
            a[0, 0] = 42.0
            found.append([arr(a), arr(b)])
            kept.append((a, b, loss))
        found.append([deep(k) for k in kept])
        return found

    check(scenario)


def test_minimal_same_tensor_without_grad_returned_twice():
    """Eager: ``a is b``, so ``a.data = ...`` is seen through ``b``; replayed: two objects."""

    def scenario(compiled):
        function = maybe(compiled, lambda x: (x * 2, ) * 2)
        found = []
        for index in range(4):
            a, b = function(torch.full((3,), float(index)))
            a.data = torch.zeros(3)
            found.append([a is b, arr(b)])
        return found

    check(scenario)


@pytest.mark.parametrize("what", ["x", "x.view(-1)", "x.detach()", "x[1]", "weight", "weight.T", "weight.data", "bias.view"])
def test_returned_tensors_aliasing_an_input_or_a_parameter(what):
    def scenario(compiled):
        net = nn.Linear(3, 3).double()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.5)

        def step(x):
            opt.zero_grad()
            loss = net(x).tanh().sum()
            loss.backward()
            opt.step()
            if what == "x":
                out = x
            elif what == "x.view(-1)":
                out = x.view(-1)
            elif what == "x.detach()":
                out = x.detach()
            elif what == "x[1]":
                out = x[1]
            elif what == "weight":
                out = net.weight
            elif what == "weight.T":
                out = net.weight.T
            elif what == "weight.data":
                out = net.weight.data
            else:
                out = net.bias.view(3, 1)
            return loss.detach(), out

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            x = rt((3, 3), index)
            loss, out = function(x)
            found.append([arr(loss), arr(out), out is x, out is net.weight, out.requires_grad, out.is_leaf,
                          np.shares_memory(out.detach().numpy(), x.numpy()),
                          np.shares_memory(out.detach().numpy(), net.weight.detach().numpy()),
                          np.shares_memory(out.detach().numpy(), net.bias.detach().numpy())])
            kept.append((x, out))
            if what.startswith("x"):
                with torch.no_grad():
                    out.mul_(3.0)  # writes the caller's input
                found.append(arr(x))
            found.append(params_of(net))
        found.append([[arr(x), arr(o)] for x, o in kept])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- tensors the step keeps and reads again
@pytest.mark.parametrize("kept_as", ["detach", "data", "clone", "view", "output"])
def test_previous_call_s_output_kept_on_self_and_read_by_the_next_call(kept_as):
    """The step keeps this call's activation on ``self`` and reads the previous call's one: a
    program writing this call's activation into the same buffer would make them equal."""

    class Tracker:
        def __init__(self):
            self.prev = torch.zeros(4, 2, dtype=torch.float64)

    def scenario(compiled):
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)
        tracker = Tracker()

        def step(x):
            opt.zero_grad()
            out = net(x)
            drift = (out - tracker.prev).pow(2).mean()
            loss = out.pow(2).mean() + 0.1 * drift
            loss.backward()
            opt.step()
            if kept_as == "detach":
                tracker.prev = out.detach()
            elif kept_as == "data":
                tracker.prev = out.data
            elif kept_as == "clone":
                tracker.prev = out.detach().clone()
            elif kept_as == "view":
                tracker.prev = out.detach().view(8).view(4, 2)
            else:
                tracker.prev = out.detach() * 1.0
            return loss.detach(), drift.detach(), tracker.prev

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS + 1):
            result = function(rt((4, 3), index))
            kept.append(result)
            found.append([deep(result), params_of(net), arr(tracker.prev)])
        found.append([deep(k) for k in kept])
        return found

    check(scenario)


def test_output_fed_back_as_the_next_input_and_kept():
    """``h = step(x, h)``: each call's returned state is the next call's argument and is also kept."""

    def scenario(compiled):
        cell = nn.RNNCell(3, 4).double()
        opt = optim.SGD(cell.parameters(), lr=0.05)

        def step(x, h):
            opt.zero_grad()
            new = cell(x, h)
            loss = new.pow(2).sum()
            loss.backward()
            opt.step()
            return new.detach(), loss.detach()

        function = maybe(compiled, step)
        found, kept = [], []
        h = torch.zeros(2, 4, dtype=torch.float64)
        for index in range(CALLS + 1):
            h, loss = function(rt((2, 3), index), h)
            kept.append((h, loss))
            found.append([arr(h), arr(loss), params_of(cell)])
        found.append([deep(k) for k in kept])
        return found

    check(scenario)


@pytest.mark.parametrize("what", ["detach", "numpy", "item", "grad clone", "grad", "view"])
def test_global_list_filled_by_the_step(what):
    history = []

    def scenario(compiled):
        history.clear()
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            out = net(x)
            loss = F.mse_loss(out, y)
            loss.backward()
            if what == "detach":
                history.append(out.detach())
            elif what == "numpy":
                history.append(out.detach().numpy())
            elif what == "item":
                history.append(loss.item())
            elif what == "grad clone":
                history.append(net[0].weight.grad.clone())
            elif what == "grad":
                history.append(net[0].weight.grad)
            else:
                history.append(out.detach()[:, 0])
            opt.step()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(CALLS):
            found.append(arr(function(rt((5, 3), index), rt((5, 2), 50 + index))))
            found.append([deep(h) for h in history])
        found.append(params_of(net))
        found.append([history[i] is history[j] for i in range(len(history)) for j in range(i)])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- gradients held across calls
@pytest.mark.parametrize("set_to_none", [False, True])
def test_gradients_held_before_zero_grad_and_returned_gradient_views(set_to_none):
    def scenario(compiled):
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad(set_to_none=set_to_none)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            g = net[0].weight.grad
            return loss.detach(), g, g.T, g[0], g.clone()

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            result = function(rt((5, 3), index), rt((5, 2), 50 + index))
            kept.append((result, net[0].weight.grad, net[2].bias.grad, net[2].bias.grad.clone()))
            found.append([deep(result), params_of(net), result[1] is net[0].weight.grad])
            found.append([deep(k) for k in kept])
        return found

    check(scenario)


def test_gradients_of_intermediates_from_autograd_grad_kept():
    def scenario(compiled):
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            hidden = net[1](net[0](x))
            out = net[2](hidden)
            loss = F.mse_loss(out, y)
            g_hidden, g_out = torch.autograd.grad(loss, (hidden, out), retain_graph=True)
            loss.backward()
            opt.step()
            return loss.detach(), g_hidden, g_out, g_hidden.norm()

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            result = function(rt((5, 3), index), rt((5, 2), 50 + index))
            kept.append(result)
            found.append([deep(result), params_of(net)])
            result[1].mul_(0.0)
        found.append([deep(k) for k in kept])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- optimizer state and state dicts
@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_optimizer_state_tensors_and_shallow_state_dicts_held_between_calls(kind):
    def scenario(compiled):
        net = nn.Linear(3, 2).double()
        opt = {
            "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
            "adam": lambda p: optim.Adam(p, lr=0.05),
            "adamw": lambda p: optim.AdamW(p, lr=0.05),
            "rmsprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5),
            "adagrad": lambda p: optim.Adagrad(p, lr=0.1),
        }[kind](net.parameters())

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        function = maybe(compiled, step)
        found, held_state, held_sd, held_msd = [], [], [], []
        for index in range(CALLS):
            found.append(arr(function(rt((4, 3), index), rt((4, 2), 50 + index))))
            held_state.append({k: v for k, v in opt.state[net.weight].items()})
            held_sd.append(opt.state_dict())
            held_msd.append(net.state_dict())
            found.append([deep(s) for s in held_state])
            found.append([deep(sd["state"]) for sd in held_sd])
            found.append([deep(dict(sd)) for sd in held_msd])
            found.append([[held[k] is opt.state[net.weight][k] for k in held if isinstance(held[k], torch.Tensor)] for held in held_state])
        return found

    check(scenario)


def test_batch_norm_buffers_held_as_tensors_and_in_a_state_dict():
    def scenario(compiled):
        net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1)).double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        bn = net[1]
        mean, var, count = bn.running_mean, bn.running_var, bn.num_batches_tracked
        sd = net.state_dict()

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach(), bn.running_mean, bn.num_batches_tracked

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            result = function(rt((6, 3), index), rt((6, 1), 50 + index))
            kept.append(result)
            found.append([deep(result), arr(mean), arr(var), arr(count), deep(dict(sd)), params_of(net),
                          result[1] is mean, result[2] is count, bn.num_batches_tracked is count])
        found.append([deep(k) for k in kept])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- graphs held across calls
def test_returned_losses_with_graphs_backpropagated_after_later_calls():
    """A forward-only step returns outputs with history; the caller keeps each call's and runs
    backward through all of them only after the later calls ran (the saved activations of call 1
    must still be call 1's)."""

    def scenario(compiled):
        net = mlp()

        def step(x):
            hidden = net[1](net[0](x))
            out = net[2](hidden)
            return out.pow(2).mean(), out

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            loss, out = function(rt((4, 3), index))
            kept.append((loss, out))
            found.append([arr(loss), arr(out), loss.requires_grad, out.requires_grad])
        for index, (loss, out) in enumerate(kept):
            net.zero_grad()
            (loss + out.sum() * 0.1 * index).backward()
            found.append(params_of(net))
        return found

    check(scenario)


def test_returned_output_with_grad_used_in_an_eager_graph_after_more_calls():
    def scenario(compiled):
        w = rt((3, 3), 7, requires_grad=True)

        def step(x):
            h = (x @ w).sigmoid()
            return h, h.sum()

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            x = rt((2, 3), index, requires_grad=True)
            h, s = function(x)
            kept.append((x, h, s))
            found.append([arr(h), arr(s)])
        for x, h, s in kept:
            w.grad = None
            total = (h * h).sum() + s
            total.backward()
            found.append([arr(w.grad), arr(x.grad), arr(total)])
        return found

    check(scenario)


def test_backward_outside_on_the_returned_loss_then_the_next_call():
    def scenario(compiled):
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.step()
            opt.zero_grad()
            out = net(x)
            return F.mse_loss(out, y), out

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            loss, out = function(rt((5, 3), index), rt((5, 2), 50 + index))
            loss.backward()
            kept.append((loss, out, [p.grad for p in net.parameters()]))
            found.append([arr(loss), arr(out), params_of(net)])
        found.append([[arr(l), arr(o), [arr(g) for g in gs]] for l, o, gs in kept])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- compiled modules
def test_compiled_module_outputs_and_their_numpy_arrays_kept():
    def scenario(compiled):
        net = mlp()
        if compiled:
            net.compile()
        found, outs, arrays = [], [], []
        with torch.no_grad():
            for index in range(CALLS):
                out = net(rt((4, 3), index))
                outs.append(out)
                arrays.append(out.numpy())
                arrays.append(np.asarray(out))
                found.append([arr(o) for o in outs])
                found.append([a.copy() for a in arrays])
                out.numpy()[0, 0] = 123.0
        found.append([np.shares_memory(arrays[i], arrays[j]) for i in range(len(arrays)) for j in range(i)])
        return found

    check(scenario)


def test_compiled_module_kept_activation_on_self_and_hidden_state_returned():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.head = nn.Linear(4, 2)
            self.acts = []

        def forward(self, x):
            h = self.fc(x).relu()
            self.acts.append(h)
            self.last = h.detach()
            return self.head(h), h

    def scenario(compiled):
        net = Net().double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        if compiled:
            net.compile()
        found, kept = [], []
        for index in range(CALLS):
            opt.zero_grad()
            out, h = net(rt((4, 3), index))
            out.pow(2).sum().backward()
            opt.step()
            kept.append((out, h, net.last))
            found.append([arr(out), arr(h), params_of(net), [arr(a) for a in net.acts]])
            net.last.add_(1.0)
        found.append([deep(k) for k in kept])
        found.append([arr(a) for a in net.acts])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- more: what the step hands out and reads back
def test_the_previous_call_s_tensor_returned_while_a_new_one_is_kept():
    """``old, self.prev = self.prev, new``: the call returns the tensor the previous call made."""

    def scenario(compiled):
        net = nn.Linear(3, 3).double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        holder = {"prev": torch.zeros(2, 3, dtype=torch.float64)}

        def step(x):
            opt.zero_grad()
            out = net(x)
            loss = (out - holder["prev"]).pow(2).mean()
            loss.backward()
            opt.step()
            old, holder["prev"] = holder["prev"], out.detach()
            return old, loss.detach()

        function = maybe(compiled, step)
        found, kept, news = [], [], []
        for index in range(CALLS + 1):
            old, loss = function(rt((2, 3), index))
            found.append([arr(old), arr(loss), params_of(net), [old is n for n in news]])
            kept.append(old)
            news.append(holder["prev"])
            if index % 2:
                holder["prev"].mul_(0.5)  # the caller writes the tensor the next call reads
        found.append([arr(k) for k in kept])
        return found

    check(scenario)


@pytest.mark.parametrize("what", ["momentum buffer", "running mean", "ema attribute", "ema view", "param group", "state dict of param"])
def test_returned_training_state_written_by_the_caller_before_the_next_call(what):
    """The step returns a piece of its own training state; the caller changes it in place (or the
    dict holding it); the next call must see the change as eagerly."""

    def scenario(compiled):
        net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)).double()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        ema = torch.zeros(4, 1, dtype=torch.float64)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                ema.mul_(0.9).add_(out[:4].detach(), alpha=0.1)
            returned = {
                "momentum buffer": lambda: opt.state[net[0].weight]["momentum_buffer"],
                "running mean": lambda: net[1].running_mean,
                "ema attribute": lambda: ema,
                "ema view": lambda: ema[1:3],
                "param group": lambda: opt.param_groups[0],
                "state dict of param": lambda: opt.state[net[2].weight],
            }[what]()
            return loss.detach(), returned

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS + 1):
            loss, held = function(rt((6, 3), index), rt((6, 1), 50 + index))
            kept.append(held)
            if isinstance(held, torch.Tensor):
                found.append([arr(loss), arr(held), arr(ema), params_of(net), arr(net[1].running_mean)])
                with torch.no_grad():
                    held.mul_(0.5).add_(0.25)
            elif what == "param group":
                found.append([arr(loss), params_of(net), held["lr"]])
                held["lr"] = 0.1 / (index + 2)
            else:
                found.append([arr(loss), params_of(net), sorted(held)])
                if index == 2:
                    held.clear()  # the next call starts a new momentum buffer
        found.append([deep(k) if isinstance(k, torch.Tensor) else None for k in kept])
        found.append([kept[i] is kept[j] for i in range(len(kept)) for j in range(i)])
        return found

    check(scenario)


@pytest.mark.parametrize("form", ["numpy", "tolist", "item", "numpy of view"])
def test_step_returns_numpy_arrays_and_python_values_the_caller_mutates(form):
    def scenario(compiled):
        w = rt((2, 3), 3, requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x):
            opt.zero_grad()
            out = (w @ x).tanh()
            loss = out.pow(2).sum()
            loss.backward()
            opt.step()
            if form == "numpy":
                return out.detach().numpy(), w.grad.numpy()
            if form == "tolist":
                return out.tolist(), w.grad.tolist()
            if form == "item":
                return loss.item(), out[0, 0].item()
            return out.detach()[0].numpy(), w.detach().T.numpy()

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            a, b = function(rt((3, 2), index))
            kept.append((a, b))
            found.append([deep(a), deep(b), arr(w), arr(w.grad)])
            if isinstance(a, np.ndarray):
                a[...] = -1.0
                found.append([arr(w), arr(w.grad)])
            elif isinstance(a, list):
                a[0][0] = "changed"
                b.append("more")
        found.append([deep(k) for k in kept])
        return found

    check(scenario)


def test_returned_detached_tensor_made_a_leaf_by_the_caller_and_trained_eagerly():
    """The caller turns each returned tensor into a leaf that requires grad and trains it with an
    eager graph while more compiled calls run."""

    def scenario(compiled):
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            out = net(x)
            loss = out.pow(2).mean()
            loss.backward()
            opt.step()
            return out.detach()

        function = maybe(compiled, step)
        found, leaves = [], []
        for index in range(CALLS):
            leaf = function(rt((3, 3), index)).requires_grad_()
            leaves.append(leaf)
            for held in leaves:
                (held.sin() * (index + 1)).sum().backward()
                with torch.no_grad():
                    held.sub_(0.1 * held.grad)
            found.append([[arr(h), arr(h.grad)] for h in leaves])
            found.append(params_of(net))
        return found

    check(scenario)


@pytest.mark.parametrize("how", ["autograd.grad", "backward"])
def test_retained_graphs_of_earlier_calls_reused_after_later_calls(how):
    def scenario(compiled):
        net = mlp()

        def step(x):
            h = net[1](net[0](x))
            return net[2](h).pow(2).mean(), h

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            loss, h = function(rt((4, 3), index))
            if how == "backward":
                net.zero_grad()
                loss.backward(retain_graph=True)
                found.append([arr(loss), arr(h), params_of(net)])
            else:
                grads = torch.autograd.grad(loss, list(net.parameters()), retain_graph=True)
                found.append([arr(loss), arr(h), [arr(g) for g in grads]])
            kept.append((loss, h))
        for loss, h in reversed(kept):
            if how == "backward":
                net.zero_grad()
                loss.backward(retain_graph=True)
                found.append(params_of(net))
            else:
                found.append([arr(g) for g in torch.autograd.grad(loss, list(net.parameters()), retain_graph=True)])
        return found

    check(scenario)


def test_input_gradients_and_retained_intermediate_grads_kept():
    def scenario(compiled):
        w = rt((3, 3), 5, requires_grad=True)

        def step(x):
            h = (x @ w).tanh()
            h.retain_grad()
            loss = h.pow(2).sum()
            loss.backward()
            return loss.detach(), h, x.grad, h.grad

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(CALLS):
            w.grad = None
            x = rt((2, 3), index, requires_grad=True)
            result = function(x)
            kept.append((x, result))
            found.append([deep(result), arr(w.grad), result[2] is x.grad, result[3] is result[1].grad])
            x.grad.add_(1.0)
        found.append([[arr(x.grad), deep(r)] for x, r in kept])
        return found

    check(scenario)


def test_same_tensor_without_grad_twice_in_returned_dicts_and_lists():
    def scenario(compiled):
        w = rt((3,), 2, requires_grad=True)

        def step(x):
            d = x * 2
            (x * w).sum().backward()
            return {"a": d, "b": d}, (d, [d])

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            named, nested = function(rt((3,), index))
            found.append([named["a"] is named["b"], nested[0] is nested[1][0], arr(w.grad)])
            named["a"].data = torch.ones(3, dtype=torch.float64)
            found.append([arr(named["b"]), arr(nested[1][0])])
        return found

    check(scenario)


def test_returned_tensor_that_the_next_call_reads_as_a_python_number_written_by_the_caller():
    def scenario(compiled):
        state = {"s": torch.tensor(0.5, dtype=torch.float64)}
        w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)

        def step(x):
            if state["s"].item() > 1.0:
                y = (x * w).sum() * state["s"]
            else:
                y = (x * w).sum() - state["s"]
            state["s"] = y.detach().abs() / 10
            y.backward()
            return y.detach(), state["s"]

        function = maybe(compiled, step)
        found = []
        for index in range(CALLS + 1):
            y, s = function(torch.full((3,), float(index), dtype=torch.float64))
            found.append([arr(y), arr(s), arr(w.grad), s is state["s"]])
            s.mul_(5.0 if index % 2 else 0.01)
        return found

    check(scenario)


def test_adam_state_dict_and_batch_norm_counter_alias_as_in_pytorch():
    """Values against real PyTorch: a shallow ``opt.state_dict()`` taken after the first step and
    the held ``num_batches_tracked`` follow later in-place updates, as PyTorch's do."""
    real_torch = pytest.importorskip("torch")

    def workflow(lib, compiled):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 1)).double()
        opt = lib.optim.Adam(net.parameters(), lr=0.05)
        with lib.no_grad():
            for index, p in enumerate(net.parameters()):
                p.copy_(lib.tensor(np.random.default_rng(index).normal(size=tuple(p.shape))))

        def step(x, y):
            opt.zero_grad()
            loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss.detach()

        function = chainrule.compile(step) if compiled else step
        counter = net[1].num_batches_tracked
        losses, held = [], None
        for index in range(CALLS):
            rng = np.random.default_rng(index)
            losses.append(function(lib.tensor(rng.normal(size=(6, 3))), lib.tensor(rng.normal(size=(6, 1)))).numpy().copy())
            if held is None:
                held = opt.state_dict()
        state = held["state"][0]
        return [np.array(losses), state["exp_avg"].numpy().copy(), state["exp_avg_sq"].numpy().copy(),
                float(state["step"]), int(counter), net[1].running_mean.detach().numpy().copy()]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager = workflow(torch, False)
        compiled = workflow(torch, True)
        real = workflow(real_torch, False)
    assert_identical(compiled, eager)
    for ours, theirs in zip(eager, real):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)
