"""Spatial functional operations against PyTorch where they used to differ: pooling's argument
checks (in PyTorch's order, with its exception types and messages) and dtypes, adaptive pooling's output
sizes (0, None) and dtypes, interpolate's integer inputs, grid_sample's grid gradient in mode
'nearest', embedding's weight check, embedding_bag's max_norm and scale_grad_by_freq, and
local_response_norm's and pdist's checks. Each differentiable change is also checked by finite differences."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import gradcheck
from tests.nn.pairs import error_of

F = chainrule.nn.functional
TF = torch.nn.functional


def _same_error(ours, theirs, message_start=None):
    """Both raise the same exception type; ours contains ``message_start`` (PyTorch's text)."""
    got, expected = error_of(ours), error_of(theirs)
    assert expected is not None and got is not None, (got, expected)
    assert got[0] is expected[0], (got, expected)
    if message_start is not None:
        assert message_start in expected[1] and message_start in got[1], (got[1], expected[1])


# ----------------------------------------------------------------------------- pooling argument checks
POOL_ARGUMENTS = [
    # (function name, input shape, keyword arguments, PyTorch's message start)
    ("max_pool2d", (1, 1, 9, 9), dict(kernel_size=3, padding=2, dilation=2), "pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 2, kW = 3, kH = 3"),
    ("max_pool3d", (1, 1, 9, 9, 9), dict(kernel_size=3, padding=2, dilation=2), "pad should be smaller than or equal to half of kernel size, but got kT: 3 kW: 3 kH: 3 padT: 2 padW: 2 padH: 2"),
    ("max_pool1d", (1, 1, 9), dict(kernel_size=3, padding=2, dilation=2), "max_pool1d() padding should be at most half of kernel size, but got padding=2 and kernel_size=3"),
    ("max_pool1d", (1, 1, 9), dict(kernel_size=3, padding=2, dilation=2, return_indices=True), "pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 0, kW = 3, kH = 1"),
    ("max_pool2d", (1, 1, 9, 9), dict(kernel_size=3, padding=2), "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"),
    ("max_pool2d", (1, 1, 9, 9), dict(kernel_size=3, padding=-1), "pad must be non-negative, but got pad: -1"),
    ("avg_pool2d", (1, 1, 9, 9), dict(kernel_size=3, padding=-1), "pad must be non-negative, but got pad: -1"),
    ("max_pool2d", (1, 1, 9, 9), dict(kernel_size=0), "stride should not be zero"),
    ("avg_pool3d", (1, 1, 9, 9, 9), dict(kernel_size=2, stride=0), "stride should not be zero"),
    ("max_pool2d", (1, 1, 9, 9), dict(kernel_size=0, stride=1), "kernel size should be greater than zero, but got kH: 0 kW: 0"),
    ("max_pool3d", (1, 1, 9, 9, 9), dict(kernel_size=0, stride=1), "kernel size should be greater than zero, but got kT: 0 kH: 0 kW: 0"),
    ("avg_pool1d", (1, 1, 9), dict(kernel_size=0, stride=1), "kernel size should be greater than zero, but got kH: 1 kW: 0"),
    ("max_pool2d", (1, 1, 9, 9), dict(kernel_size=2, stride=-1), "stride should be greater than zero, but got dH: -1 dW: -1"),
    ("max_pool3d", (1, 1, 9, 9, 9), dict(kernel_size=2, dilation=0), "dilation should be greater than zero, but got dilationT: 0 dilationH: 0 dilationW: 0"),
    ("max_pool1d", (1, 1, 9), dict(kernel_size=0), "max_pool1d() kernel_size must be greater than zero, but got 0"),
    ("max_pool1d", (1, 1, 9), dict(kernel_size=2, stride=-1), "max_pool1d() stride must be greater than zero, but got -1"),
    ("max_pool1d", (1, 1, 9), dict(kernel_size=2, padding=-1), "max_pool1d() padding must be non-negative, but got -1"),
    ("max_pool1d", (1, 1, 9), dict(kernel_size=2, dilation=0), "max_pool1d() dilation must be greater than zero, but got 0"),
    ("max_pool1d", (1, 1, 3), dict(kernel_size=4), "max_pool1d() Invalid computed output size: 0"),
    ("max_pool2d", (1, 1, 3, 3), dict(kernel_size=4), "Given input size: (1x3x3). Calculated output size: (1x0x0). Output size is too small"),
    ("avg_pool1d", (2, 1, 3), dict(kernel_size=4), "Given input size: (1x1x3). Calculated output size: (1x1x0). Output size is too small"),
    ("avg_pool3d", (1, 1, 7, 3, 1), dict(kernel_size=4, padding=1), "input image (T: 7 H: 3 W: 1) smaller than kernel size (kT: 4 kH: 4 kW: 4)"),
]


@pytest.mark.parametrize("name, shape, arguments, message", POOL_ARGUMENTS)
def test_pooling_argument_errors_match_pytorch(name, shape, arguments, message):
    x = np.zeros(shape, dtype=np.float32)
    _same_error(
        lambda: getattr(F, name)(chainrule.tensor(x), **arguments),
        lambda: getattr(TF, name)(torch.tensor(x), **arguments),
        message,
    )


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_pool_with_dilation_and_largest_padding_matches_pytorch(dims):
    """Padding up to half the kernel (not its dilated extent) is accepted, values and gradients as PyTorch."""
    rng = np.random.default_rng(dims)
    x = rng.standard_normal((2, 2) + (7,) * dims)
    arguments = dict(kernel_size=3, padding=1, dilation=2, ceil_mode=True)
    ours = chainrule.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, expected = getattr(F, f"max_pool{dims}d")(ours, **arguments), getattr(TF, f"max_pool{dims}d")(theirs, **arguments)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("name, arguments", [
    ("avg_pool1d", {}), ("avg_pool2d", {}), ("avg_pool3d", {}), ("max_pool1d", {}), ("max_pool1d", dict(return_indices=True)),
    ("max_pool2d", {}), ("max_pool3d", dict(return_indices=True)), ("lp_pool2d", dict(norm_type=2)),
])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_pooling_dtypes_match_pytorch(name, arguments, dtype):
    """Average pooling takes int64 (not other integers), max pooling every dtype but bool (its 1-d
    kernel without indices floating point only), as PyTorch's kernels."""
    dims = int(name[-2])
    x = np.random.default_rng(dims).integers(0, 2 if dtype is np.bool_ else 100, (1, 2) + (4,) * dims).astype(dtype)
    call = lambda library: getattr(library.nn.functional, name)(library.tensor(x), kernel_size=2, **arguments)  # noqa: E731
    if error_of(lambda: call(torch)) is not None:
        _same_error(lambda: call(chainrule), lambda: call(torch), "not implemented for")
        return
    ours, theirs = call(chainrule), call(torch)
    for out, expected in zip(ours if isinstance(ours, tuple) else (ours,), theirs if isinstance(theirs, tuple) else (theirs,)):
        assert str(out.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- adaptive pooling sizes and dtypes
@pytest.mark.parametrize("name, dims", [("adaptive_avg_pool2d", 2), ("adaptive_max_pool2d", 2), ("adaptive_avg_pool3d", 3), ("adaptive_max_pool3d", 3), ("adaptive_avg_pool1d", 1), ("adaptive_max_pool1d", 1)])
@pytest.mark.parametrize("output_size", [0, -1, None, "nones", "too_long"])
def test_adaptive_pooling_output_size_matches_pytorch(name, dims, output_size):
    x = np.random.default_rng(0).standard_normal((1, 2) + (5,) * dims)
    size = {"nones": (None,) * dims, "too_long": (2,) * (dims + 1)}.get(output_size, output_size)
    theirs = error_of(lambda: getattr(TF, name)(torch.tensor(x), size))
    if theirs is not None:
        _same_error(lambda: getattr(F, name)(chainrule.tensor(x), size), lambda: getattr(TF, name)(torch.tensor(x), size))
        return
    ours = chainrule.tensor(x, requires_grad=True)
    out = getattr(F, name)(ours, size)
    expected = getattr(TF, name)(torch.tensor(x), size)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.numpy())
    out.sum().backward()
    assert tuple(ours.grad.shape) == x.shape


def test_adaptive_max_pool_to_an_empty_size_gives_int64_indices():
    out, indices = F.adaptive_max_pool2d(chainrule.randn(1, 2, 5, 5), (0, 3), return_indices=True)
    expected, expected_indices = TF.adaptive_max_pool2d(torch.randn(1, 2, 5, 5), (0, 3), return_indices=True)
    assert tuple(out.shape) == tuple(expected.shape) and tuple(indices.shape) == tuple(expected_indices.shape)
    assert indices.dtype == chainrule.int64


@pytest.mark.parametrize("name, size", [("adaptive_avg_pool2d", 1), ("adaptive_avg_pool2d", (1, 2)), ("adaptive_max_pool2d", 1), ("adaptive_avg_pool3d", 2), ("adaptive_max_pool1d", 2)])
def test_adaptive_pooling_of_integers_raises_as_pytorch(name, size):
    dims = int(name[-2])
    x = np.ones((1, 1) + (4,) * dims, dtype=np.int64)
    _same_error(lambda: getattr(F, name)(chainrule.tensor(x), size), lambda: getattr(TF, name)(torch.tensor(x), size), "not")


def test_fractional_max_pool3d_checks_width_before_height():
    x = np.zeros((1, 1, 4, 4, 4))
    arguments = dict(kernel_size=(1, 3, 3), output_size=(2, 4, 4))
    _same_error(
        lambda: F.fractional_max_pool3d(chainrule.tensor(x), **arguments),
        lambda: TF.fractional_max_pool3d(torch.tensor(x), **arguments),
        "fractional_max_pool3d_out(): pool width 3 too large relative to input width 4",
    )


# ----------------------------------------------------------------------------- interpolate of integers
@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "area"])
def test_interpolate_of_integers_matches_pytorch(dims, dtype, mode):
    x = np.random.default_rng(dims).integers(0, 2 if dtype is np.bool_ else 100, (1, 2) + (4,) * dims).astype(dtype)
    arguments = dict(scale_factor=1.5, mode=mode)
    if error_of(lambda: TF.interpolate(torch.tensor(x), **arguments)) is not None:
        _same_error(lambda: F.interpolate(chainrule.tensor(x), **arguments), lambda: TF.interpolate(torch.tensor(x), **arguments), "not implemented for")
        return
    out, expected = F.interpolate(chainrule.tensor(x), **arguments), TF.interpolate(torch.tensor(x), **arguments)
    assert str(out.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


# ----------------------------------------------------------------------------- grid_sample 'nearest'
@pytest.mark.parametrize("spatial", [2, 3])
def test_grid_sample_nearest_gives_the_grid_a_zero_gradient(spatial):
    rng = np.random.default_rng(spatial)
    x = rng.standard_normal((2, 3) + (4,) * spatial)
    grid = rng.uniform(-1.2, 1.2, (2,) + (3,) * spatial + (spatial,))
    results = []
    for library in (chainrule, torch):
        inputs = library.tensor(x, requires_grad=True), library.tensor(grid, requires_grad=True)
        out = library.nn.functional.grid_sample(*inputs, mode="nearest", align_corners=False)
        (out * library.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))).sum().backward()
        results.append((out.detach().numpy(), inputs[0].grad.numpy(), inputs[1].grad))
    (out, grad_input, grad_grid), (expected, expected_grad_input, expected_grad_grid) = results
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(grad_input, expected_grad_input)
    assert grad_grid is not None and expected_grad_grid is not None
    np.testing.assert_array_equal(grad_grid.numpy(), expected_grad_grid.numpy())
    assert gradcheck(lambda input: F.grid_sample(input, chainrule.tensor(grid), mode="nearest", align_corners=False), (chainrule.tensor(x, requires_grad=True),))


# ----------------------------------------------------------------------------- embeddings
def test_embedding_needs_a_two_dimensional_weight():
    _same_error(
        lambda: F.embedding(chainrule.tensor([1]), chainrule.randn(3)),
        lambda: TF.embedding(torch.tensor([1]), torch.randn(3)),
        "'weight' must be 2-D",
    )


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0])
def test_embedding_bag_max_norm_renormalizes_the_rows_read_in_place(mode, norm_type):
    rng = np.random.default_rng(int(norm_type))
    weight = rng.standard_normal((6, 3)) * 2
    indices, offsets = np.array([0, 2, 2, 5, 1, 0]), np.array([0, 2, 3])
    results = []
    for library in (chainrule, torch):
        table = library.tensor(weight, requires_grad=True)
        out = library.nn.functional.embedding_bag(
            library.tensor(indices), table, library.tensor(offsets), max_norm=1.0, norm_type=norm_type, mode=mode, padding_idx=5
        )
        (out * library.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))).sum().backward()
        results.append((out.detach().numpy(), table.detach().numpy(), table.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq_divides_by_counts_as_embedding(mode):
    """Each row's gradient divided by how often ``input`` holds it, as ``F.embedding`` (PyTorch's
    CPU embedding_bag divides by the wrong counts: see the report)."""
    weight = np.random.default_rng(0).standard_normal((4, 2))
    indices, offsets = np.array([2, 0, 0, 1, 0]), np.array([0, 3])
    table = chainrule.tensor(weight, requires_grad=True)
    F.embedding_bag(chainrule.tensor(indices), table, chainrule.tensor(offsets), mode=mode, scale_grad_by_freq=True).sum().backward()
    plain = chainrule.tensor(weight, requires_grad=True)
    F.embedding_bag(chainrule.tensor(indices), plain, chainrule.tensor(offsets), mode=mode).sum().backward()
    counts = np.bincount(indices, minlength=4)[:, None]
    np.testing.assert_allclose(table.grad.numpy(), plain.grad.numpy() / np.maximum(counts, 1))
    assert gradcheck(
        lambda w: F.embedding_bag(chainrule.tensor(indices), w, chainrule.tensor(offsets), mode=mode, scale_grad_by_freq=False),
        (chainrule.tensor(weight, requires_grad=True),),
    )


def test_pdist_needs_floating_point_input():
    x = np.ones((2, 3), dtype=np.int64)
    _same_error(lambda: F.pdist(chainrule.tensor(x)), lambda: TF.pdist(torch.tensor(x)), "pdist only supports floating-point dtypes")


def test_local_response_norm_needs_a_positive_size():
    x = np.ones((1, 3, 4), dtype=np.float32)
    _same_error(
        lambda: F.local_response_norm(chainrule.tensor(x), 0),
        lambda: TF.local_response_norm(torch.tensor(x), 0),
        "kernel size should be greater than zero",
    )


def test_adaptive_pooling_finite_differences():
    x = chainrule.tensor(np.random.default_rng(1).standard_normal((1, 2, 5, 7)), requires_grad=True)
    assert gradcheck(lambda input: F.adaptive_avg_pool2d(input, (3, None)), (x,))
    assert gradcheck(lambda input: F.adaptive_max_pool2d(input, (None, 3)), (x,))
    assert gradcheck(lambda input: F.max_pool2d(input, 3, padding=1, dilation=2, ceil_mode=True), (x,))
