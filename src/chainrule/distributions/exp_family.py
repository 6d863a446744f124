"""ExponentialFamily, the base of distributions with densities p(x) = h(x) e^(⟨θ, t(x)⟩ - F(θ))."""
from chainrule.autograd import grad
from chainrule.distributions.distribution import Distribution


class ExponentialFamily(Distribution):
    """Densities h(x) e^(⟨θ, t(x)⟩ - F(θ)) with natural parameters θ (``_natural_params``) and log
    normalizer F (``_log_normalizer``). Since E[t(x)] = ∇F(θ), the entropy is
    F(θ) - ⟨θ, ∇F(θ)⟩ - E[ln h(x)] (``_mean_carrier_measure``), and the KL divergence between two
    members is the Bregman divergence of F: F(θq) - F(θp) - ⟨θq - θp, ∇F(θp)⟩."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """F(θ) - ⟨θ, ∇F(θ)⟩ - E[ln h(x)], ∇F by automatic differentiation."""
        natural = [parameter.detach().requires_grad_() for parameter in self._natural_params]
        log_normalizer = self._log_normalizer(*natural)
        gradients = grad(log_normalizer.sum(), natural, create_graph=True)
        result = log_normalizer - self._mean_carrier_measure
        for parameter, gradient in zip(natural, gradients):
            result = result - (parameter * gradient).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
