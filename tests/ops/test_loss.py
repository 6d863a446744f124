"""The fused losses of ops/loss.py as operations: second derivatives against PyTorch, inputs at the
ends of the float range computed silently, and the declarations the trace shows. Values and first
gradients of every loss, in every reduction, are compared in tests/nn/test_losses.py."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_functional

import chainrule
import chainrule.nn.functional as functional
from tests.ops.second_order import assert_second_order_matches_torch


def F(lib):
    return torch_functional if lib is torch else functional


def rng(seed):
    return np.random.default_rng(seed)


LOGITS = rng(0).standard_normal((5, 4)) * 2
TARGETS = np.array([0, 3, 1, 1, 2])
SOFT = np.exp(rng(1).standard_normal((5, 4)))
SOFT /= SOFT.sum(axis=1, keepdims=True)
CLASS_WEIGHTS = rng(2).uniform(0.5, 2.0, 4)
ELEMENT_WEIGHTS = rng(3).uniform(0.5, 2.0, (5, 4))
PROBABILITIES = rng(4).uniform(0.05, 0.95, (5, 4))
OTHER = rng(5).standard_normal((5, 4))

# name, call(lib, *tensors, reduction), arrays (all differentiable)
SECOND_ORDER = [
    ("mse", lambda lib, x, y, r: F(lib).mse_loss(x, y, reduction=r), [LOGITS, OTHER]),
    ("mse_weight", lambda lib, x, y, r: F(lib).mse_loss(x, y, reduction=r, weight=lib.tensor(ELEMENT_WEIGHTS)), [LOGITS, OTHER]),
    ("l1", lambda lib, x, y, r: F(lib).l1_loss(x, y, reduction=r), [LOGITS, OTHER]),
    ("smooth_l1", lambda lib, x, y, r: F(lib).smooth_l1_loss(x, y, reduction=r, beta=1.5), [LOGITS, OTHER]),
    ("bce", lambda lib, p, y, r: F(lib).binary_cross_entropy(p, y, reduction=r), [PROBABILITIES, SOFT]),
    ("bce_weight", lambda lib, p, y, r: F(lib).binary_cross_entropy(p, y, weight=lib.tensor(ELEMENT_WEIGHTS), reduction=r), [PROBABILITIES, SOFT]),
    ("bce_logits", lambda lib, x, y, r: F(lib).binary_cross_entropy_with_logits(x, y, reduction=r), [LOGITS, SOFT]),
    ("bce_logits_weights", lambda lib, x, y, r: F(lib).binary_cross_entropy_with_logits(
        x, y, weight=lib.tensor(ELEMENT_WEIGHTS), pos_weight=lib.tensor(CLASS_WEIGHTS), reduction=r), [LOGITS, SOFT]),
    ("cross_entropy", lambda lib, x, r: F(lib).cross_entropy(x, lib.tensor(TARGETS), reduction=r), [LOGITS]),
    ("cross_entropy_everything", lambda lib, x, r: F(lib).cross_entropy(
        x, lib.tensor(TARGETS), weight=lib.tensor(CLASS_WEIGHTS), ignore_index=1, label_smoothing=0.2, reduction=r), [LOGITS]),
    ("cross_entropy_spatial", lambda lib, x, r: F(lib).cross_entropy(
        x.reshape(1, 5, 4), lib.tensor(TARGETS[:4].reshape(1, 4)), label_smoothing=0.1, reduction=r), [LOGITS]),
    ("cross_entropy_probabilities", lambda lib, x, y, r: F(lib).cross_entropy(x, y, reduction=r), [LOGITS, SOFT]),
    ("cross_entropy_probabilities_all", lambda lib, x, y, r: F(lib).cross_entropy(
        x, y, weight=lib.tensor(CLASS_WEIGHTS), label_smoothing=0.3, reduction=r), [LOGITS, SOFT]),
    ("nll", lambda lib, x, r: F(lib).nll_loss(x, lib.tensor(TARGETS), weight=lib.tensor(CLASS_WEIGHTS), ignore_index=3, reduction=r), [LOGITS]),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, call, arrays", SECOND_ORDER, ids=[case[0] for case in SECOND_ORDER])
def test_every_loss_differentiates_twice_like_pytorch(name, call, arrays, reduction):
    """The recorded backward of each loss, for every input, against PyTorch's."""
    assert_second_order_matches_torch(name, lambda lib, *inputs: call(lib, *inputs, reduction), arrays)


# ----------------------------------------------------------------------------- extreme inputs
EXTREMES = [
    ("cross_entropy", lambda lib, x, y: F(lib).cross_entropy(x, lib.tensor([0, 2, 1])), True),
    # Smoothing weighs every class: ln p of a logit 2 · 3e38 below the largest is -inf, in PyTorch too.
    ("cross_entropy_smoothing", lambda lib, x, y: F(lib).cross_entropy(x, lib.tensor([0, 2, 1]), label_smoothing=0.1), False),
    ("cross_entropy_none", lambda lib, x, y: F(lib).cross_entropy(x, lib.tensor([0, 2, 1]), reduction="none"), True),
    ("bce_logits", lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y), True),
    ("bce_logits_none", lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y, reduction="none"), True),
    ("bce_at_0_and_1", lambda lib, x, y: F(lib).binary_cross_entropy(lib.sigmoid(x), y, reduction="none"), False),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, call, finite", EXTREMES, ids=[case[0] for case in EXTREMES])
def test_the_largest_logits_compute_silently_like_pytorch(name, call, finite, dtype):
    """Logits of ±3e38 (float32) and ±1.7e308 (float64), where PyTorch computes without a warning:
    NumPy's warnings fail the test; values and gradients are PyTorch's (and finite for the
    losses computed from logits)."""
    big = np.finfo(dtype).max
    logits = np.array([[big, -big, 0.0], [-big, 1.0, big], [2.0, -1.0, 0.5]], dtype=dtype)
    targets = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0], [0.3, 0.0, 1.0]], dtype=dtype)
    ours = chainrule.tensor(logits, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = call(chainrule, ours, chainrule.tensor(targets))
        loss.backward(chainrule.ones_like(loss))
    theirs = torch.tensor(logits, requires_grad=True)
    expected = call(torch, theirs, torch.tensor(targets))
    expected.backward(torch.ones_like(expected))
    np.testing.assert_allclose(loss.array, expected.detach().numpy(), rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
    if finite:
        assert np.isfinite(ours.grad.array).all() and np.isfinite(loss.array).all()


def test_every_target_ignored_computes_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = chainrule.tensor(LOGITS, requires_grad=True)
        loss = functional.cross_entropy(x, chainrule.tensor([-100] * 5))
        loss.backward()
    assert np.isnan(loss.item()) and (x.grad.array == 0).all()


# ----------------------------------------------------------------------------- declarations
def test_every_loss_declares_its_formula_and_one_derivative_per_input():
    from chainrule.ops import loss, margin_loss
    from chainrule.ops.op import Op

    operations = {value for module in (loss, margin_loss) for value in vars(module).values() if isinstance(value, type) and issubclass(value, Op) and value is not Op}
    assert {operation.__name__ for operation in operations} == {
        "MseLoss", "L1Loss", "SmoothL1Loss", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy", "NllLoss",
        "HuberLoss", "SoftMarginLoss", "MultiMarginLoss", "MultilabelMarginLoss",
    }
    for operation in operations:
        assert operation.formula, operation.__name__
        assert len(operation.derivatives) == len(operation.input_names()), operation.__name__


def test_squared_error_reads_as_its_own_derivative():
    from chainrule.ops.loss import MseLoss

    assert MseLoss.derivatives[:2] == ("2 (input - target)", "-2 (input - target)")


@pytest.mark.parametrize("call", [
    lambda lib, x, y: F(lib).mse_loss(x, y),
    lambda lib, x, y: F(lib).smooth_l1_loss(x, y),
    lambda lib, x, y: F(lib).binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y.sigmoid()),
    lambda lib, x, y: F(lib).nll_loss(x, lib.tensor([0, 2])),
])
def test_nodes_are_named_as_pytorch_names_them(call):
    """Where PyTorch's loss is one node (cross-entropy and l1 are compositions there)."""
    data = rng(0).standard_normal((2, 3))
    ours = call(chainrule, chainrule.tensor(data, requires_grad=True), chainrule.tensor(data * 0.5))
    theirs = call(torch, torch.tensor(data, requires_grad=True), torch.tensor(data * 0.5))
    assert ours.grad_fn.name() == theirs.grad_fn.name()


# ----------------------------------------------------------------------------- issue 10: the other losses
# Each row runs in the three reductions over random shapes: values, gradients and float64 gradcheck
# against PyTorch (tests/ops/oracle.py), and second derivatives where PyTorch has them. Labels
# (±1, class indices) are made inside the call from the drawn shapes, so they get no gradient.
from hypothesis import strategies as st  # noqa: E402

from tests.ops.oracle import broadcast_pair, library_case, one_shape, sizes, table_test  # noqa: E402
from tests.ops.second_order import second_order_test  # noqa: E402

REDUCTIONS = ("none", "mean", "sum")


def labels(lib, shape, seed=0):
    """±1 labels of ``shape``, the same in both libraries."""
    return lib.tensor(np.where(rng(seed).random(tuple(shape)) < 0.5, -1.0, 1.0))


def class_indices(lib, samples, classes):
    return lib.tensor(rng(samples).integers(0, classes, samples))


def label_lists(lib, samples, classes):
    """multilabel_margin_loss targets (N, C): each row lists some classes, then -1, then anything."""
    generator = rng(samples * 10 + classes)
    rows = []
    for _ in range(samples):
        listed = generator.permutation(classes)[: generator.integers(0, classes + 1)]
        tail = generator.integers(-1, classes, classes - len(listed))
        rows.append(np.concatenate([listed, [-1] if len(tail) else [], tail[1:]]).astype(np.int64))
    return lib.tensor(np.stack(rows))


def same(count, **kwargs):
    """``count`` equal shapes."""
    return sizes(**kwargs).map(lambda shape: (shape,) * count)


def batchmean(reduction):
    """kl_div's own reduction in place of 'mean' (whose warning has a test of its own)."""
    return "batchmean" if reduction == "mean" else reduction


matrices = st.tuples(st.integers(1, 4), st.integers(1, 5))
positive = np.abs

LOSS_ROWS = [
    ("huber", lambda lib, x, y, r: F(lib).huber_loss(x, y, reduction=r, delta=0.7), same(2)),
    ("huber_weight", lambda lib, x, y, w, r: F(lib).huber_loss(x, y, reduction=r, weight=w), same(3)),
    ("kl_div", lambda lib, x, y, r: F(lib).kl_div(x, y.exp(), reduction=batchmean(r)), broadcast_pair()),
    ("kl_div_zero_targets", lambda lib, x, y, r: F(lib).kl_div(x, y.relu(), reduction=batchmean(r)), same(2)),
    ("kl_div_log_target", lambda lib, x, y, r: F(lib).kl_div(x, y, reduction=batchmean(r), log_target=True), broadcast_pair()),
    ("poisson_nll", lambda lib, x, y, r: F(lib).poisson_nll_loss(x, y.abs(), reduction=r), broadcast_pair()),
    ("poisson_nll_rates_full", lambda lib, x, y, r: F(lib).poisson_nll_loss(x.exp(), y.abs() * 3, log_input=False, full=True, reduction=r), same(2)),
    ("gaussian_nll", lambda lib, x, y, v, r: F(lib).gaussian_nll_loss(x, y, v.abs(), reduction=r), same(3)),
    # Variances under eps count as eps, but their gradient passes as if they did not (PyTorch's
    # floor, in place without recording): finite differences cannot agree there.
    ("gaussian_nll_full_floor", lambda lib, x, y, v, r: F(lib).gaussian_nll_loss(x, y, v.abs(), full=True, eps=0.5, reduction=r), same(3),
     {"gradcheck": False}),
    ("margin_ranking", lambda lib, a, b, r: F(lib).margin_ranking_loss(a, b, labels(lib, a.shape), margin=0.3, reduction=r), same(2)),
    ("hinge_embedding", lambda lib, x, r: F(lib).hinge_embedding_loss(x, labels(lib, x.shape), margin=0.5, reduction=r), one_shape()),
    ("soft_margin", lambda lib, x, r: F(lib).soft_margin_loss(x * 3, labels(lib, x.shape), reduction=r), one_shape()),
    ("cosine_embedding", lambda lib, a, b, r: F(lib).cosine_embedding_loss(a, b, labels(lib, a.shape[:1]), margin=-0.2, reduction=r),
     matrices.map(lambda shape: (shape, shape))),
    ("cosine_embedding_one", lambda lib, a, b, r: F(lib).cosine_embedding_loss(a, b, lib.tensor(-1.0), reduction=r), same(2, min_dims=1, max_dims=1)),
    ("triplet_margin", lambda lib, a, p, n, r: F(lib).triplet_margin_loss(a, p, n, margin=2.0, reduction=r), matrices.map(lambda shape: (shape,) * 3)),
    ("triplet_margin_p1_swap", lambda lib, a, p, n, r: F(lib).triplet_margin_loss(a, p, n, p=1, swap=True, margin=1.5, reduction=r),
     same(3, min_dims=1, max_dims=2)),
    ("triplet_distance", lambda lib, a, p, n, r: F(lib).triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda x1, x2: 1 - lib.cosine_similarity(x1, x2), margin=0.5, swap=True, reduction=r),
     matrices.map(lambda shape: (shape,) * 3)),
    ("triplet_distance_default", lambda lib, a, p, n, r: F(lib).triplet_margin_with_distance_loss(a, p, n, margin=2.0, reduction=r),
     matrices.map(lambda shape: (shape,) * 3)),
    ("multi_margin", lambda lib, x, r: F(lib).multi_margin_loss(x, class_indices(lib, *x.shape), reduction=r), matrices.map(lambda shape: (shape,))),
    ("multi_margin_p2_weight", lambda lib, x, r: F(lib).multi_margin_loss(
        x, class_indices(lib, *x.shape), p=2, margin=0.8, weight=lib.tensor(rng(3).uniform(0.5, 2, x.shape[1])), reduction=r),
     matrices.map(lambda shape: (shape,))),
    ("multi_margin_one", lambda lib, x, r: F(lib).multi_margin_loss(x, lib.tensor(x.shape[0] - 1), reduction=r), same(1, min_dims=1, max_dims=1)),
    ("multilabel_margin", lambda lib, x, r: F(lib).multilabel_margin_loss(x, label_lists(lib, *x.shape), reduction=r), matrices.map(lambda shape: (shape,))),
    ("multilabel_margin_one", lambda lib, x, r: F(lib).multilabel_margin_loss(x, label_lists(lib, 1, x.shape[0])[0], reduction=r),
     same(1, min_dims=1, max_dims=1)),
    ("multilabel_soft_margin", lambda lib, x, y, r: F(lib).multilabel_soft_margin_loss(x, y.sigmoid(), reduction=r), matrices.map(lambda shape: (shape,) * 2)),
    ("multilabel_soft_margin_weight", lambda lib, x, y, r: F(lib).multilabel_soft_margin_loss(
        x, y.sigmoid(), weight=lib.tensor(rng(4).uniform(0.5, 2, x.shape[-1])), reduction=r), same(2, min_dims=1, max_dims=2)),
]
# PyTorch has no second derivative of these ("derivative for aten::multi_margin_loss_backward is not implemented").
FIRST_ORDER_ONLY = {"multi_margin", "multi_margin_p2_weight", "multi_margin_one", "multilabel_margin", "multilabel_margin_one"}

LOSS_CASES = [
    library_case(f"{name}_{reduction}", lambda lib, *inputs, call=call, reduction=reduction: call(lib, *inputs, reduction), shapes, **options)
    for name, call, shapes, *extra in LOSS_ROWS
    for options in [extra[0] if extra else {}]
    for reduction in REDUCTIONS
]

test_loss_op = table_test(LOSS_CASES, max_examples=5)
test_loss_second_order = second_order_test(
    [case for case in LOSS_CASES if case.name.rsplit("_", 1)[0] not in FIRST_ORDER_ONLY], max_examples=2
)
