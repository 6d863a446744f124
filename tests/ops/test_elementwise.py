"""Elementwise operations: the table runs gradcheck and the PyTorch comparison on every entry."""
import math

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import OpCase, broadcast_pair, broadcast_group, one_shape, table_test
from tests.ops.second_order import second_order_test


def positive(array):
    return np.abs(array) + 0.5


def away_from_zero(array):
    return np.sign(array) * (np.abs(array) + 0.5) + (array == 0)


def away_from_kinks(array):
    """Values at least 0.1 from the points where the derivative jumps (0 and the clamp bounds)."""
    return np.where(np.abs(array) < 0.1, array + 0.3, array) + 0.0


def distinct(array):
    """Inputs for max/min comparisons: no ties between the two operands."""
    return array + np.linspace(0, 0.01, array.size).reshape(array.shape)


CASES = [
    OpCase("add", lambda a, b: a + b, lambda a, b: a + b, broadcast_pair()),
    OpCase("sub", lambda a, b: a - b, lambda a, b: a - b, broadcast_pair()),
    OpCase("mul", lambda a, b: a * b, lambda a, b: a * b, broadcast_pair()),
    OpCase("div", lambda a, b: a / b, lambda a, b: a / b, broadcast_pair(), domain=away_from_zero),
    OpCase("pow_tensor", lambda a, b: a ** b, lambda a, b: a ** b, broadcast_pair(), domain=positive),
    OpCase("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, one_shape()),
    OpCase("pow_half", lambda a: a ** 0.5, lambda a: a ** 0.5, one_shape(), domain=positive),
    OpCase("rpow", lambda a: 2 ** a, lambda a: 2 ** a, one_shape()),
    OpCase("scalar_ops", lambda a: (4 * a - 0.01) / 2 + 1 - a, lambda a: (4 * a - 0.01) / 2 + 1 - a, one_shape()),
    OpCase("rdiv", lambda a: 1 / a, lambda a: 1 / a, one_shape(), domain=away_from_zero),
    OpCase("neg", lambda a: -a, lambda a: -a, one_shape()),
    OpCase("abs", chainrule.abs, torch.abs, one_shape(), domain=away_from_zero),
    OpCase("exp", chainrule.exp, torch.exp, one_shape()),
    OpCase("log", chainrule.log, torch.log, one_shape(), domain=positive),
    OpCase("log1p", chainrule.log1p, torch.log1p, one_shape(), domain=positive),
    OpCase("sqrt", chainrule.sqrt, torch.sqrt, one_shape(), domain=positive),
    OpCase("sin", chainrule.sin, torch.sin, one_shape()),
    OpCase("cos", chainrule.cos, torch.cos, one_shape()),
    OpCase("tan", chainrule.tan, torch.tan, one_shape(), domain=lambda a: np.clip(a, -1.2, 1.2)),
    OpCase("atan", chainrule.atan, torch.atan, one_shape()),
    OpCase("asin", chainrule.asin, torch.asin, one_shape(), domain=lambda a: np.tanh(a) * 0.9),
    OpCase("acos", chainrule.acos, torch.acos, one_shape(), domain=lambda a: np.tanh(a) * 0.9),
    OpCase("atan2", chainrule.atan2, torch.atan2, broadcast_pair(), domain=away_from_zero),
    OpCase("sinh", chainrule.sinh, torch.sinh, one_shape()),
    OpCase("cosh", chainrule.cosh, torch.cosh, one_shape()),
    OpCase("asinh", chainrule.asinh, torch.asinh, one_shape()),
    OpCase("acosh", chainrule.acosh, torch.acosh, one_shape(), domain=lambda a: np.abs(a) + 1.2),
    OpCase("atanh", chainrule.atanh, torch.atanh, one_shape(), domain=lambda a: np.tanh(a) * 0.9),
    OpCase("expm1", chainrule.expm1, torch.expm1, one_shape()),
    OpCase("exp2", chainrule.exp2, torch.exp2, one_shape()),
    OpCase("log2", chainrule.log2, torch.log2, one_shape(), domain=positive),
    OpCase("log10", chainrule.log10, torch.log10, one_shape(), domain=positive),
    OpCase("rsqrt", chainrule.rsqrt, torch.rsqrt, one_shape(), domain=positive),
    OpCase("reciprocal", chainrule.reciprocal, torch.reciprocal, one_shape(), domain=away_from_zero),
    OpCase("logit", chainrule.logit, torch.logit, one_shape(), domain=lambda a: 1 / (1 + np.exp(-a))),
    OpCase("logit_eps", lambda a: chainrule.logit(a, eps=0.2), lambda a: torch.logit(a, eps=0.2), one_shape(), domain=lambda a: away_from_kinks(a - 0.2) * 0.5 + 0.2, gradcheck=False),
    OpCase("floor", lambda a: chainrule.floor(a) + a, lambda a: torch.floor(a) + a, one_shape(), domain=lambda a: away_from_kinks(a % 1 - 0.5) + np.floor(a * 3)),
    OpCase("ceil", lambda a: chainrule.ceil(a) * a, lambda a: torch.ceil(a) * a, one_shape(), domain=lambda a: away_from_kinks(a % 1 - 0.5) + np.floor(a * 3)),
    OpCase("trunc", lambda a: chainrule.trunc(a) + a, lambda a: torch.trunc(a) + a, one_shape(), domain=lambda a: away_from_kinks(a % 1 - 0.5) + np.floor(a * 3)),
    OpCase("round", lambda a: chainrule.round(a, decimals=1) + a, lambda a: torch.round(a, decimals=1) + a, one_shape(), domain=lambda a: np.floor(a * 10) / 10 + 0.03),
    OpCase("frac", chainrule.frac, torch.frac, one_shape(), domain=lambda a: away_from_kinks(a % 1 - 0.5) + np.floor(a * 3)),
    OpCase("fmod", chainrule.fmod, torch.fmod, broadcast_pair(), domain=lambda a: positive(a) + 0.37 * np.arange(a.size).reshape(a.shape), differentiable=[True, False]),
    OpCase("hypot", chainrule.hypot, torch.hypot, broadcast_pair(), domain=away_from_zero),
    OpCase("logaddexp", chainrule.logaddexp, torch.logaddexp, broadcast_pair()),
    OpCase("lerp", chainrule.lerp, torch.lerp, broadcast_group()),
    OpCase("addcmul", lambda a, b, c: chainrule.addcmul(a, b, c, value=0.5), lambda a, b, c: torch.addcmul(a, b, c, value=0.5), broadcast_group()),
    OpCase("addcdiv", lambda a, b, c: chainrule.addcdiv(a, b, c, value=2), lambda a, b, c: torch.addcdiv(a, b, c, value=2), broadcast_group(), domain=away_from_zero),
    OpCase("xlogy", chainrule.xlogy, torch.xlogy, broadcast_pair(), domain=positive),
    OpCase("sinc", chainrule.sinc, torch.sinc, one_shape()),
    OpCase("sign", chainrule.sign, torch.sign, one_shape(), domain=away_from_zero),
    OpCase("square", chainrule.square, torch.square, one_shape()),
    OpCase("clamp", lambda a: a.clamp(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), one_shape(), domain=lambda a: away_from_kinks(a) * 0.9 + 0.55),
    OpCase("clamp_min", lambda a: chainrule.clamp(a, min=0.0), lambda a: torch.clamp(a, min=0.0), one_shape(), domain=away_from_kinks),
    OpCase("maximum", chainrule.maximum, torch.maximum, broadcast_pair(), domain=distinct),
    OpCase("minimum", chainrule.minimum, torch.minimum, broadcast_pair(), domain=distinct),
    OpCase("where", lambda a, b: chainrule.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b), broadcast_pair(), domain=distinct),
    OpCase("remainder", lambda a, b: a % b, lambda a, b: a % b, broadcast_pair(), domain=lambda a: positive(a) + 0.37 * np.arange(a.size).reshape(a.shape), differentiable=[True, False]),
    OpCase("clone", lambda a: a.clone() * 2, lambda a: a.clone() * 2, one_shape()),
    OpCase("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)), lambda a: a.broadcast_to((2, 3, 4)), st.sampled_from([((4,),), ((3, 1),), ((1, 4),), ((),)])),
    OpCase("expand", lambda a: a.expand(2, -1, 4), lambda a: a.expand(2, -1, 4), st.sampled_from([((3, 1),), ((1, 4),)])),
    OpCase("sgn", lambda a: chainrule.sgn(a) + a, lambda a: torch.sgn(a) + a, one_shape(), domain=away_from_zero),
    OpCase("absolute", chainrule.absolute, torch.absolute, one_shape(), domain=away_from_zero),
    OpCase("deg2rad", chainrule.deg2rad, torch.deg2rad, one_shape()),
    OpCase("rad2deg", chainrule.rad2deg, torch.rad2deg, one_shape(), rtol=1e-4, atol=1e-4),
    OpCase("copysign", chainrule.copysign, torch.copysign, broadcast_pair(), domain=away_from_zero),
    OpCase("fmax", chainrule.fmax, torch.fmax, broadcast_pair(), domain=distinct),
    OpCase("fmin", chainrule.fmin, torch.fmin, broadcast_pair(), domain=distinct),
    OpCase("float_power", chainrule.float_power, torch.float_power, broadcast_pair(), domain=positive),
    OpCase("float_power_scalar", lambda a: chainrule.float_power(a, 3), lambda a: torch.float_power(a, 3), one_shape()),
    OpCase("logaddexp2", chainrule.logaddexp2, torch.logaddexp2, broadcast_pair()),
    OpCase("nan_to_num", lambda a: chainrule.nan_to_num(a / (a > 0), posinf=2.0, neginf=-3.0), lambda a: torch.nan_to_num(a / (a > 0), posinf=2.0, neginf=-3.0), one_shape(), domain=away_from_zero, gradcheck=False),
    OpCase("ldexp", chainrule.ldexp, torch.ldexp, broadcast_pair(), domain=lambda a: np.round(a * 2)),
    OpCase("fmax_empty", chainrule.fmax, torch.fmax, st.sampled_from([((0,), (0,)), ((2, 0), (0,))])),
    OpCase("copysign_empty", chainrule.copysign, torch.copysign, st.sampled_from([((0, 3), (1, 3))])),
    OpCase("logaddexp2_empty", chainrule.logaddexp2, torch.logaddexp2, st.sampled_from([((0,), ())])),
]


test_op = table_test(CASES)
test_second_order = second_order_test(CASES)


def test_python_numbers_keep_the_tensor_dtype():
    w = chainrule.tensor([1.0, 2.0])
    assert (4 * w).dtype == chainrule.float32
    assert (w - 0.01).dtype == chainrule.float32
    assert (1 / w).dtype == chainrule.float32
    assert (w ** 2).dtype == chainrule.float32
    counts = chainrule.tensor([1, 2])
    assert (counts * 2).dtype == chainrule.int64
    assert (counts * 0.5).dtype == chainrule.float32
    assert (counts / 2).dtype == chainrule.float32
    assert (counts + w).dtype == chainrule.float32


def test_numpy_arrays_mix_with_tensors():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    out = np.array([3.0, 4.0], dtype=np.float32) * w
    assert isinstance(out, chainrule.Tensor)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad._array, [3.0, 4.0])


def test_mixed_float_precision_gradient_keeps_input_dtype():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)  # float32
    x = chainrule.tensor([3.0, 4.0], dtype=chainrule.float64)
    out = (w * x).sum()
    assert out.dtype == chainrule.float64
    out.backward()
    assert w.grad.dtype == chainrule.float32


def test_maximum_splits_gradient_on_ties_like_pytorch():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = chainrule.tensor([1.0, 3.0], requires_grad=True)
    chainrule.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad._array, [0.5, 0.0])
    np.testing.assert_array_equal(b.grad._array, [0.5, 1.0])


def test_broadcast_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1 \(add: .*\(2, 3\) and \(4,\)"):
        chainrule.ones(2, 3) + chainrule.ones(4)
    with pytest.raises(RuntimeError, match="mul"):
        chainrule.ones(2, 3) * chainrule.ones(2, 1, 5)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: x - 1, "SubBackward0"),
        (lambda x: 1 - x, "RsubBackward1"),
        (lambda x: x**2, "PowBackward0"),
        (lambda x: x**x, "PowBackward1"),
        (lambda x: 2**x, "PowBackward2"),
    ],
)
def test_a_number_on_the_left_names_the_node_as_pytorch_does(call, name):
    for lib in (chainrule, torch):
        x = lib.tensor([0.5, 2.0], requires_grad=True)
        assert call(x).grad_fn.name() == name
    x = chainrule.tensor([0.5, 2.0], requires_grad=True)
    theirs = torch.tensor([0.5, 2.0], requires_grad=True)
    call(x).sum().backward()
    call(theirs).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


def test_positive_is_the_tensor_itself():
    x = chainrule.tensor([1.0, -2.0])
    assert chainrule.positive(x) is x and x.positive() is x
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor is not supported"):
            lib.positive(lib.tensor([True]))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.heaviside(lib.tensor([-1.5, 0.0, 2.0]), lib.tensor(0.5)),
        lambda lib: lib.heaviside(lib.tensor([-1, 0, 2]), lib.tensor([7])),
        lambda lib: lib.nextafter(lib.tensor([1.0, -1.0, 0.0]), lib.tensor([2.0, -2.0, -1.0])),
        lambda lib: lib.nextafter(lib.tensor([1.0], dtype=lib.float64), lib.tensor([2.0], dtype=lib.float64)),
        lambda lib: lib.frexp(lib.tensor([8.0, 0.5, -3.0, 0.0, 1e-40]))[0],
        lambda lib: lib.frexp(lib.tensor([8.0, 0.5, -3.0, 0.0, 1e-40])).exponent,
        lambda lib: lib.copysign(lib.tensor([1, 2]), -1),
        lambda lib: lib.copysign(lib.tensor([1.0, 2.0]), lib.tensor([-0.0, 0.0])),
        lambda lib: lib.fmax(lib.tensor([1.0, math.nan, math.nan]), lib.tensor([math.nan, 2.0, math.nan])),
        lambda lib: lib.fmin(lib.tensor([1, 5]), lib.tensor([1.5, 1.0])),
        lambda lib: lib.float_power(lib.tensor([1, 2]), 2),
        lambda lib: lib.float_power(2, lib.tensor([0.5, 3.0])),
        lambda lib: lib.ldexp(lib.tensor([1, 2]), lib.tensor([1, 2])),
        lambda lib: lib.deg2rad(lib.tensor([180])),
        lambda lib: lib.nan_to_num(lib.tensor([math.nan, math.inf, -math.inf, 1.0])),
        lambda lib: lib.nan_to_num(lib.tensor([math.nan, math.inf, -math.inf], dtype=lib.float64), nan=1.0, neginf=-5.0),
        lambda lib: lib.nan_to_num(lib.tensor([1, 2])),
        lambda lib: lib.sgn(lib.tensor([-3, 0, 2])),
    ],
)
def test_values_and_dtypes_match_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    "name, args",
    [("sgn_", ()), ("absolute_", ()), ("deg2rad_", ()), ("rad2deg_", ()), ("copysign_", (-1.0,)),
     ("nan_to_num_", ()), ("ldexp_", (2,)), ("heaviside_", (0.5,)), ("nextafter_", (2.0,))],
)
def test_in_place_forms_match_pytorch(name, args):
    def run(lib):
        x = lib.tensor([-1.5, 0.0, 2.0])
        arguments = [lib.tensor(arg) for arg in args]
        assert getattr(x, name)(*arguments) is x
        return x

    np.testing.assert_array_equal(run(chainrule).numpy(), run(torch).numpy())


def test_float_power_in_place_needs_a_double_tensor():
    x = chainrule.tensor([2.0, 3.0], dtype=chainrule.float64)
    x.float_power_(2)
    np.testing.assert_array_equal(x._array, [4.0, 9.0])
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="the base given to float_power_ has dtype Float but the operation's result requires dtype Double"):
            lib.tensor([1.0]).float_power_(2)


def test_frexp_needs_floating_point():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=r"torch.frexp\(\) only supports floating-point dtypes"):
            lib.frexp(lib.tensor([1, 2]))


def test_fmax_gives_the_gradient_to_the_first_input_on_ties_like_pytorch():
    for name in ("fmax", "fmin"):
        grads = []
        for lib in (chainrule, torch):
            a = lib.tensor([1.0, 2.0, 1.0], requires_grad=True)
            b = lib.tensor([1.0, 3.0, math.nan], requires_grad=True)
            getattr(lib, name)(a, b).sum().backward()
            grads.append((a.grad.numpy(), b.grad.numpy()))
        np.testing.assert_array_equal(grads[0][0], grads[1][0])
        np.testing.assert_array_equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("name", ["SgnBackward0", "Deg2RadBackward0", "Rad2DegBackward0", "CopysignBackward0", "FmaxBackward0", "FminBackward0", "Logaddexp2Backward0", "NanToNumBackward0", "LdexpBackward0"])
def test_new_nodes_are_named_as_in_pytorch(name):
    function = {"Logaddexp2": "logaddexp2", "NanToNum": "nan_to_num", "Deg2Rad": "deg2rad", "Rad2Deg": "rad2deg"}.get(name.removesuffix("Backward0"), name.removesuffix("Backward0").lower())
    for lib in (chainrule, torch):
        x = lib.tensor([0.5, 2.0], requires_grad=True)
        arguments = (x,) if function in ("sgn", "deg2rad", "rad2deg", "nan_to_num") else (x, lib.tensor([1.0, -1.0]))
        assert getattr(lib, function)(*arguments).grad_fn.name() == name


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.logaddexp2(lib.tensor([1, 2]), lib.tensor([1, 2])),
        lambda lib: lib.nextafter(lib.tensor([1, 2]), lib.tensor([3, 3])),
        lambda lib: lib.heaviside(lib.tensor([1.0], dtype=lib.float16), lib.tensor([1])),
    ],
)
def test_integer_operands_are_refused_where_pytorch_refuses_them(call):
    with pytest.raises((NotImplementedError, RuntimeError)) as theirs:
        call(torch)
    with pytest.raises(theirs.type):
        call(chainrule)


def test_the_sign_of_a_bool_tensor_is_itself():
    np.testing.assert_array_equal(chainrule.sgn(chainrule.tensor([True, False]))._array, torch.sgn(torch.tensor([True, False])).numpy())
