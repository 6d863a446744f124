"""PyTorch's complex-number names, on chainrule's real tensors.

chainrule's dtypes are real (float, int, bool), and for a real number the answers are exact: it is
its own conjugate and its own real part, it has no imaginary part, and its angle (argument) is 0,
or π when it is negative. So ``x.is_complex()`` is False, ``x.conj()`` and ``x.real`` are ``x``
itself, ``x.mH`` (conjugate transpose) is ``x.mT``, ``x.imag`` is an error, as in PyTorch on a
real tensor; and code written for both kinds of numbers (an optimizer copied from torch.optim asks
``torch.is_complex(p)``) runs unchanged.
"""
import math

from chainrule.backend import xp
from chainrule.caller_warnings import warn_at_caller
from chainrule.ops.op import Op
from chainrule.ops.operands import as_floating
from chainrule.ops.registry import install_method, public
from chainrule.ops.shape import transpose
from chainrule.tensor import Tensor


def _expect_tensor(input, operation):
    if not isinstance(input, Tensor):
        raise TypeError(f"{operation}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


# ----------------------------------------------------------------------------- questions
@public
def is_complex(input):
    """False: chainrule's tensors hold real numbers."""
    _expect_tensor(input, "is_complex")
    return False


@public
def is_conj(input):
    """False: no tensor is a lazily conjugated view (conjugating a real tensor changes nothing)."""
    _expect_tensor(input, "is_conj")
    return False


@public
def is_neg(input):
    """False: no tensor is a lazily negated view (PyTorch's, of a conjugated imaginary part)."""
    _expect_tensor(input, "is_neg")
    return False


# ----------------------------------------------------------------------------- the number itself
@public(aliases=("resolve_conj", "resolve_neg", "conj_physical"))
def conj(input):
    """The complex conjugate: for a real tensor, the tensor itself (the same object, as in PyTorch)."""
    _expect_tensor(input, "conj")
    return input


install_method("conj_physical_", lambda self: self)


@public(name="real", method=False)
def real(input):
    """The real part: for a real tensor, the tensor itself (``x.real`` too)."""
    _expect_tensor(input, "real")
    return input


@public(name="imag", method=False)
def imag(input):
    """The imaginary part: a real tensor has none, and asking is an error, as in PyTorch."""
    _expect_tensor(input, "imag")
    raise RuntimeError(
        f"imag is not implemented for tensors with non-complex dtypes (this one is {input.dtype}): chainrule's "
        f"tensors hold real numbers, whose imaginary part is 0"
    )


install_method("real", property(real, doc="The real part: the tensor itself (its numbers are real)."))
install_method("imag", property(imag, doc="The imaginary part: an error on a real tensor, as in PyTorch."))


class Angle(Op):
    """The argument of x as a complex number: π where x < 0, 0 where x >= 0 (-0 included), nan at nan."""

    formula = "arg x = π if x < 0 else 0"
    derivatives = ("0",)

    @staticmethod
    def forward(ctx, x):
        x = as_floating(x)
        angles = xp.where(x < 0, math.pi, 0.0).astype(x.dtype)
        return xp.where(x != x, x, angles)  # nan stays nan

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.zeros_like(grad_output)  # 0 even for an infinite gradient, as in PyTorch


@public(out=True)
def angle(input):
    """The angle of each element as a complex number, in radians: π for a negative number, else 0
    (nan stays nan). Integers give the default float dtype. Its gradient is 0."""
    return Angle.apply(input)


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
