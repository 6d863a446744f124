"""``chainrule.special``, as ``torch.special``: the special functions under their SciPy-style names.

Most are chainrule functions under a second name (``expit`` is ``sigmoid``, ``gammaln`` is
``lgamma``, ``psi`` is ``digamma``, ``multigammaln`` is ``mvlgamma``); those PyTorch offers only
here (entr, erfcx, ndtr, ndtri, log_ndtr, xlog1py, i0e, i1, i1e) come from ``ops/special_extra.py``.

Not offered (PyTorch computes them but gives them no gradient, and none is course material): the
Bessel functions j0, j1, y0, y1, k0, k1 and their scaled and spherical forms, airy_ai, the
orthogonal polynomials (Chebyshev, Hermite, Laguerre, Legendre), zeta, and gammainc / gammaincc.
"""
import math

from chainrule.ops.registry import functions
from chainrule.ops.special import I1
from chainrule.ops.special_extra import entr, erfcx, i0e, i1e, log_ndtr, ndtri, xlog1py  # noqa: F401

SQRT_HALF = math.sqrt(0.5)

# The functions chainrule already has, under torch.special's names for them.
erf = functions.erf
erfc = functions.erfc
erfinv = functions.erfinv
expit = functions.sigmoid
logit = functions.logit
gammaln = functions.lgamma
digamma = psi = functions.digamma
polygamma = functions.polygamma
multigammaln = functions.mvlgamma
i0 = functions.i0
xlogy = functions.xlogy
logsumexp = functions.logsumexp
sinc = functions.sinc
round = functions.round  # noqa: A001  torch.special.round
exp2 = functions.exp2
expm1 = functions.expm1
log1p = functions.log1p


def i1(input):
    """I₁(x), the modified Bessel function of the first kind of order 1 (the derivative of i0)."""
    return I1.apply(input)


def ndtr(input):
    """Φ(x) = ½ erfc(-x/√2), the cumulative distribution function of the standard normal."""
    return functions.erfc(input * -SQRT_HALF) * 0.5


def softmax(input, dim, *, dtype=None):
    """softmax along ``dim`` (which ``torch.special.softmax`` requires)."""
    return functions.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """log_softmax along ``dim`` (which ``torch.special.log_softmax`` requires)."""
    return functions.log_softmax(input, dim, dtype=dtype)
