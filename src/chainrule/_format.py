"""How tensors print: like PyTorch, so that course output reads the same.

``tensor([1., 2.], requires_grad=True)``, ``tensor(4.5000, grad_fn=<MulBackward>)``: floats with
four decimals (or none when all are whole numbers), scientific notation for very large or small
magnitudes, and the dtype named only when it is not the default.
"""
from chainrule import dtypes
from chainrule.backend import to_numpy, xp


def _float_formatter(values):
    """PyTorch's choice: whole numbers as ``2.``, else 4 decimals, and scientific notation when the
    largest magnitude reaches 1e8, the smallest nonzero one is below 1e-4 (not for whole numbers),
    or they are more than 1000 apart."""
    finite = values[xp.isfinite(values)]
    magnitudes = xp.abs(finite[finite != 0])
    whole = finite.size > 0 and bool(xp.all(finite == xp.round(finite)))
    if magnitudes.size:
        largest, smallest = magnitudes.max(), magnitudes.min()
        if largest >= 1e8 or largest / smallest > 1000 or (not whole and smallest < 1e-4):
            return lambda v: f"{v:.4e}" if xp.isfinite(v) else str(v)
    if whole:
        return lambda v: f"{v:.0f}." if xp.isfinite(v) else str(v)
    return lambda v: f"{v:.4f}" if xp.isfinite(v) else str(v)


def format_values(array):
    """The values of ``array`` as PyTorch prints them (without the ``tensor(`` around)."""
    values = to_numpy(array)
    if values.size == 0:
        return "[]"
    if values.dtype.kind == "f":
        formatter = _float_formatter(values.astype(xp.float64))
    elif values.dtype.kind == "b":
        formatter = str
    else:
        formatter = lambda v: str(int(v))  # noqa: E731
    width = max(len(formatter(v)) for v in values.reshape(-1)[:1000])
    return xp.array2string(
        values,
        separator=", ",
        prefix="tensor(",
        formatter={"all": lambda v: formatter(v).rjust(width)},
        threshold=1000,
        edgeitems=3,
        max_line_width=80,
    )


def format_tensor(tensor):
    array = tensor.array
    parts = [format_values(array)]
    if array.size == 0 and array.ndim != 1:
        parts.append(f"size={tuple(array.shape)}")
    default = dtypes.get_default_dtype() if array.dtype.kind == "f" else dtypes.int64 if array.dtype.kind in "iu" else dtypes.bool_
    if array.dtype != default:
        parts.append(f"dtype={dtypes.dtype_name(array.dtype)}")
    if tensor.grad_fn is not None:
        parts.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        parts.append("requires_grad=True")
    return "tensor(" + ", ".join(parts) + ")"
