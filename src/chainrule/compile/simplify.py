"""The recorded program made shorter with what the recording knows for certain.

Each operation's ``forward`` and ``backward`` are written into the program as they are in their
source, general enough for every call: the backward of a linear layer asks whether the weight was
stored transposed, whether alpha is 1, whether the gradient is 2-d::

    ctx4.weight_transposed, ctx4.alpha, ctx4.beta = (False, 1, 1)   # in the forward
    ...
    v56, v55 = ctx4.saved_tensors                                    # in the backward
    v46, v47 = (ctx4.alpha, ctx4.beta)
    v49 = g30 if g30.ndim == 2 else g30.reshape(-1, g30.shape[-1])
    g44 = v57.mT @ v49 if ctx4.weight_transposed else v49.mT @ v57
    g44 = g44 if v46 == 1 else g44 * v46

The program sets those attributes to the same literals on every call, and the recording saw how
many dimensions each of its arrays has (a replay runs only on arguments of the same shapes), so
these tests are decided once, here::

    g44 = g30.mT @ x1

What is known:

- a context's attribute that the program sets once, to a literal or to a tuple of names that are
  never rebound (``ctx4.saved_tensors = (x1, None)``), where no call is handed the context (a call
  could read or change it): every later read is that value, and the assignment goes;
- a name assigned once a literal or another name that is never rebound: every read is that value,
  and the assignment goes (``v46 = 1``; ``v49 = g30``);
- ``name.ndim`` of each array the recording named (``ndims``), read after the name's last
  assignment: the dimensions an operation's result has depend on the dimensions of its inputs,
  never on their values (not a name a loop assigns, nor one an ``if`` assigns among other
  places: which value it holds may differ from call to call).

Then tests of known values are computed (``folding.py``), an ``if`` whose test is known becomes
its branch, and an assignment of a name or a literal that nothing reads goes. Every statement that
computes stays, in its order, on the same arrays: the results are the same bit for bit.

The whole program runs under ``ignoring_float_errors`` (inf and nan pass silently, as in PyTorch
and in chainrule's eager operations), so the ``with ignoring_float_errors():`` blocks inside it
are only their bodies. A nested ``def`` (a backward that runs later) keeps its own.
"""
import ast
import collections
import contextlib
import functools
import gc
import itertools
import operator
import typing

from chainrule.backend import UFUNCS_GIVE_ARRAYS
from chainrule.compile.folding import Fold, Renamed, constant_value, copied, decided_branches, nodes

_EXACT_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)  # correctly rounded, on scalars as on arrays
_BLOCKS = (ast.For, ast.While, ast.If, ast.With, ast.FunctionDef, ast.Try)  # statements holding statements
_HOLDERS = {kind for kind in ast.stmt.__subclasses__() if {"body", "cases"} & set(kind._fields)}  # every kind of block
_FOLDABLE = (ast.IfExp, ast.BoolOp, ast.Compare, ast.UnaryOp, ast.Subscript)  # what Fold may compute


def simplified(lines, shapes, contexts, broadcasts=frozenset(), row_major=frozenset(), constant_arrays=frozenset()):
    """The program's ``lines`` (``(indent, code, comment)``, the body at indent 1) simplified,
    inside one ``with ignoring_float_errors():`` block. ``shapes``: name -> the shape of the array
    the recording saw under that name; ``contexts``: the names of the program's contexts;
    ``broadcasts``: the names of ``chainrule.ops.reduce.spread`` (a reduction's gradient broadcast
    back to its input's shape); ``row_major``: the names among ``shapes`` of arrays laid out
    row-major (as they are on every call: the arguments' layouts are guarded);
    ``constant_arrays``: the names of the constants that are arrays.

    The result depends on these alone, so a program recorded again as it was (a step recorded
    anew for inputs whose guards it failed before, a model compiled again) is simplified once:
    the last ``_REMEMBERED`` results are kept."""
    return list(_simplified_once(
        tuple(lines), tuple(shapes.items()), frozenset(contexts), frozenset(broadcasts), frozenset(row_major),
        frozenset(constant_arrays),
    ))


_REMEMBERED = 32


@contextlib.contextmanager
def cycle_collection_paused():
    """Python's collector of reference cycles paused while a program is simplified, written and
    compiled, as ``timeit`` pauses it. A program's tree is a hundred thousand small objects made at
    once, and a recording keeps every context alive: the collector, run after every 700 new objects,
    would walk through them again and again (a fifth of the time of a simplification, a third of
    writing and compiling a 100,000-operation chain) to find next to nothing: a node refers only to
    the nodes under it, so the tree is freed by reference counts. The few cycles made (``ast.dump``'s
    helper refers to itself) are collected once it runs again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@functools.lru_cache(maxsize=_REMEMBERED)
@cycle_collection_paused()
def _simplified_once(lines, shapes, contexts, broadcasts, row_major, constant_arrays):
    source = "\n".join("    " * (indent - 1) + code for indent, code, _ in lines)
    body = ast.parse(source).body
    body = _without_error_blocks(body)
    recorded = dict(shapes)
    for _ in range(_WALKS):  # a branch dropped may leave a name assigned once: known (its value, its shape) on the next walk
        shapes = _certain_shapes(recorded, facts := _Facts(body))
        program = _Pass(facts, shapes, contexts)
        body = program.walk(body)
        if not program.decided:
            break
    body = program.unread_dropped(body, _Facts(body))
    if broadcasts:  # once the values a context held are read as the names they are
        body = _scalar_broadcasts_dropped(body, _Facts(body), shapes, broadcasts, row_major)
    if UFUNCS_GIVE_ARRAYS:
        body = _arrays_made_at_once(body, _Facts(body), shapes, constant_arrays)
    comments = _Comments(lines)
    written = [(1, "with ignoring_float_errors():", "inf and nan pass silently, as in PyTorch")]
    written += _lines(body, 2, comments)
    return tuple(written)


_WALKS = 3  # walks through the program at most: an operation's branches nest two deep at most (Pow's backward)


def _certain_shapes(shapes, facts):
    """The recorded shapes of the names that hold them wherever they are read: a name a loop
    assigns holds arrays of each repetition's shape; one a branch assigns, and something else too,
    may hold the other value when the branch is not taken."""
    return {
        name: shape for name, shape in shapes.items()
        if name not in facts.looped and (name not in facts.branched or facts.name_stores[name] == 1)
    }


def _scalar_broadcasts_dropped(body, facts, shapes, broadcasts, row_major):
    """``b = spread(ctx, s)`` of a 0-d ``s`` (the gradient of a reduction over every axis), where
    each read of ``b`` is an operand of + - * / beside a row-major array of ``b``'s shape, as ``s``
    there, and the broadcast gone: ``grad * p`` for ``broadcast_to(grad, p.shape) * p``, which the
    gradient of ``(p * p).sum()`` (an L2 penalty written by hand) has once per parameter. Each
    element is the same correctly rounded operation on the same two numbers, and the result has
    the other operand's shape and layout either way (a small broadcast is a new row-major array:
    beside an array laid out otherwise, the product's layout, and so the order of a later sum,
    would change). Only statements that run on every call (at the top or in a ``with`` block),
    names assigned once at most (so each holds one array, of the shape the recording saw)."""
    candidates = {}
    for statement in _unconditional(body):
        call = statement.value if _one_name_assigned(statement) else None
        if (
            type(call) is ast.Call and type(call.func) is ast.Name and call.func.id in broadcasts
            and len(call.args) == 2 and not call.keywords and type(call.args[1]) is ast.Name
        ):
            name, scalar = statement.targets[0].id, call.args[1].id
            if shapes.get(scalar) == () and name in shapes and facts.name_stores[name] == 1 and facts.name_stores[scalar] <= 1:
                candidates[name] = scalar
    beside = collections.Counter()  # reads of each candidate beside an array of its shape
    for statement in body:
        for node in nodes(statement):
            if type(node) is ast.BinOp and type(node.op) in _EXACT_OPERATORS:
                for operand, other in ((node.left, node.right), (node.right, node.left)):
                    if (
                        type(operand) is ast.Name and operand.id in candidates and type(other) is ast.Name
                        and other.id not in candidates and facts.name_stores[other.id] <= 1
                        and shapes.get(other.id) == shapes[operand.id] and other.id in row_major
                    ):
                        beside[operand.id] += 1
    dropped = {name: scalar for name, scalar in candidates.items() if beside[name] == facts.loads[name] > 0}
    return _renamed(body, dropped) if dropped else body


_UFUNCS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide", ast.USub: "negative"}


def _arrays_made_at_once(body, facts, shapes, constant_arrays):
    """``x = a + b`` (or ``x = a.sum()``) then ``x = xp.asarray(x)`` (a 0-d result, which NumPy
    gives as a scalar, made the 0-d array eager's tensor holds) as ``x = xp.add(a, b, out=...)``
    (``xp.add.reduce(a, axis=None, out=...)``), which gives the array at once: ``a + b`` of an
    array ``a`` is that ufunc on the same operands, so the bits are the same, less a scalar made
    and converted (a sum of per-parameter L2 terms has two per parameter).
    Each operand is a number or a name that holds an array there (one the recording saw, after
    its last assignment), so that ``+`` is the array's and not a NumPy scalar's arithmetic."""

    def array_here(operand, line):
        if type(operand) is ast.Constant:
            return type(operand.value) in (int, float)
        return type(operand) is ast.Name and (
            operand.id in constant_arrays or operand.id in shapes and facts.last_store.get(operand.id, 0) < line
        )

    result = []
    for statement in body:
        if isinstance(statement, (ast.With, ast.If)):
            statement.body = _arrays_made_at_once(statement.body, facts, shapes, constant_arrays)
            if isinstance(statement, ast.If):
                statement.orelse = _arrays_made_at_once(statement.orelse, facts, shapes, constant_arrays)
        previous = result[-1] if result else None
        if (
            _one_name_assigned(statement) and _one_name_assigned(previous)
            and previous.targets[0].id == statement.targets[0].id
            and ast.unparse(statement.value) == f"xp.asarray({statement.targets[0].id})"
        ):
            value = _made_as_array(previous.value, lambda operand: array_here(operand, previous.lineno))
            if value is not None:
                result[-1] = ast.copy_location(ast.Assign(previous.targets, value, lineno=0), previous)
                _rewritten(result[-1])
                continue
        result.append(statement)
    return result


_SUM_KEYWORDS = {"axis", "keepdims", "dtype"}


def _made_as_array(value, array_here):
    """``value`` (arithmetic, ``a.sum(...)`` or ``xp.add.reduce(a, ...)``, of operands that hold
    arrays) computed as the ufunc it calls with ``out=...``, which gives a 0-d result as an array;
    None if it is none of these.
    ``a.sum(axis, dtype=..., keepdims=...)`` is ``xp.add.reduce(a, axis, ...)`` in NumPy itself
    (``ndarray.sum`` calls it), with the axis None when not given."""
    out = ast.keyword("out", ast.Constant(...))
    operands = (value.operand,) if type(value) is ast.UnaryOp else (value.left, value.right) if type(value) is ast.BinOp else ()
    if operands and type(value.op) in _UFUNCS and all(map(array_here, operands)):
        ufunc = ast.Attribute(ast.Name("xp", ast.Load()), _UFUNCS[type(value.op)], ast.Load())
        return ast.Call(ufunc, list(operands), [out])
    if (
        type(value) is ast.Call and type(value.func) is ast.Attribute and value.func.attr == "sum"
        and array_here(value.func.value) and len(value.args) <= 1 and not any(type(arg) is ast.Starred for arg in value.args)
        and all(keyword.arg in _SUM_KEYWORDS for keyword in value.keywords)
        and not (value.args and any(keyword.arg == "axis" for keyword in value.keywords))
    ):
        reduce = ast.Attribute(ast.Attribute(ast.Name("xp", ast.Load()), "add", ast.Load()), "reduce", ast.Load())
        given = {keyword.arg: keyword.value for keyword in value.keywords}
        axis = value.args[0] if value.args else given.pop("axis", ast.Constant(None))
        keywords = [ast.keyword("axis", axis), *(ast.keyword(name, node) for name, node in given.items() if name != "axis")]
        return ast.Call(reduce, [value.func.value], [*keywords, out])
    if (  # xp.add.reduce(a, axis=..., ...) itself (Sum's and Mean's forward call it so)
        type(value) is ast.Call and ast.unparse(value.func) == "xp.add.reduce" and len(value.args) == 1
        and array_here(value.args[0]) and all(keyword.arg in _SUM_KEYWORDS for keyword in value.keywords)
    ):
        return ast.Call(value.func, value.args, [*value.keywords, out])
    return None


def conjugates_dropped(lines):
    """The program's ``lines`` with each ``ctx.xp.conj(e)`` written ``e``, for a recording in which
    no array is complex: the conjugate of a real array is the array itself (``ArrayFunctions.conj``,
    which backward formulas call for PyTorch's convention on complex numbers). Done before the
    program is rolled, so that a loop does not iterate over the contexts only conj was read from."""
    return [(indent, _without_conj(code) if ".xp.conj(" in code else code, comment) for indent, code, comment in lines]


@functools.lru_cache(maxsize=4096)
def _without_conj(code):
    """One statement's code with its ``<...>.xp.conj(e)`` calls written ``e`` (a line that is no
    whole statement, a block's header, is left as it is). A pure function of the line, kept for the
    lines recorded again (the same backward formulas, in each recording of a step)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    return ast.unparse(_ConjugatesDropped().visit(tree))


class _ConjugatesDropped(ast.NodeTransformer):
    def visit_Call(self, node):  # noqa: N802 (ast's name)
        node = self.generic_visit(node)
        function = node.func
        if (
            isinstance(function, ast.Attribute) and function.attr == "conj" and isinstance(function.value, ast.Attribute)
            and function.value.attr == "xp" and len(node.args) == 1 and not node.keywords
        ):
            return node.args[0]
        return node


def _unconditional(body):
    """The simple statements of ``body`` and of the ``with`` blocks in it: those that run whenever
    the program does, in their order."""
    for statement in body:
        if type(statement) is ast.With:
            yield from _unconditional(statement.body)
        elif not isinstance(statement, _BLOCKS):
            yield statement


def _renamed(body, names):
    """``body`` with each read of a name in ``names`` (name -> new name) renamed, and the
    assignments to those names (in the body and its ``with`` blocks) gone."""
    result = []
    for statement in body:
        if type(statement) is ast.With:
            statement.body = _renamed(statement.body, names) or [ast.Pass()]
        elif _one_name_assigned(statement) and statement.targets[0].id in names:
            continue
        elif not names.keys().isdisjoint(_uses(statement).named):
            statement = Renamed(names).visit(statement)
            _each_rewritten(statement)
        result.append(statement)
    return result


def _one_name_assigned(statement):
    """Whether ``statement`` is ``name = value``."""
    return type(statement) is ast.Assign and len(statement.targets) == 1 and type(statement.targets[0]) is ast.Name


# ----------------------------------------------------------------------------- one pass
class _Uses(typing.NamedTuple):
    """What a statement (or a block's header) reads and assigns, found in one walk through its
    nodes: what ``_Facts`` counts over the program, and what ``_Pass`` asks of the statement
    (whether it reads a value known by then). Each field but ``foldable`` is a tuple with an entry
    per node, so that ``together`` is a few joins.

    A program is counted up to six times (before each walk and each later pass) and each walk
    asks this of every statement, while most statements stay as they were recorded. So a
    statement that holds no others keeps its uses (``statement.uses``) from one time to the
    next, until it changes: every change to a statement, in place or new, goes through
    ``_rewritten`` (which ``_lines`` needs as well, to write it out anew), which drops them; and
    no node is in two statements, so a change to one changes no other. A block's are gathered
    anew each time from its header's and its statements' (``_gather_uses``): passes give blocks
    new bodies in many places."""

    loads: tuple  # a name or (name, attribute) per read
    bare_loads: tuple  # a name per read not through an attribute (handed to a call, returned)
    stores: tuple  # a name per assignment (a parameter's too)
    store_lines: tuple  # (name, line) per assignment of a name
    attribute_stores: tuple  # (name, attribute) per assignment
    arithmetic_loads: tuple  # a name per read as an operand of + - * /
    looped: tuple  # a name per assignment in a loop
    branched: tuple  # a name per assignment in an if's branch
    named: tuple  # a name or (name, attribute) per read or assignment
    ndim_lines: tuple  # (name, line) per read of name.ndim
    foldable: bool  # whether ``Fold`` may compute something in it where nothing in it is replaced (see _settled)

    @classmethod
    def of(cls, found):
        """The uses of the nodes ``found``."""
        loads, bare_loads, stores, store_lines, attribute_stores = [], [], [], [], []
        arithmetic_loads, named, ndim_lines = [], [], []
        foldable = False
        under_attribute = set()  # an attribute comes before the name it is read from
        for node in found:
            kind = type(node)
            if kind is ast.Name:
                named.append(node.id)
                if type(node.ctx) is ast.Load:
                    loads.append(node.id)
                    if id(node) not in under_attribute:
                        bare_loads.append(node.id)
                else:
                    stores.append(node.id)
                    store_lines.append((node.id, node.lineno))
            elif kind is ast.Attribute and type(node.value) is ast.Name:
                under_attribute.add(id(node.value))
                key = (node.value.id, node.attr)
                named.append(key)
                (loads if type(node.ctx) is ast.Load else attribute_stores).append(key)
                if node.attr == "ndim":
                    ndim_lines.append((node.value.id, node.lineno))
            elif kind is ast.arg:
                stores.append(node.arg)
            elif kind is ast.BinOp and type(node.op) in _EXACT_OPERATORS:
                arithmetic_loads += (operand.id for operand in (node.left, node.right) if type(operand) is ast.Name)
            elif kind in _FOLDABLE:
                foldable = True
        return cls(
            tuple(loads), tuple(bare_loads), tuple(stores), tuple(store_lines), tuple(attribute_stores),
            tuple(arithmetic_loads), (), (), tuple(named), tuple(ndim_lines), foldable,
        )

    @classmethod
    def together(cls, parts):
        """The uses of ``parts`` (a block's header and statements, a program's statements) as one."""
        *listed, foldable = zip(*parts) if parts else ((),) * len(cls._fields)
        return cls(*(tuple(itertools.chain.from_iterable(column)) for column in listed), any(foldable))


_NO_USES = _Uses.of(())


def _uses(statement):
    """What ``statement`` reads and assigns, as one ``_Uses``."""
    parts = []
    _gather_uses(statement, parts)
    return parts[0] if len(parts) == 1 else _Uses.together(parts)


def _gather_uses(statement, parts):
    """Puts in ``parts`` what ``statement`` reads and assigns: the uses a statement that holds no
    others keeps (found now if it has none); for a block, its header's, those of each statement it
    holds, and the names a loop or an if's branch assigns."""
    if type(statement) not in _HOLDERS:
        uses = getattr(statement, "uses", None)
        if uses is None:
            uses = statement.uses = _Uses.of(nodes(statement))
        parts.append(uses)
        return
    start = len(parts)
    held = []
    parts.append(_Uses.of(nodes(statement, held)))
    for inner in held:
        _gather_uses(inner, parts)
    if type(statement) in (ast.For, ast.While, ast.If):
        assigned = tuple(name for part in parts[start:] for name, _ in part.store_lines)
        if type(statement) is ast.If:
            parts.append(_NO_USES._replace(branched=assigned))
        else:
            parts.append(_NO_USES._replace(looped=assigned))


def _rewritten(statement):
    """``statement`` marked new or changed in place: ``_lines`` writes it out anew (the others
    keep their recorded text), and its uses are found anew when next asked."""
    statement.rewritten = True
    statement.uses = None


def _each_rewritten(statement):
    """``statement`` and each statement in it marked rewritten: a transformer went through it
    whole (a loop folded, a block renamed)."""
    _rewritten(statement)
    if type(statement) in _HOLDERS:
        held = []
        nodes(statement, held)
        for inner in held:
            _each_rewritten(inner)


def _settled(statement):
    """``statement`` gone through by a ``Fold`` that computed nothing in it (nor replaced anything):
    while it keeps its uses (it does not change) and nothing in it is replaced, a ``Fold`` sees
    the same nodes and computes nothing again, so it is no longer ``foldable``. (A block keeps no
    uses: it may be folded again.)"""
    if getattr(statement, "uses", None) is not None:
        statement.uses = statement.uses._replace(foldable=False)


class _Facts:
    """What one walk through the program finds: how often each name and each ``name.attribute``
    is assigned and read (and read as an operand of + - * /), the last line assigning each name,
    the names read bare (handed to a call, returned: not only through attributes), and the names
    a loop or an if's branch assigns: the uses of its statements, counted."""

    def __init__(self, body):
        parts = []
        for statement in body:
            _gather_uses(statement, parts)
        uses = _Uses.together(parts)
        self.name_stores = collections.Counter(uses.stores)
        self.last_store = dict(sorted(uses.store_lines, key=_LINE))  # sorted by line: the last one of each name is left
        self.attribute_stores = collections.Counter(uses.attribute_stores)
        self.loads = collections.Counter(uses.loads)  # name or (name, attribute) -> reads
        self.arithmetic_loads = collections.Counter(uses.arithmetic_loads)  # name -> reads as an operand of + - * /
        self.escaped = set(uses.bare_loads)
        self.looped = set(uses.looped)
        self.branched = set(uses.branched)  # names an if's branch assigns


_LINE = operator.itemgetter(1)  # of a (name, line) pair


class _Pass:
    """One walk through the program in its order: reads of known values replaced, assignments
    that make them dropped; then assignments nothing reads dropped."""

    def __init__(self, facts, shapes, contexts):
        self.ndims = ndims = {name: len(shape) for name, shape in shapes.items()}
        self.name_stores = facts.name_stores
        self.last_store = facts.last_store
        self.attribute_stores = facts.attribute_stores
        self.contexts = {name for name in contexts if name not in facts.escaped}
        self.only_arithmetic = {name for name in ndims if facts.loads[name] == facts.arithmetic_loads[name]}
        self.known = {}  # name or (context, attribute) -> the expression it always holds
        self.decided = False  # whether an ``if`` became one of its branches

    def walk(self, body, unconditional=True, in_function=False):
        """``body`` with known reads replaced and what became known dropped; ``unconditional``:
        every statement of it runs when the one before it does (not inside an ``if``);
        ``in_function``: it runs later, in a nested ``def``, where only its own locals are learned."""
        result = []
        for statement in body:
            statement = self._replace_known(statement)
            if isinstance(statement, ast.If) and constant_value(statement.test)[0]:
                self.decided = True
                result += self.walk(decided_branches([statement]), unconditional, in_function)
                continue
            if isinstance(statement, ast.If) and _same_either_way(statement):
                self.decided = True
                result += self.walk(statement.body, unconditional, in_function)
                continue
            split = self._split(statement)
            if split is not None:
                result += self.walk(split, unconditional, in_function)
                continue
            if result and unconditional and not in_function:
                statement = self._repeat_reused(result[-1], statement)
            if unconditional and self._learned(statement, in_function):
                continue
            if isinstance(statement, ast.With):
                statement.body = self.walk(statement.body, unconditional, in_function) or [ast.Pass()]
            elif isinstance(statement, ast.FunctionDef):
                statement.body = self.walk(statement.body, True, True) or [ast.Pass()]
            elif isinstance(statement, ast.If):
                statement.body = self.walk(statement.body, False, in_function) or [ast.Pass()]
                statement.orelse = self.walk(statement.orelse, False, in_function)
            result.append(statement)
        return result

    def _replace_known(self, statement):
        """``statement`` with known reads replaced and folded: the header of an ``if``, a
        ``with`` or a ``def`` only (its body is walked in turn); a loop whole, body included (a
        loop is not walked: nothing is learned inside it); a simple statement only where it may
        change (a walk through it costs a third of a rewrite)."""
        if isinstance(statement, ast.FunctionDef):
            return statement
        if not isinstance(statement, (ast.If, ast.With)) and not self._may_change(statement):
            return statement
        fold = _Known(self.known, self.ndims, self.last_store)
        if isinstance(statement, ast.If):
            statement.test = fold.visit(statement.test)
        elif isinstance(statement, ast.With):
            statement.items = [fold.visit(item) for item in statement.items]
        else:
            statement = fold.visit(statement)
            if fold.changed:  # a loop's statements changed inside it are written out anew too
                _each_rewritten(statement)
            else:
                _settled(statement)
        if fold.changed:
            _rewritten(statement)
        return statement

    def _may_change(self, statement):
        """Whether ``_Known`` may change ``statement``: it names a known value, or reads the ``ndim``
        of an array where it is known, or ``Fold`` may compute something in it as it is."""
        uses = _uses(statement)
        return (
            uses.foldable
            or not self.known.keys().isdisjoint(uses.named)
            or any(name in self.ndims and self.last_store.get(name, 0) < line for name, line in uses.ndim_lines)
        )

    def _split(self, statement):
        """``a, ctx.b = (x, None)`` as ``a = x`` and ``ctx.b = None``, where the values are names
        and literals none of the targets is (assigning one by one then gives the same)."""
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            return None
        target, value = statement.targets[0], statement.value
        if not (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts)):
            return None
        if any(isinstance(node, ast.Starred) for node in (*target.elts, *value.elts)):
            return None
        if not all(_simple(item) for item in value.elts):
            return None
        assigned = {node.id for item in target.elts for node in nodes(item) if type(node) is ast.Name and type(node.ctx) is ast.Store}
        if any(type(node) is ast.Name and node.id in assigned for item in value.elts for node in nodes(item)):
            return None  # a value read after a target assigned it: assigned one by one, it would read the new value
        split = [ast.copy_location(ast.Assign([one], item, lineno=0), statement) for one, item in zip(target.elts, value.elts)]
        for assignment in split:
            _rewritten(assignment)
        return split

    def _repeat_reused(self, previous, statement):
        """``b = x * y`` right after ``a = x * y`` as ``b = a`` (then learned: ``b`` becomes ``a``),
        which the gradient of ``x * x`` has twice (PyTorch's MulBackward0 computes
        ``grad * other`` for each input). The same correctly rounded operation on the same arrays
        gives the same bits; sharing one array is unseen where both names are arrays read only as
        operands of + - * / (never changed in place, handed to a call or kept) and assigned once."""
        if not (_arithmetic_assignment(previous) and _arithmetic_assignment(statement)):
            return statement
        first, second = previous.targets[0].id, statement.targets[0].id
        if (  # the dumps last: they cost the most
            {first, second} - self.only_arithmetic
            or self.name_stores[first] != 1 or self.name_stores[second] != 1
            or ast.dump(previous.value) != ast.dump(statement.value)
            or any(type(node) is ast.Name and node.id == first for node in nodes(statement.value))
        ):
            return statement
        reused = ast.copy_location(ast.Assign([statement.targets[0]], ast.Name(first, ast.Load()), lineno=0), statement)
        _rewritten(reused)
        return reused

    def _learned(self, statement, in_function):
        """Whether ``statement`` assigns a value that is known from here on (and is dropped)."""
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            return False
        target, value = statement.targets[0], statement.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Name) and target.id == value.id:
            return True  # x = x
        if isinstance(target, ast.Name):
            key, stores = target.id, self.name_stores[target.id]
        elif (
            isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in self.contexts
            and not in_function
        ):
            key, stores = (target.value.id, target.attr), self.attribute_stores[target.value.id, target.attr]
        else:
            return False
        if stores != 1 or not (constant_value(value)[0] or self._not_rebound(value, statement.lineno, in_function)):
            return False
        self.known[key] = value
        return True

    def _not_rebound(self, value, line, in_function):
        """Whether ``value`` is a name (or a literal tuple of names and literals) that nothing
        assigns after ``line``: read anywhere after it, it holds the same object. (In a nested
        ``def``, which runs later, the name must be assigned once at most.)"""
        if isinstance(value, ast.Name):
            if in_function:
                return self.name_stores[value.id] <= 1
            return self.last_store.get(value.id, 0) < line
        if isinstance(value, ast.Tuple):
            return all(constant_value(item)[0] or self._not_rebound(item, line, in_function) for item in value.elts)
        return False

    def unread_dropped(self, body, facts):
        """``body`` without the assignments of names and literals that nothing reads, nor the
        arithmetic of arrays whose result nothing reads. (A 0-d result's ``x = xp.asarray(x)``
        stays: + - * / round alike on a NumPy scalar, but of two NaN operands may pass on the
        other one, with another sign, than on arrays.)"""
        loads = facts.loads
        result = []
        for statement in body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and _simple(statement.value):
                target = statement.targets[0]
                if isinstance(target, ast.Name) and not loads[target.id]:
                    continue
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    key = (target.value.id, target.attr)
                    if target.value.id in self.contexts and not loads[key]:
                        continue
            if _one_name_assigned(statement) and not loads[statement.targets[0].id] and self._arithmetic_of_arrays(statement.value):
                continue  # the gradient of an input nothing needs (_ = -grad, SubBackward0's second)
            if isinstance(statement, (ast.With, ast.If)):
                statement.body = self.unread_dropped(statement.body, facts) or [ast.Pass()]
                if isinstance(statement, ast.If):
                    statement.orelse = self.unread_dropped(statement.orelse, facts)
            result.append(statement)
        return result


    def _arithmetic_of_arrays(self, value):
        """Whether ``value`` is ``-a`` or ``a op b`` (+ - * /) of arrays the recording saw and
        literals: it changes nothing, and cannot fail where the recording's call did not (the
        program runs with float errors ignored, on arrays of the recorded shapes and dtypes)."""
        if type(value) is ast.UnaryOp and type(value.op) is ast.USub:
            operands = (value.operand,)
        elif type(value) is ast.BinOp and type(value.op) in _EXACT_OPERATORS:
            operands = (value.left, value.right)
        else:
            return False
        return all(type(operand) is ast.Name and operand.id in self.ndims or constant_value(operand)[0] for operand in operands)


class _Known(Fold):
    """Reads of known values replaced by them (names, contexts' attributes, arrays' ``ndim``),
    and what they decide computed, in one walk."""

    def __init__(self, known, ndims, last_store):
        super().__init__()
        self.known = known
        self.ndims = ndims
        self.last_store = last_store

    def visit_Name(self, node):  # noqa: N802 (ast.NodeTransformer's naming)
        value = self.known.get(node.id) if isinstance(node.ctx, ast.Load) else None
        return node if value is None else ast.copy_location(copied(value), node)

    def visit_Attribute(self, node):  # noqa: N802
        if isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name):
            value = self.known.get((node.value.id, node.attr))
            if value is not None:
                return ast.copy_location(copied(value), node)
            self.generic_visit(node)
            name = node.value.id if isinstance(node.value, ast.Name) else None
            if node.attr == "ndim" and name in self.ndims and self.last_store.get(name, 0) < node.lineno:
                # read after the name got its last value: the one the recording saw (an operation's
                # body may give the name values of other shapes first: result = grad.reshape(...))
                return ast.copy_location(ast.Constant(self.ndims[name]), node)
            return node
        return self.generic_visit(node)


def _same_either_way(statement):
    """Whether an ``if`` runs the same statements whichever way its test goes (a mean's
    ``if count: total / count`` and its ``else`` under ``ignoring_float_errors``, which the whole
    program is), and the test only reads names, their attributes and literals: then it is its body."""
    if len(statement.body) != len(statement.orelse) or any(
        ast.dump(one) != ast.dump(other) for one, other in zip(statement.body, statement.orelse)
    ):
        return False
    return all(isinstance(node, _PURE_TEST) for node in nodes(statement.test))


_PURE_TEST = (
    ast.Name, ast.Attribute, ast.Constant, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Load,
    ast.cmpop, ast.boolop, ast.unaryop,
)


def _arithmetic_assignment(statement):
    """Whether ``statement`` is ``name = a op b`` with op one of + - * / and a, b names or literals."""
    if not _one_name_assigned(statement):
        return False
    value = statement.value
    return (
        type(value) is ast.BinOp and type(value.op) in _EXACT_OPERATORS
        and all(type(operand) is ast.Name or constant_value(operand)[0] for operand in (value.left, value.right))
    )


def _simple(node):
    """A name, a literal, or a tuple of them: evaluating it does nothing but read."""
    if isinstance(node, ast.Tuple):
        return all(map(_simple, node.elts))
    return isinstance(node, ast.Name) or constant_value(node)[0]


def _without_error_blocks(body, inside_function=False):
    """Each ``with ignoring_float_errors():`` as its body, except inside a nested ``def``."""
    result = []
    for statement in body:
        if isinstance(statement, ast.FunctionDef):
            statement.body = _without_error_blocks(statement.body, True)
        elif isinstance(statement, (ast.With, ast.If)):
            if not inside_function and isinstance(statement, ast.With) and _is_error_block(statement):
                result += _without_error_blocks(statement.body, inside_function)
                continue
            statement.body = _without_error_blocks(statement.body, inside_function)
            if isinstance(statement, ast.If):
                statement.orelse = _without_error_blocks(statement.orelse, inside_function)
        result.append(statement)
    return result


def _is_error_block(statement):
    return len(statement.items) == 1 and ast.unparse(statement.items[0]) == "ignoring_float_errors()"


# ----------------------------------------------------------------------------- writing out
class _Comments:
    """Each statement's comment, by the line it came from. An operation's first line carries its
    formula (``Linear: x1 @ p2ᵀ + p3``), its further lines only its name: where the first line was
    dropped, the formula goes to the first of its lines that is left."""

    def __init__(self, lines):
        self.code = {number: code for number, (_, code, _) in enumerate(lines, start=1)}  # the recorded text
        self.comments = {}
        self.first_of = {}
        first = {}  # operation -> the line number of its latest first line
        for number, (_, _, comment) in enumerate(lines, start=1):
            self.comments[number] = comment
            if comment is None:
                continue
            operation = comment.split(":")[0]
            if ":" in comment:
                first[operation] = number
            if operation in first:
                self.first_of[number] = first[operation]
        self.shown = set()

    def of(self, number):
        first = self.first_of.get(number)
        if first is None or first in self.shown:
            return self.comments.get(number)
        self.shown.add(first)
        return self.comments[first]


def _lines(body, indent, comments):
    """The statements as program lines; a statement (or a block's first line) left as it was
    keeps its recorded text, one that changed is written out by ``ast.unparse``."""
    written = []
    for statement in body:
        comment = comments.of(statement.lineno)
        kept = None if getattr(statement, "rewritten", False) else comments.code.get(statement.lineno)
        if isinstance(statement, ast.With):
            written.append((indent, kept or f"with {', '.join(map(ast.unparse, statement.items))}:", comment))
            written += _lines(statement.body, indent + 1, comments)
        elif isinstance(statement, ast.If):  # an elif's recorded text is "elif ...": it is written as an if under else
            written.append((indent, kept if kept and kept.startswith("if ") else f"if {ast.unparse(statement.test)}:", comment))
            written += _lines(statement.body, indent + 1, comments)
            if statement.orelse:
                written.append((indent, "else:", comment))
                written += _lines(statement.orelse, indent + 1, comments)
        elif isinstance(statement, ast.FunctionDef):
            written.append((indent, f"def {statement.name}({ast.unparse(statement.args)}):", comment))
            written += _lines(statement.body, indent + 1, comments)
        elif isinstance(statement, ast.For) and not statement.orelse:
            written.append((indent, kept or f"for {ast.unparse(statement.target)} in {ast.unparse(statement.iter)}:", comment))
            written += _lines(statement.body, indent + 1, comments)
        elif kept is not None and not isinstance(statement, _BLOCKS):
            written.append((indent, kept, comment))
        else:  # a simple statement, or a block written in as it is (a loop)
            operation = comment and comment.split(":")[0]
            for number, line in enumerate(ast.unparse(statement).splitlines()):
                code = line.lstrip(" ")
                written.append((indent + (len(line) - len(code)) // 4, code, comment if number == 0 else operation))
    return written
