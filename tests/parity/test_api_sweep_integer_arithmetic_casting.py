"""A sweep of integer arithmetic, division and casting against PyTorch (the oracle):
``floor_divide`` / ``div`` (``rounding_mode`` None, 'floor', 'trunc') / ``true_divide`` /
``remainder`` / ``fmod`` of ints and floats with negative operands and zero divisors (an integer
division by zero is PyTorch's RuntimeError), ``//`` and ``%`` with Python numbers on either side,
wrap-around of int8 / int16 / int32 / int64 / uint8 ``+`` and ``*`` (and of out-of-range Python
numbers), ``bitwise_and`` / ``or`` / ``xor`` / ``not`` and shifts (``<<``, ``>>``,
``bitwise_left_shift``) incl. bool and negative or oversized shifts, ``abs`` / ``neg`` of the lowest
integer and of uint8, ``pow`` of integer tensors (negative exponents, int ** float promotion,
0 ** 0), ``sign`` / ``sgn``, ``clamp`` of integer tensors with float bounds, ``sum`` / ``prod`` /
``cumsum`` of bool / int8 / uint8 (int64 results) and ``mean`` of integers (an error), casting
(``to`` / ``type`` / ``int`` / ``long`` / ``byte`` / ``bool`` / ``half`` of fractions and negatives,
truncation toward zero, float -> bool, int64 -> float32 rounding), ``tensor(..., dtype=)`` from
Python ints, floats and bools, the promotion rules of in-place ops and ``out=`` (int += float is a
RuntimeError), ``requires_grad`` on integer tensors, ``gcd`` / ``lcm``, ``isclose`` / ``allclose``
/ ``equal`` on integers, ``round`` with ``decimals``, dtype facts (``iinfo``, ``is_signed``,
``can_cast``), reprs, the warnings PyTorch gives (and the NumPy warnings it does not), and float64
gradients of the differentiable ones.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.

Left out on purpose: what PyTorch leaves undefined (nan, inf and out-of-range floats cast to
integers, negative floats cast to uint8), and gradients PyTorch does not implement
(``floor_divide``, ``number % tensor``; chainrule gives them as constants / the formula).
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, outcome, plain, raises_as_torch, same_in_both

NAN = float("nan")
INF = float("inf")


def name(value):
    """A dtype (or ``x.type()`` string) without its module: ``torch.int8`` and ``chainrule.int8`` give "int8"."""
    return str(value).replace("torch.", "").replace("chainrule.", "")


def exact(value):
    """A tensor's values as Python numbers (ints stay exact beyond 2**53) with its dtype name."""
    return name(value.dtype), value.tolist()


def inplace(method, *args, **kwargs):
    """``x.method(*args)`` on ``x`` made by ``make(L)``, giving ``x`` afterwards."""
    def run(make):
        def on(L):
            x = make(L)
            getattr(x, method)(*args, **kwargs)
            return x
        return on
    return run


def into(out_dtype, shape, call):
    """``call(L, out=o)`` with ``o = L.empty(shape, dtype=out_dtype)``, giving (result is o, o)."""
    def run(L):
        out = L.empty(shape, dtype=getattr(L, out_dtype))
        result = call(L, out)
        return [result is out, out]
    return run


I = [-7, -3, -1, 0, 1, 3, 7]
J = [2, -2, 3, -3, 2, -2, 3]
F = [-7.5, -3.0, -0.5, 0.0, 0.5, 3.0, 7.5]
G = [2.0, -2.0, 3.0, -3.0, 2.0, -2.5, 0.7]
FRACTIONS = [-2.7, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.7]


# --- values, dtypes and shapes ------------------------------------------------------------------

VALUE_CASES = {
    # floor_divide / div / true_divide
    "floor_divide_ints_floats": bundle(
        lambda L: L.floor_divide(L.tensor(I), L.tensor(J)),
        lambda L: L.floor_divide(L.tensor(F), L.tensor(G)),
        lambda L: L.floor_divide(L.tensor([-7, 7]), 2),
        lambda L: L.floor_divide(L.tensor([-7, 7]), 2.5),
        lambda L: L.floor_divide(L.tensor([[-7], [7]]), L.tensor([2, -3])),
        lambda L: L.floor_divide(L.tensor([-7, 7], dtype=L.int8), L.tensor(3)),
        lambda L: L.floor_divide(7, L.tensor([-2, 2])),
        lambda L: L.floor_divide(7, 2),
        lambda L: L.floor_divide(input=L.tensor([-7, 7]), other=L.tensor([2])),
    ),
    "floor_divide_float_by_zero_and_signed_zero": bundle(
        lambda L: L.floor_divide(L.tensor([-1.0, 1.0, 0.0]), 0.0),
        lambda L: L.signbit(L.floor_divide(L.tensor([-0.5, 0.5, 0.0, -0.0]), 2.0)),
        lambda L: L.floor_divide(L.tensor([1e10, -1e10]), 3.0),
        lambda L: L.floor_divide(L.zeros(0, dtype=L.int64), 0),
    ),
    "div_rounding_modes_ints": bundle(
        lambda L: L.div(L.tensor(I), L.tensor(J)),
        lambda L: L.div(L.tensor(I), L.tensor(J), rounding_mode=None),
        lambda L: L.div(L.tensor(I), L.tensor(J), rounding_mode="floor"),
        lambda L: L.div(L.tensor(I), L.tensor(J), rounding_mode="trunc"),
        lambda L: L.div(L.tensor([-7, 7], dtype=L.int8), 2, rounding_mode="floor"),
        lambda L: L.div(L.tensor([200, 7], dtype=L.uint8), 3, rounding_mode="trunc"),
        lambda L: L.div(L.tensor([10], dtype=L.uint8), -3, rounding_mode="trunc"),
        lambda L: L.div(L.tensor([10], dtype=L.uint8), -3, rounding_mode="floor"),
        lambda L: L.div(L.tensor([-7, 7]), 2.0, rounding_mode="trunc"),
        lambda L: L.div(L.tensor([True, False]), L.tensor([True, True])),
        lambda L: L.divide(input=L.tensor([-7, 7]), other=2, rounding_mode="floor"),
        lambda L: L.div(7, L.tensor([2])),
    ),
    "div_rounding_modes_floats": bundle(
        lambda L: L.div(L.tensor(F), L.tensor(G), rounding_mode="floor"),
        lambda L: L.div(L.tensor(F), L.tensor(G), rounding_mode="trunc"),
        lambda L: L.div(L.tensor([-7.5, 7.5, 0.0]), 0.0, rounding_mode="floor"),
        lambda L: L.div(L.tensor([-7.5, 7.5, 0.0]), 0.0, rounding_mode="trunc"),
        lambda L: L.signbit(L.div(L.tensor([-0.5, 0.5, -0.0]), 2.0, rounding_mode="trunc")),
        lambda L: L.signbit(L.div(L.tensor([0.5, -0.0, 0.0]), -2.0, rounding_mode="floor")),
        lambda L: L.div(L.tensor([INF, -INF]), 1.0, rounding_mode="trunc"),
    ),
    "true_divide": bundle(
        lambda L: L.true_divide(L.tensor([-7, 3]), L.tensor([2, 0])),
        lambda L: L.true_divide(L.tensor([1, 0, -1]), 0),
        lambda L: L.true_divide(input=L.tensor([-7, 7]), other=2),
        lambda L: L.true_divide(7, L.tensor([2])),
        lambda L: L.tensor([1, 0]) / L.tensor([0, 0]),
        lambda L: L.tensor([True, False]) / 2,
        lambda L: 1 / L.tensor([2, 4]),
        lambda L: L.tensor([-5], dtype=L.int8) / L.tensor(2, dtype=L.int8),
    ),
    # remainder / fmod
    "remainder": bundle(
        lambda L: L.remainder(L.tensor(I), L.tensor(J)),
        lambda L: L.remainder(L.tensor(F), L.tensor(G)),
        lambda L: L.remainder(L.tensor([-7.5, 7.5]), 0.0),
        lambda L: L.remainder(-7, L.tensor([2, -2])),
        lambda L: L.remainder(L.tensor([5.0, -5.0]), INF),
        lambda L: L.remainder(L.tensor([-7, 7]), 2.5),
        lambda L: L.remainder(L.tensor([-7.5, 7.5], dtype=L.float16), 2),
        lambda L: L.remainder(L.tensor(-5), 3),
        lambda L: L.remainder(L.zeros(0, 2), 2),
        lambda L: L.remainder(input=L.tensor([-7, 7]), other=3),
        lambda L: L.tensor([-7, 7]).remainder(other=3),
    ),
    "remainder_signed_zero": bundle(
        lambda L: L.signbit(L.remainder(L.tensor([-4.0, 4.0, -0.0]), 2.0)),
        lambda L: L.signbit(L.remainder(L.tensor([-4.0, 4.0, 0.0]), -2.0)),
    ),
    "fmod": bundle(
        lambda L: L.fmod(L.tensor(I), L.tensor(J)),
        lambda L: L.fmod(L.tensor(F), L.tensor(G)),
        lambda L: L.fmod(L.tensor([-7.5, 7.5]), 0.0),
        lambda L: L.fmod(L.tensor([-7, 7]), 3),
        lambda L: L.fmod(L.tensor([-7, 7]), 2.5),
        lambda L: L.signbit(L.fmod(L.tensor([-4.0, 4.0]), 2.0)),
        lambda L: L.fmod(input=L.tensor([-7, 7]), other=-3),
        lambda L: L.tensor([-7, 7]).fmod(other=3),
    ),
    "lowest_integer_by_minus_one_wraps": bundle(
        lambda L: L.tensor([-128], dtype=L.int8) // -1,
        lambda L: L.tensor([-2 ** 63]) % -1,
        lambda L: L.fmod(L.tensor([-128], dtype=L.int8), -1),
    ),
    # operators with Python numbers on either side
    "floordiv_mod_operators": bundle(
        lambda L: L.tensor([-7, 7]) // 2,
        lambda L: 7 // L.tensor([-2, 2]),
        lambda L: 7.5 // L.tensor([-2, 2]),
        lambda L: L.tensor([-7, 7]) // 2.0,
        lambda L: L.tensor([-7, 7]) % 3,
        lambda L: -7 % L.tensor([3, -3]),
        lambda L: 7.5 % L.tensor([2, -2]),
        lambda L: L.tensor([-7, 7]) % 2.5,
        lambda L: L.tensor([-100, 100], dtype=L.int8) // L.tensor(3),
        lambda L: L.tensor([-7, 7], dtype=L.int8) % 1000,
        lambda L: 1000 % L.tensor([3, -7], dtype=L.int8),
    ),
    "division_inplace_and_out": bundle(
        inplace("__ifloordiv__", 2)(lambda L: L.tensor([-7, 7])),
        inplace("__imod__", 3)(lambda L: L.tensor([-7, 7])),
        inplace("remainder_", 3)(lambda L: L.tensor([-7, 7])),
        inplace("fmod_", 3)(lambda L: L.tensor([-7, 7])),
        inplace("floor_divide_", 2)(lambda L: L.tensor([-7, 7])),
        inplace("div_", 2, rounding_mode="floor")(lambda L: L.tensor([-7, 7])),
        inplace("true_divide_", 2)(lambda L: L.tensor([-7.0, 7.0])),
        into("long", 2, lambda L, o: L.floor_divide(L.tensor([7, -7]), 2, out=o)),
        into("int32", 2, lambda L, o: L.remainder(L.tensor([-7, 7]), 3, out=o)),
        into("float32", 2, lambda L, o: L.remainder(L.tensor([-7, 7]), 3, out=o)),
        into("long", 2, lambda L, o: L.div(L.tensor([-7, 7]), 2, rounding_mode="floor", out=o)),
        into("float64", 2, lambda L, o: L.div(L.tensor([-7, 7]), 2, out=o)),
    ),
    # wrap-around
    "overflow_wraps": bundle(
        lambda L: L.tensor([127, -128], dtype=L.int8) + L.tensor([1, -1], dtype=L.int8),
        lambda L: L.tensor([127, -128], dtype=L.int8) + 1,
        lambda L: L.tensor([100, -100], dtype=L.int8) * 3,
        lambda L: L.tensor([0, 5], dtype=L.uint8) - 10,
        lambda L: L.tensor([200], dtype=L.uint8) * L.tensor([2], dtype=L.uint8),
        lambda L: L.tensor([32767], dtype=L.int16) + 1,
        lambda L: L.tensor([2 ** 30], dtype=L.int32) * 4,
        lambda L: L.tensor([20], dtype=L.uint8) ** 2,
        lambda L: L.square(L.tensor([20], dtype=L.uint8)),
    ),
    "overflow_int64_exact": bundle(
        lambda L: exact(L.tensor([2 ** 62, 2 ** 63 - 1]) * 4),
        lambda L: exact(L.tensor([2 ** 63 - 1]) + 1),
        lambda L: exact(L.prod(L.tensor([2 ** 40, 2 ** 40]))),
        lambda L: exact(L.pow(L.tensor([3]), 41)),
    ),
    "out_of_range_python_numbers": bundle(
        lambda L: L.tensor([3, -5], dtype=L.int8) + 1000,
        lambda L: L.tensor([3, -5], dtype=L.int8) - 1000,
        lambda L: L.tensor([3, -5], dtype=L.int8) * 1000,
        lambda L: 1000 - L.tensor([3, -5], dtype=L.int8),
        lambda L: L.tensor([3, 5], dtype=L.uint8) + (-1000),
        lambda L: L.tensor([1], dtype=L.uint8) + (-1),
        lambda L: 3 - L.tensor([5], dtype=L.uint8),
        lambda L: L.tensor([3, 5], dtype=L.uint8) * 300,
        lambda L: L.tensor([-1], dtype=L.int8) + L.tensor([255], dtype=L.uint8),
        lambda L: L.tensor([1, 2], dtype=L.int8) + L.tensor(1000),
        lambda L: L.tensor([3, -5], dtype=L.int8) & 1000,
        lambda L: L.maximum(L.tensor([3, -5], dtype=L.int8), L.tensor(1000)),
        inplace("add_", 1000)(lambda L: L.tensor([3, -5], dtype=L.int8)),
        inplace("mul_", 1000)(lambda L: L.tensor([3, -5], dtype=L.int8)),
    ),
    "add_sub_alpha_and_bool": bundle(
        lambda L: L.add(L.tensor([1, 2]), L.tensor([3, 4]), alpha=2),
        lambda L: L.sub(L.tensor([1, 2]), L.tensor([3, 4]), alpha=-3),
        lambda L: L.rsub(L.tensor([-7, 7]), 1, alpha=3),
        lambda L: L.tensor([True, False]) * L.tensor([True, True]),
        lambda L: L.tensor([True, False]) + L.tensor([True, True]),
        lambda L: [3 * L.tensor([True]), 3.5 + L.tensor([True]), L.tensor([True]) + True],
        lambda L: L.tensor([True, False]) + L.tensor(5),
    ),
    # bits
    "bitwise_ints": bundle(
        lambda L: L.bitwise_and(L.tensor([12, -1, 5]), L.tensor([10, 7, -3])),
        lambda L: L.bitwise_or(L.tensor([12, -1, 5]), 3),
        lambda L: L.bitwise_xor(L.tensor([12, -1, 5]), L.tensor([10, 7, -3])),
        lambda L: L.bitwise_not(L.tensor([0, -1, 5])),
        lambda L: L.bitwise_not(L.tensor([0, 5], dtype=L.uint8)),
        lambda L: L.bitwise_and(7, L.tensor([1, 2])),
        lambda L: L.bitwise_or(L.tensor([1], dtype=L.int8), L.tensor([256])),
        lambda L: [3 & L.tensor([1, 2]), 3 | L.tensor([4]), 3 ^ L.tensor([1]), ~L.tensor([0, -1, 5])],
        lambda L: L.bitwise_and(input=L.tensor([-7, 7]), other=3),
        lambda L: L.bitwise_not(input=L.tensor([-7, 7])),
    ),
    "bitwise_bool": bundle(
        lambda L: L.bitwise_not(L.tensor([True, False])),
        lambda L: ~L.tensor([True, False]),
        lambda L: [L.tensor([True, False]) & L.tensor([True, True]), L.tensor([True, False]) | False, L.tensor([True, False]) ^ True],
        lambda L: L.tensor([True, False]) & L.tensor([3, 2]),
        lambda L: L.tensor([3, 2]) & True,
        lambda L: L.tensor([True]) & 1,
    ),
    "bitwise_methods_inplace_out": bundle(
        lambda L: [L.tensor([-7, 7]).bitwise_and(3), L.tensor([-7, 7]).bitwise_or(3), L.tensor([-7, 7]).bitwise_xor(3),
                   L.tensor([-7, 7]).bitwise_not(), L.tensor([-7, 7]).bitwise_left_shift(1), L.tensor([-7, 7]).bitwise_right_shift(1)],
        inplace("bitwise_and_", 6)(lambda L: L.tensor([5, 3])),
        inplace("bitwise_left_shift_", 1)(lambda L: L.tensor([5, 3])),
        inplace("__ilshift__", 2)(lambda L: L.tensor([1, 3])),
        lambda L: (lambda t: (t.__ior__(L.tensor([True, False])), t)[1])(L.tensor([-7, 7])),
        into("long", 2, lambda L, o: L.bitwise_xor(L.tensor([5, 3]), 1, out=o)),
        into("long", 2, lambda L, o: L.bitwise_not(L.tensor([-7, 7]), out=o)),
    ),
    "shifts": bundle(
        lambda L: L.tensor([1, -1, 3]) << 2,
        lambda L: L.tensor([16, -16, 3]) >> 2,
        lambda L: L.tensor([1, 2, 3]) << L.tensor([0, 1, 2]),
        lambda L: 1 << L.tensor([0, 3, 5]),
        lambda L: 64 >> L.tensor([0, 3, 5]),
        lambda L: L.bitwise_left_shift(L.tensor([1, 2]), 3),
        lambda L: L.bitwise_right_shift(L.tensor([-16, 16]), L.tensor([2, 3])),
        lambda L: L.bitwise_left_shift(1, L.tensor([1, 2])),
        lambda L: L.bitwise_left_shift(input=L.tensor([-7, 7]), other=1),
        lambda L: L.tensor([True, False]) << 1,
    ),
    "shifts_overflow_oversized_negative": bundle(
        lambda L: L.tensor([64, 1], dtype=L.int8) << 1,
        lambda L: L.tensor([200], dtype=L.uint8) << 1,
        lambda L: L.tensor([1, -1]) << 64,
        lambda L: L.tensor([5, -5]) >> 64,
        lambda L: L.tensor([1, -1], dtype=L.int8) << 8,
        lambda L: L.tensor([100, -100], dtype=L.int8) >> 8,
        lambda L: L.tensor([1, -1], dtype=L.int32) << 40,
        lambda L: L.tensor([8, -8]) >> -1,
        lambda L: L.tensor([8, -8]) << -1,
        lambda L: L.tensor([3, -5], dtype=L.int8) << 1000,
        lambda L: L.tensor([3, -5], dtype=L.int8) >> 1000,
    ),
    # abs / neg / sign
    "abs_neg_lowest_and_uint8": bundle(
        lambda L: L.abs(L.tensor([-128, 127], dtype=L.int8)),
        lambda L: L.abs(L.tensor([-32768], dtype=L.int16)),
        lambda L: L.abs(L.tensor([-2 ** 31], dtype=L.int32)),
        lambda L: exact(L.abs(L.tensor([-2 ** 63]))),
        lambda L: -L.tensor([-128], dtype=L.int8),
        lambda L: exact(L.neg(L.tensor([-2 ** 63]))),
        lambda L: L.abs(L.tensor([0, 200], dtype=L.uint8)),
        lambda L: L.neg(L.tensor([0, 1, 200], dtype=L.uint8)),
        lambda L: L.negative(L.tensor([1, 200], dtype=L.uint8)),
        lambda L: -(-L.tensor([5], dtype=L.uint8)),
        lambda L: (L.tensor([3], dtype=L.uint8) - L.tensor([5], dtype=L.uint8)).abs(),
        lambda L: L.absolute(L.tensor([-3, 3])),
        lambda L: +L.tensor([3], dtype=L.uint8),
        inplace("abs_")(lambda L: L.tensor([-3, 3], dtype=L.int16)),
        into("long", 2, lambda L, o: L.abs(L.tensor([-7, 7]), out=o)),
    ),
    "sign_sgn_signbit": bundle(
        lambda L: L.sign(L.tensor([-5, 0, 5])),
        lambda L: L.sign(L.tensor([-5, 0, 5], dtype=L.int8)),
        lambda L: L.sign(L.tensor([0, 5], dtype=L.uint8)),
        lambda L: L.sign(L.tensor([True, False])),
        lambda L: L.sgn(L.tensor([-5, 0, 5])),
        lambda L: L.sgn(L.tensor([True, False])),
        lambda L: L.tensor([-2, 3]).sign(),
        lambda L: L.signbit(L.tensor([-2, 0, 3])),
        lambda L: L.signbit(L.tensor([0, 200], dtype=L.uint8)),
        lambda L: L.sign(L.tensor([NAN, -0.0, 0.0, -INF])),
        inplace("sign_")(lambda L: L.tensor([-7, 7])),
        into("long", 2, lambda L, o: L.sign(L.tensor([-7, 7]), out=o)),
    ),
    # pow
    "pow_integer_tensors": bundle(
        lambda L: L.pow(L.tensor([2, -3, 0]), 3),
        lambda L: L.pow(L.tensor([2, 3]), L.tensor([-1, 2])),
        lambda L: L.pow(L.tensor([1, -1]), L.tensor([-1, -2])),
        lambda L: L.pow(L.tensor([-1, 1, 2]), L.tensor([-3, -3, 0])),
        lambda L: L.pow(L.tensor(2), L.tensor(-1)),
        lambda L: L.pow(L.tensor([3], dtype=L.int8), 5),
        lambda L: L.pow(L.tensor([2], dtype=L.uint8), 9),
        lambda L: L.pow(L.tensor([2], dtype=L.int32), L.tensor([3])),
        lambda L: L.pow(L.tensor([3], dtype=L.int8), L.tensor([5])),
        lambda L: L.pow(L.tensor([2, 1, -1, 0]), 2 ** 40),
        lambda L: L.pow(L.tensor([-1, 1]), L.tensor([2 ** 40 + 1, 5])),
        lambda L: L.pow(L.tensor([True, False]), 2),
        lambda L: L.pow(L.tensor([2, 3]), True),
        lambda L: L.pow(L.tensor([2, 3]), L.tensor([True, False])),
    ),
    "pow_promotion_and_zero": bundle(
        lambda L: L.pow(L.tensor([2, 4]), 0.5),
        lambda L: L.pow(L.tensor([2, 4]), L.tensor([0.5, 2.0])),
        lambda L: L.pow(L.tensor([2, 3]), L.tensor(2.0)),
        lambda L: L.pow(L.tensor([2, 3], dtype=L.int8), L.tensor(0.5, dtype=L.float64)),
        lambda L: L.pow(L.tensor([2.0], dtype=L.float16), L.tensor([3])),
        lambda L: L.tensor([2, 0]) ** 0.0,
        lambda L: L.tensor([2, 3]) ** -1.0,
        lambda L: [L.pow(L.tensor([0]), 0), L.pow(L.tensor([0.0]), 0.0), L.pow(L.tensor(0), L.tensor(0))],
        lambda L: L.pow(L.tensor([-8.0, 0.0]), L.tensor([1 / 3, -1.0])),
        lambda L: L.float_power(L.tensor([2, 3]), 2),
        lambda L: L.float_power(L.tensor([2, 3]), -1),
    ),
    "pow_number_base": bundle(
        lambda L: L.pow(2, L.tensor([0, 1, 10])),
        lambda L: L.pow(2.5, L.tensor([0, 1, 2])),
        lambda L: L.pow(2, L.tensor([-1, 1])),
        lambda L: 2 ** L.tensor([0, 1, 10]),
        lambda L: (-2) ** L.tensor([0, 1, 3]),
        lambda L: 0 ** L.tensor([-1]),
        lambda L: 0.5 ** L.tensor([-1, 2]),
        lambda L: 2.0 ** L.tensor([1, 2]),
        lambda L: 1000 ** L.tensor([3, -5], dtype=L.int8),
    ),
    "pow_forms_inplace_out": bundle(
        lambda L: L.pow(input=L.tensor([-7, 7]), exponent=2),
        lambda L: L.tensor([-7, 7]).pow(exponent=2),
        lambda L: L.tensor([2, 3]) ** 2,
        inplace("pow_", 2)(lambda L: L.tensor([4, 9])),
        into("long", 2, lambda L, o: L.pow(L.tensor([-7, 7]), 2, out=o)),
    ),
    # clamp
    "clamp_integer_tensors": bundle(
        lambda L: L.clamp(L.tensor([-5, 0, 5]), min=-2.5, max=2.5),
        lambda L: L.clamp(L.tensor([-5, 0, 5]), -2, 2),
        lambda L: L.clamp(L.tensor([-5, 0, 5]), min=0.5),
        lambda L: L.clamp(L.tensor([-5, 0, 5]), min=L.tensor([0.5, 0.5, 0.5])),
        lambda L: L.clamp(L.tensor([-5, 0, 5]), min=L.tensor(0), max=L.tensor([1, 1, 1])),
        lambda L: L.clamp(L.tensor([0, 100, 200], dtype=L.uint8), 50, 150),
        lambda L: L.clamp(L.tensor([-5, 0, 5], dtype=L.int8), max=2.5),
        lambda L: L.clip(L.tensor([-5, 5]), -1.5, 1.5),
        lambda L: L.clamp(L.tensor([-5, 0, 5]), min=3, max=1),
        lambda L: [L.clamp_min(L.tensor([-5, 5]), 0.5), L.clamp_max(L.tensor([-5, 5]), 0.5)],
        lambda L: L.clamp(input=L.tensor([-7, 7]), min=-1, max=1),
        lambda L: L.tensor([-7, 7]).clamp(min=0),
        inplace("clamp_", 0, 2)(lambda L: L.tensor([-5, 0, 5])),
        inplace("clip_", max=2)(lambda L: L.tensor([-7, 7])),
        into("long", 2, lambda L, o: L.clamp(L.tensor([-7, 7]), -1, 1, out=o)),
    ),
    # reductions
    "sum_small_ints_to_int64": bundle(
        lambda L: L.sum(L.tensor([True, True, False])),
        lambda L: L.sum(L.tensor([100, 100], dtype=L.int8)),
        lambda L: L.tensor([200, 100], dtype=L.uint8).sum(),
        lambda L: L.tensor([2 ** 30, 2 ** 30], dtype=L.int32).sum(),
        lambda L: L.sum(L.tensor([[1, 2], [3, 4]], dtype=L.int16), dim=0, keepdim=True),
        lambda L: L.sum(L.ones(2, 3, dtype=L.int8), dim=(0, -1)),
        lambda L: L.tensor([[True, False], [True, True]]).sum(-1, keepdim=True),
        lambda L: L.sum(L.zeros(0, dtype=L.int8)),
        lambda L: L.nansum(L.tensor([1, 2], dtype=L.int8)),
        lambda L: type(L.tensor([1, 2]).sum().item()).__name__,
    ),
    "sum_dtype_and_out": bundle(
        lambda L: L.sum(L.tensor([100, 100], dtype=L.int8), dtype=L.int8),
        lambda L: L.tensor([200, 100], dtype=L.uint8).sum(dtype=L.int8),
        lambda L: L.sum(L.tensor([1, 2]), dtype=L.float32),
        lambda L: L.tensor([True, True]).sum(dtype=L.float64),
        lambda L: L.tensor([True, True]).sum(dtype=L.uint8),
        lambda L: L.tensor([1.5, 2.5]).sum(dtype=L.int64),
        lambda L: L.sum(input=L.tensor([-7, 7]), dim=0, keepdim=True, dtype=L.int8),
        into("long", (), lambda L, o: L.sum(L.tensor([1, 2]), 0, out=o)),
    ),
    "prod_small_ints_to_int64": bundle(
        lambda L: [L.prod(L.tensor([True, True])), L.prod(L.tensor([True, False]))],
        lambda L: L.prod(L.tensor([100, 3], dtype=L.int8)),
        lambda L: L.prod(L.tensor([[20, 20], [3, 3]], dtype=L.uint8), 0),
        lambda L: L.prod(L.tensor([100, 3], dtype=L.int8), dtype=L.int8),
        lambda L: L.prod(L.zeros(0, dtype=L.int32)),
        lambda L: L.prod(L.tensor([300, 300], dtype=L.int16)),
        lambda L: L.prod(L.tensor(5, dtype=L.int8)),
        lambda L: L.tensor([[True, False], [True, True]]).prod(1),
        lambda L: L.prod(input=L.tensor([-7, 7]), dim=0, dtype=L.float32),
    ),
    "cumsum_cumprod_small_ints": bundle(
        lambda L: L.cumsum(L.tensor([100, 100], dtype=L.int8), 0),
        lambda L: L.cumsum(L.tensor([True, False, True]), 0),
        lambda L: L.cumsum(L.tensor([200, 100], dtype=L.uint8), 0, dtype=L.uint8),
        lambda L: L.tensor([30000, 30000], dtype=L.int16).cumsum(0),
        lambda L: L.cumsum(L.zeros(0, dtype=L.uint8), 0),
        lambda L: L.cumprod(L.tensor([100, 3], dtype=L.int8), 0),
        lambda L: L.tensor([True, True, False]).cumprod(0),
        lambda L: L.cumsum(input=L.tensor([-7, 7]), dim=0, dtype=L.int16),
    ),
    "mean_of_ints_with_dtype_and_others": bundle(
        lambda L: L.mean(L.tensor([1, 2]), dtype=L.float32),
        lambda L: L.tensor([[1, 2]]).mean(1, dtype=L.float64),
        lambda L: L.median(L.tensor([1, 2, 3, 4])),
        lambda L: [L.max(L.tensor([1, -2], dtype=L.int8)), L.amax(L.tensor([True, False]))],
        lambda L: L.tensor([5, 200], dtype=L.uint8).min(),
        lambda L: L.argmax(L.tensor([1, 3, 3], dtype=L.int8)),
        lambda L: L.dot(L.tensor([1, 2]), L.tensor([3, 4])),
        lambda L: L.matmul(L.tensor([[100, 100]], dtype=L.int8), L.tensor([[2], [1]], dtype=L.int8)),
    ),
    # casting
    "float_to_int_truncates_toward_zero": bundle(
        lambda L: L.tensor(FRACTIONS).to(L.int32),
        lambda L: L.tensor(FRACTIONS).long(),
        lambda L: L.tensor(FRACTIONS).int(),
        lambda L: L.tensor(FRACTIONS).short(),
        lambda L: L.tensor(FRACTIONS).char(),
        lambda L: L.tensor([0.0, 0.5, 1.7, 254.9]).byte(),
        lambda L: L.tensor([-0.9, -0.99, 0.99]).long(),
        lambda L: L.tensor([2.5, -2.5], dtype=L.float16).int(),
        lambda L: L.tensor([65504.0, -65504.0], dtype=L.float16).int(),
        lambda L: exact(L.tensor([2.0 ** 62, -2.0 ** 62, 1e10], dtype=L.float64).long()),
        lambda L: L.tensor([-2147483648.0, 2147483647.0], dtype=L.float64).int(),
        lambda L: L.tensor([-32768.0, 32767.9]).short(),
    ),
    "to_bool": bundle(
        lambda L: L.tensor([0.0, -0.0, 0.1, -2.0, NAN, INF]).bool(),
        lambda L: L.tensor([0, 3, -1]).to(L.bool),
        lambda L: L.tensor([0, 256, 3], dtype=L.int32).bool(),
        lambda L: L.tensor([0.0, 1e-7, NAN], dtype=L.float16).bool(),
        lambda L: L.tensor([1e-45, 0.0]).bool(),
        lambda L: L.tensor(0.0).bool(),
        lambda L: L.tensor([True, False]).byte().bool(),
    ),
    "integer_to_integer_wraps": bundle(
        lambda L: L.tensor([127, 128, 255, 256, -129]).to(L.int8),
        lambda L: L.tensor([255, 256, -1]).to(L.uint8),
        lambda L: L.tensor([40000, -40000]).short(),
        lambda L: L.tensor([-1, -128, 127], dtype=L.int8).byte(),
        lambda L: L.tensor([255, 128], dtype=L.uint8).char(),
        lambda L: L.tensor([65535, 65536, -32769], dtype=L.int32).to(L.int16),
        lambda L: [L.tensor([300]).byte(), L.tensor([300]).char(), L.tensor([70000]).short()],
        lambda L: [L.tensor([True, False]).long(), L.tensor([True, False]).float(), L.tensor([True, False]).half()],
    ),
    "int_to_float_rounding": bundle(
        lambda L: L.tensor([2 ** 24 + 1, 2 ** 24 + 3, 33554435, 2 ** 31 - 1, -(2 ** 31) + 1]).to(L.float32),
        lambda L: L.tensor([2 ** 53 + 1, 2 ** 53 + 3]).double(),
        lambda L: L.tensor([2 ** 63 - 1, -2 ** 63]).to(L.float64),
        lambda L: L.tensor([2049, 4097, -2049, 65519, 65520]).half(),
        lambda L: L.tensor([2 ** 24 + 1]).float(),
    ),
    "float_to_float_rounding": bundle(
        lambda L: L.tensor([1.0 / 3, 65504.0, 1e-8, 2049.0, 2051.0, 0.1]).half(),
        lambda L: L.tensor([INF, -INF, NAN]).half(),
        lambda L: L.tensor([0.1, 1e-50], dtype=L.float64).float(),
        lambda L: L.tensor([0.1], dtype=L.float16).float(),
    ),
    "type_to_forms": bundle(
        lambda L: L.tensor(FRACTIONS).type(L.int16),
        lambda L: L.tensor(FRACTIONS).type(L.long),
        lambda L: L.tensor([1.9]).to(dtype=L.int8),
        lambda L: L.tensor([1.5]).to(dtype=L.int32, copy=True),
        lambda L: L.tensor([1.5]).to("cpu", L.int32),
        lambda L: L.tensor([1.5]).to(device="cpu", dtype=L.int16),
        lambda L: L.tensor([1.9, -1.9]).to(L.tensor([1], dtype=L.int16)),
        lambda L: L.tensor([1.9, -1.9]).type_as(L.tensor([1], dtype=L.int16)),
        lambda L: L.tensor([1.5]).type(L.IntTensor),
        lambda L: [L.tensor([1]).to(L.float), L.tensor([1.0]).to(L.int), L.tensor([1.0]).to(L.long),
                   L.tensor([1.0]).to(L.short), L.tensor([1.0]).to(L.double), L.tensor([1.0]).to(L.half)],
        lambda L: L.zeros(0, 3).long(),
    ),
    "type_strings": bundle(
        lambda L: L.tensor(FRACTIONS).type("torch.IntTensor"),
        lambda L: L.tensor(FRACTIONS).type("torch.LongTensor"),
        lambda L: L.tensor(FRACTIONS).type("torch.BoolTensor"),
        lambda L: L.tensor([1, 2]).type("torch.DoubleTensor"),
        lambda L: L.tensor([1, 2]).type("torch.HalfTensor"),
        lambda L: L.tensor([1.5, 2.5]).type("torch.ByteTensor"),
        lambda L: [name(L.tensor([1]).type()), name(L.tensor([1.0]).type()), name(L.tensor([True]).type()),
                   name(L.tensor([1], dtype=L.uint8).type()), name(L.tensor([1.0], dtype=L.float16).type())],
    ),
    "to_returns_self_or_copy": bundle(
        lambda L: (lambda t: [t.to(L.int64) is t, t.to(L.int64, copy=True) is t, t.long() is t, t.int() is t])(L.tensor([1])),
        lambda L: (lambda t: (t.long().__setitem__(0, 9), t)[1])(L.tensor([1])),
        lambda L: (lambda t: (t.int().__setitem__(0, 9), t)[1])(L.tensor([1])),
    ),
    # tensor(..., dtype=) from Python numbers
    "tensor_from_python_numbers": bundle(
        lambda L: L.tensor([1.7, -1.7], dtype=L.int64),
        lambda L: [L.tensor(3.9, dtype=L.int64), L.tensor(-3.9, dtype=L.int32), L.tensor([2.999999], dtype=L.int16)],
        lambda L: L.tensor([True, False], dtype=L.int32),
        lambda L: L.tensor([1, 2], dtype=L.float16),
        lambda L: L.tensor([0, 2, -1], dtype=L.bool),
        lambda L: L.tensor([0.0, 0.5, NAN, -0.0], dtype=L.bool),
        lambda L: L.tensor(2.5, dtype=L.bool),
        lambda L: L.tensor([-1], dtype=L.uint8),
        lambda L: L.tensor(-1, dtype=L.uint8),
        lambda L: L.tensor([], dtype=L.int8),
        lambda L: L.as_tensor([1.5, 2.5], dtype=L.int32),
    ),
    "tensor_inferred_dtypes": bundle(
        lambda L: L.tensor([True, 2]),
        lambda L: L.tensor([1, 2.5]),
        lambda L: L.tensor([True, 2.5]),
        lambda L: L.tensor([True, False]),
        lambda L: [L.tensor(3), L.tensor(3.0), L.tensor(True)],
        lambda L: L.tensor([[1, 2], [3.0, 4]]),
        lambda L: exact(L.tensor([2 ** 62, -2 ** 63])),
        lambda L: [L.full((2,), 3), L.full((2,), True), L.full((1,), 2.5)],
        lambda L: [L.arange(5), L.arange(0, 5, 2), L.arange(0.0, 3), L.arange(0, 3, 0.5), L.arange(0, 5, dtype=L.int8)],
    ),
    "tensor_big_ints_to_floats": bundle(
        lambda L: L.tensor([2 ** 24 + 1, 2 ** 53 + 1, 2 ** 63 - 1], dtype=L.float32),
        lambda L: L.tensor([2 ** 53 + 1, -2 ** 63], dtype=L.float64),
        lambda L: L.tensor([0.1, 1e-8, 6e-5, 65519.0, 2049.0], dtype=L.float16),
    ),
    "fill_setitem_copy_cast": bundle(
        lambda L: L.full((2,), 2.7, dtype=L.int64),
        lambda L: L.full((2,), -1, dtype=L.uint8),
        lambda L: L.zeros(2, dtype=L.int64).fill_(-2.7),
        lambda L: L.zeros(2, dtype=L.bool).fill_(0.5),
        lambda L: L.zeros(2, dtype=L.int64).masked_fill(L.tensor([True, False]), 2.7),
        lambda L: (lambda t: (t.__setitem__(0, -2.7), t)[1])(L.zeros(2, dtype=L.int64)),
        lambda L: (lambda t: (t.__setitem__(slice(None), L.tensor([1.7, -1.7])), t)[1])(L.zeros(2, dtype=L.int64)),
        lambda L: (lambda t: (t.__setitem__(0, -1), t)[1])(L.zeros(2, dtype=L.uint8)),
        lambda L: (lambda t: (t.__setitem__(1, L.tensor(2.9)), t)[1])(L.zeros(2, dtype=L.int64)),
        lambda L: (lambda t: (t.copy_(L.tensor([1.9, -1.9])), t)[1])(L.zeros(2, dtype=L.int64)),
        lambda L: (lambda t: (t.copy_(L.tensor([2, 0])), t)[1])(L.zeros(2, dtype=L.bool)),
        lambda L: L.tensor([1], dtype=L.int8).new_full((2,), 5),
        lambda L: L.tensor([1], dtype=L.int8).new_tensor([1.7, 2]),
        lambda L: L.zeros_like(L.tensor([1.5]), dtype=L.int8),
    ),
    "where_with_numbers": bundle(
        lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]), 2.5),
        lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2], dtype=L.int8), 100),
        lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2], dtype=L.uint8), -1),
        lambda L: L.where(L.tensor([True, False]), 1, 0),
        lambda L: L.where(L.tensor([True, False]), 1, 0.5),
        lambda L: L.where(L.tensor([True, False]), L.tensor([True, False]), 2),
    ),
    # in-place promotion that PyTorch allows
    "inplace_promotion_allowed": bundle(
        lambda L: (lambda t: (t.__iadd__(L.tensor([200])), t)[1])(L.tensor([1, 2], dtype=L.int8)),
        inplace("__iadd__", True)(lambda L: L.tensor([1, 2])),
        inplace("mul_", True)(lambda L: L.tensor([7, -7])),
        lambda L: (lambda t: (t.__iadd__(L.tensor([True, False])), t)[1])(L.tensor([True, False])),
        lambda L: (lambda t: (t.__iadd__(L.tensor([1, 2])), t)[1])(L.tensor([1.5, 2.5])),
        lambda L: (lambda t: (t.__iadd__(L.tensor([1.0], dtype=L.float64)), t)[1])(L.tensor([1.5], dtype=L.float16)),
        lambda L: (lambda t: (t.__iadd__(L.tensor([-1, -1], dtype=L.int8)), t)[1])(L.tensor([3, 0], dtype=L.uint8)),
        lambda L: (lambda t: (t[0:1].__iadd__(5), t)[1])(L.tensor([7, -7])),
        into("float32", 1, lambda L, o: L.add(L.tensor([1]), 2, out=o)),
        into("float32", 1, lambda L, o: L.mul(L.tensor([3]), 1.5, out=o)),
        into("int8", 2, lambda L, o: L.mul(L.tensor([-7, 7]), 20, out=o)),
        into("int8", 1, lambda L, o: L.add(L.tensor([100]), L.tensor([100]), out=o)),
        into("float16", 1, lambda L, o: L.mul(L.tensor([1.5], dtype=L.float64), 2, out=o)),
    ),
    # requires_grad flags
    "requires_grad_flags_of_integer_results": bundle(
        lambda L: L.tensor([1, 2]).requires_grad_(False).requires_grad,
        lambda L: L.tensor([1, 2], requires_grad=False).requires_grad,
        lambda L: [L.tensor([1.5], requires_grad=True).to(L.int32).requires_grad, L.tensor([1.5], requires_grad=True).bool().requires_grad,
                   L.tensor([1.5], requires_grad=True).half().requires_grad, L.tensor([1.5], requires_grad=True).type(L.long).requires_grad],
        lambda L: [(L.tensor([1.5], requires_grad=True) > 0).requires_grad, L.argmax(L.tensor([1.5], requires_grad=True)).requires_grad],
        lambda L: (lambda x: [L.sign(x).requires_grad, L.round(x).requires_grad, L.div(x, 2, rounding_mode="floor").requires_grad,
                              L.remainder(x, 2).requires_grad, L.fmod(x, 2).requires_grad])(L.tensor([1.5], requires_grad=True)),
        lambda L: (L.tensor([1, 2]) * L.tensor([1.5], requires_grad=True)).requires_grad,
        lambda L: L.full((2,), 1.0, requires_grad=True).requires_grad,
        lambda L: L.arange(3.0, requires_grad=True).requires_grad,
        lambda L: L.tensor([1.0], dtype=L.float16, requires_grad=True).requires_grad,
        lambda L: name(L.nn.Parameter(L.tensor([1, 2]), requires_grad=False).dtype),
    ),
    # gcd / lcm
    "gcd_lcm": bundle(
        lambda L: L.gcd(L.tensor([12, -18, 0, 0, 7]), L.tensor([8, 12, 5, 0, -14])),
        lambda L: L.gcd(L.tensor([[12], [9]]), L.tensor([8, 6])),
        lambda L: L.gcd(L.tensor([12, -128], dtype=L.int8), L.tensor([8, 0], dtype=L.int8)),
        lambda L: L.gcd(L.tensor([200], dtype=L.uint8), L.tensor([150], dtype=L.uint8)),
        lambda L: L.gcd(L.tensor([12], dtype=L.int8), L.tensor([8])),
        lambda L: [L.gcd(L.tensor(12), L.tensor(18)), L.gcd(L.zeros(0, dtype=L.long), L.tensor(3))],
        lambda L: L.lcm(L.tensor([4, -6, 0, 3]), L.tensor([6, 4, 5, -7])),
        lambda L: L.lcm(L.tensor([100], dtype=L.int8), L.tensor([3], dtype=L.int8)),
        lambda L: L.lcm(L.tensor([0]), L.tensor([0])),
        lambda L: [L.tensor([-7, 7]).gcd(L.tensor([3])), L.tensor([4]).lcm(L.tensor([6]))],
        lambda L: [L.gcd(input=L.tensor([-7, 7]), other=L.tensor([3])), L.lcm(input=L.tensor([-7, 7]), other=L.tensor([3]))],
        lambda L: (lambda t: (t.gcd_(L.tensor([4, 6])), t)[1])(L.tensor([6, 9])),
        lambda L: (lambda t: (t.lcm_(L.tensor([4, 6])), t)[1])(L.tensor([6, 9])),
    ),
    # isclose / allclose / equal
    "isclose_allclose_on_ints": bundle(
        lambda L: L.isclose(L.tensor([1, 2, 3]), L.tensor([1, 3, 3])),
        lambda L: L.isclose(L.tensor([100, 200]), L.tensor([101, 200]), rtol=0.01, atol=0),
        lambda L: L.isclose(L.tensor([100, 200]), L.tensor([101, 205]), rtol=0, atol=1),
        lambda L: L.isclose(L.tensor([True, False]), L.tensor([True, True])),
        lambda L: L.isclose(L.tensor([0, 255], dtype=L.uint8), L.tensor([1, 250], dtype=L.uint8), rtol=0, atol=2),
        lambda L: L.isclose(L.tensor([1, 2]), L.tensor([1, 2]), equal_nan=True),
        lambda L: L.isclose(L.tensor([2 ** 62 + 1]), L.tensor([2 ** 62 + 1]), rtol=0, atol=0),
        lambda L: L.isclose(input=L.tensor([-7, 7]), other=L.tensor([-7, 8]), rtol=0, atol=0, equal_nan=False),
        lambda L: [L.allclose(L.tensor([1, 2]), L.tensor([1, 2])), L.allclose(L.tensor([1, 2]), L.tensor([1, 3]))],
        lambda L: L.allclose(L.tensor([100]), L.tensor([101]), rtol=0.02),
        lambda L: type(L.allclose(L.tensor([1]), L.tensor([1]))).__name__,
        lambda L: L.allclose(L.tensor([[1, 1]]), L.tensor([1])),
        lambda L: [L.tensor([-7, 7]).isclose(L.tensor([-7, 7])), L.tensor([-7, 7]).allclose(L.tensor([-7, 7]))],
    ),
    "equal_and_comparisons_on_ints": bundle(
        lambda L: [L.equal(L.tensor([1, 2]), L.tensor([1, 2])), L.equal(L.tensor([1, 2]), L.tensor([1, 3]))],
        lambda L: L.equal(L.tensor([1, 2]), L.tensor([1.0, 2.0])),
        lambda L: L.equal(L.tensor([1, 2]), L.tensor([1, 2], dtype=L.int8)),
        lambda L: [L.equal(L.tensor([1, 2]), L.tensor([[1, 2]])), L.equal(L.tensor([1]), L.tensor(1))],
        lambda L: L.equal(L.tensor([True, False]), L.tensor([1, 0])),
        lambda L: L.equal(L.zeros(0, dtype=L.long), L.zeros(0)),
        lambda L: L.equal(L.tensor([2 ** 62]), L.tensor([2 ** 62 + 1])),
        lambda L: L.equal(input=L.tensor([-7, 7]), other=L.tensor([-7, 7])),
        lambda L: type(L.tensor([1]).equal(L.tensor([1]))).__name__,
        lambda L: L.tensor([1, 2]) == L.tensor([1.0, 2.5]),
        lambda L: L.tensor([1, 2]) < 1.5,
        lambda L: L.tensor([255], dtype=L.uint8) == -1,
        lambda L: L.tensor([44], dtype=L.int8) == 300,
        lambda L: L.tensor([2 ** 53 + 1]) == L.tensor([2 ** 53]),
    ),
    # round
    "round": bundle(
        lambda L: L.round(L.tensor([15, -15, 25])),
        lambda L: L.tensor([-7, 7]).round(),
        lambda L: L.round(L.tensor([1.25, -2.675, 0.5, 1.5, 2.5]), decimals=1),
        lambda L: L.round(L.tensor([125.0, -135.0, 150.0, 250.0]), decimals=-2),
        lambda L: L.round(L.tensor([0.5, 1.5, 2.5, -0.5, -1.5])),
        lambda L: L.tensor([1234.5678]).round(decimals=2),
        lambda L: L.round(input=L.tensor([1.25]), decimals=1),
        inplace("round_", decimals=1)(lambda L: L.tensor([1.25, 1.35])),
        into("float32", 1, lambda L, o: L.round(L.tensor([1.26]), decimals=1, out=o)),
        lambda L: [L.floor(L.tensor([1, -1])), L.ceil(L.tensor([1, -1], dtype=L.int8)), L.trunc(L.tensor([3])), L.fix(L.tensor([3, -3]))],
    ),
    # dtype facts and reprs
    "dtype_facts": bundle(
        lambda L: [L.float is L.float32, L.int is L.int32, L.long is L.int64, L.short is L.int16, L.half is L.float16, L.double is L.float64],
        lambda L: [(d.is_floating_point, d.is_signed, d.itemsize) for d in (L.bool, L.uint8, L.int8, L.int16, L.int32, L.int64, L.float16, L.float32, L.float64)],
        lambda L: [(L.iinfo(d).min, L.iinfo(d).max, L.iinfo(d).bits) for d in (L.uint8, L.int8, L.int16, L.int32, L.int64)],
        lambda L: [L.tensor([1]).is_floating_point(), L.is_floating_point(L.tensor([1.0])), L.tensor([True]).is_floating_point()],
        lambda L: [L.tensor([1], dtype=L.uint8).is_signed(), L.tensor([1]).is_signed(), L.tensor([True]).is_signed(), L.tensor([1.0]).is_signed()],
        lambda L: [L.tensor([1], dtype=d).element_size() for d in (L.bool, L.uint8, L.int16, L.int32, L.int64, L.float16)],
        lambda L: [L.can_cast(L.float32, L.int32), L.can_cast(L.int32, L.float32), L.can_cast(L.int64, L.bool),
                   L.can_cast(L.uint8, L.int8), L.can_cast(L.bool, L.uint8)],
        lambda L: [name(L.result_type(L.tensor([1], dtype=L.int8), 1000)), name(L.result_type(L.tensor([1], dtype=L.uint8), -1)),
                   name(L.result_type(L.tensor([1]), 1.5)), name(L.result_type(L.tensor([True]), 1)), name(L.result_type(2, 3.0))],
    ),
    "reprs": bundle(
        lambda L: name(repr(L.tensor([1, -2], dtype=L.int8))),
        lambda L: name(repr(L.tensor([1, 200], dtype=L.uint8))),
        lambda L: name(repr(L.tensor([1, -2]))),
        lambda L: name(repr(L.tensor([True, False]))),
        lambda L: name(repr(L.tensor(5, dtype=L.int32))),
        lambda L: name(repr(L.tensor([1.5, 2.0], dtype=L.float16))),
        lambda L: name(repr(L.tensor([], dtype=L.int16))),
        lambda L: name(repr(L.tensor([2 ** 62, -1]))),
        lambda L: name(str(L.tensor([1, 2]).float())),
        lambda L: name(repr(L.tensor([1.9, -2.5]).int())),
    ),
    # Python conversions
    "python_scalars_from_int_tensors": bundle(
        lambda L: [type(L.tensor(3).item()).__name__, type(L.tensor(3.0).item()).__name__, type(L.tensor(True).item()).__name__,
                   type(L.tensor(3, dtype=L.uint8).item()).__name__, L.tensor(-1, dtype=L.int8).item()],
        lambda L: [L.tensor([1, 2], dtype=L.int8).tolist(), type(L.tensor([1], dtype=L.int16).tolist()[0]).__name__, L.tensor([[True]]).tolist()],
        lambda L: [int(L.tensor(2.7)), int(L.tensor(-2.7)), float(L.tensor(3)), bool(L.tensor(0.1)), int(L.tensor(True))],
        lambda L: [[1, 2, 3, 4][L.tensor(2)], list(range(L.tensor(3))), hex(L.tensor(255)), __import__("operator").index(L.tensor(200, dtype=L.uint8))],
        lambda L: L.tensor(2 ** 62 + 1).item(),
    ),
}


@pytest.mark.parametrize("run", list(VALUE_CASES.values()), ids=list(VALUE_CASES))
def test_same_values(run):
    same_in_both(run)


# --- bad input: PyTorch's exception type --------------------------------------------------------

RAISES_CASES = {
    # integer division by zero is a RuntimeError ('ZeroDivisionError')
    "floor_divide_int_by_zero": lambda L: L.floor_divide(L.tensor([1, 2]), 0),
    "div_floor_int_by_zero": lambda L: L.div(L.tensor([1, 2]), L.tensor([0, 1]), rounding_mode="floor"),
    "div_trunc_int_by_zero": lambda L: L.div(L.tensor([1, 2]), 0, rounding_mode="trunc"),
    "remainder_int_by_zero": lambda L: L.remainder(L.tensor([1, 2]), 0),
    "fmod_int_by_zero": lambda L: L.fmod(L.tensor([1, 2]), 0),
    "floordiv_operator_int_by_zero": lambda L: L.tensor([1, 2]) // 0,
    "mod_operator_int_by_zero": lambda L: L.tensor([1, 2]) % L.tensor([0, 1]),
    "rfloordiv_int_by_zero": lambda L: 7 // L.tensor([0, 1]),
    "uint8_floordiv_by_zero": lambda L: L.tensor([1], dtype=L.uint8) // L.tensor([0], dtype=L.uint8),
    # bool division and bad rounding modes
    "div_floor_bool": lambda L: L.div(L.tensor([True, False]), L.tensor([True, True]), rounding_mode="floor"),
    "floordiv_bool": lambda L: L.tensor([True, False]) // L.tensor([True, True]),
    "mod_bool": lambda L: L.tensor([True, False]) % L.tensor([True, True]),
    "div_bad_rounding_mode": lambda L: L.div(L.tensor([1.0]), 2, rounding_mode="round"),
    "div_inplace_int_true_division": lambda L: L.tensor([-7, 7]).div_(2),
    "itruediv_int": lambda L: L.tensor([1, 2]).__itruediv__(2),
    # bool arithmetic
    "sub_bool": lambda L: L.tensor([True, False]) - L.tensor([True, True]),
    "rsub_bool": lambda L: 1 - L.tensor([True]),
    "sub_int_bool_number": lambda L: L.tensor([1, 2]) - True,
    "neg_bool": lambda L: -L.tensor([True, False]),
    "neg_bool_function": lambda L: L.neg(L.tensor([True, False])),
    "positive_bool": lambda L: L.positive(L.tensor([True])),
    "abs_bool": lambda L: L.abs(L.tensor([True, False])),
    "add_int_float_alpha": lambda L: L.add(L.tensor([1, 2]), L.tensor([3, 4]), alpha=0.5),
    # bits on floats and bools
    "bitwise_and_floats": lambda L: L.bitwise_and(L.tensor([1.0]), L.tensor([1.0])),
    "bitwise_not_float": lambda L: L.bitwise_not(L.tensor([1.0])),
    "and_int_float_number": lambda L: L.tensor([1]) & 1.5,
    "shift_bool_by_bool": lambda L: L.tensor([True, False]) << L.tensor([True, True]),
    "shift_float": lambda L: L.tensor([1.0, 2.0]) << 1,
    "shift_int_by_float": lambda L: L.tensor([1, 2]) << 1.0,
    "rshift_float": lambda L: L.tensor([8.0]) >> 1,
    # pow
    "pow_int_negative_exponent": lambda L: L.pow(L.tensor([2, 3]), -1),
    "pow_operator_int_negative_exponent": lambda L: L.tensor([2, 3]) ** -2,
    "pow_zero_int_negative_exponent": lambda L: L.pow(L.tensor([0]), -1),
    "pow_uint8_negative_exponent": lambda L: L.pow(L.tensor([2], dtype=L.uint8), -1),
    "pow_bool_negative_exponent": lambda L: L.pow(L.tensor([True]), -1),
    "pow_int8_large_negative_exponent": lambda L: L.tensor([3, -5], dtype=L.int8) ** -1000,
    "pow_bool_bool": lambda L: L.pow(L.tensor([True, False]), L.tensor([True, True])),
    "pow_inplace_int_by_float": lambda L: L.tensor([4, 9]).pow_(0.5),
    "pow_inplace_int_negative": lambda L: L.tensor([2]).pow_(-1),
    # clamp
    "clamp_int8_bounds_out_of_range": lambda L: L.clamp(L.tensor([-5, 0, 5], dtype=L.int8), min=-1000, max=1000),
    "clamp_bool": lambda L: L.clamp(L.tensor([True, False]), min=True),
    "clamp_no_bounds": lambda L: L.clamp(L.tensor([1])),
    "clamp_inplace_int_float_bounds": lambda L: L.tensor([-5, 0, 5]).clamp_(0.5, 2.5),
    "clamp_min_inplace_int_float": lambda L: L.tensor([-7, 7]).clamp_min_(0.5),
    "clamp_out_int_float_bounds": lambda L: L.clamp(L.tensor([-7, 7]), -1.5, 1.5, out=L.empty(2, dtype=L.long)),
    # mean and friends of integers
    "mean_int": lambda L: L.mean(L.tensor([1, 2])),
    "mean_int_method": lambda L: L.tensor([1, 2]).mean(),
    "mean_int_dim": lambda L: L.tensor([[1, 2]]).mean(0),
    "mean_bool": lambda L: L.mean(L.tensor([True, False])),
    "nanmean_int": lambda L: L.nanmean(L.tensor([1, 2])),
    "std_int": lambda L: L.std(L.tensor([1, 2])),
    "var_bool": lambda L: L.var(L.tensor([True, False])),
    "norm_int": lambda L: L.norm(L.tensor([3, 4])),
    "quantile_int": lambda L: L.quantile(L.tensor([1, 2]), 0.5),
    "matmul_int_float": lambda L: L.matmul(L.tensor([[1, 2]]), L.tensor([[1.0], [2.0]])),
    # casting and creation
    "tensor_int8_out_of_range": lambda L: L.tensor([300], dtype=L.int8),
    "tensor_uint8_256": lambda L: L.tensor(256, dtype=L.uint8),
    "tensor_int16_out_of_range": lambda L: L.tensor([40000], dtype=L.int16),
    "tensor_int8_float_out_of_range": lambda L: L.tensor([300.5], dtype=L.int8),
    "tensor_uint8_float_out_of_range": lambda L: L.tensor([255.9, 256.0], dtype=L.uint8),
    "tensor_int_from_nan": lambda L: L.tensor([NAN], dtype=L.int64),
    "tensor_int_from_inf": lambda L: L.tensor([INF], dtype=L.int32),
    "tensor_int_beyond_int64": lambda L: L.tensor([2 ** 63]),
    "tensor_int_beyond_uint64": lambda L: L.tensor([2 ** 64]),
    "full_int8_out_of_range": lambda L: L.full((2,), 300, dtype=L.int8),
    "fill_int8_out_of_range": lambda L: L.zeros(2, dtype=L.int8).fill_(300),
    "masked_fill_int8_out_of_range": lambda L: L.zeros(2, dtype=L.int8).masked_fill(L.tensor([True, False]), 300),
    "setitem_int8_out_of_range": lambda L: L.zeros(2, dtype=L.int8).__setitem__(0, 300),
    "arange_int_dtype_float_step": lambda L: L.arange(0, 2, 0.5, dtype=L.int64),
    "int64_add_beyond_int64": lambda L: L.tensor([2]) + 2 ** 64,
    "int64_pow_beyond_int64": lambda L: L.tensor([2]) ** (2 ** 64),
    "iinfo_bool": lambda L: L.iinfo(L.bool),
    "iinfo_float": lambda L: L.iinfo(L.float32),
    "finfo_int": lambda L: L.finfo(L.int32),
    "int_of_nan": lambda L: int(L.tensor(NAN)),
    "int_of_inf": lambda L: int(L.tensor(INF)),
    "index_with_float_tensor": lambda L: [1, 2, 3, 4][L.tensor(2.0)],
    "bool_of_two_elements": lambda L: bool(L.tensor([1, 2])),
    # in-place and out= promotion
    "iadd_int_float_number": lambda L: L.tensor([1, 2]).__iadd__(1.5),
    "iadd_int_float_tensor": lambda L: L.tensor([1, 2]).__iadd__(L.tensor([1.5, 1.0])),
    "iadd_int_float_0d": lambda L: L.tensor([1, 2]).__iadd__(L.tensor(1.5)),
    "iadd_int_float_broadcast": lambda L: L.tensor([7, -7]).add_(L.tensor([[0.5]])),
    "isub_int_float": lambda L: L.tensor([7, -7]).__isub__(0.5),
    "imul_int_float": lambda L: L.tensor([1, 2]).mul_(2.0),
    "ifloordiv_int_float": lambda L: L.tensor([7, -7]).__ifloordiv__(2.5),
    "imod_int_float": lambda L: L.tensor([7, -7]).__imod__(2.5),
    "ipow_int_float": lambda L: L.tensor([7, -7]).__ipow__(2.0),
    "fmod_inplace_int_float": lambda L: L.tensor([7, -7]).fmod_(2.5),
    "remainder_inplace_int_float": lambda L: L.tensor([7, -7]).remainder_(2.5),
    "div_inplace_trunc_int_float": lambda L: L.tensor([7, -7]).div_(2.5, rounding_mode="trunc"),
    "floor_divide_inplace_int_float": lambda L: L.tensor([7, -7]).floor_divide_(2.5),
    "sub_inplace_int_float_alpha": lambda L: L.tensor([7, -7]).sub_(1, alpha=0.5),
    "iadd_bool_int": lambda L: L.tensor([True, False]).__iadd__(1),
    "ior_bool_int_tensor": lambda L: L.tensor([True, False]).__ior__(L.tensor([2, 0])),
    "iand_bool_int_tensor": lambda L: L.tensor([True, False]).__iand__(L.tensor([1, 0])),
    "bitwise_and_inplace_bool_int": lambda L: L.tensor([True]).bitwise_and_(L.tensor([3])),
    "iadd_int8_float16": lambda L: L.tensor([1], dtype=L.int8).add_(L.tensor([1.0], dtype=L.float16)),
    "index_put_float_into_int": lambda L: L.zeros(2, dtype=L.int64).index_put_((L.tensor([0]),), L.tensor([2.9])),
    "add_out_int_of_float_result": lambda L: L.add(L.tensor([1]), 1.5, out=L.empty(1, dtype=L.long)),
    "mul_out_int8_of_float_result": lambda L: L.mul(L.tensor([1.5]), 2, out=L.empty(1, dtype=L.int8)),
    "add_out_bool_of_int_result": lambda L: L.add(L.tensor([7, -7]), 1, out=L.empty(2, dtype=L.bool)),
    "true_divide_out_int": lambda L: L.true_divide(L.tensor([1]), 2, out=L.empty(1, dtype=L.long)),
    "floor_divide_out_int_of_float": lambda L: L.floor_divide(L.tensor([1.5]), 2, out=L.empty(1, dtype=L.long)),
    "bitwise_out_bool_of_int": lambda L: L.bitwise_and(L.tensor([7, -7]), 3, out=L.empty(2, dtype=L.bool)),
    "sign_out_int_of_float": lambda L: L.sign(L.tensor([1.5]), out=L.empty(1, dtype=L.long)),
    "abs_out_float_of_int": lambda L: L.abs(L.tensor([7, -7]), out=L.empty(2)),
    # requires_grad on integer tensors
    "tensor_int_requires_grad": lambda L: L.tensor([1, 2], requires_grad=True),
    "tensor_bool_requires_grad": lambda L: L.tensor([True], requires_grad=True),
    "requires_grad_method_int": lambda L: L.tensor([1, 2]).requires_grad_(),
    "requires_grad_attribute_int": lambda L: setattr(L.tensor([1, 2]), "requires_grad", True),
    "ones_int32_requires_grad": lambda L: L.ones(2, dtype=L.int32, requires_grad=True),
    "zeros_int64_requires_grad": lambda L: L.zeros(2, dtype=L.int64, requires_grad=True),
    "full_inferred_int_requires_grad": lambda L: L.full((2,), 1, requires_grad=True),
    "empty_bool_requires_grad": lambda L: L.empty(2, dtype=L.bool, requires_grad=True),
    "arange_int_requires_grad": lambda L: L.arange(3, requires_grad=True),
    "zeros_like_int_requires_grad": lambda L: L.zeros_like(L.tensor([1.0]), dtype=L.int64, requires_grad=True),
    "new_zeros_int_requires_grad": lambda L: L.tensor([1.0]).new_zeros(2, dtype=L.int8, requires_grad=True),
    "randint_requires_grad": lambda L: L.randint(0, 5, (2,), requires_grad=True),
    "parameter_of_int": lambda L: L.nn.Parameter(L.tensor([1, 2])),
    "long_of_float_requires_grad_": lambda L: L.tensor([1.5], requires_grad=True).long().requires_grad_(),
    "backward_of_int": lambda L: L.tensor([1, 2]).sum().backward(),
    "backward_through_long": lambda L: L.tensor([1.5], requires_grad=True).long().sum().backward(),
    "autograd_grad_wrt_int": lambda L: L.autograd.grad(L.tensor([1.5], requires_grad=True).sum(), L.tensor([1])),
    # gcd / lcm / isclose / round
    "gcd_floats": lambda L: L.gcd(L.tensor([1.0]), L.tensor([2.0])),
    "gcd_bools": lambda L: L.gcd(L.tensor([True]), L.tensor([True])),
    "lcm_floats": lambda L: L.lcm(L.tensor([1.0]), L.tensor([2.0])),
    "isclose_int_float": lambda L: L.isclose(L.tensor([1, 2]), L.tensor([1.0, 2.0])),
    "isclose_int64_int8": lambda L: L.isclose(L.tensor([1]), L.tensor([1], dtype=L.int8)),
    "isclose_negative_rtol": lambda L: L.isclose(L.tensor([1]), L.tensor([1]), rtol=-1.0),
    "allclose_int_float": lambda L: L.allclose(L.tensor([1, 2]), L.tensor([1.0, 2.0])),
    "equal_with_number": lambda L: L.equal(L.tensor([-7, 7]), 7),
    "round_int_negative_decimals": lambda L: L.round(L.tensor([15, -15, 25, 1234]), decimals=-1),
    "round_int_positive_decimals": lambda L: L.round(L.tensor([15, -15]), decimals=2),
    "round_int8_decimals": lambda L: L.round(L.tensor([15, -15], dtype=L.int8), decimals=-1),
    "round_uint8_decimals": lambda L: L.round(L.tensor([15, 200], dtype=L.uint8), decimals=-1),
    "round_bool": lambda L: L.round(L.tensor([True, False])),
    "floor_bool": lambda L: L.floor(L.tensor([True])),
    "frac_int": lambda L: L.frac(L.tensor([1])),
    "sign_of_list": lambda L: L.sign([1, -1]),
}


@pytest.mark.parametrize("run", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)


# --- warnings -----------------------------------------------------------------------------------

def warning_categories(run):
    """The categories of the warnings ``run()`` gives, every one recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [warning.category for warning in caught]


WARNING_CASES = {
    "tensor_of_a_tensor": lambda L: L.tensor(L.tensor([1, 2])),
    "floor_divide_out_resized": lambda L: L.floor_divide(L.tensor([3, 4]), 2, out=L.empty(5, dtype=L.long)),
    "remainder_out_resized": lambda L: L.remainder(L.tensor([3, 4]), 2, out=L.empty(1, dtype=L.long)),
    "bitwise_and_out_resized": lambda L: L.bitwise_and(L.tensor([3, 4]), 2, out=L.empty(5, dtype=L.long)),
    "sum_out_resized": lambda L: L.sum(L.tensor([3, 4]), 0, out=L.empty(2, dtype=L.long)),
    "out_of_size_zero_is_not_warned": lambda L: L.remainder(L.tensor([3, 4]), 2, out=L.empty(0, dtype=L.long)),
    "index_with_uint8_mask": lambda L: L.tensor([1, 2])[L.tensor([1, 0], dtype=L.uint8)],
    "as_tensor_of_a_tensor_no_warning": lambda L: L.as_tensor(L.tensor([1, 2]), dtype=L.int8),
    "floordiv_operator_no_warning": lambda L: L.tensor([-7]) // 2,
}


@pytest.mark.parametrize("run", list(WARNING_CASES.values()), ids=list(WARNING_CASES))
def test_warns_as_torch(run):
    assert warning_categories(lambda: run(chainrule)) == warning_categories(lambda: run(torch))


def silent_as_torch(run):
    """PyTorch computes ``run(torch)`` without any warning; chainrule must too, even with every
    warning turned into an error (NumPy's RuntimeWarnings for overflow, nan and division by zero)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(torch)
        run(chainrule)


SILENT_CASES = {
    "float_floor_divide_by_zero": lambda L: L.tensor([1.0, 0.0, -1.0]) // 0,
    "float_true_divide_by_zero": lambda L: L.tensor([1.0, 0.0]) / 0,
    "int_true_divide_by_zero": lambda L: L.tensor([1, 0]) / L.tensor([0, 0]),
    "float_fmod_by_zero": lambda L: L.fmod(L.tensor([1.0]), 0.0),
    "div_floor_zero_by_zero": lambda L: L.div(L.tensor([0.0]), 0.0, rounding_mode="floor"),
    "div_trunc_of_inf": lambda L: L.div(L.tensor([INF]), 1.0, rounding_mode="trunc"),
    "nan_inf_to_long": lambda L: L.tensor([NAN, INF, 1e10]).long(),
    "nan_inf_to_half": lambda L: L.tensor([INF, NAN]).half(),
    "pow_overflow": lambda L: L.pow(L.tensor([10.0]), 100),
    "pow_zero_negative": lambda L: L.pow(L.tensor([0.0]), -1),
    "pow_negative_fraction": lambda L: L.pow(L.tensor([-8.0]), 1 / 3),
    "int_overflow": lambda L: [L.tensor([2 ** 62]) * 4, L.tensor([127], dtype=L.int8) + 1, L.abs(L.tensor([-128], dtype=L.int8))],
    "lowest_int_floordiv_minus_one": lambda L: L.tensor([-2 ** 63]) // -1,
    "float16_sum_and_cumsum_overflow": lambda L: [L.tensor([60000.0, 60000.0], dtype=L.float16).sum(),
                                                  L.cumsum(L.tensor([60000.0, 60000.0], dtype=L.float16), 0)],
    "isclose_of_infs": lambda L: L.isclose(L.tensor([INF, 1.0]), L.tensor([INF, INF])),
}


@pytest.mark.parametrize("run", list(SILENT_CASES.values()), ids=list(SILENT_CASES))
def test_silent_as_torch(run):
    silent_as_torch(run)


# --- gradients (float64) ------------------------------------------------------------------------

D = [[-7.5, -3.0, -0.5, 0.0], [0.5, 3.0, 7.5, 2.0]]
E = [[2.0, -2.0, 3.0, -3.0], [2.0, -2.5, 0.7, -1.5]]


def grad_of(function, data=D):
    """The gradient of ``sum(w * function(x))`` with distinct weights ``w``, so misrouting shows."""
    def run(L):
        x = L.tensor(data, dtype=L.float64, requires_grad=True)
        y = function(x, L)
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64).reshape(tuple(y.shape))).to(y.dtype)
        (y * w).sum().backward()
        return x.grad
    return run


def grads_of_two(function):
    """The gradients of ``sum(w * function(x, y))`` with respect to both operands."""
    def run(L):
        x = L.tensor(D, dtype=L.float64, requires_grad=True)
        y = L.tensor(E, dtype=L.float64, requires_grad=True)
        out = function(x, y, L)
        w = L.tensor(np.arange(1, out.numel() + 1, dtype=np.float64).reshape(tuple(out.shape)))
        (out * w).sum().backward()
        return [x.grad, y.grad]
    return run


GRAD_CASES = {
    "remainder": grads_of_two(lambda x, y, L: L.remainder(x, y)),
    "mod_operator": grads_of_two(lambda x, y, L: x % y),
    "fmod": grads_of_two(lambda x, y, L: L.fmod(x, y)),
    "div": grads_of_two(lambda x, y, L: L.div(x, y)),
    "true_divide": grads_of_two(lambda x, y, L: L.true_divide(x, y)),
    "div_floor_is_flat": grads_of_two(lambda x, y, L: L.div(x, y, rounding_mode="floor")),
    "div_trunc_is_flat": grads_of_two(lambda x, y, L: L.div(x, y, rounding_mode="trunc")),
    "remainder_fmod_by_numbers": grad_of(lambda x, L: L.cat([x % 2.5, L.fmod(x, -2.5), L.remainder(x, 3)])),
    "pow_integer_exponents": grad_of(lambda x, L: L.cat([L.pow(x, 3), x ** 0, L.pow(x, L.tensor([2, 3, 1, 0]))])),
    "pow_at_zero": grad_of(lambda x, L: L.cat([L.pow(x, 2), L.pow(x, 0.5).nan_to_num(0.0)]), [[0.0, -0.0, 1.0, 4.0]]),
    "pow_number_and_int_tensor_base": grad_of(lambda x, L: L.cat([2 ** x, L.pow(L.tensor([[2, 3, 4, 5]]), x)])),
    "pow_int_tensor_base_zero": grad_of(lambda x, L: L.pow(L.tensor([0, 0, 1, 2]), x), [[0.0, 1.0, 2.0, -1.0]]),
    "clamp_number_bounds": grad_of(lambda x, L: L.cat([L.clamp(x, -2.5, 3.0), L.clamp(x, -3, 3), L.clamp_min(x, 0)])),
    "clamp_int_tensor_bounds": grad_of(lambda x, L: L.clamp(x, min=L.tensor([0, 0, 0, 0]), max=L.tensor([1.0]))),
    "round_sign_floor_are_flat": grad_of(lambda x, L: L.cat([L.round(x, decimals=1), L.sign(x), L.sgn(x), L.floor(x),
                                                             L.ceil(x), L.trunc(x), L.frac(x)])),
    "abs": grad_of(lambda x, L: L.abs(x)),
    "casts_between_floats": grad_of(lambda x, L: L.cat([x.to(L.float32).double(), x.float().double(), x.half().double(),
                                                        x.type(L.float32).double(), x.float().double() * x])),
    "times_int_and_bool_tensors": grad_of(lambda x, L: L.cat([x * L.tensor([1, 2, 3, 4]), x * L.tensor([True, False, True, False]),
                                                              L.tensor([1, 2, 3, 4]) / (x + 10)])),
    "where_with_int_other": grad_of(lambda x, L: L.where(x > 0, x, 1)),
    "copysign_ldexp_xlogy": grad_of(lambda x, L: L.cat([L.copysign(x, L.tensor([-1, 1, -1, 1])), L.ldexp(x, L.tensor([1, 2, 3, 0])),
                                                        L.xlogy(L.tensor([0, 1, 2, 3]), x.abs() + 1), L.float_power(x, 2)])),
}


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


# --- differences found --------------------------------------------------------------------------

def test_gcd_out():
    same_in_both(into("long", 2, lambda L, o: L.gcd(L.tensor([6, 9]), L.tensor([4, 6]), out=o)))


def test_lcm_out():
    same_in_both(into("long", 2, lambda L, o: L.lcm(L.tensor([6, 9]), L.tensor([4, 6]), out=o)))


def test_gcd_with_number():
    raises_as_torch(lambda L: L.gcd(L.tensor([6]), 4))


def test_lcm_with_number():
    raises_as_torch(lambda L: L.lcm(L.tensor([6]), 4))


def test_isclose_int64_beyond_float64_precision():
    same_in_both(lambda L: L.isclose(L.tensor([2 ** 53 + 1, 2 ** 62]), L.tensor([2 ** 53, 2 ** 62 + 1]), rtol=0, atol=0))


def test_allclose_int64_beyond_float64_precision():
    same_in_both(lambda L: L.allclose(L.tensor([2 ** 62]), L.tensor([2 ** 62 + 1]), rtol=0, atol=0))


def test_isclose_with_number():
    raises_as_torch(lambda L: L.isclose(L.tensor([-7, 7]), 7))


def test_round_int_decimals_zero():
    raises_as_torch(lambda L: L.round(L.tensor([15]), decimals=0))


def test_where_other_number_out_of_range():
    raises_as_torch(lambda L: L.where(L.tensor([True, False]), L.tensor([3, -5], dtype=L.int8), 1000))


def test_where_input_number_out_of_range():
    raises_as_torch(lambda L: L.where(L.tensor([True, False]), 1000, L.tensor([3, -5], dtype=L.int8)))


def test_add_alpha_out_of_range():
    raises_as_torch(lambda L: L.add(L.tensor([3, -5], dtype=L.int8), L.tensor([3, -5], dtype=L.int8), alpha=1000))


def test_pow_int8_exponent_out_of_range():
    raises_as_torch(lambda L: L.tensor([3, -5], dtype=L.int8) ** 1000)


def test_pow_int32_exponent_out_of_range():
    raises_as_torch(lambda L: L.pow(L.tensor([2], dtype=L.int32), 2 ** 40))


def test_remainder_of_two_numbers():
    raises_as_torch(lambda L: L.remainder(7, 2))


def test_fmod_number_first():
    raises_as_torch(lambda L: L.fmod(7, L.tensor([2])))


def test_pow_of_two_numbers():
    raises_as_torch(lambda L: L.pow(2, 3))


def test_bitwise_and_of_two_numbers():
    raises_as_torch(lambda L: L.bitwise_and(7, 2))


def test_clamp_of_a_number():
    raises_as_torch(lambda L: L.clamp(3, 0, 1))


def test_pow_self_keyword():
    same_in_both(lambda L: L.pow(self=2, exponent=L.tensor([-7, 7])))


def test_half_cast_overflow_is_silent():
    silent_as_torch(lambda L: L.tensor([1e6, -1e6]).half())


def test_float_cast_overflow_is_silent():
    silent_as_torch(lambda L: L.tensor([1e39], dtype=L.float64).float())


def test_tensor_float16_overflow_is_silent():
    silent_as_torch(lambda L: L.tensor([1e6], dtype=L.float16))


def test_float_remainder_by_zero_is_silent():
    silent_as_torch(lambda L: [L.tensor([1.0]) % 0, L.remainder(L.tensor([INF]), 2.0)])


def test_prod_overflow_is_silent():
    silent_as_torch(lambda L: L.prod(L.tensor([1e30, 1e30])))


def test_round_decimals_overflow_is_silent():
    silent_as_torch(lambda L: L.round(L.tensor([1e30]), decimals=10))
