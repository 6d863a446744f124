"""Convolutions: the op table runs gradcheck (float64) and the PyTorch comparison of values and
gradients over drawn shapes for each geometry (strides, paddings, dilations, groups, odd sizes,
batch 1); then second derivatives, unfold/fold, the node names and formulas, and errors."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test


@st.composite
def conv_shapes(draw, spatial, kernel, stride, padding, dilation, groups, transposed=False, bias=True, spare=4):
    """input (N, C, *size), weight and bias shapes that the geometry accepts (sizes at least the
    kernel's reach, up to ``spare`` more; batch 1 included)."""
    batch = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    reach = dilation * (kernel - 1) + 1
    size = tuple(draw(st.integers(max(reach - 2 * padding, 1) if not transposed else 1, reach + spare)) for _ in range(spatial))
    if transposed:
        weight = (in_channels, out_channels // groups) + (kernel,) * spatial
    else:
        weight = (out_channels, in_channels // groups) + (kernel,) * spatial
    return ((batch, in_channels) + size, weight) + (((out_channels,),) if bias else ())


# (kernel, stride, padding, dilation, groups)
GEOMETRIES = [
    (3, 1, 0, 1, 1),
    (3, 1, 1, 1, 1),
    (2, 2, 0, 1, 1),
    (3, 2, 1, 1, 2),
    (3, 1, 2, 2, 1),
    (1, 1, 0, 1, 3),
    (4, 3, 1, 1, 1),
    (5, 1, 2, 1, 1),
]


def _conv2d_case(kernel, stride, padding, dilation, groups, bias=True):
    name = f"conv2d_k{kernel}_s{stride}_p{padding}_d{dilation}_g{groups}" + ("" if bias else "_nobias")
    return library_case(
        name,
        lambda lib, x, w, *b: lib.nn.functional.conv2d(x, w, b[0] if b else None, stride, padding, dilation, groups),
        conv_shapes(2, kernel, stride, padding, dilation, groups, bias=bias),
    )


def _conv1d_case(kernel, stride, padding, dilation, groups):
    return library_case(
        f"conv1d_k{kernel}_s{stride}_p{padding}_d{dilation}_g{groups}",
        lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, stride, padding, dilation, groups),
        conv_shapes(1, kernel, stride, padding, dilation, groups),
    )


def _conv3d_case(kernel, stride, padding, dilation, groups):
    """Volumes: sides at most 2 past the kernel's reach, so that gradcheck stays quick."""
    return library_case(
        f"conv3d_k{kernel}_s{stride}_p{padding}_d{dilation}_g{groups}",
        lambda lib, x, w, b: lib.nn.functional.conv3d(x, w, b, stride, padding, dilation, groups),
        conv_shapes(3, kernel, stride, padding, dilation, groups, spare=2),
    )


def _transposed_case(kernel, stride, padding, dilation, groups, output_padding=0, spatial=2):
    name = f"conv_transpose{spatial}d"
    return library_case(
        f"{name}_k{kernel}_s{stride}_p{padding}_d{dilation}_g{groups}_op{output_padding}",
        lambda lib, x, w, b: getattr(lib.nn.functional, name)(x, w, b, stride, padding, output_padding, groups, dilation),
        conv_shapes(spatial, kernel, stride, padding, dilation, groups, transposed=True, spare=4 if spatial < 3 else 1),
    )


CASES = (
    [_conv2d_case(*geometry) for geometry in GEOMETRIES]
    + [_conv2d_case(3, 2, 1, 1, 1, bias=False)]
    + [_conv1d_case(*geometry) for geometry in GEOMETRIES[:5]]
    + [_conv3d_case(*geometry) for geometry in GEOMETRIES[:6]]
    + [
        _transposed_case(3, 1, 0, 1, 1),
        _transposed_case(3, 2, 1, 1, 1, output_padding=1),
        _transposed_case(2, 2, 0, 1, 2),
        _transposed_case(3, 1, 1, 2, 1),
        _transposed_case(4, 3, 2, 1, 1, output_padding=2),
        _transposed_case(3, 2, 1, 1, 1, output_padding=1, spatial=1),
        _transposed_case(2, 1, 0, 2, 2, spatial=1),
        _transposed_case(3, 2, 1, 1, 1, output_padding=1, spatial=3),
        _transposed_case(2, 1, 0, 2, 2, spatial=3),
        _transposed_case(2, 2, 0, 1, 1, spatial=3),
        library_case("conv_transpose3d_unbatched", lambda lib, x, w: lib.conv_transpose3d(x, w, None, (2, 1, 1)), st.just(((3, 2, 3, 2), (3, 2, 2, 1, 2)))),
        library_case(
            "conv3d_same_even_kernel_dilated",
            lambda lib, x, w, b: lib.nn.functional.conv3d(x, w, b, padding="same", dilation=(1, 2, 1)),
            st.just(((1, 2, 3, 5, 4), (3, 2, 2, 2, 3), (3,))),
        ),
        library_case(
            "conv3d_valid_rectangular",
            lambda lib, x, w: lib.nn.functional.conv3d(x, w, None, (2, 1, 3), "valid", (1, 2, 1)),
            st.just(((2, 3, 5, 5, 6), (4, 3, 2, 2, 3))),
        ),
        library_case("conv3d_unbatched", lambda lib, x, w, b: lib.conv3d(x, w, b, 1, (1, 0, 1)), st.just(((3, 3, 4, 2), (2, 3, 2, 3, 2), (2,)))),
        library_case("convolution_3d_transposed", lambda lib, x, w, b: lib.convolution(x, w, b, [2, 2, 1], [1, 0, 1], [1, 1, 2], True, [1, 0, 0], 1), st.just(((1, 2, 3, 2, 3), (2, 3, 3, 3, 2), (3,)))),
        library_case("conv_transpose1d_unbatched", lambda lib, x, w: lib.conv_transpose1d(x, w, None, 2), st.just(((3, 5), (3, 2, 3)))),
        library_case(
            "conv2d_same_even_kernel",
            lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding="same", dilation=1),
            conv_shapes(2, 4, 1, 0, 1, 1),
        ),
        library_case(
            "conv2d_same_dilated",
            lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding="same", dilation=2),
            conv_shapes(2, 3, 1, 0, 2, 1),
        ),
        library_case(
            "conv2d_valid_rectangular",
            lambda lib, x, w: lib.nn.functional.conv2d(x, w, None, (2, 1), "valid", (1, 2)),
            st.just(((2, 3, 7, 9), (4, 3, 2, 3))),
        ),
        library_case("conv2d_unbatched", lambda lib, x, w, b: lib.conv2d(x, w, b, 1, 1), st.just(((3, 5, 4), (2, 3, 3, 3), (2,)))),
        library_case("convolution", lambda lib, x, w, b: lib.convolution(x, w, b, [2, 1], [1, 0], [1, 1], False, [0, 0], 1), st.just(((2, 3, 6, 5), (4, 3, 3, 2), (4,)))),
        library_case("unfold", lambda lib, x: lib.nn.functional.unfold(x, (2, 3), 1, 1, (2, 1)), st.just(((2, 3, 5, 6),))),
        library_case("unfold_dilated", lambda lib, x: lib.nn.functional.unfold(x, 2, 2, 0, 1), st.just(((1, 2, 6, 5),))),
        library_case("fold", lambda lib, x: lib.nn.functional.fold(x, (5, 6), (2, 3), 1, 1, (2, 1)), st.just(((2, 18, 18),))),
        library_case("fold_overlapping", lambda lib, x: lib.nn.functional.fold(x, (4, 4), 2), st.just(((1, 8, 9),))),
    ]
)

test_op = table_test(CASES, max_examples=4)


# ----------------------------------------------------------------------------- second derivatives
SECOND_ORDER = [
    ("conv2d", lambda lib, x, w: lib.nn.functional.conv2d(x, w, None, 2, 1, 1, 2), ((2, 4, 6, 5), (4, 2, 3, 3))),
    ("conv2d_dilated", lambda lib, x, w: lib.nn.functional.conv2d(x, w, None, 1, 2, 2, 1), ((1, 2, 5, 6), (3, 2, 3, 2))),
    ("conv1d", lambda lib, x, w: lib.nn.functional.conv1d(x, w, None, 2, 1), ((2, 3, 9), (2, 3, 3))),
    ("conv_transpose2d", lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w, None, 2, 1, 1, 2), ((2, 4, 3, 4), (4, 1, 3, 3))),
    ("conv_transpose1d", lambda lib, x, w: lib.nn.functional.conv_transpose1d(x, w, None, 2, 1, 1), ((2, 3, 5), (3, 2, 3))),
    ("conv3d", lambda lib, x, w: lib.nn.functional.conv3d(x, w, None, (2, 1, 1), 1, (1, 1, 2), 2), ((2, 4, 4, 3, 5), (2, 2, 2, 3, 2))),
    ("conv_transpose3d", lambda lib, x, w: lib.nn.functional.conv_transpose3d(x, w, None, 2, 1, (1, 0, 1), 2), ((1, 4, 2, 3, 2), (4, 1, 3, 2, 3))),
    ("unfold", lambda lib, x, w: lib.nn.functional.unfold(x * w, 2, 1, 1, 2), ((1, 2, 5, 5), (1, 2, 5, 5))),
    ("fold", lambda lib, x, w: lib.nn.functional.fold(x * w, (4, 5), 2, 1, 1, 2), ((1, 8, 9), (1, 8, 9))),
]


@pytest.mark.parametrize("name, call, shapes", SECOND_ORDER, ids=[case[0] for case in SECOND_ORDER])
def test_second_derivatives_match_pytorch(name, call, shapes):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    results = []
    for lib in (chainrule, torch):
        x, w = (lib.tensor(array, requires_grad=True) for array in arrays)
        grad_x, grad_w = lib.autograd.grad((lib.tanh(call(lib, x, w)) ** 2).sum(), (x, w), create_graph=True)
        second = lib.autograd.grad((grad_x**2).sum() + (grad_w * grad_w).sum(), (x, w))
        results.append([np.asarray(gradient.detach().numpy()) for gradient in second])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-8, err_msg=name)


def test_conv2d_is_weight_times_unfold():
    x, w = chainrule.randn(2, 3, 6, 5), chainrule.randn(4, 3, 3, 2)
    columns = chainrule.nn.functional.unfold(x, (3, 2))
    by_hand = (w.reshape(4, -1) @ columns).reshape(2, 4, 4, 4)
    np.testing.assert_allclose(chainrule.conv2d(x, w)._array, by_hand._array, rtol=1e-5, atol=1e-5)


def test_float32_stays_float32_and_nodes_print_as_pytorch():
    x = chainrule.randn(1, 2, 5, 5, requires_grad=True)
    w = chainrule.randn(3, 2, 3, 3, requires_grad=True)
    out = chainrule.conv2d(x, w)
    assert out.dtype == chainrule.float32
    assert type(out.grad_fn).__name__ == "ConvolutionBackward0"
    assert type(chainrule.conv_transpose2d(x, w.transpose(0, 1)).grad_fn).__name__ == "ConvolutionBackward0"
    assert type(chainrule.nn.functional.unfold(x, 2).grad_fn).__name__ == "Im2ColBackward0"
    assert "weight[o, c, p, q]" in type(out.grad_fn).function.formula
    out.sum().backward()
    assert x.grad.dtype == chainrule.float32 and w.grad.dtype == chainrule.float32


def test_no_grad_records_nothing():
    with chainrule.no_grad():
        out = chainrule.conv2d(chainrule.randn(1, 1, 4, 4, requires_grad=True), chainrule.randn(1, 1, 2, 2, requires_grad=True))
    assert out.grad_fn is None and not out.requires_grad


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda lib: lib.conv2d(lib.randn(1, 3, 5, 5), lib.randn(2, 2, 3, 3)), RuntimeError, "channels"),
        (lambda lib: lib.conv2d(lib.randn(1, 2, 2, 2), lib.randn(2, 2, 3, 3)), RuntimeError, "Kernel size can't be greater"),
        (lambda lib: lib.conv2d(lib.randn(5, 5), lib.randn(2, 2, 3, 3)), RuntimeError, "input"),
        (lambda lib: lib.conv2d(lib.randn(1, 2, 5, 5), lib.randn(2, 2, 3, 3), stride=2, padding="same"), (ValueError, RuntimeError), "same"),
        (lambda lib: lib.conv2d(lib.randn(1, 2, 5, 5), lib.randn(2, 2, 3, 3), lib.randn(3)), RuntimeError, "bias"),
        (lambda lib: lib.conv_transpose2d(lib.randn(1, 2, 5, 5), lib.randn(2, 2, 3, 3), output_padding=1), RuntimeError, "output padding"),
        (lambda lib: lib.conv_transpose1d(lib.randn(1, 2, 5), lib.randn(2, 2, 3), output_padding=1), RuntimeError, "output padding"),
        (lambda lib: lib.conv_transpose1d(lib.randn(1, 3, 5), lib.randn(2, 2, 3)), RuntimeError, "channels"),
        (lambda lib: lib.conv_transpose1d(lib.randn(1, 1, 2, 5), lib.randn(2, 2, 3)), RuntimeError, "input"),
        (lambda lib: lib.conv3d(lib.randn(1, 3, 5, 5, 5), lib.randn(2, 2, 3, 3, 3)), RuntimeError, r"expected input\[1, 3, 5, 5, 5\] to have 2 channels.*\(conv3d\)"),
        (lambda lib: lib.conv3d(lib.randn(1, 2, 2, 5, 5), lib.randn(2, 2, 3, 3, 3)), RuntimeError, "Kernel size can't be greater"),
        (lambda lib: lib.conv3d(lib.randn(5, 5, 5), lib.randn(2, 2, 3, 3, 3)), RuntimeError, r"\(N, C, D, H, W\)"),
        (lambda lib: lib.conv3d(lib.randn(1, 2, 5, 5, 5), lib.randn(2, 2, 3, 3)), RuntimeError, "weight"),
        (lambda lib: lib.conv3d(lib.randn(1, 2, 5, 5, 5), lib.randn(2, 2, 3, 3, 3), stride=2, padding="same"), (ValueError, RuntimeError), "same"),
        (lambda lib: lib.conv3d(lib.randn(1, 4, 5, 5, 5), lib.randn(3, 2, 3, 3, 3), groups=2), RuntimeError, "divisible by 2"),
        (lambda lib: lib.conv_transpose3d(lib.randn(1, 2, 3, 3, 3), lib.randn(2, 2, 3, 3, 3), output_padding=1), RuntimeError, "output padding"),
        (lambda lib: lib.conv_transpose3d(lib.randn(1, 2, 3, 3, 3), lib.randn(2, 2, 3, 3, 3), lib.randn(3)), RuntimeError, "bias"),
    ],
)
def test_errors_as_pytorch(call, error, words):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=words):
        call(chainrule)


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 1, 1, 1), (2, 1, 1, 2), (1, 2, 2, 1)])
def test_batches_worked_through_in_chunks_match_pytorch(monkeypatch, stride, padding, dilation, groups):
    """Large batches go through im2col and col2im a chunk of samples at a time (``CHUNK_BYTES``):
    made tiny here, every sample is its own chunk, and values and gradients stay PyTorch's."""
    from chainrule.ops import conv

    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(shape) for shape in ((3, 4, 7, 6), (6, 4 // groups, 3, 3), (4, 6 // groups, 3, 2))]
    results = []
    for lib in (chainrule, torch):
        x, w, w_transposed = (lib.tensor(array, requires_grad=True) for array in arrays)
        out = lib.conv2d(x, w, None, stride, padding, dilation, groups)
        up = lib.conv_transpose2d(x, w_transposed, None, stride, padding, 0, groups, dilation)
        ((out * out).sum() + (up * up).sum()).backward()
        results.append([np.asarray(value.detach().numpy()) for value in (out, up, x.grad, w.grad, w_transposed.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_the_columns_kept_for_the_weight_gradient_are_freed_by_backward():
    x, w = chainrule.randn(2, 3, 6, 6, requires_grad=True), chainrule.randn(4, 3, 3, 3, requires_grad=True)
    out = chainrule.conv2d(x, w)
    assert out.grad_fn.input_columns  # kept by forward: the weight gradient reuses them
    out.sum().backward()
    assert "input_columns" not in vars(out.grad_fn) and "columns_input" not in vars(out.grad_fn)
