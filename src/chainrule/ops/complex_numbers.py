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
from chainrule.backend import xp
from chainrule.caller_warnings import warn_at_caller
from chainrule.ops.op import Op
from chainrule.ops.operands import as_floating
from chainrule.ops import registry
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
    return _is_complex_array(input.array)


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
    return Conj.apply(input) if _is_complex_array(input.array) else input


@public
def conj_physical(input):
    """``conj``, computed at once (as every conj here is)."""
    _expect_tensor(input, "conj_physical")
    return ConjPhysical.apply(input) if _is_complex_array(input.array) else input


def _conj_physical_(self):
    if _is_complex_array(self.array):
        self.copy_(ConjPhysical.apply(self.clone()))  # (a clone: the conjugate is computed before the write)
    return self


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
    return Real.apply(input) if _is_complex_array(input.array) else input


@public(name="imag", method=False)
def imag(input):
    """The imaginary parts of a complex tensor, as a view; on a real tensor an error, as in PyTorch."""
    _expect_tensor(input, "imag")
    if not _is_complex_array(input.array):
        raise RuntimeError(
            f"imag is not implemented for tensors with non-complex dtypes (this one is {input.dtype}): a real "
            f"number's imaginary part is 0; make it complex first (x.to(chainrule.complex64))"
        )
    return Imag.apply(input)


install_method("real", property(real, doc="The real parts: a view of a complex tensor's, a real tensor itself."))
install_method("imag", property(imag, doc="The imaginary parts: a view of a complex tensor's; an error on a real tensor."))


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
        if tensor.array.dtype not in (xp.float32, xp.float64):
            raise RuntimeError(
                f"Expected both inputs to be Half, Float or Double tensors but got {dtypes.scalar_type_name(first.array.dtype)} "
                f"and {dtypes.scalar_type_name(second.array.dtype)} ({operation}'s {names[0]} and {names[1]} are real "
                f"float32 or float64 tensors; Half has no complex dtype here)"
            )
    if first.array.dtype != second.array.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {dtypes.scalar_type_name(first.array.dtype)} but got scalar type "
            f"{dtypes.scalar_type_name(second.array.dtype)} for second argument ({operation}'s {names[1]} must have "
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


class ViewAsReal(Op):
    formula = "(Re z, Im z) along a new last dimension"
    derivatives = ("grad[..., 0] + i grad[..., 1]",)

    @staticmethod
    def forward(ctx, z):
        return z[..., None].view(dtypes.real_dtype(z.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[..., 0] + grad_output[..., 1] * 1j


class ViewAsComplex(Op):
    formula = "x[..., 0] + i x[..., 1]"
    derivatives = ("(Re grad, Im grad) along the last dimension",)

    @staticmethod
    def forward(ctx, x):
        if x.size == 0:  # (no memory to share; NumPy's strides of an empty array need not be whole elements)
            return xp.zeros(x.shape[:-1], dtypes.complex_dtype(x.dtype))
        return x.view(dtypes.complex_dtype(x.dtype))[..., 0]

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.stack((grad_output.real, grad_output.imag), -1)


@public(method=True)
def view_as_real(input):
    """A real view (..., 2) of a complex tensor (...): the real and imaginary parts of each element
    side by side, sharing its memory."""
    _expect_tensor(input, "view_as_real")
    if not _is_complex_array(input.array):
        raise RuntimeError(f"view_as_real is only supported for complex tensors (this one is {input.dtype})")
    return ViewAsReal.apply(input)


@public(method=True)
def view_as_complex(input):
    """A complex view (...) of a real tensor (..., 2) whose last dimension holds real and imaginary
    parts side by side (with stride 1), sharing its memory."""
    _expect_tensor(input, "view_as_complex")
    array = input.array
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
    if input.array.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got {input.array.ndim}-D tensor.")
    return transpose(input, -2, -1)


def _conjugate_transpose(self):
    if self.array.ndim == 0:
        return _deprecated_on_0d(self, "H")
    if self.array.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.array.ndim}-D tensor.")
    return transpose(self, 0, 1)


def _matrices_conjugate_transpose(self):
    if self.array.ndim == 0:
        return _deprecated_on_0d(self, "mH")
    if self.array.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.array.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _deprecated_on_0d(self, name):
    """A 0-d tensor as its own conjugate transpose, with PyTorch's warning."""
    warn_at_caller(f"Tensor.{name} is deprecated on 0-D tensors. Consider using x.conj().")
    return self


install_method("H", property(_conjugate_transpose, doc="The conjugate transpose of a matrix: for real numbers, x.T."))
install_method("mH", property(_matrices_conjugate_transpose, doc="The conjugate transpose of each matrix: for real numbers, x.mT."))


# ----------------------------------------------------------------------------- what PyTorch refuses on complex numbers
# Operations that order numbers (comparisons, extrema, sorting, clamping, rounding) or that PyTorch
# has no complex kernel for. NumPy would compute something (ordering complex numbers
# lexicographically), so each is refused here in PyTorch's words and exception type:
# {dtype} is the C++ name, ComplexFloat or ComplexDouble.
_NOT_IMPLEMENTED_KERNEL = '"{kernel}" not implemented for \'{dtype}\''
_REFUSED_ON_COMPLEX = {
    # name: (exception, message); a kernel name stands for PyTorch's "not implemented for" message
    "lt": (NotImplementedError, "lt_cpu"), "gt": (NotImplementedError, "gt_cpu"),
    "le": (NotImplementedError, "le_cpu"), "ge": (NotImplementedError, "ge_cpu"),
    "less": (NotImplementedError, "lt_cpu"), "greater": (NotImplementedError, "gt_cpu"),
    "less_equal": (NotImplementedError, "le_cpu"), "greater_equal": (NotImplementedError, "ge_cpu"),
    "__lt__": (NotImplementedError, "lt_cpu"), "__gt__": (NotImplementedError, "gt_cpu"),
    "__le__": (NotImplementedError, "le_cpu"), "__ge__": (NotImplementedError, "ge_cpu"),
    # max and min: of the whole tensor "max_all" (NotImplementedError), along a dimension a RuntimeError
    "max": (RuntimeError, "max(): does not support complex input"), "min": (RuntimeError, "min(): does not support complex input"),
    "amax": (NotImplementedError, "max_values_cpu"), "amin": (NotImplementedError, "min_values_cpu"),
    "argmax": (RuntimeError, "argmax(): does not support complex input"),
    "argmin": (RuntimeError, "argmin(): does not support complex input"),
    "maximum": (RuntimeError, "maximum not implemented for complex tensors."),
    "minimum": (RuntimeError, "minimum not implemented for complex tensors."),
    "fmax": (RuntimeError, "fmax not implemented for complex tensors."),
    "fmin": (RuntimeError, "fmin not implemented for complex tensors."),
    "sort": (RuntimeError, " Sort does not support complex dtypes on CPU"),
    "argsort": (RuntimeError, " Sort does not support complex dtypes on CPU"),
    "msort": (RuntimeError, " Sort does not support complex dtypes on CPU"),
    "topk": (RuntimeError, " topk does not support complex dtypes on CPU"),
    "clamp": (NotImplementedError, "clamp is not supported for complex types"),
    "clip": (NotImplementedError, "clamp is not supported for complex types"),
    "clamp_min": (NotImplementedError, "clamp is not supported for complex types"),
    "clamp_max": (NotImplementedError, "clamp is not supported for complex types"),
    "relu": (NotImplementedError, "clamp is not supported for complex types"),
    "floor": (NotImplementedError, "floor is not supported for complex inputs"),
    "ceil": (NotImplementedError, "ceil is not supported for complex inputs"),
    "trunc": (NotImplementedError, "trunc is not supported for complex inputs"),
    "round": (NotImplementedError, "round_vml_cpu"), "frac": (NotImplementedError, "frac_cpu"),
    "softmax": (NotImplementedError, "softmax_lastdim_kernel_impl"),
    "log_softmax": (NotImplementedError, "log_softmax_lastdim_kernel_impl"),
    "atan2": (NotImplementedError, "atan2_cpu"), "arctan2": (NotImplementedError, "atan2_cpu"),
    "cummax": (NotImplementedError, "cummax_cpu"), "cummin": (NotImplementedError, "cummin_cpu"),
    "median": (NotImplementedError, "median_cpu"), "kthvalue": (NotImplementedError, "kthvalue_cpu"),
    "remainder": (NotImplementedError, "remainder_cpu"), "fmod": (NotImplementedError, "fmod_cpu"),
    "__mod__": (NotImplementedError, "remainder_cpu"),
    "floor_divide": (NotImplementedError, "div_floor_cpu"), "__floordiv__": (NotImplementedError, "div_floor_cpu"),
    "heaviside": (RuntimeError, "heaviside is not yet implemented for complex tensors."),
    "gelu": (NotImplementedError, "GeluKernelImpl"), "mse_loss": (NotImplementedError, "mse_cpu"),
    "erf": (NotImplementedError, "erf_vml_cpu"), "lgamma": (NotImplementedError, "lgamma_vml_cpu"),
    "nansum": (RuntimeError, "nansum on CPU does not support complex inputs"),
}


def _refusing_complex(function, error, words):
    """``function`` (an operation, as function or method) refusing complex tensors among its first
    two arguments with ``error``; anything else goes straight through."""

    @functools.wraps(function)
    def refusing(*args, **kwargs):
        # (one test per argument on the way in: these wrap hot operations, relu and max among them)
        first = args[0] if args else kwargs.get("input")
        if isinstance(first, Tensor) and first.array.dtype.kind == "c":
            _refuse(first, args, kwargs)
        if len(args) > 1 and isinstance(args[1], Tensor) and args[1].array.dtype.kind == "c":
            _refuse(args[1], args, kwargs)
        return function(*args, **kwargs)

    def _refuse(argument, args, kwargs):
        kind, kernel = error, words
        if words.startswith(("max()", "min()")) and len(args) == 1 and not kwargs:
            kind, kernel = NotImplementedError, words[:3] + "_all"
        if " " not in kernel:
            kernel = _NOT_IMPLEMENTED_KERNEL.format(kernel=kernel, dtype=dtypes.scalar_type_name(argument.array.dtype))
        raise kind(kernel)

    return refusing


def refuse_complex_where_pytorch_does(namespace=None):
    """Wrap the operations of ``_REFUSED_ON_COMPLEX``, once every family has registered them
    (``functional.py`` calls it after importing them all): the public functions and the Tensor
    methods, or the functions of ``namespace`` (a module's dict: ``nn.functional``'s relu, softmax)."""
    for name, (error, words) in _REFUSED_ON_COMPLEX.items():
        for each in (name, name + "_"):
            if namespace is not None:
                if callable(namespace.get(each)):
                    namespace[each] = _refusing_complex(namespace[each], error, words)
                continue
            function = vars(registry.functions).get(each)  # (its own dict: not a formula_form of its class)
            if callable(function):
                vars(registry.functions)[each] = _refusing_complex(function, error, words)
            method = vars(Tensor).get(each)
            if callable(method):
                setattr(Tensor, each, _refusing_complex(method, error, words))
