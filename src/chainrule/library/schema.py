"""An operator's schema, as PyTorch writes it: ``mylib::foo(Tensor x, SymInt k=2, *, float s=1.5) -> Tensor``.

A schema names the operator and types each argument and return, so that a call can be checked and
bound before a kernel runs. ``Tensor(a!)`` marks an argument the operator writes to (``a`` names its
alias set), ``Tensor?`` an optional one, ``Tensor[]`` a list, and the arguments after ``*`` are
keyword-only. ``infer_schema`` writes one from a Python function's type hints (``torch.library.infer_schema``);
``parse_schema`` reads one back into a ``FunctionSchema``.
"""
import collections.abc
import inspect
import typing
from types import GenericAlias

from chainrule import dtypes
from chainrule.device import device as device_type
from chainrule.tensor import Tensor


class Argument:
    """One argument (or return) of a schema: its name, its type as written (``Tensor?``, ``SymInt[]``),
    its default as written (None when it has none) and whether it is keyword-only or written to."""

    def __init__(self, name, type, default=None, kwarg_only=False, is_write=False, alias=None):
        self.name, self.type, self.default = name, type, default
        self.kwarg_only, self.is_write, self.alias = kwarg_only, is_write, alias

    @property
    def base_type(self):
        """The type without optional or list marks: ``Tensor`` for ``Tensor?[]``."""
        return self.type.split("[")[0].rstrip("?")

    @property
    def is_optional(self):
        return self.type.endswith("?")

    @property
    def is_list(self):
        return "[" in self.type

    @property
    def is_tensor_like(self):
        return self.base_type == "Tensor"

    def written_type(self):
        """The type with its alias annotation put back: ``Tensor(a1!)`` for a written tensor."""
        if self.alias is None:
            return self.type
        mark = f"({self.alias}{'!' if self.is_write else ''})"
        return self.type.replace("Tensor", "Tensor" + mark, 1)

    def __str__(self):
        text = self.written_type() if not self.name else f"{self.written_type()} {self.name}"
        return text if self.default is None else f"{text}={self.default}"


class FunctionSchema:
    """A parsed schema: ``name`` (``ns::op``, or empty), ``overload_name``, ``arguments`` and ``returns``
    (lists of ``Argument``). ``str()`` writes it back as PyTorch prints it."""

    def __init__(self, name, overload_name, arguments, returns, returns_tuple):
        self.name, self.overload_name = name, overload_name
        self.arguments, self.returns, self._returns_tuple = arguments, returns, returns_tuple

    @property
    def is_mutable(self):
        return any(argument.is_write for argument in self.arguments)

    def is_view(self):
        """Whether a return aliases an argument without writing it (``Tensor(a) self -> Tensor(a)``)."""
        return any(argument.alias is not None and not argument.is_write for argument in self.arguments)

    def returns_text(self):
        if len(self.returns) == 1 and not self._returns_tuple:
            return str(self.returns[0])
        return f"({', '.join(str(each) for each in self.returns)})"

    def arguments_text(self):
        parts, keyword_only = [], False
        for argument in self.arguments:
            if argument.kwarg_only and not keyword_only:
                parts.append("*")
                keyword_only = True
            parts.append(str(argument))
        return f"({', '.join(parts)})"

    def __str__(self):
        name = self.name + (f".{self.overload_name}" if self.overload_name else "")
        return f"{name}{self.arguments_text()} -> {self.returns_text()}"

    __repr__ = __str__


def _split_top_level(text):
    """``text`` split at the commas that are not inside brackets or quotes."""
    parts, depth, quote, current = [], 0, None, []
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _parse_argument(text, schema_text, kwarg_only=False):
    """One ``Type name=default`` of a schema (a return may have no name)."""
    declaration, _, default = text.partition("=")
    declaration = declaration.strip()
    alias, is_write = None, False
    if "(" in declaration:  # Tensor(a!) or Tensor(a -> *)
        start, end = declaration.index("("), declaration.index(")")
        annotation = declaration[start + 1 : end].strip()
        is_write = annotation.endswith("!")
        alias = annotation.rstrip("!").strip()
        declaration = declaration[:start] + declaration[end + 1 :]
    pieces = declaration.split()
    if not pieces or len(pieces) > 2:
        raise RuntimeError(f"Unknown type or malformed argument {text!r} in schema: {schema_text}")
    type_text, name = pieces[0], pieces[1] if len(pieces) == 2 else ""
    return Argument(name, type_text, default.strip() or None if default else None, kwarg_only, is_write, alias)


def parse_schema(text):
    """A ``FunctionSchema`` from its text: ``"ns::op.overload(Tensor x) -> Tensor"``, or without the
    name, ``"(Tensor x) -> Tensor"``. Raises RuntimeError for text that is not a schema."""
    head, arrow, returns = text.partition("->")
    if not arrow or "(" not in head or not head.rstrip().endswith(")"):
        raise RuntimeError(f"Expected a schema of the form 'name(args) -> returns', got: {text}")
    open_at = head.index("(")
    full_name = head[:open_at].strip()
    name, _, overload_name = full_name.partition(".")
    arguments, kwarg_only = [], False
    for part in _split_top_level(head[open_at + 1 : head.rstrip().rindex(")")]):
        if part == "*":
            kwarg_only = True
            continue
        arguments.append(_parse_argument(part, text, kwarg_only))
    returns = returns.strip()
    returns_tuple = returns.startswith("(")
    if returns_tuple:
        returns = returns[1:-1].strip()
        if returns.startswith("(") and returns.endswith(")"):  # ((Tensor)): a tuple of one
            returns = returns[1:-1]
    returned = [_parse_argument(part, text) for part in _split_top_level(returns)]
    return FunctionSchema(name, overload_name, arguments, returned, returns_tuple)


# Python types and the schema types they stand for: each base type also as Optional, some as lists
# (``list[int]``, ``Sequence[int]``), lists of optionals, and optional lists (as PyTorch's table).
def _derived_types(python_type, schema_type, list_base, optional_base_list, optional_list_base):
    pairs = [(python_type, schema_type), (typing.Optional[python_type], f"{schema_type}?")]

    def sequences(of):
        return (typing.Sequence[of], typing.List[of], GenericAlias(collections.abc.Sequence, (of,)), GenericAlias(list, (of,)))  # noqa: UP006

    if list_base:
        pairs += [(sequence, f"{schema_type}[]") for sequence in sequences(python_type)]
    if optional_base_list:
        pairs += [(sequence, f"{schema_type}?[]") for sequence in sequences(typing.Optional[python_type])]
    if optional_list_base:
        pairs += [(typing.Optional[sequence], f"{schema_type}[]?") for sequence in sequences(python_type)]
    return pairs


Number = typing.Union[int, float, bool]
SUPPORTED_PARAM_TYPES = dict(
    pair
    for line in (
        (Tensor, "Tensor", True, True, False),
        (int, "SymInt", True, False, True),
        (float, "float", True, False, True),
        (bool, "bool", True, False, True),
        (str, "str", False, False, False),
        (Number, "Scalar", True, False, False),
        (dtypes.dtype, "ScalarType", False, False, False),
        (device_type, "Device", False, False, False),
    )
    for pair in _derived_types(*line)
)
SUPPORTED_RETURN_TYPES = {
    Tensor: "Tensor",
    typing.List[Tensor]: "Tensor[]",  # noqa: UP006
    list[Tensor]: "Tensor[]",
    int: "SymInt",
    float: "float",
    bool: "bool",
    Number: "Scalar",
}


def _default_text(name, value, fail):
    """A Python default as a schema writes it: ``2``, ``None``, ``"cpu"``, ``float32``."""
    if value is None or isinstance(value, (int, float, bool)):
        return str(value)
    if isinstance(value, (str, device_type)):
        return f'"{value}"'
    if isinstance(value, dtypes.dtype):
        return str(value).split(".")[-1]
    fail(f"Parameter {name} has an unsupported default value type {type(value)}. Please file an issue on GitHub so we can prioritize this.")


def _return_schema(annotation, fail):
    if annotation is None:
        return "()"
    if annotation is inspect.Parameter.empty:
        fail("No return type annotation was provided. Please add one.")
    if typing.get_origin(annotation) is not tuple:
        if annotation not in SUPPORTED_RETURN_TYPES:
            fail(f"Return has unsupported type {annotation}. The valid types are: {SUPPORTED_RETURN_TYPES}.")
        return SUPPORTED_RETURN_TYPES[annotation]
    members = typing.get_args(annotation)
    for member in members:
        if member not in SUPPORTED_RETURN_TYPES:
            fail(f"Return has unsupported type {annotation}. The valid types are: {SUPPORTED_RETURN_TYPES}.")
    written = ", ".join(SUPPORTED_RETURN_TYPES[member] for member in members)
    return f"(({written}))" if len(members) == 1 else f"({written})"


def _resolved(annotation, function):
    """An annotation written as a string (``from __future__ import annotations``) evaluated where
    ``function`` was defined."""
    if isinstance(annotation, str):
        try:
            return eval(annotation, function.__globals__)  # noqa: S307  the user's own annotation
        except Exception as error:
            raise ValueError(f"infer_schema(func): Unsupported type annotation {annotation}. It is not a type. ({error})") from None
    return annotation


def infer_schema(prototype_function, /, *, mutates_args, op_name=None):
    """The schema of ``prototype_function`` from its type hints, as ``torch.library.infer_schema``:
    ``(Tensor x, SymInt k=2) -> Tensor``, with ``op_name`` in front when given. Each argument named
    in ``mutates_args`` (a tensor) is marked written, ``Tensor(a<i>!)``; ``"unknown"`` marks every
    tensor. Raises ValueError for an argument without a hint or of a type schemas cannot hold."""
    signature = inspect.signature(prototype_function)

    def fail(what):
        raise ValueError(f"infer_schema(func): {what} Got func with signature {signature})")

    if type(mutates_args) is str:
        if mutates_args != "unknown":
            raise ValueError(
                "mutates_args must either be a sequence of the names of the arguments that are mutated or the string 'unknown'. "
            )
    else:
        mutates_args = tuple(mutates_args)
    parameters, keyword_only, seen = [], False, set()
    for position, (name, parameter) in enumerate(signature.parameters.items()):
        if parameter.kind not in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            fail("We do not support positional-only args, varargs, or varkwargs.")
        if parameter.kind == inspect.Parameter.KEYWORD_ONLY and not keyword_only:
            parameters.append("*")
            keyword_only = True
        if parameter.annotation is inspect.Parameter.empty:
            fail(f"Parameter {name} must have a type annotation.")
        annotation = _resolved(parameter.annotation, prototype_function)
        if annotation not in SUPPORTED_PARAM_TYPES:
            if typing.get_origin(annotation) is tuple:
                fail(
                    f"Parameter {name} has unsupported type {parameter.annotation}. We do not support Tuple inputs in "
                    f"schema. As a workaround, please try to use List instead. The valid types are: {SUPPORTED_PARAM_TYPES.keys()}."
                )
            fail(f"Parameter {name} has unsupported type {parameter.annotation}. The valid types are: {SUPPORTED_PARAM_TYPES.keys()}.")
        schema_type = SUPPORTED_PARAM_TYPES[annotation]
        if (mutates_args == "unknown" and schema_type.startswith("Tensor")) or (mutates_args != "unknown" and name in mutates_args):
            if not schema_type.startswith("Tensor"):
                fail(f"Parameter {name} is in mutable_args but only Tensors or collections of Tensors can be mutated")
            schema_type = f"Tensor(a{position}!){schema_type[len('Tensor'):]}"
        seen.add(name)
        if parameter.default is inspect.Parameter.empty:
            parameters.append(f"{schema_type} {name}")
        else:
            parameters.append(f"{schema_type} {name}={_default_text(name, parameter.default, fail)}")
    if mutates_args != "unknown" and set(mutates_args) - seen:
        fail(
            f"{set(mutates_args) - seen} in mutates_args were not found in the custom op's signature. mutates_args should "
            f"contain the names of all args that the custom op mutates, or just the string 'unknown' if you don't know."
        )
    returns = _return_schema(_resolved(signature.return_annotation, prototype_function), fail)
    return f"{op_name or ''}({', '.join(parameters)}) -> {returns}"
