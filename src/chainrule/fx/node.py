"""A node of an fx graph: one step of a traced program.

Each node is one of six operations (``op``): ``placeholder`` (an input of the program, named
``target``), ``get_attr`` (a parameter, buffer or constant of the module, at the dotted path
``target``), ``call_function`` (the function ``target`` applied to ``args`` and ``kwargs``),
``call_method`` (the method named ``target`` of ``args[0]``), ``call_module`` (the submodule at the
path ``target``) and ``output`` (what the program returns, ``args[0]``). Its ``args`` and ``kwargs``
hold other nodes (the values they compute) and constants; ``users`` are the nodes that read it.
"""
import builtins
import operator
import sys
import types
from typing import Any, Callable, Optional, Union

from chainrule import queries

#: Functions a graph keeps although nothing reads their result (checks, writes); the tracer adds its own.
_side_effectful_functions = {queries._assert, queries._assert_async, operator.setitem}


class Node:
    """One operation of a Graph (see the module docstring), named ``name`` in the generated code."""

    def __init__(self, graph, name, op, target, args, kwargs, return_type=None):
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self.type = return_type
        self.users = {}  # the nodes that read this one, in the order they were made (a dict used as an ordered set)
        self.meta = {}  # what passes attach (ShapeProp's 'tensor_meta'...)
        self._input_nodes = {}
        self._prev = self._next = self  # (linked into the graph's ring of nodes when inserted)
        self._erased = False
        self._args, self._kwargs = (), {}
        self._update_args_kwargs(tuple(args), dict(kwargs))

    # ------------------------------------------------------------------ what it reads
    @property
    def args(self):
        return self._args

    @args.setter
    def args(self, value):
        self._update_args_kwargs(tuple(value), self._kwargs)

    @property
    def kwargs(self):
        return self._kwargs

    @kwargs.setter
    def kwargs(self, value):
        self._update_args_kwargs(self._args, dict(value))

    @property
    def all_input_nodes(self):
        """The nodes this one reads, each once, in the order they appear in args then kwargs."""
        return list(self._input_nodes)

    def _update_args_kwargs(self, args, kwargs):
        for node in self._input_nodes:
            node.users.pop(self, None)
        self._args, self._kwargs = args, kwargs
        self._input_nodes = {}
        map_arg((args, kwargs), self._input_nodes.setdefault)
        for node in self._input_nodes:
            node.users.setdefault(self, None)

    def update_arg(self, position, value):
        args = list(self._args)
        args[position] = value
        self.args = args

    def insert_arg(self, idx, arg):
        """Put ``arg`` into ``args`` at position ``idx`` (0 to ``len(args)``)."""
        if not 0 <= idx <= len(self._args):
            raise AssertionError(f"insert_args index must be between 0 and len(self.args), got {idx}")
        self.args = (*self._args[:idx], arg, *self._args[idx:])

    def update_kwarg(self, key, value):
        self.kwargs = {**self._kwargs, key: value}

    def replace_input_with(self, old, new):
        """Read ``new`` wherever this node read ``old``."""
        self._update_args_kwargs(*map_arg((self._args, self._kwargs), lambda node: new if node is old else node))

    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True, *, propagate_meta=False):
        """Make every user of this node (for which ``delete_user_cb`` says True) read ``replace_with``
        instead; returns those users. ``propagate_meta``: give ``replace_with`` (whose meta must be
        empty) this node's meta."""
        if propagate_meta:
            if replace_with.meta:
                raise AssertionError("Called node.replace_all_uses_with(replace_with, propagate_meta=True), but replace_with already has .meta keys")
            replace_with.meta.update(self.meta)
        changed = [user for user in list(self.users) if delete_user_cb(user)]
        for user in changed:
            user.replace_input_with(self, replace_with)
        return changed

    @property
    def stack_trace(self):
        """Where in the traced code this node was made: None (chainrule's tracer records none)."""
        return self.meta.get("stack_trace")

    @stack_trace.setter
    def stack_trace(self, trace):
        self.meta["stack_trace"] = trace

    def is_impure(self, impure_random=True):
        """Whether the graph must keep this node though nothing reads it: an input, the output, a
        function with a side effect (``_side_effectful_functions``), a module marked ``_is_impure``.
        (``impure_random`` is torch.fx's switch for its random ATen ops, which chainrule's graphs do not hold.)"""
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_module":
            if self.graph.owning_module is None:
                raise AssertionError("self.graph.owning_module not set for purity check")
            return getattr(self.graph.owning_module.get_submodule(self.target), "_is_impure", False)
        return self.op == "call_function" and self.target in _side_effectful_functions

    # ------------------------------------------------------------------ place in the graph
    @property
    def next(self):
        """The node after this one (the graph's root after the last)."""
        return self._next

    @property
    def prev(self):
        """The node before this one (the graph's root before the first)."""
        return self._prev

    def append(self, node):
        """Move ``node`` to just after this one."""
        self._next.prepend(node)

    def prepend(self, node):
        """Move ``node`` to just before this one."""
        if node is self:
            raise AssertionError("Cannot prepend self")
        node._remove_from_list()
        before = self._prev
        before._next, node._prev = node, before
        node._next, self._prev = self, node

    def _remove_from_list(self):
        before, after = self._prev, self._next
        before._next, after._prev = after, before

    # ------------------------------------------------------------------ printing
    def format_node(self):
        """This node as a line of ``print(graph)``: ``%name : [num_users=N] = op[target=T](args = ..., kwargs = ...)``."""
        if self.op == "output":
            return f"return {_format_value(self.args[0], plain=True)}"
        typename = f"{type_repr(self.type)} " if self.type else ""
        text = f"%{self.name} : {typename}[num_users={len(self.users)}] = {self.op}[target={_target_name(self.target)}]"
        if self.op == "placeholder":
            return text + (f"(default={self.args[0]!r})" if self.args else "")
        if self.op == "get_attr":
            return text
        return text + f"(args = {_format_value(self.args)}, kwargs = {_format_kwargs(self.kwargs)})"

    def __repr__(self):
        return self.name


def has_side_effect(fn):
    """Mark the function ``fn`` as one a graph keeps though nothing reads its result (dead code
    elimination leaves it); returns ``fn``."""
    _side_effectful_functions.add(fn)
    return fn


#: What a node's ``target`` is: a callable (call_function) or a name (the other ops).
Target = Union[Callable[..., Any], str]
#: The constants a node's arguments may hold besides other nodes and containers of them.
BaseArgumentTypes = Union[str, int, float, bool, complex, type(None)]
#: A node's argument: a node, a constant, or tuples, lists, dicts and slices of them.
Argument = Optional[Union[tuple, list, dict, slice, range, "Node", BaseArgumentTypes]]


def map_aggregate(value, function):
    """``value`` with ``function`` applied to every leaf, through tuples, lists, dicts and slices."""
    if isinstance(value, tuple):
        mapped = tuple(map_aggregate(item, function) for item in value)
        return type(value)(*mapped) if hasattr(value, "_fields") else mapped
    if isinstance(value, list):
        return [map_aggregate(item, function) for item in value]
    if isinstance(value, dict):
        return {key: map_aggregate(item, function) for key, item in value.items()}
    if isinstance(value, slice):
        return slice(*(map_aggregate(part, function) for part in (value.start, value.stop, value.step)))
    return function(value)


def map_arg(value, function):
    """``value`` with ``function`` applied to every Node in it."""
    return map_aggregate(value, lambda item: function(item) if isinstance(item, Node) else item)


def _target_name(target):
    """A target as the graph prints it: a name, or a function's dotted path (``operator.add``)."""
    return target if isinstance(target, str) else qualified_name(target)


def qualified_name(function):
    """``module.name`` of a function (``chainrule.relu``, ``operator.add``, ``builtins.getattr``)."""
    if getattr(builtins, getattr(function, "__name__", ""), None) is function:
        return f"builtins.{function.__name__}"
    if getattr(operator, getattr(function, "__name__", ""), None) is function:
        return f"operator.{function.__name__}"
    owner = getattr(function, "__self__", None)
    if isinstance(owner, type):  # a classmethod bound to its class (an autograd Function's apply): named by that class
        return f"{owner.__module__}.{owner.__qualname__}.{function.__name__}"
    module = getattr(function, "__module__", None) or "__main__"
    chainrule = sys.modules.get("chainrule")
    if module.startswith("chainrule.") and getattr(chainrule, getattr(function, "__name__", ""), None) is function:
        return f"chainrule.{function.__name__}"  # a public function defined in a submodule (chainrule._assert)
    return f"{module}.{getattr(function, '__qualname__', getattr(function, '__name__', repr(function)))}"


def type_repr(annotation):
    """A type as the graph prints it: a class by its dotted path (``int``, ``chainrule.Tensor``),
    anything else (``typing.Optional[int]``, a string) by its repr."""
    if isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias):
        return annotation.__qualname__ if annotation.__module__ == "builtins" else qualified_name(annotation)
    if annotation is ...:
        return "..."
    if isinstance(annotation, types.FunctionType):
        return annotation.__name__
    return repr(annotation)


def _format_value(value, plain=False):
    """Args as the graph prints them: nodes as ``%name`` (``name`` in the return line)."""
    if isinstance(value, Node):
        return value.name if plain else f"%{value.name}"
    if isinstance(value, tuple):
        items = ", ".join(_format_value(item, plain) for item in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(item, plain) for item in value) + "]"
    if isinstance(value, dict):
        return _format_kwargs(value, plain)
    return str(value)


def _format_kwargs(kwargs, plain=False):
    return "{" + ", ".join(f"{key}: {_format_value(value, plain)}" for key, value in kwargs.items()) + "}"
