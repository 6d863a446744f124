"""Pooling, padding by reading and interpolation: the op table (gradcheck in float64, PyTorch's
values and gradients over drawn shapes for each geometry), indices, second derivatives, errors."""
import math

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test


def planes(min_side=1, max_side=8, dims=2):
    """(N, C, *size) with batch 1 or 2 and sides in [min_side, max_side] (odd sizes included)."""
    side = st.integers(min_side, max_side)
    return st.tuples(st.integers(1, 2), st.integers(1, 3), *[side] * dims).map(lambda shape: (shape,))


MAX_POOL_2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=1, dilation=2),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=3, stride=1, padding=1),
]
AVG_POOL_2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=1, divisor_override=4),
]


MAX_POOL_3D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=1, dilation=2),
    dict(kernel_size=(2, 3, 1), stride=(1, 2, 1), padding=(1, 0, 0), dilation=(1, 1, 2)),
]
AVG_POOL_3D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(3, 2, 1), stride=(1, 2, 1), padding=(1, 0, 0), ceil_mode=True),
    dict(kernel_size=(2, 1, 2), stride=1, divisor_override=3),
]


def _fits(arguments):
    """The smallest side every window geometry here accepts."""
    kernel, dilation = arguments["kernel_size"], arguments.get("dilation", 1)
    kernel = kernel if isinstance(kernel, tuple) else (kernel,)
    dilation = dilation if isinstance(dilation, tuple) else (dilation,) * len(kernel)
    return max(d * (k - 1) + 1 for k, d in zip(kernel, dilation))


def _one_dim(arguments):
    return {key: value[1] if isinstance(value, tuple) else value for key, value in arguments.items()}


CASES = (
    [
        library_case(f"max_pool2d_{args}", lambda lib, x, a=args: lib.nn.functional.max_pool2d(x, **a), planes(_fits(args)))
        for args in MAX_POOL_2D
    ]
    + [
        library_case(f"max_pool1d_{args}", lambda lib, x, a=_one_dim(args): lib.nn.functional.max_pool1d(x, **a), planes(_fits(args), dims=1))
        for args in MAX_POOL_2D[:4]
    ]
    + [
        library_case(f"avg_pool2d_{args}", lambda lib, x, a=args: lib.nn.functional.avg_pool2d(x, **a), planes(_fits(args)))
        for args in AVG_POOL_2D
    ]
    + [
        library_case(f"max_pool3d_{args}", lambda lib, x, a=args: lib.nn.functional.max_pool3d(x, **a), planes(_fits(args), 5, dims=3))
        for args in MAX_POOL_3D
    ]
    + [
        library_case(f"avg_pool3d_{args}", lambda lib, x, a=args: lib.nn.functional.avg_pool3d(x, **a), planes(_fits(args), 5, dims=3))
        for args in AVG_POOL_3D
    ]
    + [
        library_case(f"adaptive_avg_pool3d_{size}", lambda lib, x, s=size: lib.nn.functional.adaptive_avg_pool3d(x, s), planes(3, 5, dims=3))
        for size in (1, 3, (2, None, 1))
    ]
    + [
        library_case(f"adaptive_max_pool3d_{size}", lambda lib, x, s=size: lib.nn.functional.adaptive_max_pool3d(x, s), planes(3, 5, dims=3))
        for size in (1, (3, 2, 2))
    ]
    + [
        library_case("max_pool3d_unbatched", lambda lib, x: lib.nn.functional.max_pool3d(x, 2, 1, 1), st.just(((2, 3, 4, 3),))),
        library_case("max_pool3d_top_level", lambda lib, x: lib.max_pool3d(x, (1, 2, 2)), st.just(((1, 2, 3, 4, 4),))),
        library_case("avg_pool3d_unbatched", lambda lib, x: lib.nn.functional.avg_pool3d(x, 2, ceil_mode=True), st.just(((2, 3, 5, 3),))),
        library_case("adaptive_avg_pool3d_unbatched", lambda lib, x: lib.nn.functional.adaptive_avg_pool3d(x, (2, 3, 2)), st.just(((2, 3, 5, 3),))),
        library_case("adaptive_max_pool3d_unbatched", lambda lib, x: lib.nn.functional.adaptive_max_pool3d(x, (2, 3, 2)), st.just(((2, 3, 5, 3),))),
        library_case("lp_pool3d", lambda lib, x: lib.nn.functional.lp_pool3d(x, 2, 2), planes(2, 5, dims=3), domain=np.abs),
        library_case("lp_pool3d_strided_ceil", lambda lib, x: lib.nn.functional.lp_pool3d(x, 3, (3, 2, 2), 2, ceil_mode=True), planes(3, 5, dims=3), domain=np.abs),
        library_case(
            "max_unpool3d",
            lambda lib, x: lib.nn.functional.max_unpool3d(*lib.nn.functional.max_pool3d(x, 2, return_indices=True), 2, output_size=x.shape[-3:]),
            planes(2, 5, dims=3),
        ),
        library_case(
            "max_unpool3d_padded_sized",
            lambda lib, x: lib.nn.functional.max_unpool3d(
                *lib.nn.functional.max_pool3d(x, 3, 3, 1, return_indices=True), 3, 3, 1, output_size=tuple(x.shape)
            ),
            planes(3, 5, dims=3),
        ),
        library_case(
            "max_unpool3d_unbatched", lambda lib, x: lib.nn.functional.max_unpool3d(*lib.nn.functional.max_pool3d(x, 2, return_indices=True), 2), st.just(((2, 4, 6, 2),))
        ),
    ]
    + [
        library_case("avg_pool1d", lambda lib, x: lib.nn.functional.avg_pool1d(x, 3, 2, 1), planes(3, dims=1)),
        library_case("avg_pool1d_ceil", lambda lib, x: lib.nn.functional.avg_pool1d(x, 2, ceil_mode=True, count_include_pad=False), planes(2, dims=1)),
        library_case("max_pool2d_unbatched", lambda lib, x: lib.nn.functional.max_pool2d(x, 2), st.just(((3, 5, 4),))),
    ]
    + [
        library_case(f"adaptive_avg_pool2d_{size}", lambda lib, x, s=size: lib.nn.functional.adaptive_avg_pool2d(x, s), planes(3))
        for size in (1, 3, (2, None))
    ]
    + [
        library_case(f"adaptive_max_pool2d_{size}", lambda lib, x, s=size: lib.nn.functional.adaptive_max_pool2d(x, s), planes(3))
        for size in (1, (3, 2))
    ]
    + [
        library_case(f"adaptive_avg_pool1d_{size}", lambda lib, x, s=size: lib.nn.functional.adaptive_avg_pool1d(x, s), planes(3, dims=1))
        for size in (1, 3)
    ]
    + [
        library_case("adaptive_max_pool1d", lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, 3), planes(3, dims=1)),
        library_case("adaptive_avg_pool1d_top_level_unbatched", lambda lib, x: lib.adaptive_avg_pool1d(x, (2,)), st.just(((3, 5),))),
        library_case("adaptive_max_pool1d_top_level", lambda lib, x: lib.adaptive_max_pool1d(x, 2)[0], planes(2, dims=1)),
        library_case("lp_pool2d", lambda lib, x: lib.nn.functional.lp_pool2d(x, 2, 2), planes(2), domain=np.abs),
        library_case("lp_pool2d_strided_ceil", lambda lib, x: lib.nn.functional.lp_pool2d(x, 3, (3, 2), 2, ceil_mode=True), planes(3), domain=np.abs),
        library_case("lp_pool1d", lambda lib, x: lib.nn.functional.lp_pool1d(x, 1.5, 3, 1), planes(3, dims=1), domain=np.abs),
        library_case(
            "max_unpool2d",
            lambda lib, x: lib.nn.functional.max_unpool2d(*lib.nn.functional.max_pool2d(x, 2, return_indices=True), 2, output_size=x.shape[-2:]),
            planes(2),
        ),
        library_case(
            "max_unpool2d_padded_sized",
            lambda lib, x: lib.nn.functional.max_unpool2d(
                *lib.nn.functional.max_pool2d(x, 3, 3, 1, return_indices=True), 3, 3, 1, output_size=tuple(x.shape)
            ),
            planes(3),
        ),
        library_case(
            "max_unpool1d",
            lambda lib, x: lib.nn.functional.max_unpool1d(*lib.nn.functional.max_pool1d(x, 2, return_indices=True), 2, output_size=x.shape[-1:]),
            planes(2, dims=1),
        ),
        library_case(
            "max_unpool2d_unbatched", lambda lib, x: lib.nn.functional.max_unpool2d(*lib.nn.functional.max_pool2d(x, 2, return_indices=True), 2), st.just(((3, 6, 4),))
        ),
    ]
    + [
        library_case(f"pad_{mode}", lambda lib, x, m=mode: lib.nn.functional.pad(x, (2, 1, 1, 2), mode=m), planes(3))
        for mode in ("reflect", "replicate", "circular")
    ]
    + [
        library_case("pad_reflect_1d", lambda lib, x: lib.nn.functional.pad(x, (1, 2), mode="reflect"), planes(3, dims=1)),
        library_case("interpolate_nearest_scale", lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2), planes()),
        library_case("interpolate_nearest_size", lambda lib, x: lib.nn.functional.interpolate(x, size=(5, 3)), planes()),
        library_case("interpolate_bilinear", lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"), planes()),
        library_case(
            "interpolate_bilinear_corners",
            lambda lib, x: lib.nn.functional.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True),
            planes(),
        ),
        library_case("interpolate_linear", lambda lib, x: lib.nn.functional.interpolate(x, size=7, mode="linear"), planes(dims=1)),
    ]
)

test_op = table_test(CASES, max_examples=4)


def test_max_pool_indices_match_pytorch():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    for arguments in MAX_POOL_2D:
        ours = chainrule.nn.functional.max_pool2d(chainrule.tensor(x), return_indices=True, **arguments)
        theirs = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **arguments)
        np.testing.assert_array_equal(ours[1]._array, theirs[1].numpy(), err_msg=str(arguments))
        assert ours[1].dtype == chainrule.int64
    volumes = np.random.default_rng(1).standard_normal((2, 2, 5, 6, 7))
    for arguments in MAX_POOL_3D:
        ours = chainrule.nn.functional.max_pool3d(chainrule.tensor(volumes), return_indices=True, **arguments)
        theirs = torch.nn.functional.max_pool3d(torch.tensor(volumes), return_indices=True, **arguments)
        np.testing.assert_array_equal(ours[1]._array, theirs[1].numpy(), err_msg=str(arguments))
    for size in ((2, 4, 3), (5, 3, 7), 1):
        ours = chainrule.nn.functional.adaptive_max_pool3d(chainrule.tensor(volumes), size, return_indices=True)
        theirs = torch.nn.functional.adaptive_max_pool3d(torch.tensor(volumes), size, return_indices=True)
        np.testing.assert_array_equal(ours[1]._array, theirs[1].numpy(), err_msg=str(size))
    ours = chainrule.nn.functional.adaptive_max_pool2d(chainrule.tensor(x), (3, 5), return_indices=True)
    theirs = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), (3, 5), return_indices=True)
    np.testing.assert_array_equal(ours[1]._array, theirs[1].numpy())
    for lib in (chainrule, torch):  # torch.adaptive_max_pool1d always gives the indices too
        assert len(lib.adaptive_max_pool1d(lib.tensor(x[0]), 3)) == 2
    ours = chainrule.nn.functional.adaptive_max_pool1d(chainrule.tensor(x[0]), 3, return_indices=True)
    theirs = torch.nn.functional.adaptive_max_pool1d(torch.tensor(x[0]), 3, return_indices=True)
    np.testing.assert_array_equal(ours[1]._array, theirs[1].numpy())


def test_max_pool_sends_the_gradient_to_the_first_maximum_of_a_tie():
    x = chainrule.zeros(1, 1, 2, 2, requires_grad=True)
    chainrule.nn.functional.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad._array.reshape(-1), [1, 0, 0, 0])


@pytest.mark.parametrize("with_nan", [False, True])
@pytest.mark.parametrize("dims", [2, 3])
def test_max_pool_ties_and_nan_as_pytorch(with_nan, dims):
    """Small integers make ties in most windows: the first maximum wins (the last nan, if any),
    for the values, the indices and the gradient, in every geometry."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (2, 3, 7, 8) if dims == 2 else (2, 2, 5, 6, 5)).astype(np.float64)
    if with_nan:
        x[rng.random(x.shape) < 0.1] = np.nan
    for arguments in MAX_POOL_2D if dims == 2 else MAX_POOL_3D:
        results = []
        for lib in (chainrule, torch):
            input = lib.tensor(x, requires_grad=True)
            pool = getattr(lib.nn.functional, f"max_pool{dims}d")
            output, indices = pool(input, return_indices=True, **arguments)
            output.backward(lib.tensor(np.arange(output.numel(), dtype=np.float64).reshape(tuple(output.shape))))
            results.append([np.asarray(value.detach().numpy()) for value in (output, indices, input.grad)])
        for ours, theirs in zip(*results):
            np.testing.assert_array_equal(ours, theirs, err_msg=str(arguments))


SECOND_ORDER = [
    ("max_pool2d", lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 2, 1)),
    ("max_pool2d_tiled", lambda lib, x: lib.nn.functional.max_pool2d(x, 2)),
    ("avg_pool2d", lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("adaptive_avg_pool2d", lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, 3)),
    ("pad_reflect", lambda lib, x: lib.nn.functional.pad(x, (1, 1, 2, 0), mode="reflect")),
    ("interpolate_bilinear", lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="bilinear")),
    ("interpolate_nearest_exact", lambda lib, x: lib.nn.functional.interpolate(x, size=(5, 9), mode="nearest-exact")),
    ("interpolate_nearest_down", lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=0.7)),
    ("interpolate_bicubic", lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=1.5, mode="bicubic")),
    ("interpolate_bicubic_antialias", lambda lib, x: lib.nn.functional.interpolate(x, size=(3, 4), mode="bicubic", antialias=True)),
    ("interpolate_trilinear", lambda lib, x: lib.nn.functional.interpolate(x.unsqueeze(0), size=(3, 4, 5), mode="trilinear", align_corners=True)),
    ("interpolate_area", lambda lib, x: lib.nn.functional.interpolate(x, size=(4, 5), mode="area")),
    ("lp_pool2d", lambda lib, x: lib.nn.functional.lp_pool2d(x.abs() + 1, 2, 2)),
    ("max_unpool2d", lambda lib, x: lib.nn.functional.max_unpool2d(*lib.nn.functional.max_pool2d(x, 2, return_indices=True), 2)),
    ("adaptive_avg_pool1d", lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x.flatten(2), 5)),
    # volumes: the planes (2, 2, 6, 6) seen as (1, 2, 2, 6, 6)
    ("max_pool3d", lambda lib, x: lib.nn.functional.max_pool3d(x.unsqueeze(0), (2, 3, 3), (1, 2, 2), (1, 1, 1))),
    ("max_pool3d_tiled", lambda lib, x: lib.nn.functional.max_pool3d(x.unsqueeze(0), 2)),
    ("avg_pool3d", lambda lib, x: lib.nn.functional.avg_pool3d(x.unsqueeze(0), (2, 3, 3), 2, 1, ceil_mode=True, count_include_pad=False)),
    ("adaptive_avg_pool3d", lambda lib, x: lib.nn.functional.adaptive_avg_pool3d(x.unsqueeze(0), (1, 4, 3))),
    ("adaptive_max_pool3d", lambda lib, x: lib.nn.functional.adaptive_max_pool3d(x.unsqueeze(0), (2, 4, 5))),
    ("lp_pool3d", lambda lib, x: lib.nn.functional.lp_pool3d(x.unsqueeze(0).abs() + 1, 2, (1, 2, 3))),
    ("max_unpool3d", lambda lib, x: lib.nn.functional.max_unpool3d(*lib.nn.functional.max_pool3d(x.unsqueeze(0), 2, return_indices=True), 2)),
]


@pytest.mark.parametrize("name, call", SECOND_ORDER, ids=[case[0] for case in SECOND_ORDER])
def test_second_derivatives_match_pytorch(name, call):
    x_data = np.random.default_rng(1).standard_normal((2, 2, 6, 6))
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(x_data, requires_grad=True)
        (grad,) = lib.autograd.grad((call(lib, x) ** 3).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((grad * grad).sum(), x)
        results.append(np.asarray(second.detach().numpy()))
    np.testing.assert_allclose(*results, rtol=1e-6, atol=1e-8, err_msg=name)


def test_node_names_as_pytorch():
    x = chainrule.randn(1, 1, 4, 4, requires_grad=True)
    assert type(chainrule.nn.functional.max_pool2d(x, 2).grad_fn).__name__ == "MaxPool2DWithIndicesBackward0"
    assert type(chainrule.nn.functional.avg_pool2d(x, 2).grad_fn).__name__ == "AvgPool2DBackward0"
    volume = chainrule.randn(1, 1, 4, 4, 4, requires_grad=True)
    assert type(chainrule.nn.functional.max_pool3d(volume, 2).grad_fn).__name__ == "MaxPool3DWithIndicesBackward0"
    assert type(chainrule.nn.functional.avg_pool3d(volume, 2).grad_fn).__name__ == "AvgPool3DBackward0"


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda lib: lib.nn.functional.max_pool2d(lib.randn(1, 1, 1, 1), 2), RuntimeError, "Output size is too small"),
        (lambda lib: lib.nn.functional.max_pool2d(lib.randn(1, 1, 4, 4), 2, padding=2), RuntimeError, "pad should be at most half"),
        (lambda lib: lib.nn.functional.avg_pool2d(lib.randn(1, 1, 1, 4, 4), 2), RuntimeError, "input"),
        (lambda lib: lib.nn.functional.pad(lib.randn(1, 1, 3, 3), (3, 3), mode="reflect"), RuntimeError, "Padding size"),
        (lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 3, 3), size=4, scale_factor=2), ValueError, "only one"),
        (lambda lib: lib.nn.functional.adaptive_avg_pool1d(lib.randn(1, 2, 3, 4), 2), RuntimeError, "Expected 2 to 3 dimensions"),
        (lambda lib: lib.nn.functional.adaptive_max_pool1d(lib.randn(1, 2, 5), (2, 2)), RuntimeError, "one int"),
        (lambda lib: lib.nn.functional.max_unpool2d(lib.randn(1, 1, 2, 2), lib.tensor([[[[0, 1], [2, 99]]]]), 2), RuntimeError, "invalid max index: 99"),
        (lambda lib: lib.nn.functional.max_unpool2d(lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 2, 3, dtype=lib.int64), 2), RuntimeError, "shape of indices"),
        (lambda lib: lib.nn.functional.max_unpool2d(lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 2, 2), 2), RuntimeError, "int64"),
        (lambda lib: lib.nn.functional.max_unpool2d(lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), 2, output_size=(9, 9)), ValueError, "between 2 and 6"),
        (lambda lib: lib.nn.functional.lp_pool2d(lib.randn(1, 1, 1, 1), 2, 2), RuntimeError, "Output size is too small"),
        (lambda lib: lib.nn.functional.max_pool3d(lib.randn(1, 1, 1, 1, 1), 2), RuntimeError, r"Given input size: \(1x1x1x1\).*Output size is too small"),
        (lambda lib: lib.nn.functional.max_pool3d(lib.randn(1, 4, 4), 2), RuntimeError, "4D or 5D"),
        (lambda lib: lib.nn.functional.max_pool3d(lib.randn(1, 1, 4, 4, 4), 2, padding=2), RuntimeError, "pad should be at most half"),
        (lambda lib: lib.nn.functional.avg_pool3d(lib.randn(1, 1, 1, 4, 4, 4), 2), RuntimeError, "4D or 5D"),
        (lambda lib: lib.nn.functional.avg_pool3d(lib.randn(1, 1, 4, 4, 4), 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
        (lambda lib: lib.nn.functional.avg_pool3d(lib.randn(1, 2, 6, 6), 3, 2, 1), RuntimeError, r"input image \(T: 2 H: 6 W: 6\) smaller than kernel size \(kT: 3 kH: 3 kW: 3\)"),
        (lambda lib: lib.nn.functional.adaptive_avg_pool3d(lib.randn(2, 3, 3), 2), RuntimeError, "adaptive_avg_pool3d.*4D or 5D"),
        (lambda lib: lib.nn.functional.adaptive_max_pool3d(lib.randn(2, 3, 3), 2), RuntimeError, "adaptive_max_pool3d.*4D or 5D"),
        (lambda lib: lib.nn.functional.max_unpool3d(lib.randn(1, 1, 2, 2, 2), lib.zeros(1, 1, 2, 2, 2), 2), RuntimeError, "int64"),
        (lambda lib: lib.nn.functional.max_unpool3d(lib.randn(1, 1, 1, 1, 2), lib.tensor([[[[[0, 99]]]]]), 2), RuntimeError, "invalid max index: 99"),
        (
            lambda lib: lib.nn.functional.max_unpool3d(lib.randn(1, 1, 2, 2, 2), lib.zeros(1, 1, 2, 2, 2, dtype=lib.int64), 2, output_size=(4, 9, 4)),
            ValueError,
            "between 2 and 6",
        ),
    ],
)
def test_errors_as_pytorch(call, error, words):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=words):
        call(chainrule)


@pytest.mark.parametrize("norm_type", [math.inf, -math.inf])
def test_lp_pool_of_infinite_order_is_a_max_pool_of_magnitudes_as_pytorch(norm_type):
    data = np.random.default_rng(0).normal(size=(2, 3, 6, 6))
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(data, requires_grad=True)
        pooled = lib.nn.functional.lp_pool2d(x, norm_type, 2)
        pooled.sum().backward()
        results.append((pooled.detach().numpy(), x.grad.numpy(), lib.nn.functional.lp_pool1d(lib.tensor(data[:, :, 0]), norm_type, 3, stride=2).numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 3, return_indices=True),
        lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x.flatten(2), 3),
        lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, 3),
        lambda lib, x: lib.nn.functional.max_unpool2d(*lib.nn.functional.max_pool2d(x, 2, return_indices=True), 2),
        lambda lib, x: lib.nn.functional.max_unpool1d(*lib.nn.functional.max_pool1d(x.flatten(2), 2, return_indices=True), 2),
        lambda lib, x: lib.nn.FractionalMaxPool2d(3, output_ratio=0.5)(x),
        lambda lib, x: lib.nn.FractionalMaxPool3d(2, output_ratio=0.5)(x[:, :, None].expand(0, 4, 4, 6, 6)),
    ],
)
def test_an_empty_batch_pools_to_an_empty_batch_as_in_pytorch(call):
    """(a filtered or last batch can be empty: every pooling keeps its other sizes)"""
    shapes = []
    for lib in (chainrule, torch):
        x = lib.zeros(0, 4, 6, 6, requires_grad=True)
        output = call(lib, x)
        output = output[0] if isinstance(output, tuple) else output
        output.sum().backward()
        shapes.append((tuple(output.shape), tuple(x.grad.shape)))
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_max_pool_pads_with_the_dtypes_lowest_value_as_pytorch(dtype):
    """(a real value equal to the padding's wins the tie: PyTorch scans only the real places)"""
    results = []
    for lib in (chainrule, torch):
        x = lib.arange(16, dtype=getattr(lib, dtype)).view(1, 1, 4, 4)
        output, indices = lib.nn.functional.max_pool2d(x, 2, padding=1, return_indices=True)
        results.append((output.dtype is getattr(lib, dtype), output.tolist(), indices.tolist()))
    assert results[0] == results[1]


def test_minus_infinity_beside_padding_takes_the_index_and_gradient_of_a_real_place_as_pytorch():
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([[[[-math.inf, -math.inf], [1.0, -math.inf]]]], requires_grad=True)
        output, indices = lib.nn.functional.max_pool2d(x, 2, stride=1, padding=1, return_indices=True)
        output.sum().backward()
        results.append((output.tolist(), indices.tolist(), x.grad.tolist()))
    assert results[0] == results[1]
