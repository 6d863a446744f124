"""The fast paths of convolution, pooling and padding against PyTorch: depthwise convolutions
(groups = C, stride 1: runs of the flattened planes, any channel multiplier, dilation, padding,
1-3 spatial dimensions, and their transposed), the flat input gradient of 3-d convolutions,
adaptive max pooling over windows of unequal sizes (ties, nan, overlapping windows), and
reflect/circular padding by slices; values, gradients (the op table runs gradcheck too) and
second derivatives."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test


def fixed(*shapes):
    return st.just(tuple(shapes))



def functional(lib):
    return lib.nn.functional


CASES = [
    # depthwise: (input, weight, bias) shapes and the call's keyword arguments
    *[
        library_case(
            f"depthwise_{name}",
            lambda lib, x, w, b, call=call, arguments=arguments: getattr(functional(lib), call)(x, w, b, **arguments),
            fixed(*shapes),
        )
        for name, call, shapes, arguments in [
            ("2d", "conv2d", ((2, 4, 6, 5), (4, 1, 3, 3), (4,)), dict(padding=1, groups=4)),
            ("2d_multiplier", "conv2d", ((2, 3, 5, 6), (6, 1, 3, 2), (6,)), dict(padding=(1, 0), groups=3)),
            ("2d_dilated", "conv2d", ((1, 2, 7, 7), (4, 1, 3, 3), (4,)), dict(padding=2, dilation=2, groups=2)),
            ("2d_same", "conv2d", ((2, 3, 5, 5), (3, 1, 4, 4), (3,)), dict(padding="same", groups=3)),
            ("2d_strided", "conv2d", ((2, 3, 7, 7), (3, 1, 3, 3), (3,)), dict(stride=2, padding=1, groups=3)),
            ("1d", "conv1d", ((2, 3, 9), (6, 1, 4), (6,)), dict(padding=2, groups=3)),
            ("3d", "conv3d", ((1, 2, 4, 5, 4), (2, 1, 2, 3, 2), (2,)), dict(padding=1, groups=2)),
            ("transposed", "conv_transpose2d", ((2, 6, 4, 5), (6, 1, 3, 3), (3,)), dict(padding=1, groups=3)),
            ("transposed_dilated", "conv_transpose2d", ((1, 4, 3, 4), (4, 1, 2, 3), (2,)), dict(dilation=2, groups=2)),
            ("transposed_3d", "conv_transpose3d", ((1, 2, 3, 3, 2), (2, 1, 2, 2, 2), (2,)), dict(groups=2)),
        ]
    ],
    library_case("conv3d_flat_input_gradient", lambda lib, x, w: functional(lib).conv3d(x, w, padding=(1, 0, 2), dilation=(1, 2, 1)), fixed((2, 3, 4, 6, 3), (2, 3, 2, 2, 3))),
    library_case("conv_transpose3d_dilated", lambda lib, x, w: functional(lib).conv_transpose3d(x, w, padding=(0, 1, 1), dilation=2), fixed((1, 2, 2, 3, 2), (2, 3, 2, 2, 2))),
    *[
        library_case(f"adaptive_max_pool2d_{size}", lambda lib, x, size=size: functional(lib).adaptive_max_pool2d(x, size), fixed((2, 3, 7, 10)))
        for size in [(3, 4), (5, 3), (7, 6), (1, 3), (9, 13)]
    ],
    library_case("adaptive_max_pool3d_uneven", lambda lib, x: functional(lib).adaptive_max_pool3d(x, (2, 3, 4)), fixed((1, 2, 5, 4, 7))),
    library_case("adaptive_max_pool1d_uneven", lambda lib, x: functional(lib).adaptive_max_pool1d(x, 4), fixed((2, 3, 9))),
    *[
        library_case(f"pad_{mode}_{len(pad)}", lambda lib, x, pad=pad, mode=mode: functional(lib).pad(x, pad, mode=mode), fixed(shape))
        for mode in ("reflect", "circular")
        for pad, shape in [((2, 3), (2, 3, 5)), ((1, 2, 3, 0), (2, 2, 4, 5)), ((1, 1, 0, 2, 2, 1), (1, 2, 3, 4, 4)), ((3, 3, 2, 2), (1, 4, 3, 4))]
    ],
]

test_op = table_test(CASES, max_examples=2)


def _both(call, array):
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(array.copy(), requires_grad=True)
        output, indices = call(lib, x)
        output.backward(lib.tensor(np.arange(output.numel(), dtype=array.dtype).reshape(tuple(output.shape))))
        results.append([np.asarray(value.detach().numpy()) for value in (output, indices, x.grad)])
    return results


@pytest.mark.parametrize("with_nan", [False, True])
@pytest.mark.parametrize("size", [(3, 4), (4, 3), (6, 9), (2, 2, 3)])
def test_adaptive_max_pool_ties_nan_and_overlaps_as_pytorch(with_nan, size):
    """Small integers make ties; uneven windows overlap: the first maximum wins (the last nan),
    and an element that is the maximum of two windows gets both gradients, as in PyTorch."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (2, 3, 7, 10) if len(size) == 2 else (1, 2, 5, 4, 7)).astype(np.float64)
    if with_nan:
        x[rng.random(x.shape) < 0.1] = np.nan
    pool = "adaptive_max_pool2d" if len(size) == 2 else "adaptive_max_pool3d"
    ours, theirs = _both(lambda lib, t: getattr(functional(lib), pool)(t, size, return_indices=True), x)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine, reference)


SECOND_ORDER = [
    ("depthwise", lambda lib, x: functional(lib).conv2d(x, lib.tensor(np.linspace(-1, 1, 18).reshape(2, 1, 3, 3)), padding=1, groups=2) ** 2),
    ("adaptive_max_pool2d_uneven", lambda lib, x: functional(lib).adaptive_max_pool2d(x, (4, 5)) ** 2),
    ("pad_circular", lambda lib, x: functional(lib).pad(x, (2, 1, 1, 2), mode="circular") ** 2),
    ("pad_reflect", lambda lib, x: functional(lib).pad(x, (3, 1, 2, 2), mode="reflect") ** 2),
]


@pytest.mark.parametrize("name, call", SECOND_ORDER, ids=[case[0] for case in SECOND_ORDER])
def test_second_derivatives_match_pytorch(name, call):
    x_data = np.random.default_rng(1).standard_normal((2, 2, 6, 7))
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(x_data.copy(), requires_grad=True)
        (grad,) = lib.autograd.grad(call(lib, x).sum(), x, create_graph=True)
        (grad * grad).sum().backward()
        results.append((grad.detach().numpy(), x.grad.numpy()))
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-8)
