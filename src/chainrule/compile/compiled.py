"""CompiledFunction: a function that records itself on its first call and replays the recording after.

Each recording is kept with the conditions it was made under (its *guards*, as torch.compile's):
the shapes, dtypes and ``requires_grad`` of the tensor arguments, the other arguments' values, grad
mode, and, checked by a small generated function, that the same parameters are found at the same
places, that each module is in the same train/eval mode and that the numbers the function reads
from its globals are unchanged. A call that meets no kept recording's conditions is recorded anew;
past ``cache_size_limit`` recordings (8), or when a call cannot be recorded, the function runs
eagerly.
"""
import decimal
import fractions
import functools
import math
import re
import sys
import types
import weakref

from chainrule.autograd import anomaly, grad_mode
from chainrule.autograd import function as function_module
from chainrule.backend import is_scalar, ndarray
from chainrule.caller_warnings import warn_at_caller
from chainrule.compile import logs, replay
from chainrule.compile.deferred_backward import first_outputs
from chainrule.compile.reachable import is_plain
from chainrule.compile.recorder import NESTING, Recorder, float_condition
from chainrule.compile.rolling import roll
from chainrule.compile.simplify import conjugates_dropped, cycle_collection_paused, simplified
from chainrule.nn.module import Module
from chainrule.ops.reduce import spread
from chainrule.optim.lr_scheduler import ChainedScheduler, LRScheduler, SequentialLR
from chainrule.mersenne_twister import MersenneTwister
from chainrule.optim.optimizer import Optimizer
from chainrule.random import Generator
from chainrule.tensor import Tensor
from chainrule.utils.operation_mode import any_mode_entered

# Methods that read a tensor's values into Python: the values would be frozen into a program.
_VALUE_READS = ("item", "tolist", "numpy", "__array__", "__float__", "__int__", "__complex__", "__bool__", "__index__", "__repr__")
# What Python code may branch on besides values: a tensor found before the call is guarded by them
_METADATA_READS = (
    "shape", "size", "ndim", "dim", "numel", "nelement", "dtype", "__len__", "is_floating_point", "is_contiguous",
    "stride", "element_size", "is_leaf",
)
# Methods replayed as one call: what they change (parameters, gradients, learning rates) is state.
_hearing = False  # whether a call is being recorded: its methods of _VALUE_READS and _REPLAYED_CALLS are wrapped
_REPLAYED_CALLS = (
    (Optimizer, "step"),
    (Optimizer, "zero_grad"),
    (Module, "zero_grad"),
    (Module, "train"),
    (Module, "eval"),
    (LRScheduler, "step"),
    (SequentialLR, "step"),  # its own step(self), without an epoch, as PyTorch's
    (ChainedScheduler, "step"),
)

class Recording:
    """One program with the guard that says when it applies; ``code`` is its source."""

    def __init__(self, recorder, name, args, kwargs):
        with cycle_collection_paused():
            self.code = _program_source(recorder, name)
            namespace = dict(replay.RUNTIME, **recorder.constants, _Tensor=Tensor, _grad_mode=grad_mode, _anomaly=anomaly)
            exec(_compiled(self.code, f"<chainrule.compile {name}>"), namespace)  # noqa: S102
        self.program = namespace["program"]
        guards = _signature_guards(args, kwargs, namespace) + recorder.guards
        self.guard_code = _guard_source(guards)
        exec(_compiled(self.guard_code, f"<chainrule.compile guard of {name}>"), namespace)  # noqa: S102
        self._guard = namespace["guard"]
        self.calls = recorder.deferred[3] if recorder.deferred is not None else None  # outputs' backward to come

    def applies(self, function, args, kwargs):
        """Whether this recording replays ``function(*args, **kwargs)``: the arguments have its
        signature (``_signature``) and every guard holds."""
        try:
            return self._guard(function, args, kwargs)
        except Exception:  # noqa: BLE001 (the structure changed, or a property read raised: the call, run eagerly, tells)
            return False


class CompiledFunction:
    """``function`` recorded once and replayed as a straight-line program (see ``chainrule.compile``)."""

    keeps_recordings = True  # what it holds is not state of the functions that call it
    cache_size_limit = 8  # recordings kept, as torch._dynamo.config.cache_size_limit (settable per function)
    stance = "default"  # chainrule.compiler.set_stance: "default", "force_eager", "eager_on_recompile", "fail_on_recompile"
    alive = weakref.WeakSet()  # every compiled function, for chainrule.compiler.reset

    def __init__(self, function, fullgraph=False, dynamic=None):
        if isinstance(function, types.FunctionType):
            self.__dict__.update(function.__dict__)  # its own attributes, as functools.wraps copies them
        for attribute in ("__module__", "__qualname__"):
            if isinstance(getattr(function, attribute, None), str):
                setattr(self, attribute, getattr(function, attribute))
        self.function = function
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.recordings = {}  # signature -> [Recording, ...]
        self._last = None  # the recording the last call replayed or made: tried first, before any lookup
        self.eager_reason = None  # why it runs eagerly, once it does
        self._state_filled = False  # whether a call ran unrecorded once as an optimizer filled its state
        self._per_instance = {}  # as a method: id(instance) -> (the instance, weakly where it can be; its compiled method)
        self.__name__ = getattr(function, "__name__", type(function).__name__)
        self.__doc__ = getattr(function, "__doc__", None)
        self.__wrapped__ = function
        CompiledFunction.alive.add(self)

    def __reduce__(self):
        """Pickled as the function it compiles (``chainrule.save(compiled_model)``): the
        recordings, which hold arrays of one process, are made again after loading."""
        return CompiledFunction, (self.function, self.fullgraph, self.dynamic)

    def reset(self):
        """Forget every recording and the reason to run eagerly: the next call records anew."""
        self.recordings.clear()
        self._last = None
        self.eager_reason = None
        for _, compiled in list(self._per_instance.values()):
            compiled.reset()

    @property
    def code(self):
        """The source of the program the last call recorded (``None`` before the first call)."""
        programs = [recording for recordings in self.recordings.values() for recording in recordings]
        return programs[-1].code if programs else None

    def __call__(self, *args, **kwargs):
        if (
            self.eager_reason is not None or _hearing
            or function_module._saved_tensors_hooks or function_module._forward_ad is not None
            or CompiledFunction.stance == "force_eager" or any_mode_entered()
        ):
            # inside another call being recorded (or run eagerly after its recording failed), that
            # call's recorder hears the operations, or none does; under saved-tensor hooks, with
            # forward-mode tangents about, or inside an operation mode (autocast's), which a program
            # neither calls nor carries, this call runs eagerly
            return self.function(*args, **kwargs)
        last = self._last
        if last is not None and last.calls is None and last.applies(self.function, args, kwargs):
            return last.program(args, kwargs)  # a training loop's calls: no signature to compute
        key = _signature(args, kwargs)
        for recording in self.recordings.get(key, ()):
            if recording.applies(self.function, args, kwargs):
                if recording.calls is not None and recording.calls.busy():
                    return self.function(*args, **kwargs)  # the last call's backward is still to come
                self._last = recording
                return recording.program(args, kwargs)
        if self.recordings and CompiledFunction.stance == "eager_on_recompile":
            return self.function(*args, **kwargs)
        if self.recordings and CompiledFunction.stance == "fail_on_recompile":
            raise RuntimeError(
                f"Detected recompile when torch.compile stance is 'fail_on_recompile': {self.__name__} was called "
                f"with arguments none of its {sum(map(len, self.recordings.values()))} recordings applies to"
            )
        if sum(len(recordings) for recordings in self.recordings.values()) >= self.cache_size_limit:
            self._run_eagerly(
                f"it was recorded {self.cache_size_limit} times for different inputs; pass tensors rather "
                f"than changing Python values, or raise {self.__name__}.cache_size_limit"
            )
            return self.function(*args, **kwargs)
        return self._record(key, args, kwargs)

    def _record(self, key, args, kwargs):
        if self.recordings:
            count = sum(map(len, self.recordings.values()))
            logs.log("recompiles", f"Recompiling function {self.__name__}: none of its {count} recording{'s' * (count > 1)} applies to the call")
        recorder = Recorder(self.function, args, kwargs, self.fullgraph)
        if recorder.initializing:  # its lazy modules take their shapes: the next call records
            return self.function(*args, **kwargs)
        saved = _install(recorder)
        try:
            result = self.function(*args, **kwargs)
            function_module._recorder = None
            recorder.finish(result)
        finally:
            _uninstall(saved)
        if recorder.failure is not None:
            if recorder.filled_optimizer_state and not self._state_filled:
                self._state_filled = True  # an optimizer's first step filled its state: the next call records
            else:
                self._run_eagerly(f"it {recorder.failure}")
            return result
        self._last = Recording(recorder, self.__name__, args, kwargs)
        self.recordings.setdefault(key, []).append(self._last)
        logs.log("program", f"TRACED GRAPH\n ===== {self.__name__} =====\n{self._last.code}")
        logs.log("guards", f"GUARDS of {self.__name__}:\n{self._last.guard_code}")
        if recorder.deferred is not None:
            outputs, leaves, reaches, _, outputs_read = recorder.deferred
            return first_outputs(result, outputs, leaves, reaches, outputs_read)
        return result

    def _run_eagerly(self, reason):
        self.eager_reason = reason
        logs.log("graph_breaks", f"Graph break in {self.__name__}: it runs eagerly from now on: {reason}")
        warn_at_caller(f"chainrule.compile: {self.__name__} runs eagerly from now on: {reason}")

    def __get__(self, instance, owner):
        """As a method decorator: each instance's bound method gets its own compiled function, found
        by the instance's identity (two equal instances, or unhashable ones, are two), with the
        method's ``cache_size_limit`` as it is set then."""
        if instance is None:
            return self
        held, compiled = self._per_instance.get(id(instance), (None, None))
        if compiled is None or (held() if isinstance(held, weakref.ref) else held) is not instance:
            compiled = CompiledFunction(self.function.__get__(instance, owner), self.fullgraph, self.dynamic)
            try:  # forgotten with the instance; one that takes no weak reference (__slots__) is kept
                held = weakref.ref(instance, lambda _, key=id(instance), table=self._per_instance: table.pop(key, None))
            except TypeError:
                held = instance
            self._per_instance[id(instance)] = (held, compiled)
        if "cache_size_limit" in self.__dict__:
            compiled.cache_size_limit = self.cache_size_limit
        return compiled


def _signature(args, kwargs):
    """What every recording is first looked up by: grad mode, anomaly mode, and each argument:
    a tensor's shape, dtype and requires_grad; a number's or string's type and value; anything
    else's identity."""
    parts = [grad_mode._state.enabled, anomaly.is_anomaly_enabled()]
    parts += [_argument_signature(arg) for arg in args]
    parts += [(name, _argument_signature(kwargs[name])) for name in sorted(kwargs)]
    return tuple(parts)


def _argument_signature(arg, depth=0):
    """A tensor's shape, dtype and requires_grad; a number's or string's type and value (a NumPy
    scalar's or small array's too); a list, tuple or dict (a DataLoader's batch) by what it holds, a
    few levels deep; anything else by identity."""
    if isinstance(arg, Tensor):
        array = arg._array
        return (array.shape, array.dtype, arg._requires_grad)
    if arg is None or type(arg) in (bool, int, float, str):
        return (type(arg), arg)
    if _compared(arg):
        return (type(arg), arg.start, arg.stop, arg.step) if type(arg) is slice else (type(arg), frozenset(arg) if type(arg) is set else arg)
    if _by_value(arg):
        return (type(arg), arg.shape, arg.dtype.str, arg.tobytes())
    if depth < NESTING and type(arg) in (list, tuple):
        return (type(arg), tuple([_argument_signature(item, depth + 1) for item in arg]))
    if depth < NESTING and type(arg) is dict and all(type(key) is str for key in arg):
        return (dict, tuple([(key, _argument_signature(arg[key], depth + 1)) for key in arg]))
    return id(arg)


def _compared(arg):
    """A value compared with ``==`` (by its items when a set): a complex, bytes, a Decimal, a
    Fraction, a range, a slice, a set or frozenset of plain values."""
    if type(arg) in (set, frozenset):
        return all(map(is_plain, arg))
    return type(arg) in (complex, bytes, decimal.Decimal, fractions.Fraction, range) or type(arg) is slice and all(
        map(is_plain, (arg.start, arg.stop, arg.step))
    )


def _by_value(arg):
    """A NumPy scalar or small array (``np.float32(2)``, ``np.array(2.0)``): the program holds the
    values it had, so it is compared by its bytes (a larger array makes the call run eagerly)."""
    return is_scalar(arg) or (type(arg) is ndarray and arg.size <= _ARRAYS_BY_VALUE)


_ARRAYS_BY_VALUE = 1024


def _signature_guards(args, kwargs, namespace):
    """The conditions under which ``_signature`` of a call gives what it gives for these
    arguments, as guard expressions (a recording's guard then decides alone whether it applies).
    Objects compared by identity are bound in ``namespace``."""
    guards = [
        f"_grad_mode._state.enabled is {grad_mode._state.enabled}",
        f"_anomaly._state.enabled is {anomaly.is_anomaly_enabled()}",
        f"len(args) == {len(args)}",
        f"sorted(kwargs) == {sorted(kwargs)!r}" if kwargs else "not kwargs",
    ]
    for position, arg in enumerate(args):
        guards += _argument_guards(arg, f"args[{position}]", namespace)
    for name in sorted(kwargs):
        guards += _argument_guards(kwargs[name], f"kwargs[{name!r}]", namespace)
    return guards


def _argument_guards(arg, expr, namespace, depth=0):
    """``_argument_signature`` of ``arg`` as conditions on ``expr`` (a nan as any nan)."""
    if isinstance(arg, Tensor):
        array = arg._array
        dtype = f"_dtype_{array.dtype.name}"
        namespace[dtype] = array.dtype
        return [  # its layout too: the program's results are laid out as eager's were for this one
            f"isinstance({expr}, _Tensor)", f"(value := {expr}._array).shape == {tuple(array.shape)!r}",
            f"value.dtype == {dtype}", f"value.strides == {array.strides!r}", f"{expr}._requires_grad is {arg._requires_grad}",
        ]
    if arg is None:
        return [f"{expr} is None"]
    if type(arg) in (bool, int, str):
        return [f"type({expr}) is {type(arg).__name__}", f"{expr} == {arg!r}"]
    if type(arg) is float:
        return [f"type({expr}) is float", float_condition(expr, arg)]
    if _compared(arg):
        kind, value = f"_type_{type(arg).__name__}", f"_value_{len(namespace)}"
        namespace[kind] = type(arg)
        namespace[value] = frozenset(arg) if type(arg) is set else arg  # a set's items as they are: the caller may change it
        return [f"type({expr}) is {kind}", f"{expr} == {value}"]
    if _by_value(arg):
        kind = f"_type_{type(arg).__name__}"
        namespace[kind] = type(arg)
        return [
            f"type({expr}) is {kind}", f"{expr}.shape == {arg.shape!r}", f"{expr}.dtype.str == {arg.dtype.str!r}",
            f"{expr}.tobytes() == {arg.tobytes()!r}",
        ]
    if depth < NESTING and type(arg) in (list, tuple):
        guards = [f"type({expr}) is {type(arg).__name__}", f"len({expr}) == {len(arg)}"]
        for position, item in enumerate(arg):
            guards += _argument_guards(item, f"{expr}[{position}]", namespace, depth + 1)
        return guards
    if depth < NESTING and type(arg) is dict and all(type(key) is str for key in arg):
        guards = [f"type({expr}) is dict", f"list({expr}) == {list(arg)!r}"]
        for key in arg:
            guards += _argument_guards(arg[key], f"{expr}[{key!r}]", namespace, depth + 1)
        return guards
    return [f"id({expr}) == {id(arg)}"]  # anything else: by identity, as the signature (not kept alive)


# (at the start of a path only: ``function.__globals__['step'].function.__globals__['model']``, a
# compiled function the step names, reads another function's globals through it)
_GLOBAL_LOOKUP = re.compile(
    r"(?<![\w.])function(?:\.__func__)?\.(?:__globals__\['[A-Za-z_]\w*'\]|__closure__\[\d+\]\.cell_contents)"
)


_SUBMODULE_PATH = re.compile(r"_found_\d+(?:\._modules\['[^']*'\])+")


def _guard_source(guards):
    """The guard function: every condition, once, joined by ``and``; each global or closure variable
    the conditions read (``function.__globals__['model']``, ``function.__closure__[0].cell_contents``)
    is looked up once, before them, and so is each submodule they read more than once
    (``_found_0._modules['0']``). The locals begin with "_", as no constant's name does."""
    conditions = " and ".join(dict.fromkeys(guards)) or "True"
    lookups = {lookup: f"_found_{number}" for number, lookup in enumerate(dict.fromkeys(_GLOBAL_LOOKUP.findall(conditions)))}
    lines = ["def guard(function, args, kwargs):", *(f"    {local} = {lookup}" for lookup, local in lookups.items())]
    conditions = _GLOBAL_LOOKUP.sub(lambda found: lookups[found.group()], conditions)
    paths = _SUBMODULE_PATH.findall(conditions)
    repeated = sorted({path for path in paths if paths.count(path) > 1}, key=len)
    names = {}
    for number, path in enumerate(repeated):  # shorter first: a longer path starts from its parent's name
        parent = max((known for known in names if path.startswith(known + "._modules")), key=len, default=None)
        lookup = path if parent is None else names[parent] + path[len(parent):]
        names[path] = f"_module_{number}"
        lines.append(f"    _module_{number} = {lookup}")
    for path in sorted(names, key=len, reverse=True):
        conditions = re.sub(re.escape(path) + r"(?![\[\w])", names[path], conditions)
    return "\n".join([*lines, f"    return {conditions}", ""])


@functools.lru_cache(maxsize=32)
def _compiled(source, filename):
    """``source`` compiled, for ``exec``. A program recorded again as it was (a model compiled again,
    a step recorded anew for inputs whose guards it failed) is compiled once, as it is simplified
    once (``simplified``): a code object is never changed, and each recording runs it in a
    namespace of its own. (A long program takes milliseconds.)"""
    return compile(source, filename, "exec")


def _program_source(recorder, name):
    header = (
        f"def program(args, kwargs):\n"
        f'    """{name}, recorded: the operations of one eager call on arrays, in the same order."""\n'
    )
    constants = recorder.constants
    before = set(constants)
    lines = recorder.lines if recorder.saw_complex else conjugates_dropped(recorder.lines)
    lines = roll(lines, constants)
    # a context a loop iterates over is changed there under the loop's name: nothing is known of it
    iterated = {id(item) for name in set(constants) - before for row in constants[name] for item in (row if type(row) is tuple else (row,))}
    contexts = {name for name, value in constants.items() if isinstance(value, replay.ReplayContext) and id(value) not in iterated}
    broadcasts = {name for name, value in constants.items() if value is spread}
    arrays = {name for name, value in constants.items() if type(value) is ndarray}
    lines = simplified(lines, recorder.shapes, contexts, broadcasts, recorder.row_major, arrays)
    return header + "".join("    " * indent + code + (f"  # {comment}" if comment else "") + "\n" for indent, code, comment in lines)


def _install(recorder):
    """Start hearing: the hook in Function.apply and the engine, and the methods of _VALUE_READS and
    _REPLAYED_CALLS wrapped so that the recorder hears them. Returns what ``_uninstall`` restores."""
    saved = []
    for name in _VALUE_READS:
        method = Tensor.__dict__.get(name)
        if method is not None:
            saved.append((Tensor, name, method))
            setattr(Tensor, name, _reading(name, method))
    for name in _METADATA_READS:
        attribute = Tensor.__dict__[name]
        saved.append((Tensor, name, attribute))
        setattr(Tensor, name, _reading_metadata(attribute))
    for owner, name in _REPLAYED_CALLS:
        method = owner.__dict__[name]
        saved.append((owner, name, method))
        setattr(owner, name, _replayed(method))
    for name, hearing, reading in (
        ("grad", "assign_grad", _grad_read), ("data", "assign_data", _metadata_read),
        ("requires_grad", "assign_requires_grad", _metadata_read),
    ):
        assigned = Tensor.__dict__[name]
        saved.append((Tensor, name, assigned))
        setattr(Tensor, name, _heard_property(assigned, hearing, reading(assigned.fget)))
    for owner in (Optimizer, LRScheduler):
        saved.append((owner, "__getattribute__", owner.__dict__.get("__getattribute__")))
        owner.__getattribute__ = _hearing_settings(owner.__getattribute__)
    for owner in _classes_read(recorder.reach):
        own = owner.__dict__.get("__getattribute__")
        try:
            owner.__getattribute__ = _hearing_values(owner.__getattribute__)
        except TypeError:  # a type that cannot be changed (SimpleNamespace): its reads are not heard
            continue
        saved.append((owner, "__getattribute__", own))
    function_module._recorder = recorder
    global _hearing
    _hearing = True
    return saved


def _uninstall(saved):
    global _hearing
    _hearing = False
    function_module._recorder = None
    for owner, name, method in reversed(saved):
        if method is None:
            delattr(owner, name)
        else:
            setattr(owner, name, method)


def _classes_read(reach):
    """The classes whose instances' plain attributes the recorder hears being read: Module, and
    the classes of the plain objects the function reaches (a config object)."""
    classes = {Module}
    for value in reach.objects.values():
        kind = type(value)
        if isinstance(value, Module) and "__getattribute__" in kind.__dict__:
            classes.add(kind)
        elif not isinstance(value, (Module, Optimizer, LRScheduler, Tensor, list, tuple, dict, types.FunctionType, types.MethodType)):
            classes.add(kind)
    return classes - {Generator, MersenneTwister}  # a random stream's draws are watched otherwise (their versions)


def _hearing_values(read):
    """``__getattribute__`` that tells the recorder of each plain value read from an attribute (a
    dropout's p, a model's temperature, a loss's reduction, a kernel size), so that the program
    replays only while it is unchanged."""

    def __getattribute__(self, name):
        value = read(self, name)
        if function_module._recorder is not None:
            if _heard(value) and name[:2] != "__":
                function_module._recorder.read_value(self, name, value)
            elif type(value) in (list, dict) and name[:2] != "__":  # its items' guards hold from now on
                function_module._recorder.read_container(self, name)
            elif name == "__dict__" and not isinstance(self, Module):  # vars(config)["lr"]: every value it holds
                for key, item in list(value.items()):
                    if type(key) is str and _heard(item):
                        function_module._recorder.read_value(self, key, item)
                    elif type(key) is str and type(item) in (list, dict):
                        function_module._recorder.read_container(self, key)
        return value

    return __getattribute__


def _hearing_settings(read):
    """``__getattribute__`` of optimizers and schedulers that tells the recorder of the settings
    the call's own code reads (``opt.param_groups``, ``opt.defaults``, a scheduler's plain values
    and lists): not the reads of an optimizer's or a scheduler's step (replayed calls: no recorder
    then), nor the recorder's own."""

    def __getattribute__(self, name):
        value = read(self, name)
        recorder = function_module._recorder
        if recorder is not None and (name[:2] != "__" or name == "__dict__") and not sys._getframe(1).f_globals.get("__name__", "").startswith(_COMPILE):
            if isinstance(self, Optimizer):
                if name in ("param_groups", "defaults"):
                    recorder.read_settings(self, name, value)
                elif name == "state":  # `if p in opt.state:`, opt.state_dict()
                    recorder.read_optimizer_state(self)
                elif is_plain(value):  # a count or flag kept on it (opt._opt_called, a hand-written one's self.t)
                    recorder.read_value(self, name, value)
            elif name == "__dict__":  # every value at once: a scheduler's state_dict(), vars(scheduler)
                for key, item in list(value.items()):
                    if _heard(item) or type(item) is list:
                        recorder.read_settings(self, key, item)
            elif _heard(value) or type(value) is list:
                recorder.read_settings(self, name, value)
        return value

    return __getattribute__


_COMPILE = __name__.rpartition(".")[0] + "."  # chainrule.compile.: the recorder's own reads are not the call's
_LIBRARY = __name__.partition(".")[0] + "."  # chainrule.: reads by the library itself (an optimizer's step)


def _heard(value):
    """Whether reading ``value`` from an attribute is heard: a plain value (``reachable.is_plain``:
    a number, a string, an enum member, a slice...), a tuple or a set."""
    return is_plain(value) or type(value) in (tuple, set)


def _reading(name, method):
    def read(self, *args, **kwargs):
        recorder = function_module._recorder
        if recorder is not None:
            what = "prints a tensor" if name == "__repr__" else f"reads a tensor's value into Python ({name})"
            recorder.fail(what)
        return method(self, *args, **kwargs)

    read.__name__ = name
    return read


def _heard_property(attribute, hearing, read):
    """A property of ``Tensor`` read through ``read`` (which tells the recorder), whose assignment
    the recorder hears (its method ``hearing``) and replays: ``grad`` (``p.grad = None``, a
    gradient set by hand), ``data`` (``w.data = w.data - lr * w.grad.data``, another array for the
    tensor) and ``requires_grad`` (a GAN's discriminator frozen for the generator's step, thawed after)."""

    def assign(self, value):
        recorder = function_module._recorder
        if recorder is None:
            attribute.fset(self, value)
        else:
            getattr(recorder, hearing)(attribute.fset, self, value)

    def delete(self):  # del p.grad
        assign(self, None)

    return property(read, assign, delete if attribute.fdel is not None else None, attribute.__doc__)


def _grad_read(fget):
    """Reading ``.grad`` (``if p.grad is not None:``, ``g = p.grad``): the recorder guards the one
    and keeps the other; reads by the library itself (an optimizer's step) are not the step's own."""

    def read(self):
        value = fget(self)
        recorder = function_module._recorder
        if recorder is not None:
            recorder.read_grad(self, value, by_user=not sys._getframe(1).f_globals.get("__name__", "").startswith(_LIBRARY))
        return value

    return read


def _metadata_read(fget):
    """Reading a property of a tensor's metadata (its shape, dtype, ``requires_grad``; ``.data``,
    whose shape is its tensor's): the recorder guards a tensor found before the call by them."""

    def read(self):
        recorder = function_module._recorder
        if recorder is not None:
            recorder.read_metadata(self)
        return fget(self)

    return read


def _reading_metadata(attribute):
    """A method or property of ``Tensor`` that reads its shape or dtype (``self.h.shape[0] ==
    x.shape[0]`` choosing a branch): the recorder guards a tensor found before the call by them,
    even where no operation of the call uses it."""
    if isinstance(attribute, property):
        return property(_metadata_read(attribute.fget), attribute.fset, attribute.fdel, attribute.__doc__)

    def read(self, *args, **kwargs):
        recorder = function_module._recorder
        if recorder is not None:
            recorder.read_metadata(self)
        return attribute(self, *args, **kwargs)

    read.__name__ = attribute.__name__
    return read


def _replayed(method):
    def call(self, *args, **kwargs):
        recorder = function_module._recorder
        if recorder is None:
            return method(self, *args, **kwargs)
        return recorder.call(method, self, args, kwargs)

    call.__name__ = method.__name__
    return call

