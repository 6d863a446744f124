"""chainrule.compile against eager execution over the ways ARGUMENTS reach a compiled training or
evaluation step: keywords and defaults, *args/**kwargs, batches as dicts, namedtuples, dataclasses,
lists and tuples (nested), the same container object changed between calls, None against a tensor
for an optional argument, bool/int/str flags, views and non-contiguous slices, the same tensor
twice, inputs that require grad, 0-d tensors used as values (a learning rate, a temperature),
integer targets changing dtype, and a changing number of arguments.

Each test builds the same model from the same seed twice, calls the step several times eagerly and
then compiled with arguments built afresh the same way, and compares bit for bit what each call
returns, what its arguments hold (with their gradients) and the model's and optimizer's state. A
compiled run may record anew or fall back to eager (with at most one warning), never differ.
(Aliasing arguments written in place, parameters passed as arguments and python state read from
globals/closures are covered by test_adversarial_tensor_state.py / test_adversarial_python_state.py.)
"""
import collections
import dataclasses
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def as_numpy(value, returned=False):
    """What is observable of ``value``, as NumPy values and plain containers: a tensor's array
    (and, unless ``returned``, its requires_grad and gradient); namedtuples, dataclasses, lists,
    tuples and dicts item by item."""
    if isinstance(value, chainrule.Tensor):
        if returned:
            return value._array.copy()
        grad = value.grad
        return {"array": value._array.copy(), "requires_grad": value.requires_grad,
                "grad": None if grad is None else grad._array.copy()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"dataclass": {field.name: as_numpy(getattr(value, field.name), returned)
                              for field in dataclasses.fields(value)}}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {"namedtuple": {name: as_numpy(getattr(value, name), returned) for name in value._fields}}
    if isinstance(value, (list, tuple)):
        return type(value)(as_numpy(item, returned) for item in value)
    if isinstance(value, dict):
        return {key: as_numpy(item, returned) for key, item in value.items()}
    return value


def state(*objects):
    found = []
    for thing in objects:
        if isinstance(thing, nn.Module):
            found.append([as_numpy(p) for p in thing.parameters()] + [as_numpy(b) for b in thing.buffers()])
        elif isinstance(thing, optim.Optimizer):
            found.append([{k: as_numpy(v) for k, v in s.items()} for s in thing.state.values()])
        else:
            found.append(as_numpy(thing))
    return found


def normal(shape, seed, dtype=np.float64, requires_grad=False):
    array = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return chainrule.tensor(array, requires_grad=requires_grad)


def run(compiled, setup, calls):
    """``setup()`` returns ``(step, observed, make_call)``: ``make_call(index)`` gives the
    ``(args, kwargs)`` of call ``index`` (it may keep and change the same objects between calls)."""
    chainrule.manual_seed(0)
    step, observed, make_call = setup()
    function = chainrule.compile(step) if compiled else step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index in range(calls):
            args, kwargs = make_call(index)
            result = function(*args, **kwargs)
            history.append({"call": index, "result": as_numpy(result, returned=True),
                            "args": as_numpy(list(args)), "kwargs": as_numpy(kwargs),
                            "state": state(*observed)})
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages, function


def assert_same_as_eager(setup, calls=6):
    eager, eager_messages, _ = run(False, setup, calls)
    compiled, messages, function = run(True, setup, calls)
    assert not eager_messages
    for first, second in zip(compiled, eager):
        assert_identical(first, second, f"call {first['call']}")
    assert len(messages) <= 1, messages
    return function


def model():
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()


def training(step_body, optimizer=lambda net: optim.SGD(net.parameters(), lr=0.1), make_call=None):
    """A setup: ``step_body(net, opt)`` returns the step; the model and optimizer are observed."""

    def setup():
        net = model()
        opt = optimizer(net)
        return step_body(net, opt), [net, opt], make_call or default_call

    return setup


def default_call(index):
    return (normal((4, 3), 10 + index), normal((4, 2), 20 + index)), {}


def train_on(net, opt, x, y, scale=1.0):
    opt.zero_grad()
    loss = F.mse_loss(net(x), y) * scale
    loss.backward()
    opt.step()
    return loss


# ----------------------------------------------------------------------------- keywords, defaults, *args, **kwargs
@pytest.mark.parametrize("style", ["positional", "keywords", "mixed", "keywords_reordered"])
def test_keyword_and_positional_calls(style):
    def body(net, opt):
        def step(x, y, scale=1.0):
            return train_on(net, opt, x, y, scale)
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return {
            "positional": ((x, y), {}),
            "keywords": ((), {"x": x, "y": y}),
            "mixed": ((x,), {"y": y}),
            "keywords_reordered": ((), {"y": y, "x": x}),
        }[style]

    assert_same_as_eager(training(body, make_call=make_call))


def test_default_used_then_passed_then_default_again():
    def body(net, opt):
        def step(x, y, scale=1.0):
            return train_on(net, opt, x, y, scale)
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return ((x, y), {}) if index % 3 == 0 else ((x, y), {"scale": 0.5 * index})

    assert_same_as_eager(training(body, make_call=make_call), calls=7)


def test_keyword_number_alternating_between_positional_and_keyword():
    def body(net, opt):
        def step(x, y, scale=1.0):
            return train_on(net, opt, x, y, scale)
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return ((x, y, 2.0), {}) if index % 2 else ((x, y), {"scale": 3.0})

    assert_same_as_eager(training(body, make_call=make_call))


def test_star_args_with_a_changing_number_of_tensors():
    def body(net, opt):
        def step(y, *xs):
            opt.zero_grad()
            loss = sum(F.mse_loss(net(x), y) for x in xs)
            loss.backward()
            opt.step()
            return loss
        return step

    def make_call(index):
        count = 1 + index % 3
        return (normal((4, 2), index),) + tuple(normal((4, 3), 100 * index + k) for k in range(count)), {}

    assert_same_as_eager(training(body, make_call=make_call), calls=7)


def test_star_star_kwargs_with_changing_keys():
    def body(net, opt):
        def step(x, y, **extra):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            if "weight" in extra:
                loss = loss * extra["weight"]
            if "l2" in extra:
                loss = loss + extra["l2"] * sum((p ** 2).sum() for p in net.parameters())
            loss.backward()
            opt.step()
            return {"loss": loss, "keys": sorted(extra)}
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        extra = [{}, {"weight": 2.0}, {"l2": 0.01}, {"weight": 0.5, "l2": 0.1}][index % 4]
        return (x, y), dict(extra)

    assert_same_as_eager(training(body, make_call=make_call), calls=8)


def test_changed_number_of_positional_arguments_with_an_optional_tensor():
    def body(net, opt):
        def step(x, y, weight=None):
            opt.zero_grad()
            error = (net(x) - y) ** 2
            if weight is not None:
                error = error * weight
            loss = error.mean()
            loss.backward()
            opt.step()
            return loss
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return ((x, y, normal((4, 1), 50 + index).abs()) if index % 2 else (x, y)), {}

    assert_same_as_eager(training(body, make_call=make_call))


# ----------------------------------------------------------------------------- containers
Batch = collections.namedtuple("Batch", "x y")


@dataclasses.dataclass
class DataBatch:
    x: chainrule.Tensor
    y: chainrule.Tensor


@pytest.mark.parametrize("kind", ["dict", "tuple", "list", "namedtuple", "dataclass", "nested"])
def test_fresh_container_batch_each_call(kind):
    def body(net, opt):
        def step(batch):
            if kind == "dict":
                x, y = batch["x"], batch["y"]
            elif kind in ("tuple", "list"):
                x, y = batch
            elif kind == "nested":
                x, y = batch["inputs"][0]["x"], batch["targets"][1]
            else:
                x, y = batch.x, batch.y
            return train_on(net, opt, x, y)
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        batch = {
            "dict": lambda: {"x": x, "y": y},
            "tuple": lambda: (x, y),
            "list": lambda: [x, y],
            "namedtuple": lambda: Batch(x, y),
            "dataclass": lambda: DataBatch(x, y),
            "nested": lambda: {"inputs": [{"x": x}], "targets": (None, y)},
        }[kind]()
        return (batch,), {}

    assert_same_as_eager(training(body, make_call=make_call))


@pytest.mark.parametrize("kind", ["dict", "list", "namedtuple_field_swap", "dataclass"])
def test_same_container_object_refilled_between_calls(kind):
    """The caller keeps ONE container and puts new tensors (new values, sometimes a new batch size)
    into it before each call."""

    def body(net, opt):
        def step(batch):
            if kind == "dict":
                x, y = batch["x"], batch["y"]
            elif kind == "list":
                x, y = batch[0], batch[1]
            else:
                x, y = batch.x, batch.y
            return train_on(net, opt, x, y)
        return step

    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)
        holder = {"dict": {}, "list": [None, None], "dataclass": DataBatch(None, None)}.get(kind)
        box = [holder]

        def make_call(index):
            rows = 4 if index < 3 else 6
            x, y = normal((rows, 3), 10 + index), normal((rows, 2), 20 + index)
            if kind == "dict":
                box[0]["x"], box[0]["y"] = x, y
            elif kind == "list":
                box[0][0], box[0][1] = x, y
            elif kind == "dataclass":
                box[0].x, box[0].y = x, y
            else:  # a namedtuple can only be replaced: _replace makes a new one
                box[0] = Batch(x, y)
            return (box[0],), {}

        return body(net, opt), [net, opt], make_call

    assert_same_as_eager(setup)


def test_same_list_appended_to_between_calls():
    def body(net, opt):
        def step(batches):
            opt.zero_grad()
            loss = sum(F.mse_loss(net(x), y) for x, y in batches) / len(batches)
            loss.backward()
            opt.step()
            return loss
        return step

    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)
        batches = []

        def make_call(index):
            batches.append(default_call(index)[0])
            return (batches,), {}

        return body(net, opt), [net, opt], make_call

    assert_same_as_eager(setup)


def test_same_dict_gains_an_optional_mask_key():
    def body(net, opt):
        def step(batch):
            opt.zero_grad()
            error = (net(batch["x"]) - batch["y"]) ** 2
            if "mask" in batch:
                error = error * batch["mask"]
            loss = error.sum()
            loss.backward()
            opt.step()
            return loss
        return step

    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.05)
        batch = {}

        def make_call(index):
            (batch["x"], batch["y"]), _ = default_call(index)
            if index == 3:
                batch["mask"] = chainrule.tensor(np.array([[1.0], [0.0], [1.0], [0.0]]))
            if index == 5:
                del batch["mask"]
            return (batch,), {}

        return body(net, opt), [net, opt], make_call

    assert_same_as_eager(setup, calls=7)


def test_deeply_nested_containers_beyond_the_signature_depth():
    """Lists nested deeper than the signature looks: the tensor deep inside changes shape."""

    def body(net, opt):
        def step(nested):
            x, y = nested[0][0][0][0][0]
            return train_on(net, opt, x, y)
        return step

    def make_call(index):
        rows = 4 if index % 2 == 0 else 5
        pair = [normal((rows, 3), 10 + index), normal((rows, 2), 20 + index)]
        return ([[[[[pair]]]]],), {}

    assert_same_as_eager(training(body, make_call=make_call))


def test_same_deeply_nested_list_refilled_in_place():
    def body(net, opt):
        def step(nested):
            x, y = nested[0][0][0][0][0]
            return train_on(net, opt, x, y)
        return step

    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)
        pair = [None, None]
        nested = [[[[[pair]]]]]

        def make_call(index):
            rows = 4 if index < 3 else 5
            pair[0], pair[1] = normal((rows, 3), 10 + index), normal((rows, 2), 20 + index)
            return (nested,), {}

        return body(net, opt), [net, opt], make_call

    assert_same_as_eager(setup)


def test_dict_with_non_string_keys():
    def body(net, opt):
        def step(batch):
            return train_on(net, opt, batch[0], batch[1])
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return ({0: x, 1: y},), {}

    assert_same_as_eager(training(body, make_call=make_call))


def test_same_non_string_key_dict_refilled():
    def body(net, opt):
        def step(batch):
            return train_on(net, opt, batch[0], batch[1])
        return step

    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)
        batch = {}

        def make_call(index):
            rows = 4 if index < 3 else 6
            batch[0], batch[1] = normal((rows, 3), 10 + index), normal((rows, 2), 20 + index)
            return (batch,), {}

        return body(net, opt), [net, opt], make_call

    assert_same_as_eager(setup)


def test_namedtuple_of_a_number_and_tensors_changing_number():
    Hyper = collections.namedtuple("Hyper", "x y scale")

    def body(net, opt):
        def step(batch):
            return train_on(net, opt, batch.x, batch.y, batch.scale)
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return (Hyper(x, y, 1.0 + index),), {}

    assert_same_as_eager(training(body, make_call=make_call))


# ----------------------------------------------------------------------------- optional arguments and flags
def test_mask_none_then_tensor_then_none():
    def body(net, opt):
        def step(x, y, mask=None):
            opt.zero_grad()
            out = net(x)
            if mask is not None:
                out = out.masked_fill(mask, 0.0)
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            return loss, out
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        if index in (2, 3):
            return (x, y), {"mask": normal((4, 2), 70 + index) > 0}
        return (x, y), {"mask": None} if index == 4 else {}

    assert_same_as_eager(training(body, make_call=make_call))


@pytest.mark.parametrize("pattern", [[True, False, True, True, False, False], [False, False, True, False]])
def test_train_flag_switches_between_a_training_and_an_evaluation_step(pattern):
    def body(net, opt):
        def step(x, y, train=True):
            if train:
                net.train()
                return train_on(net, opt, x, y)
            net.eval()
            with chainrule.no_grad():
                return F.mse_loss(net(x), y)
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return (x, y), {"train": pattern[index]}

    assert_same_as_eager(training(body, make_call=make_call), calls=len(pattern))


def test_reduction_string_and_int_flags():
    def body(net, opt):
        def step(x, y, reduction="mean", repeats=1):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y, reduction=reduction)
            for _ in range(repeats - 1):
                loss = loss * 0.5
            loss.backward()
            opt.step()
            return loss
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return (x, y), {"reduction": ["mean", "sum", "mean", "sum"][index % 4], "repeats": 1 + index % 3}

    assert_same_as_eager(training(body, make_call=make_call), calls=8)


def test_bool_flag_against_int_flag_of_equal_value():
    """``flag=True`` then ``flag=1``: equal but of different types; the step returns the type."""

    def body(net, opt):
        def step(x, y, flag):
            loss = train_on(net, opt, x, y, scale=2.0 if flag is True else 1.0)
            return loss, type(flag).__name__
        return step

    def make_call(index):
        (x, y), _ = default_call(index)
        return (x, y, [True, 1, True, 1.0, 1, True][index]), {}

    assert_same_as_eager(training(body, make_call=make_call))


# ----------------------------------------------------------------------------- views, slices, non-contiguous
def test_sliding_slices_of_one_big_tensor():
    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)
        data, targets = normal((40, 3), 1), normal((40, 2), 2)

        def make_call(index):
            return (data[4 * index:4 * index + 4], targets[4 * index:4 * index + 4]), {}

        return (lambda x, y: train_on(net, opt, x, y)), [net, opt, data, targets], make_call

    assert_same_as_eager(setup, calls=8)


@pytest.mark.parametrize("how", ["transpose", "step_slice", "contiguous_then_transposed", "expanded"])
def test_non_contiguous_arguments(how):
    def make(index):
        if how == "transpose":
            return normal((3, 4), 10 + index).T
        if how == "step_slice":
            return normal((8, 3), 10 + index)[::2]
        if how == "contiguous_then_transposed":  # the layout of the same-shaped argument changes
            return normal((4, 3), 10 + index) if index % 2 else normal((3, 4), 10 + index).T
        return normal((1, 3), 10 + index).expand(4, 3)

    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def make_call(index):
            return (make(index), normal((4, 2), 20 + index)), {}

        return (lambda x, y: train_on(net, opt, x, y)), [net, opt], make_call

    assert_same_as_eager(setup)


def backward_on(net):
    """A step that only computes the gradients (of the parameters and of inputs that require grad)."""

    def step(x, y):
        loss = F.mse_loss(net(x), y)
        loss.backward()
        return loss

    return step


def test_view_of_an_argument_that_requires_grad_returns_input_gradients():
    def setup():
        net = model()
        base = normal((12, 3), 5, requires_grad=True)

        def make_call(index):
            return (base[index:index + 4], normal((4, 2), 20 + index)), {}

        return backward_on(net), [net, base], make_call

    assert_same_as_eager(setup)


def test_same_tensor_passed_twice_then_two_tensors():
    def setup():
        net = nn.Linear(3, 3).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, target):
            return train_on(net, opt, x, target)

        def make_call(index):
            x = normal((4, 3), 10 + index)
            return ((x, x) if index % 2 == 0 else (x, normal((4, 3), 30 + index))), {}

        return step, [net, opt], make_call

    assert_same_as_eager(setup)


def test_same_leaf_twice_both_requiring_grad():
    def setup():
        net = model()

        def step(a, b):
            loss = (net(a) * net(b)).sum() + (a * b).sum()
            loss.backward()
            return loss, a.grad, b.grad

        def make_call(index):
            a = normal((4, 3), 10 + index, requires_grad=True)
            b = a if index % 2 == 0 else normal((4, 3), 30 + index, requires_grad=True)
            return (a, b), {}

        return step, [net], make_call

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- arguments requiring grad
def test_input_gradient_returned_for_adversarial_examples():
    def setup():
        net = model()

        def step(x, y, eps=0.1):
            x = x.detach().requires_grad_(True)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            return (x + eps * x.grad.sign()).detach(), x.grad

        def make_call(index):
            (x, y), _ = default_call(index)
            return (x, y), {"eps": 0.1 * (index + 1)}

        return step, [net], make_call

    assert_same_as_eager(setup)


def test_requires_grad_of_the_argument_changes_between_calls():
    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            loss = train_on(net, opt, x, y)
            return loss, x.grad

        def make_call(index):
            return (normal((4, 3), 10 + index, requires_grad=index % 3 == 1), normal((4, 2), 20 + index)), {}

        return step, [net, opt], make_call

    assert_same_as_eager(setup)


def test_same_leaf_argument_accumulates_grad_over_calls():
    def setup():
        net = model()
        x = normal((4, 3), 3, requires_grad=True)

        def make_call(index):
            return (x, normal((4, 2), 20 + index)), {}

        return backward_on(net), [net, x], make_call

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- 0-d tensors used as values
@pytest.mark.parametrize("how", ["fresh", "same_tensor_filled"])
def test_learning_rate_as_a_0d_tensor_changing_each_call(how):
    def setup():
        net = model()
        lr_tensor = chainrule.tensor(0.1, dtype=chainrule.float64)

        def step(x, y, lr):
            net.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= lr * p.grad
            return loss

        def make_call(index):
            (x, y), _ = default_call(index)
            if how == "fresh":
                return (x, y, chainrule.tensor(0.1 / (index + 1), dtype=chainrule.float64)), {}
            with chainrule.no_grad():
                lr_tensor.fill_(0.1 / (index + 1))
            return (x, y, lr_tensor), {}

        return step, [net], make_call

    assert_same_as_eager(setup)


def test_temperature_as_a_0d_tensor_in_an_evaluation_step():
    def setup():
        net = model()

        def step(x, temperature):
            with chainrule.no_grad():
                return F.softmax(net(x) / temperature, dim=-1)

        def make_call(index):
            return (normal((4, 3), 10 + index), chainrule.tensor([0.5, 1.0, 2.0, 4.0][index % 4])), {}

        return step, [net], make_call

    assert_same_as_eager(setup)


def test_0d_tensor_read_with_item_or_float_inside_the_step():
    """A 0-d tensor argument turned into a Python number inside the step decides a branch."""

    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, threshold):
            loss = train_on(net, opt, x, y, scale=2.0 if float(threshold) > 0.5 else 1.0)
            return loss

        def make_call(index):
            (x, y), _ = default_call(index)
            return (x, y, chainrule.tensor([0.2, 0.9, 0.4, 0.7, 0.9, 0.1][index])), {}

        return step, [net, opt], make_call

    assert_same_as_eager(setup)


def test_0d_tensor_given_to_an_optimizer_learning_rate():
    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, lr):
            for group in opt.param_groups:
                group["lr"] = lr
            return train_on(net, opt, x, y)

        def make_call(index):
            (x, y), _ = default_call(index)
            return (x, y, chainrule.tensor(0.1 / (index + 1), dtype=chainrule.float64)), {}

        return step, [net, opt], make_call

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- integer targets changing dtype
@pytest.mark.parametrize("dtypes", [[np.int64, np.int32, np.int64, np.int32], [np.int32, np.int32, np.int64, np.int64]])
def test_class_targets_change_integer_dtype(dtypes):
    def setup():
        net = nn.Linear(3, 4).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, target):
            opt.zero_grad()
            logits = net(x)
            loss = F.cross_entropy(logits, target.long())
            loss.backward()
            opt.step()
            return loss, (logits.argmax(dim=1) == target).sum(), target * 2

        def make_call(index):
            labels = np.random.default_rng(40 + index).integers(0, 4, size=4).astype(dtypes[index])
            return (normal((4, 3), 10 + index), chainrule.tensor(labels)), {}

        return step, [net, opt], make_call

    assert_same_as_eager(setup, calls=len(dtypes))


def test_integer_index_argument_changing_dtype_used_for_gather_and_embedding():
    def setup():
        emb = nn.Embedding(10, 3).double()
        head = nn.Linear(3, 2).double()
        opt = optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.1)

        def step(tokens, y):
            opt.zero_grad()
            loss = F.mse_loss(head(emb(tokens)), y)
            loss.backward()
            opt.step()
            return loss

        def make_call(index):
            dtype = [np.int64, np.int32, np.int64][index % 3]
            tokens = np.random.default_rng(index).integers(0, 10, size=4).astype(dtype)
            return (chainrule.tensor(tokens), normal((4, 2), 20 + index)), {}

        return step, [emb, head, opt], make_call

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- NumPy values as arguments
def scaled_training():
    def setup():
        net = model()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, scale):
            return train_on(net, opt, x, y, scale)

        return net, opt, step

    return setup


@pytest.mark.parametrize("kind", [np.float64, np.float32, np.int64])
def test_numpy_scalar_argument_fresh_each_call_with_a_new_value(kind):
    """A NumPy scalar made afresh each call (``scale=np.float32(...)``), kept alive by the caller
    so that no two share an address."""

    def setup():
        net, opt, step = scaled_training()()
        kept = []

        def make_call(index):
            kept.append(kind(1 + index))
            return default_call(index)[0] + (kept[-1],), {}

        return step, [net, opt], make_call

    assert_same_as_eager(setup)


@pytest.mark.parametrize("kind", [np.float32, np.int32])
def test_numpy_scalar_argument_reusing_a_freed_scalar_s_address(kind):
    """A NumPy scalar is compared by value: f = compile(lambda x, s: x * s); s = np.float32(2); f(x, s); del s;
    s = np.float32(3) (the same id) must give x * 3, as eagerly (a replay gave x * 2)."""
    x = normal((2, 3), 1)

    def step(x, scale):
        return x * scale

    compiled = chainrule.compile(step)
    first = kind(2)
    compiled(x, first)
    address = id(first)
    del first
    kept = []
    for _ in range(1000):  # find a new scalar at the freed one's address (usually the first)
        second = kind(3)
        if id(second) == address:
            break
        kept.append(second)
    else:
        pytest.skip("no NumPy scalar reused the freed address")
    assert_identical(compiled(x, second)._array, step(x, second)._array)


@pytest.mark.parametrize("shape", [(), (1,)])
def test_same_numpy_array_argument_written_in_place_between_calls(shape):
    """A small NumPy array is compared by value: s = np.array(2.0); f(x, y, s) twice; s.fill(3.0); f(x, y, s) uses 3.0."""

    def setup():
        net, opt, step = scaled_training()()
        scale = np.full(shape, 1.0)

        def make_call(index):
            scale.fill(1.0 + index)
            return default_call(index)[0] + (scale,), {}

        return step, [net, opt], make_call

    assert_same_as_eager(setup)
