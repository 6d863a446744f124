"""What convolution and pooling share: their arguments as per-dimension tuples, their output sizes,
and the functions their backward formulas call.

A backward formula of an ``Op`` runs on arrays with ``ctx.xp`` = the array library, and on tensors
with ``ctx.xp`` = chainrule's public functions (see ``ops/op.py``). The gradient of a convolution
is itself a convolution, and of pooling a ``fold``: operations the array library does not have. So
these operations' nodes see, in a plain backward, the array library extended by this family's own
operations on arrays, under the names of their public functions (``WindowNode.xp``); one formula,
``ctx.xp.convolution(...)``, then runs on arrays and, recorded, on tensors.
"""
import operator
from chainrule.backend import ArrayFunctions
from chainrule.ops.op import Op, OpNode

#: The array library plus the window operations on arrays (registered by ``on_arrays``).
array_functions = ArrayFunctions()


def on_arrays(name):
    """Register a function on arrays as ``ctx.xp.NAME`` for the plain backward of window operations."""

    def register(function):
        setattr(array_functions, name, function)
        return function

    return register


class WindowNode(OpNode):
    """The node of a window operation: its ``xp`` knows the convolutions and ``fold`` on arrays too."""

    @staticmethod
    def plain_backward_xp(ctx):
        return array_functions


class WindowOp(Op):
    """An ``Op`` whose backward may call convolutions, ``fold`` and ``unfold`` through ``ctx.xp``."""

    _node_base = WindowNode


#: The layout of an input with 1, 2 or 3 spatial dimensions, as error messages name it.
LAYOUTS = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}


def per_dimension(value, count, name, operation):
    """``value`` (an int or a sequence of ``count`` ints; NumPy's integers and 0-d integer tensors
    count as ints) as a tuple of ``count`` ints. As PyTorch: TypeError for anything not an int (a
    float, a bool, a string), RuntimeError for a sequence of ints of another length."""
    entries = value if isinstance(value, (tuple, list)) else (value,)
    for each in entries:
        if isinstance(each, bool) or not hasattr(type(each), "__index__"):
            raise TypeError(
                f"{operation}(): argument '{name}' must be tuple of ints, but found element of type "
                f"{type(each).__name__} ({name}={value!r}; give ints)"
            )
    values = tuple(operator.index(each) for each in entries)
    if len(values) == 1 and count > 1:
        values = values * count
    if len(values) != count:
        raise RuntimeError(f"{operation}: expected {name} to be a single integer or a list of {count} integers, got {value!r}")
    return values


def output_size(size, kernel, stride, padding, dilation, ceil_mode=False):
    """How many windows fit along one dimension: floor (or ceil) of
    (size + 2 padding - dilation (kernel - 1) - 1) / stride, plus 1. With ``ceil_mode`` a last
    partial window counts when it starts inside the input or its left padding (as PyTorch)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    count = -(-span // stride) + 1
    if (count - 1) * stride >= size + padding:
        count -= 1
    return count
