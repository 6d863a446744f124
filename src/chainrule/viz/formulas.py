"""An operation's own mathematics, written with the names of the tensors it was applied to.

Each chainrule operation declares ``formula`` (its output) and ``derivatives`` (d out / d input, one
per input) in the parameter names of its ``forward`` (see ``chainrule/ops/op.py``). The trace, the
drawing and the explorer all show those declarations, with each parameter name replaced by:

- the name of the tensor passed there (``a · b`` for ``v = b * c`` reads ``b · c``),
- the value kept on the node for a parameter that is not a tensor (Pow's ``exponent``: ``x^2``),
- the output's name for ``out``.

An operation that declares nothing (a custom ``Function``) shows "see NAME.backward".
"""
import re

from chainrule.tensor import Tensor
from chainrule.viz.formatting import as_term, format_number

WORD = re.compile(r"(?<![\w.])[^\W\d]\w*(?!\w)")  # an identifier not preceded by a dot (Unicode letters too)


class OperationFormulas:
    """``formula`` (what the output is) and ``derivatives`` (one text, or None, per input), in the
    names of the graph's tensors."""

    def __init__(self, formula, derivatives):
        self.formula = formula
        self.derivatives = derivatives


def formulas_of(node, input_names, output_name):
    """The declared formula and derivatives of ``node``'s operation, with ``input_names`` (one per
    argument of forward, ``None`` where the graph has no tensor) and ``output_name`` put in."""
    function = node.function
    declared = getattr(function, "derivatives", None)
    if getattr(function, "formula", None) is None or declared is None:
        see = f"see {function.__name__}.backward"
        return OperationFormulas(None, [see] * len(input_names))
    replacements = {"out": as_term(output_name)}
    for parameter, name in zip(function.input_names(), input_names):
        replacements[parameter] = _parameter_text(node, parameter, name)
    formula = substitute(function.formula, replacements)
    derivatives = [substitute(text, replacements) if text is not None else None for text in declared]
    derivatives += [None] * (len(input_names) - len(derivatives))
    return OperationFormulas(formula, derivatives)


def substitute(text, replacements):
    """``text`` with each whole word that is a key of ``replacements`` replaced, all at once (so a
    replacement is never replaced again)."""
    return WORD.sub(lambda match: replacements.get(match.group(0), match.group(0)), text)


def _parameter_text(node, parameter, name):
    """What stands for ``parameter``: its tensor's name, else the value the node kept under that
    name (``ctx.exponent``), else the parameter's own name."""
    if name is not None:
        return as_term(name)
    kept = node.__dict__.get(parameter)
    if isinstance(kept, bool) or kept is None or isinstance(kept, Tensor):
        # An operand named by one letter (the b of a - b) that the graph does not show is a constant
        # the operation did not keep; a descriptive name (shape, dim) reads well as it is.
        return "const" if len(parameter) == 1 else parameter
    if isinstance(kept, (int, float)):
        return format_number(kept)
    return parameter
