"""nn.utils.parametrize and parametrizations.orthogonal against PyTorch: the module layout, values
and gradients through a parametrization, right inverses on assignment, caching, removal, errors."""
import pytest
import torch

import chainrule
from tests.nn.pairs import assert_close, error_of, module_pair, normal


def symmetric(lib):
    class Symmetric(lib.nn.Module):
        """X -> triu(X) + triu(X, 1)ᵀ, with a right inverse (the upper triangle)."""

        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    return Symmetric()


def scaled(lib):
    class Double(lib.nn.Module):
        def forward(self, X):
            return 2 * X

    return Double()


def register_both(parametrizations, tensor_name="weight"):
    ours, theirs = module_pair(lambda lib: lib.nn.Linear(3, 3))
    for lib, module in ((chainrule, ours), (torch, theirs)):
        for make in parametrizations:
            lib.nn.utils.parametrize.register_parametrization(module, tensor_name, make(lib))
    return ours, theirs


def test_layout_values_and_gradients_match_pytorch():
    ours, theirs = register_both([symmetric, scaled])
    assert repr(ours).replace("chainrule", "torch") == repr(theirs).replace(".test_parametrize", "")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    assert_close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original, "original")
    assert_close(ours.weight, theirs.weight, "weight")
    x = normal(2, 3, seed=1)
    ours(chainrule.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    assert_close(ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad, "gradient")


def test_assignment_stores_the_right_inverse_in_the_same_parameter():
    ours, theirs = register_both([symmetric])
    original = ours.parametrizations.weight.original
    value = normal(3, 3, seed=2)
    ours.weight = chainrule.tensor(value)
    theirs.weight = torch.tensor(value)
    assert ours.parametrizations.weight.original is original
    assert_close(ours.weight, theirs.weight, "weight after assignment")


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations_restores_the_class_and_the_parameter(leave_parametrized):
    ours, theirs = register_both([symmetric])
    original = ours.parametrizations.weight.original
    for lib, module in ((chainrule, ours), (torch, theirs)):
        assert lib.nn.utils.parametrize.is_parametrized(module) and lib.nn.utils.parametrize.is_parametrized(module, "weight")
        assert lib.nn.utils.parametrize.type_before_parametrizations(module) is lib.nn.Linear
        lib.nn.utils.parametrize.remove_parametrizations(module, "weight", leave_parametrized=leave_parametrized)
        assert type(module) is lib.nn.Linear and not lib.nn.utils.parametrize.is_parametrized(module)
    assert ours.weight is original
    assert_close(ours.weight, theirs.weight, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("swap", [False, True])
def test_storing_a_value_gives_the_parameter_new_memory(swap):
    """Registering, assigning and removing with leave_parametrized=True set_ (or, under
    set_swap_module_params_on_conversion(True), swap) the original: the same Parameter object, but
    a tensor that shared its memory before (an earlier state_dict entry) keeps its values, as in
    PyTorch (minLoRA's demo merges one LoRA after another into a state_dict saved before)."""
    outcomes = []
    for lib in (chainrule, torch):
        lib.__future__.set_swap_module_params_on_conversion(swap)
        try:
            module = lib.nn.Linear(3, 3)
            weight, saved = module.weight, module.state_dict()["weight"]
            before = saved.clone()
            lib.nn.utils.parametrize.register_parametrization(module, "weight", symmetric(lib))
            module.weight = lib.tensor(normal(3, 3, seed=4), dtype=lib.float32)
            lib.nn.utils.parametrize.register_parametrization(module, "weight", scaled(lib))
            lib.nn.utils.parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
            outcomes.append((module.weight is weight, type(module.weight).__name__, lib.equal(saved, before), module.weight.tolist()))
        finally:
            lib.__future__.set_swap_module_params_on_conversion(False)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][:3] == (True, "Parameter", True)


def test_cached_computes_once():
    calls = []

    class Counting(chainrule.nn.Module):
        def forward(self, X):
            calls.append(1)
            return X

    module = chainrule.nn.utils.parametrize.register_parametrization(chainrule.nn.Linear(2, 2), "weight", Counting())
    calls.clear()
    with chainrule.nn.utils.parametrize.cached():
        first, second = module.weight, module.weight
    assert first is second and len(calls) == 1
    module.weight
    assert len(calls) == 2


def test_errors_are_pytorchs():
    def errors(lib):
        parametrize = lib.nn.utils.parametrize
        return [
            error_of(lambda: parametrize.register_parametrization(lib.nn.Linear(2, 2), "nothing", scaled(lib))),
            error_of(lambda: parametrize.remove_parametrizations(lib.nn.Linear(2, 2), "weight")),
        ]

    ours, theirs = errors(chainrule), errors(torch)
    assert [kind for kind, _ in ours] == [kind for kind, _ in theirs] == [ValueError, ValueError]


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
def test_orthogonal_matches_pytorch(shape, orthogonal_map):
    """At registration the weight becomes the orthogonal matrix nearest in QR terms; for a square
    weight everything is deterministic, so the gradient is compared too."""
    out_features, in_features = shape
    ours, theirs = module_pair(lambda lib: lib.nn.Linear(in_features, out_features))
    for lib, module in ((chainrule, ours), (torch, theirs)):
        lib.nn.utils.parametrizations.orthogonal(module, orthogonal_map=orthogonal_map)
    weight = ours.weight
    small = min(shape)
    gram = weight.T @ weight if shape[0] >= shape[1] else weight @ weight.T
    assert_close(gram, torch.eye(small, dtype=torch.float64), "orthogonality", atol=1e-9)
    assert_close(weight, theirs.weight, "weight")
    if shape[0] == shape[1]:
        x = normal(2, in_features, seed=3)
        (ours(chainrule.tensor(x)) ** 2).sum().backward()
        (theirs(torch.tensor(x)) ** 2).sum().backward()
        assert_close(ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad, "gradient")


def test_orthogonal_errors():
    for lib in (chainrule, torch):
        assert error_of(lambda: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), orthogonal_map="qr"))[0] is ValueError
        assert error_of(lambda: lib.nn.utils.parametrizations.orthogonal(lib.nn.BatchNorm1d(2)))[0] is ValueError


def test_transfer_shares_the_originals():
    source = chainrule.nn.utils.parametrize.register_parametrization(chainrule.nn.Linear(3, 3), "weight", symmetric(chainrule))
    target = chainrule.nn.utils.parametrize.transfer_parametrizations_and_params(source, chainrule.nn.Linear(3, 3))
    assert target.parametrizations.weight.original is source.parametrizations.weight.original
    assert_close(target.weight, source.weight.detach()._array, "weight")
    their_source = torch.nn.utils.parametrize.register_parametrization(torch.nn.Linear(3, 3), "weight", symmetric(torch))
    their_target = torch.nn.utils.parametrize.transfer_parametrizations_and_params(their_source, torch.nn.Linear(3, 3))
    assert list(target.state_dict()) == list(their_target.state_dict())
