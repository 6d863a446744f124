"""``OptimizedModule``: what ``chainrule.compile(module)`` returns, as ``torch.compile(module)`` does.

A Module that holds the original as its submodule ``_orig_mod``, so that what course code does with
a compiled model works as on the model: ``model.parameters()`` for the optimizer, ``model.train()`` /
``model.eval()``, ``model.state_dict()`` (its keys begin with ``_orig_mod.``, as PyTorch's do;
``model._orig_mod.state_dict()`` gives the original's), and any attribute of the original
(``model.in_features``). Calling it runs the compiled call of the original (``CompiledFunction``),
whose program ``model.code`` shows.
"""
import functools

from chainrule.nn.module import Module


class OptimizedModule(Module):
    _own = ("_orig_mod", "_compiled_call", "_super_module_initialized")  # the wrapper's; the rest is the original's

    def __init__(self, mod, compiled_call):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled_call", compiled_call)  # not a submodule: its recordings are its own
        object.__setattr__(self, "_super_module_initialized", True)

    @property
    def training(self):
        """The original's mode: ``model.eval()`` on either is seen by both, as in PyTorch."""
        return self._modules["_orig_mod"].training

    @training.setter
    def training(self, mode):
        if self.__dict__.get("_super_module_initialized"):  # Module.__init__ sets the default first
            self._modules["_orig_mod"].training = mode

    def __setattr__(self, name, value):
        """Set on the original (``model.fc = nn.Linear(8, 3)``, ``model.scale = 0.5``, which its
        forward reads), as PyTorch's wrapper does; the wrapper's own names and its class's on itself."""
        if not self.__dict__.get("_super_module_initialized") or name in self._own or hasattr(type(self), name):
            super().__setattr__(name, value)
        else:
            setattr(self._modules["_orig_mod"], name, value)

    def __delattr__(self, name):
        if name in self._own:
            super().__delattr__(name)
        else:
            delattr(self._modules["_orig_mod"], name)

    def forward(self, *args, **kwargs):
        return self._compiled_call(*args, **kwargs)

    @property
    def dynamo_ctx(self):
        """What compiles a function as this module was compiled (its ``fullgraph`` and ``dynamic``):
        ``model.dynamo_ctx(fn)`` is a compiled ``fn``, as PyTorch's context decorates (Lightning's
        ``from_compiled`` compiles a LightningModule's steps with it)."""
        compiled = self._compiled_call
        return functools.partial(type(compiled), fullgraph=compiled.fullgraph, dynamic=compiled.dynamic)

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
