"""``chainrule.fx``, as ``torch.fx``: so far its ``wrap``, which model code calls at import time.

Libraries mark the functions a symbolic tracer should record as one call, not trace through, with
``@torch.fx.wrap`` at the top level of their modules (timm's attention and position embeddings do
on import). chainrule has no symbolic tracer (``chainrule.compile`` records a step as it runs): the
registry is kept, as PyTorch keeps it, for a tracer to read.
"""
import inspect

__all__ = ["wrap"]

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
