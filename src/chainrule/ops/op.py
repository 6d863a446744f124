"""Op: the form of every chainrule operation, a Function that computes on arrays.

An operation is one class with its mathematics declared beside its code::

    class Sin(Op):
        formula = "sin x"
        derivatives = ("cos x",)

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return xp.sin(x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * ctx.xp.cos(x)

- ``forward`` gets arrays for the tensor arguments (other arguments as given) and returns arrays.
  What it saves with ``save_for_backward`` may be its inputs and its outputs (kept without a
  reference cycle) or constants such as masks.
- ``backward`` is written once, with the operators that arrays and tensors share (``+ - * / @ .T
  .sum .reshape``) and the functions of ``ctx.xp``: in a plain ``backward()`` every value is an array
  and ``ctx.xp`` is the array library, so nothing is recorded and no tensor is made; under
  ``create_graph=True`` the values are tensors and ``ctx.xp`` holds chainrule's own functions, so the
  backward pass is itself recorded and can be differentiated again.
- ``formula`` (what the output is) and ``derivatives`` (d out / d input, one per input of
  ``forward``, ``None`` for inputs without a gradient) are written with ``forward``'s parameter
  names and ``out``; ``grad`` stands for the arriving gradient where the derivative is not
  elementwise (``grad @ bᵀ``). The trace, the graph drawing and the explorer show these, so all of
  them read the one declaration.
"""
from chainrule.autograd import grad_mode
from chainrule.autograd.function import BackwardNode, Function
from chainrule.backend import array_functions
from chainrule.memory_layout import ELEMENTWISE
from chainrule.ops import registry


class OpNode(BackwardNode):
    """The node of an ``Op``: adds ``xp``, the functions its backward formula computes with:
    ``plain_backward_xp(node)`` in a plain backward, chainrule's own functions when the backward
    is recorded."""

    @staticmethod
    def plain_backward_xp(ctx):
        """The functions on arrays that the backward of ``ctx`` (this node, or a compiled program's
        context of the same operation) computes with: the array library's."""
        return array_functions

    @property
    def xp(self):
        return registry.functions if grad_mode.is_grad_enabled() else self.plain_backward_xp(self)


class Op(Function):
    """A chainrule operation: forward and backward on arrays, the mathematics declared on the class."""

    on_arrays = True
    node_suffix = "Backward0"  # as PyTorch names its own operations' nodes: MulBackward0
    _node_base = OpNode
    formula = None  # the output, in the parameter names of forward: "a · b"
    derivatives = ()  # d out / d input for each input of forward: ("b", "a")

    @classmethod
    def input_names(cls):
        """The names of ``forward``'s parameters after ``ctx``, as the formulas use them."""
        code = cls.forward.__code__
        return code.co_varnames[1 : code.co_argcount]


class Pointwise(Op):
    """An Op computed element by element, as PyTorch's TensorIterator computes it: its result lies
    in memory as its tensor operands do (``x.t() * 2`` is transposed too, so its ``view(-1)`` raises
    and dropout's mask of it is drawn in its memory order; memory_layout.elementwise_order)."""

    keeps_layout = ELEMENTWISE
