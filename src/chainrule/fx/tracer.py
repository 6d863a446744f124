"""Symbolic tracing: run a module's ``forward`` on Proxies and record what it does as a Graph.

``symbolic_trace(module)`` calls ``forward`` once, its inputs being Proxies (see proxy.py). The
layers of ``chainrule.nn`` are leaves: a call of one is recorded as one ``call_module`` node, not
traced through; your own modules are traced through. A parameter read in ``forward``
(``self.weight``) becomes a ``get_attr`` node. The result is a GraphModule: the module's
computation as a graph you can print, change and run, with the Python code it stands for.

Functions are traced through, but those ``wrap`` registered and the tracer's autowrap functions
(``math``'s, by default: ``math.sqrt(x.size(0))``), which a Proxy argument makes one node each.
"""
import builtins
import inspect
import math
import warnings

from chainrule.device import device
from chainrule.dtypes import dtype
from chainrule.fx.graph import Graph
from chainrule.fx.node import _side_effectful_functions, map_aggregate
from chainrule.fx.proxy import Proxy, TracerBase
from chainrule.nn.container import Sequential
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.overrides import armed_while
from chainrule import queries
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

    #: Whether a buffer read in forward (``self.running_mean``) is a ``get_attr`` node, as a parameter
    #: is (False, as in torch.fx: a buffer computed with is then a tensor the root keeps, a constant).
    proxy_buffer_attributes = False

    def __init__(self, autowrap_modules=(math,), autowrap_functions=(), param_shapes_constant=False):
        """``autowrap_modules`` (math by default) and ``autowrap_functions``: functions recorded as
        one ``call_function`` node when called with a Proxy (``math.sqrt(x.size(0))``), wherever
        the traced code reaches them: the public functions of those modules, and those functions."""
        self.root = None
        self.graph = None
        self._autowrap_modules = tuple(autowrap_modules)
        self._autowrap_function_ids = {id(function) for function in autowrap_functions}
        self._autowrap_function_ids.update(
            id(value) for module in autowrap_modules for name, value in vars(module).items() if not name.startswith("_") and callable(value)
        )

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
        """A module attribute read during tracing: a Proxy of a ``get_attr`` node for a parameter
        of the root, or a buffer (unless ``proxy_buffer_attributes`` is False), else the value."""
        if isinstance(attr_val, Parameter):
            candidates = self.root.named_parameters()
        elif isinstance(attr_val, Tensor) and self.proxy_buffer_attributes:
            candidates = self.root.named_buffers()
        else:
            return attr_val
        for path, tensor in candidates:
            if tensor is attr_val:
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
        flow on them is taken once (the graph keeps them as inputs, ``name_1``, and checks their
        value: see ``_specialized_input``). The annotations of forward's parameters and result
        become their nodes' types (``def forward(self, x : chainrule.Tensor)`` in the code)."""
        if isinstance(root, Module):
            self.root, function = root, type(root).forward
        else:
            self.root, function = Module(), root
        self.graph = Graph(tracer_cls=type(self))
        self._constant_count = 0
        concrete_args = concrete_args or {}
        parameters = list(inspect.signature(function).parameters.values())
        annotations = getattr(function, "__annotations__", {})
        args, kwargs = ([root] if isinstance(root, Module) else []), {}
        for parameter in parameters[1 if isinstance(root, Module) else 0:]:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise NotImplementedError(f"symbolic tracing of a forward with *{parameter.name}: give it named parameters")
            default = () if parameter.default is inspect.Parameter.empty else (parameter.default,)
            if parameter.name in concrete_args:
                value = self._specialized_input(parameter.name, default, concrete_args[parameter.name])
            else:
                value = self.create_proxy("placeholder", parameter.name, default, {}, type_expr=annotations.get(parameter.name))
            if parameter.kind is parameter.KEYWORD_ONLY:
                kwargs[parameter.name] = value
            else:
                args.append(value)
        with _Patched(self, function), armed_while():  # (operations hand Proxies over before they read them)
            result = function(*args, **kwargs)
        self.create_node("output", "output", (self.create_arg(result),), {}, type_expr=annotations.get("return"))
        return self.graph

    def _specialized_input(self, name, default, value):
        """The input ``name`` fixed to ``value`` by ``concrete_args``: forward runs with ``value``;
        the graph keeps the input (as ``name_1``) and checks that a call passes that value
        (``_assert(name_1 == value)``, or that it is None), as torch.fx does. ``PH`` (or another
        ``PHBase``, whose attributes its node gets) leaves the input traced."""
        if isinstance(value, (dict, list, tuple)):
            raise NotImplementedError(f"symbolic_trace: concrete_args[{name!r}] is a container; chainrule.fx fixes single values only (a number, bool, string, None, PH...)")
        placeholder = self.create_proxy("placeholder", f"{name}_1", default, {})
        if isinstance(value, PHBase):
            for attribute in dir(value):
                if not attribute.startswith("__") and not callable(getattr(value, attribute)) and not hasattr(placeholder.node, attribute):
                    setattr(placeholder.node, attribute, getattr(value, attribute))
            return placeholder
        message = f"{name} has been specialized to have value {value} but got another value"
        if value is None:
            self.create_proxy("call_function", _assert_is_none, (placeholder, message), {})
        elif isinstance(value, (bool, int, float, complex, str, dtype, device)):
            self.create_proxy("call_function", queries._assert, (placeholder == value, message), {})
        else:
            warnings.warn(f"Was not able to add assertion to guarantee correct input {name} to specialized function. It is up to the user to make sure that your inputs match the inputs you specialized the function with.")
        return value


class PHBase:
    """A placeholder for ``concrete_args``: the input stays traced (see ``Tracer._specialized_input``)."""

    def __repr__(self):
        return "PH"


PH = PHBase()


def _assert_is_none(value, msg):
    """The check a graph makes of an input that ``concrete_args`` fixed to None."""
    if value is not None:
        raise AssertionError(msg)


_side_effectful_functions.add(_assert_is_none)


class _Patched:
    """While tracing: module calls go through ``tracer.call_module``, parameter reads through
    ``tracer.getattr``, and the functions ``wrap`` registered, and the tracer's autowrap functions
    (in the traced code's globals, a traced submodule's and the autowrap modules), are recorded as one node."""

    def __init__(self, tracer, function):
        self.tracer = tracer
        self.function = function
        self.saved = []

    def __enter__(self):
        tracer, call, getattr_ = self.tracer, Module.__call__, Module.__getattr__
        cache = {}

        def traced_call(module, *args, **kwargs):
            self._autowrap(getattr(type(module).forward, "__globals__", {}))
            return tracer.call_module(module, lambda *a, **k: call(module, *a, **k), args, kwargs)

        def traced_getattr(module, name):
            return tracer.getattr(name, getattr_(module, name), cache)

        self._set(Module, "__call__", traced_call)
        self._set(Module, "__getattr__", traced_getattr)
        for (_, name), namespace in list(wrapped_functions.items()):
            original = namespace.get(name, getattr(builtins, name, None))
            if original is not None:
                self._set_global(namespace, name, _recorded_when_traced(original, tracer))
        self._autowrap(getattr(self.function, "__globals__", {}))
        for module in tracer._autowrap_modules:
            self._autowrap(vars(module))
        return self

    def _autowrap(self, namespace):
        """Record the autowrap functions that ``namespace`` (globals or a module's dict) names
        publicly (not ``_private``, as torch.fx) (once: a function already replaced is no autowrap function any more)."""
        for name in [name for name, value in namespace.items() if not name.startswith("_") and id(value) in self.tracer._autowrap_function_ids]:
            self._set_global(namespace, name, _recorded_when_traced(namespace[name], self.tracer))

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
            proxy = tracer.create_proxy("call_function", function, args, kwargs)
            proxy.node.meta["is_wrapped"] = True  # (the generated code wraps it again: see graph.py)
            return proxy
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
