"""Two interleaving half circles: the two-moons toy set of the PaddlePaddle course.

No straight line separates the two moons, so a logistic regression gets some points wrong while a
network with one hidden layer separates them: the set shows why hidden layers matter.
"""
import numpy

from chainrule.datasets._common import features_and_labels
from chainrule.random import numpy_generator


def make_moons(n_samples=1000, shuffle=True, noise=None, generator=None):
    """Points on two half circles, labelled by the circle they lie on.

    With ``n_out = n_samples // 2`` angles ``t`` and ``n_in = n_samples - n_out`` angles ``s``,
    each evenly spaced on ``[0, pi]`` (ends included):

    - class 0, the outer moon: ``(cos t, sin t)``, the upper half of the unit circle centred at
      ``(0, 0)``;
    - class 1, the inner moon: ``(1 - cos s, 0.5 - sin s)``, the lower half of the unit circle
      centred at ``(1, 0.5)``.

    Args:
        n_samples: the total number of points N.
        shuffle: if true, put the points in a random order; otherwise the ``n_out`` outer points
            come first, in order of ``t``, then the ``n_in`` inner points.
        noise: if given, add Gaussian noise with this standard deviation to every coordinate
            (after shuffling, as the course does).
        generator: the ``chainrule.random.Generator`` to draw from; the global one (seeded by
            ``chainrule.manual_seed``) when None.

    Returns:
        ``(X, y)``: X float32 (N, 2), the points; y int64 (N,), their classes 0 or 1.

    Example:
        >>> import chainrule
        >>> _ = chainrule.manual_seed(0)
        >>> X, y = make_moons(n_samples=200, noise=0.1)
        >>> tuple(X.shape), tuple(y.shape)
        ((200, 2), (200,))
    """
    if n_samples < 0:
        raise ValueError(f"make_moons: n_samples must be >= 0, got {n_samples}")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer_angles = numpy.linspace(0, numpy.pi, n_out)
    inner_angles = numpy.linspace(0, numpy.pi, n_in)
    outer = numpy.stack([numpy.cos(outer_angles), numpy.sin(outer_angles)], axis=1)
    inner = numpy.stack([1 - numpy.cos(inner_angles), 1 - numpy.sin(inner_angles) - 0.5], axis=1)
    points = numpy.concatenate([outer, inner])
    labels = numpy.concatenate(
        [numpy.zeros(n_out, dtype=numpy.int64), numpy.ones(n_in, dtype=numpy.int64)]
    )

    random_numbers = numpy_generator(generator)
    if shuffle:
        order = random_numbers.permutation(n_samples)
        points, labels = points[order], labels[order]
    if noise is not None:
        points = points + random_numbers.normal(0.0, noise, size=points.shape)
    return features_and_labels(points, labels, as_numpy=False)
