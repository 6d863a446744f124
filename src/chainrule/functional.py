"""The operations as top-level functions, as PyTorch offers them: ``chainrule.exp(x)``,
``chainrule.softmax(x, dim=1)``, ``chainrule.cat([a, b])``.

Each operation registers itself where it is declared (``ops/registry.py``); importing the families
here makes every one of them public, as a function here and as a Tensor method.
"""
from chainrule import creation, legacy_types, new_factories, sampling  # noqa: F401  (they register Tensor methods too)
from chainrule.ops import special  # noqa: F401  (erfc, erfinv, lgamma, digamma, polygamma, mvlgamma, i0)
from chainrule import queries  # noqa: F401  (is_signed, get_device, is_nonzero and small Tensor methods)
from chainrule.ops import placement  # noqa: F401  (put, masked_scatter, fill_diagonal_, resize_)
from chainrule.ops import activation, broadcast, compare, elementwise, index, join, matmul, reduce, shape  # noqa: F401
from chainrule.ops import conv, pool  # noqa: F401  (convolution and pooling, issue 11)
from chainrule.ops import scan, sort  # noqa: F401  (scans, sorting and selecting by order, issue 10)
from chainrule.ops import distance  # noqa: F401  (distances and similarities, issue 10)
from chainrule.ops import linalg  # noqa: F401  (einsum, tensordot, kron, inner, vdot, cdist, issue 10)
from chainrule.ops.registry import functions

globals().update(vars(functions))
__all__ = sorted(vars(functions))
