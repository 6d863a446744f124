"""A sweep of in-place operations and their autograd rules against PyTorch (the oracle):
the in-place arithmetic methods (``add_`` / ``sub_`` with ``alpha``, ``mul_``, ``div_`` with
``rounding_mode``, ``clamp_`` with number and tensor bounds, ``pow_``, ``sqrt_``, ``exp_``,
``sigmoid_``, ``relu_``, ``tanh_``, ``neg_``, ``abs_``, ``lerp_``, ``addcmul_`` / ``addcdiv_``),
the writing methods (``copy_`` with broadcasting and dtype conversion, ``fill_`` with a 0-d tensor,
``zero_``, ``masked_fill_`` with a tensor value, ``index_add_`` / ``index_copy_`` / ``index_fill_``
with ``alpha`` and negative dims, ``scatter_`` / ``scatter_add_`` / ``scatter_reduce_`` with every
``reduce`` and ``include_self``, ``put_`` and ``index_put_`` with ``accumulate`` and repeated
indices, ``masked_scatter_``), the augmented operators (``+=`` ``-=`` ``*=`` ``/=`` ``@=`` ``//=``
``%=`` ``**=`` ``&=`` ``<<=``): what they return (the same object), the shape rule (no in-place
broadcast that would change self's shape), the memory rules (an operand overlapping the written-to
tensor, writes into expanded tensors), the dtype rule (no result type that cannot be cast to
self's dtype), the autograd rules (a leaf that requires grad, a view of one, a tensor saved for
backward and then modified, views made under ``no_grad``, multi-output views), ``_version``
counter values after each kind of write, in-place on leaves under ``no_grad``, float64 gradients
through chains of in-place ops on non-leaves and on views and their bases, and ``out=`` resizing
with PyTorch's warning.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, outcome, plain, raises_as_torch, same_in_both

NAN = float("nan")
INF = float("inf")


BUGS = {
}


def cases(table):
    """``table``'s runs as pytest params, each difference in ``BUGS`` marked as a strict xfail."""
    return [pytest.param(run, id=name, marks=[bug(BUGS[name])] if name in BUGS else []) for name, run in table.items()]


def ip(make, op):
    """``op(t, L)`` on ``t = make(L)``: whether it returned ``t`` itself, and ``t`` afterwards."""
    def run(L):
        t = make(L)
        returned = op(t, L)
        return [returned is t, t]
    return run


def aug(make, apply):
    """An augmented assignment ``t op= ...`` (``apply`` returns the new binding): same object?, value."""
    def run(L):
        t = make(L)
        before = t
        t = apply(t, L)
        return [t is before, t, before]
    return run


def F(L, data=((1.0, -2.0, 3.0), (-4.0, 5.0, -6.0)), dtype=None):
    return L.tensor(data, dtype=dtype) if dtype is not None else L.tensor(data)


def I(L, data=((1, -2, 3), (-4, 5, -6))):
    return L.tensor(data)


def _iadd(t, L):
    t += L.tensor([1.0, 2.0, 3.0])
    return t


def _isub(t, L):
    t -= 2
    return t


def _imul(t, L):
    t *= L.tensor(3.0)
    return t


def _idiv(t, L):
    t /= L.tensor([[2.0], [4.0]])
    return t


def _imatmul(t, L):
    t @= L.tensor([[1.0, 2.0], [3.0, 4.0]])
    return t


def _ifloordiv(t, L):
    t //= 3
    return t


def _imod(t, L):
    t %= 4
    return t


def _ipow(t, L):
    t **= 2
    return t


def _iand(t, L):
    t &= L.tensor([6, 3, 5])
    return t


def _ilshift(t, L):
    t <<= 2
    return t


def _ior_bool(t, L):
    t |= L.tensor([True, False])
    return t


def _ixor(t, L):
    t ^= 5
    return t


def _irshift(t, L):
    t >>= 1
    return t


def _ifloordiv_float(t, L):
    t //= 2.0
    return t


def _imod_float(t, L):
    t %= 2.5
    return t


# --- values, returned object, dtypes and shapes ----------------------------------------------------

VALUE_CASES = {
    # arithmetic methods
    "add_forms": bundle(
        ip(F, lambda t, L: t.add_(L.tensor([1.0, 2.0, 3.0]))),
        ip(F, lambda t, L: t.add_(L.tensor([1.0, 2.0, 3.0]), alpha=2)),
        ip(F, lambda t, L: t.add_(2.5)),
        ip(F, lambda t, L: t.add_(other=L.tensor(1.0), alpha=-1)),
        ip(F, lambda t, L: t.add_(L.tensor([[10.0], [20.0]]))),
        ip(I, lambda t, L: t.add_(3, alpha=2)),
        ip(I, lambda t, L: t.add_(True)),
    ),
    "sub_alpha": bundle(
        ip(F, lambda t, L: t.sub_(L.tensor([1.0, 2.0, 3.0]), alpha=0.5)),
        ip(F, lambda t, L: t.sub_(1)),
        ip(I, lambda t, L: t.sub_(L.tensor([1, 1, 1]), alpha=3)),
        ip(F, lambda t, L: t.subtract_(L.tensor(2.0), alpha=2)),
    ),
    "mul_forms": bundle(
        ip(F, lambda t, L: t.mul_(2)),
        ip(F, lambda t, L: t.mul_(L.tensor([1.0, 0.0, -1.0]))),
        ip(I, lambda t, L: t.mul_(L.tensor([2, 3, 4]))),
        ip(lambda L: L.tensor([True, False]), lambda t, L: t.mul_(L.tensor([True, True]))),
        ip(F, lambda t, L: t.multiply_(L.tensor(0.5))),
    ),
    "mixed_precision_downcast_allowed": bundle(
        ip(F, lambda t, L: t.add_(L.tensor([1.0, 2.0, 3.0], dtype=L.float64))),
        ip(lambda L: L.tensor([1, 2], dtype=L.int32), lambda t, L: t.add_(L.tensor([1, 2]))),
        ip(lambda L: L.tensor([1.5, 2.5], dtype=L.float16), lambda t, L: t.mul_(L.tensor([2.0, 4.0]))),
        ip(lambda L: L.tensor([1, 2], dtype=L.uint8), lambda t, L: t.sub_(L.tensor(3))),
        ip(lambda L: L.tensor([100, 2], dtype=L.int8), lambda t, L: t.mul_(3)),
    ),
    "div_rounding_modes": bundle(
        ip(F, lambda t, L: t.div_(L.tensor([2.0, 4.0, 8.0]))),
        ip(F, lambda t, L: t.div_(4, rounding_mode="floor")),
        ip(F, lambda t, L: t.div_(4, rounding_mode="trunc")),
        ip(F, lambda t, L: t.div_(4, rounding_mode=None)),
        ip(I, lambda t, L: t.div_(4, rounding_mode="floor")),
        ip(I, lambda t, L: t.div_(L.tensor([4, 4, 4]), rounding_mode="trunc")),
        ip(F, lambda t, L: t.divide_(L.tensor(2.0))),
        ip(F, lambda t, L: t.true_divide_(2)),
        ip(F, lambda t, L: t.div_(0)),
    ),
    "clamp_number_bounds": bundle(
        ip(F, lambda t, L: t.clamp_(min=0)),
        ip(F, lambda t, L: t.clamp_(max=1)),
        ip(F, lambda t, L: t.clamp_(-1, 1)),
        ip(F, lambda t, L: t.clamp_(2, 1)),
        ip(I, lambda t, L: t.clamp_(-1, 2)),
        ip(F, lambda t, L: t.clip_(0.5, 2.5)),
        ip(F, lambda t, L: t.clamp_min_(0.0)),
        ip(F, lambda t, L: t.clamp_max_(0.0)),
        ip(lambda L: L.tensor([NAN, 1.0, -INF]), lambda t, L: t.clamp_(0, 0.5)),
    ),
    "clamp_tensor_bounds": bundle(
        ip(F, lambda t, L: t.clamp_(min=L.tensor([0.0, -3.0, 1.0]))),
        ip(F, lambda t, L: t.clamp_(L.tensor([[0.0], [-5.0]]), L.tensor([1.0, 2.0, 3.0]))),
        ip(F, lambda t, L: t.clamp_(max=L.tensor(0.5))),
        ip(I, lambda t, L: t.clamp_(min=L.tensor([0, 0, 0]))),
    ),
    "pow_sqrt_exp": bundle(
        ip(F, lambda t, L: t.pow_(2)),
        ip(F, lambda t, L: t.pow_(L.tensor([1.0, 2.0, 3.0]))),
        ip(F, lambda t, L: t.pow_(0.5)),
        ip(I, lambda t, L: t.abs_().pow_(2)),
        ip(F, lambda t, L: t.abs_().sqrt_()),
        ip(F, lambda t, L: t.sqrt_()),
        ip(F, lambda t, L: t.exp_()),
        ip(lambda L: F(L, dtype=L.float64), lambda t, L: t.exp_()),
    ),
    "activations": bundle(
        ip(F, lambda t, L: t.sigmoid_()),
        ip(F, lambda t, L: t.relu_()),
        ip(I, lambda t, L: t.relu_()),
        ip(F, lambda t, L: t.tanh_()),
        ip(F, lambda t, L: t.neg_()),
        ip(I, lambda t, L: t.neg_()),
        ip(F, lambda t, L: t.negative_()),
        ip(F, lambda t, L: t.abs_()),
        ip(I, lambda t, L: t.abs_()),
        ip(F, lambda t, L: t.absolute_()),
        ip(lambda L: L.tensor([-0.0, 0.0]), lambda t, L: t.abs_()),
    ),
    "functional_inplace_activations": bundle(
        lambda L: (lambda t: [L.relu_(t) is t, t])(F(L)),
        lambda L: (lambda t: [L.sigmoid_(t) is t, t])(F(L)),
        lambda L: (lambda t: [L.nn.functional.relu(t, inplace=True) is t, t])(F(L)),
        lambda L: (lambda t: [L.nn.functional.relu_(t) is t, t])(F(L)),
        lambda L: (lambda t: [L.nn.functional.leaky_relu(t, 0.5, inplace=True) is t, t])(F(L)),
    ),
    "lerp_": bundle(
        ip(F, lambda t, L: t.lerp_(L.zeros(2, 3), 0.25)),
        ip(F, lambda t, L: t.lerp_(L.tensor([1.0, 1.0, 1.0]), L.tensor([[0.0], [1.0]]))),
        ip(F, lambda t, L: t.lerp_(end=L.tensor(2.0), weight=1.5)),
    ),
    "addcmul_addcdiv": bundle(
        ip(F, lambda t, L: t.addcmul_(L.tensor([1.0, 2.0, 3.0]), L.tensor([[2.0], [3.0]]))),
        ip(F, lambda t, L: t.addcmul_(L.tensor([1.0, 2.0, 3.0]), L.tensor([1.0, 2.0, 3.0]), value=-0.5)),
        ip(F, lambda t, L: t.addcdiv_(L.tensor([1.0, 2.0, 3.0]), L.tensor([2.0, 4.0, 8.0]))),
        ip(F, lambda t, L: t.addcdiv_(L.tensor([1.0, 2.0, 3.0]), L.tensor([[2.0], [4.0]]), value=2)),
        ip(I, lambda t, L: t.addcmul_(L.tensor([1, 2, 3]), L.tensor([2, 2, 2]), value=3)),
    ),
    "comparison_inplace_keeps_dtype": bundle(
        ip(F, lambda t, L: t.lt_(0)),
        ip(F, lambda t, L: t.ge_(L.tensor([1.0, 5.0, -6.0]))),
        ip(I, lambda t, L: t.eq_(3)),
        ip(F, lambda t, L: t.logical_not_()),
    ),
    "zero_size_and_0d": bundle(
        ip(lambda L: L.tensor(2.0), lambda t, L: t.mul_(3)),
        ip(lambda L: L.tensor(2.0), lambda t, L: t.add_(L.tensor([[4.0]]).squeeze())),
        ip(lambda L: L.zeros(0, 3), lambda t, L: t.add_(L.tensor([1.0, 2.0, 3.0]))),
        ip(lambda L: L.zeros(0), lambda t, L: t.exp_()),
        ip(lambda L: L.ones(1, 3), lambda t, L: t.mul_(L.tensor([1.0, 2.0, 3.0]))),
        ip(lambda L: L.ones(2, 1), lambda t, L: t.add_(L.tensor([[5.0], [6.0]]))),
        ip(lambda L: L.ones(3), lambda t, L: t.add_(L.tensor([7.0]))),
    ),
    # writing methods
    "copy_broadcast_dtype": bundle(
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.copy_(L.tensor([1.0, 2.0, 3.0]))),
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.copy_(L.tensor(7.0))),
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.copy_(L.tensor([[1.0], [2.0]]))),
        ip(lambda L: L.zeros(3, dtype=L.long), lambda t, L: t.copy_(L.tensor([1.7, -1.7, 2.5]))),
        ip(lambda L: L.zeros(3), lambda t, L: t.copy_(L.tensor([1, 2, 3]))),
        ip(lambda L: L.zeros(3), lambda t, L: t.copy_(L.tensor([True, False, True]))),
        ip(lambda L: L.zeros(3, dtype=L.bool), lambda t, L: t.copy_(L.tensor([0.0, 0.5, -2.0]))),
        ip(lambda L: L.zeros(3, dtype=L.float16), lambda t, L: t.copy_(L.tensor([1.0, 2.0, 3.0], dtype=L.float64))),
        ip(lambda L: L.zeros(2, 2), lambda t, L: t.copy_(L.tensor([[1.0, 2.0], [3.0, 4.0]]).t())),
        ip(lambda L: L.zeros(4), lambda t, L: t.copy_(L.tensor([[1.0, 2.0], [3.0, 4.0]]).flatten())),
    ),
    "copy_into_view_writes_base": bundle(
        lambda L: (lambda b: [b[0].copy_(L.tensor([5.0, 6.0, 7.0])) is not None, b])(L.zeros(2, 3)),
        lambda L: (lambda b: (b[:, 1].copy_(L.tensor(9.0)), b)[1])(L.zeros(2, 3)),
        lambda L: (lambda b: (b.t().copy_(L.arange(6.0).reshape(3, 2)), b)[1])(L.zeros(2, 3)),
    ),
    "copy_non_blocking_keyword": ip(lambda L: L.zeros(3), lambda t, L: t.copy_(L.ones(3), non_blocking=False)),
    "copy_non_blocking_positional": ip(lambda L: L.zeros(3), lambda t, L: t.copy_(L.ones(3), False)),
    "self_aliasing_add_mul": bundle(
        lambda L: (lambda t: (t.add_(t), t)[1])(L.tensor([1.0, 2.0])),
        lambda L: (lambda t: (t.mul_(t), t)[1])(L.tensor([[1.0, 2.0], [3.0, 4.0]])),
        lambda L: (lambda t: (t[:2].add_(t[2:]), t)[1])(L.tensor([1.0, 2.0, 3.0, 4.0])),
        lambda L: (lambda t: (t[::2].sub_(t[1::2]), t)[1])(L.tensor([1.0, 2.0, 3.0, 4.0])),
    ),
    "expanded_fill_": lambda L: (lambda b: (b.expand(2, 3).fill_(1.0), b)[1])(L.zeros(1, 3)),
    "expanded_zero_": lambda L: (lambda b: (b.expand(2, 3).zero_(), b)[1])(L.ones(1, 3)),
    "shape_inplace_methods": bundle(
        lambda L: (lambda t: [t.t_() is t, t])(L.tensor([[1.0, 2.0], [3.0, 4.0]])),
        lambda L: (lambda t: [t.unsqueeze_(0) is t, tuple(t.shape)])(L.tensor([[1.0, 2.0], [3.0, 4.0]])),
        lambda L: (lambda t: [t.squeeze_() is t, tuple(t.shape)])(L.ones(1, 2, 1)),
        lambda L: (lambda t: [t.transpose_(0, 1) is t, t])(L.tensor([[1.0, 2.0], [3.0, 4.0]])),
    ),
    "remainder_fmod_floor_divide_": bundle(
        ip(lambda L: L.tensor([3, -3, 5]), lambda t, L: t.remainder_(2)),
        ip(lambda L: L.tensor([3, -3, 5]), lambda t, L: t.fmod_(L.tensor([2, 2, -3]))),
        ip(lambda L: L.tensor([3.0, -3.0]), lambda t, L: t.floor_divide_(2)),
        ip(lambda L: L.tensor([3.5, -3.5]), lambda t, L: t.remainder_(L.tensor(2.0))),
    ),
    "copy_from_other_view_no_overlap": lambda L: (lambda t: (t[2:].copy_(t[:2]), t)[1])(L.tensor([1.0, 2.0, 3.0, 4.0])),
    "fill_zero_forms": bundle(
        ip(F, lambda t, L: t.fill_(2.5)),
        ip(I, lambda t, L: t.fill_(L.tensor(2.5))),
        ip(F, lambda t, L: t.fill_(L.tensor(4, dtype=L.long))),
        ip(I, lambda t, L: t.fill_(True)),
        ip(lambda L: L.zeros(2, dtype=L.bool), lambda t, L: t.fill_(3)),
        ip(F, lambda t, L: t.fill_(L.tensor(3.0, dtype=L.float64))),
        ip(F, lambda t, L: t.zero_()),
        ip(I, lambda t, L: t.zero_()),
        ip(lambda L: L.zeros(0), lambda t, L: t.fill_(1)),
        ip(F, lambda t, L: t.fill_(NAN)),
    ),
    "masked_fill_": bundle(
        ip(F, lambda t, L: t.masked_fill_(L.tensor([[True, False, True], [False, False, True]]), 0.0)),
        ip(F, lambda t, L: t.masked_fill_(L.tensor([True, False, True]), L.tensor(9.0))),
        ip(F, lambda t, L: t.masked_fill_(L.tensor([[True], [False]]), -1)),
        ip(I, lambda t, L: t.masked_fill_(L.tensor([True, False, True]), 2.7)),
        ip(I, lambda t, L: t.masked_fill_(L.tensor([True, False, True]), L.tensor(7))),
        ip(F, lambda t, L: t.masked_fill_(mask=L.tensor(True), value=L.tensor(1.5))),
        ip(F, lambda t, L: t.masked_fill_(L.tensor([False, False, False]), INF)),
    ),
    "index_add_": bundle(
        ip(lambda L: L.zeros(3, 2), lambda t, L: t.index_add_(0, L.tensor([0, 2, 0]), L.ones(3, 2))),
        ip(lambda L: L.zeros(3, 2), lambda t, L: t.index_add_(0, L.tensor([2, 2]), L.tensor([[1.0, 2.0], [3.0, 4.0]]), alpha=2)),
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.index_add_(-1, L.tensor([1, 1, 0]), L.ones(2, 3), alpha=-0.5)),
        ip(lambda L: L.zeros(2, 3, dtype=L.long), lambda t, L: t.index_add_(1, L.tensor([2]), L.tensor([[5], [6]]), alpha=3)),
        ip(lambda L: L.zeros(3), lambda t, L: t.index_add_(0, L.tensor([], dtype=L.long), L.zeros(0))),
        ip(lambda L: L.zeros(3), lambda t, L: t.index_add_(dim=0, index=L.tensor([1], dtype=L.int32), source=L.tensor([4.0]))),
    ),
    "index_copy_": bundle(
        ip(lambda L: L.zeros(3, 2), lambda t, L: t.index_copy_(0, L.tensor([2, 0]), L.tensor([[1.0, 2.0], [3.0, 4.0]]))),
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.index_copy_(-1, L.tensor([0, 2]), L.tensor([[1.0, 2.0], [3.0, 4.0]]))),
        ip(lambda L: L.zeros(3, dtype=L.long), lambda t, L: t.index_copy_(0, L.tensor([1]), L.tensor([9]))),
    ),
    "index_fill_": bundle(
        ip(F, lambda t, L: t.index_fill_(1, L.tensor([0, 2]), -1.0)),
        ip(F, lambda t, L: t.index_fill_(-2, L.tensor([1]), L.tensor(7.0))),
        ip(I, lambda t, L: t.index_fill_(0, L.tensor([0, 0]), 3.9)),
        ip(F, lambda t, L: t.index_fill_(1, L.tensor([-1]), 0.0)),
    ),
    "scatter_": bundle(
        ip(lambda L: L.zeros(2, 4), lambda t, L: t.scatter_(1, L.tensor([[0, 3], [1, 2]]), L.tensor([[1.0, 2.0, 9.0], [3.0, 4.0, 9.0]]))),
        ip(lambda L: L.zeros(3, 2), lambda t, L: t.scatter_(0, L.tensor([[2, 0]]), 5.0)),
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.scatter_(-1, L.tensor([[2], [0]]), 1.5)),
        ip(lambda L: L.zeros(3, dtype=L.long), lambda t, L: t.scatter_(0, L.tensor([1, 2]), 7)),
        ip(lambda L: L.ones(4), lambda t, L: t.scatter_(0, L.tensor([0, 0, 3]), L.tensor([2.0, 2.0, 5.0]), reduce="multiply")),
        ip(lambda L: L.ones(4), lambda t, L: t.scatter_(0, L.tensor([0, 0, 3]), L.tensor([2.0, 2.0, 5.0]), reduce="add")),
        ip(lambda L: L.ones(4), lambda t, L: t.scatter_(0, L.tensor([0, 0, 3]), 3.0, reduce="add")),
        ip(lambda L: L.zeros(3), lambda t, L: t.scatter_(dim=0, index=L.tensor([2]), src=L.tensor([4.0]))),
    ),
    "scatter_add_": bundle(
        ip(lambda L: L.zeros(3), lambda t, L: t.scatter_add_(0, L.tensor([0, 2, 0, 0]), L.tensor([1.0, 2.0, 3.0, 4.0]))),
        ip(lambda L: L.ones(2, 3), lambda t, L: t.scatter_add_(1, L.tensor([[0, 0], [2, 1]]), L.tensor([[1.0, 2.0], [3.0, 4.0]]))),
        ip(lambda L: L.zeros(3, dtype=L.long), lambda t, L: t.scatter_add_(-1, L.tensor([1, 1]), L.tensor([5, 6]))),
    ),
    "scatter_reduce_include_self": bundle(*[
        ip(lambda L: L.tensor([1.0, 2.0, 3.0, 4.0]),
           lambda t, L, reduce=reduce: t.scatter_reduce_(0, L.tensor([0, 0, 2, 2, 2]), L.tensor([5.0, -1.0, 2.0, 8.0, 0.5]), reduce))
        for reduce in ("sum", "prod", "mean", "amax", "amin")
    ]),
    "scatter_reduce_exclude_self": bundle(*[
        ip(lambda L: L.tensor([1.0, 2.0, 3.0, 4.0]),
           lambda t, L, reduce=reduce: t.scatter_reduce_(0, L.tensor([0, 0, 2, 2, 2]), L.tensor([5.0, -1.0, 2.0, 8.0, 0.5]), reduce,
                                                         include_self=False))
        for reduce in ("sum", "prod", "mean", "amax", "amin")
    ]),
    "scatter_reduce_int_mean_2d": bundle(
        ip(lambda L: L.tensor([1, 2, 3]), lambda t, L: t.scatter_reduce_(0, L.tensor([0, 0, 1]), L.tensor([4, 5, 7]), "mean")),
        ip(lambda L: L.tensor([1, 2, 3]), lambda t, L: t.scatter_reduce_(0, L.tensor([0, 0, 1]), L.tensor([4, 5, 7]), "mean", include_self=False)),
        ip(lambda L: L.zeros(2, 2), lambda t, L: t.scatter_reduce_(1, L.tensor([[1, 1], [0, 1]]), L.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                                                 reduce="amax", include_self=False)),
        ip(lambda L: L.tensor([1.0, NAN, 3.0]), lambda t, L: t.scatter_reduce_(0, L.tensor([0, 2]), L.tensor([NAN, 1.0]), "amax")),
    ),
    "put_": bundle(
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.put_(L.tensor([0, 4, -1]), L.tensor([1.0, 2.0, 3.0]))),
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.put_(L.tensor([1, 1, 4]), L.tensor([1.0, 2.0, 3.0]), accumulate=True)),
        ip(lambda L: L.zeros(2, 2, dtype=L.long), lambda t, L: t.put_(L.tensor([[0, 3]]), L.tensor([[7, 8]]))),
        ip(lambda L: L.ones(4), lambda t, L: t.put_(index=L.tensor([-4, 0]), source=L.tensor([2.0, 3.0]), accumulate=True)),
    ),
    "index_put_": bundle(
        ip(lambda L: L.zeros(4), lambda t, L: t.index_put_((L.tensor([0, 2, 0]),), L.tensor([1.0, 2.0, 3.0]), accumulate=True)),
        ip(lambda L: L.zeros(4), lambda t, L: t.index_put_((L.tensor([1, 3]),), L.tensor(5.0))),
        ip(lambda L: L.zeros(3, 3), lambda t, L: t.index_put_((L.tensor([0, 2, 0]), L.tensor([1, 1, 1])), L.tensor([1.0, 2.0, 3.0]),
                                                              accumulate=True)),
        ip(lambda L: L.zeros(3, 2), lambda t, L: t.index_put_((L.tensor([2, 0]),), L.tensor([1.0, 2.0]))),
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.index_put_((L.tensor([True, False]),), L.tensor(4.0))),
        ip(lambda L: L.zeros(4), lambda t, L: t.index_put_([L.tensor([-1, -1])], L.tensor([1.0, 2.0]), True)),
        ip(lambda L: L.zeros(3, dtype=L.long), lambda t, L: t.index_put_((L.tensor([0, 0]),), L.tensor([2, 5]), accumulate=True)),
    ),
    "setitem_forms": bundle(
        lambda L: (lambda t: (t.__setitem__((slice(None), 1), L.tensor([8.0, 9.0])), t)[1])(F(L)),
        lambda L: (lambda t: (t.__setitem__(t < 0, 0.0), t)[1])(F(L)),
        lambda L: (lambda t: (t.__setitem__(L.tensor([1, 1]), L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])), t)[1])(F(L)),
        lambda L: (lambda t: (t.__setitem__(0, 2.9), t)[1])(I(L)),
        lambda L: (lambda t: (t.__setitem__(Ellipsis, L.tensor([1.0, 2.0, 3.0])), t)[1])(F(L)),
    ),
    "masked_scatter_": bundle(
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.masked_scatter_(L.tensor([[True, False, True], [False, True, False]]),
                                                                  L.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))),
        ip(lambda L: L.zeros(2, 3), lambda t, L: t.masked_scatter_(L.tensor([True, False, True]), L.arange(6.0).reshape(2, 3))),
        ip(lambda L: L.zeros(2, dtype=L.long), lambda t, L: t.masked_scatter_(L.tensor([False, True]), L.tensor([4, 5]))),
    ),
    # augmented operators
    "augmented_float_ops": bundle(
        aug(F, _iadd), aug(F, _isub), aug(F, _imul), aug(F, _idiv),
        aug(F, _ifloordiv_float), aug(F, _imod_float), aug(F, _ipow),
    ),
    "augmented_int_ops": bundle(
        aug(I, _isub), aug(I, _ifloordiv), aug(I, _imod), aug(I, _ipow),
        aug(lambda L: L.tensor([5, 1, 4]), _iand), aug(lambda L: L.tensor([1, -3, 4]), _ilshift),
        aug(lambda L: L.tensor([True, False]), _ior_bool), aug(lambda L: L.tensor([1, 6]), _ixor),
        aug(lambda L: L.tensor([-5, 8]), _irshift),
    ),
    "augmented_imatmul_rebinds": aug(lambda L: L.tensor([[1.0, 0.0], [2.0, 1.0]]), _imatmul),
    "augmented_on_view_writes_base": lambda L: (lambda b: (lambda v: (v.__iadd__(10), b)[1])(b[1]))(F(L)),
    "augmented_float_int_scalar_0d": bundle(
        aug(lambda L: L.tensor(3.0), _isub), aug(lambda L: L.tensor(7), _ifloordiv), aug(lambda L: L.tensor(-7), _imod),
    ),
}


@pytest.mark.parametrize("run", cases(VALUE_CASES))
def test_same_values(run):
    same_in_both(run)


# --- bad input: PyTorch's exception type --------------------------------------------------------

def _leaf(L):
    return L.tensor([1.0, 2.0, 3.0], requires_grad=True)


RAISES_CASES = {
    # shape rule: an in-place op cannot broadcast self to a bigger shape
    "add_would_grow_self": lambda L: L.ones(3).add_(L.ones(2, 3)),
    "mul_would_grow_size1_dim": lambda L: L.ones(1, 3).mul_(L.ones(2, 3)),
    "iadd_would_grow_self": lambda L: _iadd(L.ones(1), L),
    "add_0d_self_1d_other": lambda L: L.tensor(1.0).add_(L.ones(2)),
    "copy_not_broadcastable": lambda L: L.zeros(2, 3).copy_(L.ones(2)),
    "copy_would_grow_self": lambda L: L.zeros(3).copy_(L.ones(2, 3)),
    "clamp_tensor_bound_grows_self": lambda L: L.zeros(3).clamp_(min=L.zeros(2, 3)),
    "lerp_weight_grows_self": lambda L: L.zeros(3).lerp_(L.ones(3), L.ones(2, 3)),
    "addcmul_grows_self": lambda L: L.zeros(3).addcmul_(L.ones(2, 3), L.ones(3)),
    "masked_fill_mask_grows_self": lambda L: L.zeros(3).masked_fill_(L.ones(2, 3, dtype=L.bool), 1.0),
    # dtype rule: the result type must be castable to self's dtype
    "int_mul_float_scalar": lambda L: I(L).mul_(2.5),
    "int_add_float_tensor": lambda L: I(L).add_(L.tensor([1.0, 2.0, 3.0])),
    "int_div_true": lambda L: I(L).div_(2),
    "int_itruediv": lambda L: _idiv(L.tensor([[1], [2]]), L),
    "int_sqrt_": lambda L: I(L).sqrt_(),
    "int_exp_": lambda L: I(L).exp_(),
    "int_sigmoid_": lambda L: I(L).sigmoid_(),
    "int_tanh_": lambda L: I(L).tanh_(),
    "int_pow_float_exponent": lambda L: I(L).pow_(0.5),
    "int_clamp_float_bound": lambda L: I(L).clamp_(min=0.5),
    "int_lerp_": lambda L: I(L).lerp_(I(L), 0.5),
    "int_addcdiv_": lambda L: I(L).addcdiv_(I(L), I(L)),
    "bool_add_int": lambda L: L.tensor([True, False]).add_(1),
    "bool_neg_": lambda L: L.tensor([True, False]).neg_(),
    "bool_relu_": lambda L: L.tensor([True, False]).relu_(),
    "float_iand": lambda L: _iand(L.tensor([1.0, 2.0, 3.0]), L),
    "float_ilshift": lambda L: _ilshift(L.tensor([1.0, 2.0]), L),
    "int_add_alpha_float": lambda L: I(L).add_(1, alpha=0.5),
    "imatmul_shape_mismatch": lambda L: _imatmul(L.ones(2, 3), L),
    # bad arguments
    "div_bad_rounding_mode": lambda L: F(L).div_(2, rounding_mode="round"),
    "fill_with_1d_tensor": lambda L: F(L).fill_(L.tensor([1.0, 2.0])),
    "masked_fill_1d_value": lambda L: F(L).masked_fill_(L.tensor([True, False, True]), L.tensor([1.0])),
    "masked_fill_float_mask": lambda L: F(L).masked_fill_(L.tensor([1.0, 0.0, 1.0]), 0.0),
    "index_add_dim_out_of_range": lambda L: L.zeros(3).index_add_(1, L.tensor([0]), L.ones(1)),
    "index_add_float_index": lambda L: L.zeros(3).index_add_(0, L.tensor([0.0]), L.ones(1)),
    "index_add_source_dtype": lambda L: L.zeros(3).index_add_(0, L.tensor([0]), L.ones(1, dtype=L.float64)),
    "index_copy_index_out_of_range": lambda L: L.zeros(3).index_copy_(0, L.tensor([3]), L.ones(1)),
    "index_fill_2d_index": lambda L: L.zeros(3).index_fill_(0, L.tensor([[0]]), 1.0),
    "index_add_2d_index": lambda L: L.zeros(3).index_add_(0, L.tensor([[0]]), L.ones(1, 1)),
    "index_copy_2d_index": lambda L: L.zeros(3).index_copy_(0, L.tensor([[0]]), L.ones(1, 1)),
    "add_partial_overlap": lambda L: (lambda t: t[1:].add_(t[:-1]))(L.tensor([1.0, 2.0, 3.0, 4.0])),
    "mul_by_own_transpose": lambda L: (lambda t: t.mul_(t.t()))(L.tensor([[1.0, 2.0], [3.0, 4.0]])),
    "copy_into_expanded": lambda L: L.zeros(1, 3).expand(2, 3).copy_(L.ones(2, 3)),
    "clamp_no_bounds": lambda L: F(L).clamp_(),
    "copy_overlapping_self": lambda L: (lambda t: t[1:].copy_(t[:-1]))(L.tensor([1.0, 2.0, 3.0, 4.0])),
    "scatter_0d_tensor_src": lambda L: L.zeros(2, 3).scatter_(-1, L.tensor([[2], [0]]), L.tensor(1.5)),
    "scatter_index_out_of_range": lambda L: L.zeros(3).scatter_(0, L.tensor([3]), L.ones(1)),
    "scatter_index_dims_mismatch": lambda L: L.zeros(3, 3).scatter_(0, L.tensor([0, 1]), L.ones(2)),
    "scatter_src_dtype": lambda L: L.zeros(3).scatter_(0, L.tensor([0]), L.ones(1, dtype=L.float64)),
    "scatter_reduce_bad_reduce": lambda L: L.zeros(3).scatter_reduce_(0, L.tensor([0]), L.ones(1), "add"),
    "scatter_bad_reduce": lambda L: L.zeros(3).scatter_(0, L.tensor([0]), L.ones(1), reduce="mean"),
    "put_index_out_of_range": lambda L: L.zeros(2, 2).put_(L.tensor([4]), L.ones(1)),
    "put_source_numel_mismatch": lambda L: L.zeros(4).put_(L.tensor([0, 1]), L.ones(3)),
    "index_put_values_not_broadcastable": lambda L: L.zeros(4).index_put_((L.tensor([0, 1]),), L.ones(3)),
    "index_put_index_out_of_range": lambda L: L.zeros(4).index_put_((L.tensor([4]),), L.ones(1)),
    "masked_scatter_source_too_small": lambda L: L.zeros(3).masked_scatter_(L.tensor([True, True, True]), L.ones(2)),
    "masked_scatter_float_mask": lambda L: L.zeros(3).masked_scatter_(L.tensor([1.0, 0.0, 1.0]), L.ones(3)),
    "expanded_tensor_add_": lambda L: L.zeros(1, 3).expand(2, 3).add_(1),
    # autograd rules
    "leaf_requires_grad_add_": lambda L: _leaf(L).add_(1),
    "leaf_requires_grad_iadd": lambda L: _isub(_leaf(L), L),
    "leaf_requires_grad_zero_": lambda L: _leaf(L).zero_(),
    "leaf_requires_grad_copy_": lambda L: _leaf(L).copy_(L.zeros(3)),
    "leaf_requires_grad_setitem": lambda L: _leaf(L).__setitem__(0, 5.0),
    "view_of_leaf_mul_": lambda L: _leaf(L)[1:].mul_(2),
    "view_of_leaf_fill_": lambda L: _leaf(L).view(3, 1).fill_(0.0),
    "leaf_requires_grad_relu_functional": lambda L: L.nn.functional.relu(_leaf(L), inplace=True),
}


def _saved_then_modified(forward, modify):
    def run(L):
        x = L.tensor([0.5, -1.0, 2.0], dtype=L.float64, requires_grad=True)
        h = x * 1.0
        y = forward(h, L)
        modify(h, y, L)
        y.sum().backward()
    return run


def _mul_in_no_grad(h, y, L):
    with L.no_grad():
        h.mul_(2)


def _view_made_in_no_grad(L):
    y = L.tensor([1.0, 2.0], requires_grad=True) * 2
    with L.no_grad():
        v = y[:1]
    v.mul_(2)


def _multi_output_view(method):
    def run(L):
        y = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 2
        parts = y.unbind(0) if method == "unbind" else getattr(y, method)(1)
        parts[0].mul_(2)
    return run


def _detach_shares_version(L):
    x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * x
    x.detach().zero_()
    y.sum().backward()


RAISES_CASES.update({
    "saved_output_exp_modified": _saved_then_modified(lambda h, L: h.exp(), lambda h, y, L: y.add_(1)),
    "saved_output_sigmoid_modified": _saved_then_modified(lambda h, L: h.sigmoid(), lambda h, y, L: y.mul_(2)),
    "saved_output_tanh_inplace_then_inplace": _saved_then_modified(lambda h, L: h.tanh_(), lambda h, y, L: y.add_(1)),
    "saved_input_pow_modified": _saved_then_modified(lambda h, L: h.pow(2), lambda h, y, L: h.add_(1)),
    "saved_input_mul_modified": _saved_then_modified(lambda h, L: h * h, lambda h, y, L: h.zero_()),
    "saved_input_setitem": _saved_then_modified(lambda h, L: h.sin(), lambda h, y, L: h.__setitem__(0, 1.0)),
    "saved_base_modified_through_view": _saved_then_modified(lambda h, L: h.cos(), lambda h, y, L: h[1:].mul_(3)),
    "saved_view_modified_through_base": _saved_then_modified(lambda h, L: h[:2].sin(), lambda h, y, L: h.add_(1)),
    "self_mul_self_inplace": _saved_then_modified(lambda h, L: h.mul_(h), lambda h, y, L: None),
    "sigmoid_inplace_then_mul_inplace": _saved_then_modified(lambda h, L: h.sigmoid_().mul_(4), lambda h, y, L: None),
    "relu_inplace_then_add_inplace": _saved_then_modified(lambda h, L: h.relu_().add_(1), lambda h, y, L: None),
    "exp_inplace_on_view_then_base_modified": _saved_then_modified(lambda h, L: (h[1:].exp_(), h)[1],
                                                                   lambda h, y, L: h[0].neg_()),
    "saved_input_sqrt_inplace_then_exp": _saved_then_modified(lambda h, L: h.abs().sqrt_(), lambda h, y, L: y.exp_()),
    "saved_input_modified_in_no_grad": _saved_then_modified(lambda h, L: h * h, _mul_in_no_grad),
    "view_made_in_no_grad_modified": _view_made_in_no_grad,
    "unbind_output_modified": _multi_output_view("unbind"),
    "split_output_modified": _multi_output_view("split"),
    "chunk_output_modified": _multi_output_view("chunk"),
    "detach_shares_version_counter": _detach_shares_version,
})


@pytest.mark.parametrize("run", cases(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)


# --- in-place ops that PyTorch allows, with their autograd state -------------------------------

def _no_grad_leaf_update(L):
    w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w * w).sum().backward()
    with L.no_grad():
        returned = w.sub_(0.1 * w.grad)
        w[0] = 10.0
        w.grad.zero_()
    return [returned is w, w, w.requires_grad, w.is_leaf, w.grad_fn is None, w.grad, w._version]


def _data_update(L):
    w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * w
    w.data.mul_(2)
    y.sum().backward()
    return [w, w.grad, w._version, w.requires_grad, w.is_leaf]


def _set_grad_enabled_false_leaf(L):
    w = L.tensor([1.0, 2.0], requires_grad=True)
    with L.set_grad_enabled(False):
        w.add_(1)
    return [w, w.is_leaf, w.grad_fn is None]


def _nonleaf_no_grad_update(L):
    x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
    y = x * 3
    with L.no_grad():
        y.add_(100)
    (y * y).sum().backward()
    return [y, y.requires_grad, y.is_leaf, x.grad]


def _plain_tensor_absorbs_grad(L):
    x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
    a = L.zeros(2, dtype=L.float64)
    before = [a.requires_grad, a.is_leaf]
    a.add_(x * x)
    after = [a.requires_grad, a.is_leaf, a.grad_fn is not None]
    a.mul_(3).sum().backward()
    return [before, after, x.grad]


def _setitem_grad_source(L):
    x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
    a = L.zeros(3, dtype=L.float64)
    a[1:] = x * 2
    (a * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
    return [a.requires_grad, a.is_leaf, x.grad]


def _leaf_without_grad_then_requires(L):
    w = L.tensor([1.0, 2.0])
    w.add_(1)
    w.requires_grad_()
    return [w, w._version, w.is_leaf, w.requires_grad]


def _detached_inplace_visible(L):
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.detach()
    d.mul_(2)
    return [x, d, x._version, d._version, d.requires_grad]


def _no_grad_view_of_leaf(L):
    w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with L.no_grad():
        w[1:].mul_(2)
        v = w.view(3)
        v += 1
    return [w, w.is_leaf, w._version, w.grad_fn is None, w.requires_grad]


AUTOGRAD_STATE_CASES = {
    "no_grad_view_of_leaf_update": _no_grad_view_of_leaf,
    "no_grad_leaf_update": _no_grad_leaf_update,
    "data_update_keeps_version": _data_update,
    "set_grad_enabled_false_leaf": _set_grad_enabled_false_leaf,
    "nonleaf_modified_in_no_grad": _nonleaf_no_grad_update,
    "plain_tensor_absorbs_grad": _plain_tensor_absorbs_grad,
    "setitem_grad_source": _setitem_grad_source,
    "leaf_without_grad_then_requires": _leaf_without_grad_then_requires,
    "detached_inplace_visible_in_original": _detached_inplace_visible,
}


@pytest.mark.parametrize("run", cases(AUTOGRAD_STATE_CASES))
def test_same_autograd_state(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


# --- the _version counter -----------------------------------------------------------------------

def versions(*steps):
    """``_version`` of a fresh tensor and after each step (``step(t, L)``) in turn."""
    def run(L):
        t = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        seen = [t._version]
        for step in steps:
            step(t, L)
            seen.append(t._version)
        return seen
    return run


def _out_version(L):
    o = L.empty(3)
    seen = [o._version]
    L.add(L.ones(3), 1, out=o)
    seen.append(o._version)
    L.mul(L.ones(3), L.ones(3), out=o)
    seen.append(o._version)
    return seen


def _view_shares_version(L):
    t = L.zeros(2, 3)
    v = t[0]
    w = t.view(6)
    v.add_(1)
    seen = [t._version, v._version, w._version]
    t.mul_(2)
    seen += [t._version, v._version, w._version]
    fresh = t.clone()
    seen.append(fresh._version)
    return seen


def _version_grad_mode_independent(L):
    x = L.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = [y._version]
    y.add_(1)
    with L.no_grad():
        y.add_(1)
        x.add_(1)
    seen += [y._version, x._version]
    return seen


def _failed_write_keeps_version(L):
    t = L.tensor([1, 2])
    for bad in (lambda: t.mul_(2.5), lambda: t.add_(L.ones(2, 2, dtype=L.long)), lambda: t.sqrt_()):
        try:
            bad()
        except RuntimeError:
            pass
    return [t._version, t]


VERSION_CASES = {
    "failed_write_keeps_version": _failed_write_keeps_version,
    "arithmetic_each_plus_one": versions(
        lambda t, L: t.add_(1), lambda t, L: t.mul_(2), lambda t, L: t.sub_(1, alpha=2), lambda t, L: t.div_(3),
        lambda t, L: t.clamp_(0, 5), lambda t, L: t.pow_(1), lambda t, L: t.exp_(), lambda t, L: t.sigmoid_(),
        lambda t, L: t.neg_(), lambda t, L: t.abs_(),
    ),
    "writers_each_plus_one": versions(
        lambda t, L: t.copy_(L.ones(3)), lambda t, L: t.fill_(2.0), lambda t, L: t.zero_(),
        lambda t, L: t.masked_fill_(L.tensor([True, False, True]), 1.0), lambda t, L: t.index_add_(0, L.tensor([1]), L.ones(1, 3)),
        lambda t, L: t.index_fill_(1, L.tensor([0]), 3.0), lambda t, L: t.scatter_(1, L.tensor([[0], [1]]), 4.0),
        lambda t, L: t.scatter_reduce_(1, L.tensor([[0], [1]]), L.ones(2, 1), "amax"),
        lambda t, L: t.put_(L.tensor([0]), L.ones(1)), lambda t, L: t.masked_scatter_(L.tensor([True, False, False]), L.ones(2, 3)),
        lambda t, L: t.lerp_(L.zeros(2, 3), 0.5), lambda t, L: t.addcmul_(L.ones(3), L.ones(3)),
    ),
    "setitem_and_operators": versions(
        lambda t, L: t.__setitem__(0, 1.0), lambda t, L: t.__setitem__((slice(None), 1), L.tensor([5.0, 6.0])),
        lambda t, L: t.__iadd__(1), lambda t, L: t.__imul__(2), lambda t, L: t.__itruediv__(2),
    ),
    "index_put_counts_once": versions(
        lambda t, L: t.index_put_((L.tensor([0, 0]),), L.ones(3), accumulate=True),
        lambda t, L: t.index_put_((L.tensor([1]), L.tensor([2])), L.tensor(0.0)),
    ),
    "out_of_place_and_metadata_leave_version": versions(
        lambda t, L: t.add(1), lambda t, L: t.view(6), lambda t, L: t.t(), lambda t, L: t.requires_grad_(),
        lambda t, L: t.detach(), lambda t, L: t.clone(),
    ),
    "out_argument": _out_version,
    "views_share_version": _view_shares_version,
    "version_in_no_grad": _version_grad_mode_independent,
}


@pytest.mark.parametrize("run", cases(VERSION_CASES))
def test_same_versions(run):
    same_in_both(run)


# --- gradients through in-place chains (float64) ---------------------------------------------

D = [[0.3, -1.2, 2.0, 0.7], [1.5, 0.1, -0.4, 2.2]]


def grad_of(function, data=D):
    """The gradient of ``sum(w * function(x))`` with distinct weights ``w``, so misrouting shows."""
    def run(L):
        x = L.tensor(data, dtype=L.float64, requires_grad=True)
        y = function(x, L)
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        return [x.grad, y]
    return run


def _view_then_base(x, L):
    y = x.clone()
    v = y[0]
    v.mul_(3)
    y.add_(1)
    return y


def _base_then_stale_view(x, L):
    y = x * 1.0
    v = y[:, 1:3]
    y.mul_(2)
    return L.cat([v.flatten(), y.flatten()])


def _view_of_view(x, L):
    y = x * 1.0
    y[1][1:].sin_()
    y.t()[0].neg_()
    return y


def _both_view_and_base_used(x, L):
    y = x * 1.0
    v = y.view(8)
    v[::2].sin_()
    y.mul_(x)
    return L.cat([v, y.flatten()])


def _augmented_chain(x, L):
    y = x * 1.0
    y += x
    y *= x
    y -= 1.0
    y /= 2.0
    y **= 2
    return y


def _index_add_source(x, L):
    base = x[0].clone()
    return base.index_add_(0, L.tensor([3, 3, 0, 1]), x[1] * 2, alpha=0.5)


def _index_copy_source(x, L):
    base = x.clone()
    return base.index_copy_(-1, L.tensor([1, 3]), x[:, :2].exp())


def _scatter_both(x, L):
    base = x[0] * 1.0
    return base.scatter_(0, L.tensor([2, 0]), x[1, :2])


def _scatter_add_both(x, L):
    base = x[0] * 1.0
    return base.scatter_add_(0, L.tensor([2, 0, 2, 2]), x[1] * x[1])


def _scatter_reduce(reduce, include_self):
    def function(x, L):
        base = x[0] * 1.0
        return base.scatter_reduce_(0, L.tensor([0, 0, 2, 2]), x[1], reduce, include_self=include_self)
    return function


def _put_both(x, L):
    base = x[0] * 1.0
    return base.put_(L.tensor([1, 1, 3]), x[1, :3], accumulate=True)


def _index_put_both(x, L):
    base = x * 1.0
    return base.index_put_((L.tensor([0, 1, 0]), L.tensor([2, 2, 2])), x[1, 1:], accumulate=True)


def _index_put_overwrite(x, L):
    base = x * 1.0
    return base.index_put_((L.tensor([1, 0]),), x[0:1].tanh())


def _masked_scatter_both(x, L):
    base = x[0] * 1.0
    return base.masked_scatter_(L.tensor([True, False, True, False]), x[1])


def _copy_from_other(x, L):
    base = x[0] * 2
    base[1:3].copy_(x[1, :2])
    return base


def _fill_masked_fill(x, L):
    y = x * 2
    y[0].fill_(3.0)
    y.masked_fill_(L.tensor([False, True, False, True]), L.tensor(0.5))
    y[1].index_fill_(0, L.tensor([2]), -1.0)
    return y


GRAD_FUNCTIONS = {
    "arith_chain": lambda x, L: (x * 1.0).mul_(2).add_(x, alpha=3).sub_(x * x, alpha=0.5).div_(x[0] + 3),
    "unary_chain_input_saving": lambda x, L: (x * 1.0).sin_().mul_(4).cos_().add_(x).abs_().neg_(),
    "output_saving_last": lambda x, L: L.cat([(x * 1.0).mul_(4).sigmoid_(), (x * 1.0).add_(1).tanh_(), (x * 0.5).exp_(),
                                               (x * x).add_(1).sqrt_(), (x * 2).relu_()]),
    "clamp_number": lambda x, L: (x * 1.0).clamp_(-0.5, 1.0),
    "clamp_tensor_bounds": lambda x, L: (x * 1.0).clamp_(min=x[0] * 0.5, max=x[1]),
    "pow_div_floor_free": lambda x, L: (x * 1.0).pow_(2).pow_(x.abs() * 0.5),
    "lerp_scalar_tensor_weight": lambda x, L: (x * 1.0).lerp_(x.flip(0), 0.3).lerp_(x * x, x.sigmoid()),
    "addcmul_addcdiv": lambda x, L: (x * 1.0).addcmul_(x, x.flip(1), value=0.5).addcdiv_(x, x * x + 1, value=-2),
    "augmented_chain": _augmented_chain,
    "view_then_base": _view_then_base,
    "base_then_stale_view": _base_then_stale_view,
    "view_of_view": _view_of_view,
    "view_and_base_both_used": _both_view_and_base_used,
    "copy_from_other": _copy_from_other,
    "fill_masked_fill_index_fill": _fill_masked_fill,
    "zero_then_add": lambda x, L: (x * 1.0).zero_().add_(x * x),
    "setitem_value_grad": lambda x, L: (lambda y: (y.__setitem__((0, slice(1, 3)), x[1, :2] * 5), y)[1])(x * 1.0),
    "index_add_source": _index_add_source,
    "index_copy_source": _index_copy_source,
    "scatter_src_and_self": _scatter_both,
    "scatter_add_src_and_self": _scatter_add_both,
    "put_accumulate": _put_both,
    "index_put_accumulate_repeated": _index_put_both,
    "index_put_overwrite": _index_put_overwrite,
    "masked_scatter": _masked_scatter_both,
    "tensor_plus_view_ops_inplace_functional": lambda x, L: L.nn.functional.relu((x * 1.0), inplace=True) * x,
}
for _reduce in ("sum", "prod", "mean", "amax", "amin"):
    for _include in (True, False):
        GRAD_FUNCTIONS[f"scatter_reduce_{_reduce}_{'incl' if _include else 'excl'}"] = _scatter_reduce(_reduce, _include)

GRAD_CASES = {name: grad_of(function) for name, function in GRAD_FUNCTIONS.items()}
GRAD_CASES["scatter_reduce_amax_ties"] = grad_of(_scatter_reduce("amax", True), [[1.0, 0.0, 2.0, 5.0], [1.0, -3.0, 2.0, 2.0]])
GRAD_CASES["scatter_reduce_prod_zero"] = grad_of(_scatter_reduce("prod", True), [[0.0, 1.0, 2.0, 5.0], [3.0, 0.0, 0.0, 4.0]])


@pytest.mark.parametrize("run", cases(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


# --- out= resizing and its warning -------------------------------------------------------------

def caught(run):
    """``run(L)``'s result with the category names of the warnings it gave."""
    def wrapped(L):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            result = run(L)
        return [sorted({each.category.__name__ for each in seen}), result]
    return wrapped


def _out(shape, dtype=None, fn=None):
    def run(L):
        o = L.empty(shape) if dtype is None else L.zeros(shape, dtype=getattr(L, dtype))
        returned = (fn or (lambda L, o: L.add(L.ones(2, 3), L.tensor([1.0, 2.0, 3.0]), out=o)))(L, o)
        return [returned is o, o]
    return run


def _under_no_grad(L, run):
    with L.no_grad():
        return run()


OUT_CASES = {
    "right_shape_no_warning": _out((2, 3)),
    "empty_resized_silently": _out((0,)),
    "wrong_shape_resized_with_warning": _out((3,)),
    "bigger_resized_with_warning": _out((4, 4)),
    "0d_resized_with_warning": _out(()),
    "float64_out_holds_float32_result": _out((2, 3), "float64"),
    "mul_out_resize": _out((5,), fn=lambda L, o: L.mul(L.ones(2), 3.0, out=o)),
    "exp_out_right": _out((2,), fn=lambda L, o: L.exp(L.tensor([0.0, 1.0]), out=o)),
    "exp_out_wrong": _out((1, 1), fn=lambda L, o: L.exp(L.tensor([0.0, 1.0]), out=o)),
    "clamp_out": _out((2,), fn=lambda L, o: L.clamp(L.tensor([-1.0, 5.0]), 0, 1, out=o)),
    "sum_out_wrong_shape": _out((2,), fn=lambda L, o: L.sum(L.ones(2, 3), 1, keepdim=True, out=o)),
    "matmul_out_resize": _out((1,), fn=lambda L, o: L.matmul(L.ones(2, 3), L.ones(3, 2), out=o)),
    "cat_out_right": _out((4,), fn=lambda L, o: L.cat([L.ones(2), L.zeros(2)], out=o)),
    "out_requires_grad_under_no_grad": _out(
        (2,), fn=lambda L, o: _under_no_grad(L, lambda: L.exp(L.ones(2, requires_grad=True), out=o))),
    "where_out_resize": _out((1,), fn=lambda L, o: L.where(L.tensor([True, False]), L.ones(2), L.zeros(2), out=o)),
}


@pytest.mark.parametrize("run", cases(OUT_CASES))
def test_out_resize_warning(run):
    same_in_both(caught(run))


OUT_RAISES_CASES = {
    "out_int_for_float_result": lambda L: L.add(L.ones(2), 1.5, out=L.empty(2, dtype=L.long)),
    "out_requires_grad": lambda L: L.add(L.ones(2), L.ones(2, requires_grad=True), out=L.empty(2, requires_grad=True)),
    "out_bool_for_int_result": lambda L: L.mul(L.tensor([1, 2]), 2, out=L.empty(2, dtype=L.bool)),
    "out_leaf_requires_grad_exp": lambda L: L.exp(L.ones(2), out=L.zeros(2, requires_grad=True)),
    "out_plain_input_requires_grad_exp": lambda L: L.exp(L.ones(2, requires_grad=True), out=L.zeros(2)),
}


@pytest.mark.parametrize("run", cases(OUT_RAISES_CASES))
def test_out_raises_as_torch(run):
    raises_as_torch(run)


def test_every_bug_names_a_case():
    tables = (VALUE_CASES, RAISES_CASES, AUTOGRAD_STATE_CASES, VERSION_CASES, GRAD_CASES, OUT_CASES, OUT_RAISES_CASES)
    assert set(BUGS) <= {name for table in tables for name in table}
