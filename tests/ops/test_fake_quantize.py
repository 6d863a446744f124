"""Fake quantization: values to the last bit and straight-through gradients as PyTorch's.

Finite differences do not apply: the forward is a staircase (derivative 0 between its steps) and
its gradient is by definition the straight-through one, so the table compares with PyTorch
(``gradcheck=False``) and the closed-form test checks the gradient is exactly the in-range mask.
"""
import numpy as np
import pytest
import torch

import chainrule
from tests.ops.oracle import OpCase, one_shape, table_test
from tests.quantized.pytorch_errors import assert_raises_as_pytorch


def spread(array):
    """Inputs spread over a few grids' widths, so that some fall outside the clamp range."""
    return array * 3.0


def per_channel(library, x, axis, zero_points_as=None):
    """Fake quantization along ``axis`` with scales and zero points that differ by channel."""
    channels = x.shape[axis]
    scale = library.tensor([0.05 + 0.1 * c for c in range(channels)], dtype=library.float32)
    zero_point = library.tensor([(3 * c) % 7 - 3 for c in range(channels)], dtype=zero_points_as or library.int32)
    return library.fake_quantize_per_channel_affine(x, scale, zero_point, axis, -8, 7)


CASES = [
    OpCase("per_tensor", lambda a: chainrule.fake_quantize_per_tensor_affine(a, 0.1, 3, -10, 12),
           lambda a: torch.fake_quantize_per_tensor_affine(a, 0.1, 3, -10, 12), one_shape(), domain=spread, gradcheck=False),
    OpCase("per_tensor_uint8", lambda a: chainrule.fake_quantize_per_tensor_affine(a, 0.013, 128, 0, 255),
           lambda a: torch.fake_quantize_per_tensor_affine(a, 0.013, 128, 0, 255), one_shape(), domain=spread, gradcheck=False),
    OpCase("per_tensor_tensor_qparams",
           lambda a: chainrule.fake_quantize_per_tensor_affine(a, chainrule.tensor(0.07), chainrule.tensor(-2), -8, 7),
           lambda a: torch.fake_quantize_per_tensor_affine(a, torch.tensor(0.07), torch.tensor(-2), -8, 7),
           one_shape(), domain=spread, gradcheck=False),
    OpCase("per_channel_first", lambda a: per_channel(chainrule, a, 0), lambda a: per_channel(torch, a, 0),
           one_shape(min_dims=1), domain=spread, gradcheck=False),
    OpCase("per_channel_last", lambda a: per_channel(chainrule, a, a.dim() - 1), lambda a: per_channel(torch, a, a.dim() - 1),
           one_shape(min_dims=2), domain=spread, gradcheck=False),
    OpCase("per_channel_float_zero_point", lambda a: per_channel(chainrule, a, 0, chainrule.float32),
           lambda a: per_channel(torch, a, 0, torch.float32), one_shape(min_dims=1), domain=spread, gradcheck=False),
]

test_op = table_test(CASES)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("scale", [0.1, 0.013, 1 / 3, 2.5])
def test_values_agree_to_the_bit_on_ties_and_boundaries(dtype, scale):
    # multiples of scale / 2 land on rounding ties and on the clamp bounds themselves
    steps = np.arange(-40, 41) * 0.5
    values = np.concatenate([steps * scale, steps * scale + 1e-7, [np.inf, -np.inf, np.nan, 1e30, -1e30, 0.0, -0.0]])
    for zero_point in (0, 5):
        ours = chainrule.tensor(values, dtype=getattr(chainrule, dtype), requires_grad=True)
        theirs = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
        our_out = chainrule.fake_quantize_per_tensor_affine(ours, scale, zero_point, -6, 9)
        their_out = torch.fake_quantize_per_tensor_affine(theirs, scale, zero_point, -6, 9)
        assert our_out.dtype == getattr(chainrule, dtype)
        np.testing.assert_array_equal(our_out.detach().numpy(), their_out.detach().numpy())
        our_out.sum().backward()
        their_out.sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_per_channel_sends_numbers_beyond_int64_to_quant_min_as_pytorch():
    values = [[np.inf, -np.inf, np.nan, 1e30, -1e30, 5e9]]
    scale, zero_point = [0.1], [3]
    for zero_points_as in ("int32", "float32"):
        ours = chainrule.fake_quantize_per_channel_affine(
            chainrule.tensor(values), chainrule.tensor(scale), chainrule.tensor(zero_point, dtype=getattr(chainrule, zero_points_as)), 0, -10, 12)
        theirs = torch.fake_quantize_per_channel_affine(
            torch.tensor(values), torch.tensor(scale), torch.tensor(zero_point, dtype=getattr(torch, zero_points_as)), 0, -10, 12)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape", [(), (1,), (0,), (2, 0, 3), (5, 4)])
def test_the_gradient_is_exactly_the_in_range_mask(shape):
    x = chainrule.randn(shape, dtype=chainrule.float64) * 2
    x.requires_grad_()
    scale, zero_point, low, high = 0.25, 1, -4, 3
    out = chainrule.fake_quantize_per_tensor_affine(x, scale, zero_point, low, high)
    weights = chainrule.randn(shape, dtype=chainrule.float64)
    (out * weights).sum().backward()
    q = np.rint(x.detach().numpy() * (1 / scale)) + zero_point
    expected = np.where((q >= low) & (q <= high), weights.numpy(), 0.0)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert out.shape == x.shape


def test_nodes_are_named_as_in_pytorch():
    x = chainrule.randn(2, 3, requires_grad=True)
    per_tensor = chainrule.fake_quantize_per_tensor_affine(x, 0.1, 0, -128, 127)
    tensor_qparams = chainrule.fake_quantize_per_tensor_affine(x, chainrule.tensor(0.1), chainrule.tensor(0), -128, 127)
    channels = chainrule.fake_quantize_per_channel_affine(
        x, chainrule.tensor([0.1, 0.2, 0.3]), chainrule.zeros(3, dtype=chainrule.int32), 1, -128, 127)
    assert type(per_tensor.grad_fn).__name__ == "FakeQuantizePerTensorAffineCachemaskBackward0"
    assert type(tensor_qparams.grad_fn).__name__ == "FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0"
    assert type(channels.grad_fn).__name__ == "FakeQuantizePerChannelAffineCachemaskBackward0"


def bad_calls(library):
    x = library.randn(2, 3)
    scales, zero_points = library.tensor([0.1, 0.2, 0.3]), library.zeros(3, dtype=library.int32)
    per_tensor, per_channel = library.fake_quantize_per_tensor_affine, library.fake_quantize_per_channel_affine
    return [
        lambda: per_tensor(x.int(), 0.1, 0, 0, 255),
        lambda: per_tensor(x, 0.1, 0, 10, -12),
        lambda: per_tensor(x, 0.1, 50, -10, 12),
        lambda: per_tensor(x, 0.1, 0.5, 0, 255),
        lambda: per_tensor(x, library.tensor(0.1, requires_grad=True), library.tensor(0), 0, 255),
        lambda: per_channel(x.int(), scales, zero_points, 1, 0, 255),
        lambda: per_channel(x, scales, zero_points.long(), 1, 0, 255),
        lambda: per_channel(x, scales.double(), zero_points, 1, 0, 255),
        lambda: per_channel(x, scales[:2], zero_points[:2], 1, 0, 255),
        lambda: per_channel(x, scales, zero_points[:2], 1, 0, 255),
        lambda: per_channel(x, scales[None], zero_points[None], 1, 0, 255),
        lambda: per_channel(x, scales, zero_points, 2, 0, 255),
        lambda: per_channel(x, scales, zero_points, -1, 0, 255),
        lambda: per_channel(x, scales, zero_points + 300, 1, 0, 255),
        lambda: per_channel(x, scales.requires_grad_(), zero_points, 1, 0, 255),
        lambda: per_channel(library.tensor(1.0), scales[:1], zero_points[:1], 0, 0, 255),
    ]


@pytest.mark.parametrize("position", range(len(bad_calls(torch))))
def test_bad_input_raises_pytorchs_error(position):
    assert_raises_as_pytorch(bad_calls(chainrule)[position], bad_calls(torch)[position], words=30)


@pytest.mark.parametrize("seed", range(6))
def test_learnable_fake_quantization_gives_pytorchs_values_and_gradients(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(60).astype(np.float32) * 2
    scale, zero_point = np.float32(rng.uniform(0.05, 0.3)), np.float32(rng.uniform(-3, 3))
    grad_factor, weights = float(rng.uniform(0.5, 1.5)), rng.standard_normal(60).astype(np.float32)
    results = []
    for library in (chainrule, torch):
        inputs = [library.tensor(value, requires_grad=True) for value in (x, [scale], [zero_point])]
        out = library._fake_quantize_learnable_per_tensor_affine(*inputs, -8, 7, grad_factor)
        (out * library.tensor(weights)).sum().backward()
        results.append([out.detach().numpy(), *(each.grad.numpy() for each in inputs)])
        assert type(out.grad_fn).__name__ == "FakeQuantizeLearnablePerTensorAffineBackward0"
    (out, x_grad, scale_grad, zero_point_grad), theirs = results
    np.testing.assert_array_equal(out, theirs[0])
    np.testing.assert_array_equal(x_grad, theirs[1])
    np.testing.assert_allclose(scale_grad, theirs[2], rtol=1e-5, atol=1e-5)  # sums of float32 in another order
    np.testing.assert_allclose(zero_point_grad, theirs[3], rtol=1e-5, atol=1e-6)


def test_learnable_fake_quantization_wants_one_dimensional_parameters_as_pytorch():
    with pytest.raises(IndexError, match="select\\(\\) cannot be applied to a 0-dim tensor"):
        chainrule._fake_quantize_learnable_per_tensor_affine(chainrule.randn(3), chainrule.tensor(0.1), chainrule.tensor(0.0), 0, 255, 1.0)
