"""A sweep of products and contractions against PyTorch (the oracle): ``einsum`` (explicit and implicit
output, ellipsis, diagonals and traces, the sublist format, broadcasting of size-1 dims, scalar operands,
dtype errors), ``tensordot`` (int, pair of lists, tensor dims), ``kron``, ``outer`` / ``ger``, ``inner``,
``dot`` / ``vdot``, ``cross`` / ``linalg.cross``, ``matmul`` of every rank combination and its errors,
``mm`` / ``bmm`` / ``mv``, ``addmm`` / ``addmv`` / ``addr`` / ``baddbmm`` / ``addbmm`` (``beta=0`` ignoring
nan in ``input``, ``alpha``), ``chain_matmul`` / ``linalg.multi_dot``, ``cdist``, ``cosine_similarity`` and
``pairwise_distance``; gradients in float64 and contractions over a size-0 dim.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes, shapes,
gradients or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional

import chainrule
import chainrule.nn.functional
from tests.parity.sweep import outcome, plain, raises_as_torch

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim arg:UserWarning"),
    pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated:UserWarning"),
]

def message_of(run):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run()
    except Exception as error:  # noqa: BLE001
        return type(error), str(error)
    return None, None


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
    expected = plain(run(torch))
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def same_outcome(run):
    """Whatever PyTorch does (returns or raises), chainrule does the same."""
    if outcome(lambda: run(torch))[0] == "raises":
        raises_as_torch(run)
    else:
        same_in_both(run)


def data(lib, *shape, dtype=None, seed=0, grad=False):
    """Deterministic values without ties (so max-norm gradients are defined)."""
    values = np.random.default_rng(seed).standard_normal(shape)
    tensor = lib.tensor(values, dtype=dtype or lib.float64)
    return tensor.requires_grad_(True) if grad else tensor


def with_grads(function, *shapes):
    """``run(lib)``: the output of ``function(lib, *inputs)`` and d(sum(out**2))/d(inputs), in float64."""

    def run(lib):
        inputs = [data(lib, *shape, seed=index, grad=True) for index, shape in enumerate(shapes)]
        out = function(lib, *inputs)
        grads = lib.autograd.grad((out * out).sum(), inputs, allow_unused=True)
        return [out] + [each if each is not None else "none" for each in grads]

    return run


def F(lib):
    return lib.nn.functional


# --- einsum -----------------------------------------------------------------------------------

_EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output: sorted free subscripts
    ("ba,ab", [(2, 3), (3, 2)]),  # implicit output of a trace-like contraction
    ("ji", [(2, 3)]),  # implicit output transposes
    ("BA", [(2, 3)]),  # capital letters sort before lowercase
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ii->", [(3, 3)]),
    ("iij->ji", [(3, 3, 2)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 4)]),  # ellipsis dims broadcast
    ("...ii->...i", [(2, 3, 3)]),
    ("ab...,b->a...", [(2, 3, 4), (3,)]),
    ("i...->...", [(2, 3, 4)]),
    ("...", [(2, 3)]),
    ("...->...", [()]),
    (",ij->ij", [(), (2, 3)]),  # 0-d operand
    ("ij,ij->ij", [(2, 3), (1, 3)]),  # size-1 dim broadcasts
    ("ij,ij->ij", [(2, 1), (2, 3)]),
    ("i j , j k -> i k", [(2, 3), (3, 4)]),  # spaces are ignored
    ("ijk,ikj->i", [(2, 3, 4), (2, 4, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ik,k", [(2, 0), (0,)]),  # contraction over size 0 gives zeros
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("i,i->", [(0,), (0,)]),
]


@pytest.mark.parametrize("equation, shapes", _EINSUM, ids=[f"{eq}|{len(s)}" for eq, s in _EINSUM])
def test_einsum_values_and_gradients(equation, shapes):
    same_in_both(with_grads(lambda lib, *xs: lib.einsum(equation, *xs), *shapes))


@pytest.mark.parametrize("equation, shapes", _EINSUM[::3])
def test_einsum_takes_operands_as_one_list(equation, shapes):
    same_in_both(with_grads(lambda lib, *xs: lib.einsum(equation, list(xs)), *shapes))


_SUBLISTS = {
    "matmul": (lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2]), [(2, 3), (3, 4)]),
    "explicit_out": (lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [2, 0]), [(2, 3), (3, 4)]),
    "ellipsis": (lambda lib, a, b: lib.einsum(a, [..., 0, 1], b, [..., 1, 2], [..., 0, 2]), [(5, 2, 3), (5, 3, 4)]),
    "trace": (lambda lib, a: lib.einsum(a, [0, 0]), [(3, 3)]),
    "big_ids": (lambda lib, a: lib.einsum(a, [30, 51], [51]), [(2, 3)]),
}


@pytest.mark.parametrize("name", sorted(_SUBLISTS))
def test_einsum_sublist_format(name):
    function, shapes = _SUBLISTS[name]
    same_in_both(with_grads(function, *shapes))


_BAD_EINSUM = [
    ("ij,jk->ik", [(2, 3), (4, 4)]),  # contracted sizes differ
    ("ij->k", [(2, 3)]),  # output subscript not in the inputs
    ("ij", [(2, 3, 4)]),  # too few subscripts
    ("i->ii", [(3,)]),  # output subscript repeated
    ("i->", [(2,), (2,)]),  # more operands than the equation names
    ("ij,jk", [(2, 3)]),  # fewer operands
    ("ij->i->j", [(2, 2)]),
    ("i1", [(2, 2)]),
    ("ii", [(2, 3)]),  # diagonal of a non-square operand
    ("...i,...i", [(2, 3), (3, 3)]),  # ellipsis dims do not broadcast
    ("i.j", [(3, 3)]),
    ("......", [(3,)]),
]


@pytest.mark.parametrize("equation, shapes", _BAD_EINSUM, ids=[f"{eq}|{len(s)}" for eq, s in _BAD_EINSUM])
def test_einsum_bad_equations_raise_as_torch(equation, shapes):
    raises_as_torch(lambda lib: lib.einsum(equation, *[data(lib, *shape) for shape in shapes]))


def test_einsum_mixed_float_dtypes_raise_as_torch():
    raises_as_torch(lambda lib: lib.einsum("ij,jk", data(lib, 2, 3), data(lib, 3, 4, dtype=lib.float32)))
    raises_as_torch(lambda lib: lib.einsum("ij,jk", lib.arange(6).reshape(2, 3), data(lib, 3, 4)))


def test_einsum_integer_contraction_and_float32_sum():
    same_in_both(lambda lib: lib.einsum("ij,jk", lib.arange(6).reshape(2, 3), lib.arange(12).reshape(3, 4)))
    same_in_both(lambda lib: lib.einsum("ij->", data(lib, 2, 3, dtype=lib.float32)))


@pytest.mark.parametrize("equation, dtype", [("i->", "int32"), ("ij->i", "int32"), ("ii", "int32"), ("ij->", "uint8")])
def test_einsum_integer_reduction_gives_int64(equation, dtype):
    def run(lib):
        return lib.einsum(equation, lib.arange(9, dtype=getattr(lib, dtype)).reshape(3, 3) if equation != "i->" else lib.arange(6, dtype=getattr(lib, dtype)))

    same_in_both(run)


def test_einsum_bool_sum_counts():
    same_in_both(lambda lib: lib.einsum("ij->", lib.ones(2, 3, dtype=lib.bool)))


def test_einsum_without_operands_raises_value_error():
    raises_as_torch(lambda lib: lib.einsum("i"))


def test_einsum_python_scalar_operand_raises_type_error():
    raises_as_torch(lambda lib: lib.einsum("ij,->ij", data(lib, 2, 3), 2.0))


def test_einsum_second_ellipsis_message_names_the_ellipsis():
    kind, message = message_of(lambda: chainrule.einsum("......", chainrule.ones(3)))
    assert kind is RuntimeError and "ellipsis was already found" in message, message


@pytest.mark.parametrize("equation, shapes", [
    ("ij,k->k", [(2, 3), (4,)]), ("ij,j->j", [(2, 3), (3,)]), ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk->k", [(2, 3), (3, 4)]),
    ("i,j->", [(2,), (3,)]), ("ij,ij->j", [(1, 3), (2, 3)]), ("ij,ij->j", [(1, 3), (1, 3)]), ("ii->i", [(3, 3)]),
    ("ij->ji", [(2, 3)]), ("i,i,i->", [(3,), (3,), (3,)]), ("i,j,k->", [(2,), (3,), (2,)]), ("i,i->", [(0,), (0,)]),
    ("ij->i", [(2, 0)]), ("ij,ij->ij", [(2, 3), (2, 3)]),
])
@pytest.mark.parametrize("dtypes", [("int32",), ("uint8",), ("bool",), ("int32", "int64"), ("bool", "int64"), ("float32", "float64")])
def test_einsum_dtype_follows_pytorchs_steps(equation, shapes, dtypes):
    def run(lib):
        kinds = [getattr(lib, dtypes[place % len(dtypes)]) for place in range(len(shapes))]
        return lib.einsum(equation, *[lib.ones(shape, dtype=kind) for shape, kind in zip(shapes, kinds)])

    same_outcome(run)


@pytest.mark.parametrize("case", ["tensordot", "tensordot_outer", "tensordot_empty", "tensordot_scalars", "inner", "inner_2d",
                                  "inner_0d", "vdot", "vdot_empty", "cross", "kron"])
def test_bool_products_as_torch(case):
    def run(lib):
        def mask(*shape):
            return lib.ones(shape, dtype=lib.bool)

        return {
            "tensordot": lambda: lib.tensordot(mask(3), mask(3), dims=1),
            "tensordot_outer": lambda: lib.tensordot(mask(3), mask(2), dims=0),
            "tensordot_empty": lambda: lib.tensordot(mask(2, 0), mask(0, 3), dims=1),
            "tensordot_scalars": lambda: lib.tensordot(lib.tensor(True), lib.tensor(True), dims=0),
            "inner": lambda: lib.inner(mask(3), mask(3)),
            "inner_2d": lambda: lib.inner(mask(2, 3), mask(3)),
            "inner_0d": lambda: lib.inner(lib.tensor(True), mask(3)),
            "vdot": lambda: lib.vdot(mask(3), mask(3)),
            "vdot_empty": lambda: lib.vdot(mask(0), mask(0)),
            "cross": lambda: lib.cross(mask(3), mask(3), dim=0),
            "kron": lambda: lib.kron(mask(2), mask(3)),
        }[case]()

    same_outcome(run)


def test_einsum_higher_order_gradient():
    def run(lib):
        a = data(lib, 3, 3, grad=True)
        (first,) = lib.autograd.grad(lib.einsum("ij,jk->", a, a * a), a, create_graph=True)
        return lib.autograd.grad(first.pow(2).sum(), a)[0]

    same_in_both(run)


# --- tensordot ----------------------------------------------------------------------------------

_TENSORDOT = [
    (2, (2, 3, 4), (3, 4, 5)),
    (1, (2, 3, 4), (4, 5)),
    (0, (2, 3), (3, 2)),
    (([1], [0]), (2, 3, 4), (3, 4, 5)),
    (([1, 2], [0, 1]), (2, 3, 4), (3, 4, 5)),
    ([[2, 1], [1, 0]], (2, 3, 4), (3, 4, 5)),
    (([], []), (2, 3), (4,)),
    (([-1], [0]), (2, 3, 4), (4, 5)),
    (1, (2, 0), (0, 3)),  # size-0 contraction gives zeros
]


@pytest.mark.parametrize("dims, shape_a, shape_b", _TENSORDOT, ids=[str(d) for d, _, _ in _TENSORDOT])
def test_tensordot_values_and_gradients(dims, shape_a, shape_b):
    same_in_both(with_grads(lambda lib, a, b: lib.tensordot(a, b, dims=dims), shape_a, shape_b))


def test_tensordot_default_dims_positional_dims_and_tensor_dims():
    same_in_both(with_grads(lambda lib, a, b: lib.tensordot(a, b), (2, 3, 4), (3, 4, 5)))
    same_in_both(with_grads(lambda lib, a, b: lib.tensordot(a, b, 1), (2, 3, 4), (4, 5)))
    same_in_both(with_grads(lambda lib, a, b: lib.tensordot(a, b, dims=lib.tensor(1)), (2, 3, 4), (4, 5)))
    same_in_both(with_grads(lambda lib, a, b: lib.tensordot(a, b, dims=lib.tensor([[2], [0]])), (2, 3, 4), (4, 5)))
    same_in_both(lambda lib: lib.tensordot(lib.tensor(2.0), lib.tensor(3.0), dims=0))


@pytest.mark.parametrize("dims", [([0, -2], [0, 1]), ([1], 0), [1, 0], ([1.0], [0]), "a", None, True, ([2], [0])])
def test_tensordot_dims_forms_as_torch(dims):
    same_outcome(lambda lib: lib.tensordot(data(lib, 3, 3), data(lib, 3, 3, seed=1), dims=dims))


def test_tensordot_contracts_a_size_one_against_any_size_in_its_dtype():
    same_in_both(with_grads(lambda lib, a, b: lib.tensordot(a, b, dims=1), (2, 3), (1, 5)))
    same_in_both(lambda lib: lib.tensordot(lib.ones(2, 3, dtype=lib.int32), lib.ones(1, 5, dtype=lib.int32), dims=1))


@pytest.mark.parametrize("case", ["size_mismatch", "negative", "too_many", "lists_differ", "dtype"])
def test_tensordot_bad_input_raises_as_torch(case):
    a_shape, b_shape, dims, b_dtype = {
        "size_mismatch": ((2, 3), (4, 5), 1, None),
        "negative": ((2, 3), (3, 5), -1, None),
        "too_many": ((2, 3), (3, 5), 3, None),
        "lists_differ": ((2, 3), (3, 5), ([1], [0, 1]), None),
        "dtype": ((2, 3), (3, 5), 1, "float32"),
    }[case]
    raises_as_torch(lambda lib: lib.tensordot(
        data(lib, *a_shape), data(lib, *b_shape, dtype=getattr(lib, b_dtype) if b_dtype else None), dims=dims))


def test_tensordot_float_dims_raises_runtime_error():
    raises_as_torch(lambda lib: lib.tensordot(data(lib, 2, 3), data(lib, 3, 5), dims=1.0))


def test_tensordot_tuple_of_ints_raises_type_error():
    raises_as_torch(lambda lib: lib.tensordot(data(lib, 2, 3), data(lib, 3, 4), dims=(1, 0)))


def test_tensordot_repeated_dim_raises():
    raises_as_torch(lambda lib: lib.tensordot(data(lib, 3, 3), data(lib, 3, 3), dims=([0, 0], [0, 1])))


# --- out= keyword ---------------------------------------------------------------------------------

_OUT_CASES = {
    "mm": lambda lib, out: lib.mm(data(lib, 2, 3), data(lib, 3, 2, seed=1), out=out(2, 2)),
    "bmm": lambda lib, out: lib.bmm(data(lib, 2, 2, 3), data(lib, 2, 3, 2, seed=1), out=out(2, 2, 2)),
    "mv": lambda lib, out: lib.mv(data(lib, 2, 3), data(lib, 3, seed=1), out=out(2)),
    "matmul": lambda lib, out: lib.matmul(data(lib, 2, 3), data(lib, 3, 2, seed=1), out=out(2, 2)),
    "dot": lambda lib, out: lib.dot(data(lib, 3), data(lib, 3, seed=1), out=out()),
    "outer": lambda lib, out: lib.outer(data(lib, 3), data(lib, 2, seed=1), out=out(3, 2)),
    "addmm": lambda lib, out: lib.addmm(data(lib, 2, 2), data(lib, 2, 3), data(lib, 3, 2, seed=1), out=out(2, 2)),
    "multi_dot": lambda lib, out: lib.linalg.multi_dot([data(lib, 2, 3), data(lib, 3, 2, seed=1)], out=out(2, 2)),
    "chain_matmul": lambda lib, out: lib.chain_matmul(data(lib, 2, 3), data(lib, 3, 2, seed=1), out=out(2, 2)),
    "tensordot": lambda lib, out: lib.tensordot(data(lib, 2, 3), data(lib, 3, 4, seed=1), dims=1, out=out(2, 4)),
    "kron": lambda lib, out: lib.kron(data(lib, 2), data(lib, 3, seed=1), out=out(6)),
    "inner": lambda lib, out: lib.inner(data(lib, 3), data(lib, 3, seed=1), out=out()),
    "cross": lambda lib, out: lib.cross(data(lib, 3), data(lib, 3, seed=1), dim=0, out=out(3)),
}


@pytest.mark.parametrize("name", sorted(_OUT_CASES))
def test_out_keyword_writes_the_result(name):
    def run(lib):
        target = {}

        def out(*shape):
            target["out"] = lib.empty(shape, dtype=lib.float64)
            return target["out"]

        result = _OUT_CASES[name](lib, out)
        return [result, target["out"]]

    same_in_both(run)


# --- kron, outer/ger, inner, dot/vdot -----------------------------------------------------------

_KRON = [((2,), (3,)), ((2, 3), (2, 2)), ((2,), (2, 3)), ((2, 2, 2), (3,)), ((), (3,)), ((), ()), ((0, 2), (2, 3))]


@pytest.mark.parametrize("shape_a, shape_b", _KRON, ids=[f"{a}x{b}" for a, b in _KRON])
def test_kron_values_and_gradients(shape_a, shape_b):
    same_in_both(with_grads(lambda lib, a, b: lib.kron(a, b), shape_a, shape_b))


def test_kron_outer_promote_integer_with_float():
    same_in_both(lambda lib: lib.kron(lib.arange(3), lib.ones(2)))
    same_in_both(lambda lib: lib.outer(lib.arange(3), data(lib, 2, dtype=lib.float32)))
    same_in_both(lambda lib: lib.outer(lib.ones(2, dtype=lib.bool), lib.ones(2, dtype=lib.bool)))


@pytest.mark.parametrize("name", ["outer", "ger", "Tensor.outer", "Tensor.ger"])
def test_outer_and_ger(name):
    def call(lib, a, b):
        return getattr(a, name[7:])(b) if name.startswith("Tensor.") else getattr(lib, name)(a, vec2=b)

    same_in_both(with_grads(call, (3,), (4,)))


def test_outer_of_non_vectors_raises_as_torch():
    raises_as_torch(lambda lib: lib.outer(data(lib, 2, 2), data(lib, 3)))
    raises_as_torch(lambda lib: lib.outer(lib.tensor(2.0), data(lib, 3)))


_INNER = [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((2, 3, 4), (5, 4)), ((), (2, 3)), ((2, 3), ()), ((0,), (0,))]


@pytest.mark.parametrize("shape_a, shape_b", _INNER, ids=[f"{a}x{b}" for a, b in _INNER])
def test_inner_values_and_gradients(shape_a, shape_b):
    same_in_both(with_grads(lambda lib, a, b: lib.inner(a, b), shape_a, shape_b))


def test_inner_bad_and_promoting_input():
    raises_as_torch(lambda lib: lib.inner(data(lib, 2, 3), data(lib, 2)))
    raises_as_torch(lambda lib: lib.inner(data(lib, 3), data(lib, 3, dtype=lib.float32)))
    same_outcome(lambda lib: lib.inner(lib.arange(3, dtype=lib.int32), lib.arange(3)))
    same_outcome(lambda lib: lib.inner(lib.arange(3), data(lib, 3, dtype=lib.float32)))


@pytest.mark.parametrize("name", ["dot", "vdot"])
def test_dot_and_vdot(name):
    same_in_both(with_grads(lambda lib, a, b: getattr(lib, name)(a, b), (3,), (3,)))
    same_in_both(with_grads(lambda lib, a, b: getattr(a, name)(b), (0,), (0,)))  # empty: 0.0
    same_in_both(lambda lib: getattr(lib, name)(lib.arange(3), lib.arange(3)))
    same_in_both(lambda lib: getattr(lib, name)(lib.arange(3, dtype=lib.int32), lib.arange(3, dtype=lib.int32)))
    same_in_both(lambda lib: lib.dot(data(lib, 3), tensor=data(lib, 3, seed=1)) if name == "dot" else lib.vdot(data(lib, 3), other=data(lib, 3, seed=1)))


@pytest.mark.parametrize("name", ["dot", "vdot"])
@pytest.mark.parametrize("case", ["2d", "0d", "length", "dtype", "int_float"])
def test_dot_and_vdot_bad_input_raise_as_torch(name, case):
    a, b = {
        "2d": (lambda lib: data(lib, 2, 3), lambda lib: data(lib, 2, 3)),
        "0d": (lambda lib: lib.tensor(1.0), lambda lib: lib.tensor(1.0)),
        "length": (lambda lib: data(lib, 3), lambda lib: data(lib, 4)),
        "dtype": (lambda lib: data(lib, 3), lambda lib: data(lib, 3, dtype=lib.float32)),
        "int_float": (lambda lib: lib.arange(3), lambda lib: data(lib, 3)),
    }[case]
    raises_as_torch(lambda lib: getattr(lib, name)(a(lib), b(lib)))


# --- cross ----------------------------------------------------------------------------------------

_CROSS = [
    ("default", (3, 3), (3, 3), {}),
    ("default_first_size3_dim", (3, 4), (3, 4), {}),  # dim=None picks the first size-3 dim
    ("default_4x3", (4, 3), (4, 3), {}),
    ("default_1d", (3,), (3,), {}),
    ("dim1", (3, 3), (3, 3), {"dim": 1}),
    ("dim-1_broadcast", (2, 1, 3), (1, 4, 3), {"dim": -1}),
    ("linalg", (3, 3), (3, 3), "linalg"),
    ("linalg_broadcast", (2, 1, 3), (1, 4, 3), "linalg"),
    ("linalg_dim0", (3, 2), (3, 1), "linalg0"),
]


@pytest.mark.parametrize("name, shape_a, shape_b, how", _CROSS, ids=[c[0] for c in _CROSS])
def test_cross_values_and_gradients(name, shape_a, shape_b, how):
    def call(lib, a, b):
        if how == "linalg0":
            return lib.linalg.cross(a, b, dim=0)
        return lib.linalg.cross(a, b) if how == "linalg" else lib.cross(a, b, **how)

    same_in_both(with_grads(call, shape_a, shape_b))


def test_cross_bad_input_and_dtypes():
    raises_as_torch(lambda lib: lib.cross(data(lib, 2, 4), data(lib, 2, 4), dim=1))
    raises_as_torch(lambda lib: lib.cross(data(lib, 2, 4), data(lib, 2, 4)))
    raises_as_torch(lambda lib: lib.linalg.cross(data(lib, 3, 4), data(lib, 3, 4)))
    raises_as_torch(lambda lib: lib.cross(data(lib, 3), data(lib, 3, 3)))
    same_in_both(lambda lib: lib.cross(lib.arange(3), lib.arange(1, 4), dim=0))
    raises_as_torch(lambda lib: lib.linalg.cross(data(lib, 2, 3), data(lib, 4, 3)))  # no rank broadcasting
    same_outcome(lambda lib: lib.linalg.cross(data(lib, 3), data(lib, 3, seed=1, dtype=lib.float32)))


def test_cross_without_dim_warns_at_the_callers_line():
    for lib in (torch, chainrule):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.cross(lib.ones(3, 3), lib.ones(3, 3))
        deprecations = [each for each in caught if "without specifying the dim" in str(each.message)]
        if not deprecations:
            continue  # both warn once per process (TORCH_WARN_ONCE); an earlier test may have had it
        assert deprecations[0].category is UserWarning
        assert deprecations[0].filename == __file__, (lib.__name__, deprecations[0].filename)


def test_cross_without_dim_warns_once_unless_warn_always():
    for lib in (torch, chainrule):
        lib.set_warn_always(True)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lib.cross(lib.ones(3, 3), lib.ones(3, 3))
                lib.cross(lib.ones(3, 3), lib.ones(3, 3))
        finally:
            lib.set_warn_always(False)
        deprecations = [each for each in caught if "without specifying the dim" in str(each.message)]
        assert len(deprecations) == 2 and deprecations[0].filename == __file__, (lib.__name__, deprecations)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.cross(lib.ones(3, 3), lib.ones(3, 3))
        assert not [each for each in caught if "without specifying the dim" in str(each.message)], lib.__name__


# --- matmul, mm, bmm, mv ----------------------------------------------------------------------------

_LEFT = [(3,), (2, 3), (5, 2, 3), (4, 1, 2, 3), (1, 2, 3)]
_RIGHT = [(3,), (3, 4), (5, 3, 4), (1, 3, 4), (4, 5, 3, 4)]


@pytest.mark.parametrize("shape_a", _LEFT, ids=str)
@pytest.mark.parametrize("shape_b", _RIGHT, ids=str)
def test_matmul_every_rank_combination(shape_a, shape_b):
    same_in_both(with_grads(lambda lib, a, b: a @ b, shape_a, shape_b))


def test_matmul_size_zero_dims_and_dtypes():
    for shapes in [((0,), (0,)), ((2, 0), (0, 3)), ((0, 3), (3, 2)), ((2, 0, 3), (3, 4)), ((3,), (3, 0))]:
        same_in_both(with_grads(lambda lib, a, b: lib.matmul(a, b), *shapes))
    same_in_both(lambda lib: lib.matmul(lib.arange(6).reshape(2, 3), lib.arange(3)))
    same_in_both(lambda lib: lib.matmul(lib.arange(6, dtype=lib.int32).reshape(2, 3), lib.arange(3, dtype=lib.int32)))
    same_in_both(lambda lib: lib.matmul(data(lib, 2, 3, dtype=lib.float16), data(lib, 3, dtype=lib.float16)), rtol=1e-3, atol=1e-3)


_MATMUL_BAD = {
    "2d": lambda lib: lib.matmul(data(lib, 2, 3), data(lib, 4, 5)),
    "1d_1d": lambda lib: lib.matmul(data(lib, 3), data(lib, 4)),
    "1d_2d": lambda lib: lib.matmul(data(lib, 3), data(lib, 4, 5)),
    "2d_1d": lambda lib: lib.matmul(data(lib, 2, 3), data(lib, 4)),
    "batch": lambda lib: lib.matmul(data(lib, 2, 2, 3), data(lib, 3, 3, 4)),
    "0d": lambda lib: lib.matmul(lib.tensor(1.0, dtype=lib.float64), data(lib, 3)),
    "dtype": lambda lib: lib.matmul(data(lib, 2, 3), data(lib, 3, dtype=lib.float32)),
    "int_float": lambda lib: lib.matmul(lib.arange(6).reshape(2, 3), data(lib, 3)),
    "mm_shapes": lambda lib: lib.mm(data(lib, 2, 3), data(lib, 4, 4)),
    "mm_1d": lambda lib: lib.mm(data(lib, 3), data(lib, 3, 4)),
    "mm_3d": lambda lib: lib.mm(data(lib, 2, 2, 3), data(lib, 3, 4)),
    "mm_dtype": lambda lib: lib.mm(data(lib, 2, 3), data(lib, 3, 4, dtype=lib.float32)),
    "bmm_batch": lambda lib: lib.bmm(data(lib, 2, 2, 3), data(lib, 3, 3, 4)),
    "bmm_no_broadcast": lambda lib: lib.bmm(data(lib, 1, 2, 3), data(lib, 3, 3, 4)),
    "bmm_k": lambda lib: lib.bmm(data(lib, 2, 2, 3), data(lib, 2, 2, 4)),
    "bmm_2d": lambda lib: lib.bmm(data(lib, 2, 3), data(lib, 3, 4)),
    "bmm_dtype": lambda lib: lib.bmm(data(lib, 2, 2, 3), data(lib, 2, 3, 4, dtype=lib.float32)),
    "mv_length": lambda lib: lib.mv(data(lib, 2, 3), data(lib, 4)),
    "mv_2d_vec": lambda lib: lib.mv(data(lib, 2, 3), data(lib, 3, 1)),
    "mv_1d_mat": lambda lib: lib.mv(data(lib, 3), data(lib, 3)),
    "mv_dtype": lambda lib: lib.mv(data(lib, 2, 3), data(lib, 3, dtype=lib.float32)),
}


@pytest.mark.parametrize("case", sorted(_MATMUL_BAD))
def test_matmul_mm_bmm_mv_errors_raise_as_torch(case):
    raises_as_torch(_MATMUL_BAD[case])


@pytest.mark.parametrize("case, expected", [
    ("2d", "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("1d_2d", "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
    ("mm", "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("0d", "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
])
def test_matmul_error_messages_carry_pytorchs_text(case, expected):
    run = {
        "2d": lambda lib: data(lib, 2, 3) @ data(lib, 4, 5),
        "1d_2d": lambda lib: lib.matmul(data(lib, 3), data(lib, 4, 5)),
        "mm": lambda lib: lib.mm(data(lib, 2, 3), data(lib, 4, 5)),
        "0d": lambda lib: lib.matmul(lib.tensor(1.0, dtype=lib.float64), data(lib, 3)),
    }[case]
    assert expected in message_of(lambda: run(torch))[1]
    kind, message = message_of(lambda: run(chainrule))
    assert kind is RuntimeError and expected in message, message


def test_matmul_python_scalar_raises_type_error():
    raises_as_torch(lambda lib: lib.matmul(data(lib, 3), 2.0))


@pytest.mark.parametrize("case", ["matmul_first", "mm", "bmm", "dot", "mv", "list", "operator"])
def test_products_with_a_number_raise_type_error(case):
    raises_as_torch({
        "matmul_first": lambda lib: lib.matmul(2.0, data(lib, 3)),
        "mm": lambda lib: lib.mm(data(lib, 3, 3), 2.0),
        "bmm": lambda lib: lib.bmm(data(lib, 2, 3, 3), 2.0),
        "dot": lambda lib: lib.dot(data(lib, 3), 2.0),
        "mv": lambda lib: lib.mv(data(lib, 3, 3), 2.0),
        "list": lambda lib: lib.matmul(data(lib, 3), [1.0, 2.0, 3.0]),
        "operator": lambda lib: data(lib, 3) @ 2.0,
    }[case])
    assert "argument 'other' (position 2) must be Tensor, not float" in message_of(lambda: chainrule.matmul(data(chainrule, 3), 2.0))[1]


@pytest.mark.parametrize("name", ["mm", "bmm", "mv"])
def test_mm_bmm_mv_values_gradients_and_size_zero(name):
    shapes = {"mm": [((2, 3), (3, 4)), ((2, 0), (0, 4))], "bmm": [((2, 2, 3), (2, 3, 4)), ((2, 2, 0), (2, 0, 4)), ((0, 2, 3), (0, 3, 4))],
              "mv": [((2, 3), (3,)), ((2, 0), (0,))]}[name]
    for shape_a, shape_b in shapes:
        same_in_both(with_grads(lambda lib, a, b: getattr(lib, name)(a, b), shape_a, shape_b))
    keyword = {"mm": "mat2", "bmm": "mat2", "mv": "vec"}[name]
    same_in_both(lambda lib: getattr(lib, name)(input=data(lib, *shapes[0][0]), **{keyword: data(lib, *shapes[0][1], seed=1)}))


# --- addmm and friends ---------------------------------------------------------------------------------

_ADD = {
    "addmm": ((2, 4), (2, 3), (3, 4)),
    "addmm_bcast_row": ((4,), (2, 3), (3, 4)),
    "addmm_bcast_11": ((1, 1), (2, 3), (3, 4)),
    "addmm_k0": ((2, 4), (2, 0), (0, 4)),
    "addmv": ((2,), (2, 3), (3,)),
    "addmv_bcast": ((1,), (2, 3), (3,)),
    "addr": ((2, 3), (2,), (3,)),
    "addr_bcast": ((3,), (2,), (3,)),
    "baddbmm": ((2, 2, 4), (2, 2, 3), (2, 3, 4)),
    "baddbmm_bcast": ((2, 4), (2, 2, 3), (2, 3, 4)),
    "addbmm": ((2, 4), (3, 2, 3), (3, 3, 4)),
    "addbmm_bcast": ((4,), (3, 2, 3), (3, 3, 4)),
    "addbmm_empty_batch": ((2, 4), (0, 2, 3), (0, 3, 4)),
}


@pytest.mark.parametrize("scale", [{}, {"beta": 0.5, "alpha": -2.0}, {"beta": 0}])
@pytest.mark.parametrize("case", sorted(_ADD))
def test_add_products_values_and_gradients(case, scale):
    name = case.split("_")[0]
    same_in_both(with_grads(lambda lib, i, a, b: getattr(lib, name)(i, a, b, **scale), *_ADD[case]))


@pytest.mark.parametrize("name", ["addmm", "addmv", "addr", "baddbmm", "addbmm"])
@pytest.mark.parametrize("form", ["function", "method", "inplace"])
def test_add_products_beta_zero_ignore_nan_in_input(name, form):
    shapes = _ADD[name]

    def run(lib):
        nan_input = lib.full(shapes[0], float("nan"), dtype=lib.float64)
        a, b = data(lib, *shapes[1], seed=1), data(lib, *shapes[2], seed=2)
        if form == "function":
            return getattr(lib, name)(nan_input, a, b, beta=0, alpha=2)
        if form == "method":
            return getattr(nan_input, name)(a, b, beta=0, alpha=2)
        return getattr(nan_input, name + "_")(a, b, beta=0, alpha=2)

    same_in_both(run)


def test_add_products_inplace_positional_and_integer_forms():
    same_in_both(lambda lib: data(lib, 2, 4).addmm_(data(lib, 2, 3, seed=1), data(lib, 3, 4, seed=2), beta=2, alpha=3))
    same_in_both(lambda lib: data(lib, 2, 3).addr_(data(lib, 2, seed=1), data(lib, 3, seed=2), alpha=2))
    same_in_both(lambda lib: data(lib, 2, 2, 4).baddbmm_(data(lib, 2, 2, 3, seed=1), data(lib, 2, 3, 4, seed=2), alpha=3))
    same_in_both(lambda lib: lib.addmm(lib.ones(2, 2, dtype=lib.int64), lib.arange(6).reshape(2, 3), lib.arange(6).reshape(3, 2), beta=2, alpha=3))
    same_in_both(lambda lib: lib.addr(lib.zeros(2, 3, dtype=lib.bool), lib.ones(2, dtype=lib.bool), lib.ones(3, dtype=lib.bool)))
    same_in_both(lambda lib: lib.addr(lib.zeros(2, 3, dtype=lib.int64), lib.arange(2), lib.arange(3), alpha=2))


@pytest.mark.parametrize("case", ["addmm_shape", "addmv_shape", "baddbmm_shape", "addmm_inplace_broadcast", "addmm_1d_mat"])
def test_add_products_bad_shapes_raise_as_torch(case):
    raises_as_torch({
        "addmm_shape": lambda lib: lib.addmm(data(lib, 3, 4), data(lib, 2, 3), data(lib, 3, 4)),
        "addmv_shape": lambda lib: lib.addmv(data(lib, 3), data(lib, 2, 3), data(lib, 3)),
        "baddbmm_shape": lambda lib: lib.baddbmm(data(lib, 3, 2, 4), data(lib, 2, 2, 3), data(lib, 2, 3, 4)),
        "addmm_inplace_broadcast": lambda lib: data(lib, 4).addmm_(data(lib, 2, 3), data(lib, 3, 4)),
        "addmm_1d_mat": lambda lib: lib.addmm(data(lib, 2, 4), data(lib, 3), data(lib, 3, 4)),
    }[case])


@pytest.mark.parametrize("form", ["function", "inplace"])
def test_addmm_mixed_dtypes_raise_as_torch(form):
    def run(lib):
        values = data(lib, 2, 4, dtype=lib.float32)
        a, b = data(lib, 2, 3), data(lib, 3, 4)
        return lib.addmm(values, a, b) if form == "function" else values.addmm_(a, b)

    raises_as_torch(run)


@pytest.mark.parametrize("name", ["addmv", "baddbmm", "addbmm"])
@pytest.mark.parametrize("form", ["function", "method", "inplace"])
@pytest.mark.parametrize("dtypes", [("float64", "float32", "float32"), ("float32", "float64", "float32"),
                                    ("float32", "float32", "float64"), ("int64", "float32", "float32"),
                                    ("float32", "int64", "int64"), ("float16", "float32", "float32")])
def test_add_products_mixed_dtypes_raise_as_torch(name, form, dtypes):
    def run(lib):
        input, first, second = (lib.ones(shape, dtype=getattr(lib, dtype)) for shape, dtype in zip(_ADD[name], dtypes))
        if form == "function":
            return getattr(lib, name)(input, first, second)
        return getattr(input, name if form == "method" else name + "_")(first, second)

    raises_as_torch(run)


@pytest.mark.parametrize("name", ["addmv", "baddbmm", "addbmm"])
def test_add_products_number_input_raises_as_torch(name):
    raises_as_torch(lambda lib: getattr(lib, name)(2.0, data(lib, *_ADD[name][1]), data(lib, *_ADD[name][2])))


def test_addmm_integer_with_float_beta():
    same_in_both(lambda lib: lib.addmm(lib.ones(2, 2, dtype=lib.int64), lib.arange(6).reshape(2, 3), lib.arange(6).reshape(3, 2), beta=0.5))


@pytest.mark.parametrize("dtypes", [("float64", "float64", "float32"), ("float64", "float32", "float64"), ("int64", "float64", "float64")])
def test_addmm_mixed_dtype_messages(dtypes):
    def run(lib):
        input, mat1, mat2 = (getattr(lib, name) for name in dtypes)
        return lib.addmm(lib.ones(2, 2, dtype=input), lib.ones(2, 3, dtype=mat1), lib.ones(3, 2, dtype=mat2))

    expected = message_of(lambda: run(torch))
    actual = message_of(lambda: run(chainrule))
    assert actual[0] is expected[0] and expected[1] in actual[1], (expected, actual)


@pytest.mark.parametrize("name", ["addmm", "addmv", "baddbmm", "addbmm"])
@pytest.mark.parametrize("scale", [{"beta": 0.5}, {"alpha": 2.5}, {"beta": -1.5, "alpha": -0.5}])
def test_integer_add_products_cut_float_scales(name, scale):
    shapes = {"addmm": _ADD["addmm"], "addmv": _ADD["addmv"], "baddbmm": _ADD["baddbmm"], "addbmm": _ADD["addbmm"]}[name]
    same_in_both(lambda lib: getattr(lib, name)(*[lib.full(shape, 3, dtype=lib.int32) for shape in shapes], **scale))


@pytest.mark.parametrize("scale", [{}, {"beta": 2}, {"beta": 0, "alpha": 0}, {"beta": False}, {"alpha": True, "beta": True}])
def test_addr_of_bools(scale):
    same_outcome(lambda lib: lib.addr(lib.ones(2, 3, dtype=lib.bool), lib.ones(2, dtype=lib.bool), lib.ones(3, dtype=lib.bool), **scale))


@pytest.mark.parametrize("case", ["int_bool_alpha", "float_bool_alpha", "float_vectors_int", "bool_input_int_vectors"])
def test_addr_scale_rules(case):
    same_outcome({
        "int_bool_alpha": lambda lib: lib.addr(lib.ones(2, 3, dtype=lib.int64), lib.arange(2), lib.arange(3), alpha=True),
        "float_bool_alpha": lambda lib: lib.addr(data(lib, 2, 3), data(lib, 2), data(lib, 3), beta=True),
        "float_vectors_int": lambda lib: lib.addr(lib.ones(2, 3, dtype=lib.int64), data(lib, 2), data(lib, 3), alpha=2.5),
        "bool_input_int_vectors": lambda lib: lib.addr(lib.ones(2, 3, dtype=lib.bool), lib.arange(2), lib.arange(3), alpha=2.5),
    }[case])


@pytest.mark.parametrize("case", ["bool_beta", "int_alpha"])
def test_addr_integral_with_float_scale_raises(case):
    def run(lib):
        if case == "bool_beta":
            return lib.addr(lib.zeros(2, 3, dtype=lib.bool), lib.ones(2, dtype=lib.bool), lib.ones(3, dtype=lib.bool), beta=0.5)
        return lib.addr(lib.zeros(2, 3, dtype=lib.int64), lib.arange(2), lib.arange(3), alpha=2.5)

    raises_as_torch(run)


# --- chain_matmul, linalg.multi_dot ----------------------------------------------------------------------

_MULTI_DOT = [[(2, 3), (3, 4), (4, 5)], [(3,), (3, 4), (4,)], [(3,), (3, 4)], [(2, 3), (3,)], [(2, 0), (0, 4), (4, 3)]]


@pytest.mark.parametrize("shapes", _MULTI_DOT, ids=str)
def test_multi_dot_values_and_gradients(shapes):
    same_in_both(with_grads(lambda lib, *xs: lib.linalg.multi_dot(list(xs)), *shapes))


@pytest.mark.parametrize("case", ["empty", "single", "3d", "1d_middle", "shapes", "dtype", "1d_1d_ok"])
def test_multi_dot_bad_input_raises_as_torch(case):
    run = {
        "empty": lambda lib: lib.linalg.multi_dot([]),
        "single": lambda lib: lib.linalg.multi_dot([data(lib, 2, 3)]),
        "3d": lambda lib: lib.linalg.multi_dot([data(lib, 2, 2, 3), data(lib, 3, 4)]),
        "1d_middle": lambda lib: lib.linalg.multi_dot([data(lib, 2, 3), data(lib, 3), data(lib, 3, 4)]),
        "shapes": lambda lib: lib.linalg.multi_dot([data(lib, 2, 3), data(lib, 4, 4)]),
        "dtype": lambda lib: lib.linalg.multi_dot([data(lib, 2, 3), data(lib, 3, 4, dtype=lib.float32)]),
        "1d_1d_ok": None,
    }[case]
    if run is None:
        same_in_both(lambda lib: lib.linalg.multi_dot([data(lib, 3), data(lib, 3, seed=1)]))
    else:
        raises_as_torch(run)


def test_chain_matmul_values_gradients_and_errors():
    same_in_both(with_grads(lambda lib, a, b, c: lib.chain_matmul(a, b, c), (2, 3), (3, 4), (4, 5)))
    same_in_both(with_grads(lambda lib, a: lib.chain_matmul(a), (2, 3)))
    raises_as_torch(lambda lib: lib.chain_matmul())
    raises_as_torch(lambda lib: lib.chain_matmul(data(lib, 2, 3), data(lib, 4, 4)))


def test_chain_matmul_rejects_vectors():
    raises_as_torch(lambda lib: lib.chain_matmul(data(lib, 3), data(lib, 3, 4)))


# --- cdist, cosine_similarity, pairwise_distance ---------------------------------------------------------

@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("shapes", [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3)), ((1, 4, 3), (2, 5, 3)), ((4, 3), (2, 5, 3))], ids=str)
def test_cdist_p_values_and_gradients(p, shapes):
    same_in_both(with_grads(lambda lib, a, b: lib.cdist(a, b, p=p), *shapes))


@pytest.mark.parametrize("mode", [None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_compute_modes(mode):
    keyword = {} if mode is None else {"compute_mode": mode}
    same_in_both(with_grads(lambda lib, a, b: lib.cdist(a, b, **keyword), (30, 3), (40, 3)))
    same_in_both(lambda lib: lib.cdist(data(lib, 4, 3, dtype=lib.float32), data(lib, 5, 3, seed=1, dtype=lib.float32), **keyword))


def test_cdist_edge_cases_and_errors():
    same_in_both(lambda lib: lib.cdist(data(lib, 0, 3), data(lib, 5, 3)))
    same_in_both(lambda lib: lib.cdist(data(lib, 4, 0), data(lib, 5, 0)))
    same_in_both(with_grads(lambda lib, a: lib.cdist(a, a), (3, 2)))  # zero distances: zero gradient
    raises_as_torch(lambda lib: lib.cdist(data(lib, 4, 3), data(lib, 5, 3), compute_mode="nope"))
    raises_as_torch(lambda lib: lib.cdist(data(lib, 4, 3), data(lib, 5, 3), p=-1))
    raises_as_torch(lambda lib: lib.cdist(data(lib, 4, 3), data(lib, 5, 2)))
    raises_as_torch(lambda lib: lib.cdist(data(lib, 4), data(lib, 4)))
    raises_as_torch(lambda lib: lib.cdist(data(lib, 4, 3), data(lib, 5, 3, dtype=lib.float32)))
    raises_as_torch(lambda lib: lib.cdist(lib.arange(6).reshape(2, 3), lib.arange(6).reshape(2, 3)))


_COSINE = [
    ("default", (4, 3), (4, 3), {}),
    ("dim0", (4, 3), (4, 3), {"dim": 0}),
    ("broadcast", (4, 3), (1, 3), {}),
    ("broadcast_3d", (4, 1, 3), (5, 3), {"dim": -1}),
    ("1d", (3,), (3,), {"dim": 0}),
    ("eps", (4, 3), (4, 3), {"eps": 1e-3}),
]


@pytest.mark.parametrize("name, shape_a, shape_b, keyword", _COSINE, ids=[c[0] for c in _COSINE])
def test_cosine_similarity_values_and_gradients(name, shape_a, shape_b, keyword):
    same_in_both(with_grads(lambda lib, a, b: F(lib).cosine_similarity(a, b, **keyword), shape_a, shape_b))


def test_cosine_similarity_eps_zero_vectors_and_errors():
    same_in_both(with_grads(lambda lib, a, b: F(lib).cosine_similarity(a * 0, b), (4, 3), (4, 3)))
    same_in_both(lambda lib: F(lib).cosine_similarity(data(lib, 4, 3) * 1e-5, data(lib, 4, 3, seed=1) * 1e-5, eps=1.0))
    same_in_both(lambda lib: F(lib).cosine_similarity(lib.zeros(2, 3, dtype=lib.float64), lib.zeros(2, 3, dtype=lib.float64), eps=0))
    same_in_both(lambda lib: lib.cosine_similarity(data(lib, 4, 3), data(lib, 4, 3, seed=2)))
    same_in_both(lambda lib: F(lib).cosine_similarity(data(lib, 0, 3), data(lib, 0, 3)))
    same_in_both(lambda lib: lib.nn.CosineSimilarity(dim=0, eps=1e-6)(data(lib, 4, 3), data(lib, 4, 3, seed=1)))
    raises_as_torch(lambda lib: F(lib).cosine_similarity(data(lib, 4, 3), data(lib, 3, 3)))
    same_outcome(lambda lib: F(lib).cosine_similarity(data(lib, 4, 3), data(lib, 4, 3, dtype=lib.float32)))
    same_outcome(lambda lib: F(lib).cosine_similarity(lib.arange(6).reshape(2, 3), lib.arange(6).reshape(2, 3)))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, 0.5, float("inf"), -1.0, -float("inf")])
@pytest.mark.parametrize("shapes", [((4, 3), (4, 3)), ((3,), (3,)), ((2, 4, 3), (2, 4, 3)), ((4, 3), (1, 3)), ((4, 3), (3,))], ids=str)
def test_pairwise_distance_values_and_gradients(p, shapes):
    same_in_both(with_grads(lambda lib, a, b: F(lib).pairwise_distance(a, b, p=p), *shapes))


def test_pairwise_distance_keywords_edges_and_modules():
    same_in_both(with_grads(lambda lib, a, b: F(lib).pairwise_distance(a, b, keepdim=True), (4, 3), (4, 3)))
    same_in_both(lambda lib: F(lib).pairwise_distance(data(lib, 4, 3), data(lib, 4, 3, seed=1), p=0.0))
    same_in_both(lambda lib: F(lib).pairwise_distance(data(lib, 4, 3), data(lib, 4, 3), eps=0.1))
    same_in_both(lambda lib: F(lib).pairwise_distance(data(lib, 3), data(lib, 3, seed=1), keepdim=True))
    same_in_both(lambda lib: F(lib).pairwise_distance(lib.tensor(1.0), lib.tensor(3.0)))
    same_in_both(with_grads(lambda lib, a: F(lib).pairwise_distance(a, a.detach()), (4, 3)))
    same_in_both(lambda lib: lib.pairwise_distance(data(lib, 4, 3), data(lib, 4, 3, seed=2)))
    same_in_both(lambda lib: lib.nn.PairwiseDistance(p=1.0, keepdim=True)(data(lib, 4, 3), data(lib, 4, 3, seed=2)))
    raises_as_torch(lambda lib: F(lib).pairwise_distance(data(lib, 4, 3), data(lib, 3, 3)))
    for make in (lambda lib: lib.nn.CosineSimilarity(), lambda lib: lib.nn.PairwiseDistance(p=1.0, eps=1e-3, keepdim=True)):
        assert repr(make(chainrule)) == repr(make(torch))
        assert make(chainrule).state_dict().keys() == make(torch).state_dict().keys()


# --- keyword names ----------------------------------------------------------------------------------------

_KEYWORDS = {
    "matmul": {"input": (2, 3), "other": (3,)}, "mm": {"input": (2, 3), "mat2": (3, 2)}, "bmm": {"input": (2, 2, 3), "mat2": (2, 3, 2)},
    "mv": {"input": (2, 3), "vec": (3,)}, "dot": {"input": (3,), "tensor": (3,)}, "vdot": {"input": (3,), "other": (3,)},
    "kron": {"input": (2,), "other": (3,)}, "outer": {"input": (2,), "vec2": (3,)}, "ger": {"input": (2,), "vec2": (3,)},
    "inner": {"input": (3,), "other": (3,)}, "cross": {"input": (3,), "other": (3,)}, "tensordot": {"a": (2, 3), "b": (2, 3)},
    "cdist": {"x1": (2, 3), "x2": (4, 3)}, "addmm": {"input": (2, 2), "mat1": (2, 3), "mat2": (3, 2)},
    "addmv": {"input": (2,), "mat": (2, 3), "vec": (3,)}, "addr": {"input": (2, 3), "vec1": (2,), "vec2": (3,)},
    "baddbmm": {"input": (2, 2, 2), "batch1": (2, 2, 3), "batch2": (2, 3, 2)}, "addbmm": {"input": (2, 2), "batch1": (2, 2, 3), "batch2": (2, 3, 2)},
    "cosine_similarity": {"x1": (2, 3), "x2": (2, 3)}, "pairwise_distance": {"x1": (2, 3), "x2": (2, 3)},
}


@pytest.mark.parametrize("name", sorted(_KEYWORDS))
def test_functions_take_pytorchs_keyword_names(name):
    same_in_both(lambda lib: getattr(lib, name)(**{key: data(lib, *shape, seed=index) for index, (key, shape) in enumerate(_KEYWORDS[name].items())}))
