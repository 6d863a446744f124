"""``torch.ops.aten``: PyTorch's built-in operators reached by their ATen names, as code writes them
when it calls one directly (``torch.ops.aten.add.Tensor(a, b)``) or keeps a table of handlers per
operator (a ``__torch_dispatch__`` subclass's, such as PyG's ``Index`` and ``EdgeIndex``, built when
its module is imported).

``aten.<name>`` is an ``AtenPacket`` and ``aten.<name>.<overload>`` an ``AtenOverload``: the same
object at each access (so it keys a dict), printed ``aten.add.Tensor``, named ``aten::add.Tensor``.
Calling either runs chainrule's function of that name (``chainrule.<name>``, else the Tensor method,
``add_``), which tells PyTorch's overloads apart by their arguments, as PyTorch's Python functions
do; the ATen names with no function of their own (``_to_copy``, ``alias``, ``slice``, ``index``)
are written below. chainrule does not list every ATen name: one it does not compute still gives
its packet and overloads, so that such a table can be built, and raises NotImplementedError when
called.
"""
import chainrule
from chainrule.tensor import Tensor


def _to_copy(input, *, dtype=None, layout=None, device=None, pin_memory=None, non_blocking=False, memory_format=None):
    """A new tensor holding ``input`` converted to ``dtype`` on ``device`` (a copy even when neither changes)."""
    return input.to(device=device, dtype=dtype, non_blocking=non_blocking, copy=True)


def alias(input):
    """A view of all of ``input``."""
    return input.view_as(input)


def slice_along(input, dim=0, start=None, end=None, step=1):
    """``input[..., start:end:step]`` along dimension ``dim`` (a view): ATen's ``slice``."""
    return input[(slice(None),) * (dim % input.dim()) + (slice(start, end, step),)]


def index(input, indices):
    """``input`` indexed by ``indices``, one tensor (or None: the whole dimension) per leading
    dimension, as ``input[i0, i1, ...]``."""
    return input[tuple(slice(None) if each is None else each for each in indices)]


_ATEN_ONLY = {"_to_copy": _to_copy, "alias": alias, "slice": slice_along, "index": index}


def _function_of(name):
    """What computes ATen's ``name`` in chainrule, or None."""
    function = _ATEN_ONLY.get(name) or getattr(chainrule, name, None) or getattr(Tensor, name, None)
    return function if callable(function) and not isinstance(function, type) else None


class AtenOverload:
    """One overload of an ATen operator (PyTorch's ``torch._ops.OpOverload``)."""

    def __init__(self, packet, overload_name):
        self.overloadpacket, self._overloadname = packet, overload_name

    def name(self):
        """``aten::add.Tensor``; ``aten::clone`` for a default overload."""
        suffix = "" if self._overloadname == "default" else f".{self._overloadname}"
        return f"aten::{self.overloadpacket.__name__}{suffix}"

    def __str__(self):
        return f"aten.{self.overloadpacket.__name__}.{self._overloadname}"

    def __repr__(self):
        return f"<OpOverload(op='aten.{self.overloadpacket.__name__}', overload='{self._overloadname}')>"

    def __call__(self, *args, **kwargs):
        return self.overloadpacket(*args, **kwargs)


class AtenPacket:
    """All overloads of one ATen operator (PyTorch's ``torch._ops.OpOverloadPacket``)."""

    def __init__(self, name):
        self.__name__, self._overloads = name, {}

    def __getattr__(self, overload_name):
        if overload_name.startswith("__"):
            raise AttributeError(overload_name)
        overloads = self.__dict__["_overloads"]
        if overload_name not in overloads:
            overloads[overload_name] = AtenOverload(self, overload_name)
        return overloads[overload_name]

    def __str__(self):
        return f"aten.{self.__name__}"

    def __repr__(self):
        return f"<OpOverloadPacket(op='aten.{self.__name__}')>"

    def __call__(self, *args, **kwargs):
        function = _function_of(self.__name__)
        if function is None:
            raise NotImplementedError(
                f"aten::{self.__name__}: chainrule does not compute this ATen operator; call the torch function or "
                f"Tensor method that does what it does instead"
            )
        return function(*args, **kwargs)


class AtenNamespace:
    """``torch.ops.aten``: each operator's packet as an attribute."""

    def __init__(self):
        self._packets = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        packets = self.__dict__["_packets"]
        if name not in packets:
            packets[name] = AtenPacket(name)
        return packets[name]

    def __repr__(self):
        return "torch.ops.aten"


aten = AtenNamespace()
