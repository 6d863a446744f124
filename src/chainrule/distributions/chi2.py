"""The chi-squared distribution."""
from chainrule.distributions import constraints
from chainrule.distributions.gamma import Gamma


class Chi2(Gamma):
    """The sum of ``df`` squared standard normals: Gamma(concentration = df / 2, rate = ½)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded_copy(batch_shape, ("concentration", "rate"))

    @property
    def df(self):
        return self.concentration * 2
