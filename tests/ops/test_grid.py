"""affine_grid and grid_sample: the op table (float64 gradcheck, PyTorch's values and gradients for
the input, the grid and θ over drawn shapes, every mode x padding x align_corners), float32, the
warning and the errors."""
import itertools
import warnings

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test


@st.composite
def image_and_grid(draw, spatial=2):
    """input (N, C, *sizes) and grid (N, *out_sizes, spatial) of the same batch."""
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 2 if spatial == 2 else 1))
    sizes = [draw(st.integers(1, 5 if spatial == 2 else 3)) for _ in range(spatial)]
    out_sizes = [draw(st.integers(1, 3 if spatial == 2 else 2)) for _ in range(spatial)]
    return (batch, channels, *sizes), (batch, *out_sizes, spatial)


@st.composite
def theta_and_size(draw, spatial=2):
    batch = draw(st.integers(1, 2))
    return ((batch, spatial, spatial + 1),)


def _sample(lib, x, grid, **options):
    return lib.nn.functional.grid_sample(x, grid, **options)


GRID_SAMPLE = [
    dict(mode=mode, padding_mode=padding, align_corners=align)
    for mode, padding, align in itertools.product(("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True))
]

CASES = (
    [
        library_case(f"grid_sample_{options}", lambda lib, x, g, o=options: _sample(lib, x, g * 1.2, **o), image_and_grid())
        for options in GRID_SAMPLE
    ]
    + [
        library_case(f"grid_sample_5d_{options}", lambda lib, x, g, o=options: _sample(lib, x, g * 1.2, **o), image_and_grid(3))
        for options in GRID_SAMPLE
        if options["mode"] != "bicubic"
    ]
    + [
        library_case(
            f"affine_grid_{size}_{align}",
            lambda lib, theta, s=size, a=align: lib.nn.functional.affine_grid(theta, (theta.shape[0], *s), align_corners=a),
            theta_and_size(len(size) - 1),
        )
        for size in ((2, 3, 4), (1, 2, 3), (1, 2, 3, 2))
        for align in (False, True)
    ]
    + [
        library_case(
            "spatial_transformer",  # the two together, as in a spatial transformer network: gradients reach θ
            lambda lib, x, theta: _sample(lib, x, lib.nn.functional.affine_grid(theta, (2, 1, 3, 2), align_corners=False), align_corners=False),
            st.just(((2, 1, 4, 5), (2, 2, 3))),
        ),
    ]
)

test_op = table_test(CASES, max_examples=5)


@pytest.mark.parametrize("options", GRID_SAMPLE, ids=str)
def test_float32_values_match_pytorch(options):
    rng = np.random.default_rng(3)
    x, grid = rng.standard_normal((2, 3, 6, 7)).astype(np.float32), rng.uniform(-1.2, 1.2, (2, 4, 5, 2)).astype(np.float32)
    ours = chainrule.nn.functional.grid_sample(chainrule.tensor(x), chainrule.tensor(grid), **options)
    theirs = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid), **options)
    assert ours.dtype == chainrule.float32
    np.testing.assert_allclose(ours._array, theirs.numpy(), atol=1e-5)


def test_points_outside_read_zeros_without_nan_from_infinite_pixels():
    x = chainrule.tensor([[[[1.0, float("inf")], [2.0, 3.0]]]])
    grid = chainrule.tensor([[[[-5.0, -5.0], [-1.0, 1.0]]]])
    out = chainrule.nn.functional.grid_sample(x, grid, align_corners=True)
    assert out.tolist() == [[[[0.0, 2.0]]]]


def test_default_align_corners_warns_as_pytorch():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        chainrule.nn.functional.grid_sample(chainrule.randn(1, 1, 2, 2), chainrule.zeros(1, 1, 1, 2))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        chainrule.nn.functional.affine_grid(chainrule.randn(1, 2, 3), (1, 1, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chainrule.nn.functional.grid_sample(chainrule.randn(1, 1, 2, 2), chainrule.zeros(1, 1, 1, 2), align_corners=False)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda lib: lib.nn.functional.grid_sample(lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 1, 2), mode="area", align_corners=False), ValueError, "expected mode"),
        (lambda lib: lib.nn.functional.grid_sample(lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 1, 2), padding_mode="wrap", align_corners=False), ValueError, "expected padding_mode"),
        (lambda lib: lib.nn.functional.grid_sample(lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 1, 3), align_corners=False), RuntimeError, "size 2 in last dimension"),
        (lambda lib: lib.nn.functional.grid_sample(lib.randn(2, 1, 2, 2), lib.zeros(1, 1, 1, 2), align_corners=False), RuntimeError, "same batch size"),
        (lambda lib: lib.nn.functional.grid_sample(lib.randn(1, 1, 2, 2, 2), lib.zeros(1, 1, 1, 1, 3), mode="bicubic", align_corners=False), RuntimeError, "bicubic interpolation only supports 4D"),
        (lambda lib: lib.nn.functional.grid_sample(lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 1, 2, dtype=lib.float64), align_corners=False), RuntimeError, "same dtype"),
        (lambda lib: lib.nn.functional.affine_grid(lib.randn(2, 2, 3), (2, 3, 4, 5, 6), align_corners=False), ValueError, "Nx3x4"),
        (lambda lib: lib.nn.functional.affine_grid(lib.randn(2, 3, 4), (2, 3, 4), align_corners=False), NotImplementedError, "4D and 5D sizes"),
        (lambda lib: lib.nn.functional.affine_grid(lib.randn(2, 2, 3), (2, 3, 0, 5), align_corners=False), ValueError, "non-zero, positive"),
        (lambda lib: lib.nn.functional.affine_grid(lib.ones(2, 2, 3, dtype=lib.int32), (2, 3, 4, 5), align_corners=False), ValueError, "floating point"),
        (lambda lib: lib.nn.functional.affine_grid(lib.randn(2, 2, 3), (3, 3, 4, 5), align_corners=False), RuntimeError, "batch2"),
    ],
)
def test_errors_as_pytorch(call, error, words):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=words):
        call(chainrule)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(1, 1, 28, 28), (2, 1, 5, 7), (1, 1, 1, 3), (1, 1, 4, 6, 7)])
def test_the_identity_grid_is_pytorchs_bit_for_bit(size, align_corners, dtype):
    """The pixel positions are PyTorch's linspace, shrunk in θ's dtype: a centre 1 ulp from a pixel
    puts bilinear sampling's grid gradient on the other neighbour (the spatial transformer tutorial
    took another path from its second step when they were computed in float64)."""
    spatial = len(size) - 2
    identity = np.concatenate([np.eye(spatial), np.zeros((spatial, 1))], axis=1)[None].repeat(size[0], axis=0)
    grids = [
        lib.nn.functional.affine_grid(lib.tensor(identity, dtype=getattr(lib, dtype)), size, align_corners=align_corners).numpy()
        for lib in (chainrule, torch)
    ]
    np.testing.assert_array_equal(*grids)
