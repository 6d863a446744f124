"""check_gradients: a hand-derived gradient against autograd and finite differences (the lecture's homework)."""
import numpy as np
import pytest

import chainrule
from chainrule.viz import check_gradients

X, TARGET = 2.0, 9.0


def homework_loss(w1, w2, b):
    """y = w1 x^2 + w2 x + b, loss (y - t)^2 at x = 2, t = 9."""
    return (w1 * X**2 + w2 * X + b - TARGET) ** 2


def homework_inputs():
    return [chainrule.tensor(value, requires_grad=True, name=name) for name, value in (("w1", 1.0), ("w2", 1.0), ("b", 1.0))]


def correct_gradients(w1, w2, b):
    residual = 2 * (w1 * X**2 + w2 * X + b - TARGET)
    return residual * X**2, residual * X, residual


def test_a_correct_hand_derivation_agrees_everywhere(capsys):
    inputs = homework_inputs()
    result = check_gradients(homework_loss, inputs, correct_gradients)
    assert result.ok and bool(result)
    assert [row.name for row in result.rows] == ["w1", "w2", "b"]
    assert [float(row.manual) for row in result.rows] == [-16.0, -8.0, -4.0]
    for row in result.rows:
        np.testing.assert_allclose(row.autograd, row.manual)
        np.testing.assert_allclose(row.numerical, row.manual, rtol=1e-6)
    printed = capsys.readouterr().out
    assert "all gradients agree" in printed and "w1" in printed and "-16" in printed
    assert all(tensor.grad is None and tensor.dtype == chainrule.float32 for tensor in inputs)  # inputs untouched


def test_a_wrong_derivative_is_pointed_at(capsys):
    def forgot_a_power(w1, w2, b):
        residual = 2 * (w1 * X**2 + w2 * X + b - TARGET)
        return residual * X, residual * X, residual  # dL/dw1 should have x^2

    result = check_gradients(homework_loss, homework_inputs(), forgot_a_power)
    assert not result.ok and not result
    assert [row.ok for row in result.rows] == [False, True, True]
    assert result.rows[0].mismatch == "value: manual -8, autograd -16, finite differences -16"
    assert "some gradients disagree" in capsys.readouterr().out


def test_the_first_disagreeing_element_of_a_matrix_is_named():
    weights = chainrule.randn(3, 2, requires_grad=True)
    weights.name = "W"
    off_by_one = np.zeros((3, 2), dtype=np.float32)
    off_by_one[1, 1] = 1.0
    result = check_gradients(lambda W: (W**3).sum(), [weights], lambda W: 3 * W**2 + chainrule.tensor(off_by_one))
    (row,) = result.rows
    assert row.name == "W" and row.mismatch.startswith("element (1, 1): manual ")
    assert str(result).count("NO:") == 1


def test_inputs_without_grad_are_passed_through_and_gradients_may_be_plain_numbers():
    scale = chainrule.tensor(3.0)
    w = chainrule.tensor([1.0, -2.0], requires_grad=True, name="w")
    result = check_gradients(lambda w, scale: (scale * w * w).sum(), [w, scale], lambda w, scale: (2 * scale.item() * w.numpy()).tolist())
    assert result.ok and [row.name for row in result.rows] == ["w"]


def test_mistakes_in_the_call_are_explained():
    inputs = homework_inputs()
    with pytest.raises(ValueError, match="returned 2 gradients but 3 inputs require grad"):
        check_gradients(homework_loss, inputs, lambda w1, w2, b: (w1, w2))
    with pytest.raises(RuntimeError, match="single number"):
        check_gradients(lambda w: w * 2, [chainrule.tensor([1.0, 2.0], requires_grad=True)], lambda w: w)
    with pytest.raises(ValueError, match="no input requires grad"):
        check_gradients(lambda w: w * 2, [chainrule.tensor(1.0)], lambda w: w)
    result = check_gradients(homework_loss, inputs, lambda w1, w2, b: ([1.0, 2.0], 0.0, 0.0))
    assert "manual gradient has shape (2,) but the input has shape ()" in result.rows[0].mismatch
