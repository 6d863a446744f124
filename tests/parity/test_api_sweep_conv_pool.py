"""A sweep of convolution, pooling, upsampling, pixel-shuffle and fold layers against PyTorch (the
oracle): outputs and float64 gradients of input and weight for Conv1d/2d/3d and ConvTranspose with
padding modes, strides, dilations and groups; max / avg / adaptive / LP pooling with their options,
MaxUnpool, ``F.interpolate`` in every mode, PixelShuffle, Fold / Unfold, unbatched inputs, module
reprs, state_dict round trips and the exception types PyTorch raises for bad shapes.

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
from tests.parity.sweep import outcome, raises_as_torch


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    if isinstance(value, dict):
        return [(key, plain(each)) for key, each in value.items()]
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple) and len(expected) == 3 and isinstance(expected[2], np.ndarray):
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(lib, shape, seed=0, dtype="float64"):
    return lib.tensor(data(shape, seed), dtype=getattr(lib, dtype), requires_grad=True)


def fill_parameters(lib, module, seed=1):
    """Give ``module`` the same float64 parameters in both libraries."""
    module = module.double()
    with lib.no_grad():
        for index, (_, parameter) in enumerate(sorted(module.named_parameters())):
            parameter.copy_(lib.tensor(data(tuple(parameter.shape), seed + index)))
    return module


def forward_backward(lib, module, shape, *extra, seed=0, **kwargs):
    """Output, input gradient and parameter gradients of ``module`` on a float64 input of ``shape``."""
    x = leaf(lib, shape, seed)
    out = module(x, *extra, **kwargs)
    first = out[0] if isinstance(out, tuple) else out
    (first * lib.tensor(data(tuple(first.shape), 99))).sum().backward()
    grads = [parameter.grad for _, parameter in sorted(module.named_parameters())]
    return [out if not isinstance(out, tuple) else list(out), x.grad] + grads


def functional_grad(lib, fn, shape, seed=0):
    x = leaf(lib, shape, seed)
    out = fn(lib, x)
    first = out[0] if isinstance(out, tuple) else out
    (first * lib.tensor(data(tuple(first.shape), 99))).sum().backward()
    return [out if not isinstance(out, tuple) else list(out), x.grad]


# --- convolutions ------------------------------------------------------------------------------

_CONV_CASES = [
    ("Conv1d", dict(in_channels=2, out_channels=3, kernel_size=3), (2, 2, 9)),
    ("Conv1d", dict(in_channels=4, out_channels=4, kernel_size=3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 11)),
    ("Conv1d", dict(in_channels=2, out_channels=3, kernel_size=4, padding="same", dilation=2), (1, 2, 10)),
    ("Conv1d", dict(in_channels=2, out_channels=3, kernel_size=3, padding="valid", bias=False), (1, 2, 7)),
    ("Conv1d", dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode="reflect"), (1, 2, 7)),
    ("Conv1d", dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="replicate"), (1, 2, 7)),
    ("Conv1d", dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode="circular"), (1, 2, 7)),
    ("Conv1d", dict(in_channels=2, out_channels=2, kernel_size=3, padding=1), (2, 6)),  # unbatched
    ("Conv2d", dict(in_channels=2, out_channels=4, kernel_size=(3, 2), stride=(2, 1), padding=(1, 2)), (2, 2, 7, 6)),
    ("Conv2d", dict(in_channels=4, out_channels=6, kernel_size=3, dilation=(2, 1), groups=2, bias=False), (1, 4, 8, 7)),
    ("Conv2d", dict(in_channels=3, out_channels=3, kernel_size=3, groups=3), (1, 3, 5, 5)),  # depthwise
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=(3, 4), padding="same"), (1, 2, 6, 7)),
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=3, padding=(1, 2), padding_mode="reflect"), (1, 2, 5, 6)),
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="replicate", stride=2), (1, 2, 6, 6)),
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=3, padding=(2, 1), padding_mode="circular"), (1, 2, 5, 6)),
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=3, padding="same", padding_mode="circular"), (1, 2, 5, 6)),
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=2), (2, 5, 5)),  # unbatched
    ("Conv3d", dict(in_channels=2, out_channels=2, kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=1), (1, 2, 4, 5, 4)),
    ("Conv3d", dict(in_channels=2, out_channels=2, kernel_size=3, padding="same", padding_mode="replicate"), (1, 2, 4, 4, 4)),
    ("Conv3d", dict(in_channels=2, out_channels=2, kernel_size=2, groups=2, bias=False), (2, 3, 3, 3)),  # unbatched
    ("ConvTranspose1d", dict(in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1, output_padding=1), (2, 2, 5)),
    ("ConvTranspose1d", dict(in_channels=4, out_channels=2, kernel_size=3, groups=2, dilation=2, bias=False), (1, 4, 5)),
    ("ConvTranspose1d", dict(in_channels=2, out_channels=3, kernel_size=2), (2, 4)),  # unbatched
    ("ConvTranspose2d", dict(in_channels=2, out_channels=3, kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2)), (1, 2, 4, 3)),
    ("ConvTranspose2d", dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, groups=2, dilation=(1, 2)), (2, 4, 3, 4)),
    ("ConvTranspose2d", dict(in_channels=2, out_channels=2, kernel_size=4, stride=2, padding=1), (2, 3, 3)),  # unbatched
    ("ConvTranspose3d", dict(in_channels=2, out_channels=2, kernel_size=2, stride=2, padding=(0, 1, 0), output_padding=1), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name, kwargs, shape", _CONV_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(_CONV_CASES)])
def test_convolution_output_and_gradients_match(name, kwargs, shape):
    same_in_both(lambda lib: forward_backward(lib, fill_parameters(lib, getattr(lib.nn, name)(**kwargs)), shape), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_transpose_forward_output_size_argument(dims):
    def run(lib):
        cls = getattr(lib.nn, f"ConvTranspose{dims}d")
        module = fill_parameters(lib, cls(2, 3, kernel_size=3, stride=2, padding=1))
        shape = (1, 2) + (3,) * dims
        return forward_backward(lib, module, shape, output_size=[6] * dims)
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_conv_transpose_output_size_with_batch_and_channel_dims_and_out_of_range():
    def run(lib):
        module = fill_parameters(lib, lib.nn.ConvTranspose2d(2, 3, kernel_size=3, stride=2, padding=1))
        return module(lib.ones(1, 2, 3, 3, dtype=lib.float64), output_size=(1, 3, 6, 5)).shape
    same_in_both(run)
    raises_as_torch(lambda lib: lib.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)(lib.ones(1, 2, 3, 3), output_size=(9, 9)))


@pytest.mark.parametrize("fn, wshape, xshape, kwargs", [
    ("conv1d", (3, 2, 3), (2, 2, 8), dict(stride=2, padding=1, dilation=1, groups=1)),
    ("conv2d", (4, 1, 3, 3), (1, 2, 6, 6), dict(padding="same", groups=2)),
    ("conv2d", (3, 2, 2, 2), (2, 5, 5), dict(padding="valid")),
    ("conv3d", (2, 2, 2, 2, 2), (1, 2, 3, 4, 3), dict(stride=(1, 2, 1), padding=(1, 0, 1))),
    ("conv_transpose1d", (2, 3, 3), (1, 2, 4), dict(stride=2, output_padding=1, groups=1, dilation=1)),
    ("conv_transpose2d", (4, 1, 2, 3), (1, 4, 3, 3), dict(stride=(2, 1), padding=(0, 1), groups=2)),
    ("conv_transpose3d", (2, 2, 2, 2, 2), (1, 2, 2, 2, 2), dict(stride=2, dilation=2)),
])
def test_functional_convolutions_with_weight_gradients(fn, wshape, xshape, kwargs):
    def run(lib):
        x = leaf(lib, xshape, 0)
        w = leaf(lib, wshape, 1)
        b = leaf(lib, (wshape[0] if "transpose" not in fn else wshape[1] * kwargs.get("groups", 1),), 2)
        out = getattr(lib.nn.functional, fn)(x, w, b, **kwargs)
        (out * lib.tensor(data(tuple(out.shape), 99))).sum().backward()
        return [out, x.grad, w.grad, b.grad]
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_conv_float32_result_and_int_input_raises():
    def run(lib):
        conv = lib.nn.Conv2d(1, 1, 2, bias=False)
        with lib.no_grad():
            conv.weight.fill_(0.5)
        return conv(lib.arange(9.0).reshape(1, 1, 3, 3))
    same_in_both(run)
    raises_as_torch(lambda lib: lib.nn.Conv2d(1, 1, 2)(lib.ones(1, 1, 3, 3, dtype=lib.int64)))
    raises_as_torch(lambda lib: lib.nn.Conv2d(1, 1, 2)(lib.ones(1, 1, 3, 3, dtype=lib.float64)))


@pytest.mark.parametrize("case", [
    "kernel_larger_than_input", "wrong_channels", "wrong_rank", "groups_not_dividing", "same_with_stride",
    "bad_padding_string", "bad_padding_mode", "negative_padding_functional", "output_padding_too_big", "zero_stride",
    "bool_input",
])
def test_convolution_errors_raise_pytorchs_exception_type(case):
    def run(lib):
        nn, F = lib.nn, lib.nn.functional
        if case == "kernel_larger_than_input":
            return nn.Conv2d(1, 1, 5)(lib.ones(1, 1, 3, 3))
        if case == "wrong_channels":
            return nn.Conv2d(3, 1, 2)(lib.ones(1, 2, 4, 4))
        if case == "wrong_rank":
            return nn.Conv2d(1, 1, 2)(lib.ones(1, 1, 1, 4, 4))
        if case == "groups_not_dividing":
            return nn.Conv2d(3, 4, 2, groups=2)
        if case == "same_with_stride":
            return nn.Conv2d(1, 1, 3, stride=2, padding="same")
        if case == "bad_padding_string":
            return nn.Conv2d(1, 1, 3, padding="full")
        if case == "bad_padding_mode":
            return nn.Conv2d(1, 1, 3, padding_mode="mirror")
        if case == "negative_padding_functional":
            return F.conv2d(lib.ones(1, 1, 4, 4), lib.ones(1, 1, 2, 2), padding=-1)
        if case == "output_padding_too_big":
            return nn.ConvTranspose2d(1, 1, 3, stride=1, output_padding=1)(lib.ones(1, 1, 3, 3))
        if case == "zero_stride":
            return F.conv1d(lib.ones(1, 1, 5), lib.ones(1, 1, 2), stride=0)
        if case == "bool_input":
            return F.conv2d(lib.ones(1, 1, 3, 3, dtype=lib.bool), lib.ones(1, 1, 2, 2, dtype=lib.bool))
        raise AssertionError(case)
    raises_as_torch(run)


def test_conv_modules_repr_and_state_dict_round_trip():
    def run(lib):
        nn = lib.nn
        modules = [
            nn.Conv1d(2, 3, 3), nn.Conv2d(2, 4, (3, 2), stride=2, padding=1, dilation=2, groups=2, bias=False),
            nn.Conv2d(1, 1, 3, padding="same", padding_mode="reflect"), nn.Conv3d(1, 2, 3, padding="valid"),
            nn.ConvTranspose1d(2, 3, 3, stride=2, output_padding=1), nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1, groups=2),
            nn.ConvTranspose3d(1, 1, 2, dilation=2, bias=False), nn.Conv2d(2, 2, 3, padding=(1, 2), padding_mode="circular"),
        ]
        result = []
        for module in modules:
            state = module.state_dict()
            result.append(repr(module))
            result.append([(key, tuple(value.shape)) for key, value in state.items()])
            result.append(repr(module.load_state_dict(state)))
        return result
    same_in_both(run)


def test_conv_attributes_users_read():
    def run(lib):
        conv = lib.nn.Conv2d(2, 4, 3, padding="same", groups=2)
        tconv = lib.nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1)
        return [conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                conv.groups, conv.padding_mode, tuple(conv.weight.shape), tuple(conv.bias.shape),
                tconv.output_padding, tconv.transposed, conv.transposed, tuple(tconv.weight.shape)]
    same_in_both(run)


# --- pooling -----------------------------------------------------------------------------------

_POOL_CASES = [
    ("MaxPool1d", dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 11)),
    ("MaxPool1d", dict(kernel_size=2), (3, 7)),
    ("MaxPool2d", dict(kernel_size=3), (1, 2, 7, 8)),
    ("MaxPool2d", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True), (2, 2, 6, 7)),
    ("MaxPool2d", dict(kernel_size=2, dilation=2, return_indices=True), (1, 2, 7, 7)),
    ("MaxPool2d", dict(kernel_size=3, stride=2, ceil_mode=True, return_indices=True), (2, 5, 5)),
    ("MaxPool3d", dict(kernel_size=2, stride=(1, 2, 2), padding=1, return_indices=True), (1, 1, 3, 4, 5)),
    ("AvgPool1d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 2, 8)),
    ("AvgPool1d", dict(kernel_size=2), (3, 7)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1), (1, 2, 7, 6)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True), (1, 2, 7, 6)),
    ("AvgPool2d", dict(kernel_size=2, divisor_override=3), (1, 2, 6, 6)),
    ("AvgPool2d", dict(kernel_size=(2, 3), stride=1, ceil_mode=True), (2, 5, 5)),
    ("AvgPool3d", dict(kernel_size=2, stride=2, padding=1, count_include_pad=False, divisor_override=None), (1, 2, 3, 4, 5)),
    ("AvgPool3d", dict(kernel_size=2, ceil_mode=True, divisor_override=5), (1, 1, 3, 3, 3)),
    ("AdaptiveAvgPool1d", dict(output_size=3), (2, 3, 7)),
    ("AdaptiveAvgPool2d", dict(output_size=(3, None)), (1, 2, 7, 5)),
    ("AdaptiveAvgPool2d", dict(output_size=4), (2, 7, 9)),
    ("AdaptiveAvgPool3d", dict(output_size=(2, None, 3)), (1, 2, 5, 4, 7)),
    ("AdaptiveMaxPool1d", dict(output_size=4, return_indices=True), (2, 3, 9)),
    ("AdaptiveMaxPool2d", dict(output_size=(None, 2), return_indices=True), (1, 2, 5, 7)),
    ("AdaptiveMaxPool2d", dict(output_size=3), (2, 7, 8)),
    ("AdaptiveMaxPool3d", dict(output_size=2, return_indices=True), (1, 1, 5, 4, 3)),
    ("LPPool1d", dict(norm_type=2, kernel_size=3, stride=2), (1, 2, 9)),
    ("LPPool2d", dict(norm_type=3, kernel_size=(2, 3), stride=2, ceil_mode=True), (1, 2, 7, 6)),
    ("LPPool2d", dict(norm_type=1, kernel_size=2), (2, 4, 4)),
    ("LPPool3d", dict(norm_type=2, kernel_size=2), (1, 1, 4, 4, 4)),
]


@pytest.mark.parametrize("name, kwargs, shape", _POOL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(_POOL_CASES)])
def test_pooling_output_indices_and_gradient_match(name, kwargs, shape):
    def run(lib):
        module = getattr(lib.nn, name)(**kwargs)
        x = leaf(lib, shape, 0)
        if name.startswith("LP"):
            x = (x.detach().abs() + 0.5).requires_grad_()
        out = module(x)
        first = out[0] if isinstance(out, tuple) else out
        (first * lib.tensor(data(tuple(first.shape), 99))).sum().backward()
        return [list(out) if isinstance(out, tuple) else out, x.grad]
    same_in_both(run, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("fn, args, kwargs, shape", [
    ("max_pool1d", (3,), dict(stride=1, padding=1, return_indices=True), (1, 2, 6)),
    ("max_pool2d", ((2, 2),), dict(ceil_mode=True), (1, 1, 5, 5)),
    ("max_pool3d", (2,), dict(return_indices=True), (1, 1, 4, 4, 4)),
    ("avg_pool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (1, 2, 7)),
    ("avg_pool2d", (3,), dict(stride=2, divisor_override=2), (1, 1, 7, 7)),
    ("avg_pool3d", (2,), dict(stride=1, padding=1), (1, 1, 3, 3, 3)),
    ("adaptive_avg_pool1d", (3,), dict(), (1, 2, 7)),
    ("adaptive_avg_pool2d", ((None, 3),), dict(), (1, 2, 4, 7)),
    ("adaptive_max_pool2d", (2,), dict(return_indices=True), (1, 2, 5, 5)),
    ("adaptive_max_pool1d", (2,), dict(), (1, 2, 5)),
    ("lp_pool1d", (2.0, 3), dict(stride=2, ceil_mode=True), (1, 2, 8)),
    ("lp_pool2d", (2, 2), dict(), (1, 1, 4, 5)),
])
def test_functional_pooling(fn, args, kwargs, shape):
    def run(lib):
        def call(lib, x):
            if fn.startswith("lp"):
                x = x.abs() + 0.5
            return getattr(lib.nn.functional, fn)(x, *args, **kwargs)
        return functional_grad(lib, call, shape)
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_max_pool_ties_pick_the_same_index_and_route_gradient_the_same():
    def run(lib):
        x = lib.tensor([[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [0.0, 3.0, 3.0, 0.0], [3.0, 3.0, 0.0, 0.0]]]],
                       dtype=lib.float64, requires_grad=True)
        out, idx = lib.nn.functional.max_pool2d(x, 2, stride=1, return_indices=True)
        out.sum().backward()
        return [out, idx, x.grad]
    same_in_both(run)


def test_pooling_integer_and_float32_dtypes():
    def run(lib):
        F = lib.nn.functional
        x = lib.arange(16).reshape(1, 1, 4, 4)
        return [F.max_pool2d(x, 2), F.max_pool2d(x.float(), 2), F.avg_pool2d(x.float(), 2), F.avg_pool2d(x * 3, 3, 1),
                F.avg_pool1d(lib.arange(7).reshape(1, 7) * 5, 2), F.avg_pool2d(x.double(), 2, divisor_override=3),
                F.adaptive_max_pool2d(x.float(), 2), F.max_pool1d(lib.arange(6.0).reshape(1, 6), 2)]
    same_in_both(run)


@pytest.mark.parametrize("case", [
    "kernel_larger_than_input", "padding_more_than_half_kernel", "adaptive_int_input", "adaptive_empty_spatial",
    "avg_kernel_too_big", "max_wrong_rank", "adaptive_bad_output_len", "avg_zero_divisor", "zero_stride",
    "lp_pool_empty",
])
def test_pooling_errors_raise_pytorchs_exception_type(case):
    def run(lib):
        F = lib.nn.functional
        if case == "kernel_larger_than_input":
            return F.max_pool2d(lib.ones(1, 1, 2, 2), 3)
        if case == "padding_more_than_half_kernel":
            return F.max_pool2d(lib.ones(1, 1, 6, 6), 2, padding=2)
        if case == "adaptive_int_input":
            return F.adaptive_avg_pool2d(lib.ones(1, 1, 4, 4, dtype=lib.int64), 2)
        if case == "adaptive_empty_spatial":
            return F.adaptive_avg_pool2d(lib.ones(1, 1, 0, 4), 2)
        if case == "avg_kernel_too_big":
            return F.avg_pool1d(lib.ones(1, 1, 2), 3)
        if case == "max_wrong_rank":
            return F.max_pool2d(lib.ones(4), 2)
        if case == "adaptive_bad_output_len":
            return F.adaptive_avg_pool2d(lib.ones(1, 1, 4, 4), (2, 2, 2))
        if case == "avg_zero_divisor":
            return F.avg_pool2d(lib.ones(1, 1, 4, 4), 2, divisor_override=0)
        if case == "zero_stride":
            return F.max_pool1d(lib.ones(1, 1, 5), 2, stride=0)
        if case == "lp_pool_empty":
            return F.lp_pool2d(lib.ones(1, 1, 1, 1), 2, 2)
        raise AssertionError(case)
    raises_as_torch(run)


def test_pooling_on_empty_batch():
    def run(lib):
        F = lib.nn.functional
        x = lib.ones(0, 2, 4, 4)
        return [F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 3), lib.nn.Conv2d(2, 3, 3)(x).shape,
                F.interpolate(x, scale_factor=2).shape]
    same_in_both(run)


def test_pooling_modules_repr():
    def run(lib):
        nn = lib.nn
        return [repr(m) for m in [
            nn.MaxPool1d(3), nn.MaxPool2d(2, stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True),
            nn.MaxPool3d((2, 3, 2)), nn.AvgPool1d(3, stride=2), nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
            nn.AvgPool2d(3, divisor_override=4), nn.AvgPool3d(2, padding=1), nn.AdaptiveAvgPool2d((None, 7)),
            nn.AdaptiveAvgPool1d(5), nn.AdaptiveMaxPool2d(3, return_indices=True), nn.AdaptiveMaxPool3d((1, None, 2)),
            nn.LPPool1d(2, 3), nn.LPPool2d(1.5, (2, 3), stride=1, ceil_mode=True), nn.MaxUnpool2d(2), nn.MaxUnpool1d(3, stride=2, padding=1),
            nn.MaxUnpool3d((2, 2, 2)),
        ]]
    same_in_both(run)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_round_trip_with_output_size_and_gradient(dims):
    def run(lib):
        nn = lib.nn
        pool = getattr(nn, f"MaxPool{dims}d")(2, stride=2, return_indices=True)
        unpool = getattr(nn, f"MaxUnpool{dims}d")(2, stride=2)
        shape = (1, 2) + (5,) * dims
        x = leaf(lib, shape)
        out, idx = pool(x)
        y = unpool(out, idx, output_size=x.shape)
        z = outcome(lambda: unpool(out, idx))  # indices of a 5-wide input do not fit the default 4-wide output
        z = list(z) if z[0] == "raises" else ["ok", z[1]]
        (y * lib.tensor(data(tuple(y.shape), 99))).sum().backward()
        return [y, z, idx, x.grad]
    same_in_both(run)


def test_max_unpool_functional_and_bad_output_size():
    def run(lib):
        F = lib.nn.functional
        x = lib.tensor(data((1, 1, 4, 4)))
        out, idx = F.max_pool2d(x, 2, return_indices=True)
        return [F.max_unpool2d(out, idx, 2), F.max_unpool2d(out, idx, 2, output_size=[5, 5]),
                F.max_unpool1d(*F.max_pool1d(x[0], 2, return_indices=True), kernel_size=2)]
    same_in_both(run)
    raises_as_torch(lambda lib: lib.nn.functional.max_unpool2d(
        *lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), 2, return_indices=True), 2, output_size=(9, 9)))


# --- interpolate / Upsample ------------------------------------------------------------------

_INTERP_CASES = [
    ((1, 2, 5), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 5), dict(size=8, mode="nearest")),
    ((1, 2, 7), dict(size=3, mode="nearest")),
    ((1, 2, 5), dict(size=8, mode="nearest-exact")),
    ((1, 2, 7), dict(scale_factor=0.5, mode="nearest-exact")),
    ((1, 2, 5), dict(size=8, mode="linear", align_corners=False)),
    ((1, 2, 5), dict(size=8, mode="linear", align_corners=True)),
    ((1, 2, 5), dict(scale_factor=1.7, mode="linear")),
    ((1, 2, 5), dict(scale_factor=1.7, mode="linear", recompute_scale_factor=True)),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="bilinear", align_corners=False)),
    ((1, 2, 4, 5), dict(scale_factor=(2, 1.5), mode="bilinear", align_corners=True)),
    ((1, 2, 4, 5), dict(scale_factor=0.6, mode="bilinear", recompute_scale_factor=True)),
    ((2, 1, 4, 5), dict(scale_factor=1.3, mode="bilinear")),
    ((2, 1, 4, 5), dict(size=(6, 7), mode="bicubic", align_corners=False)),
    ((2, 1, 4, 5), dict(size=(6, 7), mode="bicubic", align_corners=True)),
    ((1, 1, 6, 6), dict(scale_factor=0.5, mode="bicubic")),
    ((1, 2, 3, 4, 3), dict(size=(5, 5, 4), mode="trilinear")),
    ((1, 2, 3, 4, 3), dict(scale_factor=2, mode="trilinear", align_corners=True)),
    ((1, 2, 3, 4, 3), dict(scale_factor=(1, 2, 1.5), mode="nearest")),
    ((1, 2, 7), dict(size=3, mode="area")),
    ((1, 2, 7, 9), dict(size=(3, 4), mode="area")),
    ((1, 2, 4, 6, 5), dict(scale_factor=0.5, mode="area")),
    ((1, 2, 3, 3), dict(scale_factor=2.5, mode="nearest")),
    ((1, 2, 3, 3), dict(scale_factor=2.5, mode="nearest", recompute_scale_factor=True)),
]


@pytest.mark.parametrize("shape, kwargs", _INTERP_CASES, ids=[f"{c[1]['mode']}-{i}" for i, c in enumerate(_INTERP_CASES)])
def test_interpolate_output_and_gradient_match(shape, kwargs):
    same_in_both(lambda lib: functional_grad(lib, lambda lib, x: lib.nn.functional.interpolate(x, **kwargs), shape),
                 rtol=1e-7, atol=1e-9)


def test_upsample_modules_forward_and_repr():
    def run(lib):
        nn = lib.nn
        x = lib.tensor(data((1, 2, 3, 4)))
        modules = [nn.Upsample(scale_factor=2), nn.Upsample(size=(5, 6), mode="bilinear", align_corners=True),
                   nn.Upsample(scale_factor=1.5, mode="bicubic"), nn.UpsamplingNearest2d(scale_factor=2),
                   nn.UpsamplingBilinear2d(size=(4, 7)), nn.Upsample(scale_factor=(2.0, 3.0), mode="nearest-exact")]
        return [repr(m) for m in modules] + [m(x) for m in modules]
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_interpolate_unbatched_and_float32_integer_inputs():
    def run(lib):
        F = lib.nn.functional
        x = lib.arange(12.0).reshape(1, 3, 4)
        u8 = lib.arange(12, dtype=lib.uint8).reshape(1, 1, 3, 4)
        return [F.interpolate(x, scale_factor=2), F.interpolate(x, size=5, mode="linear"),
                F.interpolate(u8, scale_factor=2), F.interpolate(u8, size=(4, 5), mode="nearest-exact")]
    same_in_both(run)


@pytest.mark.parametrize("case", [
    "both_size_and_scale", "neither", "align_corners_with_nearest_warns_or_raises", "bad_mode", "linear_on_4d",
    "bilinear_on_3d", "size_wrong_length", "scale_wrong_length", "zero_size", "bicubic_on_5d",
])
def test_interpolate_errors_raise_pytorchs_exception_type(case):
    def run(lib):
        F = lib.nn.functional
        x3, x4, x5 = lib.ones(1, 1, 4), lib.ones(1, 1, 4, 4), lib.ones(1, 1, 2, 2, 2)
        if case == "both_size_and_scale":
            return F.interpolate(x4, size=8, scale_factor=2)
        if case == "neither":
            return F.interpolate(x4)
        if case == "align_corners_with_nearest_warns_or_raises":
            return F.interpolate(x4, scale_factor=2, mode="nearest", align_corners=True)
        if case == "bad_mode":
            return F.interpolate(x4, scale_factor=2, mode="cubic")
        if case == "linear_on_4d":
            return F.interpolate(x4, scale_factor=2, mode="linear")
        if case == "bilinear_on_3d":
            return F.interpolate(x3, scale_factor=2, mode="bilinear")
        if case == "size_wrong_length":
            return F.interpolate(x4, size=(2, 3, 4))
        if case == "scale_wrong_length":
            return F.interpolate(x4, scale_factor=(2, 2, 2))
        if case == "zero_size":
            return F.interpolate(x4, size=(0, 2))
        if case == "bicubic_on_5d":
            return F.interpolate(x5, scale_factor=2, mode="bicubic")
        raise AssertionError(case)
    raises_as_torch(run)


def test_interpolate_warns_like_pytorch():
    def warned(lib, call):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(lib)
        return sorted({each.category.__name__ for each in caught})

    calls = [
        lambda lib: lib.nn.functional.upsample(lib.ones(1, 1, 2, 2), scale_factor=2),
        lambda lib: lib.nn.functional.upsample_bilinear(lib.ones(1, 1, 2, 2), scale_factor=2),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 2, 2), scale_factor=2, mode="bilinear"),
    ]
    assert [warned(chainrule, call) for call in calls] == [warned(torch, call) for call in calls]


@pytest.mark.parametrize("mode, antialias, align_corners", [
    ("bilinear", False, False), ("bilinear", False, True), ("bilinear", True, False), ("bicubic", False, False), ("bicubic", True, False),
])
def test_interpolate_uint8_images_in_bilinear_and_bicubic_modes(mode, antialias, align_corners):
    def run(lib):
        image = lib.tensor((np.arange(96).reshape(1, 3, 4, 8) * 2.5).astype(np.uint8))
        return [lib.nn.functional.interpolate(image, size=(6, 5), mode=mode, antialias=antialias, align_corners=align_corners)]
    same_in_both(run)


@pytest.mark.parametrize("seed", range(4))
def test_interpolate_random_uint8_images_round_and_clamp_as_pytorch(seed):
    """PyTorch resizes uint8 images in fixed point (width, then height, each pass rounded and
    clamped): the values must be equal, not close. (Outputs of 2 x 2 and more, and up to 4 channels:
    PyTorch's uint8 kernels fail an internal assert for a 1 x 1 RGB output, and its generic one,
    taken for more than 4 channels, repeats the first row for an output width of 1.)"""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        channels, height, width = int(rng.choice([1, 3, 4])), *(int(v) for v in rng.integers(1, 14, 2))
        image = rng.integers(0, 256, (2, channels, height, width)).astype(np.uint8)
        if rng.integers(3) == 0:  # black and white only: bicubic overshoots past 0 and 255
            image = np.where(image > 127, 255, 0).astype(np.uint8)
        size = tuple(int(v) for v in rng.integers(2, 30, 2)) if rng.integers(2) else None
        scale = None if size else tuple(float(max(v, 2 / n)) for v, n in zip(rng.uniform(0.3, 3.0, 2), (height, width)))
        mode, antialias, align_corners = str(rng.choice(["bilinear", "bicubic"])), bool(rng.integers(2)), bool(rng.integers(2))

        def run(lib):
            return [lib.nn.functional.interpolate(lib.tensor(image), size=size, scale_factor=scale, mode=mode,
                                                  antialias=antialias, align_corners=align_corners)]
        same_in_both(run, rtol=0, atol=0)


@pytest.mark.parametrize("dtype, mode, antialias", [
    ("float16", "bilinear", True), ("float16", "bicubic", True), ("int64", "bilinear", True), ("int32", "bicubic", False),
    ("int8", "nearest", False), ("bool", "bilinear", False),
])
def test_interpolate_dtypes_pytorch_refuses(dtype, mode, antialias):
    raises_as_torch(lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4, dtype=getattr(lib, dtype)), size=(2, 3),
                                                              mode=mode, antialias=antialias))


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64"])
@pytest.mark.parametrize("fn, spatial", [("conv1d", 1), ("conv2d", 2), ("conv3d", 3), ("conv_transpose1d", 1),
                                         ("conv_transpose2d", 2), ("conv_transpose3d", 3)])
def test_convolutions_of_integer_and_bool_tensors(fn, spatial, dtype):
    """PyTorch convolves integers (not bool); its transposed convolutions take int64 only. An
    empty batch reaches no kernel, so it gives an empty result whatever the dtype."""
    def run(lib, batch=1):
        x = lib.tensor(np.arange(batch * 2 * 4**spatial).reshape((batch, 2) + (4,) * spatial) % 3, dtype=getattr(lib, dtype))
        groups = 2 if spatial == 2 else 1
        w = lib.tensor(np.arange(4 // groups * 2**spatial).reshape((2, 2 // groups) + (2,) * spatial) % 2, dtype=getattr(lib, dtype))
        return getattr(lib.nn.functional, fn)(x, w, stride=2 if fn.endswith("3d") else 1, groups=groups)
    kind, _ = outcome(lambda: run(torch))
    if kind == "raises":
        raises_as_torch(run)
    else:
        same_in_both(lambda lib: [run(lib)])
    same_in_both(lambda lib: [run(lib, batch=0)])


def test_interpolate_antialias_downsampling_with_gradients():
    def run(lib):
        F = lib.nn.functional
        return [functional_grad(lib, lambda lib, x: F.interpolate(x, size=(3, 4), mode="bilinear", antialias=True), (1, 2, 7, 9)),
                functional_grad(lib, lambda lib, x: F.interpolate(x, scale_factor=0.4, mode="bicubic", antialias=True), (1, 1, 8, 8)),
                functional_grad(lib, lambda lib, x: F.interpolate(x, size=(6, 7), mode="bilinear", antialias=True), (1, 1, 4, 4))]
    same_in_both(run, rtol=1e-7, atol=1e-9)


# --- fractional max pooling with fixed samples ---------------------------------------------------


@pytest.mark.parametrize("dims, kwargs", [(2, dict(output_size=4)), (2, dict(output_ratio=0.5)), (3, dict(output_size=(3, 4, 3)))])
def test_fractional_max_pool_with_given_random_samples(dims, kwargs):
    def run(lib):
        x = leaf(lib, (1, 2) + (7,) * dims)
        samples = lib.tensor(np.random.default_rng(5).random((1, 2, dims)), dtype=lib.float64)
        module = getattr(lib.nn, f"FractionalMaxPool{dims}d")(2, return_indices=True, _random_samples=samples, **kwargs)
        out, idx = module(x)
        (out * lib.tensor(data(tuple(out.shape), 99))).sum().backward()
        return [out, idx, x.grad, repr(module)]
    same_in_both(run)
    raises_as_torch(lambda lib: getattr(lib.nn, f"FractionalMaxPool{dims}d")(2))
    raises_as_torch(lambda lib: getattr(lib.nn, f"FractionalMaxPool{dims}d")(2, output_ratio=1.5))


# --- top-level torch.* spellings -----------------------------------------------------------------


def test_top_level_convolution_and_pooling_functions():
    def run(lib):
        x, x1 = lib.tensor(data((1, 2, 5, 5))), lib.tensor(data((1, 2, 6)))
        return [lib.conv2d(x, lib.tensor(data((3, 2, 2, 2), 1)), None, 1, 1),
                lib.conv1d(x1, lib.tensor(data((3, 2, 2), 1)), padding="same"),
                lib.conv_transpose2d(x, lib.tensor(data((2, 3, 2, 2), 1)), stride=2),
                lib.convolution(x, lib.tensor(data((3, 2, 2, 2), 1)), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
                lib.max_pool2d(x, 2), lib.avg_pool1d(x1, 2), lib.adaptive_avg_pool1d(x1, 4), list(lib.adaptive_max_pool1d(x1, 4)),
                lib.pixel_shuffle(lib.tensor(data((1, 4, 2, 2))), 2), lib.pixel_unshuffle(lib.tensor(data((1, 1, 4, 2))), 2),
                lib.channel_shuffle(lib.tensor(data((1, 4, 2, 2))), 2), list(lib.nn.functional.max_pool2d_with_indices(x, 2))]
    same_in_both(run)


def test_warnings_of_layer_construction_and_use():
    def warned(lib, call):
        # warn-always: some of these are once-per-process warnings (TORCH_WARN_ONCE), which a test run
        # earlier in the same worker may already have given
        lib.set_warn_always(True)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call(lib)
        finally:
            lib.set_warn_always(False)
        return sorted({each.category.__name__ for each in caught})

    calls = [
        lambda lib: lib.nn.LazyConv2d(3, 3),
        lambda lib: lib.nn.Conv1d(0, 2, 2),
        lambda lib: lib.nn.UpsamplingBilinear2d(scale_factor=2)(lib.ones(1, 1, 2, 2)),
        lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=2)(lib.ones(1, 1, 2, 2)),
        lambda lib: lib.nn.functional.upsample_nearest(lib.ones(1, 1, 2, 2), scale_factor=2),
        lambda lib: lib.nn.Conv1d(1, 1, 4, padding="same")(lib.ones(1, 1, 6)),
        lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 5, 5), 2, ceil_mode=True),
    ]
    assert [warned(chainrule, call) for call in calls] == [warned(torch, call) for call in calls]


# --- pixel shuffle / fold ----------------------------------------------------------------------


def test_pixel_shuffle_and_unshuffle_round_trip_repr_and_gradient():
    def run(lib):
        nn = lib.nn
        x = leaf(lib, (2, 8, 3, 2))
        shuffled = nn.PixelShuffle(2)(x)
        back = nn.PixelUnshuffle(2)(shuffled)
        unbatched = lib.nn.functional.pixel_shuffle(lib.arange(18.0).reshape(9, 1, 2), 3)
        batched5 = lib.nn.functional.pixel_unshuffle(lib.arange(48.0).reshape(2, 1, 1, 4, 6), 2)
        (shuffled * lib.tensor(data(tuple(shuffled.shape), 99))).sum().backward()
        return [shuffled, back, unbatched, batched5, x.grad, repr(nn.PixelShuffle(3)), repr(nn.PixelUnshuffle(2))]
    same_in_both(run)


@pytest.mark.parametrize("case", ["channels_not_divisible", "spatial_not_divisible", "too_few_dims", "zero_factor"])
def test_pixel_shuffle_errors(case):
    def run(lib):
        F = lib.nn.functional
        if case == "channels_not_divisible":
            return F.pixel_shuffle(lib.ones(1, 5, 2, 2), 2)
        if case == "spatial_not_divisible":
            return F.pixel_unshuffle(lib.ones(1, 1, 3, 4), 2)
        if case == "too_few_dims":
            return F.pixel_shuffle(lib.ones(4, 2), 2)
        if case == "zero_factor":
            return F.pixel_shuffle(lib.ones(1, 4, 2, 2), 0)
        raise AssertionError(case)
    raises_as_torch(run)


@pytest.mark.parametrize("kwargs, shape", [
    (dict(kernel_size=2), (2, 3, 4, 5)),
    (dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (1, 2, 5, 6)),
    (dict(kernel_size=3, padding=1), (2, 4, 4)),  # unbatched
])
def test_unfold_and_fold_match_with_gradients(kwargs, shape):
    def run(lib):
        nn = lib.nn
        x = leaf(lib, shape)
        patches = nn.Unfold(**kwargs)(x)
        folded = nn.Fold(output_size=shape[-2:], **kwargs)(patches)
        (folded * lib.tensor(data(tuple(folded.shape), 99))).sum().backward()
        ones = lib.ones(shape, dtype=lib.float64)
        divisor = lib.nn.functional.fold(lib.nn.functional.unfold(ones, **kwargs), shape[-2:], **kwargs)
        return [patches, folded, x.grad, divisor, repr(nn.Unfold(**kwargs)), repr(nn.Fold(shape[-2:], **kwargs))]
    same_in_both(run)


@pytest.mark.parametrize("case", ["unfold_3d_input", "fold_wrong_block_count", "fold_channels_not_divisible", "unfold_kernel_too_big"])
def test_fold_unfold_errors(case):
    def run(lib):
        F = lib.nn.functional
        if case == "unfold_3d_input":
            return F.unfold(lib.ones(1, 1, 1, 4, 4), 2)
        if case == "fold_wrong_block_count":
            return F.fold(lib.ones(1, 4, 7), (4, 4), 2)
        if case == "fold_channels_not_divisible":
            return F.fold(lib.ones(1, 5, 9), (4, 4), 2)
        if case == "unfold_kernel_too_big":
            return F.unfold(lib.ones(1, 1, 2, 2), 3)
        raise AssertionError(case)
    raises_as_torch(run)


# --- higher-order gradients and module attributes -------------------------------------------------


def test_double_backward_through_conv_pool_and_interpolate():
    def run(lib):
        F = lib.nn.functional
        x, w = leaf(lib, (1, 1, 6)), leaf(lib, (1, 1, 3), 1)
        results = []
        for f in (lambda x: F.conv1d(x, w), lambda x: F.max_pool1d(x, 2), lambda x: F.interpolate(x, scale_factor=2, mode="linear"),
                  lambda x: F.avg_pool1d(x * x, 3, 1, 1)):
            (g,) = lib.autograd.grad((f(x) ** 2).sum(), x, create_graph=True)
            results.append(lib.autograd.grad(g.sum(), x, allow_unused=True)[0])
        (gw,) = lib.autograd.grad((F.conv1d(x, w) ** 2).sum(), w, create_graph=True)
        results.append(lib.autograd.grad(gw.sum(), x)[0])
        return results
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_pooling_and_fold_module_attributes():
    def run(lib):
        nn = lib.nn
        maxpool, avgpool, avg1, unpool = nn.MaxPool2d(3), nn.AvgPool2d(3), nn.AvgPool1d(3), nn.MaxUnpool2d(3)
        lp, fold, up = nn.LPPool2d(2, 3), nn.Fold(4, 2), nn.Upsample(scale_factor=2)
        return [maxpool.kernel_size, maxpool.stride, maxpool.padding, maxpool.dilation, maxpool.return_indices, maxpool.ceil_mode,
                avgpool.kernel_size, avgpool.stride, avgpool.padding, avgpool.count_include_pad, avgpool.divisor_override,
                avg1.kernel_size, avg1.stride, avg1.padding, unpool.kernel_size, unpool.stride, unpool.padding,
                lp.norm_type, lp.kernel_size, lp.stride, lp.ceil_mode, fold.output_size, fold.kernel_size, fold.stride,
                up.scale_factor, up.size, up.mode, up.align_corners, up.recompute_scale_factor]
    same_in_both(run)
