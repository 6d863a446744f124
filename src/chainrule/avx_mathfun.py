"""The float32 logarithm, sine and cosine PyTorch's ``randn`` uses on x86 CPUs, replayed in NumPy.

PyTorch turns uniform float32 samples into normal ones (Box-Muller) with ``log256_ps`` and
``sincos256_ps`` from ``avx_mathfun.h``: Cephes polynomials evaluated in float32, which differ
from a correctly rounded log or cos in the last bits. To give the same numbers, the same
polynomials are evaluated here in the same order, each step rounded to float32. The compiler
fuses each ``a * b + c`` of the C code into one fused multiply-add (one rounding); ``fused``
does the same by computing in float64, where a product of two float32 values is exact.
"""
from chainrule.backend import xp

float32 = xp.float32

_LOG_POLYNOMIAL = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
                   -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)
_SMALLEST_NORMAL = float32(1.1754943508222875e-38)
_SQRT_HALF = float32(0.707106781186547524)
_LOG2_LOW, _LOG2_HIGH = float32(-2.12194440e-4), float32(0.693359375)  # log 2 = high + low

_FOUR_OVER_PI = float32(1.27323954473516)
_PI_OVER_FOUR_PARTS = (float32(-0.78515625), float32(-2.4187564849853515625e-4), float32(-3.77489497744594108e-8))
_COSINE_POLYNOMIAL = (2.443315711809948e-05, -1.388731625493765e-03, 4.166664568298827e-02)
_SINE_POLYNOMIAL = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)


def fused(a, b, c):
    """a · b + c rounded once to float32, as the fused multiply-add instruction does."""
    return (xp.asarray(a, xp.float64) * xp.asarray(b, xp.float64) + xp.asarray(c, xp.float64)).astype(float32)


def _polynomial(coefficients, x):
    """c0 x^(n-1) + ... + c(n-1) by Horner's rule, one fused step per coefficient."""
    result = xp.full_like(x, coefficients[0])
    for coefficient in coefficients[1:]:
        result = fused(result, x, float32(coefficient))
    return result


def log(x):
    """log x for positive float32 x: x = m · 2^e with m in [√½, √2), log x = e log 2 + log m."""
    x = xp.maximum(x, _SMALLEST_NORMAL)
    bits = x.view(xp.int32)
    exponent = ((bits >> 23) - 127).astype(float32) + float32(1)
    mantissa = ((bits & ~0x7F800000) | 0x3F000000).view(float32)  # in [0.5, 1)
    small = mantissa < _SQRT_HALF
    exponent = exponent - small.astype(float32)
    m = (mantissa - float32(1)) + xp.where(small, mantissa, float32(0))  # m - 1, doubled when m < √½
    square = m * m
    y = fused(_polynomial(_LOG_POLYNOMIAL, m) * m, square, exponent * _LOG2_LOW)
    y = y - square * float32(0.5)
    return fused(exponent, _LOG2_HIGH, m + y)


def sincos(x):
    """(sin x, cos x) for float32 x: reduced by multiples of π/4 (in three parts, for precision)
    to |r| ≤ π/4, where one polynomial gives the sine and another the cosine."""
    negative = x < 0
    x = xp.abs(x)
    octant = ((x * _FOUR_OVER_PI).astype(xp.int32) + 1) & ~1
    y = octant.astype(float32)
    for part in _PI_OVER_FOUR_PARTS:
        x = fused(y, part, x)
    square = x * x
    cosine = fused(_polynomial(_COSINE_POLYNOMIAL, square) * square, square, -(square * float32(0.5))) + float32(1)
    sine = fused(_polynomial(_SINE_POLYNOMIAL, square) * square, x, x)
    swapped = (octant & 2) == 0
    sin, cos = xp.where(swapped, sine, cosine), xp.where(swapped, cosine, sine)
    sin = xp.where(negative ^ ((octant & 4) != 0), -sin, sin)
    cos = xp.where((~(octant - 2) & 4) != 0, -cos, cos)
    return sin, cos
