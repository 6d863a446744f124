"""Computing what is known in Python source: the folding both ``inline.py`` (an operation's body
written in with its known arguments) and ``simplify.py`` (the whole program, with what the
recording knows) use.

``x if False else None`` becomes ``None``, ``(True, False)[1]`` becomes ``False``, ``None is not
None`` becomes ``False``, ``isinstance(2, (int, float))`` becomes ``True``, ``len((a, b))`` becomes
``2``, and an ``if`` whose test is known becomes the branch taken. Only values
whose ``==`` is Python's own (numbers, strings, None, tuples of them) are compared, never arrays.
"""
import ast
import copy


def constant_value(node):
    """(True, value) for a node whose value is known now (a literal, ``-1``, a tuple of them),
    else (False, None)."""
    if isinstance(node, ast.Constant):
        return True, node.value
    if isinstance(node, ast.Tuple) and isinstance(node.ctx, ast.Load):
        values = [constant_value(element) for element in node.elts]
        if all(known for known, _ in values):
            return True, tuple(value for _, value in values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        known, value = constant_value(node.operand)
        if known and type(value) in (int, float, complex):
            return True, -value if isinstance(node.op, ast.USub) else value
    return False, None


def plain(value):
    """Whether ``==`` on the value is Python's own (not an array's, elementwise)."""
    return value is None or type(value) in (bool, int, float, str) or type(value) is tuple and all(map(plain, value))


def as_node(value):
    if type(value) is tuple:
        return ast.Tuple([as_node(item) for item in value], ast.Load())
    return ast.Constant(value)


class Fold(ast.NodeTransformer):
    """Expressions of known values computed: ``(True, False) or (False, False)``, ``None is not
    None``, ``x if False else None``, a known tuple's item, ``not True``. ``changed`` tells
    whether it computed any."""

    changed = False

    def __init__(self, never_none=lambda node: False):
        self.never_none = never_none  # whether a node is certainly not None (an array's name)

    def visit(self, node):
        result = getattr(self, "visit_" + type(node).__name__, self.generic_visit)(node)  # as ast.NodeVisitor's
        if result is not node:
            self.changed = True
        return result

    def generic_visit(self, node):
        """``ast.NodeTransformer``'s, through the fields that may hold nodes worth a visit only (as
        ``nodes``): Fold computes no context nor operator, and its visits give a node for a node
        (never None or a list, which ``ast.NodeTransformer``'s takes out or splices in)."""
        for field in _CHILD_FIELDS[type(node)]:
            value = getattr(node, field, None)
            if type(value) is list:
                value[:] = [self.visit(item) if isinstance(item, ast.AST) else item for item in value]
            elif isinstance(value, ast.AST):
                setattr(node, field, self.visit(value))
        return node

    def visit_Constant(self, node):  # noqa: N802
        return node  # a literal: nothing to compute (ast.NodeVisitor's looks for the visit_Num of old first)

    def visit_BoolOp(self, node):  # noqa: N802
        self.generic_visit(node)
        kept = []
        for position, value in enumerate(node.values):
            known, constant = constant_value(value)
            last = position == len(node.values) - 1
            if not known:
                kept.append(value)
                continue
            decides = bool(constant) if isinstance(node.op, ast.Or) else not bool(constant)
            if decides or last:
                if not kept:
                    return value
                kept.append(value)
                break
        if len(kept) == len(node.values):
            return node
        return kept[0] if len(kept) == 1 else ast.BoolOp(node.op, kept)

    def visit_UnaryOp(self, node):  # noqa: N802
        self.generic_visit(node)
        known, value = constant_value(node.operand)
        if known and isinstance(node.op, ast.Not):
            return ast.Constant(not value)
        return node

    def visit_Compare(self, node):  # noqa: N802
        self.generic_visit(node)
        if len(node.ops) != 1:
            return node
        operation = node.ops[0]
        left_known, left = constant_value(node.left)
        right_known, right = constant_value(node.comparators[0])
        if isinstance(operation, (ast.Is, ast.IsNot)):
            if left_known and right_known and (left is None or right is None):
                same = left is right
            elif self.never_none(node.left) and right_known and right is None:
                same = False
            else:
                return node
            return ast.Constant(same if isinstance(operation, ast.Is) else not same)
        if left_known and right_known and isinstance(operation, (ast.Eq, ast.NotEq)) and plain(left) and plain(right):
            equal = left == right
            return ast.Constant(equal if isinstance(operation, ast.Eq) else not equal)
        return node

    def visit_Call(self, node):  # noqa: N802
        self.generic_visit(node)
        if type(node.func) is not ast.Name or node.keywords or len(node.args) not in (1, 2):
            return node
        if node.func.id == "isinstance" and len(node.args) == 2:
            known, value = constant_value(node.args[0])
            kinds = _builtin_types(node.args[1])
            if known and kinds is not None:
                return ast.Constant(isinstance(value, kinds))
        if node.func.id == "len" and len(node.args) == 1 and type(node.args[0]) is ast.Tuple:
            items = node.args[0].elts
            if all(type(item) in (ast.Name, ast.Constant) for item in items):  # nothing evaluated is lost
                return ast.Constant(len(items))
        return node

    def visit_IfExp(self, node):  # noqa: N802
        self.generic_visit(node)
        known, value = constant_value(node.test)
        if known:
            return node.body if value else node.orelse
        return node

    def visit_Subscript(self, node):  # noqa: N802
        self.generic_visit(node)
        known, value = constant_value(node.value)
        index_known, index = constant_value(node.slice)
        if isinstance(node.slice, ast.Slice):
            bounds = [constant_value(bound) if bound is not None else (True, None) for bound in (node.slice.lower, node.slice.upper, node.slice.step)]
            index_known = all(known_bound for known_bound, _ in bounds)
            index = slice(*(bound for _, bound in bounds))
        if known and index_known and isinstance(node.ctx, ast.Load) and type(value) is tuple:
            try:
                return as_node(value[index])
            except (TypeError, IndexError):
                return node
        return node


_BUILTIN_TYPES = {"int": int, "float": float, "bool": bool, "complex": complex, "str": str, "tuple": tuple}


def _builtin_types(node):
    """The types a node names (``int``, ``(int, float)``): builtins no program or operation's
    module names otherwise; None for anything else."""
    names = node.elts if type(node) is ast.Tuple else [node]
    if all(type(name) is ast.Name and name.id in _BUILTIN_TYPES for name in names):
        return tuple(_BUILTIN_TYPES[name.id] for name in names)
    return None


def has_decided_if(body):
    return any(isinstance(node, ast.If) and constant_value(node.test)[0] for statement in body for node in nodes(statement))


def decided_branches(body):
    """``if`` statements whose test is known replaced by the branch taken, at every depth."""
    result = []
    for statement in body:
        if isinstance(statement, ast.If):
            known, value = constant_value(statement.test)
            if known:
                result += decided_branches(statement.body if value else statement.orelse)
                continue
        for field in ("body", "orelse"):
            inner = getattr(statement, field, None)
            if inner:
                setattr(statement, field, decided_branches(inner) or ([ast.Pass()] if field == "body" else []))
        result.append(statement)
    return result


def copied(node):
    """A fresh copy of ``node`` to put in another place of a tree (a name, a literal, a tuple of
    them are rebuilt directly, anything else deep-copied)."""
    kind = type(node)
    if kind is ast.Name:
        return ast.Name(node.id, ast.Load())
    if kind is ast.Constant:
        return ast.Constant(node.value)
    if kind is ast.Tuple:
        return ast.Tuple([copied(item) for item in node.elts], ast.Load())
    return copy.deepcopy(node)


class Renamed(ast.NodeTransformer):
    """Each name in ``names`` (name -> new name), read or assigned, renamed."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):  # noqa: N802 (ast.NodeTransformer's naming)
        return ast.copy_location(ast.Name(self.names[node.id], node.ctx), node) if node.id in self.names else node


def nodes(root, held=None):
    """Every node under ``root`` (itself included), each before those under it: ``ast.walk``'s
    nodes, without the contexts and operators, in half its time. Given a list ``held``, each
    statement under ``root`` goes there instead, its nodes left out: what is left of a block is
    its header (an if's test, a loop's target and iterable, a def's arguments)."""
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        fields = _CHILD_FIELDS.get(type(node))
        if fields is None:  # not a node: an absent value (None), a name in ``global``
            continue
        found.append(node)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is not list:
                stack.append(value)
            elif held is not None and value and isinstance(value[0], ast.stmt):  # a body: statements alone
                held += value
            else:
                stack += value
    return found


def _node_types(kind):
    """``kind`` and every node type derived from it."""
    return [kind, *(each for subclass in kind.__subclasses__() for each in _node_types(subclass))]


_LEAF_FIELDS = {"ctx", "op", "ops", "id", "attr", "arg", "name", "kind", "type_comment"}  # never a node worth a visit
# node type -> the fields that may hold nodes worth a visit (a literal's value is none); a value
# that is no node has no entry
_CHILD_FIELDS = {kind: tuple(field for field in kind._fields if field not in _LEAF_FIELDS) for kind in _node_types(ast.AST)}
_CHILD_FIELDS[ast.Constant] = ()
