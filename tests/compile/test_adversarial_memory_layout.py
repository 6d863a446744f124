"""chainrule.compile against eager execution on the MEMORY, ALIASING and LAYOUT of what the
caller passes and holds between calls: views of one storage given as several arguments, arguments
aliasing parameters, non-contiguous arguments (transposed, strided, expanded, Fortran-ordered NumPy
arrays) of the recorded shape, ``from_numpy`` arrays changed by the caller or inside the step,
0-size batches and batches of one, integer and bool arguments changed in place, returned tensors
(and views of them) kept and changed by the caller, ``.grad`` tensors, optimizer state and NumPy
views of parameters held across calls, ``no_grad`` outputs and ``clone``.

Each scenario is a function ``scenario(compiled)`` that builds everything from a seed, calls the
step (compiled or not) several times and returns what is observable: every returned value (also
re-read at the end), parameters, gradients, what the caller holds, identity relations and shared
memory. Eager is run once and compiled once; they must agree bit for
bit, with at most one fall-back warning.
"""
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(tensor):
    return np.array(tensor.detach().numpy(), copy=True)


def rng_tensor(shape, seed, dtype=np.float64, requires_grad=False):
    array = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return chainrule.tensor(array, requires_grad=requires_grad)


def params_of(*modules):
    found = []
    for module in modules:
        for p in module.parameters():
            found.append((arr(p), None if p.grad is None else arr(p.grad)))
    return found


def observe(scenario, compiled):
    chainrule.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = scenario(compiled)
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message) or "compile" in str(w.message)]
    return found, messages


def check(scenario):
    eager, eager_messages = observe(scenario, False)
    compiled, messages = observe(scenario, True)
    assert_identical(compiled, eager, "compiled against eager")
    assert len(messages) <= 1, messages
    return messages


def maybe(compiled, step):
    return chainrule.compile(step) if compiled else step


# ----------------------------------------------------------------------------- arguments sharing one storage
@pytest.mark.parametrize("how", ["x, x[1:]", "x, x.t()", "x, x.view", "x, x (requires_grad)", "x, x.flip", "x[::2], x[1::2]"])
def test_views_of_one_storage_given_as_two_arguments_written_after_the_call(how):
    """The caller writes the shared storage between calls; returned views must follow it as eagerly."""

    def scenario(compiled):
        net = nn.Linear(4, 4).double()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(a, b):
            opt.zero_grad()
            loss = net(a).tanh().sum() + (b * b).sum() * 0.1
            loss.backward()
            opt.step()
            return loss.detach(), a.detach()[0], b.detach()

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(5):
            x = rng_tensor((4, 4), 100 + index, requires_grad=how == "x, x (requires_grad)")
            if how == "x, x[1:]":
                args = (x, x[1:])
            elif how == "x, x.t()":
                args = (x, x.t())
            elif how == "x, x.view":
                args = (x, x.view(16)[:4])
            elif how == "x, x.flip":
                args = (x, x.flip(0))
            elif how == "x[::2], x[1::2]":
                big = rng_tensor((8, 4), 200 + index)
                args = (big[::2], big[1::2])
            else:
                args = (x, x)
            result = function(*args)
            kept.append((result, args))
            with chainrule.no_grad():
                args[0].mul_(-1.0) if not args[0].requires_grad else None
            found.append([arr(r) for r in result])
            found.append([np.shares_memory(r.detach().numpy(), args[0].detach().numpy()) for r in result[1:]])
            found.append(params_of(net))
        found.append([[arr(r) for r in result] for result, _ in kept])
        return found

    check(scenario)


def test_argument_aliasing_a_parameter_storage_used_after_the_update():
    """``net.weight.data`` given as an argument: the optimizer's in-place update shows in it."""

    def scenario(compiled):
        net = nn.Linear(3, 3).double()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.5)

        def step(w, x):
            opt.zero_grad()
            loss = (net(x) ** 2).mean()
            loss.backward()
            before = w * 1.0
            opt.step()
            return loss.detach(), before, w * 1.0, w

        function = maybe(compiled, step)
        found = []
        for index in range(6):
            # call 0 and 1 record/replay with a distinct tensor; later calls alias the weight
            w = rng_tensor((3, 3), 7 + index) if index in (0, 1, 4) else net.weight.data
            result = function(w, rng_tensor((5, 3), 50 + index))
            found.append([arr(r) for r in result])
            found.append([result[3] is w, np.shares_memory(result[3].numpy(), net.weight.detach().numpy())])
            found.append(params_of(net))
        return found

    check(scenario)


def test_argument_aliasing_a_parameter_written_in_place_by_the_step():
    def scenario(compiled):
        net = nn.Linear(3, 2).double()

        def step(w, x):
            with chainrule.no_grad():
                w.mul_(0.5)
            out = net(x).sum()
            out.backward()
            return out.detach(), w.sum()

        function = maybe(compiled, step)
        found = []
        for index in range(6):
            net.zero_grad()
            w = rng_tensor((2, 3), 3 + index) if index < 2 else net.weight.data[:, :]
            result = function(w, rng_tensor((4, 3), 30 + index))
            found.append([arr(r) for r in result])
            found.append(params_of(net))
        return found

    check(scenario)


# ----------------------------------------------------------------------------- layouts of the recorded shape
def layouts(kind, shape, seed):
    """A tensor of ``shape`` laid out as ``kind``."""
    rows, cols = shape
    base = np.random.default_rng(seed).normal(size=shape)
    if kind == "contiguous":
        return chainrule.tensor(base)
    if kind == "transposed":
        return chainrule.tensor(base.T.copy()).t()
    if kind == "fortran from_numpy":
        return chainrule.from_numpy(np.asfortranarray(base))
    if kind == "fortran as_tensor":
        return chainrule.as_tensor(np.asfortranarray(base))
    if kind == "step 2 slice":
        big = np.random.default_rng(seed).normal(size=(rows * 2, cols * 2))
        return chainrule.tensor(big)[::2, ::2]
    if kind == "expanded":
        return chainrule.tensor(base[:1]).expand(rows, cols)
    if kind == "flipped":  # (from_numpy of base[::-1, ::-1] is refused, as PyTorch refuses negative strides)
        return chainrule.tensor(base).flip((0, 1))
    raise AssertionError(kind)


KINDS = ["transposed", "fortran from_numpy", "fortran as_tensor", "step 2 slice", "expanded", "flipped"]


@pytest.mark.parametrize("kind", KINDS)
def test_reductions_of_non_contiguous_arguments_after_a_contiguous_recording(kind):
    """Reductions whose order of additions follows the memory layout (pairwise sums): the program
    must give eager's bits for each layout, also for the gradients."""

    def scenario(compiled):
        w = chainrule.tensor(np.random.default_rng(1).normal(size=(48, 5)), requires_grad=True)

        def step(x):
            loss = (x @ w).tanh().sum() + x.sum(0).sum() * 0.5 + (x * x).mean(1).sum()
            loss.backward()
            return loss.detach(), x.sum(0), x.sum(1), x.sum(), x.abs().max(0).values, x.t().sum(0)

        function = maybe(compiled, step)
        found = []
        for index in range(6):
            w.grad = None
            x = layouts("contiguous" if index in (0, 1, 4) else kind, (64, 48), 10 + index)
            found.append([arr(r) for r in function(x)])
            found.append([arr(w.grad), w.grad.stride()])
        return found

    check(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_contiguous_of_a_non_contiguous_argument_after_a_contiguous_recording(kind):
    def scenario(compiled):
        def step(x):
            y = x.contiguous()
            return y, y.sum(0)

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            x = layouts("contiguous" if index in (0, 1, 4) else kind, (64, 48), 10 + index)
            y, total = function(x)
            found.append([y is x, np.shares_memory(y.numpy(), x.numpy()), y.stride(), arr(y), arr(total)])
        return found

    check(scenario)


def test_contiguous_of_a_transposed_argument_gives_eager_s_sum_bits():
    """The same bug seen in values alone: ``x.contiguous().sum(0)`` adds in another order."""

    def scenario(compiled):
        def step(x):
            return x.contiguous().sum(0)

        function = maybe(compiled, step)
        return [arr(function(layouts("contiguous" if index < 2 else "transposed", (64, 48), index))) for index in range(4)]

    check(scenario)



@pytest.mark.parametrize("kind", KINDS)
def test_gradient_of_an_elementwise_product_with_a_non_contiguous_argument(kind):
    def scenario(compiled):
        w = chainrule.tensor(np.random.default_rng(1).normal(size=(64, 48)), requires_grad=True)

        def step(x):
            w.grad = None
            loss = (x * w).sum()
            loss.backward()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            x = layouts("contiguous" if index in (0, 1) else kind, (64, 48), 10 + index)
            found.append(arr(function(x)))
            found.append([arr(w.grad), arr(w.grad.sum(0))])  # the caller's reduction follows the layout
        return found

    check(scenario)


@pytest.mark.parametrize("op", ["mul", "div"])
def test_gradient_of_a_product_with_a_transposed_argument_on_every_call(op):
    def scenario(compiled):
        w = chainrule.tensor(np.random.default_rng(1).normal(size=(64, 48)), requires_grad=True)

        def step(x):
            w.grad = None
            loss = (w * x).sum() if op == "mul" else (w / (x.abs() + 1.0)).sum()
            loss.backward()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            found.append(arr(function(layouts("transposed", (64, 48), index))))
            found.append([arr(w.grad), w.grad.stride(), arr(w.grad.sum(0))])
        return found

    check(scenario)


@pytest.mark.parametrize("op", ["mul by a number", "tanh", "mse", "maximum", "where", "exp", "clone", "matmul"])
@pytest.mark.parametrize("kind", ["transposed", "step 2 slice", "fortran from_numpy"])
def test_gradients_of_other_operations_with_non_contiguous_arguments(op, kind):
    def scenario(compiled):
        w = chainrule.tensor(np.random.default_rng(1).normal(size=(64, 48)), requires_grad=True)
        ops = {
            "mul by a number": lambda x: (x * w * 2.0).sum(),
            "tanh": lambda x: (w * x).tanh().sum(),
            "mse": lambda x: F.mse_loss(w, x),
            "maximum": lambda x: chainrule.maximum(w, x).sum(),
            "where": lambda x: chainrule.where(x > 0, w, w * 2.0).sum(),
            "exp": lambda x: (w.exp() * x).sum(),
            "clone": lambda x: (w * x.clone()).sum(),
            "matmul": lambda x: (x.t() @ w).sum(),
        }

        def step(x):
            w.grad = None
            loss = ops[op](x)
            loss.backward()
            return loss.detach(), w.grad.sum(0)

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            x = layouts(kind if index in (0, 2, 3) else "contiguous", (64, 48), index)
            found.append([arr(r) for r in function(x)])
            found.append([arr(w.grad), w.grad.stride(), np.shares_memory(w.grad.numpy(), x.numpy())])
        return found

    check(scenario)


def test_gradient_layout_of_an_elementwise_product_with_a_fortran_argument_in_values():
    """A leaf gradient's layout seen in values read inside the step: ``w.grad.sum(0)``."""

    def scenario(compiled):
        w = chainrule.tensor(np.random.default_rng(1).normal(size=(64, 48)), requires_grad=True)

        def step(x):
            w.grad = None
            (x * w).sum().backward()
            return w.grad.sum(0)

        function = maybe(compiled, step)
        return [arr(function(layouts("contiguous" if index < 2 else "fortran from_numpy", (64, 48), index))) for index in range(4)]

    check(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_non_contiguous_arguments_through_a_training_step(kind):
    def scenario(compiled):
        net = nn.Sequential(nn.Linear(48, 16), nn.Tanh(), nn.Linear(16, 1)).double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x):
            opt.zero_grad()
            loss = net(x).pow(2).mean()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 0.5)
            opt.step()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(6):
            x = layouts("contiguous" if index in (0, 1, 4) else kind, (64, 48), 10 + index)
            found.append(arr(function(x)))
            found.append(params_of(net))
            found.append([[p.grad.stride() for p in net.parameters()]])
        return found

    check(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_non_contiguous_leaf_argument_gets_a_contiguous_gradient(kind):
    def scenario(compiled):
        w = chainrule.tensor(np.random.default_rng(1).normal(size=(64, 48)))

        def step(x):
            loss = (x * w).sum() + (x.exp() * 0.5).sum()
            loss.backward()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            x = layouts("contiguous" if index < 2 else kind, (64, 48), 10 + index)
            if kind == "expanded" and index >= 2:
                x = x.detach().requires_grad_()
            x.requires_grad_(True)
            found.append(arr(function(x)))
            found.append([arr(x.grad), x.grad.stride(), arr(x.grad.sum(0)), arr(x.grad.sum())])
        return found

    check(scenario)



@pytest.mark.parametrize("kind", KINDS)
def test_view_of_a_non_contiguous_argument_raises_as_eagerly(kind):
    def scenario(compiled):
        def step(x):
            return x.view(-1) * 2.0

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            x = layouts("contiguous" if index < 2 else kind, (4, 6), index)
            try:
                found.append(arr(function(x)))
            except RuntimeError as error:
                found.append(("raised", type(error).__name__))
        return found

    check(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_reshape_and_flatten_of_non_contiguous_arguments(kind):
    def scenario(compiled):
        def step(x):
            return x.reshape(-1), x.flatten(), x.reshape(6, 4) + 1.0, x.t().reshape(-1)

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(5):
            x = layouts("contiguous" if index in (0, 1, 4) else kind, (4, 6), index)
            result = function(x)
            kept.append(result)
            found.append([arr(r) for r in result] + [np.shares_memory(r.numpy(), x.numpy()) for r in result])
            found.append([r.stride() for r in result])
        found.append([[arr(r) for r in result] for result in kept])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- from_numpy / as_tensor arrays
@pytest.mark.parametrize("size", [6, 3000])
def test_from_numpy_argument_whose_array_the_caller_changes_between_calls(size):
    def scenario(compiled):
        w = chainrule.tensor(np.linspace(-1, 1, size), requires_grad=True)
        data = np.random.default_rng(0).normal(size=size)
        x = chainrule.from_numpy(data)

        def step(x):
            loss = (x * w).tanh().sum()
            loss.backward()
            return loss.detach(), x * 1.0

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            w.grad = None
            data *= -1.5
            data[index] = 7.0
            result = function(x)
            found.append([arr(r) for r in result] + [arr(w.grad)])
        return found

    check(scenario)


@pytest.mark.parametrize("size", [6, 3000])
def test_closed_over_from_numpy_tensor_whose_array_is_changed_inside_the_step(size):
    """The step changes a NumPy array with NumPy (not an operation of chainrule's) that a tensor
    it reads shares: eager sees the new values on each call."""

    def scenario(compiled):
        data = np.arange(size, dtype=np.float64)
        table = chainrule.from_numpy(data)
        w = chainrule.tensor(np.full(size, 0.5), requires_grad=True)

        def step(x):
            data[:] += 1.0  # NumPy writes the array that `table` holds
            loss = (table * w * x).sum()
            loss.backward()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            w.grad = None
            found.append([arr(function(rng_tensor((size,), index))), arr(w.grad), data.copy()])
        return found

    check(scenario)


@pytest.mark.parametrize("size", [6, 3000])
def test_numpy_array_argument_changed_inside_the_step(size):
    def scenario(compiled):
        w = chainrule.tensor(np.linspace(-1, 1, size), requires_grad=True)

        def step(data):
            data *= 1.5
            x = chainrule.as_tensor(data)
            loss = (x * w).sum()
            loss.backward()
            return loss.detach()

        function = maybe(compiled, step)
        data = np.ones(size)
        found = []
        for index in range(5):
            w.grad = None
            found.append([arr(function(data)), arr(w.grad), data.copy()])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- batch sizes, dtypes
def test_zero_size_batches_and_batches_of_one():
    def scenario(compiled):
        net = nn.Linear(3, 2).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            loss = ((out - y) ** 2).sum()
            loss.backward()
            opt.step()
            return loss.detach(), out.detach(), out.sum(0)

        function = maybe(compiled, step)
        found = []
        for index, n in enumerate([0, 0, 1, 1, 0, 4, 1, 0]):
            result = function(rng_tensor((n, 3), index), rng_tensor((n, 2), 50 + index))
            found.append([arr(r) for r in result])
            found.append(params_of(net))
        return found

    check(scenario)


def test_integer_and_bool_arguments_changed_in_place_between_calls():
    def scenario(compiled):
        emb = nn.Embedding(10, 3).double()
        idx = chainrule.tensor(np.array([1, 2, 3, 4], dtype=np.int64))
        mask = chainrule.tensor(np.array([True, False, True, True]))
        counts = chainrule.zeros(4, dtype=chainrule.int64)

        def step(idx, mask, counts):
            out = emb(idx).sum(1)
            loss = chainrule.where(mask, out, chainrule.zeros_like(out)).sum()
            loss.backward()
            counts += idx
            return loss.detach(), counts, (idx * 2), mask.logical_not()

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(6):
            emb.zero_grad()
            result = function(idx, mask, counts)
            kept.append(result)
            found.append([arr(r) for r in result] + [result[1] is counts, arr(emb.weight.grad)])
            idx[index % 4] = (index * 3) % 10
            mask[index % 4] = not bool(mask[index % 4])
        found.append([[arr(r) for r in result] for result in kept])
        return found

    check(scenario)


def test_requires_grad_toggled_on_the_same_argument_between_calls():
    def scenario(compiled):
        net = nn.Linear(3, 3).double()
        x = rng_tensor((2, 3), 0)

        def step(x):
            out = net(x).sigmoid().sum()
            out.backward()
            return out.detach(), x.grad

        function = maybe(compiled, step)
        found = []
        for index in range(6):
            net.zero_grad()
            x.requires_grad_(index % 3 != 0)
            x.grad = None
            result = function(x)
            found.append([arr(result[0]), None if result[1] is None else arr(result[1])])
            found.append([result[1] is x.grad, params_of(net)])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- what the caller holds across calls
@pytest.mark.parametrize("set_to_none", [True, False])
def test_grad_tensors_and_their_numpy_views_held_across_calls(set_to_none):
    def scenario(compiled):
        net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad(set_to_none=set_to_none)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        function = maybe(compiled, step)
        found, held = [], []
        for index in range(6):
            loss = function(rng_tensor((5, 3), index), rng_tensor((5, 2), 40 + index))
            grads = [p.grad for p in net.parameters()]
            found.append([arr(loss), params_of(net)])
            found.append([[g is h for g, h in zip(grads, previous)] for previous in held])
            found.append([[arr(h) for h in previous] for previous in held])  # earlier calls' gradients now
            held.append(grads)
        return found

    check(scenario)


@pytest.mark.parametrize("optimizer", ["sgd momentum", "adam", "rmsprop"])
def test_parameters_and_optimizer_state_held_as_numpy_views(optimizer):
    """The caller keeps ``p.detach().numpy()``, ``p.grad.numpy()`` and the state tensors: eager
    updates them in place, so the held arrays see each step."""

    def scenario(compiled):
        net = nn.Linear(3, 2).double()
        if optimizer == "sgd momentum":
            opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        elif optimizer == "adam":
            opt = optim.Adam(net.parameters(), lr=0.05)
        else:
            opt = optim.RMSprop(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        views = None
        for index in range(6):
            found.append(arr(function(rng_tensor((5, 3), index), rng_tensor((5, 2), 40 + index))))
            state = [{k: v for k, v in sorted(opt.state[p].items()) if isinstance(v, chainrule.Tensor)} for p in net.parameters()]
            if views is None and index >= 1:
                views = {
                    "params": [p.detach().numpy() for p in net.parameters()],
                    "data": [p.data for p in net.parameters()],
                    "grads": [p.grad.numpy() for p in net.parameters()],
                    "grad tensors": [p.grad for p in net.parameters()],
                    "state": [{k: v for k, v in s.items()} for s in state],
                    "state numpy": [{k: v.numpy() for k, v in s.items()} for s in state],
                }
            if views is not None:
                found.append([
                    [a.copy() for a in views["params"]], [arr(t) for t in views["data"]], [a.copy() for a in views["grads"]],
                    [arr(t) for t in views["grad tensors"]],
                    [{k: arr(v) for k, v in s.items()} for s in views["state"]],
                    [{k: v.copy() for k, v in s.items()} for s in views["state numpy"]],
                    [[s[k] is held[k] for k in s] for s, held in zip(state, views["state"])],
                    [p.grad is g for p, g in zip(net.parameters(), views["grad tensors"])],
                ])
            found.append(params_of(net))
        return found

    check(scenario)


def test_held_gradient_written_by_the_caller_and_accumulated_into():
    def scenario(compiled):
        w = chainrule.tensor(np.random.default_rng(0).normal(size=(3, 3)), requires_grad=True)

        def step(x):
            loss = (w @ x).tanh().sum()
            loss.backward()
            return loss.detach(), w.grad

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(6):
            result = function(rng_tensor((3, 2), index))
            kept.append(result)
            held = w.grad
            found.append([arr(r) for r in result] + [result[1] is held])
            with chainrule.no_grad():
                held.mul_(0.5)  # the caller scales the gradient the next backward accumulates into
            if index == 3:
                w.grad.zero_()
        found.append([[arr(r) for r in result] for result in kept])
        found.append([kept[i][1] is kept[i + 1][1] for i in range(len(kept) - 1)])
        return found

    check(scenario)


@pytest.mark.parametrize("what", ["detach", "data", "no_grad output", "clone", "view of output", "output", "intermediate views"])
def test_returned_tensors_kept_from_several_calls_and_changed_by_the_caller(what):
    def scenario(compiled):
        net = nn.Linear(4, 4).double()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x):
            opt.zero_grad()
            h = net(x)
            act = h.relu()
            loss = act.pow(2).mean()
            loss.backward()
            opt.step()
            if what == "detach":
                return loss.detach(), act.detach(), net.weight.detach()
            if what == "data":
                return loss.data, act.data, net.weight.data
            if what == "no_grad output":
                with chainrule.no_grad():
                    return loss * 1.0, net(x), x + 0.0
            if what == "clone":
                return loss.detach().clone(), act.detach().clone(), x.clone()
            if what == "view of output":
                flat = act.detach().view(-1)
                return flat[2:5], flat.view(4, 4).t(), flat
            if what == "output":
                return loss.detach(), h.detach(), x
            flat = h.detach().reshape(-1)
            return flat[::3], h.detach()[1], h.detach().t()[0]

        function = maybe(compiled, step)
        found, kept, x = [], [], rng_tensor((4, 4), 99)
        for index in range(6):
            x = rng_tensor((4, 4), index) if what != "output" else x
            result = function(x)
            kept.append(result)
            found.append([arr(r) for r in result])
            found.append([np.shares_memory(a.numpy(), b.numpy()) for a in result for b in [*result, x, net.weight.detach()] if a is not b])
            with chainrule.no_grad():
                result[1].add_(100.0)  # the caller writes a returned tensor before the next call
            found.append(params_of(net))
        found.append([[arr(r) for r in result] for result in kept])
        return found

    check(scenario)


def test_returned_tensors_of_a_long_rolled_chain_kept_across_calls():
    def scenario(compiled):
        w = chainrule.tensor(np.random.default_rng(0).normal(size=(3,)), requires_grad=True)

        def step(x):
            h = x
            outs = []
            for i in range(60):
                h = (h * w).tanh() + 0.1
                if i % 20 == 0:
                    outs.append(h.detach())
            loss = h.sum()
            loss.backward()
            return loss.detach(), outs

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(5):
            w.grad = None
            loss, outs = function(rng_tensor((3,), index))
            kept.append(outs)
            found.append([arr(loss), [arr(o) for o in outs], arr(w.grad)])
            outs[0].mul_(-1.0)
        found.append([[arr(o) for o in outs] for outs in kept])
        return found

    check(scenario)


def test_no_op_conversions_return_the_argument_itself_as_eagerly():
    def scenario(compiled):
        def step(x):
            return (x.float(), x.to(x.dtype), x.contiguous(), x.type(x.dtype), x.requires_grad_(False),
                    x.detach(), x.view_as(x), x[:], x.reshape(x.shape), x.expand_as(x), x * 1.0)

        function = maybe(compiled, step)
        found, kept = [], []
        for index in range(5):
            x = rng_tensor((3, 4), index, dtype=np.float32)
            result = function(x)
            kept.append((x, result))
            found.append([r is x for r in result])
            found.append([np.shares_memory(r.numpy(), x.numpy()) for r in result])
            x.add_(1.0)
            found.append([arr(r) for r in result])
        found.append([[arr(r) for r in result] for _, result in kept])
        return found

    check(scenario)


def test_closed_over_tensor_written_in_place_by_the_caller_through_a_view():
    def scenario(compiled):
        table = rng_tensor((6, 3), 0)
        w = chainrule.tensor(np.ones(3), requires_grad=True)
        handle = table[2:4].t()

        def step(i):
            rows = table[i]
            loss = (rows * w).sum()
            loss.backward()
            return loss.detach(), rows

        function = maybe(compiled, step)
        found, kept = [], []
        index_tensor = chainrule.tensor(np.array([2, 3, 5]))
        for index in range(5):
            w.grad = None
            result = function(index_tensor)
            kept.append(result)
            found.append([arr(r) for r in result] + [arr(w.grad)])
            handle.mul_(2.0)
            table.numpy()[5] += 1.0
        found.append([[arr(r) for r in result] for result in kept])
        return found

    check(scenario)


# ----------------------------------------------------------------------------- layout read or used inside the step

@pytest.mark.parametrize("read", ["stride", "is_contiguous branch"])
def test_layout_of_an_argument_read_inside_the_step(read):
    def scenario(compiled):
        def step(x):
            if read == "stride":
                return x.stride(), x * 1.0
            return (x * 2.0) if x.is_contiguous() else (x * 3.0)

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            result = function(layouts("contiguous" if index < 2 else "step 2 slice", (4, 6), index))
            found.append([arr(r) if isinstance(r, chainrule.Tensor) else r for r in (result if read == "stride" else (result,))])
        return found

    check(scenario)



@pytest.mark.parametrize("kind", KINDS)
def test_tensor_unfold_of_a_non_contiguous_argument(kind):
    def scenario(compiled):
        def step(x):
            return x.unfold(1, 2, 1) * 1.0, x.unfold(0, 2, 2).sum(-1)

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            x = layouts("contiguous" if index < 2 else kind, (4, 6), index)
            found.append([arr(r) for r in function(x)])
        return found

    check(scenario)


def test_as_strided_of_a_flipped_argument():
    def scenario(compiled):
        def step(x):
            return x.as_strided((3, 3), (1, 1)) * 1.0

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            x = layouts("contiguous" if index < 2 else "flipped", (4, 6), index)
            try:
                found.append(arr(function(x)))
            except (RuntimeError, ValueError) as error:
                found.append(("raised", type(error).__name__))
        return found

    check(scenario)


def test_in_place_write_into_an_expanded_argument_raises_as_eagerly():
    def scenario(compiled):
        def step(x):
            x.mul_(2.0)
            return x * 1.0

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            x = layouts("contiguous" if index < 2 else "expanded", (4, 6), index)
            try:
                found.append(arr(function(x)))
            except Exception as error:  # noqa: BLE001 (the type is what is compared)
                found.append(("raised", type(error).__name__))
        return found

    check(scenario)


def test_returned_shape_keeps_its_type():
    def scenario(compiled):
        function = maybe(compiled, lambda x: (x.shape, x.size(), x.size(1), x * 1.0))
        found = []
        for index in range(3):
            shape, size, one, value = function(rng_tensor((4, 6), index))
            found.append([type(shape).__name__, tuple(shape), type(size).__name__, one, arr(value)])
        return found

    check(scenario)


@pytest.mark.parametrize("kind", ["nhwc permuted", "step 2 slice"])
def test_convolution_and_pooling_of_non_contiguous_images(kind):
    """Images in NHWC order permuted to NCHW (a data pipeline's usual layout) after a recording on
    contiguous images: convolution, pooling and im2col must give eager's bits and gradients."""

    def images(which, index):
        a = np.random.default_rng(index).normal(size=(2, 3, 8, 8))
        if which == "contiguous":
            return chainrule.tensor(a)
        if which == "nhwc permuted":
            return chainrule.tensor(np.ascontiguousarray(a.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)
        return chainrule.tensor(np.random.default_rng(index).normal(size=(2, 3, 16, 16)))[:, :, ::2, ::2]

    def scenario(compiled):
        conv = nn.Conv2d(3, 4, 3, padding=1).double()
        opt = optim.SGD(conv.parameters(), lr=0.01, momentum=0.9)

        def step(x):
            opt.zero_grad()
            y = conv(x)
            loss = F.max_pool2d(y, 2).sum() + F.avg_pool2d(x, 2).pow(2).sum() + F.unfold(x, 3).mean()
            loss.backward()
            opt.step()
            return loss.detach(), y.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            found.append([arr(r) for r in function(images("contiguous" if index in (0, 1, 4) else kind, index))])
            found.append(params_of(conv))
        return found

    check(scenario)


@pytest.mark.parametrize("use", ["tensor index", "numpy index", "index_select", "embedding", "gather"])
@pytest.mark.parametrize("n", [8, 2000])
def test_closed_over_index_array_changed_in_place_by_the_caller(use, n):
    """A permutation the step closes over (a NumPy array and a from_numpy tensor on it) that the
    caller reshuffles in place between calls: the program must index with the new values."""

    def scenario(compiled):
        data = chainrule.tensor(np.random.default_rng(0).normal(size=(n, 3)))
        order = np.arange(n)[::-1].copy()
        order_tensor = chainrule.from_numpy(order)
        emb = nn.Embedding(n, 3).double()

        def step(x):
            if use == "tensor index":
                rows = data[order_tensor]
            elif use == "numpy index":
                rows = data[order]
            elif use == "index_select":
                rows = data.index_select(0, order_tensor)
            elif use == "embedding":
                rows = emb(order_tensor)
            else:
                rows = data.gather(0, order_tensor.unsqueeze(1).expand(n, 3))
            return (rows * x).sum(), rows

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            found.append([arr(r) for r in function(chainrule.tensor(float(index + 1)))])
            order[:] = np.random.default_rng(index).permutation(n)
        return found

    check(scenario)


@pytest.mark.parametrize("forward", ["product", "tanh of product"])
@pytest.mark.parametrize("kinds", [("contiguous", "transposed"), ("transposed", "transposed"), ("contiguous", "fortran from_numpy")])
def test_compiled_module_called_with_non_contiguous_inputs_and_backward_outside(forward, kinds):
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(chainrule.tensor(np.random.default_rng(1).normal(size=(64, 48))))

        def forward(self, x):
            y = x * self.w
            return y if forward == "product" else y.tanh()

    def scenario(compiled):
        model = Scale()
        if compiled:
            model.compile()
        found = []
        for index in range(4):
            model.zero_grad()
            x = layouts(kinds[0] if index < 2 else kinds[1], (64, 48), index)
            y = model(x)
            y.sum().backward()
            found.append([arr(y), arr(model.w.grad), model.w.grad.stride(), arr(model.w.grad.sum(0))])
        return found

    check(scenario)


def test_non_contiguous_parameter_trained_with_momentum():
    def scenario(compiled):
        p = chainrule.tensor(np.random.default_rng(1).normal(size=(48, 64))).t().requires_grad_()
        opt = optim.SGD([p], lr=0.1, momentum=0.9)

        def step(x):
            opt.zero_grad()
            loss = (p * x).tanh().sum() + (p * p).sum()
            loss.backward()
            opt.step()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            found.append(arr(function(layouts("contiguous", (64, 48), index))))
            buf = opt.state[p]["momentum_buffer"]
            found.append([arr(p), p.stride(), p.grad.stride(), arr(p.grad.sum(0)), buf.stride(), arr(buf.sum(0))])
        return found

    check(scenario)


@pytest.mark.parametrize("how", ["copy_ from a fortran array", "data = from_numpy(fortran)", "data = transposed view"])
def test_parameter_data_replaced_by_the_caller_with_another_layout(how):
    """A checkpoint loaded by hand between calls, in another memory layout than the recording's."""

    def scenario(compiled):
        net = nn.Linear(6, 6).double()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x):
            opt.zero_grad()
            loss = (net(x) * net.weight.sum(0)).tanh().sum() + (net.weight * x[0]).sum()
            loss.backward()
            opt.step()
            return loss.detach(), net.weight.detach().sum(1)

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            if index == 2:
                loaded = np.asfortranarray(np.random.default_rng(5).normal(size=(6, 6)))
                with chainrule.no_grad():
                    if how == "copy_ from a fortran array":
                        net.weight.copy_(chainrule.from_numpy(loaded))
                    elif how == "data = from_numpy(fortran)":
                        net.weight.data = chainrule.from_numpy(loaded)
                    else:
                        net.weight.data = chainrule.tensor(np.ascontiguousarray(loaded.T)).t()
            found.append([arr(r) for r in function(rng_tensor((4, 6), index))])
            found.append([params_of(net), net.weight.stride(), net.weight.grad.stride()])
            found.append({k: arr(v) for k, v in opt.state[net.weight].items() if isinstance(v, chainrule.Tensor)})
        return found

    check(scenario)


def test_batch_norm_running_statistics_and_kept_activations_held_by_the_caller():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.bn = nn.BatchNorm1d(4)

        def forward(self, x):
            h = self.bn(self.fc(x))
            self.out = h.detach()
            return h

    def scenario(compiled):
        net = Net().double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = net(x).relu().pow(2).mean()
            loss.backward()
            opt.step()
            return loss.detach(), net.bn.running_mean

        function = maybe(compiled, step)
        found, outs = [], []
        held_mean = net.bn.running_mean
        held_var_numpy = net.bn.running_var.numpy()
        for index in range(5):
            loss, mean = function(rng_tensor((8, 3), index))
            outs.append(net.out)
            found.append([arr(loss), arr(mean), mean is held_mean, net.bn.running_mean is held_mean])
            found.append([arr(held_mean), held_var_numpy.copy(), arr(net.bn.running_var), int(net.bn.num_batches_tracked)])
            found.append([np.shares_memory(held_var_numpy, net.bn.running_var.numpy()), params_of(net)])
        found.append([arr(o) for o in outs])
        found.append([outs[i] is outs[i + 1] for i in range(len(outs) - 1)])
        return found

    check(scenario)


@pytest.mark.parametrize("kind", ["transposed", "fortran from_numpy", "step 2 slice", "expanded"])
def test_forward_operations_of_non_contiguous_arguments_keep_eager_s_layout_and_bits(kind):
    ops = [
        lambda x: x.clone(), lambda x: chainrule.clone(x), lambda x: x + 0.0, lambda x: x.float(), lambda x: -x,
        lambda x: x.exp(), lambda x: chainrule.where(x > 0, x, 0.0), lambda x: x.softmax(1), lambda x: x.log_softmax(0),
        lambda x: x.cumsum(0), lambda x: x.norm(dim=0), lambda x: x.var(0), lambda x: x.std(1),
        lambda x: F.layer_norm(x, (48,)), lambda x: x @ x.t(), lambda x: x.logsumexp(0), lambda x: x.sort(0).values,
        lambda x: chainrule.cat([x, x], 0), lambda x: chainrule.zeros_like(x) + x,
    ]

    def scenario(compiled):
        def step(x):
            results = [op(x) for op in ops]
            return results, [r.sum() for r in results], [r.float().sum(0) for r in results]

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            results, totals, columns = function(layouts("contiguous" if index < 2 else kind, (64, 48), index))
            found.append([[arr(r), r.stride()] for r in results] + [arr(t) for t in totals] + [arr(c) for c in columns])
        return found

    check(scenario)


def test_outputs_of_a_compiled_module_kept_across_calls_with_their_input_gradients():
    def scenario(compiled):
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        if compiled:
            net.compile()
        kept = []
        found = []
        for index in range(5):
            x = rng_tensor((5, 3), index, requires_grad=True)
            y = net(x)
            y.pow(2).sum().backward()
            kept.append((y, x))
            found.append([arr(y), arr(x.grad), params_of(net)])
            with chainrule.no_grad():
                y.mul_(0.0) if index % 2 else x.grad.add_(1.0)  # the caller writes what it holds
        found.append([[arr(y), arr(x.grad)] for y, x in kept])
        return found

    check(scenario)


@pytest.mark.parametrize("passed", ["weight.grad", "momentum buffer", "weight"])
def test_gradient_or_optimizer_state_passed_back_as_an_argument(passed):
    """The caller passes what it holds of the training state (a gradient zeroed and accumulated in
    place, a momentum buffer, a parameter) as an argument that the step reads before and after
    backward and the update: each read sees the values eager's in-place updates give."""

    def scenario(compiled):
        net = nn.Linear(3, 2).double()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, held):
            before = held * 1.0
            opt.zero_grad(set_to_none=False)
            loss = F.mse_loss(net(x), x[:, :2])
            loss.backward()
            middle = held * 1.0
            opt.step()
            return loss.detach(), before, middle, held * 1.0

        function = maybe(compiled, step)
        found = []
        # the first call, eager in both runs, fills .grad and the momentum buffer
        step(rng_tensor((4, 3), 99), rng_tensor((2, 3), 98))
        for index in range(5):
            held = {"weight.grad": net.weight.grad, "momentum buffer": opt.state[net.weight]["momentum_buffer"],
                    "weight": net.weight.detach()}[passed]
            found.append([arr(r) for r in function(rng_tensor((4, 3), index), held)])
            found.append([params_of(net), arr(held)])
        return found

    check(scenario)


@pytest.mark.parametrize("how", ["expand", "step 2 slice", "double transpose slice", "view"])
def test_view_of_a_leaf_outside_the_step_given_as_the_argument(how):
    """An argument with history (a view of a leaf that requires grad): backward inside the step
    reaches the caller's leaf, as eagerly (or the step runs eagerly)."""

    def scenario(compiled):
        net = nn.Linear(3, 2).double()
        base = chainrule.tensor(np.random.default_rng(0).normal(size=(1, 3)), requires_grad=True)
        big = chainrule.tensor(np.random.default_rng(1).normal(size=(8, 3)), requires_grad=True)

        def step(x):
            loss = net(x).pow(2).sum()
            loss.backward()
            return loss.detach()

        function = maybe(compiled, step)
        found = []
        for index in range(4):
            x = {"expand": lambda: base.expand(4, 3), "step 2 slice": lambda: big[::2],
                 "double transpose slice": lambda: big.t().t()[1:5], "view": lambda: big.view(24)[:12].view(4, 3)}[how]()
            found.append([arr(function(x)), params_of(net)])
            found.append([None if t.grad is None else arr(t.grad) for t in (base, big)])
        return found

    check(scenario)


@pytest.mark.parametrize("kind", ["step 2 slice", "transposed", "flipped"])
def test_non_contiguous_integer_targets_and_bool_masks(kind):
    def integer_view(which, index):
        values = np.random.default_rng(index).integers(0, 4, size=(12, 2))
        if which == "contiguous":
            return chainrule.tensor(values[:6, 0].copy())
        if which == "step 2 slice":
            return chainrule.tensor(values[:, 0])[::2]
        if which == "transposed":
            return chainrule.tensor(values[:6].copy()).t()[0]
        return chainrule.tensor(values[:6, 0].copy()).flip(0)

    def scenario(compiled):
        net = nn.Linear(3, 4).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, mask):
            opt.zero_grad()
            logits = net(x)
            loss = F.cross_entropy(logits, y) + F.one_hot(y, 4).double().mul(logits).sum() * 0.01
            loss = loss + chainrule.where(mask, logits[:, 0], logits[:, 1]).sum() * 0.1 + logits.gather(1, y[:, None]).mean()
            loss.backward()
            opt.step()
            return loss.detach(), y * 1, mask.logical_not()

        function = maybe(compiled, step)
        found = []
        for index in range(5):
            which = "contiguous" if index in (0, 1, 4) else kind
            y = integer_view(which, index)
            mask = (integer_view(which, 50 + index) > 1)
            found.append([arr(r) for r in function(rng_tensor((6, 3), index), y, mask)])
            found.append(params_of(net))
        return found

    check(scenario)


@pytest.mark.parametrize("what", ["input in place", "input through numpy", "input view", "weight in place", "weight through numpy"])
def test_compiled_module_input_or_weight_changed_between_forward_and_backward(what):
    """``model.compile()`` records the backward for later: a change the caller makes between the
    forward and ``backward()`` raises or is seen exactly as eagerly."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(chainrule.tensor(np.random.default_rng(3).normal(size=(3, 3))))

        def forward(self, x):
            return (x * self.w).tanh() @ x

    def scenario(compiled):
        net = Net()
        if compiled:
            net.compile()
        found = []
        for index in range(4):
            net.zero_grad()
            x = rng_tensor((3, 3), index)
            y = net(x)
            with chainrule.no_grad():
                if what == "input in place":
                    x.mul_(2.0)
                elif what == "input through numpy":
                    x.numpy()[0] += 1.0
                elif what == "input view":
                    x[1] = 0.5
                elif what == "weight in place":
                    net.w.mul_(0.5)
                else:
                    net.w.detach().numpy()[:, 0] -= 0.25
            try:
                y.sum().backward()
                found.append([arr(y), arr(net.w.grad)])
            except RuntimeError as error:
                found.append(("raised", str(error)[:40]))
        return found

    check(scenario)
