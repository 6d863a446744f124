"""``chainrule.nn.attention``, as ``torch.nn.attention``: choosing how ``scaled_dot_product_attention``
is computed.

PyTorch has several kernels for attention (the formula itself, MATH; fused ones, FLASH_ATTENTION on
CPU and GPU, EFFICIENT_ATTENTION and CUDNN_ATTENTION on GPU) and ``sdpa_kernel`` restricts it to
some of them. chainrule computes the formula, softmax(Q Kᵀ · scale + mask) V, which gives what MATH
and FLASH_ATTENTION give on PyTorch's CPU (up to rounding). So, as on PyTorch's CPU, attention runs
when MATH is allowed, or FLASH_ATTENTION for 4-D inputs (batch, heads, length, features), the ones
PyTorch's CPU flash kernel takes, and raises RuntimeError otherwise::

    with sdpa_kernel(SDPBackend.MATH):
        out = F.scaled_dot_product_attention(q, k, v)
"""
import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.Enum):
    """The kernels of ``scaled_dot_product_attention``, numbered as PyTorch's. As PyTorch's, a member
    prints as ``SDPBackend.MATH`` and converts with ``int()``, but is no int: ``SDPBackend.MATH == 0``
    is False."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        return self.value


_allowed = set(SDPBackend)


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block, ``scaled_dot_product_attention`` may use only ``backends`` (one
    SDPBackend or a list of them); ``set_priority`` orders them, which changes nothing here."""
    global _allowed
    chosen = [backends] if isinstance(backends, SDPBackend) else backends
    if not isinstance(chosen, (list, tuple)) or not all(isinstance(backend, SDPBackend) for backend in chosen):
        raise AssertionError(
            f"Backend must be an instance of SDPBackend or a list of SDPBackend instances, got {type(backends).__name__}"
        )
    previous, _allowed = _allowed, set(chosen)
    try:
        yield
    finally:
        _allowed = previous


def check_backend(query, key, value):
    """RuntimeError unless a kernel PyTorch's CPU has for these inputs is allowed: MATH, or
    FLASH_ATTENTION for 4-D ones."""
    flash = SDPBackend.FLASH_ATTENTION in _allowed and query.ndim == key.ndim == value.ndim == 4
    if SDPBackend.MATH not in _allowed and not flash:
        chosen = ", ".join(sorted(backend.name for backend in _allowed)) or "none"
        raise RuntimeError(
            f"No viable backend for scaled_dot_product_attention was found: sdpa_kernel allows {chosen}, and on "
            f"the CPU attention is computed as SDPBackend.MATH (or FLASH_ATTENTION, for 4-D inputs); allow one of them"
        )
