"""Elementwise operations on nested tensors: on the packed tensor at once, one graph node.

    nt.relu(), chainrule.sin(nt), nt.to(chainrule.float64), F.dropout(nt, 0.1)   # unary: one op on the values
    chainrule.ones_like(nt)                      # the factories *_like: cut as nt
    nt + nt, nt * 2, 1 - nt                      # same cuts, or a number: one op on the values
    nt.masked_fill(nt > 0, 0.0)                  # a nested mask cut alike
    jagged_nt * bias                             # a dense operand (D,) broadcast against each component

A strided nested tensor takes no dense operand, as in PyTorch (make it nested first).
"""
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.memory_layout import strided
from chainrule.nested.dispatch import implements
from chainrule.nested.tensor import NestedTensor
from chainrule.tensor import Tensor

UNARY = (
    "abs", "neg", "negative", "positive", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc",
    "floor", "ceil", "round", "trunc", "frac", "sign", "sgn", "reciprocal", "logical_not", "bitwise_not", "isnan", "isinf",
    "isfinite", "nan_to_num", "clamp", "clip", "relu", "relu6", "gelu", "silu", "mish", "elu", "selu", "celu", "leaky_relu",
    "hardtanh", "hardswish", "hardsigmoid", "softplus", "logsigmoid", "tanhshrink", "softsign", "dropout", "alpha_dropout",
    "clone", "detach", "to", "float", "double", "half", "bfloat16", "int", "long", "bool", "cpu",
    "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like",
)
IN_PLACE = (
    "abs_", "neg_", "exp_", "log_", "sqrt_", "sin_", "cos_", "tanh_", "sigmoid_", "relu_", "zero_", "fill_", "clamp_",
    "normal_", "uniform_", "add_", "sub_", "mul_", "div_", "pow_", "copy_",
)
BINARY = (
    "add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "pow", "maximum", "minimum", "atan2",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "masked_fill",
)
REVERSED = {"__rsub__": "sub", "__rdiv__": "div", "__rpow__": "pow", "__rfloordiv__": "floor_divide", "__rmod__": "remainder"}


@implements(*UNARY)
def unary(func, args, kwargs):
    """``func`` on the packed tensor, the result cut as the input."""
    nested, *rest = args
    return nested.with_buffer(func(Tensor(nested), *rest, **kwargs))


@implements(*IN_PLACE)
def in_place(func, args, kwargs):
    """``func`` in place on the packed tensor (nested operands: theirs); returns the input. Not
    where gradients are recorded: the nested tensor would keep the node it had before."""
    nested = args[0]
    if nested.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{func.__name__}(): chainrule does not record in-place operations on a nested tensor that requires grad; "
            f"use the out-of-place {func.__name__.rstrip('_')}() (or run it under chainrule.no_grad())"
        )
    for other in args[1:]:
        if isinstance(other, NestedTensor):
            check_same_cuts(nested, other, func.__name__)
    func(*(Tensor(each) if isinstance(each, NestedTensor) else each for each in args), **kwargs)
    return nested


@implements(*BINARY)
def binary(func, args, kwargs):
    """``func(self, other)``: both nested and cut alike, or one a number or 0-d tensor: one op on
    the packed tensors; a jagged one and a dense one: per component, the dense one broadcast."""
    first, second, *rest = args
    nested = first if isinstance(first, NestedTensor) else second
    if isinstance(first, NestedTensor) and isinstance(second, NestedTensor):
        check_same_cuts(first, second, func.__name__)
        return nested.with_buffer(func(Tensor(first), Tensor(second), *rest, **kwargs))
    other = second if nested is first else first
    if not isinstance(other, Tensor) or other.dim() == 0:
        return nested.with_buffer(func(*(Tensor(each) if each is nested else each for each in (first, second)), *rest, **kwargs))
    if nested.layout is strided:
        raise RuntimeError(
            f"{func.__name__}(): expected both operands nested, got a nested one and a dense one of shape {tuple(other.shape)} "
            f"(a strided nested tensor takes no dense operand; make it nested: chainrule.nested.as_nested_tensor)"
        )
    return type(nested).packed(
        [func(*(piece if each is nested else _row_of(each, index, nested) for each in (first, second)), *rest, **kwargs)
         for index, piece in enumerate(nested.components())],
        like=nested,
    )


@implements(*REVERSED)
def reversed_binary(func, args, kwargs):
    """``number - nt``, ``number / nt``...: the operation with its operands swapped."""
    nested, other = args
    operation = getattr(Tensor, REVERSED[func.__name__])
    return nested.with_buffer(operation(other if isinstance(other, Tensor) else Tensor(nested).new_tensor(other), Tensor(nested)))


def _row_of(dense, index, nested):
    """The part of the dense operand that meets component ``index``: all of it where it has fewer
    dims than the nested tensor (it broadcasts against each component), else its row ``index``."""
    if dense.dim() < nested.dim():
        return dense
    if dense.dim() == nested.dim() and dense.shape[0] == len(nested) and dense.shape[nested._ragged_idx] == 1:
        return dense[index]
    raise RuntimeError(
        f"binary operation: a dense operand of shape {tuple(dense.shape)} does not broadcast against a nested tensor of "
        f"shape {tuple(nested.shape)} (give it fewer dims, or size 1 in the ragged dim)"
    )


def check_same_cuts(first, second, operation):
    """PyTorch's refusal of two nested tensors whose components do not line up."""
    if first.layout is not second.layout:
        raise RuntimeError(f"{operation}(): nested tensors of different layouts ({first.layout!r}, {second.layout!r})")
    if first.layout is strided:
        same = first._nested_sizes == second._nested_sizes
    else:
        same = (first._ragged_idx, first.ragged_lengths(), first._array.shape) == (
            second._ragged_idx, second.ragged_lengths(), second._array.shape
        )
    if not same:
        raise RuntimeError(
            f"{operation}(): nested tensors whose components' shapes differ: "
            f"{[tuple(piece.shape) for piece in first.components()]} and {[tuple(piece.shape) for piece in second.components()]}"
        )
