"""functional_call (torch.func and torch.nn.utils.stateless) and stack_module_state against PyTorch."""
import warnings

import numpy as np
import pytest
import torch
import torch.func

import chainrule
from chainrule import func
from chainrule.nn.utils import stateless
from tests.func.helpers import assert_same


def twin_models():
    ours = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.Tanh(), chainrule.nn.BatchNorm1d(4)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.BatchNorm1d(4)).double()
    theirs.load_state_dict({name: torch.tensor(value.numpy()) for name, value in ours.state_dict().items()})
    return ours, theirs


X = np.random.default_rng(5).standard_normal((5, 3))


def test_replaces_parameters_for_one_call_and_restores_them():
    ours, theirs = twin_models()
    weight = np.ones((4, 3))
    before = ours[0].weight
    for call in (func.functional_call, stateless.functional_call):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call(ours, {"0.weight": chainrule.tensor(weight)}, (chainrule.tensor(X),))
        # the old name warns, as torch.nn.utils.stateless.functional_call does; torch.func's does not
        assert [warning.category for warning in caught] == ([FutureWarning] if call is stateless.functional_call else [])
        expected = torch.func.functional_call(theirs, {"0.weight": torch.tensor(weight)}, (torch.tensor(X),))
        assert_same(result, expected)
        assert ours[0].weight is before
    assert_same(
        func.functional_call(ours, ({"0.weight": chainrule.tensor(weight)}, {"0.bias": chainrule.zeros(4, dtype=chainrule.float64)}), chainrule.tensor(X)),
        torch.func.functional_call(theirs, ({"0.weight": torch.tensor(weight)}, {"0.bias": torch.zeros(4, dtype=torch.float64)}), torch.tensor(X)),
    )


def test_gradients_with_respect_to_a_parameter_dict():
    ours, theirs = twin_models()
    ours.eval(), theirs.eval()  # PyTorch refuses a transform that updates BatchNorm's running statistics
    params = {name: value.detach() for name, value in ours.named_parameters()}
    torch_params = {name: value.detach() for name, value in theirs.named_parameters()}

    def loss(params, x):
        return func.functional_call(ours, params, (x,)).pow(2).sum()

    def torch_loss(params, x):
        return torch.func.functional_call(theirs, params, (x,)).pow(2).sum()

    assert_same(func.grad(loss)(params, chainrule.tensor(X)), torch.func.grad(torch_loss)(torch_params, torch.tensor(X)))


@pytest.mark.parametrize(
    "values, strict",
    [
        (lambda lib: ({"0.weight": lib.ones(4, 3)}, {"0.weight": lib.ones(4, 3)}), False),
        (lambda lib: {"0.weight": lib.ones(4, 3)}, True),
    ],
)
def test_errors_match_pytorch(values, strict):
    ours, theirs = twin_models()
    with pytest.raises(Exception) as expected:
        torch.func.functional_call(theirs, values(torch), (torch.tensor(X),), strict=strict)
    with pytest.raises(expected.type) as got:
        func.functional_call(ours, values(chainrule), (chainrule.tensor(X),), strict=strict)
    assert str(got.value).split(":")[0] == str(expected.value).split(":")[0]


def test_stack_module_state_and_an_ensemble_through_vmap():
    models = [chainrule.nn.Linear(3, 2).double() for _ in range(4)]
    torch_models = [torch.nn.Linear(3, 2).double() for _ in range(4)]
    for model, torch_model in zip(models, torch_models):
        torch_model.load_state_dict({name: torch.tensor(value.numpy()) for name, value in model.state_dict().items()})
    params, buffers = func.stack_module_state(models)
    torch_params, torch_buffers = torch.func.stack_module_state(torch_models)
    assert_same(params, torch_params)
    assert buffers == {} and torch_buffers == {}

    def run(params, buffers, x):
        return func.functional_call(models[0], (params, buffers), (x,))

    def torch_run(params, buffers, x):
        return torch.func.functional_call(torch_models[0], (params, buffers), (x,))

    x = np.random.default_rng(6).standard_normal((5, 3))
    ours = func.vmap(run, in_dims=(0, 0, None))(params, buffers, chainrule.tensor(x))
    theirs = torch.func.vmap(torch_run, in_dims=(0, 0, None))(torch_params, torch_buffers, torch.tensor(x))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)


def test_what_forward_rebinds_is_handed_back_and_new_parameters_count_during_the_call():
    """PyTorch's _reparametrize_module writes what the module held at the end back into the dict
    given, and sets names the module did not have as attributes (a Parameter registers)."""
    results = []
    for lib in (chainrule, torch):
        class Counter(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = lib.nn.Linear(1, 1)
                self.count = lib.nn.Buffer(lib.tensor([0.0]))

            def forward(self, x):
                self.count = self.count + 1
                return x + self.count, [name for name, _ in self.named_parameters()]

        model = Counter()
        values = {"count": lib.tensor([2.0]), "linear.extra": lib.nn.Parameter(lib.ones(1))}
        _, names = lib.func.functional_call(model, values, lib.zeros(1))
        results.append((values["count"].tolist(), model.count.tolist(), names, hasattr(model.linear, "extra")))
    assert results[0] == results[1] == ([3.0], [0.0], ["linear.weight", "linear.bias", "linear.extra"], False)


@pytest.mark.parametrize("values", [lambda lib: {"0.weight": object()}, lambda lib: {"0.weight": lib.ones(4, 3), "0.note": lib.ones(1)}])
def test_non_tensors_are_refused_with_pytorchs_type_error_and_the_model_is_unchanged(values):
    for lib, model in zip((torch, chainrule), twin_models()[::-1]):
        model[0].note = 0.0
        before = {name: value.tolist() for name, value in model.state_dict().items()}
        with pytest.raises(TypeError, match="is not an instance of (torch|chainrule).Tensor"):
            lib.func.functional_call(model, values(lib), (lib.ones(5, 3).double(),))
        assert {name: value.tolist() for name, value in model.state_dict().items()} == before
        assert model[0].note == 0.0
