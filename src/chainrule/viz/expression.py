"""What ``chainrule explore`` computes: an expression typed on the command line, or the course's MLP.

The expression is read with Python's ``ast`` module and evaluated node by node: numbers,
variables, ``+ - * / ** @``, and calls of a fixed list of chainrule functions. Nothing else is
accepted (no attribute access beyond those functions, no imports, no ``eval``), so a command line
cannot run arbitrary code. Statements separated by ``;`` or new lines name intermediate results::

    v = b * c; u = a + v; J = 3 * u        with --a 5 --b 3 --c 2
"""
import ast
import operator

import chainrule
import unicodedata

from chainrule.nn.functional import linear
from chainrule.tensor import Tensor

FUNCTIONS = (
    "abs", "clamp", "cos", "exp", "log", "log1p", "matmul", "max", "maximum", "mean", "min", "minimum",
    "relu", "sigmoid", "sin", "softmax", "sqrt", "square", "sum", "tan", "tanh",
)  # fmt: skip
BINARY_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.MatMult: operator.matmul,
}
UNARY_OPERATORS = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def parse_values(arguments):
    """``['--a', '5', '--x=1,2', '--W', '1,2;3,4']`` -> ``{name: float32 tensor requiring grad}``.

    A value is a number, a comma-separated vector, or rows of a matrix separated by ``;``.
    """
    values = {}
    arguments = list(arguments)
    while arguments:
        flag = arguments.pop(0)
        if not flag.startswith("--") or len(flag) == 2:
            raise ValueError(f"expected --NAME VALUE (like --a 5), got {flag!r}")
        name, _, text = flag[2:].partition("=")
        if not text:
            if not arguments:
                raise ValueError(f"--{name} needs a value, like --{name} 5")
            text = arguments.pop(0)
        if not name.isidentifier():
            raise ValueError(f"--{name}: a variable name must be a Python identifier (letters, digits, _)")
        name = unicodedata.normalize("NFKC", name)  # as Python reads the same name in the expression
        if name in values:
            raise ValueError(f"--{name} is given twice: give each variable one value")
        values[name] = chainrule.tensor(_parse_number_array(name, text), requires_grad=True, name=name)
    return values


def evaluate(source, variables):
    """Evaluate ``source`` with ``variables`` (name -> tensor); returns ``(result, named tensors)``.

    The named tensors are the variables and every assigned intermediate, with their ``name`` set.
    """
    try:
        statements = "\n".join(line.strip() for line in source.replace(";", "\n").splitlines())
        module = ast.parse(statements, mode="exec")
    except SyntaxError as error:
        raise ValueError(f"cannot read the expression {source!r}: {error.msg}") from None
    if not module.body:
        raise ValueError("the expression is empty; write something like '3 * (a + b * c)'")
    named = dict(variables)
    result = None
    for statement in module.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            result = _evaluate(statement.value, named)
            name = statement.targets[0].id
            if isinstance(result, Tensor):
                result.name = name
            named[name] = result
        elif isinstance(statement, ast.Expr):
            result = _evaluate(statement.value, named)
        else:
            raise ValueError(f"'{ast.unparse(statement)}' is not allowed: write expressions or 'name = expression'")
    return result, {name: value for name, value in named.items() if isinstance(value, Tensor)}


def course_mlp(overrides=None):
    """The 2-2-2 sigmoid network of the classic worked example, on one training example.

    x = (0.05, 0.10), target t = (0.01, 0.99); hidden h = sigmoid(W1 x + b1), output
    O = sigmoid(W2 h + b2), error E = 1/2 sum (O - t)^2 = 0.2984. Backward shows the deltas of the
    course notes: dE/dz2 = (O - t) O (1 - O) at the output, then dE/dz1 = h (1 - h) W2ᵀ dE/dz2.
    ``overrides`` (name -> tensor) replaces any of x, t, W1, b1, W2, b2.
    Returns ``(E, named tensors)``.
    """
    start = {
        "x": [0.05, 0.10],
        "t": [0.01, 0.99],
        "W1": [[0.15, 0.20], [0.25, 0.30]],
        "b1": [0.35, 0.35],
        "W2": [[0.40, 0.45], [0.50, 0.55]],
        "b2": [0.60, 0.60],
    }
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(start))
    if unknown:
        raise ValueError(f"mlp has no input named {', '.join(unknown)}; it has {', '.join(start)}")
    named = {}
    for name, initial in start.items():
        value = overrides[name]._array if name in overrides else initial
        # x and t are data, not learned: they do not require grad.
        named[name] = chainrule.tensor(value, requires_grad=name not in ("x", "t"), name=name)
        if tuple(named[name].shape) != _shape_of(initial):
            raise ValueError(f"mlp: {name} must have shape {_shape_of(initial)}, got {tuple(named[name].shape)}")
    steps = {}
    steps["z1"] = linear(named["x"], named["W1"], named["b1"])
    steps["h"] = chainrule.sigmoid(steps["z1"])
    steps["z2"] = linear(steps["h"], named["W2"], named["b2"])
    steps["O"] = chainrule.sigmoid(steps["z2"])
    # Written out, not mse_loss, so that each step is an operation with a formula a student knows.
    steps["O - t"] = steps["O"] - named["t"]
    steps["(O - t)^2"] = steps["O - t"] ** 2
    steps["Σ (O - t)^2"] = steps["(O - t)^2"].sum()
    steps["E"] = 0.5 * steps["Σ (O - t)^2"]
    for name, tensor in steps.items():
        tensor.name = name
    return steps["E"], {**named, **steps}


def _evaluate(node, named):
    """The value of ``node``; a tensor it computes is labelled with its own source text when short
    (``exp(a - 2)``) and kept in ``named``, so the page knows every intermediate value."""
    result = _evaluate_node(node, named)
    if isinstance(result, Tensor) and result.grad_fn is not None and result.name is None:
        text = ast.unparse(node)
        if len(text) <= 24:
            result.name = text
            named.setdefault(text, result)
    return result


def _evaluate_node(node, named):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)  # floats: 9**9**9 overflows at once instead of computing for ever
    if isinstance(node, ast.Name):
        if node.id not in named:
            raise ValueError(f"the expression uses {node.id!r} but no value was given: add --{node.id} VALUE")
        return named[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY_OPERATORS:
        left, right = _evaluate(node.left, named), _evaluate(node.right, named)
        if isinstance(left, list) or isinstance(right, list):
            raise ValueError(f"'{ast.unparse(node)}': lists can be passed to functions (cat([a, b])), not computed with")
        try:
            return BINARY_OPERATORS[type(node.op)](left, right)
        except OverflowError:
            raise ValueError(f"'{ast.unparse(node)}' is too large a number to compute") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY_OPERATORS:
        return UNARY_OPERATORS[type(node.op)](_evaluate(node.operand, named))
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_evaluate(element, named) for element in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        function = getattr(chainrule, node.func.id, None)
        if function is None:
            raise ValueError(f"{node.func.id}() is not available in this version of chainrule")
        if any(keyword.arg is None for keyword in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
            raise ValueError(f"'{ast.unparse(node)}': write the arguments out (no * or ** unpacking)")
        arguments = [_argument(argument, named) for argument in node.args]
        keywords = {keyword.arg: _argument(keyword.value, named) for keyword in node.keywords}
        return function(*arguments, **keywords)
    raise ValueError(
        f"'{ast.unparse(node)}' is not allowed: use numbers, variables, + - * / ** @ and the functions "
        f"{', '.join(FUNCTIONS)}"
    )


def _argument(node, named):
    """A function's argument: a whole number stays an integer (``sum(a, dim=0)``, ``dim=-1``)."""
    number = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) else node
    if isinstance(number, ast.Constant) and type(number.value) is int:
        return -number.value if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else number.value
    return _evaluate(node, named)


def names_used(source):
    """The variable names ``source`` reads (not those it assigns first), or an empty set when it
    cannot be read (``evaluate`` then says why)."""
    try:
        module = ast.parse("\n".join(line.strip() for line in source.replace(";", "\n").splitlines()), mode="exec")
    except SyntaxError:
        return set()
    read = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            read.add(node.id)
    return read


def _parse_number_array(name, text):
    try:
        rows = [[float(number) for number in row.split(",")] for row in text.split(";")]
    except ValueError:
        raise ValueError(f"--{name} {text}: expected a number, numbers separated by commas, or rows separated by ';'") from None
    if ";" in text:
        return rows
    return rows[0][0] if len(rows[0]) == 1 and "," not in text else rows[0]


def _shape_of(nested):
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0]
    return tuple(shape)
