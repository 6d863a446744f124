"""``chainrule.special``, as ``torch.special``: the special functions under their SciPy-style names.

Most are chainrule functions under a second name (``expit`` is ``sigmoid``, ``gammaln`` is
``lgamma``, ``psi`` is ``digamma``, ``multigammaln`` is ``mvlgamma``); those PyTorch offers only
here (entr, erfcx, ndtr, ndtri, log_ndtr, xlog1py, i0e, i1, i1e, zeta, and,
without gradients as in PyTorch, the orthogonal polynomials, the Bessel functions j0, j1, y0,
y1, k0, k1, spherical j0 and the Airy function Ai) come from ``ops/special_extra.py``.
"""
from chainrule import dtypes
from chainrule.ops.registry import functions, with_out
from chainrule.ops.special import I1
from chainrule.ops.special_extra import (  # noqa: F401
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    entr,
    erfcx,
    hermite_polynomial_h,
    hermite_polynomial_he,
    i0e,
    i1e,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    log_ndtr,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    ndtr,
    ndtri,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
    xlog1py,
    zeta,
)
from chainrule.overrides import make_overridable
from chainrule.tensor import Tensor

# The functions chainrule already has, under torch.special's names for them.
erf = functions.erf
erfc = functions.erfc
erfinv = functions.erfinv
expit = functions.sigmoid
logit = functions.logit
gammaln = functions.lgamma
digamma = psi = functions.digamma
gammainc = functions.igamma
gammaincc = functions.igammac
polygamma = functions.polygamma
multigammaln = functions.mvlgamma
i0 = functions.i0
xlogy = functions.xlogy
logsumexp = functions.logsumexp
sinc = functions.sinc
exp2 = functions.exp2
expm1 = functions.expm1
log1p = functions.log1p


@with_out
def i1(input):
    """I₁(x), the modified Bessel function of the first kind of order 1 (the derivative of i0)."""
    return I1.apply(input)


@with_out
def round(input, *, decimals=0):  # noqa: A001  torch.special.round
    """``round`` for floating tensors only: PyTorch's special.round has no integer kernel (where
    ``torch.round`` gives integers back as they are)."""
    if isinstance(input, Tensor) and input._array.dtype.kind in "iu":
        raise NotImplementedError(
            f"\"round_vml_cpu\" not implemented for '{dtypes.scalar_type_name(input._array.dtype)}'; "
            f"convert first, e.g. x.float(), or use chainrule.round, which gives integers back as they are"
        )
    return functions.round(input, decimals=decimals)


def softmax(input, dim, dtype=None):
    """softmax along ``dim`` (which ``torch.special.softmax`` requires)."""
    return functions.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """log_softmax along ``dim`` (which ``torch.special.log_softmax`` requires)."""
    return functions.log_softmax(input, dim, dtype=dtype)

make_overridable(globals(), [name for name in list(globals()) if not name.startswith("_") and name not in ("with_out", "make_overridable")], "chainrule.special")  # __torch_function__ (overrides.py)


# PyTorch's public names (``from torch.special import *`` brings these and no helper of this file's)
__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc",
    "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "hermite_polynomial_h",
    "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l", "legendre_polynomial_p", "log1p",
    "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1",
    "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "sinc", "softmax",
    "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
]
