"""A sweep of the loss modules of ``torch.nn`` and their ``torch.nn.functional`` forms against
PyTorch (the oracle): values and input gradients (float64) under every reduction, class-index and
probability targets of cross entropy (weight, ignore_index, label_smoothing, K-dim and unbatched
inputs), BCE / BCEWithLogits weights, KLDiv's ``batchmean`` and its warning, Huber / SmoothL1
thresholds, the margin and embedding losses, PoissonNLL / GaussianNLL options, a short CTC check,
the deprecated ``size_average`` / ``reduce`` keywords, empty batches, bad targets and reprs.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, exception types or reprs. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional

import chainrule
import chainrule.nn.functional
from tests.parity.sweep import assert_same, outcome, raises_as_torch


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        data = value.detach()
        data = data.double() if data.is_floating_point() else data
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(data.numpy(), dtype=np.float64)
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    return value


def same_in_both(run, rtol=1e-5, atol=1e-6):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = plain(run(torch))
    chainrule.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


# --- inputs --------------------------------------------------------------------------------------


def _randn(lib, *shape, seed=0, grad=True, dtype="float64"):
    data = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return lib.tensor(data, requires_grad=grad)


def _rand(lib, *shape, seed=0, low=0.05, high=0.95, grad=True):
    data = np.random.default_rng(seed).uniform(low, high, shape)
    return lib.tensor(data, requires_grad=grad)


def _classes(lib, *shape, n, seed=3):
    return lib.tensor(np.random.default_rng(seed).integers(0, n, shape))


def _signs(lib, *shape, seed=4):
    return lib.tensor(np.where(np.random.default_rng(seed).standard_normal(shape) > 0, 1.0, -1.0))


def value_and_grads(loss, *inputs):
    """The loss and the gradients of the inputs that require grad (float64)."""
    out = loss(*inputs)
    leaves = [each for each in inputs if hasattr(each, "requires_grad") and each.requires_grad]
    if not leaves:
        return [out]
    (out.sum() if out.dim() else out).backward()
    return [out] + [each.grad for each in leaves]


def _loss_case(make, inputs):
    """``make(lib)`` is a loss callable, ``inputs(lib)`` its arguments."""
    return lambda lib: value_and_grads(make(lib), *inputs(lib))


# --- every loss module under every reduction: value and input gradients ---------------------------

# name -> (module class name, constructor keywords, functional name, inputs(lib))
_LOSSES = {
    "L1Loss": ("L1Loss", {}, "l1_loss", lambda lib: (_randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False))),
    "MSELoss": ("MSELoss", {}, "mse_loss", lambda lib: (_randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False))),
    "CrossEntropyLoss": ("CrossEntropyLoss", {}, "cross_entropy", lambda lib: (_randn(lib, 4, 5), _classes(lib, 4, n=5))),
    "NLLLoss": ("NLLLoss", {}, "nll_loss", lambda lib: (_randn(lib, 4, 5), _classes(lib, 4, n=5))),
    "BCELoss": ("BCELoss", {}, "binary_cross_entropy", lambda lib: (_rand(lib, 3, 4), _rand(lib, 3, 4, seed=1, grad=False))),
    "BCEWithLogitsLoss": ("BCEWithLogitsLoss", {}, "binary_cross_entropy_with_logits",
                          lambda lib: (_randn(lib, 3, 4), _rand(lib, 3, 4, seed=1, grad=False))),
    "KLDivLoss": ("KLDivLoss", {}, "kl_div", lambda lib: (_randn(lib, 3, 4),
                                                          _rand(lib, 3, 4, seed=1, grad=False))),
    "HuberLoss": ("HuberLoss", {"delta": 0.7}, "huber_loss", lambda lib: (_randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False))),
    "SmoothL1Loss": ("SmoothL1Loss", {"beta": 0.5}, "smooth_l1_loss", lambda lib: (_randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False))),
    "SoftMarginLoss": ("SoftMarginLoss", {}, "soft_margin_loss", lambda lib: (_randn(lib, 3, 4), _signs(lib, 3, 4))),
    "MultiLabelSoftMarginLoss": ("MultiLabelSoftMarginLoss", {}, "multilabel_soft_margin_loss",
                                 lambda lib: (_randn(lib, 3, 4), (_signs(lib, 3, 4) > 0).double())),
    "MultiLabelMarginLoss": ("MultiLabelMarginLoss", {}, "multilabel_margin_loss",
                             lambda lib: (_randn(lib, 2, 4), lib.tensor([[3, 0, -1, 1], [1, 2, 3, -1]]))),
    "MultiMarginLoss": ("MultiMarginLoss", {}, "multi_margin_loss", lambda lib: (_randn(lib, 4, 5), _classes(lib, 4, n=5))),
    "CosineEmbeddingLoss": ("CosineEmbeddingLoss", {"margin": 0.2}, "cosine_embedding_loss",
                            lambda lib: (_randn(lib, 4, 3), _randn(lib, 4, 3, seed=1), _signs(lib, 4))),
    "MarginRankingLoss": ("MarginRankingLoss", {"margin": 0.3}, "margin_ranking_loss",
                          lambda lib: (_randn(lib, 5), _randn(lib, 5, seed=1), _signs(lib, 5))),
    "HingeEmbeddingLoss": ("HingeEmbeddingLoss", {"margin": 1.5}, "hinge_embedding_loss",
                           lambda lib: (_randn(lib, 3, 4), _signs(lib, 3, 4))),
    "TripletMarginLoss": ("TripletMarginLoss", {"margin": 1.0}, "triplet_margin_loss",
                          lambda lib: (_randn(lib, 4, 3), _randn(lib, 4, 3, seed=1), _randn(lib, 4, 3, seed=2))),
    "PoissonNLLLoss": ("PoissonNLLLoss", {}, "poisson_nll_loss", lambda lib: (_randn(lib, 3, 4), _rand(lib, 3, 4, seed=1, grad=False) * 4)),
    "GaussianNLLLoss": ("GaussianNLLLoss", {}, "gaussian_nll_loss",
                        lambda lib: (_randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False), _rand(lib, 3, 4, seed=2))),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", list(_LOSSES))
def test_loss_module_value_and_grads(name, reduction):
    cls, kwargs, _, inputs = _LOSSES[name]
    same_in_both(_loss_case(lambda lib: getattr(lib.nn, cls)(reduction=reduction, **kwargs), inputs))


@pytest.mark.parametrize("name", list(_LOSSES))
def test_loss_functional_default_matches(name):
    _, kwargs, fname, inputs = _LOSSES[name]
    same_in_both(_loss_case(lambda lib: (lambda *args: getattr(lib.nn.functional, fname)(*args, **kwargs)), inputs))


@pytest.mark.parametrize("name", list(_LOSSES))
def test_loss_repr(name):
    cls, kwargs, _, _ = _LOSSES[name]
    assert repr(getattr(chainrule.nn, cls)(**kwargs)) == repr(getattr(torch.nn, cls)(**kwargs))
    assert list(getattr(chainrule.nn, cls)(**kwargs).state_dict()) == list(getattr(torch.nn, cls)(**kwargs).state_dict())


def _bug(reason, *values):
    return pytest.param(*values, marks=pytest.mark.xfail(strict=True, reason=f"BUG: {reason}"))


def _params(table):
    """Test ids of ``table``, carrying the xfail marks of the entries made with ``_bug``."""
    return [pytest.param(name, marks=value.marks) if hasattr(value, "marks") else name for name, value in table.items()]


def _entry(table, name):
    value = table[name]
    return value.values[0] if hasattr(value, "marks") else value


def _f(lib):
    return lib.nn.functional


def _f64(lib, values, grad=False):
    return lib.tensor(values, dtype=lib.float64, requires_grad=grad)


def _log_probs(lib, *shape, dtype="float64"):
    return _randn(lib, *shape, dtype=dtype).log_softmax(-1).detach().requires_grad_()


# --- cross entropy and NLL: class indices, probabilities, weight, ignore_index, smoothing, K-dim ---

_WEIGHTS5 = [1.0, 2.0, 0.5, 1.0, 3.0]
_CROSS_ENTROPY = {
    "weight_ignore_smoothing": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(weight=_f64(lib, _WEIGHTS5), ignore_index=2, label_smoothing=0.1),
        _randn(lib, 6, 5), lib.tensor([0, 2, 1, 4, 2, 3])),
    "weight_smoothing_sum": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(weight=_f64(lib, _WEIGHTS5), label_smoothing=0.2, reduction="sum"),
        _randn(lib, 6, 5), lib.tensor([0, 2, 1, 4, 2, 3])),
    "ignore_smoothing_sum": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(ignore_index=0, label_smoothing=0.2, reduction="sum"), _randn(lib, 3, 3), lib.tensor([0, 1, 2])),
    "all_ignored_is_nan": lambda lib: value_and_grads(lib.nn.CrossEntropyLoss(ignore_index=1), _randn(lib, 2, 3), lib.tensor([1, 1])),
    "default_ignore_minus_100": lambda lib: value_and_grads(lib.nn.CrossEntropyLoss(), _randn(lib, 3, 3), lib.tensor([1, -100, 0])),
    "ignore_index_above_classes": lambda lib: value_and_grads(lib.nn.CrossEntropyLoss(ignore_index=7), _randn(lib, 3, 3), lib.tensor([7, 1, 0])),
    "probabilities": lambda lib: value_and_grads(lib.nn.CrossEntropyLoss(), _randn(lib, 4, 5), _rand(lib, 4, 5, seed=1, grad=False).softmax(1)),
    "probabilities_weight_smoothing": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(weight=_f64(lib, _WEIGHTS5), label_smoothing=0.3),
        _randn(lib, 4, 5), _rand(lib, 4, 5, seed=1, grad=False).softmax(1)),
    "probabilities_none": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(reduction="none", label_smoothing=0.1), _randn(lib, 4, 5), _rand(lib, 4, 5, seed=1, grad=False).softmax(1)),
    "probabilities_target_grad": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(label_smoothing=0.1), _randn(lib, 2, 3), _rand(lib, 2, 3, seed=1)),
    "kdim_weight_ignore": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(weight=_f64(lib, [1.0, 2.0, 0.5]), ignore_index=0), _randn(lib, 2, 3, 4, 5), _classes(lib, 2, 4, 5, n=3)),
    "kdim_none_smoothing": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(reduction="none", label_smoothing=0.1), _randn(lib, 2, 3, 4, 5), _classes(lib, 2, 4, 5, n=3)),
    "kdim_probabilities": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(reduction="none"), _randn(lib, 2, 3, 4), _rand(lib, 2, 3, 4, seed=1, grad=False).softmax(1)),
    "3d_spatial": lambda lib: value_and_grads(
        lib.nn.CrossEntropyLoss(label_smoothing=0.05), _randn(lib, 2, 3, 2, 2, 2), _classes(lib, 2, 2, 2, 2, n=3)),
    "unbatched": lambda lib: value_and_grads(lib.nn.CrossEntropyLoss(), _randn(lib, 5), lib.tensor(3)),
    "unbatched_none": lambda lib: value_and_grads(lib.nn.CrossEntropyLoss(reduction="none"), _randn(lib, 5), lib.tensor(3)),
    "unbatched_probabilities": lambda lib: value_and_grads(lib.nn.CrossEntropyLoss(), _randn(lib, 5), _rand(lib, 5, grad=False).softmax(0)),
    # forward only: PyTorch's backward of a (1,) target for a (C,) input raises "size mismatch"
    "unbatched_one_element_target": lambda lib: [loss(_randn(lib, 5, grad=False), lib.tensor([1]), reduction=reduction)
                                                 for loss in (_f(lib).cross_entropy, _f(lib).nll_loss) for reduction in ("mean", "none")],
    "uint8_target": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3, grad=False), lib.tensor([0, 1], dtype=lib.uint8)),
    "float32_logits": lambda lib: value_and_grads(lib.nn.CrossEntropyLoss(), _randn(lib, 2, 3, dtype="float32"), lib.tensor([0, 2])),
    "float32_logits_float64_probabilities": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3, dtype="float32"), _rand(lib, 2, 3, grad=False)),
    "float32_probabilities_float64_weight": lambda lib: _f(lib).cross_entropy(
        _randn(lib, 2, 3, dtype="float32"), _rand(lib, 2, 3, grad=False).float(), weight=_f64(lib, [1.0, 2.0, 0.5]), reduction="none"),
    "float64_logits_float32_probabilities": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), _rand(lib, 2, 3, grad=False).float()),
    "nll_weight_mean": lambda lib: value_and_grads(
        lib.nn.NLLLoss(weight=_f64(lib, [0.2, 1.0, 3.0])), _randn(lib, 5, 3), _classes(lib, 5, n=3)),
    "nll_kdim_ignore": lambda lib: value_and_grads(lib.nn.NLLLoss(reduction="none", ignore_index=1), _randn(lib, 2, 3, 4), _classes(lib, 2, 4, n=3)),
    "nll_unbatched": lambda lib: value_and_grads(lib.nn.NLLLoss(), _randn(lib, 3), lib.tensor(1)),
    "nll_positional_ignore_index": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3, grad=False), lib.tensor([0, 1]), None, None, 1),
}


@pytest.mark.parametrize("name", _params(_CROSS_ENTROPY))
def test_cross_entropy_and_nll(name):
    same_in_both(_entry(_CROSS_ENTROPY, name))


_CROSS_ENTROPY_ERRORS = {
    "int32_class_indices": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3, grad=False), lib.tensor([0, 1], dtype=lib.int32)),
    "class_out_of_range": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), lib.tensor([0, 3])),
    "negative_class": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), lib.tensor([0, -1])),
    "nll_class_out_of_range": lambda lib: _f(lib).nll_loss(_randn(lib, 2, 3), lib.tensor([0, 5])),
    "float_class_indices": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), lib.tensor([0.0, 1.0])),
    "nll_float_class_indices": lambda lib: _f(lib).nll_loss(_randn(lib, 2, 3), lib.tensor([0.0, 1.0])),
    "batch_size_mismatch": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), lib.tensor([0, 1, 2])),
    "unbatched_two_element_target": lambda lib: _f(lib).cross_entropy(_randn(lib, 5), lib.tensor([1, 2])),
    "unbatched_empty_target": lambda lib: _f(lib).cross_entropy(_randn(lib, 5), lib.zeros(0, dtype=lib.long)),
    "kdim_target_missing_dims": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3, 4), lib.tensor([0, 1])),
    "nll_kdim_target_wrong_shape": lambda lib: _f(lib).nll_loss(_randn(lib, 2, 3, 4), lib.zeros(2, 5, dtype=lib.long)),
    "probabilities_wrong_classes": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), _rand(lib, 2, 4, grad=False)),
    "probabilities_with_ignore_index": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), _rand(lib, 2, 3, grad=False), ignore_index=1),
    "label_smoothing_above_one": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), lib.tensor([0, 1]), label_smoothing=1.5),
    "weight_wrong_size": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), lib.tensor([0, 1]), weight=lib.ones(4, dtype=lib.float64)),
    "weight_dtype_mismatch": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3, dtype="float32"), lib.tensor([0, 1]), weight=lib.ones(3, dtype=lib.float64)),
    "nll_weight_dtype_mismatch": lambda lib: _f(lib).nll_loss(_randn(lib, 2, 3, dtype="float32"), lib.tensor([0, 1]), weight=lib.ones(3, dtype=lib.float64)),
    "integer_logits": lambda lib: _f(lib).cross_entropy(lib.tensor([[1, 2, 3]]), lib.tensor([0])),
    "nll_integer_input": lambda lib: _f(lib).nll_loss(lib.tensor([[1, 2]]), lib.tensor([0])),
    "nll_integer_input_float_weight": lambda lib: _f(lib).nll_loss(lib.tensor([[1, 2]]), lib.tensor([0]), weight=lib.ones(2)),
    "bool_logits": lambda lib: _f(lib).cross_entropy(lib.tensor([[True, False]]), lib.tensor([0])),
}


@pytest.mark.parametrize("name", _params(_CROSS_ENTROPY_ERRORS))
def test_cross_entropy_bad_input_raises_as_torch(name):
    raises_as_torch(_entry(_CROSS_ENTROPY_ERRORS, name))


def test_cross_entropy_module_attributes_and_state_dict():
    def run(lib):
        module = lib.nn.CrossEntropyLoss(weight=lib.ones(3), ignore_index=1, label_smoothing=0.1)
        return list(module.state_dict()), repr(module), module.ignore_index, module.label_smoothing, module.reduction

    same_in_both(run)


# --- BCE, BCEWithLogits, KLDiv, Huber, SmoothL1, MSE, L1 options --------------------------------

_REGRESSION_AND_BINARY = {
    "bce_weight": lambda lib: value_and_grads(
        lib.nn.BCELoss(weight=_f64(lib, [1.0, 2.0, 0.5, 0.0])), _rand(lib, 3, 4), _rand(lib, 3, 4, seed=1, grad=False)),
    "bce_log_clamped_at_0_and_1": lambda lib: value_and_grads(
        lib.nn.BCELoss(reduction="none"), _f64(lib, [0.0, 1.0, 0.0, 1.0], grad=True), _f64(lib, [0.0, 1.0, 1.0, 0.0])),
    "bce_target_grad": lambda lib: value_and_grads(lib.nn.BCELoss(), _rand(lib, 3), _rand(lib, 3, seed=1)),
    "bce_logits_pos_weight_per_class": lambda lib: value_and_grads(
        lib.nn.BCEWithLogitsLoss(pos_weight=_f64(lib, [1.0, 2.0, 3.0, 0.5])), _randn(lib, 3, 4), _rand(lib, 3, 4, seed=1, grad=False)),
    "bce_logits_pos_weight_channels": lambda lib: value_and_grads(
        lib.nn.BCEWithLogitsLoss(pos_weight=_f64(lib, [1.0, 2.0, 3.0]).reshape(3, 1, 1), reduction="none"),
        _randn(lib, 2, 3, 2, 2), _rand(lib, 2, 3, 2, 2, seed=1, grad=False)),
    "bce_logits_weight_and_pos_weight": lambda lib: value_and_grads(
        lib.nn.BCEWithLogitsLoss(weight=_f64(lib, [[1.0], [0.0], [2.0]]), pos_weight=_f64(lib, [2.0]), reduction="sum"),
        _randn(lib, 3, 4), _rand(lib, 3, 4, seed=1, grad=False)),
    "bce_logits_huge_logits": lambda lib: value_and_grads(
        lib.nn.BCEWithLogitsLoss(reduction="none", pos_weight=_f64(lib, 3.0)),
        _f64(lib, [-800.0, 800.0, -30.0, 30.0], grad=True), _f64(lib, [1.0, 0.0, 1.0, 0.0])),
    "bce_logits_target_grad": lambda lib: value_and_grads(
        lib.nn.BCEWithLogitsLoss(pos_weight=_f64(lib, [2.0, 1.0, 0.5])), _randn(lib, 2, 3), _rand(lib, 2, 3, seed=1)),
    "bce_logits_float32_float64_target": lambda lib: _f(lib).binary_cross_entropy_with_logits(_randn(lib, 3).float(), _rand(lib, 3, grad=False)),
    "bce_logits_state_dict": lambda lib: (lambda m: (list(m.state_dict()), repr(m), list(dict(m.named_buffers()))))(
        lib.nn.BCEWithLogitsLoss(weight=lib.ones(3), pos_weight=lib.ones(3))),
    "kl_batchmean": lambda lib: value_and_grads(
        lib.nn.KLDivLoss(reduction="batchmean"), _randn(lib, 3, 4).log_softmax(1), _rand(lib, 3, 4, seed=1, grad=False)),
    "kl_batchmean_target_grad": lambda lib: value_and_grads(lib.nn.KLDivLoss(reduction="batchmean"), _randn(lib, 2, 3), _rand(lib, 2, 3, seed=1)),
    "kl_log_target": lambda lib: value_and_grads(lib.nn.KLDivLoss(reduction="sum", log_target=True), _randn(lib, 3, 4), _randn(lib, 3, 4, seed=1)),
    "kl_log_target_mean": lambda lib: value_and_grads(lib.nn.KLDivLoss(reduction="mean", log_target=True), _randn(lib, 2, 3), _randn(lib, 2, 3, seed=1)),
    "kl_zero_target_terms": lambda lib: value_and_grads(lib.nn.KLDivLoss(reduction="none"), _randn(lib, 4), _f64(lib, [0.0, 0.5, 0.0, 0.5])),
    "kl_batchmean_0d": lambda lib: value_and_grads(lib.nn.KLDivLoss(reduction="batchmean"), _randn(lib), _rand(lib, grad=False)),
    "kl_float32_float64_target": lambda lib: _f(lib).kl_div(_randn(lib, 3).float(), _rand(lib, 3, grad=False)),
    "huber_default_delta": lambda lib: value_and_grads(lib.nn.HuberLoss(), _randn(lib, 10) * 2, _randn(lib, 10, seed=1, grad=False)),
    "huber_target_grad": lambda lib: value_and_grads(lib.nn.HuberLoss(delta=0.5), _randn(lib, 2, 3), _randn(lib, 2, 3, seed=1)),
    "smooth_l1_default_beta": lambda lib: value_and_grads(lib.nn.SmoothL1Loss(), _randn(lib, 10) * 2, _randn(lib, 10, seed=1, grad=False)),
    "smooth_l1_beta_0_is_l1": lambda lib: value_and_grads(lib.nn.SmoothL1Loss(beta=0.0, reduction="none"), _randn(lib, 4), _randn(lib, 4, seed=1, grad=False)),
    "smooth_l1_target_grad": lambda lib: value_and_grads(lib.nn.SmoothL1Loss(beta=0.5), _randn(lib, 2, 3), _randn(lib, 2, 3, seed=1)),
    "mse_broadcast_target": lambda lib: value_and_grads(lib.nn.MSELoss(), _randn(lib, 3, 1), _randn(lib, 3, grad=False)),
    "mse_target_grad": lambda lib: value_and_grads(lib.nn.MSELoss(), _randn(lib, 3), _randn(lib, 3, seed=1)),
    "mse_0d": lambda lib: value_and_grads(lib.nn.MSELoss(reduction="none"), _randn(lib), _randn(lib, seed=1, grad=False)),
    "mse_float32_int_target": lambda lib: value_and_grads(lib.nn.MSELoss(), _randn(lib, 3, dtype="float32"), lib.tensor([1, 2, 3])),
    "mse_float32_float64_target": lambda lib: value_and_grads(lib.nn.MSELoss(), _randn(lib, 3, dtype="float32"), _randn(lib, 3, grad=False)),
    "l1_float32_float64_target": lambda lib: value_and_grads(lib.nn.L1Loss(), _randn(lib, 3, dtype="float32"), _randn(lib, 3, grad=False)),
    "smooth_l1_integer_input_float_target": lambda lib: _f(lib).smooth_l1_loss(lib.tensor([1, 2]), lib.tensor([1.0, 3.5])),
    "smooth_l1_beta_0_integer_sum": lambda lib: _f(lib).smooth_l1_loss(lib.tensor([1, 2]), lib.tensor([1, 4]), beta=0.0, reduction="sum"),
    "huber_float64_float32_target": lambda lib: _f(lib).huber_loss(_randn(lib, 3), _randn(lib, 3, seed=1, grad=False).float()),
    "l1_subgradient_at_zero": lambda lib: value_and_grads(lib.nn.L1Loss(reduction="sum"), _f64(lib, [1.0, 2.0], grad=True), _f64(lib, [1.0, 3.0])),
    "l1_target_grad": lambda lib: value_and_grads(lib.nn.L1Loss(), _randn(lib, 2, 3), _randn(lib, 2, 3, seed=1)),
}


@pytest.mark.parametrize("name", _params(_REGRESSION_AND_BINARY))
def test_binary_kl_and_regression_losses(name):
    same_in_both(_entry(_REGRESSION_AND_BINARY, name))


_REGRESSION_AND_BINARY_ERRORS = {
    "bce_probability_above_one": lambda lib: _f(lib).binary_cross_entropy(lib.tensor([0.5, 1.5]), lib.tensor([0.0, 1.0])),
    "bce_shape_mismatch": lambda lib: _f(lib).binary_cross_entropy(_rand(lib, 3, 1), _rand(lib, 3, grad=False)),
    "bce_logits_shape_mismatch": lambda lib: _f(lib).binary_cross_entropy_with_logits(_randn(lib, 3, 1), _rand(lib, 3, grad=False)),
    "bce_long_target": lambda lib: _f(lib).binary_cross_entropy(_rand(lib, 3), lib.tensor([0, 1, 1])),
    "bce_logits_long_target": lambda lib: _f(lib).binary_cross_entropy_with_logits(_randn(lib, 3), lib.tensor([0, 1, 1])),
    "bce_float32_float64_target": lambda lib: _f(lib).binary_cross_entropy(_rand(lib, 3).float(), _rand(lib, 3, grad=False)),
    "huber_delta_0": lambda lib: _f(lib).huber_loss(_randn(lib, 3), _randn(lib, 3, seed=1, grad=False), delta=0.0),
    "huber_negative_delta": lambda lib: _f(lib).huber_loss(_randn(lib, 3), _randn(lib, 3, seed=1, grad=False), delta=-1.0),
    "smooth_l1_negative_beta": lambda lib: _f(lib).smooth_l1_loss(_randn(lib, 3), _randn(lib, 3, seed=1, grad=False), beta=-1.0),
    "mse_integer_tensors": lambda lib: _f(lib).mse_loss(lib.tensor([1, 2]), lib.tensor([1, 3])),
    "huber_integer_tensors": lambda lib: _f(lib).huber_loss(lib.tensor([1, 2]), lib.tensor([1, 3])),
    "huber_integer_input_float_target": lambda lib: _f(lib).huber_loss(lib.tensor([1, 2]), lib.tensor([1.0, 3.0])),
    "bce_float64_float32_target": lambda lib: _f(lib).binary_cross_entropy(_rand(lib, 3), _rand(lib, 3, grad=False).float()),
    "smooth_l1_beta_0_integer_mean": lambda lib: _f(lib).smooth_l1_loss(lib.tensor([1, 2]), lib.tensor([1, 3]), beta=0.0),
    "smooth_l1_integer_tensors": lambda lib: _f(lib).smooth_l1_loss(lib.tensor([1, 2]), lib.tensor([1, 3])),
    "unknown_reduction_functional": lambda lib: _f(lib).mse_loss(_randn(lib, 3), _randn(lib, 3, grad=False), reduction="avg"),
    "unknown_reduction_module": lambda lib: lib.nn.L1Loss(reduction="avg")(_randn(lib, 3), _randn(lib, 3, grad=False)),
    "unknown_reduction_cross_entropy": lambda lib: lib.nn.CrossEntropyLoss(reduction="avg")(_randn(lib, 2, 3), lib.tensor([0, 1])),
}


@pytest.mark.parametrize("name", _params(_REGRESSION_AND_BINARY_ERRORS))
def test_binary_and_regression_bad_input_raises_as_torch(name):
    raises_as_torch(_entry(_REGRESSION_AND_BINARY_ERRORS, name))


# --- margin and embedding losses ------------------------------------------------------------------

_MARGIN = {
    "soft_margin_0d": lambda lib: value_and_grads(lib.nn.SoftMarginLoss(), _randn(lib), _f64(lib, -1.0)),
    "multilabel_soft_margin_weight": lambda lib: value_and_grads(
        lib.nn.MultiLabelSoftMarginLoss(weight=_f64(lib, [1.0, 2.0, 0.0, 0.5]), reduction="none"), _randn(lib, 3, 4), (_signs(lib, 3, 4) > 0).double()),
    "multilabel_soft_margin_1d": lambda lib: value_and_grads(lib.nn.MultiLabelSoftMarginLoss(), _randn(lib, 4), (_signs(lib, 4) > 0).double()),
    "multilabel_soft_margin_float32_float64_target": lambda lib: _f(lib).multilabel_soft_margin_loss(_randn(lib, 2, 3).float(), _rand(lib, 2, 3, grad=False)),
    "multilabel_soft_margin_float64_weight": lambda lib: _f(lib).multilabel_soft_margin_loss(
        _randn(lib, 2, 3).float(), _rand(lib, 2, 3, grad=False).float(), weight=_f64(lib, [1.0, 2.0, 0.5])),
    "multilabel_margin_1d": lambda lib: value_and_grads(lib.nn.MultiLabelMarginLoss(reduction="none"), _randn(lib, 4), lib.tensor([3, 0, -1, 1])),
    "multi_margin_p2_margin_weight": lambda lib: value_and_grads(
        lib.nn.MultiMarginLoss(p=2, margin=0.5, weight=_f64(lib, _WEIGHTS5)), _randn(lib, 4, 5), _classes(lib, 4, n=5)),
    "multi_margin_weight_none": lambda lib: value_and_grads(
        lib.nn.MultiMarginLoss(reduction="none", weight=_f64(lib, _WEIGHTS5)), _randn(lib, 4, 5), _classes(lib, 4, n=5)),
    "multi_margin_1d": lambda lib: value_and_grads(lib.nn.MultiMarginLoss(reduction="none"), _randn(lib, 5), lib.tensor([2])),
    "multi_margin_1d_0d_target": lambda lib: value_and_grads(lib.nn.MultiMarginLoss(), _randn(lib, 5), lib.tensor(2)),
    "cosine_1d_negative_margin": lambda lib: value_and_grads(
        lib.nn.CosineEmbeddingLoss(margin=-0.5, reduction="none"), _randn(lib, 3), _randn(lib, 3, seed=1), _f64(lib, -1.0)),
    "cosine_zero_vector": lambda lib: value_and_grads(
        lib.nn.CosineEmbeddingLoss(reduction="none"), lib.zeros(2, 3, dtype=lib.float64, requires_grad=True), _randn(lib, 2, 3, seed=1), _f64(lib, [1.0, -1.0])),
    "cosine_integer_target": lambda lib: value_and_grads(lib.nn.CosineEmbeddingLoss(), _randn(lib, 2, 3), _randn(lib, 2, 3, seed=1), lib.tensor([1, -1])),
    "margin_ranking_0d": lambda lib: value_and_grads(lib.nn.MarginRankingLoss(margin=0.5), _randn(lib), _randn(lib, seed=1), _f64(lib, 1.0)),
    "margin_ranking_target_grad": lambda lib: value_and_grads(lib.nn.MarginRankingLoss(), _randn(lib, 3), _randn(lib, 3, seed=1), _randn(lib, 3, seed=2)),
    "hinge_default_margin": lambda lib: value_and_grads(lib.nn.HingeEmbeddingLoss(reduction="none"), _randn(lib, 5), _signs(lib, 5)),
    "hinge_targets_not_plus_minus_one": lambda lib: value_and_grads(
        lib.nn.HingeEmbeddingLoss(reduction="none"), _randn(lib, 4), _f64(lib, [1.0, -1.0, 0.0, 2.0])),
    "triplet_p1_swap": lambda lib: value_and_grads(
        lib.nn.TripletMarginLoss(margin=0.5, p=1, swap=True, reduction="none"), _randn(lib, 4, 3), _randn(lib, 4, 3, seed=1), _randn(lib, 4, 3, seed=2)),
    "triplet_eps": lambda lib: value_and_grads(lib.nn.TripletMarginLoss(eps=1e-2), _randn(lib, 4, 3), _randn(lib, 4, 3, seed=1), _randn(lib, 4, 3, seed=2)),
    "triplet_1d": lambda lib: value_and_grads(
        lib.nn.TripletMarginLoss(margin=2.0, reduction="none"), _randn(lib, 3), _randn(lib, 3, seed=1), _randn(lib, 3, seed=2)),
    "triplet_anchor_equals_positive": lambda lib: value_and_grads(lib.nn.TripletMarginLoss(), _randn(lib, 2, 3), _randn(lib, 2, 3), _randn(lib, 2, 3, seed=3)),
    "triplet_distance_default": lambda lib: value_and_grads(
        lib.nn.TripletMarginWithDistanceLoss(), _randn(lib, 4, 3), _randn(lib, 4, 3, seed=1), _randn(lib, 4, 3, seed=2)),
    "triplet_distance_cosine_swap": lambda lib: value_and_grads(
        lib.nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: 1.0 - _f(lib).cosine_similarity(x, y), margin=0.3, swap=True, reduction="none"),
        _randn(lib, 4, 3), _randn(lib, 4, 3, seed=1), _randn(lib, 4, 3, seed=2)),
    "triplet_distance_pairwise_module": lambda lib: value_and_grads(
        lib.nn.TripletMarginWithDistanceLoss(distance_function=lib.nn.PairwiseDistance(p=1), reduction="sum"),
        _randn(lib, 4, 3), _randn(lib, 4, 3, seed=1), _randn(lib, 4, 3, seed=2)),
}


@pytest.mark.parametrize("name", _params(_MARGIN))
def test_margin_and_embedding_losses(name):
    same_in_both(_entry(_MARGIN, name))


_MARGIN_ERRORS = {
    "multilabel_margin_class_out_of_range": lambda lib: _f(lib).multilabel_margin_loss(_randn(lib, 2, 4), lib.tensor([[5, 0, -1, 1], [1, 2, 3, -1]])),
    "multilabel_margin_float_target": lambda lib: _f(lib).multilabel_margin_loss(_randn(lib, 2, 4), lib.tensor([[3.0, 0, -1, 1], [1, 2, 3, -1]])),
    "multi_margin_p3_module": lambda lib: lib.nn.MultiMarginLoss(p=3),
    "multi_margin_p3_functional": lambda lib: _f(lib).multi_margin_loss(_randn(lib, 2, 3), lib.tensor([0, 1]), p=3),
    "multi_margin_class_out_of_range": lambda lib: _f(lib).multi_margin_loss(_randn(lib, 2, 3), lib.tensor([0, 3])),
    "multi_margin_float_target": lambda lib: _f(lib).multi_margin_loss(_randn(lib, 2, 3), lib.tensor([0.0, 1.0])),
    "multi_margin_weight_dtype_mismatch": lambda lib: _f(lib).multi_margin_loss(_randn(lib, 2, 3).float(), lib.tensor([0, 1]), weight=lib.ones(3, dtype=lib.float64)),
    "multi_margin_float32_weight_of_float64_input": lambda lib: _f(lib).multi_margin_loss(
        _randn(lib, 2, 3), lib.tensor([0, 1]), weight=lib.ones(3)),
    "multi_margin_integer_input": lambda lib: _f(lib).multi_margin_loss(lib.tensor([[1, 2]]), lib.tensor([0])),
    "multilabel_soft_margin_integer_input": lambda lib: _f(lib).multilabel_soft_margin_loss(lib.tensor([[1, 2]]), lib.tensor([[0.0, 1.0]])),
    "cosine_target_2d": lambda lib: _f(lib).cosine_embedding_loss(_randn(lib, 2, 3), _randn(lib, 2, 3), lib.ones(2, 1)),
    "margin_ranking_broadcast": lambda lib: lib.nn.MarginRankingLoss(reduction="none")(_randn(lib, 3, 1), _randn(lib, 3, seed=1), _signs(lib, 3)),
    "triplet_dim_mismatch": lambda lib: _f(lib).triplet_margin_loss(_randn(lib, 4, 3), _randn(lib, 3), _randn(lib, 4, 3)),
    "triplet_distance_negative_margin": lambda lib: lib.nn.TripletMarginWithDistanceLoss(margin=-1.0)(
        _randn(lib, 4, 3), _randn(lib, 4, 3, seed=1), _randn(lib, 4, 3, seed=2)),
}


@pytest.mark.parametrize("name", _params(_MARGIN_ERRORS))
def test_margin_bad_input_raises_as_torch(name):
    raises_as_torch(_entry(_MARGIN_ERRORS, name))


# --- PoissonNLL, GaussianNLL, CTC ---------------------------------------------------------------

_COUNTS = [[0.0, 1.0, 2.0, 5.0]] * 3
_LIKELIHOOD = {
    "poisson_rate_input_full": lambda lib: value_and_grads(
        lib.nn.PoissonNLLLoss(log_input=False, full=True, reduction="none"), _rand(lib, 3, 4) * 3, _f64(lib, _COUNTS)),
    "poisson_log_input_full_eps": lambda lib: value_and_grads(lib.nn.PoissonNLLLoss(full=True, eps=1e-3), _randn(lib, 3, 4), _f64(lib, _COUNTS)),
    "poisson_rate_zero_uses_eps": lambda lib: value_and_grads(
        lib.nn.PoissonNLLLoss(log_input=False, reduction="none"), _f64(lib, [0.0, 1.0], grad=True), _f64(lib, [1.0, 1.0])),
    "poisson_target_grad": lambda lib: value_and_grads(lib.nn.PoissonNLLLoss(full=True), _randn(lib, 3), _rand(lib, 3, seed=1) * 3),
    "gaussian_full_eps": lambda lib: value_and_grads(
        lib.nn.GaussianNLLLoss(full=True, eps=0.5, reduction="none"), _randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False), _rand(lib, 3, 4, seed=2)),
    "gaussian_var_per_row": lambda lib: value_and_grads(
        lib.nn.GaussianNLLLoss(reduction="none"), _randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False), _rand(lib, 3, 1, seed=2)),
    "gaussian_var_without_last_dim": lambda lib: value_and_grads(
        lib.nn.GaussianNLLLoss(reduction="none"), _randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False), _rand(lib, 3, seed=2)),
    "gaussian_var_python_float": lambda lib: value_and_grads(lib.nn.GaussianNLLLoss(), _randn(lib, 3, 4), _randn(lib, 3, 4, seed=1, grad=False), 0.5),
    "gaussian_var_clamped_no_grad_below_eps": lambda lib: value_and_grads(
        lib.nn.GaussianNLLLoss(reduction="sum"), _randn(lib, 3), _randn(lib, 3, grad=False, seed=1), _f64(lib, [1e-9, 0.5, 0.0], grad=True)),
    "gaussian_unbatched_var_size_1": lambda lib: value_and_grads(
        lib.nn.GaussianNLLLoss(reduction="none"), _randn(lib, 4), _randn(lib, 4, seed=1, grad=False), _rand(lib, 1, seed=2)),
    "gaussian_target_grad": lambda lib: value_and_grads(lib.nn.GaussianNLLLoss(), _randn(lib, 3), _randn(lib, 3, seed=1), _rand(lib, 3, seed=2)),
    "ctc_mean_padded_targets": lambda lib: value_and_grads(
        lib.nn.CTCLoss(), _log_probs(lib, 6, 2, 4), lib.tensor([[1, 2, 2], [3, 1, 0]]), lib.tensor([6, 5]), lib.tensor([3, 2])),
    "ctc_concatenated_targets_blank_3": lambda lib: [value_and_grads(
        lib.nn.CTCLoss(blank=3, reduction=reduction), _log_probs(lib, 6, 2, 4), lib.tensor([1, 2, 2, 0, 1]), lib.tensor([6, 6]), lib.tensor([3, 2]))
        for reduction in ("none", "sum")],
    "ctc_impossible_alignment_zero_infinity": lambda lib: [value_and_grads(
        lib.nn.CTCLoss(reduction="none", zero_infinity=zero), _log_probs(lib, 2, 1, 4), lib.tensor([[1, 1, 2]]), lib.tensor([2]), lib.tensor([3]))
        for zero in (False, True)],
    "ctc_unbatched": lambda lib: value_and_grads(
        lambda lp: _f(lib).ctc_loss(lp, lib.tensor([1, 2]), lib.tensor(5), lib.tensor(2)), _log_probs(lib, 5, 4)),
    "ctc_int32_targets_tuple_lengths": lambda lib: value_and_grads(
        lambda lp: _f(lib).ctc_loss(lp, lib.tensor([1, 2, 2, 3, 1], dtype=lib.int32), (6, 5), (3, 2)), _log_probs(lib, 6, 2, 4)),
    "ctc_zero_target_length": lambda lib: value_and_grads(
        lambda lp: _f(lib).ctc_loss(lp, lib.tensor([[1, 2], [0, 0]]), lib.tensor([4, 3]), lib.tensor([2, 0])), _log_probs(lib, 4, 2, 3)),
    "ctc_float32": lambda lib: value_and_grads(
        lambda lp: _f(lib).ctc_loss(lp, lib.tensor([[1, 2], [3, 3]]), lib.tensor([5, 5]), lib.tensor([2, 2])), _log_probs(lib, 5, 2, 4, dtype="float32")),
}


@pytest.mark.parametrize("name", _params(_LIKELIHOOD))
def test_poisson_gaussian_and_ctc(name):
    same_in_both(_entry(_LIKELIHOOD, name))


_LIKELIHOOD_ERRORS = {
    "gaussian_negative_var": lambda lib: _f(lib).gaussian_nll_loss(_randn(lib, 3), _randn(lib, 3, grad=False), -lib.ones(3, dtype=lib.float64)),
    "gaussian_var_bad_shape": lambda lib: _f(lib).gaussian_nll_loss(_randn(lib, 3, 4), _randn(lib, 3, 4, grad=False), _rand(lib, 2, 4)),
    "ctc_input_length_above_time": lambda lib: _f(lib).ctc_loss(_log_probs(lib, 3, 1, 4), lib.tensor([[1, 2]]), lib.tensor([5]), lib.tensor([2])),
}


@pytest.mark.parametrize("name", _params(_LIKELIHOOD_ERRORS))
def test_likelihood_bad_input_raises_as_torch(name):
    raises_as_torch(_entry(_LIKELIHOOD_ERRORS, name))


# --- empty batches: mean of nothing is nan, sum is 0, gradients are empty --------------------------

_EMPTY = {
    "cross_entropy": lambda lib, r: value_and_grads(lib.nn.CrossEntropyLoss(reduction=r), _randn(lib, 0, 5), lib.zeros(0, dtype=lib.long)),
    "cross_entropy_probabilities": lambda lib, r: value_and_grads(lib.nn.CrossEntropyLoss(reduction=r), _randn(lib, 0, 3), _rand(lib, 0, 3, grad=False)),
    "nll": lambda lib, r: value_and_grads(lib.nn.NLLLoss(reduction=r), _randn(lib, 0, 3), lib.zeros(0, dtype=lib.long)),
    "mse": lambda lib, r: value_and_grads(lib.nn.MSELoss(reduction=r), _randn(lib, 0), _randn(lib, 0, grad=False)),
    "l1": lambda lib, r: value_and_grads(lib.nn.L1Loss(reduction=r), _randn(lib, 0, 3), _randn(lib, 0, 3, grad=False)),
    "bce": lambda lib, r: value_and_grads(lib.nn.BCELoss(reduction=r), _rand(lib, 0), _rand(lib, 0, grad=False)),
    "bce_logits": lambda lib, r: value_and_grads(lib.nn.BCEWithLogitsLoss(reduction=r), _randn(lib, 0, 3), _rand(lib, 0, 3, grad=False)),
    "kl_div": lambda lib, r: value_and_grads(lib.nn.KLDivLoss(reduction=r), _randn(lib, 0, 3), _rand(lib, 0, 3, grad=False)),
    "huber": lambda lib, r: value_and_grads(lib.nn.HuberLoss(reduction=r), _randn(lib, 0, 3), _rand(lib, 0, 3, grad=False)),
    "soft_margin": lambda lib, r: value_and_grads(lib.nn.SoftMarginLoss(reduction=r), _randn(lib, 0, 3), _rand(lib, 0, 3, grad=False)),
    "multilabel_soft_margin": lambda lib, r: value_and_grads(lib.nn.MultiLabelSoftMarginLoss(reduction=r), _randn(lib, 0, 3), _rand(lib, 0, 3, grad=False)),
    "hinge": lambda lib, r: value_and_grads(lib.nn.HingeEmbeddingLoss(reduction=r), _randn(lib, 0, 3), _rand(lib, 0, 3, grad=False)),
    "cosine": lambda lib, r: value_and_grads(lib.nn.CosineEmbeddingLoss(reduction=r), _randn(lib, 0, 3), _randn(lib, 0, 3), lib.zeros(0, dtype=lib.float64)),
    "margin_ranking": lambda lib, r: value_and_grads(lib.nn.MarginRankingLoss(reduction=r), _randn(lib, 0), _randn(lib, 0), _rand(lib, 0, grad=False)),
    "triplet": lambda lib, r: value_and_grads(lib.nn.TripletMarginLoss(reduction=r), _randn(lib, 0, 3), _randn(lib, 0, 3), _randn(lib, 0, 3)),
    "poisson": lambda lib, r: value_and_grads(lib.nn.PoissonNLLLoss(reduction=r), _randn(lib, 0, 3), _rand(lib, 0, 3)),
    "gaussian": lambda lib, r: value_and_grads(lib.nn.GaussianNLLLoss(reduction=r), _randn(lib, 0, 3), _randn(lib, 0, 3), _rand(lib, 0, 3)),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(_EMPTY))
def test_empty_batch(name, reduction):
    same_in_both(lambda lib: _EMPTY[name](lib, reduction))


def test_kl_div_batchmean_of_empty_batch():
    same_in_both(lambda lib: value_and_grads(lib.nn.KLDivLoss(reduction="batchmean"), _randn(lib, 0, 3), _rand(lib, 0, 3, grad=False)))


# --- deprecated size_average / reduce, warnings --------------------------------------------------

_LEGACY = {
    "mse_size_average_false": lambda lib: (lambda m: [m.reduction, m(_randn(lib, 3), _randn(lib, 3, grad=False))])(lib.nn.MSELoss(size_average=False)),
    "l1_reduce_false": lambda lib: (lambda m: [m.reduction, m(_randn(lib, 3), _randn(lib, 3, grad=False))])(lib.nn.L1Loss(reduce=False)),
    "cross_entropy_size_average_false_reduce_true": lambda lib: (lambda m: [m.reduction, m(_randn(lib, 2, 3), lib.tensor([0, 1]))])(
        lib.nn.CrossEntropyLoss(size_average=False, reduce=True)),
    "bce_size_average_false_repr": lambda lib: (lambda m: [repr(m), m.reduction])(lib.nn.BCELoss(size_average=False)),
    "nll_functional_size_average_false": lambda lib: _f(lib).nll_loss(_randn(lib, 2, 3), lib.tensor([0, 1]), size_average=False),
    "cross_entropy_functional_reduce_false": lambda lib: _f(lib).cross_entropy(_randn(lib, 2, 3), lib.tensor([0, 1]), reduce=False),
    "kl_div_functional_reduce_false": lambda lib: _f(lib).kl_div(_randn(lib, 2, 3), _rand(lib, 2, 3, grad=False), reduce=False),
    "positional_module_arguments": lambda lib: [lib.nn.L1Loss(None, None, "sum").reduction, lib.nn.HuberLoss("sum", 2.0).delta,
                                                lib.nn.KLDivLoss(None, None, "sum", True).log_target, lib.nn.CrossEntropyLoss(None, None, 3).ignore_index],
}


@pytest.mark.parametrize("name", list(_LEGACY))
def test_deprecated_size_average_and_reduce(name):
    same_in_both(_LEGACY[name])


def _warnings(lib, run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(lib)
    return [(each.category.__name__, str(each.message).replace(lib.__name__ + ".", "LIB.")) for each in caught]


_WARNS = {
    "kl_div_mean": lambda lib: lib.nn.KLDivLoss()(_randn(lib, 3, 4), _rand(lib, 3, 4, grad=False)),
    "kl_div_mean_functional": lambda lib: _f(lib).kl_div(_randn(lib, 3, 4), _rand(lib, 3, 4, grad=False)),
    "kl_div_batchmean_silent": lambda lib: _f(lib).kl_div(_randn(lib, 3, 4), _rand(lib, 3, 4, grad=False), reduction="batchmean"),
    "size_average_module": lambda lib: lib.nn.MSELoss(size_average=False),
    "reduce_functional": lambda lib: _f(lib).l1_loss(_randn(lib, 3), _randn(lib, 3, grad=False), reduce=False),
    "size_average_cross_entropy": lambda lib: _f(lib).cross_entropy(lib.zeros(3, 2), lib.tensor([0, 1, 1]), size_average=True),
    "bce_same_shape_silent": lambda lib: lib.nn.BCELoss()(_rand(lib, 3), _rand(lib, 3, grad=False)),
    "mse_target_size_differs": lambda lib: _f(lib).mse_loss(_randn(lib, 3, 1), _randn(lib, 3, grad=False)),
    "l1_target_size_differs": lambda lib: lib.nn.L1Loss()(_randn(lib, 3, 1), _randn(lib, 3, grad=False)),
    "huber_target_size_differs": lambda lib: lib.nn.HuberLoss()(_randn(lib, 3, 1), _randn(lib, 3, grad=False)),
}


@pytest.mark.parametrize("name", _params(_WARNS))
def test_warnings_match_pytorch(name):
    run = _entry(_WARNS, name)
    assert _warnings(chainrule, run) == _warnings(torch, run)


# --- keyword names, attributes and reprs -------------------------------------------------------


def test_module_forward_keyword_names():
    def run(lib):
        nn = lib.nn
        return [nn.CrossEntropyLoss()(input=_randn(lib, 2, 3), target=lib.tensor([0, 1])),
                nn.MSELoss()(input=_randn(lib, 3), target=_randn(lib, 3, seed=1)),
                nn.GaussianNLLLoss()(input=_randn(lib, 3), target=_randn(lib, 3, seed=1), var=_rand(lib, 3)),
                nn.CosineEmbeddingLoss()(input1=_randn(lib, 2, 3), input2=_randn(lib, 2, 3, seed=1), target=_signs(lib, 2)),
                nn.MarginRankingLoss()(input1=_randn(lib, 3), input2=_randn(lib, 3, seed=1), target=_signs(lib, 3)),
                nn.TripletMarginLoss()(anchor=_randn(lib, 2, 3), positive=_randn(lib, 2, 3, seed=1), negative=_randn(lib, 2, 3, seed=2)),
                nn.TripletMarginWithDistanceLoss()(anchor=_randn(lib, 2, 3), positive=_randn(lib, 2, 3, seed=1), negative=_randn(lib, 2, 3, seed=2)),
                nn.PoissonNLLLoss()(log_input=_randn(lib, 3), target=_rand(lib, 3)),
                nn.CTCLoss()(log_probs=_randn(lib, 4, 1, 3).log_softmax(2), targets=lib.tensor([[1, 2]]),
                             input_lengths=lib.tensor([4]), target_lengths=lib.tensor([2])),
                nn.KLDivLoss(reduction="batchmean")(input=_randn(lib, 2, 3), target=_rand(lib, 2, 3)),
                nn.BCEWithLogitsLoss()(input=_randn(lib, 3), target=_rand(lib, 3)),
                nn.HingeEmbeddingLoss()(input=_randn(lib, 3), target=_signs(lib, 3)),
                nn.MultiMarginLoss()(input=_randn(lib, 2, 3), target=lib.tensor([0, 1]))]

    same_in_both(run)


def test_functional_keyword_names():
    def run(lib):
        f = _f(lib)
        a, p, n = _randn(lib, 2, 3), _randn(lib, 2, 3, seed=1), _randn(lib, 2, 3, seed=2)
        return [
            f.cross_entropy(input=a, target=lib.tensor([0, 1]), weight=None, ignore_index=-100, reduction="sum", label_smoothing=0.1),
            f.nll_loss(input=a, target=lib.tensor([0, 1]), weight=None, ignore_index=1, reduction="sum"),
            f.kl_div(input=a, target=_rand(lib, 2, 3), reduction="batchmean", log_target=False),
            f.binary_cross_entropy(input=_rand(lib, 3), target=_rand(lib, 3), weight=None, reduction="sum"),
            f.binary_cross_entropy_with_logits(input=_randn(lib, 3), target=_rand(lib, 3), weight=None, reduction="sum", pos_weight=None),
            f.huber_loss(input=_randn(lib, 3), target=_rand(lib, 3), reduction="sum", delta=0.5),
            f.smooth_l1_loss(input=_randn(lib, 3), target=_rand(lib, 3), reduction="sum", beta=0.5),
            f.poisson_nll_loss(input=_randn(lib, 3), target=_rand(lib, 3), log_input=True, full=True, eps=1e-6, reduction="sum"),
            f.gaussian_nll_loss(input=_randn(lib, 3), target=_rand(lib, 3), var=_rand(lib, 3), full=True, eps=1e-6, reduction="sum"),
            f.triplet_margin_loss(anchor=a, positive=p, negative=n, margin=0.5, p=1.5, eps=1e-6, swap=True, reduction="sum"),
            f.triplet_margin_with_distance_loss(anchor=a, positive=p, negative=n, distance_function=None, margin=0.5, swap=True, reduction="sum"),
            f.multi_margin_loss(input=a, target=lib.tensor([0, 1]), p=2, margin=0.5, weight=None, reduction="sum"),
            f.multilabel_margin_loss(input=a, target=lib.tensor([[0, -1, 1], [1, 2, -1]]), reduction="sum"),
            f.multilabel_soft_margin_loss(input=a, target=_rand(lib, 2, 3), weight=None, reduction="sum"),
            f.soft_margin_loss(input=_randn(lib, 3), target=_signs(lib, 3), reduction="sum"),
            f.cosine_embedding_loss(input1=a, input2=p, target=_signs(lib, 2), margin=0.1, reduction="sum"),
            f.margin_ranking_loss(input1=_randn(lib, 3), input2=_randn(lib, 3, seed=1), target=_signs(lib, 3), margin=0.1, reduction="sum"),
            f.hinge_embedding_loss(input=_randn(lib, 3), target=_signs(lib, 3), margin=0.5, reduction="sum"),
            f.ctc_loss(log_probs=_randn(lib, 4, 1, 3).log_softmax(2), targets=lib.tensor([[1, 2]]), input_lengths=lib.tensor([4]),
                       target_lengths=lib.tensor([2]), blank=0, reduction="sum", zero_infinity=False),
        ]

    same_in_both(run)


def test_module_attributes():
    def run(lib):
        nn = lib.nn
        pairs = [(nn.HuberLoss(delta=2.0), "delta"), (nn.SmoothL1Loss(beta=0.5), "beta"), (nn.KLDivLoss(log_target=True), "log_target"),
                 (nn.MultiMarginLoss(p=2), "p"), (nn.MultiMarginLoss(p=2), "margin"), (nn.TripletMarginLoss(), "eps"),
                 (nn.TripletMarginLoss(), "swap"), (nn.TripletMarginLoss(), "p"), (nn.PoissonNLLLoss(), "eps"), (nn.PoissonNLLLoss(), "log_input"),
                 (nn.GaussianNLLLoss(), "eps"), (nn.GaussianNLLLoss(), "full"), (nn.CTCLoss(), "blank"), (nn.CTCLoss(), "zero_infinity"),
                 (nn.CosineEmbeddingLoss(), "margin"), (nn.HingeEmbeddingLoss(), "margin"), (nn.MarginRankingLoss(), "margin"),
                 (nn.TripletMarginWithDistanceLoss(), "margin"), (nn.TripletMarginWithDistanceLoss(), "distance_function"),
                 (nn.NLLLoss(), "ignore_index"), (nn.BCEWithLogitsLoss(), "pos_weight"), (nn.BCELoss(), "weight")]
        values = [getattr(module, name) for module, name in pairs]
        return [repr(value) if isinstance(value, nn.Module) else value for value in values]

    same_in_both(run)


_REPRS = [
    lambda nn: nn.CTCLoss(blank=1, zero_infinity=True), lambda nn: nn.KLDivLoss(log_target=True, reduction="batchmean"),
    lambda nn: nn.HuberLoss(delta=2.0), lambda nn: nn.SmoothL1Loss(beta=0.5), lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1),
    lambda nn: nn.MultiMarginLoss(p=2, margin=0.5), lambda nn: nn.TripletMarginLoss(margin=0.5, p=1, swap=True),
    lambda nn: nn.TripletMarginWithDistanceLoss(margin=0.3, swap=True), lambda nn: nn.PoissonNLLLoss(log_input=False, full=True),
    lambda nn: nn.GaussianNLLLoss(full=True, eps=1e-3), lambda nn: nn.Sequential(nn.Linear(2, 2), nn.CrossEntropyLoss()),
]


@pytest.mark.parametrize("index", range(len(_REPRS)))
def test_repr_with_options(index):
    assert repr(_REPRS[index](chainrule.nn)) == repr(_REPRS[index](torch.nn))
