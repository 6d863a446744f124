"""``chainrule._dynamo``, as ``torch._dynamo``: the names tutorials reach for around ``compile``.

``reset()`` (the torch.compile tutorial calls it between experiments), ``config.cache_size_limit``
(or ``recompile_limit``: how many recordings a compiled function keeps before running eagerly),
``mark_dynamic`` and its kin, ``optimize`` (PyTorch 2.0's decorator, before ``torch.compile``),
and ``disable``, ``allow_in_graph``, ``is_compiling``, which ``chainrule.compiler`` holds.

A recording specializes every shape: a call with a new size records anew, as ``torch.compile``
does with ``dynamic=False``. ``mark_dynamic``, ``maybe_mark_dynamic`` and ``mark_static`` are
therefore accepted and change nothing. A call that cannot be recorded always runs eagerly, with a
warning (``fullgraph=True`` raises instead), which is what ``config.suppress_errors = True`` asks
PyTorch for.
"""
import dataclasses
import sys
import types
import warnings

from chainrule.compile import OptimizedModule
from chainrule.compile import compile as _compile
from chainrule.compile.compiled import CompiledFunction
from chainrule.compiler import allow_in_graph, assume_constant_result, disable, is_compiling, list_backends, reset
from chainrule.creation import tensor
from chainrule.dtypes import int64
from chainrule.overrides import TorchFunctionMode
from chainrule.tensor import Tensor
from chainrule.utils._pytree import tree_leaves

__all__ = [
    "ExplainOutput", "OptimizedModule", "allow_in_graph", "assume_constant_result", "config", "disable", "explain",
    "graph_break", "is_compiling", "list_backends", "mark_dynamic", "mark_static", "mark_static_address",
    "maybe_mark_dynamic", "optimize", "reset",
]


class _Config:
    """``torch._dynamo.config``'s settings that mean something here; setting another raises
    AttributeError, as PyTorch does for a name it does not have."""

    _SETTINGS = {"suppress_errors": False, "verbose": False, "capture_scalar_outputs": False,
                 "automatic_dynamic_shapes": True, "assume_static_by_default": True,
                 "accumulated_cache_size_limit": 256, "optimize_ddp": True}

    def __init__(self):
        object.__setattr__(self, "_values", dict(self._SETTINGS))

    @property
    def cache_size_limit(self):
        """Recordings a compiled function keeps (8, as PyTorch); past it, it runs eagerly."""
        return CompiledFunction.cache_size_limit

    @cache_size_limit.setter
    def cache_size_limit(self, limit):
        CompiledFunction.cache_size_limit = limit

    recompile_limit = cache_size_limit  # PyTorch's newer name for it

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"chainrule._dynamo.config.{name} does not exist") from None

    def __setattr__(self, name, value):
        if name in ("cache_size_limit", "recompile_limit"):
            object.__setattr__(self, name, value)
        elif name in self._values:
            self._values[name] = value
        else:
            raise AttributeError(f"chainrule._dynamo.config.{name} does not exist")


config = _Config()


def mark_dynamic(t, index, *, hint_override=None, min=None, max=None, specialize_on=None):  # noqa: A002 (PyTorch's names)
    """Accepted, as ``torch._dynamo.mark_dynamic``: a recording specializes every size, so a new
    size of dimension ``index`` of ``t`` records anew (see the module's docstring)."""


def maybe_mark_dynamic(t, index):
    """Accepted, as ``torch._dynamo.maybe_mark_dynamic``; see ``mark_dynamic``."""


def mark_static(t, index=None):
    """Accepted, as ``torch._dynamo.mark_static``: every size is static here already."""


def mark_static_address(t, guard=False):
    """Accepted, as ``torch._dynamo.mark_static_address`` (a tensor kept at one address across
    calls, such as a static KV cache): a recording reads its tensors wherever they are."""
    if not isinstance(t, Tensor):
        raise TypeError(f"mark_static_address expects a tensor but received {type(t)}")


def graph_break(msg=""):
    """Accepted, as ``torch._dynamo.graph_break``: a recording has no graph to break (it runs the
    whole call, and replays it), so nothing happens."""


def optimize(*args, **kwargs):
    """``optimize(backend)(fn)``, as ``torch._dynamo.optimize``: the decorator PyTorch 2.0's
    tutorials used before ``torch.compile``, which it now stands for (``nopython=True`` is
    ``fullgraph=True``, a function or a Module as ``compile`` takes them). As in PyTorch it is not a
    context manager: ``with optimize(...):`` raises RuntimeError."""
    return _Optimize(*args, **kwargs)


class _Optimize:
    """What ``optimize`` returns: a decorator with PyTorch's keywords (those about its own guards
    and caches are accepted and change nothing)."""

    def __init__(
        self, backend="inductor", *, nopython=False, error_on_graph_break=None, guard_export_fn=None,
        guard_fail_fn=None, guard_filter_fn=None, disable=False, dynamic=None, package=None, recompile_limit=None,
        isolate_recompiles=False, shapes_spec=None,
    ):
        self.decorate = _compile(fullgraph=nopython, dynamic=dynamic, backend=backend, disable=disable)
        self.recompile_limit = recompile_limit

    def __call__(self, fn):
        compiled = self.decorate(fn)
        if self.recompile_limit is not None and isinstance(compiled, CompiledFunction):
            compiled.cache_size_limit = self.recompile_limit
        return compiled

    def __enter__(self):
        raise RuntimeError(
            "chainrule._dynamo.optimize(...) is used with a context manager. Use it as a decorator, "
            "optimize(backend)(fn), or call chainrule.compile(fn)."
        )

    def __exit__(self, *exc_info):
        return False


@dataclasses.dataclass
class ExplainOutput:
    """What ``explain`` found, in ``torch._dynamo.ExplainOutput``'s fields: one program
    (``graphs`` holds its source) when the call records; none, and the reason, when it runs eagerly."""

    graphs: list
    graph_count: int
    graph_break_count: int
    break_reasons: list
    op_count: int
    ops_per_graph: list = None
    out_guards: list = None
    compile_times: str = None

    def __str__(self):
        lines = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}", f"Op Count: {self.op_count}"]
        lines += ["Break Reasons:", *(f"  Break Reason 1:\n    Reason: {reason}" for reason in self.break_reasons)]
        return "\n".join(lines) + "\n"


def explain(f, *extra_args, **extra_kwargs):
    """``explain(f)(*args)``, as ``torch._dynamo.explain``: ``f`` recorded afresh on those arguments
    (it runs once), and what came of it: the program, or why the call has to run eagerly. (The
    older form ``explain(f, *args)`` calls it at once.)"""

    def inner(*args, **kwargs):
        compiled = CompiledFunction(f)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the reason is returned, not warned
            compiled(*args, **kwargs)
        code = compiled.code
        reasons = [] if compiled.eager_reason is None else [compiled.eager_reason]
        lines = [] if code is None else [line.strip() for line in code.splitlines()]
        operations = sum(1 for line in lines if "  # " in line and not line.startswith(("with ", "def ", "return ")))
        return ExplainOutput([] if code is None else [code], int(code is not None), len(reasons), reasons, operations)

    if extra_args or extra_kwargs:
        return inner(*extra_args, **extra_kwargs)
    return inner


# torch._dynamo.eval_frame, where PyTorch defines OptimizedModule (``isinstance(m,
# torch._dynamo.eval_frame.OptimizedModule)`` tells a compiled model in accelerate and transformers)
eval_frame = types.ModuleType(f"{__name__}.eval_frame", "torch._dynamo.eval_frame's OptimizedModule")
eval_frame.OptimizedModule = OptimizedModule
sys.modules[eval_frame.__name__] = eval_frame


class TransformGetItemToIndex(TorchFunctionMode):
    """Inside ``with TransformGetItemToIndex():``, ``x[i, j]`` with int and tensor indices
    indexes with tensors (each int becomes a 0-d int64 tensor): the result is gathered, not a view
    read through ``int(index)``, so a function of index tensors (an attention-mask function, under
    ``vmap``) can index with them. transformers' mask building enters it around ``vmap``."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is Tensor.__getitem__:
            indexed, index = args
            positions = tree_leaves(index)
            if all(isinstance(position, (Tensor, int)) for position in positions):
                return indexed[tuple(position if isinstance(position, Tensor) else tensor(position, dtype=int64)
                                     for position in positions)]
        return func(*args, **(kwargs or {}))


# torch._dynamo._trace_wrapped_higher_order_op, where PyTorch defines TransformGetItemToIndex
_trace_wrapped_higher_order_op = types.ModuleType(f"{__name__}._trace_wrapped_higher_order_op",
                                                  "torch._dynamo._trace_wrapped_higher_order_op's TransformGetItemToIndex")
_trace_wrapped_higher_order_op.TransformGetItemToIndex = TransformGetItemToIndex
sys.modules[_trace_wrapped_higher_order_op.__name__] = _trace_wrapped_higher_order_op
