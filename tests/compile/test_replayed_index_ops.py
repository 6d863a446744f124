"""take_along_dim, scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill,
index_reduce, index_put and put under ``chainrule.compile``: the positions they write or read are
checked and copied from each call's index tensor inside the program (``computed_without_gradient``
or an operation's forward), so a compiled step replays with new indices (repeated, negative where
allowed), values and sources on every call, gives eager's values and gradients bit for bit without
a warning, and raises eager's error for an index outside the tensor; one case agrees with PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.compile.test_adversarial_replay import assert_identical

CALLS = 4


def floats(*shape):
    """float64 values, requiring a gradient."""
    return lambda rng: ("float", rng.standard_normal(shape))


def integers(low, high, *shape):
    """int64 positions in [low, high): repeats and, with low < 0, negatives."""
    return lambda rng: ("int", rng.integers(low, high, size=shape))


def permutation(size):
    """The positions 0 .. size - 1 shuffled: each named once (index_copy keeps no order for repeats)."""
    return lambda rng: ("int", rng.permutation(size))


def tied_floats(*shape):
    """float64 values from a few integers (ties), requiring a gradient."""
    return lambda rng: ("float", rng.integers(-2, 3, size=shape).astype(np.float64))


def small_integers(*shape):
    """int64 values from a few integers (ties), no gradient."""
    return lambda rng: ("values", rng.integers(-3, 4, size=shape))


def arguments(specs, seed, lib=chainrule):
    """Fresh tensors of ``lib`` for one call, from ``specs`` and ``seed`` (the same for both runs)."""
    rng = np.random.default_rng(seed)
    made = []
    for kind, array in (spec(rng) for spec in specs):
        if kind == "float":
            made.append(lib.tensor(array, dtype=lib.float64, requires_grad=True))
        else:
            made.append(lib.tensor(array, dtype=lib.int64))
    return made


def step(operation):
    """operation(*arguments), then (out · out).sum().backward() when out has a gradient."""

    def run(*tensors):
        out = operation(*tensors)
        if out.requires_grad:
            (out * out).sum().backward()
        return out

    return run


def observed(out, tensors):
    """The result's array and every argument's gradient (None where it has none)."""
    return [out.detach().numpy().copy()] + [None if each.grad is None else each.grad.numpy().copy() for each in tensors]


# name -> (operation, the specs of its arguments, an index outside the tensor for a later call)
CASES = {
    "take_along_dim dim 1, negatives": (
        lambda x, index: x.take_along_dim(index, 1), [floats(4, 5), integers(-5, 5, 4, 7)], integers(5, 6, 4, 7),
    ),
    "take_along_dim broadcast, dim 0": (
        lambda x, index: chainrule.take_along_dim(x, index, 0), [floats(4, 1, 3), integers(-4, 4, 6, 2, 1)], integers(-5, -4, 6, 2, 1),
    ),
    "take_along_dim flattened": (
        lambda x, index: chainrule.take_along_dim(x, index), [floats(3, 4), integers(-12, 12, 9)], integers(12, 13, 9),
    ),
    "scatter src": (
        lambda x, index, src: x.scatter(0, index, src), [floats(4, 5), integers(0, 4, 2, 5), floats(3, 6)], integers(4, 5, 2, 5),
    ),
    "scatter value dim 1": (
        lambda x, index: x.scatter(1, index, value=2.5), [floats(4, 5), integers(0, 5, 4, 3)], integers(-1, 0, 4, 3),
    ),
    "scatter value reduce add": (
        lambda x, index: chainrule.scatter(x, 1, index, value=1.5, reduce="add"), [floats(4, 5), integers(0, 5, 4, 6)], integers(5, 6, 4, 6),
    ),
    "scatter value reduce multiply": (
        lambda x, index: x.scatter(0, index, value=3.0, reduce="multiply"), [floats(4, 5), integers(0, 4, 6, 5)], integers(4, 5, 6, 5),
    ),
    "scatter_add repeated": (
        lambda x, index, src: x.scatter_add(0, index, src), [floats(3, 4), integers(0, 3, 5, 4), floats(5, 4)], integers(-1, 0, 5, 4),
    ),
    "scatter_add 3-d dim -1": (
        lambda x, index, src: chainrule.scatter_add(x, -1, index, src), [floats(2, 3, 4), integers(0, 4, 2, 2, 6), floats(2, 3, 7)],
        integers(4, 5, 2, 2, 6),
    ),
    "index_add alpha": (
        lambda x, index, source: x.index_add(1, index, source, alpha=2.0), [floats(4, 5), integers(0, 5, 7), floats(4, 7)],
        integers(5, 6, 7),
    ),
    "index_add dim 0": (
        lambda x, index, source: chainrule.index_add(x, 0, index, source), [floats(3, 2), integers(0, 3, 6), floats(6, 2)], integers(-1, 0, 6),
    ),
    "index_copy": (
        lambda x, index, source: x.index_copy(1, index, source), [floats(3, 5), permutation(5), floats(3, 5)], integers(5, 6, 5),
    ),
    "index_fill negatives": (
        lambda x, index: x.index_fill(1, index, -2.0), [floats(3, 5), integers(-5, 5, 4)], integers(-6, -5, 4),
    ),
    "index_fill 0-d tensor value": (
        lambda x, index, value: x.index_fill(0, index, value.sum()), [floats(4, 3), integers(-4, 4, 3), floats(2)], integers(4, 5, 3),
    ),
    "index_reduce prod": (
        lambda x, index, source: x.index_reduce(0, index, source, "prod"), [floats(3, 4), integers(0, 3, 5), floats(5, 4)], integers(3, 4, 5),
    ),
    "index_reduce mean without self": (
        lambda x, index, source: x.index_reduce(1, index, source, "mean", include_self=False), [floats(3, 4), integers(0, 4, 6), floats(3, 6)],
        integers(-1, 0, 6),
    ),
    "index_reduce amax": (
        lambda x, index, source: x.index_reduce(0, index, source, "amax"), [floats(3, 4), integers(0, 3, 5), floats(5, 4)], integers(3, 4, 5),
    ),
    "index_put accumulate": (
        lambda x, index, value: chainrule.index_put(x, (index,), value, accumulate=True), [floats(4, 3), integers(-4, 4, 6), floats(6, 3)],
        integers(4, 5, 6),
    ),
    "index_put_ two indices": (
        lambda x, rows, columns, value: (x * 1.0).index_put_((rows, columns), value), [floats(4, 3), integers(0, 4, 5), integers(-3, 3, 5), floats(5)],
        integers(3, 4, 5), 2,
    ),
    "put accumulate negatives": (
        lambda x, index, source: x.put(index, source, accumulate=True), [floats(3, 4), integers(-12, 12, 2, 4), floats(8)], integers(12, 13, 2, 4),
    ),
    "put_": (lambda x, index, source: (x * 1.0).put_(index, source), [floats(3, 4), integers(-12, 12, 5), floats(5)], integers(-13, -12, 5)),
}
for reduce in ("sum", "prod", "mean", "amax", "amin"):
    for include_self in (True, False):
        CASES[f"scatter_reduce {reduce} include_self={include_self}"] = (
            lambda x, index, src, reduce=reduce, include_self=include_self: x.scatter_reduce(1, index, src, reduce, include_self=include_self),
            [floats(3, 5), integers(0, 5, 3, 7), floats(3, 8)],
            integers(5, 6, 3, 7),
        )
for reduce in ("amax", "amin"):
    CASES[f"scatter_reduce {reduce} with ties"] = (
        lambda x, index, src, reduce=reduce: x.scatter_reduce(0, index, src, reduce),
        [tied_floats(3, 4), integers(0, 3, 5, 4), tied_floats(5, 4)],
        integers(3, 4, 5, 4),
    )
for reduce in ("mean", "amax"):
    CASES[f"scatter_reduce {reduce} of integers"] = (
        lambda x, index, src, reduce=reduce: x.scatter_reduce(0, index, src, reduce, include_self=False),
        [small_integers(4, 3), integers(0, 4, 6, 3), small_integers(6, 3)],
        integers(-1, 0, 6, 3),
    )


def case(name):
    """(operation, specs, outside, the position in specs of the index that goes outside)."""
    operation, specs, outside, *position = CASES[name]
    return operation, specs, outside, position[0] if position else 1


@pytest.mark.parametrize("name", CASES)
def test_replays_with_new_indices_as_eager_without_a_warning(name):
    operation, specs, _, _ = case(name)
    compiled = chainrule.compile(step(operation))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in range(CALLS):
            eager_arguments = arguments(specs, call)
            expected = observed(step(operation)(*eager_arguments), eager_arguments)
            compiled_arguments = arguments(specs, call)
            assert_identical(expected, observed(compiled(*compiled_arguments), compiled_arguments))
    assert len(compiled.recordings) == 1


@pytest.mark.parametrize("name", CASES)
def test_an_index_outside_the_tensor_in_a_later_call_raises_as_eager(name):
    """Two calls replay, then an index outside the tensor (or negative, where not allowed) raises
    eager's error; the next call is eager's again."""
    operation, specs, outside, position = case(name)
    bad_specs = specs[:position] + [outside] + specs[position + 1 :]
    compiled = chainrule.compile(step(operation))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in range(2):
            compiled(*arguments(specs, call))
        with pytest.raises(Exception) as eager_error:
            step(operation)(*arguments(bad_specs, 2))
        with pytest.raises(type(eager_error.value)):
            compiled(*arguments(bad_specs, 2))
        eager_arguments, compiled_arguments = arguments(specs, 3), arguments(specs, 3)
        expected = observed(step(operation)(*eager_arguments), eager_arguments)
        assert_identical(expected, observed(compiled(*compiled_arguments), compiled_arguments))
    assert len(compiled.recordings) == 1


def test_scatter_with_a_src_tensor_and_reduce_replays_after_its_deprecation_warning():
    """scatter(reduce=) with a tensor src warns as PyTorch does (on the call that records): the
    calls after replay it, as eager."""
    operation = lambda x, index, src: x.scatter(1, index, src, reduce="multiply") + x.scatter(0, index, src, reduce="add")  # noqa: E731
    specs = [floats(4, 4), integers(0, 4, 3, 4), floats(3, 4)]
    compiled = chainrule.compile(step(operation))
    for call in range(CALLS):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The reduce argument of torch.scatter")
            eager_arguments = arguments(specs, call)
            expected = observed(step(operation)(*eager_arguments), eager_arguments)
        with warnings.catch_warnings():
            warnings.simplefilter("error" if call else "ignore")
            compiled_arguments = arguments(specs, call)
            assert_identical(expected, observed(compiled(*compiled_arguments), compiled_arguments))
    assert len(compiled.recordings) == 1


def test_the_replayed_program_checks_and_copies_the_index_of_each_call():
    """No replayed program keeps the recorded positions: a program that read the first call's index
    would give the first call's result for every later one."""
    compiled = chainrule.compile(step(lambda x, index, src: x.scatter_add(0, index, src)))
    x = chainrule.zeros(3, 2, dtype=chainrule.float64)
    src = chainrule.ones(2, 2, dtype=chainrule.float64)
    first = compiled(x, chainrule.tensor([[0, 0], [0, 0]]), src)
    second = compiled(x, chainrule.tensor([[2, 1], [2, 1]]), src)
    assert first.tolist() == [[2.0, 2.0], [0.0, 0.0], [0.0, 0.0]]
    assert second.tolist() == [[0.0, 0.0], [0.0, 2.0], [2.0, 0.0]]
    assert len(compiled.recordings) == 1


def test_grad_fn_names_stay_pytorchs():
    x = chainrule.randn(3, 4, requires_grad=True)
    index = chainrule.tensor([[0, 1, 2, 0]])
    assert chainrule.take_along_dim(x, index, 0).grad_fn.name() == "GatherBackward0"
    assert x.scatter(0, index, x[:1]).grad_fn.name() == "ScatterBackward0"
    assert x.scatter(0, index, 1.0).grad_fn.name() == "ScatterBackward1"
    assert x.scatter_add(0, index, x[:1]).grad_fn.name() == "ScatterAddBackward0"
    assert x.scatter_reduce(0, index, x[:1], "amax").grad_fn.name() == "ScatterReduceBackward0"
    assert x.index_add(1, chainrule.tensor([0, 0]), x[:, :2]).grad_fn.name() == "IndexAddBackward0"
    assert x.index_fill(1, chainrule.tensor([-1]), 0.0).grad_fn.name() == "IndexFillBackward0"


@pytest.mark.parametrize("name", ["scatter_add repeated", "index_add alpha", "take_along_dim dim 1, negatives", "scatter_reduce amax with ties"])
def test_compiled_values_and_gradients_agree_with_pytorch(name):
    operation, specs, _, _ = case(name)
    compiled = chainrule.compile(step(operation))
    for call in range(CALLS):
        ours = arguments(specs, call)
        got = observed(compiled(*ours), ours)
        theirs = arguments(specs, call, lib=torch)
        expected = observed(step(operation)(*theirs), theirs)
        for got_array, expected_array in zip(got, expected, strict=True):
            assert (got_array is None) == (expected_array is None)
            if got_array is not None:
                np.testing.assert_allclose(got_array, expected_array, rtol=1e-12, atol=1e-12)
    assert len(compiled.recordings) == 1


def test_a_0d_index_tensor_is_read_on_every_call():
    """take with a 0-d index replays, reading each call's position; x[i] with a 0-d tensor i reads
    its value into Python (an int key, as PyTorch's): that call runs eagerly with one warning
    rather than replaying the first call's position."""
    x = chainrule.arange(12.0, dtype=chainrule.float64).reshape(3, 4)
    taken = chainrule.compile(lambda x, index: x.take(index) * 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [taken(x, chainrule.tensor(k)).item() for k in (0, 5, -1)] == [0.0, 5.0, 11.0]
    assert len(taken.recordings) == 1
    indexed = chainrule.compile(lambda x, index: x[index] * 1.0)
    with pytest.warns(UserWarning, match="reads a tensor's value into Python"):
        first = indexed(x, chainrule.tensor(0))
    assert first.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert indexed(x, chainrule.tensor(2)).tolist() == [8.0, 9.0, 10.0, 11.0]
