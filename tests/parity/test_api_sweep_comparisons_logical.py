"""A sweep of comparisons, logical and selection operations against PyTorch (the oracle): the
comparison family (``eq`` / ``ne`` / ``lt`` / ``le`` / ``gt`` / ``ge`` and the aliases ``greater`` /
``less`` / ``greater_equal`` / ``less_equal`` / ``not_equal``) as functions, methods, operators,
in-place forms and with ``out=``, over broadcasting, Python numbers on either side, bool / int /
float / float16 mixes, nan and inf, 0-d and empty tensors; ``equal``; ``isclose`` / ``allclose``
(``equal_nan``, ints, tolerance types, broadcasting); ``maximum`` / ``minimum`` / ``fmax`` / ``fmin``;
``clamp`` / ``clip`` with tensor bounds; ``logical_and`` / ``or`` / ``xor`` / ``not``; bitwise ops on
bool; ``where`` (numbers, promotion, broadcasting, the one-argument form); ``isin``; ``signbit`` /
``sign`` / ``sgn``; the predicates ``isnan`` / ``isinf`` / ``isposinf`` / ``isneginf`` /
``isfinite`` / ``isreal``; the error types PyTorch raises for bad input, the warning of a resized
``out=``, and float64 gradients of ``clamp`` / ``maximum`` / ``minimum`` / ``fmax`` / ``where`` at ties
and boundaries. (Promotion tables and unary math over every dtype are in
``test_api_sweep_type_promotion.py`` and ``test_api_sweep_elementwise_math.py``.)

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, Python types or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import bundle, raises_as_torch, same_in_both

NAN = float("nan")
INF = float("inf")

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal", "not_equal"]
A = [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]
B = [2.0, 2.0, 2.0]


def _kind(value):
    """A Python value's type with the value, so ``True`` and ``tensor(True)`` differ."""
    return type(value).__name__, value


# --- the comparison family, name by name ------------------------------------------------------------


def _comparison_cases(name):
    return bundle(
        lambda L: getattr(L, name)(L.tensor(A), L.tensor(B)),
        lambda L: getattr(L, name)(L.tensor(A), L.tensor([[2.0], [3.0]])),
        lambda L: getattr(L, name)(L.tensor(A), 2),
        lambda L: getattr(L, name)(L.tensor(A), other=2.0),
        lambda L: getattr(L, name)(input=L.tensor(A), other=L.tensor(B)),
        lambda L: getattr(L.tensor(A), name)(L.tensor(B)),
        lambda L: getattr(L.tensor(A), name)(2.5),
        lambda L: getattr(L, name)(L.tensor([1, 2, 3]), L.tensor([1.5, 2.0, 2.5])),
        lambda L: getattr(L, name)(L.tensor([True, False]), L.tensor([1, 1])),
        lambda L: getattr(L, name)(L.tensor([1.0, 2.0], dtype=L.float16), L.tensor([1.0, 3.0])),
        lambda L: getattr(L, name)(L.tensor([NAN, INF, -INF, 1.0]), L.tensor([NAN, INF, INF, NAN])),
        lambda L: getattr(L, name)(L.tensor(2.0), L.tensor([1.0, 2.0, 3.0])),
        lambda L: getattr(L, name)(L.tensor(2.0), 2),
        lambda L: getattr(L, name)(L.zeros(0, 3), L.tensor(B)),
        lambda L: getattr(L, name)(L.tensor([1, 2, 3], dtype=L.uint8), -1),
    )


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_forms(name):
    same_in_both(_comparison_cases(name))


def test_comparison_number_first_raises():
    for name in COMPARISONS:
        raises_as_torch(lambda L: getattr(L, name)(2, L.tensor([1, 2, 3])))


def test_comparison_method_and_operator_take_a_number_either_side():
    same_in_both(bundle(*[lambda L, name=name: getattr(L.tensor([1, 2, 3]), name)(2) for name in COMPARISONS]))


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_in_place(name):
    same_in_both(bundle(
        lambda L: (lambda t: (getattr(t, name + "_")(L.tensor(B)), t)[1])(L.tensor(A)),
        lambda L: (lambda t: (getattr(t, name + "_")(2) is t, t))(L.tensor([1, 2, 3])),
        lambda L: (lambda t: (getattr(t, name + "_")(L.tensor(2.5)), t)[1])(L.tensor([1, 2, 3], dtype=L.int32)),
        lambda L: (lambda t: (getattr(t, name + "_")(L.tensor([0, 1])), t)[1])(L.tensor([True, True])),
    ))


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_in_place_cannot_broadcast_self(name):
    raises_as_torch(lambda L: getattr(L.tensor(B), name + "_")(L.tensor(A)))


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_out(name):
    def run(L):
        out = L.empty(2, 3, dtype=L.bool)
        result = getattr(L, name)(L.tensor(A), L.tensor(B), out=out)
        return [result is out, out, (lambda o: (getattr(L, name)(L.tensor(A), 2, out=o), o)[1])(L.empty(2, 3, dtype=L.float64))]
    same_in_both(run)


OPERATORS = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


@pytest.mark.parametrize("op", list(OPERATORS.values()), ids=list(OPERATORS))
def test_comparison_operators(op):
    same_in_both(bundle(
        lambda L: op(L.tensor(A), L.tensor(B)),
        lambda L: op(L.tensor(A), 2),
        lambda L: op(2, L.tensor(A)),
        lambda L: op(2.5, L.tensor([1, 2, 3])),
        lambda L: op(True, L.tensor([0, 1, 2])),
        lambda L: op(L.tensor([NAN, 1.0]), NAN),
        lambda L: op(INF, L.tensor([INF, -INF, NAN])),
        lambda L: op(L.tensor(1), L.tensor([[0], [1], [2]])),
        lambda L: op(L.tensor([1.0, 2.0], dtype=L.float16), L.tensor([1.0, 2.0], dtype=L.float64)),
        lambda L: op(L.tensor([1, 2], dtype=L.int8), L.tensor([1.5, 2.0], dtype=L.float16)),
        lambda L: op(L.zeros(0), 1),
    ))


def test_comparison_precision_follows_promotion():
    # the number or 0-d tensor is converted to the tensor's dtype (float32 0.1 == 0.1), a dimensioned one promotes
    same_in_both(bundle(
        lambda L: L.tensor([0.1]) == 0.1,
        lambda L: L.tensor([0.1], dtype=L.float16) == 0.1,
        lambda L: L.tensor([0.0], dtype=L.float16) == 1e-8,
        lambda L: L.tensor([INF]) == 1e40,
        lambda L: L.tensor([0.1]) < L.tensor(0.1, dtype=L.float64),
        lambda L: L.tensor([0.1]) < L.tensor([0.1], dtype=L.float64),
        lambda L: L.tensor([0.1]) >= L.tensor([0.1], dtype=L.float16),
        lambda L: L.tensor([16777217]) == 16777216.0,
        lambda L: L.tensor([16777217]) == L.tensor(16777216.0),
        lambda L: L.tensor([16777217]) == L.tensor(16777216.0, dtype=L.float64),
        lambda L: L.tensor([2**53 + 1]) == 2**53,
        lambda L: L.tensor([1]) < 2**63,
        lambda L: L.tensor([200], dtype=L.uint8) < L.tensor([-1], dtype=L.int8),
        lambda L: L.tensor([65504.0, INF], dtype=L.float16) == 70000,
        lambda L: L.maximum(L.tensor([200], dtype=L.uint8), L.tensor([-1], dtype=L.int8)),
    ))


def test_comparison_with_none_and_strings():
    same_in_both(bundle(
        lambda L: _kind(L.tensor([1, 2]) == None),  # noqa: E711
        lambda L: _kind(L.tensor([1, 2]) != None),  # noqa: E711
        lambda L: _kind(L.tensor([1, 2]) == "a"),
        lambda L: _kind(L.tensor([1, 2]) != "a"),
    ))


# --- the rest, case by case -------------------------------------------------------------------------

VALUE_CASES = {
    # equal
    "equal": bundle(
        lambda L: _kind(L.equal(L.tensor([1, 2]), L.tensor([1, 2]))),
        lambda L: _kind(L.equal(L.tensor([1, 2]), L.tensor([1, 3]))),
        lambda L: _kind(L.equal(L.tensor([1, 2]), L.tensor([[1, 2]]))),
        lambda L: _kind(L.equal(L.tensor([1, 1]), L.tensor([1]))),
        lambda L: _kind(L.equal(L.tensor(1.0), L.tensor([1.0]))),
        lambda L: _kind(L.equal(L.zeros(0), L.zeros(0))),
        lambda L: _kind(L.equal(L.zeros(0, 2), L.zeros(2, 0))),
        lambda L: _kind(L.tensor([True, False]).equal(L.tensor([True, False]))),
        lambda L: _kind(L.equal(L.tensor([0.0]), L.tensor([-0.0]))),
        lambda L: _kind(L.equal(L.tensor([INF]), L.tensor([INF]))),
    ),
    "equal_dtypes": bundle(
        lambda L: _kind(L.equal(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0], dtype=L.float64))),
        lambda L: _kind(L.equal(L.tensor([1, 0]), L.tensor([True, False]))),
        lambda L: _kind(L.equal(L.tensor([0.1]), L.tensor([0.1], dtype=L.float64))),
        lambda L: _kind(L.equal(L.tensor([1.0], dtype=L.float16), L.tensor([1.0]))),
    ),
    # isclose / allclose
    "isclose_tolerances": bundle(
        lambda L: L.isclose(L.tensor([1.0, 1.1, 1.0001, 1e-9]), L.tensor([1.0, 1.0, 1.0, 0.0])),
        lambda L: L.isclose(L.tensor([1.0, 1.1, 1.0001]), L.tensor([1.0, 1.0, 1.0]), rtol=0.1),
        lambda L: L.isclose(L.tensor([1.0, 1.1, 1.0001]), L.tensor([1.0, 1.0, 1.0]), atol=0.05, rtol=0),
        lambda L: L.isclose(L.tensor([1.0, 1.1]), L.tensor([1.0, 1.0]), 0.2, 0.0),
        lambda L: L.isclose(L.tensor([1.0, 1.1]), L.tensor([1.0, 1.0]), rtol=0, atol=0),
        lambda L: L.isclose(L.tensor([1.0, 1.5]), L.tensor([1.0, 1.0]), rtol=1, atol=0),
        lambda L: L.isclose(L.tensor([1.0, 1.5]), L.tensor([1.0, 1.0]), rtol=L.tensor(0.1)),
        lambda L: L.isclose(L.tensor([10.0, 11.0]), L.tensor([11.0, 10.0]), rtol=0.095, atol=0),
        lambda L: _kind(L.allclose(L.tensor([1.0, 1.5]), L.tensor([1.0, 1.0]), rtol=True)),
        lambda L: L.tensor([1.0, 1.1]).isclose(L.tensor([1.0, 1.0]), atol=1),
    ),
    "isclose_special_values": bundle(
        lambda L: L.isclose(L.tensor([INF, INF, -INF, NAN, NAN, 1.0]), L.tensor([INF, -INF, -INF, NAN, 1.0, INF])),
        lambda L: L.isclose(L.tensor([INF, NAN, NAN]), L.tensor([INF, NAN, 0.0]), equal_nan=True),
        lambda L: L.isclose(L.tensor([INF]), L.tensor([INF]), rtol=0, atol=0),
        lambda L: L.isclose(L.tensor([1e300], dtype=L.float64), L.tensor([INF], dtype=L.float64), atol=INF),
    ),
    "isclose_ints_bools_broadcast": bundle(
        lambda L: L.isclose(L.tensor([1, 5, 10]), L.tensor([1, 6, 12]), atol=1, rtol=0),
        lambda L: L.isclose(L.tensor([1, 5, 10]), L.tensor([1, 6, 12]), rtol=0.1, atol=0),
        lambda L: L.isclose(L.tensor([1, 5, 100]), L.tensor([1, 6, 101]), rtol=0.015, atol=0.5),
        lambda L: L.isclose(L.tensor([True, False]), L.tensor([True, True])),
        lambda L: L.isclose(L.tensor([127], dtype=L.int8), L.tensor([-128], dtype=L.int8), atol=0, rtol=1.5),
        lambda L: L.isclose(L.tensor([0], dtype=L.uint8), L.tensor([255], dtype=L.uint8), atol=1),
        lambda L: L.isclose(L.tensor([2**53 + 1]), L.tensor([2**53]), rtol=0, atol=0.5),
        lambda L: L.isclose(L.tensor([2**53 + 1]), L.tensor([2**53]), rtol=0, atol=0),
        lambda L: L.isclose(L.tensor([1, 2]), L.tensor([1, 3]), rtol=0.1, equal_nan=True),
        lambda L: L.isclose(L.tensor([[1.0], [2.0]]), L.tensor([1.0, 2.0, 2.0000001])),
        lambda L: L.isclose(L.tensor(1.0), L.tensor([1.0, 2.0])),
        lambda L: L.isclose(L.zeros(0), L.zeros(0)),
        lambda L: L.isclose(L.tensor([1.0, 2.0], dtype=L.float16), L.tensor([1.0005, 2.01], dtype=L.float16)),
    ),
    "allclose": bundle(
        lambda L: _kind(L.allclose(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.000001]))),
        lambda L: _kind(L.allclose(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.1]))),
        lambda L: _kind(L.allclose(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.1]), atol=0.2)),
        lambda L: _kind(L.allclose(L.tensor([1.0, NAN]), L.tensor([1.0, NAN]), equal_nan=True)),
        lambda L: _kind(L.allclose(L.tensor([[1.0], [1.0]]), L.tensor([1.0, 1.0, 1.0]))),
        lambda L: _kind(L.allclose(L.zeros(0), L.zeros(0))),
        lambda L: _kind(L.allclose(L.tensor([1, 2]), L.tensor([1, 2]))),
        lambda L: _kind(L.tensor([1.0]).allclose(L.tensor([1.05]), rtol=0.1)),
        lambda L: _kind(L.allclose(L.tensor([INF]), L.tensor([INF]))),
    ),
    # maximum / minimum / fmax / fmin
    "maximum_minimum": bundle(
        lambda L: L.maximum(L.tensor(A), L.tensor(B)),
        lambda L: L.minimum(L.tensor(A), L.tensor([[2.0], [0.0]])),
        lambda L: L.tensor(A).maximum(L.tensor(B)),
        lambda L: L.tensor(A).minimum(other=L.tensor(B)),
        lambda L: L.maximum(L.tensor([True, False]), L.tensor([False, False])),
        lambda L: L.minimum(L.tensor([1, 5], dtype=L.uint8), L.tensor([3, 3], dtype=L.uint8)),
        lambda L: L.maximum(L.tensor(2.0), L.tensor(3.0)),
        lambda L: L.maximum(L.zeros(0, 2), L.zeros(2)),
        lambda L: L.max(L.tensor(A), L.tensor(B)),
        lambda L: L.min(L.tensor(A), L.tensor([[2.0], [0.0]])),
        lambda L: L.tensor(A).max(L.tensor(B)),
    ),
    "maximum_nan_inf": bundle(
        lambda L: L.maximum(L.tensor([NAN, 1.0, NAN, -INF]), L.tensor([1.0, NAN, NAN, INF])),
        lambda L: L.minimum(L.tensor([NAN, 1.0, NAN, -INF]), L.tensor([1.0, NAN, NAN, INF])),
        lambda L: L.fmax(L.tensor([NAN, 1.0, NAN, -INF]), L.tensor([1.0, NAN, NAN, INF])),
        lambda L: L.fmin(L.tensor([NAN, 1.0, NAN, -INF]), L.tensor([1.0, NAN, NAN, INF])),
        lambda L: L.fmax(L.tensor([1, 5]), L.tensor([3, 3])),
        lambda L: L.fmin(L.tensor([1, 5]), L.tensor([2.5, 2.5])),
        lambda L: L.tensor([NAN, 2.0]).fmax(L.tensor([[1.0], [3.0]])),
        lambda L: L.fmin(L.tensor([True, False]), L.tensor([True, True])),
    ),
    "maximum_out_inplace": bundle(
        lambda L: (lambda o: (L.minimum(L.tensor(A), L.tensor(B), out=o) is o, o))(L.empty(2, 3)),
        lambda L: (lambda o: (L.fmax(L.tensor([NAN, 1.0]), L.tensor([0.0, 2.0]), out=o), o)[1])(L.empty(2, dtype=L.float64)),
        lambda L: (lambda o: (L.max(L.tensor(A), L.tensor(B), out=o), o)[1])(L.empty(2, 3)),
        lambda L: (lambda o: (L.maximum(L.tensor([1, 5]), L.tensor([2.5, 2.5]), out=o), o)[1])(L.empty(2, dtype=L.float64)),
    ),
    # clamp / clip (tensor bounds and promotion are in the other sweeps)
    "clamp_forms": bundle(
        lambda L: L.clamp(L.tensor(A), 1.5, 2.5),
        lambda L: L.clamp(L.tensor(A), min=1.5),
        lambda L: L.clamp(L.tensor(A), max=1.5),
        lambda L: L.clamp(L.tensor(A), None, 1.5),
        lambda L: L.clip(L.tensor(A), min=1.5, max=2.5),
        lambda L: L.tensor(A).clip(1.5),
        lambda L: L.tensor(A).clamp(max=L.tensor(B)),
        lambda L: L.clamp(L.tensor(2.5), L.tensor([1.0, 3.0])),
        lambda L: L.clamp(L.zeros(0, 3), 0.5, 1.0),
        lambda L: L.clamp(L.tensor(A), L.tensor([[2.5], [1.5]]), L.tensor([2.0, 3.0, 0.0])),
    ),
    "clamp_min_max_int_float": bundle(
        lambda L: L.clamp(L.tensor([1, 5, -3]), 2.0, 3),
        lambda L: L.clamp(L.tensor([1, 5, -3]), min=L.tensor(2)),
        lambda L: L.clamp(L.tensor([1, 5, -3], dtype=L.int8), L.tensor([0, 0, 0], dtype=L.int16)),
        lambda L: L.clamp(L.tensor([1.0, 5.0, -3.0]), 4, 2),
        lambda L: L.clamp(L.tensor([1.0, 5.0, -3.0]), L.tensor([4.0]), L.tensor([2.0])),
        lambda L: L.clamp_min(L.tensor([1, 5]), 2.5),
        lambda L: L.clamp_max(L.tensor([1, 5]), L.tensor([3, 3])),
    ),
    "clamp_inplace_out": bundle(
        lambda L: (lambda t: (t.clamp_(min=L.tensor([0.5, 4.0])) is t, t))(L.tensor([1.0, 2.0])),
        lambda L: (lambda t: (t.clip_(0, 1), t)[1])(L.tensor([-1.0, 0.5, 2.0])),
        lambda L: (lambda t: (t.clamp_min_(0.5), t)[1])(L.tensor([0.0, 1.0])),
        lambda L: (lambda t: (t.clamp_max_(0.5), t)[1])(L.tensor([0.0, 1.0])),
        lambda L: (lambda o: (L.clamp(L.tensor(A), max=L.tensor(B), out=o) is o, o))(L.empty(2, 3)),
        lambda L: (lambda o: (L.clip(L.tensor([1, 5]), 2, 3, out=o), o)[1])(L.empty(2, dtype=L.int64)),
        lambda L: (lambda o: (L.clamp(L.tensor([1.0, 5.0]), L.tensor(2.0), L.tensor(3.0), out=o), o)[1])(L.empty(2, dtype=L.float64)),
    ),
    # logical
    "logical_dtypes": bundle(
        lambda L: L.logical_and(L.tensor([0.0, NAN, -0.0, 2.0]), L.tensor([1, 1, 1, 0])),
        lambda L: L.logical_or(L.tensor([0, 0, 3]), L.tensor([False, True, False])),
        lambda L: L.logical_xor(L.tensor([0.5, 0.0]), L.tensor([0.5, 0.0], dtype=L.float16)),
        lambda L: L.logical_not(L.tensor([0, 7, -1], dtype=L.int8)),
        lambda L: L.logical_and(L.tensor([[True], [False]]), L.tensor([True, False])),
        lambda L: L.logical_or(L.tensor(0.0), L.tensor([0.0, 1.0])),
        lambda L: L.logical_xor(L.zeros(0), L.zeros(0)),
        lambda L: L.logical_not(L.tensor(INF)),
    ),
    "logical_methods_inplace": bundle(
        lambda L: L.tensor([1, 0]).logical_and(L.tensor([1, 1])),
        lambda L: L.tensor([1.0, 0.0]).logical_not(),
        lambda L: (lambda t: (t.logical_and_(L.tensor([1, 0, 1])) is t, t))(L.tensor([2.0, 3.0, 0.0])),
        lambda L: (lambda t: (t.logical_or_(L.tensor([0, 0])), t)[1])(L.tensor([5, 0])),
        lambda L: (lambda t: (t.logical_xor_(L.tensor([True, True])), t)[1])(L.tensor([2, 0], dtype=L.int8)),
        lambda L: (lambda t: (t.logical_not_(), t)[1])(L.tensor([2.0, 0.0])),
    ),
    "logical_out": bundle(
        lambda L: (lambda o: (L.logical_and(L.tensor([1, 0]), L.tensor([1, 1]), out=o), o)[1])(L.empty(2, dtype=L.int32)),
        lambda L: (lambda o: (L.logical_xor(L.tensor([1.0, 0.0]), L.tensor([1.0, 1.0]), out=o), o)[1])(L.empty(2, dtype=L.float64)),
        lambda L: (lambda o: (L.logical_not(L.tensor([1.0, 0.0]), out=o), o)[1])(L.empty(2, dtype=L.int16)),
        lambda L: (lambda o: (L.logical_or(L.tensor([0.0, 0.0]), L.tensor([0.0, 2.0]), out=o), o)[1])(L.empty(2, dtype=L.bool)),
    ),
    # bitwise on bool
    "bitwise_bool": bundle(
        lambda L: L.tensor([True, True, False]) & L.tensor([True, False, False]),
        lambda L: L.tensor([True, True, False]) | L.tensor([True, False, False]),
        lambda L: L.tensor([True, True, False]) ^ L.tensor([True, False, False]),
        lambda L: ~L.tensor([True, False]),
        lambda L: L.tensor([True, False]) & True,
        lambda L: False | L.tensor([True, False]),
        lambda L: True ^ L.tensor([True, False]),
        lambda L: L.bitwise_and(L.tensor([True, False]), L.tensor([[True], [False]])),
        lambda L: L.bitwise_or(L.tensor([True, False]), False),
        lambda L: L.bitwise_xor(L.tensor([True, False]), L.tensor([True, True])),
        lambda L: L.bitwise_not(L.tensor(True)),
        lambda L: (lambda t: (t.__iand__(L.tensor([False, True])), t)[1])(L.tensor([True, True])),
        lambda L: (lambda t: (t.bitwise_or_(L.tensor([False, True])), t)[1])(L.tensor([False, False])),
        lambda L: (lambda t: (t.bitwise_not_(), t)[1])(L.tensor([True, False])),
        lambda L: (L.tensor([1.0, 2.0]) > 1) & (L.tensor([1.0, 2.0]) < 3),
    ),
    # where
    "where_scalars": bundle(
        lambda L: L.where(L.tensor([True, False, True]), L.tensor([1.0, 2.0, 3.0]), 0.0),
        lambda L: L.where(L.tensor([True, False, True]), 5, L.tensor([1.0, 2.0, 3.0])),
        lambda L: L.where(L.tensor([True, False]), True, False),
        lambda L: L.where(L.tensor([True, False]), 1, 2.5),
        lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2], dtype=L.uint8), -1),
        lambda L: L.where(L.tensor(True), L.tensor(1.0), L.tensor(2.0)),
        lambda L: L.where(L.tensor(False), 1, 2),
    ),
    "where_promotion_broadcast": bundle(
        lambda L: L.where(L.tensor([[True], [False]]), L.tensor([1, 2, 3]), L.tensor(0.5, dtype=L.float64)),
        lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0], dtype=L.float16), L.tensor([1, 2])),
        lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0], dtype=L.float16), L.tensor([1.0, 2.0], dtype=L.float64)),
        lambda L: L.where(L.tensor([True, False]), L.tensor([True, True]), L.tensor([3, 4], dtype=L.int16)),
        lambda L: L.where(L.tensor(A) > 1.5, L.tensor(A), L.tensor(B)),
        lambda L: L.where(L.zeros(0, 2, dtype=L.bool), 1.0, 0.0),
        lambda L: L.where(L.tensor([True, False]), L.tensor([NAN, NAN]), L.tensor([INF, -INF])),
    ),
    "where_method_out_condition_forms": bundle(
        lambda L: L.tensor([1.0, 2.0, 3.0]).where(L.tensor([True, False, True]), L.tensor(0.0)),
        lambda L: L.tensor([1.0, 2.0, 3.0]).where(L.tensor([True, False, True]), -1.0),
        lambda L: L.where(condition=L.tensor([True, False]), input=L.tensor([1, 2]), other=L.tensor([3, 4])),
        lambda L: (lambda o: (L.where(L.tensor([True, False]), L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0]), out=o) is o, o))(L.empty(2)),
        lambda L: list(L.where(L.tensor([[0.0, 1.5], [NAN, 0.0]]))),
        lambda L: type(L.where(L.tensor([1, 0]))).__name__,
        lambda L: list(L.where(L.tensor(True))),
        lambda L: list(L.where(L.tensor(0))),
        lambda L: list(L.where(L.zeros(0, 3))),
    ),
    # isin
    "isin": bundle(
        lambda L: L.isin(L.tensor([1, 2, 3, 4]), L.tensor([2, 4, 6])),
        lambda L: L.isin(L.tensor([[1, 2], [3, 4]]), L.tensor([[4], [1]])),
        lambda L: L.isin(L.tensor([1, 2, 3, 4]), L.tensor([2, 4]), invert=True),
        lambda L: L.isin(L.tensor([1, 2, 3, 4]), L.tensor([2, 4]), assume_unique=True),
        lambda L: L.isin(L.tensor([1, 2, 3, 4]), L.tensor([2, 4]), assume_unique=True, invert=True),
        lambda L: L.isin(elements=L.tensor([1, 2]), test_elements=L.tensor([2])),
        lambda L: L.isin(L.tensor([1, 2, 3]), 2),
        lambda L: L.isin(2, L.tensor([1, 2, 3])),
        lambda L: L.isin(5, L.tensor([1, 2, 3]), invert=True),
    ),
    "isin_dtypes_special": bundle(
        lambda L: L.isin(L.tensor([1.0, 2.5, NAN]), L.tensor([2.5, NAN])),
        lambda L: L.isin(L.tensor([1, 2, 3]), L.tensor([2.0, 3.5])),
        lambda L: L.isin(L.tensor([1.0, 2.0]), L.tensor([2])),
        lambda L: L.isin(L.tensor([1.0, 0.5], dtype=L.float16), L.tensor([0.5])),
        lambda L: L.isin(L.tensor([1, 2]), L.tensor([], dtype=L.int64)),
        lambda L: L.isin(L.tensor([], dtype=L.int64), L.tensor([1])),
        lambda L: L.isin(L.tensor(3), L.tensor([1, 3])),
        lambda L: L.isin(L.tensor([-0.0, INF]), L.tensor([0.0, INF])),
        lambda L: L.isin(L.tensor([1, 2], dtype=L.int8), L.tensor([2, 300])),
        lambda L: L.isin(L.tensor([0.1]), L.tensor([0.1], dtype=L.float64)),
        lambda L: L.isin(L.tensor(3), L.tensor([[1, 3], [4, 5]])),
        lambda L: L.isin(L.tensor([2]), 2.0),
        lambda L: L.isin(L.tensor([2]), 2.5),
        lambda L: (lambda o: (L.isin(L.tensor([1, 2]), L.tensor([1]), out=o) is o, o))(L.empty(2, dtype=L.bool)),
    ),
    # signbit / sign / sgn
    "sign_family": bundle(
        lambda L: L.signbit(L.tensor([-1, 0, 1])),
        lambda L: L.signbit(L.tensor([0, 255], dtype=L.uint8)),
        lambda L: L.signbit(L.tensor([True, False])),
        lambda L: L.signbit(L.tensor([-0.0, 0.0, -NAN, -INF], dtype=L.float16)),
        lambda L: L.tensor([-2.0, 3.0]).signbit(),
        lambda L: L.sign(L.tensor([-3, 0, 4], dtype=L.int8)),
        lambda L: L.sign(L.tensor([200, 0], dtype=L.uint8)),
        lambda L: L.sgn(L.tensor([-2.5, 0.0, 1e-30])),
        lambda L: (lambda t: (t.sign_(), t)[1])(L.tensor([-2.5, 0.0, 3.0])),
        lambda L: (lambda t: (t.sgn_(), t)[1])(L.tensor([-2, 0, 3])),
        lambda L: (lambda o: (L.sign(L.tensor([-2.5, 3.0]), out=o), o)[1])(L.empty(2)),
        lambda L: L.sign(L.tensor(-0.5)),
        lambda L: L.sign(L.zeros(0)),
    ),
    # predicates
    "predicates": bundle(
        lambda L: L.isnan(L.tensor([NAN, INF, 1.0], dtype=L.float16)),
        lambda L: L.isinf(L.tensor([NAN, INF, -INF, 1.0])),
        lambda L: L.isposinf(L.tensor([NAN, INF, -INF, 1.0])),
        lambda L: L.isneginf(L.tensor([NAN, INF, -INF, 1.0], dtype=L.float64)),
        lambda L: L.isfinite(L.tensor([NAN, INF, -INF, 1.0])),
        lambda L: L.isreal(L.tensor([NAN, INF, 1.0])),
        lambda L: L.tensor([NAN, 1.0]).isnan(),
        lambda L: L.tensor([NAN, INF]).isinf(),
        lambda L: L.tensor([INF, -INF]).isposinf(),
        lambda L: L.tensor([INF, -INF]).isneginf(),
        lambda L: L.tensor([INF, 1.0]).isfinite(),
        lambda L: L.tensor([INF, 1.0]).isreal(),
        lambda L: L.isnan(L.tensor(NAN)),
        lambda L: L.isfinite(L.zeros(0, 2)),
        lambda L: L.isinf(L.tensor([1e38 * 10, 65504.0 * 2], dtype=L.float16)),
        lambda L: (lambda o: (L.isneginf(L.tensor([-INF, 1.0]), out=o), o)[1])(L.empty(2, dtype=L.bool)),
        lambda L: L.isnan(L.tensor([1, 2])),
        lambda L: L.isinf(L.tensor([1, 2])),
    ),
    # max / min with other=
    "max_other_keyword": lambda L: L.max(L.tensor(A), other=L.tensor(B)),
    "min_other_keyword": lambda L: L.min(L.tensor(A), other=L.tensor(B)),
    "max_method_other_keyword": lambda L: L.tensor(A).max(other=L.tensor(B)),
    # isin: its keywords, and the dtype it compares in (a number takes the tensor's; a 0-d tensor does not promote)
    "isin_element_keyword": lambda L: L.isin(element=2, test_elements=L.tensor([1, 2])),
    "isin_float32_and_a_number": bundle(lambda L: L.isin(L.tensor([0.1]), 0.1), lambda L: L.isin(0.1, L.tensor([0.1]))),
    "isin_uint8_and_minus_one": lambda L: L.isin(L.tensor([255], dtype=L.uint8), -1),
    "isin_float32_and_0d_float64": lambda L: L.isin(L.tensor([0.1]), L.tensor(0.1, dtype=L.float64)),
    "isin_test_element_keyword": lambda L: L.isin(L.tensor([1, 2]), test_element=2),
    "isin_promotion": bundle(
        lambda L: L.isin(L.tensor([2**24 + 1]), L.tensor([2.0**24])),
        lambda L: L.isin(L.tensor([2**24 + 1]), float(2**24)),
        lambda L: L.isin(L.tensor([0], dtype=L.int32), 2**40),
        lambda L: L.isin(L.tensor(300), L.tensor([44], dtype=L.int8)),
        lambda L: L.isin(L.tensor([255], dtype=L.uint8), L.tensor([-1], dtype=L.int8)),
        lambda L: L.isin(L.tensor(0.1, dtype=L.float64), L.tensor(0.1)),
        lambda L: L.isin(L.tensor([0.1], dtype=L.float16), 0.1),
    ),
    "clamp_tensor_bounds_out_casts": bundle(
        lambda L: (lambda o: (L.clamp(L.tensor([1.0, 5.0]), L.tensor(2.0), L.tensor(3.0), out=o), o)[1])(L.empty(2, dtype=L.float64)),
        lambda L: (lambda o: (L.clamp_min(L.tensor([1, 5]), L.tensor([2, 2]), out=o), o)[1])(L.empty(2)),
        lambda L: (lambda o: (L.clamp(L.tensor([1, 5]), 2.5, 3, out=o), o)[1])(L.empty(2)),
    ),
}


@pytest.mark.parametrize("run", list(VALUE_CASES.values()), ids=list(VALUE_CASES))
def test_same_values(run):
    same_in_both(run)


# --- bad input: PyTorch's exception type ------------------------------------------------------------

RAISES_CASES = {
    "eq_shapes_do_not_broadcast": lambda L: L.eq(L.tensor([1, 2]), L.tensor([1, 2, 3])),
    "lt_operator_shapes_do_not_broadcast": lambda L: L.tensor([1, 2]) < L.tensor([1, 2, 3]),
    "lt_of_none": lambda L: L.lt(L.tensor([1, 2]), None),
    "lt_operator_of_string": lambda L: L.tensor([1, 2]) < "a",
    "gt_of_a_list": lambda L: L.gt(L.tensor([1, 2]), [1, 2]),
    "equal_of_a_number": lambda L: L.equal(L.tensor([1]), 1),
    "isclose_float32_float64": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0], dtype=L.float64)),
    "isclose_negative_rtol": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0]), rtol=-1.0),
    "isclose_negative_atol": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0]), atol=-1.0),
    "isclose_shapes_do_not_broadcast": lambda L: L.isclose(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0, 3.0])),
    "isclose_bool_int": lambda L: L.isclose(L.tensor([True]), L.tensor([1])),
    "allclose_float32_float64": lambda L: L.allclose(L.tensor([1.0]), L.tensor([1.0], dtype=L.float64)),
    "allclose_of_a_number": lambda L: L.allclose(L.tensor([1.0]), 1.0),
    "maximum_shapes_do_not_broadcast": lambda L: L.maximum(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0, 3.0])),
    "fmax_of_a_number": lambda L: L.fmax(L.tensor([1.0, 2.0]), 1.0),
    "minimum_number_first": lambda L: L.minimum(1.0, L.tensor([1.0, 2.0])),
    "maximum_out_int_of_float": lambda L: L.maximum(L.tensor([1.0]), L.tensor([2.0]), out=L.empty(1, dtype=L.int64)),
    "clamp_no_bounds": lambda L: L.clamp(L.tensor([1.0])),
    "clamp_none_none": lambda L: L.clamp(L.tensor([1.0]), None, None),
    "clip_method_no_bounds": lambda L: L.tensor([1.0]).clip(),
    "clamp_inplace_tensor_bound_broadcasts_self": lambda L: L.tensor([1.0, 2.0]).clamp_(min=L.tensor([[0.0], [1.0]])),
    "clamp_inplace_int_float_tensor_bound": lambda L: L.tensor([1, 2]).clamp_(max=L.tensor([1.5, 1.5])),
    "clamp_of_a_string_bound": lambda L: L.clamp(L.tensor([1.0]), "a"),
    "clamp_min_no_bound": lambda L: L.clamp_min(L.tensor([1.0])),
    "logical_and_shapes_do_not_broadcast": lambda L: L.logical_and(L.tensor([True, False]), L.tensor([True, False, True])),
    "logical_or_inplace_broadcasts_self": lambda L: L.tensor([True, False]).logical_or_(L.tensor([[True], [False]])),
    "bitwise_and_bool_float": lambda L: L.tensor([True]) & L.tensor([1.0]),
    "bitwise_not_float": lambda L: ~L.tensor([1.0]),
    "bitwise_or_float_number": lambda L: L.tensor([True]) | 1.5,
    "bitwise_xor_inplace_bool_of_int": lambda L: L.tensor([True]).bitwise_xor_(L.tensor([2])),
    "where_float_condition": lambda L: L.where(L.tensor([1.0, 0.0]), L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])),
    "where_int64_condition_tensors": lambda L: L.where(L.tensor([1, 0]), L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])),
    "where_two_arguments": lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0])),
    "where_shapes_do_not_broadcast": lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0, 3.0]), 0.0),
    "where_out_int_of_float": lambda L: L.where(L.tensor([True]), L.tensor([1.0]), L.tensor([2.0]), out=L.empty(1, dtype=L.int64)),
    "where_int8_number_overflows": lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2], dtype=L.int8), 1000),
    "sign_out_float64_of_float32": lambda L: L.sign(L.tensor([-2.5, 3.0]), out=L.empty(2, dtype=L.float64)),
    "sgn_out_int_of_float": lambda L: L.sgn(L.tensor([-2.5, 3.0]), out=L.empty(2, dtype=L.int64)),
    "isin_two_numbers": lambda L: L.isin(1, 2),
    "signbit_out_float": lambda L: L.signbit(L.tensor([1.0]), out=L.empty(1)),
    "sign_inplace_bool_of_float": lambda L: L.tensor([True]).sgn_().add_(0.5),
    "isposinf_out_float": lambda L: L.isposinf(L.tensor([1.0]), out=L.empty(1)),
    "isnan_of_a_number": lambda L: L.isnan(1.0),
    "isfinite_of_a_list": lambda L: L.isfinite([1.0]),
    "isfinite_out": lambda L: L.isfinite(L.tensor([1.0]), out=L.empty(1, dtype=L.bool)),
    "isnan_out": lambda L: L.isnan(L.tensor([1.0]), out=L.empty(1, dtype=L.bool)),
    "isinf_out": lambda L: L.isinf(L.tensor([1.0]), out=L.empty(1, dtype=L.bool)),
    "isclose_out": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0]), out=L.empty(1, dtype=L.bool)),
    "equal_out": lambda L: L.equal(L.tensor([1.0]), L.tensor([1.0]), out=L.empty(1, dtype=L.bool)),
    "isclose_rtol_nan": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0]), rtol=NAN),
    "isclose_rtol_string": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0]), rtol="a"),
    "allclose_shapes_do_not_broadcast": lambda L: L.allclose(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0, 3.0])),
    "eq_inplace_of_expanded": lambda L: L.zeros(1).expand(3).eq_(L.tensor([0.0, 1.0, 0.0])),
    "clamp_inplace_of_expanded": lambda L: L.zeros(1).expand(3).clamp_(0.5),
    "logical_not_inplace_of_expanded": lambda L: L.zeros(1).expand(3).logical_not_(),
    "gt_inplace_of_leaf_requiring_grad": lambda L: L.tensor([1.0], requires_grad=True).gt_(0),
    "clamp_inplace_of_leaf_requiring_grad": lambda L: L.tensor([1.0], requires_grad=True).clamp_(0),
    "lt_operator_of_tuple": lambda L: L.tensor([1, 2]) < (1, 3),
    "eq_int64_and_2_pow_70": lambda L: L.tensor([1]) == 2**70,
    "lt_float32_and_2_pow_70": lambda L: L.lt(L.tensor([1.0]), 2**70),
    "bool_of_multi_element_comparison": lambda L: bool(L.tensor([1, 2]) == L.tensor([1, 2])),
    "eq_of_two_numbers": lambda L: L.eq(1, 2),
    "logical_and_of_a_number": lambda L: L.logical_and(L.tensor([True, False]), True),
    "logical_or_number_first": lambda L: L.logical_or(1, L.tensor([True])),
    "where_condition_number": lambda L: L.where(True, L.tensor([1.0]), L.tensor([2.0])),
    "where_list_operand": lambda L: L.where(L.tensor([True, False]), [1.0, 2.0], 0.0),
    "where_numbers_with_out": lambda L: L.where(L.tensor([True, False]), 1.0, 0.0, out=L.empty(2)),
    "where_out_other_dtype": lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 5.0]), L.tensor([2.0, 2.0]), out=L.empty(2, dtype=L.float64)),
    "clamp_numbers_out_other_dtype": lambda L: L.clamp(L.tensor([1.0, 5.0]), 2, 3, out=L.empty(2, dtype=L.float64)),
    "clip_int_numbers_out_float": lambda L: L.clip(L.tensor([1, 5]), 2, 3, out=L.empty(2, dtype=L.float32)),
    "clamp_min_number_out_other_dtype": lambda L: L.clamp_min(L.tensor([1.0, 5.0]), 2, out=L.empty(2, dtype=L.float64)),
    "isin_bool_tensors": lambda L: L.isin(L.tensor([True, False]), L.tensor([True])),
    "isin_bool_and_number": lambda L: L.isin(L.tensor([True, False]), True),
    "isin_of_a_list": lambda L: L.isin(L.tensor([1, 2]), [1, 2]),
    "isin_list_first": lambda L: L.isin([1, 2], L.tensor([1, 2])),
    "isin_int_and_true": lambda L: L.isin(L.tensor([1, 0]), True),
    "lt_array_first": lambda L: L.lt(np.array([1, 2]), L.tensor([1, 2])),
    "where_method_condition_list": lambda L: L.tensor([1.0, 2.0]).where([True, False], L.tensor([3.0, 4.0])),
    "where_other_none": lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0]), None),
    "where_int_out_int32": lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]), L.tensor([3, 4]), out=L.empty(2, dtype=L.int32)),
    "clamp_max_number_out_of_resized_other_dtype": lambda L: L.clamp_max(L.tensor([1.0, 5.0]), 2, out=L.empty(3, dtype=L.float64)),
    "max_other_number": lambda L: L.max(L.tensor([1.0, 2.0]), other=2.0),
    "max_other_and_dim": lambda L: L.max(L.tensor(A), other=L.tensor(B), dim=0),
}


@pytest.mark.parametrize("run", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)


# --- warnings -----------------------------------------------------------------------------------------

WARNING_CASES = {
    "eq_out_resized": lambda L: L.eq(L.tensor([1, 2, 3]), 2, out=L.empty(2, dtype=L.bool)),
    "maximum_out_resized": lambda L: L.maximum(L.tensor([1.0, 2.0]), L.tensor([2.0, 1.0]), out=L.empty(3)),
    "clamp_out_resized": lambda L: L.clamp(L.tensor([1.0, 2.0]), 0, 1, out=L.empty(1)),
    "where_out_resized": lambda L: L.where(L.tensor([True, False]), L.tensor(1.0), L.tensor(0.0), out=L.empty(4)),
    "logical_and_out_resized": lambda L: L.logical_and(L.tensor([True, False]), L.tensor([True, True]), out=L.empty(3, dtype=L.bool)),
    "eq_out_empty_no_warning": lambda L: L.eq(L.tensor([1, 2, 3]), 2, out=L.empty(0, dtype=L.bool)),
}


def _warning_categories(run, L):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(L)
    return sorted({w.category.__name__ for w in caught}), tuple(result.shape)


@pytest.mark.parametrize("run", list(WARNING_CASES.values()), ids=list(WARNING_CASES))
def test_warnings_as_torch(run):
    assert _warning_categories(run, chainrule) == _warning_categories(run, torch)


# --- gradients (float64) ------------------------------------------------------------------------------


def grad_of(function, *datas):
    """The gradients of ``sum(w * function(*xs))`` with distinct weights ``w``, so misrouting shows."""
    def run(L):
        xs = [L.tensor(data, dtype=L.float64, requires_grad=True) for data in datas]
        y = function(L, *xs)
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        return [x.grad for x in xs]
    return run


X = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
T = [0.0, -1.0, 0.5, 0.0, -0.5, 2.0, 2.0]

GRAD_CASES = {
    "clamp_at_bounds": grad_of(lambda L, x: L.clamp(x, -1.0, 1.0), X),
    "clamp_min_only_at_bound": grad_of(lambda L, x: L.clamp(x, min=0.5), X),
    "clamp_max_only_at_bound": grad_of(lambda L, x: x.clamp(max=-0.5), X),
    "clamp_min_gt_max": grad_of(lambda L, x: L.clamp(x, 1.0, -1.0), X),
    "clamp_min_eq_max": grad_of(lambda L, x: L.clamp(x, 0.5, 0.5), X),
    "clip_clamp_min_clamp_max": grad_of(lambda L, x: L.cat([L.clip(x, -0.5, 0.5), L.clamp_min(x, 0.0), L.clamp_max(x, 0.0)]), X),
    "clamp_tensor_bounds": grad_of(lambda L, x, lo, hi: L.clamp(x, lo, hi), X, [-1.0] * 7, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 3.0]),
    "clamp_tensor_bounds_ties": grad_of(lambda L, x, lo, hi: L.clamp(x, lo, hi), [0.0, 1.0, 2.0], [0.0, 1.0, 3.0], [1.0, 1.0, 2.0]),
    "clamp_tensor_min_gt_max": grad_of(lambda L, x, lo, hi: L.clamp(x, lo, hi), [0.0, 1.0, 2.0], [1.5, 1.5, 1.5], [0.5, 0.5, 0.5]),
    "clamp_tensor_min_only_broadcast": grad_of(lambda L, x, lo: L.clamp(x, min=lo), [[0.0, 1.0, 2.0], [3.0, -1.0, 1.0]], [1.0]),
    "clamp_tensor_max_only_broadcast": grad_of(lambda L, x, hi: L.clamp(x, max=hi), [[0.0, 1.0, 2.0], [3.0, -1.0, 1.0]], [[1.0], [0.0]]),
    "clamp_nan_input": grad_of(lambda L, x: L.clamp(x, 0.0, 1.0), [NAN, 0.5, 2.0]),
    "maximum_ties": grad_of(lambda L, a, b: L.maximum(a, b), X, T),
    "minimum_ties": grad_of(lambda L, a, b: L.minimum(a, b), X, T),
    "maximum_broadcast": grad_of(lambda L, a, b: L.maximum(a, b), [[0.0, 1.0, 2.0], [3.0, 1.0, -1.0]], [1.0]),
    "minimum_broadcast_rows": grad_of(lambda L, a, b: L.minimum(a, b), [[0.0, 1.0, 2.0], [3.0, 1.0, -1.0]], [[1.0], [3.0]]),
    "max_binary_ties": grad_of(lambda L, a, b: L.max(a, b), X, T),
    "fmax_ties": grad_of(lambda L, a, b: L.fmax(a, b), X, T),
    "fmin_ties": grad_of(lambda L, a, b: L.fmin(a, b), X, T),
    "maximum_nan": grad_of(lambda L, a, b: L.maximum(a, b), [NAN, 1.0, NAN], [1.0, NAN, NAN]),
    "fmax_nan": grad_of(lambda L, a, b: L.fmax(a, b), [NAN, 1.0, NAN, 2.0], [1.0, NAN, NAN, 2.0]),
    "fmin_nan": grad_of(lambda L, a, b: L.fmin(a, b), [NAN, 1.0, NAN, 2.0], [1.0, NAN, NAN, 2.0]),
    "where_both_branches": grad_of(lambda L, a, b: L.where(a > b, a, b), X, T),
    "where_broadcast_branches": grad_of(lambda L, a, b: L.where(L.tensor([[True], [False]]), a, b), [1.0, 2.0, 3.0], [[5.0]]),
    "where_scalar_other": grad_of(lambda L, a: L.where(a > 0, a, 0.0), X),
    "where_scalar_input": grad_of(lambda L, a: L.where(a > 0, 1.0, a), X),
    "where_method": grad_of(lambda L, a, b: a.where(a < 0.5, b), X, T),
    "where_0d_condition": grad_of(lambda L, a, b: L.where(L.tensor(True), a, b), [1.0, 2.0], [3.0, 4.0]),
    "where_nan_unselected_branch": grad_of(lambda L, a: L.where(a > 0, L.sqrt(a), a), [-1.0, 0.0, 4.0]),
    "sign_zero_grad": grad_of(lambda L, a: L.sign(a), X),
    "sgn_zero_grad": grad_of(lambda L, a: L.sgn(a) + a, X),  # + a: PyTorch gives a ZeroTensor otherwise
    "maximum_of_itself": grad_of(lambda L, a: L.maximum(a, a) + L.minimum(a, a), X),
    "inplace_comparison_cuts_gradient": grad_of(lambda L, a: (a * 1).gt_(0.0) + (a * 1).clamp_(-0.5, 0.5), X),
}


def second_derivative(function, data):
    """d/dx of sum(d/dx sum(w * function(x)) * v): the double backward through ``function``."""
    def run(L):
        x = L.tensor(data, dtype=L.float64, requires_grad=True)
        y = function(L, x)
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64))
        (g,) = L.autograd.grad((y * w).sum(), x, create_graph=True)
        (g * x).sum().backward()
        return [g, x.grad]
    return run


GRAD_CASES.update({
    "double_backward_clamp": second_derivative(lambda L, x: L.clamp(x, -1.0, 1.0) * x, X),
    "double_backward_maximum": second_derivative(lambda L, x: L.maximum(x * x, x + 1.0), X),
    "double_backward_where": second_derivative(lambda L, x: L.where(x > 0, x * x * x, -x * x), X),
    "double_backward_clamp_tensor_bound": second_derivative(lambda L, x: L.clamp(x * x, min=x) , X),
})


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_in_place_comparison_grad_fn_name():
    def run(L):
        x = L.tensor([1.0, -2.0], requires_grad=True)
        return [type(getattr(x * 1, name + "_")(other).grad_fn).__name__
                for name in ("gt", "eq", "le", "greater", "not_equal") for other in (0.5, L.tensor([0.5, 0.5]), L.tensor(0.5))]
    same_in_both(run)


def test_comparison_results_do_not_require_grad():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        results = [x > 1, L.eq(x, 1), L.isclose(x, x), L.isnan(x), L.signbit(x), L.logical_not(x), L.isin(x, x)]
        return [(r.requires_grad, r.grad_fn is None, str(r.dtype).split(".")[-1]) for r in results]
    same_in_both(run)
