"""``profile``: time every operation of a block, forward and backward.

While a profile records, each call of an operation (``Function.apply``: named as PyTorch names the
kernel, ``aten::addmm``, ``aten::relu``, after the operation's node), each node's backward (``autograd::engine::evaluate_function:
AddmmBackward0``, PyTorch's name), each optimizer step (``Optimizer.step#SGD.step``) and each
``record_function`` block becomes a timed event; events inside others count in their total time,
not in their self time. ``key_averages().table()`` adds them up by name.
"""
import contextlib
import enum
import os
import re
import socket
import time
import warnings
import weakref

from chainrule.autograd import engine
from chainrule.autograd.function import Function
from chainrule.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from chainrule.profiler.events import EventList, FunctionEvent
from chainrule.tensor import Tensor
from chainrule.utils.flop_counter import FlopCounterMode, aten
from chainrule.utils.operation_mode import innermost_mode


class ProfilerActivity(enum.Enum):
    """What can be profiled: the CPU (chainrule computes on it alone)."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


def supported_activities():
    return {ProfilerActivity.CPU}


def kineto_available():
    """False: chainrule times operations itself, without PyTorch's Kineto library."""
    return False


class ProfilerAction(enum.Enum):
    """What a ``schedule`` asks of a step: nothing, warm up, record, record and hand the trace over."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """The action for each step of a long run: after ``skip_first`` steps, cycles of ``wait``
    steps doing nothing, ``warmup`` steps warming up, ``active`` steps recorded (the last of them
    handing the trace to ``on_trace_ready``); ``repeat`` cycles (0: for ever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait and step < wait:
            return ProfilerAction.NONE
        cycle = wait + warmup + active
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each trace to ``dir_name`` as
    ``<worker>.<time>.pt.trace.json``, where TensorBoard's profiler plugin finds it."""

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(dir_name, f"{worker}.{time.time_ns()}.pt.trace.json"))

    return handler


class _ExperimentalConfig:
    """Kineto's extra options (``verbose=True`` for Python stacks, ``profiler_metrics`` for
    device counters...), taken by keyword as PyTorch's: chainrule's profiler times operations
    itself and records none of these extras, so they are accepted and held only."""

    def __init__(
        self, profiler_metrics=(), profiler_measure_per_kernel=False, verbose=False, performance_events=(),
        enable_cuda_sync_events=False, adjust_profiler_step=False, disable_external_correlation=False,
        profile_all_threads=False, capture_overload_names=False, record_python_gc_info=False,
        expose_kineto_event_metadata=False, custom_profiler_config="", adjust_timestamps=False, trace_only=False,
    ):
        self.options = {name: value for name, value in locals().items() if name != "self"}


# ----------------------------------------------------------------------------- the recording
class _Recording:
    """The events of the profile recording now, and the stack of the ones still open; with
    ``profile_memory``, the bytes each operation's new tensors take, counted to the events open
    when they are made and again, negative, to those open when they are freed."""

    def __init__(self, record_shapes, profile_memory=False, flops=None):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.flops = flops  # the _EventFlops counting, with ``with_flops``
        self.origin = time.perf_counter_ns()
        self.events = EventList(profile_memory=profile_memory, with_flops=flops is not None)
        self.open = []
        self.last_operation = None  # the event of the operation that ended last

    def begin(self, name, args=()):
        shapes = [list(arg.shape) if isinstance(arg, Tensor) else [] for arg in args] if self.record_shapes else None
        parent = self.open[-1] if self.open else None
        event = FunctionEvent(name, (time.perf_counter_ns() - self.origin) / 1e3, shapes, parent)
        if parent is not None:
            parent.cpu_children.append(event)
        self.events.append(event)
        self.open.append(event)
        return event

    def end(self, event):
        event.time_range_end = (time.perf_counter_ns() - self.origin) / 1e3
        while self.open and self.open.pop() is not event:  # anything left open inside it ends with it
            pass

    def count_memory(self, outputs, args):
        """Count the memory of an operation's outputs that are new tensors (not an input returned,
        not a view of one): allocated now, freed when their array is."""
        for output in outputs if type(outputs) is tuple else (outputs,):
            if isinstance(output, Tensor) and output._base is None and not any(output is arg for arg in args):
                nbytes = output._array.nbytes
                self._add_memory(nbytes)
                weakref.finalize(output._array, self._freed, nbytes).atexit = False

    def _freed(self, nbytes):
        if _recording is not self:  # freed after this recording ended
            return
        if not self.open:  # freed outside every event: an instant "[memory]" event, as PyTorch's
            event = FunctionEvent("[memory]", (time.perf_counter_ns() - self.origin) / 1e3, None, None)
            event.cpu_memory_usage = -nbytes
            self.events.append(event)
        else:
            self._add_memory(-nbytes)

    def _add_memory(self, nbytes):
        for event in self.open:
            event.cpu_memory_usage += nbytes


_recording = None  # the _Recording of the active profile, while it records
_warned_events_cleared = False  # whether a profile's second cycle has warned that the first one's events are gone (once, as PyTorch)


@contextlib.contextmanager
def _span(name, args=()):
    """The block as an event named ``name`` (yielded; None outside a recording)."""
    recording = _recording
    if recording is None:
        yield None
        return
    event = recording.begin(name, args)
    try:
        yield event
    finally:
        recording.end(event)


class record_function(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """``with record_function("data loading"):`` (or as a decorator): the block is one event of
    that name in the profile, the operations inside it its children. Outside a profile, nothing."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self.event = None

    def __enter__(self):
        self.event = _recording.begin(self.name) if _recording is not None else None
        return self

    def __exit__(self, *exception):
        if self.event is not None and _recording is not None:
            _recording.end(self.event)
        self.event = None
        return False


def _event_name(cls):
    """The name of an operation's event, as PyTorch's profiler names the kernel: ``aten::mul`` for
    the operation whose node is MulBackward0 (``aten::addmm`` for Linear's AddmmBackward0); a custom
    Function by its class name."""
    if not cls.on_arrays:
        return cls.__name__
    node = re.sub(r"Backward\d*$", "", cls._backward_cls.__name__)
    return "aten::" + re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z0-9])(?=[A-Z][a-z])", "_", node).lower()


def _timed_apply(apply):
    def timed(cls, *args):
        recording = _recording
        mode = innermost_mode() if cls.on_arrays else None  # the call goes to it, and comes back through apply
        if recording is None or mode is not None and recording.flops is not None and mode is recording.flops.mode.operations:
            return apply.__func__(cls, *args)  # the profiler's own flop counting: timed when it comes back
        event = recording.begin(_event_name(cls), args)
        try:
            outputs = apply.__func__(cls, *args)
            if recording.profile_memory and mode is None:  # (else counted in the call that comes back, inside this one)
                recording.count_memory(outputs, args)
            if recording.flops is not None and event.name in ("aten::add", "aten::mul") and isinstance(args[0], Tensor):
                event.flops = args[0].numel()  # PyTorch's profiler counts an addition or product per element of the first operand
            return outputs
        finally:
            recording.end(event)
            recording.last_operation = event

    return classmethod(timed)


def _timed_backward(call_backward):
    def timed(node, grads, recording=False):
        with _span(f"autograd::engine::evaluate_function: {node.name()}") as event:
            if event is not None and _recording.flops is not None:
                event.flops, _recording.flops.backward_flops = _recording.flops.backward_flops, 0
            return call_backward(node, grads, recording)

    return timed


class _EventFlops(FlopCounterMode):
    """``with_flops``: the flops PyTorch's profiler counts, those of its matrix products (``mm``,
    ``addmm``, ``bmm``, ``baddbmm``) and 2-D convolutions, reckoned as ``FlopCounterMode`` does
    (which ATen calls PyTorch would run for each chainrule operation, once it has run), each added
    to that operation's event; a node's backward products, counted by its prehook just before the
    node's event opens, go to that event (``_timed_backward``)."""

    COUNTED = (aten.mm, aten.addmm, aten.bmm, aten.baddbmm)

    def __init__(self):
        super().__init__(display=False)
        self.backward_flops = 0

    def _count_flops(self, func_packet, out, args, kwargs):
        # a convolution's args: input, weight, bias (shapes), stride, padding, dilation, transposed, ...
        conv2d = func_packet is aten.convolution and len(args[0]) == 4 and not args[6]
        if _recording is None or not (func_packet in self.COUNTED or conv2d):
            return out
        flops = self.flop_registry[func_packet](*args, **kwargs, out_val=out)
        if self.mode.operations.nodes_running:
            self.backward_flops += flops
        elif _recording.last_operation is not None:
            _recording.last_operation.flops += flops
        return out


class _Instrumented:
    """The timing wrappers in place: Function.apply, the engine's call of a node's backward, and
    hooks around every optimizer step; taken out again by ``remove``."""

    def __init__(self):
        self.apply, self.call_backward = Function.__dict__["apply"], engine.call_backward
        Function.apply = _timed_apply(self.apply)
        engine.call_backward = _timed_backward(self.call_backward)
        self.steps = []
        self.handles = [register_optimizer_step_pre_hook(self._step_begins), register_optimizer_step_post_hook(self._step_ends)]

    def _step_begins(self, optimizer, args, kwargs):
        if _recording is not None:
            name = type(optimizer).__name__
            self.steps.append(_recording.begin(f"Optimizer.step#{name}.step"))

    def _step_ends(self, optimizer, args, kwargs):
        if _recording is not None and self.steps:
            _recording.end(self.steps.pop())

    def remove(self):
        Function.apply, engine.call_backward = self.apply, self.call_backward
        for handle in self.handles:
            handle.remove()


class profile:  # noqa: N801 (PyTorch's name)
    """Time the operations of a block (see the module docstring), as ``torch.profiler.profile``::

        with profile(record_shapes=True) as prof:
            with record_function("forward"):
                loss = model(x).square().mean()
            loss.backward()
        print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

    With a ``schedule``, ``prof.step()`` ends each training step, and only the steps the schedule
    marks are recorded; ``on_trace_ready(prof)`` is called with each recorded cycle (or once at the
    end, without a schedule). ``profile_memory`` adds the memory of the tensors each operation makes
    and frees (see ``_Recording``); ``with_flops`` the flops PyTorch's profiler counts (see
    ``_EventFlops``). ``activities`` other than the CPU, ``with_stack`` and ``with_modules`` are
    accepted and record nothing more.
    """

    def __init__(
        self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False, profile_memory=False,
        with_stack=False, with_flops=False, with_modules=False, experimental_config=None, execution_trace_observer=None,
        acc_events=False, use_cuda=None, custom_trace_id_callback=None,
    ):
        self.activities = set(activities) if activities is not None else supported_activities()
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_flops = with_flops
        self._flops = None  # the _EventFlops counting while the profile runs, with ``with_flops``
        self.acc_events = acc_events
        self.step_num = 0
        self._step_range = None  # the record_function of the step running now (with a schedule)
        self.current_action = None
        self._instrumented = None
        self._events = EventList()

    # ----------------------------------------------------------------- starting and stopping
    def start(self):
        if self._instrumented is not None:
            raise RuntimeError("the profiler is already started; call stop() first")
        if self.with_flops:
            self._flops = _EventFlops().__enter__()
        self._instrumented = _Instrumented()
        self.current_action = self.schedule(self.step_num) if self.schedule is not None else ProfilerAction.RECORD
        if self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._begin_recording()
        self._mark_step()

    def stop(self):
        if self._instrumented is None:
            return
        self._end_step()
        if _recording is not None:
            self._end_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        self._instrumented.remove()
        self._instrumented = None
        if self._flops is not None:
            self._flops.__exit__(None, None, None)
            self._flops = None

    def step(self):
        """End a training step: move to the schedule's action for the next one."""
        self._end_step()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num) if self.schedule is not None else ProfilerAction.RECORD
        if previous == ProfilerAction.RECORD_AND_SAVE:
            self._end_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) and _recording is None:
            self._begin_recording()
        elif self.current_action in (ProfilerAction.NONE, ProfilerAction.WARMUP) and _recording is not None:
            self._end_recording()
        self._mark_step()

    def _mark_step(self):
        """With a schedule, each step is an event of its own, ``ProfilerStep#<step>`` (added up as
        ``ProfilerStep*``), as PyTorch marks them."""
        if self.schedule is not None:
            self._step_range = record_function(f"ProfilerStep#{self.step_num}").__enter__()

    def _end_step(self):
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    def _begin_recording(self):
        """Start a cycle's recording; the earlier cycles' events are kept with ``acc_events``, else
        dropped (with PyTorch's warning, once)."""
        global _recording, _warned_events_cleared
        if _recording is not None:
            raise RuntimeError("Profiler is already enabled on this thread: profiles cannot be nested")
        if self._events and not self.acc_events and not _warned_events_cleared:
            _warned_events_cleared = True
            warnings.warn(
                "Warning: Profiler clears events at the end of each cycle. Only events from the current cycle will be "
                "reported. To keep events across cycles, set acc_events=True.", UserWarning, stacklevel=3,
            )
        _recording = _Recording(self.record_shapes, self.profile_memory, self._flops)
        if self.acc_events:
            _recording.events[:0] = self._events
        self._events = _recording.events

    def _end_recording(self):
        global _recording
        _recording = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exception):
        self.stop()

    # ----------------------------------------------------------------- results
    def events(self):
        """Every event of the last recording, in the order they began."""
        return self._events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """The events added up by name (and input shapes): print them with ``.table()``."""
        return self._events.key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path):
        """The events as a Chrome trace (JSON), for chrome://tracing, Perfetto or TensorBoard."""
        self._events.export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Each event's Python stack and its ``metric`` as flame-graph lines (``outer;...;inner
        value``), as PyTorch writes them; events without a recorded stack are left out (chainrule
        records none, as PyTorch without ``experimental_config=_ExperimentalConfig(verbose=True)``)."""
        with open(path, "w") as file:
            for event in self._events:
                if event.stack:
                    file.write(";".join(reversed(event.stack)) + f" {int(getattr(event, metric))}\n")

    @property
    def self_cpu_time_total(self):
        return self._events.self_cpu_time_total
