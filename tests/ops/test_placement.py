"""put, masked_scatter, fill_diagonal_: the op table (values, gradients to both the tensor and the
written values, gradcheck, second order) and errors; apply_, map_, resize_ against PyTorch."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test
from tests.ops.second_order import second_order_test


def masked_scatter(lib, x, source):
    mask = lib.tensor([[True, False, True], [False, True, True]])
    return lib.masked_scatter(x, mask, source)


def filled_diagonal(lib, x, wrap=False):
    return (x * 1.0).fill_diagonal_(0.5, wrap=wrap) * x


CASES = [
    library_case("put", lambda lib, x, source: lib.put(x, lib.tensor([[4, 0], [-1, 2]]), source), st.sampled_from([((2, 3), (2, 2)), ((6,), (4,))])),
    library_case("put_accumulate", lambda lib, x, source: x.put(lib.tensor([1, 1, 0]), source, accumulate=True), st.just(((2, 2), (3,)))),
    library_case("masked_scatter", masked_scatter, st.sampled_from([((2, 3), (2, 3)), ((3,), (5,)), ((2, 3), (8,))])),
    library_case("masked_scatter_", lambda lib, x, source: (x * 1.0).masked_scatter_(x > 0, source), st.sampled_from([((2, 3), (2, 3)), ((4,), (6,))])),
    library_case("fill_diagonal_", filled_diagonal, st.sampled_from([((3, 3),), ((2, 4),), ((5, 2),), ((2, 2, 2),)])),
    library_case("fill_diagonal_wrap", lambda lib, x: filled_diagonal(lib, x, wrap=True), st.sampled_from([((7, 3),), ((3, 5),)])),
]

test_op = table_test(CASES, max_examples=4)
test_second_order = second_order_test(CASES, max_examples=2)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda lib: lib.zeros(2, 3).put_(lib.tensor([6]), lib.ones(1)), IndexError),
        (lambda lib: lib.zeros(2, 3).put_(lib.tensor([1, 2]), lib.ones(3)), IndexError),
        (lambda lib: lib.zeros(2, 3).masked_scatter(lib.ones(2, 3, dtype=lib.bool), lib.ones(2)), RuntimeError),
        (lambda lib: lib.zeros(2, 3).masked_scatter(lib.ones(2, 3), lib.ones(6)), RuntimeError),
        (lambda lib: lib.zeros(2, 3, 4).fill_diagonal_(1.0), RuntimeError),
        (lambda lib: lib.zeros(2, requires_grad=True).resize_(3), RuntimeError),
    ],
)
def test_errors_match_pytorch(call, error):
    with pytest.raises(error) as theirs:
        call(torch)
    with pytest.raises(error) as ours:
        call(chainrule)
    words = str(theirs.value).split(":")[0].split(",")[0][:30]
    assert words in str(ours.value)


def test_apply_and_map_change_each_element():
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        assert x.apply_(lambda v: v * 2 + 1) is x
        assert x.map_(lib.tensor([10.0, 0.0]), lambda a, b: a - b) is x
        results.append(x.numpy())
    np.testing.assert_array_equal(*results)


def test_resize_keeps_the_first_elements_and_resize_as_takes_the_shape():
    x = chainrule.arange(6.0)
    assert x.resize_(2, 2) is x
    np.testing.assert_array_equal(x._array, [[0.0, 1.0], [2.0, 3.0]])
    x.resize_((2, 3))
    np.testing.assert_array_equal(x._array, [[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])  # PyTorch leaves the new elements uninitialized
    y = chainrule.resize_as_(chainrule.ones(4), chainrule.zeros(2, 1))
    assert y.shape == torch.resize_as_(torch.ones(4), torch.zeros(2, 1)).shape
