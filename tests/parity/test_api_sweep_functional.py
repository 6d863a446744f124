"""A sweep of ``torch.nn.functional`` option combinations against PyTorch (the oracle): values and
gradients (``x.grad`` after ``backward`` of a fixed weighted sum, float64, 1e-6) for interpolate,
grid_sample / affine_grid, pad, convolutions, pools, normalisations, distances, fold / unfold,
pixel shuffle, embedding, activations and the eval-mode forms of the random functions, plus the
exception types PyTorch raises for bad shapes.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional

import chainrule
import chainrule.nn.functional
from tests.parity.sweep import outcome, plain, raises_as_torch


def assert_same(actual, expected, rtol=1e-6, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple), (actual, expected)
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-6, atol=1e-6):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def _array(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def values_and_grads(call, *shapes, positive=False):
    """Runs ``call(lib, F, *inputs)`` on float64 leaves; returns the output(s) and each input's grad
    after ``backward`` of a fixed weighted sum of the floating outputs."""
    arrays = [_array(shape, seed) for seed, shape in enumerate(shapes)]
    if positive:
        arrays = [np.abs(a) + 0.1 for a in arrays]

    def run(lib):
        leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        out = call(lib, lib.nn.functional, *leaves)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        loss = None
        for index, each in enumerate(outs):
            if each.dtype.is_floating_point and each.requires_grad:
                weight = lib.tensor(_array(tuple(each.shape), 100 + index), dtype=each.dtype)
                term = (each * weight).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        return outs + [leaf.grad for leaf in leaves]

    return run


def check(call, *shapes, positive=False, rtol=1e-6, atol=1e-6):
    same_in_both(values_and_grads(call, *shapes, positive=positive), rtol=rtol, atol=atol)


# --- interpolate --------------------------------------------------------------------------------

_INTERPOLATE = [
    ("nearest-1d-size", (1, 2, 5), dict(size=8, mode="nearest")),
    ("nearest-1d-scale", (1, 2, 5), dict(scale_factor=1.7, mode="nearest")),
    ("nearest-exact-1d", (1, 2, 5), dict(size=7, mode="nearest-exact")),
    ("nearest-2d-down", (1, 2, 7, 6), dict(size=(3, 4), mode="nearest")),
    ("nearest-exact-2d-scale", (1, 2, 5, 6), dict(scale_factor=(1.5, 0.7), mode="nearest-exact")),
    ("nearest-3d", (1, 1, 3, 4, 2), dict(scale_factor=2, mode="nearest")),
    ("linear-ac", (2, 3, 5), dict(size=9, mode="linear", align_corners=True)),
    ("linear-noac", (2, 3, 5), dict(size=9, mode="linear", align_corners=False)),
    ("linear-scale-recompute", (1, 2, 5), dict(scale_factor=1.3, mode="linear", recompute_scale_factor=True)),
    ("linear-scale-norecompute", (1, 2, 5), dict(scale_factor=1.3, mode="linear")),
    ("bilinear-ac", (1, 2, 4, 5), dict(size=(7, 3), mode="bilinear", align_corners=True)),
    ("bilinear-noac-scale", (1, 2, 4, 5), dict(scale_factor=1.5, mode="bilinear")),
    ("bilinear-antialias-down", (1, 2, 9, 8), dict(size=(4, 3), mode="bilinear", antialias=True)),
    ("bilinear-antialias-up", (1, 1, 4, 4), dict(size=(6, 7), mode="bilinear", antialias=True)),
    ("bicubic-ac", (1, 2, 5, 4), dict(size=(8, 6), mode="bicubic", align_corners=True)),
    ("bicubic-noac", (1, 2, 5, 4), dict(scale_factor=(1.6, 0.5), mode="bicubic")),
    ("bicubic-antialias-down", (1, 1, 10, 9), dict(size=(4, 5), mode="bicubic", antialias=True)),
    ("trilinear-ac", (1, 1, 3, 4, 3), dict(size=(5, 6, 2), mode="trilinear", align_corners=True)),
    ("trilinear-scale", (1, 1, 3, 4, 3), dict(scale_factor=1.5, mode="trilinear")),
    ("area-1d", (1, 2, 7), dict(size=3, mode="area")),
    ("area-2d", (1, 2, 7, 5), dict(size=(3, 2), mode="area")),
    ("area-3d-scale", (1, 1, 6, 4, 5), dict(scale_factor=0.5, mode="area")),
    ("nearest-2d-scale-recompute", (1, 1, 5, 5), dict(scale_factor=1.3, mode="nearest", recompute_scale_factor=True)),
]


@pytest.mark.parametrize("shape, kwargs", [(s, k) for _, s, k in _INTERPOLATE], ids=[i for i, _, _ in _INTERPOLATE])
def test_interpolate_values_and_grads(shape, kwargs):
    check(lambda lib, F, x: F.interpolate(x, **kwargs), shape)


@pytest.mark.parametrize("call", [
    lambda F, x: F.interpolate(x, size=4, scale_factor=2),  # both
    lambda F, x: F.interpolate(x),  # neither
    lambda F, x: F.interpolate(x, size=4, mode="bilinear"),  # 3-d input, 2-d mode
    lambda F, x: F.interpolate(x, size=4, mode="cubic"),  # unknown mode
    lambda F, x: F.interpolate(x, size=4, mode="nearest", align_corners=True),
    lambda F, x: F.interpolate(x, size=(4, 5), mode="linear"),  # wrong length of size
], ids=["size-and-scale", "neither", "bilinear-3d", "unknown-mode", "nearest-align-corners", "size-length"])
def test_interpolate_bad_arguments_raise_as_pytorch(call):
    raises_as_torch(lambda lib: call(lib.nn.functional, lib.zeros(1, 2, 5)))


# --- grid_sample / affine_grid ---------------------------------------------------------------------

_THETA2 = np.array([[[0.9, -0.3, 0.1], [0.2, 1.1, -0.2]]])
_THETA3 = np.array([[[0.9, -0.1, 0.1, 0.05], [0.2, 1.1, 0.0, -0.2], [0.0, 0.1, 0.8, 0.1]]])


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_2d_values_and_grads(mode, padding_mode, align_corners):
    def call(lib, F, x, grid_noise):
        theta = lib.tensor(_THETA2 * 1.3, dtype=lib.float64)  # scaled so samples fall outside
        grid = F.affine_grid(theta, [1, 2, 5, 6], align_corners=align_corners) + 0.01 * grid_noise
        return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    # nearest has no grid gradient; ties are avoided by the noise
    check(call, (1, 2, 4, 5), (1, 5, 6, 2))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d_values_and_grads(mode, padding_mode, align_corners):
    def call(lib, F, x, grid_noise):
        theta = lib.tensor(_THETA3 * 1.2, dtype=lib.float64)
        grid = F.affine_grid(theta, [1, 1, 3, 4, 3], align_corners=align_corners) + 0.01 * grid_noise
        return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    check(call, (1, 1, 3, 3, 4), (1, 3, 4, 3, 3))


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_values_and_theta_grad(align_corners):
    check(lambda lib, F, theta: F.affine_grid(theta, [2, 3, 4, 5], align_corners=align_corners), (2, 2, 3))


def test_grid_sample_bad_shapes_raise_as_pytorch():
    raises_as_torch(lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 4, 4), lib.zeros(1, 3, 3, 3), align_corners=False))
    raises_as_torch(lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 4, 4), lib.zeros(2, 3, 3, 2), align_corners=False))
    raises_as_torch(lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 3, 3), [1, 1, 4, 4], align_corners=False))


# --- pad ------------------------------------------------------------------------------------------

_PAD = [
    ("constant-1d", (2, 3, 5), (1, 2), dict(mode="constant", value=1.5)),
    ("constant-negative", (2, 3, 5, 4), (-1, 2, 0, -2), dict()),
    ("constant-3d-in-2d", (3, 4), (1, 1, 2, 0), dict(value=-1.0)),
    ("reflect-1d", (2, 3, 5), (3, 2), dict(mode="reflect")),
    ("reflect-2d", (1, 2, 4, 5), (1, 3, 2, 1), dict(mode="reflect")),
    ("reflect-3d", (1, 1, 3, 4, 3), (1, 1, 2, 1, 1, 2), dict(mode="reflect")),
    ("replicate-1d", (2, 3, 5), (4, 1), dict(mode="replicate")),
    ("replicate-2d", (1, 2, 4, 5), (2, 3, 1, 4), dict(mode="replicate")),
    ("replicate-3d", (1, 1, 2, 3, 2), (1, 2, 3, 0, 1, 1), dict(mode="replicate")),
    ("circular-1d", (2, 3, 5), (2, 3), dict(mode="circular")),
    ("circular-2d", (1, 2, 4, 5), (1, 2, 3, 1), dict(mode="circular")),
    ("circular-negative", (1, 2, 4, 5), (-1, 2, 1, -1), dict(mode="circular")),
    ("replicate-negative", (1, 2, 4, 5), (-1, 2, 1, -2), dict(mode="replicate")),
    ("reflect-unbatched", (3, 5), (2, 2), dict(mode="reflect")),
]


@pytest.mark.parametrize("shape, pad, kwargs", [(s, p, k) for _, s, p, k in _PAD], ids=[i for i, *_ in _PAD])
def test_pad_values_and_grads(shape, pad, kwargs):
    check(lambda lib, F, x: F.pad(x, pad, **kwargs), shape)


@pytest.mark.parametrize("call", [
    lambda F, x: F.pad(x, (5, 0), mode="reflect"),  # pad >= size
    lambda F, x: F.pad(x, (1,)),  # odd length
    lambda F, x: F.pad(x, (1, 1, 1, 1, 1, 1, 1, 1)),  # too long
    lambda F, x: F.pad(x, (1, 1), mode="wrap"),
    lambda F, x: F.pad(x, (9, 9), mode="circular"),
], ids=["reflect-too-wide", "odd", "too-long", "unknown-mode", "circular-too-wide"])
def test_pad_bad_arguments_raise_as_pytorch(call):
    raises_as_torch(lambda lib: call(lib.nn.functional, lib.zeros(1, 2, 5)))


# --- convolutions ---------------------------------------------------------------------------------

_CONV = [
    ("1d-groups-dilation", "conv1d", (2, 4, 11), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    ("1d-same-even-kernel", "conv1d", (1, 2, 7), (3, 2, 4), dict(padding="same", dilation=1)),
    ("1d-same-dilated", "conv1d", (1, 2, 7), (3, 2, 3), dict(padding="same", dilation=3)),
    ("1d-valid", "conv1d", (1, 2, 7), (3, 2, 3), dict(padding="valid")),
    ("2d-stride-tuple", "conv2d", (2, 3, 7, 8), (4, 3, 3, 2), dict(stride=(2, 3), padding=(1, 2))),
    ("2d-depthwise", "conv2d", (1, 4, 6, 6), (8, 1, 3, 3), dict(groups=4, dilation=(1, 2), padding=2)),
    ("2d-same-asym", "conv2d", (1, 2, 6, 5), (3, 2, 4, 2), dict(padding="same", dilation=(2, 1))),
    ("2d-unbatched", "conv2d", (3, 5, 5), (2, 3, 3, 3), dict(padding=1)),
    ("3d-groups", "conv3d", (1, 4, 4, 5, 4), (2, 2, 2, 3, 2), dict(groups=2, stride=(1, 2, 1), padding=(1, 0, 1))),
    ("3d-same", "conv3d", (1, 2, 4, 4, 3), (2, 2, 3, 2, 3), dict(padding="same")),
]


@pytest.mark.parametrize("name, xs, ws, kwargs", [c[1:] for c in _CONV], ids=[c[0] for c in _CONV])
@pytest.mark.parametrize("bias", [False, True])
def test_conv_values_and_grads(name, xs, ws, kwargs, bias):
    if bias:
        check(lambda lib, F, x, w, b: getattr(F, name)(x, w, b, **kwargs), xs, ws, (ws[0],))
    else:
        check(lambda lib, F, x, w: getattr(F, name)(x, w, **kwargs), xs, ws)


_CONV_T = [
    ("1d", "conv_transpose1d", (1, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("2d-groups-op", "conv_transpose2d", (2, 4, 4, 3), (4, 2, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2)),
    ("2d-dilation", "conv_transpose2d", (1, 2, 3, 4), (2, 3, 3, 3), dict(stride=2, dilation=2, output_padding=1)),
    ("3d", "conv_transpose3d", (1, 2, 3, 2, 3), (2, 2, 2, 3, 2), dict(stride=2, padding=(0, 1, 0), output_padding=(1, 0, 1))),
]


@pytest.mark.parametrize("name, xs, ws, kwargs", [c[1:] for c in _CONV_T], ids=[c[0] for c in _CONV_T])
def test_conv_transpose_values_and_grads(name, xs, ws, kwargs):
    groups = kwargs.get("groups", 1)
    check(lambda lib, F, x, w, b: getattr(F, name)(x, w, b, **kwargs), xs, ws, (ws[1] * groups,))


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_module_padding_modes(padding_mode, padding):
    x = _array((1, 2, 6, 5), 0)

    def run(lib):
        lib.manual_seed(0)
        conv = lib.nn.Conv2d(2, 4, 3, padding=padding, padding_mode=padding_mode, groups=2, bias=True)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(_array(tuple(conv.weight.shape), 1), dtype=conv.weight.dtype))
            conv.bias.copy_(lib.tensor(_array(tuple(conv.bias.shape), 2), dtype=conv.bias.dtype))
        conv = conv.double()
        inp = lib.tensor(x, requires_grad=True)
        out = conv(inp)
        (out * lib.tensor(_array(tuple(out.shape), 3))).sum().backward()
        return [out, inp.grad, conv.weight.grad, conv.bias.grad, repr(conv)]

    same_in_both(run)


@pytest.mark.parametrize("call", [
    lambda F, lib: F.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(4, 2, 3, 3)),  # channel mismatch
    lambda F, lib: F.conv2d(lib.zeros(1, 4, 5, 5), lib.zeros(3, 2, 3, 3), groups=2),  # out not divisible
    lambda F, lib: F.conv2d(lib.zeros(1, 2, 2, 2), lib.zeros(1, 2, 3, 3)),  # kernel larger than input
    lambda F, lib: F.conv2d(lib.zeros(1, 2, 5, 5), lib.zeros(1, 2, 3, 3), padding="same", stride=2),
    lambda F, lib: F.conv2d(lib.zeros(1, 2, 5, 5), lib.zeros(1, 2, 3, 3), padding="full"),
    lambda F, lib: F.conv1d(lib.zeros(2, 5, 5, 5), lib.zeros(1, 5, 3)),  # 4-d into conv1d
    lambda F, lib: F.conv_transpose2d(lib.zeros(1, 2, 3, 3), lib.zeros(2, 1, 3, 3), stride=2, output_padding=2),
], ids=["channels", "groups", "kernel-too-big", "same-stride", "bad-padding-string", "conv1d-4d", "output-padding"])
def test_conv_bad_shapes_raise_as_pytorch(call):
    raises_as_torch(lambda lib: call(lib.nn.functional, lib))


# --- pooling --------------------------------------------------------------------------------------

_POOL = [
    ("max1d-ceil", "max_pool1d", (1, 2, 10), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max1d-pad-dil", "max_pool1d", (1, 2, 10), dict(kernel_size=3, stride=1, padding=1, dilation=2)),
    ("max2d-ceil", "max_pool2d", (1, 2, 7, 6), dict(kernel_size=(3, 2), stride=2, ceil_mode=True)),
    ("max2d-pad", "max_pool2d", (1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ("max2d-dilation-ceil", "max_pool2d", (1, 2, 9, 8), dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True)),
    ("max3d", "max_pool3d", (1, 1, 5, 4, 5), dict(kernel_size=2, stride=(2, 1, 2), ceil_mode=True)),
    ("avg1d-ceil-pad", "avg_pool1d", (1, 2, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg1d-no-count-pad", "avg_pool1d", (1, 2, 10), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg2d-ceil-count", "avg_pool2d", (1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg2d-ceil-nocount", "avg_pool2d", (1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg2d-divisor", "avg_pool2d", (1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, divisor_override=5)),
    ("avg2d-ceil-nopad", "avg_pool2d", (1, 2, 7, 6), dict(kernel_size=2, ceil_mode=True)),
    ("avg3d-ceil", "avg_pool3d", (1, 1, 5, 4, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg3d-divisor", "avg_pool3d", (1, 1, 5, 4, 5), dict(kernel_size=3, stride=2, divisor_override=4)),
    ("adaptive-avg1d", "adaptive_avg_pool1d", (1, 2, 10), dict(output_size=4)),
    ("adaptive-avg2d", "adaptive_avg_pool2d", (1, 2, 7, 5), dict(output_size=(3, 4))),
    ("adaptive-avg2d-none", "adaptive_avg_pool2d", (1, 2, 7, 5), dict(output_size=(3, None))),
    ("adaptive-avg3d", "adaptive_avg_pool3d", (1, 1, 5, 7, 3), dict(output_size=(2, 3, 2))),
    ("adaptive-max1d", "adaptive_max_pool1d", (1, 2, 10), dict(output_size=3)),
    ("adaptive-max2d", "adaptive_max_pool2d", (1, 2, 7, 5), dict(output_size=(4, 3))),
    ("adaptive-max2d-upsize", "adaptive_max_pool2d", (1, 2, 3, 2), dict(output_size=(5, 4))),
    ("adaptive-max3d", "adaptive_max_pool3d", (1, 1, 5, 7, 3), dict(output_size=(3, 2, 2))),
    ("lp1d-p2", "lp_pool1d", (1, 2, 9), dict(norm_type=2, kernel_size=3, stride=2)),
    ("lp2d-p3-ceil", "lp_pool2d", (1, 2, 7, 6), dict(norm_type=3, kernel_size=2, ceil_mode=True)),
    ("lp2d-p1.5", "lp_pool2d", (1, 2, 6, 6), dict(norm_type=1.5, kernel_size=(3, 2), stride=(2, 2))),
    ("lp3d", "lp_pool3d", (1, 1, 4, 4, 4), dict(norm_type=2, kernel_size=2)),
]


@pytest.mark.parametrize("name, shape, kwargs", [c[1:] for c in _POOL], ids=[c[0] for c in _POOL])
def test_pool_values_and_grads(name, shape, kwargs):
    positive = name.startswith("lp")  # lp pools of negative inputs with fractional p are NaN in both
    check(lambda lib, F, x: getattr(F, name)(x, **kwargs), shape, positive=positive)


@pytest.mark.parametrize("name, shape, kwargs", [
    ("max_pool1d", (1, 2, 10), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_pool2d", (2, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool3d", (1, 1, 5, 4, 5), dict(kernel_size=2, ceil_mode=True)),
    ("adaptive_max_pool1d", (1, 2, 10), dict(output_size=3)),
    ("adaptive_max_pool2d", (1, 2, 7, 5), dict(output_size=(4, 3))),
    ("adaptive_max_pool3d", (1, 1, 5, 7, 3), dict(output_size=2)),
], ids=["max1d", "max2d", "max3d", "amax1d", "amax2d", "amax3d"])
def test_pool_return_indices_and_unpool(name, shape, kwargs):
    def call(lib, F, x):
        out, indices = getattr(F, name)(x, return_indices=True, **kwargs)
        results = [out, indices]
        if name == "max_pool2d":
            results.append(F.max_unpool2d(out, indices, kernel_size=3, stride=2, padding=1, output_size=x.shape[-2:]))
        return results

    check(call, shape)


@pytest.mark.parametrize("call", [
    lambda F, lib: F.max_pool2d(lib.zeros(1, 1, 4, 4), kernel_size=3, padding=2),  # pad > k/2
    lambda F, lib: F.avg_pool2d(lib.zeros(1, 1, 2, 2), kernel_size=3),  # output size 0
    lambda F, lib: F.max_pool2d(lib.zeros(1, 1, 2, 2), kernel_size=3),
    lambda F, lib: F.adaptive_avg_pool2d(lib.zeros(1, 1, 4, 4), (2, 2, 2)),
    lambda F, lib: F.avg_pool1d(lib.zeros(4), kernel_size=2),  # 1-d input
    lambda F, lib: F.avg_pool2d(lib.zeros(1, 1, 4, 4), 2, divisor_override=0),
], ids=["max-pad", "avg-too-small", "max-too-small", "adaptive-size-len", "avg1d-1d", "divisor-zero"])
def test_pool_bad_shapes_raise_as_pytorch(call):
    raises_as_torch(lambda lib: call(lib.nn.functional, lib))


# --- distances and normalize ---------------------------------------------------------------------

_DIST = [
    ("normalize-p2", lambda lib, F, x: F.normalize(x), [(3, 4)]),
    ("normalize-p1-dim0", lambda lib, F, x: F.normalize(x, p=1, dim=0), [(3, 4)]),
    ("normalize-pinf", lambda lib, F, x: F.normalize(x, p=float("inf"), dim=-1), [(2, 3, 4)]),
    ("normalize-eps-zero-row", lambda lib, F, x: F.normalize(x * lib.tensor([[1.0], [0.0], [1e-14]], dtype=lib.float64), eps=1e-3), [(3, 4)]),
    ("normalize-p3-1d", lambda lib, F, x: F.normalize(x, p=3, dim=0), [(5,)]),
    ("cosine-broadcast", lambda lib, F, a, b: F.cosine_similarity(a, b, dim=-1), [(3, 1, 4), (5, 4)]),
    ("cosine-dim0", lambda lib, F, a, b: F.cosine_similarity(a, b, dim=0), [(4, 3), (4, 3)]),
    ("cosine-eps", lambda lib, F, a, b: F.cosine_similarity(a * 1e-5, b, dim=1, eps=1e-2), [(3, 4), (3, 4)]),
    ("cosine-1d", lambda lib, F, a, b: F.cosine_similarity(a, b, dim=0), [(6,), (6,)]),
    ("pairwise-p2", lambda lib, F, a, b: F.pairwise_distance(a, b), [(4, 5), (4, 5)]),
    ("pairwise-p1-keepdim", lambda lib, F, a, b: F.pairwise_distance(a, b, p=1, keepdim=True), [(4, 5), (4, 5)]),
    ("pairwise-broadcast-eps", lambda lib, F, a, b: F.pairwise_distance(a, b, p=3, eps=1e-3), [(4, 5), (1, 5)]),
    ("pairwise-1d", lambda lib, F, a, b: F.pairwise_distance(a, b), [(5,), (5,)]),
    ("pairwise-pinf", lambda lib, F, a, b: F.pairwise_distance(a, b, p=float("inf")), [(3, 4), (3, 4)]),
    ("pdist-p2", lambda lib, F, x: F.pdist(x), [(5, 3)]),
    ("pdist-p1", lambda lib, F, x: F.pdist(x, p=1), [(5, 3)]),
    ("pdist-p0.5", lambda lib, F, x: F.pdist(x, p=0.5), [(4, 3)]),
    ("pdist-pinf", lambda lib, F, x: F.pdist(x, p=float("inf")), [(4, 3)]),
    ("cdist-p2", lambda lib, F, a, b: lib.cdist(a, b), [(2, 4, 3), (2, 5, 3)]),
]


@pytest.mark.parametrize("call, shapes", [c[1:] for c in _DIST], ids=[c[0] for c in _DIST])
def test_distance_values_and_grads(call, shapes):
    check(call, *shapes)


def test_distance_bad_shapes_raise_as_pytorch():
    raises_as_torch(lambda lib: lib.nn.functional.pdist(lib.zeros(2, 3, 4)))
    raises_as_torch(lambda lib: lib.nn.functional.cosine_similarity(lib.zeros(3, 4), lib.zeros(2, 4)))
    raises_as_torch(lambda lib: lib.nn.functional.pairwise_distance(lib.zeros(3, 4), lib.zeros(3, 5)))


# --- fold / unfold / pixel shuffle ----------------------------------------------------------------

_FOLD = [
    ("unfold-basic", lambda lib, F, x: F.unfold(x, kernel_size=(2, 3)), (2, 3, 5, 6)),
    ("unfold-all", lambda lib, F, x: F.unfold(x, kernel_size=3, dilation=(1, 2), padding=1, stride=2), (1, 2, 7, 8)),
    ("unfold-unbatched", lambda lib, F, x: F.unfold(x, 2), (2, 4, 4)),
    ("fold-basic", lambda lib, F, x: F.fold(x, output_size=(4, 5), kernel_size=2), (2, 12, 12)),
    ("fold-overlap", lambda lib, F, x: F.fold(x, output_size=(5, 6), kernel_size=(2, 3), stride=1, padding=(1, 0)), (1, 6, 24)),
    ("fold-all", lambda lib, F, x: F.fold(x, (7, 8), kernel_size=3, dilation=(1, 2), padding=1, stride=2), (1, 18, 12)),
    ("fold-unbatched", lambda lib, F, x: F.fold(x, (4, 4), 2, stride=2), (8, 4)),
    ("fold-of-unfold", lambda lib, F, x: F.fold(F.unfold(x, 3, padding=1), (5, 5), 3, padding=1), (1, 2, 5, 5)),
    ("pixel-shuffle", lambda lib, F, x: F.pixel_shuffle(x, 2), (2, 8, 3, 2)),
    ("pixel-shuffle-3", lambda lib, F, x: F.pixel_shuffle(x, 3), (9, 2, 2)),
    ("pixel-unshuffle", lambda lib, F, x: F.pixel_unshuffle(x, 2), (1, 2, 4, 6)),
    ("pixel-roundtrip-batched", lambda lib, F, x: F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2), (2, 3, 4, 2, 2)),
]


@pytest.mark.parametrize("call, shape", [c[1:] for c in _FOLD], ids=[c[0] for c in _FOLD])
def test_fold_and_shuffle_values_and_grads(call, shape):
    check(call, shape)


@pytest.mark.parametrize("call", [
    lambda F, lib: F.fold(lib.zeros(1, 7, 12), (4, 5), 2),  # channels not divisible by kernel
    lambda F, lib: F.fold(lib.zeros(1, 8, 11), (4, 5), 2),  # wrong block count
    lambda F, lib: F.unfold(lib.zeros(3, 4), 2),  # 2-d input
    lambda F, lib: F.pixel_shuffle(lib.zeros(1, 6, 2, 2), 2),
    lambda F, lib: F.pixel_unshuffle(lib.zeros(1, 1, 3, 4), 2),
    lambda F, lib: F.pixel_shuffle(lib.zeros(4, 2), 2),
], ids=["fold-channels", "fold-blocks", "unfold-2d", "shuffle-channels", "unshuffle-size", "shuffle-2d"])
def test_fold_and_shuffle_bad_shapes_raise_as_pytorch(call):
    raises_as_torch(lambda lib: call(lib.nn.functional, lib))


# --- embedding / one_hot / gumbel -----------------------------------------------------------------

def _embedding_run(kwargs, index_values, extra_keys=()):
    table = _array((6, 4), 0) * 2

    def run(lib):
        weight = lib.tensor(table, requires_grad=True)
        indices = lib.tensor(index_values)
        out = lib.nn.functional.embedding(indices, weight, **kwargs)
        (out * lib.tensor(_array(tuple(out.shape), 1))).sum().backward()
        return [out, weight.grad, weight.detach().clone()]

    return run


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(padding_idx=2),
    dict(padding_idx=-1),
    dict(max_norm=1.0),
    dict(max_norm=1.5, norm_type=1.0),
    dict(max_norm=1.0, padding_idx=0),
    dict(scale_grad_by_freq=True),
], ids=["plain", "padding", "padding-negative", "max-norm", "max-norm-l1", "max-norm-padding", "scale-grad-by-freq"])
def test_embedding_values_grads_and_renorm_in_place(kwargs):
    same_in_both(_embedding_run(kwargs, [[0, 2, 5, 2], [1, 1, 3, 5]]))


def test_embedding_module_max_norm_and_padding_idx():
    def run(lib):
        lib.manual_seed(0)
        emb = lib.nn.Embedding(5, 3, padding_idx=1, max_norm=0.5).double()
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(_array((5, 3), 4)))
        out = emb(lib.tensor([1, 3, 3, 0]))
        out.sum().backward()
        return [out, emb.weight, emb.weight.grad, repr(emb)]

    same_in_both(run)


def test_embedding_bad_indices_raise_as_pytorch():
    raises_as_torch(lambda lib: lib.nn.functional.embedding(lib.tensor([0, 6]), lib.zeros(6, 3)))
    raises_as_torch(lambda lib: lib.nn.functional.embedding(lib.tensor([0.0, 1.0]), lib.zeros(6, 3)))
    raises_as_torch(lambda lib: lib.nn.functional.embedding(lib.tensor([0]), lib.zeros(6, 3), padding_idx=6))


@pytest.mark.parametrize("values, num_classes", [
    ([0, 2, 1], -1), ([[0, 3], [1, 1]], 5), (3, 4), ([], 3), ([[2]], -1),
], ids=["infer", "2d", "0d", "empty", "nested-infer"])
def test_one_hot(values, num_classes):
    same_in_both(lambda lib: lib.nn.functional.one_hot(lib.tensor(values, dtype=lib.int64), num_classes))


def test_one_hot_bad_input_raises_as_pytorch():
    raises_as_torch(lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 3]), 3))
    raises_as_torch(lambda lib: lib.nn.functional.one_hot(lib.tensor([0, -1]), 3))
    raises_as_torch(lambda lib: lib.nn.functional.one_hot(lib.tensor([0.0, 1.0]), 3))
    raises_as_torch(lambda lib: lib.nn.functional.one_hot(lib.tensor([], dtype=lib.int64)))


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("dim", [-1, 0])
def test_gumbel_softmax_shape_and_structure(hard, dim):
    def run(lib):
        logits = lib.tensor(_array((3, 5), 0), requires_grad=True)
        y = lib.nn.functional.gumbel_softmax(logits, tau=0.5, hard=hard, dim=dim)
        y.sum().backward()
        sums = y.detach().sum(dim)
        structure = [str(y.dtype).split(".")[-1], tuple(y.shape), y.requires_grad, tuple(logits.grad.shape),
                     bool(np.allclose(sums.numpy(), 1.0))]
        if hard:
            values = y.detach().numpy()
            structure.append(sorted(set(np.round(values, 12).ravel().tolist())))
        return structure

    same_in_both(run)


# --- normalisation functional forms ---------------------------------------------------------------

_NORM = [
    ("layer-norm-plain", lambda lib, F, x: F.layer_norm(x, (4,)), [(2, 3, 4)]),
    ("layer-norm-affine", lambda lib, F, x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3), [(2, 3, 4), (3, 4), (3, 4)]),
    ("layer-norm-weight-only", lambda lib, F, x, w: F.layer_norm(x, [4], weight=w), [(2, 3, 4), (4,)]),
    ("layer-norm-bias-only", lambda lib, F, x, b: F.layer_norm(x, [4], bias=b), [(2, 3, 4), (4,)]),
    ("rms-norm", lambda lib, F, x, w: F.rms_norm(x, (4,), w, eps=1e-4), [(2, 3, 4), (4,)]),
    ("group-norm-plain", lambda lib, F, x: F.group_norm(x, 2), [(2, 4, 3, 2)]),
    ("group-norm-affine", lambda lib, F, x, w, b: F.group_norm(x, 3, w, b, eps=1e-2), [(2, 6, 5), (6,), (6,)]),
    ("group-norm-one-group", lambda lib, F, x, w: F.group_norm(x, 1, w), [(3, 4, 2, 2), (4,)]),
    ("instance-norm-plain", lambda lib, F, x: F.instance_norm(x), [(2, 3, 5, 4)]),
    ("instance-norm-affine", lambda lib, F, x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3), [(2, 3, 7), (3,), (3,)]),
    ("batch-norm-train", lambda lib, F, x: F.batch_norm(x, None, None, training=True), [(4, 3, 2)]),
    ("batch-norm-train-affine", lambda lib, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-3), [(5, 3), (3,), (3,)]),
    ("batch-norm-eval-stats", lambda lib, F, x, w: F.batch_norm(
        x, lib.tensor([0.1, -0.2, 0.3], dtype=lib.float64), lib.tensor([1.5, 0.5, 2.0], dtype=lib.float64), w, training=False),
     [(4, 3, 2, 2), (3,)]),
    ("local-response-norm", lambda lib, F, x: F.local_response_norm(x, size=3), [(2, 5, 4)]),
    ("local-response-norm-args", lambda lib, F, x: F.local_response_norm(x, 4, alpha=1e-2, beta=0.5, k=2.0), [(1, 6, 3, 3)]),
    ("local-response-norm-3d", lambda lib, F, x: F.local_response_norm(x, 2), [(1, 4, 2, 3, 2)]),
]


@pytest.mark.parametrize("call, shapes", [c[1:] for c in _NORM], ids=[c[0] for c in _NORM])
def test_normalization_values_and_grads(call, shapes):
    check(call, *shapes)


@pytest.mark.parametrize("momentum", [0.1, None, 0.0])
def test_batch_norm_functional_updates_running_stats(momentum):
    def run(lib):
        mean = lib.tensor([0.1, -0.2, 0.3], dtype=lib.float64)
        var = lib.tensor([1.5, 0.5, 2.0], dtype=lib.float64)
        x = lib.tensor(_array((4, 3, 2), 0))
        out = lib.nn.functional.batch_norm(x, mean, var, training=True, momentum=momentum if momentum is not None else 0.1)
        return [out, mean, var]

    same_in_both(run)


@pytest.mark.parametrize("call", [
    lambda F, lib: F.group_norm(lib.zeros(2, 5, 3), 2),
    lambda F, lib: F.layer_norm(lib.zeros(2, 3), (4,)),
    lambda F, lib: F.batch_norm(lib.zeros(1, 3), None, None, training=True),
    lambda F, lib: F.instance_norm(lib.zeros(2, 3, 1)),
    lambda F, lib: F.batch_norm(lib.zeros(4, 3), lib.zeros(2), lib.ones(2)),
    lambda F, lib: F.layer_norm(lib.zeros(2, 4), (4,), weight=lib.ones(3)),
], ids=["group-divisible", "layer-shape", "batch-one-value", "instance-one-value", "batch-stat-size", "layer-weight"])
def test_normalization_bad_shapes_raise_as_pytorch(call):
    raises_as_torch(lambda lib: call(lib.nn.functional, lib))


# --- activations and eval-mode random functions ---------------------------------------------------

_ACT = [
    ("glu", lambda lib, F, x: F.glu(x), (3, 4)),
    ("glu-dim0", lambda lib, F, x: F.glu(x, dim=0), (4, 3)),
    ("softmin", lambda lib, F, x: F.softmin(x, dim=1), (3, 4)),
    ("softmin-dtype", lambda lib, F, x: F.softmin(x, dim=0, dtype=lib.float32), (3, 4)),
    ("log-softmax", lambda lib, F, x: F.log_softmax(x, dim=-1), (2, 3, 4)),
    ("log-softmax-dtype-up", lambda lib, F, x: F.log_softmax(x.float(), dim=1, dtype=lib.float64), (3, 4)),
    ("softmax-dtype", lambda lib, F, x: F.softmax(x.float(), -1, dtype=lib.float64), (3, 4)),
    ("log-softmax-0d", lambda lib, F, x: F.log_softmax(x.sum(), dim=0), (3,)),
    ("hardswish", lambda lib, F, x: F.hardswish(x * 3), (4, 5)),
    ("hardsigmoid", lambda lib, F, x: F.hardsigmoid(x * 3), (4, 5)),
    ("mish", lambda lib, F, x: F.mish(x * 3), (4, 5)),
    ("silu", lambda lib, F, x: F.silu(x * 3), (4, 5)),
    ("celu-alpha", lambda lib, F, x: F.celu(x, alpha=0.7), (4, 5)),
    ("selu", lambda lib, F, x: F.selu(x), (4, 5)),
    ("elu-alpha", lambda lib, F, x: F.elu(x, alpha=2.5), (4, 5)),
    ("elu-default", lambda lib, F, x: F.elu(x), (4, 5)),
    ("threshold", lambda lib, F, x: F.threshold(x, 0.3, -2.0), (4, 5)),
    ("threshold-keyword", lambda lib, F, x: F.threshold(x, threshold=-0.1, value=0.5), (4, 5)),
    ("rrelu-eval", lambda lib, F, x: F.rrelu(x, training=False), (4, 5)),
    ("rrelu-eval-bounds", lambda lib, F, x: F.rrelu(x, lower=0.1, upper=0.5), (4, 5)),
    ("leaky-relu", lambda lib, F, x: F.leaky_relu(x, 0.2), (4, 5)),
    ("softplus-beta-threshold", lambda lib, F, x: F.softplus(x * 5, beta=2, threshold=3), (4, 5)),
    ("hardtanh", lambda lib, F, x: F.hardtanh(x * 2, -0.5, 1.5), (4, 5)),
    ("gelu-tanh", lambda lib, F, x: F.gelu(x, approximate="tanh"), (4, 5)),
    ("softshrink", lambda lib, F, x: F.softshrink(x, 0.3), (4, 5)),
    ("hardshrink", lambda lib, F, x: F.hardshrink(x, 0.3), (4, 5)),
    ("prelu", lambda lib, F, x, w: F.prelu(x, w), [(2, 3, 4), (3,)]),
    ("logsigmoid", lambda lib, F, x: F.logsigmoid(x * 10), (4, 5)),
    ("tanhshrink", lambda lib, F, x: F.tanhshrink(x), (4, 5)),
    ("softsign", lambda lib, F, x: F.softsign(x), (4, 5)),
    ("relu6", lambda lib, F, x: F.relu6(x * 5), (4, 5)),
]


@pytest.mark.parametrize("call, shapes", [c[1:] for c in _ACT], ids=[c[0] for c in _ACT])
def test_activation_values_and_grads(call, shapes):
    shapes = shapes if isinstance(shapes, list) else [shapes]
    check(call, *shapes)


_DROPOUT = ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"]
_DROPOUT_SHAPES = {"dropout1d": (2, 3, 4), "dropout2d": (2, 3, 4, 2), "dropout3d": (2, 3, 2, 2, 2)}


@pytest.mark.parametrize("name", _DROPOUT)
def test_dropout_variants_are_identity_in_eval(name):
    shape = _DROPOUT_SHAPES.get(name, (3, 4, 2))

    def call(lib, F, x):
        out = getattr(F, name)(x, p=0.7, training=False)
        return [out, lib.tensor(out.data_ptr() == x.data_ptr())]

    check(call, shape)


@pytest.mark.parametrize("name", ["dropout", "dropout2d", "alpha_dropout"])
def test_dropout_bad_probability_raises_as_pytorch(name):
    raises_as_torch(lambda lib: getattr(lib.nn.functional, name)(lib.zeros(2, 3, 4), p=1.5, training=False))


@pytest.mark.parametrize("name", ["dropout", "dropout2d", "dropout1d"])
def test_dropout_p_one_in_training_zeros_everything(name):
    shape = {"dropout2d": (2, 3, 4, 2), "dropout1d": (2, 3, 4)}.get(name, (3, 4))
    check(lambda lib, F, x: getattr(F, name)(x, p=1.0, training=True), shape)


def test_activation_bad_arguments_raise_as_pytorch():
    raises_as_torch(lambda lib: lib.nn.functional.glu(lib.zeros(3, 5)))
    raises_as_torch(lambda lib: lib.nn.functional.glu(lib.tensor(1.0)))
    raises_as_torch(lambda lib: lib.nn.functional.gelu(lib.zeros(3), approximate="fast"))
    raises_as_torch(lambda lib: lib.nn.functional.prelu(lib.zeros(2, 3, 4), lib.zeros(4)))
    raises_as_torch(lambda lib: lib.nn.functional.log_softmax(lib.zeros(2, 3), dim=2))


# --- differences found by the sweep ---------------------------------------------------------------

def test_no_numpy_warnings_leak_from_grid_sample_of_nan_grid():
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.functional.grid_sample(lib.ones(1, 1, 2, 2), lib.full((1, 1, 1, 2), float("nan")), align_corners=False)
        return [out, [w.category.__name__ for w in caught]]

    same_in_both(run)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_with_positive_infinity(name):
    same_in_both(lambda lib: getattr(lib.nn.functional, name)(lib.tensor([float("inf"), 1.0]) * (-1 if name == "softmin" else 1), 0))


def test_embedding_bag_include_last_offset_with_per_sample_weights():
    same_in_both(lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([0, 1, 2, 1]), lib.arange(12.0).reshape(4, 3), lib.tensor([0, 3]), mode="sum",
        per_sample_weights=lib.tensor([1.0, 2.0, 3.0, 4.0]), include_last_offset=True))


def test_group_norm_of_an_empty_batch():
    check(lambda lib, F, x: F.group_norm(x, 2), (0, 4, 3))


@pytest.mark.parametrize("call", [
    pytest.param(lambda F, lib: F.one_hot(lib.tensor([], dtype=lib.int64), 0), id="one-hot-empty-zero-classes"),
    pytest.param(lambda F, lib: F.gumbel_softmax(lib.ones(2, 3, dtype=lib.int64)), id="gumbel-int"),
    pytest.param(lambda F, lib: F.layer_norm(lib.arange(6.0).reshape(2, 3), 3), id="layer-norm-int-shape"),
    pytest.param(lambda F, lib: F.layer_norm(lib.arange(6).reshape(2, 3), (3,)), id="layer-norm-int-input"),
    pytest.param(lambda F, lib: F.group_norm(lib.arange(6).reshape(1, 2, 3), 1), id="group-norm-int-input"),
    pytest.param(lambda F, lib: F.batch_norm(lib.arange(6).reshape(2, 3), lib.zeros(3), lib.ones(3)), id="batch-norm-int-input"),
    pytest.param(lambda F, lib: F.batch_norm(lib.arange(6.0).reshape(2, 3), lib.zeros(3, dtype=lib.int64), lib.ones(3, dtype=lib.int64)), id="batch-norm-int-running-stats"),
    pytest.param(lambda F, lib: F.batch_norm(lib.arange(6.0), lib.zeros(6), lib.ones(6)), id="batch-norm-1d-input"),
    pytest.param(lambda F, lib: F.dropout(lib.arange(3), p=0.5, training=True), id="dropout-int-training"),
    pytest.param(lambda F, lib: F.pad(lib.ones(1, 1, 1, 2, 3), (1,) * 8, mode="replicate"), id="replicate-pad-4-dims"),
    pytest.param(lambda F, lib: F.interpolate(lib.ones(1, 1, 4), size=2.0), id="interpolate-float-size"),
    pytest.param(lambda F, lib: F.conv1d(lib.ones(1, 1, 4), lib.ones(1, 1, 2), dilation=0), id="conv-dilation-zero"),
    pytest.param(lambda F, lib: F.conv_transpose1d(lib.ones(1, 1, 5), lib.ones(1, 1, 2), padding="same"), id="conv-transpose-same"),
])
def test_bad_arguments_pytorch_refuses(call):
    raises_as_torch(lambda lib: call(lib.nn.functional, lib))


# --- more option combinations (values and grads) --------------------------------------------------

_MORE = [
    ("interp-antialias-scale", lambda lib, F, x: F.interpolate(x, scale_factor=0.4, mode="bilinear", antialias=True), [(1, 1, 9, 7)]),
    ("interp-antialias-bicubic-ac", lambda lib, F, x: F.interpolate(x, size=(3, 4), mode="bicubic", antialias=True, align_corners=True), [(1, 1, 9, 7)]),
    ("interp-area-nondivisible", lambda lib, F, x: F.interpolate(x, scale_factor=0.7, mode="area"), [(1, 1, 9, 7)]),
    ("interp-size-1-ac", lambda lib, F, x: F.interpolate(x, size=1, mode="linear", align_corners=True), [(1, 1, 4)]),
    ("interp-from-size-1-ac", lambda lib, F, x: F.interpolate(x, size=4, mode="linear", align_corners=True), [(1, 1, 1)]),
    ("grid-bicubic-border-ac", lambda lib, F, x, g: F.grid_sample(x, g * 1.5, mode="bicubic", padding_mode="border", align_corners=True),
     [(1, 2, 4, 5), (1, 3, 4, 2)]),
    ("conv-same-kernel-bigger", lambda lib, F, x, w: F.conv1d(x, w, padding="same"), [(1, 1, 3), (1, 1, 6)]),
    ("conv-transpose-unbatched", lambda lib, F, x, w: F.conv_transpose2d(x, w, stride=2), [(2, 3, 3), (2, 1, 2, 2)]),
    ("conv-transpose-dilated-output-padding", lambda lib, F, x, w: F.conv_transpose1d(x, w, dilation=2, output_padding=1), [(1, 1, 4), (1, 1, 3)]),
    ("max-pool2d-unbatched", lambda lib, F, x: F.max_pool2d(x, 3, stride=2, padding=1), [(2, 5, 6)]),
    ("avg-pool1d-unbatched", lambda lib, F, x: F.avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False), [(2, 7)]),
    ("adaptive-avg-unbatched", lambda lib, F, x: F.adaptive_avg_pool2d(x, (4, 3)), [(2, 7, 5)]),
    ("adaptive-max-none", lambda lib, F, x: F.adaptive_max_pool2d(x, (None, 3)), [(1, 2, 7, 5)]),
    ("adaptive-avg-upsize", lambda lib, F, x: F.adaptive_avg_pool1d(x, 7), [(1, 2, 3)]),
    ("lp-pool-negative-odd-p", lambda lib, F, x: F.lp_pool1d(x, 3, 2), [(1, 1, 6)]),
    ("lp-pool-negative-p1", lambda lib, F, x: F.lp_pool1d(x, 1, 2), [(1, 1, 6)]),
    ("normalize-negative-p", lambda lib, F, x: F.normalize(x, p=-1.5), [(3, 4)]),
    ("normalize-tuple-dim", lambda lib, F, x: F.normalize(x, dim=(0, 1)), [(3, 4)]),
    ("cosine-dim-negative-broadcast", lambda lib, F, a, b: F.cosine_similarity(a, b, dim=-2), [(2, 4, 3), (4, 1)]),
    ("pairwise-1d-and-2d", lambda lib, F, a, b: F.pairwise_distance(a, b), [(4,), (3, 4)]),
    ("pdist-p0", lambda lib, F, x: F.pdist(x, p=0), [(4, 3)]),
    ("cdist-p1", lambda lib, F, a, b: lib.cdist(a, b, p=1), [(3, 4), (5, 4)]),
    ("cdist-pinf", lambda lib, F, a, b: lib.cdist(a, b, p=float("inf")), [(3, 4), (5, 4)]),
    ("cdist-mm", lambda lib, F, a, b: lib.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), [(3, 4), (5, 4)]),
    ("embedding-padding-freq", lambda lib, F, w: F.embedding(lib.tensor([[1, 1, 2], [0, 1, 3]]), w, padding_idx=1, scale_grad_by_freq=True), [(4, 3)]),
    ("group-norm-2d", lambda lib, F, x: F.group_norm(x, 2), [(3, 4)]),
    ("batch-norm-train-weight-only", lambda lib, F, x, w: F.batch_norm(x, None, None, weight=w, training=True), [(4, 3, 2), (3,)]),
    ("local-response-norm-size-large", lambda lib, F, x: F.local_response_norm(x, 7), [(1, 3, 4)]),
    ("glu-dim1", lambda lib, F, x: F.glu(x, 1), [(2, 6, 3)]),
    ("threshold-inplace", lambda lib, F, x: F.threshold(x * 1, 0.1, 3.0, inplace=True), [(4, 5)]),
    ("elu-inplace", lambda lib, F, x: F.elu(x * 1, 0.5, inplace=True), [(4, 5)]),
    ("celu-inplace", lambda lib, F, x: F.celu(x * 1, 0.5, inplace=True), [(4, 5)]),
    ("selu-inplace", lambda lib, F, x: F.selu(x * 1, inplace=True), [(4, 5)]),
    ("hardswish-inplace", lambda lib, F, x: F.hardswish(x * 3, inplace=True), [(4, 5)]),
    ("rrelu-inplace-eval", lambda lib, F, x: F.rrelu(x * 1, 0.2, 0.4, inplace=True), [(4, 5)]),
    ("elu-negative-alpha", lambda lib, F, x: F.elu(x, alpha=-0.5), [(4, 5)]),
    ("dropout-p0-training", lambda lib, F, x: F.dropout(x, 0.0, training=True), [(4, 5)]),
    ("alpha-dropout-p0-training", lambda lib, F, x: F.alpha_dropout(x, 0.0, training=True), [(4, 5)]),
]


@pytest.mark.parametrize("call, shapes", [c[1:] for c in _MORE], ids=[c[0] for c in _MORE])
def test_more_option_combinations(call, shapes):
    check(call, *shapes)


@pytest.mark.parametrize("x", [[0.0, -0.0], [-3.0, 3.0, 0.0], [0.5, -0.5, 6.0, -1.0]], ids=["zeros", "threes", "edges"])
@pytest.mark.parametrize("name, kwargs", [
    ("hardswish", {}), ("hardsigmoid", {}), ("relu6", {}), ("hardtanh", {}), ("elu", dict(alpha=2.0)), ("celu", dict(alpha=2.0)),
    ("leaky_relu", dict(negative_slope=0.2)), ("rrelu", {}), ("softshrink", dict(lambd=0.5)), ("hardshrink", dict(lambd=0.5)),
    ("threshold", dict(threshold=0.5, value=2.0)),
])
def test_activation_gradients_at_kinks(name, kwargs, x):
    def run(lib):
        leaf = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        out = getattr(lib.nn.functional, name)(leaf, **kwargs)
        out.sum().backward()
        return [out, leaf.grad]

    same_in_both(run)
