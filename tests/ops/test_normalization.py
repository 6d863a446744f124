"""Batch, layer, group and instance norm as one fused operation (ops/normalization.py), RMS and
local response norm composed: second derivatives against PyTorch, through the statistics too, the
declarations the trace shows, and an op table (values, gradients and float64 gradcheck over random
shapes) for the functions added beside them. Values and first gradients of the layers are compared
in tests/nn/."""
import numpy as np
import pytest
import torch
import torch.nn.functional as torch_functional

import chainrule
import chainrule.nn.functional as functional
from hypothesis import strategies as st
from tests.ops.oracle import library_case, table_test
from tests.ops.second_order import assert_second_order_matches_torch


def F(lib):
    return torch_functional if lib is torch else functional


def rng(seed):
    return np.random.default_rng(seed)


INPUT = rng(0).standard_normal((4, 3, 5)) * 2 + 1
CHANNEL = rng(1).uniform(0.5, 2.0, 3)
SHIFT = rng(2).standard_normal(3)
LAST = rng(3).uniform(0.5, 2.0, 5)
LAST_SHIFT = rng(4).standard_normal(5)
RUNNING_MEAN, RUNNING_VAR = rng(5).standard_normal(3), rng(6).uniform(0.5, 2.0, 3)

# name, call(lib, *tensors), arrays (all differentiable)
CASES = [
    ("batch_norm", lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True), [INPUT, CHANNEL, SHIFT]),
    ("batch_norm_2d", lambda lib, x, w, b: F(lib).batch_norm(x[:, :, 0], None, None, w, b, training=True), [INPUT, CHANNEL, SHIFT]),
    ("batch_norm_without_parameters", lambda lib, x: F(lib).batch_norm(x, None, None, training=True), [INPUT]),
    ("batch_norm_evaluation", lambda lib, x, w, b: F(lib).batch_norm(
        x, lib.tensor(RUNNING_MEAN), lib.tensor(RUNNING_VAR), w, b, training=False), [INPUT, CHANNEL, SHIFT]),
    ("layer_norm", lambda lib, x, w, b: F(lib).layer_norm(x, (5,), w, b), [INPUT, LAST, LAST_SHIFT]),
    ("layer_norm_two_dims", lambda lib, x: F(lib).layer_norm(x, (3, 5)), [INPUT]),
    ("group_norm", lambda lib, x, w, b: F(lib).group_norm(x, 3, w, b), [INPUT, CHANNEL, SHIFT]),
    ("instance_norm", lambda lib, x, w, b: F(lib).instance_norm(x, weight=w, bias=b), [INPUT, CHANNEL, SHIFT]),
    ("instance_norm_running", lambda lib, x: F(lib).instance_norm(
        x, lib.tensor(RUNNING_MEAN), lib.tensor(RUNNING_VAR), use_input_stats=False), [INPUT]),
    ("rms_norm", lambda lib, x, w: F(lib).rms_norm(x, (5,), w), [INPUT, LAST]),
    ("local_response_norm", lambda lib, x: F(lib).local_response_norm(x, 2, alpha=0.5), [INPUT]),
]
# PyTorch's group norm and instance norm end in their own nodes where ours end in a reshape or a
# broadcast, and RMS and local response norm are compositions in both libraries.
NAMED_AS_PYTORCH = [case for case in CASES if case[0].startswith(("batch_norm", "layer_norm"))]


@pytest.mark.parametrize("name, call, arrays", CASES, ids=[case[0] for case in CASES])
def test_normalization_differentiates_twice_like_pytorch(name, call, arrays):
    """Through the statistics too (batch norm in training, layer norm)."""
    assert_second_order_matches_torch(name, call, arrays, atol=1e-9)


@pytest.mark.parametrize("name, call, arrays", NAMED_AS_PYTORCH, ids=[case[0] for case in NAMED_AS_PYTORCH])
def test_nodes_are_named_as_pytorch_names_them(name, call, arrays):
    ours = call(chainrule, *[chainrule.tensor(array, requires_grad=True) for array in arrays])
    theirs = call(torch, *[torch.tensor(array, requires_grad=True) for array in arrays])
    assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_a_kept_graph_holds_no_normalized_copy_of_its_input():
    """x̂ is recomputed in backward from the saved input, not kept beside it."""
    x = chainrule.tensor(INPUT, requires_grad=True)
    out = functional.layer_norm(x, (5,))
    kept = [name for name, value in vars(out.grad_fn).items() if isinstance(value, np.ndarray) and value.size >= 5]
    assert kept == []


def test_normalization_declares_its_formula_and_one_derivative_per_input():
    from chainrule.ops.normalization import Normalize

    assert Normalize.formula
    assert len(Normalize.derivatives) == len(Normalize.input_names())


def with_channels(multiple_of=1, min_positions=1):
    """((N, C, *spatial), (C,), (C,)): input, per-channel weight and bias; C a multiple of
    ``multiple_of``, 0 to 2 spatial dimensions holding at least ``min_positions`` positions."""
    channels = st.integers(1, 3).map(lambda count: count * multiple_of)
    spatial = st.lists(st.integers(1, 3), min_size=0, max_size=2).filter(lambda sides: np.prod(sides) >= min_positions)
    return st.tuples(st.integers(1, 3), channels, spatial).map(
        lambda drawn: ((drawn[0], drawn[1], *drawn[2]), (drawn[1],), (drawn[1],))
    )


@st.composite
def last_dims(draw):
    """(input shape, weight shape): the weight's shape is the input's last 1 or 2 dimensions."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    count = draw(st.integers(1, min(2, len(shape))))
    return shape, shape[len(shape) - count :]


def several_per_sample(shapes):
    """PyTorch's group norm refuses N · prod(spatial) = 1 (too few values in some group)."""
    return shapes[0][0] * np.prod(shapes[0][2:]) > 1


TABLE = [
    library_case(
        "group_norm_2_groups", lambda lib, x, w, b: F(lib).group_norm(x, 2, w, b), with_channels(multiple_of=2).filter(several_per_sample)
    ),
    library_case(
        "group_norm_1_group", lambda lib, x, w, b: F(lib).group_norm(x, 1, w, b, eps=1e-3), with_channels().filter(several_per_sample)
    ),
    library_case(
        "group_norm_per_channel",
        lambda lib, x, w, b: F(lib).group_norm(x, x.shape[1], w, b),
        with_channels().filter(several_per_sample),
    ),
    library_case(
        "instance_norm",
        lambda lib, x, w, b: F(lib).instance_norm(x, weight=w, bias=b),
        with_channels(min_positions=2).filter(lambda shapes: len(shapes[0]) > 2),
    ),
    library_case("rms_norm", lambda lib, x, w: F(lib).rms_norm(x, tuple(w.shape), w), last_dims()),
    library_case("rms_norm_without_weight", lambda lib, x: F(lib).rms_norm(x, x.shape[-1:], eps=0.1), last_dims().map(lambda shapes: shapes[:1])),
    library_case(
        "local_response_norm",
        lambda lib, x: F(lib).local_response_norm(x, 3, alpha=0.5, k=2.0),
        with_channels().filter(lambda shapes: len(shapes[0]) > 2).map(lambda shapes: shapes[:1]),
    ),
]

test_op = table_test(TABLE, max_examples=5)
