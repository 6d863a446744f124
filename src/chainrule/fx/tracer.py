"""Symbolic tracing: run a module's ``forward`` on Proxies and record what it does as a Graph.

``symbolic_trace(module)`` calls ``forward`` once, its inputs being Proxies (see proxy.py). The
layers of ``chainrule.nn`` are leaves: a call of one is recorded as one ``call_module`` node, not
traced through; your own modules are traced through. A parameter read in ``forward``
(``self.weight``) becomes a ``get_attr`` node. The result is a GraphModule: the module's
computation as a graph you can print, change and run, with the Python code it stands for.
"""
import builtins
import inspect

from chainrule.fx.graph import Graph
from chainrule.fx.node import map_aggregate
from chainrule.fx.proxy import Proxy, TracerBase
from chainrule.nn.container import Sequential
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.overrides import armed_while
from chainrule.tensor import Tensor

#: ``{(id of a module's globals, function name): those globals}``: the functions ``wrap`` registered.
wrapped_functions = {}


def wrap(fn_or_name):
    """Register the global function ``fn_or_name`` (or the name of one) of the calling module as a
    leaf of symbolic tracing, and return it unchanged: while a module is traced, a call of it with
    a Proxy is recorded as one ``call_function`` node instead of being traced through. Called, as
    in PyTorch, at a module's top level only (as a decorator or a statement)."""
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError("Unsupported type for global function! Must be either a callable or string name")
    name = fn_or_name if isinstance(fn_or_name, str) else fn_or_name.__name__
    caller = inspect.currentframe().f_back
    if caller.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    wrapped_functions[(id(caller.f_globals), name)] = caller.f_globals
    return fn_or_name


class Tracer(TracerBase):
    """Records a module's (or function's) computation as a Graph (see the module docstring).
    Subclasses change what is a leaf (``is_leaf_module``) or how a module call is recorded
    (``call_module``)."""

    def __init__(self, autowrap_modules=(), autowrap_functions=(), param_shapes_constant=False):
        self.root = None
        self.graph = None

    def is_leaf_module(self, m, module_qualified_name):
        """Whether a call of ``m`` is one node: chainrule's own layers are (not Sequential, whose
        layers are recorded one by one)."""
        return type(m).__module__.startswith("chainrule.nn") and not isinstance(m, Sequential)

    def path_of_module(self, mod):
        """The dotted path of ``mod`` under the traced root ('' for the root itself)."""
        for path, module in self.root.named_modules():
            if module is mod:
                return path
        raise NameError("module is not installed as a submodule")

    def call_module(self, m, forward, args, kwargs):
        """A call of the submodule ``m``: a ``call_module`` node for a leaf, else its forward, traced through."""
        path = self.path_of_module(m)
        if not self.is_leaf_module(m, path):
            return forward(*args, **kwargs)
        return self.create_proxy("call_module", path, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        """A module attribute read during tracing: a Proxy of a ``get_attr`` node for a parameter, else the value."""
        if not isinstance(attr_val, Parameter):
            return attr_val
        for path, parameter in self.root.named_parameters():
            if parameter is attr_val:
                if path not in parameter_proxy_cache:
                    parameter_proxy_cache[path] = self.create_proxy("get_attr", path, (), {})
                return parameter_proxy_cache[path]
        return attr_val

    def create_arg(self, value):
        """A node argument: Proxies as their nodes; a tensor of the root (a parameter or buffer) as a
        ``get_attr`` node of its path, any other tensor as a constant the root keeps
        (``_tensor_constant0``...)."""
        def argument(item):
            if isinstance(item, Proxy):
                return item.node
            if isinstance(item, Tensor):
                return self._tensor_attribute(item).node
            if isinstance(item, Module):
                raise RuntimeError(f"Unsupported argument type: {type(item)}: a module can be called in a traced program, not passed")
            return item

        return map_aggregate(value, argument)

    def _tensor_attribute(self, tensor):
        for path, known in (*self.root.named_parameters(), *self.root.named_buffers()):
            if known is tensor:
                return self.create_proxy("get_attr", path, (), {})
        name = f"_tensor_constant{self._constant_count}"
        self._constant_count += 1
        setattr(self.root, name, tensor)
        return self.create_proxy("get_attr", name, (), {})

    def trace(self, root, concrete_args=None):
        """The Graph of ``root``'s forward (or of the function ``root``); ``concrete_args`` fixes
        some inputs to values ({name: value}): forward runs with those, so that Python control
        flow on them is taken once (the graph keeps them as inputs, that value their default)."""
        if isinstance(root, Module):
            self.root, function = root, type(root).forward
        else:
            self.root, function = Module(), root
        self.graph = Graph(tracer_cls=type(self))
        self._constant_count = 0
        concrete_args = concrete_args or {}
        parameters = list(inspect.signature(function).parameters.values())
        args, kwargs = ([root] if isinstance(root, Module) else []), {}
        for parameter in parameters[1 if isinstance(root, Module) else 0:]:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise NotImplementedError(f"symbolic tracing of a forward with *{parameter.name}: give it named parameters")
            if parameter.name in concrete_args:  # an input of the graph still, its value fixed (its default)
                value = concrete_args[parameter.name]
                self.create_proxy("placeholder", parameter.name, (value,), {})
            else:
                default = () if parameter.default is inspect.Parameter.empty else (parameter.default,)
                value = self.create_proxy("placeholder", parameter.name, default, {})
            if parameter.kind is parameter.KEYWORD_ONLY:
                kwargs[parameter.name] = value
            else:
                args.append(value)
        with _Patched(self), armed_while():  # (operations hand Proxies over before they read them)
            result = function(*args, **kwargs)
        self.create_node("output", "output", (self.create_arg(result),), {})
        return self.graph


class _Patched:
    """While tracing: module calls go through ``tracer.call_module``, parameter reads through
    ``tracer.getattr``, and the functions ``wrap`` registered are recorded as one node."""

    def __init__(self, tracer):
        self.tracer = tracer
        self.saved = []

    def __enter__(self):
        tracer, call, getattr_ = self.tracer, Module.__call__, Module.__getattr__
        cache = {}

        def traced_call(module, *args, **kwargs):
            return tracer.call_module(module, lambda *a, **k: call(module, *a, **k), args, kwargs)

        def traced_getattr(module, name):
            return tracer.getattr(name, getattr_(module, name), cache)

        self._set(Module, "__call__", traced_call)
        self._set(Module, "__getattr__", traced_getattr)
        for (_, name), namespace in list(wrapped_functions.items()):
            original = namespace.get(name, getattr(builtins, name, None))
            if original is not None:
                self._set_global(namespace, name, _recorded_when_traced(original, tracer))
        return self

    def _set(self, owner, name, value):
        self.saved.append((setattr, owner, name, owner.__dict__[name]))
        setattr(owner, name, value)

    def _set_global(self, namespace, name, value):
        if name in namespace:
            self.saved.append((namespace.__setitem__, name, namespace[name]))
        else:
            self.saved.append((namespace.pop, name))
        namespace[name] = value

    def __exit__(self, *exc_info):
        for undo, *arguments in reversed(self.saved):
            undo(*arguments)


def _recorded_when_traced(function, tracer):
    def recorded(*args, **kwargs):
        proxies = []
        map_aggregate((args, kwargs), lambda value: proxies.append(value) if isinstance(value, Proxy) else None)
        if proxies:
            return tracer.create_proxy("call_function", function, args, kwargs)
        return function(*args, **kwargs)

    recorded.__name__ = getattr(function, "__name__", "function")
    return recorded


def symbolic_trace(root, concrete_args=None):
    """``root`` (a module or function) traced into a GraphModule (see the module docstring)."""
    from chainrule.fx.graph_module import GraphModule

    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)
