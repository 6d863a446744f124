"""A sweep of padding layers, ``F.pad`` and small layers against PyTorch (the oracle): Zero/Constant/
Reflection/Replication/Circular padding (int and tuple padding, cropping with negative padding, the
reflect limit, unbatched and empty inputs), ``F.pad`` modes and errors, Flatten/Unflatten, Identity,
ChannelShuffle, the dropout family (eval identity, training shapes, warnings, p range),
CosineSimilarity/PairwiseDistance, Bilinear, Softmax2d and the inplace reprs of Threshold/Hardtanh.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional

import chainrule
import chainrule.nn.functional
from tests.parity.sweep import outcome, plain, raises_as_torch


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
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


def F(lib):
    return lib.nn.functional


def _arange(lib, *shape, dtype=None):
    count = int(np.prod(shape)) if shape else 1
    values = np.arange(count, dtype=np.float64).reshape(shape) * 0.37 - 1.1
    return lib.tensor(values, dtype=dtype or lib.float32)


def _grad_of(lib, make, *shapes, weight_seed=3):
    """Outputs and float64 gradients of ``make(lib)(*inputs)`` weighted by a fixed cotangent."""
    inputs = [_arange(lib, *shape, dtype=lib.float64).requires_grad_() for shape in shapes]
    out = make(lib)(*inputs)
    rng = np.random.default_rng(weight_seed)
    weight = lib.tensor(rng.standard_normal(tuple(out.shape)), dtype=lib.float64)
    (out * weight).sum().backward()
    return [out] + [each.grad for each in inputs]


# --- padding layers: values, shapes, gradients ------------------------------------------------

_PAD_CASES = {
    # name: (constructor, input shape)
    "ZeroPad1d-int": (lambda nn: nn.ZeroPad1d(2), (2, 3, 4)),
    "ZeroPad1d-tuple": (lambda nn: nn.ZeroPad1d((1, 3)), (3, 4)),
    "ZeroPad2d-int": (lambda nn: nn.ZeroPad2d(1), (1, 2, 3, 4)),
    "ZeroPad2d-tuple": (lambda nn: nn.ZeroPad2d((1, 0, 2, 3)), (2, 3, 4)),
    "ZeroPad3d-tuple": (lambda nn: nn.ZeroPad3d((1, 0, 0, 2, 1, 1)), (1, 2, 2, 3, 3)),
    "ConstantPad1d": (lambda nn: nn.ConstantPad1d((2, 1), 3.5), (2, 3, 4)),
    "ConstantPad2d": (lambda nn: nn.ConstantPad2d(1, -2.0), (2, 3, 4)),
    "ConstantPad3d": (lambda nn: nn.ConstantPad3d((0, 1, 1, 0, 2, 0), 0.5), (1, 2, 2, 3)),
    "ReflectionPad1d-int": (lambda nn: nn.ReflectionPad1d(2), (2, 3, 5)),
    "ReflectionPad1d-unbatched": (lambda nn: nn.ReflectionPad1d((3, 1)), (3, 5)),
    "ReflectionPad2d": (lambda nn: nn.ReflectionPad2d((1, 2, 2, 0)), (1, 2, 4, 4)),
    "ReflectionPad2d-unbatched": (lambda nn: nn.ReflectionPad2d(1), (2, 3, 4)),
    "ReflectionPad3d": (lambda nn: nn.ReflectionPad3d(1), (1, 2, 3, 3, 3)),
    "ReplicationPad1d": (lambda nn: nn.ReplicationPad1d((3, 1)), (2, 3, 4)),
    "ReplicationPad2d": (lambda nn: nn.ReplicationPad2d((1, 2, 3, 0)), (1, 2, 3, 4)),
    "ReplicationPad3d-unbatched": (lambda nn: nn.ReplicationPad3d(2), (2, 2, 3, 3)),
    "CircularPad1d": (lambda nn: nn.CircularPad1d((2, 1)), (2, 3, 4)),
    "CircularPad2d": (lambda nn: nn.CircularPad2d((1, 2, 0, 1)), (1, 2, 3, 4)),
    "CircularPad3d-unbatched": (lambda nn: nn.CircularPad3d(1), (2, 3, 3, 3)),
    "ZeroPad2d-negative-crop": (lambda nn: nn.ZeroPad2d((-1, 1, 0, -2)), (1, 2, 4, 5)),
    "ConstantPad1d-negative-crop": (lambda nn: nn.ConstantPad1d((-2, -1), 9.0), (2, 6)),
    "ReplicationPad1d-negative": (lambda nn: nn.ReplicationPad1d((-1, 2)), (2, 3, 5)),
    "ReflectionPad1d-negative": (lambda nn: nn.ReflectionPad1d((-1, 2)), (2, 3, 5)),
    "CircularPad1d-negative": (lambda nn: nn.CircularPad1d((-1, 2)), (2, 3, 5)),
}


@pytest.mark.parametrize("name", sorted(_PAD_CASES))
def test_padding_layer_output_and_float64_gradient(name):
    make, shape = _PAD_CASES[name]
    same_in_both(lambda lib: _grad_of(lib, lambda lib: make(lib.nn), shape), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(_PAD_CASES))
def test_padding_layer_repr_and_attributes(name):
    make, _ = _PAD_CASES[name]

    def run(lib):
        module = make(lib.nn)
        attributes = {key: getattr(module, key) for key in ("padding", "value") if hasattr(module, key)}
        return repr(module), attributes, list(module.state_dict().keys())

    assert run(chainrule) == run(torch)


def test_padding_layers_keep_integer_dtype():
    same_in_both(lambda lib: [
        lib.nn.ZeroPad2d(1)(lib.arange(6).reshape(1, 2, 3)),
        lib.nn.ConstantPad1d(2, 7)(lib.arange(4, dtype=lib.int32).reshape(1, 4)),
        lib.nn.ZeroPad1d(1)(lib.tensor([[True, False]])),
    ])


def test_constant_pad_float_value_on_integer_tensor():
    same_in_both(lambda lib: lib.nn.ConstantPad1d(1, 2.7)(lib.arange(4).reshape(1, 4)))


def test_padding_empty_batch_dimension():
    same_in_both(lambda lib: [
        lib.nn.ZeroPad2d(1)(lib.zeros(0, 2, 3, 3)),
        lib.nn.ReplicationPad1d(2)(lib.zeros(0, 3, 4)),
        lib.nn.ReflectionPad2d(1)(lib.zeros(0, 2, 3, 3)),
        lib.nn.CircularPad1d(1)(lib.zeros(0, 2, 3)),
    ])


def test_constant_pad_of_zero_length_dimension():
    same_in_both(lambda lib: lib.nn.ConstantPad1d(2, 1.5)(lib.zeros(2, 0)))


@pytest.mark.parametrize("case", [
    "reflect-too-large-1d", "reflect-equal-size-1d", "reflect-too-large-2d", "circular-too-large",
    "reflect-wrong-rank", "replicate-wrong-rank", "reflect-empty-spatial", "zeropad-3-tuple",
])
def test_padding_layer_errors(case):
    runs = {
        "reflect-too-large-1d": lambda lib: lib.nn.ReflectionPad1d(3)(lib.zeros(1, 2, 3)),
        "reflect-equal-size-1d": lambda lib: lib.nn.ReflectionPad1d((0, 3))(lib.zeros(1, 2, 3)),
        "reflect-too-large-2d": lambda lib: lib.nn.ReflectionPad2d(2)(lib.zeros(1, 1, 2, 5)),
        "circular-too-large": lambda lib: lib.nn.CircularPad1d(4)(lib.zeros(1, 2, 3)),
        "reflect-wrong-rank": lambda lib: lib.nn.ReflectionPad2d(1)(lib.zeros(4)),
        "replicate-wrong-rank": lambda lib: lib.nn.ReplicationPad1d(1)(lib.zeros(1, 1, 1, 4)),
        "reflect-empty-spatial": lambda lib: lib.nn.ReflectionPad1d(1)(lib.zeros(1, 2, 0)),
        "zeropad-3-tuple": lambda lib: lib.nn.ZeroPad2d((1, 2, 3))(lib.zeros(1, 1, 3, 3)),
    }
    raises_as_torch(runs[case])


# --- F.pad ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(1, 2), (1, 0, 2, 1), (-1, 2), (1, 1, 1, 1, 1, 1)])
def test_functional_pad_modes_with_gradient(mode, pad):
    shape = (1, 2, 3, 4, 4) if len(pad) == 6 else (2, 3, 4, 5)
    if len(pad) == 2 and mode != "constant":
        shape = (2, 3, 5)
    same_in_both(lambda lib: _grad_of(lib, lambda lib: lambda x: F(lib).pad(x, pad, mode=mode), shape), rtol=1e-10, atol=1e-12)


def test_functional_pad_defaults_and_value_keyword():
    same_in_both(lambda lib: [
        F(lib).pad(_arange(lib, 2, 3), (1, 1)),
        F(lib).pad(_arange(lib, 2, 3), (1, 1), "constant", -3.0),
        F(lib).pad(_arange(lib, 2, 3), pad=[0, 2, 1, 0], value=4.0),
        F(lib).pad(_arange(lib, 2, 3), [1, 1], value=None),
        F(lib).pad(_arange(lib, 2, 3), ()),
    ])


def test_functional_pad_constant_on_0d_and_1d():
    same_in_both(lambda lib: [
        F(lib).pad(_arange(lib, 4), (2, 1), value=1.0),
        F(lib).pad(lib.tensor([1, 2, 3]), (1, 1), value=5),
    ])


@pytest.mark.parametrize("mode", ["replicate", "circular", "reflect"])
def test_functional_pad_non_constant_modes_on_integer_tensors(mode):
    same_in_both(lambda lib: F(lib).pad(lib.arange(12).reshape(1, 3, 4), (1, 2), mode=mode))


def test_functional_pad_circular_negative_crop_to_empty():
    same_in_both(lambda lib: F(lib).pad(lib.ones(1, 2, 3), (-4, 1), mode="circular"))
    same_in_both(lambda lib: _grad_of(lib, lambda lib: lambda x: F(lib).pad(x, (1, -3, 0, 1), mode="circular"), (1, 2, 3, 2)))


def test_functional_pad_reading_modes_return_a_new_tensor():
    def run(lib):
        x = lib.ones(1, 2, 3)
        outputs = [F(lib).pad(x, pad, mode=mode) for mode in ("reflect", "replicate", "circular") for pad in ((0, 0), (-1, 0))]
        for output in outputs:
            output.mul_(2)
        return x

    same_in_both(run)


def test_functional_pad_reading_modes_second_order_gradient():
    def run(lib):
        x = _arange(lib, 1, 2, 4, 3, dtype=lib.float64).requires_grad_()
        grads = []
        for mode, pad in (("reflect", (2, -1, 1, 1)), ("replicate", (-1, 2, 0, 3)), ("circular", (1, -2, 2, 0))):
            y = F(lib).pad(x * x, pad, mode=mode)
            (grad,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
            grads.append(lib.autograd.grad(grad.sum(), x)[0])
        return grads

    same_in_both(run, rtol=1e-10, atol=1e-12)


def test_functional_pad_returns_a_copy_and_grad_requirement():
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        y = F(lib).pad(x, (0, 0))
        return y is x, y.requires_grad, F(lib).pad(x, (1, 1), mode="constant").requires_grad

    assert run(chainrule) == run(torch)


_GRAD_FN_CASES = {
    "constant-1d": lambda lib, x: F(lib).pad(x, (1, 1)),
    "zeropad2d": lambda lib, x: lib.nn.ZeroPad2d(1)(x),
    "reflect-1d": lambda lib, x: F(lib).pad(x[0], (1, 1), mode="reflect"),
    "reflect-2d": lambda lib, x: F(lib).pad(x, (1, 1, 1, 1), mode="reflect"),
    "reflect-3d-crop": lambda lib, x: lib.nn.ReflectionPad3d((-1, 1, 0, 0, 1, 0))(x),
    "reflect-no-padding": lambda lib, x: F(lib).pad(x[0], (0, 0), mode="reflect"),
    "replicate-1d": lambda lib, x: F(lib).pad(x[0], (1, 1), mode="replicate"),
    "replicate-2d": lambda lib, x: F(lib).pad(x, (1, 1, 1, 1), mode="replicate"),
    "replicate-3d-crop": lambda lib, x: lib.nn.ReplicationPad3d((0, -1, 2, 0, 0, 1))(x),
    "circular-1d-crop-only": lambda lib, x: F(lib).pad(x[0], (-1, -1), mode="circular"),
    "circular-2d": lambda lib, x: F(lib).pad(x, (1, 1, 1, 1), mode="circular"),
    "flatten": lambda lib, x: lib.nn.Flatten()(x),
    "channel-shuffle": lambda lib, x: lib.nn.ChannelShuffle(2)(x),
    "softmax2d": lambda lib, x: lib.nn.Softmax2d()(x),
    "hardtanh": lambda lib, x: lib.nn.Hardtanh()(x),
    "threshold": lambda lib, x: lib.nn.Threshold(0.0, 1.0)(x),
}


@pytest.mark.parametrize("name", _GRAD_FN_CASES)
def test_grad_fn_names(name):
    make = _GRAD_FN_CASES[name]

    def run(lib):
        return type(make(lib, lib.ones(1, 2, 3, 3, requires_grad=True)).grad_fn).__name__

    assert run(chainrule) == run(torch)


def test_functional_pad_constant_beyond_rank_raises():
    raises_as_torch(lambda lib: F(lib).pad(_arange(lib, 3), (1, 1, 1, 1)))


@pytest.mark.parametrize("case", [
    "odd-length", "odd-length-reflect", "reflect-too-many", "bad-mode", "value-with-reflect", "replicate-1d-input",
    "crop-to-negative", "reflect-2-pads-on-4d", "circular-too-large-2d",
    "reflect-bool",
    "tensor-pad",
    "mode-none",
    "replicate-bool", "mode-int", "float-amount",
])
def test_functional_pad_errors(case):
    runs = {
        "reflect-2-pads-on-4d": lambda lib: F(lib).pad(lib.zeros(1, 2, 3, 4), (1, 1), mode="reflect"),
        "circular-too-large-2d": lambda lib: F(lib).pad(lib.zeros(1, 1, 2, 2), (0, 0, 3, 0), mode="circular"),
        "replicate-bool": lambda lib: F(lib).pad(lib.tensor([[[[True, False]]]]), (1, 1, 0, 1), mode="replicate"),
        "mode-int": lambda lib: F(lib).pad(lib.zeros(1, 2, 3), (1, 1), mode=3),
        "float-amount": lambda lib: F(lib).pad(lib.zeros(1, 2, 3), (1.0, 1)),
        "reflect-bool": lambda lib: F(lib).pad(lib.tensor([[[True, False, True]]]), (1, 1), mode="reflect"),
        "tensor-pad": lambda lib: F(lib).pad(lib.zeros(2, 3), lib.tensor([1, 1])),
        "mode-none": lambda lib: F(lib).pad(lib.zeros(1, 2, 3), (1, 1), mode=None),
        "odd-length": lambda lib: F(lib).pad(lib.zeros(2, 3), (1, 2, 3)),
        "odd-length-reflect": lambda lib: F(lib).pad(lib.zeros(1, 2, 3), (1,), mode="reflect"),
        "reflect-too-many": lambda lib: F(lib).pad(lib.zeros(1, 2, 3), (1, 1, 1, 1, 1, 1, 1, 1), mode="reflect"),
        "bad-mode": lambda lib: F(lib).pad(lib.zeros(1, 2, 3), (1, 1), mode="wrap"),
        "value-with-reflect": lambda lib: F(lib).pad(lib.zeros(1, 2, 3), (1, 1), mode="reflect", value=1.0),
        "replicate-1d-input": lambda lib: F(lib).pad(lib.zeros(3), (1, 1), mode="replicate"),
        "crop-to-negative": lambda lib: F(lib).pad(lib.zeros(2, 3), (-2, -2)),
    }
    raises_as_torch(runs[case])


# --- Flatten / Unflatten / Identity -----------------------------------------------------------


def test_flatten_variants_and_reprs():
    def run(lib):
        x = _arange(lib, 2, 3, 4, 5)
        modules = [lib.nn.Flatten(), lib.nn.Flatten(0), lib.nn.Flatten(1, 2), lib.nn.Flatten(start_dim=-2, end_dim=-1),
                   lib.nn.Flatten(2, -2)]
        outs = [module(x) for module in modules]
        return [repr(module) for module in modules] + outs + [lib.nn.Flatten(0)(_arange(lib, 3)), lib.nn.Flatten(0)(lib.tensor(2.0)),
                                                              lib.nn.Flatten()(lib.zeros(2, 0, 3))]

    same_in_both(run)


@pytest.mark.parametrize("case", ["bad-range", "default-on-1d", "default-on-0d"])
def test_flatten_errors(case):
    runs = {
        "bad-range": lambda lib: lib.nn.Flatten(2, 1)(lib.zeros(2, 3, 4)),
        "default-on-1d": lambda lib: lib.nn.Flatten()(lib.zeros(3)),
        "default-on-0d": lambda lib: lib.nn.Flatten()(lib.tensor(1.0)),
    }
    raises_as_torch(runs[case])


def test_unflatten_variants_and_reprs():
    def run(lib):
        x = _arange(lib, 2, 12)
        modules = [lib.nn.Unflatten(1, (3, 4)), lib.nn.Unflatten(1, (2, -1)), lib.nn.Unflatten(-1, [6, 2]),
                   lib.nn.Unflatten(dim=0, unflattened_size=(1, 2))]
        return [repr(module) for module in modules] + [module(x) for module in modules]

    same_in_both(run)


@pytest.mark.parametrize("case", [
    "wrong-product", "two-minus-one", "bad-size-type", "dim-out-of-range",
    "0-d-input",
])
def test_unflatten_errors(case):
    runs = {
        "wrong-product": lambda lib: lib.nn.Unflatten(1, (5, 3))(lib.zeros(2, 12)),
        "two-minus-one": lambda lib: lib.nn.Unflatten(1, (-1, -1))(lib.zeros(2, 12)),
        "bad-size-type": lambda lib: lib.nn.Unflatten(1, 12)(lib.zeros(2, 12)),
        "dim-out-of-range": lambda lib: lib.nn.Unflatten(3, (3, 4))(lib.zeros(2, 12)),
        "0-d-input": lambda lib: lib.nn.Unflatten(0, (1,))(lib.tensor(1.0)),
    }
    raises_as_torch(runs[case])


def test_identity_ignores_arguments_and_returns_input():
    def run(lib):
        module = lib.nn.Identity(54, unused_argument1=0.1, unused_argument2=False)
        x = _arange(lib, 2, 3)
        return repr(module), module(x) is x, list(module.state_dict()), module(x)

    same_in_both(run)


# --- ChannelShuffle ---------------------------------------------------------------------------


def test_channel_shuffle_values_repr_and_gradient():
    def run(lib):
        module = lib.nn.ChannelShuffle(2)
        out = _grad_of(lib, lambda lib: module, (1, 4, 2, 2))
        return [repr(module), module.groups] + out + [lib.nn.ChannelShuffle(3)(_arange(lib, 2, 6, 3)),
                                                      F(lib).channel_shuffle(_arange(lib, 1, 6, 1, 1), 3)]

    same_in_both(run)


@pytest.mark.parametrize("case", [
    "indivisible", "groups-zero", "one-d-input",
    "float-groups",
])
def test_channel_shuffle_errors(case):
    runs = {
        "indivisible": lambda lib: lib.nn.ChannelShuffle(3)(lib.zeros(1, 4, 2, 2)),
        "groups-zero": lambda lib: lib.nn.ChannelShuffle(0)(lib.zeros(1, 4, 2)),
        "one-d-input": lambda lib: lib.nn.ChannelShuffle(2)(lib.zeros(4)),
        "float-groups": lambda lib: lib.nn.ChannelShuffle(2.0)(lib.zeros(1, 4, 2)),
    }
    raises_as_torch(runs[case])


# --- dropout family ---------------------------------------------------------------------------

_DROPOUTS = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]
_DROPOUT_SHAPES = {"Dropout": (4, 5), "Dropout1d": (2, 3, 8), "Dropout2d": (2, 3, 4, 4), "Dropout3d": (2, 3, 2, 2, 2),
                   "AlphaDropout": (4, 5), "FeatureAlphaDropout": (2, 3, 4, 4)}


@pytest.mark.parametrize("name", _DROPOUTS)
def test_dropout_eval_is_identity_and_reprs(name):
    def run(lib):
        modules = [getattr(lib.nn, name)(), getattr(lib.nn, name)(p=0.3, inplace=True), getattr(lib.nn, name)(0.2, False)]
        x = _arange(lib, *_DROPOUT_SHAPES[name])
        outs = [module.eval()(x) for module in modules]
        return [repr(module) for module in modules] + [module.p for module in modules] + outs

    same_in_both(run)


@pytest.mark.parametrize("name", _DROPOUTS)
def test_dropout_training_shape_dtype_and_structure(name):
    def run(lib):
        module = getattr(lib.nn, name)(p=0.5)
        x = lib.ones(*_DROPOUT_SHAPES[name], dtype=lib.float64)
        out = module.train()(x)
        zero_p = getattr(lib.nn, name)(p=0.0).train()(x)
        one_p = getattr(lib.nn, name)(p=1.0).train()(x) if "Alpha" not in name else zero_p
        return tuple(out.shape), str(out.dtype).split(".")[-1], zero_p, one_p

    same_in_both(run)


@pytest.mark.parametrize("name", ["Dropout1d", "Dropout2d", "Dropout3d"])
def test_feature_dropout_zeros_whole_channels(name):
    module = getattr(chainrule.nn, name)(p=0.5)
    x = chainrule.ones(*_DROPOUT_SHAPES[name], dtype=chainrule.float64) * 3
    chainrule.manual_seed(1)
    out = module.train()(x).numpy().reshape(x.shape[0], x.shape[1], -1)
    per_channel = {tuple(sorted(set(row.tolist()))) for row in out.reshape(-1, out.shape[-1])}
    assert per_channel <= {(0.0,), (6.0,)}


def test_alpha_dropout_training_keeps_mean_and_std():
    chainrule.manual_seed(0)
    x = chainrule.randn(200000, dtype=chainrule.float64)
    out = chainrule.nn.AlphaDropout(0.2).train()(x).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02


@pytest.mark.parametrize("name", _DROPOUTS)
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_p_out_of_range_raises(name, p):
    raises_as_torch(lambda lib: getattr(lib.nn, name)(p))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_functional_dropout_p_out_of_range_raises(p):
    raises_as_torch(lambda lib: F(lib).dropout(lib.ones(3), p))


def _warnings_of(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return sorted({(each.category.__name__, str(each.message)) for each in caught})


def test_dropout2d_warns_on_3d_input_like_torch():
    run = lambda lib: lib.nn.Dropout2d(0.5).train()(lib.ones(3, 4, 4))  # noqa: E731
    expected = _warnings_of(lambda: run(torch))
    assert expected, "PyTorch warns here"
    assert _warnings_of(lambda: run(chainrule)) == expected


def test_dropout2d_3d_input_treated_as_batched_no_channel():
    # PyTorch (with the warning) treats (N, H, W) as 1-D channel dropout: whole rows of dim 1 share a mask.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chainrule.manual_seed(2)
        out = chainrule.nn.Dropout2d(0.5).train()(chainrule.ones(4, 6, 5, dtype=chainrule.float64)).numpy()
    assert all(len(set(row.ravel().tolist())) == 1 for sample in out for row in sample)


@pytest.mark.parametrize("case", ["dropout1d-4d", "dropout3d-3d", "dropout1d-1d"])
def test_feature_dropout_wrong_rank(case):
    runs = {
        "dropout1d-4d": lambda lib: lib.nn.Dropout1d(0.5).train()(lib.ones(2, 3, 4, 4)),
        "dropout3d-3d": lambda lib: lib.nn.Dropout3d(0.5).train()(lib.ones(2, 3, 4)),
        "dropout1d-1d": lambda lib: lib.nn.Dropout1d(0.5).train()(lib.ones(4)),
    }
    kind, expected = outcome(lambda: runs[case](torch))
    if kind == "raises":
        raises_as_torch(runs[case])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert tuple(runs[case](chainrule).shape) == tuple(expected.shape)


def test_dropout_unbatched_feature_inputs_and_warnings():
    def run(lib):
        return [tuple(lib.nn.Dropout1d(0.5).train()(lib.ones(3, 4)).shape),
                tuple(lib.nn.Dropout3d(0.5).train()(lib.ones(3, 2, 2, 2)).shape)]

    assert run(chainrule) == run(torch)
    assert _warnings_of(lambda: run(chainrule)) == _warnings_of(lambda: run(torch))


# --- CosineSimilarity / PairwiseDistance --------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1, "eps": 1e-3}, {"dim": 2}])
def test_cosine_similarity_module(kwargs):
    def run(lib):
        module = lib.nn.CosineSimilarity(**kwargs)
        out = _grad_of(lib, lambda lib: module, (2, 3, 4), (2, 3, 4))
        return [repr(module)] + out

    same_in_both(run, rtol=1e-9, atol=1e-12)


def test_cosine_similarity_broadcast_zero_vector_and_dtype():
    def run(lib):
        cos = lib.nn.CosineSimilarity(dim=1)
        return [cos(_arange(lib, 3, 4), _arange(lib, 1, 4)), cos(lib.zeros(2, 3), _arange(lib, 2, 3)),
                cos(_arange(lib, 2, 3, dtype=lib.float64), _arange(lib, 2, 3)),
                F(lib).cosine_similarity(_arange(lib, 5), _arange(lib, 5) * -2, dim=0)]

    same_in_both(run)


def test_cosine_similarity_integer_raises():
    raises_as_torch(lambda lib: lib.nn.CosineSimilarity()(lib.ones(2, 3, dtype=lib.int64), lib.ones(2, 3, dtype=lib.int64)))


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"p": 3.0, "keepdim": True}, {"eps": 0.0}, {"p": float("inf")}])
def test_pairwise_distance_module(kwargs):
    def run(lib):
        module = lib.nn.PairwiseDistance(**kwargs)
        out = _grad_of(lib, lambda lib: lambda a, b: module(a, b.flip(0)), (4, 5), (4, 5))
        return [repr(module), module.norm, module.eps, module.keepdim] + out

    same_in_both(run, rtol=1e-9, atol=1e-12)


def test_pairwise_distance_1d_broadcast_and_keepdim():
    same_in_both(lambda lib: [
        lib.nn.PairwiseDistance()(_arange(lib, 5), _arange(lib, 5).flip(0)),
        lib.nn.PairwiseDistance(keepdim=True)(_arange(lib, 5), _arange(lib, 5).flip(0)),
        lib.nn.PairwiseDistance()(_arange(lib, 3, 4), _arange(lib, 1, 4)),
        lib.nn.PairwiseDistance(keepdim=True)(_arange(lib, 2, 3, 4), _arange(lib, 2, 3, 4) * 0.5),
        F(lib).pairwise_distance(_arange(lib, 2, 3), _arange(lib, 2, 3)),
    ])


# --- Bilinear ---------------------------------------------------------------------------------


def test_bilinear_shapes_state_dict_and_gradient():
    def run(lib):
        lib.manual_seed(0)
        module = lib.nn.Bilinear(3, 4, 5).double()
        with lib.no_grad():
            module.weight.copy_(_arange(lib, 5, 3, 4, dtype=lib.float64) * 0.1)
            module.bias.copy_(_arange(lib, 5, dtype=lib.float64))
        out = _grad_of(lib, lambda lib: module, (2, 3), (2, 4))
        out.append(module.weight.grad)
        out.append(module.bias.grad)
        sd = module.state_dict()
        return [repr(module), sorted((key, tuple(value.shape)) for key, value in sd.items())] + out

    same_in_both(run, rtol=1e-9, atol=1e-10)


def test_bilinear_without_bias_unbatched_and_extra_dims():
    def run(lib):
        module = lib.nn.Bilinear(in1_features=2, in2_features=3, out_features=4, bias=False)
        with lib.no_grad():
            module.weight.copy_(_arange(lib, 4, 2, 3))
        return [repr(module), module.bias, module(_arange(lib, 2), _arange(lib, 3)),
                module(_arange(lib, 5, 6, 2), _arange(lib, 5, 6, 3)), sorted(module.state_dict())]

    same_in_both(run)


@pytest.mark.parametrize("case", [
    "in2-mismatch", "in1-mismatch", "batch-mismatch",
    "zero-in1-features",
])
def test_bilinear_errors(case):
    runs = {
        "in2-mismatch": lambda lib: lib.nn.Bilinear(2, 3, 4)(lib.ones(5, 2), lib.ones(5, 4)),
        "in1-mismatch": lambda lib: lib.nn.Bilinear(2, 3, 4)(lib.ones(5, 3), lib.ones(5, 3)),
        "batch-mismatch": lambda lib: lib.nn.Bilinear(2, 3, 4)(lib.ones(2, 2), lib.ones(3, 3)),
        "zero-in1-features": lambda lib: lib.nn.Bilinear(0, 3, 4),
    }
    raises_as_torch(runs[case])


def test_bilinear_init_range_and_mismatch_error():
    module = chainrule.nn.Bilinear(9, 4, 3)
    bound = 1 / np.sqrt(9)
    assert np.abs(module.weight.detach().numpy()).max() <= bound and np.abs(module.bias.detach().numpy()).max() <= bound
    raises_as_torch(lambda lib: lib.nn.Bilinear(3, 4, 5)(lib.zeros(2, 3), lib.zeros(3, 4)))


def test_bilinear_state_dict_round_trip():
    theirs = torch.nn.Bilinear(3, 2, 4)
    ours = chainrule.nn.Bilinear(3, 2, 4)
    ours.load_state_dict({key: chainrule.tensor(value.numpy()) for key, value in theirs.state_dict().items()})
    a, b = np.random.default_rng(0).standard_normal((2, 3)), np.random.default_rng(1).standard_normal((2, 2))
    expected = theirs(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32))
    actual = ours(chainrule.tensor(a, dtype=chainrule.float32), chainrule.tensor(b, dtype=chainrule.float32))
    assert_same(plain(actual), plain(expected))


# --- Softmax2d / Threshold / Hardtanh ---------------------------------------------------------


def test_softmax2d_3d_and_4d():
    def run(lib):
        module = lib.nn.Softmax2d()
        return [repr(module)] + _grad_of(lib, lambda lib: module, (3, 2, 2)) + _grad_of(lib, lambda lib: module, (2, 3, 2, 2))

    same_in_both(run, rtol=1e-9, atol=1e-12)


def test_softmax2d_wrong_rank_raises():
    raises_as_torch(lambda lib: lib.nn.Softmax2d()(lib.zeros(3, 4)))


def test_threshold_and_hardtanh_reprs_and_values():
    def run(lib):
        modules = [lib.nn.Threshold(0.1, 20), lib.nn.Threshold(0.1, 20.0, inplace=True), lib.nn.Threshold(-1, -5.5, True),
                   lib.nn.Hardtanh(), lib.nn.Hardtanh(-2, 2, inplace=True), lib.nn.Hardtanh(min_val=-0.5, max_val=1.5),
                   lib.nn.ReLU6(inplace=True), lib.nn.ReLU(True)]
        x = _arange(lib, 2, 6)
        return [repr(module) for module in modules] + [module(x.clone()) for module in modules]

    same_in_both(run)


def test_inplace_threshold_and_hardtanh_modify_input():
    def run(lib):
        x = _arange(lib, 2, 5)
        y = lib.nn.Hardtanh(-0.5, 0.5, inplace=True)(x)
        z = _arange(lib, 2, 5)
        w = lib.nn.Threshold(0.0, -9.0, inplace=True)(z)
        return [x, y is x, z, w is z]

    same_in_both(run)


def test_hardtanh_bad_range_raises():
    raises_as_torch(lambda lib: lib.nn.Hardtanh(1.0, -1.0))
    raises_as_torch(lambda lib: F(lib).hardtanh(lib.ones(3), 2.0, 1.0))


def test_functional_hardtanh_inplace_skips_range_check():
    same_in_both(lambda lib: F(lib).hardtanh_(_arange(lib, 4), 2.0, 1.0))


def test_threshold_and_hardtanh_integer_inputs_and_attributes():
    def run(lib):
        return [lib.nn.Threshold(1, 5)(lib.arange(4)), lib.nn.Hardtanh(-1, 2)(lib.arange(-3, 4)),
                F(lib).hardtanh(lib.arange(-3, 4), -1.5, 1.5),
                [(m.threshold, m.value, m.inplace) for m in [lib.nn.Threshold(0.1, 2)]],
                [(m.min_val, m.max_val, m.inplace) for m in [lib.nn.Hardtanh(), lib.nn.ReLU6()]]]

    same_in_both(run)
