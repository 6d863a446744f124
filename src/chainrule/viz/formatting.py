"""Numbers and arrays as short text, for graph labels, trace tables and the explorer page."""
from chainrule.backend import to_numpy, xp


def format_number(value):
    """``value`` with 4 significant digits, without trailing zeros: ``3``, ``0.25``, ``1.235e-05``."""
    return f"{float(value) + 0.0:.4g}"  # + 0.0 turns -0.0 into 0.0


def format_array(array, max_elements=6):
    """The values of ``array`` as text (``3``, ``[1, 2]``), or ``None`` when it has more than
    ``max_elements`` elements (callers then show its shape)."""
    values = to_numpy(array)
    if values.size > max_elements:
        return None
    if values.ndim == 0:
        return _format_element(values.item())
    return _format_nested(values.tolist())


def format_shape(shape):
    """``(2, 3)`` as ``2×3``; a 0-d shape as ``scalar``."""
    return "×".join(str(side) for side in shape) if len(shape) else "scalar"


def summarize_array(array, max_elements=6):
    """Values when small, else the shape and the range: ``3×4, from -1.2 to 0.8``."""
    text = format_array(array, max_elements)
    if text is not None:
        return text
    values = to_numpy(array)
    return f"{format_shape(values.shape)}, from {format_number(values.min())} to {format_number(values.max())}"


def collapse_constant(array):
    """One number for an array whose elements are all equal (a local derivative of 1), else the array."""
    if array.size > 1 and bool((array == array.reshape(-1)[0]).all()):
        return array.reshape(-1)[0]
    return array


def to_plain(array):
    """An array as a Python float (one element of a 0-d array) or nested lists, for JSON and dicts."""
    if array is None:
        return None
    values = to_numpy(array)
    if values.ndim == 0:
        return values.item()
    return values.tolist()


def text_table(rows):
    """Rows of strings (the first is the header) as left-aligned columns two spaces apart."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def _format_element(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and not xp.isfinite(value):
        return str(value)
    return format_number(value)


def _format_nested(values):
    if isinstance(values, list):
        return "[" + ", ".join(_format_nested(value) for value in values) + "]"
    return _format_element(values)


def derivative(of, by):
    """``dJ/du``, with a name that is an expression in parentheses: ``dJ/d(exp(a - 2) * 3)``."""
    return f"d{as_term(of)}/d{as_term(by)}"


def as_term(name):
    """A name ready to stand in a formula: in parentheses unless it is a single word or number
    (``a``, ``W1``, ``3``)."""
    if name.replace(".", "_").isidentifier():
        return name
    try:
        float(name)
        return name
    except ValueError:
        return f"({name})"
