"""A sweep of ``torch.nn.utils`` (gradient clipping, parameter vectors, ``nn.utils.rnn`` packing
and padding) and ``torch.nn.init`` (signatures, fan computation, gains, the seeded random stream,
structured initialisers and their errors) against PyTorch (the oracle).

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
chainrule claims PyTorch's CPU random stream, so seeded initialisers are compared exactly.
"""
import inspect
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn

import chainrule
import chainrule.nn.utils.rnn
from tests.parity.sweep import outcome, plain, raises_as_torch


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
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


def _params_with_grads(lib, grads=((3.0, -4.0), (12.0,)), dtype=None):
    dtype = dtype or lib.float32
    params = []
    for values in grads:
        p = lib.nn.Parameter(lib.zeros(len(values), dtype=dtype))
        p.grad = lib.tensor(values, dtype=dtype)
        params.append(p)
    return params


# --- clip_grad_norm_ -------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.0, "inf"])
@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_norm_values(norm_type, foreach):
    def run(lib):
        params = _params_with_grads(lib)
        total = lib.nn.utils.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type, foreach=foreach)
        return [total] + [p.grad for p in params]

    same_in_both(run)


def test_clip_grad_norm_no_clip_when_small():
    def run(lib):
        params = _params_with_grads(lib, grads=((0.1, 0.2),))
        total = lib.nn.utils.clip_grad_norm_(params, 10.0)
        return [total, params[0].grad]

    same_in_both(run)


def test_clip_grad_norm_single_tensor_and_generator():
    def run(lib):
        single = _params_with_grads(lib)[0]
        first = lib.nn.utils.clip_grad_norm_(single, 1.0)
        layer = lib.nn.Linear(3, 2)
        layer(lib.ones(4, 3)).sum().backward()
        second = lib.nn.utils.clip_grad_norm_(layer.parameters(), 0.5)
        return [first, single.grad, second, layer.weight.grad, layer.bias.grad]

    same_in_both(run)


def test_clip_grad_norm_skips_none_grads():
    def run(lib):
        params = _params_with_grads(lib)
        params.append(lib.nn.Parameter(lib.ones(2)))  # grad None
        total = lib.nn.utils.clip_grad_norm_(params, 1.0)
        return [total, params[2].grad is None]

    same_in_both(run)


def test_clip_grad_norm_empty_list():
    def run(lib):
        total = lib.nn.utils.clip_grad_norm_([], 1.0)
        return total

    same_in_both(run)


def test_clip_grad_norm_float64_total_dtype():
    def run(lib):
        params = _params_with_grads(lib, dtype=lib.float64)
        return lib.nn.utils.clip_grad_norm_(params, 1.0)

    same_in_both(run)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_error_if_nonfinite(bad):  # RuntimeError in PyTorch
    def run(lib):
        params = _params_with_grads(lib, grads=((1.0, bad),))
        return lib.nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)

    raises_as_torch(run)


def test_clip_grad_norm_nonfinite_without_error():
    def run(lib):
        params = _params_with_grads(lib, grads=((1.0, float("nan")),))
        total = lib.nn.utils.clip_grad_norm_(params, 1.0)
        return [total, params[0].grad]

    torch.manual_seed(0)
    expected = plain(run(torch))
    actual = plain(run(chainrule))
    assert actual[0][:2] == expected[0][:2]
    np.testing.assert_array_equal(np.isnan(actual[1][2]), np.isnan(expected[1][2]))


@pytest.mark.parametrize("name", ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
                                  "vector_to_parameters", "get_total_norm", "clip_grads_with_norm_"])
def test_utils_signatures(name):
    def sig(lib):
        fn = getattr(lib.nn.utils, name)
        return [(p.name, p.kind, repr(p.default)) for p in inspect.signature(fn).parameters.values()]

    assert sig(chainrule) == sig(torch)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_get_total_norm_and_clip_grads_with_norm(norm_type):
    def run(lib):
        params = _params_with_grads(lib)
        grads = [p.grad for p in params]
        total = lib.nn.utils.get_total_norm(grads, norm_type=norm_type)
        result = lib.nn.utils.clip_grads_with_norm_(params, 2.0, total)
        return [total, result is None] + [p.grad for p in params]

    same_in_both(run)


def test_get_total_norm_empty():
    same_in_both(lambda lib: lib.nn.utils.get_total_norm([]))


@pytest.mark.parametrize("first", ["float16", "float32"])
@pytest.mark.parametrize("fn", ["clip_grad_norm_", "get_total_norm"])
def test_total_norm_mixed_dtypes_promotes(first, fn):
    def run(lib):
        params = _params_with_grads(lib, grads=((3.0, 4.0),), dtype=getattr(lib, first))
        params += _params_with_grads(lib, grads=((1.0,),), dtype=lib.float64)
        if fn == "get_total_norm":
            return lib.nn.utils.get_total_norm([p.grad for p in params])
        total = lib.nn.utils.clip_grad_norm_(params, 1.0)
        return [total, params[1].grad]

    same_in_both(run, rtol=1e-3, atol=1e-3)


def test_total_norm_float16_only():
    same_in_both(lambda lib: lib.nn.utils.clip_grad_norm_(_params_with_grads(lib, dtype=lib.float16), 1.0),
                 rtol=1e-3, atol=1e-3)


def test_clip_grads_with_norm_needs_tensor_total():
    raises_as_torch(lambda lib: lib.nn.utils.clip_grads_with_norm_(_params_with_grads(lib), 1.0, 13.0))


@pytest.mark.parametrize("norm_type", [0, -math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.0, -1.0, 1.0])
def test_clip_grad_norm_odd_norms(norm_type, max_norm):
    def run(lib):
        params = _params_with_grads(lib)
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        return [total] + [p.grad for p in params]

    same_in_both(run)


def test_parameters_to_vector_errors():
    raises_as_torch(lambda lib: lib.nn.utils.parameters_to_vector([]))
    raises_as_torch(lambda lib: lib.nn.utils.vector_to_parameters(lib.zeros(3), lib.nn.Linear(2, 2).parameters()))


# --- clip_grad_value_ -----------------------------------------------------------------------------


@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_value(foreach):
    def run(lib):
        params = _params_with_grads(lib)
        params.append(lib.nn.Parameter(lib.ones(2)))
        result = lib.nn.utils.clip_grad_value_(params, clip_value=3.5, foreach=foreach)
        return [result is None] + [p.grad for p in params[:2]] + [params[2].grad is None]

    same_in_both(run)


def test_clip_grad_value_single_tensor():
    def run(lib):
        p = _params_with_grads(lib)[0]
        lib.nn.utils.clip_grad_value_(p, 1)
        return p.grad

    same_in_both(run)


def test_clip_grad_value_without_any_gradient_raises():
    # PyTorch groups the gradients that exist and fails on none (Lightning clips on SWA's extra epoch)
    raises_as_torch(lambda lib: lib.nn.utils.clip_grad_value_([lib.nn.Parameter(lib.ones(2))], 1.0))
    raises_as_torch(lambda lib: lib.nn.utils.clip_grad_value_([], 1.0))
    with pytest.raises(RuntimeError, match="call backward"):
        chainrule.nn.utils.clip_grad_value_(chainrule.nn.Linear(2, 2).parameters(), 1.0)


# --- parameters_to_vector / vector_to_parameters ------------------------------------------------


def test_parameters_to_vector_roundtrip():
    def run(lib):
        layer = lib.nn.Linear(3, 2)
        vec = lib.nn.utils.parameters_to_vector(layer.parameters())
        new = lib.arange(vec.numel(), dtype=lib.float32)
        result = lib.nn.utils.vector_to_parameters(new, layer.parameters())
        return [vec, result is None, layer.weight, layer.bias, isinstance(layer.weight, lib.nn.Parameter)]

    same_in_both(run)


def test_vector_to_parameters_requires_tensor():
    def run(lib):
        layer = lib.nn.Linear(2, 1)
        lib.nn.utils.vector_to_parameters([1.0, 2.0, 3.0], layer.parameters())

    raises_as_torch(run)


# --- nn.utils.rnn -----------------------------------------------------------------------------------


def _seqs(lib, dims=()):
    return [lib.arange(1.0, 4.0).reshape(3, *([1] * len(dims))) if dims else lib.arange(1.0, 4.0),
            lib.tensor([4.0, 5.0]).reshape(2, *([1] * len(dims))) if dims else lib.tensor([4.0, 5.0]),
            lib.tensor([6.0]).reshape(1, *([1] * len(dims))) if dims else lib.tensor([6.0])]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_value", [0.0, -1.5])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_value, padding_side):
    def run(lib):
        return lib.nn.utils.rnn.pad_sequence(_seqs(lib, dims=(1,)), batch_first=batch_first,
                                             padding_value=padding_value, padding_side=padding_side)

    same_in_both(run)


def test_pad_sequence_bad_side():
    raises_as_torch(lambda lib: lib.nn.utils.rnn.pad_sequence(_seqs(lib), padding_side="middle"))


def test_pad_sequence_int_dtype():
    same_in_both(lambda lib: lib.nn.utils.rnn.pad_sequence([lib.tensor([1, 2]), lib.tensor([3])], batch_first=True))


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_fields(enforce_sorted, batch_first):
    def run(lib):
        padded = lib.nn.utils.rnn.pad_sequence(_seqs(lib), batch_first=batch_first)
        packed = lib.nn.utils.rnn.pack_padded_sequence(padded, [3, 2, 1], batch_first=batch_first,
                                                       enforce_sorted=enforce_sorted)
        return [type(packed).__name__, packed.data, packed.batch_sizes,
                packed.sorted_indices, packed.unsorted_indices]

    same_in_both(run)


def test_pack_padded_sequence_unsorted_errors():
    def run(lib):
        padded = lib.nn.utils.rnn.pad_sequence(_seqs(lib)[::-1])
        return lib.nn.utils.rnn.pack_padded_sequence(padded, [1, 2, 3])

    raises_as_torch(run)


@pytest.mark.parametrize("case", ["empty_list", "mismatch", "zero_d"])
def test_pad_sequence_errors(case):
    def run(lib):
        seqs = {"empty_list": [], "mismatch": [lib.ones(2, 3), lib.ones(2, 4)],
                "zero_d": [lib.tensor(1.0), lib.tensor(2.0)]}[case]
        return lib.nn.utils.rnn.pad_sequence(seqs)

    raises_as_torch(run)


@pytest.mark.parametrize("lengths", [[3, 2, 1], "2d"])
def test_pack_padded_sequence_bad_lengths(lengths):
    def run(lib):
        ls = lib.tensor([[3], [1]]) if lengths == "2d" else lengths
        return lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2), ls)

    raises_as_torch(run)


def test_packed_sequence_repr():
    def run(lib):
        sorted_ = lib.nn.utils.rnn.pack_sequence([lib.tensor([1.0, 2.0]), lib.tensor([3.0])])
        unsorted = lib.nn.utils.rnn.pack_sequence([lib.tensor([3.0]), lib.tensor([1.0, 2.0])], enforce_sorted=False)
        return [repr(sorted_).replace("chainrule", "torch"), repr(unsorted).replace("chainrule", "torch")]

    same_in_both(run)


def test_pack_padded_sequence_zero_length_errors():
    def run(lib):
        padded = lib.zeros(3, 2)
        return lib.nn.utils.rnn.pack_padded_sequence(padded, [3, 0])

    raises_as_torch(run)


def test_pack_padded_sequence_lengths_tensor_unsorted():
    def run(lib):
        padded = lib.nn.utils.rnn.pad_sequence(_seqs(lib)[::-1], batch_first=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(padded, lib.tensor([1, 2, 3]), batch_first=True,
                                                       enforce_sorted=False)
        out, lengths = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)
        return [packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices, out, lengths]

    same_in_both(run)


@pytest.mark.parametrize("total_length", [None, 3, 5])
def test_pad_packed_sequence_total_length(total_length):
    def run(lib):
        packed = lib.nn.utils.rnn.pack_sequence(_seqs(lib))
        out, lengths = lib.nn.utils.rnn.pad_packed_sequence(packed, total_length=total_length)
        return [out, lengths]

    same_in_both(run)


def test_pad_packed_sequence_total_length_too_small():
    def run(lib):
        packed = lib.nn.utils.rnn.pack_sequence(_seqs(lib))
        return lib.nn.utils.rnn.pad_packed_sequence(packed, total_length=2)

    raises_as_torch(run)


def test_pack_sequence_unsorted():
    def run(lib):
        seqs = _seqs(lib)[::-1]
        packed = lib.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
        return [packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices]

    same_in_both(run)
    raises_as_torch(lambda lib: lib.nn.utils.rnn.pack_sequence(_seqs(lib)[::-1]))


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_and_unpack_sequence(batch_first):
    def run(lib):
        seqs = [_seqs(lib)[1], _seqs(lib)[0], _seqs(lib)[2]]
        padded = lib.nn.utils.rnn.pad_sequence(seqs, batch_first=batch_first)
        unpadded = lib.nn.utils.rnn.unpad_sequence(padded, lib.tensor([2, 3, 1]), batch_first=batch_first)
        unpacked = lib.nn.utils.rnn.unpack_sequence(lib.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False))
        return [list(unpadded), list(unpacked)]

    same_in_both(run)


def test_packed_sequence_namedtuple_api():
    def run(lib):
        packed = lib.nn.utils.rnn.pack_sequence(_seqs(lib))
        return [list(packed._fields), len(packed), isinstance(packed, tuple),
                packed.is_cuda, packed.to(lib.float64).data, packed.double().data.dtype == lib.float64]

    same_in_both(run)


def test_packed_sequence_through_lstm():
    def run(lib):
        lstm = lib.nn.LSTM(1, 2)
        packed = lib.nn.utils.rnn.pack_sequence(_seqs(lib, dims=(1,)))
        out, (h, c) = lstm(packed)
        padded, lengths = lib.nn.utils.rnn.pad_packed_sequence(out)
        return [type(out).__name__, padded, lengths, h, c]

    same_in_both(run)


# --- nn.init: signatures and return value -------------------------------------------------------

INIT_NAMES = ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
              "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
              "sparse_", "calculate_gain", "_calculate_fan_in_and_fan_out", "_calculate_correct_fan"]


@pytest.mark.parametrize("name", INIT_NAMES)
def test_init_signature(name):
    def sig(lib):
        fn = getattr(lib.nn.init, name)
        return [(p.name, p.kind, repr(p.default)) for p in inspect.signature(fn).parameters.values()]

    assert sig(chainrule) == sig(torch)


SEEDED = {
    "uniform_": lambda lib, t: lib.nn.init.uniform_(t, a=-2.0, b=3.0),
    "normal_": lambda lib, t: lib.nn.init.normal_(t, mean=1.0, std=0.5),
    "trunc_normal_": lambda lib, t: lib.nn.init.trunc_normal_(t, std=1.0, a=-0.5, b=0.7),
    "constant_": lambda lib, t: lib.nn.init.constant_(t, 0.25),
    "ones_": lambda lib, t: lib.nn.init.ones_(t),
    "zeros_": lambda lib, t: lib.nn.init.zeros_(t),
    "xavier_uniform_": lambda lib, t: lib.nn.init.xavier_uniform_(t, gain=2.0),
    "xavier_normal_": lambda lib, t: lib.nn.init.xavier_normal_(t),
    "kaiming_uniform_": lambda lib, t: lib.nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
    "kaiming_normal_": lambda lib, t: lib.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
    "kaiming_leaky": lambda lib, t: lib.nn.init.kaiming_normal_(t, a=0.2, nonlinearity="leaky_relu"),
    "orthogonal_": lambda lib, t: lib.nn.init.orthogonal_(t, gain=1.5),
    "sparse_": lambda lib, t: lib.nn.init.sparse_(t.view(t.shape[0], -1), sparsity=0.5),
}


@pytest.mark.parametrize("shape", [(5, 4), (6, 3, 3, 2)])
@pytest.mark.parametrize("name", sorted(SEEDED))
def test_init_seeded_exact_and_returns_self(name, shape):
    def run(lib):
        weight = lib.nn.Parameter(lib.empty(*shape))
        result = SEEDED[name](lib, weight)
        same = result is weight or (name == "sparse_")
        return [weight, same, weight.requires_grad, weight.grad is None, weight.is_leaf]

    same_in_both(run, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["uniform_", "normal_", "constant_", "xavier_uniform_", "kaiming_normal_"])
def test_init_float64_and_generator(name):
    def run(lib):
        t = lib.empty(4, 3, dtype=lib.float64)
        g = lib.Generator().manual_seed(7)
        if name == "constant_":
            lib.nn.init.constant_(t, 2)
        else:
            getattr(lib.nn.init, name)(t, generator=g)
        return t

    same_in_both(run)


def test_init_float16_exact():
    def run(lib):
        out = []
        for make in (lambda: lib.nn.init.normal_(lib.empty(4, dtype=lib.float16)),
                     lambda: lib.nn.init.kaiming_uniform_(lib.empty(3, 2, dtype=lib.float16)),
                     lambda: lib.nn.init.trunc_normal_(lib.empty(4, dtype=lib.float16)),
                     lambda: lib.nn.init.orthogonal_(lib.empty(2, 3, dtype=lib.float64))):
            lib.manual_seed(0)
            out.append(make())
        return out

    same_in_both(run, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("case", ["uniform_a_gt_b", "normal_negative_std", "normal_int", "uniform_int",
                                  "xavier_empty", "kaiming_bad_nonlinearity", "sparse_3d", "eye_3d", "dirac_6d"])
def test_init_errors(case):
    def run(lib):
        init = lib.nn.init
        return {
            "uniform_a_gt_b": lambda: init.uniform_(lib.empty(3), 2.0, 1.0),
            "normal_negative_std": lambda: init.normal_(lib.empty(3), 0.0, -1.0),
            "normal_int": lambda: init.normal_(lib.empty(3, dtype=lib.int64)),
            "uniform_int": lambda: init.uniform_(lib.empty(3, dtype=lib.int64)),
            "xavier_empty": lambda: init.xavier_uniform_(lib.empty(0, 0)),
            "kaiming_bad_nonlinearity": lambda: init.kaiming_normal_(lib.empty(2, 2), nonlinearity="gelu"),
            "sparse_3d": lambda: init.sparse_(lib.empty(3, 3, 3), 0.1),
            "eye_3d": lambda: init.eye_(lib.empty(3, 3, 3)),
            "dirac_6d": lambda: init.dirac_(lib.empty(2, 2, 2, 2, 2, 2)),
        }[case]()

    raises_as_torch(run)


@pytest.mark.parametrize("name", ["normal", "uniform", "constant", "xavier_uniform", "kaiming_normal", "orthogonal", "eye"])
def test_deprecated_init_aliases_warn(name):
    args = {"constant": (0.5,)}.get(name, ())
    for lib in (torch, chainrule):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(lib.nn.init, name)(lib.empty(3, 3), *args)
        assert tuple(out.shape) == (3, 3)
        assert FutureWarning in [w.category for w in caught], lib.__name__


def test_trunc_normal_far_mean_warns_and_constant_int():
    for lib in (torch, chainrule):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.init.trunc_normal_(lib.empty(3), mean=10.0, a=-2, b=2)
        assert [w.category for w in caught] == [UserWarning], lib.__name__
    same_in_both(lambda lib: lib.nn.init.constant_(lib.empty(3, dtype=lib.int64), 2.7))


def test_init_does_not_record_graph():
    def run(lib):
        w = lib.ones(3, 3, requires_grad=True)
        lib.nn.init.normal_(w)
        out = lib.nn.init.zeros_(w)
        return [out.grad_fn is None, out.requires_grad, out.is_leaf]

    same_in_both(run)


# --- fans, gains ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 4), (8, 3, 5), (6, 3, 3, 2), (2, 4, 3, 3, 3), (7, 0)])
def test_calculate_fan_in_and_fan_out(shape):
    same_in_both(lambda lib: list(lib.nn.init._calculate_fan_in_and_fan_out(lib.empty(*shape))))


@pytest.mark.parametrize("make", [lambda lib: lib.empty(5), lambda lib: lib.tensor(1.0)], ids=["1d", "0d"])
def test_fan_needs_two_dims(make):
    raises_as_torch(lambda lib: lib.nn.init._calculate_fan_in_and_fan_out(make(lib)))


@pytest.mark.parametrize("factory", ["empty", "zeros"])
def test_factory_without_size_raises(factory):
    raises_as_torch(lambda lib: getattr(lib, factory)())


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "orthogonal_", "sparse_", "eye_"])
def test_initializers_reject_1d(name):
    raises_as_torch(lambda lib: getattr(lib.nn.init, name)(lib.empty(5)))


def test_dirac_rejects_2d():
    raises_as_torch(lambda lib: lib.nn.init.dirac_(lib.empty(3, 3)))


def test_kaiming_bad_mode():
    raises_as_torch(lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 3), mode="fan_avg"))


@pytest.mark.parametrize("args", [("linear",), ("conv1d",), ("conv2d",), ("conv3d",), ("conv_transpose1d",),
                                  ("conv_transpose2d",), ("conv_transpose3d",), ("sigmoid",), ("tanh",),
                                  ("relu",), ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 1),
                                  ("selu",), ("linear", 5)])
def test_calculate_gain(args):
    expected = torch.nn.init.calculate_gain(*args)
    actual = chainrule.nn.init.calculate_gain(*args)
    assert type(actual) is type(expected) and actual == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("args", [("gelu",), ("leaky_relu", "x"), ("leaky_relu", True)])
def test_calculate_gain_errors(args):
    raises_as_torch(lambda lib: lib.nn.init.calculate_gain(*args))


def test_kaiming_zero_element_warns():
    for lib in (torch, chainrule):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.init.kaiming_uniform_(lib.empty(0, 3))
        assert tuple(out.shape) == (0, 3)
        assert [w.category for w in caught] == [UserWarning], lib.__name__


# --- structured initialisers ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_eye(shape):
    same_in_both(lambda lib: lib.nn.init.eye_(lib.empty(*shape)))


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 1), ((4, 2, 3, 3), 2),
                                          ((2, 4, 3, 3, 3), 1), ((3, 5, 2), 1)])
def test_dirac(shape, groups):
    same_in_both(lambda lib: lib.nn.init.dirac_(lib.empty(*shape), groups=groups))


def test_dirac_groups_not_dividing():
    raises_as_torch(lambda lib: lib.nn.init.dirac_(lib.empty(5, 2, 3), groups=2))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 2)])
def test_orthogonal_property(shape):
    for lib in (torch, chainrule):
        w = lib.nn.init.orthogonal_(lib.empty(*shape)).reshape(shape[0], -1)
        small = w @ w.T if shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small.numpy(), np.eye(small.shape[0]), atol=1e-5)


def test_sparse_zero_count():
    for lib in (torch, chainrule):
        w = lib.nn.init.sparse_(lib.empty(10, 4), sparsity=0.3, std=0.01)
        zeros_per_column = (w == 0).sum(0).tolist()
        assert zeros_per_column == [3, 3, 3, 3], lib.__name__


@pytest.mark.parametrize("bounds", [(-2.0, 2.0), (0.0, 1.0), (-0.1, 0.3)])
def test_trunc_normal_bounds(bounds):
    a, b = bounds
    for lib in (torch, chainrule):
        lib.manual_seed(1)
        w = lib.nn.init.trunc_normal_(lib.empty(2000), mean=0.2, std=2.0, a=a, b=b)
        assert float(w.min()) >= a and float(w.max()) <= b, lib.__name__


def test_uniform_normal_statistics_float64():
    for lib in (torch, chainrule):
        lib.manual_seed(3)
        w = lib.nn.init.normal_(lib.empty(20000, dtype=lib.float64), mean=2.0, std=3.0)
        assert abs(float(w.mean()) - 2.0) < 0.1 and abs(float(w.std()) - 3.0) < 0.1


# --- gradients through packing, packed RNN state, in-place init on non-leaves ----------------------


@pytest.mark.parametrize("via", ["pack", "pad_left"])
def test_gradients_through_packing(via):
    def run(lib):
        rnn = lib.nn.utils.rnn
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = lib.tensor([4.0], requires_grad=True)
        if via == "pack":
            out, _ = rnn.pad_packed_sequence(rnn.pack_sequence([a, b]), batch_first=True)
            weights = lib.arange(1.0, 7.0).reshape(2, 3)
        else:
            out = rnn.pad_sequence([a, b], padding_side="left")
            weights = lib.arange(1.0, 7.0).reshape(3, 2)
        (out * weights).sum().backward()
        return [a.grad, b.grad]

    same_in_both(run)


def test_gru_unsorted_packed_hidden_order():
    def run(lib):
        rnn = lib.nn.utils.rnn
        gru = lib.nn.GRU(1, 2)
        packed = rnn.pack_sequence([lib.ones(1, 1), lib.ones(3, 1) * 2], enforce_sorted=False)
        out, h = gru(packed)
        return [rnn.pad_packed_sequence(out)[0], h]

    same_in_both(run)


def test_init_on_non_leaf_keeps_graph():
    def run(lib):
        w = lib.ones(3, requires_grad=True) * 2
        out = lib.nn.init.constant_(w, 0.5)
        return [out is w, out, out.grad_fn is None, out.requires_grad]

    same_in_both(run)
