"""PyTorch's complex-number operations: conj, real, imag, angle, polar, complex, view_as_real,
view_as_complex, and the conjugate transposes.

A tensor of dtype ``complex64`` or ``complex128`` holds complex numbers (a NumPy complex array).
Gradients follow PyTorch's convention (its note "Autograd for Complex Numbers"): the gradient of
a real loss L with respect to z = x + iy is ∂L/∂x + i ∂L/∂y, the conjugate Wirtinger derivative
times 2, so that gradient descent ``z -= lr * z.grad`` goes downhill. For a holomorphic f,
``grad_input = grad_output * conj(f'(z))``: every backward formula conjugates the derivative it
multiplies by (``ctx.xp.conj``, which returns a real array itself). A gradient reaching a real
input from a complex result keeps its real part (``autograd/engine.py``'s ``fit_to_input``).

On a real tensor the answers are exact: it is its own conjugate and its own real part, it has no
imaginary part (asking is an error, as in PyTorch), and its angle is 0, or π when it is negative.
So code written for both kinds of numbers (an optimizer copied from torch.optim asks
``torch.is_complex(p)``) runs unchanged. There are no lazily conjugated views: ``conj`` of a
complex tensor computes the conjugate (``is_conj()`` is always False).
"""
import functools
import math

from chainrule import dtypes
from chainrule.backend import complex_from_pairs, real_pairs, xp
from chainrule.caller_warnings import warn_at_caller
from chainrule.ops.complex_refusals import CHECKED_IN_PLACE, REFUSED_ON_COMPLEX, complex_refused
from chainrule.ops.op import Op
from chainrule.ops.operands import as_floating
from chainrule.ops import inplace, registry
from chainrule.ops.registry import install_method, public
from chainrule.ops.shape import transpose
from chainrule.tensor import Tensor


def _expect_tensor(input, operation):
    if not isinstance(input, Tensor):
        raise TypeError(f"{operation}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _is_complex_array(array):
    return array.dtype.kind == "c"


# ----------------------------------------------------------------------------- questions
@public
def is_complex(input):
    """Whether ``input`` holds complex numbers (dtype complex64 or complex128)."""
    _expect_tensor(input, "is_complex")
    return _is_complex_array(input._array)


@public
def is_conj(input):
    """False: no tensor is a lazily conjugated view (``conj`` computes the conjugate)."""
    _expect_tensor(input, "is_conj")
    return False


@public
def is_neg(input):
    """False: no tensor is a lazily negated view (PyTorch's, of a conjugated imaginary part)."""
    _expect_tensor(input, "is_neg")
    return False


@public(name="resolve_conj", aliases=("resolve_neg",))
def _resolved(input):
    """The tensor itself: nothing is lazily conjugated or negated here, so there is nothing to resolve."""
    return input


# ----------------------------------------------------------------------------- the number itself
class Conj(Op):
    formula = "conj z = x - iy"
    derivatives = ("conj(grad)",)

    @staticmethod
    def forward(ctx, z):
        return xp.conj(z)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.conj(grad_output)


class ConjPhysical(Conj):
    """``conj_physical``: PyTorch's conj is a lazy view and this one a copy; here both copy, and
    differ in their nodes' names only."""


@public
def conj(input):
    """The complex conjugate x - iy of each element; for a real tensor, the tensor itself (the same
    object, as in PyTorch)."""
    _expect_tensor(input, "conj")
    return Conj.apply(input) if _is_complex_array(input._array) else input


@public(out=True)
def conj_physical(input):
    """``conj``, computed at once (as every conj here is)."""
    _expect_tensor(input, "conj_physical")
    return ConjPhysical.apply(input) if _is_complex_array(input._array) else input


def _conj_physical_(self):
    if _is_complex_array(self._array):
        self.copy_(ConjPhysical.apply(self.clone()))  # (a clone: the conjugate is computed before the write)
    return self


_conj_physical_.__doc__ = "In-place form of ``conj_physical``: each complex element replaced by its conjugate."
install_method("conj_physical_", _conj_physical_)


class Real(Op):
    """A view of the real parts (writing into it writes into the complex tensor)."""

    node_name = "SelectBackward0"  # PyTorch's real is view_as_real(z).select(-1, 0)

    formula = "Re z"
    derivatives = ("grad as a complex number (imaginary part 0)",)

    @staticmethod
    def forward(ctx, z):
        return z.real

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output  # made complex by the engine, as the input's dtype


class Imag(Op):
    """A view of the imaginary parts."""

    node_name = "SelectBackward0"  # view_as_real(z).select(-1, 1)

    formula = "Im z"
    derivatives = ("i · grad",)

    @staticmethod
    def forward(ctx, z):
        return z.imag

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 1j


@public(name="real", method=False)
def real(input):
    """The real parts of a complex tensor, as a view (``x.real.mul_(2)`` doubles them in x); a real
    tensor itself."""
    _expect_tensor(input, "real")
    return Real.apply(input) if _is_complex_array(input._array) else input


@public(name="imag", method=False)
def imag(input):
    """The imaginary parts of a complex tensor, as a view; on a real tensor an error, as in PyTorch."""
    _expect_tensor(input, "imag")
    if not _is_complex_array(input._array):
        raise RuntimeError(
            f"imag is not implemented for tensors with non-complex dtypes (this one is {input.dtype}): a real "
            f"number's imaginary part is 0; make it complex first (x.to(chainrule.complex64))"
        )
    return Imag.apply(input)


def _write_real(input, value):
    """``x.real = value``: value copied into the real parts, as PyTorch's ``x.real.copy_(value)``."""
    real(input).copy_(value)


def _write_imag(input, value):
    """``x.imag = value``: value copied into the imaginary parts (an error on a real tensor)."""
    imag(input).copy_(value)


install_method("real", property(real, _write_real, doc="The real parts: a view of a complex tensor's, a real tensor itself."))
install_method("imag", property(imag, _write_imag, doc="The imaginary parts: a view of a complex tensor's; an error on a real tensor."))


class Angle(Op):
    """The argument of z, in (-π, π]. Of a real number: π where x < 0, 0 where x >= 0 (-0
    included), nan at nan."""

    formula = "arg z"
    derivatives = ("i z / |z|² (0 at z = 0); 0 for a real x",)

    @staticmethod
    def forward(ctx, x):
        if _is_complex_array(x):
            ctx.save_for_backward(x)
            return xp.angle(x)
        x = as_floating(x)
        angles = xp.where(x < 0, math.pi, 0.0).astype(x.dtype)
        return xp.where(x != x, x, angles)  # nan stays nan

    @staticmethod
    def backward(ctx, grad_output):
        if not ctx.saved_tensors:
            return ctx.xp.zeros_like(grad_output)  # 0 even for an infinite gradient, as in PyTorch
        (z,) = ctx.saved_tensors
        squared_magnitude = z.real * z.real + z.imag * z.imag
        at_zero = squared_magnitude == 0
        return ctx.xp.where(at_zero, 0.0, grad_output * z * 1j / ctx.xp.where(at_zero, 1.0, squared_magnitude))


@public(out=True)
def angle(input):
    """The angle (argument) of each element, in radians, as a real tensor: of a real number π when
    it is negative, else 0 (nan stays nan); integers give the default float dtype."""
    return Angle.apply(input)


class Polar(Op):
    formula = "abs · e^(i angle)"
    derivatives = ("Re(conj(grad) · sgn(out))", "Re(conj(grad) · i out)")

    @staticmethod
    def forward(ctx, abs, angle):
        result = (abs * xp.cos(angle) + 1j * (abs * xp.sin(angle))).astype(dtypes.complex_dtype(abs.dtype))
        ctx.save_for_backward(result, angle)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, angle = ctx.saved_tensors
        conjugated = ctx.xp.conj(grad_output)
        # d out / d abs is e^(i angle): written from the angle, it holds where abs is 0 too
        direction = ctx.xp.cos(angle) + 1j * ctx.xp.sin(angle)
        grad_abs = (conjugated * direction).real if ctx.needs_input_grad[0] else None
        grad_angle = (conjugated * result * 1j).real if ctx.needs_input_grad[1] else None
        return grad_abs, grad_angle


def _check_parts(first, second, operation, names):
    """PyTorch's checks of the two real tensors that make complex numbers (polar's abs and angle,
    complex's real and imag): float or double, of one dtype."""
    for tensor, name in zip((first, second), names):
        _expect_tensor(tensor, operation)
        if tensor._array.dtype not in (xp.float32, xp.float64):
            raise RuntimeError(
                f"Expected both inputs to be Half, Float or Double tensors but got {dtypes.scalar_type_name(first._array.dtype)} "
                f"and {dtypes.scalar_type_name(second._array.dtype)} ({operation}'s {names[0]} and {names[1]} are real "
                f"float32 or float64 tensors; Half has no complex dtype here)"
            )
    if first._array.dtype != second._array.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {dtypes.scalar_type_name(first._array.dtype)} but got scalar type "
            f"{dtypes.scalar_type_name(second._array.dtype)} for second argument ({operation}'s {names[1]} must have "
            f"{names[0]}'s dtype)"
        )


@public(method=False, out=True)
def polar(abs, angle):
    """The complex numbers ``abs · (cos angle + i sin angle)`` from real magnitudes and angles of
    one dtype (float32 gives complex64, float64 complex128), broadcast together."""
    _check_parts(abs, angle, "polar", ("abs", "angle"))
    return Polar.apply(abs, angle)


class Complex(Op):
    formula = "real + i imag"
    derivatives = ("Re grad", "Im grad")

    @staticmethod
    def forward(ctx, real, imag):
        result = xp.empty(xp.broadcast_shapes(real.shape, imag.shape), dtypes.complex_dtype(real.dtype))
        result.real, result.imag = real, imag
        return result

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.real if ctx.needs_input_grad[0] else None, grad_output.imag if ctx.needs_input_grad[1] else None


@public(name="complex", method=False, out=True)
def complex_(real, imag):
    """The complex numbers ``real + i imag`` from two real tensors of one dtype, broadcast together."""
    _check_parts(real, imag, "complex", ("real", "imag"))
    return Complex.apply(real, imag)


inplace.complex_from_parts = complex_  # a write through x.real or x.imag keeps the other part with it


class ViewAsReal(Op):
    formula = "(Re z, Im z) along a new last dimension"
    derivatives = ("grad[..., 0] + i grad[..., 1]",)

    @staticmethod
    def forward(ctx, z):
        return real_pairs(z)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[..., 0] + grad_output[..., 1] * 1j


class ViewAsComplex(Op):
    formula = "x[..., 0] + i x[..., 1]"
    derivatives = ("(Re grad, Im grad) along the last dimension",)

    @staticmethod
    def forward(ctx, x):
        return complex_from_pairs(x)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.stack((grad_output.real, grad_output.imag), -1)


@public(method=True)
def view_as_real(input):
    """A real view (..., 2) of a complex tensor (...): the real and imaginary parts of each element
    side by side, sharing its memory."""
    _expect_tensor(input, "view_as_real")
    if not _is_complex_array(input._array):
        raise RuntimeError(f"view_as_real is only supported for complex tensors (this one is {input.dtype})")
    return ViewAsReal.apply(input)


@public(method=True)
def view_as_complex(input):
    """A complex view (...) of a real tensor (..., 2) whose last dimension holds real and imaginary
    parts side by side (with stride 1), sharing its memory."""
    _expect_tensor(input, "view_as_complex")
    array = input._array
    if array.dtype not in (xp.float32, xp.float64):
        raise RuntimeError(
            f"view_as_complex is only supported for float and double tensors, but got a tensor of scalar type: "
            f"{dtypes.scalar_type_name(array.dtype)}"
        )
    if array.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if array.shape[-1] != 2:
        raise RuntimeError(f"Tensor must have a last dimension of size 2 (this one has shape {list(array.shape)})")
    if array.size == 0:
        return ViewAsComplex.apply(input)
    if array.strides[-1] != array.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1 (make it contiguous first: x.contiguous())")
    if any(stride % (2 * array.itemsize) for stride in array.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return ViewAsComplex.apply(input)


# ----------------------------------------------------------------------------- conjugate transposes
@public
def adjoint(input):
    """The conjugate transpose of each matrix of ``input`` (*, m, n) -> (*, n, m): for real numbers,
    ``input.mT`` (a view)."""
    if input._array.ndim == 0:
        return _deprecated_on_0d(input, "adjoint()")
    if input._array.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got {input._array.ndim}-D tensor.")
    return conj(transpose(input, -2, -1))


def _conjugate_transpose(self):
    if self._array.ndim == 0:
        return _deprecated_on_0d(self, "Tensor.H")
    if self._array.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self._array.ndim}-D tensor.")
    return conj(transpose(self, 0, 1))


def _matrices_conjugate_transpose(self):
    if self._array.ndim == 0:
        return _deprecated_on_0d(self, "Tensor.mH")
    if self._array.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self._array.ndim}-D tensor.")
    return conj(transpose(self, -2, -1))


def _deprecated_on_0d(self, name):
    """The conjugate transpose of a 0-d tensor, its conjugate (a real one itself), with PyTorch's warning."""
    warn_at_caller(f"{name} is deprecated on 0-D tensors. Consider using x.conj().")
    return conj(self)


install_method("H", property(_conjugate_transpose, doc="The conjugate transpose of a matrix: for real numbers, x.T."))
install_method("mH", property(_matrices_conjugate_transpose, doc="The conjugate transpose of each matrix: for real numbers, x.mT."))


def _refusing_complex(function, operation):
    """``function`` (an operation, as function or method) refusing complex tensors among its first
    two arguments as PyTorch's ``operation`` does; anything else goes straight through."""

    @functools.wraps(function)
    def refusing(*args, **kwargs):
        first = args[0] if args else kwargs.get("input")
        for argument in (first, args[1] if len(args) > 1 else None):
            if isinstance(argument, Tensor) and argument._array.dtype.kind == "c":
                raise complex_refused(operation, argument._array.dtype, whole=len(args) == 1 and not kwargs)
        return function(*args, **kwargs)

    return refusing


def refuse_complex_where_pytorch_does(namespace=None):
    """Wrap the operations of ``REFUSED_ON_COMPLEX`` that do not test for complex input themselves
    (``CHECKED_IN_PLACE``), once every family has registered them (``functional.py`` calls it after
    importing them all): the public functions and the Tensor methods, or the functions of
    ``namespace`` (a module's dict: ``nn.functional``'s)."""
    for name in REFUSED_ON_COMPLEX.keys() - CHECKED_IN_PLACE:
        for each in (name, name + "_"):
            if namespace is not None:
                if callable(namespace.get(each)):
                    namespace[each] = _refusing_complex(namespace[each], name)
                continue
            function = vars(registry.functions).get(each)  # (its own dict: not a formula_form of its class)
            if callable(function):
                vars(registry.functions)[each] = _refusing_complex(function, name)
            method = vars(Tensor).get(each)
            if callable(method):
                setattr(Tensor, each, _refusing_complex(method, name))