"""``torch._foreach_*`` (ops/foreach.py) against PyTorch: every function of the family, with each of
its overloads (a number, a list of numbers, a list of tensors, a 0-d tensor, a packed 1-d tensor,
``alpha=``/``value=``/``weight=``), on float32 and float64 lists of differently shaped tensors.

Out-of-place forms are compared for their values, their tuple and the gradients of a weighted sum of
their results; in-place forms for the tensors they write, the list they return and the version
counters they raise. A few differentiable ones also pass a float64 finite-difference check.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch

import chainrule

SHAPES = ((2, 3), (4,), ())  # each list: a matrix, a vector and a 0-d tensor
MATRIX_SHAPES = (((2, 3), (1, 4)), ((3, 2), (4, 2)))  # _foreach_mm's two lists


@dataclass
class Case:
    """One call of a ``_foreach_`` function: ``call(function, lib, lists)`` with ``lists`` holding
    ``count`` tensor lists of ``shapes``; ``positive`` keeps the values in (0.2, 0.9) (log, sqrt,
    pow), else they take either sign. ``forms`` says which of ``_foreach_NAME`` ("out") and
    ``_foreach_NAME_`` ("in") the call applies to. ``torch_gradient`` is False where PyTorch has no
    backward for the call (powsum, packed numbers) or fails in it (addcdiv of 0-d tensors): its
    values are compared, its gradient checked by finite differences (``GRADCHECKED``)."""

    stem: str
    label: str
    call: Callable
    count: int = 1
    positive: bool = False
    forms: tuple = ("out", "in")
    shapes: tuple = None
    torch_gradient: bool = True

    def __repr__(self):
        return f"{self.stem}[{self.label}]"


def self_only(function, lib, lists):
    return function(lists[0])


UNARY = (
    "abs acos asin atan ceil cos cosh erf erfc exp expm1 floor frac lgamma log log10 log1p log2 neg "
    "reciprocal round rsqrt sigmoid sign sin sinh sqrt tan tanh trunc"
).split()
NEEDS_POSITIVE = {"log", "log10", "log1p", "log2", "sqrt", "rsqrt"}
BINARY = "add sub mul div maximum minimum clamp_min clamp_max pow".split()

CASES = [Case(stem, "list", self_only, positive=stem in NEEDS_POSITIVE) for stem in UNARY]
for stem in BINARY:
    CASES += [
        Case(stem, "number", lambda f, lib, ls: f(ls[0], 0.7), positive=True),
        Case(stem, "number list", lambda f, lib, ls: f(ls[0], [0.5, 2, 3.0]), positive=True),
        Case(stem, "tensor list", lambda f, lib, ls: f(ls[0], ls[1]), count=2, positive=True),
        Case(stem, "0-d tensor", lambda f, lib, ls: f(ls[0], lib.tensor(0.3)), positive=True),
    ]
CASES += [
    Case("add", "tensor list, alpha=", lambda f, lib, ls: f(ls[0], ls[1], alpha=-0.5), count=2),
    Case("sub", "tensor list, alpha=", lambda f, lib, ls: f(ls[0], ls[1], alpha=3), count=2),
    Case("add", "0-d tensor, alpha=", lambda f, lib, ls: f(ls[0], lib.tensor(0.3), alpha=2)),
    Case("mul", "signed number list", lambda f, lib, ls: f(ls[0], [-1.5, 0, 2])),
    Case("pow", "number base", lambda f, lib, ls: lib._foreach_pow(2.0, ls[0]), forms=("out",)),
]
for stem in ("addcmul", "addcdiv"):
    torch_gradient = stem == "addcmul"
    CASES += [
        Case(stem, "value 1", lambda f, lib, ls: f(ls[0], ls[1], ls[2]), count=3, torch_gradient=torch_gradient),
        Case(stem, "value=", lambda f, lib, ls: f(ls[0], ls[1], ls[2], value=-0.1), count=3, torch_gradient=torch_gradient),
        Case(stem, "number list", lambda f, lib, ls: f(ls[0], ls[1], ls[2], [0.5, -1.0, 2.0]), count=3, torch_gradient=torch_gradient),
        Case(stem, "packed 1-d tensor", lambda f, lib, ls: f(ls[0], ls[1], ls[2], lib.tensor([0.5, -1.0, 2.0])), count=3, torch_gradient=False),
    ]
CASES += [
    Case("lerp", "number", lambda f, lib, ls: f(ls[0], ls[1], 0.3), count=2),
    Case("lerp", "weight=", lambda f, lib, ls: f(ls[0], ls[1], weight=0.1), count=2),
    Case("lerp", "number list", lambda f, lib, ls: f(ls[0], ls[1], [0.1, 0.5, 0.9]), count=2),
    Case("lerp", "tensor list", lambda f, lib, ls: f(ls[0], ls[1], ls[2]), count=3),
    Case("lerp", "0-d tensor", lambda f, lib, ls: f(ls[0], ls[1], lib.tensor(0.25)), count=2),
    Case("norm", "ord 2", self_only, forms=("out",)),
    Case("norm", "ord 1", lambda f, lib, ls: f(ls[0], 1), forms=("out",)),
    Case("norm", "ord 3", lambda f, lib, ls: f(ls[0], ord=3), forms=("out",)),
    Case("norm", "ord inf", lambda f, lib, ls: f(ls[0], float("inf")), forms=("out",)),
    Case("norm", "dtype float64", lambda f, lib, ls: f(ls[0], 2, lib.float64), forms=("out",)),
    Case("max", "list", self_only, forms=("out",)),
    Case("clone", "list", self_only, forms=("out",)),
    Case("mm", "matrices", lambda f, lib, ls: f(ls[0], ls[1]), count=2, forms=("out",), shapes=MATRIX_SHAPES),
    Case("zero", "list", self_only, forms=("in",)),
    Case("copy", "tensor list", lambda f, lib, ls: f(ls[0], ls[1]), count=2, forms=("in",)),
    Case("copy", "non_blocking=", lambda f, lib, ls: f(ls[0], ls[1], non_blocking=True), count=2, forms=("in",)),
]
CASES += [
    Case("powsum", f"ord {ord}", lambda f, lib, ls, ord=ord: f(ls[0], ord), forms=("out",), torch_gradient=False)
    for ord in (2, 1, 3, 0, 0.5)
]

OUT_OF_PLACE = [case for case in CASES if "out" in case.forms]
IN_PLACE = [case for case in CASES if "in" in case.forms]
TOLERANCES = {"float32": dict(rtol=2e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def make_arrays(case, seed=0):
    """``case.count`` lists of float64 arrays: magnitudes in (0.2, 0.9), of either sign unless
    ``case.positive``."""
    rng = np.random.default_rng(seed)
    shape_lists = case.shapes or (SHAPES,) * case.count
    lists = []
    for shapes in shape_lists:
        arrays = [rng.uniform(0.2, 0.9, shape) for shape in shapes]
        if not case.positive:
            arrays = [array * rng.choice([-1.0, 1.0], shape) for array, shape in zip(arrays, shapes)]
        lists.append(arrays)
    return lists


def tensor_lists(lib, arrays, dtype, requires_grad):
    return [[lib.tensor(array, dtype=getattr(lib, dtype), requires_grad=requires_grad) for array in each] for each in arrays]


def assert_same_tensors(ours, theirs, dtype):
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert str(mine.dtype).split(".")[-1] == str(reference.dtype).split(".")[-1]
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", OUT_OF_PLACE, ids=repr)
def test_out_of_place_forms_match_torch_with_their_gradients(case, dtype):
    arrays = make_arrays(case)
    ours = tensor_lists(chainrule, arrays, dtype, case.torch_gradient)
    theirs = tensor_lists(torch, arrays, dtype, case.torch_gradient)
    name = f"_foreach_{case.stem}"
    our_results = case.call(getattr(chainrule, name), chainrule, ours)
    their_results = case.call(getattr(torch, name), torch, theirs)
    assert type(our_results) is type(their_results) is tuple
    assert_same_tensors(our_results, their_results, dtype)
    if not case.torch_gradient:
        return
    weights = [np.random.default_rng(index).standard_normal(tuple(result.shape)) for index, result in enumerate(their_results)]
    sum((result * chainrule.tensor(weight)).sum() for result, weight in zip(our_results, weights)).backward()
    sum((result * torch.tensor(weight)).sum() for result, weight in zip(their_results, weights)).backward()
    for our_list, their_list in zip(ours, theirs):
        for mine, reference in zip(our_list, their_list):
            expected = np.zeros(reference.shape) if reference.grad is None else reference.grad.numpy()
            got = np.zeros(mine.shape) if mine.grad is None else mine.grad.numpy()
            np.testing.assert_allclose(got, expected, **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", IN_PLACE, ids=repr)
def test_in_place_forms_write_each_tensor_and_return_the_list_as_torch(case, dtype):
    arrays = make_arrays(case)
    ours = tensor_lists(chainrule, arrays, dtype, requires_grad=False)
    theirs = tensor_lists(torch, arrays, dtype, requires_grad=False)
    name = f"_foreach_{case.stem}_"
    versions = [tensor._version for tensor in ours[0]]
    assert case.call(getattr(chainrule, name), chainrule, ours) is ours[0]
    assert case.call(getattr(torch, name), torch, theirs) is theirs[0]
    for our_list, their_list in zip(ours, theirs):  # the written list, and the others unchanged
        assert_same_tensors(our_list, their_list, dtype)
    assert all(tensor._version > before for tensor, before in zip(ours[0], versions))


def test_every_foreach_function_of_torch_is_here():
    theirs = {name for name in dir(torch) if name.startswith("_foreach_")}
    ours = {name for name in dir(chainrule) if name.startswith("_foreach_")}
    assert ours == theirs


def test_every_function_has_a_case():
    covered = {f"_foreach_{case.stem}" + ("_" if form == "in" else "") for case in CASES for form in case.forms}
    assert covered == {name for name in dir(torch) if name.startswith("_foreach_")}


def test_in_place_forms_are_recorded_on_tensors_inside_the_graph():
    def run(lib):
        leaves = [lib.tensor(array, requires_grad=True) for array in (np.arange(6.0).reshape(2, 3), np.array([0.5, -2.0]))]
        ema = [leaf * 1 for leaf in leaves]
        lib._foreach_mul_(ema, 0.9)
        lib._foreach_add_(ema, [leaf * leaf for leaf in leaves], alpha=0.1)
        lib._foreach_lerp_(ema, leaves, weight=0.25)
        sum((each * each).sum() for each in ema).backward()
        return [leaf.grad.numpy() for leaf in leaves]

    for ours, theirs in zip(run(chainrule), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_in_place_form_on_a_leaf_that_requires_grad_raises_as_torch():
    raises_as_torch(lambda lib: lib._foreach_add_([lib.ones(2, requires_grad=True)], 1.0))


ERRORS = {
    "tensor lists of different lengths": lambda lib, a, b: lib._foreach_add(a, b[:1]),
    "in-place tensor lists of different lengths": lambda lib, a, b: lib._foreach_lerp_(a, b[:2], 0.5),
    "third list too short": lambda lib, a, b: lib._foreach_addcmul(a, b, b[:2]),
    "copy_ from a shorter list": lambda lib, a, b: lib._foreach_copy_(a, b[:1]),
    "number list too short": lambda lib, a, b: lib._foreach_mul(a, [1.0]),
    "weight list too long": lambda lib, a, b: lib._foreach_lerp(a, b, [0.5] * 4),
    "packed numbers too few": lambda lib, a, b: lib._foreach_addcdiv(a, b, b, lib.tensor([1.0, 2.0])),
    "empty list": lambda lib, a, b: lib._foreach_sqrt([]),
    "empty list in place": lambda lib, a, b: lib._foreach_zero_([]),
    "a tensor, not a list": lambda lib, a, b: lib._foreach_sqrt(a[0]),
    "a number in the list": lambda lib, a, b: lib._foreach_add([a[0], 3], 1),
    "a 1-d tensor as the number": lambda lib, a, b: lib._foreach_add(a, lib.tensor([2.0])),
    "in-place float result into integers": lambda lib, a, b: lib._foreach_add_([lib.tensor([1, 2])], 1.5),
    "shapes that do not broadcast": lambda lib, a, b: lib._foreach_add(a, [b[1], b[0], b[2]]),
    "in-place result of a larger shape": lambda lib, a, b: lib._foreach_add_([a[1]], [a[0]]),
    "norm of integers": lambda lib, a, b: lib._foreach_norm([lib.tensor([1, 2])]),
    "max of an empty tensor": lambda lib, a, b: lib._foreach_max([lib.tensor([])]),
    "powsum of integers": lambda lib, a, b: lib._foreach_powsum([lib.tensor([1, 2])]),
    "mm of shapes that do not chain": lambda lib, a, b: lib._foreach_mm([a[0]], [a[0]]),
}


def raises_as_torch(run):
    """``run(lib)`` raises in PyTorch; chainrule raises the same exception type (or a subclass)."""
    with pytest.raises(Exception) as expected:
        run(torch)
    with pytest.raises(Exception) as actual:
        run(chainrule)
    assert isinstance(actual.value, expected.type), (
        f"PyTorch raises {expected.type.__name__}({expected.value}); chainrule raises {type(actual.value).__name__}({actual.value})"
    )


@pytest.mark.parametrize("wrong", sorted(ERRORS))
def test_wrong_arguments_raise_as_torch(wrong):
    def run(lib):
        a, b = tensor_lists(lib, make_arrays(Case("", "", None, count=2)), "float32", requires_grad=False)
        return ERRORS[wrong](lib, a, b)

    raises_as_torch(run)


def test_length_errors_name_the_function_and_both_lengths():
    tensors = [chainrule.ones(2), chainrule.ones(3)]
    with pytest.raises(RuntimeError, match=r"_foreach_add_\(\): Tensor lists must have the same number of tensors, got 2 and 1"):
        chainrule._foreach_add_(tensors, tensors[:1], alpha=2)
    with pytest.raises(RuntimeError, match=r"_foreach_mul\(\): Tensor list must have same number of elements as scalar list \(2 tensors, 3"):
        chainrule._foreach_mul(tensors, [1.0, 2.0, 3.0])


def test_arguments_by_pytorchs_keywords():
    """PyTorch's names of the arguments after the list (timm's EMA: ``_foreach_mul_(p, scalar=d)``)."""
    calls = [
        lambda lib, a, b: lib._foreach_mul_(a, scalar=0.9),
        lambda lib, a, b: lib._foreach_add_(a, other=b, alpha=0.5),
        lambda lib, a, b: lib._foreach_add_(a, scalars=[1.0, 2.0]),
        lambda lib, a, b: lib._foreach_lerp_(a, tensors1=b, weight=0.1),
        lambda lib, a, b: lib._foreach_lerp(a, b, weights=b),
        lambda lib, a, b: lib._foreach_addcdiv_(a, tensor1=b, tensor2=b, value=0.5),
        lambda lib, a, b: lib._foreach_pow(a, exponent=2.0),
        lambda lib, a, b: lib._foreach_clamp_min_(a, scalar=4.0),
        lambda lib, a, b: lib._foreach_norm(a, ord=1),
        lambda lib, a, b: lib._foreach_copy_(a, src=b),
    ]
    results = {}
    for lib in (torch, chainrule):
        a, b = [lib.arange(3.0), lib.ones(2, dtype=lib.float64)], [lib.full((3,), 3.0), lib.full((2,), 5.0, dtype=lib.float64)]
        results[lib] = [[each.tolist() for each in call(lib, a, b)] for call in calls]
    assert results[chainrule] == results[torch]
    with pytest.raises(TypeError, match="multiple values for argument 'scalar'"):
        chainrule._foreach_mul_([chainrule.ones(1)], 2.0, scalar=0.9)


def float64_lists(count, seed=0):
    rng = np.random.default_rng(seed)
    return [[chainrule.tensor(rng.uniform(0.2, 0.9, shape), requires_grad=True) for shape in SHAPES] for _ in range(count)]


def per_list(count, function):
    """``function`` of ``count`` lists, as gradcheck calls it: with every tensor as one argument."""
    size = len(SHAPES)
    return lambda *tensors: function(*(list(tensors[index * size:(index + 1) * size]) for index in range(count)))


GRADCHECKED = {
    "addcdiv value=": (3, lambda a, b, c: chainrule._foreach_addcdiv(a, b, c, value=0.3)),
    "addcdiv number list": (3, lambda a, b, c: chainrule._foreach_addcdiv(a, b, c, [0.5, -1.0, 2.0])),
    "addcmul packed 1-d tensor": (3, lambda a, b, c: chainrule._foreach_addcmul(a, b, c, chainrule.tensor([0.5, -1.0, 2.0]))),
    "lerp tensor weights": (3, lambda a, b, c: chainrule._foreach_lerp(a, b, c)),
    "pow tensor exponents": (2, lambda a, b: chainrule._foreach_pow(a, b)),
    "sub alpha=": (2, lambda a, b: chainrule._foreach_sub(a, b, alpha=2)),
    "norm ord 3": (1, lambda a: chainrule._foreach_norm(a, 3)),
    "powsum ord 3": (1, lambda a: chainrule._foreach_powsum(a, 3)),
    "rsqrt": (1, lambda a: chainrule._foreach_rsqrt(a)),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKED))
def test_float64_finite_differences(name):
    count, function = GRADCHECKED[name]
    tensors = [tensor for each in float64_lists(count) for tensor in each]
    assert chainrule.autograd.gradcheck(per_list(count, function), tensors, eps=1e-6, atol=1e-5, rtol=1e-3)
