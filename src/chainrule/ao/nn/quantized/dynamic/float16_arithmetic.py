"""The float16 arithmetic of dynamically quantized layers (``dtype=float16``), as FBGEMM's fp16
GEMM does it on x86.

The weight is stored as float16: each float32 value clamped to ±65504 (float16's largest) and
rounded to the nearest float16. The input stays float32. Each output is accumulated in float32 one
input feature at a time, each step one fused multiply-add (one rounding), and the bias is added last:

    acc_0 = 0,   acc_k = fl32(acc_(k-1) + x_k · w_k),   y = fl32(acc_K + b)

The product ``x_k · w_k`` (24 by 11 significant bits) is exact in float64, so the multiply-add is
computed in float64 and rounded once to float32; it agrees with the hardware's fused multiply-add
except where the float64 sum itself had to round onto a float32 tie (vanishingly rare).

FBGEMM cuts the features into blocks of 512 and, in the output columns past the last whole SIMD
block of columns (16 wide on AVX2, 32 on AVX-512), adds each block's partial sum to the total
instead of carrying it: with more than 512 input features those columns can differ here in their
last bits (about 1e-6 relative).
"""
from chainrule.backend import xp

FLOAT16_MAX = 65504.0


def float16_weight(weight):
    """A float weight array as FBGEMM packs it: clamped to ±65504 and rounded to float16."""
    return xp.clip(weight.astype(xp.float32), -FLOAT16_MAX, FLOAT16_MAX).astype(xp.float16)


def linear(values, weight, bias):
    """``values (…, in_features)`` float32, ``weight (out_features, in_features)`` float16, ``bias``
    a float tensor or None -> float32 ``(…, out_features)``, accumulated as the module docstring says."""
    rows = values.reshape(-1, values.shape[-1]).astype(xp.float64)
    weight = weight.astype(xp.float64)
    accumulator = xp.zeros((rows.shape[0], weight.shape[0]), dtype=xp.float32)
    for feature in range(rows.shape[1]):
        accumulator = (accumulator + rows[:, feature, None] * weight[:, feature]).astype(xp.float32)
    if bias is not None:
        accumulator = accumulator + bias.detach()._array.astype(xp.float32)
    return accumulator.reshape(values.shape[:-1] + (weight.shape[0],))
