"""A sweep of lazy modules and of module dtype/device conversion against PyTorch (the oracle).

Lazy modules: ``nn.LazyLinear``, ``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d/3d``,
``LazyBatchNorm1d/2d/3d``, ``LazyInstanceNorm1d/2d/3d``; their ``UninitializedParameter`` /
``UninitializedBuffer`` before the first call (repr, ``isinstance`` checks, ``is_lazy``,
``has_uninitialized_params``, what may be read - ``size()``, ``ndim``, ``dtype``, ``data`` - and the
RuntimeError / ValueError of ``shape``, ``numel()``, arithmetic, ``nn.init``, functional calls),
``materialize`` by hand (shape forms, dtype, requires_grad, the class it becomes), the shapes
materialized by the first call (batched and unbatched input, groups, transposed, keyword
arguments, ``padding='same'``), the class the module becomes (``cls_to_become``), the starting
values drawn under ``manual_seed`` (the same random stream as PyTorch's), forward pre-hooks around
the initialization, ``initialize_parameters`` called by hand, state dicts before and after,
loading a full / partial / lazy state dict into a lazy module (``assign=True`` too), ``Sequential``
models of lazy layers, ``deepcopy``, optimizers built before materialization (SGD, Adam: their
steps), and conversions of a lazy module before its first call (``double`` / ``half`` / ``to`` /
``type`` / ``share_memory`` / ``requires_grad_`` / ``to_empty`` / ``memory_format``).

Module conversions: ``Module.to(dtype)`` / ``to(tensor)`` / ``to(device, dtype)`` / keywords /
``non_blocking`` (positional and keyword) / ``copy=`` / ``memory_format=`` (``channels_last``,
``channels_last_3d``, ``preserve_format``), ``.double()`` / ``.float()`` / ``.half()`` /
``.bfloat16()`` / ``.type(dtype or legacy type)`` / ``.cpu()``, nested modules, integer buffers kept
by the floating conversions (and converted by ``.type``), non-persistent and ``None`` buffers,
Parameter identity and buffer identity, ``.grad`` converted with its parameter (identity kept),
tensor hooks and post-accumulate-grad hooks surviving a conversion, optimizer state across a
conversion, ``requires_grad_``, ``share_memory``, ``to_empty``, parameters registered after a
conversion, the module registration hooks (not called by conversions),
``torch.__future__.set_overwrite_module_params_on_conversion`` /
``set_swap_module_params_on_conversion`` and their effect on parameter and gradient identity; the
error types PyTorch raises for integer / bool dtypes, bad devices and bad argument combinations;
the warnings it gives; and float64 gradients through materialized and converted lazy layers.

Not swept: complex dtypes (``Module.to(torch.complex64)``), which chainrule leaves out on purpose
(see tests/parity/test_names.py); values PyTorch leaves uninitialized (a lazy layer fed a
zero-feature input, ``to_empty``).

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, class names, identities, reprs or exception types. Tests marked
``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an XPASS failure the
day it is fixed, and the mark must go.
"""
import copy
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import bug, bundle, raises_as_torch, same_in_both


# --- this file's own helpers --------------------------------------------------------------------

def name(dtype):
    """A dtype as a string both libraries spell the same: 'float64'."""
    return str(dtype).split(".")[-1]


def shapes(module):
    """The (name, shape, dtype) of each parameter and buffer of ``module``."""
    return [(key, tuple(value.shape), name(value.dtype))
            for key, value in [*module.named_parameters(), *module.named_buffers()]]


def seeded(make, data, seed=0, dtype="float32"):
    """``make(L)`` under ``manual_seed(seed)``, called once on ``L.tensor(data, dtype=dtype)``: the class
    it became, its parameters and buffers (names, shapes, dtypes, values) and the output."""
    def run(L):
        L.manual_seed(seed)
        module = make(L)
        y = module(L.tensor(data, dtype=getattr(L, dtype)))
        return [type(module).__name__, shapes(module), list(module.parameters()), list(module.buffers()), y]
    return run


def linear(L):
    L.manual_seed(0)
    return L.nn.Linear(2, 3)


def batchnorm(L):
    return L.nn.BatchNorm1d(3)


def after(convert, read):
    """``read(module)`` after ``convert(module)`` (which may return anything)."""
    return lambda module: (convert(module), read(module))[1]


X4 = [[0.5, -1.0, 2.0, 0.25], [1.5, 0.0, -0.5, 3.0]]
X3 = [[[0.5, -1.0, 2.0, 0.25, 1.0], [1.5, 0.0, -0.5, 3.0, -2.0], [0.1, 0.2, 0.3, 0.4, 0.5]]]
X2D = np.sin(np.arange(2 * 4 * 3 * 3)).reshape(2, 4, 3, 3).tolist()
X3D = np.cos(np.arange(1 * 2 * 3 * 3 * 3)).reshape(1, 2, 3, 3, 3).tolist()
XN = [[1.0, 2.0], [3.0, 5.0]]


# --- lazy modules: before the first call ---------------------------------------------------------

BEFORE_CASES = {
    "reprs": bundle(
        lambda L: repr(L.nn.LazyLinear(3)),
        lambda L: repr(L.nn.LazyLinear(3, bias=False)),
        lambda L: repr(L.nn.LazyConv2d(4, 3)),
        lambda L: repr(L.nn.LazyConv1d(4, 3, stride=2, padding=1, groups=2, bias=False)),
        lambda L: repr(L.nn.LazyConvTranspose2d(4, 3)),
        lambda L: repr(L.nn.LazyConvTranspose3d(2, 2, stride=2, output_padding=1)),
        lambda L: repr(L.nn.LazyBatchNorm1d()),
        lambda L: repr(L.nn.LazyBatchNorm2d(eps=1e-3, momentum=None)),
        lambda L: repr(L.nn.LazyInstanceNorm2d()),
        lambda L: repr(L.nn.LazyBatchNorm1d(affine=False, track_running_stats=False)),
        lambda L: repr(L.nn.Sequential(L.nn.LazyLinear(4), L.nn.ReLU(), L.nn.LazyLinear(2))),
    ),
    "uninitialized_reprs": bundle(
        lambda L: repr(L.nn.LazyLinear(3).weight),
        lambda L: repr(L.nn.LazyBatchNorm1d().running_mean),
        lambda L: repr(L.nn.UninitializedParameter()),
        lambda L: repr(L.nn.UninitializedBuffer()),
    ),
    "isinstance_checks": bundle(
        lambda L: isinstance(L.nn.LazyLinear(2).weight, L.nn.Parameter),
        lambda L: isinstance(L.nn.LazyLinear(2).weight, L.nn.parameter.UninitializedParameter),
        lambda L: isinstance(L.nn.LazyLinear(2).weight, L.nn.parameter.UninitializedTensorMixin),
        lambda L: isinstance(L.nn.LazyLinear(2).weight, L.Tensor),
        lambda L: isinstance(L.nn.LazyBatchNorm1d().running_mean, L.nn.parameter.UninitializedBuffer),
        lambda L: isinstance(L.nn.LazyBatchNorm1d().running_mean, L.nn.Parameter),
        lambda L: isinstance(L.nn.LazyBatchNorm1d().running_mean, L.Tensor),
        lambda L: isinstance(L.nn.LazyBatchNorm1d().num_batches_tracked, L.nn.parameter.UninitializedBuffer),
        lambda L: L.nn.parameter.is_lazy(L.nn.LazyLinear(2).weight),
        lambda L: L.nn.parameter.is_lazy(L.nn.LazyBatchNorm1d().running_var),
        lambda L: L.nn.parameter.is_lazy(L.nn.Linear(2, 2).weight),
    ),
    "module_classes": bundle(
        lambda L: isinstance(L.nn.LazyLinear(2), L.nn.modules.lazy.LazyModuleMixin),
        lambda L: isinstance(L.nn.LazyLinear(2), L.nn.Linear),
        lambda L: isinstance(L.nn.LazyConv2d(2, 1), L.nn.Conv2d),
        lambda L: issubclass(L.nn.LazyConvTranspose1d, L.nn.ConvTranspose1d),
        lambda L: L.nn.LazyLinear.cls_to_become is L.nn.Linear,
        lambda L: L.nn.LazyConv3d.cls_to_become is L.nn.Conv3d,
        lambda L: L.nn.LazyConvTranspose2d.cls_to_become is L.nn.ConvTranspose2d,
        lambda L: L.nn.LazyBatchNorm2d.cls_to_become is L.nn.BatchNorm2d,
        lambda L: L.nn.LazyInstanceNorm3d.cls_to_become is L.nn.InstanceNorm3d,
        lambda L: L.nn.parameter.UninitializedParameter.cls_to_become is L.nn.Parameter,
        lambda L: L.nn.parameter.UninitializedBuffer.cls_to_become is L.Tensor,
    ),
    "has_uninitialized_params": bundle(
        lambda L: L.nn.LazyLinear(3).has_uninitialized_params(),
        lambda L: L.nn.LazyLinear(3, bias=False).has_uninitialized_params(),
        lambda L: L.nn.LazyBatchNorm2d(affine=False).has_uninitialized_params(),
        lambda L: L.nn.LazyInstanceNorm2d(track_running_stats=False).has_uninitialized_params(),
        lambda L: L.nn.LazyBatchNorm1d(affine=False, track_running_stats=False).has_uninitialized_params(),
    ),
    "readable_attributes": bundle(
        lambda L: L.nn.LazyLinear(3).weight.size(),
        lambda L: L.nn.LazyLinear(3).weight.size(0),
        lambda L: L.nn.LazyLinear(3).weight.ndim,
        lambda L: name(L.nn.LazyLinear(3).weight.dtype),
        lambda L: L.nn.LazyLinear(3).weight.requires_grad,
        lambda L: L.nn.LazyLinear(3).weight.is_leaf,
        lambda L: L.nn.LazyLinear(3).weight.grad is None,
        lambda L: str(L.nn.LazyLinear(3).weight.device),
        lambda L: L.nn.LazyLinear(3).weight.is_floating_point(),
        lambda L: L.nn.LazyLinear(3).weight.data,
        lambda L: L.nn.LazyBatchNorm1d().running_mean.requires_grad,
    ),
    "constructor_dtype_bias": bundle(
        lambda L: (lambda m: [name(m.weight.dtype), name(m.bias.dtype)])(L.nn.LazyLinear(3, device="cpu", dtype=L.float64)),
        lambda L: (lambda m: [name(m.weight.dtype), name(m.running_mean.dtype), name(m.num_batches_tracked.dtype)])(
            L.nn.LazyBatchNorm1d(dtype=L.float16)),
        lambda L: L.nn.LazyLinear(3, bias=False).bias is None,
        lambda L: L.nn.LazyConv2d(3, 2, bias=False).bias is None,
        lambda L: L.nn.LazyBatchNorm1d(affine=False).weight is None,
        lambda L: L.nn.LazyBatchNorm1d(track_running_stats=False).running_mean is None,
        lambda L: L.nn.LazyBatchNorm1d(bias=False).bias is None,
        lambda L: name(L.nn.UninitializedParameter(dtype=L.float64).dtype),
        lambda L: L.nn.UninitializedParameter(False).requires_grad,
        lambda L: L.nn.UninitializedBuffer().requires_grad,
    ),
    "named_members": bundle(
        lambda L: [n for n, _ in L.nn.Sequential(L.nn.LazyLinear(4), L.nn.LazyBatchNorm1d()).named_parameters()],
        lambda L: [n for n, _ in L.nn.LazyBatchNorm1d().named_buffers()],
        lambda L: [type(p).__name__ for p in L.nn.LazyConv2d(3, 2).parameters()],
    ),
    "state_dict_entries": bundle(
        lambda L: [(k, type(v).__name__) for k, v in L.nn.LazyBatchNorm1d().state_dict().items()],
        lambda L: [(k, type(v).__name__) for k, v in L.nn.LazyConvTranspose1d(2, 3).state_dict().items()],
        lambda L: (lambda m: m.state_dict()["weight"] is m.weight)(L.nn.LazyLinear(3)),
        lambda L: (lambda m: m.state_dict(keep_vars=True)["bias"] is m.bias)(L.nn.LazyLinear(3)),
        lambda L: L.nn.LazyBatchNorm1d().state_dict()["num_batches_tracked"],
    ),
    "materialize_by_hand": bundle(
        lambda L: (lambda p: (p.materialize((2, 3)), type(p).__name__, tuple(p.shape), p.requires_grad, name(p.dtype))[1:])(
            L.nn.UninitializedParameter()),
        lambda L: (lambda p: (p.materialize(2), type(p).__name__, tuple(p.shape), p.requires_grad, name(p.dtype))[1:])(
            L.nn.UninitializedParameter(requires_grad=False, dtype=L.float64)),
        lambda L: (lambda p: (p.materialize((2,), dtype=L.float16), type(p).__name__, tuple(p.shape), name(p.dtype))[1:])(
            L.nn.UninitializedBuffer()),
        lambda L: (lambda p: (p.materialize([2, 1]), type(p).__name__, tuple(p.shape), p.requires_grad)[1:])(
            L.nn.UninitializedBuffer(requires_grad=True)),
        lambda L: L.nn.UninitializedParameter().materialize((2,)),
    ),
    "optimizer_built_before": bundle(
        lambda L: repr(L.optim.SGD(L.nn.LazyLinear(3).parameters(), lr=0.1)),
        lambda L: repr(L.optim.Adam(L.nn.LazyLinear(3).parameters())),
        lambda L: len(L.optim.SGD(L.nn.LazyLinear(3).parameters(), lr=0.1).param_groups[0]["params"]),
    ),
    "deepcopy_before": bundle(
        lambda L: (lambda c: [type(c).__name__, type(c.weight).__name__, c.has_uninitialized_params()])(
            copy.deepcopy(L.nn.LazyLinear(3))),
        lambda L: (lambda m: (lambda c: (c(L.ones(2, 4)), type(c).__name__, type(m).__name__, tuple(c.weight.shape),
                                         m.has_uninitialized_params())[1:])(copy.deepcopy(m)))(L.nn.LazyLinear(3)),
    ),
}


@pytest.mark.parametrize("run", list(BEFORE_CASES.values()), ids=list(BEFORE_CASES))
def test_lazy_before_first_call(run):
    same_in_both(run)


# --- lazy modules: the first call ----------------------------------------------------------------

FIRST_CALL_CASES = {
    # the class, shapes, starting values (same random stream as PyTorch's) and output of each layer
    "linear": seeded(lambda L: L.nn.LazyLinear(3), X4),
    "linear_no_bias": seeded(lambda L: L.nn.LazyLinear(2, bias=False), X4),
    "linear_3d_input": seeded(lambda L: L.nn.LazyLinear(2), [X4, X4]),
    "linear_float64": seeded(lambda L: L.nn.LazyLinear(3, dtype=L.float64), X4, seed=1, dtype="float64"),
    "conv1d": seeded(lambda L: L.nn.LazyConv1d(2, 3), X3),
    "conv1d_unbatched": seeded(lambda L: L.nn.LazyConv1d(2, 3, padding=1), X3[0]),
    "conv2d_groups": seeded(lambda L: L.nn.LazyConv2d(4, 2, groups=2), X2D),
    "conv2d_keywords": seeded(lambda L: L.nn.LazyConv2d(out_channels=4, kernel_size=3, stride=2, padding=1, dilation=1,
                                                         groups=4, bias=False, padding_mode="reflect"), X2D),
    "conv2d_same": seeded(lambda L: L.nn.LazyConv2d(3, (1, 3), padding="same"), X2D),
    "conv3d": seeded(lambda L: L.nn.LazyConv3d(2, 2), X3D),
    "conv_transpose1d": seeded(lambda L: L.nn.LazyConvTranspose1d(2, 3, 2, 0, 1, 1, False, 2), X3),
    "conv_transpose2d_groups": seeded(lambda L: L.nn.LazyConvTranspose2d(4, 2, groups=2, stride=2, output_padding=1), X2D),
    "conv_transpose3d": seeded(lambda L: L.nn.LazyConvTranspose3d(2, 2, stride=2), X3D),
    "batchnorm1d": seeded(lambda L: L.nn.LazyBatchNorm1d(momentum=0.5), XN),
    "batchnorm1d_3d_input": seeded(lambda L: L.nn.LazyBatchNorm1d(), X3 + X3),
    "batchnorm2d": seeded(lambda L: L.nn.LazyBatchNorm2d(), X2D),
    "batchnorm2d_no_affine": seeded(lambda L: L.nn.LazyBatchNorm2d(affine=False), X2D),
    "batchnorm3d": seeded(lambda L: L.nn.LazyBatchNorm3d(eps=1e-3), X3D),
    "instancenorm1d": seeded(lambda L: L.nn.LazyInstanceNorm1d(), [[[1.0, 2.0, 4.0]], [[3.0, 5.0, 0.0]]]),
    "instancenorm2d_no_stats": seeded(lambda L: L.nn.LazyInstanceNorm2d(track_running_stats=False), X2D),
    "instancenorm3d": seeded(lambda L: L.nn.LazyInstanceNorm3d(affine=False), X3D),
    "sequential": seeded(lambda L: L.nn.Sequential(L.nn.LazyLinear(4), L.nn.ReLU(), L.nn.LazyLinear(2)), X4, seed=1),
    # after the first call
    "class_after": bundle(
        lambda L: (lambda m: (m(L.ones(2, 4)), type(m) is L.nn.Linear, isinstance(m, L.nn.modules.lazy.LazyModuleMixin),
                              m.in_features, repr(m))[1:])(L.nn.LazyLinear(3)),
        lambda L: (lambda m: (m(L.ones(1, 2, 3, 3)), type(m) is L.nn.Conv2d, m.in_channels, repr(m))[1:])(L.nn.LazyConv2d(3, 2)),
        lambda L: (lambda m: (m(L.ones(1, 2, 3)), type(m) is L.nn.ConvTranspose1d, m.in_channels)[1:])(L.nn.LazyConvTranspose1d(3, 2)),
        lambda L: (lambda m: (m(L.ones(2, 3)), type(m) is L.nn.BatchNorm1d, m.num_features, repr(m))[1:])(L.nn.LazyBatchNorm1d()),
        lambda L: (lambda m: (m(L.ones(2, 3, 4)), type(m) is L.nn.InstanceNorm1d, m.num_features)[1:])(L.nn.LazyInstanceNorm1d()),
    ),
    "has_uninitialized_params_after": bundle(
        lambda L: (lambda m: (m(L.ones(2, 4)), hasattr(m, "has_uninitialized_params"))[1])(L.nn.LazyLinear(3)),
        lambda L: (lambda m: (m(L.ones(2, 4)), [type(v).__name__ for v in m.state_dict().values()])[1])(L.nn.LazyBatchNorm1d()),
        lambda L: (lambda m: (m(L.ones(2, 4)), len(m._forward_pre_hooks))[1])(L.nn.LazyLinear(3)),
    ),
    "batchnorm_eval_first": lambda L: (lambda m: [m(L.tensor(XN)), m.running_mean, m.running_var, m.num_batches_tracked])(
        L.nn.LazyBatchNorm1d().eval()),
    "batchnorm_cumulative_momentum": lambda L: (lambda m: [m(L.tensor(XN)), m(L.tensor([[0.0, 2.0], [1.0, 1.0]])),
                                                           m.running_mean, m.running_var])(L.nn.LazyBatchNorm1d(momentum=None)),
    "forward_pre_hooks_around_init": lambda L: (lambda m, seen: (
        m.register_forward_pre_hook(lambda mod, a: seen.append(["after", type(mod.weight).__name__])),
        m.register_forward_pre_hook(lambda mod, a: seen.append(["first", type(mod.weight).__name__, type(mod).__name__]),
                                    prepend=True),
        m(L.ones(2, 4)), m(L.ones(2, 4)), seen)[-1])(L.nn.LazyLinear(3), []),
    "initialize_parameters_by_hand": lambda L: (lambda m: [
        m.initialize_parameters(L.ones(2, 5)), type(m).__name__, m.has_uninitialized_params(), tuple(m.weight.shape),
        m.in_features, m(L.ones(1, 5)).shape, type(m).__name__][1:])(L.nn.LazyLinear(3)),
    "zero_batch": lambda L: (lambda m: [m(L.zeros(0, 4)).shape, tuple(m.weight.shape)])(L.nn.LazyLinear(3)),
    "optimizer_sgd_step": lambda L: (lambda m, opt: [
        m(L.tensor(X4)).sum().backward(), opt.step(), m.weight, m.bias, opt.param_groups[0]["params"][0] is m.weight][2:])(
        *(lambda m: (m, L.optim.SGD(m.parameters(), lr=0.5, momentum=0.9)))((L.manual_seed(0), L.nn.LazyLinear(2))[1])),
    "optimizer_adam_steps": lambda L: (lambda m, opt: [
        [(opt.zero_grad(), m(L.tensor(X4)).pow(2).sum().backward(), opt.step()) for _ in range(2)], m.weight, m.bias,
        opt.state[m.weight]["exp_avg"]][1:])(
        *(lambda m: (m, L.optim.Adam(m.parameters(), lr=0.1)))((L.manual_seed(0), L.nn.LazyLinear(2))[1])),
}


@pytest.mark.parametrize("run", list(FIRST_CALL_CASES.values()), ids=list(FIRST_CALL_CASES))
def test_lazy_first_call(run):
    same_in_both(run)


def test_lazy_norm_without_state_keeps_num_features_zero():
    same_in_both(lambda L: (lambda m: [m(L.tensor(XN)), type(m).__name__, m.num_features, repr(m)])(
        L.nn.LazyBatchNorm1d(affine=False, track_running_stats=False)))


# --- lazy modules: loading state dicts -----------------------------------------------------------

def load_into_lazy(make_lazy, make_source, x):
    """Load the state dict of ``make_source(L)`` into ``make_lazy(L)``, before and after one call."""
    def run(L):
        L.manual_seed(0)
        source, lazy = make_source(L), make_lazy(L)
        keys = lazy.load_state_dict(source.state_dict())
        waiting = [L.nn.parameter.is_lazy(value) for value in [*lazy.parameters(), *lazy.buffers()]]
        before = [type(lazy).__name__, waiting, shapes(lazy), list(keys.missing_keys)]
        y = lazy(L.tensor(x))
        return before + [type(lazy).__name__, list(lazy.parameters()), list(lazy.buffers()), y]
    return run


LOAD_CASES = {
    "linear": load_into_lazy(lambda L: L.nn.LazyLinear(3), lambda L: L.nn.Linear(4, 3), X4),
    "linear_repr": lambda L: (lambda m: (m.load_state_dict(L.nn.Linear(4, 3).state_dict()), repr(m), m(L.ones(1, 4)),
                                         repr(m), m.in_features)[1::2])(L.nn.LazyLinear(3)),
    "conv2d_values": load_into_lazy(lambda L: L.nn.LazyConv2d(3, 2), lambda L: L.nn.Conv2d(4, 3, 2), X2D),
    "batchnorm_values": load_into_lazy(lambda L: L.nn.LazyBatchNorm1d(), lambda L: L.nn.BatchNorm1d(2).train(), XN),
    "sequential": load_into_lazy(lambda L: L.nn.Sequential(L.nn.LazyLinear(4), L.nn.ReLU(), L.nn.LazyLinear(2)),
                                 lambda L: L.nn.Sequential(L.nn.Linear(4, 4), L.nn.ReLU(), L.nn.Linear(4, 2)), X4),
    "partial_strict_false": lambda L: (lambda m: (lambda keys: [
        m.has_uninitialized_params(), type(m.weight).__name__, type(m.bias).__name__, list(keys.missing_keys)])(
        m.load_state_dict({"weight": L.ones(3, 4)}, strict=False)))(L.nn.LazyLinear(3)),
    "assign_true": lambda L: (lambda m: (m.load_state_dict(L.nn.Linear(4, 3).state_dict(), assign=True), type(m.weight).__name__,
                                         tuple(m.weight.shape), m.weight.requires_grad, m.has_uninitialized_params())[1:])(
        L.nn.LazyLinear(3)),
    "checkpoint_shapes_taken_as_they_are": lambda L: (lambda m: (m.load_state_dict({"weight": L.ones(3, 4), "bias": L.ones(2)}),
                                                                 shapes(m))[1])(L.nn.LazyLinear(3)),
    "float64_checkpoint": lambda L: (lambda m: (m.load_state_dict({"weight": L.ones(3, 4, dtype=L.float64), "bias": L.ones(3)}),
                                                name(m.weight.dtype), m.weight)[1:])(L.nn.LazyLinear(3)),
    "optimizer_built_before_load": lambda L: (lambda m, opt: [
        m.load_state_dict({"weight": L.ones(2, 4), "bias": L.zeros(2)}), m(L.tensor(X4)).sum().backward(), opt.step(),
        m.weight, m.bias][3:])(*(lambda m: (m, L.optim.SGD(m.parameters(), lr=0.5)))(L.nn.LazyLinear(2))),
}


@pytest.mark.parametrize("run", list(LOAD_CASES.values()), ids=list(LOAD_CASES))
def test_lazy_load_state_dict(run):
    same_in_both(run)


def test_lazy_load_uninitialized_state_dict_into_lazy():
    same_in_both(lambda L: (lambda m: [list(m.load_state_dict(L.nn.LazyLinear(3).state_dict()).missing_keys),
                                       m.has_uninitialized_params()])(L.nn.LazyLinear(3)))


def test_lazy_conv_loaded_then_called_keeps_in_channels_zero():
    same_in_both(lambda L: (lambda m: (m.load_state_dict(L.nn.Conv2d(4, 3, 2).state_dict()), m(L.tensor(X2D)),
                                       m.in_channels, repr(m))[2:])(L.nn.LazyConv2d(3, 2)))


def test_lazy_batchnorm_loaded_then_called_keeps_num_features_zero():
    same_in_both(lambda L: (lambda m: (m.load_state_dict(L.nn.BatchNorm1d(2).state_dict()), m(L.tensor(XN)),
                                       m.num_features, repr(m))[2:])(L.nn.LazyBatchNorm1d()))


# --- lazy modules: bad input and uninitialized use -----------------------------------------------

LAZY_RAISES_CASES = {
    "shape": lambda L: L.nn.LazyLinear(3).weight.shape,
    "buffer_shape": lambda L: L.nn.LazyBatchNorm1d().running_mean.shape,
    "numel": lambda L: L.nn.LazyLinear(3).weight.numel(),
    "dim": lambda L: L.nn.LazyLinear(3).weight.dim(),
    "len": lambda L: len(L.nn.LazyLinear(3).weight),
    "add": lambda L: L.nn.LazyLinear(3).weight + 1,
    "rmul": lambda L: L.zeros(2) * L.nn.LazyLinear(3).weight,
    "detach": lambda L: L.nn.LazyLinear(3).weight.detach(),
    "clone": lambda L: L.nn.LazyLinear(3).weight.clone(),
    "init_zeros": lambda L: L.nn.init.zeros_(L.nn.LazyLinear(3).weight),
    "count_parameters": lambda L: sum(p.numel() for p in L.nn.Sequential(L.nn.LazyLinear(4)).parameters()),
    "sequential_has_no_has_uninitialized_params": lambda L: L.nn.Sequential(L.nn.LazyLinear(3)).has_uninitialized_params(),
    "linear_0d_input": lambda L: L.nn.LazyLinear(3)(L.tensor(1.0)),
    "batchnorm1d_1d_input": lambda L: L.nn.LazyBatchNorm1d()(L.ones(3)),
    "batchnorm2d_3d_input": lambda L: L.nn.LazyBatchNorm2d()(L.ones(2, 3, 4)),
    "instancenorm1d_unbatched_mismatch": lambda L: L.nn.LazyInstanceNorm1d()(L.ones(3, 4)),
    "conv2d_2d_input": lambda L: L.nn.LazyConv2d(4, 3)(L.ones(2, 3)),
    "conv2d_groups_not_dividing_in_channels": lambda L: L.nn.LazyConv2d(4, 3, groups=2)(L.ones(1, 3, 5, 5)),
    "conv_transpose2d_groups_not_dividing": lambda L: L.nn.LazyConvTranspose2d(4, 3, groups=2)(L.ones(1, 3, 5, 5)),
    "second_call_other_size": lambda L: (lambda m: (m(L.ones(2, 4)), m(L.ones(2, 5))))(L.nn.LazyLinear(3)),
    "float64_input_float32_layer": lambda L: L.nn.LazyLinear(3)(L.ones(2, 4, dtype=L.float64)),
    "int_input": lambda L: L.nn.LazyLinear(3)(L.ones(2, 4, dtype=L.int64)),
    "int_dtype_parameter": lambda L: L.nn.UninitializedParameter(dtype=L.int64),
    "load_lazy_into_initialized": lambda L: L.nn.Linear(4, 3).load_state_dict(L.nn.LazyLinear(3).state_dict()),
    "to_int": lambda L: L.nn.LazyLinear(3).to(L.int64),
    "sum": lambda L: L.nn.LazyLinear(3).weight.sum(),
    "fill_": lambda L: L.nn.LazyLinear(3).weight.fill_(1.0),
    "functional_linear": lambda L: L.nn.functional.linear(L.ones(2, 4), L.nn.LazyLinear(3).weight),
    "parameter_of_uninitialized": lambda L: L.nn.Parameter(L.nn.UninitializedParameter()),
    # conversions of a lazy module before its first call
    "type_before_call": lambda L: L.nn.LazyLinear(3).type(L.float64),
    "share_memory_before_call": lambda L: L.nn.LazyLinear(3).share_memory(),
    "requires_grad_before_call": lambda L: L.nn.LazyLinear(3).requires_grad_(False),
    "channels_last_before_call": lambda L: L.nn.LazyConv2d(3, 2).to(memory_format=L.channels_last),
    "to_empty_before_call": lambda L: L.nn.LazyLinear(3).to_empty(device="cpu"),
}


@pytest.mark.parametrize("run", list(LAZY_RAISES_CASES.values()), ids=list(LAZY_RAISES_CASES))
def test_lazy_raises_as_torch(run):
    raises_as_torch(run)


# --- lazy modules: conversions before the first call ---------------------------------------------

LAZY_CONVERSION_CASES = {
    "double_then_call": lambda L: (lambda m, p: [m.double(), type(m.weight).__name__, name(m.weight.dtype), m.weight is p,
                                                 name(m(L.ones(2, 4, dtype=L.float64)).dtype), name(m.weight.dtype),
                                                 type(m.weight).__name__,
                                                 m.weight is p][1:])(*(lambda m: (m, m.weight))(L.nn.LazyLinear(3))),
    "half_batchnorm": lambda L: (lambda m: (m.half(), name(m.weight.dtype), name(m.running_mean.dtype),
                                            name(m.num_batches_tracked.dtype))[1:])(L.nn.LazyBatchNorm1d()),
    "to_float64_then_call": lambda L: (lambda m: (m.to(L.float64), name(m(L.ones(2, 4, dtype=L.float64)).dtype),
                                                  name(m.weight.dtype), name(m.bias.dtype))[1:])(L.nn.LazyLinear(3)),
    "float_still_lazy": lambda L: (lambda m: (m.float(), type(m.weight).__name__, m.has_uninitialized_params())[1:])(
        L.nn.LazyLinear(3)),
    "to_cpu_still_lazy": lambda L: (lambda m: (m.to("cpu"), type(m.weight).__name__)[1])(L.nn.LazyLinear(3)),
    "zero_grad_train_eval": lambda L: (lambda m: (m.zero_grad(), m.train(False) is m, m.eval() is m, m.training)[1:])(
        L.nn.LazyLinear(3)),
    "seeded_values_after_double": seeded(lambda L: L.nn.LazyLinear(3).double(), X4, dtype="float64"),
}


@pytest.mark.parametrize("run", list(LAZY_CONVERSION_CASES.values()), ids=list(LAZY_CONVERSION_CASES))
def test_lazy_conversion_before_call(run):
    same_in_both(run)


# --- module conversions: values, dtypes and identities -------------------------------------------

CONVERSION_CASES = {
    "double_returns_self": lambda L: (lambda m: [m.double() is m, name(m.weight.dtype), name(m.bias.dtype)])(linear(L)),
    "to_argument_forms": bundle(
        lambda L: (lambda m: [m.to(L.float64) is m, name(m.weight.dtype)])(linear(L)),
        lambda L: after(lambda m: m.to(dtype=L.float16), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to(L.zeros(1, dtype=L.float64)), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to("cpu", L.float64), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to(device="cpu", dtype=L.float64), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to(L.device("cpu"), dtype=L.float16), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to(L.device("cpu")), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to(), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: (lambda m: [m.cpu() is m, name(m.weight.dtype)])(linear(L)),
    ),
    "to_non_blocking": bundle(
        lambda L: after(lambda m: m.to(L.float64, True), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to(L.float64, non_blocking=True), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to("cpu", non_blocking=True), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.to("cpu", L.float64, True), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: (lambda m: m.to(L.float16, non_blocking=True) is m)(linear(L)),
    ),
    "float_half_type": bundle(
        lambda L: after(lambda m: m.half(), lambda m: [name(m.weight.dtype), name(m.bias.dtype)])(linear(L)),
        lambda L: after(lambda m: (m.double(), m.float()), lambda m: m.weight)(linear(L)),
        lambda L: after(lambda m: (m.half(), m.float()), lambda m: m.weight)(linear(L)),
        lambda L: after(lambda m: m.type(L.float64), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.type(L.DoubleTensor), lambda m: name(m.weight.dtype))(linear(L)),
        lambda L: after(lambda m: m.type(f"{L.__name__}.DoubleTensor" if L is chainrule else "torch.DoubleTensor"),
                        lambda m: name(m.weight.dtype))(linear(L)),
    ),
    "nested_modules": lambda L: after(lambda m: m.double(), lambda m: [[name(p.dtype) for p in m.parameters()],
                                                                       [name(b.dtype) for b in m.buffers()]])(
        L.nn.Sequential(L.nn.Linear(2, 2), L.nn.Sequential(L.nn.BatchNorm1d(2)))),
    "integer_buffers_kept": bundle(
        lambda L: after(lambda m: m.double(), lambda m: [name(m.running_mean.dtype), name(m.num_batches_tracked.dtype)])(batchnorm(L)),
        lambda L: after(lambda m: m.half(), lambda m: [name(m.running_var.dtype), name(m.num_batches_tracked.dtype)])(batchnorm(L)),
        lambda L: after(lambda m: m.to(L.float64), lambda m: [name(m.weight.dtype), name(m.num_batches_tracked.dtype)])(batchnorm(L)),
        lambda L: after(lambda m: (m.double(), m.float()), lambda m: [name(m.running_mean.dtype), name(m.num_batches_tracked.dtype)])(
            batchnorm(L)),
        lambda L: after(lambda m: m.double(), lambda m: m.num_batches_tracked)(batchnorm(L)),
    ),
    "type_converts_integer_buffers": bundle(
        lambda L: after(lambda m: m.type(L.float64), lambda m: [name(m.running_mean.dtype), name(m.num_batches_tracked.dtype)])(
            batchnorm(L)),
        lambda L: after(lambda m: m.type(L.float16), lambda m: [name(m.weight.dtype), name(m.num_batches_tracked.dtype)])(batchnorm(L)),
        lambda L: after(lambda m: (m.requires_grad_(False), m.type(L.int64)),
                        lambda m: [name(m.weight.dtype), name(m.running_mean.dtype), name(m.num_batches_tracked.dtype)])(batchnorm(L)),
    ),
    "other_buffers": lambda L: (lambda m: (m.register_buffer("nb", L.ones(2), persistent=False), m.register_buffer("none", None),
                                           m.double(), name(m.nb.dtype), m.none, list(m.state_dict()))[3:])(L.nn.Linear(2, 2)),
    "parameter_identity": bundle(
        lambda L: (lambda m: (lambda p: (m.double(), m.weight is p, name(p.dtype))[1:])(m.weight))(linear(L)),
        lambda L: (lambda m: (lambda p: (m.float(), m.weight is p)[1])(m.weight))(linear(L)),
        lambda L: (lambda m: (lambda p: (m.to(L.float16), m.bias is p)[1])(m.bias))(linear(L)),
        lambda L: (lambda m: (lambda p: (m.type(L.float64), m.weight is p)[1])(m.weight))(linear(L)),
        lambda L: (lambda m: (lambda p: (m.to(memory_format=L.channels_last), m.weight is p)[1])(m.weight))(L.nn.Conv2d(2, 3, 2)),
        lambda L: (lambda m: (lambda p: (m.double(), m.weight.is_leaf, m.weight.grad_fn is None, m.weight.requires_grad)[1:])(
            m.weight))(linear(L)),
    ),
    "buffer_identity": bundle(
        lambda L: (lambda m: (lambda b: (m.float(), m.running_mean is b)[1])(m.running_mean))(batchnorm(L)),
        lambda L: (lambda m: (lambda b: (m.double(), m.running_mean is b)[1])(m.running_mean))(batchnorm(L)),
        lambda L: (lambda m: (lambda b: (m.double(), m.num_batches_tracked is b)[1])(m.num_batches_tracked))(batchnorm(L)),
    ),
    "grad_converted": lambda L: (lambda m: (lambda g: (m.double(), name(m.weight.grad.dtype), m.weight.grad is g, name(g.dtype),
                                                       name(m.bias.grad.dtype), m.weight.grad)[1:])(m.weight.grad))(
        (lambda m: (m(L.ones(1, 2)).sum().backward(), m)[1])(linear(L))),
    "grad_converted_by_half_and_type": bundle(
        lambda L: after(lambda m: m.half(), lambda m: name(m.weight.grad.dtype))((lambda m: (m(L.ones(1, 2)).sum().backward(), m)[1])(linear(L))),
        lambda L: after(lambda m: m.type(L.float64), lambda m: name(m.bias.grad.dtype))(
            (lambda m: (m(L.ones(1, 2)).sum().backward(), m)[1])(linear(L))),
    ),
    "grad_accumulates_after_conversion": lambda L: (lambda m: (m(L.ones(1, 2)).sum().backward(), m.double(),
                                                               m(L.ones(1, 2, dtype=L.float64) * 2).sum().backward(), m.weight.grad)[3])(
        linear(L)),
    "tensor_hooks_survive": bundle(
        lambda L: (lambda m, calls: (m.weight.register_hook(lambda g: calls.append(name(g.dtype))), m.double(),
                                     m(L.ones(1, 2, dtype=L.float64)).sum().backward(), calls)[3])(linear(L), []),
        lambda L: (lambda m, calls: (m.weight.register_post_accumulate_grad_hook(lambda p: calls.append(name(p.grad.dtype))),
                                     m.double(), m(L.ones(1, 2, dtype=L.float64)).sum().backward(), calls)[3])(linear(L), []),
    ),
    "register_after_conversion": lambda L: (lambda m: (m.double(), m.register_parameter("extra", L.nn.Parameter(L.zeros(2))),
                                                       m.register_buffer("b", L.zeros(2)),
                                                       [(n, name(p.dtype)) for n, p in m.named_parameters()],
                                                       name(m.b.dtype))[3:])(linear(L)),
    "optimizer_after_conversion": lambda L: (lambda m, opt: [
        [(opt.zero_grad(), m(L.ones(1, 2, dtype=L.float64)).sum().backward(), opt.step()) for _ in range(2)],
        m.weight, m.bias, opt.state[m.weight]["momentum_buffer"]][1:])(
        *(lambda m: (m, L.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)))((lambda m: (m.double(), m)[1])(linear(L)))),
    "optimizer_state_across_conversion": lambda L: (lambda m, opt: [
        opt.zero_grad(), m(L.ones(1, 2)).sum().backward(), opt.step(), m.double(),
        opt.zero_grad(), m(L.ones(1, 2, dtype=L.float64)).sum().backward(), opt.step(),
        m.weight, opt.state[m.weight]["momentum_buffer"]][7:])(
        *(lambda m: (m, L.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)))(linear(L))),
    "requires_grad_": bundle(
        lambda L: (lambda m: [m.requires_grad_(False) is m, [p.requires_grad for p in m.parameters()]])(linear(L)),
        lambda L: (lambda m: [m.requires_grad_(False), m.requires_grad_(), [p.requires_grad for p in m.parameters()]][2])(linear(L)),
        lambda L: (lambda m: [m.requires_grad_(requires_grad=False), m.running_mean.requires_grad, m.weight.requires_grad][1:])(
            batchnorm(L)),
        lambda L: (lambda m: [m.requires_grad_(False), m.double(), m.weight.requires_grad, m.weight.is_leaf][2:])(linear(L)),
    ),
    "share_memory": bundle(
        lambda L: (lambda m, p: [m.share_memory() is m, m.weight is p, m.weight.is_shared(), m.bias.is_shared(), m.weight])(
            *(lambda m: (m, m.weight))(linear(L))),
        lambda L: after(lambda m: m.share_memory(), lambda m: [m.running_mean.is_shared(), m.num_batches_tracked.is_shared()])(
            batchnorm(L)),
    ),
    "to_empty_shapes": lambda L: after(lambda m: m.to_empty(device="cpu"), lambda m: [shapes(m), type(m[0].weight).__name__])(
        L.nn.Sequential(linear(L), batchnorm(L))),
    "memory_format_no_op_cases": bundle(
        lambda L: after(lambda m: m.to(memory_format=L.channels_last), lambda m: [m.weight.stride(), m.bias.stride()])(
            L.nn.Linear(2, 3)),
        lambda L: after(lambda m: m.to(memory_format=L.preserve_format), lambda m: m.weight.stride())(L.nn.Conv2d(2, 3, 2)),
        lambda L: after(lambda m: m.to(memory_format=L.contiguous_format), lambda m: m.weight.stride())(L.nn.Linear(2, 3)),
        lambda L: (lambda m: m.to(memory_format=L.channels_last) is m)(L.nn.Conv2d(2, 3, 2)),
    ),
    "memory_format_values_kept": lambda L: (lambda m: (lambda w: (m.to(L.float64, memory_format=L.channels_last),
                                                                  name(m.weight.dtype), L.equal(m.weight, w.double()))[1:])(
        m.weight.detach().clone()))(L.nn.Conv2d(2, 3, 2)),
}


@pytest.mark.parametrize("run", list(CONVERSION_CASES.values()), ids=list(CONVERSION_CASES))
def test_module_conversion(run):
    same_in_both(run)


def test_half_forward():
    """Linear.half() then a float16 forward (to float16's precision: PyTorch rounds x @ W.T + b once, chainrule
    may be one float16 ulp away)."""
    same_in_both(lambda L: after(lambda m: m.half(), lambda m: m(L.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=L.float16)))(linear(L)),
                 rtol=2e-3, atol=1e-3)


def test_module_to_channels_last_strides():
    same_in_both(lambda L: after(lambda m: m.to(memory_format=L.channels_last),
                                 lambda m: [m.weight.stride(), m.weight.is_contiguous(memory_format=L.channels_last),
                                            m.weight.is_contiguous()])(L.nn.Conv2d(2, 3, 2)))


def test_module_to_channels_last_3d_strides():
    same_in_both(lambda L: after(lambda m: m.to(memory_format=L.channels_last_3d), lambda m: m.weight.stride())(L.nn.Conv3d(2, 3, 2)))


@bug("Module.bfloat16() converts the floating parameters to bfloat16 in PyTorch; chainrule raises TypeError "
     "(NumPy has no bfloat16; documented in nn/module.py)")
def test_module_bfloat16():
    same_in_both(lambda L: after(lambda m: m.bfloat16(), lambda m: [name(m.weight.dtype), name(m.num_batches_tracked.dtype)])(
        batchnorm(L)))


# --- module conversions: bad input ----------------------------------------------------------------

CONVERSION_RAISES_CASES = {
    "to_int64": lambda L: linear(L).to(L.int64),
    "to_bool": lambda L: linear(L).to(L.bool),
    "to_dtype_kw_int32": lambda L: linear(L).to(dtype=L.int32),
    "to_device_and_uint8": lambda L: linear(L).to("cpu", L.uint8),
    "to_int_tensor": lambda L: linear(L).to(L.zeros(1, dtype=L.int64)),
    "to_bad_device_name": lambda L: linear(L).to("xyz"),
    "to_device_index_number": lambda L: linear(L).to(123),
    "to_cuda": lambda L: linear(L).to("cuda"),
    "to_two_devices": lambda L: linear(L).to("cpu", "cpu"),
    "to_two_dtypes": lambda L: linear(L).to(L.float64, L.float32),
    "to_dtype_then_device": lambda L: linear(L).to(L.float64, "cpu"),
    "to_unknown_keyword": lambda L: linear(L).to(foo=1),
    "type_int64_with_grad_params": lambda L: linear(L).type(L.int64),
    "type_bad_string": lambda L: linear(L).type("float64"),
    "type_missing_argument": lambda L: linear(L).type(),
    "half_extra_argument": lambda L: linear(L).half(1),
    "double_extra_argument": lambda L: linear(L).double(L.float32),
    "channels_last_on_5d_weight": lambda L: L.nn.Conv3d(2, 3, 2).to(memory_format=L.channels_last),
    "to_copy_keyword": lambda L: linear(L).to(L.float64, copy=True),
}


@pytest.mark.parametrize("run", list(CONVERSION_RAISES_CASES.values()), ids=list(CONVERSION_RAISES_CASES))
def test_conversion_raises_as_torch(run):
    raises_as_torch(run)


# --- warnings -------------------------------------------------------------------------------------

def warning_categories(run):
    """The sorted names of the warning categories ``run(L)`` gives in each library (``sweep.outcome``
    silences warnings, so this file records them itself)."""
    def categories(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(L)
        return sorted({each.category.__name__ for each in caught})
    return categories


WARNING_CASES = {
    "lazy_construction": lambda L: [L.nn.LazyLinear(3), L.nn.LazyConv2d(2, 3), L.nn.LazyBatchNorm1d(), L.nn.LazyInstanceNorm1d()],
    "first_call": lambda L: L.nn.LazyLinear(3)(L.ones(2, 4)),
    "first_call_zero_features": lambda L: L.nn.LazyLinear(3)(L.zeros(2, 0)),
    "optimizer_before_materialization": lambda L: (L.optim.SGD(L.nn.LazyLinear(3).parameters(), lr=0.1),
                                                   L.optim.Adam(L.nn.LazyConv1d(2, 2).parameters())),
    "load_into_lazy": lambda L: L.nn.LazyLinear(3).load_state_dict(L.nn.Linear(4, 3).state_dict()),
    "conversions": lambda L: linear(L).double().float().half().to(L.float64).type(L.float32).requires_grad_(False),
    "share_memory": lambda L: batchnorm(L).share_memory(),
}


@pytest.mark.parametrize("run", list(WARNING_CASES.values()), ids=list(WARNING_CASES))
def test_same_warnings(run):
    categories = warning_categories(run)
    assert categories(chainrule) == categories(torch)


# --- torch.__future__ and the module registration hooks -----------------------------------------

def future_flags(overwrite, swap):
    """Convert a Linear with a gradient to float64 under the given ``torch.__future__`` flags (reset
    afterwards): parameter and gradient identity, dtypes, class and leaf-ness after."""
    def run(L):
        try:
            L.__future__.set_overwrite_module_params_on_conversion(overwrite)
            L.__future__.set_swap_module_params_on_conversion(swap)
            flags = [L.__future__.get_overwrite_module_params_on_conversion(), L.__future__.get_swap_module_params_on_conversion()]
            m = linear(L)
            m(L.ones(1, 2)).sum().backward()
            p, g = m.weight, m.weight.grad
            m.double()
            return flags + [m.weight is p, name(p.dtype), name(m.weight.dtype), name(m.weight.grad.dtype), m.weight.grad is g,
                            type(m.weight).__name__, m.weight.requires_grad, m.weight.is_leaf, m.weight]
        finally:
            L.__future__.set_overwrite_module_params_on_conversion(False)
            L.__future__.set_swap_module_params_on_conversion(False)
    return run


def test_future_defaults():
    same_in_both(lambda L: [L.__future__.get_overwrite_module_params_on_conversion(),
                            L.__future__.get_swap_module_params_on_conversion()])


def test_future_overwrite_module_params():
    same_in_both(future_flags(overwrite=True, swap=False))


def test_future_swap_module_params():
    same_in_both(future_flags(overwrite=False, swap=True))


@pytest.mark.parametrize("assign", [False, True])
def test_future_swap_load_state_dict_keeps_the_parameters(assign):
    """Under the swap flag, load_state_dict swaps the loaded values into the module's own Parameter
    objects (an optimizer holding them keeps working), with or without ``assign``."""
    def run(L):
        try:
            L.__future__.set_swap_module_params_on_conversion(True)
            m, source = linear(L), L.nn.Linear(2, 3)
            with L.no_grad():
                source.weight.fill_(0.5)
            p = m.weight
            m.load_state_dict(source.state_dict(), assign=assign)
            return [m.weight is p, type(m.weight).__name__, m.weight.requires_grad, m.weight.is_leaf, m.weight, m.weight is source.weight]
        finally:
            L.__future__.set_swap_module_params_on_conversion(False)
    same_in_both(run)


def test_registration_hooks_not_called_by_conversions():
    def run(L):
        seen = []
        hooks = [L.nn.modules.module.register_module_parameter_registration_hook(lambda mod, n, p: seen.append(["p", n])),
                 L.nn.modules.module.register_module_buffer_registration_hook(lambda mod, n, b: seen.append(["b", n]))]
        try:
            m = batchnorm(L)
            seen.append("built")
            m.double()
            m.to(L.float16)
            m.share_memory()
            m.register_buffer("extra", L.zeros(1))
        finally:
            for hook in hooks:
                hook.remove()
        return seen
    same_in_both(run)


# --- gradients (float64) --------------------------------------------------------------------------

def grad_of(make, shape, seed=3):
    """The gradients of ``sum(w * module(x))`` (distinct weights ``w``) with respect to ``x`` and to
    each parameter of a seeded lazy module ``make(L)``, materialized by this first call."""
    def run(L):
        L.manual_seed(seed)
        module = make(L)
        x = L.tensor(np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape), dtype=L.float64, requires_grad=True)
        y = module(x)
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        return [x.grad] + [p.grad for p in module.parameters()]
    return run


GRAD_CASES = {
    "linear": grad_of(lambda L: L.nn.LazyLinear(3, dtype=L.float64), (2, 4)),
    "linear_double_before_call": grad_of(lambda L: L.nn.LazyLinear(3).double(), (2, 3, 4)),
    "conv1d": grad_of(lambda L: L.nn.LazyConv1d(2, 3, padding=1, dtype=L.float64), (2, 3, 5)),
    "conv2d_groups": grad_of(lambda L: L.nn.LazyConv2d(4, 2, groups=2, dtype=L.float64), (1, 2, 3, 3)),
    "conv_transpose2d": grad_of(lambda L: L.nn.LazyConvTranspose2d(2, 2, stride=2, dtype=L.float64), (1, 3, 2, 2)),
    "conv3d": grad_of(lambda L: L.nn.LazyConv3d(2, 2).to(L.float64), (1, 2, 3, 3, 3)),
    "batchnorm1d": grad_of(lambda L: L.nn.LazyBatchNorm1d(dtype=L.float64), (3, 2)),
    "batchnorm2d": grad_of(lambda L: L.nn.LazyBatchNorm2d().double(), (2, 3, 2, 2)),
    "instancenorm1d": grad_of(lambda L: L.nn.LazyInstanceNorm1d(dtype=L.float64), (2, 2, 3)),
    "sequential": grad_of(lambda L: L.nn.Sequential(L.nn.LazyLinear(4), L.nn.Tanh(), L.nn.LazyLinear(2)).double(), (3, 5)),
}


def _grad_after_double(L):
    """A float32 Linear made float64 after a first backward: the float64 gradient accumulated onto the converted one."""
    m = linear(L)
    (m(L.ones(1, 2)) * L.tensor([1.0, 2.0, 3.0])).sum().backward()
    m.double()
    x = L.tensor([[0.5, -1.5]], dtype=L.float64, requires_grad=True)
    (m(x) ** 2).sum().backward()
    return [x.grad, m.weight.grad, m.bias.grad]


GRAD_CASES["linear_grad_after_double"] = _grad_after_double


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)
