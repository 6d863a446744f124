"""The lectures' toy regression sets: a line and a parabola, a few points each.

With the defaults they are exactly the lectures' data, three points at x = 1, 2, 3. Ask for more
points, a different range or noise to make the fitting harder.
"""
import numpy

from chainrule.random import numpy_generator
from chainrule.tensor import from_numpy


def make_linear(n_samples=3, start=1.0, end=3.0, slope=2.0, noise=None, generator=None):
    """Points on the line ``y = slope * x``, the data of the lectures on linear models.

    The defaults give the lecture's ``x = [1, 2, 3]``, ``y = [2, 4, 6]``.

    Args:
        n_samples: the number of points N; x is evenly spaced from ``start`` to ``end`` (both
            included, as ``numpy.linspace``).
        start, end: the range of x.
        slope: the weight ``w`` a model ``y = w * x`` should learn.
        noise: if given, add Gaussian noise with this standard deviation to y.
        generator: the ``chainrule.random.Generator`` the noise is drawn from; the global one when
            None.

    Returns:
        ``(x, y)``: two float32 tensors of shape (N,). For a ``Linear(1, 1)`` layer, use
        ``x.reshape(-1, 1)``.
    """
    x = numpy.linspace(start, end, n_samples)
    return _with_noise(x, slope * x, noise, generator)


def make_quadratic(
    n_samples=3, start=1.0, end=3.0, a=1.0, b=1.0, c=1.0, noise=None, generator=None
):
    """Points on the parabola ``y = a * x**2 + b * x + c``, the lecture homework's data.

    The defaults give ``y = x**2 + x + 1`` on ``x = [1, 2, 3]``, that is ``y = [3, 7, 13]``.

    Args:
        n_samples: the number of points N; x is evenly spaced from ``start`` to ``end`` (both
            included, as ``numpy.linspace``).
        start, end: the range of x.
        a, b, c: the coefficients a model ``y = w1 * x**2 + w2 * x + b`` should learn.
        noise: if given, add Gaussian noise with this standard deviation to y.
        generator: the ``chainrule.random.Generator`` the noise is drawn from; the global one when
            None.

    Returns:
        ``(x, y)``: two float32 tensors of shape (N,).
    """
    x = numpy.linspace(start, end, n_samples)
    return _with_noise(x, a * x**2 + b * x + c, noise, generator)


def _with_noise(x, y, noise, generator):
    """``(x, y + noise)`` as float32 tensors; the noise is Gaussian with std ``noise``, if given."""
    if noise is not None:
        y = y + numpy_generator(generator).normal(0.0, noise, size=y.shape)
    return from_numpy(x.astype(numpy.float32)), from_numpy(y.astype(numpy.float32))
