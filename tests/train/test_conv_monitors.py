"""The gradient monitors on a convolutional network: per-layer gradient norms and dead units of
conv layers (a unit of a feature map is one channel at one position)."""
import math

import numpy as np

import chainrule as torch
from chainrule import nn
from chainrule.train.monitors import GradientNormMonitor, dead_relu_fractions


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 2 * 2, 3),
    )


def test_gradient_norms_of_conv_layers_are_recorded_per_layer():
    torch.manual_seed(0)
    model = small_cnn()
    monitor = GradientNormMonitor(model)
    x, y = torch.randn(5, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1])
    nn.functional.cross_entropy(model(x), y).backward()
    norms = monitor.record()
    assert list(norms) == ["0", "3", "6"]
    by_hand = math.sqrt(float((model[0].weight.grad._array.astype(np.float64) ** 2).sum() + (model[0].bias.grad._array.astype(np.float64) ** 2).sum()))
    assert math.isclose(norms["0"], by_hand, rel_tol=1e-6) and norms["0"] > 0


def test_dead_units_of_a_conv_layer_are_channels_at_positions():
    torch.manual_seed(0)
    model = small_cnn()
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # every unit of the first conv layer is off for every input
    fractions = dead_relu_fractions(model, torch.rand(6, 1, 8, 8))
    assert fractions["1"] == 1.0
    assert 0.0 <= fractions["4"] <= 1.0
