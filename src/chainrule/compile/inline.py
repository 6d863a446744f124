"""Writing an operation's ``forward`` or ``backward`` into the program in place of a call to it.

A recorded program calls each operation's functions: ``v4 = Linear.forward(ctx3, x0, p1, p2)``.
For a small network most of a call's time is the call itself (the frame, the arguments, the
``ctx.save_for_backward`` call inside), not its arithmetic. So the body of the function is written
into the program instead, its parameters replaced by the program's values and its local names by
new ones, and simplified with what the recording knows for certain (which inputs need a gradient):

    ctx3.saved_tensors = (x0, None)  # Mul: x0 · p1       (only p1 needs a gradient: x0 is kept)
    v4 = x0 * p1

The same statements run on the same arrays in the same order, so the results are the same bit for
bit. A function is written in only when that is certain from its source: plain positional
parameters, no closure, no nested function, comprehension, ``try``, ``yield``, ``global`` or
``import``, every ``return`` at the end of a path (after an ``if`` or inside a ``with``), every
global name a module, a class, a function or a number, and the source compiling to the names the
running code has (a name its class mangles does not). Anything else stays a call.

Each function is taken apart once per way of calling it; each use after that only fills in names
(``Template.written``), so a 10,000-operation chain records in a fifth more time than with calls
(and replays in half the time).
"""
import ast
import builtins
import collections
import functools
import inspect
import keyword
import linecache
import re
import textwrap
import types

from chainrule.compile.folding import Fold, Renamed, as_node, constant_value, copied, decided_branches, has_decided_if, nodes
from chainrule.compile.replay import ReplayContext, UnrecordedContext

_FORBIDDEN = (
    ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.FunctionDef, ast.AsyncFunctionDef,
    ast.ClassDef, ast.Try, ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal, ast.Import,
    ast.ImportFrom, ast.Delete,
)
_GLOBAL_KINDS = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, int, float, bool, str)
_DYNAMIC = {"locals", "vars", "eval", "exec", "globals", "super", "__class__", "dir"}
_PLACEHOLDER = re.compile(r"__(arg|local|out)(\d+)__|__ctx__")
_NONE = ast.Constant(None)


class Template:
    """One function taken apart for one way of calling it: its body as ``(depth, code)`` lines
    with places for the context (``__ctx__``), the arguments given as names (``__arg0__``...), its
    locals (``__local0__``...) and the targets (``__out0__``...), kept as format strings."""

    def __init__(self, lines, argument_count, target_count, locals_count, globals_used, builtins_used):
        self.locals_count = locals_count
        first_local = argument_count + target_count + 1
        places = {"arg": 0, "out": argument_count, "local": first_local}

        def place(match):
            kind = match.group(1)
            return "{%d}" % (argument_count + target_count if kind is None else places[kind] + int(match.group(2)))

        self.lines = [(depth, _PLACEHOLDER.sub(place, code.replace("{", "{{").replace("}", "}}"))) for depth, code in lines]
        self.globals_used = globals_used  # name -> value: the module globals it reads, bound in the program
        self.builtins_used = builtins_used  # the builtins it calls, which no constant may hide

    def written(self, context, arguments, targets, new_name):
        """The lines with the places filled: ``arguments`` (the operands, of which the names are
        used) and ``targets`` are the program's, ``new_name()`` gives one name per local."""
        names = [*arguments, *targets, context, *[new_name() for _ in range(self.locals_count)]]
        return [(depth, code.format(*names)) for depth, code in self.lines]


_templates = {}  # (function, how it is called) -> Template, or None where it cannot be written in


def template(function, context, operands, form, wanted):
    """The Template for ``targets = function(context, *operands)``, or None where the call stays.

    An operand that is a program name becomes a placeholder; any other (a literal) is part of the
    template, so that tests on it are decided once (``if weight is not None``). ``form`` says how
    the call's line took the result: ``"bare"`` (one output), ``"exact"`` (a tuple of outputs),
    ``"rest"`` (the first gradients, the rest ignored) or ``"first"`` (``only_gradient``: the
    first gradient, bare or in a tuple); ``wanted`` says, for each target, whether it is used."""
    if type(context) not in (ReplayContext, UnrecordedContext) or not isinstance(function, types.FunctionType):
        return None
    shapes = tuple([None if _is_name(operand) else operand for operand in operands])
    key = (function, type(context), context.needs_input_grad, shapes, form, wanted)
    found = _templates.get(key, _MISSING)
    if found is _MISSING:
        try:
            found = _build(function, context, operands, form, wanted)
        except _CannotInline:
            found = None
        if len(_templates) >= _TEMPLATE_LIMIT:  # literals (shapes) make keys: never let them pile up
            _templates.clear()
        _templates[key] = found
    return found


_TEMPLATE_LIMIT = 4096


_KEYWORDS = frozenset(keyword.kwlist)  # None, True, False... are literals, not names
_MISSING = object()


class _CannotInline(Exception):
    pass


class _Analysis:
    """What every way of writing one function in shares: its parameters (the first is the
    context), the constant defaults, the names it binds and the globals it reads."""

    def __init__(self, function):
        if function.__closure__ or function.__code__.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            raise _CannotInline
        tree = ast.parse(_source(function))
        definition = tree.body[0]
        if not isinstance(definition, ast.FunctionDef) or definition.args.kwonlyargs or definition.args.posonlyargs:
            raise _CannotInline
        if not _is_the_running_code(tree, function):
            raise _CannotInline
        for node in nodes(definition):
            if isinstance(node, _FORBIDDEN) and node is not definition:
                raise _CannotInline
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value and node is not _docstring(definition):
                raise _CannotInline  # a line of its own would lose its place in the program
        self.parameters = [argument.arg for argument in definition.args.args]
        defaults = definition.args.defaults
        self.defaults = {
            parameter: default.value if isinstance(default, ast.Constant) else _NOT_CONSTANT
            for parameter, default in zip(self.parameters[len(self.parameters) - len(defaults):], defaults)
        }
        body = _without_docstring(definition.body)
        self.bound = set(_store_counts(body))
        if self.parameters[0] in self.bound:
            raise _CannotInline
        self.globals_used = {}
        for node in nodes(ast.Module(body, [])):
            if isinstance(node, ast.Name) and node.id not in self.parameters and node.id not in self.bound:
                self.globals_used[node.id] = _global_value(function, node.id)


_NOT_CONSTANT = object()


def _is_the_running_code(tree, function):
    """Whether the source compiles to code with the names of the code the function runs: not so
    where a name in it is mangled by its class (``self.__count``), or where the file changed since
    it was imported in a way that changes its names (Python's tracebacks and ``inspect.getsource``
    read the file as it is now too; the bytecode itself cannot be compared: CPython rewrites it as
    it runs)."""
    running = function.__code__
    try:
        module = compile(tree, running.co_filename, "exec")
    except SyntaxError:
        return False
    compiled = next((const for const in module.co_consts if isinstance(const, types.CodeType)), None)
    return compiled is not None and all(
        getattr(compiled, name) == getattr(running, name) for name in ("co_names", "co_varnames", "co_argcount")
    )


@functools.lru_cache(maxsize=None)
def _analysis(function):
    return _Analysis(function)


def _build(function, context, operands, form, wanted):
    analysis = _analysis(function)
    parameters, bound = analysis.parameters, analysis.bound
    if len(operands) + 1 > len(parameters) or len(operands) + 1 < len(parameters) - len(analysis.defaults):
        raise _CannotInline
    body = _without_docstring(ast.parse(_source(function)).body[0].body)

    # what each parameter becomes: a placeholder, a literal, a default
    ctx_name = parameters[0]
    replacements = {ctx_name: ast.Name("__ctx__", ast.Load())}
    prologue = []
    for position, parameter in enumerate(parameters[1:]):
        if position < len(operands):
            operand = operands[position]
            value = ast.Name(f"__arg{position}__", ast.Load()) if _is_name(operand) else _literal(operand)
        else:
            if analysis.defaults[parameter] is _NOT_CONSTANT:
                raise _CannotInline
            value = ast.Constant(analysis.defaults[parameter])
        if parameter in bound:  # rebound in the body: a local, first given the argument
            prologue.append(ast.Assign([ast.Name(parameter, ast.Store())], value, lineno=0))
        else:
            replacements[parameter] = value

    locals_ = {name: f"__local{number}__" for number, name in enumerate(sorted(bound))}
    globals_used = analysis.globals_used

    body = prologue + body
    body = _Substitute(replacements, locals_, context, ctx_name).visit_body(body)
    body = _fold_body(body)
    body = _returns_assigned(body, form, wanted)
    body = _dead_constants_dropped(_returned_local_renamed(body))
    if _compares_literal_by_identity(body):
        raise _CannotInline
    lines = []
    for statement in body:
        for line in ast.unparse(statement).splitlines():
            stripped = line.lstrip(" ")
            lines.append(((len(line) - len(stripped)) // 4, stripped))
    return Template(
        lines,
        len(operands),
        len(wanted),
        len(locals_),
        {name: value for name, value in globals_used.items() if value is not _BUILTIN},
        {name for name, value in globals_used.items() if value is _BUILTIN},
    )


_BUILTIN = object()


@functools.lru_cache(maxsize=None)
def _source(function):
    """The function's source, dedented. Its lines are found from where its code says its statements
    end (``co_positions``), which takes a tenth of ``inspect.getsource``'s tokenizing; where that
    does not give a whole function, ``inspect.getsource`` is asked."""
    code = function.__code__
    positions = getattr(code, "co_positions", None)  # Python 3.11
    if positions is not None:
        last = max((end for _, end, _, _ in positions() if end is not None), default=0)
        lines = linecache.getlines(code.co_filename)[code.co_firstlineno - 1 : last]
        source = textwrap.dedent("".join(lines))
        try:
            if lines and isinstance(ast.parse(source).body[0], ast.FunctionDef):
                return source
        except SyntaxError:
            pass
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        raise _CannotInline from None


def _global_value(function, name):
    if name in _DYNAMIC:
        raise _CannotInline
    if name in function.__globals__:
        value = function.__globals__[name]
    elif hasattr(builtins, name):
        return _BUILTIN
    else:
        raise _CannotInline
    if not isinstance(value, _GLOBAL_KINDS) and value is not None:
        raise _CannotInline  # a global holding state (a dict, a flag object) is read where it is
    return value


def _docstring(definition):
    first = definition.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.value
    return None


def _without_docstring(body):
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:] or [ast.Pass()]
    return body


def _store_counts(body):
    """name -> how many places in ``body`` assign it (``del`` is not allowed in a body)."""
    return collections.Counter(
        node.id for statement in body for node in nodes(statement) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    )


def _is_name(operand):
    """Whether an operand is one of the program's names (not a literal such as None or True)."""
    return operand.isidentifier() and operand not in _KEYWORDS


def _literal(operand):
    """An operand written as a literal (``(0,)``, ``'mean'``, ``None``, ``-100``) as an AST node."""
    try:
        ast.literal_eval(operand)
    except (ValueError, SyntaxError):
        raise _CannotInline from None
    return ast.parse(operand, mode="eval").body


class _Substitute(ast.NodeTransformer):
    """Parameters replaced, locals renamed; ``ctx.needs_input_grad`` becomes the known tuple and
    ``ctx.save_for_backward(a, b)`` the assignment it makes (nothing, for an unrecorded context)."""

    def __init__(self, replacements, locals_, context, ctx_name):
        self.replacements = replacements
        self.locals_ = locals_
        self.context = context
        self.ctx_name = ctx_name

    def visit_body(self, body):
        result = []
        for statement in body:
            visited = self.visit(statement)
            if visited is not None:
                result.append(visited)
        return result

    def visit_Name(self, node):  # noqa: N802 (ast.NodeTransformer's naming)
        if node.id in self.replacements:
            return copied(self.replacements[node.id])
        if node.id in self.locals_:
            return ast.Name(self.locals_[node.id], node.ctx)
        return node

    def visit_Attribute(self, node):  # noqa: N802
        if self._is_ctx(node.value) and node.attr == "needs_input_grad" and isinstance(node.ctx, ast.Load):
            return ast.Constant(tuple(self.context.needs_input_grad))
        return self.generic_visit(node)

    def visit_Expr(self, node):  # noqa: N802
        call = node.value
        if (
            isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and self._is_ctx(call.func.value)
            and call.func.attr == "save_for_backward" and not call.keywords
            and not any(isinstance(argument, ast.Starred) for argument in call.args)
        ):
            values = ast.Tuple([self.visit(argument) for argument in call.args], ast.Load())
            if type(self.context) is UnrecordedContext and all(map(_pure_expression, values.elts)):
                return None  # it keeps nothing
            target = ast.Attribute(ast.Name("__ctx__", ast.Load()), "saved_tensors", ast.Store())
            return ast.Assign([target], values, lineno=0)
        return self.generic_visit(node)

    def _is_ctx(self, node):
        return isinstance(node, ast.Name) and node.id == self.ctx_name


def _pure_expression(node):
    """Whether evaluating ``node`` can be left out: names, literals and the tests and choices
    between them (``a if needs_b else None``)."""
    allowed = (ast.Name, ast.Constant, ast.Tuple, ast.IfExp, ast.Compare, ast.BoolOp, ast.UnaryOp)  # (nodes skips operators)
    return all(isinstance(inner, allowed) for inner in nodes(node))


# ----------------------------------------------------------------------------- folding
def _compares_literal_by_identity(body):
    """Whether an ``is`` test has a literal other than None, True or False on a side (a
    substituted argument can make one: Python warns of it, and its answer is not defined)."""
    for statement in body:
        for node in nodes(statement):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
                for side in (node.left, *node.comparators):
                    known, value = constant_value(side)
                    if known and value is not None and type(value) is not bool:
                        return True
    return False


def _is_argument(node):
    return isinstance(node, ast.Name) and node.id.startswith("__arg")


def _fold_body(body):
    """Known values computed, decided ``if``s replaced by their branch, and locals assigned a
    known value once (``needs_a, needs_b = (True, False)``) replaced by it; until nothing changes."""
    for _ in range(_FOLDING_PASSES):
        fold = Fold(never_none=_is_argument)  # an operand given as a name is an array
        body = [fold.visit(statement) for statement in body]
        decided = decided_branches(body) if has_decided_if(body) else body
        replaced = _known_locals_replaced(decided)
        if not fold.changed and replaced is body:
            return replaced
        body = replaced
    raise _CannotInline  # still changing: not a body this pass understands


_FOLDING_PASSES = 8


def _known_locals_replaced(body):
    """A local (``__localN__``) bound once, at the top level, to a known value, read as that value."""
    stores = _store_counts(body)
    known = {}
    kept = []
    for statement in body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            constant, value = constant_value(statement.value)
            if constant and isinstance(target, ast.Name) and stores[target.id] == 1:
                known[target.id] = value
                continue
            if (
                constant and isinstance(target, ast.Tuple) and type(value) is tuple and len(value) == len(target.elts)
                and all(isinstance(element, ast.Name) and stores[element.id] == 1 for element in target.elts)
            ):
                known.update({element.id: item for element, item in zip(target.elts, value)})
                continue
        kept.append(statement)
    if not known:
        return body

    class Replace(ast.NodeTransformer):
        def visit_Name(self, node):  # noqa: N802
            return as_node(known[node.id]) if node.id in known and isinstance(node.ctx, ast.Load) else node

    return [Replace().visit(statement) for statement in kept]


# ----------------------------------------------------------------------------- returns
def _returns_assigned(body, form, wanted):
    """Each ``return value`` as the assignment of ``value`` to the targets; a return must end the
    path it is on (what follows an ``if`` holding one is written into both of its branches)."""
    result = []
    for position, statement in enumerate(body):
        if isinstance(statement, ast.Return):
            return result + _assignment(statement.value or _NONE, form, wanted)
        if not _holds_return(statement):
            result.append(statement)
            continue
        rest = body[position + 1 :]
        if isinstance(statement, ast.If):
            statement.body = _returns_assigned(statement.body + rest, form, wanted) or [ast.Pass()]
            statement.orelse = _returns_assigned(statement.orelse + rest, form, wanted)
            return result + [statement]
        if isinstance(statement, ast.With) and not rest and isinstance(statement.body[-1], ast.Return):
            if any(_holds_return(inner) for inner in statement.body[:-1]):
                raise _CannotInline
            statement.body = _returns_assigned(statement.body, form, wanted)
            return result + [statement]
        raise _CannotInline  # a return inside a loop, or a with block followed by more
    return result + _assignment(_NONE, form, wanted)  # the end reached: None returned


def _returned_local_renamed(body):
    """``result = ...; result += bias; out = result`` as ``out = ...; out += bias``: each local that
    an output is given in the closing assignments becomes that output, where nothing else assigns it
    (the same for every output of a backward's closing ``grad_x, grad_w = ...``)."""
    renamed = {}
    closing = len(body)
    stores = _store_counts(body)
    while closing and _is_copy_out(body[closing - 1]):
        statement = body[closing - 1]
        output, local = statement.targets[0].id, statement.value.id
        if local in renamed or stores[output] != 1:
            break
        renamed[local] = output
        closing -= 1
    if not renamed:
        return body
    outputs_read_early = any(
        isinstance(node, ast.Name) and node.id in renamed.values() for statement in body[:closing] for node in nodes(statement)
    )
    if outputs_read_early:
        return body

    kept = [Renamed(renamed).visit(statement) for statement in body[:closing]]
    return kept + [statement for statement in body[closing:] if statement.value.id not in renamed]


def _is_copy_out(statement):
    return (
        isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id.startswith("__out") and isinstance(statement.value, ast.Name)
        and statement.value.id.startswith("__local")
    )


def _dead_constants_dropped(body):
    """``grad_weight = None`` dropped where the next statement that assigns ``grad_weight`` (at the
    same level) comes before any that reads it: what is left of ``x = None; if needed: x = ...``
    once the test is decided."""
    kept = []
    for position, statement in enumerate(body):
        if (
            isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
            and constant_value(statement.value)[0] and _overwritten_unread(statement.targets[0].id, body[position + 1 :])
        ):
            continue
        kept.append(statement)
    return kept


def _overwritten_unread(name, following):
    for statement in following:
        uses = [node.ctx for node in nodes(statement) if isinstance(node, ast.Name) and node.id == name]
        if any(isinstance(use, ast.Load) for use in uses):
            return False
        if isinstance(statement, ast.Assign) and any(isinstance(target, ast.Name) and target.id == name for target in statement.targets):
            return True
        if uses:
            return False  # assigned inside a block: perhaps not on every path
    return False


def _holds_return(statement):
    return any(isinstance(node, ast.Return) for node in nodes(statement))


def _assignment(value, form, wanted):
    """The targets given ``value`` as the call's line would have unpacked it. An unwanted target
    (``_``) whose item is a known value or a name is not assigned at all."""
    targets = [ast.Name(f"__out{number}__" if used else "_", ast.Store()) for number, used in enumerate(wanted)]
    items = value.elts if isinstance(value, ast.Tuple) and not any(isinstance(item, ast.Starred) for item in value.elts) else None
    if form == "bare":
        return [ast.Assign(targets, value, lineno=0)]
    if form == "first":
        if items and all(_pure(item) for item in items[1:]):
            return [ast.Assign(targets, items[0], lineno=0)]
        only = ast.Call(ast.Name("only_gradient", ast.Load()), [value], [])
        return [ast.Assign([ast.Tuple(targets, ast.Store())], only, lineno=0)]
    exact = form == "exact"
    if items is not None and (len(items) == len(targets) if exact else len(items) >= len(targets)):
        if all(_pure(item) for item in items[len(targets):]):
            return [
                ast.Assign([target], item, lineno=0)
                for target, item in zip(targets, items)
                if target.id != "_" or not _pure(item)
            ]
    unpacked = targets if exact else [*targets, ast.Starred(ast.Name("_", ast.Store()), ast.Store())]
    return [ast.Assign([ast.Tuple(unpacked, ast.Store())], value, lineno=0)]


def _pure(node):
    """Whether evaluating ``node`` can be skipped: a known value or a name."""
    return constant_value(node)[0] or isinstance(node, ast.Name)
