"""Bilinear, PixelShuffle/PixelUnshuffle, Fold/Unfold and the padding layers against torch.nn, from
identical weights: outputs, input and parameter gradients, repr, initialization and errors."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from chainrule import nn
from tests.nn.pairs import assert_close, check_module, error_of, module_pair, normal
from tests.ops.oracle import library_case, sizes, table_test


LAYERS = [
    ("pixel_shuffle", lambda lib: lib.nn.PixelShuffle(2), normal(2, 8, 3, 2)),
    ("pixel_shuffle_unbatched", lambda lib: lib.nn.PixelShuffle(3), normal(9, 2, 1)),
    ("pixel_shuffle_extra_batch_dims", lambda lib: lib.nn.PixelShuffle(2), normal(2, 1, 4, 2, 3)),
    ("pixel_unshuffle", lambda lib: lib.nn.PixelUnshuffle(2), normal(2, 3, 4, 6)),
    ("pixel_unshuffle_unbatched", lambda lib: lib.nn.PixelUnshuffle(3), normal(1, 3, 6)),
    ("unfold", lambda lib: lib.nn.Unfold(2), normal(2, 3, 4, 5)),
    ("unfold_padded_strided", lambda lib: lib.nn.Unfold((2, 3), dilation=1, padding=1, stride=2), normal(1, 2, 5, 5)),
    ("fold", lambda lib: lib.nn.Fold((3, 4), 2), normal(2, 12, 6)),
    ("fold_unbatched_strided", lambda lib: lib.nn.Fold(5, 3, padding=1, stride=2), normal(9, 9)),
    ("constant_pad_1d", lambda lib: lib.nn.ConstantPad1d((2, 1), 3.5), normal(2, 3, 4)),
    ("constant_pad_1d_crop", lambda lib: lib.nn.ConstantPad1d((-1, 2), 1.0), normal(3, 4)),
    ("constant_pad_2d", lambda lib: lib.nn.ConstantPad2d(1, -2.0), normal(2, 3, 4)),
    ("constant_pad_3d", lambda lib: lib.nn.ConstantPad3d((1, 0, 2, 1, 0, 1), 0.5), normal(1, 2, 3, 2, 2)),
    ("zero_pad_1d", lambda lib: lib.nn.ZeroPad1d(2), normal(2, 3, 4)),
    ("zero_pad_2d", lambda lib: lib.nn.ZeroPad2d((1, 0, 2, 1)), normal(2, 3, 4, 4)),
    ("reflection_pad_1d", lambda lib: lib.nn.ReflectionPad1d((3, 1)), normal(2, 3, 4)),
    ("reflection_pad_1d_unbatched", lambda lib: lib.nn.ReflectionPad1d(2), normal(3, 4)),
    ("reflection_pad_2d", lambda lib: lib.nn.ReflectionPad2d((1, 2, 2, 0)), normal(2, 3, 4, 4)),
    ("replication_pad_1d", lambda lib: lib.nn.ReplicationPad1d((3, 1)), normal(2, 3, 4)),
    ("replication_pad_2d", lambda lib: lib.nn.ReplicationPad2d(2), normal(3, 4, 4)),
    ("circular_pad_1d", lambda lib: lib.nn.CircularPad1d((2, 1)), normal(2, 3, 4)),
    ("circular_pad_2d", lambda lib: lib.nn.CircularPad2d((1, 2, 0, 3)), normal(2, 3, 4, 4)),
    ("zero_pad_3d", lambda lib: lib.nn.ZeroPad3d((1, 0, 2, 1, 0, 1)), normal(1, 2, 3, 2, 2)),
    ("reflection_pad_3d", lambda lib: lib.nn.ReflectionPad3d((1, 0, 2, 1, 0, 1)), normal(1, 2, 3, 3, 3)),
    ("replication_pad_3d_unbatched", lambda lib: lib.nn.ReplicationPad3d(2), normal(2, 3, 2, 2)),
    ("circular_pad_3d", lambda lib: lib.nn.CircularPad3d((1, 2, 0, 1, 1, 1)), normal(1, 2, 3, 3, 2)),
]


@pytest.mark.parametrize("make, input_array", [case[1:] for case in LAYERS], ids=[case[0] for case in LAYERS])
def test_layer_matches_torch(make, input_array):
    check_module(make, input_array)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.Bilinear(3, 4, 5),
        lambda lib: lib.nn.Bilinear(1, 2, 1, bias=False),
        lambda lib: lib.nn.PixelShuffle(2),
        lambda lib: lib.nn.PixelUnshuffle(3),
        lambda lib: lib.nn.Fold(4, 2),
        lambda lib: lib.nn.Fold((4, 5), (2, 3), dilation=2, padding=1, stride=(1, 2)),
        lambda lib: lib.nn.Unfold((2, 3), padding=1),
        lambda lib: lib.nn.ConstantPad1d(2, 3.5),
        lambda lib: lib.nn.ConstantPad2d((1, 2, 3, 4), 0.0),
        lambda lib: lib.nn.ConstantPad3d(1, 1),
        lambda lib: lib.nn.ZeroPad1d(2),
        lambda lib: lib.nn.ZeroPad2d((1, 2, 3, 4)),
        lambda lib: lib.nn.ReflectionPad1d(2),
        lambda lib: lib.nn.ReflectionPad2d((1, 0, 2, 1)),
        lambda lib: lib.nn.ReplicationPad1d(1),
        lambda lib: lib.nn.ReplicationPad2d(3),
        lambda lib: lib.nn.CircularPad1d((1, 2)),
        lambda lib: lib.nn.CircularPad2d(1),
        lambda lib: lib.nn.ZeroPad3d(1),
        lambda lib: lib.nn.ReflectionPad3d((1, 0, 2, 1, 0, 1)),
        lambda lib: lib.nn.ReplicationPad3d(2),
        lambda lib: lib.nn.CircularPad3d(1),
    ],
)
def test_repr_and_state_dict_follow_torch(make):
    ours, theirs = make(chainrule), make(torch)
    assert repr(ours) == repr(theirs)
    assert {key: tuple(value.shape) for key, value in ours.state_dict().items()} == {
        key: tuple(value.shape) for key, value in theirs.state_dict().items()
    }


def test_pixel_shuffle_of_an_empty_batch():
    """Forward only: PyTorch's own backward of an empty batch fails (PixelShuffleBackward0 returns
    the wrong shape), so there is no gradient to compare with."""
    ours = nn.PixelShuffle(2)(chainrule.zeros(0, 8, 2, 2, requires_grad=True))
    assert ours.shape == torch.nn.PixelShuffle(2)(torch.zeros(0, 8, 2, 2)).shape == (0, 2, 4, 4)
    ours.sum().backward()


def test_reflection_wider_than_the_input_is_refused_as_in_torch():
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match=r"Padding size should be less than the corresponding input dimension, but got: padding \(3, 3\) at dimension 2"):
            lib.nn.ReflectionPad3d(3)(lib.ones(1, 2, 3, 4, 5))


def test_zero_pads_are_constant_pads_as_in_torch():
    assert isinstance(nn.ZeroPad2d(1), nn.ConstantPad2d) and isinstance(nn.ZeroPad1d(1), nn.ConstantPad1d)
    assert nn.ZeroPad2d(1).value == 0.0


BILINEAR = [
    ("bilinear", lambda lib: lib.nn.Bilinear(3, 4, 5), (6, 3), (6, 4)),
    ("bilinear_no_bias", lambda lib: lib.nn.Bilinear(3, 4, 2, bias=False), (6, 3), (6, 4)),
    ("bilinear_batch_dims", lambda lib: lib.nn.Bilinear(2, 3, 4), (2, 5, 2), (2, 5, 3)),
    ("bilinear_unbatched", lambda lib: lib.nn.Bilinear(2, 3, 4), (2,), (3,)),
    ("bilinear_empty_batch", lambda lib: lib.nn.Bilinear(2, 3, 4), (0, 2), (0, 3)),
]


@pytest.mark.parametrize("make, shape1, shape2", [case[1:] for case in BILINEAR], ids=[case[0] for case in BILINEAR])
def test_bilinear_matches_torch(make, shape1, shape2):
    ours, theirs = module_pair(make)
    results = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        x1 = lib.tensor(normal(*shape1, seed=1), requires_grad=True)
        x2 = lib.tensor(normal(*shape2, seed=2), requires_grad=True)
        output = module(x1, x2)
        (output * lib.tensor(normal(*output.shape, seed=3))).sum().backward()
        results.append((output, x1.grad, x2.grad, module.weight.grad, module.bias.grad if module.bias is not None else None))
    for what, mine, reference in zip(("output", "input1 gradient", "input2 gradient", "weight gradient", "bias gradient"), *results):
        if reference is not None:
            assert_close(mine, reference, what)


def test_bilinear_initialization_and_second_derivative():
    chainrule.manual_seed(0)
    layer = nn.Bilinear(16, 3, 40)
    bound = 1 / 4
    for parameter in (layer.weight, layer.bias):
        assert 0.9 * bound < np.abs(parameter._array).max() <= bound
        assert parameter.dtype == chainrule.float32
    ours, theirs = module_pair(lambda lib: lib.nn.Bilinear(3, 2, 2))
    seconds = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        x1 = lib.tensor(normal(4, 3, seed=5), requires_grad=True)
        x2 = lib.tensor(normal(4, 2, seed=6), requires_grad=True)
        (grad1,) = lib.autograd.grad((module(x1, x2) ** 2).sum(), x1, create_graph=True)
        (grad1 * grad1).sum().backward()
        seconds.append(x2.grad)
    assert_close(seconds[0], seconds[1], "second derivative")


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(1, 3, 2, 2), 2),
        lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(3, 2), 2),
        lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(1, 4, 4, 3), 0),
        lambda lib: lib.nn.functional.pixel_unshuffle(lib.ones(1, 1, 3, 2), 2),
        lambda lib: lib.nn.functional.pixel_unshuffle(lib.ones(1, 1, 4, 3), 2),
        lambda lib: lib.nn.functional.bilinear(lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3, 3)),
        lambda lib: lib.nn.functional.bilinear(lib.ones(2, 3), lib.ones(3, 4), lib.ones(5, 3, 4)),
        lambda lib: lib.nn.functional.bilinear(lib.ones(2, 3), lib.ones(1, 2, 4), lib.ones(5, 3, 4)),
        lambda lib: lib.nn.functional.bilinear(lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3, 4), lib.ones(4)),
        lambda lib: lib.nn.Bilinear(3, 4, 5)(lib.ones(2, 2), lib.ones(2, 4)),
        lambda lib: lib.nn.ReflectionPad1d(2)(lib.ones(2, 3, 4, 5)),
        lambda lib: lib.nn.ReflectionPad2d(2)(lib.ones(3, 2)),
        lambda lib: lib.nn.CircularPad1d(2)(lib.ones(4)),
        lambda lib: lib.nn.CircularPad2d(1)(lib.ones(1, 2, 3, 4, 5)),
        lambda lib: lib.nn.CircularPad3d(1)(lib.ones(2, 3, 4)),
    ],
)
def test_errors_match_torch(call):
    assert error_of(lambda: call(chainrule)) == error_of(lambda: call(torch)) != None  # noqa: E711


def bilinear_shapes(bias):
    """input1 (*, in1), input2 (*, in2), weight (out, in1, in2) and, with ``bias``, bias (out,)."""
    return st.tuples(sizes(0, 2), sizes(3, 3)).map(
        lambda drawn: ((*drawn[0], drawn[1][0]), (*drawn[0], drawn[1][1]), (drawn[1][2], drawn[1][0], drawn[1][1]))
        + (((drawn[1][2],),) if bias else ())
    )


def images(factor, channel_factor):
    """(*, C · channel_factor, H · factor, W · factor) with 0 to 2 leading dimensions."""
    return st.tuples(sizes(0, 2), sizes(3, 3)).map(
        lambda drawn: ((*drawn[0], drawn[1][0] * channel_factor, drawn[1][1] * factor, drawn[1][2] * factor),)
    )


# Values, gradients and float64 gradcheck over random shapes, as the op tables in tests/ops/.
TABLE = [
    library_case("bilinear", lambda lib, x1, x2, w, b: lib.nn.functional.bilinear(x1, x2, w, b), bilinear_shapes(bias=True)),
    library_case("bilinear_without_bias", lambda lib, x1, x2, w: lib.nn.functional.bilinear(x1, x2, w), bilinear_shapes(bias=False)),
    library_case("pixel_shuffle", lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), images(1, 4)),
    library_case("pixel_shuffle_by_1", lambda lib, x: lib.nn.functional.pixel_shuffle(x, 1), images(1, 1)),
    library_case("pixel_unshuffle", lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2), images(2, 1)),
]

test_op = table_test(TABLE, max_examples=5)
