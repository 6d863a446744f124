"""float16 operations computed as PyTorch's CPU kernels compute them: in float32, rounded once.

PyTorch computes an operation on float16 tensors in float32 (its "opmath" type): each float16
operand is widened to float32 (exactly: every float16 is a float32), the whole formula is evaluated
in float32, and the result is rounded to float16 once. Evaluated in NumPy's float16 instead, a
formula of several steps rounds at every step: GELU's x Φ(x), softplus' ln(1 + e^x), layer norm's
mean, variance and scaling, addcmul's value · a · b drift a few float16 steps from PyTorch's
results, and by up to a third of the value where a result is near 0.

``for_input(operation, tensor)`` is what a public function applies: the operation itself, or,
where ``tensor`` holds float16 numbers, its float32 form (``computed_in_float32``), a subclass, so
that its node has the operation's name and backward. Most of PyTorch's backward kernels compute in
float32 too (gelu_backward, the normalizations'): what forward saved are then float32 arrays (the
widened inputs, a saved result rounded to float16 and widened again, as those kernels read it), so
the backward formula computes in float32 and the engine rounds the gradient to float16 once. An
operation whose float16 backward rounds at each step in PyTorch (a derivative written as tensor
operations, addcdiv's; sigmoid's kernel, in Half arithmetic) says so with
``half_backward_rounds_each_step``: its saved values stay float16.
(``backend.half_in_float32`` does the same for one function of arrays: a reduction inside a formula.)
"""
import functools

from chainrule.backend import HALF, ignoring_float_errors, ndarray, xp
from chainrule.dtypes import float16

SINGLE = xp.dtype(xp.float32)


def for_input(operation, tensor, rounded=True):
    """``operation``, or ``computed_in_float32(operation, rounded)`` where ``tensor`` (any argument:
    a number, None) holds float16 numbers."""
    try:
        if tensor._array.dtype is not HALF:  # (NumPy's dtypes of native byte order are one object each)
            return operation
    except AttributeError:  # no tensor: the operation refuses it as it would
        return operation
    return computed_in_float32(operation, rounded)


@functools.lru_cache(maxsize=None)
def computed_in_float32(operation, rounded=True):
    """``operation`` with its float16 array arguments widened to float32 before its forward and,
    when ``rounded``, its float32 results rounded to float16 after it (``rounded=False`` keeps
    them: batch norm's statistics, which PyTorch keeps in float32). The node is named as the
    operation's."""
    forward = operation.forward
    saved_in_half = getattr(operation, "half_backward_rounds_each_step", False)

    def forward_in_float32(ctx, *arguments):
        widened = [argument.astype(SINGLE) if type(argument) is ndarray and argument.dtype == HALF else argument for argument in arguments]
        with ignoring_float_errors():  # beyond float16's range: inf, silently, as in PyTorch
            results = forward(ctx, *widened)
            kept = {id(wide): argument for wide, argument in zip(widened, arguments) if wide is not argument} if saved_in_half else {}
            if rounded:
                results, kept_results = _rounded(results, saved_in_half)
                kept.update(kept_results)
            if kept:
                _replace_saved(ctx, kept)
            return results

    backward = operation.backward

    def backward_in_float32(ctx, *grads):
        return backward(ctx, *[_widened(grad) for grad in grads])

    methods = {"forward": staticmethod(forward_in_float32)}
    if not saved_in_half:  # (a backward of the gradient alone, avg_pool's, computes in float32 too)
        methods["backward"] = staticmethod(backward_in_float32)
    return type(operation.__name__, (operation,), {
        **methods, "node_name": operation._backward_cls.__name__, "__module__": operation.__module__, "__doc__": operation.__doc__,
    })


def _widened(grad):
    """A float16 gradient (an array; a tensor in a recorded backward) in float32; any other as it is."""
    if type(grad) is ndarray:
        return grad.astype(SINGLE) if grad.dtype == HALF else grad
    return grad.float() if getattr(grad, "dtype", None) == float16 else grad


def _rounded(results, saved_in_half):
    """``(results rounded, replacements)``: each float32 result (an array, or the NumPy scalar a 0-d
    product may be) rounded to float16, and for each, what backward is to read where forward saved
    it (``Sigmoid`` keeps its result): the rounded value, widened again unless ``saved_in_half``."""
    replacements = {}

    def rounded(result):
        if getattr(result, "dtype", None) is not SINGLE:
            return result
        half = result.astype(HALF)
        replacements[id(result)] = half if saved_in_half else half.astype(SINGLE)
        return half

    return (tuple([rounded(result) for result in results]) if type(results) is tuple else rounded(results)), replacements


#: Where a context keeps what forward saved: an eager node's ``_saved``, a compiled program's
#: context's ``saved_tensors`` (compile/replay.py).
_SAVED_IN = ("_saved", "saved_tensors")


def _replace_saved(ctx, replacements):
    """Put ``replacements[id(value)]`` in place of each such value forward saved on ``ctx``."""
    attributes = vars(ctx)
    for name in _SAVED_IN:
        saved = attributes.get(name)
        if saved:
            setattr(ctx, name, tuple([replacements.get(id(value), value) for value in saved]))
