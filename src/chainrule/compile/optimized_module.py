"""``OptimizedModule``: what ``chainrule.compile(module)`` returns, as ``torch.compile(module)`` does.

A Module that holds the original as its submodule ``_orig_mod``, so that what course code does with
a compiled model works as on the model: ``model.parameters()`` for the optimizer, ``model.train()`` /
``model.eval()``, ``model.state_dict()`` (its keys begin with ``_orig_mod.``, as PyTorch's do;
``model._orig_mod.state_dict()`` gives the original's), and any attribute of the original
(``model.in_features``). Calling it runs the compiled call of the original (``CompiledFunction``),
whose program ``model.code`` shows.
"""
from chainrule.nn.module import Module


class OptimizedModule(Module):
    def __init__(self, mod, compiled_call):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled_call", compiled_call)  # not a submodule: its recordings are its own

    def forward(self, *args, **kwargs):
        return self._compiled_call(*args, **kwargs)

    def __len__(self):  # a container's length (PyTorch's forwards it too; indexing it does not)
        return len(self._modules["_orig_mod"])

    def __getattr__(self, name):
        """A submodule's, parameter's or buffer's; else the original module's attribute; else the
        compiled call's (``model.code``, the program; ``model.recordings``; ``model.eager_reason``)."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            pass
        original = self._modules["_orig_mod"]
        if hasattr(original, name):
            return getattr(original, name)
        if hasattr(self._compiled_call, name):
            return getattr(self._compiled_call, name)
        raise AttributeError(f"'OptimizedModule' object has no attribute '{name}' (nor has the {type(original).__name__} it compiles)")
