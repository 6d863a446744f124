"""Every loss, in every reduction, against torch.nn.functional: values and gradients."""
from chainrule.nn import functional as F
from chainrule.nn import init
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as F
from chainrule import nn
from tests.nn.pairs import assert_close

REDUCTIONS = ["mean", "sum", "none"]


def rng(seed=0):
    return np.random.default_rng(seed)


def probabilities(*shape, seed=0):
    return rng(seed).uniform(0.02, 0.98, shape)


def soft_labels(*shape, seed=0):
    scores = rng(seed).standard_normal(shape)
    return np.exp(scores) / np.exp(scores).sum(axis=1 if len(shape) > 1 else 0, keepdims=True)


def compare(call, arrays, differentiable, seed=0, atol=1e-10):
    """``call(lib, *tensors)`` in both libraries: same value, same gradients of the differentiable inputs."""
    results = []
    for lib in (chainrule, torch):
        tensors = [
            lib.tensor(array.copy(), requires_grad=bool(grad) and array.dtype.kind == "f")
            for array, grad in zip(arrays, differentiable)
        ]
        out = call(lib, *tensors)
        weights = lib.tensor(rng(seed + 1).standard_normal(tuple(out.shape)))
        (out * weights).sum().backward()
        results.append((out, [tensor.grad for tensor, grad in zip(tensors, differentiable) if grad]))
    (ours, our_grads), (theirs, their_grads) = results
    assert_close(ours, theirs, "loss", atol=atol)
    for position, (mine, reference) in enumerate(zip(our_grads, their_grads)):
        assert_close(mine, reference, f"gradient of argument {position}", atol=atol)
    return ours


def index_targets(high, *shape, seed=0, ignore=None):
    targets = rng(seed + 7).integers(0, high, shape)
    if ignore is not None:
        targets.reshape(-1)[::3] = ignore
    return targets


# name, call(lib, *tensors, reduction), arrays, which arrays get gradients
CASES = [
    ("mse", lambda lib, x, y, r: lib.nn.functional.mse_loss(x, y, reduction=r), [rng().standard_normal((4, 3)), rng(1).standard_normal((4, 3))], [1, 1]),
    ("l1", lambda lib, x, y, r: lib.nn.functional.l1_loss(x, y, reduction=r), [rng().standard_normal((4, 3)), rng(1).standard_normal((4, 3))], [1, 1]),
    ("mse_weight", lambda lib, x, y, w, r: lib.nn.functional.mse_loss(x, y, reduction=r, weight=w), [rng().standard_normal((4, 3)), rng(1).standard_normal((4, 3)), rng(2).uniform(0, 2, (4, 3))], [1, 1, 0]),
    ("l1_weight", lambda lib, x, y, w, r: lib.nn.functional.l1_loss(x, y, reduction=r, weight=w), [rng().standard_normal((4, 3)), rng(1).standard_normal((4, 3)), rng(2).uniform(0, 2, (4, 3))], [1, 1, 0]),
    ("smooth_l1", lambda lib, x, y, r: lib.nn.functional.smooth_l1_loss(x, y, reduction=r), [rng().standard_normal((4, 3)) * 2, rng(1).standard_normal((4, 3))], [1, 1]),
    ("smooth_l1_beta", lambda lib, x, y, r: lib.nn.functional.smooth_l1_loss(x, y, reduction=r, beta=0.5), [rng().standard_normal((5,)), rng(1).standard_normal((5,))], [1, 1]),
    ("smooth_l1_beta_0", lambda lib, x, y, r: lib.nn.functional.smooth_l1_loss(x, y, reduction=r, beta=0.0), [rng().standard_normal((5,)), rng(1).standard_normal((5,))], [1, 1]),
    ("bce", lambda lib, p, y, r: lib.nn.functional.binary_cross_entropy(p, y, reduction=r), [probabilities(4, 3), probabilities(4, 3, seed=1)], [1, 1]),
    ("bce_weight", lambda lib, p, y, w, r: lib.nn.functional.binary_cross_entropy(p, y, weight=w, reduction=r), [probabilities(4, 3), rng(1).integers(0, 2, (4, 3)).astype(float), rng(2).uniform(0, 2, (3,))], [1, 0, 0]),
    ("bce_logits", lambda lib, x, y, r: lib.nn.functional.binary_cross_entropy_with_logits(x, y, reduction=r), [rng().standard_normal((4, 3)) * 3, probabilities(4, 3, seed=1)], [1, 1]),
    ("bce_logits_weights", lambda lib, x, y, w, q, r: lib.nn.functional.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=q, reduction=r), [rng().standard_normal((4, 3)) * 3, probabilities(4, 3, seed=1), rng(2).uniform(0, 2, (4, 1)), rng(3).uniform(0.5, 3, (3,))], [1, 1, 0, 0]),
    ("cross_entropy", lambda lib, x, t, r: lib.nn.functional.cross_entropy(x, t, reduction=r), [rng().standard_normal((6, 4)), index_targets(4, 6)], [1, 0]),
    ("cross_entropy_weight", lambda lib, x, t, w, r: lib.nn.functional.cross_entropy(x, t, weight=w, reduction=r), [rng().standard_normal((6, 4)), index_targets(4, 6), rng(2).uniform(0.2, 2, (4,))], [1, 0, 0]),
    ("cross_entropy_ignore", lambda lib, x, t, r: lib.nn.functional.cross_entropy(x, t, ignore_index=-100, reduction=r), [rng().standard_normal((6, 4)), index_targets(4, 6, ignore=-100)], [1, 0]),
    ("cross_entropy_ignore_a_class", lambda lib, x, t, w, r: lib.nn.functional.cross_entropy(x, t, weight=w, ignore_index=2, reduction=r), [rng().standard_normal((9, 4)), index_targets(4, 9), rng(2).uniform(0.2, 2, (4,))], [1, 0, 0]),
    ("cross_entropy_smoothing", lambda lib, x, t, r: lib.nn.functional.cross_entropy(x, t, label_smoothing=0.1, reduction=r), [rng().standard_normal((6, 4)), index_targets(4, 6)], [1, 0]),
    ("cross_entropy_everything", lambda lib, x, t, w, r: lib.nn.functional.cross_entropy(x, t, weight=w, ignore_index=0, label_smoothing=0.25, reduction=r), [rng().standard_normal((9, 4)), index_targets(4, 9), rng(2).uniform(0.2, 2, (4,))], [1, 0, 0]),
    ("cross_entropy_spatial", lambda lib, x, t, w, r: lib.nn.functional.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.2, reduction=r), [rng().standard_normal((2, 3, 4, 5)), index_targets(3, 2, 4, 5), rng(2).uniform(0.2, 2, (3,))], [1, 0, 0]),
    ("cross_entropy_unbatched", lambda lib, x, t, r: lib.nn.functional.cross_entropy(x, t, label_smoothing=0.1, reduction=r), [rng().standard_normal((5,)), np.array(3)], [1, 0]),
    ("cross_entropy_probabilities", lambda lib, x, y, r: lib.nn.functional.cross_entropy(x, y, reduction=r), [rng().standard_normal((6, 4)), soft_labels(6, 4)], [1, 1]),
    ("cross_entropy_probabilities_all", lambda lib, x, y, w, r: lib.nn.functional.cross_entropy(x, y, weight=w, label_smoothing=0.3, reduction=r), [rng().standard_normal((6, 4)), soft_labels(6, 4), rng(2).uniform(0.2, 2, (4,))], [1, 1, 0]),
    ("cross_entropy_probabilities_spatial", lambda lib, x, y, r: lib.nn.functional.cross_entropy(x, y, label_smoothing=0.1, reduction=r), [rng().standard_normal((2, 3, 4)), soft_labels(2, 3, 4)], [1, 1]),
    ("nll", lambda lib, x, t, r: lib.nn.functional.nll_loss(x, t, reduction=r), [np.log(soft_labels(6, 4)), index_targets(4, 6)], [1, 0]),
    ("nll_weight_ignore", lambda lib, x, t, w, r: lib.nn.functional.nll_loss(x, t, weight=w, ignore_index=3, reduction=r), [np.log(soft_labels(9, 4)), index_targets(4, 9), rng(2).uniform(0.2, 2, (4,))], [1, 0, 0]),
    ("nll_spatial", lambda lib, x, t, r: lib.nn.functional.nll_loss(x, t, reduction=r), [np.log(soft_labels(2, 3, 4)), index_targets(3, 2, 4)], [1, 0]),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("call, arrays, differentiable", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_loss_matches_torch(call, arrays, differentiable, reduction):
    compare(lambda lib, *tensors: call(lib, *tensors, reduction), arrays, differentiable)


MODULES = [
    ("MSELoss", {}, "regression"),
    ("L1Loss", {}, "regression"),
    ("SmoothL1Loss", {"beta": 0.5}, "regression"),
    ("BCELoss", {}, "probabilities"),
    ("BCEWithLogitsLoss", {"pos_weight": [2.0, 0.5, 1.0]}, "regression"),
    ("CrossEntropyLoss", {"weight": [1.0, 2.0, 0.5], "ignore_index": 1, "label_smoothing": 0.1}, "classes"),
    ("NLLLoss", {"weight": [1.0, 2.0, 0.5]}, "classes"),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, options, kind", MODULES, ids=[module[0] for module in MODULES])
def test_loss_module_matches_torch(name, options, kind, reduction):
    inputs = {
        "regression": [rng().standard_normal((4, 3)), probabilities(4, 3, seed=1)],
        "probabilities": [probabilities(4, 3), probabilities(4, 3, seed=1)],
        "classes": [rng().standard_normal((5, 3)), index_targets(3, 5)],
    }[kind]

    def call(lib, x, y):
        settings = {key: lib.tensor(value, dtype=lib.float64) if isinstance(value, list) else value for key, value in options.items()}
        return getattr(lib.nn, name)(reduction=reduction, **settings)(x, y)

    compare(call, inputs, [1, 0])


def test_cross_entropy_module_registers_its_weight_as_a_buffer_like_torch():
    ours = nn.CrossEntropyLoss(weight=chainrule.ones(3))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []
    assert repr(ours) == repr(theirs) == "CrossEntropyLoss()"


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_large_logits_stay_finite(scale):
    logits = np.array([[1.0, 0.0, -1.0], [0.5, 0.2, 0.9]]) * scale
    targets = np.array([2, 1])
    ours = compare(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), [logits, targets], [1, 0])
    assert np.isfinite(ours.item())
    compare(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, label_smoothing=0.1), [logits, targets], [1, 0])
    compare(lambda lib, x, y: lib.nn.functional.cross_entropy(x, y), [logits, soft_labels(2, 3)], [1, 0])
    compare(lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(x, y), [logits, probabilities(2, 3)], [1, 0])
    x = chainrule.tensor(logits.astype(np.float32), requires_grad=True)
    F.cross_entropy(x, chainrule.tensor(targets)).backward()
    assert np.isfinite(x.grad._array).all()


def test_cross_entropy_float32_matches_torch():
    logits, targets = rng().standard_normal((64, 10)).astype(np.float32), index_targets(10, 64)
    ours = chainrule.tensor(logits, requires_grad=True)
    theirs = torch.tensor(logits, requires_grad=True)
    our_loss = F.cross_entropy(ours, chainrule.tensor(targets))
    their_loss = torch.nn.functional.cross_entropy(theirs, torch.tensor(targets))
    assert our_loss.dtype == chainrule.float32
    our_loss.backward()
    their_loss.backward()
    assert_close(our_loss, their_loss, "loss", atol=1e-6, rtol=1e-6)
    assert_close(ours.grad, theirs.grad, "gradient", atol=1e-7, rtol=1e-5)


def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    compare(lambda lib, p, y: lib.nn.functional.binary_cross_entropy(p, y), [np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])], [1, 0])


def test_every_target_ignored_gives_nan_loss_and_zero_gradient_like_torch():
    logits, targets = rng().standard_normal((3, 4)), np.full(3, -100)
    for lib in (chainrule, torch):
        x = lib.tensor(logits, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(targets))
        loss.backward()
        assert np.isnan(loss.item())
        assert (x.grad.numpy() == 0).all()


def test_cross_entropy_double_backward_matches_torch():
    logits, targets = rng().standard_normal((5, 4)), index_targets(4, 5)

    def second_order(lib, x, t):
        loss = lib.nn.functional.cross_entropy(x, t, label_smoothing=0.1)
        (grad,) = lib.autograd.grad(loss, x, create_graph=True)
        return (grad ** 2).sum() + (grad * x).sum()

    compare(second_order, [logits, targets], [1, 0])

    def soft_second_order(lib, x, y):
        loss = lib.nn.functional.cross_entropy(x, y)
        grad_x, grad_y = lib.autograd.grad(loss, (x, y), create_graph=True)
        return (grad_x ** 2).sum() + (grad_y ** 2).sum()

    compare(soft_second_order, [logits, soft_labels(5, 4)], [1, 1])


@pytest.mark.parametrize("keyword, position", [("weight", 3), ("pos_weight", 4)])
@pytest.mark.parametrize("value", [3.0, np.float64(3.0), [1.0, 2.0, 3.0], np.ones(3)])
def test_a_weight_that_is_no_tensor_is_refused_as_pytorch_refuses_it(keyword, position, value):
    """gae-pytorch passes pos_weight as a NumPy number: PyTorch's TypeError names the argument."""
    messages = []
    for lib in (chainrule, torch):
        logits, target = lib.zeros(2, 3), lib.ones(2, 3)
        with pytest.raises(TypeError) as raised:
            lib.nn.functional.binary_cross_entropy_with_logits(logits, target, **{keyword: value})
        messages.append(str(raised.value))
    assert messages[0].startswith(messages[1]) and f"(position {position})" in messages[1]


def test_out_of_range_target_raises_index_error():
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        F.cross_entropy(chainrule.zeros(2, 3), chainrule.tensor([0, 5]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        F.nll_loss(chainrule.zeros(2, 3), chainrule.tensor([-1, 0]))


def test_cross_entropy_checks_shapes_dtypes_and_options():
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)"):
        F.cross_entropy(chainrule.zeros(3, 4), chainrule.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(chainrule.zeros(3, 4), chainrule.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 classes"):
        F.cross_entropy(chainrule.zeros(3, 4), chainrule.tensor([0, 1, 2]), weight=chainrule.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(chainrule.zeros(3, 4), chainrule.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.cross_entropy(chainrule.zeros(3, 4), chainrule.tensor([0, 1, 2]), reduction="average")


def test_binary_losses_check_their_inputs():
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(chainrule.full((3, 1), 0.5), chainrule.ones(3))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(chainrule.zeros(3, 1), chainrule.ones(3))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(chainrule.tensor([1.5]), chainrule.tensor([1.0]))


def test_regression_losses_warn_when_target_broadcasts():
    with pytest.warns(UserWarning, match="different to the input size"):
        loss = F.mse_loss(chainrule.zeros(3, 1), chainrule.ones(3))
    assert loss.item() == 1.0


def test_legacy_size_average_and_reduce_arguments():
    x, y = chainrule.tensor([1.0, 3.0]), chainrule.zeros(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert F.mse_loss(x, y, size_average=False).item() == 10.0
        assert F.mse_loss(x, y, reduce=False).tolist() == [1.0, 9.0]
        assert nn.MSELoss(size_average=False).reduction == "sum"


def test_target_dtype_follows_input():
    loss = F.mse_loss(chainrule.zeros(2), chainrule.tensor([1, 2]))
    assert loss.dtype == chainrule.float32
    assert loss.item() == 2.5


def test_minus_infinity_logits_of_other_classes_cost_nothing_like_torch():
    logits = np.array([[0.0, -np.inf, 1.0], [-np.inf, 2.0, 0.5]])
    targets = np.array([0, 1])
    ours = compare(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, reduction="none"), [logits, targets], [1, 0])
    assert np.isfinite(ours._array).all()
    compare(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), [logits, targets], [1, 0])


def test_weight_larger_than_the_input_is_refused():
    probabilities, targets = chainrule.full((4, 3), 0.3), chainrule.ones(4, 3)
    with pytest.raises(RuntimeError, match="must broadcast to the input's shape"):
        F.binary_cross_entropy(probabilities, targets, weight=chainrule.ones(2, 4, 3))


def test_nll_loss_refuses_a_second_backward():
    x = chainrule.tensor([[0.1, 0.2, 0.3]], requires_grad=True)
    loss = F.nll_loss(x, chainrule.tensor([1]))
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_a_kept_loss_holds_no_activation_arrays_after_backward():
    model = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 3))
    loss = F.cross_entropy(model(chainrule.randn(32, 8)), chainrule.randint(0, 3, (32,)))
    loss.backward()
    stack, kept = [loss.grad_fn], []
    while stack:
        node = stack.pop()
        kept += [name for name, value in vars(node).items() if isinstance(value, np.ndarray) and value.size >= 32]
        stack += [next_node for next_node in node.next_nodes if next_node is not None and type(next_node).__name__ != "AccumulateGrad"]
    assert kept == []


def test_zero_total_weight_gives_nan_gradients_like_pytorch():
    values = [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]
    ours = chainrule.tensor(values, dtype=chainrule.float64, requires_grad=True)
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    F.cross_entropy(ours, chainrule.tensor([0, 0]), weight=chainrule.tensor([0.0, 1.0, 1.0], dtype=chainrule.float64)).backward()
    torch.nn.functional.cross_entropy(theirs, torch.tensor([0, 0]), weight=torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)).backward()
    np.testing.assert_array_equal(np.isnan(ours.grad._array), np.isnan(theirs.grad.numpy()))
    all_ignored = chainrule.tensor(values, requires_grad=True)
    F.cross_entropy(all_ignored, chainrule.tensor([-100, -100])).backward()
    assert (all_ignored.grad._array == 0).all()  # nothing counted: PyTorch's gradient is 0


# ----------------------------------------------------------------------------- issue 10: the other loss modules
def signs(*shape, seed=0):
    return np.where(rng(seed + 5).random(shape) < 0.5, -1.0, 1.0)


# name, options, inputs, which inputs get gradients (the functions are compared in tests/ops/test_loss.py)
MORE_MODULES = [
    ("KLDivLoss", {"log_target": True}, [rng().standard_normal((4, 3)), rng(1).standard_normal((4, 3))], [1, 1]),
    ("HuberLoss", {"delta": 0.5}, [rng().standard_normal((4, 3)), rng(1).standard_normal((4, 3))], [1, 1]),
    ("MarginRankingLoss", {"margin": 0.2}, [rng().standard_normal(5), rng(1).standard_normal(5), signs(5)], [1, 1, 0]),
    ("HingeEmbeddingLoss", {"margin": 0.5}, [rng().standard_normal((4, 3)), signs(4, 3)], [1, 0]),
    ("CosineEmbeddingLoss", {"margin": 0.1}, [rng().standard_normal((4, 3)), rng(1).standard_normal((4, 3)), signs(4)], [1, 1, 0]),
    ("TripletMarginLoss", {"margin": 2.0, "p": 1.0, "swap": True}, [rng(seed).standard_normal((4, 3)) for seed in range(3)], [1, 1, 1]),
    ("TripletMarginWithDistanceLoss", {"margin": 2.0}, [rng(seed).standard_normal((4, 3)) for seed in range(3)], [1, 1, 1]),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, [probabilities(4, 3) * 5, rng(1).integers(0, 5, (4, 3)).astype(float)], [1, 0]),
    ("GaussianNLLLoss", {"full": True}, [rng().standard_normal((4, 3)), rng(1).standard_normal((4, 3)), probabilities(4, 1)], [1, 1, 1]),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": [1.0, 2.0, 0.5]}, [rng().standard_normal((5, 3)), index_targets(3, 5)], [1, 0]),
    ("MultiLabelMarginLoss", {}, [rng().standard_normal((2, 4)), np.array([[3, 0, -1, 1], [1, 2, 0, -1]])], [1, 0]),
    ("MultiLabelSoftMarginLoss", {"weight": [1.0, 2.0, 0.5]}, [rng().standard_normal((4, 3)), probabilities(4, 3, seed=1)], [1, 1]),
    ("SoftMarginLoss", {}, [rng().standard_normal((4, 3)), signs(4, 3)], [1, 0]),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, options, inputs, differentiable", MORE_MODULES, ids=[module[0] for module in MORE_MODULES])
def test_more_loss_modules_match_torch(name, options, inputs, differentiable, reduction):
    def call(lib, *tensors):
        settings = {key: lib.tensor(value, dtype=lib.float64) if isinstance(value, list) else value for key, value in options.items()}
        return getattr(lib.nn, name)(reduction=reduction, **settings)(*tensors)

    if name == "KLDivLoss" and reduction == "mean":  # both libraries warn to use 'batchmean'
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            compare(call, inputs, differentiable)
    else:
        compare(call, inputs, differentiable)


@pytest.mark.parametrize("name, options, inputs, differentiable", MORE_MODULES, ids=[module[0] for module in MORE_MODULES])
def test_more_loss_modules_hold_pytorch_s_attributes_and_buffers(name, options, inputs, differentiable):
    ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    public = {key for key in vars(theirs) if not key.startswith("_") and key != "training"}
    assert {key: getattr(ours, key) for key in public} == {key: getattr(theirs, key) for key in public}


def test_kl_div_loss_takes_batchmean():
    log_p, q = np.log(soft_labels(4, 3)), soft_labels(4, 3, seed=1)
    compare(lambda lib, x, y: lib.nn.KLDivLoss(reduction="batchmean")(x, y), [log_p, q], [1, 1])


@pytest.mark.parametrize("build", [
    lambda lib: lib.nn.TripletMarginLoss(margin=0.0),
    lambda lib: lib.nn.TripletMarginWithDistanceLoss(margin=-1.0),
    lambda lib: lib.nn.MultiMarginLoss(p=3),
    lambda lib: lib.nn.MultiMarginLoss(weight=lib.ones(2, 2)),
], ids=["triplet_margin", "triplet_distance_margin", "multi_margin_p", "multi_margin_weight"])
def test_loss_modules_check_their_options_like_torch(build):
    with pytest.raises(ValueError) as theirs:
        build(torch)
    with pytest.raises(ValueError, match=str(theirs.value).split(",")[0]):
        build(chainrule)


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        ("cross_entropy", {}), ("cross_entropy", {"reduction": "sum"}), ("cross_entropy", {"reduction": "none"}),
        ("cross_entropy", {"label_smoothing": 0.1}), ("cross_entropy", {"weight": "w"}), ("cross_entropy", {"target": "p"}),
        ("cross_entropy", {"target": "p", "reduction": "sum"}), ("cross_entropy", {"spatial": True}),
        ("cross_entropy", {"spatial": True, "reduction": "none"}), ("nll_loss", {}), ("nll_loss", {"spatial": True}),
        ("l1_loss", {}), ("l1_loss", {"reduction": "sum"}), ("l1_loss", {"reduction": "none"}),
    ],
)
def test_printed_losses_name_the_node_pytorchs_composition_ends_in(call, kwargs):
    """``print(loss)`` shows grad_fn=<NllLossBackward0> in every PyTorch course: the fused losses
    name their nodes as the last step of PyTorch's composition."""
    names, given = [], kwargs
    for lib in (chainrule, torch):
        rng = np.random.default_rng(0)
        kwargs = dict(given)
        spatial = kwargs.pop("spatial", False)
        shape = (2, 3, 4) if spatial else (4, 3)
        x = lib.tensor(rng.standard_normal(shape), requires_grad=True)
        target = lib.tensor(rng.integers(0, 3, (2, 4) if spatial else (4,)))
        if kwargs.get("target") == "p" or call == "l1_loss":
            target = lib.tensor(rng.random(shape))
            kwargs.pop("target", None)
        if kwargs.get("weight") == "w":
            kwargs["weight"] = lib.ones(3, dtype=lib.float64)
        input = lib.nn.functional.log_softmax(x, 1) if call == "nll_loss" else x
        loss = getattr(lib.nn.functional, call)(input, target, **kwargs)
        names.append(loss.grad_fn.name())
    assert names[0] == names[1]


def test_a_renamed_operation_computes_as_the_operation():
    from chainrule.ops.loss import CrossEntropy

    shown = CrossEntropy.shown_as("NllLossBackward0")
    assert shown is CrossEntropy.shown_as("NllLossBackward0") and issubclass(shown, CrossEntropy)
    assert CrossEntropy.shown_as(CrossEntropy._backward_cls.__name__) is CrossEntropy
    x = chainrule.tensor([[1.0, 2.0, 0.5]], requires_grad=True)
    chainrule.nn.functional.cross_entropy(x, chainrule.tensor([1])).backward()
    expected = np.exp([1.0, 2.0, 0.5]) / np.exp([1.0, 2.0, 0.5]).sum() - np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy()[0], expected, rtol=1e-6)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("dtypes_pair", [("float32", "float64"), ("float64", "float32"), ("float32", "float16")])
def test_a_target_of_another_float_dtype_gives_pytorchs_loss_dtype(name, dtypes_pair):
    """A float64 target (data from NumPy) makes a float32 input's loss float64, as in PyTorch;
    binary_cross_entropy_with_logits takes the target's dtype (PyTorch's composition writes into
    1 - target); each gradient comes back in its tensor's dtype."""
    input_dtype, target_dtype = dtypes_pair
    rng = np.random.default_rng(0)
    x, t = rng.random(4), rng.random(4)
    results = []
    for lib in (chainrule, torch):
        a = lib.tensor(x, dtype=getattr(lib, input_dtype), requires_grad=True)
        b = lib.tensor(t, dtype=getattr(lib, target_dtype), requires_grad=True)
        try:
            loss = getattr(lib.nn.functional, name)(a, b)
            loss.backward()
        except RuntimeError:  # PyTorch's huber_loss refuses mixed dtypes in backward
            results.append(None)
            continue
        results.append((str(loss.dtype).split(".")[-1], str(a.grad.dtype).split(".")[-1], str(b.grad.dtype).split(".")[-1], float(loss)))
    if results[1] is None:
        return
    assert results[0][:3] == results[1][:3]
    assert results[0][3] == pytest.approx(results[1][3], rel=1e-3)
