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
    np.testing.assert_allclose(loss._array, expected.detach().numpy(), rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(ours.grad._array, theirs.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
    if finite:
        assert np.isfinite(ours.grad._array).all() and np.isfinite(loss._array).all()


def test_every_target_ignored_computes_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = chainrule.tensor(LOGITS, requires_grad=True)
        loss = functional.cross_entropy(x, chainrule.tensor([-100] * 5))
        loss.backward()
    assert np.isnan(loss.item()) and (x.grad._array == 0).all()


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
    ("poisson_nll_rates_full", lambda lib, x, y, r: F(lib).poisson_nll_loss(x.exp(), y.abs() * 3, log_input=False, full=True, eps=0.1, reduction=r), same(2)),
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


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("call", [
    lambda lib, x, r: F(lib).huber_loss(x, x.detach() * 0.5, reduction=r),
    lambda lib, x, r: F(lib).soft_margin_loss(x, labels(lib, x.shape), reduction=r),
    lambda lib, x, r: F(lib).multi_margin_loss(x, class_indices(lib, *x.shape), reduction=r),
    lambda lib, x, r: F(lib).multilabel_margin_loss(x, label_lists(lib, *x.shape), reduction=r),
    lambda lib, x, r: F(lib).cosine_embedding_loss(x, x.flip(0), labels(lib, x.shape[:1]), reduction=r),
    lambda lib, x, r: F(lib).poisson_nll_loss(x, x.detach().abs(), reduction=r),
    lambda lib, x, r: F(lib).gaussian_nll_loss(x, x.detach().flip(0), x.detach().abs(), reduction=r),
    lambda lib, x, r: F(lib).multilabel_soft_margin_loss(x, x.detach().sigmoid(), reduction=r),
], ids=["huber", "soft_margin", "multi_margin", "multilabel_margin", "cosine_embedding", "poisson",
        "gaussian", "multilabel_soft_margin"])
def test_loss_nodes_are_named_as_pytorch_names_them(call, reduction):
    """One node where PyTorch's loss is one operation; the last operation's where it is composed.
    (margin_ranking_loss and triplet_margin_loss end, for 'none', in PyTorch's clamp_min, which
    chainrule records as a clamp: ClampBackward0.)"""
    data = rng(0).standard_normal((3, 4))
    ours = call(chainrule, chainrule.tensor(data, requires_grad=True), reduction)
    theirs = call(torch, torch.tensor(data, requires_grad=True), reduction)
    assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_kl_div_mean_warns_as_pytorch_and_batchmean_divides_by_the_batch():
    log_p, q = rng(0).standard_normal((3, 4)), SOFT[:3]
    values = {}
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            values[lib, "mean"] = F(lib).kl_div(lib.tensor(log_p), lib.tensor(q), reduction="mean").item()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values[lib, "batchmean"] = F(lib).kl_div(lib.tensor(log_p), lib.tensor(q), reduction="batchmean").item()
            values[lib, "scalar"] = F(lib).kl_div(lib.tensor(0.5), lib.tensor(0.3), reduction="batchmean").item()
    for kind in ("mean", "batchmean", "scalar"):
        assert values[chainrule, kind] == pytest.approx(values[torch, kind], rel=1e-12)
    assert values[torch, "batchmean"] == pytest.approx(values[torch, "mean"] * 4)


@pytest.mark.parametrize("call", [
    lambda lib, x: F(lib).huber_loss(x, x.detach()),
    lambda lib, x: F(lib).kl_div(x, x.detach().exp(), reduction="batchmean"),
    lambda lib, x: F(lib).soft_margin_loss(x, x.detach().sign()),
    lambda lib, x: F(lib).multi_margin_loss(x, lib.zeros(0, dtype=lib.int64), reduction="none"),
    lambda lib, x: F(lib).triplet_margin_loss(x, x, x, reduction="sum"),
    lambda lib, x: F(lib).multilabel_soft_margin_loss(x, x.detach(), reduction="none"),
], ids=["huber", "kl_div", "soft_margin", "multi_margin_none", "triplet", "multilabel_soft_margin"])
def test_empty_batches_give_pytorch_s_shapes_and_values(call):
    """(0, C) inputs: 'mean' is nan as in PyTorch, 'sum' 0, 'none' empty. (PyTorch 2.13's
    multi_margin_loss with 'sum' returns uninitialized memory for an empty batch; chainrule gives 0.)"""
    ours, theirs = call(chainrule, chainrule.zeros(0, 3, requires_grad=True)), call(torch, torch.zeros(0, 3, requires_grad=True))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours._array, theirs.detach().numpy())


def test_a_single_score_is_one_class_like_pytorch():
    for lib in (chainrule, torch):
        x = lib.tensor(0.7, requires_grad=True)
        assert F(lib).multi_margin_loss(x, lib.tensor(0)).item() == 0.0
        assert F(lib).multilabel_margin_loss(x, lib.tensor(0)).item() == 0.0


def test_soft_margin_loss_refuses_a_target_that_requires_grad_like_pytorch():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
            F(lib).soft_margin_loss(lib.ones(3), lib.ones(3, requires_grad=True))


def test_huber_loss_warns_when_target_broadcasts_like_pytorch():
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="that is different to the input size"):
            F(lib).huber_loss(lib.zeros(3, 2), lib.ones(2))


@pytest.mark.parametrize("var", [rng(2).uniform(0.5, 2, 4), rng(2).uniform(0.5, 2, (4, 1)), rng(2).uniform(0.5, 2, (1, 3))],
                         ids=["per_sample", "per_sample_kept_dim", "per_feature"])
def test_gaussian_nll_loss_shares_variances_like_pytorch(var):
    """One variance per sample (the input's shape without its last dimension, or with one
    dimension 1) or per feature: values and gradients, the shared variances' summed."""
    arrays = [rng(0).standard_normal((4, 3)), rng(1).standard_normal((4, 3)), var]
    results = []
    for lib in (chainrule, torch):
        tensors = [lib.tensor(array, requires_grad=True) for array in arrays]
        out = F(lib).gaussian_nll_loss(*tensors, reduction="none")
        (out * lib.tensor(rng(3).standard_normal((4, 3)))).sum().backward()
        results.append([out.detach().numpy()] + [tensor.grad.numpy() for tensor in tensors])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_gaussian_nll_loss_takes_one_variance_for_everything():
    x, y = rng(0).standard_normal((4, 3)), rng(1).standard_normal((4, 3))
    ours = functional.gaussian_nll_loss(chainrule.tensor(x), chainrule.tensor(y), 0.7, full=True)
    assert ours.item() == pytest.approx(torch_functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), 0.7, full=True).item(), rel=1e-12)


LOSS_ERRORS = [
    ("cosine_embedding_target_dims", lambda lib, x: F(lib).cosine_embedding_loss(x, x, lib.ones(3, 1)), RuntimeError),
    ("cosine_embedding_input_dims", lambda lib, x: F(lib).cosine_embedding_loss(x, x[0], lib.ones(3)), RuntimeError),
    ("cosine_embedding_scalar_target", lambda lib, x: F(lib).cosine_embedding_loss(x[0], x[0], lib.ones(3)), RuntimeError),
    ("cosine_embedding_sizes", lambda lib, x: F(lib).cosine_embedding_loss(x, x, lib.ones(4)), RuntimeError),
    ("hinge_sizes", lambda lib, x: F(lib).hinge_embedding_loss(x, lib.ones(5)), RuntimeError),
    ("margin_ranking_dims", lambda lib, x: F(lib).margin_ranking_loss(x, x, lib.ones(3)), RuntimeError),
    ("multi_margin_batch", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 1])), RuntimeError),
    ("multi_margin_range", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 1, 4])), RuntimeError),
    ("multi_margin_dtype", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0.0, 1.0, 3.0])), RuntimeError),
    ("multi_margin_weight_size", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 1, 3]), weight=lib.ones(3)), RuntimeError),
    ("multi_margin_weight_dims", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 1, 3]), weight=lib.ones(1, 4)), ValueError),
    ("multi_margin_p", lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor([0, 1, 3]), p=3), ValueError),
    ("multi_margin_3d", lambda lib, x: F(lib).multi_margin_loss(x[None], lib.tensor([1])), RuntimeError),
    ("multi_margin_no_classes", lambda lib, x: F(lib).multi_margin_loss(x[:, :0], lib.tensor([0, 0, 0])), RuntimeError),
    ("multilabel_margin_no_classes", lambda lib, x: F(lib).multilabel_margin_loss(x[:, :0], lib.zeros(3, 0, dtype=lib.int64)), RuntimeError),
    ("multilabel_margin_size", lambda lib, x: F(lib).multilabel_margin_loss(x, lib.tensor([0, 1, 3])), RuntimeError),
    ("multilabel_margin_range", lambda lib, x: F(lib).multilabel_margin_loss(x, lib.tensor([[0, 1, 3, 5]] * 3)), RuntimeError),
    ("soft_margin_sizes", lambda lib, x: F(lib).soft_margin_loss(x, lib.ones(3)), RuntimeError),
    ("kl_div_reduction", lambda lib, x: F(lib).kl_div(x, x, reduction="average"), ValueError),
    ("kl_div_integer_target", lambda lib, x: F(lib).kl_div(x, lib.ones(3, 4, dtype=lib.int64), reduction="sum"), RuntimeError),
    ("kl_div_integer_input", lambda lib, x: F(lib).kl_div(x.long(), x, reduction="sum"), RuntimeError),
    ("huber_delta", lambda lib, x: F(lib).huber_loss(x, x, delta=0.0), RuntimeError),
    ("huber_delta_complex", lambda lib, x: F(lib).huber_loss(x, x, delta=1 + 0j), TypeError),
    ("huber_module_delta_complex", lambda lib, x: lib.nn.HuberLoss(delta=1 + 0j), TypeError),
    ("huber_weight", lambda lib, x: F(lib).huber_loss(x, x, weight=lib.ones(4)), ValueError),
    ("poisson_sizes", lambda lib, x: F(lib).poisson_nll_loss(x, lib.ones(5)), RuntimeError),
    ("triplet_dims", lambda lib, x: F(lib).triplet_margin_loss(x, x, x[0]), RuntimeError),
    ("triplet_margin", lambda lib, x: F(lib).triplet_margin_loss(x, x, x, margin=0), ValueError),
    ("triplet_distance_margin", lambda lib, x: F(lib).triplet_margin_with_distance_loss(x, x, x, margin=-1.0), ValueError),
    ("triplet_distance_reduction", lambda lib, x: F(lib).triplet_margin_with_distance_loss(x, x, x, reduction="max"), ValueError),
    ("gaussian_var_size", lambda lib, x: F(lib).gaussian_nll_loss(x, x, lib.ones(2)), ValueError),
    ("gaussian_var_negative", lambda lib, x: F(lib).gaussian_nll_loss(x, x, -lib.ones(3, 4)), ValueError),
    ("gaussian_reduction", lambda lib, x: F(lib).gaussian_nll_loss(x, x, lib.ones(3, 4), reduction="max"), ValueError),
]


@pytest.mark.parametrize("call, error", [row[1:] for row in LOSS_ERRORS], ids=[row[0] for row in LOSS_ERRORS])
def test_loss_errors_are_pytorch_s(call, error):
    """PyTorch's exception type, and its message's opening words."""
    x = rng(0).standard_normal((3, 4))
    with pytest.raises(error) as theirs:
        call(torch, torch.tensor(x))
    with pytest.raises(error) as ours:
        call(chainrule, chainrule.tensor(x))
    opening = str(theirs.value).split(",")[0].split(":")[0][:30]
    assert opening.lower() in str(ours.value).lower(), f"ours: {ours.value}\ntheirs: {theirs.value}"


def test_multi_margin_loss_differentiates_twice_where_pytorch_cannot():
    """PyTorch has no second derivative of multi_margin_loss; chainrule's recorded backward has one
    (for p = 2; p = 1 is piecewise linear), checked by central differences of the first gradient."""
    targets, weight = chainrule.tensor([0, 3, 1]), chainrule.tensor(rng(1).uniform(0.5, 2, 4))
    start, direction = rng(0).standard_normal((3, 4)), rng(2).standard_normal((3, 4))

    def gradient(values):
        x = chainrule.tensor(values, requires_grad=True)
        loss = functional.multi_margin_loss(x, targets, p=2, weight=weight, reduction="sum")
        return x, chainrule.autograd.grad(loss, x, create_graph=True)[0]

    x, first = gradient(start)
    (second,) = chainrule.autograd.grad((first * chainrule.tensor(direction)).sum(), x)
    numerical = np.zeros_like(start)
    for position in np.ndindex(start.shape):
        step = np.zeros_like(start)
        step[position] = 1e-6
        numerical[position] = ((gradient(start + step)[1]._array - gradient(start - step)[1]._array) * direction).sum() / 2e-6
    np.testing.assert_allclose(second._array, numerical, atol=1e-6)


@pytest.mark.parametrize("target", [[-0.5, 1.5], [0.2, float("nan")], [0.0, 2.0]])
def test_binary_cross_entropy_refuses_targets_outside_zero_one_as_pytorch(target):
    """Unscaled labels (0/255 masks) given as BCE targets: PyTorch refuses them."""
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
            lib.nn.functional.binary_cross_entropy(lib.tensor([0.3, 0.6]), lib.tensor(target))
