"""A sweep of tensor printing and object reprs against PyTorch (the oracle): ``str`` / ``repr`` of
float32 / float64 / float16 / bfloat16 / integer / bool / empty / 0-d tensors, the ``dtype=`` and
``size=`` suffix rules, ``requires_grad=True`` and ``grad_fn=<...>`` suffixes (custom Functions,
CopySlices, views), summarizing with ``...`` (``threshold`` / ``edgeitems``), the choice of scientific
notation, whole floats printed ``1.``, ``-0.``, NaN / inf, very large and very small values, wrapping
of wide rows at ``linewidth``, ``set_printoptions`` (each option, ``profile='default'/'short'/'full'``,
``sci_mode`` reset on every call), ``Tensor.__format__``, the reprs of ``Parameter``, ``Size``,
``dtype``, ``device``, ``layout``, ``finfo`` / ``iinfo``, ``torch.return_types`` results, modules'
reprs and ``extra_repr`` (layers with non-default arguments, ``Sequential`` / ``ModuleList`` /
``ModuleDict`` nesting, ``ParameterList`` / ``ParameterDict``, ``state_dict``), optimizers' reprs
(several parameter groups, ``initial_lr`` once a scheduler is attached), lr schedulers' class names,
distributions' reprs, the error types PyTorch raises for bad input, and float64 gradients that
printing must leave as they are.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares the strings exactly.
The one deliberate difference is the library's name (``chainrule.float64``, ``chainrule.Size``,
``chainrule.return_types.max``): chainrule's ``chainrule.`` is read as ``torch.``, and, because the
length of ``dtype=...`` decides where a tensor's suffixes wrap, chainrule's tensor reprs are made to
name dtypes ``torch.*`` here (as tests/test_print_parity.py does). Tests marked
``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an XPASS failure
the day it is fixed, and the mark must go.
"""
import collections
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, outcome, plain, raises_as_torch, same_in_both

# PyTorch's own modules call its deprecated torch.jit.script when they are built.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:torch")

NAN = float("nan")
INF = float("inf")


# --- printing helpers ---------------------------------------------------------------------------


def as_torch_names(value):
    """chainrule's output with its library name read as PyTorch's (``chainrule.Size`` -> ``torch.Size``)."""
    if isinstance(value, str):
        return value.replace("chainrule.", "torch.")
    if isinstance(value, (list, tuple)):
        return [as_torch_names(each) for each in value]
    return value


def same_text(run):
    """``run(L)`` gives a string (or a list of strings and plain values); both libraries give the same."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = run(torch)
        actual = run(chainrule)
    assert as_torch_names(actual) == as_torch_names(expected)


def restore_defaults(L):
    L.set_printoptions(profile="default")
    L.set_default_dtype(L.float32)


@pytest.fixture(autouse=True)
def _pytorch_dtype_names_and_default_print_options(monkeypatch):
    monkeypatch.setattr(chainrule.dtypes, "dtype_name", lambda dtype: "torch." + ("bool" if np.dtype(dtype) == np.bool_ else np.dtype(dtype).name))
    try:
        yield
    finally:
        for L in (torch, chainrule):
            restore_defaults(L)


def reprs(*makes):
    """``repr`` of each tensor (or object) that ``make(L)`` builds, and ``str`` of the first."""
    def run(L):
        values = [make(L) for make in makes]
        return [str(values[0])] + [repr(each) for each in values]
    return run


def with_options(options, *makes):
    """The reprs of ``make(L)`` under ``set_printoptions(**options)``; the defaults come back after."""
    def run(L):
        L.set_printoptions(**options)
        try:
            return reprs(*makes)(L)
        finally:
            L.set_printoptions(profile="default")
    return run


def t(L, data, **kwargs):
    return L.tensor(data, **kwargs)


WIDE = np.linspace(-3.0, 3.0, 25, dtype=np.float32)
GRID = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10) / 4


def _doubled_without_grad(L):
    x = t(L, [1.0], requires_grad=True)
    with L.no_grad():
        return x * 2


# --- tensors: values, dtypes, suffixes ----------------------------------------------------------

TENSOR_CASES = {
    "float32_fixed_and_whole": reprs(lambda L: t(L, [1.5, -2.25, 3.0]), lambda L: t(L, [1.0, 2.0, -3.0]), lambda L: t(L, [0.1, 0.2])),
    "float32_2d_3d": reprs(lambda L: t(L, GRID[0]), lambda L: t(L, GRID), lambda L: t(L, [[[[7.0]]]])),
    "float64_dtype_suffix": reprs(lambda L: t(L, [1.5, 2.0], dtype=L.float64), lambda L: t(L, 2.5, dtype=L.float64),
                                  lambda L: t(L, [[1.0], [2.0]], dtype=L.double)),
    "float16_suffix": reprs(lambda L: t(L, [1.5, 2.0], dtype=L.float16), lambda L: t(L, [65504.0, 1.0], dtype=L.half)),
    "float16_subnormal_sci": reprs(lambda L: t(L, [6e-8, 1.0], dtype=L.float16)),
    "int_dtypes": reprs(lambda L: t(L, [1, -20, 300]), lambda L: t(L, [1, 2], dtype=L.int32), lambda L: t(L, [1, 2], dtype=L.uint8),
                        lambda L: t(L, [-128, 127], dtype=L.int8), lambda L: t(L, [1, 2], dtype=L.int16)),
    "int64_extremes": reprs(lambda L: t(L, [2**62, -(2**63)]), lambda L: t(L, 7)),
    "bool": reprs(lambda L: t(L, [True, False]), lambda L: t(L, True), lambda L: t(L, [[True], [True]])),
    "zero_d_scalars": reprs(lambda L: t(L, 2.5), lambda L: t(L, -0.0), lambda L: t(L, NAN), lambda L: t(L, -INF), lambda L: t(L, 1e-5),
                            lambda L: t(L, 123456789.0), lambda L: t(L, 3.0)),
    "empty_shapes_dtypes": reprs(lambda L: L.zeros(0), lambda L: L.zeros(2, 0), lambda L: L.zeros(0, 3, dtype=L.int64),
                                 lambda L: L.zeros(0, dtype=L.bool), lambda L: L.zeros(0, dtype=L.float64),
                                 lambda L: L.zeros(1, 0, 2, dtype=L.int32)),
    "empty_requires_grad": reprs(lambda L: L.zeros(0, 2, requires_grad=True), lambda L: L.zeros(0, dtype=L.float64, requires_grad=True)),
    "negative_zero": reprs(lambda L: t(L, [-0.0, 1.0]), lambda L: t(L, [-0.0, 0.0]), lambda L: t(L, [-0.0, 1.5])),
    "nan_inf": reprs(lambda L: t(L, [NAN, NAN]), lambda L: t(L, [INF, -INF]), lambda L: t(L, [NAN, 1.5]), lambda L: t(L, [1.0, INF, NAN]),
                     lambda L: t(L, [NAN, 1e-8, 2.0])),
    "sci_choice_ratio": reprs(lambda L: t(L, [1.0, 1000.0]), lambda L: t(L, [1.0, 1001.0]), lambda L: t(L, [0.5, 499.0]),
                              lambda L: t(L, [0.5, 501.0])),
    "sci_choice_large": reprs(lambda L: t(L, [1e8]), lambda L: t(L, [1.5e8]), lambda L: t(L, [3e38, -1e37]), lambda L: t(L, [1e300], dtype=L.float64)),
    "sci_choice_small": reprs(lambda L: t(L, [1e-4]), lambda L: t(L, [1e-4], dtype=L.float64), lambda L: t(L, [2e-4, 3e-4]),
                              lambda L: t(L, [1e-45, 1.0]), lambda L: t(L, [5e-324], dtype=L.float64)),
    "zeros_do_not_choose_sci": reprs(lambda L: t(L, [0.0, 1e-3, 0.5]), lambda L: t(L, [0.0, 0.0, 12345.0])),
    "rounding_at_precision": reprs(lambda L: t(L, [0.99995, 1.00005], dtype=L.float64), lambda L: t(L, [2.5e-5, 1.0], dtype=L.float64),
                                   lambda L: t(L, [9.99996e7, 1.0], dtype=L.float64)),
    "wide_row_wraps": reprs(lambda L: t(L, WIDE), lambda L: L.arange(40), lambda L: L.arange(30.0).reshape(2, 15)),
    "wide_row_wraps_with_suffix": reprs(lambda L: t(L, WIDE, dtype=L.float64, requires_grad=True),
                                        lambda L: L.arange(19, dtype=L.int32), lambda L: t(L, WIDE[:11], requires_grad=True)),
    "threshold_boundary": reprs(lambda L: L.arange(1000), lambda L: L.arange(1001), lambda L: L.arange(1001.0) / 7),
    "summarized_2d_3d": reprs(lambda L: L.arange(2000).reshape(40, 50), lambda L: L.arange(1100.0).reshape(11, 10, 10) / 3,
                              lambda L: L.arange(2002).reshape(2, 1001), lambda L: L.arange(2002).reshape(1001, 2)),
    "summarized_sci_from_shown_only": reprs(lambda L: L.cat([t(L, [1.0, 2.0, 3.0]), L.full((1000,), 1e-9), t(L, [4.0, 5.0, 6.0])])),
    "requires_grad_suffix": reprs(lambda L: t(L, [1.0, 2.0], requires_grad=True), lambda L: t(L, 3.5, requires_grad=True),
                                  lambda L: t(L, [1.0], dtype=L.float16, requires_grad=True)),
    "no_grad_and_detach_drop_suffix": reprs(lambda L: t(L, [1.0, 2.0], requires_grad=True).detach(),
                                            _doubled_without_grad,
                                            lambda L: t(L, [1.0, 2.0], requires_grad=True).data),
    "noncontiguous_views": reprs(lambda L: t(L, GRID[0]).t(), lambda L: t(L, GRID[0]).flip(0), lambda L: t(L, [1.0, 2.0]).expand(3, 2),
                                 lambda L: t(L, GRID)[:, ::2, 1]),
    "default_dtype_float64": lambda L: (L.set_default_dtype(L.float64),
                                        reprs(lambda L: t(L, [1.5]), lambda L: t(L, [1.5], dtype=L.float32), lambda L: L.zeros(0),
                                              lambda L: L.zeros(0, dtype=L.float32), lambda L: t(L, [1, 2]))(L),
                                        L.set_default_dtype(L.float32))[1],
    "default_dtype_float16": lambda L: (L.set_default_dtype(L.float16),
                                        reprs(lambda L: t(L, [1.5]), lambda L: t(L, [1.5], dtype=L.float32), lambda L: L.zeros(0),
                                              lambda L: L.arange(3.0))(L),
                                        L.set_default_dtype(L.float32))[1],
    "tensor_in_containers": lambda L: [repr([t(L, 1.0), t(L, [2, 3])]), str((t(L, True),)), repr({"a": t(L, [0.5])})],
    "str_equals_repr": lambda L: [str(t(L, GRID)) == repr(t(L, GRID)), str(t(L, [1.0], requires_grad=True))],
    "grad_printed": lambda L: (lambda x: ((x * x).sum().backward(), repr(x.grad))[1])(t(L, [1.0, 2.5], requires_grad=True)),
    "grad_none_printed": lambda L: repr(t(L, [1.0], requires_grad=True).grad),
}


@pytest.mark.parametrize("run", list(TENSOR_CASES.values()), ids=list(TENSOR_CASES))
def test_tensor_prints_as_in_pytorch(run):
    same_text(run)


# --- grad_fn=<...> ------------------------------------------------------------------------------


def grad_fn_reprs(*functions):
    """``repr(function(x, L))`` and its ``grad_fn.name()`` for x (2, 3) requiring grad."""
    def run(L):
        x = t(L, GRID[0, :2, :3], requires_grad=True)
        results = [function(x, L) for function in functions]
        return [repr(each) for each in results] + [each.grad_fn.name() for each in results]
    return run


def test_copy_slices_node_name():
    def run(L):
        y = t(L, [1.0, 2.0, 3.0], requires_grad=True) * 1
        y[0] = 5.0
        return y.grad_fn.name()
    same_text(run)


class _Square:
    """A custom autograd Function, built for each library."""

    @staticmethod
    def make(L):
        class Square(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        return Square


def _copy_slices(L):
    x = t(L, [1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[0] = 5.0
    return [repr(y), type(y.grad_fn).__name__, (x * 2).grad_fn.next_functions[0][0].name()]


GRAD_FN_CASES = {
    "arithmetic": grad_fn_reprs(lambda x, L: x + 1, lambda x, L: 1 - x, lambda x, L: x * x, lambda x, L: x / 2, lambda x, L: -x,
                                lambda x, L: 2 - x, lambda x, L: x - x),
    "powers": grad_fn_reprs(lambda x, L: x ** 2, lambda x, L: x.abs() ** x, lambda x, L: 2 ** x, lambda x, L: x.pow(3)),
    "reductions": grad_fn_reprs(lambda x, L: x.sum(), lambda x, L: x.sum(dim=0), lambda x, L: x.mean(), lambda x, L: x.mean(1),
                                lambda x, L: x.max(), lambda x, L: x.prod(), lambda x, L: x.std(), lambda x, L: x.norm(),
                                lambda x, L: x.amax(1), lambda x, L: x.logsumexp(1)),
    "reductions_dim_namedtuple": lambda L: (lambda x: [repr(x.max(1)), repr(x.min(0)), x.max(1).values.grad_fn.name()])(
        t(L, GRID[0, :2, :3], requires_grad=True)),
    "views": grad_fn_reprs(lambda x, L: x.view(6), lambda x, L: x.t(), lambda x, L: x[0], lambda x, L: x[:, 1:], lambda x, L: x.unsqueeze(0),
                           lambda x, L: x.squeeze(), lambda x, L: x.unsqueeze(0).squeeze(0), lambda x, L: x.permute(1, 0),
                           lambda x, L: x.expand(2, 2, 3), lambda x, L: x.transpose(0, 1)),
    "copies": grad_fn_reprs(lambda x, L: x.clone(), lambda x, L: x.double(), lambda x, L: x.to(L.float16), lambda x, L: x[[0, 1]],
                            lambda x, L: x.repeat(2, 1), lambda x, L: x.t().reshape(6), lambda x, L: L.cat([x, x]),
                            lambda x, L: L.stack([x, x])),
    "products": grad_fn_reprs(lambda x, L: x @ x.t(), lambda x, L: x[0] @ x[1], lambda x, L: x.t() @ x[:, 0],
                              lambda x, L: L.nn.functional.linear(x, x)),
    "activations": grad_fn_reprs(lambda x, L: x.relu(), lambda x, L: x.sigmoid(), lambda x, L: x.tanh(), lambda x, L: x.softmax(1),
                                 lambda x, L: L.nn.functional.log_softmax(x, 1), lambda x, L: x.exp(), lambda x, L: x.clamp(0, 1),
                                 lambda x, L: L.where(x > 0, x, 0.0)),
    "losses": grad_fn_reprs(lambda x, L: L.nn.functional.mse_loss(x, x.detach() * 2),
                            lambda x, L: L.nn.functional.cross_entropy(x, t(L, [0, 2]))),
    "inplace_on_nonleaf": grad_fn_reprs(lambda x, L: (x * 1).add_(1), lambda x, L: (x * 1).relu_(), lambda x, L: (x * 1).mul_(x)),
    "copy_slices": _copy_slices,
    "custom_function": lambda L: (lambda x: [repr(y := _Square.make(L).apply(x)), type(y.grad_fn).__name__])(
        t(L, [1.0, 2.0], requires_grad=True)),
    "float64_grad_fn_with_dtype": grad_fn_reprs(lambda x, L: x.double() * 2, lambda x, L: (x.double() * 2).sum()),
    "grad_fn_repr_prefix": lambda L: repr((t(L, [1.0], requires_grad=True) * 2).grad_fn).split(" object at ")[0],
}


@pytest.mark.parametrize("run", list(GRAD_FN_CASES.values()), ids=list(GRAD_FN_CASES))
def test_grad_fn_prints_as_in_pytorch(run):
    same_text(run)



def printed_result(expression):
    """``repr`` and ``grad_fn.name()`` of ``expression`` evaluated with x (2, 3) requiring grad."""
    def run(L):
        x = t(L, [[-0.5, 0.25, 0.75], [0.6, -0.3, 0.2]], requires_grad=True)
        result = eval(expression, {"L": L, "x": x})  # noqa: S307 - the test's own expressions
        return [repr(result), result.grad_fn.name() if result.grad_fn is not None else None, result is x]
    return run


def _named(expression, reason=None):
    return pytest.param(expression, id=expression, marks=[bug(reason)] if reason else [])


GRAD_FN_NAMES = [
    _named("x.expand(2, 3)"),
    _named("x.expand_as(L.ones(2, 3))"),
    _named("x.broadcast_to((2, 3))"),
    _named("x.expand(2, 2, 3)"),
    _named("x[:]"),
    _named("x[0:5]"),
    _named("x.narrow(0, 0, 2)"),
    _named("x[1:]"),
    _named("x[...]"),
    _named("x.to(L.float32, copy=True)"),
    _named("x.repeat_interleave(2)"),
    _named("x.repeat_interleave(2, dim=0)"),
    _named("L.baddbmm(L.ones(1, 2, 2), x[None], x.t()[None])"),
    _named("L.addbmm(L.ones(2, 2), x[None], x.t()[None])"),
    _named("L.addmv(L.ones(2), x, x[0])"),
    _named("L.addr(L.ones(2, 3), x[0, :2], x[0])"),
    _named("L.addmm(L.ones(2, 2), x, x.t())"),
    _named("L.kron(x, x)"),
    _named("L.block_diag(x, x)"),
    _named("L.atleast_2d(x[0])"),
    _named("L.linalg.multi_dot([x, x.t()])"),
    _named("L.trapezoid(x)"),
    _named("L.nn.functional.pixel_shuffle(x.reshape(1, 1, 2, 3).expand(1, 4, 2, 3), 2)"),
    _named("L.special.ndtr(x)"),
    _named("L.copysign(x, -1.0)"),
    _named("L.div(x, 2, rounding_mode=None)"),
    _named("L.div(x, 2)"),
    _named("x.div(x.abs() + 1, rounding_mode='floor') + x"),
]


@pytest.mark.parametrize("expression", GRAD_FN_NAMES)
def test_result_grad_fn_as_in_pytorch(expression):
    same_text(printed_result(expression))


def test_broadcast_to_varargs():
    same_text(printed_result("x.broadcast_to(2, 2, 3)"))


# --- set_printoptions ---------------------------------------------------------------------------

SCI = lambda L: t(L, [1e-5, 1.0, 3.5])  # noqa: E731 - one small table of makers
PLAIN = lambda L: t(L, [-1.5, 2.25, 100.0])  # noqa: E731
WHOLE = lambda L: t(L, [1.0, -2.0, 30.0])  # noqa: E731
LONG = lambda L: L.arange(20.0) / 3  # noqa: E731
INTS = lambda L: L.arange(20)  # noqa: E731

OPTION_CASES = {
    "precision_2_0_8": bundle(with_options(dict(precision=2), PLAIN, SCI), with_options(dict(precision=0), PLAIN, SCI, WHOLE),
                              with_options(dict(precision=8), PLAIN, lambda L: t(L, [0.1]), lambda L: t(L, [0.1], dtype=L.float64))),
    "precision_12_float16": with_options(dict(precision=12), lambda L: t(L, [0.1, 1.0], dtype=L.float16)),
    "threshold_small": with_options(dict(threshold=5), INTS, LONG, lambda L: t(L, GRID), lambda L: L.arange(5)),
    "threshold_zero": with_options(dict(threshold=0), lambda L: L.arange(7), lambda L: t(L, 3.0), lambda L: t(L, [1.0])),
    "edgeitems_1_and_5": bundle(with_options(dict(threshold=5, edgeitems=1), INTS, lambda L: L.arange(60).reshape(3, 4, 5)),
                                with_options(dict(threshold=10, edgeitems=5), INTS, lambda L: L.arange(60).reshape(12, 5))),
    "edgeitems_zero_size_suffix": with_options(dict(threshold=5, edgeitems=0), INTS, lambda L: L.arange(60.0).reshape(3, 4, 5),
                                               lambda L: t(L, [1.0, 2.0]), lambda L: t(L, [1, 2], dtype=L.int32)),
    "linewidth_narrow_wide": bundle(with_options(dict(linewidth=20), LONG, INTS, lambda L: t(L, [1.0, 2.0], requires_grad=True)),
                                    with_options(dict(linewidth=200), LONG, lambda L: L.arange(60.0).reshape(2, 30))),
    "linewidth_suffix_to_new_line": with_options(dict(linewidth=30), lambda L: t(L, [1.5, 2.5, 3.5], dtype=L.float64, requires_grad=True)),
    "sci_mode_true": with_options(dict(sci_mode=True), PLAIN, WHOLE, INTS, lambda L: t(L, [0.0, NAN]), lambda L: t(L, 2.0)),
    "sci_mode_false": with_options(dict(sci_mode=False), SCI, lambda L: t(L, [1e-5, 1e9]), lambda L: t(L, [1.0, 1e10])),
    "sci_mode_true_mixed_signs": with_options(dict(sci_mode=True), lambda L: t(L, [-1.5, 2.5]), lambda L: t(L, [-1.0, 20.0])),
    "profile_short": with_options(dict(profile="short"), PLAIN, SCI, lambda L: L.arange(1001), lambda L: L.arange(2000).reshape(40, 50)),
    "profile_full": with_options(dict(profile="full"), lambda L: L.arange(1001) % 7),
    "profile_short_then_override": with_options(dict(profile="short", precision=6, edgeitems=1), PLAIN, lambda L: L.arange(1001)),
    "linewidth_zero_one_per_line": with_options(dict(linewidth=0), lambda L: L.arange(12.0).reshape(3, 4) / 3, lambda L: t(L, 2.5),
                                                lambda L: t(L, [1.0, 2.0], dtype=L.float64, requires_grad=True)),
    "threshold_negative_summarizes_all": with_options(dict(threshold=-1), lambda L: L.arange(7), lambda L: t(L, 2.5), lambda L: L.zeros(0, 2),
                                                      lambda L: t(L, [True])),
    "edgeitems_beyond_dims": with_options(dict(edgeitems=100, threshold=3), lambda L: L.arange(12.0).reshape(3, 4) / 3),
    "precision_sci_small": with_options(dict(precision=1, sci_mode=True), lambda L: t(L, [1e-6, 1.0]), lambda L: L.arange(3.0) * 1e9),
    "options_with_summarized_sci": with_options(dict(threshold=10, edgeitems=2, precision=3), lambda L: L.cat([t(L, [1e-7]), L.ones(20), t(L, [1e7])])),
}


@pytest.mark.parametrize("run", list(OPTION_CASES.values()), ids=list(OPTION_CASES))
def test_print_options_as_in_pytorch(run):
    same_text(run)


def test_every_set_printoptions_call_resets_sci_mode():
    def run(L):
        L.set_printoptions(sci_mode=True)
        L.set_printoptions(precision=3)  # sci_mode left out: back to None
        try:
            return repr(t(L, [1.5, 2.5]))
        finally:
            L.set_printoptions(profile="default")
    same_text(run)


def test_profile_default_restores_every_option():
    def run(L):
        L.set_printoptions(precision=1, threshold=3, edgeitems=1, linewidth=20, sci_mode=True)
        L.set_printoptions(profile="default")
        return reprs(LONG, PLAIN, lambda L: L.arange(1001))(L)
    same_text(run)


def test_set_printoptions_keywords_and_positional():
    def run(L):
        L.set_printoptions(2, 5, 1, 40)
        try:
            return reprs(LONG, PLAIN)(L)
        finally:
            L.set_printoptions(profile="default")
    same_text(run)


def test_set_printoptions_unknown_profile_is_ignored():
    def run(L):
        L.set_printoptions(profile="bogus", precision=2)
        try:
            return repr(PLAIN(L))
        finally:
            L.set_printoptions(profile="default")
    same_text(run)


# --- Tensor.__format__ --------------------------------------------------------------------------

FORMAT_CASES = {
    "zero_d_spec": lambda L: [f"{t(L, 2.5):.2f}", f"{t(L, 3):d}", f"{t(L, 3):>5}", f"{t(L, 1.0 / 3, dtype=L.float64):.6e}",
                              f"{t(L, 2.0, requires_grad=True):.1f}"],
    "zero_d_empty_spec_is_the_number": lambda L: [f"{t(L, 2.5)}", f"{t(L, True)}", format(t(L, 7)), f"{t(L, 0.1)}"],
    "nd_empty_spec_is_str": lambda L: [f"{t(L, [1.0, 2.0])}", format(t(L, [[1, 2]]), ""), "{}".format(t(L, [True]))],
}


@pytest.mark.parametrize("run", list(FORMAT_CASES.values()), ids=list(FORMAT_CASES))
def test_format_as_in_pytorch(run):
    same_text(run)


def test_format_zero_d_parameter_is_its_str():
    same_text(lambda L: f"{L.nn.Parameter(t(L, 2.5))}")



class _Subclass:
    @staticmethod
    def make(L):
        class MyT(L.Tensor):
            pass

        return MyT


def test_tensor_subclass_prints_its_name():
    same_text(lambda L: [repr(t(L, [1.0, 2.0]).as_subclass(_Subclass.make(L))), repr(t(L, 3).as_subclass(_Subclass.make(L)))])


def test_tensor_subclass_survives_operations():
    def run(L):
        a = t(L, [1.0, 2.0]).as_subclass(_Subclass.make(L))
        return [type(each).__name__ for each in (a + 1, a.sum(), a[0], a.view(2), a.detach(), a.clone(), L.add(a, 1))]
    same_text(run)


def test_parameter_of_tensor_subclass():
    same_text(lambda L: repr(L.nn.Parameter(t(L, [1.0, 2.0]).as_subclass(_Subclass.make(L)))))

# --- Parameter, Size, dtype, device, finfo / iinfo ----------------------------------------------

OBJECT_CASES = {
    "parameter": reprs(lambda L: L.nn.Parameter(t(L, [1.0, 2.0])), lambda L: L.nn.Parameter(t(L, [1.0], dtype=L.float64)),
                       lambda L: L.nn.Parameter(t(L, 2.5)), lambda L: L.nn.Parameter(L.zeros(0, 2)),
                       lambda L: L.nn.Parameter(t(L, [1.0]), requires_grad=False), lambda L: L.nn.Parameter(t(L, GRID[0]))),
    "parameter_ops_are_tensors": reprs(lambda L: L.nn.Parameter(t(L, [1.0, 2.0])) * 2, lambda L: L.nn.Parameter(t(L, [1.0])).detach()),
    "size": lambda L: [repr(L.Size([2, 3])), str(L.Size([])), repr(t(L, GRID).shape), repr(t(L, GRID).size()), repr(t(L, GRID).shape[1:]),
                       repr(t(L, GRID).shape + (1,)), repr((1,) + L.Size([2])), repr(t(L, 1.0).shape), f"{t(L, GRID).shape}",
                       t(L, GRID).size(-1), t(L, GRID).shape.numel(), repr(L.Size([2, 3]) * 2)],
    "dtype": lambda L: [repr(L.float32), str(L.float64), repr(L.long), repr(L.half), repr(L.bool), repr(L.uint8), repr(L.bfloat16),
                        repr(L.int), repr(L.float), repr(L.double), f"{L.int16}", repr(t(L, [1]).dtype), repr(L.get_default_dtype())],
    "dtype_properties": lambda L: [[d.is_floating_point, d.is_signed, d.itemsize] for d in (L.float32, L.float16, L.int8, L.uint8, L.bool, L.int64)],
    "device_layout_memory_format": lambda L: [repr(L.device("cpu")), str(L.device("cpu")), repr(L.device("cuda", 1)), str(L.device("cuda:0")),
                                              repr(t(L, [1.0]).device), repr(L.strided), repr(L.contiguous_format), repr(L.channels_last),
                                              repr(t(L, [1.0]).layout)],
    "finfo": lambda L: [repr(L.finfo(L.float32)), repr(L.finfo(L.float64)), repr(L.finfo(L.float16)), repr(L.finfo(L.bfloat16)),
                        repr(L.finfo()), str(L.finfo(L.float32))],
    "finfo_attributes": lambda L: [(f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution, str(f.dtype))
                                   for f in (L.finfo(L.float32), L.finfo(L.float16), L.finfo(L.float64))],
    "iinfo": lambda L: [repr(L.iinfo(L.int32)), repr(L.iinfo(L.int64)), repr(L.iinfo(L.uint8)), repr(L.iinfo(L.int8)),
                        repr(L.iinfo(L.int16)), str(L.iinfo(L.int32))],
    "iinfo_attributes": lambda L: [(i.bits, i.min, i.max, str(i.dtype)) for i in (L.iinfo(L.int8), L.iinfo(L.uint8), L.iinfo(L.int64))],
    "finfo_of_tensor_dtype": lambda L: repr(L.finfo(t(L, [1.0], dtype=L.float64).dtype)),
}


@pytest.mark.parametrize("run", list(OBJECT_CASES.values()), ids=list(OBJECT_CASES))
def test_object_reprs_as_in_pytorch(run):
    same_text(run)


# --- torch.return_types -------------------------------------------------------------------------

M = [[3.0, 1.0, 2.0], [1.0, 5.0, 0.5]]

RETURN_TYPE_CASES = {
    "max_min": lambda L: [repr(L.max(t(L, M), 1)), repr(t(L, M).min(dim=0)), repr(L.max(t(L, M), 1, keepdim=True))],
    "sort_topk_kthvalue": lambda L: [repr(L.sort(t(L, M))), repr(t(L, M).topk(2)), repr(L.kthvalue(t(L, M), 1))],
    "mode_median_cummax": lambda L: [repr(L.mode(t(L, [[1, 1, 2]]))), repr(L.median(t(L, M), 1)), repr(L.cummax(t(L, M), 1)),
                                     repr(L.cummin(t(L, M), 0))],
    "aminmax_frexp": lambda L: [repr(L.aminmax(t(L, M))), repr(L.frexp(t(L, [8.0, 0.5])))],
    "linalg": lambda L: [repr(L.linalg.slogdet(t(L, [[2.0, 0.0], [0.0, 3.0]]))),
                         repr(L.linalg.eigh(t(L, [[2.0, 0.0], [0.0, 1.0]])))],
    "histogram": lambda L: repr(L.histogram(t(L, [1.0, 2.0, 2.0]), bins=2)),
    "type_name_module_len": lambda L: (lambda r: [type(r).__name__, type(r).__module__.replace("chainrule", "torch"), len(r),
                                                   repr(r[0]), repr(tuple(r))])(L.max(t(L, M), 1)),
    "with_grad_fn": lambda L: repr(L.max(t(L, M, requires_grad=True), 1)),
    "plain_tuples_not_namedtuples": lambda L: [repr(L.std_mean(t(L, M))), repr(L.var_mean(t(L, M), 1)),
                                               repr(L.unique(t(L, [2, 1, 2]), return_counts=True))],
}


@pytest.mark.parametrize("run", list(RETURN_TYPE_CASES.values()), ids=list(RETURN_TYPE_CASES))
def test_return_types_print_as_in_pytorch(run):
    same_text(run)


# --- modules ------------------------------------------------------------------------------------


def module_repr(build):
    return lambda L: [repr(build(L)), str(build(L))]


MODULE_CASES = {
    "linear": module_repr(lambda L: [L.nn.Linear(3, 4), L.nn.Linear(3, 4, bias=False), L.nn.Linear(in_features=1, out_features=2)]),
    "conv1d_conv2d": module_repr(lambda L: [L.nn.Conv1d(2, 4, 3, stride=2, padding=1, bias=False),
                                            L.nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=2, groups=1),
                                            L.nn.Conv2d(4, 8, 3, groups=4, padding_mode="reflect", padding=1),
                                            L.nn.Conv2d(3, 8, 3, padding="same"), L.nn.Conv2d(3, 8, kernel_size=1)]),
    "batchnorm_layernorm": module_repr(lambda L: [L.nn.BatchNorm1d(4), L.nn.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False),
                                                  L.nn.BatchNorm2d(4, track_running_stats=False), L.nn.LayerNorm(4),
                                                  L.nn.LayerNorm([4, 5], eps=1e-6, elementwise_affine=False), L.nn.LayerNorm((4,), bias=False)]),
    "dropout_embedding": module_repr(lambda L: [L.nn.Dropout(), L.nn.Dropout(0.25, inplace=True), L.nn.Dropout2d(p=0.1),
                                                L.nn.Embedding(10, 3), L.nn.Embedding(10, 3, padding_idx=-1, max_norm=1.0),
                                                L.nn.Embedding(10, 3, scale_grad_by_freq=True, sparse=True)]),
    "rnns": module_repr(lambda L: [L.nn.LSTM(4, 8), L.nn.LSTM(4, 8, num_layers=2, batch_first=True, dropout=0.1, bidirectional=True),
                                   L.nn.GRU(4, 8, 3, bias=False), L.nn.RNN(4, 8, nonlinearity="relu"), L.nn.LSTM(4, 8, proj_size=2)]),
    "pools_reshapes": module_repr(lambda L: [L.nn.MaxPool2d(2), L.nn.MaxPool2d((2, 3), stride=1, padding=1, ceil_mode=True),
                                             L.nn.AdaptiveAvgPool2d((1, 1)), L.nn.AdaptiveAvgPool2d((None, 7)), L.nn.AvgPool2d(3, 2),
                                             L.nn.Flatten(), L.nn.Flatten(0, -1), L.nn.Unflatten(1, (2, 3)),
                                             L.nn.Unflatten(-1, L.Size([4, 4]))]),
    "activations": module_repr(lambda L: [L.nn.ReLU(), L.nn.ReLU(inplace=True), L.nn.LeakyReLU(), L.nn.LeakyReLU(0.2, True),
                                          L.nn.Softmax(dim=1), L.nn.Softmax(-1), L.nn.Softmax(), L.nn.LogSoftmax(1), L.nn.GELU("tanh"),
                                          L.nn.Tanh(), L.nn.Hardtanh(-2.0, 2.0), L.nn.ELU(alpha=0.5), L.nn.PReLU(3)]),
    "identity_and_losses": module_repr(lambda L: [L.nn.Identity(), L.nn.MSELoss(), L.nn.CrossEntropyLoss(label_smoothing=0.1),
                                                  L.nn.BCEWithLogitsLoss(reduction="sum")]),
    "sequential_nesting": module_repr(lambda L: L.nn.Sequential(
        L.nn.Conv2d(1, 4, 3), L.nn.ReLU(), L.nn.Sequential(L.nn.Flatten(), L.nn.Linear(16, 2)),
        L.nn.ModuleList([L.nn.Tanh(), L.nn.Linear(2, 2)]), L.nn.ModuleDict({"head": L.nn.Linear(2, 1), "act": L.nn.Sigmoid()}))),
    "sequential_ordereddict_and_slice": module_repr(lambda L: [
        L.nn.Sequential(collections.OrderedDict([("fc1", L.nn.Linear(2, 3)), ("act", L.nn.ReLU()), ("fc2", L.nn.Linear(3, 1))])),
        L.nn.Sequential(L.nn.Linear(1, 2), L.nn.ReLU(), L.nn.Linear(2, 1))[1:], L.nn.Sequential()]),
    "modulelist_repeats_compressed": module_repr(lambda L: [
        L.nn.ModuleList([L.nn.Linear(2, 2) for _ in range(3)] + [L.nn.ReLU(), L.nn.Linear(2, 2), L.nn.Linear(2, 2)]),
        L.nn.ModuleList([L.nn.Sequential(L.nn.Linear(1, 1), L.nn.ReLU()) for _ in range(2)]), L.nn.ModuleList()]),
    "moduledict": module_repr(lambda L: [L.nn.ModuleDict({"b": L.nn.ReLU(), "a": L.nn.Linear(1, 1)}), L.nn.ModuleDict()]),
    "parameterlist_parameterdict": module_repr(lambda L: [
        L.nn.ParameterList([L.nn.Parameter(L.ones(2, 3)), L.nn.Parameter(L.ones(4, dtype=L.float64)), L.ones(1)]),
        L.nn.ParameterDict({"w": L.nn.Parameter(L.ones(2)), "b": L.nn.Parameter(L.zeros(1, 2), requires_grad=False)}),
        L.nn.ParameterList(), L.nn.ParameterDict()]),
    "parameterlist_0d_and_object": module_repr(lambda L: L.nn.ParameterList([L.nn.Parameter(t(L, 1.0)), 5, "x"])),
    "parameterdict_object": module_repr(lambda L: L.nn.ParameterDict({"a": L.ones(2), "n": 3})),
}


class _Probe:
    """A custom module with children, a None child, parameters, buffers and a two-line extra_repr."""

    @staticmethod
    def make(L):
        class Net(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = L.nn.Conv2d(1, 2, 3)
                self.register_module("missing", None)
                self.blocks = L.nn.ModuleList([L.nn.Linear(2, 2), L.nn.Linear(2, 2)])
                self.scale = L.nn.Parameter(L.ones(3))
                self.register_buffer("steps", L.zeros(1))

            def extra_repr(self):
                return "first=1\nsecond=2"

        class Bare(L.nn.Module):
            pass

        class OneLine(L.nn.Module):
            def extra_repr(self):
                return "k=3"

        return [Net(), Bare(), OneLine(), L.nn.Sequential(Bare(), OneLine())]


MODULE_CASES["custom_module_extra_repr"] = module_repr(_Probe.make)


@pytest.mark.parametrize("run", list(MODULE_CASES.values()), ids=list(MODULE_CASES))
def test_module_reprs_as_in_pytorch(run):
    same_text(run)


def _constant_state_dict(L):
    model = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.BatchNorm1d(3))
    with L.no_grad():
        for index, parameter in enumerate(model.parameters()):
            parameter.copy_(L.arange(float(parameter.numel())).reshape(parameter.shape) / (index + 2))
    return [repr(model.state_dict()), repr(list(model.named_parameters())[:1]), repr(model[0].weight), repr(model[1].running_var),
            repr(model[1].num_batches_tracked)]


def test_state_dict_and_named_parameters_print_as_in_pytorch():
    same_text(_constant_state_dict)


# --- optimizers, schedulers, distributions ------------------------------------------------------


def _params(L, count=1):
    return [t(L, [1.0, 2.0], requires_grad=True) for _ in range(count)]


def _optimizer_with_scheduler(L):
    p = _params(L)
    optimizer = L.optim.Adam(p, lr=0.1)
    scheduler = L.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
    (p[0] * p[0]).sum().backward()
    optimizer.step()
    scheduler.step()
    return [repr(optimizer), repr(scheduler.get_last_lr())]


def _one_cycle(L):
    optimizer = L.optim.SGD(_params(L), lr=0.1, momentum=0.9)
    L.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
    return repr(optimizer)


OPTIMIZER_CASES = {
    "adam_default": lambda L: repr(L.optim.Adam(_params(L))),
    "adam_options": lambda L: repr(L.optim.Adam(_params(L), lr=1e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, amsgrad=True)),
    "adamw": lambda L: repr(L.optim.AdamW(_params(L), lr=1e-3, weight_decay=0.05)),
    "sgd_default_and_nesterov": lambda L: [repr(L.optim.SGD(_params(L), lr=0.1)),
                                           repr(L.optim.SGD(_params(L), 0.1, momentum=0.9, nesterov=True, weight_decay=1e-4))],
    "sgd_param_groups": lambda L: repr(L.optim.SGD([{"params": _params(L)}, {"params": _params(L), "lr": 1e-2, "momentum": 0.5}],
                                                   lr=0.1, momentum=0.9)),
    "add_param_group": lambda L: (lambda o: (o.add_param_group({"params": _params(L), "weight_decay": 0.1}), repr(o))[1])(
        L.optim.SGD(_params(L), lr=0.3)),
    "rmsprop_adagrad": lambda L: [repr(L.optim.RMSprop(_params(L), lr=0.01, momentum=0.5)), repr(L.optim.Adagrad(_params(L)))],
    "after_scheduler_step": _optimizer_with_scheduler,
    "one_cycle_adds_keys": _one_cycle,
    "sparse_adam": lambda L: repr(L.optim.SparseAdam(_params(L))),
}


@pytest.mark.parametrize("run", list(OPTIMIZER_CASES.values()), ids=list(OPTIMIZER_CASES))
def test_optimizer_reprs_as_in_pytorch(run):
    same_text(run)


SCHEDULERS = {
    "StepLR": lambda L, o: L.optim.lr_scheduler.StepLR(o, 2),
    "MultiStepLR": lambda L, o: L.optim.lr_scheduler.MultiStepLR(o, [1, 3]),
    "ExponentialLR": lambda L, o: L.optim.lr_scheduler.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda L, o: L.optim.lr_scheduler.CosineAnnealingLR(o, 10),
    "CosineAnnealingWarmRestarts": lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 5),
    "LambdaLR": lambda L, o: L.optim.lr_scheduler.LambdaLR(o, lambda epoch: 0.5 ** epoch),
    "LinearLR": lambda L, o: L.optim.lr_scheduler.LinearLR(o),
    "ConstantLR": lambda L, o: L.optim.lr_scheduler.ConstantLR(o),
    "PolynomialLR": lambda L, o: L.optim.lr_scheduler.PolynomialLR(o),
    "ReduceLROnPlateau": lambda L, o: L.optim.lr_scheduler.ReduceLROnPlateau(o),
    "OneCycleLR": lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10),
    "CyclicLR": lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1),
}


@pytest.mark.parametrize("make", list(SCHEDULERS.values()), ids=list(SCHEDULERS))
def test_scheduler_class_names_as_in_pytorch(make):
    def run(L):
        scheduler = make(L, L.optim.SGD(_params(L), lr=0.1, momentum=0.9))
        return [type(scheduler).__name__, isinstance(scheduler, L.optim.lr_scheduler.LRScheduler),
                type(scheduler).__module__.replace("chainrule", "torch")]
    same_text(run)


DISTRIBUTION_CASES = {
    "normal": lambda L: [repr(L.distributions.Normal(0.0, 1.0)), repr(L.distributions.Normal(L.zeros(2), 1.0)),
                         repr(L.distributions.Normal(t(L, 0.5), t(L, 2.0))), str(L.distributions.Normal(L.zeros(2, 3), L.ones(3)))],
    "categorical": lambda L: [repr(L.distributions.Categorical(probs=t(L, [0.2, 0.3, 0.5]))),
                              repr(L.distributions.Categorical(logits=t(L, [[0.0, 1.0], [1.0, 0.0]])))],
    "categorical_after_lazy_logits": lambda L: (lambda d: (d.logits, repr(d))[1])(L.distributions.Categorical(probs=t(L, [0.5, 0.5]))),
    "bernoulli_uniform_exponential": lambda L: [repr(L.distributions.Bernoulli(0.3)), repr(L.distributions.Uniform(0.0, 2.0)),
                                                repr(L.distributions.Exponential(t(L, [1.0, 2.0])))],
    "multivariate_independent": lambda L: [repr(L.distributions.MultivariateNormal(L.zeros(2), L.eye(2))),
                                           repr(L.distributions.Independent(L.distributions.Normal(L.zeros(2), L.ones(2)), 1))],
}


@pytest.mark.parametrize("run", list(DISTRIBUTION_CASES.values()), ids=list(DISTRIBUTION_CASES))
def test_distribution_reprs_as_in_pytorch(run):
    same_text(run)


# --- bad input: PyTorch's exception type --------------------------------------------------------

RAISES_CASES = {
    "format_spec_on_1d": lambda L: f"{t(L, [1.0, 2.0]):.2f}",
    "format_spec_on_2d_int": lambda L: format(t(L, [[1]]), "d"),
    "format_bad_spec_0d_float": lambda L: f"{t(L, 1.5):d}",
    "size_of_floats": lambda L: L.Size([1.5, 2]),
    "size_of_tensor_float": lambda L: L.Size([t(L, 1.5)]),
    "set_default_dtype_int": lambda L: L.set_default_dtype(L.int64),
    "requires_grad_on_int_tensor": lambda L: t(L, [1, 2], requires_grad=True),
    "finfo_of_int": lambda L: L.finfo(L.int32),
    "iinfo_of_float": lambda L: L.iinfo(L.float32),
    "iinfo_of_bool": lambda L: L.iinfo(L.bool),
    "finfo_of_string": lambda L: L.finfo("float32"),
    "moduledict_non_module": lambda L: L.nn.ModuleDict({"a": 1}),
    "modulelist_non_module": lambda L: L.nn.ModuleList([1]),
    "sequential_non_module": lambda L: L.nn.Sequential(L.nn.ReLU(), 3),
    "register_parameter_bad_name": lambda L: L.nn.Module().register_parameter("a.b", L.nn.Parameter(L.ones(1))),
}


@pytest.mark.parametrize("run", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)


# --- warnings -----------------------------------------------------------------------------------


def warning_categories(run):
    def categories(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run(L)
        return [each.category.__name__ for each in caught if each.category is not DeprecationWarning], result
    return categories


WARNING_CASES = {
    "grad_of_nonleaf_printed": warning_categories(lambda L: repr((t(L, [1.0], requires_grad=True) * 2).grad)),
    "scheduler_step_before_optimizer_step": warning_categories(
        lambda L: L.optim.lr_scheduler.StepLR(L.optim.SGD(_params(L), lr=0.1), 1).step()),
    "scheduler_get_lr_outside_step": warning_categories(
        lambda L: L.optim.lr_scheduler.StepLR(L.optim.SGD(_params(L), lr=0.1), 1).get_lr()),
    "softmax_module_without_dim": warning_categories(lambda L: (lambda m: (repr(m), repr(m(t(L, [[1.0, 2.0]])))))(L.nn.Softmax())),
    "printing_warns_nothing": warning_categories(lambda L: reprs(lambda L: t(L, [NAN, INF, 1e-30]), lambda L: L.arange(1001.0),
                                                                 lambda L: t(L, [1.0], requires_grad=True) * 2)(L)),
}


@pytest.mark.parametrize("run", list(WARNING_CASES.values()), ids=list(WARNING_CASES))
def test_warnings_as_in_pytorch(run):
    expected = run(torch)
    actual = run(chainrule)
    assert actual[0] == expected[0]
    assert as_torch_names(actual[1]) == as_torch_names(expected[1])


# --- gradients (float64): printing leaves autograd as it is -------------------------------------

D = [[0.3, -1.2, 2.0], [1.5, 0.0, -0.4]]


def printed_midway(L):
    x = L.tensor(D, dtype=L.float64, requires_grad=True)
    y = x * x
    str(y), repr(y.grad_fn), f"{y.sum():.3f}", repr(y.max(1))
    z = (y.sum(1) * L.tensor([1.0, 3.0], dtype=L.float64)).sum()
    repr(z)
    z.backward()
    return x.grad


def printed_parameter_in_module(L):
    layer = L.nn.Linear(3, 1).double()
    with L.no_grad():
        layer.weight.copy_(L.tensor([[0.5, -1.0, 2.0]], dtype=L.float64))
        layer.bias.fill_(0.25)
    repr(layer), repr(layer.weight), repr(layer.state_dict())
    layer(L.tensor(D, dtype=L.float64)).pow(2).sum().backward()
    return [layer.weight.grad, layer.bias.grad]


def printed_summarized(L):
    x = L.linspace(-2.0, 2.0, 1200, dtype=L.float64, requires_grad=True)
    y = x.sin()
    repr(y), str(y)
    (y * x).sum().backward()
    return x.grad


GRAD_CASES = {"printed_midway": printed_midway, "printed_parameter_in_module": printed_parameter_in_module,
              "printed_summarized": printed_summarized}


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)
