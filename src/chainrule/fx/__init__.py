"""``chainrule.fx``, as ``torch.fx``: so far its ``wrap``, which model code calls at import time, and
the name of ``GraphModule``, which code annotates with (Lightning's ``to_tensorrt``).

Libraries mark the functions a symbolic tracer should record as one call, not trace through, with
``@torch.fx.wrap`` at the top level of their modules (timm's attention and position embeddings do
on import). chainrule has no symbolic tracer (``chainrule.compile`` records a step as it runs): the
registry is kept, as PyTorch keeps it, for a tracer to read.
"""
import inspect

from chainrule.nn.module import Module

__all__ = ["GraphModule", "wrap"]

#: ``{(id of a module's globals, function name): those globals}``: the functions ``wrap`` registered.
wrapped_functions = {}


def wrap(fn_or_name):
    """Register the global function ``fn_or_name`` (or the name of one) of the calling module as a
    leaf of symbolic tracing, and return it unchanged. Called, as in PyTorch, at a module's top
    level only (as a decorator or a statement)."""
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError("Unsupported type for global function! Must be either a callable or string name")
    name = fn_or_name if isinstance(fn_or_name, str) else fn_or_name.__name__
    caller = inspect.currentframe().f_back
    if caller.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    wrapped_functions[(id(caller.f_globals), name)] = caller.f_globals
    return fn_or_name


class GraphModule(Module):
    """``torch.fx.GraphModule``, a module made of a traced graph: chainrule has no symbolic
    tracer, so none is made (no module is one); the name is there for annotations and
    ``isinstance`` checks."""

    def __init__(self, root, graph, class_name="GraphModule"):
        raise NotImplementedError(
            "torch.fx.GraphModule: chainrule has no symbolic tracer, so it has no fx graphs to run; call the "
            "module itself (chainrule.compile(module) records and replays its computation)"
        )
