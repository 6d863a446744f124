"""``chainrule.compiler``, as ``torch.compiler``: controls for ``chainrule.compile``.

``reset()`` makes every compiled function record anew; ``disable`` marks a function that a compiled
step must not record (a step calling it runs eagerly, as PyTorch breaks its graph there);
``is_compiling()`` is True while a call is being recorded; ``set_stance`` runs compiled functions
eagerly (``"force_eager"``), or refuses (``"fail_on_recompile"``) or skips (``"eager_on_recompile"``)
a new recording once one exists.
"""
import contextlib
import functools

from chainrule.autograd import function as function_module
from chainrule.compile import BACKENDS, compile
from chainrule.compile.compiled import CompiledFunction

__all__ = [
    "allow_in_graph", "assume_constant_result", "compile", "cudagraph_mark_step_begin", "disable", "is_compiling", "is_dynamo_compiling",
    "is_exporting", "list_backends", "reset", "set_stance", "substitute_in_graph",
]

_STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile")


def reset():
    """Every compiled function forgets its recordings (and why it ran eagerly)."""
    for compiled in list(CompiledFunction.alive):
        compiled.reset()


def is_compiling():
    """True while ``chainrule.compile`` records a call (the function runs to be traced), else False."""
    return function_module._recorder is not None


is_dynamo_compiling = is_compiling


def is_exporting():
    """False: chainrule exports no graphs (``torch.export``)."""
    return False


def disable(fn=None, recursive=True, *, reason=None):
    """``fn`` (or, without it, a decorator) that no recording takes in: a compiled function that calls
    it runs eagerly from then on, with a warning naming it (and ``reason``)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)

    @functools.wraps(fn)
    def not_recorded(*args, **kwargs):
        recorder = function_module._recorder
        if recorder is not None:
            why = f": {reason}" if reason else ""
            recorder.fail(f"calls {getattr(fn, '__name__', fn)!s}, marked chainrule.compiler.disable{why}")
        return fn(*args, **kwargs)

    return not_recorded


def allow_in_graph(fn):
    """``fn`` unchanged: a recording takes in whatever array work a function does."""
    return fn


def assume_constant_result(fn):
    """``fn`` unchanged (a recording reads the values it depends on at each call)."""
    return fn


def substitute_in_graph(original_fn, *, can_constant_fold_through=False, skip_signature_check=False):
    """A decorator returning its function unchanged: recordings need no substitutes."""
    return lambda fn: fn


def cudagraph_mark_step_begin():
    """Accepted, as ``torch.compiler.cudagraph_mark_step_begin`` (PyTorch's reduce-overhead
    examples call it before each step): there are no CUDA graphs to mark here."""


def list_backends(exclude_tags=("debug", "experimental")):
    """The backends ``compile`` takes by name, as ``torch.compiler.list_backends``: chainrule's
    own and PyTorch's main ones (every name PyTorch knows, debugging ones too, is accepted and
    means chainrule's recording); with ``exclude_tags`` empty, all of them."""
    if exclude_tags:
        return ["chainrule", "cudagraphs", "inductor", "openxla", "tvm"]
    return sorted(BACKENDS)


class set_stance(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """How compiled functions behave from now on (or within a ``with`` block, or a decorated
    function): ``"default"``; ``"force_eager"`` (run eagerly, record nothing); ``"eager_on_recompile"``
    (replay what is recorded, run eagerly instead of recording anew); ``"fail_on_recompile"`` (raise
    instead of recording anew)."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        if stance not in _STANCES:
            raise RuntimeError(f"invalid torch.compile stance {stance!r}: expected one of {', '.join(_STANCES)}")
        self.stance = stance
        self._restored = [CompiledFunction.stance]  # what each block gives back as it ends, innermost last
        self._entered_by_constructor = True  # ``with set_stance(...)``: the constructor has set the stance already
        CompiledFunction.stance = stance

    def __call__(self, function):  # as a decorator: the stance holds only while the function runs
        CompiledFunction.stance = self._restored.pop()
        self._entered_by_constructor = False
        return super().__call__(function)

    def __enter__(self):
        if self._entered_by_constructor:
            self._entered_by_constructor = False
        else:  # a call of the decorated function: the stance in force at that call comes back after it
            self._restored.append(CompiledFunction.stance)
            CompiledFunction.stance = self.stance
        return self

    def __exit__(self, *exception):
        CompiledFunction.stance = self._restored.pop()
        return False
