"""The lecture's own programs (seed notes 000 and 001), run with chainrule and with PyTorch.

Course code is written for PyTorch; chainrule must run it with only the import changed and print
the same numbers.
"""
import io
from contextlib import redirect_stdout

import pytest
import torch

import chainrule


def linear_model(lib):
    """Seed 000: y = w * x trained by hand with w.data updates and w.grad.data.zero_()."""
    x_data = [1.0, 2.0, 3.0]
    y_data = [2.0, 4.0, 6.0]
    w = lib.Tensor([1.0])
    w.requires_grad = True

    def forward(x):
        return x * w

    def loss(x, y):
        y_pred = forward(x)
        return (y_pred - y) ** 2

    print("predict (before training)", 4, forward(4).item())
    for epoch in range(100):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            print("\tgrad:", x, y, round(w.grad.item(), 4))
            w.data = w.data - 0.01 * w.grad.data
            w.grad.data.zero_()
        print("progress:", epoch, round(l.item(), 6))
    print("predict (after training)", 4, round(forward(4).item(), 4))
    return forward(4).item()


def quadratic_model(lib):
    """Seed 001's homework: y = w1 x^2 + w2 x + b fitted to y = x^2 + x + 1; predicts 21 at x = 4."""
    x_data = [1.0, 2.0, 3.0]
    y_data = [3.0, 7.0, 13.0]
    w1 = lib.tensor([0.5], requires_grad=True)
    w2 = lib.tensor([0.5], requires_grad=True)
    b = lib.tensor([0.5], requires_grad=True)

    def forward(x):
        return w1 * x**2 + w2 * x + b

    for epoch in range(5000):
        for x, y in zip(x_data, y_data):
            l = (forward(x) - y) ** 2
            l.backward()
            with lib.no_grad():
                for parameter in (w1, w2, b):
                    parameter -= 0.01 * parameter.grad
                    parameter.grad.zero_()
        if epoch % 1000 == 0:
            print("epoch", epoch, round(l.item(), 6))
    print("w1 =", round(w1.item(), 3), "w2 =", round(w2.item(), 3), "b =", round(b.item(), 3))
    print("predict", 4, round(forward(4).item(), 3))
    return forward(4).item()


def run(program, lib):
    out = io.StringIO()
    with redirect_stdout(out):
        result = program(lib)
    return result, out.getvalue()


def test_linear_model_prints_what_pytorch_prints():
    ours, our_log = run(linear_model, chainrule)
    theirs, their_log = run(linear_model, torch)
    assert our_log == their_log
    assert ours == pytest.approx(8.0, abs=1e-3)


def test_quadratic_homework_learns_one_one_one():
    ours, our_log = run(quadratic_model, chainrule)
    theirs, their_log = run(quadratic_model, torch)
    assert our_log == their_log
    assert ours == pytest.approx(21.0, abs=0.01)


def test_summing_loss_tensors_keeps_graphs_alive_but_item_does_not():
    w = chainrule.tensor(1.0, requires_grad=True)
    total_tensor = 0
    total_number = 0.0
    for x in [1.0, 2.0, 3.0]:
        l = (w * x - 2 * x) ** 2
        total_tensor = total_tensor + l  # grows one graph across iterations
        total_number += l.item()  # a plain number: no graph
    assert total_tensor.grad_fn is not None
    assert isinstance(total_number, float)
