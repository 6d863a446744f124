"""A deeper sweep of the tensor factories against PyTorch (the oracle), beyond
``test_api_sweep_indexing_creation.py`` and ``tests/test_factory_parity.py``:

- ``tensor`` / ``as_tensor`` / ``asarray`` / ``from_numpy`` / ``frombuffer``: nested lists of mixed
  Python types (bool+int, int+float), NumPy scalars (their dtype kept), 0-d tensors inside lists
  (and a 1-element 1-d one), dtype inference, ``dtype=`` conversions that overflow (an error for
  integer dtypes, inf for floating ones, -1 wrapping into uint8), ``requires_grad=``; memory
  sharing with NumPy for each dtype, ``asarray(copy=None/True/False)``, non-native byte order and
  negative strides (errors), unsigned 16/32/64-bit arrays, the warnings for read-only arrays and
  lists of arrays.
- ``arange`` (length of float ranges, negative steps, dtype from the arguments, ``out=``, a size
  too big), ``range`` (deprecated: warning, end included), ``linspace`` / ``logspace`` (integer
  dtypes, ``base``, ``out=``, 0-d tensor bounds), ``full`` (fill value type inference, NumPy and
  0-d tensor fills, out-of-range fills), ``zeros`` / ``ones`` / ``empty`` size forms, Python types
  as dtypes, ``out=``, ``requires_grad=``; the ``*_like`` factories (dtype, ``requires_grad``,
  ``memory_format``, strides), the ``new_*`` methods (dtype inheritance, size forms, the
  ``new_tensor(tensor)`` warning), ``eye`` (``out=``), ``empty_strided``.
- ``tril_indices`` / ``triu_indices`` (offsets past the edges, dtypes), seeded ``randint`` /
  ``randn`` / ``rand`` / ``randperm`` with a ``Generator`` (the same numbers as PyTorch's stream),
  ``polar`` / ``complex``, ``heaviside``, ``vander``,
  ``cartesian_prod``, ``combinations`` (``with_replacement``, ``r=0``), ``meshgrid`` ('xy'/'ij').
- The error types PyTorch raises for bad input, and float64 gradients of the differentiable ones.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, flags or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import bug, bundle, raises_as_torch, same_in_both


def dtype_name(value):
    """A tensor's (or a dtype's) name without the library prefix: ``float32``."""
    return str(getattr(value, "dtype", value)).split(".")[-1]


def flags(t):
    """What a factory's result says about autograd: (requires_grad, is_leaf, has a grad_fn)."""
    return t.requires_grad, t.is_leaf, t.grad_fn is not None


def warned(run, L):
    """The warning categories ``run(L)`` gives, with once-per-process warnings given every time
    (a warning given under ``set_warn_always(True)`` does not count as the once, in either library)."""
    previous = L.is_warn_always_enabled()
    L.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(L)
    finally:
        L.set_warn_always(previous)
    return sorted({each.category.__name__ for each in caught})


def with_bugs(cases, bugs):
    """``cases`` as pytest params, those named in ``bugs`` marked as found differences."""
    assert set(bugs) <= set(cases), set(bugs) - set(cases)
    return [pytest.param(run, id=name, marks=[bug(bugs[name])] if name in bugs else []) for name, run in cases.items()]


def shares(L, make, array):
    """Whether ``make(L, array)`` shares memory with ``array``: (a write to the array shows in the
    tensor, a write to the tensor shows in the array)."""
    t = make(L, array)
    first, second = np.unravel_index(0, array.shape), np.unravel_index(1, array.shape)
    array[first] = 7
    t[tuple(int(i) for i in second)] = 5
    return bool(t[tuple(int(i) for i in first)] == 7), bool(array[second] == 5)


# --- values, dtypes and shapes ------------------------------------------------------------------

VALUE_CASES = {
    # tensor(): nested mixed Python types and NumPy scalars
    "tensor_nested_mixed_types": bundle(
        lambda L: L.tensor([[True, 2], [3, False]]),
        lambda L: L.tensor([[1, 2.5], [True, 0]]),
        lambda L: L.tensor([(1, 2), [3, 4]]),
        lambda L: L.tensor([[[True]], [[False]]]),
        lambda L: L.tensor([[], [], []]),
        lambda L: L.tensor([[1, 2], [3, 4]], dtype=L.float16),
    ),
    "tensor_numpy_scalars_keep_dtype": bundle(
        lambda L: L.tensor([np.int8(1), np.int8(2)]),
        lambda L: L.tensor([np.float16(1.5), 2]),
        lambda L: L.tensor(np.float32(2.5)),
        lambda L: L.tensor(np.float64(2.5)),
        lambda L: L.tensor(np.int16(-3)),
        lambda L: L.tensor(np.bool_(True)),
    ),
    "tensor_0d_tensors_in_lists": bundle(
        lambda L: L.tensor([[L.tensor(1), 2], [3, L.tensor(4.5)]]),
        lambda L: L.tensor([L.tensor([1.0]), 2.0]),
        lambda L: L.tensor([[1], [L.tensor([2])]]),
        lambda L: L.tensor([L.tensor(True), L.tensor(False)]),
        lambda L: L.tensor([L.tensor(1, dtype=L.int16), L.tensor(2, dtype=L.int16)]),
    ),
    "tensor_dtype_conversions": bundle(
        lambda L: L.tensor([1e40]),
        lambda L: L.tensor([1e40], dtype=L.float32),
        lambda L: L.tensor([70000.0], dtype=L.float16),
        lambda L: L.tensor([-1, 255], dtype=L.uint8),
        lambda L: L.tensor([-128, 127], dtype=L.int8),
        lambda L: L.tensor([0.0, 2.5, -0.0], dtype=L.bool),
        lambda L: L.tensor([True, 2], dtype=L.float64),
        lambda L: L.tensor(3.9, dtype=L.int32),
        lambda L: L.tensor([2**63 - 1, -(2**63)]),
        lambda L: L.tensor(np.array([1e40]), dtype=L.float32),
        lambda L: L.tensor(np.array([2.7, -2.7]), dtype=L.int64),
    ),
    "tensor_requires_grad": bundle(
        lambda L: flags(L.tensor([1.0, 2.0], requires_grad=True)),
        lambda L: flags(L.tensor(3.0, dtype=L.float64, requires_grad=True)),
        lambda L: flags(L.tensor([L.tensor(1.0, requires_grad=True)])),
        lambda L: flags(L.tensor(L.tensor([1.0], requires_grad=True))),
        lambda L: flags(L.tensor(L.tensor([1.0]), requires_grad=True)),
    ),
    # as_tensor / asarray
    "as_tensor_forms": bundle(
        lambda L: L.as_tensor(2),
        lambda L: L.as_tensor(2.5),
        lambda L: L.as_tensor(True),
        lambda L: L.as_tensor(np.float32(2.5)),
        lambda L: L.as_tensor([[1, 2], [3, 4]], dtype=L.int8),
        lambda L: L.as_tensor(np.array([1, 2], dtype=np.int32), dtype=L.float64),
        lambda L: L.as_tensor(np.array(5, dtype=np.int16)),
        lambda L: L.as_tensor((1.5, 2)),
    ),
    "as_tensor_of_tensor_identity": bundle(
        lambda L: (lambda t: L.as_tensor(t) is t)(L.ones(2)),
        lambda L: (lambda t: L.as_tensor(t, dtype=L.float64) is t)(L.ones(2)),
        lambda L: (lambda t: L.as_tensor(t, dtype=L.float64))(L.ones(2, dtype=L.int32)),
        lambda L: (lambda t: flags(L.as_tensor(t, dtype=L.float64)))(L.ones(2, requires_grad=True)),
    ),
    "asarray_forms": bundle(
        lambda L: L.asarray([1, 2.5]),
        lambda L: L.asarray(np.float32(2.5)),
        lambda L: L.asarray(3),
        lambda L: L.asarray([[True, False]]),
        lambda L: L.asarray(np.array([1, 2], dtype=np.int16), dtype=L.int64),
        lambda L: L.asarray([1, 2], dtype=L.float64),
        lambda L: (lambda t: L.asarray(t) is t)(L.ones(2)),
        lambda L: (lambda t: L.asarray(t, copy=True) is t)(L.ones(2)),
        lambda L: (lambda t: L.asarray(t, dtype=L.float64))(L.arange(3)),
    ),
    "asarray_requires_grad": bundle(
        lambda L: flags(L.asarray([1.0, 2.0], requires_grad=True)),
        lambda L: flags(L.asarray(np.array([1.0]), requires_grad=True)),
    ),
    "asarray_tensor_requires_grad": lambda L: flags(L.asarray(L.ones(2), requires_grad=True)),
    "from_numpy_forms": bundle(
        lambda L: L.from_numpy(np.array(3.5)),
        lambda L: L.from_numpy(np.zeros((2, 0, 3), dtype=np.int64)),
        lambda L: L.from_numpy(np.arange(6.0).reshape(2, 3)[:, ::2]),
        lambda L: L.from_numpy(np.arange(6.0).reshape(2, 3).T),
        lambda L: L.from_numpy(np.array([1, 2], dtype=np.int16)),
        lambda L: flags(L.from_numpy(np.array([1.0]))),
    ),
    "from_numpy_strides_kept": bundle(
        lambda L: L.from_numpy(np.zeros((2, 3), dtype=np.float32).T).stride(),
        lambda L: L.from_numpy(np.zeros((4, 3), dtype=np.int64)[::2]).stride(),
    ),
    # arange
    "arange_float_length_rule": bundle(
        lambda L: L.arange(0, 1, 0.3),
        lambda L: L.arange(0, 1, 0.25),
        lambda L: L.arange(0.0, 1.0 + 1e-9, 0.25),
        lambda L: L.arange(1, 0, -0.25),
        lambda L: L.arange(-1.0, -2.0, -0.3),
        lambda L: L.arange(0, 5, 10),
        lambda L: L.arange(0, 5, 2.0),
        lambda L: L.arange(2.5, 2.5),
        lambda L: L.arange(0, -5, -2),
    ),
    "arange_dtype_inference": bundle(
        lambda L: L.arange(np.float32(1.5)),
        lambda L: L.arange(L.tensor(1.5), 4),
        lambda L: L.arange(1, L.tensor(4.0)),
        lambda L: L.arange(start=0, end=1, step=0.25),
        lambda L: L.arange(1, 4, dtype=L.float16),
        lambda L: L.arange(3, dtype=L.uint8),
        lambda L: L.arange(-3, 3, 2, dtype=L.int16),
    ),
    "arange_out": bundle(
        lambda L: (lambda o: (L.arange(3, out=o), o)[1])(L.empty(3, dtype=L.float64)),
        lambda L: (lambda o: (L.arange(0, 1, 0.5, out=o), o)[1])(L.empty(0)),
        lambda L: (lambda o: L.arange(4, out=o) is o)(L.empty(4, dtype=L.int64)),
    ),
    "arange_requires_grad": lambda L: flags(L.arange(3.0, requires_grad=True)),
    # range (deprecated): end included, default float dtype
    "range_values": bundle(
        lambda L: L.range(1, 4),
        lambda L: L.range(0, 1, 0.3),
        lambda L: L.range(0, 1, 0.25),
        lambda L: L.range(5, 1, -2),
        lambda L: L.range(1, 4, dtype=L.int64),
        lambda L: L.range(1, 1),
        lambda L: L.range(0.5, 2),
    ),
    # linspace / logspace
    "linspace_integer_dtypes": bundle(
        lambda L: L.linspace(0.5, 3.7, 4, dtype=L.int64),
        lambda L: L.linspace(-1.5, 1.5, 4, dtype=L.int32),
        lambda L: L.linspace(0, 255, 4, dtype=L.uint8),
        lambda L: L.linspace(0, 1, 3, dtype=L.float16),
        lambda L: L.linspace(10, 0, 1, dtype=L.int64),
    ),
    "linspace_tensor_bounds_and_out": bundle(
        lambda L: L.linspace(L.tensor(0), L.tensor(3), 4),
        lambda L: L.linspace(L.tensor(0.0, dtype=L.float64), L.tensor(1.0, dtype=L.float64), 3),
        lambda L: L.linspace(L.tensor(1), 2.5, 4, dtype=L.float64),
        lambda L: (lambda o: (L.linspace(0, 1, 5, out=o), o)[1])(L.empty(5, dtype=L.float64)),
        lambda L: flags(L.linspace(0, 1, 3, requires_grad=True)),
        lambda L: flags(L.linspace(L.tensor(0.0, requires_grad=True), 1, 3)),
    ),
    "logspace_base_dtype": bundle(
        lambda L: L.logspace(0, 3, 4, dtype=L.int64),
        lambda L: L.logspace(0, 3, 4, base=0.5),
        lambda L: L.logspace(0, 3, 4, base=-2),
        lambda L: L.logspace(0, 3, 4, 2),
        lambda L: L.logspace(-2, 2, 5, base=3, dtype=L.float64),
        lambda L: L.logspace(L.tensor(0), L.tensor(2), 3),
        lambda L: L.logspace(0, 1, 0, dtype=L.int64),
        lambda L: (lambda o: (L.logspace(0, 2, 3, out=o), o)[1])(L.empty(3)),
    ),
    # full
    "full_fill_type_inference": bundle(
        lambda L: L.full((2,), False),
        lambda L: L.full((2,), 2**40),
        lambda L: L.full((2,), -0.0),
        lambda L: L.full(L.Size([2, 1]), 1),
        lambda L: L.full([], 2.5),
        lambda L: L.full((0, 2), 1),
    ),
    "full_fill_tensor_0d": lambda L: L.full((2,), L.tensor(3.5)),
    "full_fill_dtype_conversion": bundle(
        lambda L: L.full((2,), -1, dtype=L.uint8),
        lambda L: L.full((2,), 1.5, dtype=L.int64),
        lambda L: L.full((2,), -1.9, dtype=L.int32),
        lambda L: L.full((2,), True, dtype=L.float32),
        lambda L: L.full((2,), 2.5, dtype=L.bool),
        lambda L: L.full((2,), float("inf")),
        lambda L: L.full((2,), float("nan"), dtype=L.float16),
    ),
    "full_out_and_grad": bundle(
        lambda L: (lambda o: (L.full((2, 2), 3, out=o), o)[1])(L.empty(0)),
        lambda L: (lambda o: (L.full((2,), 3, out=o), o)[1])(L.empty(2, dtype=L.int32)),
        lambda L: flags(L.full((2,), 1.0, requires_grad=True)),
    ),
    # zeros / ones / empty
    "zeros_ones_size_forms": bundle(
        lambda L: L.zeros(L.Size([])),
        lambda L: L.zeros([]),
        lambda L: L.ones(L.tensor(2), 3),
        lambda L: L.ones(np.int64(2), np.int32(1)),
        lambda L: L.zeros(size=[2]),
        lambda L: L.ones(L.Size([2, 0])),
        lambda L: L.ones([L.tensor(1), L.tensor(2)]),
    ),
    "zeros_ones_python_type_dtypes": bundle(
        lambda L: L.zeros(2, dtype=float),
        lambda L: L.zeros(2, dtype=int),
        lambda L: L.ones(2, dtype=bool),
        lambda L: L.ones((2,), dtype=L.bool),
        lambda L: L.empty(2, dtype=int).dtype == L.int64,
    ),
    "zeros_ones_out": bundle(
        lambda L: (lambda o: (L.zeros(2, 3, out=o), o)[1])(L.empty(0)),
        lambda L: (lambda o: L.ones(2, out=o) is o)(L.empty(2)),
    ),
    "zeros_ones_empty_requires_grad": bundle(
        lambda L: flags(L.zeros(2, requires_grad=True)),
        lambda L: flags(L.ones(2, 2, dtype=L.float64, requires_grad=True)),
        lambda L: L.empty(2, requires_grad=True).requires_grad,
    ),
    # *_like
    "like_dtype_and_grad": bundle(
        lambda L: L.zeros_like(L.tensor([1, 2]), dtype=L.float32),
        lambda L: L.ones_like(L.tensor(3.5)),
        lambda L: L.full_like(L.zeros(2), 3, dtype=L.int64),
        lambda L: L.full_like(L.zeros(2, dtype=L.bool), 2),
        lambda L: L.full_like(L.zeros(2, dtype=L.int8), -3.7),
        lambda L: L.empty_like(L.zeros(2, 3, dtype=L.float64)).shape,
        lambda L: flags(L.ones_like(L.zeros(2), requires_grad=True)),
        lambda L: flags(L.zeros_like(L.zeros(2, requires_grad=True))),
        lambda L: flags(L.full_like(L.zeros(2, requires_grad=True) * 2, 1.0)),
    ),
    "like_strides": bundle(
        lambda L: L.ones_like(L.zeros(2, 3).t()).stride(),
        lambda L: L.zeros_like(L.zeros(2, 3).t(), memory_format=L.contiguous_format).stride(),
        lambda L: L.empty_like(L.zeros(1, 2, 3, 4), memory_format=L.channels_last).stride(),
        lambda L: L.full_like(L.zeros(2, 3)[:, ::2], 1.0).stride(),
        lambda L: L.zeros_like(L.zeros(2, 3).t(), memory_format=L.preserve_format).stride(),
    ),
    # new_*
    "new_methods_dtype_inheritance": bundle(
        lambda L: L.zeros(2).new_tensor([1, 2]),
        lambda L: L.zeros(2, dtype=L.int64).new_tensor([1.7, -1.7]),
        lambda L: L.zeros(2, dtype=L.bool).new_tensor([0, 2]),
        lambda L: L.zeros(2).new_tensor([1.0], dtype=L.float64),
        lambda L: L.zeros(2, dtype=L.int32).new_tensor(np.array([1.5, 2.5])),
        lambda L: L.zeros(2, dtype=L.float16).new_tensor(3),
    ),
    "new_methods_size_forms": bundle(
        lambda L: L.zeros(2, dtype=L.int8).new_zeros((2, 3)),
        lambda L: L.zeros(2, dtype=L.int8).new_zeros([2]),
        lambda L: L.zeros(2).new_zeros(()),
        lambda L: L.zeros(2).new_ones(2, dtype=L.int32),
        lambda L: L.zeros(2).new_full([2], True),
        lambda L: L.zeros(2, dtype=L.bool).new_full((2,), 0),
        lambda L: L.zeros(2, dtype=L.float64).new_empty(2, 3).shape,
        lambda L: L.zeros(2).new_ones(L.Size([1, 2])),
    ),
    "new_methods_requires_grad": bundle(
        lambda L: flags(L.zeros(2).new_zeros(2, requires_grad=True)),
        lambda L: flags(L.zeros(2, requires_grad=True).new_ones(2)),
        lambda L: flags(L.zeros(2).new_tensor([1.0], requires_grad=True)),
        lambda L: flags(L.zeros(2).new_tensor(L.ones(2, requires_grad=True))),
    ),
    # eye
    "eye_forms": bundle(
        lambda L: L.eye(3, dtype=L.bool),
        lambda L: L.eye(n=2),
        lambda L: L.eye(1),
        lambda L: L.eye(0, 3),
        lambda L: L.eye(2, 0),
        lambda L: flags(L.eye(2, requires_grad=True)),
    ),
    "eye_out": bundle(
        lambda L: (lambda o: (L.eye(3, out=o), o)[1])(L.empty(0)),
        lambda L: (lambda o: L.eye(2, out=o) is o)(L.empty(2, 2)),
    ),
    # tril_indices / triu_indices
    "tril_triu_indices_edges": bundle(
        lambda L: L.tril_indices(0, 3),
        lambda L: L.triu_indices(3, 0),
        lambda L: L.tril_indices(3, 3, offset=5),
        lambda L: L.tril_indices(3, 3, offset=-5),
        lambda L: L.triu_indices(3, 3, offset=-5),
        lambda L: L.triu_indices(2, 3, 10),
        lambda L: L.tril_indices(1, 1),
        lambda L: L.tril_indices(3, 2, dtype=L.int32),
        lambda L: L.triu_indices(row=2, col=4, offset=1),
    ),
    # seeded random numbers: PyTorch's stream
    "random_seeded_generator": bundle(
        lambda L: L.randint(0, 10, (5,), generator=L.Generator().manual_seed(5)),
        lambda L: L.randint(-5, 5, (2, 3), generator=L.Generator().manual_seed(1)),
        lambda L: L.randint(10, (4,), dtype=L.int32, generator=L.Generator().manual_seed(2)),
        lambda L: L.randint(3, 10, (3,), dtype=L.float32, generator=L.Generator().manual_seed(3)),
        lambda L: L.rand(3, generator=L.Generator().manual_seed(4)),
        lambda L: L.randn(4, dtype=L.float64, generator=L.Generator().manual_seed(6)),
        lambda L: L.randn((), generator=L.Generator().manual_seed(7)),
        lambda L: L.randperm(6, generator=L.Generator().manual_seed(8)),
    ),
    "random_seeded_global": bundle(
        lambda L: (L.manual_seed(11), L.randn(2, 2))[1],
        lambda L: (L.manual_seed(12), L.randint(0, 100, (4,)))[1],
        lambda L: (L.manual_seed(13), L.rand(3), L.randn(3))[1:],
    ),
    "random_shapes_dtypes": bundle(
        lambda L: L.randn(0).shape,
        lambda L: dtype_name(L.randn(2, 0, dtype=L.float64)),
        lambda L: flags(L.randn(2, requires_grad=True)),
        lambda L: dtype_name(L.randint_like(L.zeros(2, dtype=L.int32), 5)),
        lambda L: L.randint_like(L.zeros(2, 3), 1, 5).shape,
        lambda L: dtype_name(L.randint(5, (2,), dtype=L.int16)),
    ),
    # heaviside
    "heaviside": bundle(
        lambda L: L.heaviside(L.tensor([-1.5, 0.0, 2.0]), L.tensor([0.5])),
        lambda L: L.heaviside(L.tensor([-1.0, 0.0, -0.0, 2.0]), L.tensor([0.1, 0.2, 0.3, 0.4])),
        lambda L: L.heaviside(L.tensor([1, 0, -2]), L.tensor([5])),
        lambda L: L.heaviside(L.tensor([True, False]), L.tensor([False])),
        lambda L: L.heaviside(L.tensor([[0.0], [1.0]]), L.tensor([2.0, 3.0])),
        lambda L: L.heaviside(L.tensor(0.0), L.tensor(7.0)),
        lambda L: L.tensor([0.0, -3.0]).heaviside(L.tensor(1.0)),
        lambda L: L.heaviside(L.tensor([float("nan"), float("inf"), -float("inf")]), L.tensor([0.5])),
        lambda L: (lambda o: (L.heaviside(L.tensor([0.0, 1.0]), L.tensor([0.5]), out=o), o)[1])(L.empty(2)),
        lambda L: (lambda t: (t.heaviside_(L.tensor([9.0])), t)[1])(L.tensor([0.0, -1.0])),
    ),
    # vander
    "vander": bundle(
        lambda L: L.vander(L.tensor([1.0, 2.0, 3.0])),
        lambda L: L.vander(L.tensor([1, 2, 3]), N=2),
        lambda L: L.vander(L.tensor([1, 2, 3]), 4, True),
        lambda L: L.vander(L.tensor([2.0, -1.0]), N=0),
        lambda L: L.vander(L.tensor([True, False])),
        lambda L: L.vander(L.tensor([], dtype=L.float64)),
        lambda L: L.vander(L.tensor([1, 2], dtype=L.int32)),
        lambda L: L.linalg.vander(L.tensor([1.0, 2.0, 3.0])),
        lambda L: L.linalg.vander(L.tensor([[1, 2], [3, 4]]), N=3),
    ),
    # cartesian_prod / combinations / meshgrid
    "cartesian_prod_more": bundle(
        lambda L: L.cartesian_prod(L.tensor([1.0, 2.0]), L.tensor([], dtype=L.float32)),
        lambda L: L.cartesian_prod(L.tensor([True, False]), L.tensor([True])),
        lambda L: L.cartesian_prod(L.tensor([1.5]), L.tensor([2.5])),
        lambda L: L.cartesian_prod(*[L.tensor([1, 2])] * 3)[:, 2],
    ),
    "combinations_more": bundle(
        lambda L: L.combinations(L.tensor([1, 2, 3]), r=3, with_replacement=True),
        lambda L: L.combinations(L.tensor([1, 2]), r=0, with_replacement=True),
        lambda L: L.combinations(L.tensor([], dtype=L.int64)),
        lambda L: L.combinations(L.tensor([1.0, 2.0, 3.0]), 1),
        lambda L: L.combinations(L.tensor([True, False, True])),
        lambda L: L.combinations(L.tensor([5]), r=2, with_replacement=True),
        lambda L: L.combinations(L.tensor([1, 2, 3]), 3),
    ),
    "meshgrid_more": bundle(
        lambda L: list(L.meshgrid(L.tensor([1, 2, 3]), indexing="xy")),
        lambda L: list(L.meshgrid(L.tensor([1, 2]), L.tensor([], dtype=L.int64), indexing="xy")),
        lambda L: list(L.meshgrid((L.tensor([1.0]), L.tensor([2.0, 3.0])), indexing="ij")),
        lambda L: list(L.meshgrid(L.tensor(1.0), L.tensor(2.0), indexing="xy")),
        lambda L: [t.stride() for t in L.meshgrid(L.arange(2), L.arange(3), indexing="ij")],
        lambda L: type(L.meshgrid(L.arange(2), L.arange(3), indexing="ij")).__name__,
    ),
}


@pytest.mark.parametrize("run", list(VALUE_CASES.values()), ids=list(VALUE_CASES))
def test_same_values(run):
    same_in_both(run)


BUG_VALUE_CASES = [
    pytest.param(lambda L: L.from_numpy(np.zeros((2, 3), dtype=np.float32).T).is_contiguous(),
                 id="from_numpy_transposed_is_contiguous"),
    pytest.param(lambda L: L.arange(0, 4, 1.5, dtype=L.int32), id="arange_int_dtype_float_step_length"),
    pytest.param(lambda L: L.full((2,), np.float64(1.5)), id="full_numpy_float64_fill"),
    pytest.param(lambda L: L.full((2,), np.int32(3)), id="full_numpy_int32_fill"),
    pytest.param(lambda L: (lambda o: (L.zeros(2, out=o), o)[1])(L.empty(2, dtype=L.int64)), id="zeros_out_int64"),
    pytest.param(lambda L: (lambda o: (L.ones((3,), out=o), o)[1])(L.empty(3, dtype=L.bool)), id="ones_out_bool"),
    pytest.param(lambda L: (lambda o: (L.eye(2, 3, out=o), o)[1])(L.empty(2, 3, dtype=L.int64)), id="eye_out_int64"),
    pytest.param(lambda L: L.zeros(2).new_zeros(size=(2,)), id="new_zeros_size_keyword"),
]


@pytest.mark.parametrize("run", BUG_VALUE_CASES)
def test_same_values_bugs(run):
    same_in_both(run)


# --- sharing memory with NumPy ------------------------------------------------------------------

SHARING_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_]
SHARING_MAKERS = {
    "as_tensor": lambda L, a: L.as_tensor(a),
    "as_tensor_same_dtype": lambda L, a: L.as_tensor(a, dtype=L.from_numpy(a[:0]).dtype),
    "asarray": lambda L, a: L.asarray(a),
    "asarray_copy_none": lambda L, a: L.asarray(a, copy=None),
    "asarray_copy_true": lambda L, a: L.asarray(a, copy=True),
    "asarray_copy_false": lambda L, a: L.asarray(a, copy=False),
    "from_numpy": lambda L, a: L.from_numpy(a),
    "tensor": lambda L, a: L.tensor(a),
}


@pytest.mark.parametrize("dtype", SHARING_DTYPES, ids=lambda d: np.dtype(d).name)
def test_numpy_sharing_per_dtype(dtype):
    for name, make in SHARING_MAKERS.items():
        expected = shares(torch, make, np.zeros(3, dtype=dtype))
        actual = shares(chainrule, make, np.zeros(3, dtype=dtype))
        assert actual == expected, (name, actual, expected)


SHARING_CASES = {
    "as_tensor_other_dtype_copies": lambda L, a: L.as_tensor(a, dtype=L.float16),
    "asarray_other_dtype_copies": lambda L, a: L.asarray(a, dtype=L.float64),
    "from_numpy_transposed": lambda L, a: L.from_numpy(a.T),
    "as_tensor_slice": lambda L, a: L.as_tensor(a[::2]),
    "asarray_tensor_copy_true": lambda L, a: L.asarray(L.from_numpy(a), copy=True),
    "asarray_tensor_copy_false": lambda L, a: L.asarray(L.from_numpy(a), copy=False),
    "as_tensor_of_from_numpy": lambda L, a: L.as_tensor(L.from_numpy(a)),
}


@pytest.mark.parametrize("make", list(SHARING_CASES.values()), ids=list(SHARING_CASES))
def test_numpy_sharing_cases(make):
    assert shares(chainrule, make, np.zeros((2, 2), dtype=np.float32)) == shares(torch, make, np.zeros((2, 2), dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64], ids=lambda d: np.dtype(d).name)
def test_from_numpy_wide_unsigned(dtype):
    same_in_both(lambda L: [dtype_name(L.from_numpy(np.array([1, 2], dtype=dtype))), shares(L, lambda L, a: L.from_numpy(a),
                                                                                            np.zeros(2, dtype=dtype))])


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_wide_unsigned_dtype_names(name):
    same_in_both(lambda L: L.full((2,), 3, dtype=getattr(L, name)))


# --- warnings -----------------------------------------------------------------------------------

def _read_only(values):
    array = np.array(values)
    array.flags.writeable = False
    return array


WARNING_CASES = {
    "range_deprecated": lambda L: L.range(0, 2),
    "new_tensor_of_tensor": lambda L: L.zeros(2).new_tensor(L.ones(2)),
    "as_tensor_read_only": lambda L: L.as_tensor(_read_only([1.0, 2.0])),
    "asarray_read_only": lambda L: L.asarray(_read_only([1.0, 2.0])),
    "from_numpy_read_only": lambda L: L.from_numpy(_read_only([1.0, 2.0])),
    "tensor_list_of_arrays": lambda L: L.tensor([np.array([1.0]), np.array([2.0])]),
    "scalar_from_0d_requiring_grad": lambda L: L.tensor([L.tensor(1.0, requires_grad=True)]),
    "meshgrid_no_indexing": lambda L: L.meshgrid(L.arange(2), L.arange(3)),
}

QUIET_CASES = {
    "tensor_read_only": lambda L: L.tensor(_read_only([1.0, 2.0])),
    "as_tensor_list": lambda L: L.as_tensor([1.0, 2.0]),
    "asarray_tensor": lambda L: L.asarray(L.ones(2)),
    "new_tensor_list": lambda L: L.zeros(2).new_tensor([1.0]),
    "meshgrid_indexing": lambda L: L.meshgrid(L.arange(2), L.arange(3), indexing="xy"),
    "arange_float": lambda L: L.arange(0, 1, 0.1),
}


WARNING_BUGS = {}


@pytest.mark.parametrize("run", with_bugs(WARNING_CASES, WARNING_BUGS))
def test_warns_as_torch(run):
    expected = warned(run, torch)
    assert expected, "PyTorch does not warn here"
    assert warned(run, chainrule) == expected


@pytest.mark.parametrize("run", list(QUIET_CASES.values()), ids=list(QUIET_CASES))
def test_quiet_as_torch(run):
    assert warned(run, torch) == []
    assert warned(run, chainrule) == []


# --- bad input: PyTorch's exception type --------------------------------------------------------

RAISES_CASES = {
    # tensor / as_tensor / asarray / from_numpy
    "tensor_ragged_second_level": lambda L: L.tensor([[[1, 2], [3, 4]], [[5, 6], [7]]]),
    "tensor_number_then_list": lambda L: L.tensor([1, [2, 3]]),
    "tensor_numpy_bool_with_int": lambda L: L.tensor([np.bool_(True), 2]),
    "tensor_int_overflow_2_63": lambda L: L.tensor([2**63]),
    "tensor_int8_overflow": lambda L: L.tensor([128], dtype=L.int8),
    "tensor_uint8_negative_float": lambda L: L.tensor([1.9, -1.9], dtype=L.uint8),
    "tensor_int_nan": lambda L: L.tensor([float("nan")], dtype=L.int64),
    "tensor_int_requires_grad": lambda L: L.tensor([1, 2], requires_grad=True),
    "tensor_bool_requires_grad": lambda L: L.tensor([True], requires_grad=True),
    "tensor_string_dtype": lambda L: L.tensor([1.0], dtype="float32"),
    "tensor_none": lambda L: L.tensor(None),
    "tensor_big_endian": lambda L: L.tensor(np.array([1.0, 2.0], dtype=">f4")),
    "tensor_negative_strides": lambda L: L.tensor(np.arange(3.0)[::-1]),
    "from_numpy_big_endian": lambda L: L.from_numpy(np.array([1.0, 2.0], dtype=">f8")),
    "from_numpy_negative_strides": lambda L: L.from_numpy(np.arange(4.0)[::-2]),
    "from_numpy_object": lambda L: L.from_numpy(np.array([1, None], dtype=object)),
    "from_numpy_tensor": lambda L: L.from_numpy(L.ones(2)),
    "as_tensor_negative_strides": lambda L: L.as_tensor(np.arange(3.0)[::-1]),
    "as_tensor_ragged": lambda L: L.as_tensor([[1.0], [2.0, 3.0]]),
    "asarray_negative_strides": lambda L: L.asarray(np.arange(3.0)[::-1]),
    "asarray_copy_false_other_dtype": lambda L: L.asarray(np.arange(3.0), dtype=L.float32, copy=False),
    "asarray_copy_false_list": lambda L: L.asarray([1, 2], copy=False),
    "asarray_copy_false_tensor_other_dtype": lambda L: L.asarray(L.ones(2), dtype=L.float64, copy=False),
    "asarray_int_requires_grad": lambda L: L.asarray([1, 2], requires_grad=True),
    # arange / range / linspace / logspace
    "arange_huge_size": lambda L: L.arange(0, 2**60),
    "arange_float_step_zero": lambda L: L.arange(0.0, 1.0, 0.0),
    "arange_no_args": lambda L: L.arange(),
    "arange_int_dtype_requires_grad": lambda L: L.arange(3, dtype=L.int32, requires_grad=True),
    "arange_complex_arg": lambda L: L.arange(1 + 2j),
    "range_step_zero": lambda L: L.range(0, 5, 0),
    "range_wrong_sign": lambda L: L.range(0, 5, -1),
    "range_missing_end": lambda L: L.range(5),
    "range_bool_dtype": lambda L: L.range(0, 1, dtype=L.bool),
    "linspace_1d_end": lambda L: L.linspace(0, L.tensor([1.0, 2.0]), 3),
    "linspace_float_steps": lambda L: L.linspace(0, 1, 3.0),
    "logspace_bool_dtype": lambda L: L.logspace(0, 1, 3, dtype=L.bool),
    "logspace_1d_start": lambda L: L.logspace(L.tensor([0.0]), 1, 3),
    # full / zeros / ones / empty / *_like / new_*
    "full_uint8_overflow": lambda L: L.full((2,), 300, dtype=L.uint8),
    "full_int8_overflow": lambda L: L.full((2,), -129, dtype=L.int8),
    "full_float32_overflow": lambda L: L.full((2,), 1e40, dtype=L.float32),
    "full_int_inf": lambda L: L.full((2,), float("inf"), dtype=L.int32),
    "full_int_nan": lambda L: L.full((2,), float("nan"), dtype=L.int64),
    "full_string_fill": lambda L: L.full((2,), "a"),
    "full_none_fill": lambda L: L.full((2,), None),
    "full_1d_tensor_fill": lambda L: L.full((2,), L.tensor([1.0, 2.0])),
    "full_int_requires_grad": lambda L: L.full((2,), 1, requires_grad=True),
    "zeros_tuple_then_int": lambda L: L.zeros((2, 3), 4),
    "zeros_negative_second": lambda L: L.zeros(2, -3),
    "zeros_string_dtype": lambda L: L.zeros(2, dtype="float32"),
    "zeros_numpy_dtype": lambda L: L.zeros(2, dtype=np.float32),
    "ones_int_requires_grad": lambda L: L.ones(2, dtype=L.int64, requires_grad=True),
    "zeros_out_and_dtype_mismatch": lambda L: L.zeros(2, dtype=L.float64, out=L.empty(2)),
    "zeros_like_channels_last_1d": lambda L: L.zeros_like(L.zeros(2), memory_format=L.channels_last),
    "full_like_uint8_overflow": lambda L: L.full_like(L.zeros(2, dtype=L.uint8), 300),
    "ones_like_int_requires_grad": lambda L: L.ones_like(L.zeros(2, dtype=L.int64), requires_grad=True),
    "zeros_like_list": lambda L: L.zeros_like([1.0, 2.0]),
    "new_zeros_negative": lambda L: L.zeros(2).new_zeros(-1),
    "new_tensor_string": lambda L: L.zeros(2).new_tensor(["a"]),
    "new_full_no_fill": lambda L: L.zeros(2).new_full((2,)),
    "new_full_int_size": lambda L: L.zeros(2).new_full(2, 1.0),
    "new_ones_int_requires_grad": lambda L: L.zeros(2, dtype=L.int64).new_ones(2, requires_grad=True),
    # eye / tril_indices / triu_indices
    "eye_three_sizes": lambda L: L.eye(2, 3, 4),
    "eye_float_m": lambda L: L.eye(2, 3.0),
    "eye_out_dtype_mismatch": lambda L: L.eye(2, dtype=L.float64, out=L.empty(2, 2)),
    "tril_indices_float_dtype": lambda L: L.tril_indices(3, 3, dtype=L.float32),
    "triu_indices_missing_col": lambda L: L.triu_indices(3),
    "tril_indices_negative_row": lambda L: L.tril_indices(-1, 3),
    "triu_indices_negative_col": lambda L: L.triu_indices(3, -1),
    "tril_indices_float_offset": lambda L: L.tril_indices(3, 3, 1.0),
    # random
    "randn_generator_not_generator": lambda L: L.randn(2, generator=3),
    "randint_float_dtype_high_too_big_half": lambda L: L.randint(2**25, (2,), dtype=L.float16),
    # heaviside / vander / cartesian_prod / combinations / meshgrid
    "heaviside_python_values": lambda L: L.heaviside(L.tensor([-1.0, 0.0]), 0.5),
    "heaviside_dtype_mismatch": lambda L: L.heaviside(L.tensor([1.0, 0.0]), L.tensor([5.0], dtype=L.float64)),
    "heaviside_int_float_mismatch": lambda L: L.heaviside(L.tensor([1, 0]), L.tensor([0.5])),
    "heaviside_not_broadcastable": lambda L: L.heaviside(L.tensor([1.0, 0.0]), L.tensor([1.0, 2.0, 3.0])),
    "heaviside_inplace_broadcast_grow": lambda L: L.tensor([0.0]).heaviside_(L.tensor([1.0, 2.0])),
    "vander_0d": lambda L: L.vander(L.tensor(2.0)),
    "vander_2d": lambda L: L.vander(L.tensor([[1.0, 2.0]])),
    "vander_negative_n": lambda L: L.vander(L.tensor([1, 2]), N=-1),
    "linalg_vander_0d": lambda L: L.linalg.vander(L.tensor(2.0)),
    "cartesian_prod_0d": lambda L: L.cartesian_prod(L.tensor(1)),
    "cartesian_prod_2d": lambda L: L.cartesian_prod(L.zeros(2, 2), L.zeros(2)),
    "cartesian_prod_mixed_dtypes": lambda L: L.cartesian_prod(L.tensor([1]), L.tensor([1.0])),
    "cartesian_prod_no_args": lambda L: L.cartesian_prod(),
    "combinations_negative_r": lambda L: L.combinations(L.tensor([1, 2]), r=-1),
    "combinations_2d": lambda L: L.combinations(L.zeros(2, 2)),
    "combinations_0d": lambda L: L.combinations(L.tensor(1.0)),
    "meshgrid_no_args": lambda L: L.meshgrid(indexing="ij"),
    "meshgrid_empty_list": lambda L: L.meshgrid([], indexing="ij"),
    "meshgrid_not_tensor": lambda L: L.meshgrid([1, 2], indexing="ij"),
}


RAISES_BUGS = {}


@pytest.mark.parametrize("run", with_bugs(RAISES_CASES, RAISES_BUGS))
def test_raises_as_torch(run):
    raises_as_torch(run)


# --- names chainrule lacks ----------------------------------------------------------------------

MISSING_CASES = {
    "frombuffer": lambda L: L.frombuffer(bytearray(b"\x01\x02\x03\x04"), dtype=L.uint8),
    "empty_strided": lambda L: (lambda t: (tuple(t.shape), t.stride(), t.dtype == L.float32))(L.empty_strided((2, 3), (1, 2))),
    "new_empty_strided": lambda L: (lambda t: (tuple(t.shape), t.stride()))(L.zeros(1).new_empty_strided((2, 2), (1, 2))),
    "polar": lambda L: L.view_as_real(L.polar(L.tensor([1.0, 2.0]), L.tensor([0.0, 1.5]))),
    "complex": lambda L: L.view_as_real(L.complex(L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0]))),
    "tensor_of_python_complex": lambda L: L.view_as_real(L.tensor([1 + 2j, 3.0])),
}


@pytest.mark.parametrize("run", [
    pytest.param(MISSING_CASES["frombuffer"], id="frombuffer"),
    pytest.param(MISSING_CASES["empty_strided"], id="empty_strided"),
    pytest.param(MISSING_CASES["new_empty_strided"], id="new_empty_strided"),
    pytest.param(MISSING_CASES["polar"], id="polar"),
    pytest.param(MISSING_CASES["complex"], id="complex"),
    pytest.param(MISSING_CASES["tensor_of_python_complex"], id="tensor_of_python_complex"),
])
def test_missing_names(run):
    same_in_both(run)


# --- gradients (float64) ------------------------------------------------------------------------

def grad_of(function, *data):
    """The gradients of ``sum(w * function(*xs))`` with distinct weights ``w``, so misrouting shows."""
    def run(L):
        xs = [L.tensor(each, dtype=L.float64, requires_grad=True) for each in data]
        y = function(L, *xs)
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        return [x.grad for x in xs]
    return run


GRAD_CASES = {
    "linalg_vander": grad_of(lambda L, x: L.linalg.vander(x, N=3), [[0.5, -1.0], [2.0, 3.0]]),
    "cartesian_prod": grad_of(lambda L, a, b: L.cartesian_prod(a, b), [1.0, 2.0], [3.0, 4.0, 5.0]),
    "cartesian_prod_three": grad_of(lambda L, a, b, c: L.cartesian_prod(a, b, c), [1.0, 2.0], [3.0], [4.0, 5.0]),
    "combinations": grad_of(lambda L, x: L.combinations(x, 2), [1.0, 2.0, 3.0, 4.0]),
    "combinations_replacement": grad_of(lambda L, x: L.combinations(x, 3, with_replacement=True), [1.0, 2.0, 3.0]),
    "meshgrid_ij": grad_of(lambda L, a, b: L.stack(L.meshgrid(a, b, indexing="ij")), [1.0, 2.0], [3.0, 4.0, 5.0]),
    "meshgrid_xy": grad_of(lambda L, a, b: L.stack(L.meshgrid(a, b, indexing="xy")), [1.0, 2.0], [3.0, 4.0, 5.0]),
    "as_tensor_cast": grad_of(lambda L, x: L.as_tensor(x, dtype=L.float32) * 3, [1.0, 2.0]),
    "asarray_same": grad_of(lambda L, x: L.asarray(x) ** 2, [1.0, -2.0]),
    "stack_of_0d_tensors": grad_of(lambda L, a, b: L.stack([a, b * 2]), 1.5, -2.0),
    "full_like_and_x": grad_of(lambda L, x: x * L.full_like(x, 2.0) + L.zeros_like(x), [1.0, 2.0]),
}


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_heaviside_has_no_derivative():
    def run(L):
        x = L.tensor([-1.0, 0.0, 2.0], dtype=L.float64, requires_grad=True)
        L.heaviside(x, L.tensor([0.5], dtype=L.float64)).sum().backward()
        return x.grad

    raises_as_torch(run)


def test_new_tensor_and_tensor_leave_the_graph():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        made = [x.new_tensor(x), L.tensor(x), L.tensor([x[0], x[1]]), x.new_zeros(2), L.zeros_like(x)]
        return [flags(each) for each in made]

    same_in_both(run)
