"""Containers: modules that hold other modules.

- ``Sequential``: a pipeline; ``forward`` feeds each module's output to the next.
- ``ModuleList``: a list of modules whose parameters are registered (a plain Python list hides them
  from ``parameters()``, the usual reason an optimizer "does not train" a layer).
- ``ModuleDict``: the same as a dict.
"""
from collections import OrderedDict
from itertools import groupby

from chainrule.nn.module import Module, _indent, _tree_repr


class _ModuleSequence(Module):
    """The list behaviour Sequential and ModuleList share: positional indexing, len, iteration."""

    def _key_at(self, index):
        """The registry key of the module at position ``index`` (negative counts from the end)."""
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for {self._get_name()} of length {size}")
        return list(self._modules)[index % size]

    def _renumber(self, modules):
        """Hold exactly ``modules``, keyed "0", "1", ... (after a deletion or insertion)."""
        self._modules.clear()
        for position, module in enumerate(modules):
            self._modules[str(position)] = module

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._slice(index)
        return self._modules[self._key_at(index)]

    def __setitem__(self, index, module):
        setattr(self, self._key_at(index), module)

    def __delitem__(self, index):
        keys = list(self._modules)[index] if isinstance(index, slice) else [self._key_at(index)]
        for key in keys:
            del self._modules[key]
        self._renumber(list(self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Add each of ``modules`` at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise TypeError(f"{self._get_name()}.insert: expected a Module, got {type(module).__name__}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)


class Sequential(_ModuleSequence):
    """Modules applied one after another: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))``.

    Built from modules (named "0", "1", ...) or from an ``OrderedDict`` of named modules. Indexing
    with an int gives a module; with a slice, a new Sequential of those modules.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for position, module in enumerate(args):
                self.add_module(str(position), module)

    def _slice(self, index):
        return Sequential(OrderedDict(list(self._modules.items())[index]))

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules, each registered (so ``parameters()`` finds them); has no ``forward``."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _slice(self, index):
        return ModuleList(list(self._modules.values())[index])

    def __repr__(self):
        """Runs of identical modules print once: ``(0-2): 3 x Linear(...)``, as PyTorch prints."""
        lines = []
        position = 0
        for text, run in groupby(repr(module) for module in self):
            count = len(list(run))
            label = f"({position}): " if count == 1 else f"({position}-{position + count - 1}): {count} x "
            lines.append(_indent(label + text, 2))
            position += count
        return _tree_repr(self._get_name(), [], lines)


class ModuleDict(Module):
    """A dict of modules, each registered under its key (in insertion order)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self._modules[key]
        del self._modules[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add the modules of a mapping, or of an iterable of ``(key, module)`` pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(f"ModuleDict.update: each element must be a (key, module) pair, got {pair!r}")
            self[pair[0]] = pair[1]
