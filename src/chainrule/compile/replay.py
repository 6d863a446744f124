"""What a compiled program calls at run time, besides the operations' own ``forward`` and ``backward``.

A recorded program (see ``recorder.py``) is straight-line Python over arrays. Each operation whose
backward it replays gets one ``ReplayContext``, made once when the program is built and reused by
every call: ``forward`` saves into it, ``backward`` reads from it, as they do with a graph node,
but no node, no tensor and no dependency count is made per call.
"""
import struct
import sys

from chainrule.autograd import grad_mode
from chainrule.autograd.engine import accumulate, call_backward, fit_to_input
from chainrule.compile.deferred_backward import with_backward_of_call
from chainrule.backend import array_functions, as_array, ignoring_float_errors, ndarray, xp
from chainrule.dtypes import get_default_dtype
from chainrule.memory_layout import laid_out_in
from chainrule.nn.module import global_hooks
from chainrule.ops.op import OpNode
from chainrule.optim.optimizer import global_step_hooks
from chainrule.random import drawn
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.utils.hooks import WatchedHooks


class ReplayContext:
    """The ``ctx`` of one recorded operation: what its ``forward`` saves, its ``backward`` reads.

    It answers what a node answers in a plain backward: ``saved_tensors`` (arrays for an ``Op``),
    ``needs_input_grad``, ``xp`` (the array library), and, for ``engine.call_backward``,
    ``output_meta``, ``materialize_grads`` and the number of inputs. ``ReplayContext.of`` makes the
    one an operation needs.
    """

    xp = array_functions

    def __init__(self, function, node):
        self.function = function
        self.needs_input_grad = node.needs_input_grad
        self.output_meta = node.output_meta
        self.next_nodes = (None,) * len(node.next_nodes)  # only their number is read
        self.materialize_grads = True
        self.saved_tensors = ()
        self._name = node.name()
        self._made = {*vars(self), "_made"}  # what it holds for every call (forget_call keeps these)

    def forget_call(self):
        """Drop what a forward put here on an earlier call: a custom ``Function``'s forward may
        set attributes on some calls only, which eager's fresh context of each call would not hold."""
        for name in [name for name in vars(self) if name not in self._made]:
            delattr(self, name)
        self.materialize_grads = True
        self.saved_tensors = ()

    @staticmethod
    def of(function, node):
        """The context for ``node``'s operation: one whose ``xp`` the node's class chooses when
        its backward runs, if it does (a window operation's includes the convolutions; a
        convolution's reuses the im2col columns its forward kept), else a plain one."""
        chooses = getattr(type(node), "plain_backward_xp", None)
        if chooses is None or chooses is OpNode.plain_backward_xp:
            return ReplayContext(function, node)
        return ReplayContextChoosingFunctions(function, node, chooses)

    def save_for_backward(self, *values):
        self.saved_tensors = values

    def operands(self, *values):
        """Transitional, as ``BackwardNode.operands``: arrays in a plain backward."""
        return tuple([value._array if isinstance(value, Tensor) else value for value in values])

    def mark_non_differentiable(self, *outputs):
        pass

    def mark_dirty(self, *tensors):
        """What forward changed in place: the program writes the same arrays, nothing to keep."""

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    def name(self):
        return self._name


class ReplayContextChoosingFunctions(ReplayContext):
    """The context of an operation whose node chooses the functions its backward computes with."""

    def __init__(self, function, node, chooses):
        super().__init__(function, node)
        self._chooses = chooses

    @property
    def xp(self):
        return self._chooses(self)


class UnrecordedContext(ReplayContext):
    """The ``ctx`` of an operation whose backward the program never runs: it keeps nothing."""

    def __init__(self):
        self.needs_input_grad = ()
        self._made = {"needs_input_grad", "_made"}

    def save_for_backward(self, *values):
        pass


def accumulate_unshared(tensor, grad):
    """``tensor.grad += grad`` for a gradient array that nothing else holds (the recorder checked):
    a first gradient becomes ``.grad`` itself, without the copy eager makes so that no two leaves
    share one array."""
    held = tensor._grad  # the recorder checked the shapes: no need for the checks of the .grad setter
    if held is None:
        tensor._grad = tensor_from_array(grad)
    else:
        held._array += grad


def gradient_to_apply(tensor, grad):
    """``tensor.grad += grad`` where the program clears ``.grad`` again before anything else reads
    it (the optimizer's step between gets the array): a first gradient is not made a tensor at all.
    Returns the array ``.grad`` holds, or would hold."""
    held = tensor._grad
    if held is None:
        return grad
    held._array += grad
    return held._array


def forward_of_function(function, ctx, args, tensor_positions, requiring_grad=()):
    """Replay the ``forward`` of a ``Function`` that is not an ``Op`` (it takes tensors): the
    arrays at ``tensor_positions`` are wrapped as tensors (those at ``requiring_grad`` requiring
    grad, as eager's inputs did), and the outputs are taken back to arrays. As in eager, it runs
    with grad mode off and finds a context holding nothing an earlier call's forward put there
    (``ctx.flag = True`` on some calls only)."""
    args = [
        tensor_from_array(arg, position in requiring_grad) if position in tensor_positions else arg
        for position, arg in enumerate(args)
    ]
    ctx.forget_call()
    with plain_backward():  # (grad mode off: Function.apply runs forward so)
        outputs = function.forward(ctx, *args)
    if type(outputs) is tuple:
        return tuple([output_array(output) for output in outputs])
    return output_array(outputs)


def saved_as_array(ctx, raw):
    """A 0-d result that ``forward`` returned, and saved, as a NumPy scalar: the 0-d array that
    ``Function.apply`` makes of it, saved in its place, as eager's backward reads the output
    tensor's array (a power of a scalar may round otherwise than of a 0-d array)."""
    array = xp.asarray(raw)
    ctx.saved_tensors = tuple([array if value is raw else value for value in ctx.saved_tensors])
    return array


def only_gradient(result):
    """What the backward of an ``Op`` with one input returned, as the 1-tuple the engine takes (the
    gradient may come bare or in a tuple, extra Nones past it dropped)."""
    return result[:1] if type(result) is tuple else (result,)


def output_array(raw):
    """What ``Function.apply`` makes of a value ``forward`` returned: its array."""
    if isinstance(raw, Tensor):
        return raw._array
    return raw if type(raw) is ndarray else as_array(raw)


class plain_backward:  # noqa: N801 (used as a function: ``with plain_backward():``)
    """The mode a plain ``backward()`` runs in: grad mode off. (Inf and nan pass silently in the
    whole program: see ``simplify.py``.) A class rather than a generator: entering and leaving
    cost a third as much."""

    def __enter__(self):
        self.previous = grad_mode._state.enabled
        grad_mode._state.enabled = False

    def __exit__(self, *exception):
        grad_mode._state.enabled = self.previous


class HooksSeen:
    """The hooks a program was recorded with: those of the modules, tensors and optimizers the call
    reaches, and every module's and optimizer's (``register_module_forward_hook``). ``WatchedHooks.changes`` counts each
    hook added or removed anywhere, which a guard compares first; when it moved, ``unchanged()``
    compares the hooks themselves: a hook added for a look between two steps and removed again
    (``dead_relu_fractions``), or one on another model, leaves the program replaying, and the new
    count is taken as seen."""

    def __init__(self, modules, tensors, optimizers):
        self.modules, self.tensors, self.optimizers = modules, tensors, optimizers
        self.changes = WatchedHooks.changes
        self.seen = self._now()

    def _now(self):
        return (
            [[(name, tuple(hooks)) for name, hooks in vars(holder).items() if type(hooks) is WatchedHooks] for holder in self.modules + self.optimizers],
            [(tuple(tensor._hooks or ()), tuple(tensor._post_accumulate_grad_hooks or ())) for tensor in self.tensors],
            [(name, tuple(hooks)) for name, hooks in global_hooks().items()],
            [tuple(hooks) for hooks in global_step_hooks()],
        )

    def unchanged(self):
        if self._now() != self.seen:
            return False
        self.changes = WatchedHooks.changes
        return True


def state_layout(state):
    """What an optimizer's ``state`` holds: which parameters have state, and under which names
    (``momentum_buffer``, ``exp_avg``...), in their order; not the values."""
    return tuple([(id(param), tuple(held)) for param, held in state.items()])


def float_bits(value):
    """The 8 bytes of a float: two nans told apart by their sign and payload."""
    return struct.pack("<d", value)


def same_value(value, expected):
    """Whether ``value`` is ``expected`` as a guard means it: of the same type and equal, a float
    to the bit (-0.0 is not 0.0, a nan not another nan), a tuple, list or dict item by item."""
    if type(value) is not type(expected):
        return False
    if type(value) in (tuple, list):
        return len(value) == len(expected) and all(map(same_value, value, expected))
    if type(value) is dict:
        return value.keys() == expected.keys() and all([same_value(value[key], expected[key]) for key in expected])
    if type(value) is float:
        return float_bits(value) == float_bits(expected)
    return value == expected


def with_spent_history(array, node, output_nr):
    """A tensor handed out by a replay (returned, put in an attribute) on ``array``, whose history
    a backward inside the call spent: as eagerly, it requires grad and its ``grad_fn`` is the
    node that made it, freed (the recording's own), so that a backward through it later raises as
    PyTorch's does ("Trying to backward through the graph a second time"), where the graph kept
    values, and otherwise sends the same gradients on (a sum, a view)."""
    tensor = tensor_from_array(array)
    tensor.grad_fn, tensor._output_nr, tensor._requires_grad = node, output_nr, True
    return tensor


def with_own_strides(tensor):
    """``tensor``, whose array's strides count as its own (an elementwise result, a clone laid out as
    eagerly: memory_layout.py), as the tensor the call made eagerly."""
    tensor._chosen_strides = True
    return tensor


#: The names a program finds besides its own constants (the recorder gives constants no other names).
RUNTIME = {
    "xp": xp,
    "with_spent_history": with_spent_history,
    "accumulate": accumulate,
    "accumulate_unshared": accumulate_unshared,
    "as_array": as_array,
    "call_backward": call_backward,
    "drawn": drawn,
    "fit_to_input": fit_to_input,
    "gradient_to_apply": gradient_to_apply,
    "forward_of_function": forward_of_function,
    "only_gradient": only_gradient,
    "saved_as_array": saved_as_array,
    "laid_out_in": laid_out_in,
    "with_own_strides": with_own_strides,
    "plain_backward": plain_backward,
    "ignoring_float_errors": ignoring_float_errors,
    "tensor_from_array": tensor_from_array,
    "with_backward_of_call": with_backward_of_call,
    "unrecorded": UnrecordedContext(),
    "WatchedHooks": WatchedHooks,  # read by the guards (HooksSeen)
    "ndarray": ndarray,  # read by the guards
    "get_default_dtype": get_default_dtype,
    "global_hooks": global_hooks,  # read by the guards (what a global module hook keeps)
    "global_step_hooks": global_step_hooks,  # (and a global optimizer step hook)
    "imported_modules": sys.modules,  # read by the guards (a module the step imports itself)
    "same_value": same_value,  # read by the guards (a tuple holding a float)
    "float_bits": float_bits,  # read by the guards (-0.0 told from 0.0, a nan's sign and payload)
    "state_layout": state_layout,  # read by the guards (an optimizer's state the step looks at)
}
