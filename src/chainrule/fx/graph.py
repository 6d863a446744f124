"""An fx Graph: a traced program as a list of Nodes, and the Python code it stands for.

The nodes form a ring, each linked to the one before and after it (``node.prev``, ``node.next``),
through a sentinel node, the graph's root (op 'root'), as torch.fx's: inserting, moving and
erasing a node are quick, and a loop over ``graph.nodes`` sees the nodes as they are when it gets
to them (a node inserted ahead is visited, an erased one is not).

``print(graph)`` lists the nodes, one line each; ``graph.python_code("self").src`` is the same
program as a ``forward`` method, each line one node (``add = linear + param``), with
``;  x = None`` where a value is read for the last time, as torch.fx writes it. A function that
``wrap`` (or a tracer's autowrap) made a node is wrapped again by a line above ``forward``
(``chainrule.fx._symbolic_trace.wrap("math_sqrt")``), so that tracing the GraphModule again keeps it one node.
"""
import builtins
import contextlib
import inspect
import keyword
import linecache
import math
import operator
import re
import sys
import typing
import warnings

from chainrule.fx.node import Node, map_aggregate, map_arg, qualified_name, type_repr

#: Python's operators, as the generated code writes them.
BINARY_OPERATORS = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/", operator.floordiv: "//",
    operator.mod: "%", operator.pow: "**", operator.matmul: "@", operator.lshift: "<<", operator.rshift: ">>",
    operator.and_: "&", operator.or_: "|", operator.xor: "^", operator.eq: "==", operator.ne: "!=",
    operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">=",
}
UNARY_OPERATORS = {operator.neg: "-", operator.pos: "+", operator.invert: "~"}
_ILLEGAL_NAMES = set(keyword.kwlist) | set(dir(builtins)) | {"self", "chainrule", "device", "inf", "nan"}
_NUMBERED = re.compile(r"(.*)_(\d+)$")


#: The typing names generated code writes for annotations such as ``typing.List[int]``.
_TYPING_NAMES = {list: typing.List, dict: typing.Dict, set: typing.Set, frozenset: typing.FrozenSet, tuple: typing.Tuple}


class PythonCode:
    """The code a graph generates: ``src`` (the text of ``forward``) and ``globals`` (the names it reads)."""

    def __init__(self, src, globals_):
        self.src = src
        self.globals = globals_


class Graph:
    """A program as a list of Nodes (see node.py), in the order they run."""

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._root = Node(self, "", "root", "", (), {})  # before the first node and after the last
        self._len = 0
        self._used_names = set()
        self._base_count = {}
        self._insert = self._root.prepend  # (at the end)
        self.owning_module = owning_module

    @property
    def nodes(self):
        """The nodes, in order: a live view (see the module docstring) with ``len`` and ``reversed``."""
        return _NodeList(self)

    # ------------------------------------------------------------------ making nodes
    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None):
        """A new node, inserted at the graph's insertion point (the end, unless ``inserting_before``/``_after``)."""
        if op not in ("call_function", "call_method", "get_attr", "call_module", "placeholder", "output"):
            raise AssertionError(f"Unknown op {op!r}")
        node = Node(self, self._unique_name(name or self._name_of(target)), op, target, args or (), kwargs or {}, type_expr)
        self._insert(node)
        self._len += 1
        return node

    def placeholder(self, name, type_expr=None, default_value=inspect.Signature.empty):
        args = () if default_value is inspect.Signature.empty else (default_value,)
        return self.create_node("placeholder", name, args, type_expr=type_expr)

    def get_attr(self, qualified_name, type_expr=None):
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_function", the_function, args, kwargs, type_expr=type_expr)

    def output(self, result, type_expr=None):
        return self.create_node("output", "output", (result,), type_expr=type_expr)

    def node_copy(self, node, arg_transform=lambda node: node):
        """A copy of ``node`` (from this or another graph) in this graph, its inputs mapped by ``arg_transform``."""
        args, kwargs = map_arg((node.args, node.kwargs), arg_transform)
        copy = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        copy.meta = dict(node.meta)
        return copy

    def graph_copy(self, graph, value_remap):
        """Copy every node of ``graph`` but its output into this graph (``value_remap`` maps old
        nodes to new; a node it already maps, an input say, is not copied); returns what its
        output returned, mapped."""
        for node in graph.nodes:
            if node in value_remap:
                continue
            if node.op == "output":
                return map_arg(node.args[0], value_remap.__getitem__)
            value_remap[node] = self.node_copy(node, value_remap.__getitem__)
        return None

    def __deepcopy__(self, memo):
        """A new graph of copies of the nodes (names kept)."""
        copy = Graph()
        memo[id(self)] = copy
        remap = {}
        for node in self.nodes:
            remap[node] = copy.node_copy(node, remap.__getitem__)
        return copy

    def __reduce__(self):
        """Pickled as a flat list of its nodes, each naming the nodes it reads, so that a graph of
        thousands of nodes pickles without recursing through them."""
        records = [
            (node.name, node.op, node.target, *map_arg((node.args, node.kwargs), lambda read: _NodeName(read.name)), node.type, node.meta)
            for node in self.nodes
        ]
        return _graph_from_records, (records,)

    def erase_node(self, node):
        """Remove ``node``, which no node may read any more."""
        if node.users:
            raise RuntimeError(f"Tried to erase Node {node} but it still had {len(node.users)} users in the graph: {node.users}!")
        if node.graph is not self:
            raise RuntimeError(f"Attempting to remove {node} from wrong graph!")
        if node._erased:
            warnings.warn(f"erase_node({node}) on an already erased node")
            return
        node.args, node.kwargs = (), {}
        node._remove_from_list()
        node._erased = True
        self._len -= 1
        self._used_names.discard(node.name)

    def find_nodes(self, *, op, target=None, sort=True):
        """The nodes of op ``op`` (and target ``target``, which a ``call_function`` search must name), in graph order."""
        if op == "call_function" and target is None:
            raise AssertionError("target must not be None for call_function op")
        return [node for node in self.nodes if node.op == op and (target is None or node.target == target)]

    # ------------------------------------------------------------------ where new nodes go
    @contextlib.contextmanager
    def inserting_before(self, node=None):
        """New nodes go just before ``node`` (None: at the start)."""
        previous = self._insert
        self._insert = self._root.append if node is None else node.prepend
        try:
            yield
        finally:
            self._insert = previous

    @contextlib.contextmanager
    def inserting_after(self, node=None):
        """New nodes go just after ``node`` (None: at the end)."""
        previous = self._insert
        self._insert = self._root.prepend if node is None else node.append
        try:
            yield
        finally:
            self._insert = previous

    # ------------------------------------------------------------------ checks and clean-up
    def lint(self):
        """Check that every node reads only nodes of this graph made before it, that names are
        unique and that the output comes last (RuntimeError otherwise)."""
        seen, names = set(), set()
        for node in self.nodes:
            if node.graph is not self:
                raise RuntimeError(f"Node {node} does not belong to this Graph!")
            for input_node in node.all_input_nodes:
                if input_node not in seen:
                    raise RuntimeError(f"Argument '{input_node}' of Node '{node}' was used before it has been defined! Please check that Nodes in the graph are topologically ordered\n{self}")
            if node.name in names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen.add(node)
            names.add(node.name)
        if sum(node.op == "output" for node in self.nodes) > 1:
            raise RuntimeError("Graph has more than one output node")

    def eliminate_dead_code(self, is_impure_node=None):
        """Remove the nodes whose values nothing reads, but impure ones (``is_impure_node(node)``,
        by default ``node.is_impure()``: inputs, the output, checks such as ``_assert``); returns
        whether any was removed. As in torch.fx, an in-place operation whose result is not read
        (``x.add_(1)``) is removed too: pass ``is_impure_node`` to keep such nodes."""
        removed = False
        for node in reversed(self.nodes):
            if not node.users and not (is_impure_node(node) if is_impure_node else node.is_impure()):
                self.erase_node(node)
                removed = True
        return removed

    # ------------------------------------------------------------------ printing and code
    def __str__(self):
        return "graph():\n" + "\n".join("    " + node.format_node() for node in self.nodes)

    def print_tabular(self):
        """The nodes as a table (opcode, name, target, args, kwargs), with the ``tabulate`` package."""
        try:
            from tabulate import tabulate
        except ImportError:
            print("`print_tabular` relies on the library `tabulate`, which could not be found on this machine. Run `pip install tabulate` to install the library.")
            raise
        rows = [[node.op, node.name, node.target, node.args, node.kwargs] for node in self.nodes]
        print(tabulate(rows, headers=["opcode", "name", "target", "args", "kwargs"]))

    def python_code(self, root_module="self"):
        """The program as the text of ``def forward(self, ...)`` (see the module docstring)."""
        namespace = _CodeNamespace({node.name for node in self.nodes})
        last_use = {}
        for node in reversed(self.nodes):
            for input_node in node.all_input_nodes:
                last_use.setdefault(input_node, node)
        freed = {}
        for input_node, user in last_use.items():
            freed.setdefault(user, []).append(input_node)
        parameters, body, wrapped, returns = [root_module], [], {}, ""
        for node in self.nodes:
            annotation = "" if node.type is None else f" : {namespace.annotation(node.type)}"
            if node.op == "placeholder":
                parameters.append(f"{node.target}{annotation}" + (f" = {namespace.value(node.args[0])}" if node.args else ""))
                if node.name != node.target:  # a parameter named as a builtin (input): its node is input_1
                    body.append(f"    {node.name} = {node.target}")
                continue
            line = _statement(node, root_module, namespace)
            if node.op == "output":
                returns = annotation.replace(" : ", " -> ")
            elif annotation:
                line = line.replace(f"{node.name} = ", f"{node.name}{annotation} = ", 1)
            if node.op == "call_function" and node.meta.get("is_wrapped"):
                wrapped[namespace.function(node.target)] = None
            released = [used.name for used in node.all_input_nodes if node.op != "output" and used in freed.get(node, ())]
            if not node.users and node.op != "output":  # a value nothing reads (an _assert's None)
                released.append(node.name)
            if released:
                line += f";  {' = '.join(released)} = None"
            body.append("    " + line)
        wraps = "\n".join(f'chainrule.fx._symbolic_trace.wrap("{name}")' for name in wrapped)
        src = f"\n{wraps}\n\ndef forward({', '.join(parameters)}){returns}:\n" + "\n".join(body or ["    pass"]) + "\n    "
        return PythonCode(src, namespace.globals)

    # ------------------------------------------------------------------ names
    def _name_of(self, target):
        """A node's name before numbering: a function's name, a module path with dots as underscores, snake_case."""
        if callable(target):
            name = getattr(target, "__name__", "function")
        else:
            name = str(target)
            if name.startswith("__") and name.endswith("__"):
                name = name.strip("_")
        name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
        return name

    def _unique_name(self, candidate):
        candidate = re.sub(r"[^0-9a-zA-Z_]+", "_", candidate) or "_unnamed"
        if candidate[0].isdigit():
            candidate = f"_{candidate}"
        match = _NUMBERED.match(candidate)
        base, number = (candidate, None) if match is None else (match.group(1), int(match.group(2)))
        if not number:
            number = self._base_count.get(base, 0)
        while candidate in self._used_names or candidate in _ILLEGAL_NAMES:
            number += 1
            candidate = f"{base}_{number}"
        self._used_names.add(candidate)
        self._base_count[base] = number
        return candidate


def _path_expression(root, path):
    """``self.a.b`` for the path 'a.b', with getattr for parts that are no identifiers (``getattr(self.layers, "0")``)."""
    expression = root
    for part in path.split("."):
        expression = f"{expression}.{part}" if part.isidentifier() else f'getattr({expression}, "{part}")'
    return expression


def _statement(node, root, namespace):
    """The line of code of one node (without the values it frees)."""
    value = namespace.value
    if node.op == "output":
        return f"return {value(node.args[0])}"
    if node.op == "get_attr":
        return f"{node.name} = {_path_expression(root, node.target)}"
    arguments = ", ".join([value(arg) for arg in node.args[1 if node.op == "call_method" else 0:]] + [f"{key} = {value(item)}" for key, item in node.kwargs.items()])
    if node.op == "call_module":
        return f"{node.name} = {_path_expression(root, node.target)}({arguments})"
    if node.op == "call_method":
        return f"{node.name} = {value(node.args[0])}.{node.target}({arguments})"
    target, args = node.target, node.args
    if target in BINARY_OPERATORS and len(args) == 2 and not node.kwargs:
        return f"{node.name} = {value(args[0])} {BINARY_OPERATORS[target]} {value(args[1])}"
    if target in UNARY_OPERATORS and len(args) == 1 and not node.kwargs:
        return f"{node.name} = {UNARY_OPERATORS[target]}{value(args[0])}"
    if target is operator.getitem and len(args) == 2:
        return f"{node.name} = {value(args[0])}[{value(args[1])}]"
    if target is builtins.getattr and len(args) == 2 and isinstance(args[1], str) and args[1].isidentifier():
        return f"{node.name} = {value(args[0])}.{args[1]}"
    return f"{node.name} = {namespace.function(target)}({arguments})"


class _NodeName:
    """A node's input, by its name, in a pickled graph (see ``Graph.__reduce__``)."""

    def __init__(self, name):
        self.name = name


def _graph_from_records(records):
    """The graph ``Graph.__reduce__`` pickled."""
    graph, made = Graph(), {}
    for name, op, target, args, kwargs, type_expr, meta in records:
        args, kwargs = map_aggregate((args, kwargs), lambda value: made[value.name] if isinstance(value, _NodeName) else value)
        made[name] = graph.create_node(op, target, args, kwargs, name, type_expr)
        made[name].meta = meta
    return graph


class _NodeList:
    """``graph.nodes``: the nodes of a graph in order (or reversed), read as the loop goes."""

    def __init__(self, graph, reverse=False):
        self.graph = graph
        self.reverse = reverse

    def __len__(self):
        return self.graph._len

    def __iter__(self):
        root, step = self.graph._root, "_prev" if self.reverse else "_next"
        node = getattr(root, step)
        while node is not root:
            if not node._erased:
                yield node
            node = getattr(node, step)  # (an erased node still links to where it was)

    def __reversed__(self):
        return _NodeList(self.graph, not self.reverse)


class _CodeNamespace:
    """The global names generated code reads: chainrule for its functions, reached by their dotted
    path (``chainrule.relu``), and a name of its own for any other function (``math_sqrt``,
    ``__main___helper``), as torch.fx names them."""

    def __init__(self, reserved):
        import chainrule

        self.reserved = reserved  # the nodes' names: locals of the generated code
        self.globals = {"chainrule": chainrule, "device": chainrule.device, "inf": math.inf, "nan": math.nan, "getattr": getattr}

    def function(self, function):
        """The name generated code calls ``function`` by."""
        path = qualified_name(function)
        owner = getattr(function, "__self__", None)
        hint = path if isinstance(owner, type) else f"{getattr(function, '__module__', None)}_{getattr(function, '__name__', 'function')}"
        return self._global(path, function, hint)

    def annotation(self, annotation):
        """A type annotation as generated code writes it (``typing_Optional[chainrule.Tensor]``), as torch.fx does."""
        if annotation == ():
            return "()"
        origin = getattr(annotation, "__origin__", None)
        if origin is None:
            return self._global(type_repr(annotation), annotation, type_repr(annotation))
        if isinstance(annotation, typing._GenericAlias):  # (typing.List[int], whose origin is list: written typing_List)
            origin = _TYPING_NAMES.get(origin, origin)
        name = self._global(type_repr(origin), origin, type_repr(origin))
        arguments = getattr(annotation, "__args__", ())
        return f"{name}[{','.join(self.annotation(argument) for argument in arguments)}]" if arguments else name

    def _global(self, path, value, hint):
        """A builtin by its name, a value of chainrule by its dotted ``path``, any other by a global
        of its own named after ``hint`` (``math_sqrt``)."""
        root, _, rest = path.partition(".")
        if root == "builtins" or (not rest and getattr(builtins, path, None) is value):
            return rest or path
        found = sys.modules.get(root)
        for part in rest.split(".") if found is not None else ():
            found = getattr(found, part, None)
        if found is value and root == "chainrule":
            return path
        name = re.sub(r"[^0-9a-zA-Z_]", "_", hint)
        candidate, number = name, 0
        while self.globals.get(candidate, value) is not value or candidate in _ILLEGAL_NAMES or candidate in self.reserved:
            number += 1
            candidate = f"{name}_{number}"
        self.globals[candidate] = value
        return candidate

    def value(self, value):
        if isinstance(value, Node):
            return value.name
        if isinstance(value, tuple):
            items = ", ".join(self.value(item) for item in value)
            return f"({items},)" if len(value) == 1 else f"({items})"
        if isinstance(value, list):
            return "[" + ", ".join(self.value(item) for item in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{key!r}: {self.value(item)}" for key, item in value.items()) + "}"
        if isinstance(value, slice):
            return f"slice({self.value(value.start)}, {self.value(value.stop)}, {self.value(value.step)})"
        if callable(value) and not isinstance(value, type):
            return self.function(value)
        return repr(value)


def compiled_forward(code, filename):
    """The ``forward`` function of generated code, registered with linecache so that tracebacks show its lines."""
    linecache.cache[filename] = (len(code.src), None, code.src.splitlines(True), filename)
    namespace = dict(code.globals)
    exec(compile(code.src, filename, "exec"), namespace)  # noqa: S102 - the code fx generated from a graph
    return namespace["forward"]
