"""The half-normal distribution: |X| for X ~ N(0, scale²)."""
import math

from chainrule.distributions.folded import Folded
from chainrule.distributions.normal import Normal


class HalfNormal(Folded):
    """|X|, X ~ N(0, scale²): mean scale √(2/π), variance scale² (1 - 2/π)."""

    base_family = Normal

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
