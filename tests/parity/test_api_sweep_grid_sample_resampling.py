"""A sweep of grid sampling and resampling against PyTorch (the oracle), deeper than the conv/pool and
functional sweeps: ``F.grid_sample`` in every mode x padding mode x ``align_corners`` on 4-D and 5-D
inputs with grids far outside [-1, 1] (several reflections), float64 gradients of input and grid,
nearest-mode ties, non-finite grid points, size-1 inputs, empty grids and batches, dtypes and
the errors PyTorch raises; ``F.affine_grid`` in 2-D and 3-D (sizes of 1, ``torch.Size``, dtypes,
gradients through a spatial transformer, size checks and warnings); ``F.interpolate`` /
``nn.Upsample`` / ``UpsamplingNearest2d`` / ``UpsamplingBilinear2d`` with non-integer and tuple
scale factors, ``recompute_scale_factor``, antialiased bilinear and bicubic resizing (down, up and
mixed, with ``align_corners``), identity and size-1 resizes, float16, empty tensors, module reprs
and the errors of bad arguments; ``F.pixel_unshuffle`` / ``nn.PixelUnshuffle``,
``F.channel_shuffle`` / ``nn.ChannelShuffle``; ``F.unfold`` / ``F.fold`` with dilation, padding and
stride, and their errors. What ``test_api_sweep_conv_pool.py`` checks already is left out.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, reprs, warning categories or exception types. Tests marked
``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an XPASS failure
the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import bug, bundle, raises_as_torch, same_in_both

NAN = float("nan")
INF = float("inf")


def data(shape, seed=0, low=None, high=None):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)


def with_grads(function, *arrays):
    """``run(L)``: ``function(L, *leaves)`` on float64 leaves made of ``arrays``, then the gradient
    of ``sum(w * out)`` with distinct weights ``w``: [out, grad of each leaf]."""
    def run(L):
        leaves = [L.tensor(array, dtype=L.float64, requires_grad=True) for array in arrays]
        out = function(L, *leaves)
        (out * L.tensor(data(tuple(out.shape), 99))).sum().backward()
        return [out] + [leaf.grad for leaf in leaves]
    return run


def warned(L, call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(L)
    return sorted({each.category.__name__ for each in caught})


IMAGE = np.arange(12.0).reshape(1, 1, 3, 4)


# --- grid_sample: every mode, padding mode and align_corners, far outside [-1, 1] -----------------

@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_4d_far_outside_with_input_and_grid_gradients(mode, padding_mode, align_corners):
    run = with_grads(lambda L, x, grid: L.nn.functional.grid_sample(x, grid, mode, padding_mode, align_corners),
                     data((2, 2, 4, 5)), data((2, 3, 4, 2), 1, -3.5, 3.5))
    same_in_both(run, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_5d_far_outside_with_input_and_grid_gradients(mode, padding_mode, align_corners):
    run = with_grads(lambda L, x, grid: L.nn.functional.grid_sample(
        x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners),
        data((2, 2, 3, 4, 3)), data((2, 2, 3, 2, 3), 2, -3.5, 3.5))
    same_in_both(run, rtol=1e-7, atol=1e-9)


def _grid(L, points, dtype="float32"):
    return L.tensor([[points]], dtype=getattr(L, dtype))


def _sample(L, points, **kwargs):
    return L.nn.functional.grid_sample(L.tensor(IMAGE, dtype=L.float32), _grid(L, points), **kwargs)


GRID_VALUE_CASES = {
    "identity_affine_reproduces_input": bundle(*[
        (lambda m, ac: lambda L: L.nn.functional.grid_sample(
            L.tensor(IMAGE, dtype=L.float32), L.nn.functional.affine_grid(L.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), [1, 1, 3, 4], ac),
            mode=m, align_corners=ac))(m, ac)
        for m in ("bilinear", "nearest", "bicubic") for ac in (False, True)]),
    "nearest_ties_round_half_to_even": bundle(
        # align_corners: pixel positions 0.5, 1.5, 2.5 across 4 columns; 0.5, 1.5 across 3 rows
        lambda L: _sample(L, [[-2 / 3, 0.0], [0.0, 0.0], [2 / 3, 0.0]], mode="nearest", align_corners=True),
        lambda L: _sample(L, [[-1.0, -0.5], [-1.0, 0.5]], mode="nearest", align_corners=True),
        lambda L: _sample(L, [[-0.5, -1 / 3], [0.0, 1 / 3], [0.5, 0.0]], mode="nearest", align_corners=False),
    ),
    "exact_edges_and_corners": bundle(*[
        (lambda m, p, ac: lambda L: _sample(L, [[-1.0, -1.0], [1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [0.0, 1.0]],
                                            mode=m, padding_mode=p, align_corners=ac))(m, p, ac)
        for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection") for ac in (False, True)]),
    "zeros_padding_non_finite_points": bundle(*[
        (lambda m, ac: lambda L: _sample(L, [[INF, 0.0], [-INF, 0.3], [0.2, INF], [NAN, 0.1], [0.5, NAN]],
                                         mode=m, padding_mode="zeros", align_corners=ac))(m, ac)
        for m in ("bilinear", "nearest", "bicubic") for ac in (False, True)]),
    "bicubic_non_finite_points_every_padding": bundle(*[
        (lambda p: lambda L: _sample(L, [[INF, 0.0], [-INF, 0.3], [NAN, 0.1], [0.5, -INF]], mode="bicubic",
                                     padding_mode=p, align_corners=False))(p)
        for p in ("border", "reflection")]),
    "border_infinite_points": bundle(*[
        (lambda m: lambda L: _sample(L, [[INF, 0.0], [-INF, 0.3], [0.2, INF], [0.5, -INF]], mode=m,
                                     padding_mode="border", align_corners=True))(m)
        for m in ("bilinear", "nearest")]),
    # PyTorch's 3-d kernel: nan goes to the far border, and a corner outside counts 0 even with a nan weight
    "volume_non_finite_points": bundle(*[
        (lambda m, p: lambda L: L.nn.functional.grid_sample(
            L.arange(24.0).reshape(1, 1, 2, 3, 4),
            L.tensor([[[[[NAN, 0.1, 0.2], [0.1, NAN, 0.3], [INF, 0.0, 0.1], [-INF, 0.3, 0.1], [0.1, 0.2, INF]]]]]),
            mode=m, padding_mode=p, align_corners=False))(m, p)
        for m in ("bilinear", "nearest") for p in ("zeros", "border", "reflection")]),
    "size_1_inputs_every_padding": bundle(*[
        (lambda m, p, ac, shape: lambda L: L.nn.functional.grid_sample(
            L.tensor(np.arange(float(np.prod(shape))).reshape(shape) + 1), _grid(L, [[-0.7, 0.3], [1.9, -2.6], [0.0, 0.0]], "float64"),
            mode=m, padding_mode=p, align_corners=ac))(m, p, ac, shape)
        for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection") for ac in (False, True)
        for shape in ((1, 1, 1, 1), (1, 2, 1, 3))]),
    "size_1_volumes_every_padding": bundle(*[
        (lambda m, p, ac: lambda L: L.nn.functional.grid_sample(
            L.tensor(np.arange(4.0).reshape(1, 2, 1, 2, 1) + 1), L.tensor(data((1, 1, 2, 2, 3), 8, -2.5, 2.5)),
            mode=m, padding_mode=p, align_corners=ac))(m, p, ac)
        for m in ("bilinear", "nearest") for p in ("zeros", "border", "reflection") for ac in (False, True)]),
    "float32_and_float16": bundle(
        lambda L: L.nn.functional.grid_sample(L.tensor(data((1, 2, 3, 4)), dtype=L.float32),
                                              L.tensor(data((1, 2, 3, 2), 3, -1.2, 1.2), dtype=L.float32), align_corners=False),
        lambda L: L.nn.functional.grid_sample(L.tensor(data((1, 2, 3, 4)), dtype=L.float32),
                                              L.tensor(data((1, 2, 3, 2), 3, -1.2, 1.2), dtype=L.float32), mode="bicubic",
                                              padding_mode="reflection", align_corners=True),
        lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 3, 3, dtype=L.float16), L.zeros(1, 2, 2, 2, dtype=L.float16),
                                              align_corners=False),
    ),
    "empty_grid_and_keyword_forms": bundle(
        lambda L: L.nn.functional.grid_sample(L.ones(1, 2, 3, 3), L.zeros(1, 0, 4, 2), align_corners=False),
        lambda L: L.nn.functional.grid_sample(L.ones(1, 2, 3, 3, 3), L.zeros(1, 2, 0, 1, 3), align_corners=True),
        lambda L: L.nn.functional.grid_sample(input=L.tensor(IMAGE), grid=L.tensor(data((1, 2, 2, 2), 4, -1, 1)),
                                              mode="nearest", padding_mode="border", align_corners=True),
    ),
    "non_contiguous_grid_and_input": lambda L: L.nn.functional.grid_sample(
        L.tensor(data((4, 3, 1, 2))).permute(3, 2, 1, 0), L.tensor(data((2, 3, 2, 2), 5, -1.5, 1.5)).transpose(1, 2),
        padding_mode="reflection", align_corners=False),
    "grid_gradient_of_nearest_is_zero_not_none": lambda L: (lambda g: (
        L.nn.functional.grid_sample(L.tensor(IMAGE, dtype=L.float64), g, mode="nearest", align_corners=False).sum().backward(),
        g.grad)[1])(L.tensor(data((1, 2, 2, 2), 6, -1, 1), requires_grad=True)),
    "only_grid_requires_grad": lambda L: (lambda g: (
        L.nn.functional.grid_sample(L.tensor(IMAGE, dtype=L.float64), g, mode="bicubic", align_corners=True).pow(2).sum().backward(),
        g.grad)[1])(L.tensor(data((1, 2, 2, 2), 7, -1.3, 1.3), requires_grad=True)),
}


@pytest.mark.parametrize("run", list(GRID_VALUE_CASES.values()), ids=list(GRID_VALUE_CASES))
def test_grid_sample_values(run):
    same_in_both(run)


def test_grid_sample_border_nan_point_reads_the_first_pixel():
    same_in_both(bundle(*[(lambda m: lambda L: _sample(L, [[NAN, 0.1]], mode=m, padding_mode="border", align_corners=False))(m)
                          for m in ("bilinear", "nearest")]))


def test_grid_sample_reflection_infinite_point_reads_the_first_pixel():
    same_in_both(bundle(*[(lambda m: lambda L: _sample(L, [[INF, 0.0], [-INF, 0.3], [0.2, INF]], mode=m,
                                                       padding_mode="reflection", align_corners=False))(m)
                          for m in ("bilinear", "nearest")]))


def test_grid_sample_empty_batch():
    same_in_both(lambda L: L.nn.functional.grid_sample(L.ones(0, 1, 3, 3), L.zeros(0, 2, 2, 2), align_corners=False))


def test_grid_sample_zero_channels():
    same_in_both(lambda L: L.nn.functional.grid_sample(L.ones(1, 0, 3, 3), L.zeros(1, 2, 2, 2), align_corners=False))


def test_grid_sample_integer_input_raises():
    raises_as_torch(lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 3, 3, dtype=L.int64), L.zeros(1, 2, 2, 2, dtype=L.int64),
                                                          align_corners=False))


def test_grid_sample_and_affine_grid_grad_fn_names():
    same_in_both(lambda L: [type(each.grad_fn).__name__ for each in (
        L.nn.functional.grid_sample(L.ones(1, 1, 3, 3, requires_grad=True), L.zeros(1, 2, 2, 2), align_corners=False),
        L.nn.functional.grid_sample(L.ones(1, 1, 2, 3, 3, requires_grad=True), L.zeros(1, 2, 2, 2, 3), align_corners=False),
        L.nn.functional.affine_grid(L.ones(1, 2, 3, requires_grad=True), [1, 1, 2, 3], align_corners=False))])


_EXACT_POINTS = [-3.0, -1.75, -1.25, -1.0, -0.75, -0.5, 0.0, 0.25, 0.75, 1.0, 1.5]
_EXACT_GRID = np.array([[x, y] for x in _EXACT_POINTS for y in _EXACT_POINTS]).reshape(1, 1, -1, 2)


@pytest.mark.parametrize("mode, padding_mode, align_corners", [
    ("bilinear", "zeros", False), ("bilinear", "zeros", True), ("bicubic", "border", True), ("bicubic", "reflection", False),
    ("nearest", "reflection", True), ("bilinear", "border", True), ("bilinear", "border", False),
    ("bilinear", "reflection", True), ("bilinear", "reflection", False),
])
def test_grid_sample_gradients_at_exact_pixel_and_border_points(mode, padding_mode, align_corners):
    run = with_grads(lambda L, x, grid: L.nn.functional.grid_sample(x, grid, mode, padding_mode, align_corners),
                     data((1, 2, 4, 4)), _EXACT_GRID)
    same_in_both(run, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("padding_mode, align_corners", [("zeros", True), ("zeros", False), ("border", True), ("reflection", False)])
def test_spatial_transformer_identity_theta_gradient(padding_mode, align_corners):
    def run(L, theta):
        x = L.tensor(data((1, 1, 4, 5)))
        grid = L.nn.functional.affine_grid(theta, [1, 1, 4, 5], align_corners=align_corners)
        return L.nn.functional.grid_sample(x, grid, padding_mode=padding_mode, align_corners=align_corners)
    same_in_both(with_grads(run, [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("mode, padding_mode, align_corners, dims", [
    ("bilinear", "zeros", False, 2), ("bilinear", "border", True, 2), ("bilinear", "reflection", False, 2),
    ("bicubic", "zeros", True, 2), ("bicubic", "reflection", False, 2), ("nearest", "border", False, 2),
    ("bilinear", "zeros", True, 3), ("bilinear", "reflection", False, 3),
])
def test_grid_sample_second_derivatives(mode, padding_mode, align_corners, dims):
    """The gradients of the input's and the grid's gradients (create_graph), as PyTorch's double backward."""
    shape, grid_shape = ((2, 2, 4, 5), (2, 3, 2, 2)) if dims == 2 else ((1, 2, 3, 4, 3), (1, 2, 2, 3, 3))

    def run(L):
        x = L.tensor(data(shape), requires_grad=True)
        grid = L.tensor(data(grid_shape, 1, -1.6, 1.6), requires_grad=True)
        out = L.nn.functional.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
        grad_x, grad_grid = L.autograd.grad((out.pow(2) * L.tensor(data(tuple(out.shape), 99))).sum(), (x, grid),
                                            create_graph=True)
        mixed = (grad_x * L.tensor(data(shape, 3))).sum() + (grad_grid * L.tensor(data(grid_shape, 4))).sum()
        return [grad_x, grad_grid, *L.autograd.grad(mixed, (x, grid))]
    same_in_both(run, rtol=1e-7, atol=1e-9)


GRID_RAISES_CASES = {
    "3d_input": lambda L: L.nn.functional.grid_sample(L.ones(1, 3, 3), L.zeros(1, 2, 2), align_corners=False),
    "bicubic_5d": lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 3, 3, 3), L.zeros(1, 2, 2, 2, 3), mode="bicubic",
                                                        align_corners=True),
    "dtype_mismatch": lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 3, 3), L.zeros(1, 2, 2, 2, dtype=L.float64),
                                                            align_corners=True),
    "bad_mode": lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 3, 3), L.zeros(1, 2, 2, 2), mode="area", align_corners=True),
    "bad_padding_mode": lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 3, 3), L.zeros(1, 2, 2, 2), padding_mode="circular",
                                                              align_corners=True),
    "5d_grid_last_dim_2": lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 3, 3, 3), L.zeros(1, 2, 2, 2, 2), align_corners=True),
    "grid_rank_mismatch": lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 3, 3), L.zeros(1, 2, 2, 2, 2), align_corners=True),
    "empty_spatial_input": lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 0, 3), L.zeros(1, 2, 2, 2), align_corners=True),
}


@pytest.mark.parametrize("run", list(GRID_RAISES_CASES.values()), ids=list(GRID_RAISES_CASES))
def test_grid_sample_raises_as_torch(run):
    raises_as_torch(run)


# --- affine_grid ---------------------------------------------------------------------------------

T2 = [[[0.8, -0.4, 0.1], [0.3, 1.1, -0.25]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]
T3 = [[[0.9, -0.1, 0.1, 0.05], [0.2, 1.1, 0.0, -0.2], [0.0, 0.1, 0.8, 0.1]]]

AFFINE_VALUE_CASES = {
    "2d_sizes_and_corners": bundle(*[
        (lambda size, ac: lambda L: L.nn.functional.affine_grid(L.tensor(T2), size, align_corners=ac))(size, ac)
        for size in ([2, 3, 4, 5], (2, 1, 1, 6), [2, 1, 5, 1], [2, 1, 1, 1]) for ac in (False, True)]),
    "3d_sizes_and_corners": bundle(*[
        (lambda size, ac: lambda L: L.nn.functional.affine_grid(L.tensor(T3), size, align_corners=ac))(size, ac)
        for size in ([1, 2, 3, 4, 2], (1, 1, 1, 3, 2), [1, 1, 2, 1, 1]) for ac in (False, True)]),
    "size_forms_and_positional_align_corners": bundle(
        lambda L: L.nn.functional.affine_grid(L.tensor(T2), L.Size([2, 3, 2, 3]), False),
        lambda L: L.nn.functional.affine_grid(theta=L.tensor(T2), size=(2, 3, 2, 3), align_corners=True),
        lambda L: L.nn.functional.affine_grid(L.tensor(T2), L.ones(2, 3, 2, 3).shape, align_corners=True),
    ),
    "dtypes": bundle(
        lambda L: L.nn.functional.affine_grid(L.tensor(T2, dtype=L.float64), [2, 1, 2, 3], align_corners=False),
        lambda L: L.nn.functional.affine_grid(L.tensor(T3, dtype=L.float16), [1, 1, 2, 2, 3], align_corners=False),
        lambda L: L.nn.functional.affine_grid(L.tensor(T2).double(), [2, 1, 3, 2], align_corners=True),
    ),
}


@pytest.mark.parametrize("name", list(AFFINE_VALUE_CASES))
def test_affine_grid_values(name):
    same_in_both(AFFINE_VALUE_CASES[name], rtol=1e-3 if name == "dtypes" else 1e-5)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_3d_theta_gradient(align_corners):
    same_in_both(with_grads(lambda L, theta: L.nn.functional.affine_grid(theta, [1, 2, 3, 2, 4], align_corners=align_corners),
                            T3), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dims, mode, padding_mode, align_corners", [
    (2, "bilinear", "zeros", False), (2, "bicubic", "border", True), (2, "bilinear", "reflection", True),
    (3, "bilinear", "zeros", True), (3, "bilinear", "reflection", False),
])
def test_spatial_transformer_gradients_reach_theta_and_input(dims, mode, padding_mode, align_corners):
    """A spatial transformer: affine_grid from θ, then grid_sample; gradients of θ and the input."""
    theta = np.array(T2[:1]) * 1.4 if dims == 2 else np.array(T3) * 1.3
    shape = (1, 2, 4, 5) if dims == 2 else (1, 2, 3, 4, 3)
    out_size = [1, 2, 3, 4] if dims == 2 else [1, 2, 2, 3, 3]

    def run(L, x, theta):
        grid = L.nn.functional.affine_grid(theta, out_size, align_corners=align_corners)
        return L.nn.functional.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    same_in_both(with_grads(run, data(shape), theta), rtol=1e-7, atol=1e-9)


AFFINE_RAISES_CASES = {
    "int_theta": lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3, dtype=L.int64), (1, 1, 2, 3), align_corners=True),
    "2d_theta": lambda L: L.nn.functional.affine_grid(L.zeros(2, 3), (1, 1, 2, 3), align_corners=True),
    "3d_theta_for_4d_size": lambda L: L.nn.functional.affine_grid(L.zeros(1, 3, 4), (1, 1, 2, 3), align_corners=True),
    "2d_theta_for_5d_size": lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3), (1, 1, 2, 3, 4), align_corners=True),
    "3_element_size": lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3), (1, 2, 3), align_corners=True),
    "6_element_size": lambda L: L.nn.functional.affine_grid(L.zeros(1, 3, 4), (1, 1, 2, 3, 4, 5), align_corners=True),
    "zero_size": lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3), (1, 1, 0, 3), align_corners=True),
    "negative_size": lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3), (1, 1, -1, 3), align_corners=True),
    "empty_batch": lambda L: L.nn.functional.affine_grid(L.zeros(0, 2, 3), (0, 1, 2, 3), align_corners=True),
    "batch_mismatch": lambda L: L.nn.functional.affine_grid(L.zeros(2, 2, 3), (1, 1, 2, 3), align_corners=True),
}


@pytest.mark.parametrize("run", list(AFFINE_RAISES_CASES.values()), ids=list(AFFINE_RAISES_CASES))
def test_affine_grid_raises_as_torch(run):
    raises_as_torch(run)


def test_grid_sample_and_affine_grid_warnings():
    calls = [
        lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 2, 2), L.zeros(1, 1, 1, 2)),
        lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 2, 2), L.zeros(1, 1, 1, 2), align_corners=False),
        lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 2, 2, 2), L.zeros(1, 1, 1, 1, 3), mode="nearest"),
        lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3), [1, 1, 2, 2]),
        lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3), [1, 1, 2, 2], align_corners=True),
        lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3), [1, 1, 1, 2], align_corners=True),
        lambda L: L.nn.functional.affine_grid(L.zeros(1, 3, 4), [1, 1, 2, 1, 2], align_corners=True),
        lambda L: L.nn.functional.affine_grid(L.zeros(1, 2, 3), [1, 1, 1, 2], align_corners=False),
    ]
    assert [warned(chainrule, call) for call in calls] == [warned(torch, call) for call in calls]


# --- interpolate: non-integer and tuple scales, recompute_scale_factor, antialias -------------------

_INTERP = [
    # nearest / nearest-exact at awkward scales, with and without recompute_scale_factor
    ((1, 2, 7), dict(scale_factor=0.3, mode="nearest")),
    ((1, 2, 7), dict(scale_factor=1 / 3, mode="nearest", recompute_scale_factor=False)),
    ((1, 2, 5, 6), dict(scale_factor=(1.7, 0.45), mode="nearest")),
    ((1, 2, 5, 6), dict(scale_factor=(1.7, 0.45), mode="nearest", recompute_scale_factor=True)),
    ((1, 1, 3, 4, 5), dict(scale_factor=(0.7, 1.6, 2.3), mode="nearest-exact")),
    ((1, 2, 5), dict(scale_factor=2.6, mode="nearest-exact", recompute_scale_factor=True)),
    ((1, 2, 3, 3), dict(size=(6, 6), mode="nearest", scale_factor=None)),
    # linear family
    ((1, 2, 6), dict(scale_factor=0.55, mode="linear", align_corners=True)),
    ((2, 1, 4, 5), dict(scale_factor=[1.25, 2.75], mode="bilinear")),
    ((1, 1, 3, 4, 3), dict(scale_factor=(1.5, 0.5, 2.2), mode="trilinear")),
    ((1, 1, 3, 4, 3), dict(scale_factor=(1.5, 0.5, 2.2), mode="trilinear", recompute_scale_factor=True)),
    ((1, 1, 3, 4, 3), dict(size=(1, 4, 5), mode="trilinear", align_corners=True)),
    ((1, 2, 4, 5), dict(scale_factor=1.0, mode="bilinear")),
    ((1, 2, 4, 5), dict(size=(4, 5), mode="bilinear", align_corners=True)),
    ((1, 2, 1, 1), dict(size=(3, 4), mode="bilinear")),
    # bicubic
    ((1, 2, 4, 5), dict(scale_factor=1.0, mode="bicubic")),
    ((1, 2, 4, 5), dict(size=(4, 7), mode="bicubic")),
    ((1, 1, 7, 6), dict(scale_factor=0.35, mode="bicubic")),
    ((1, 1, 4, 5), dict(scale_factor=1.5, mode="bicubic", align_corners=True)),
    ((1, 1, 4, 5), dict(size=(1, 1), mode="bicubic", align_corners=True)),
    ((1, 1, 1, 2), dict(size=(3, 5), mode="bicubic")),
    # area
    ((1, 2, 9), dict(scale_factor=0.4, mode="area")),
    ((1, 2, 3, 4), dict(size=(5, 7), mode="area")),
    ((1, 1, 4, 5, 6), dict(scale_factor=(0.5, 0.75, 1.5), mode="area")),
    ((1, 2, 7, 6), dict(scale_factor=0.45, mode="area", recompute_scale_factor=True)),
]


@pytest.mark.parametrize("shape, kwargs", _INTERP, ids=[f"{c[1]['mode']}-{i}" for i, c in enumerate(_INTERP)])
def test_interpolate_values_and_gradients(shape, kwargs):
    same_in_both(with_grads(lambda L, x: L.nn.functional.interpolate(x, **kwargs), data(shape)), rtol=1e-7, atol=1e-9)


_ANTIALIAS = [
    ((1, 2, 9, 8), dict(scale_factor=0.5, mode="bilinear")),
    ((1, 1, 10, 7), dict(scale_factor=0.3, mode="bilinear")),
    ((1, 1, 9, 9), dict(scale_factor=(0.5, 0.25), mode="bilinear")),
    ((1, 1, 9, 8), dict(scale_factor=0.45, mode="bilinear", recompute_scale_factor=True)),
    ((2, 1, 9, 8), dict(size=(4, 3), mode="bilinear", align_corners=True)),
    ((1, 1, 7, 5), dict(size=(1, 1), mode="bilinear")),
    ((1, 1, 7, 5), dict(size=(2, 9), mode="bilinear")),  # down in one dimension, up in the other
    ((1, 1, 3, 4), dict(scale_factor=2.5, mode="bilinear")),  # up: the plain filter
    ((1, 2, 9, 8), dict(scale_factor=0.5, mode="bicubic")),
    ((1, 1, 11, 7), dict(size=(3, 2), mode="bicubic")),
    ((1, 1, 9, 8), dict(size=(4, 3), mode="bicubic", align_corners=True)),
    ((1, 1, 7, 5), dict(size=(2, 9), mode="bicubic")),
    ((1, 1, 3, 4), dict(scale_factor=1.8, mode="bicubic")),
    ((1, 1, 6, 6), dict(size=(1, 1), mode="bicubic")),
    ((1, 1, 5, 6), dict(size=(5, 6), mode="bicubic")),
    ((1, 2, 9, 8), dict(scale_factor=0.5, mode="lanczos")),
    ((1, 1, 7, 5), dict(size=(2, 9), mode="lanczos")),
    ((1, 1, 3, 4), dict(scale_factor=1.8, mode="lanczos")),
]


@pytest.mark.parametrize("shape, kwargs", _ANTIALIAS, ids=[f"{c[1]['mode']}-{i}" for i, c in enumerate(_ANTIALIAS)])
def test_interpolate_antialias_values_and_gradients(shape, kwargs):
    same_in_both(with_grads(lambda L, x: L.nn.functional.interpolate(x, antialias=True, **kwargs), data(shape)),
                 rtol=1e-7, atol=1e-9)


INTERP_VALUE_CASES = {
    "antialias_float32": bundle(
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 3, 9, 10)), dtype=L.float32), size=(4, 3), mode="bilinear",
                                              antialias=True),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 3, 9, 10)), dtype=L.float32), scale_factor=0.4, mode="bicubic",
                                              antialias=True),
    ),
    "antialias_equals_plain_when_upsampling_bilinear": lambda L: (lambda x: [
        L.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", antialias=True),
        L.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", antialias=False)])(L.tensor(data((1, 1, 3, 4)))),
    "size_forms": bundle(
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 3, 4))), size=L.Size([5, 2]), mode="bilinear"),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 3, 4))), size=[5, 2]),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 3, 4))), 5, None, "bicubic", False),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 2, 3, 4))), size=3, mode="trilinear"),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 4))), size=(7,), mode="linear"),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 4))), scale_factor=(1.5,), mode="nearest-exact"),
    ),
    "float16": bundle(
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 3, 4)), dtype=L.float16), scale_factor=2, mode="bilinear"),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 3, 4)), dtype=L.float16), size=(5, 7), mode="nearest"),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 4)), dtype=L.float16), scale_factor=1.5, mode="linear"),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 4, 4)), dtype=L.float16), scale_factor=0.5, mode="area"),
    ),
    "empty_batch_every_mode": bundle(*[
        (lambda shape, kwargs: lambda L: L.nn.functional.interpolate(L.ones(shape), **kwargs))(shape, kwargs)
        for shape, kwargs in [((0, 2, 4), dict(size=3, mode="linear")), ((0, 2, 4, 4), dict(scale_factor=0.5, mode="bicubic")),
                              ((0, 1, 4, 4), dict(size=(2, 3), mode="bilinear", antialias=True)),
                              ((0, 1, 2, 2, 2), dict(scale_factor=2, mode="trilinear")),
                              ((0, 1, 4, 4), dict(size=3, mode="area")), ((0, 1, 4), dict(size=7, mode="nearest-exact"))]]),
    "integer_scale_factor_types": bundle(
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 3))), scale_factor=2, mode="linear"),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 3, 2))), scale_factor=(2, 3)),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 3, 2))), scale_factor=np.float64(1.5), mode="bilinear"),
    ),
}


@pytest.mark.parametrize("name", list(INTERP_VALUE_CASES))
def test_interpolate_values(name):
    tolerance = dict(rtol=2e-3, atol=2e-3) if name == "float16" else {}
    same_in_both(INTERP_VALUE_CASES[name], **tolerance)


_QUIRK = ("(PyTorch's own backward is not the adjoint of its forward here; matching it means copying that quirk)")


def forward_as_torch_and_gradient_of_own_forward(function, shape):
    """Where PyTorch's backward is not the derivative of its own forward: chainrule's values equal
    PyTorch's, and chainrule's float64 gradient is the finite-difference derivative of its forward."""
    same_in_both(lambda L: function(L, L.tensor(data(shape), dtype=L.float64)), rtol=1e-7, atol=1e-9)
    x = chainrule.tensor(data(shape), dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x: function(chainrule, x), (x,), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape, kwargs", [
    ((1, 1, 3, 1), dict(scale_factor=(2.11, 1))),  # 4-D: forward and backward both read i // 2
    ((1, 1, 3), dict(scale_factor=2.11, recompute_scale_factor=True)),
    ((1, 1, 3), dict(scale_factor=3.11)),
])
def test_interpolate_nearest_gradient_when_sizes_stay_or_double(shape, kwargs):
    same_in_both(with_grads(lambda L, x: L.nn.functional.interpolate(x, mode="nearest", **kwargs), data(shape)),
                 rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape, kwargs", [
    # PyTorch's forward reads floor(i / 2.11) = [0, 0, 0, 1, 1, 2], its backward routes the gradient as i // 2
    ((1, 1, 3), dict(scale_factor=2.11)),
    # PyTorch's forward reads [0, 0, 1, 2], its backward copies the gradient (output size = input size)
    ((1, 1, 4), dict(scale_factor=1.08)),
    # PyTorch's 3-d backward routes as i // 2 and copies the kept dimensions, its forward reads floor(i / 2.11)
    ((1, 1, 1, 3, 2), dict(scale_factor=(1, 2.11, 1))),
])
def test_interpolate_nearest_gradient_is_its_forwards_derivative(shape, kwargs):
    forward_as_torch_and_gradient_of_own_forward(lambda L, x: L.nn.functional.interpolate(x, mode="nearest", **kwargs), shape)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_interpolate_antialias_gradient_when_sizes_stay_with_scale_factor(mode):
    # PyTorch's forward copies the input (sizes stay) but its backward applies the 1 / 1.22 antialiasing filter
    forward_as_torch_and_gradient_of_own_forward(
        lambda L, x: L.nn.functional.interpolate(x, scale_factor=(1.22, 1), mode=mode, antialias=True), (1, 1, 3, 3))


def test_interpolate_bicubic_gradient_when_both_sizes_stay_with_scale_factor():
    # PyTorch's forward resamples with scale 1 / 1.15 (sizes stay) but its backward copies the gradient
    forward_as_torch_and_gradient_of_own_forward(
        lambda L, x: L.nn.functional.interpolate(x, scale_factor=1.15, mode="bicubic"), (1, 1, 1, 5))


@bug("interpolate antialias=True to an output width of 1 while the height changes ((1, 1, 5, 2) -> (9, 1), bilinear or "
     "bicubic): PyTorch's forward repeats the first output row ([0.5] * 9 for arange input) while its backward is that of "
     "the proper resize; chainrule resizes properly ([0.5, 1.17, ..., 8.5]) " + _QUIRK)
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias_to_width_1(mode):
    same_in_both(lambda L: L.nn.functional.interpolate(L.arange(10.0).reshape(1, 1, 5, 2), size=(9, 1), mode=mode,
                                                       antialias=True))


def test_interpolate_lanczos_mode():
    same_in_both(bundle(
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 8, 6))), size=(3, 4), mode="lanczos", antialias=True),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 2, 9, 10)), dtype=L.float32), scale_factor=0.4, mode="lanczos",
                                              antialias=True),
        lambda L: L.nn.functional.interpolate(L.tensor(data((1, 1, 8, 6), 0, 0, 255), dtype=L.uint8), size=(13, 4), mode="lanczos",
                                              antialias=True),
        lambda L: type(L.nn.functional.interpolate(L.ones(1, 1, 4, 4, requires_grad=True), size=3, mode="lanczos",
                                                   antialias=True).grad_fn).__name__,
    ))


INTERP_RAISES_CASES = {
    "2d_input": lambda L: L.nn.functional.interpolate(L.ones(4, 4), scale_factor=2),
    "6d_input": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 2, 2, 2, 2), scale_factor=2),
    "negative_scale": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), scale_factor=-2),
    "tiny_scale_to_zero": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4), scale_factor=1e-3),
    "size_with_none": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), size=(2, None)),
    "recompute_with_size": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), size=3, recompute_scale_factor=True),
    "align_corners_false_with_area": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), size=3, mode="area",
                                                                           align_corners=False),
    "align_corners_false_with_nearest_exact": lambda L: L.nn.functional.interpolate(
        L.ones(1, 1, 4, 4), size=3, mode="nearest-exact", align_corners=False),
    "antialias_linear_3d": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4), size=3, mode="linear", antialias=True),
    "antialias_trilinear": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4, 4), size=3, mode="trilinear", antialias=True),
    "antialias_nearest": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), size=3, mode="nearest", antialias=True),
    "antialias_area": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), size=3, mode="area", antialias=True),
    "lanczos_without_antialias": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), size=3, mode="lanczos"),
    "lanczos_align_corners": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), size=3, mode="lanczos", antialias=True,
                                                                   align_corners=True),
    "lanczos_3d": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4), size=3, mode="lanczos", antialias=True),
    "lanczos_float16": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4, dtype=L.float16), size=3, mode="lanczos",
                                                             antialias=True),
    "nearest_zero_channels": lambda L: L.nn.functional.interpolate(L.ones(1, 0, 4), size=3),
    "trilinear_empty_spatial": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 2, 0, 2), size=3, mode="trilinear"),
    "scale_factor_string": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), scale_factor="2"),
    "scale_factor_array": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), scale_factor=np.array(2.0)),
    "antialias_int64": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4, dtype=L.int64), size=3, mode="bilinear",
                                                             antialias=True),
    "trilinear_on_4d": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), size=3, mode="trilinear"),
    "linear_on_5d": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 2, 2, 2), size=3, mode="linear"),
    "area_int64": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4, dtype=L.int64), scale_factor=0.5, mode="area"),
    "nearest_int64": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4, dtype=L.int64), scale_factor=2),
    "trilinear_uint8": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 2, 4, 4, dtype=L.uint8), scale_factor=2,
                                                             mode="trilinear"),
    "bilinear_empty_spatial": lambda L: L.nn.functional.interpolate(L.ones(1, 1, 0, 4), scale_factor=2, mode="bilinear"),
    "upsample_module_no_size_or_scale": lambda L: L.nn.Upsample()(L.ones(1, 1, 2, 2)),
    "upsample_module_scale_zero": lambda L: L.nn.Upsample(scale_factor=0)(L.ones(1, 1, 2, 2)),
    "upsampling_bilinear_on_3d": lambda L: L.nn.UpsamplingBilinear2d(scale_factor=2)(L.ones(1, 1, 4)),
}


@pytest.mark.parametrize("run", list(INTERP_RAISES_CASES.values()), ids=list(INTERP_RAISES_CASES))
def test_interpolate_raises_as_torch(run):
    raises_as_torch(run)


def test_interpolate_tensor_scale_factor_raises():
    raises_as_torch(lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4, 4), scale_factor=L.tensor(2.0)))


def test_interpolate_nearest_of_empty_spatial_input_raises():
    raises_as_torch(lambda L: L.nn.functional.interpolate(L.ones(1, 1, 0, 4), size=(2, 2), mode="nearest"))


@pytest.mark.parametrize("kwargs", [dict(mode="bicubic"), dict(mode="bilinear", antialias=True)], ids=["bicubic", "antialias"])
def test_interpolate_zero_channels_raises(kwargs):
    raises_as_torch(lambda L: L.nn.functional.interpolate(L.ones(1, 0, 4, 4), scale_factor=0.5, **kwargs))


# --- Upsample modules ------------------------------------------------------------------------------

def test_upsample_modules_reprs_attributes_values_and_gradients():
    def run(L):
        nn = L.nn
        modules = [nn.Upsample(size=5, mode="linear"), nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True),
                   nn.Upsample(scale_factor=1.5, mode="nearest-exact", recompute_scale_factor=True),
                   nn.Upsample(size=(2, 3, 2), mode="trilinear"), nn.Upsample(scale_factor=0.5, mode="area"),
                   nn.UpsamplingNearest2d(size=(3, 4)), nn.UpsamplingBilinear2d(scale_factor=2)]
        inputs = [(1, 2, 3), (1, 1, 2, 3), (1, 1, 3, 3), (1, 1, 3, 2, 2), (1, 1, 4, 6), (1, 2, 2, 3), (1, 1, 2, 3)]
        result = []
        for index, (module, shape) in enumerate(zip(modules, inputs)):
            x = L.tensor(data(shape, index), requires_grad=True)
            out = module(x)
            (out * L.tensor(data(tuple(out.shape), 99))).sum().backward()
            result += [repr(module), module.name, module.size, module.scale_factor, module.mode, module.align_corners,
                       module.recompute_scale_factor, list(module.state_dict()), out, x.grad]
        return result
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_upsampling_legacy_modules_match_interpolate():
    def run(L):
        x = L.tensor(data((1, 2, 3, 4)))
        F = L.nn.functional
        return [L.nn.UpsamplingBilinear2d(size=(5, 7))(x) - F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True),
                L.nn.UpsamplingNearest2d(scale_factor=2.5)(x) - F.interpolate(x, scale_factor=2.5),
                F.upsample_bilinear(x, size=(5, 7)), F.upsample_nearest(x, size=(5, 7)),
                F.upsample(x, size=(5, 7), mode="bicubic", align_corners=True)]
    same_in_both(run)


def test_upsample_list_scale_factor_raises():
    raises_as_torch(lambda L: L.nn.Upsample(scale_factor=[2, 3]))


# --- pixel_unshuffle / channel_shuffle -------------------------------------------------------------

SHUFFLE_VALUE_CASES = {
    "pixel_unshuffle_factors": bundle(
        lambda L: L.nn.functional.pixel_unshuffle(L.arange(36.0).reshape(1, 1, 6, 6), 3),
        lambda L: L.nn.functional.pixel_unshuffle(L.arange(24.0).reshape(2, 3, 4), 1),
        lambda L: L.nn.functional.pixel_unshuffle(L.arange(32.0).reshape(2, 4, 4), 2),  # unbatched
        lambda L: L.nn.functional.pixel_unshuffle(L.arange(96.0).reshape(2, 2, 1, 4, 6), 2),
        lambda L: L.pixel_unshuffle(L.arange(16).reshape(1, 1, 4, 4), 2),
        lambda L: L.nn.functional.pixel_unshuffle(L.arange(16).reshape(1, 1, 4, 4) % 2 == 0, 2),
        lambda L: L.nn.PixelUnshuffle(downscale_factor=2)(L.arange(16.0).reshape(1, 4, 4)),
        lambda L: [repr(L.nn.PixelUnshuffle(3)), L.nn.PixelUnshuffle(3).downscale_factor],
    ),
    "pixel_shuffle_round_trip_dtypes": bundle(
        lambda L: L.nn.functional.pixel_shuffle(L.nn.functional.pixel_unshuffle(L.arange(72).reshape(2, 6, 6), 3), 3),
        lambda L: L.nn.functional.pixel_shuffle(L.arange(8, dtype=L.int32).reshape(1, 8, 1, 1), 2),
        lambda L: L.nn.functional.pixel_unshuffle(L.arange(16, dtype=L.uint8).reshape(1, 1, 4, 4), 2),
    ),
    "channel_shuffle": bundle(
        lambda L: L.nn.functional.channel_shuffle(L.arange(24.0).reshape(1, 6, 2, 2), 2),
        lambda L: L.nn.functional.channel_shuffle(L.arange(24.0).reshape(1, 6, 2, 2), 3),
        lambda L: L.nn.functional.channel_shuffle(L.arange(24.0).reshape(1, 6, 4), 6),
        lambda L: L.nn.functional.channel_shuffle(L.arange(12.0).reshape(2, 6, 1), 1),
        lambda L: L.nn.functional.channel_shuffle(L.arange(8).reshape(1, 4, 2), 2),
        lambda L: L.nn.functional.channel_shuffle(L.arange(24.0).reshape(1, 4, 3, 2, 1), 4),
        lambda L: L.channel_shuffle(L.arange(16.0).reshape(2, 4, 2), 2),
        lambda L: L.nn.ChannelShuffle(3)(L.arange(18.0).reshape(1, 6, 3)),
        lambda L: [repr(L.nn.ChannelShuffle(3)), L.nn.ChannelShuffle(3).groups, list(L.nn.ChannelShuffle(3).state_dict())],
    ),
    "shuffle_gradients": lambda L: [with_grads(lambda L, x: L.nn.functional.pixel_unshuffle(x, 2), data((2, 3, 4, 6)))(L),
                                    with_grads(lambda L, x: L.nn.functional.channel_shuffle(x, 3), data((2, 6, 2, 2)))(L),
                                    with_grads(lambda L, x: L.nn.ChannelShuffle(2)(x), data((1, 4, 3)))(L)],
}


@pytest.mark.parametrize("run", list(SHUFFLE_VALUE_CASES.values()), ids=list(SHUFFLE_VALUE_CASES))
def test_shuffle_values(run):
    same_in_both(run)


def test_pixel_unshuffle_of_empty_tensor_keeps_shape():
    same_in_both(bundle(lambda L: L.nn.functional.pixel_unshuffle(L.ones(0, 1, 4, 4), 2),
                        lambda L: L.nn.functional.pixel_unshuffle(L.ones(1, 1, 0, 4), 2)))


SHUFFLE_RAISES_CASES = {
    "pixel_unshuffle_2d": lambda L: L.nn.functional.pixel_unshuffle(L.ones(4, 4), 2),
    "pixel_unshuffle_zero": lambda L: L.nn.functional.pixel_unshuffle(L.ones(1, 1, 4, 4), 0),
    "pixel_unshuffle_negative": lambda L: L.nn.functional.pixel_unshuffle(L.ones(1, 1, 4, 4), -2),
    "pixel_unshuffle_width_not_divisible": lambda L: L.nn.functional.pixel_unshuffle(L.ones(1, 1, 4, 6), 4),
    "channel_shuffle_2d": lambda L: L.nn.functional.channel_shuffle(L.ones(2, 4), 2),
    "channel_shuffle_not_divisible": lambda L: L.nn.functional.channel_shuffle(L.ones(1, 4, 3), 3),
    "channel_shuffle_zero_groups": lambda L: L.nn.functional.channel_shuffle(L.ones(1, 4, 3), 0),
    "channel_shuffle_negative_groups": lambda L: L.nn.functional.channel_shuffle(L.ones(1, 4, 3), -2),
}


@pytest.mark.parametrize("run", list(SHUFFLE_RAISES_CASES.values()), ids=list(SHUFFLE_RAISES_CASES))
def test_shuffle_raises_as_torch(run):
    raises_as_torch(run)


# --- unfold / fold ---------------------------------------------------------------------------------

_FOLD = [
    ((1, 2, 7, 8), dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(3, 2))),
    ((2, 1, 6, 6), dict(kernel_size=2, stride=3)),  # stride past the kernel: some pixels never read
    ((1, 1, 4, 5), dict(kernel_size=3, padding=3, dilation=2)),  # padding larger than the kernel
    ((1, 3, 5, 5), dict(kernel_size=(1, 2), dilation=(1, 3), stride=(2, 1))),
    ((3, 6, 5), dict(kernel_size=(3, 2), padding=(1, 0), stride=(1, 2))),  # unbatched
]


@pytest.mark.parametrize("shape, kwargs", _FOLD, ids=[str(i) for i in range(len(_FOLD))])
def test_unfold_then_fold_with_gradients(shape, kwargs):
    def run(L, x):
        patches = L.nn.functional.unfold(x, **kwargs)
        return L.nn.functional.fold(patches * patches, shape[-2:], **kwargs)
    same_in_both(with_grads(run, data(shape)), rtol=1e-7, atol=1e-9)


FOLD_VALUE_CASES = {
    "fold_unbatched_int_output_size_and_positional": bundle(
        lambda L: L.nn.functional.fold(L.arange(36.0).reshape(4, 9), 4, 2),
        lambda L: L.nn.functional.fold(L.arange(36.0).reshape(1, 4, 9), (4, 4), (2, 2), 1, 0, 1),
        lambda L: L.nn.functional.fold(L.arange(32.0).reshape(2, 4, 4), output_size=(3, 5), kernel_size=(2, 2), stride=(1, 3)),
        lambda L: L.nn.functional.unfold(L.arange(25.0).reshape(1, 1, 5, 5), (2, 3), 1, 1, 2),
    ),
    "dtypes_and_empty": bundle(
        lambda L: L.nn.functional.unfold(L.ones(1, 1, 4, 4, dtype=L.bool), 2),
        lambda L: L.nn.functional.unfold(L.tensor(data((1, 1, 3, 3)), dtype=L.float64), 2),
        lambda L: L.nn.functional.fold(L.ones(0, 4, 4), 3, 2),
    ),
    "module_reprs_and_attributes": lambda L: [
        repr(L.nn.Fold((4, 5), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))), repr(L.nn.Unfold(3, 2, 1, 2)),
        L.nn.Unfold((2, 3), stride=2).kernel_size, L.nn.Unfold((2, 3), stride=2).stride, L.nn.Fold(4, 2).output_size,
        L.nn.Fold(4, 2, padding=(1, 0)).padding, list(L.nn.Fold(4, 2).state_dict())],
}


@pytest.mark.parametrize("run", list(FOLD_VALUE_CASES.values()), ids=list(FOLD_VALUE_CASES))
def test_fold_values(run):
    same_in_both(run)


def test_unfold_empty_batch():
    same_in_both(lambda L: L.nn.functional.unfold(L.ones(0, 1, 4, 4), 2))


FOLD_RAISES_CASES = {
    "unfold_2d_input": lambda L: L.nn.functional.unfold(L.ones(4, 4), 2),
    "unfold_zero_channels": lambda L: L.nn.functional.unfold(L.ones(1, 0, 4, 4), 2),
    "unfold_empty_height": lambda L: L.nn.functional.unfold(L.ones(1, 1, 0, 4), 1, padding=1),
    "fold_4d_input": lambda L: L.nn.functional.fold(L.ones(1, 4, 4, 4), 3, 2),
    "unfold_kernel_zero": lambda L: L.nn.functional.unfold(L.ones(1, 1, 4, 4), 0),
    "unfold_stride_zero": lambda L: L.nn.functional.unfold(L.ones(1, 1, 4, 4), 2, stride=0),
    "unfold_dilation_zero": lambda L: L.nn.functional.unfold(L.ones(1, 1, 4, 4), 2, dilation=0),
    "unfold_negative_padding": lambda L: L.nn.functional.unfold(L.ones(1, 1, 4, 4), 2, padding=-1),
    "fold_output_size_3_elements": lambda L: L.nn.functional.fold(L.ones(1, 4, 4), (3, 3, 3), 2),
    "unfold_int64": lambda L: L.nn.functional.unfold(L.ones(1, 1, 4, 4, dtype=L.int64), 2),
    "fold_int64": lambda L: L.nn.functional.fold(L.ones(1, 4, 4, dtype=L.int64), 3, 2),
    "fold_dilated_kernel_too_big": lambda L: L.nn.functional.fold(L.ones(1, 4, 1), 3, 2, dilation=3),
}


@pytest.mark.parametrize("run", list(FOLD_RAISES_CASES.values()), ids=list(FOLD_RAISES_CASES))
def test_fold_raises_as_torch(run):
    raises_as_torch(run)
