"""The continuous Bernoulli distribution on [0, 1]."""
import math

from chainrule.autograd.function import checked
from chainrule.distributions import constraints
from chainrule.distributions.bernoulli import probs_or_logits
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits
from chainrule.functional import broadcast_tensors, expm1, log, log1p, ones_like, rand, where, zeros_like
from chainrule.nn.functional import binary_cross_entropy_with_logits
from chainrule.tensor import Size


class ContinuousBernoulli(ExponentialFamily):
    """Density C(λ) λˣ (1 - λ)^(1-x) on [0, 1], λ = ``probs`` = sigmoid(``logits``), with normalizer
    C(λ) = 2 atanh(1 - 2λ) / (1 - 2λ) (2 at λ = ½). Near λ = ½, inside ``lims``, the closed forms
    lose precision and their Taylor expansions are used instead, as PyTorch does.
    ``rsample`` is the inverse cdf at a uniform draw."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        name, parameter = probs_or_logits(probs, logits)
        self._lims = lims
        if name == "probs":
            # as PyTorch: probs are checked only when validate_args is given, then kept off 0 and 1
            (probs,) = broadcast_all(probs)
            if validate_args is not None:
                checked(self.arg_constraints["probs"].check(probs), lambda: ValueError("The parameter probs has invalid values"))
            parameter = clamp_probs(probs)
        self._set_parameters(validate_args, **{name: parameter})

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        return self.__dict__.get("probs", self.__dict__.get("logits")).shape

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        """probs, with those inside the unstable region moved to its edge (their results are replaced)."""
        return where(self._outside_unstable_region(), self.probs, self._lims[0] * ones_like(self.probs))

    def _cont_bern_log_norm(self):
        """ln C(λ) = ln|ln(1 - λ) - ln λ| - ln|1 - 2λ|; ln 2 + (4/3 + 104/45 x) x, x = (λ - ½)², near ½."""
        cut = self._cut_probs()
        below_half = where(cut <= 0.5, cut, zeros_like(cut))
        above_half = where(cut >= 0.5, cut, ones_like(cut))
        log_norm = log((log1p(-cut) - log(cut)).abs()) - where(cut <= 0.5, log1p(-2.0 * below_half), log(2.0 * above_half - 1.0))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        """λ/(2λ - 1) + 1/(ln(1 - λ) - ln λ); ½ + (⅓ + 16/45 x²) x, x = λ - ½, near ½."""
        cut = self._cut_probs()
        exact = cut / (2.0 * cut - 1.0) + 1.0 / (log1p(-cut) - log(cut))
        x = self.probs - 0.5
        return where(self._outside_unstable_region(), exact, 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x)

    @property
    def variance(self):
        """λ(λ - 1)/(1 - 2λ)² + 1/(ln(1 - λ) - ln λ)²; 1/12 - (1/15 - 128/945 x) x near ½."""
        cut = self._cut_probs()
        exact = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) + 1.0 / (log1p(-cut) - log(cut)).pow(2)
        x = (self.probs - 0.5).pow(2)
        return where(self._outside_unstable_region(), exact, 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x)

    def rsample(self, sample_shape=Size()):
        uniform = rand(self._extended_shape(sample_shape), dtype=self.probs.dtype)
        return self.icdf(uniform)

    def log_prob(self, value):
        """x ln λ + (1 - x) ln(1 - λ) + ln C(λ)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_tensors(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()

    def cdf(self, value):
        """(λˣ (1 - λ)^(1-x) + λ - 1) / (2λ - 1); x itself near λ = ½."""
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        inside = where(self._outside_unstable_region(), cdfs, value)
        return where(value <= 0.0, zeros_like(inside), where(value >= 1.0, ones_like(inside), inside))

    def icdf(self, value):
        """ln(1 - λ + u (2λ - 1)) - ln(1 - λ), over ln λ - ln(1 - λ); u itself near λ = ½."""
        cut = self._cut_probs()
        exact = (log1p(-cut + value * (2.0 * cut - 1.0)) - log1p(-cut)) / (log(cut) - log1p(-cut))
        return where(self._outside_unstable_region(), exact, value)

    def entropy(self):
        log_probs0, log_probs1 = log1p(-self.probs), log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """ln((eˣ - 1)/x); x/2 + x²/24 - x⁴/2880 near 0."""
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = where(outside, x, (self._lims[0] - 0.5) * ones_like(x))
        log_norm = log(expm1(cut).abs()) - log(cut.abs())
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return where(outside, log_norm, taylor)
