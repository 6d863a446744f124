"""The chi-squared distribution."""
from chainrule.distributions import constraints
from chainrule.distributions.gamma import Gamma


class Chi2(Gamma):
    """The sum of ``df`` squared standard normals: Gamma(concentration = df / 2, rate = ½)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        self._set_parameters(validate_args, df=df)
        self.concentration, self.rate = 0.5 * self.df, 0.5 * self.df.new_ones(self.df.shape)

    def expand(self, batch_shape, _instance=None):
        return self._expanded_copy(batch_shape, ("df", "concentration", "rate"))
