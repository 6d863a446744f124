"""A sweep of gradient checking and testing utilities against PyTorch (the oracle):
``autograd.gradcheck`` / ``gradgradcheck`` (True for correct derivatives; ``GradcheckError``, a
RuntimeError, or False with ``raise_exception=False`` for a wrong custom Function backward; ``eps``,
``atol``, ``rtol``, ``fast_mode``, ``check_undefined_grad``, ``check_batched_grad``, ``nondet_tol``,
``check_forward_ad``; the UserWarning for inputs below double precision; a single tensor, a tuple or
a list of inputs, non-tensor inputs, tuple outputs, non-differentiable outputs, inputs not requiring
grad), ``testing.assert_close`` (default tolerances per dtype, ``equal_nan``, ``check_dtype``,
``check_stride``, ``allow_subclasses``, ``msg`` as a string or a callable, sequences, mappings,
scalars, NumPy arrays, None, mismatched types and shapes as AssertionError or TypeError),
``testing.make_tensor`` (shape forms, dtypes, ``low``/``high`` ranges and their clamping,
``requires_grad``, ``noncontiguous``, ``exclude_zero``, ``memory_format``; shapes, dtypes and
ranges, never the random values), ``allclose`` / ``isclose`` / ``equal`` on NaN, inf, dtypes and
broadcasting, and ``autograd.functional`` (``jacobian`` / ``hessian`` / ``vjp`` / ``jvp`` / ``hvp``
/ ``vhp`` in float64: tuple nesting, ``create_graph``, ``strict``, ``vectorize``,
``strategy="forward-mode"``, ``outer_jacobian_strategy``, bad ``v``), with float64 gradients
through ``create_graph=True`` results.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names, warnings or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")``
are differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import collections
import importlib
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, outcome, plain, raises_as_torch, same_in_both

NAN = float("nan")
INF = float("inf")


# --- helpers of this sweep ----------------------------------------------------------------------


def known_bug(reason, run):
    """A table entry that differs today: a strict xfail of its own."""
    return pytest.param(run, marks=bug(reason))


def table(cases):
    """``pytest.param``s of a ``{name: run or known_bug(...)}`` table, with the names as ids."""
    return [
        pytest.param(*case.values, marks=case.marks, id=name) if isinstance(case, type(pytest.param(None)))
        else pytest.param(case, id=name)
        for name, case in cases.items()
    ]


def result_or_error(run):
    """``run()``'s value, or ``("raises", <first builtin exception class of what it raised>)``, so
    that one bundle can hold cases that pass and cases that raise."""
    try:
        return run()
    except Exception as error:  # noqa: BLE001 - the tests compare whatever each library raises
        builtin = next(kind for kind in type(error).__mro__ if kind.__module__ == "builtins")
        return "raises", builtin.__name__


def checked(L, run):
    """``run()`` for an ``assert_close`` call: "passes", or the builtin exception type it raised."""
    return result_or_error(lambda: (run(), "passes")[1])


def warned(run):
    """``(run()'s value, sorted names of the warning categories it issued)``, every warning recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = run()
    return value, sorted({warning.category.__name__ for warning in caught if warning.category is not DeprecationWarning})


def gradcheck_error(run):
    """``run()``'s value, or the name of the exception class it raised and whether it is a RuntimeError."""
    try:
        return run()
    except Exception as error:  # noqa: BLE001 - the tests compare whatever each library raises
        return type(error).__name__, isinstance(error, RuntimeError)


def f64(L, data, grad=True):
    return L.tensor(data, dtype=L.float64, requires_grad=grad)


X3 = [0.5, 1.0, -2.0]
M23 = [[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]]


def sin_function(L, kind="good"):
    """``sin`` as a custom autograd Function whose backward is right (``good``) or subtly not:
    ``wrong`` scales the gradient by 1.01, ``nondeterministic`` drifts by 1e-9 on every call,
    ``undefined`` answers an undefined (None) output gradient with a nonzero input gradient."""
    class Sin(L.autograd.Function):
        calls = 0

        @staticmethod
        def forward(ctx, x):
            if kind == "undefined":
                ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            if kind == "wrong":
                return grad * x.cos() * 1.01
            if kind == "nondeterministic":
                Sin.calls += 1
                return grad * (x.cos() + 1e-9 * Sin.calls)
            if kind == "undefined" and grad is None:
                return x.cos()
            return grad * x.cos()

    return Sin.apply


def gradcheck(L, *args, **kwargs):
    return L.autograd.gradcheck(*args, **kwargs)


def gradgradcheck(L, *args, **kwargs):
    return L.autograd.gradgradcheck(*args, **kwargs)


# --- gradcheck / gradgradcheck ------------------------------------------------------------------

GRADCHECK_CASES = {
    "correct_functions_true": bundle(
        lambda L: gradcheck(L, L.sin, (f64(L, X3),)),
        lambda L: gradcheck(L, lambda x, y: x * y + x.exp(), (f64(L, X3), f64(L, [2.0, -1.0, 0.5]))),
        lambda L: gradcheck(L, lambda x: (x @ x.t()).tanh(), (f64(L, M23),)),
        lambda L: gradcheck(L, sin_function(L), (f64(L, X3),)),
        lambda L: gradcheck(L, func=L.sin, inputs=(f64(L, X3),)),
        lambda L: gradcheck(L, L.sin, (f64(L, X3),), check_grad_dtypes=True, masked=False),
    ),
    "input_forms": bundle(
        lambda L: gradcheck(L, L.sin, f64(L, X3)),
        lambda L: gradcheck(L, L.sin, [f64(L, X3)]),
        lambda L: gradcheck(L, lambda x, n: x ** n, (f64(L, X3), 3)),
        lambda L: gradcheck(L, lambda x, y: x * y, (f64(L, X3), f64(L, [1.0, 2.0, 3.0], grad=False))),
        lambda L: gradcheck(L, lambda x, i: x * i, (f64(L, X3), L.tensor([2, 3, 4]))),
        lambda L: gradcheck(L, lambda x, y: x.sin(), (f64(L, X3), f64(L, X3))),
    ),
    "shapes_0d_empty_views": bundle(
        lambda L: gradcheck(L, L.exp, (f64(L, 0.3),)),
        lambda L: gradcheck(L, L.exp, (L.zeros(0, dtype=L.float64, requires_grad=True),)),
        lambda L: gradcheck(L, L.sin, (L.arange(6, dtype=L.float64).reshape(2, 3).t().detach().requires_grad_(),)),
        lambda L: gradcheck(L, lambda x: x.sum(), (f64(L, M23),)),
    ),
    "tuple_outputs": bundle(
        lambda L: gradcheck(L, lambda x: (x.sin(), x.cos() * 2), (f64(L, X3),)),
        lambda L: gradcheck(L, lambda x: [x.sin(), x.sum()], (f64(L, X3),)),
        lambda L: gradcheck(L, lambda x: (x.sin(), x.argmax()), (f64(L, X3),)),
    ),
    "output_not_requiring_grad_ignored": lambda L: gradcheck_error(lambda: gradcheck(L, lambda x: (x.sin(), x.detach() * 2), (f64(L, X3),))),
    "wrong_backward_raise_exception_false": bundle(
        lambda L: gradcheck(L, sin_function(L, "wrong"), (f64(L, X3),), raise_exception=False),
        lambda L: gradcheck(L, lambda x: x.detach() * 2, (f64(L, X3),), raise_exception=False),
        lambda L: gradgradcheck(L, lambda x: x.detach().sin() * x, (f64(L, X3),), raise_exception=False),
    ),
    "wrong_backward_raises_gradcheck_error": bundle(
        lambda L: gradcheck_error(lambda: gradcheck(L, sin_function(L, "wrong"), (f64(L, X3),))),
        lambda L: gradcheck_error(lambda: gradcheck(L, sin_function(L, "wrong"), (f64(L, X3),), fast_mode=True)),
        lambda L: gradcheck_error(lambda: gradcheck(L, lambda x: x.detach() * 2, (f64(L, X3),))),
        lambda L: gradcheck_error(lambda: gradgradcheck(L, lambda x: x.detach().sin() * x, (f64(L, X3),))),
    ),
    "gradcheck_error_class": lambda L: (lambda module: (
        issubclass(module.GradcheckError, RuntimeError), module.GradcheckError.__name__))(
            importlib.import_module(f"{L.__name__}.autograd.gradcheck")),
    "tolerances_rtol_atol_eps": bundle(
        lambda L: gradcheck(L, sin_function(L, "wrong"), (f64(L, X3),), rtol=0.02),
        lambda L: gradcheck(L, sin_function(L, "wrong"), (f64(L, X3),), atol=0.1),
        lambda L: gradcheck(L, sin_function(L, "wrong"), (f64(L, X3),), rtol=1e-4, raise_exception=False),
        lambda L: gradcheck(L, lambda x: x ** 3, (f64(L, X3),), eps=0.1, raise_exception=False),
        lambda L: gradcheck(L, lambda x: x ** 3, (f64(L, X3),), eps=0.1, atol=0.05),
        lambda L: gradcheck(L, lambda x: x ** 3, (f64(L, X3),), eps=1e-4),
    ),
    "fast_mode": bundle(
        lambda L: gradcheck(L, L.sin, (f64(L, X3),), fast_mode=True),
        lambda L: gradcheck(L, lambda x, y: (x * y, x.exp()), (f64(L, X3), f64(L, [1.0, 2.0, 3.0])), fast_mode=True),
        lambda L: gradcheck(L, sin_function(L, "wrong"), (f64(L, X3),), fast_mode=True, raise_exception=False),
    ),
    "check_batched_grad_forward_ad": bundle(
        lambda L: gradcheck(L, L.sin, (f64(L, X3),), check_batched_grad=True),
        lambda L: gradcheck(L, lambda x: x.exp() * x, (f64(L, X3),), check_forward_ad=True),
        lambda L: gradcheck(L, L.tanh, (f64(L, X3),), check_forward_ad=True, check_backward_ad=False),
        lambda L: gradgradcheck(L, L.sin, (f64(L, X3),), check_batched_grad=True),
    ),
    "undefined_grad_handled": bundle(
        lambda L: gradcheck(L, sin_function(L), (f64(L, X3),), check_undefined_grad=True),
        lambda L: gradcheck(L, sin_function(L, "undefined"), (f64(L, X3),), check_undefined_grad=False),
    ),
    "undefined_grad_bad_backward": lambda L: warned(lambda: gradcheck(L, sin_function(L, "undefined"), (f64(L, X3),), raise_exception=False)),
    "nondet_tol_allows_drift": bundle(
        lambda L: gradcheck(L, sin_function(L, "nondeterministic"), (f64(L, X3),), nondet_tol=1e-6),
        lambda L: gradcheck(L, sin_function(L, "nondeterministic"), (f64(L, X3),), nondet_tol=1e-6, fast_mode=True),
    ),
    "nondeterministic_backward_fails": lambda L: gradcheck(L, sin_function(L, "nondeterministic"), (f64(L, X3),), raise_exception=False),
    "integer_output_ignored": lambda L: gradcheck_error(lambda: gradcheck(L, lambda x: (x * 2).long(), (f64(L, X3),))),
    "float32_warns_user_warning": bundle(
        lambda L: warned(lambda: gradcheck(L, L.sin, (L.tensor([1.0], requires_grad=True),), raise_exception=False)),
        lambda L: warned(lambda: gradcheck(L, lambda x, y: x * y, (f64(L, [1.0]), L.tensor([2.0], requires_grad=True)),
                                           raise_exception=False)),
        lambda L: warned(lambda: gradcheck(L, L.sin, (f64(L, X3),))),
        lambda L: warned(lambda: gradcheck(L, lambda x, y: x * y, (f64(L, [1.0]), L.tensor([2.0])))),
    ),
    "gradcheck_leaves_grad_alone": lambda L: (lambda x: (gradcheck(L, lambda a: (a * a).sum(), (x,)), x.grad))(f64(L, X3)),
    "gradgradcheck": bundle(
        lambda L: gradgradcheck(L, lambda x: x ** 3, (f64(L, X3),)),
        lambda L: gradgradcheck(L, lambda x: x ** 3, f64(L, X3)),
        lambda L: gradgradcheck(L, lambda x, y: (x * y.sin(), (x ** 2).sum()), (f64(L, X3), f64(L, [0.1, 0.2, 0.3]))),
        lambda L: gradgradcheck(L, lambda x: x ** 3, (f64(L, X3),), (L.tensor([1.0, 2.0, 3.0], dtype=L.float64),)),
        lambda L: gradgradcheck(L, lambda x: x ** 3, f64(L, X3), L.tensor([1.0, 2.0, 3.0], dtype=L.float64)),
        lambda L: gradgradcheck(L, lambda x: x * 2, (f64(L, X3),)),
        lambda L: gradgradcheck(L, L.sin, (f64(L, X3),), fast_mode=True),
        lambda L: gradgradcheck(L, lambda x: x ** 3, (f64(L, X3),), eps=0.1, raise_exception=False),
        lambda L: gradgradcheck(L, lambda x: x ** 3, (f64(L, X3),), eps=0.1, atol=0.5),
    ),
    "grad_mode_on_while_perturbed": lambda L: (lambda seen: (
        gradcheck(L, lambda x: seen.append(L.is_grad_enabled()) or x * 2, (f64(L, X3),)), sorted(set(seen))
    ))([]),
    "hook_adding_a_constant_is_not_multiplied_by_grad_output": lambda L: gradcheck(
        L, lambda x: (lambda y: (y.register_hook(lambda g: g + 1e-2), y)[1])(x.clone()), (f64(L, [1.0]),), atol=0.1,
        raise_exception=False,
    ),
    "expanded_input_refused": lambda L: gradcheck_error(lambda: gradcheck(L, lambda x: x, (f64(L, [1.0]).expand(2, 2),))),
    "outputs_changing_shape_when_perturbed": lambda L: gradcheck_error(
        lambda: gradcheck(L, lambda x: L.cat([x, x]) if L.all(x >= 1) else x, (f64(L, [1.0, 1.0]),))
    ),
    "gradgradcheck_wrong_double_backward": bundle(
        lambda L: gradgradcheck(L, sin_function(L, "wrong"), (f64(L, X3),), raise_exception=False),
        lambda L: gradgradcheck(L, sin_function(L), (f64(L, X3),)),
    ),
}


@pytest.mark.parametrize("run", table(GRADCHECK_CASES))
def test_gradcheck(run):
    same_in_both(run)


# --- assert_close ---------------------------------------------------------------------------------


def close(L, actual, expected, **kwargs):
    return checked(L, lambda: L.testing.assert_close(actual, expected, **kwargs))


def tensors(L, a, b, dtype=None, dtype_b=None):
    return L.tensor(a, dtype=dtype), L.tensor(b, dtype=dtype_b or dtype)


ASSERT_CLOSE_CASES = {
    "float32_default_tolerances": bundle(
        lambda L: close(L, *tensors(L, [1.0, 100.0], [1.0 + 1e-6, 100.0 + 1e-4])),
        lambda L: close(L, *tensors(L, [1.0], [1.0 + 1e-4])),
        lambda L: close(L, *tensors(L, [0.0], [9e-6])),
        lambda L: close(L, *tensors(L, [0.0], [2e-5])),
    ),
    "float64_default_tolerances": bundle(
        lambda L: close(L, *tensors(L, [1.0], [1.0 + 1e-8], L.float64)),
        lambda L: close(L, *tensors(L, [1.0], [1.0 + 1e-6], L.float64)),
        lambda L: close(L, *tensors(L, [0.0], [5e-8], L.float64)),
        lambda L: close(L, *tensors(L, [0.0], [5e-7], L.float64)),
    ),
    "float16_int_bool_tolerances": bundle(
        lambda L: close(L, *tensors(L, [1.0], [1.0009765625], L.float16)),
        lambda L: close(L, *tensors(L, [1.0], [1.01], L.float16)),
        lambda L: close(L, *tensors(L, [1, 2], [1, 2])),
        lambda L: close(L, *tensors(L, [1, 2], [1, 3])),
        lambda L: close(L, *tensors(L, [100], [101], L.int32)),
        lambda L: close(L, *tensors(L, [True, False], [True, False])),
        lambda L: close(L, *tensors(L, [True], [False])),
    ),
    "explicit_rtol_atol": bundle(
        lambda L: close(L, *tensors(L, [1.0], [1.5]), rtol=0, atol=0.5),
        lambda L: close(L, *tensors(L, [1.0], [1.5]), rtol=0, atol=0.4),
        lambda L: close(L, *tensors(L, [1.0], [2.0]), rtol=0.5, atol=0),
        lambda L: close(L, *tensors(L, [1, 2], [1, 3]), rtol=0, atol=1),
        lambda L: close(L, 1.0, 1.1, rtol=0.2, atol=0.0),
    ),
    "rtol_without_atol": bundle(
        lambda L: close(L, *tensors(L, [1.0], [1.0]), rtol=0.1),
        lambda L: close(L, *tensors(L, [1.0], [1.0]), atol=0.1),
    ),
    "nan_and_inf": bundle(
        lambda L: close(L, *tensors(L, [NAN, 1.0], [NAN, 1.0])),
        lambda L: close(L, *tensors(L, [NAN, 1.0], [NAN, 1.0]), equal_nan=True),
        lambda L: close(L, *tensors(L, NAN, NAN)),
        lambda L: close(L, *tensors(L, [INF, -INF], [INF, -INF])),
        lambda L: close(L, *tensors(L, [INF], [-INF]), rtol=0, atol=INF),
        lambda L: close(L, *tensors(L, [1.0], [NAN]), equal_nan=True),
        lambda L: close(L, NAN, NAN),
        lambda L: close(L, NAN, NAN, equal_nan=True),
    ),
    "check_dtype": bundle(
        lambda L: close(L, *tensors(L, [1.0], [1.0], L.float32, L.float64)),
        lambda L: close(L, *tensors(L, [1.0], [1.0], L.float32, L.float64), check_dtype=False),
        lambda L: close(L, *tensors(L, [1], [1.0])),
        lambda L: close(L, *tensors(L, [1], [1.0000001]), check_dtype=False),
        lambda L: close(L, *tensors(L, [1], [1], L.uint8, L.int8), check_dtype=False),
        lambda L: close(L, 1, 1.0),
        lambda L: close(L, 1, 1.0, check_dtype=False),
    ),
    "check_dtype_false_loosest_default_tolerance": lambda L: close(L, *tensors(L, [1.0], [1.0 + 1e-6], L.float32, L.float64), check_dtype=False),
    "shapes": bundle(
        lambda L: close(L, L.zeros(0), L.zeros(0)),
        lambda L: close(L, L.zeros(0), L.zeros(0, 1)),
        lambda L: close(L, L.tensor(1.0), L.tensor([1.0])),
        lambda L: close(L, L.ones(2, 3), L.ones(3, 2)),
        lambda L: close(L, L.ones(1, 3), L.ones(2, 3)),
    ),
    "check_device_layout_stride": bundle(
        lambda L: close(L, *tensors(L, [1.0], [1.0]), check_device=False),
        lambda L: close(L, *tensors(L, [1.0], [1.0]), check_layout=False),
        lambda L: close(L, L.ones(2, 3), L.ones(2, 3), check_stride=True),
        lambda L: close(L, L.ones(3, 2).t(), L.ones(2, 3)),
    ),
    "check_stride_mismatch": lambda L: close(L, L.ones(2, 3), L.ones(3, 2).t(), check_stride=True),
    "requires_grad_tensors": bundle(
        lambda L: close(L, L.tensor([1.0, 2.0], requires_grad=True), L.tensor([1.0, 2.0])),
        lambda L: close(L, L.tensor([1.0, 2.0], requires_grad=True) * 2, L.tensor([2.0, 4.0], requires_grad=True)),
        lambda L: close(L, L.tensor([1.0], requires_grad=True), L.tensor([1.1])),
        lambda L: close(L, L.nn.Parameter(L.tensor([1.0])), L.tensor([1.0])),
    ),
    "allow_subclasses_false": lambda L: close(L, L.nn.Parameter(L.tensor([1.0])), L.tensor([1.0]), allow_subclasses=False),
    "msg_string_and_callable": bundle(
        lambda L: (lambda error: (type(error).__name__, str(error)))(outcome_error(
            lambda: L.testing.assert_close(L.tensor([1.0]), L.tensor([1.5]), msg="boom"))),
        lambda L: (lambda error: (type(error).__name__, str(error)))(outcome_error(
            lambda: L.testing.assert_close(L.tensor([1.0]), L.tensor([1.5, 2.0]), msg="shapes"))),
        lambda L: (lambda error: (type(error).__name__, str(error)))(outcome_error(
            lambda: L.testing.assert_close(L.tensor([1.0]), L.tensor([1.5]), msg=lambda generated: f"{type(generated).__name__}!"))),
        lambda L: (lambda error: (type(error).__name__, str(error)))(outcome_error(
            lambda: L.testing.assert_close(1.0, 2.0, msg="scalars"))),
        lambda L: (lambda error: type(error).__name__)(outcome_error(
            lambda: L.testing.assert_close(L.tensor([1.0]), 1.0, msg="type mismatch keeps TypeError"))),
        lambda L: close(L, *tensors(L, [1.0], [1.0]), msg="unused"),
    ),
    "python_scalars": bundle(
        lambda L: close(L, 1.0, 1.0 + 1e-9),
        lambda L: close(L, 1.0, 1.0 + 1e-6),
        lambda L: close(L, 3, 3),
        lambda L: close(L, 3, 4),
        lambda L: close(L, True, True),
        lambda L: close(L, True, False),
        lambda L: close(L, 1 + 1j, 1 + 1j),
        lambda L: close(L, np.float64(1.0), 1.0),
        lambda L: close(L, np.float32(1.0), 1.0),
    ),
    "sequences_and_mappings": bundle(
        lambda L: close(L, [L.tensor([1.0]), L.tensor(2)], [L.tensor([1.0]), L.tensor(2)]),
        lambda L: close(L, [1.0, 2.0], (1.0, 2.0)),
        lambda L: close(L, [1, 2], [1]),
        lambda L: close(L, [L.tensor([1.0]), L.tensor([2.0])], [L.tensor([1.0]), L.tensor([2.5])]),
        lambda L: close(L, {"a": L.tensor(1.0), "b": [1, 2]}, {"a": L.tensor(1.0), "b": [1, 2]}),
        lambda L: close(L, {"a": L.tensor(1.0)}, collections.OrderedDict(a=L.tensor(1.0))),
        lambda L: close(L, {"a": 1}, {"b": 1}),
        lambda L: close(L, {"a": L.tensor(1.0)}, {"a": L.tensor(2.0)}),
        lambda L: close(L, [[1.0, [2.0]]], [[1.0, [2.0]]]),
        lambda L: close(L, [], []),
    ),
    "numpy_arrays": bundle(
        lambda L: close(L, np.array([1.0]), np.array([1.0 + 1e-9])),
        lambda L: close(L, np.array([1.0]), np.array([1.1])),
        lambda L: close(L, np.array([1.0]), np.array([1.0], dtype=np.float32)),
        lambda L: close(L, np.array([1, 2]), np.array([1, 2])),
    ),
    "mismatched_types": bundle(
        lambda L: close(L, L.tensor(1.0), 1.0),
        lambda L: close(L, L.tensor([1.0]), [1.0]),
        lambda L: close(L, [1.0], L.tensor([1.0])),
        lambda L: close(L, "a", "a"),
        lambda L: close(L, {1}, {1}),
        lambda L: close(L, 1.0, "1.0"),
    ),
    "tensor_vs_numpy_array": lambda L: close(L, L.tensor([1.0]), np.array([1.0], dtype=np.float32)),
    "none_vs_none": lambda L: close(L, None, None),
}


def outcome_error(run):
    """The exception ``run()`` raises (None when it does not)."""
    try:
        run()
    except Exception as error:  # noqa: BLE001 - the tests compare whatever each library raises
        return error
    return None


@pytest.mark.parametrize("run", table(ASSERT_CLOSE_CASES))
def test_assert_close(run):
    same_in_both(run)


# --- make_tensor ----------------------------------------------------------------------------------


def made(L, *shape, **kwargs):
    return L.testing.make_tensor(*shape, device="cpu", **kwargs)


def summary(t):
    """What make_tensor promises, never the random values: dtype, shape, requires_grad, is_leaf,
    contiguity."""
    return str(t.dtype).split(".")[-1], tuple(t.shape), t.requires_grad, t.is_leaf, t.is_contiguous()


def value_range(t):
    return t.min().item(), t.max().item()


MAKE_TENSOR_CASES = {
    "shape_forms": bundle(
        lambda L: summary(made(L, 2, 3, dtype=L.float32)),
        lambda L: summary(made(L, (2, 3), dtype=L.float32)),
        lambda L: summary(made(L, [2, 3], dtype=L.float32)),
        lambda L: summary(made(L, L.Size([2, 3]), dtype=L.float32)),
        lambda L: summary(made(L, (), dtype=L.float32)),
        lambda L: summary(made(L, dtype=L.float32)),
        lambda L: summary(made(L, 0, 3, dtype=L.float32)),
        lambda L: summary(made(L, 4, dtype=L.float64)),
        lambda L: summary(L.testing.make_tensor((2,), dtype=L.float32, device=L.device("cpu"))),
    ),
    "dtypes": bundle(
        lambda L: summary(made(L, 3, dtype=L.float16)),
        lambda L: summary(made(L, 3, dtype=L.int64)),
        lambda L: summary(made(L, 3, dtype=L.int32)),
        lambda L: summary(made(L, 3, dtype=L.uint8)),
        lambda L: summary(made(L, 3, dtype=L.int8)),
        lambda L: summary(made(L, 3, dtype=L.bool)),
    ),
    "default_ranges": bundle(
        lambda L: (lambda t: (t.min().item() >= -9, t.max().item() < 9))(made(L, 2000, dtype=L.float32)),
        lambda L: value_range(made(L, 2000, dtype=L.int64)),
        lambda L: value_range(made(L, 2000, dtype=L.uint8)),
        lambda L: value_range(made(L, 2000, dtype=L.int8)),
        lambda L: sorted(set(made(L, 200, dtype=L.bool).tolist())),
    ),
    "low_high": bundle(
        lambda L: (lambda t: (t.min().item() >= 2.0, t.max().item() < 3.0))(made(L, 500, dtype=L.float64, low=2.0, high=3.0)),
        lambda L: value_range(made(L, 2000, dtype=L.int64, low=2.5, high=5.5)),
        lambda L: value_range(made(L, 2000, dtype=L.int64, low=-3, high=-1)),
        lambda L: value_range(made(L, 2000, dtype=L.uint8, low=-5, high=3)),
        lambda L: value_range(made(L, 20000, dtype=L.int8, low=-1000, high=1000)),
        lambda L: made(L, 2000, dtype=L.float16, low=-1e6, high=1e6).isfinite().all().item(),
        lambda L: made(L, 20, dtype=L.float32, low=-INF, high=INF).isfinite().all().item(),
        lambda L: (lambda t: t.min().item() >= 0.0)(made(L, 500, dtype=L.float32, low=0)),
        lambda L: (lambda t: t.max().item() < 0.0)(made(L, 500, dtype=L.float32, high=0)),
    ),
    "low_equals_high_float": bundle(
        lambda L: made(L, 5, dtype=L.float32, low=2, high=2).unique().tolist(),
    ),
    "low_equals_high_float_future_warning": lambda L: warned(lambda: made(L, 5, dtype=L.float32, low=2, high=2).unique().tolist()),
    "requires_grad": bundle(
        lambda L: summary(made(L, 2, 2, dtype=L.float64, requires_grad=True)),
        lambda L: made(L, 2, dtype=L.float32, requires_grad=True).grad_fn is None,
        lambda L: summary(made(L, 2, 2, dtype=L.float64, requires_grad=True, noncontiguous=True)),
    ),
    "noncontiguous": bundle(
        lambda L: summary(made(L, 3, 4, dtype=L.float32, noncontiguous=True)),
        lambda L: made(L, 3, 4, dtype=L.float32, noncontiguous=True).stride(),
        lambda L: summary(made(L, 1, dtype=L.float32, noncontiguous=True)),
        lambda L: summary(made(L, (), dtype=L.float32, noncontiguous=True)),
        lambda L: summary(made(L, 5, dtype=L.int64, noncontiguous=True)),
        lambda L: summary(made(L, 0, 2, dtype=L.float32, noncontiguous=True)),
    ),
    "exclude_zero": bundle(
        lambda L: sorted(set(made(L, 2000, dtype=L.int64, low=-1, high=1, exclude_zero=True).tolist())),
        lambda L: (made(L, 2000, dtype=L.uint8, low=0, high=2, exclude_zero=True) == 0).any().item(),
        lambda L: made(L, 20, dtype=L.float32, low=0, high=0, exclude_zero=True).unique().tolist(),
        lambda L: made(L, 20, dtype=L.float64, low=0, high=0, exclude_zero=True).unique().tolist(),
        lambda L: (made(L, 2000, dtype=L.bool, exclude_zero=True) == 0).any().item(),
    ),
    "memory_format_channels_last": lambda L: made(L, 2, 3, 4, 5, dtype=L.float32, memory_format=L.channels_last).is_contiguous(
        memory_format=L.channels_last),
}


@pytest.mark.parametrize("run", table(MAKE_TENSOR_CASES))
def test_make_tensor(run):
    same_in_both(run)


# --- allclose / isclose / equal ---------------------------------------------------------------------

AN = [1.0, NAN, INF, -INF, 0.0]
BN = [1.0 + 1e-6, NAN, INF, INF, 1e-9]

CLOSENESS_CASES = {
    "isclose_nan_inf": bundle(
        lambda L: L.isclose(L.tensor(AN), L.tensor(BN)),
        lambda L: L.isclose(L.tensor(AN), L.tensor(BN), equal_nan=True),
        lambda L: L.isclose(L.tensor(AN, dtype=L.float64), L.tensor(BN, dtype=L.float64)),
        lambda L: L.tensor(AN).isclose(L.tensor(BN), rtol=0.0, atol=0.0),
        lambda L: L.isclose(L.tensor([INF]), L.tensor([INF]), atol=0.0, rtol=0.0),
    ),
    "isclose_tolerances_forms": bundle(
        lambda L: L.isclose(L.tensor([1.0, 2.0]), L.tensor([1.1, 2.5]), 0.1, 0.0),
        lambda L: L.isclose(L.tensor([1.0, 2.0]), L.tensor([1.1, 2.5]), rtol=0.0, atol=0.2),
        lambda L: L.isclose(L.tensor([1.0, 2.0]), L.tensor([1.1, 2.5]), atol=0.5),
        lambda L: L.isclose(L.tensor([0.0]), L.tensor([1e-9])),
        lambda L: L.isclose(L.tensor([1e-9]), L.tensor([0.0])),
    ),
    "isclose_dtypes_shapes": bundle(
        lambda L: L.isclose(L.tensor([1, 2]), L.tensor([1, 3])),
        lambda L: L.isclose(L.tensor([1, 2]), L.tensor([2, 4]), atol=1),
        lambda L: L.isclose(L.tensor([True, False]), L.tensor([True, True])),
        lambda L: L.isclose(L.tensor([1.0, 1.001], dtype=L.float16), L.tensor([1.0, 1.0], dtype=L.float16)),
        lambda L: L.isclose(L.tensor([[1.0], [2.0]]), L.tensor([1.0, 2.0])),
        lambda L: L.isclose(L.tensor(1.0), L.tensor(1.0)),
        lambda L: L.isclose(L.zeros(0), L.zeros(0)),
    ),
    "allclose": bundle(
        lambda L: L.allclose(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0 + 1e-6])),
        lambda L: L.allclose(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.1])),
        lambda L: L.allclose(L.tensor([1.0, NAN]), L.tensor([1.0, NAN])),
        lambda L: L.allclose(L.tensor([1.0, NAN]), L.tensor([1.0, NAN]), equal_nan=True),
        lambda L: L.allclose(L.tensor([INF]), L.tensor([INF])),
        lambda L: L.allclose(L.tensor([[1.0], [1.0]]), L.tensor([1.0, 1.0])),
        lambda L: L.allclose(L.zeros(0), L.zeros(0)),
        lambda L: L.tensor([1.0, 2.0]).allclose(L.tensor([1.1, 2.2]), rtol=0.1),
        lambda L: L.allclose(L.tensor([1, 2]), L.tensor([1, 2])),
        lambda L: type(L.allclose(L.tensor([1.0]), L.tensor([1.0]))).__name__,
    ),
    "equal": bundle(
        lambda L: L.equal(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0])),
        lambda L: L.equal(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0 + 1e-6])),
        lambda L: L.equal(L.tensor([1, 1]), L.tensor([1])),
        lambda L: L.equal(L.tensor(1.0), L.tensor([1.0])),
        lambda L: L.equal(L.tensor([NAN]), L.tensor([NAN])),
        lambda L: L.equal(L.tensor([INF]), L.tensor([INF])),
        lambda L: L.equal(L.tensor([1]), L.tensor([1.0])),
        lambda L: L.equal(L.tensor([True, False]), L.tensor([1, 0])),
        lambda L: L.equal(L.zeros(0), L.zeros(0)),
        lambda L: L.equal(L.zeros(0), L.zeros(0, 1)),
        lambda L: L.equal(L.tensor([0.0]), L.tensor([-0.0])),
        lambda L: L.tensor([1, 2]).equal(L.tensor([1, 2])),
        lambda L: type(L.equal(L.tensor([1]), L.tensor([1]))).__name__,
    ),
}


@pytest.mark.parametrize("run", table(CLOSENESS_CASES))
def test_closeness(run):
    same_in_both(run)


# --- autograd.functional ----------------------------------------------------------------------------

F = lambda L: L.autograd.functional  # noqa: E731


def cube_sin(x):
    return x ** 3 * x.sin()


def two_in(x, y):
    return x * y.exp() + y.sum()


def two_out(x):
    return x.exp(), (x ** 2).sum()


def scalar(x):
    return (x ** 3).sum() + (x[0] * x[-1]).sin()


def scalar_two(x, y):
    return (x ** 2 * y.sin()).sum() + (x * x).sum() * y[0]


Y3 = [0.2, -0.7, 1.1]
V3 = [1.0, -2.0, 0.5]

FUNCTIONAL_CASES = {
    "jacobian_nesting": bundle(
        lambda L: F(L).jacobian(cube_sin, f64(L, X3, grad=False)),
        lambda L: F(L).jacobian(two_in, (f64(L, X3, grad=False), f64(L, Y3, grad=False))),
        lambda L: F(L).jacobian(two_out, f64(L, X3, grad=False)),
        lambda L: F(L).jacobian(lambda x, y: (x * y, x.sum()), (f64(L, X3, grad=False), f64(L, Y3, grad=False))),
        lambda L: F(L).jacobian(lambda x: x.sin(), (f64(L, X3, grad=False),)),
        lambda L: F(L).jacobian(lambda x: (x.sin(),), f64(L, X3, grad=False)),
        lambda L: F(L).jacobian(lambda x: x @ x.t(), f64(L, M23, grad=False)),
    ),
    "jacobian_containers": bundle(
        lambda L: type(F(L).jacobian(two_in, (f64(L, X3, grad=False), f64(L, Y3, grad=False)))).__name__,
        lambda L: type(F(L).jacobian(lambda x, y: (x * y, x.sum()), (f64(L, X3, grad=False), f64(L, Y3, grad=False)))[0]).__name__,
        lambda L: type(F(L).jacobian(lambda x: (x.sin(),), f64(L, X3, grad=False))).__name__,
        lambda L: type(F(L).jacobian(two_in, (f64(L, X3, grad=False), f64(L, Y3, grad=False)), vectorize=True)).__name__,
        lambda L: (lambda j: (type(j).__name__, type(j[0]).__name__))(F(L).jacobian(
            lambda x, y: (x * y, x.sum()), (f64(L, X3, grad=False), f64(L, Y3, grad=False)), vectorize=True,
            strategy="forward-mode")),
        lambda L: type(F(L).jacobian(two_in, (f64(L, X3, grad=False), f64(L, Y3, grad=False)), vectorize=True,
                                     strategy="forward-mode")).__name__,
        lambda L: type(F(L).vjp(cube_sin, f64(L, X3, grad=False), f64(L, V3, grad=False))).__name__,
        lambda L: type(F(L).hvp(scalar_two, (f64(L, X3, grad=False), f64(L, Y3, grad=False)),
                                (f64(L, V3, grad=False), f64(L, V3, grad=False)))[1]).__name__,
    ),
    "jacobian_0d_empty_unused": bundle(
        lambda L: F(L).jacobian(lambda x: x.exp(), f64(L, 0.4, grad=False)),
        lambda L: F(L).jacobian(lambda x: x.sum(), f64(L, X3, grad=False)),
        lambda L: F(L).jacobian(lambda x, y: x.sin(), (f64(L, X3, grad=False), f64(L, Y3, grad=False))),
        lambda L: F(L).jacobian(lambda x: L.ones(2, dtype=L.float64), f64(L, X3, grad=False)),
        lambda L: F(L).jacobian(lambda x: x.sin(), f64(L, X3, grad=True)).requires_grad,
    ),
    "jacobian_create_graph_vectorize": bundle(
        lambda L: (lambda j: (j.requires_grad, j))(F(L).jacobian(cube_sin, f64(L, X3), create_graph=True)),
        lambda L: F(L).jacobian(cube_sin, f64(L, X3, grad=False), vectorize=True),
        lambda L: F(L).jacobian(two_in, (f64(L, X3, grad=False), f64(L, Y3, grad=False)), vectorize=True),
        lambda L: F(L).jacobian(two_out, f64(L, X3, grad=False), vectorize=True),
    ),
    "jacobian_forward_mode": bundle(
        lambda L: F(L).jacobian(cube_sin, f64(L, X3, grad=False), vectorize=True, strategy="forward-mode"),
        lambda L: F(L).jacobian(two_in, (f64(L, X3, grad=False), f64(L, Y3, grad=False)), vectorize=True,
                                strategy="forward-mode"),
        lambda L: F(L).jacobian(two_out, f64(L, X3, grad=False), vectorize=True, strategy="forward-mode"),
        lambda L: F(L).jacobian(cube_sin, f64(L, X3, grad=False), strategy="reverse-mode"),
    ),
    "hessian": bundle(
        lambda L: F(L).hessian(scalar, f64(L, X3, grad=False)),
        lambda L: F(L).hessian(scalar_two, (f64(L, X3, grad=False), f64(L, Y3, grad=False))),
        lambda L: F(L).hessian(lambda x: (x ** 4).sum(), f64(L, 0.7, grad=False)),
        lambda L: F(L).hessian(lambda x: (x ** 3).sum().reshape(1), f64(L, X3, grad=False)),
        lambda L: F(L).hessian(lambda x, y: (x * 2).sum(), (f64(L, X3, grad=False), f64(L, Y3, grad=False))),
        lambda L: F(L).hessian(scalar, f64(L, X3, grad=False), vectorize=True),
        lambda L: F(L).hessian(scalar, f64(L, X3, grad=False), vectorize=True, outer_jacobian_strategy="forward-mode"),
        lambda L: (lambda h: (h.requires_grad, h))(F(L).hessian(scalar, f64(L, X3), create_graph=True)),
        lambda L: type(F(L).hessian(scalar_two, (f64(L, X3, grad=False), f64(L, Y3, grad=False)))[1]).__name__,
    ),
    "vjp_jvp": bundle(
        lambda L: F(L).vjp(cube_sin, f64(L, X3, grad=False), f64(L, V3, grad=False)),
        lambda L: F(L).vjp(scalar, f64(L, X3, grad=False)),
        lambda L: F(L).vjp(two_in, (f64(L, X3, grad=False), f64(L, Y3, grad=False)), f64(L, V3, grad=False)),
        lambda L: F(L).vjp(two_out, f64(L, X3, grad=False), (f64(L, V3, grad=False), f64(L, 2.0, grad=False))),
        lambda L: F(L).jvp(cube_sin, f64(L, X3, grad=False), f64(L, V3, grad=False)),
        lambda L: F(L).jvp(lambda x: x.exp() * 3, f64(L, [0.5], grad=False)),
        lambda L: F(L).jvp(two_in, (f64(L, X3, grad=False), f64(L, Y3, grad=False)),
                           (f64(L, V3, grad=False), f64(L, [0.0, 1.0, 0.0], grad=False))),
        lambda L: F(L).jvp(two_out, f64(L, X3, grad=False), f64(L, V3, grad=False)),
        lambda L: F(L).vjp(lambda x: L.ones(3, dtype=L.float64), f64(L, X3, grad=False), f64(L, V3, grad=False)),
    ),
    "hvp_vhp": bundle(
        lambda L: F(L).hvp(scalar, f64(L, X3, grad=False), f64(L, V3, grad=False)),
        lambda L: F(L).vhp(scalar, f64(L, X3, grad=False), f64(L, V3, grad=False)),
        lambda L: F(L).hvp(scalar_two, (f64(L, X3, grad=False), f64(L, Y3, grad=False)),
                           (f64(L, V3, grad=False), f64(L, [0.3, 0.0, -1.0], grad=False))),
        lambda L: F(L).vhp(scalar_two, (f64(L, X3, grad=False), f64(L, Y3, grad=False)),
                           (f64(L, V3, grad=False), f64(L, [0.3, 0.0, -1.0], grad=False))),
        lambda L: F(L).hvp(lambda x: (x ** 4).sum(), f64(L, [0.7], grad=False)),
        lambda L: F(L).vhp(lambda x: (x * 2).sum(), f64(L, X3, grad=False), f64(L, V3, grad=False)),
    ),
    "products_create_graph_flags": bundle(
        lambda L: [each.requires_grad for each in F(L).vjp(cube_sin, f64(L, X3), f64(L, V3, grad=False), create_graph=True)],
        lambda L: [each.requires_grad for each in F(L).vjp(cube_sin, f64(L, X3), f64(L, V3, grad=False))],
        lambda L: [each.requires_grad for each in F(L).jvp(cube_sin, f64(L, X3), f64(L, V3, grad=False), create_graph=True)],
        lambda L: [each.requires_grad for each in F(L).hvp(scalar, f64(L, X3), f64(L, V3, grad=False), create_graph=True)],
        lambda L: [each.requires_grad for each in F(L).vhp(scalar, f64(L, X3), f64(L, V3, grad=False))],
    ),
}


@pytest.mark.parametrize("run", table(FUNCTIONAL_CASES))
def test_functional(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


# --- bad input: PyTorch's exception type ------------------------------------------------------------

RAISES_CASES = {
    # gradcheck / gradgradcheck
    "gradcheck_no_input_requires_grad": lambda L: gradcheck(L, L.sin, (f64(L, X3, grad=False),)),
    "gradcheck_output_none": lambda L: gradcheck(L, lambda x: None, (f64(L, X3),)),
    "gradcheck_output_number": lambda L: gradcheck(L, lambda x: 3.0, (f64(L, X3),)),
    "gradcheck_forward_ad_without_jvp": lambda L: gradcheck(
        L, sin_function(L), (f64(L, X3),), check_forward_ad=True, check_backward_ad=False),
    # assert_close
    "assert_close_values": lambda L: L.testing.assert_close(L.tensor([1.0]), L.tensor([1.1])),
    "assert_close_shape": lambda L: L.testing.assert_close(L.ones(2), L.ones(3)),
    "assert_close_dtype": lambda L: L.testing.assert_close(L.ones(2), L.ones(2, dtype=L.float64)),
    "assert_close_type_pair": lambda L: L.testing.assert_close(L.tensor([1.0]), [1.0]),
    "assert_close_rtol_only": lambda L: L.testing.assert_close(L.ones(1), L.ones(1), rtol=0.1),
    "assert_close_nan": lambda L: L.testing.assert_close(L.tensor([NAN]), L.tensor([NAN])),
    "assert_close_sequence_length": lambda L: L.testing.assert_close([L.ones(1)], [L.ones(1), L.ones(1)]),
    "assert_close_mapping_keys": lambda L: L.testing.assert_close({"a": L.ones(1)}, {"b": L.ones(1)}),
    "assert_close_positional_rtol": lambda L: L.testing.assert_close(L.ones(1), L.ones(1), True),
    # make_tensor
    "make_tensor_no_dtype": lambda L: L.testing.make_tensor(3, device="cpu"),
    "make_tensor_requires_grad_int": lambda L: made(L, 3, dtype=L.int64, requires_grad=True),
    "make_tensor_requires_grad_bool": lambda L: made(L, 3, dtype=L.bool, requires_grad=True),
    "make_tensor_low_above_high": lambda L: made(L, 3, dtype=L.float32, low=3, high=1),
    "make_tensor_low_equals_high_int": lambda L: made(L, 3, dtype=L.int64, low=1, high=1),
    "make_tensor_nan_bound": lambda L: made(L, 3, dtype=L.float32, low=NAN),
    "make_tensor_interval_outside_dtype": lambda L: made(L, 3, dtype=L.uint8, low=-5, high=-1),
    "make_tensor_bool_interval": lambda L: made(L, 3, dtype=L.bool, low=3, high=9),
    "make_tensor_noncontiguous_and_memory_format": lambda L: made(
        L, 2, 3, 4, 5, dtype=L.float32, noncontiguous=True, memory_format=L.channels_last),
    "make_tensor_negative_size": lambda L: made(L, -1, dtype=L.float32),
    "make_tensor_no_device": lambda L: L.testing.make_tensor(3, dtype=L.float32),
    # closeness
    "isclose_mixed_int_float": lambda L: L.isclose(L.tensor([1]), L.tensor([1.0])),
    "isclose_float32_float64": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0], dtype=L.float64)),
    "isclose_negative_rtol": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0]), rtol=-1.0),
    "isclose_negative_atol": lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0]), atol=-1.0),
    "isclose_not_broadcastable": lambda L: L.isclose(L.ones(2), L.ones(3)),
    "isclose_number_other": lambda L: L.isclose(L.tensor([1.0]), 1.0),
    "allclose_mixed_dtypes": lambda L: L.allclose(L.tensor([1]), L.tensor([1.0])),
    "allclose_not_broadcastable": lambda L: L.allclose(L.ones(2), L.ones(3)),
    "equal_list": lambda L: L.equal(L.tensor([1.0]), [1.0]),
    # autograd.functional
    "jacobian_strict_independent_output": lambda L: F(L).jacobian(lambda x: L.ones(2, dtype=L.float64), f64(L, X3, grad=False), strict=True),
    "jacobian_strict_unused_input": lambda L: F(L).jacobian(lambda x, y: x.sin(), (f64(L, X3, grad=False), f64(L, Y3, grad=False)), strict=True),
    "jacobian_strict_vectorize": lambda L: F(L).jacobian(cube_sin, f64(L, X3, grad=False), strict=True, vectorize=True),
    "jacobian_forward_mode_without_vectorize": lambda L: F(L).jacobian(cube_sin, f64(L, X3, grad=False), strategy="forward-mode"),
    "jacobian_forward_mode_create_graph": lambda L: F(L).jacobian(
        cube_sin, f64(L, X3, grad=False), vectorize=True, strategy="forward-mode", create_graph=True),
    "jacobian_bad_strategy": lambda L: F(L).jacobian(cube_sin, f64(L, X3, grad=False), strategy="sideways"),
    "jacobian_list_input": lambda L: F(L).jacobian(cube_sin, [f64(L, X3, grad=False)]),
    "jacobian_number_input": lambda L: F(L).jacobian(lambda x: x, 1.0),
    "jacobian_number_output": lambda L: F(L).jacobian(lambda x: 1.0, f64(L, X3, grad=False)),
    "jacobian_int_input": lambda L: F(L).jacobian(lambda x: x * 2, L.tensor([1, 2])),
    "hessian_vector_output": lambda L: F(L).hessian(lambda x: x ** 2, f64(L, X3, grad=False)),
    "hessian_tuple_output": lambda L: F(L).hessian(lambda x: ((x ** 2).sum(),), f64(L, X3, grad=False)),
    "hessian_strict_linear": lambda L: F(L).hessian(lambda x: (x * 2).sum(), f64(L, X3, grad=False), strict=True),
    "hessian_bad_outer_strategy": lambda L: F(L).hessian(scalar, f64(L, X3, grad=False), outer_jacobian_strategy="sideways"),
    "vjp_v_none_vector_output": lambda L: F(L).vjp(cube_sin, f64(L, X3, grad=False)),
    "vjp_v_wrong_shape": lambda L: F(L).vjp(cube_sin, f64(L, X3, grad=False), f64(L, [1.0, 2.0], grad=False)),
    "vjp_v_wrong_count": lambda L: F(L).vjp(two_out, f64(L, X3, grad=False), f64(L, V3, grad=False)),
    "vjp_strict_independent": lambda L: F(L).vjp(lambda x: L.ones(3, dtype=L.float64), f64(L, X3, grad=False), f64(L, V3, grad=False), strict=True),
    "jvp_v_none_vector_input": lambda L: F(L).jvp(cube_sin, f64(L, X3, grad=False)),
    "jvp_v_wrong_shape": lambda L: F(L).jvp(cube_sin, f64(L, X3, grad=False), f64(L, [1.0], grad=False)),
    "jvp_strict_independent": lambda L: F(L).jvp(lambda x: L.ones(3, dtype=L.float64), f64(L, X3, grad=False), f64(L, V3, grad=False), strict=True),
    "hvp_vector_output": lambda L: F(L).hvp(lambda x: x ** 3, f64(L, X3, grad=False), f64(L, V3, grad=False)),
    "vhp_v_none_vector_input": lambda L: F(L).vhp(scalar, f64(L, X3, grad=False)),
    "hvp_strict_linear": lambda L: F(L).hvp(lambda x: (x * 2).sum(), f64(L, X3, grad=False), f64(L, V3, grad=False), strict=True),
    "vhp_v_not_tensor": lambda L: F(L).vhp(scalar, f64(L, X3, grad=False), [1.0, 2.0, 3.0]),
}


@pytest.mark.parametrize("run", table(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)


# --- gradients through create_graph=True results (float64) ---------------------------------------------


def grad_through(build):
    """``x.grad`` (and ``y.grad``) after backward of a weighted sum of what ``build(L, x, y)`` gives."""
    def run(L):
        x, y = f64(L, X3), f64(L, Y3)
        parts = build(L, x, y)
        parts = parts if isinstance(parts, (tuple, list)) else (parts,)
        total = sum((part.reshape(-1) * L.arange(1, part.numel() + 1, dtype=L.float64)).sum() for part in parts)
        total.backward()
        return x.grad, y.grad
    return run


GRAD_CASES = {
    "jacobian_create_graph": grad_through(lambda L, x, y: F(L).jacobian(cube_sin, x, create_graph=True)),
    "jacobian_tuple_create_graph": grad_through(
        lambda L, x, y: list(F(L).jacobian(two_in, (x, y), create_graph=True))),
    "hessian_create_graph": grad_through(lambda L, x, y: F(L).hessian(scalar, x, create_graph=True)),
    "hessian_tuple_create_graph": grad_through(
        lambda L, x, y: [part for row in F(L).hessian(scalar_two, (x, y), create_graph=True) for part in row]),
    "vjp_create_graph": grad_through(lambda L, x, y: F(L).vjp(cube_sin, x, y, create_graph=True)[1]),
    "vjp_create_graph_output": grad_through(lambda L, x, y: F(L).vjp(cube_sin, x, y, create_graph=True)),
    "jvp_create_graph": grad_through(lambda L, x, y: F(L).jvp(cube_sin, x, y, create_graph=True)[1]),
    "hvp_create_graph": grad_through(lambda L, x, y: F(L).hvp(scalar, x, y, create_graph=True)[1]),
    "vhp_create_graph": grad_through(lambda L, x, y: F(L).vhp(scalar, x, y, create_graph=True)[1]),
    "hvp_two_inputs_create_graph": grad_through(
        lambda L, x, y: F(L).hvp(scalar_two, (x, y), (y * 2, x), create_graph=True)[1]),
    "make_tensor_requires_grad_leaf": lambda L: (lambda t: ((t * 3).sum().backward(), t.grad)[1])(
        made(L, 2, 3, dtype=L.float64, requires_grad=True)),
}


@pytest.mark.parametrize("run", table(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)
