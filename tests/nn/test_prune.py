"""nn.utils.prune against torch.nn.utils.prune: the same masks from the same weights, the same
module layout (weight_orig, weight_mask, the pre-hook), training that keeps pruned weights at 0."""
import math

import numpy as np
import pytest
import torch
import torch.nn.utils.prune

import chainrule
from chainrule.nn.utils import prune
from tests.nn.pairs import assert_close, module_pair


def _conv(lib):
    return lib.nn.Conv2d(2, 4, 3)


def _linear(lib):
    return lib.nn.Linear(6, 5)


def _pair(make=_linear):
    return module_pair(make)


def _prune_both(pair, name, function, *args, **kwargs):
    ours, theirs = pair
    getattr(prune, function)(ours, name, *args, **kwargs)
    getattr(torch.nn.utils.prune, function)(theirs, name, *args, **kwargs)


def _same_layout(ours, theirs):
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    assert [name for name, _ in ours.named_buffers()] == [name for name, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize(
    ("make", "name", "function", "args"),
    [
        (_linear, "weight", "l1_unstructured", {"amount": 0.3}),
        (_linear, "weight", "l1_unstructured", {"amount": 7}),
        (_linear, "bias", "l1_unstructured", {"amount": 2}),
        (_linear, "weight", "l1_unstructured", {"amount": 0.0}),
        (_linear, "weight", "l1_unstructured", {"amount": 1.0}),
        (_conv, "weight", "l1_unstructured", {"amount": 0.5}),
        (_linear, "weight", "ln_structured", {"amount": 0.4, "n": 2, "dim": 0}),
        (_linear, "weight", "ln_structured", {"amount": 2, "n": 1, "dim": 1}),
        (_linear, "weight", "ln_structured", {"amount": 0.5, "n": float("inf"), "dim": -1}),
        (_conv, "weight", "ln_structured", {"amount": 0.5, "n": 2, "dim": 0}),
        (_conv, "weight", "ln_structured", {"amount": 1, "n": 1, "dim": 1}),
        (_linear, "weight", "identity", {}),
    ],
)
def test_masks_and_pruned_tensors_match_pytorch(make, name, function, args):
    pair = _pair(make)
    _prune_both(pair, name, function, **args)
    ours, theirs = pair
    assert_close(getattr(ours, name + "_mask"), getattr(theirs, name + "_mask"), "mask")
    assert_close(getattr(ours, name), getattr(theirs, name), "pruned tensor")
    _same_layout(ours, theirs)
    assert prune.is_pruned(ours) and torch.nn.utils.prune.is_pruned(theirs)
    shape = (3, 6) if make is _linear else (3, 2, 5, 5)
    x = np.random.default_rng(1).standard_normal(shape)
    assert_close(ours(chainrule.tensor(x)), theirs(torch.tensor(x)), "output")


def test_pruning_again_prunes_among_what_is_left_as_pytorch_does():
    pair = _pair(_conv)
    _prune_both(pair, "weight", "l1_unstructured", amount=0.3)
    _prune_both(pair, "weight", "ln_structured", amount=0.5, n=2, dim=0)
    _prune_both(pair, "weight", "l1_unstructured", amount=5)
    ours, theirs = pair
    assert_close(ours.weight_mask, theirs.weight_mask, "mask after three prunings")
    (hook,) = [hook for hook in ours._forward_pre_hooks.values() if isinstance(hook, prune.BasePruningMethod)]
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 3
    assert [type(method).__name__ for method in hook] == ["L1Unstructured", "LnStructured", "L1Unstructured"]


def test_global_pruning_chooses_across_layers_as_pytorch_does():
    make = lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3))  # noqa: E731
    ours, theirs = module_pair(make)
    ours[0].weight.data *= 0.1  # the first layer's weights are small: it should lose more
    theirs[0].weight.data *= 0.1
    prune.l1_unstructured(ours[2], "weight", amount=3)  # an earlier pruning is kept
    torch.nn.utils.prune.l1_unstructured(theirs[2], "weight", amount=3)
    for model, library in ((ours, prune), (theirs, torch.nn.utils.prune)):
        parameters = [(model[0], "weight"), (model[0], "bias"), (model[2], "weight")]
        library.global_unstructured(parameters, pruning_method=library.L1Unstructured, amount=0.4)
    for index in (0, 2):
        assert_close(ours[index].weight_mask, theirs[index].weight_mask, f"layer {index} mask")
    assert_close(ours[0].bias_mask, theirs[0].bias_mask, "bias mask")
    assert float((ours[0].weight == 0).float().mean()) > float((ours[2].weight == 0).float().mean())


def test_custom_from_mask_and_importance_scores():
    pair = _pair()
    mask = np.random.default_rng(2).integers(0, 2, (5, 6)).astype(np.float64)
    scores = np.random.default_rng(3).standard_normal((5, 6))
    ours, theirs = pair
    prune.custom_from_mask(ours, "weight", chainrule.tensor(mask))
    torch.nn.utils.prune.custom_from_mask(theirs, "weight", torch.tensor(mask))
    prune.l1_unstructured(ours, "weight", amount=6, importance_scores=chainrule.tensor(scores))
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=6, importance_scores=torch.tensor(scores))
    assert_close(ours.weight_mask, theirs.weight_mask, "mask")


def test_random_pruning_prunes_the_amount_asked_for():
    chainrule.manual_seed(0)
    layer = chainrule.nn.Conv2d(3, 8, 3)
    prune.random_unstructured(layer, "weight", amount=0.25)
    assert int((layer.weight_mask == 0).sum()) == round(0.25 * layer.weight_orig.numel())
    prune.random_structured(layer, "weight", amount=3, dim=0)
    channels_kept = layer.weight_mask.sum(dim=(1, 2, 3)) != 0
    assert int(channels_kept.sum()) == 5  # 3 of 8 output channels pruned whole
    assert int((layer.weight == 0).sum()) >= 3 * 27


def test_pruned_weights_stay_zero_through_training_and_remove_makes_it_permanent():
    chainrule.manual_seed(0)
    model = chainrule.nn.Linear(6, 5)
    prune.l1_unstructured(model, "weight", amount=0.5)
    pruned = (model.weight_mask == 0).numpy()
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        model(chainrule.randn(4, 6)).square().sum().backward()
        optimizer.step()
        assert (model.weight_orig.grad.numpy()[pruned] == 0).all()  # d weight / d weight_orig = mask
        assert (model.weight.detach().numpy()[pruned] == 0).all()  # recomputed by the pre-hook in each forward
    values = (model.weight_orig * model.weight_mask).detach()  # the weights as the next forward computes them
    prune.remove(model, "weight")
    assert isinstance(model.weight, chainrule.nn.Parameter)
    assert [name for name, _ in model.named_parameters()] == ["bias", "weight"]  # as PyTorch orders them
    assert list(model.named_buffers()) == [] and not prune.is_pruned(model)
    np.testing.assert_array_equal(model.weight.detach().numpy(), values.numpy())


def test_a_pruned_model_saves_and_loads_its_masks():
    make = lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 3))  # noqa: E731
    ours, theirs = module_pair(make)
    prune.l1_unstructured(ours[0], "weight", amount=0.5)
    torch.nn.utils.prune.l1_unstructured(theirs[0], "weight", amount=0.5)
    fresh = make(chainrule).double()
    prune.identity(fresh[0], "weight")
    fresh.load_state_dict(ours.state_dict())
    x = chainrule.randn(2, 4, dtype=chainrule.float64)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), ours(x).detach().numpy())
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize(
    ("function", "args", "error"),
    [
        ("l1_unstructured", {"amount": -1}, ValueError),
        ("l1_unstructured", {"amount": 1.5}, ValueError),
        ("l1_unstructured", {"amount": "half"}, TypeError),
        ("l1_unstructured", {"amount": 31}, ValueError),  # more than the 30 weights
        ("ln_structured", {"amount": 1, "n": 2, "dim": 2}, IndexError),
        ("random_structured", {"amount": 1, "dim": 5}, IndexError),
    ],
)
def test_bad_amounts_raise_pytorchs_error_and_leave_the_layer_as_it_was(function, args, error):
    ours, theirs = _pair()
    with pytest.raises(error):
        getattr(torch.nn.utils.prune, function)(theirs, "weight", **args)
    before = {name: value.numpy().copy() for name, value in ours.state_dict().items()}
    with pytest.raises(error):
        getattr(prune, function)(ours, "weight", **args)
    assert isinstance(ours.weight, chainrule.nn.Parameter) and not prune.is_pruned(ours)
    assert [name for name, _ in ours.named_parameters()] == ["weight", "bias"]
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name])


def test_structured_pruning_of_a_vector_and_removing_what_was_never_pruned_are_refused():
    layer = chainrule.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(layer, "bias", amount=1, n=2, dim=0)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(layer, "weight")


def test_a_failed_second_pruning_keeps_the_first():
    layer = chainrule.nn.Linear(4, 2)
    prune.l1_unstructured(layer, "weight", amount=2)
    mask = layer.weight_mask.numpy().copy()
    with pytest.raises(ValueError):
        prune.l1_unstructured(layer, "weight", amount=7)  # only 6 weights are left to prune
    np.testing.assert_array_equal(layer.weight_mask.numpy(), mask)
    (hook,) = [hook for hook in layer._forward_pre_hooks.values() if isinstance(hook, prune.BasePruningMethod)]
    assert isinstance(hook, prune.L1Unstructured)


def test_a_custom_method_subclasses_base_pruning_method():
    class EveryOther(prune.BasePruningMethod):
        """The tutorial's example: prune every other entry."""

        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    layer = chainrule.nn.Linear(3, 2)
    EveryOther.apply(layer, "bias")
    assert layer.bias_mask.tolist() == [0.0, 1.0]
    pruned = EveryOther().prune(chainrule.ones(4))
    assert pruned.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert math.isclose(float(layer.bias[1]), float(layer.bias_orig[1]))
