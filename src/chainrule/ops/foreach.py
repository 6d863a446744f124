"""PyTorch's ``torch._foreach_*`` functions: one operation applied to every tensor of a list, as
multi-tensor optimizers, EMA updates and gradient clipping call them::

    torch._foreach_mul_(ema, 0.9)                 # every ema tensor multiplied by 0.9, in place
    torch._foreach_add_(ema, current, alpha=0.1)  # ema[i] += 0.1 * current[i]
    norms = torch._foreach_norm(grads)            # a tuple: one 0-d norm per gradient

PyTorch fuses the loop into a few kernels for speed. Here each one is the per-tensor operation in a
loop, so its gradients, its in-place version counters and its ``chainrule.compile`` recording are
exactly the per-tensor operation's. The arguments after the list follow PyTorch's overloads:

- a list (or tuple) gives each tensor its own argument: a tensor list (``other``, ``tensor1``,
  ``weights``, ``src``) or a scalar list, as long as the first list;
- anything else (a number, a 0-d tensor) is shared by every tensor: ``_foreach_mul_(ema, 0.9)``;
- ``_foreach_addcmul`` and ``_foreach_addcdiv`` also take one number per tensor packed in a 1-d
  tensor, and ``_foreach_pow`` a number base with a list of exponents: ``_foreach_pow(2.0, exps)``.

Out-of-place forms return a tuple of new tensors; in-place forms (ending in ``_``) write into each
tensor of the list and return the list itself, as PyTorch 2's do.
"""
from numbers import Number

from chainrule.linalg import vector_norm
from chainrule.ops import activation, elementwise, matmul, reduce, special
from chainrule.ops.registry import in_place_form
from chainrule.tensor import Tensor


def norm(input, ord=2, dtype=None):
    """(Σ |x|^ord)^(1/ord) over all of ``input``'s elements, a 0-d tensor (``linalg.vector_norm``),
    with ``_foreach_norm``'s argument order: ``dtype`` third."""
    return vector_norm(input, ord, dtype=dtype)


def powsum(input, ord=2, dtype=None):
    """Σ |x|^ord over all of ``input``'s elements, a 0-d tensor: the ord-norm before its root
    (0^0 counts as 1, so ord = 0 counts every element). Computed in ``dtype`` when given."""
    if not input.is_floating_point():
        raise NotImplementedError(
            f"_foreach_powsum: expected floating-point tensors, got one of dtype {input.dtype} and shape "
            f"{list(input.shape)}; convert it first (x.float())"
        )
    if dtype is not None:
        input = input.to(dtype)
    return input.abs().pow(ord).sum()


def value_fourth(operation):
    """``addcmul``/``addcdiv`` taking ``value`` fourth by position, as the foreach forms pass it (one
    number per tensor from a list), where the per-tensor function takes it by keyword only."""

    def with_value_fourth(input, tensor1, tensor2, value=1):
        return operation(input, tensor1, tensor2, value=value)

    with_value_fourth.__name__, with_value_fourth.__doc__ = operation.__name__, operation.__doc__
    return with_value_fourth


def copy_(input, src, non_blocking=False):
    """``src``'s values written into ``input`` (broadcast, cast to its dtype); ``non_blocking`` is
    accepted for PyTorch's signature and changes nothing on the CPU."""
    return input.copy_(src)


#: ``_foreach_NAME`` (a tuple of new tensors) and ``_foreach_NAME_`` (in place), by NAME.
WITH_BOTH_FORMS = {
    "abs": elementwise.abs,
    "acos": elementwise.acos,
    "add": elementwise.add,
    "addcdiv": value_fourth(elementwise.addcdiv),
    "addcmul": value_fourth(elementwise.addcmul),
    "asin": elementwise.asin,
    "atan": elementwise.atan,
    "ceil": elementwise.ceil,
    "clamp_max": elementwise.clamp_max,
    "clamp_min": elementwise.clamp_min,
    "cos": elementwise.cos,
    "cosh": elementwise.cosh,
    "div": elementwise.div,
    "erf": activation.erf,
    "erfc": special.erfc,
    "exp": elementwise.exp,
    "expm1": elementwise.expm1,
    "floor": elementwise.floor,
    "frac": elementwise.frac,
    "lerp": elementwise.lerp,
    "lgamma": special.lgamma,
    "log": elementwise.log,
    "log10": elementwise.log10,
    "log1p": elementwise.log1p,
    "log2": elementwise.log2,
    "maximum": elementwise.elementwise_maximum,
    "minimum": elementwise.elementwise_minimum,
    "mul": elementwise.mul,
    "neg": elementwise.neg,
    "pow": elementwise.pow,
    "reciprocal": elementwise.reciprocal,
    "round": elementwise.round,
    "rsqrt": elementwise.rsqrt,
    "sigmoid": activation.sigmoid,
    "sign": elementwise.sign,
    "sin": elementwise.sin,
    "sinh": elementwise.sinh,
    "sqrt": elementwise.sqrt,
    "sub": elementwise.sub,
    "tan": elementwise.tan,
    "tanh": activation.tanh,
    "trunc": elementwise.trunc,
}
#: Only ``_foreach_NAME``, as in PyTorch: the reductions, the product and the copy.
OUT_OF_PLACE_ONLY = {"clone": elementwise.clone, "max": reduce.max, "mm": matmul.mm, "norm": norm, "powsum": powsum}
#: Only ``_foreach_NAME_``, as in PyTorch: the per-tensor function itself writes in place.
IN_PLACE_ONLY = {"zero_": elementwise.zero_, "copy_": copy_}

#: The functions whose first argument may be a number, the list coming second: ``_foreach_pow(2.0, exps)``.
TAKE_A_NUMBER_FIRST = {"_foreach_pow"}
#: The functions that take one number per tensor packed in a 1-d tensor: ``_foreach_addcdiv_(p, m, v, steps)``.
TAKE_PACKED_SCALARS = {"_foreach_addcmul", "_foreach_addcmul_", "_foreach_addcdiv", "_foreach_addcdiv_"}


#: PyTorch's names of the arguments after the list, by position (its overloads name one position
#: by the kind of value it takes: ``_foreach_mul_(ema, scalar=0.9)``, ``_foreach_lerp_(ema, tensors1=p,
#: weight=0.1)``); a keyword not named here is the per-tensor function's own (``alpha``).
_BINARY = (("scalar", "scalars", "other"),)
PYTORCH_ARGUMENT_NAMES = {
    **dict.fromkeys(["add", "sub", "mul", "div", "clamp_max", "clamp_min", "maximum", "minimum"], _BINARY),
    "pow": (("exponent",),),
    "lerp": (("tensors1",), ("weight", "weights")),
    "addcmul": (("tensor1",), ("tensor2",), ("value", "scalars")),
    "addcdiv": (("tensor1",), ("tensor2",), ("value", "scalars")),
    "norm": (("ord",), ("dtype",)),
    "powsum": (("ord",), ("dtype",)),
    "copy_": (("src",), ("non_blocking",)),
}


def by_position(name, names, arguments, options):
    """The arguments after the list in order, with those given by PyTorch's keyword ``names`` put in
    their places; the other keywords."""
    arguments, options = list(arguments), dict(options)
    for position, aliases in enumerate(names):
        given = [alias for alias in aliases if alias in options]
        if not given:
            continue
        if position < len(arguments) or len(given) > 1:
            raise TypeError(f"{name}() got multiple values for argument '{given[-1]}'")
        if position > len(arguments):
            raise TypeError(f"{name}() missing its argument '{names[len(arguments)][0]}' before '{given[0]}'")
        arguments.append(options.pop(given[0]))
    return arguments, options


def tensor_count(name, self, arguments):
    """How many tensors a call of ``name`` goes over: the length of its tensor list (``self``, or the
    first list argument after a number base), checked to hold at least one tensor and only tensors."""
    tensors = self
    if name in TAKE_A_NUMBER_FIRST and isinstance(self, Number):
        tensors = next((each for each in arguments if isinstance(each, (list, tuple))), None)
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{name}(): argument 'self' must be a list or tuple of Tensors, not {type(tensors).__name__}; "
            f"wrap a single tensor in a list: {name}([x], ...)"
        )
    if not tensors:
        raise RuntimeError(f"{name}(): Tensor list must have at least one tensor. Pass a non-empty list")
    for position, each in enumerate(tensors):
        if not isinstance(each, Tensor):
            raise TypeError(f"{name}(): expected Tensor as element {position} in argument 0, but got {type(each).__name__}")
    return len(tensors)


def one_per_tensor(name, count, argument):
    """``argument`` as ``count`` values, one per tensor: a list's own elements (as many as the
    tensors), a packed 1-d tensor's numbers, or the same number or 0-d tensor for every tensor."""
    if isinstance(argument, (list, tuple)):
        if len(argument) != count:
            raise length_error(name, count, argument)
        return list(argument)
    if isinstance(argument, Tensor) and argument.dim() > 0:
        if name not in TAKE_PACKED_SCALARS:
            raise RuntimeError(
                f"{name}(): scalar tensor expected to be 0 dim but it has {argument.dim()} dimensions and "
                f"{argument.numel()} elements. Pass a number, a 0-d tensor, or a list with one per tensor"
            )
        if argument.dim() != 1 or argument.numel() != count:
            raise RuntimeError(
                f"{name}(): Expected length of scalars to match input of length {count} but got "
                f"{argument.numel()} instead (a tensor of shape {list(argument.shape)}); pass a 1-d tensor "
                f"with one number per tensor"
            )
        return argument.tolist()
    return [argument] * count


def length_error(name, count, argument):
    """PyTorch's error for a list argument whose length is not the number of tensors."""
    if argument and all(isinstance(each, Tensor) for each in argument):  # (an empty list is PyTorch's empty scalar list)
        return RuntimeError(
            f"{name}(): Tensor lists must have the same number of tensors, got {count} and {len(argument)}. "
            f"Pass one tensor of each list per tensor of the first"
        )
    return RuntimeError(
        f"{name}(): Tensor list must have same number of elements as scalar list ({count} tensors, "
        f"{len(argument)} scalars). Pass one number per tensor, or a single number for all of them"
    )


def foreach_function(name, per_tensor, returns_results, argument_names=()):
    """``torch.NAME``: ``per_tensor`` called on each tensor of the list with its own arguments (see
    ``one_per_tensor``); the tuple of its results when ``returns_results``, else the list itself
    (``per_tensor`` then writes into each tensor). ``argument_names``: PyTorch's keywords for the
    arguments after the list, by position (``PYTORCH_ARGUMENT_NAMES``)."""

    def foreach(self, *arguments, **options):
        if options and argument_names:
            arguments, options = by_position(name, argument_names, arguments, options)
        count = tensor_count(name, self, (*arguments, *options.values()))
        positional = [one_per_tensor(name, count, each) for each in (self, *arguments)]
        keywords = {keyword: one_per_tensor(name, count, value) for keyword, value in options.items()}
        results = tuple(
            per_tensor(*(column[index] for column in positional), **{keyword: column[index] for keyword, column in keywords.items()})
            for index in range(count)
        )
        return results if returns_results else self

    summary = (per_tensor.__doc__ or "").strip().split("\n")[0]
    outcome = "a tuple of the results" if returns_results else "writes into each tensor and returns the list"
    foreach.__name__ = foreach.__qualname__ = name
    foreach.__doc__ = f"``{per_tensor.__name__}`` ({summary}) on each tensor of the list ``self``: {outcome}."
    return foreach


def every_foreach_function():
    """Each ``_foreach_*`` function by its name, built from the three tables."""
    built = {}
    for stem, operation in WITH_BOTH_FORMS.items():
        names = PYTORCH_ARGUMENT_NAMES.get(stem, ())
        built[f"_foreach_{stem}"] = foreach_function(f"_foreach_{stem}", operation, True, names)
        built[f"_foreach_{stem}_"] = foreach_function(f"_foreach_{stem}_", in_place_form(operation), False, names)
    for stem, operation in OUT_OF_PLACE_ONLY.items():
        built[f"_foreach_{stem}"] = foreach_function(f"_foreach_{stem}", operation, True, PYTORCH_ARGUMENT_NAMES.get(stem, ()))
    for stem, operation in IN_PLACE_ONLY.items():
        built[f"_foreach_{stem}"] = foreach_function(f"_foreach_{stem}", operation, False, PYTORCH_ARGUMENT_NAMES.get(stem, ()))
    return built


FOREACH_FUNCTIONS = every_foreach_function()
globals().update(FOREACH_FUNCTIONS)
__all__ = sorted(FOREACH_FUNCTIONS)
