"""Containers: modules that hold other modules.

- ``Sequential``: a pipeline; ``forward`` feeds each module's output to the next.
- ``ModuleList``: a list of modules whose parameters are registered (a plain Python list hides them
  from ``parameters()``, the usual reason an optimizer "does not train" a layer).
- ``ModuleDict``: the same as a dict.
- ``ParameterList`` and ``ParameterDict``: the same for parameters (tensors put in are made
  Parameters), registered under their positions "0", "1", ... or their keys.
- ``Container``: PyTorch's deprecated module built from keyword modules (subclass Module instead).
"""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from itertools import groupby

from chainrule.caller_warnings import warn_at_caller
from chainrule.nn.module import Module, _indent, _tree_repr
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor


_DEPRECATED_CONTAINER = (
    "`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. Subclass that instead."
)


class Container(Module):
    """PyTorch's deprecated holder of the keyword modules it is built with:
    ``Container(encoder=Linear(4, 8), decoder=Linear(8, 4))`` registers ``encoder`` then ``decoder``.

    Making one (built, copied or unpickled) or defining a subclass warns FutureWarning, as
    PyTorch's does; a plain Module (``self.encoder = Linear(4, 8)``) does the same without it.
    """

    def __init_subclass__(cls, **kwargs):
        warn_at_caller(_DEPRECATED_CONTAINER, FutureWarning)
        super().__init_subclass__(**kwargs)

    def __new__(cls, *args, **kwargs):
        # In __new__, as PyTorch's: copies and unpickled ones warn too. A subclass's instances do
        # not: it warned once, when it was defined.
        if cls is Container:
            warn_at_caller(_DEPRECATED_CONTAINER, FutureWarning)
        return super().__new__(cls)

    def __init__(self, **modules):
        super().__init__()
        for name, module in modules.items():
            self.add_module(name, module)


def _position(index, size, container_name):
    """``index`` as a position from 0 to ``size - 1`` (negative counts from the end). As PyTorch's,
    it is read by ``operator.index``: an int, a bool, a NumPy int or a one-element integer tensor;
    a float raises TypeError."""
    index = operator.index(index)
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of range for {container_name} of length {size}")
    return index % size


class _ModuleSequence(Module):
    """The list behaviour Sequential and ModuleList share: positional indexing, len, iteration."""

    def _key_at(self, index):
        """The registry key of the module at position ``index`` (negative counts from the end)."""
        return list(self._modules)[_position(index, len(self._modules), self._get_name())]

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

    def pop(self, index):
        """Remove the module at ``index`` (a slice gives a container of them) and return it."""
        removed = self[index]
        del self[index]
        return removed


class Sequential(_ModuleSequence):
    """Modules applied one after another: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))``.

    Built from modules (named "0", "1", ...) or from an ``OrderedDict`` of named modules. Indexing
    with an int gives a module; with a slice, a new one of this class holding those modules under
    their keys.
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
        # self.__class__, as PyTorch: a subclass's slice is that subclass, built from an OrderedDict.
        return self.__class__(OrderedDict(list(self._modules.items())[index]))

    def insert(self, index, module):
        """Put ``module`` before position ``index``, from ``-len(self)`` to ``len(self)``; returns
        self. As PyTorch's Sequential, a non-module raises AssertionError (checked first), a
        position out of range IndexError."""
        if not isinstance(module, Module):
            raise AssertionError(f"Sequential.insert: module should be of type Module, got {type(module).__name__}")
        if not -len(self) <= index <= len(self):
            raise IndexError(f"Sequential.insert: index {index} is out of range for length {len(self)}")
        super().insert(index, module)
        return self

    def _other_sequential(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return other

    def __add__(self, other):
        """A new Sequential: this one's modules, then ``other``'s (both must be Sequential)."""
        return Sequential(*self, *self._other_sequential(other))

    def __iadd__(self, other):
        return self.extend(self._other_sequential(other))

    def _repeat_count(self, factor):
        if not isinstance(factor, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(factor)}")
        if factor <= 0:
            raise ValueError(f"Non-positive multiplication factor {factor} for {type(self)}")
        return factor

    def __mul__(self, factor):
        """A new Sequential holding this one's modules ``factor`` times (the same modules, shared)."""
        return Sequential(*(list(self) * self._repeat_count(factor)))

    def __rmul__(self, factor):
        return self.__mul__(factor)

    def __imul__(self, factor):
        return self.extend(list(self) * (self._repeat_count(factor) - 1))

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
        # self.__class__, as PyTorch: a subclass's slice is that subclass.
        return self.__class__(list(self._modules.values())[index])

    def __add__(self, other):
        """A new ModuleList: this one's modules, then those of the iterable ``other``."""
        return ModuleList([*self, *other])

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


def _as_parameter(value):
    """A tensor put in a ParameterList or ParameterDict becomes a Parameter (sharing its memory)."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


def _entry_line(label, value, type_name):
    """One printed entry: ``(label): Parameter containing: [float32 of size 2x3]``, as PyTorch prints."""
    if not isinstance(value, Tensor):
        return f"  ({label}): Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    size = "x".join(str(size) for size in value.shape)
    return f"  ({label}): {kind} containing: [{type_name(value)} of size {size}]"


class ParameterList(Module):
    """A list of parameters, each registered under its position ("0", "1", ...) so that
    ``parameters()`` finds them: ``ParameterList([Parameter(chainrule.randn(3, 3)) for _ in range(4)])``.
    Tensors put in become Parameters; other objects are kept as they are. It has no ``forward``."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _key_at(self, index):
        """The attribute name of position ``index`` (negative counts from the end)."""
        return str(_position(index, len(self), "ParameterList"))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self[position] for position in range(*index.indices(len(self))))
        return getattr(self, self._key_at(index))

    def __setitem__(self, index, value):
        setattr(self, self._key_at(index), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[position] for position in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        """Add ``value`` at the end; returns self."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        """Add each of ``values`` at the end; returns self."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(_entry_line(position, value, lambda tensor: f"{tensor.dtype}") for position, value in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters, each registered under its key: ``ParameterDict({"left": ..., "right": ...})``.

    Tensors put in become Parameters. As PyTorch's, a plain ``dict`` is added in sorted key order,
    an ``OrderedDict``, another ParameterDict or a sequence of (key, value) pairs in their own order.
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key):
        if not isinstance(key, str):
            raise TypeError(
                f"Index given to ParameterDict cannot be used as a key as it is not a string (type is "
                f"'{type(key).__name__}'); use string keys"
            )
        return key

    def __getitem__(self, key):
        return getattr(self, self._check_key(key))

    def __setitem__(self, key, value):
        self._keys[key] = None
        setattr(self, self._check_key(key), _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, self._check_key(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        """``other | self``: a copy of ``other`` (``other.copy()``: a dict stays a dict) updated
        with this one's entries, as PyTorch's."""
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def copy(self):
        """A new ParameterDict holding the same parameters in the same order."""
        return ParameterDict(OrderedDict(self.items()))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last (key, value) pair added; KeyError when empty, as dict.popitem."""
        if not self._keys:
            raise KeyError("ParameterDict.popitem(): the ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with ``keys``, each holding ``default``."""
        return ParameterDict((key, default) for key in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def values(self):
        return (self[key] for key in self._keys)

    def update(self, parameters):
        """Add (or replace) the entries of a mapping, or of an iterable of (key, value) pairs."""
        if not isinstance(parameters, Iterable):
            raise TypeError(
                f"ParametersDict.update should be called with an iterable of key/value pairs, but got "
                f"{type(parameters).__name__}"
            )
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = list(parameters)
        for position, pair in enumerate(pairs):
            if not isinstance(pair, Iterable):
                raise TypeError(f"ParameterDict update sequence element #{position} should be Iterable; is{type(pair).__name__}")
            if len(pair) != 2:
                raise ValueError(f"ParameterDict update sequence element #{position} has length {len(pair)}; 2 is required")
            self[pair[0]] = pair[1]

    def extra_repr(self):
        return "\n".join(_entry_line(key, value, lambda tensor: tensor.type()) for key, value in self.items())

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")
