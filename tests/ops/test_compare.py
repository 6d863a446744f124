"""Comparisons and logic: bool results equal to PyTorch's over broadcast shapes, numbers on either
side, special values; no gradient; closeness and equality as Python bools."""
import math
import operator
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import broadcast_pair, make_inputs

BINARY = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "greater": operator.gt,
    "greater_equal": operator.ge,
    "less": operator.lt,
    "less_equal": operator.le,
    "not_equal": operator.ne,
    "logical_and": None,
    "logical_or": None,
    "logical_xor": None,
}


def rounded(array):
    """Inputs with many exact ties (so that == and <= are really exercised) and some zeros."""
    return np.round(array)


def same_result(ours, theirs):
    assert ours.dtype == chainrule.bool and theirs.dtype == torch.bool
    assert ours.grad_fn is None and not ours.requires_grad
    np.testing.assert_array_equal(ours._array, theirs.numpy())


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=10, deadline=None)
@given(shapes=broadcast_pair(), seed=st.integers(0, 2**16))
def test_binary_functions_match_pytorch_with_broadcasting(name, shapes, seed):
    a, b = make_inputs(shapes, seed, rounded)
    ours = [chainrule.tensor(a, requires_grad=True), chainrule.tensor(b)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b)]
    same_result(getattr(chainrule, name)(*ours), getattr(torch, name)(*theirs))
    if BINARY[name] is not None:
        same_result(BINARY[name](*ours), BINARY[name](*theirs))
        same_result(getattr(ours[0], name)(ours[1]), getattr(theirs[0], name)(theirs[1]))


@pytest.mark.parametrize("symbol", [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge])
def test_numbers_on_either_side(symbol):
    data = [-1.0, 0.0, 0.5, 2.0]
    ours, theirs = chainrule.tensor(data), torch.tensor(data)
    for number in (0, 0.5, 2, True):
        same_result(symbol(ours, number), symbol(theirs, number))
        same_result(symbol(number, ours), symbol(number, theirs))
    counts = [0, 1, 2]
    same_result(symbol(chainrule.tensor(counts), 0.5), symbol(torch.tensor(counts), 0.5))


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "logical_not", "isposinf", "isneginf", "isreal", "signbit"])
def test_one_input_functions_match_pytorch(name):
    data = [[math.nan, math.inf, -math.inf], [-0.0, -2.5, 1e30]]
    same_result(getattr(chainrule, name)(chainrule.tensor(data)), getattr(torch, name)(torch.tensor(data)))
    same_result(getattr(chainrule, name)(chainrule.tensor([0, 3])), getattr(torch, name)(torch.tensor([0, 3])))


def test_bool_operators_are_logic_on_masks():
    a, b = [True, True, False, False], [True, False, True, False]
    ours, theirs = (chainrule.tensor(a), chainrule.tensor(b)), (torch.tensor(a), torch.tensor(b))
    for symbol in (operator.and_, operator.or_, operator.xor):
        same_result(symbol(*ours), symbol(*theirs))
    same_result(~ours[0], ~theirs[0])
    x = chainrule.tensor([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(((x > 0) & (x < 1))._array, [False, True, False])


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_functions_work_bit_by_bit_on_integers(name):
    a, b = [12, 5, -3], [10, 3, 6]
    ours = getattr(chainrule, name)(chainrule.tensor(a), chainrule.tensor(b))
    expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(ours._array, expected.numpy())
    assert ours.dtype == chainrule.int64
    np.testing.assert_array_equal(chainrule.bitwise_not(chainrule.tensor(a))._array, [-13, -6, 2])
    with pytest.raises(NotImplementedError, match=f"^\"{name}_cpu\" not implemented for 'Float' \\({name} computes on integers and bools"):
        getattr(chainrule, name)(chainrule.ones(2), chainrule.ones(2))


def test_comparisons_mix_dtypes_like_pytorch():
    same_result(chainrule.tensor([1, 2, 3]) == chainrule.tensor([1.0, 2.5, 3.0]), torch.tensor([1, 2, 3]) == torch.tensor([1.0, 2.5, 3.0]))
    same_result(
        chainrule.tensor([0.1], dtype=chainrule.float64) > chainrule.tensor([0.1]),
        torch.tensor([0.1], dtype=torch.float64) > torch.tensor([0.1]),
    )


def test_masks_select_and_count():
    x = chainrule.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    positive = x > 0
    assert positive.sum().item() == 2
    np.testing.assert_array_equal(chainrule.where(positive, x, 0.0)._array, [[0.0, 2.0], [3.0, 0.0]])
    assert (x.argmax(1) == chainrule.tensor([1, 0])).float().mean().item() == 1.0


def test_isclose_and_allclose_match_pytorch():
    a = [1.0, 1.0 + 1e-6, 1.0 + 1e-3, math.nan]
    b = [1.0, 1.0, 1.0, math.nan]
    for kwargs in ({}, {"rtol": 1e-2}, {"atol": 1e-7, "rtol": 0.0}, {"equal_nan": True}):
        ours = chainrule.isclose(chainrule.tensor(a), chainrule.tensor(b), **kwargs)
        same_result(ours, torch.isclose(torch.tensor(a), torch.tensor(b), **kwargs))
        ours_all = chainrule.allclose(chainrule.tensor(a[:3]), chainrule.tensor(b[:3]), **kwargs)
        assert ours_all is torch.allclose(torch.tensor(a[:3]), torch.tensor(b[:3]), **kwargs)
    assert chainrule.allclose(chainrule.ones(2, 3), chainrule.ones(3)) is True  # broadcasting, as PyTorch


def test_equal_needs_the_same_shape_and_values():
    assert chainrule.equal(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0])) is True
    assert chainrule.equal(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 3.0])) is False
    assert chainrule.equal(chainrule.ones(2), chainrule.ones(3)) is False
    assert chainrule.equal(chainrule.ones(2), chainrule.ones(1, 2)) is False
    with pytest.raises(TypeError, match="equal\\(\\): expected two tensors, got Tensor and list"):
        chainrule.equal(chainrule.ones(2), [1.0, 1.0])


def test_broadcast_error_names_the_operation_and_both_shapes():
    with pytest.raises(RuntimeError, match=r"lt: shapes \(2, 3\) and \(4,\) cannot be broadcast together"):
        chainrule.ones(2, 3) < chainrule.ones(4)


IN_PLACE = ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_", "not_equal_",
            "logical_and_", "logical_or_", "logical_xor_"]


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_comparisons_write_into_the_tensor_keeping_its_dtype(name):
    def run(lib):
        x = lib.tensor([[0.0, 1.0, 2.0], [3.0, 1.0, -1.0]])
        assert getattr(x, name)(lib.tensor([1.0, 1.0, 0.0])) is x
        return x

    ours, theirs = run(chainrule), run(torch)
    assert ours.dtype == chainrule.float32
    np.testing.assert_array_equal(ours._array, theirs.numpy())


@pytest.mark.parametrize("name, args", [("logical_not_", ()), ("bitwise_not_", ()), ("bitwise_and_", (6,)), ("bitwise_or_", (6,)),
                                        ("bitwise_xor_", (6,)), ("bitwise_left_shift_", (2,)), ("bitwise_right_shift_", (1,)),
                                        ("gcd_", (4,)), ("lcm_", (4,))])
def test_in_place_logic_and_bits_on_integers(name, args):
    def run(lib):
        x = lib.tensor([0, 3, -8, 12])
        assert getattr(x, name)(*[lib.tensor(arg) for arg in args]) is x
        return x

    np.testing.assert_array_equal(run(chainrule)._array, run(torch).numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.tensor([1, 2, -8]) << 2,
        lambda lib: lib.tensor([1, 2, -8]) >> 1,
        lambda lib: 1 << lib.tensor([0, 3]),
        lambda lib: lib.bitwise_left_shift(lib.tensor([1, 2], dtype=lib.uint8), 7),
        lambda lib: lib.bitwise_right_shift(lib.tensor([-9, 9]), lib.tensor([2, 1])),
        lambda lib: lib.gcd(lib.tensor([12, -18, 0, 7]), lib.tensor([8, 12, 0, 0])),
        lambda lib: lib.lcm(lib.tensor([4, -6, 0]), lib.tensor([6, 4, 3])),
        lambda lib: lib.tensor([[12], [9]]).gcd(lib.tensor([6, 4])),
    ],
)
def test_integer_functions_match_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours._array, theirs.numpy())


def test_integer_functions_refuse_floats_as_pytorch_does():
    for name in ("gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift"):
        with pytest.raises(NotImplementedError) as theirs:
            getattr(torch, name)(torch.ones(2), torch.ones(2))
        with pytest.raises(NotImplementedError, match=f"^{re.escape(str(theirs.value))} \\({name} computes on integers: convert"):
            getattr(chainrule, name)(chainrule.ones(2), chainrule.ones(2))
    for name in ("bitwise_left_shift", "bitwise_right_shift"):
        for lib in (chainrule, torch):
            with pytest.raises(NotImplementedError):
                getattr(lib, name)(lib.tensor([True]), lib.tensor([True]))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.isin(lib.tensor([[1, 2], [3, 4]]), lib.tensor([2, 3])),
        lambda lib: lib.isin(lib.tensor([1.0, 2.0]), lib.tensor([2])),
        lambda lib: lib.isin(lib.tensor([1, 2]), 2, invert=True),
        lambda lib: lib.isin(3, lib.tensor([3])),
        lambda lib: lib.isin(lib.tensor([1, 2]), lib.tensor([[2, 5]]), assume_unique=True),
        lambda lib: lib.bucketize(lib.tensor([[3, 6, 9], [0, 1, 10]]), lib.tensor([1, 3, 5, 7, 9])),
        lambda lib: lib.bucketize(lib.tensor([[3, 6, 9], [0, 1, 10]]), lib.tensor([1, 3, 5, 7, 9]), right=True),
        lambda lib: lib.bucketize(lib.tensor([1.5, 2.0]), lib.tensor([1, 2]), out_int32=True),
        lambda lib: lib.bucketize(3, lib.tensor([1, 3, 5])),
        lambda lib: lib.searchsorted(lib.tensor([1, 3, 5, 7, 9]), lib.tensor([[3, 6, 9], [3, 6, 9]])),
        lambda lib: lib.searchsorted(lib.tensor([1, 3, 5, 7, 9]), lib.tensor([3, 6, 9]), right=True),
        lambda lib: lib.searchsorted(lib.tensor([1, 3, 5, 7, 9]), lib.tensor([3, 6, 9]), side="right"),
        lambda lib: lib.searchsorted(lib.tensor([1, 3, 5]), 3),
        lambda lib: lib.searchsorted(lib.tensor([[1.0, 3.0], [2.0, 4.0]]), lib.tensor([[2.0, 0.0], [5.0, 3.0]])),
        lambda lib: lib.searchsorted(lib.tensor([3.0, 1.0, 2.0]), lib.tensor([2.5, 0.5]), sorter=lib.tensor([1, 2, 0])),
        lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0]), lib.tensor([1.5]), out_int32=True),
    ],
)
def test_membership_and_sorted_search_match_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours._array, theirs.numpy())


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda lib: lib.searchsorted(lib.tensor([[1, 2], [3, 4]]), lib.tensor([1])), r"boundaries tensor should be 1 dimension or the first N-1 dimensions"),
        (lambda lib: lib.bucketize(lib.tensor([1]), lib.tensor([[1, 2]])), r"boundaries tensor must be 1 dimension, but got dim\(2\)"),
    ],
)
def test_sorted_search_errors_match_pytorch(call, message):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=message):
            call(lib)


def test_an_in_place_comparison_keeps_the_tensor_in_the_graph():
    gradients = []
    for lib in (chainrule, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = w * 1
        x.gt_(1.5)
        assert x.grad_fn is not None and not x.is_leaf
        (x * w).sum().backward()
        gradients.append(w.grad.numpy())
    np.testing.assert_array_equal(*gradients)
