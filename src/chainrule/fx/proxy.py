"""Proxy: the stand-in for a value while a program is traced.

The tracer calls ``forward`` with Proxies in place of its inputs. Whatever the code does to a Proxy
is recorded instead of computed: an operator (``x + 1``) or a function of chainrule (``chainrule.relu(x)``,
``F.linear(x, w)``, through the ``__torch_function__`` protocol) becomes a ``call_function`` node,
a method (``x.sum(dim=1)``) a ``call_method`` node, an attribute (``x.shape``) a ``getattr`` call;
each gives a new Proxy for its result. Using a Proxy's value in Python control flow (``if x.sum() > 0``,
``for row in x``, ``len(x)``) cannot be recorded: TraceError, as in torch.fx.
"""
import bisect
import builtins
import dis
import inspect
import operator

from chainrule.fx.node import Node, map_aggregate


class TraceError(ValueError):
    """A traced program used a traced value where only a concrete one will do (control flow)."""


class TracerBase:
    """What records nodes into ``self.graph``: ``create_proxy`` makes a node of its arguments
    (``create_arg`` turns Proxies into their nodes) and returns a Proxy of it."""

    graph = None

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        return self.graph.create_node(kind, target, args, kwargs, name, type_expr)

    def proxy(self, node):
        return Proxy(node, self)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        node = self.create_node(kind, target, self.create_arg(tuple(args)), self.create_arg(dict(kwargs)), name, type_expr)
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def create_arg(self, value):
        """``value`` as a node's argument: Proxies as their nodes, through tuples, lists, dicts and slices."""
        return map_aggregate(value, lambda item: item.node if isinstance(item, Proxy) else item)


class GraphAppendingTracer(TracerBase):
    """The tracer of a Proxy made for a node of an existing graph: new nodes go into that graph."""

    def __init__(self, graph):
        self.graph = graph


class Proxy:
    """A traced value: the Node that computes it, and the tracer that records what is done with it."""

    def __init__(self, node, tracer=None):
        self.node = node
        self.tracer = tracer if tracer is not None else GraphAppendingTracer(node.graph)

    def __repr__(self):
        return f"Proxy({self.node.name})"

    def __getattr__(self, name):
        if name.startswith("_"):  # (copy, pickle and NumPy probe for dunders; a tensor's private parts are not traced)
            raise AttributeError(f"'Proxy' object has no attribute {name!r}")
        return Attribute(self, name)

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self, *args), kwargs)

    def __iter__(self):
        """Unpacking into names (``q, k, v = x.chunk(3, -1)``, ``n, c, h, w = x.shape``) gives that
        many items, ``proxy[0]``, ``proxy[1]``...: the caller's next instruction says how many. Any
        other iteration depends on a value the trace does not have: TraceError."""
        caller = inspect.currentframe().f_back
        instructions = list(dis.get_instructions(caller.f_code))
        offsets = [instruction.offset for instruction in instructions]
        here = bisect.bisect_left(offsets, caller.f_lasti)
        if here < len(instructions) and instructions[here].opname == "UNPACK_SEQUENCE":
            return iter([self[position] for position in range(instructions[here].argval)])
        raise TraceError("Proxy object cannot be iterated. This can be attempted when the Proxy is used in a loop or as a *args or **kwargs function argument. See the torch.fx docs on pytorch.org for a more detailed explanation of what types of control flow can be traced, and check out the Proxy docstring for help troubleshooting Proxy iteration errors")

    def __bool__(self):
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want this call to be recorded, please call torch.fx.wrap('len') at module scope")

    def keys(self):
        return self.tracer.create_proxy("call_method", "keys", (self,), {})

    def __index__(self):
        raise TypeError("symbolically traced variables cannot be used as an index or size (they have no value yet): index with a constant, or pass the value in concrete_args")

    @classmethod
    def __torch_function__(cls, orig_method, types, args=(), kwargs=None):
        """A chainrule function or Tensor method called with a Proxy: recorded as a node."""
        kwargs = kwargs or {}
        tracers = []
        map_aggregate((args, kwargs), lambda value: tracers.append(value.tracer) if isinstance(value, Proxy) else None)
        tracer = tracers[0]
        if getattr(orig_method, "__qualname__", "").startswith("Tensor."):
            return tracer.create_proxy("call_method", orig_method.__name__, args, kwargs)
        return tracer.create_proxy("call_function", orig_method, args, kwargs)


class Attribute(Proxy):
    """``proxy.name``: a method about to be called (``call_method``), or an attribute read
    (``getattr``, recorded only when the value is used)."""

    def __init__(self, root, name):
        self.root = root
        self.attr = name
        self.tracer = root.tracer
        self._node = None

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", builtins.getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root, *args), kwargs)


def _binary(function, reflected=False):
    def recorded(self, other):
        args = (other, self) if reflected else (self, other)
        return self.tracer.create_proxy("call_function", function, args, {})

    return recorded


def _unary(function):
    def recorded(self):
        return self.tracer.create_proxy("call_function", function, (self,), {})

    return recorded


for _name, _function in {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv, "floordiv": operator.floordiv,
    "mod": operator.mod, "pow": operator.pow, "matmul": operator.matmul, "lshift": operator.lshift, "rshift": operator.rshift,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor,
}.items():
    setattr(Proxy, f"__{_name}__", _binary(_function))
    setattr(Proxy, f"__r{_name}__", _binary(_function, reflected=True))
for _name, _function in {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
                         "ge": operator.ge, "getitem": operator.getitem}.items():
    setattr(Proxy, f"__{_name}__", _binary(_function))
for _name, _function in {"neg": operator.neg, "pos": operator.pos, "invert": operator.invert, "abs": builtins.abs}.items():
    setattr(Proxy, f"__{_name}__", _unary(_function))
Proxy.__hash__ = object.__hash__  # (defining __eq__ would otherwise make proxies unhashable)
del _name, _function

__all__ = ["Attribute", "GraphAppendingTracer", "Node", "Proxy", "TraceError", "TracerBase"]
