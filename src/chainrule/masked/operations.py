"""What each operation does to a MaskedTensor: its data and its mask, as PyTorch's MaskedTensor.

Every call with a MaskedTensor argument reaches ``masked_operation`` (the class's
``__torch_function__``), which looks the operation up by name (``mt.exp()``, ``chainrule.exp(mt)``
and ``F.softmax(mt, 0)`` alike) in the families below:

- elementwise, one operand (``exp``, ``abs``, ``-mt``, ``clamp``...): the data transformed, the mask kept;
- elementwise, two operands (``+``, ``*``, ``<``, ``maximum``...): the masks must be equal (a plain
  tensor or a number counts as kept everywhere), the result keeps that mask;
- shape and indexing (``mt[0]``, ``transpose``, ``view``, ``reshape``, ``cat``, ``stack``...): the same
  operation on the data and on the mask;
- conversions and copies (``to``, ``double``, ``detach``, ``clone``...): the data converted, the mask kept;
- reductions (``sum``, ``mean``, ``amax``, ``argmin``, ``prod``, ``all``, ``var``, ``std``...): the
  masked reduction of ``chainrule.masked`` over the kept elements, a slice of the result kept
  where any of its elements was (a MaskedTensor even for a full reduction: ``MaskedTensor(3.0, True)``);
- ``softmax`` over the kept elements (0 where masked out); ``where(condition, a, b)`` picks data and mask alike;
- ``mt.grad`` and ``autograd.grad``: the gradient as a MaskedTensor with the input's mask.

Queries that give no tensor (``shape``, ``dim()``, ``requires_grad``, ``backward()``...) run on the
data. Any other operation that would give a tensor is refused with a TypeError, as PyTorch's
MaskedTensor refuses the operations it has no rule for (``permute``, ``matmul``, ``1 - mt``...).

Where it differs from PyTorch's: PyTorch's gradients are themselves MaskedTensors flowing back
through its dispatcher, so a gradient's mask can narrow on the way (``where`` masks out the branch
it did not pick, ``mt[0]`` the rows it did not read) and a plain tensor that meets a MaskedTensor
gets a MaskedTensor gradient. chainrule's engine carries plain gradients: each is 0 where the
operation skipped an element, a MaskedTensor's ``grad`` takes that tensor's own mask, and a plain
tensor's gradient stays plain. Elementwise rules compute on the kept data (1 where masked out),
so that a NaN hidden by the mask never reaches a plain operand's gradient; the values under a
result's masked-out elements, which mean nothing in either library, differ.
"""
import inspect

import chainrule
from chainrule.masked import maskedtensor, normalizations, reductions, statistics
from chainrule.masked.maskedtensor import MaskedTensor, data_of, is_masked_tensor, masked_result
from chainrule.overrides import DisableTorchFunctionSubclass, resolve_name
from chainrule.tensor import Tensor

UNARY = {
    "abs", "absolute", "acos", "arccos", "acosh", "arccosh", "angle", "asin", "arcsin", "asinh", "arcsinh", "atan", "arctan",
    "atanh", "arctanh", "bitwise_not", "ceil", "clamp", "clip", "conj_physical", "cos", "cosh", "deg2rad", "digamma", "erf",
    "erfc", "erfinv", "exp", "exp2", "expm1", "fix", "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "logit", "i0",
    "isnan", "nan_to_num", "neg", "negative", "positive", "pow", "rad2deg", "reciprocal", "round", "rsqrt", "sigmoid", "sign",
    "sgn", "signbit", "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "__neg__", "__pos__", "__abs__",
    "__invert__",
}
BINARY = {
    "add", "atan2", "arctan2", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "div",
    "divide", "floor_divide", "fmod", "logaddexp", "logaddexp2", "mul", "multiply", "nextafter", "remainder", "sub", "subtract",
    "true_divide", "eq", "ne", "le", "ge", "greater", "greater_equal", "gt", "less_equal", "lt", "less", "maximum", "minimum",
    "fmax", "fmin", "not_equal", "__eq__", "__and__", "__or__", "__xor__", "__floordiv__", "__rdiv__", "__rtruediv__", "__lshift__",
    "__rshift__",
}
#: The in-place forms (``add_``, ``exp_``...), which change the MaskedTensor itself.
IN_PLACE = {name + "_" for name in UNARY | BINARY if not name.startswith("_")} - {
    "angle_", "positive_", "signbit_", "isnan_", "logaddexp_", "logaddexp2_", "fmin_", "minimum_", "maximum_", "fmax_",
}
SHAPE_AND_INDEXING = {
    "__getitem__", "select", "transpose", "t", "split", "view", "reshape", "flatten", "expand", "unsqueeze", "cat", "concat",
    "concatenate", "stack", "narrow", "unfold",
}
CONVERSIONS = {"to", "double", "float", "half", "int", "long", "short", "bool", "detach", "clone", "contiguous", "to_dense", "ones_like"}


def operation_name(func):
    """The name an operation is looked up by: ``chainrule.Tensor.sum``, ``chainrule.sum`` and
    ``chainrule.nn.functional.softmax`` as ``sum`` and ``softmax``, a property read as
    ``grad.__get__``, ``chainrule.autograd.grad`` as ``autograd.grad``."""
    name = resolve_name(func) or f"{getattr(func, '__module__', None)}.{getattr(func, '__name__', func)}"
    for prefix in ("chainrule.Tensor.", "chainrule.nn.functional.", "chainrule."):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def masked_operation(func, args, kwargs):
    """``func(*args, **kwargs)`` with MaskedTensors among ``args``: its family's rule, or the plain
    call for a query that gives no tensor."""
    name = operation_name(func)
    if name in UNARY:
        return elementwise_unary(func, args, kwargs)
    if name in BINARY:
        return elementwise_binary(func, args, kwargs)
    if name in IN_PLACE:
        return in_place(func, args, kwargs)
    if name in SHAPE_AND_INDEXING:
        return wrapped(func(*replaced(args, data_of), **kwargs), func(*replaced(args, MaskedTensor.get_mask), **kwargs))
    if name in CONVERSIONS:
        return masked_result(func(*replaced(args, data_of), **kwargs), args[0].get_mask())
    if name in REDUCTIONS:
        return reduction(name, args, kwargs)
    if name in OTHER_RULES:
        return OTHER_RULES[name](func, args, kwargs)
    return query(func, name, args, kwargs)


# ----------------------------------------------------------------------------- the MaskedTensors in a call
def replaced(values, part):
    """``values`` (a tuple of arguments, lists and tuples looked into) with each MaskedTensor
    replaced by ``part`` of it: ``data_of`` (its data) or ``MaskedTensor.get_mask``."""
    return tuple(
        part(value) if is_masked_tensor(value) else type(value)(replaced(value, part)) if isinstance(value, (list, tuple)) else value
        for value in values
    )


def wrapped(data, mask):
    """MaskedTensors of ``data`` and ``mask`` (tensors, or lists/tuples of them, alike)."""
    if isinstance(data, (list, tuple)):
        return type(data)(wrapped(each, each_mask) for each, each_mask in zip(data, mask))
    return masked_result(data, mask)


def masks_match(first, second):
    """Whether two MaskedTensors have equal masks (a plain operand matches any)."""
    if not (is_masked_tensor(first) and is_masked_tensor(second)):
        return True
    first, second = first.get_mask(), second.get_mask()
    return first.dim() == second.dim() and bool(chainrule.eq(first, second).all())


# ----------------------------------------------------------------------------- elementwise
def kept_data(masked):
    """The data of ``masked`` with 1 where masked out, for elementwise operations: a masked-out
    element's value means nothing, and NaN or inf there (the NaN that ``masked_tensor(x, ~isnan(x))``
    hides) would otherwise reach the gradient of a plain operand (0 · NaN = NaN in ``Σ grad · x``)."""
    return data_of(masked).masked_fill(~masked.get_mask(), 1)


def elementwise_unary(func, args, kwargs):
    """``func`` on the kept data of ``args[0]``, whose mask the result keeps."""
    if any(isinstance(value, Tensor) for value in args[1:]):
        raise TypeError("MaskedTensor unary ops do not support additional Tensor arguments")
    return masked_result(func(*replaced(args, kept_data), **kwargs), args[0].get_mask())


def elementwise_binary(func, args, kwargs):
    """``func`` on the kept data of two operands with equal masks (one may be plain), keeping that mask."""
    if any(isinstance(value, Tensor) for value in args[2:]):
        raise TypeError("MaskedTensor binary ops do not support Tensor arguments aside from the lhs and rhs")
    if not masks_match(*args[:2]):
        raise ValueError("Input masks must match. If you need support for this, please open an issue on Github.")
    result = func(*replaced(args, kept_data), **kwargs)
    mask = next(value for value in args[:2] if is_masked_tensor(value)).get_mask()
    return masked_result(result, mask.expand_as(result))


def in_place(func, args, kwargs):
    """``add_``, ``exp_``...: the MaskedTensor's own data changed (its node in the graph with it), its mask kept."""
    if len(args) > 1 and not masks_match(*args[:2]):
        raise ValueError("Input masks must match. If you need support for this, please open an issue on Github.")
    with DisableTorchFunctionSubclass():
        func(args[0], *replaced(args[1:], data_of), **kwargs)
    return args[0]


# ----------------------------------------------------------------------------- reductions
def masked_all(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Whether every kept element along ``dim`` is true (a masked-out element counts as True)."""
    filled = input.masked_fill(~mask, True)
    return filled.all() if dim is None else chainrule.all(filled, dim=dim, keepdim=keepdim)


REDUCTIONS = {
    "sum": reductions.sum, "mean": statistics.mean, "amin": reductions.amin, "amax": reductions.amax,
    "argmin": reductions.argmin, "argmax": reductions.argmax, "prod": reductions.prod, "all": masked_all, "norm": reductions.norm,
    "var": statistics.var, "std": statistics.std,
}


def reduction(name, args, kwargs):
    """``mt.sum()`` (everything: a 0-d MaskedTensor, kept if any element was) or
    ``mt.sum(dim, keepdim=False, dtype=None)``: the masked reduction of the kept elements."""
    if len(args) == 1 and not kwargs:
        return reduce_over(name, args[0], None)
    return reduce_over(name, *args, **kwargs)


def reduce_over(name, input, dim, keepdim=False, dtype=None):
    mask = input.get_mask()
    result = REDUCTIONS[name](data_of(input), dim=dim, keepdim=keepdim, dtype=dtype, mask=mask)
    return masked_result(result, kept_slices(mask, dim, keepdim))


def kept_slices(mask, dim, keepdim):
    """Which slices of a reduction over ``dim`` (None: all) keep any element."""
    if dim is None:
        return mask.any()
    for each in sorted((dim,) if isinstance(dim, int) else dim, reverse=True):
        mask = mask.any(dim=each, keepdim=keepdim)
    return mask


# ----------------------------------------------------------------------------- the other rules
def softmax(func, args, kwargs):
    """Softmax along ``dim`` over the kept elements (0 where masked out, NaN where a slice keeps none)."""
    dim = args[1] if len(args) > 1 else kwargs["dim"]
    mask = args[0].get_mask()
    return masked_result(normalizations.softmax(data_of(args[0]), dim, mask=mask), mask)


def where(func, args, kwargs):
    """``where(condition, a, b)``: data and mask picked alike (a plain operand kept everywhere)."""
    if len(args) != 3 or kwargs:
        raise ValueError(f"__torch_function__, torch.where: len(args) must be 3 but got {len(args)}, with no keyword arguments")
    condition, choices = args[0], [as_masked(value) for value in args[1:]]
    data = chainrule.where(condition, *(data_of(choice) for choice in choices))
    return masked_result(data, chainrule.where(condition, *(choice.get_mask() for choice in choices)))


def as_masked(value):
    """``value`` as a MaskedTensor: a plain tensor or number kept everywhere."""
    if is_masked_tensor(value):
        return value
    value = chainrule.as_tensor(value)
    return masked_result(value, chainrule.ones_like(value, dtype=chainrule.bool))


def gradient_of_leaf(func, args, kwargs):
    """``mt.grad``: the gradient accumulated in ``mt``, as a MaskedTensor with ``mt``'s mask."""
    with DisableTorchFunctionSubclass():
        gradient = func(*args, **kwargs)
    return None if gradient is None else masked_result(gradient, args[0].get_mask())


def autograd_grad(func, args, kwargs):
    """``autograd.grad(outputs, inputs)``: each MaskedTensor input's gradient as a MaskedTensor with its mask."""
    with DisableTorchFunctionSubclass():
        gradients = func(*args, **kwargs)
    inputs = inspect.signature(func).bind(*args, **kwargs).arguments["inputs"]
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    return tuple(
        masked_result(gradient, input.get_mask()) if is_masked_tensor(input) and gradient is not None else gradient
        for gradient, input in zip(gradients, inputs)
    )


def no_plain_values(func, args, kwargs):
    """``numpy()`` and ``tolist()``, which PyTorch refuses to tensor subclasses: they would show the
    masked-out values as if they were data."""
    suffix = "." if func.__name__ == "numpy" else f", got {type(args[0]).__name__}"
    raise RuntimeError(f".{func.__name__}() is not supported for tensor subclasses{suffix} (use mt.to_tensor(value).{func.__name__}())")


def deep_copy(func, args, kwargs):
    """``copy.deepcopy(mt)``: a new leaf with copies of the data and the mask (requiring grad as ``mt`` does)."""
    masked = args[0]
    copied = masked_result(data_of(masked).detach().clone(), masked.get_mask().clone())
    return copied.requires_grad_(masked.requires_grad)


OTHER_RULES = {
    "softmax": softmax, "where": where, "grad.__get__": gradient_of_leaf, "autograd.grad": autograd_grad, "numpy": no_plain_values,
    "tolist": no_plain_values, "__deepcopy__": deep_copy,
}


def query(func, name, args, kwargs):
    """A call no rule covers: run on the data when it gives no new tensor (``shape``, ``dim()``,
    ``backward()``, ``requires_grad_()``...); otherwise PyTorch's refusal, a TypeError."""
    with DisableTorchFunctionSubclass():
        result = func(*args, **kwargs)
    if gives_new_tensor(result, args):
        raise TypeError(
            f"{name.removesuffix('.__get__')} is not implemented for MaskedTensor (PyTorch's MaskedTensor has no rule for it either): compute it on "
            "mt.get_data() or mt.to_tensor(value) and wrap the result with masked_tensor(data, mask)"
        )
    return result


def gives_new_tensor(result, args):
    if isinstance(result, (list, tuple)):
        return any(gives_new_tensor(each, args) for each in result)
    return isinstance(result, Tensor) and not any(result is value for value in args)


maskedtensor.masked_operation = masked_operation
