"""Weight and spectral normalization, the old hooks (nn.utils.weight_norm, spectral_norm) and the
parametrizations (nn.utils.parametrizations.*), against PyTorch from identical weights (and, for
spectral norm, identical u and v): parameter names, outputs, gradients, power iteration, removal."""
import warnings

import pytest
import torch

import chainrule
from tests.nn.pairs import assert_close, error_of, module_pair, normal, to_ours

LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(4, 3), (2, 4)),
    "conv2d": (lambda lib: lib.nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    "conv_transpose2d": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)),
}


def copy_state(ours, theirs):
    """Every parameter and buffer of ours set to PyTorch's (spectral norm's u and v included)."""
    their_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(their_state)
    ours.load_state_dict({key: to_ours(value) for key, value in their_state.items()})


def forward_backward_both(ours, theirs, input_shape, seed=5):
    """Output and the gradient of every parameter, both libraries, after one weighted-sum backward."""
    x = normal(*input_shape, seed=seed)
    out_ours, out_theirs = ours(chainrule.tensor(x)), theirs(torch.tensor(x))
    assert_close(out_ours, out_theirs, "output")
    weights = normal(*out_theirs.shape, seed=seed + 1)
    (out_ours * chainrule.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    their_parameters = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(their_parameters)
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, their_parameters[name].grad, f"gradient of {name}")


def apply_both(make, normalize):
    ours, theirs = module_pair(make)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        normalize(chainrule)(ours)
        normalize(torch)(theirs)
    copy_state(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("dim", [0, 1, None])
def test_old_weight_norm_matches_pytorch_and_removes_cleanly(layer, dim):
    make, input_shape = LAYERS[layer]
    ours, theirs = apply_both(make, lambda lib: lambda module: lib.nn.utils.weight_norm(module, dim=dim))
    assert_close(ours.weight_g, theirs.weight_g, "weight_g")
    forward_backward_both(ours, theirs, input_shape)
    chainrule.nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    assert_close(ours.weight, theirs.weight, "weight after removal")


def test_old_weight_norm_warns_and_refuses_twice():
    module = chainrule.nn.Linear(2, 2)
    with pytest.warns(FutureWarning, match="torch.nn.utils.parametrizations.weight_norm"):
        chainrule.nn.utils.weight_norm(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        results = [error_of(lambda: lib.nn.utils.weight_norm(lib.nn.utils.weight_norm(lib.nn.Linear(2, 2)))) for lib in (chainrule, torch)]
    assert results[0] == results[1]
    assert error_of(lambda: chainrule.nn.utils.remove_weight_norm(chainrule.nn.Linear(2, 2)))[0] is ValueError


@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("training", [True, False])
def test_old_spectral_norm_matches_pytorch(layer, training):
    make, input_shape = LAYERS[layer]
    ours, theirs = apply_both(make, lambda lib: lambda module: lib.nn.utils.spectral_norm(module, n_power_iterations=2))
    ours.train(training)
    theirs.train(training)
    forward_backward_both(ours, theirs, input_shape)
    for name in ("weight_u", "weight_v"):
        assert_close(getattr(ours, name), getattr(theirs, name), f"{name} after the power iteration")
    forward_backward_both(ours, theirs, input_shape, seed=8)  # a second step from the refined u, v
    chainrule.nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_close(ours.weight, theirs.weight, "weight after removal")


@pytest.mark.parametrize("layer", list(LAYERS))
def test_parametrized_weight_norm_matches_pytorch(layer):
    make, input_shape = LAYERS[layer]
    ours, theirs = apply_both(make, lambda lib: lib.nn.utils.parametrizations.weight_norm)
    assert type(ours).__name__ == type(theirs).__name__ == f"Parametrized{type(theirs).__bases__[0].__name__}"
    forward_backward_both(ours, theirs, input_shape)
    for lib, module in ((chainrule, ours), (torch, theirs)):
        lib.nn.utils.parametrize.remove_parametrizations(module, "weight")
    assert type(ours).__name__ == type(theirs).__name__
    assert_close(ours.weight, theirs.weight, "weight after removal")


@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("training", [True, False])
def test_parametrized_spectral_norm_matches_pytorch(layer, training):
    make, input_shape = LAYERS[layer]
    ours, theirs = apply_both(make, lambda lib: lib.nn.utils.parametrizations.spectral_norm)
    ours.train(training)
    theirs.train(training)
    forward_backward_both(ours, theirs, input_shape)
    assert_close(ours.parametrizations.weight[0]._u, theirs.parametrizations.weight[0]._u, "u")
    forward_backward_both(ours, theirs, input_shape, seed=9)


def test_spectral_norm_bounds_the_largest_singular_value():
    chainrule.manual_seed(0)
    module = chainrule.nn.utils.parametrizations.spectral_norm(chainrule.nn.Linear(6, 5))
    for _ in range(10):
        weight = module.weight
    singular_values = chainrule.linalg.svdvals(weight.detach())
    assert abs(float(singular_values[0]) - 1) < 1e-4
