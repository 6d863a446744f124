"""Small datasets for the course: generated toy sets and two classic tables shipped with chainrule.

- ``make_moons``: two interleaving half circles, a binary problem no line separates.
- ``load_iris``: 150 Iris flowers, 4 measurements, 3 species.
- ``load_digits``: 1797 handwritten digits as 8x8 images, 10 classes.
- ``make_linear``, ``make_quadratic``: the lectures' few points on ``y = 2x`` and
  ``y = x**2 + x + 1``.

Everything random draws from chainrule's global generator, so ``chainrule.manual_seed`` makes it
reproducible.
"""
from chainrule.datasets.digits import load_digits
from chainrule.datasets.iris import load_iris
from chainrule.datasets.moons import make_moons
from chainrule.datasets.regression import make_linear, make_quadratic

__all__ = ["make_moons", "load_iris", "load_digits", "make_linear", "make_quadratic"]
