"""Recording one eager call of a function as the straight-line program that repeats it.

While the function runs eagerly, the recorder hears of

- every ``Function.apply`` (a hook in ``autograd/function.py``): the class, where each tensor
  argument came from (an argument of the function, a parameter or buffer, an earlier result, a
  constant made during the call) and the other arguments;
- every backward pass (a hook in ``autograd/engine.py``): each node's ``backward`` call, the
  gradients fitted to their input's shape, the sums where a value was used twice, and what is added
  into each ``.grad``, in the engine's own order;
- the calls that change state as a whole, replayed as calls: ``optimizer.step()``,
  ``optimizer.zero_grad()``, ``module.zero_grad()``, ``scheduler.step()``;

and writes, line by line, a program that makes the same calls on arrays in the same order, so its
results are the same bit for bit. What it cannot repeat (a tensor's value read into Python, random
numbers drawn outside an operation, a change made in place outside an operation, a graph made before
the call) ends the recording: the function then runs eagerly, with one warning naming the line.
"""
import builtins
import collections
import inspect
import keyword
import math
import os
import random
import re
import sys
import traceback
from itertools import count

import chainrule
from chainrule.autograd import anomaly
from chainrule.autograd import function as function_module
from chainrule.autograd.engine import run_backward
from chainrule.autograd.function import AccumulateGrad, SavedOutput, gradient_edge
from chainrule.backend import global_random_state, is_scalar, is_writable, ndarray, positions_in, random_generator_state, xp
from chainrule import settings
from chainrule.dtypes import get_default_dtype
from chainrule.memory_layout import dimension_order, preserve_format
from chainrule.compile.inline import template
from chainrule.compile.reachable import Reachable, by_identity, fingerprint, is_plain
from chainrule.compile.deferred_backward import DeferredCalls
from chainrule.compile.replay import RUNTIME, HooksSeen, ReplayContext, float_bits, same_value, state_layout
from chainrule.nn.backward_hooks import BackwardHookFunction
from chainrule.nn.lazy import LazyModuleMixin
from chainrule.nn.module import Module, global_hooks
from chainrule.optim.lr_scheduler import LRScheduler
from chainrule.optim.optimizer import Optimizer, global_step_hooks
from chainrule.random import Generator, default_generator, drawn
from chainrule.return_types import StructSequence
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.tensor import Tensor, tensor_from_array

_PACKAGE = os.path.dirname(chainrule.__file__)
_EXAMPLES = os.path.join(_PACKAGE, "examples")
_SNAPSHOT_LIMIT = 10_000_000  # elements: larger tensors are checked by identity and version only

#: Why a step with sparse gradients (``nn.Embedding(sparse=True)``) runs eagerly: a program replays dense arrays.
SPARSE_GRADIENTS = "computes sparse gradients (an embedding with sparse=True), which a program does not replay"


class Unsupported(RuntimeError):
    """Raised under ``fullgraph=True`` when the function does something a program cannot repeat."""


class Recorder:
    """Hears one eager call of ``function`` and writes the program that repeats it."""

    def __init__(self, function, args, kwargs, fullgraph):
        self.fullgraph = fullgraph
        self.reach = Reachable(function, args, kwargs)
        # a lazy module (LazyLinear) sets its parameters on its first call: that call runs eagerly, the next records
        self.initializing = any(
            isinstance(module, LazyModuleMixin) and module.has_uninitialized_params() for module, _ in self.reach.modules.values()
        )
        if self.initializing:  # the call runs eagerly (nothing to watch: an uninitialized parameter has no values to read)
            return
        self.failure = None  # why the call cannot be replayed, and where
        self._scheduler_stepped = False  # whether a scheduler's step() ran in the call (see read_settings)
        self.filled_optimizer_state = False  # whether it failed as an optimizer's step filled its state
        self._foreign_random_state = (random.getstate(), global_random_state())  # Python's and NumPy's own generators
        self.lines = []
        self.constants = {}  # name in the program -> object
        self.shapes = {}  # name in the program -> the shape of the array it held when recorded
        self.row_major = set()  # the names among them of arrays laid out row-major (C-contiguous)
        self.saw_complex = False  # whether any array the program names, or state it reads, is complex
        self.guards = []  # Python expressions over function, args, kwargs that must hold to replay
        self.indent = 1
        self._numbers = count()
        self._value_of_tensor = {}  # id(tensor) -> name of its array in the program
        self._value_of_array = {}  # id(array) -> name
        self._versions = {}  # id(tensor) -> (tensor, version when it got its name)
        self._tensor_exprs = {}  # id(tensor) -> expression of the tensor itself (arguments, state)
        self._kept = []  # everything named stays alive while recording, so no id is reused
        self._contexts = {}  # graph node -> name of its ReplayContext
        self._operand_names = {}  # graph node -> (names of forward's operands, of its outputs)
        self._backpropagated = set()  # ids of the nodes a recorded backward ran
        self._graph_retained = False  # whether a recorded backward kept its graph (retain_graph=True)
        self._gradient_uses = {}  # id(array) -> [how many times backward calls returned it, the last node that did]
        self._constant_names = {}  # id(object) -> its name among the constants
        self._given_grads = set()  # ids of the tensors whose .grad the program has certainly set (by backward)
        self._grad_decided = set()  # ids of the tensors whose .grad the call has set or cleared
        self._made_from_arguments = {}  # id(tensor) -> its version, for tensors a factory made during the call
        self._from_values = {}  # id(tensor) -> (tensor, written), for tensors made from numbers the calling code wrote
        self._constants_made_from_values = {}  # id(array of such a tensor) -> the program's constant of its values
        self._from_shapes = {}  # id(array) -> array, for arrays made from shapes alone (an index key's grids)
        self._array_owners = {}  # id(array) -> the tensor holding it, for arrays an operation may get bare
        self._array_copies = {}  # id(array) -> (the array, the array it copies), for index keys
        self._bound_templates = set()  # ids of the inlined bodies whose globals the program has bound
        self._whole_calls = set()  # the positions of the lines that replay a call whole (it may read any .grad)
        self._unshared_accumulations = []  # (position, the parameter's expression, the gradient's name)
        self._update_lines = set()  # the positions of the optimizers' per-parameter updates
        self._deferred_grads = None  # id(leaf) -> name of its gradient, while a backward for later is recorded
        self.deferred = None  # (outputs, leaves, outputs reaching each, DeferredCalls, outputs saved) when the call returns outputs whose backward comes later
        arguments = [(arg, f"args[{position}]") for position, arg in enumerate(args)]
        for tensor, expr in argument_tensors([*arguments, *((arg, f"kwargs[{name!r}]") for name, arg in kwargs.items())]):
            # The program reads a tensor at one place: one given twice (f(x, x)), or a parameter
            # given as an argument, replays only while it is still the same tensor at each place.
            first = self._tensor_exprs.get(id(tensor))
            if first is not None:
                self.guards.append(f"{expr} is {first}")
                continue
            state = self.reach.state_paths.get(id(tensor))
            if state is not None:
                self.guards.append(f"{expr} is {state}")
            # distinct tensors stay distinct (the step may branch on `a is b`)
            self.guards += [f"{expr} is not {other}" for other in list(self._tensor_exprs.values())[:_DISTINCT_CHECKED]]
            self._tensor_exprs[id(tensor)] = expr
            self._array_owners[id(tensor._array)] = tensor
        for module, path in self.reach.modules.values():
            # the same module at each place (a Tanh swapped for a ReLU has no parameter to tell it by;
            # one registered under two names, rebound at one)
            name = self._constant(module, type(module).__name__.lower())
            self.guards += [f"{place} is {name}" for place in [path, *self.reach.other_paths.get(id(module), ())]]
            self.guards.append(f"{path}.training is {module.training}")
        # the guards of a container held by an object of the caller's wait until the call reads it (read_container)
        self._guards_when_read = {(holder, key): [] for path, holder, key in self.reach.guarded_when_read.values()}
        waiting = {path: (holder, key) for path, holder, key in self.reach.guarded_when_read.values()}
        for path, guard in [(path, self._value_guard(path, value)) for path, value in self.reach.scalars] + [
            (path, f"len({path}) == {length}") for path, length in self.reach.lengths
        ]:
            holder = next((waiting[held] for held in waiting if path == held or path.startswith(held + "[")), None)
            (self._guards_when_read[holder] if holder is not None else self.guards).append(guard)
        for path, value in self.reach.identities:
            self.guards.append(f"{path} is {self._constant(value, self.reach.names.get(id(value), 'callable'))}")
        self.guards += [f"{key!r} not in {path}.__dict__" for path, key in self.reach.absent]
        for path, array in self.reach.arrays:
            self.guards.append(
                f"type(value := {path}) is ndarray and value.shape == {array.shape} and value.dtype == "
                f"{self._literal(array.dtype)} and value.tobytes() == {self._constant(array.tobytes(), 'array_bytes')}"
            )
        self._call = (function, args, kwargs)  # to read the guarded values again when the call ends
        self._generators = [value for value in self.reach.objects.values() if isinstance(value, Generator)]
        self._containers = [(container, name, fingerprint(container)) for container, name in self.reach.containers]
        self._held_arrays = self._arrays_to_watch()
        # what each optimizer's state holds as the call begins (read_optimizer_state)
        self._state_layouts = {key: state_layout(value.state) for key, value in self.reach.objects.items() if isinstance(value, Optimizer)}
        # the objects with param_groups (optimizers, and objects written like them), found once: their
        # settings are compared at every event (not a config's __getattr__ answering any name)
        self._with_param_groups = [
            value for value in self.reach.objects.values() if inspect.getattr_static(value, "param_groups", None) is not None
        ]
        self._rebound = set()  # (id(holder), attribute) of the attributes the program sets (_attributes_set)
        self._handed = {}  # id(tensor) -> the attribute the program put it in first
        modules = [(module, path, self.reach.names[key]) for key, (module, path) in self.reach.modules.items()]
        stepping = [
            (value, self.reach.paths[key], self.reach.names[key]) for key, value in self.reach.objects.items()
            if isinstance(value, (Optimizer, LRScheduler))
        ]
        # (object, path, name, registry, what it held): its attributes (registry None), a module's
        # buffers, or the items of a parameter's state (registry ITEMS: SAM's state[p]["old_p"] = p.data.clone())
        self._holders = [(holder, path, name, None, dict(vars(holder))) for holder, path, name in modules + stepping + self.reach.holders]
        self._holders += [(module, path, name, "_buffers", dict(module._buffers)) for module, path, name in modules]
        self._holders += [(state, path, name, ITEMS, dict(state)) for state, path, name in self.reach.parameter_states]
        self._holders += [  # a tensor's own attributes (fast.ai's hand-written backprop: w.g = ...)
            (tensor, path, self.reach.names[key], None, dict(vars(tensor))) for key, (tensor, path) in self.reach.tensors.items()
        ]
        if any(type(getattr(tensor._grad, "_array", None)) is SparseCOOArray for tensor, _ in self.reach.tensors.values()):
            self.fail(SPARSE_GRADIENTS)
        self._take_snapshot()
        self._empty_states_at_start = any(not value.state for value in self.reach.objects.values() if isinstance(value, Optimizer))
        self._hooks_at_start = self._hooks_seen()
        # each .grad as the call finds it (a backward before the call): its holder and version (its
        # array and values are in the snapshot the call begins with)
        self._snapshot_at_start = self._snapshot
        self._grads_found = {
            id(tensor._grad): (tensor, tensor._grad._version_owner._version_count)
            for tensor, _ in self.reach.tensors.values() if tensor._grad is not None
        }
        self._grad_arrays = {id(holder._grad._array): key for key, (holder, _) in self._grads_found.items()}  # p.grad.data

    # ----------------------------------------------------------------- failing
    def fail(self, reason):
        """Stop recording: the call goes on eagerly. Under ``fullgraph`` this raises instead."""
        if self.failure is not None:
            return
        where = user_line()
        self.failure = f"{reason}, at {where}" if where else reason
        function_module._recorder = None
        if self.fullgraph:
            raise Unsupported(f"chainrule.compile(fullgraph=True): the function {self.failure}")

    # ----------------------------------------------------------------- forward
    def apply(self, function, args):
        """``function.apply(*args)``, run eagerly and written into the program."""
        self._check_random()
        if function_module._saved_tensors_hooks:
            self.fail("saves tensors under autograd.graph.saved_tensors_hooks, whose hooks a program would skip")
        if function_module._forward_ad is not None:
            self.fail("carries forward-mode tangents (autograd.forward_ad), which a program would drop")
        written = [args[position] for position in getattr(function, "writes_into", ()) if isinstance(args[position], Tensor)]
        for tensor in written:  # its version went up as the operation began (apply_writing)
            self._written_by_operation(tensor)
        if self.failure is None:
            operands = [self._operand(arg) for arg in args]
        outputs = self._unrecorded(function.apply, *args)
        if self.failure is not None:
            return outputs
        single = type(outputs) is not tuple
        output_tensors = (outputs,) if single else outputs
        node = next((output.grad_fn for output in output_tensors if output.grad_fn is not None), None)
        if node is None:
            context = "unrecorded"
        else:
            context = self._constant(ReplayContext.of(function, node), f"ctx{next(self._numbers)}")
            self._contexts[node] = context
        names = [self._new_name("v") for _ in output_tensors]
        if node is not None:
            self._operand_names[node] = (operands, names)
        cls = self._constant(function, function.__name__)
        comment = _forward_comment(function, operands, names)
        if function.on_arrays:
            inlined = self._inlined(
                function.forward, context, operands, "bare" if single else "exact", names, comment
            )
            call = None if inlined else f"{cls}.forward({context}, {', '.join(operands)})"
        else:
            tensor_positions = tuple(position for position, arg in enumerate(args) if isinstance(arg, Tensor))
            requiring_grad = tuple(position for position in tensor_positions if args[position]._requires_grad)
            call = f"forward_of_function({cls}, {context}, ({', '.join(operands)},), {tensor_positions}, {requiring_grad})"
        if call is not None:
            self._emit(f"{', '.join(names)}{',' if len(names) == 1 and not single else ''} = {call}", comment)
        saved_outputs = {value.output_nr for value in (node._saved if node is not None else ()) if type(value) is SavedOutput}
        for position, (name, output) in enumerate(zip(names, output_tensors)):
            if output._array.ndim == 0 and function.on_arrays and position in saved_outputs:
                # saved by forward as it came (a NumPy scalar): eager's backward reads the array
                self._emit(f"{name} = saved_as_array({context}, {name})", "a 0-d result as an array, saved as one")
            elif output._array.ndim == 0 and function.on_arrays:  # a reduction may return a NumPy scalar
                self._emit(f"{name} = xp.asarray({name})", "a 0-d result as an array (NumPy may give a scalar)")
            elif function.keeps_layout and output._chosen_strides and output._base is None:
                # (row-major where eager copied NumPy's result of an input lying otherwise so)
                order = dimension_order(output, preserve_format) or tuple(range(output._array.ndim))
                self._emit(f"{name} = laid_out_in({name}, {order})", "laid out as its operands, as eager laid it")
            self._name_tensor(output, name)
        for tensor in written:
            self._count_write(tensor)
            self._written_by_operation(tensor)
        self._random_state = self._random_versions()
        return outputs

    def _count_write(self, tensor):
        """An in-place change of ``tensor`` raises its version (what autograd checks a saved tensor
        by): where the caller can see the tensor (an argument, a buffer, a parameter or a view of
        one), the program raises it too."""
        owner = tensor._version_owner
        candidates = [tensor, *(other for other, _ in self.reach.tensors.values() if other._version_owner is owner)]
        expr = next((found for found in map(self._tensor_expr, candidates) if found is not None), None)
        if expr is not None:
            self._emit(f"{expr}._version_owner._version_count += 1", "its version, as the change in place raised it")

    def _written_by_operation(self, tensor):
        """``tensor`` is changed in place by the operation being recorded (batch norm's running
        statistics): the program repeats that change, so the checks start from its new value."""
        if id(tensor) in self._versions:
            self._versions[id(tensor)] = (tensor, tensor._version_owner._version_count)
        if id(tensor) in self._snapshot:
            self._snapshot[id(tensor)] = self._snapshot_of(tensor)

    def _operand(self, arg):
        """The expression for one argument of ``forward``."""
        if isinstance(arg, Tensor):
            return self._tensor_value(arg)
        if type(arg) is ndarray:
            return self._array_value(arg)
        if isinstance(arg, (list, tuple)) and any(isinstance(item, (Tensor, ndarray)) for item in arg):
            return self._key(arg)
        return self._literal(arg)

    def _key(self, key):
        """An index key holding arrays (``x[idx]``, ``probs[arange(n), y]``, ``x[mask] = 0``): each
        array one the program has. (A read through a boolean mask, whose shape follows the values,
        is refused by the operation itself: ``shaped_by_values``.)"""
        parts = []
        for part in key:
            if isinstance(part, (Tensor, ndarray)):
                parts.append(self._operand(part))
            elif isinstance(part, slice):
                parts.append(f"slice({self._literal(part.start)}, {self._literal(part.stop)}, {self._literal(part.step)})")
            else:
                parts.append("..." if part is Ellipsis else self._literal(part))
        items = ", ".join(parts) + ("," if len(parts) == 1 else "")
        return f"({items})" if type(key) is tuple else f"[{items}]"

    def _tensor_value(self, tensor):
        name = self._value_of_tensor.get(id(tensor))
        if name is not None:
            recorded, version = self._versions[id(tensor)]
            if tensor._version_owner._version_count != version:
                self.fail(f"changes a tensor in place outside an operation ({name})")
            return name
        expr = self._tensor_expr(tensor)
        if expr is not None:
            name = self._new_name("x" if expr.startswith(("args", "kwargs")) else "p")
            self._emit(f"{name} = {expr}._array")
            self._name_tensor(tensor, name)
            return name
        name = self._value_of_array.get(id(tensor._array))
        if name is not None:  # a new tensor on an array the program has (detach, .data)
            self._name_tensor(tensor, name)
            return name
        owner = self._array_owners.get(id(tensor._array))
        if owner is None:
            owner = self._state_tensor_holding(tensor._array)
        if owner is not None and owner is not tensor:  # a new tensor on an argument's or a parameter's array
            name = self._tensor_value(owner)
            self._name_tensor(tensor, name)
            return name
        grad_id = id(tensor) if id(tensor) in self._grads_found else self._grad_arrays.get(id(tensor._array))
        holder, version = self._grads_found.get(grad_id, (None, None))
        grad = None if holder is None else holder._grad
        if grad is not None and id(grad) == grad_id and grad._array is tensor._array and grad._version_owner._version_count == version:
            *_, array, values = self._snapshot_at_start[id(holder)]
            if grad._array is array and values is not None and _same(array, values):
                # a parameter's .grad as the call found it (or its .data), untouched so far (the program reads each call's)
                name = self._gradient_found(holder, grad)
                self._name_tensor(tensor, name)
                return name
        made = self._made_from_arguments.pop(id(tensor), None)
        if made is not None and tensor._version_owner._version_count == made:
            # zeros, full, arange...: made again on each call, a fresh copy that the program may change
            name = self._new_name("v")
            # (order "K": in its layout, as zeros_like of a transposed tensor is made)
            self._emit(f"{name} = {self._constant(tensor._array.copy(order='K'), f'constant{next(self._numbers)}')}.copy(order='K')", "made by a factory, as eager makes it")
            self._name_tensor(tensor, name)
            return name
        written = self._from_values.get(id(tensor), (None, None))[1]
        if tensor.grad_fn is not None or tensor._requires_grad or written is None or (tensor._array.size > 1 and not written):
            # Only numbers the code wrote, made into a tensor (x * 2, the 1 that starts backward,
            # tensor([0.2, 0.8])), are taken as constants: an array's values may change between
            # calls (tensor(array) of a NumPy array), and a tensor made otherwise outside an
            # operation may hold the inputs' values (count_nonzero(x), nonzero(x)).
            self.fail(
                f"uses a tensor of shape {tuple(tensor.shape)} computed outside a recorded operation (made from "
                f"data with tensor() or from_numpy(), or by an operation the recording cannot repeat: nonzero, unique...)"
            )
            return "None"
        self._kept.append(tensor)
        name = self._constant(tensor._array.copy(), f"constant{next(self._numbers)}")
        self._value_of_tensor[id(tensor)] = name
        self._versions[id(tensor)] = (tensor, tensor._version_owner._version_count)
        self._constants_made_from_values[id(tensor._array)] = name
        return name

    def _tensor_expr(self, tensor):
        """The expression of the tensor itself (an argument, a parameter, a buffer), or None."""
        return self._tensor_exprs.get(id(tensor)) or self._state_tensor(tensor)

    def _state_tensor(self, tensor):
        """The expression of a tensor found before the call (a parameter, a buffer), or None."""
        found = self.reach.tensors.get(id(tensor))
        if found is None:
            return None
        name = self._constant(tensor, self.reach.names[id(tensor)])
        self._tensor_exprs[id(tensor)] = name
        array = tensor._array
        self.saw_complex = self.saw_complex or array.dtype.kind == "c"
        for path in [found[1], *self.reach.other_paths.get(id(tensor), ())]:  # replaced at any of them, it records anew
            self.guards.append(f"{path} is {name}")
        # model.double(), requires_grad_(False), a transposed .data between calls change the program;
        # the array the recording saw, still held (updated in place by every step), is the same one
        # (chainrule never reshapes an array in place: a new shape or layout is a new array)
        held = self._constant(array, f"{name}_array")
        self.guards.append(
            f"({name}._array is {held} or {self._layout(f'{name}._array', array)}) and {name}._requires_grad is {tensor._requires_grad}"
        )
        return name

    def _layout(self, expr, array):
        """The condition that the array ``expr`` has ``array``'s shape, dtype and strides."""
        return (
            f"(value := {expr}).shape == {tuple(array.shape)} and value.dtype == {self._literal(array.dtype)} "
            f"and value.strides == {array.strides}"
        )

    def _gradient_found(self, holder, grad):
        """``holder.grad`` read as the call found it (gradient accumulation: backward outside the
        call, clipping and the step inside): the program reads each call's ``.grad`` there, of the
        layout the recording saw, and hands on or changes that tensor, as eagerly."""
        expr = self._tensor_expr(holder)
        held, name = self._new_name("gradient"), self._new_name("g")
        self._emit(f"{held} = {expr}._grad", f"{self.reach.names.get(id(holder), expr)}.grad, as the call found it")
        self._emit(f"{name} = {held}._array")
        self.guards.append(f"{expr}._grad is not None and {self._layout(f'{expr}._grad._array', grad._array)}")
        self._tensor_exprs[id(grad)] = self._handed[id(grad)] = held  # its version raised through it; returned, itself
        self._name_tensor(grad, name)
        return name

    def _state_tensor_holding(self, array):
        """The tensor found before the call (a parameter, a buffer) whose array is ``array``, or None."""
        return next((tensor for tensor, _ in self.reach.tensors.values() if tensor._array is array), None)

    def _array_value(self, array):
        """An array passed as a plain argument: one the program has, or a reshaped view of one."""
        name = self._value_of_array.get(id(array))
        if name is not None:
            return name
        owner = self._array_owners.get(id(array))  # an argument's, or a factory's that is not yet in the program
        if owner is not None:
            return self._tensor_value(owner)
        copied = self._array_copies.get(id(array))
        if copied is not None:
            return f"{self._array_value(copied[1])}.copy()"
        if id(array) in self._from_shapes:
            return self._constant(array, "grid")
        owner = self._state_tensor_holding(array)  # a tensor found before the call (a global index tensor)
        if owner is not None:
            return self._tensor_value(owner)
        base = array.base
        owner = None if base is None else self._state_tensor_holding(base)
        if owner is not None and array.size == base.size and array.strides == base.reshape(array.shape).strides:
            return f"{self._tensor_value(owner)}.reshape({tuple(array.shape)})"
        self.fail("passes an array computed outside a recorded operation to an operation")
        return "None"

    def computed(self, tensor, function, inputs, keywords):
        """``tensor`` is ``function(*arrays of inputs, **keywords)``, computed outside a Function
        because it has no gradient (a comparison, ``any``...): the program computes it again."""
        if self.failure is not None:
            return
        operands = [self._tensor_value(each) for each in inputs]
        operands += [f"{key}={self._literal(value)}" for key, value in keywords.items()]
        if self.failure is not None:
            return
        name = function.__name__
        call = f"xp.{name}" if getattr(xp, name, None) is function else self._constant(function, name)
        result = self._new_name("v")
        self._emit(f"{result} = {call}({', '.join(operands)})", f"{name}: no gradient flows through it")
        if tensor._array.ndim == 0:
            self._emit(f"{result} = xp.asarray({result})", "a 0-d result as an array (NumPy may give a scalar)")
        self._name_tensor(tensor, result)

    def read_value(self, owner, name, value):
        """The call read ``owner.name``, a number, string, None or tuple (a module's attribute, such
        as a dropout's p or a loss's reduction, or a plain object's): the program replays only while
        it is unchanged."""
        path = self.reach.paths.get(id(owner))
        if name == "training" and id(owner) in self.reach.modules:
            return  # guarded as it is when the call begins; an eval() or train() in the call is replayed
        if path is not None and _guardable(value):
            self.guards.append(self._value_guard(f"{path}.{name}", value))

    def read_container(self, owner, name):
        """The call read ``owner.name``, a list or dict of an object of the caller's: the guards of
        what it holds apply from now on (see ``reachable.guarded_when_read``)."""
        self.guards += self._guards_when_read.pop((id(owner), name), ())

    def read_optimizer_state(self, optimizer):
        """The call's code looked at ``optimizer.state`` (``if p in opt.state:``, ``opt.state_dict()``):
        the program replays only while the same parameters have state under the same names as when
        the call began (the first steps fill it)."""
        path = self.reach.paths.get(id(optimizer))
        if path is not None and self.failure is None:
            layout = self._constant(self._state_layouts[id(optimizer)], "state_held")
            self.guards.append(f"state_layout({path}.state) == {layout}")

    def read_settings(self, owner, name, value):
        """The call's Python code read ``owner.name``, an optimizer's ``param_groups`` or
        ``defaults`` (``opt.param_groups[0]["lr"]`` logged or used in arithmetic), or a scheduler's
        plain value (``sched.last_epoch``, ``get_last_lr()``): the program holds what it read. Read
        before any scheduler's step in the call, they are the values the call began with, and the
        program replays only while they are unchanged; read after one, they are what that step set
        from the scheduler's own state (a StepLR keeps the rate for 10 steps, then changes it),
        which no guard on the values at the start decides: the call runs eagerly."""
        path = self.reach.paths.get(id(owner))
        if path is None or self.failure is not None:
            return
        if self._scheduler_stepped:
            self.fail(f"reads {type(owner).__name__}.{name} after a scheduler's step() in the call, which a replay would not read anew")
            return
        if isinstance(owner, Optimizer):
            self.guards.append(f"len({path}.param_groups) == {len(owner.param_groups)}")
            groups = [(f"{path}.param_groups[{index}]", group) for index, group in enumerate(owner.param_groups)]
            for where, held in [*groups, (f"{path}.defaults", owner.defaults)]:
                for key, setting in held.items():
                    if key != "params" and _guardable(setting):
                        self.guards.append(self._value_guard(f"{where}[{key!r}]", setting))
        elif _guardable(value):
            self.guards.append(self._value_guard(f"{path}.{name}", value))
        elif type(value) is list and all(_is_simple(item) for item in value):  # get_last_lr()
            self.guards.append(f"{path}.{name} == {self._literal(value)}")

    def _value_guard(self, path, value):
        """The condition that the value found at ``path`` is still ``value``, of the same type (a
        float or NumPy scalar: the same bits, -0.0 apart from 0.0, nan matched by any nan)."""
        if value is None:
            return f"{path} is None"
        if type(value) is float:
            return f"type(value := {path}) is float and {float_condition('value', value)}"
        if type(value) is set:  # its items when the call began (the set itself may change later)
            return f"type(value := {path}) is set and value == {self._constant(frozenset(value), 'items')}"
        if isinstance(value, collections.deque):
            return f"type(value := {path}) is {self._constant(type(value), 'deque')} and same_value(list(value), {self._constant(list(value), 'items')})"
        if type(value) in (list, dict):  # (a copy: the caller may change the list or dict itself later)
            items = self._constant(value.copy(), "items")
            if all(map(_equal_is_same, value.values() if type(value) is dict else value)):
                return f"type(value := {path}) is {type(value).__name__} and value == {items}"  # (one == in C)
            return f"same_value({path}, {items})"
        if type(value) is tuple and not _is_simple(value):  # a nan or a -0.0 among its items, or an enum...
            return f"same_value({path}, {self._constant(value, 'items')})"
        kind = type(value).__name__ if type(value) in (bool, int, str, tuple) else self._constant(type(value), type(value).__name__)
        if is_scalar(value) and value.dtype.kind in "fc":
            return f"type(value := {path}) is {kind} and value.tobytes() == {value.tobytes()!r}"
        return f"type(value := {path}) is {kind} and value == {self._literal(value)}"

    def copied(self, copy, tensor):
        """``copy`` holds a copy of ``tensor``'s values, taken before a change in place."""
        if self.failure is None:
            source = self._tensor_value(tensor)
            name = self._new_name("v")
            self._emit(f"{name} = {source}.copy()", "the values before the change in place")
            self._name_tensor(copy, name)

    def _fresh_each_call(self, array):
        """``array`` (or the array it views) is about to be written in place: if it holds numbers
        the code wrote (``total = torch.tensor(0.0)``, then ``total += loss``), the program's
        constant of them becomes a copy made as the call begins, so that no call starts from the
        sums of the one before."""
        while array.base is not None and id(array) not in self._constants_made_from_values:
            array = array.base
        name = self._constants_made_from_values.pop(id(array), None)
        if name is not None:
            initial = f"{name}_initial"
            self.constants[initial] = self.constants.pop(name)
            self.lines.insert(0, (1, f"{name} = {initial}.copy()", "numbers the code wrote, changed in place by the call: fresh on each call"))

    def _written_name(self, tensor):
        """The name of ``tensor``'s values, found without the version check ``_tensor_value``
        makes: the write being recorded raised the version."""
        return self._value_of_tensor.get(id(tensor)) or self._value_of_array.get(id(tensor._array)) or self._tensor_value(tensor)

    def wrote_in_place(self, tensor, result):
        """An in-place method (``x += y``, ``relu_``, ``p.data.clamp_``) wrote ``result``'s values
        into ``tensor``'s array: the program writes them into the same array."""
        if self.failure is not None:
            return
        owner = tensor._version_owner
        name = self._written_name(tensor)
        values = self._tensor_value(result)
        if self.failure is not None:
            return
        self._fresh_each_call(tensor._array)
        if is_writable(tensor._array):
            self._emit(f"{name}[...] = {values}", "written in place")
        else:  # a read-only view of writable memory (NumPy's diagonal): written through its base, as eagerly
            base, positions = tensor._base, positions_in(tensor._base._array, tensor._array)
            written = f"xp.broadcast_to({values}, {tuple(tensor._array.shape)})"
            self._emit(f"{self._written_name(base)}[{self._constant(positions, 'positions')}] = {written}", "written in place, through its base")
        self._count_write(tensor)
        self._name_tensor(tensor, name)
        for other, _ in [*self._versions.values(), *self.reach.tensors.values()]:
            grad = other._grad  # a parameter whose gradient was written (clip_grad_norm_) is checked from its new values
            if other._version_owner is owner or other._array is tensor._array or (grad is not None and grad._array is tensor._array):
                if other._array is not self._snapshot.get(id(other), (other._array,))[0]:
                    # its array replaced before (p.data = p.data - lr * g), which no operation recorded
                    self.fail(f"changes {self.reach.names.get(id(other), 'a tensor')} outside a recorded operation")
                    return
                self._written_by_operation(other)

    def copied_array(self, copy, source):
        """``copy`` is a copy of the array ``source`` (an index an operation keeps): the program
        copies it too."""
        self._array_copies[id(copy)] = (copy, source)

    def array_from_shapes(self, array):
        """``array`` was made from shapes alone: the program may keep it as a constant."""
        self._from_shapes[id(array)] = array  # kept alive: no other array takes its id

    def made_from_values(self, tensor, written):
        """``tensor`` was made from values the calling code wrote (``x * 2``'s 2; ``written``: all
        numbers in lists, ``tensor([0.2, 0.8])``): the program may keep it as a constant."""
        self._from_values[id(tensor)] = (tensor, written)  # kept alive: no other tensor takes its id

    def made_from_arguments(self, tensor):
        """A factory (``zeros``, ``arange``...) made ``tensor`` from Python values alone: the program
        may make it again (a fresh copy of its values where it is first used)."""
        self._made_from_arguments[id(tensor)] = tensor._version_owner._version_count
        self._array_owners[id(tensor._array)] = tensor
        self._kept.append(tensor)

    def drawn(self, sample, generator, arguments):
        """``function.drawn(sample, generator, *arguments)``, run: a factory's random numbers
        (``rand``, ``randint``...), which the program draws again at this point of the random
        stream (the draws before it were all recorded)."""
        self._check_random()
        if generator is not None and generator is not default_generator and id(generator) not in self.reach.objects:
            self.fail("draws from a generator made during the call, which a replay would not make again")
        if any(isinstance(argument, Tensor) for argument in arguments):  # normal_(0, s) of a 0-d tensor s
            self.fail("reads a tensor's value into Python (a random factory's number)")
        array = self._unrecorded(drawn, sample, generator, *arguments)
        if self.failure is not None:
            return array
        name = self._new_name("v")
        source = "None" if generator is None else self._constant(generator, "generator")
        values = [self._operand(argument) if type(argument) is ndarray else self._literal(argument) for argument in arguments]
        if self.failure is not None:
            return array
        operands = ", ".join([self._constant(sample, sample.__name__), source, *values])
        self._emit(f"{name} = drawn({operands})", f"{sample.__name__}: random numbers, drawn again on each call")
        self._value_of_array[id(array)] = name
        self._kept.append(array)  # no other array takes its id
        self._random_state = self._random_versions()
        return array

    def _name_tensor(self, tensor, name):
        self.shapes[name] = tensor._array.shape
        self.saw_complex = self.saw_complex or tensor._array.dtype.kind == "c"
        if tensor._array.flags.c_contiguous:
            self.row_major.add(name)
        self._value_of_tensor[id(tensor)] = name
        self._value_of_array[id(tensor._array)] = name
        self._versions[id(tensor)] = (tensor, tensor._version_owner._version_count)
        self._kept.append(tensor)

    # ----------------------------------------------------------------- backward
    def backward(self, run_backward, outputs, grad_outputs, retain_graph, create_graph, capture, observer):
        """``run_backward``, run eagerly and written into the program."""
        if create_graph or capture is not None or anomaly.is_anomaly_enabled():
            self.fail("runs autograd.grad, create_graph=True or anomaly detection, which are not recorded")
        self._verify_state()
        if self.failure is not None:
            return run_backward(outputs, grad_outputs, retain_graph, create_graph, capture, observer)
        self._graph_retained = self._graph_retained or bool(retain_graph)
        pending = self._pending_from(outputs, grad_outputs)
        self._emit("with plain_backward():", "backward(): grad mode off")
        opening = len(self.lines)
        self.indent += 1
        accumulated = []
        try:
            self._watched(run_backward, outputs, grad_outputs, retain_graph, capture, observer, pending, accumulated)
        finally:
            self.indent -= 1
        if len(self.lines) == opening:  # nothing to replay (no gradient reached a leaf)
            del self.lines[-1]
        for variable, expr in accumulated:  # later uses of .grad read it where the program put it
            if variable._grad is not None and self._tensor_exprs.get(id(variable._grad), ".grad").endswith(".grad"):
                # (unless the step's code took it into a local: the same tensor, added to in place)
                self._tensor_exprs[id(variable.grad)] = f"{expr}.grad"
                self._value_of_tensor.pop(id(variable.grad), None)
                self._array_owners[id(variable.grad._array)] = variable.grad  # p.grad.data: a new tensor on it
                self._kept.append(variable.grad)  # no other tensor takes its id once zero_grad() frees it
        self._take_snapshot()

    def _pending_from(self, outputs, grad_outputs):
        """The engine's first pending gradients: each output's, by the program's name for it."""
        pending = {}
        for output, grad in zip(outputs, grad_outputs):
            node, output_nr = gradient_edge(output)
            self._add_pending(pending, node, output_nr, self._tensor_value(grad))
        return pending

    def _watched(self, run_backward, outputs, grad_outputs, retain_graph, capture, observer, pending, accumulated):
        """Run the backward pass eagerly, writing each node's backward into the program as it runs."""

        def watch(node, grads, input_grads):
            if self.failure is None:
                self._backward_node(node, grads, input_grads, pending, accumulated)
            if observer is not None:
                observer(node, grads, input_grads)

        self._unrecorded(run_backward, outputs, grad_outputs, retain_graph, False, capture, watch)

    def _defer_backward(self, outputs):
        """The call returns ``outputs`` whose backward comes later, outside it (``model =
        torch.compile(model)``; ``loss = loss_fn(model(x), y)``; ``loss.backward()``).

        Their backward is recorded now, from stand-in gradients, into ``backward_of_call``: a
        function inside the program that reads the forward's values it needs from the program's
        own locals, and returns the gradient of each leaf the outputs reach (parameters, arguments
        that require grad). The program gives its outputs one ``CompiledFunctionBackward`` node
        whose backward is that function: ``loss.backward()`` runs it, and the engine adds what it
        returns into each leaf's ``.grad`` as eagerly (hooks included)."""
        if self._backpropagated or self._whole_calls:
            self.fail("returns a tensor that requires grad after a backward or an optimizer step inside the call")
            return
        reached = self._leaves_reached(outputs)
        if reached is None:
            return
        leaves, saved_arrays = reached
        grad_names = [self._new_name("g") for _ in outputs]
        self._emit(f"def backward_of_call({', '.join(grad_names)}):", "loss.backward() outside the call runs this")
        self.indent += 1
        stand_ins = []
        for output, name in zip(outputs, grad_names):
            stand_in = tensor_from_array(xp.ones(output._array.shape, output._array.dtype))  # any values do: none is read
            self._name_tensor(stand_in, name)
            stand_ins.append(stand_in)
        self._deferred_grads = {}
        pending = self._pending_from(outputs, stand_ins)
        try:  # a dry run: capture={} keeps every .grad as it is, and runs no leaf's hooks
            self._watched(run_backward, outputs, stand_ins, True, {}, None, pending, [])
        except RuntimeError as error:  # a value saved for it changed in place since: eager's raises, if it runs
            self.fail(f"returns a tensor whose backward would raise: {error}")
        finally:
            grads = [self._deferred_grads.get(id(variable)) or "None" for variable in leaves]
            self._deferred_grads = None
        self._emit(f"return ({', '.join(grads)},)", "the gradient of each leaf, which the engine accumulates")
        self.indent -= 1
        if self.failure is not None:
            return
        values = [self._tensor_value(output) for output in outputs]
        exprs = ", ".join(self._tensor_expr(variable) for variable in leaves)
        # what the nodes saved for backward, as eager checks it: the caller's tensors (arguments,
        # parameters) and outputs among them raise when changed in place before the backward runs
        saved = {self._value_of_array.get(key) for key in saved_arrays}
        watched = [
            expr for key, expr in self._tensor_exprs.items()
            if self._value_of_tensor.get(key) in saved and not expr.startswith("outputs")
        ]
        outputs_read = tuple(position for position, output in enumerate(outputs) if id(output._array) in saved_arrays)
        reaches = _outputs_reaching(outputs, leaves)
        calls = DeferredCalls()
        self._emit(
            f"outputs = with_backward_of_call({self._constant(calls, 'calls')}, ({', '.join(values)},), backward_of_call, "
            f"({exprs},), {reaches}, ({''.join(expr + ', ' for expr in watched)}), {outputs_read})",
            "the outputs, with one node (CompiledFunctionBackward) between them and the leaves",
        )
        for position, output in enumerate(outputs):
            self._tensor_exprs[id(output)] = f"outputs[{position}]"
        self.deferred = (outputs, leaves, reaches, calls, outputs_read)

    def _leaves_reached(self, outputs):
        """The leaves the graph of ``outputs`` reaches, in a fixed order, and the ids of the arrays
        its nodes saved for backward; None (and the recording fails) where that backward cannot be
        replayed later: a node made before the call (the input is an earlier layer's output), hooks
        on a node, a leaf made during the call."""
        leaves, seen = [], set()
        saved_arrays = set()  # ids of the arrays the nodes saved for backward
        stack = [output.grad_fn for output in outputs]
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            if type(node) is AccumulateGrad:
                if node._node_hooks is not None or self._tensor_expr(node.variable) is None:
                    self.fail("returns a tensor whose gradient reaches a tensor made during the call, or a node with hooks")
                    return None
                leaves.append(node.variable)
                continue
            if node not in self._contexts:
                self.fail(
                    f"returns a tensor computed from {node.name()}, made before the call (a tensor with history "
                    f"passed in): compile the whole model, or pass it detached"
                )
                return None
            if node._output_hooks or node._retained or node._node_hooks is not None:
                self.fail(f"has hooks or retain_grad on {node.name()} or an output of it")
                return None
            saved_arrays.update(id(value._array) for value in node._saved if getattr(value, "_array", None) is not None)
            if getattr(node, "function", None) is BackwardHookFunction:  # its backward calls the hooks: not in a dry run
                self.fail("has a module's full backward hook (register_full_backward_hook) between the outputs and the leaves")
                return None
            stack.extend(reversed(node.next_nodes))
        return leaves, saved_arrays

    def _backward_node(self, node, grads, input_grads, pending, accumulated):
        names = pending.pop(node, None) or [None] * len(grads)
        if type(node) is AccumulateGrad:
            variable = node.variable
            if self._deferred_grads is not None:  # a backward recorded for later: the leaf's gradient is returned
                if names[0] is not None:
                    self._deferred_grads[id(variable)] = names[0]
                return
            expr = self._tensor_expr(variable)
            if expr is None or variable._hooks or variable._post_accumulate_grad_hooks or node._node_hooks is not None:
                self.fail("accumulates a gradient into a tensor made during the call, or one with hooks")
            if self.failure is not None or names[0] is None:
                return
            self._given_grads.add(id(variable))
            self._grad_decided.add(id(variable))
            if self._unshared(grads[0]):
                self._unshared_accumulations.append((len(self.lines), expr, names[0]))
                self._emit(f"accumulate_unshared({expr}, {names[0]})", "AccumulateGrad: .grad += gradient (the array itself when .grad is None)")
            else:
                self._emit(f"accumulate({expr}, {names[0]})", "AccumulateGrad: .grad += gradient")
            accumulated.append((variable, expr))
            return
        if any(type(grad) is SparseCOOArray for grad in input_grads):
            self.fail(SPARSE_GRADIENTS)
            return
        context = self._contexts.get(node)
        if context is None:
            self.fail(f"runs backward through {node.name()}, recorded before the call")
            return
        if node._output_hooks or node._retained or node._node_hooks is not None:
            self.fail(f"has hooks or retain_grad on {node.name()} or an output of it")
            return
        self._backpropagated.add(id(node))
        function = node.function
        cls = self._constant(function, function.__name__)
        count = len(node.next_nodes)
        used = [
            next_node is not None and grad is not None for next_node, grad in zip(node.next_nodes, input_grads)
        ]
        results = [self._new_name("g") if needed else "_" for needed in used]
        targets = ", ".join(results) + ("," if count == 1 else "")
        comment = _backward_comment(node, *self._operand_names[node])
        if function.on_arrays:
            arguments = []
            for name, (shape, dtype) in zip(names, node.output_meta):
                if name is None and node.materialize_grads:
                    name = self._new_name("g")
                    self._emit(f"{name} = xp.zeros({tuple(shape)}, dtype={self._literal(dtype)})", "no gradient arrived: zeros")
                arguments.append(name or "None")
            call = f"{cls}.backward({context}, {', '.join(arguments)})"
            form = "rest" if count > 1 else "first"
            if self._inlined(function.backward, context, arguments, form, results, comment):
                pass
            elif count > 1:  # a tuple (the engine refuses anything else), past the inputs only Nones
                self._emit(f"{', '.join(results)}, *_ = {call}", comment)
            else:  # one gradient, bare or in a tuple
                self._emit(f"{targets} = only_gradient({call})", comment)
        else:
            self._emit(f"{targets} = call_backward({context}, [{', '.join(name or 'None' for name in names)}])", comment)
        for name, grad in zip(results, input_grads):
            if type(grad) is ndarray and name != "_":
                self.shapes[name] = grad.shape
                self.saw_complex = self.saw_complex or grad.dtype.kind == "c"
                if grad.flags.c_contiguous:
                    self.row_major.add(name)
        for grad in input_grads:
            if type(grad) is ndarray:
                uses = self._gradient_uses.setdefault(id(grad), [0, node])
                uses[0] += 1
                self._kept.append(grad)
        output_shape, output_dtype = node._output_shape, node._output_dtype
        for name, next_node, output_nr, grad, meta in zip(
            results, node.next_nodes, node.next_output_nrs, input_grads, node._input_meta
        ):
            if name == "_":
                continue
            shape, dtype = (output_shape, output_dtype) if meta is None else meta
            if type(grad) is not ndarray or grad.shape != shape or grad.dtype != dtype:
                fitted = self._new_name("g")
                self.shapes[fitted] = tuple(shape)
                self._emit(
                    f"{fitted} = fit_to_input({name}, {tuple(shape)}, {self._literal(dtype)})",
                    "summed over the broadcast axes, cast to the input's dtype",
                )
                name = fitted
            self._add_pending(pending, next_node, output_nr, name)

    def _unshared(self, array):
        """Whether a gradient arriving at a leaf is an array that nothing else holds, in this call
        and so in every replay (the same operations return the same kinds of arrays): it owns its
        memory, C-ordered as the copy eager makes, one backward returned it once (or the engine
        summed or fitted it), and it is no value of the forward pass, no constant and nothing the
        node that returned it keeps. The program then makes it the ``.grad`` itself, saving eager's
        copy."""
        if type(array) is not ndarray or array.base is not None or not array.flags.c_contiguous:
            return False
        key = id(array)
        if key in self._value_of_array or key in self._constant_names:
            return False
        count, node = self._gradient_uses.get(key, (0, None))
        return count <= 1 and not _holds(node, array)

    def _add_pending(self, pending, node, output_nr, name):
        """The engine's ``add_pending``: a gradient arriving twice is summed, in arrival order."""
        if node is None:
            return
        slots = pending.get(node)
        if slots is None:
            outputs = node._multi_output_meta
            slots = pending[node] = [None] * (1 if outputs is None else len(outputs))
        if slots[output_nr] is None:
            slots[output_nr] = name
        else:
            total = self._new_name("g")
            if slots[output_nr] in self.shapes:
                self.shapes[total] = self.shapes[slots[output_nr]]
            self._emit(f"{total} = {slots[output_nr]} + {name}", "a value used twice: its gradients add")
            slots[output_nr] = total

    def _inlined(self, function, context, operands, form, targets, comment):
        """Write ``function``'s body in place of the call ``targets = function(context, *operands)``
        (see ``inline.py``); False where it stays a call."""
        ctx = RUNTIME["unrecorded"] if context == "unrecorded" else self.constants[context]
        written = template(function, ctx, operands, form, tuple(target != "_" for target in targets))
        if written is None or not self._names_bound(written):
            return False
        lines = written.written(context, operands, targets, lambda: self._new_name("v"))
        operation = comment.split(":")[0]  # each further line names the operation it comes from
        for number, (depth, code) in enumerate(lines):
            self.indent += depth
            self._emit(code, comment if number == 0 else operation)
            self.indent -= depth
        return True

    def _names_bound(self, written):
        """Whether the globals an inlined body reads are the program's names for the same objects
        (binding those not yet bound) and the builtins it calls are not hidden by a constant.
        Constants are never rebound, so a body that passed once passes again."""
        if id(written) in self._bound_templates:
            return True
        for name, value in written.globals_used.items():
            bound = self.constants.get(name, RUNTIME.get(name, _UNBOUND))
            if bound is _UNBOUND and _may_name_a_constant(name):
                self.constants[name] = value
            elif bound is not value:
                return False
        if any(name in self.constants for name in written.builtins_used):
            return False
        self._bound_templates.add(id(written))
        return True

    # ----------------------------------------------------------------- calls replayed whole
    def call(self, method, owner, args, kwargs):
        """``method(owner, *args, **kwargs)`` (an optimizer's ``step``...), run and written as a call."""
        self._check_random()
        self._verify_state()
        if self.failure is None:
            found = self.reach.objects.get(id(owner))
            if found is None:
                self.fail(f"calls {type(owner).__name__}.{method.__name__} of an object made during the call")
            elif getattr(type(owner), method.__name__) is not getattr(_home_class(method), method.__name__):
                self.fail(f"calls {type(owner).__name__}.{method.__name__}, which overrides the method it replays")
        if self.failure is None:
            arguments = [self._literal(arg, simple_only=True) for arg in args]
            arguments += [f"{key}={self._literal(arg, simple_only=True)}" for key, arg in kwargs.items()]
            updated = self._parameters_updated(method, owner, args, kwargs)
            cleared = self._gradients_cleared(method, owner, args, kwargs)
        result = self._unrecorded(method, owner, *args, **kwargs)
        self._scheduler_stepped |= isinstance(owner, LRScheduler)
        self._holders = [  # what the replayed call changes of an optimizer or a scheduler, it changes again
            (holder, path, name, registry, dict(vars(holder)) if isinstance(holder, (Optimizer, LRScheduler)) else before)
            for holder, path, name, registry, before in self._holders
        ]
        if self.failure is not None:
            return result
        if result is not None and result is not owner:  # module.train() returns the module
            self.fail(f"uses the value {type(owner).__name__}.{method.__name__} returns")
            return result
        name = self._constant(owner, type(owner).__name__.lower())
        for path in [self.reach.paths[id(owner)], *self.reach.other_paths.get(id(owner), ())]:  # replaced at any of them, it records anew
            self.guards.append(f"{path} is {name}")
        if updated is not None:
            self._emit_updates(owner, name, updated)
        elif cleared is not None:
            self._guard_parameters(owner, name)
            for param, expr in cleared:
                self._emit(f"{expr}._grad = None", f"{type(owner).__name__}.zero_grad for {self.reach.names.get(id(param), expr)}")
                self._grad_decided.add(id(param))
            self._given_grads.clear()
        else:
            call = self._constant(method, f"{_home_class(method).__name__}_{method.__name__}")
            self._whole_calls.add(len(self.lines))
            self._emit(f"{call}({', '.join([name, *arguments])})", f"{type(owner).__name__}.{method.__name__}, as eager")
            self._given_grads.clear()  # zero_grad, a scheduler...: which gradients exist is known no more
        self._versions = {key: (tensor, tensor._version_owner._version_count) for key, (tensor, _) in self._versions.items()}
        self._take_snapshot()
        return result

    def _parameters_updated(self, method, optimizer, args, kwargs):
        """For ``optimizer.step()`` when every parameter it holds has a gradient this program gave
        it: ``{id(parameter): the name of its array}`` (the program then writes one update per
        parameter, without the loop that finds them); otherwise None (the step is replayed as one
        call, which looks for gradients when it runs)."""
        if method.__name__ != "step" or _home_class(method) is not Optimizer or args or kwargs or optimizer._has_step_hooks():
            return None
        params = [param for group in optimizer.param_groups for param in group["params"]]
        if not all(id(param) in self._given_grads for param in params):
            return None
        return {id(param): self._tensor_value(param) for param in params}

    def _gradients_cleared(self, method, optimizer, args, kwargs):
        """For ``optimizer.zero_grad()`` setting every gradient to None (the default):
        ``[(parameter, its expression)]`` (the program then writes one ``_grad = None`` each, which
        is what the call leaves); otherwise None (the call is replayed)."""
        if method.__name__ != "zero_grad" or _home_class(method) is not Optimizer:
            return None
        set_to_none = args[0] if args else kwargs.get("set_to_none", True)
        if set_to_none is not True or len(args) + len(kwargs) > 1:
            return None
        cleared = [(param, self._tensor_expr(param)) for group in optimizer.param_groups for param in group["params"]]
        return cleared if all(expr is not None for _, expr in cleared) else None

    def _emit_updates(self, optimizer, name, arrays):
        """``optimizer.step()`` as one ``_update`` call per parameter: what ``Optimizer.step`` calls,
        with the same arrays, state and settings. The state of a parameter is looked up when the
        program runs (a loaded state dict replaces it); one the optimizer does not keep (plain SGD)
        is a fresh dict, as in eager."""
        # (a step hook registered later, which Optimizer.step would run, fails the guard on the
        # hooks the call reaches: the optimizer's registries and the global ones are among them)
        groups = optimizer.param_groups
        self._guard_parameters(optimizer, name)
        update = self._constant(optimizer._update, f"{type(optimizer).__name__}_update")
        for index, group in enumerate(groups):
            settings = f"{name}.param_groups[{index}]"  # read when it runs: load_state_dict replaces the groups
            group_name = self._new_name("group")
            self._emit(f"{group_name} = {settings}", f"{type(optimizer).__name__}.step: the settings of group {index}")
            for param in group["params"]:
                tensor = self._tensor_expr(param)
                if optimizer.state.get(param):
                    state = f"{name}.state[{tensor}]"
                    self.guards.append(f"bool({name}.state.get({tensor}))")
                else:
                    state = "{}"
                    for key in _settings_read(optimizer._init_state, param, group):
                        # momentum turned on by hand: the update would need the state its _init_state makes
                        if _is_simple(group[key]):
                            self.guards.append(self._value_guard(f"{settings}[{key!r}]", group[key]))
                scratch = self._constant(optimizer._scratch(param), f"scratch_{tensor}")
                self._update_lines.add(len(self.lines))
                self._emit(
                    f"{update}({arrays[id(param)]}, {tensor}._grad._array, {state}, {group_name}, {scratch})",
                    f"{type(optimizer).__name__}.step for {self.reach.names.get(id(param), tensor)}",
                )
                self._emit(f"{tensor}.{_version_counter(param)} += 1")
        self._emit(f"if '_opt_called' in {name}.__dict__:", f"{type(optimizer).__name__}.step: a scheduler watches for the first")
        self.indent += 1
        self._emit(f"{name}._opt_called = True")
        self.indent -= 1

    def _guard_parameters(self, optimizer, name):
        """The program names each parameter of ``optimizer``: it replays only while it holds the same
        (stated once in the guard however often it is asked for: see compiled._guard_source)."""
        groups = optimizer.param_groups
        conditions = [f"len({name}.param_groups) == {len(groups)}"]
        for index, group in enumerate(groups):
            held = f"_{name}_params_{index}"  # a local of the guard (one identity test per parameter)
            conditions.append(f"len({held} := {name}.param_groups[{index}]['params']) == {len(group['params'])}")
            conditions += [
                f"{held}[{position}] is {self._constant(param, self.reach.names.get(id(param), 'param'))}"
                for position, param in enumerate(group["params"])
            ]
        self.guards.append(" and ".join(conditions))

    def read_grad(self, tensor, value, by_user=True):
        """The step read ``tensor.grad`` (``if p.grad is not None:``) before the call set or cleared
        it: the program replays only while it is None, or not, as it was. A gradient the program
        gave it is taken as it is now, into a local: a ``zero_grad()`` later in the call does not
        change what the step's own code read (``g = p.grad; ...; opt.zero_grad(); return g``)."""
        if self.failure is not None:
            return
        read = self._tensor_exprs.get(id(value)) if value is not None and by_user else None
        if read is not None and read.endswith(".grad"):
            name = self._new_name("g")
            self._emit(f"{name} = {read}", f"{read}, as read here")
            self._tensor_exprs[id(value)] = name
        if id(tensor) in self._grad_decided:
            return
        expr = self._tensor_expr(tensor)
        if expr is not None:
            self.guards.append(f"({expr}._grad is None) is {value is None}")

    def assign_data(self, assign, tensor, value):
        """``tensor.data = value``, run: a tensor found before the call (a parameter updated by
        hand, ``w.data = w.data - lr * w.grad.data``) takes the array of a tensor of the same
        shape and dtype that the program computed, as it did eagerly."""
        self._verify_state()
        same = isinstance(value, Tensor) and value._array.shape == tensor._array.shape and value._array.dtype == tensor._array.dtype
        assign(tensor, value)
        if self.failure is not None:
            return
        expr = self._tensor_expr(tensor)
        if not same or expr is None or expr.startswith(("args", "kwargs", "outputs")):
            self.fail("assigns .data another shape or dtype, a non-tensor, or sets the .data of a tensor the caller passed or the call made")
            return
        name = self._tensor_value(value)
        if self.failure is not None:
            return
        self._emit(f"{expr}._array = {name}.copy()" if name in self.constants else f"{expr}._array = {name}", "the tensor given another array (.data =)")
        self._name_tensor(tensor, name)
        self._take_snapshot()

    def read_metadata(self, tensor):
        """The call read ``tensor``'s shape or dtype: one found before the call is guarded by
        them (and by being the same tensor), as it is when an operation uses it."""
        if self.failure is not None or id(tensor) in self._tensor_exprs:
            return  # an argument, or a state tensor found already
        if id(tensor) not in self.reach.tensors:
            if id(tensor._array) in self._value_of_array:
                return  # a result the program computed (whose state tensors are found already)
            tensor = self._state_tensor_holding(tensor._array)  # h.s.data: a new tensor on a state tensor's array
        if tensor is not None:
            self._tensor_expr(tensor)  # (found once: a second call finds it in _tensor_exprs)

    def assign_requires_grad(self, assign, tensor, flag):
        """``tensor.requires_grad = flag``, run: a tensor found before the call (a network frozen
        for another's step and thawed after) gets the flag in the program too. It is found, and
        its flag guarded, as the call began, before the change."""
        expr = self._tensor_expr(tensor) if self.failure is None else None
        assign(tensor, flag)
        if self.failure is None and expr is not None:
            self._emit(f"{expr}.requires_grad = {bool(flag)}", "set as the call set it")

    def assign_grad(self, assign, tensor, value):
        """``tensor.grad = value``, run: ``None`` is replayed, and so is a tensor without history
        that the program computed or the caller passed (``p.grad = p.grad + noise`` under no_grad,
        ``p.grad = torch.zeros_like(p)``): the same tensor is ``.grad`` after it, as eagerly."""
        self._verify_state()
        assign(tensor, value)
        if self.failure is not None:
            return
        expr = self._tensor_expr(tensor)
        if expr is None or value is not None and (value._requires_grad or id(value) in self.reach.tensors):
            self.fail("assigns .grad a tensor with history or held elsewhere, or sets the .grad of a tensor made during the call")
            return
        if value is None:
            self._emit(f"{expr}.grad = None")
        else:
            given = self._handed_out(value)
            if given is None:
                return
            if not given.startswith(("args", "kwargs")):
                self._tensor_exprs[id(value)] = f"{expr}.grad"  # read later, it is the tensor .grad holds
            self._emit(f"{expr}.grad = {given}", "a gradient set by hand")
        self._given_grads.discard(id(tensor))
        self._grad_decided.add(id(tensor))
        self._take_snapshot()

    # ----------------------------------------------------------------- the end of the call
    def finish(self, result):
        """The return line, and the last checks: nothing changed behind the recorder's back."""
        self._check_random()
        self._verify_values()
        if self.failure is None and (random.getstate(), global_random_state()) != self._foreign_random_state:
            # an augmentation's `if random.random() < 0.5:` would take the recorded branch on every replay
            self.fail("draws from Python's random module or NumPy's global generator (random.random(), np.random.rand())")
        self._verify_state()
        self._attributes_set()
        self._verify_containers()
        if self.failure is None and not self._hooks_at_start.unchanged():
            self.fail("adds or removes a hook (register_forward_hook, register_hook...) that stays after the call, which a replay would not repeat")
        if self.failure is None:
            waiting = {
                id(tensor): tensor for tensor in _tensors_in(result)
                if tensor._requires_grad and tensor.grad_fn is not None and not self._spent(tensor.grad_fn)
            }
            if waiting:
                self._defer_backward(list(waiting.values()))
        if self.failure is None:
            self._made_once(result)
            returned = self._returned(result)
            self._emit(f"return {returned}")
            self._gradients_cleared_unseen()
            hooks = self._constant(self._hooks_seen(), "hooks_seen")
            self.guards.append(f"(WatchedHooks.changes == {hooks}.changes or {hooks}.unchanged())")  # no hook added or removed since
            self.guards.append(f"get_default_dtype() is {self._constant(get_default_dtype(), 'default_dtype')}")  # zeros(3) made alike
            # use_deterministic_algorithms, float32 matmul precision: modes a step may read
            self.guards.append(f"{self._constant(settings._state, 'global_settings')} == {dict(settings._state)!r}")
            parametrize = sys.modules.get("chainrule.nn.utils.parametrize")
            if parametrize is not None and any(hasattr(module, "parametrizations") for module, _ in self.reach.modules.values()):
                # recorded outside a parametrize.cached() block (inside, it runs eagerly): not replayed in one
                self.guards.append(f"{self._constant(parametrize._cache, 'parametrize_cache')}['depth'] == 0")
            distributions = sys.modules.get("chainrule.distributions.distribution")
            if distributions is not None:  # Distribution.set_default_validate_args: the checks a distribution makes
                default = distributions.Distribution._validate_args
                self.guards.append(f"{self._constant(distributions.Distribution, 'Distribution')}._validate_args is {default}")
        self._kept = []
        self._versions = {}
        self._value_of_tensor = {}
        self._gradient_uses = {}

    def _spent(self, node):
        """Whether every path from ``node`` to a leaf runs through a node that a recorded backward ran
        and freed (the loss's own node, or an LSTM's h_n beside it): a backward from there later would
        fail eagerly too, so the tensor is returned without its graph, as the loss is."""
        if self._graph_retained:
            return False
        seen, stack = set(), [node]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen or id(node) in self._backpropagated:
                continue
            seen.add(id(node))
            if isinstance(node, AccumulateGrad):
                return False
            stack.extend(next_node for next_node, _ in node.next_functions)
        return True

    def _gradients_cleared_unseen(self):
        """A gradient that backward gives a parameter, the optimizer reads and ``zero_grad()`` clears
        again within the call is handed from line to line as an array: no ``.grad`` tensor is made
        for it when ``.grad`` was None (``gradient_to_apply``), since nothing sees it in between."""
        lines = self.lines
        for start, expr, grad in self._unshared_accumulations:
            mention = re.compile(r"(?<![\w.\]'])" + re.escape(expr) + r"(?![\w\[])(\._grad\._array|\._grad|\.grad|)")
            uses, cleared = [], None
            for position in range(start + 1, len(lines)):
                text = lines[position][1]
                if position in self._whole_calls:
                    break  # optimizer.step() as one call, ...: it finds the gradients itself
                if expr not in text:
                    continue  # (most lines: a cheap look before the ones below)
                if text in (f"{expr}._grad = None", f"{expr}.grad = None"):
                    cleared = position
                    break
                if text in (f"{expr}._version += 1", f"{expr}._version_count += 1"):
                    continue
                kinds = [match.group(1) for match in mention.finditer(text)]
                if any(kind in ("._grad", ".grad") for kind in kinds) or (kinds and position not in self._update_lines):
                    break  # .grad itself read, or the parameter handed to something else than an update
                if kinds:
                    uses.append(position)
            if cleared is None:
                continue
            held = self._new_name("g")
            lines[start] = (
                lines[start][0],
                f"{held} = {grad} if {expr}._grad is None else gradient_to_apply({expr}, {grad})",  # no call while .grad is None
                "AccumulateGrad: .grad += gradient, an array until zero_grad() clears it",
            )
            for position in uses:
                use_indent, text, use_comment = lines[position]
                lines[position] = (use_indent, mention.sub(lambda match: held if match.group(1) else match.group(0), text), use_comment)

    def _handed_out(self, tensor):
        """The expression that hands ``tensor`` to the caller (returned, put in an attribute or in
        ``.grad``): an argument itself; else a new tensor on the array the program computed (on a
        copy of a constant's, which the caller could change); None where the recording failed."""
        expr = self._tensor_exprs.get(id(tensor))
        if expr is not None and expr.startswith(("args", "kwargs")) or id(tensor) in self._handed:
            return self._handed.get(id(tensor), expr)  # (one put in two attributes is one tensor in both)
        array = self._tensor_value(tensor)
        if self.failure is not None:
            return None
        if id(tensor) in self._handed:  # a .grad as the call found it (_gradient_found): the tensor itself
            return self._handed[id(tensor)]
        values = f"{array}.copy()" if array in self.constants else array
        if tensor._requires_grad and tensor.grad_fn is not None:  # its history spent by a backward in the call
            made = f"with_spent_history({values}, {self._constant(tensor.grad_fn, 'spent_node')}, {tensor._output_nr})"
        else:
            made = f"tensor_from_array({values})"
        return f"with_own_strides({made})" if tensor._chosen_strides and tensor._base is None else made

    def _made_once(self, result):
        """A new tensor returned in more than one place (``(d, d)``, ``{"a": d, "b": d}``) is made
        once, into a local: one tensor in each place, as eagerly (a change through one is seen
        through the other)."""
        tensors = list(_tensors_in(result))
        places = collections.Counter(map(id, tensors))
        for tensor in {id(tensor): tensor for tensor in tensors}.values():
            if places[id(tensor)] > 1 and id(tensor) not in self._handed and self._tensor_expr(tensor) is None:
                expr = self._handed_out(tensor)
                if expr is None:
                    return
                name = self._new_name("out")
                self._emit(f"{name} = {expr}", "returned in more than one place: one tensor")
                self._handed[id(tensor)] = name

    def _returned(self, value):
        if isinstance(value, Tensor):
            expr = self._tensor_expr(value)  # an argument or a parameter returned is itself, as eagerly
            return expr if expr is not None else self._handed_out(value) or "None"
        if isinstance(value, (tuple, list)):
            items = [self._returned(item) for item in value]
            text = ", ".join(items) + ("," if len(items) == 1 and isinstance(value, tuple) else "")
            if type(value) in (tuple, list):
                return f"({text})" if type(value) is tuple else f"[{text}]"
            if type(value) is chainrule.Size or isinstance(value, StructSequence):  # x.shape, x.max(1): as eagerly
                return f"{self._constant(type(value), type(value).__name__)}(({text}))"
            self.fail(f"returns a {type(value).__name__}, which a program cannot rebuild")
            return "None"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self._literal(key, simple_only=True)}: {self._returned(item)}" for key, item in value.items()) + "}"
        return self._literal(value, simple_only=True)

    # ----------------------------------------------------------------- checks
    def _take_snapshot(self):
        self._random_state = self._random_versions()
        self._snapshot = {key: self._snapshot_of(tensor) for key, (tensor, path) in self.reach.tensors.items()}
        self._settings = self._optimizer_settings()
        self._states = self._optimizer_states()

    @staticmethod
    def _snapshot_of(tensor):
        """A state tensor's array, a copy of its values, its version, and the same of its ``.grad``."""
        grad = tensor._grad  # (not .grad: the recorder hears the step's own reads of it)
        small = tensor._array.size <= _SNAPSHOT_LIMIT
        return (
            tensor._array,
            tensor._array.copy() if small else None,
            tensor._version_owner._version_count,
            grad,
            None if grad is None else grad._array,
            grad._array.copy() if grad is not None and small else None,
        )

    def _verify_state(self):
        """Fail if a tensor found before the call, its ``.grad`` or an optimizer's settings changed
        since the last recorded event: something the program would not repeat changed them."""
        if self.failure is not None:
            return
        for key, (tensor, path) in self.reach.tensors.items():
            array, copy, version, grad, grad_array, grad_copy = self._snapshot[key]
            if tensor._array is not array or tensor._version_owner._version_count != version or not _same(array, copy):
                self.fail(f"changes {self.reach.names[key]} outside a recorded operation")
                return
            if tensor._grad is not grad or (grad is not None and (grad._array is not grad_array or not _same(grad_array, grad_copy))):
                self.fail(f"changes {self.reach.names[key]}.grad outside backward() and zero_grad()")
                return
        if self._optimizer_settings() != self._settings:
            self.fail("changes an optimizer's settings or parameters outside a scheduler's step()")
        elif self._optimizer_states() != self._states:
            # an optimizer without state as the call began filled it (LBFGS counts its evaluations in
            # Python): the next call, which finds it filled, may record
            self.filled_optimizer_state = self._empty_states_at_start
            self.fail(
                "changes an optimizer's state outside its step() (opt.state.clear(), load_state_dict()), "
                "which a replay would not repeat"
            )

    def _hooks_seen(self):
        """The hooks of the modules, tensors and optimizers the call reaches, and the global ones, now."""
        return HooksSeen(
            [module for module, _ in self.reach.modules.values()], [tensor for tensor, _ in self.reach.tensors.values()],
            [holder for holder in self.reach.objects.values() if isinstance(holder, Optimizer)],
        )

    def _optimizer_states(self):
        """What the state of each optimizer the call reaches holds, by identity: which state each
        parameter has and what that holds under each name (a step changes their values, not which
        objects they are; ``opt.state.clear()`` or ``load_state_dict`` does)."""
        states = []
        for value in self.reach.objects.values():
            # (the state of an optimizer written in the course is watched as a container, and the
            # items its step puts in a parameter's state are set again by the program: _attributes_set)
            if isinstance(value, Optimizer) and id(value.state) not in self.reach.optimizer_states:
                states += [by_identity(value.state), fingerprint(value.state)]  # the dict itself, then what it holds
                states += [fingerprint(held) for held in value.state.values() if isinstance(held, dict)]
        return states

    def _optimizer_settings(self):
        """The settings of each optimizer the call reaches, group by group, its parameters among
        them: lists and dicts by what they hold now (``group["params"].pop()``, ``betas[0] *= 0.5``
        are changes), other objects by identity (``_as_found``)."""
        return [
            [{key: _as_found(value) for key, value in group.items()} for group in value.param_groups]
            for value in self._with_param_groups
        ]

    def _verify_values(self):
        """Fail if the call rebound a value its guard checks (``global step; step += 1``, a
        ``nonlocal`` flag flipped): a replay would not rebind it."""
        function, args, kwargs = self._call
        scope = {
            "function": function, "args": args, "kwargs": kwargs, "global_hooks": global_hooks,
            "global_step_hooks": global_step_hooks, "imported_modules": sys.modules,
        }
        for path, value in self.reach.scalars:
            if path in self.reach.set_by_schedulers:
                continue
            try:
                now = eval(path, scope)  # noqa: S307 (a path the reach wrote, from the function's own objects)
            except (AttributeError, IndexError, KeyError, TypeError):
                now = _GONE
            if self.failure is None and not same_value(now, value):
                self.fail(f"changes {self.reach.scalar_names.get(path, path)} in Python, which a replay would not repeat")

    def _attributes_set(self):
        """Tensors the call put in an attribute of a module or of an object of the caller's: a
        running statistic rebound (``self.running_mean = (1 - m) * self.running_mean + m * mean``
        under no_grad, makemore's BatchNorm1d; d2l's BatchNorm), a state carried to the next call
        (``self.h = h.detach()``), an activation kept (``self.out = x @ self.weight``). The program
        sets the attribute as the call did (a tensor it computed, without the history that the
        call spent, as the tensors it returns; or the argument itself). Where the attribute held a
        tensor the program reads, it reads it as the call begins, through the attribute (the guard
        checks shape, dtype and requires_grad there rather than identity). Any other change of a
        caller's object in Python, a tensor put where the old one, held at another place too, is
        read by the program, or a state tensor moved (``a.x, a.y = a.y, a.x``) makes the call run
        eagerly. (An old tensor held elsewhere and never read, makemore's ``self.out`` that a
        container keeps too, or a caller's list of them, is simply replaced.)"""
        for holder, path, name, registry, before in self._holders:
            now = vars(holder) if registry is None else holder if registry is ITEMS else getattr(holder, registry)
            if isinstance(holder, Tensor) and now.keys() != before.keys():  # `if not hasattr(p, "grad_avg")`: a later
                self.guards.append(f"len({path}.__dict__) == {len(before)}")  # call, with it set, records anew
            for key in sorted(now.keys() | before.keys(), key=str):
                new, old = now.get(key, _GONE), before.get(key, _GONE)
                if new is old or self.failure is not None:
                    continue
                if not isinstance(new, Tensor) or type(key) is not str or not key.isidentifier():
                    if not isinstance(holder, Module) or registry is not None:  # a module's own attributes: _verify_containers
                        self.fail(f"changes {name}.{key} in Python (an attribute set), which a replay would not repeat")
                    continue
                if id(new) in self.reach.tensors or isinstance(old, Tensor) and id(old) in self.reach.state_paths and id(old) in self._constant_names:
                    self.fail(f"moves a tensor the caller holds elsewhere into {name}.{key}, which a replay would not repeat")
                    continue
                if new._requires_grad and (new.grad_fn is None or not self._spent(new.grad_fn)):
                    self.fail(f"keeps in {name}.{key} a tensor whose gradient may still be taken, which a replay would give without its history")
                    continue
                self._attribute_set(holder, path, name, registry, key, new, old)

    def _attribute_set(self, holder, path, name, registry, key, new, old):
        """``holder.key = new`` (or ``holder._buffers[key] = new``) written into the program
        (``holder`` found at ``path``; ``old`` what it held as the call began, or ``_GONE``)."""
        expr = self._handed_out(new)
        if expr is None:
            return
        holder_name = self._constant(holder, name)
        place = f".{key}" if registry is None else f"[{key!r}]" if registry is ITEMS else f".{registry}[{key!r}]"
        target = holder_name + place
        # the value the call left there: a class's own __setattr__ (which may change it) is not run again
        plain = registry is not None or type(holder).__setattr__ in (object.__setattr__, Module.__setattr__)
        self._emit(f"{target if plain else f'{holder_name}.__dict__[{key!r}]'} = {expr}", "an attribute set by the call, set again")
        if not expr.startswith(("args", "kwargs")):
            self._tensor_exprs[id(new)] = target  # returned, it is the attribute's tensor, as eagerly
            self._handed.setdefault(id(new), target)
        self._rebound.add((id(holder), key))
        self.guards.append(f"{path} is {holder_name}")
        old_name = self._constant_names.get(id(old)) if isinstance(old, Tensor) else None
        if old_name is not None:  # read, as the call began, through the attribute (a local of that name)
            self.lines.insert(0, (1, f"{old_name} = {target}", f"{name}.{key} as the call begins"))
            mention = re.compile(r"(?<![\w.])" + re.escape(old_name) + r"(?!\w)")
            guards = [mention.sub(path + place, guard) for guard in self.guards]
            self.guards = [guard for guard in guards if guard != f"{path}{place} is {path}{place}"]

    def _verify_containers(self):
        """Fail if the call changed a list, a dict, a set, a module's attribute or a NumPy array
        that it reaches, or drew from a random generator of Python's or NumPy's: Python side effects
        (``losses.append(loss)``, a hook keeping an activation), which a replay would not repeat."""
        for container, name, before in self._containers:
            if isinstance(container, (Module, dict)) and before is not None:  # an attribute or item the program assigns
                before = [item for item in before if (id(container), item[0]) not in self._rebound]
                now = [item for item in fingerprint(container) if (id(container), item[0]) not in self._rebound]
            else:
                now = fingerprint(container)
            if self.failure is None and before is not None and now != before:
                self.filled_optimizer_state = id(container) in self.reach.optimizer_states
                if isinstance(container, random.Random) or random_generator_state(container) is not None:
                    self.fail(f"draws from {name}, a random generator of Python's or NumPy's, which a replay would not draw from")
                else:
                    self.fail(f"changes {name} in Python (an append, an item or attribute set), which a replay would not repeat")
        for array, name, copy in self._held_arrays:
            if self.failure is None and not _same(array, copy):
                self.fail(f"changes the NumPy array {name} in place, which a replay would not repeat")

    def _arrays_to_watch(self):
        """The NumPy arrays the call reaches (a metric's counts, a buffer of the caller's), each
        with a copy: one the call changes in place (``self.counts += ...``) is a change a replay
        would not repeat. Not those that share memory with a tensor the call reaches (a parameter
        seen through ``.numpy()``), which the program changes as the call does."""
        tensors = [tensor._array for tensor, _ in self.reach.tensors.values()]
        watched, seen = [], set()
        for array, name in self.reach.held_arrays:
            if id(array) in seen or array.size > _SNAPSHOT_LIMIT or any(xp.may_share_memory(array, other) for other in tensors):
                continue
            seen.add(id(array))
            watched.append((array, name, array.copy()))
        return watched

    def _random_versions(self):
        """Where the random streams stand: the global generator's and each one the call reaches."""
        return (default_generator.state_version(), *(generator.state_version() for generator in self._generators))

    def _check_random(self):
        if self.failure is None and self._random_versions() != self._random_state:
            self.fail("draws random numbers outside an operation or a random factory (a NumPy generator, a distribution's sample)")

    # ----------------------------------------------------------------- writing
    def _unrecorded(self, call, *args, **kwargs):
        """Run ``call`` eagerly with the recorder off (what it does inside is replayed as one)."""
        function_module._recorder = None
        try:
            return call(*args, **kwargs)
        finally:
            if self.failure is None:
                function_module._recorder = self

    def _emit(self, line, comment=None):
        self.lines.append((self.indent, line, comment))

    def _new_name(self, prefix):
        return f"{prefix}{next(self._numbers)}"

    def _constant(self, value, hint):
        """Bind ``value`` in the program under a name made from ``hint``."""
        name = self._constant_names.get(id(value))
        if name is not None:
            return name
        name = re.sub(r"\W", "_", hint).strip("_")
        if not name.isidentifier():
            name = "constant"
        if name in self.constants or not _may_name_a_constant(name):
            name = f"{name}_{next(self._numbers)}"
        self.constants[name] = value
        self._constant_names[id(value)] = name
        self._kept.append(value)
        return name

    def _literal(self, value, simple_only=False):
        """Python source for a plain argument: written out when it is a number, string, tuple...;
        otherwise a constant of the program (a dtype, a loss criterion object)."""
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        if type(value) is float:  # a nan as a constant: float('nan') would lose its sign and payload
            return repr(value) if math.isfinite(value) else f"float({str(value)!r})" if value == value else self._constant(value, "nan")
        if type(value) in (tuple, list) and all(_is_simple(item) for item in value):
            items = [self._literal(item) for item in value]
            text = ", ".join(items) + ("," if len(items) == 1 and type(value) is tuple else "")
            return f"({text})" if type(value) is tuple else f"[{text}]"
        if simple_only:
            self.fail(f"passes or returns a {type(value).__name__}, which a program cannot rebuild")
            return "None"
        if isinstance(value, xp.dtype):
            return self._constant(value, str(value))
        if _holds_arrays(value):  # made from this call's inputs (a loss's targets): not a constant
            self.fail(f"passes a {type(value).__name__} holding arrays to an operation, which a program cannot rebuild")
            return "None"
        return self._constant(value, type(value).__name__.lower())


_UNBOUND = object()
_VALUE_NAME = re.compile(r"[vgxp]\d+|group\d+")  # the names of the program's values (arrays, optimizers' groups)

# Names a constant may not take besides the builtins (programs, guards and inlined bodies call them)
# and the program's array names: the program's runtime, "_", the parameters of the program and the
# guard, and the guard's own variable. (The guard's other locals begin with "_", which no constant does.)
_RESERVED = {*RUNTIME, "_", "args", "kwargs", "function", "value", "outputs", "backward_of_call", *dir(builtins), *keyword.kwlist}


_GONE = object()  # what a guarded path reads when it no longer leads anywhere
ITEMS = "items"  # a holder's registry: the dict itself, its items set as attributes are
_DISTINCT_CHECKED = 8  # argument tensors checked to be distinct from each other (f(a, b) recorded, f(x, x) called)


def _may_name_a_constant(name):
    """Whether a constant bound under ``name`` is seen, not hidden by a name the program or its
    guard gives something else (a global tensor called ``p1`` beside the program's ``p1``)."""
    return name not in _RESERVED and not _VALUE_NAME.fullmatch(name)


NESTING = 4  # how deep lists, tuples and dicts of arguments are looked into


def argument_tensors(arguments, depth=0):
    """``(tensor, expression)`` for each tensor among ``arguments`` (``(value, expression)`` pairs),
    inside lists, tuples and dicts of strings too (a DataLoader's batch: ``args[0][1]``), NESTING
    levels deep, as the signature of a call looks (compiled._argument_signature)."""
    for value, expr in arguments:
        if isinstance(value, Tensor):
            yield value, expr
        elif depth < NESTING and type(value) in (list, tuple):
            yield from argument_tensors([(item, f"{expr}[{index}]") for index, item in enumerate(value)], depth + 1)
        elif depth < NESTING and type(value) is dict and all(type(key) is str for key in value):
            yield from argument_tensors([(item, f"{expr}[{key!r}]") for key, item in value.items()], depth + 1)


def _tensors_in(value, depth=0):
    """The tensors a function returned: alone, or in tuples, lists and dicts."""
    if isinstance(value, Tensor):
        yield value
    elif depth < NESTING and isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors_in(item, depth + 1)
    elif depth < NESTING and isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item, depth + 1)


def _outputs_reaching(outputs, leaves):
    """For each leaf, the positions of the outputs whose graph reaches it."""
    reached = []
    for output in outputs:
        seen, stack = set(), [output.grad_fn]
        while stack:
            node = stack.pop()
            if node is not None and node not in seen:
                seen.add(node)
                stack.extend(next_node for next_node, _ in node.next_functions)
        reached.append({id(node.variable) for node in seen if type(node) is AccumulateGrad})
    return tuple(tuple(position for position, found in enumerate(reached) if id(leaf) in found) for leaf in leaves)


def float_condition(expr, value):
    """The condition that the float ``expr`` is ``value``, to the bit: -0.0 is not 0.0, a nan has
    its sign and payload (which the arithmetic passes on)."""
    if not _equal_is_same(value):
        return f"float_bits({expr}) == {float_bits(value)!r}"
    return f"{expr} == float({str(value)!r})"


def _equal_is_same(value):
    """Whether ``==`` tells ``value`` apart as ``same_value`` does: anything but a float 0 (-0.0
    equals 0.0) or nan (equal to nothing)."""
    return not (type(value) is float and (value == 0 or value != value))


def _guardable(value):
    """Whether a value the step read can be checked on each call: a number (a NumPy scalar too,
    nan included), a string, None, an enum member, a range, a slice... (``reachable.is_plain``),
    a tuple or a set of them."""
    return is_plain(value) or type(value) in (tuple, set) and all(map(_guardable, value))


def _is_simple(value):
    return value is None or type(value) in (bool, int, str) or (type(value) is float and math.isfinite(value)) or (
        type(value) is tuple and all(_is_simple(item) for item in value)
    )


def _holds_arrays(value):
    """Whether an object's attributes hold arrays or tensors (directly or in a list, tuple or dict)."""
    for item in getattr(value, "__dict__", {}).values():
        items = item.values() if isinstance(item, dict) else item if isinstance(item, (list, tuple)) else (item,)
        if any(isinstance(each, (ndarray, Tensor)) for each in items):
            return True
    return False


def _holds(node, array):
    """Whether a graph node keeps ``array`` among its attributes or saved values."""
    values = list(getattr(node, "__dict__", {}).values()) + list(getattr(node, "_saved", None) or ())
    return any(value is array or getattr(value, "_array", None) is array for value in values)


def _same(array, copy):
    return copy is None or (array.shape == copy.shape and xp.array_equal(array, copy, equal_nan=array.dtype.kind in "fc"))


class _ReadSettings(dict):
    """A parameter group that notes which of its settings are read."""

    def __init__(self, group):
        super().__init__(group)
        self.read = []

    def __getitem__(self, key):
        self.read.append(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.append(key)
        return super().get(key, default)


def _settings_read(init_state, param, group):
    """The settings of ``group`` that ``init_state`` (an optimizer's ``_init_state``) reads to decide
    what state a parameter keeps (SGD's momentum, Adam's amsgrad)."""
    probe = _ReadSettings(group)
    init_state(param, {}, probe)
    return list(dict.fromkeys(key for key in probe.read if key != "params"))


def _as_found(value):
    """A setting as a snapshot keeps it: a list, tuple or dict as the items it holds now (each kept
    so), a plain value as itself, anything else (a tensor, a function) by identity, held."""
    if type(value) in (list, tuple):
        return type(value), tuple([_as_found(item) for item in value])
    if type(value) is dict:
        return dict, tuple([(key, _as_found(item)) for key, item in value.items()])
    return value if is_plain(value) else by_identity(value)


def _home_class(method):
    """The class that defines ``method`` (``Optimizer`` for ``Optimizer.step``)."""
    return method.__globals__[method.__qualname__.split(".")[0]]


def user_line():
    """``file:line (code)`` of the innermost frame outside chainrule itself (or in its examples)."""
    for frame in reversed(traceback.extract_stack()):
        inside = frame.filename.startswith(_PACKAGE) and not frame.filename.startswith(_EXAMPLES)
        if not inside and "contextlib" not in frame.filename:
            return f"{frame.filename}:{frame.lineno} ({(frame.line or '').strip()})"
    return None


def _substitute(text, names):
    """``text`` with forward's parameter names replaced by the program's names."""
    key = tuple(names)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        alternatives = "|".join(re.escape(name) for name in names)  # ASCII edges: weightᵀ is weight, transposed
        pattern = _PATTERNS[key] = re.compile(r"(?<![A-Za-z0-9_])(" + alternatives + r")(?![A-Za-z0-9_])")
    return pattern.sub(lambda match: names[match.group(0)], text)


_PATTERNS = {}  # the parameter names of a formula -> the pattern that finds them


def _forward_comment(function, operands, outputs):
    formula = getattr(function, "formula", None)
    if not formula:  # a Function not yet in the Op form: the first line of its docstring
        return f"{function.__name__}: {_docstring_lines(function)[0]}".rstrip(": ")
    names = dict(zip(function.input_names(), operands))
    names["out"] = outputs[0]
    return f"{function.__name__}: {_substitute(formula, names)}"


def _docstring_lines(function):
    lines = [line.strip() for line in (function.__doc__ or "").splitlines() if line.strip()]
    return lines or [""]


def _backward_comment(node, operands, outputs):
    function = node.function
    derivatives = getattr(function, "derivatives", ())
    if not derivatives:  # not yet an Op: the docstring's line of derivatives, when it has one
        stated = [line for line in _docstring_lines(function) if line.startswith("d ")]
        return f"{node.name()}: {stated[0]}" if stated else node.name()
    names = dict(zip(function.input_names(), operands))
    names["out"] = outputs[0]
    parts = [
        f"d/d{names[name]} = {_substitute(derivative, names)}"
        for name, derivative, needed in zip(function.input_names(), derivatives, node.needs_input_grad)
        if derivative is not None and needed
    ]
    return f"{node.name()}: {', '.join(parts)}"


def _version_counter(tensor):
    """The attribute that counts ``tensor``'s in-place changes: its own slot when it is the owner of
    its counter (a parameter), else the ``_version`` property (a view shares its base's)."""
    return "_version_count" if tensor._version_holder is None else "_version"
