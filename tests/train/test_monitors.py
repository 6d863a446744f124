"""Monitors: gradient norms, dead ReLU fractions, symmetric rows and the NaN/Inf watch, against
values worked out by hand, alone and inside the Runner."""
import math

import pytest

import chainrule
from chainrule import nn, optim
from chainrule.train import (
    GradientNormMonitor,
    NonFiniteError,
    NonFiniteWatch,
    Runner,
    SymmetryMonitor,
    dead_relu_fractions,
    identical_rows,
    symmetric_weights,
)


def two_layer_model():
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))


def test_gradient_norms_per_layer_combine_weight_and_bias():
    model = two_layer_model()
    model(chainrule.randn(4, 2)).sum().backward()
    monitor = GradientNormMonitor(model)
    current = monitor.record()
    for layer in ("0", "2"):
        weight, bias = model[int(layer)].weight.grad, model[int(layer)].bias.grad
        expected = math.sqrt(float((weight**2).sum()) + float((bias**2).sum()))
        assert current[layer] == pytest.approx(expected, rel=1e-6)
    assert list(monitor.norms) == ["0", "2"] and monitor.steps == [1]


def test_the_runner_records_gradient_norms_at_every_step():
    model = two_layer_model()
    monitor = GradientNormMonitor(model)
    runner = Runner(model, optim.SGD(model.parameters(), lr=0.01), nn.MSELoss(), monitors=[monitor])
    runner.train((chainrule.randn(6, 2), chainrule.randn(6, 1)), num_epochs=3, log_steps=0)
    assert monitor.steps == [1, 2, 3]
    assert all(len(norms) == 3 for norms in monitor.norms.values())
    assert set(monitor.mean_norms()) == {"0", "2"}


def test_dead_relu_fraction_counts_units_zero_for_every_sample():
    model = two_layer_model()
    with chainrule.no_grad():
        model[0].weight.copy_(chainrule.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        model[0].bias.copy_(chainrule.tensor([0.0, -10.0, -10.0]))  # units 1 and 2 never fire
    model.train()
    fractions = dead_relu_fractions(model, chainrule.rand(5, 2))
    assert fractions == {"1": pytest.approx(2 / 3)}
    assert model.training  # the mode is restored, and the hooks are gone:
    assert all(not module._forward_hooks for module in model.modules())


def test_dead_relu_fraction_reports_each_use_of_a_shared_activation():
    class SharedReLU(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.relu = nn.Linear(2, 3), nn.Linear(3, 3), nn.ReLU()

        def forward(self, x):
            return self.relu(self.fc2(self.relu(self.fc1(x))))

    model = SharedReLU()
    with chainrule.no_grad():
        model.fc1.bias.fill_(-100.0)  # every first-layer unit dead
        model.fc2.bias.fill_(100.0)  # every second-layer unit alive
    assert dead_relu_fractions(model, chainrule.randn(8, 2)) == {"relu": 1.0, "relu (use 2)": 0.0}


def test_gradient_norms_stay_in_step_when_a_layer_has_no_gradient():
    model = two_layer_model()
    monitor = GradientNormMonitor(model)
    (model(chainrule.randn(4, 2)) ** 2).sum().backward()
    monitor.record()
    model[0].weight.grad = model[0].bias.grad = None
    monitor.record()
    assert monitor.steps == [1, 2] and all(len(norms) == 2 for norms in monitor.norms.values())
    assert monitor.norms["0"][1] != monitor.norms["0"][1]  # nan: no gradient at that step


def test_dead_relu_fraction_needs_relu_modules():
    with pytest.raises(ValueError, match="has no ReLU module"):
        dead_relu_fractions(nn.Sequential(nn.Linear(2, 2), nn.Tanh()), chainrule.rand(3, 2))


def test_identical_rows_groups_equal_rows_up_to_rounding():
    weight = chainrule.tensor([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0 + 1e-7], [3.0, 4.0], [5.0, 6.0]])
    assert identical_rows(weight) == [[0, 2], [1, 3]]
    assert identical_rows(chainrule.eye(3)) == []
    with pytest.raises(ValueError, match=r"2-D weight matrix, got shape \(3,\)"):
        identical_rows(chainrule.ones(3))


def test_zero_initialization_stays_symmetric_and_random_initialization_does_not():
    X, y = chainrule.randn(16, 2), chainrule.randn(16, 1)
    flagged = {}
    for name, initialize in (("zeros", nn.init.zeros_), ("normal", nn.init.normal_)):
        model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
        for parameter in model.parameters():
            initialize(parameter)
        monitor = SymmetryMonitor(model)
        Runner(model, optim.SGD(model.parameters(), lr=0.5), nn.MSELoss(), monitors=[monitor]).train((X, y), num_epochs=20, log_steps=0)
        flagged[name] = monitor.flagged
    assert flagged == {"zeros": {"0.weight": [[0, 1, 2, 3]]}, "normal": {}}


def test_symmetry_monitor_keeps_only_rows_identical_at_every_check():
    model = nn.Sequential(nn.Linear(2, 3))
    nn.init.zeros_(model[0].weight)
    monitor = SymmetryMonitor(model)
    assert monitor.check() == {"0.weight": [[0, 1, 2]]}
    with chainrule.no_grad():
        model[0].weight[2] = chainrule.tensor([1.0, 1.0])
    assert monitor.check() == {"0.weight": [[0, 1]]}
    with chainrule.no_grad():
        model[0].weight[2] = 0.0  # equal again, but it was not at every check
    assert monitor.check() == {"0.weight": [[0, 1]]}
    assert symmetric_weights(model) == {"0.weight": [[0, 1, 2]]}


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy, on the backward of inf
def test_non_finite_loss_stops_training_at_its_step():
    model = nn.Linear(2, 1)
    runner = Runner(model, optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), monitors=[NonFiniteWatch(model)])
    X = chainrule.ones(4, 2)
    good, bad = (X, chainrule.zeros(4, 1)), (X, chainrule.full((4, 1), float("inf")))
    before = model.weight.tolist()
    with pytest.raises(NonFiniteError, match=r"step 3: the loss is inf; lower the learning rate") as caught:
        runner.train([good, good, bad], num_epochs=1, log_steps=0)
    assert (caught.value.step, caught.value.name) == (3, "loss")
    assert runner.global_step == 3 and model.weight.tolist() != before  # two good steps were taken


def test_non_finite_gradient_names_the_parameter():
    model = nn.Linear(2, 1)
    model.weight.grad = chainrule.tensor([[float("nan"), 1.0]])
    model.bias.grad = chainrule.tensor([0.0])
    with pytest.raises(NonFiniteError, match=r"the gradient of weight \(shape \(1, 2\)\) has 1 NaN and 0 Inf values out of 2") as caught:
        NonFiniteWatch(model).check(chainrule.tensor(0.5))
    assert caught.value.name == "weight" and caught.value.step is None
    assert isinstance(caught.value, RuntimeError)
