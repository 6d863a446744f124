"""How tensors print: exactly as PyTorch prints them, so that course output reads the same.

``tensor([1., 2.], requires_grad=True)``, ``tensor(4.5000, grad_fn=<MulBackward0>)``. PyTorch's rules:

- Floats print with ``precision`` decimals (4), or as ``2.`` when every shown value is whole.
- Scientific notation when, among the *shown* nonzero finite values (not those hidden by ``...``),
  the largest reaches 1e8, the smallest is below 1e-4, or they are more than 1000 apart; or always /
  never when ``set_printoptions(sci_mode=True/False)``.
- Every value is padded to one width; a row wraps when it would pass ``linewidth`` (80) columns.
- More than ``threshold`` (1000) elements are summarized: ``edgeitems`` (3) at each end of every
  dimension, with ``...`` between.
- Complex values print as ``1.0000+2.0000j``: the real and the imaginary parts each chosen a width
  and a notation as above, from their own values.
- ``dtype=`` is named when it is not the default (complex64 is, with float32), ``size=`` for empty tensors that are not 1-d, and
  ``grad_fn=``/``requires_grad=True`` last; a suffix that would pass ``linewidth`` goes on its own line.
"""
import contextlib
import dataclasses
import math
import sys

from chainrule import dtypes
from chainrule.backend import to_numpy, xp


@dataclasses.dataclass
class PrintOptions:
    """The settings ``set_printoptions`` changes; the defaults are PyTorch's ``'default'`` profile."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTIONS = PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Change how tensors print, as ``torch.set_printoptions``.

    ``profile`` (``'default'``, ``'short'``, ``'full'``) sets the first four at once; the others
    override it. Another profile name changes nothing, as in PyTorch, which ignores it silently.
    ``sci_mode`` is True (always scientific), False (never) or None (decided from the values); like
    PyTorch's, every call sets it, so leaving it out returns to None.
    """
    for name, value in _PROFILES.get(profile, {}).items():
        setattr(PRINT_OPTIONS, name, value)
    for name, value in dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth).items():
        if value is not None:
            setattr(PRINT_OPTIONS, name, value)
    PRINT_OPTIONS.sci_mode = sci_mode


def get_printoptions():
    """The current print options as a dict that ``set_printoptions(**options)`` accepts."""
    return dataclasses.asdict(PRINT_OPTIONS)


@contextlib.contextmanager
def printoptions(**options):
    """``with printoptions(precision=2): ...`` changes the print options inside the block only."""
    saved = get_printoptions()
    set_printoptions(**options)
    try:
        yield
    finally:
        set_printoptions(**saved)


class _ValueFormatter:
    """Formats each value of one tensor to a common width, from the values that will be shown.

    ``int_mode``: all shown floats are whole (printed ``3.``); ``sci_mode``: scientific notation.
    Zeros, NaN and infinities take no part in either choice, nor in the width.
    """

    def __init__(self, shown):
        self.floating = shown.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.floating:
            self.width = max([1] + [len(str(value)) for value in shown.tolist()])
            return
        values = shown.astype(xp.float64)
        nonzero_finite = values[xp.isfinite(values) & (values != 0)].tolist()
        if not nonzero_finite:
            return
        magnitudes = [abs(value) for value in nonzero_finite]
        largest, smallest = max(magnitudes), min(magnitudes)
        self.int_mode = all(value == math.ceil(value) for value in nonzero_finite)
        if PRINT_OPTIONS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTIONS.sci_mode
        # Whole floats print with a trailing "." that the width must count.
        self.width = max(len(self._text(value)) for value in nonzero_finite)

    def _text(self, value):
        if not self.floating:
            return str(value)
        precision = PRINT_OPTIONS.precision
        if self.sci_mode:
            return f"{value:.{precision}e}"
        if self.int_mode:
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{precision}f}"

    def format(self, value):
        """``value`` (a Python number) right-aligned to the common width."""
        return self._text(value).rjust(self.width)


class _ComplexFormatter:
    """Formats complex values as PyTorch does: the real parts with one formatter, the imaginary
    parts with another (each chooses its own width, integer and scientific modes), written
    ``real+imagj`` or ``real-imagj``; an element's width is both widths and the ``j``."""

    def __init__(self, shown):
        self.real = _ValueFormatter(shown.real)
        self.imag = _ValueFormatter(shown.imag)
        self.width = self.real.width + self.imag.width + 1

    def format(self, value):
        real_text = self.real.format(value.real)
        imag_text = (self.imag.format(value.imag) + "j").lstrip()
        return real_text + ("" if imag_text[0] in "+-" else "+") + imag_text


def _formatter(shown):
    return _ComplexFormatter(shown) if shown.dtype.kind == "c" else _ValueFormatter(shown)


def _shown_values(values):
    """The elements that a summarized print shows (``edgeitems`` at both ends of every dimension),
    flattened: the scientific-notation and width choices look at these only."""
    edge = PRINT_OPTIONS.edgeitems
    if values.ndim == 0:
        return values.reshape(-1)
    if values.ndim == 1:
        if values.shape[0] > 2 * edge:
            return xp.concatenate((values[:edge], values[-edge:] if edge else values))
        return values
    if not edge:
        return values.reshape(-1)[:0]
    rows = range(values.shape[0])
    if values.shape[0] > 2 * edge:
        rows = list(rows[:edge]) + list(rows[-edge:])
    return xp.concatenate([_shown_values(values[row]) for row in rows])


def _vector_text(values, indent, summarize, formatter):
    edge = PRINT_OPTIONS.edgeitems
    per_line = max(1, math.floor((PRINT_OPTIONS.linewidth - indent) / (formatter.width + 2)))
    if summarize and not edge:
        items = ["..."]
    elif summarize and values.shape[0] > 2 * edge:
        items = [formatter.format(v) for v in values[:edge].tolist()] + [" ..."]
        items += [formatter.format(v) for v in values[-edge:].tolist()]
    else:
        items = [formatter.format(v) for v in values.tolist()]
    lines = [", ".join(items[start : start + per_line]) for start in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_text(values, indent, summarize, formatter):
    """``values`` as nested brackets, rows of dimension d separated by d - 1 blank lines."""
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector_text(values, indent, summarize, formatter)
    edge = PRINT_OPTIONS.edgeitems
    count = values.shape[0]
    if summarize and count > 2 * edge:
        rows = [_nested_text(values[i], indent + 1, summarize, formatter) for i in range(edge)] + ["..."]
        rows += [_nested_text(values[i], indent + 1, summarize, formatter) for i in range(count - edge, count)]
    else:
        rows = [_nested_text(values[i], indent + 1, summarize, formatter) for i in range(count)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def format_values(array, indent=len("tensor(")):
    """The values of ``array`` as PyTorch prints them (without the ``tensor(`` around), for a print
    starting ``indent`` columns in."""
    values = to_numpy(array)
    if values.size == 0:
        return "[]"
    summarize = values.size > PRINT_OPTIONS.threshold
    formatter = _formatter(_shown_values(values) if summarize else values.reshape(-1))
    return _nested_text(values, indent, summarize, formatter)


def with_suffixes(text, suffixes, indent, force_newline=False):
    """``text`` followed by ``, suffix`` for each suffix and the closing ``)``; a suffix that would
    pass ``linewidth`` (the first one always, with ``force_newline``: a sparse COO tensor's) starts
    a new line at ``indent``. (The length counts two columns more than
    the last line holds, as PyTorch's does, and a suffix is measured as PyTorch's text of it,
    ``dtype=torch.float64``, so that the lines break where PyTorch breaks them.)"""
    parts = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        width = len(suffix) - suffix.count("chainrule.") * (len("chainrule.") - len("torch."))
        if force_newline or last_line_length + width + 2 > PRINT_OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + width
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_length += width + 2
    return "".join(parts) + ")"


def _prefix(tensor):
    """``tensor(`` for chainrule's own tensor classes (Tensor, Parameter, Buffer); a subclass that the
    user defines prints its own name, ``MyTensor([1., 2.])``, as PyTorch's subclasses do."""
    cls = type(tensor)
    return "tensor(" if cls.__module__.partition(".")[0] == "chainrule" else f"{cls.__name__}("


def format_tensor(tensor, tensor_contents=None):
    """``repr(tensor)``: ``tensor(<values>, <suffixes>)`` as PyTorch prints it (``tensor_contents``,
    a string, in place of the values)."""
    array = tensor._array
    prefix = _prefix(tensor)
    suffixes = []
    meta = tensor.is_meta
    default_dtype = array.dtype in (dtypes.get_default_dtype(), dtypes.default_complex_dtype(), dtypes.int64, dtypes.bool_)
    if meta:  # no values to print: ``...`` and the size
        suffixes = ["device='meta'", f"size={tuple(array.shape)}"]
        if array.dtype != dtypes.get_default_dtype():
            suffixes.append(f"dtype={dtypes.dtype_name(array.dtype)}")
    elif array.size == 0:
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if array.dtype != dtypes.get_default_dtype():
            suffixes.append(f"dtype={dtypes.dtype_name(array.dtype)}")
    else:
        if not PRINT_OPTIONS.edgeitems:
            suffixes.append(f"size={tuple(array.shape)}")
        if not default_dtype:
            suffixes.append(f"dtype={dtypes.dtype_name(array.dtype)}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}>")  # CopySlices, whose name() is its C++ name
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    forward_ad = sys.modules.get("chainrule.autograd.forward_ad")  # tangents exist only once it is loaded
    tangent = forward_ad.tangent_of(tensor) if forward_ad is not None else None
    if tangent is not None:
        suffixes.append(f"tangent={format_tensor(tangent)}")
    values = tensor_contents if tensor_contents is not None else "..." if meta else format_values(array, len(prefix))
    text = with_suffixes(prefix + values, suffixes, len(prefix))
    if prefix != "tensor(" and getattr(tensor, "_is_param", False):  # a parameter of a user's Tensor subclass
        return f"Parameter({text})"
    return text


def format_with_spec(tensor, format_spec, plain):
    """``Tensor.__format__``: ``f"{loss:.3f}"`` formats a 0-d ``plain`` tensor's value (not a
    Parameter's or a subclass's) as its Python number; any other accepts only the empty spec
    (``f"{x}"`` is ``str(x)``), as PyTorch does."""
    if plain and tensor.ndim == 0 and not tensor.is_meta:
        return format(tensor.item(), format_spec)
    if format_spec:
        raise TypeError(
            f"unsupported format string passed to {type(tensor).__name__}.__format__ (format spec {format_spec!r}: only a "
            f"0-d plain tensor takes one, this is a {type(tensor).__name__} of shape {tuple(tensor.shape)}; format x.item() "
            f"or x.tolist())"
        )
    return str(tensor)
