"""The factories against PyTorch: normal's four forms, arange/linspace/logspace values element for
element, integer 0-d tensors taken for ints, memory_format=, and the exception types PyTorch raises
for bad sizes, bounds, steps and dtypes."""
import random

import numpy as np
import pytest
import torch

import chainrule


def same_dtype(ours, theirs):
    return str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


def check_same_kind(call):
    """``call(lib)`` gives a tensor of the same shape and dtype in both libraries (values are random)."""
    ours, theirs = call(chainrule), call(torch)
    assert tuple(ours.shape) == tuple(theirs.shape) and same_dtype(ours, theirs)
    return ours, theirs


def check_same_error(call):
    """``call(lib)`` raises the same exception type in both libraries."""
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)):
        call(chainrule)


# ----------------------------------------------------------------------------- normal
@pytest.mark.parametrize("call", [
    lambda lib: lib.normal(lib.tensor(0.0), 1, size=(2,)),
    lambda lib: lib.normal(0.0, lib.tensor(1.0), size=(2,)),
    lambda lib: lib.normal(lib.tensor(0.0), lib.tensor(1.0), size=(2, 3)),
    lambda lib: lib.normal(0.0, 1.0, (2, 3)),
    lambda lib: lib.normal(0, 1, size=[4]),
    lambda lib: lib.normal(0.0, 1.0, size=(2,), dtype=lib.float64),
    lambda lib: lib.normal(0.0, 1.0, size=(lib.tensor(2),)),
    lambda lib: lib.normal(lib.tensor(0.0), 1.0, size=()),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0])),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), 2),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), lib.tensor([[1.0], [2.0]])),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0], dtype=lib.float64), lib.tensor([1.0, 1.0])),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 1.0], dtype=lib.float64)),
    lambda lib: lib.normal(0.0, lib.tensor([1.0, 2.0], dtype=lib.float64)),
    lambda lib: lib.normal(lib.tensor(0.0), lib.tensor(1.0)),
    lambda lib: lib.normal(lib.tensor(1.0), lib.tensor([3.0, 2.0])),
    lambda lib: lib.normal(mean=lib.tensor([0.0, 1.0]), std=1.0),
    lambda lib: lib.normal(mean=0.0, std=1.0, size=(2,)),
    lambda lib: lib.normal(lib.tensor([]), 1.0),
    lambda lib: lib.normal(0.0, 1.0, size=(2,), generator=lib.Generator().manual_seed(1)),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), 1.0, generator=lib.Generator().manual_seed(1)),
    lambda lib: lib.normal(0.0, 1.0, size=(2,), out=lib.empty(2, dtype=lib.float64)),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 1.0]), out=lib.empty(2)),
    lambda lib: lib.normal(0.0, lib.tensor([1.0, 1.0]), out=lib.empty(2)),
    lambda lib: lib.normal(0.0, 1.0, size=(2,), requires_grad=True),
])
def test_normal_has_pytorchs_shape_and_dtype_in_each_form(call):
    ours, theirs = check_same_kind(call)
    assert ours.requires_grad == theirs.requires_grad


@pytest.mark.parametrize("call", [
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), 1, size=(2,)),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 1.0]), size=(2,)),
    lambda lib: lib.normal(0.0, 1.0),
    lambda lib: lib.normal(1, 2),
    lambda lib: lib.normal(0.0, 1.0, size=2),
    lambda lib: lib.normal(0.0, 1.0, size=(2.0,)),
    lambda lib: lib.normal(0.0, 1.0, size=lib.tensor(2)),
    lambda lib: lib.normal(0.0, 1.0, 2),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), 1.0, dtype=lib.float64),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), 1.0, requires_grad=True),
    lambda lib: lib.normal(lib.tensor(0.0, requires_grad=True), 1.0, size=(2,)),
    lambda lib: lib.normal(0.0, -1.0, size=(2,)),
    lambda lib: lib.normal(0.0, float("nan"), size=(2,)),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), -1.0),
    lambda lib: lib.normal(0.0, lib.tensor([1.0, -1.0])),
    lambda lib: lib.normal(0.0, lib.tensor([1.0, float("nan")])),
    lambda lib: lib.normal(lib.tensor([0, 1]), 1.0),
    lambda lib: lib.normal(0.0, lib.tensor([1, 1])),
    lambda lib: lib.normal(lib.tensor([True]), 1.0),
    lambda lib: lib.normal(0.0, 1.0, size=(2,), dtype=lib.int64),
    lambda lib: lib.normal(0.0, 1.0, size=(-1,)),
    lambda lib: lib.normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 1.0, 1.0])),
])
def test_normal_refuses_what_pytorch_refuses(call):
    check_same_error(call)


def test_normal_messages_are_pytorchs():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
            lib.normal(0.0, -1.0, size=(2,))
        with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
            lib.normal(0.0, lib.tensor([1.0, -1.0]))
        with pytest.raises(RuntimeError, match=r"The size of tensor a \(4\) must match the size of tensor b \(2\) at non-singleton dimension 0"):
            lib.normal(lib.tensor([0.0, 1.0, 2.0, 3.0]), lib.tensor([1.0, 1.0]))
        with pytest.raises(TypeError, match="normal\\(\\) received an invalid combination of arguments"):
            lib.normal(lib.tensor([0.0, 1.0]), 1.0, size=(2,))


def test_normal_of_tensors_has_a_zero_gradient_and_pytorchs_node_names():
    for form, call in [
        ("NormalBackward3", lambda lib, mean, std: lib.normal(mean, std)),
        ("NormalBackward1", lambda lib, mean, std: lib.normal(mean, 2.0)),
        ("NormalBackward2", lambda lib, mean, std: lib.normal(1.0, std)),
    ]:
        mean, std = chainrule.tensor([0.0, 1.0], requires_grad=True), chainrule.tensor([1.0, 2.0], requires_grad=True)
        samples = call(chainrule, mean, std)
        theirs = call(torch, torch.tensor([0.0, 1.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True))
        assert samples.grad_fn.name() == theirs.grad_fn.name() == form
        samples.sum().backward()
        for parameter in (mean, std):
            assert parameter.grad is None or parameter.grad.tolist() == [0.0, 0.0]


def test_normal_draws_with_the_given_mean_and_std():
    samples = chainrule.normal(chainrule.tensor([[-3.0], [5.0]]).expand(2, 20000), chainrule.tensor([0.5, 2.0]).reshape(2, 1))
    np.testing.assert_allclose(samples._array.mean(axis=1), [-3.0, 5.0], atol=0.1)
    np.testing.assert_allclose(samples._array.std(axis=1), [0.5, 2.0], rtol=0.05)
    first = chainrule.normal(0.0, 1.0, size=(4,), generator=chainrule.Generator().manual_seed(3))
    again = chainrule.normal(0.0, 1.0, size=(4,), generator=chainrule.Generator().manual_seed(3))
    assert first.tolist() == again.tolist()


# ----------------------------------------------------------------------------- arange, linspace, logspace
def _ranges(count):
    generator = random.Random(0)
    combos = [(-8.0, 8.0, 0.1), (0, 1, 0.1), (0.3, 7.1, 0.7), (-1, 1, 0.01), (1e6, 1e6 + 100, 0.37), (5, -5, -0.3), (0, 100, 1 / 3)]
    for _ in range(count):
        start, step = generator.uniform(-100, 100), generator.choice([1, -1]) * 10 ** generator.uniform(-3, 1)
        combos.append((start, start + step * generator.uniform(0, 3000), step))
    return combos


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arange_values_are_pytorchs_element_for_element(dtype):
    for start, end, step in _ranges(150):
        ours = chainrule.arange(start, end, step, dtype=getattr(chainrule, dtype)).numpy()
        theirs = torch.arange(start, end, step, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"arange({start}, {end}, {step})")


def test_arange_puts_the_grid_point_at_zero_where_pytorch_does():
    """d2l's ReLU plot: x = arange(-8.0, 8.0, 0.1); the derivative at x[80] depends on its sign."""
    assert chainrule.arange(-8.0, 8.0, 0.1)[80].item() == torch.arange(-8.0, 8.0, 0.1)[80].item() > 0


@pytest.mark.parametrize("call", [
    lambda lib: lib.arange(lib.tensor(5)),
    lambda lib: lib.arange(0, lib.tensor(5), 2),
    lambda lib: lib.arange(lib.tensor(5.0)),
    lambda lib: lib.arange(lib.tensor(5, dtype=lib.int32)),
    lambda lib: lib.arange(lib.tensor(5.0, dtype=lib.float64)),
    lambda lib: lib.arange(np.int64(5)),
    lambda lib: lib.arange(np.float64(5)),
    lambda lib: lib.arange(True),
    lambda lib: lib.arange(end=5),
    lambda lib: lib.arange(start=1, end=5),
    lambda lib: lib.arange(5, 5),
    lambda lib: lib.arange(0.5, 5.5, 1.5, dtype=lib.int64),
    lambda lib: lib.arange(10, dtype=lib.int8),
    lambda lib: lib.arange(0, 5, 1, dtype=lib.float16),
    lambda lib: lib.arange(0, 1, 0.1, dtype=lib.float64),
    lambda lib: lib.arange(0, 10, 3),
    lambda lib: lib.arange(10, 0, -3),
    lambda lib: lib.arange(5.0, requires_grad=True).detach(),
])
def test_arange_dtypes_and_values_match_pytorch(call):
    ours, theirs = check_same_kind(call)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("function", ["linspace", "logspace"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
def test_linspace_and_logspace_values_are_pytorchs_element_for_element(function, dtype):
    generator = random.Random(1)
    combos = [(0, 1, 5), (-8, 8, 161), (0.1, 0.9, 7), (3, -2, 11), (0, 10, 4), (-5, 10, 4), (2.5, 1, 1), (0, 1, 0)]
    combos += [(generator.uniform(-100, 100), generator.uniform(-100, 100), generator.randint(0, 3000)) for _ in range(60)]
    for start, end, steps in combos:
        if function == "logspace":
            start, end = start / 30, end / 30
        ours = getattr(chainrule, function)(start, end, steps, dtype=getattr(chainrule, dtype)).numpy()
        theirs = getattr(torch, function)(start, end, steps, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"{function}({start}, {end}, {steps})")


@pytest.mark.parametrize("call", [
    lambda lib: lib.linspace(lib.tensor(0.0), lib.tensor(1.0), 3),
    lambda lib: lib.linspace(0, 1, lib.tensor(3)),
    lambda lib: lib.linspace(lib.tensor(0), lib.tensor(10), 5),
    lambda lib: lib.linspace(lib.tensor(0, dtype=lib.float64), 1, 3),
    lambda lib: lib.linspace(0, 1, steps=3),
    lambda lib: lib.linspace(0, 1, 1),
    lambda lib: lib.logspace(0, 2, 3, base=2),
    lambda lib: lib.logspace(lib.tensor(0.0), lib.tensor(2.0), 3),
    lambda lib: lib.logspace(0, 1, 1),
])
def test_linspace_and_logspace_take_0d_tensors_as_pytorch(call):
    ours, theirs = check_same_kind(call)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ----------------------------------------------------------------------------- integer 0-d tensors taken for ints
@pytest.mark.parametrize("call", [
    lambda lib: lib.randperm(lib.tensor(3)),
    lambda lib: lib.randperm(n=3),
    lambda lib: lib.randperm(0),
    lambda lib: lib.randperm(3, dtype=lib.float32),
    lambda lib: lib.randperm(3, dtype=lib.uint8),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.3, 0.5, 0.0]), lib.tensor(3)),
    lambda lib: lib.randint(lib.tensor(3), (2,)),
    lambda lib: lib.randint(lib.tensor(1), lib.tensor(3), (lib.tensor(2),)),
    lambda lib: lib.randint(3, [lib.tensor(2), 2]),
    lambda lib: lib.randint(3, size=(2,)),
    lambda lib: lib.randint(low=1, high=3, size=(2,)),
    lambda lib: lib.randint(high=3, size=(2,)),
    lambda lib: lib.randint(3, ()),
    lambda lib: lib.randint(3, (2,), dtype=lib.float64),
    lambda lib: lib.randint(3, (2,), dtype=lib.float32, requires_grad=True),
    lambda lib: lib.randint(2**40, (2,)),
    lambda lib: lib.randint_like(lib.ones(2), lib.tensor(3)),
    lambda lib: lib.zeros(lib.tensor(2)),
    lambda lib: lib.zeros(lib.tensor(2), 3),
    lambda lib: lib.zeros([lib.tensor(2), 3]),
    lambda lib: lib.ones(size=(lib.tensor(2),)),
    lambda lib: lib.empty([lib.tensor(2)]),
    lambda lib: lib.randn(lib.tensor(2)),
    lambda lib: lib.rand(lib.tensor(2), lib.tensor(3)),
    lambda lib: lib.full((lib.tensor(2),), 1.0),
    lambda lib: lib.full([2], 1),
    lambda lib: lib.zeros(np.int64(2)),
    lambda lib: lib.zeros(()),
    lambda lib: lib.eye(lib.tensor(2)),
    lambda lib: lib.eye(2, lib.tensor(3)),
    lambda lib: lib.rand_like(lib.arange(3), dtype=lib.float64),
    lambda lib: lib.rand_like(lib.ones(2), generator=lib.Generator()),
    lambda lib: lib.randn_like(lib.ones(2), generator=lib.Generator()),
    lambda lib: lib.zeros(2, layout=lib.strided if hasattr(lib, "strided") else None, pin_memory=False),
])
def test_integer_0d_tensors_count_as_ints_as_in_pytorch(call):
    check_same_kind(call)


def test_randint_and_randperm_draw_what_they_should():
    assert sorted(chainrule.randperm(chainrule.tensor(6)).tolist()) == list(range(6))
    assert set(chainrule.randint(chainrule.tensor(2), chainrule.tensor(5), (1000,)).tolist()) == {2, 3, 4}
    assert set(chainrule.randint(3, (1000,), dtype=chainrule.float32).tolist()) == {0.0, 1.0, 2.0}


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call", [
    lambda lib: lib.randint(5, 2, (3,)),
    lambda lib: lib.randint(5, 5, (3,)),
    lambda lib: lib.randint(0, (3,)),
    lambda lib: lib.randint(-1, (3,)),
    lambda lib: lib.randint(3, (2.0,)),
    lambda lib: lib.randint(3, (-1,)),
    lambda lib: lib.randint(3, 2),
    lambda lib: lib.randint(3, (2,), dtype=lib.bool),
    lambda lib: lib.randint(0.5, 3.5, (2,)),
    lambda lib: lib.randint(3.7, (2,)),
    lambda lib: lib.randint(lib.tensor(3.0), (2,)),
    lambda lib: lib.randint(3, lib.tensor([2])),
    lambda lib: lib.randint(300, (2,), dtype=lib.uint8),
    lambda lib: lib.randint(-1, 3, (2,), dtype=lib.uint8),
    lambda lib: lib.randint(3, (2,), requires_grad=True),
    lambda lib: lib.randint(3),
    lambda lib: lib.randint_like(lib.ones(2), 5, 2),
    lambda lib: lib.randint_like(lib.ones(2), 3.5),
    lambda lib: lib.randint_like(lib.ones(2), 3, dtype=lib.bool),
    lambda lib: lib.randint_like(lib.ones(2)),
    lambda lib: lib.randperm(-1),
    lambda lib: lib.randperm(3.0),
    lambda lib: lib.randperm(lib.tensor(3.0)),
    lambda lib: lib.randperm(3, dtype=lib.bool),
    lambda lib: lib.randperm(300, dtype=lib.int8),
    lambda lib: lib.randperm(3, requires_grad=True),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), 1.0),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), True),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), 0),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), -1),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), lib.tensor(3.0)),
    lambda lib: lib.linspace(0, 1, -1),
    lambda lib: lib.linspace(0, 1, 2.0),
    lambda lib: lib.linspace(0, 1, True),
    lambda lib: lib.linspace(lib.tensor([0.0, 1.0]), 1, 3),
    lambda lib: lib.linspace(0, 1, 5, dtype=lib.bool),
    lambda lib: lib.logspace(0, 1, -1),
    lambda lib: lib.arange(0, 5, 0),
    lambda lib: lib.arange(0, 5, -1),
    lambda lib: lib.arange(5, 0),
    lambda lib: lib.arange(-1),
    lambda lib: lib.arange(0, float("inf")),
    lambda lib: lib.arange(0, float("nan")),
    lambda lib: lib.arange(lib.tensor([5])),
    lambda lib: lib.arange("a"),
    lambda lib: lib.arange(5, dtype=lib.bool),
    lambda lib: lib.arange(0, 5, 0.5, dtype=lib.int64),
    lambda lib: lib.arange(5, requires_grad=True),
    lambda lib: lib.arange(0, 10**20),
    lambda lib: lib.rand_like(lib.arange(3)),
    lambda lib: lib.randn_like(lib.arange(3)),
    lambda lib: lib.rand_like(lib.tensor([True])),
    lambda lib: lib.randn_like(lib.ones(2), dtype=lib.int32),
    lambda lib: lib.rand(3, dtype=lib.int64),
    lambda lib: lib.randn(3, dtype=lib.int64),
    lambda lib: lib.randn(2.0),
    lambda lib: lib.rand(2.5),
    lambda lib: lib.randn((2.0, 3)),
    lambda lib: lib.zeros(2.0),
    lambda lib: lib.ones(2.0),
    lambda lib: lib.empty(2.0),
    lambda lib: lib.zeros(True),
    lambda lib: lib.zeros((True, 2)),
    lambda lib: lib.zeros(None),
    lambda lib: lib.zeros("a"),
    lambda lib: lib.zeros([2, None]),
    lambda lib: lib.zeros(2, 3.0),
    lambda lib: lib.zeros(lib.tensor([2, 3])),
    lambda lib: lib.zeros(lib.tensor(2.0)),
    lambda lib: lib.zeros(-1),
    lambda lib: lib.randn(-1),
    lambda lib: lib.empty(2, -1),
    lambda lib: lib.full((2.0,), 1),
    lambda lib: lib.full(2, 1),
    lambda lib: lib.full((-1,), 1),
    lambda lib: lib.eye(2.0),
    lambda lib: lib.eye(-1),
    lambda lib: lib.eye(2, -1),
])
def test_bad_arguments_raise_pytorchs_exception_type(call):
    check_same_error(call)


@pytest.mark.parametrize("call, message", [
    (lambda lib: lib.randint(5, 2, (3,)), "random_ expects 'from' to be less than 'to', but got from=5 >= to=2"),
    (lambda lib: lib.randint(300, (2,), dtype=lib.uint8), "to - 1 is out of bounds for unsigned char"),
    (lambda lib: lib.linspace(0, 1, -1), "number of steps must be non-negative"),
    (lambda lib: lib.arange(0, 5, 0), "step must be nonzero"),
    (lambda lib: lib.arange(5, 0), "upper bound and lower bound inconsistent with step sign"),
    (lambda lib: lib.arange(0, float("inf")), "unsupported range: 0 -> inf"),
    (lambda lib: lib.randperm(-1), r"Trying to create tensor with negative dimension -1: \[-1\]"),
    (lambda lib: lib.rand_like(lib.arange(3)), "\"check_uniform_bounds\" not implemented for 'Long'"),
    (lambda lib: lib.randn(3, dtype=lib.int32), "\"normal_kernel_cpu\" not implemented for 'Int'"),
    (lambda lib: lib.randn(2.0), r"randn\(\): argument 'size' \(position 1\) must be tuple of ints, not float"),
    (lambda lib: lib.randperm(3.0), r"randperm\(\): argument 'n' \(position 1\) must be int, not float"),
    (lambda lib: lib.multinomial(lib.tensor([0.5, 0.5]), 0), "cannot sample n_sample <= 0 samples"),
    (lambda lib: lib.arange(5, requires_grad=True), "Only Tensors of floating point and complex dtype can require gradients"),
])
def test_error_messages_are_pytorchs(call, message):
    for lib in (torch, chainrule):
        with pytest.raises(Exception, match=message):
            call(lib)


# ----------------------------------------------------------------------------- memory_format=
FORMATS = ["contiguous_format", "preserve_format", "channels_last", "channels_last_3d"]


def memory_format(lib, name):
    if not hasattr(lib, name):
        pytest.skip(f"chainrule.{name} is not defined yet")
    return getattr(lib, name)


LIKE_FACTORIES = {
    "zeros_like": lambda lib, x, **k: lib.zeros_like(x, **k),
    "ones_like": lambda lib, x, **k: lib.ones_like(x, **k),
    "empty_like": lambda lib, x, **k: lib.empty_like(x, **k),
    "full_like": lambda lib, x, **k: lib.full_like(x, 2.0, **k),
    "rand_like": lambda lib, x, **k: lib.rand_like(x, **k),
    "randn_like": lambda lib, x, **k: lib.randn_like(x, **k),
    "randint_like": lambda lib, x, **k: lib.randint_like(x, 5, **k),
}


@pytest.mark.parametrize("name", list(LIKE_FACTORIES))
@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("shape", [(2,), (2, 3, 4, 5), (2, 3, 4, 5, 6)])
def test_like_factories_take_memory_format_as_pytorch(name, format_name, shape):
    def call(lib):
        return LIKE_FACTORIES[name](lib, lib.ones(*shape), memory_format=memory_format(lib, format_name))

    try:
        theirs = call(torch)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            call(chainrule)
        return
    ours = call(chainrule)
    assert tuple(ours.shape) == tuple(theirs.shape) and same_dtype(ours, theirs)


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("shape", [(2,), (2, 3, 4, 5)])
def test_empty_takes_memory_format_as_pytorch(format_name, shape):
    def call(lib):
        return lib.empty(*shape, memory_format=memory_format(lib, format_name))

    try:
        theirs = call(torch)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            call(chainrule)
        return
    assert tuple(call(chainrule).shape) == tuple(theirs.shape)


@pytest.mark.parametrize("call", [
    lambda lib: lib.zeros_like(lib.ones(2), memory_format="x"),
    lambda lib: lib.empty(2, memory_format="x"),
    lambda lib: lib.zeros(2, memory_format=None),
])
def test_memory_format_must_be_one(call):
    check_same_error(call)


def test_like_factories_take_memory_format_none():
    assert chainrule.zeros_like(chainrule.ones(2), memory_format=None).shape == (2,)


# ----------------------------------------------------------------------------- seeds, randint's float bounds
@pytest.mark.parametrize("seed", [3, 0, -1, 2**64 - 1])
def test_seeds_are_taken_as_pytorch_takes_them(seed):
    assert chainrule.Generator().manual_seed(seed).initial_seed() == torch.Generator().manual_seed(seed).initial_seed()
    chainrule.manual_seed(seed)
    assert chainrule.initial_seed() == chainrule.default_generator.initial_seed()


@pytest.mark.parametrize("call", [
    lambda lib: lib.Generator().manual_seed(2.5),
    lambda lib: lib.Generator().manual_seed(lib.tensor(3)),
    lambda lib: lib.Generator().manual_seed(2**64),
])
def test_bad_seeds_raise_pytorchs_exception_type(call):
    check_same_error(call)


def test_randint_warns_where_a_float_dtype_cannot_hold_every_integer():
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
            lib.randint(2**30, (2,), dtype=lib.float32)
        with pytest.raises(RuntimeError, match="to - 1 is out of bounds for c10::Half"):
            lib.randint(2**25, (2,), dtype=lib.float16)


@pytest.mark.parametrize("data", [
    [[1, 2], [3]], [[1, 2], 3], [1, [2]], [[[1], [2]], [[3], [4, 5]]], [1, "a"], "abc", [None], [[1, 2], [3, 4, 5]],
    [(1, 2), (3,)], {1: 2}, [1, {}], [[1.5, 2], [3]],
])
def test_data_tensor_cannot_read_raises_pytorchs_error(data):
    with pytest.raises(Exception) as expected:
        torch.tensor(data)
    with pytest.raises(Exception) as ours:
        chainrule.tensor(data)
    assert type(ours.value) is type(expected.value) and str(ours.value).startswith(str(expected.value))
