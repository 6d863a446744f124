"""Checking a gradient derived by hand, as in the lecture's homework.

``check_gradients(fn, inputs, manual)`` computes each input's gradient three ways:

- ``manual``: the function you derived on paper (e.g. dL/dw1 = 2 (y - t) x² for
  L = (w1 x² + w2 x + b - t)²),
- autograd: ``backward`` through ``fn``,
- finite differences: (fn(x + eps) - fn(x - eps)) / (2 eps), one element at a time,

and prints a table saying, for each input, whether the three agree, and where they first do not.
Everything runs in float64, where finite differences are accurate to about 1e-8.
"""
from chainrule import dtypes
from chainrule.autograd.backward_pass import grad
from chainrule.autograd.gradcheck import numerical_gradient
from chainrule.backend import as_array, xp
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.viz.formatting import format_shape, summarize_array, text_table


class InputCheck:
    """The three gradients of one input and how they compare.

    ``mismatch`` is ``None`` when they agree, else a sentence naming the first element that
    disagrees (or why the manual gradient could not be compared).
    """

    def __init__(self, name, shape, manual, autograd, numerical, mismatch):
        self.name = name
        self.shape = shape
        self.manual = manual
        self.autograd = autograd
        self.numerical = numerical
        self.mismatch = mismatch

    @property
    def ok(self):
        return self.mismatch is None

    def __repr__(self):
        return f"<InputCheck {self.name}: {'ok' if self.ok else self.mismatch}>"


class GradientCheck:
    """The result of ``check_gradients``: ``ok`` (also its truth value) and one row per input."""

    def __init__(self, rows, eps):
        self.rows = rows
        self.eps = eps

    @property
    def ok(self):
        return all(row.ok for row in self.rows)

    def __bool__(self):
        return self.ok

    def __str__(self):
        header = ("input", "shape", "manual", "autograd", "finite differences", "agree")
        lines = [
            (
                row.name,
                format_shape(row.shape),
                summarize_array(row.manual) if row.manual is not None else "(none)",
                summarize_array(row.autograd),
                summarize_array(row.numerical),
                "yes" if row.ok else f"NO: {row.mismatch}",
            )
            for row in self.rows
        ]
        verdict = "all gradients agree" if self.ok else "some gradients disagree"
        return f"gradient check (finite differences with eps={self.eps:g}): {verdict}\n" + text_table([header, *lines])

    def __repr__(self):
        return f"<GradientCheck ok={self.ok}: {len(self.rows)} inputs>"


def check_gradients(fn, inputs, manual, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare ``manual(*inputs)`` with autograd's and finite differences' gradients of ``fn``.

    Args:
        fn: ``fn(*inputs)`` returns a single number (the loss).
        inputs: tensors; those with ``requires_grad=True`` are checked (their ``name`` labels the
            table). They are copied to float64 and left unchanged.
        manual: ``manual(*inputs)`` returns the hand-derived gradient of each checked input, in
            order (tensors, arrays or numbers; just one for one input).
        eps: the finite-difference step; atol, rtol: elements agree when
            ``|x - y| <= atol + rtol * |y|``.

    Prints the table and returns a GradientCheck (``.ok``, ``.rows``).
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    copies = tuple(_float64_copy(value) for value in inputs)
    checked = [position for position, value in enumerate(copies) if isinstance(value, Tensor) and value.requires_grad]
    if not checked:
        raise ValueError("check_gradients: no input requires grad; create the ones to check with requires_grad=True")

    loss = fn(*copies)
    if not isinstance(loss, Tensor) or loss._array.size != 1:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise RuntimeError(f"check_gradients: fn must return a single number (a loss tensor), got {shape}; reduce it, e.g. .sum()")
    autograd = grad(loss, [copies[position] for position in checked], allow_unused=True)
    numerical = numerical_gradient(fn, copies, eps)
    manual_values = _manual_gradients(manual, copies, len(checked))

    rows = []
    for index, position in enumerate(checked):
        value = copies[position]
        from_autograd = autograd[index]._array if autograd[index] is not None else xp.zeros(value._array.shape)
        row_manual, mismatch = _as_gradient_array(manual_values[index], value._array.shape)
        if mismatch is None:
            mismatch = _first_disagreement(row_manual, from_autograd, numerical[position], atol, rtol)
        name = value.name or f"input {position}"
        rows.append(InputCheck(name, value._array.shape, row_manual, from_autograd, numerical[position], mismatch))
    result = GradientCheck(rows, eps)
    print(result)
    return result


def _float64_copy(value):
    if not isinstance(value, Tensor) or value._array.dtype.kind != "f":
        return value
    copy = tensor_from_array(value._array.astype(dtypes.float64), requires_grad=value.requires_grad)
    copy.name = value.name
    return copy


def _manual_gradients(manual, copies, count):
    """Call the hand-derived gradient on detached copies; one value per checked input."""
    detached = tuple(value.detach() if isinstance(value, Tensor) else value for value in copies)
    values = manual(*detached)
    single = count == 1 and not (isinstance(values, tuple) and len(values) == 1)
    if single or not isinstance(values, (tuple, list)):
        values = (values,)  # one input: its gradient may itself be a list of numbers
    if len(values) != count:
        raise ValueError(
            f"check_gradients: manual returned {len(values)} gradients but {count} inputs require grad; "
            f"return one gradient per input that requires grad, in order"
        )
    return values


def _as_gradient_array(value, shape):
    """``(array, None)``, or ``(array or None, reason)`` when it cannot be compared."""
    if value is None:
        return None, "manual returned None"
    array = value._array if isinstance(value, Tensor) else as_array(value)
    array = array.astype(dtypes.float64)
    if array.shape != shape:
        if array.size != int(xp.prod(shape)):
            return array, f"manual gradient has shape {tuple(array.shape)} but the input has shape {tuple(shape)}"
        array = array.reshape(shape)
    return array, None


def _first_disagreement(manual, autograd, numerical, atol, rtol):
    """A sentence naming the first element where the three gradients disagree, or None."""
    def agree(x, y):
        return xp.abs(x - y) <= atol + rtol * xp.abs(y)

    disagreeing = ~(agree(manual, autograd) & agree(manual, numerical) & agree(autograd, numerical))
    if not disagreeing.any():
        return None
    flat_index = int(xp.flatnonzero(disagreeing)[0])
    where = xp.unravel_index(flat_index, manual.shape) if manual.ndim else ()
    at = f"element {tuple(int(i) for i in where)}" if manual.ndim else "value"
    values = (manual.reshape(-1)[flat_index], autograd.reshape(-1)[flat_index], numerical.reshape(-1)[flat_index])
    return f"{at}: manual {values[0]:.6g}, autograd {values[1]:.6g}, finite differences {values[2]:.6g}"
