"""Samples are PyTorch's: after the same ``manual_seed``, each family PyTorch samples with its
generator's primitives (normal, rand, uniform_, exponential_, cauchy_, bernoulli, multinomial)
draws the same numbers in chainrule, in the same order, and leaves the generator where PyTorch's
is. Families that pass the draws through exp, log... agree to the last bits of those functions;
rsample's gradients with respect to the parameters agree too, and match finite differences taken
with the same noise."""
import numpy as np
import pytest
import torch

import chainrule


def _families(lib):
    """name -> (build the distribution from lib, sample_shape, bit for bit?), written once."""
    d = lib.distributions

    def t(values, dtype=None):
        return lib.tensor(values, dtype=dtype or lib.float32)

    return {
        "Normal": (lambda: d.Normal(t([0.0, 1.0, -2.0]), t([1.0, 0.5, 2.0])), (5,), True),
        "Normal_blocks_of_16": (lambda: d.Normal(t([0.0, 1.0, -2.0]), t([1.0, 0.5, 2.0])), (40,), True),
        "Normal_float64": (lambda: d.Normal(t([0.0, 1.0], lib.float64), 2.0), (20,), True),
        "Normal_numbers": (lambda: d.Normal(0.0, 1.0), (3, 7), True),
        "Normal_no_sample_shape": (lambda: d.Normal(t([0.0, 1.0]), t([1.0, 3.0])), (), True),
        "Uniform": (lambda: d.Uniform(t([0.0, -1.0]), t([1.0, 3.0])), (9,), True),
        "Exponential": (lambda: d.Exponential(t([0.5, 2.0])), (9,), True),
        "Exponential_float64": (lambda: d.Exponential(t([0.5, 2.0], lib.float64)), (9,), True),
        "Cauchy": (lambda: d.Cauchy(t([0.0, 1.0]), t([1.0, 2.0])), (9,), True),
        "HalfNormal": (lambda: d.HalfNormal(t([1.0, 2.0])), (9,), True),
        "HalfCauchy": (lambda: d.HalfCauchy(t([1.0, 2.0])), (9,), True),
        "MultivariateNormal_scale_tril": (lambda: d.MultivariateNormal(t([[0.0, 1.0], [1.0, 2.0]]), scale_tril=t([[1.0, 0.0], [0.3, 2.0]])), (4,), True),
        "LowRankMultivariateNormal": (lambda: d.LowRankMultivariateNormal(t([0.0, 1.0, 2.0]), t([[1.0], [0.5], [0.2]]), t([1.0, 2.0, 0.5])), (6,), True),
        "Independent": (lambda: d.Independent(d.Normal(t([[0.0, 1.0]]), t([[1.0, 2.0]])), 1), (4,), True),
        "OneHotCategoricalStraightThrough": (lambda: d.OneHotCategoricalStraightThrough(probs=t([0.2, 0.3, 0.5])), (5,), True),
        "Laplace": (lambda: d.Laplace(t([0.0, 1.0]), t([1.0, 2.0])), (9,), False),
        "LogNormal": (lambda: d.LogNormal(t([0.0, 1.0]), t([1.0, 0.2])), (9,), False),
        "Gumbel": (lambda: d.Gumbel(t([0.0, 1.0]), t([1.0, 2.0])), (9,), False),
        "MultivariateNormal_covariance": (lambda: d.MultivariateNormal(t([0.0, 1.0, 2.0]), t([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 1.5]])), (6,), False),
        "RelaxedBernoulli": (lambda: d.RelaxedBernoulli(t([0.5]), probs=t([0.1, 0.5, 0.9])), (5,), False),
        "RelaxedOneHotCategorical": (lambda: d.RelaxedOneHotCategorical(t([0.7]), probs=t([0.2, 0.3, 0.5])), (5,), False),
        "ContinuousBernoulli": (lambda: d.ContinuousBernoulli(probs=t([0.2, 0.7])), (5,), False),
        "GeneralizedPareto": (lambda: d.GeneralizedPareto(t([0.0]), t([1.0]), t([0.2])), (5,), False),
        "Weibull": (lambda: d.Weibull(t([1.0, 2.0]), t([0.5, 1.5])), (5,), False),
        "Pareto": (lambda: d.Pareto(t([1.0, 2.0]), t([0.5, 1.5])), (5,), False),
        "Kumaraswamy": (lambda: d.Kumaraswamy(t([1.0, 2.0]), t([0.5, 1.5])), (5,), False),
        "LogisticNormal": (lambda: d.LogisticNormal(t([0.0, 1.0]), t([1.0, 0.5])), (5,), False),
    }


def _discrete_families(lib):
    d = lib.distributions

    def t(values, dtype=None):
        return lib.tensor(values, dtype=dtype or lib.float32)

    # VonMises accepts the same proposals bit for bit, then computes its angle with acos, whose last
    # bit PyTorch's vectorized kernels round by the CPU (an AVX2 machine: 2 of 100 float64 draws an
    # ulp away from NumPy's): its draws are compared within 4 ulps of pi ("ulps")
    return {
        "Bernoulli": (lambda: d.Bernoulli(probs=t([0.1, 0.5, 0.9])), (6,)),
        "Bernoulli_logits": (lambda: d.Bernoulli(logits=t([-1.0, 0.0, 2.0])), (6,)),
        "Bernoulli_float64": (lambda: d.Bernoulli(probs=t([0.1, 0.5, 0.9], lib.float64)), (6,)),
        "Categorical": (lambda: d.Categorical(probs=t([0.2, 0.3, 0.5])), (8,)),
        "Categorical_batch": (lambda: d.Categorical(logits=t([[0.2, 0.3, 0.5], [1.0, -1.0, 0.0]])), (3, 4)),
        "Categorical_one_sample": (lambda: d.Categorical(probs=t([0.2, 0.0, 0.5])), ()),
        "OneHotCategorical": (lambda: d.OneHotCategorical(probs=t([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]])), (4,)),
        "Geometric": (lambda: d.Geometric(probs=t([0.2, 0.7, 1.0])), (9,)),
        "Multinomial": (lambda: d.Multinomial(5, probs=t([0.2, 0.3, 0.5])), (4,)),
        "MixtureSameFamily": (lambda: d.MixtureSameFamily(d.Categorical(probs=t([0.3, 0.7])), d.Normal(t([0.0, 5.0]), t([1.0, 0.5]))), (6,)),
        "VonMises": (lambda: d.VonMises(t([0.5, -2.0, 3.0]), t([0.3, 2.0, 1e-6])), (50,), "ulps"),
        "VonMises_float64": (lambda: d.VonMises(t([0.5, -2.0], lib.float64), t([10.0, 2.0], lib.float64)), (50,), "ulps"),
    }


def _draw(lib, build, sample_shape, method):
    lib.manual_seed(0)
    value = getattr(build(), method)(lib.Size(sample_shape))
    return value.detach().numpy().copy(), lib.rand(3).numpy()


def _assert_same_draws(ours, theirs, bit_for_bit):
    (value, next_draw), (reference, reference_next) = ours, theirs
    assert value.dtype == reference.dtype and value.shape == reference.shape
    if bit_for_bit == "ulps":  # the same draws and proposals, through a last acos that rounds by the CPU's kernels
        spacing = np.finfo(reference.dtype).eps * np.maximum(np.abs(reference), np.pi)
        np.testing.assert_array_less(np.abs(value - reference), 4 * spacing)
    elif bit_for_bit:
        np.testing.assert_array_equal(value, reference)
    else:  # the same draws, through exp, log... that round their last bits differently
        np.testing.assert_allclose(value, reference, rtol=2e-6, atol=1e-7)
    np.testing.assert_array_equal(next_draw, reference_next, err_msg="the generator is out of step after sampling")


@pytest.mark.parametrize("method", ["sample", "rsample"])
@pytest.mark.parametrize("name", list(_families(torch)))
def test_continuous_samples_are_pytorchs(name, method):
    build, sample_shape, bit_for_bit = _families(chainrule)[name]
    ours = _draw(chainrule, build, sample_shape, method)
    theirs = _draw(torch, _families(torch)[name][0], sample_shape, method)
    _assert_same_draws(ours, theirs, bit_for_bit)


@pytest.mark.parametrize("name", list(_discrete_families(torch)))
def test_discrete_samples_are_pytorchs(name):
    build, sample_shape, *exactly = _discrete_families(chainrule)[name]
    ours = _draw(chainrule, build, sample_shape, "sample")
    theirs = _draw(torch, _discrete_families(torch)[name][0], sample_shape, "sample")
    _assert_same_draws(ours, theirs, bit_for_bit=exactly[0] if exactly else True)


def test_categorical_sample_with_no_probability_left_raises_pytorchs_error():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="probability tensor contains either `inf`, `nan` or element < 0"):
            lib.distributions.Categorical(lib.tensor([[0.0, 0.0]]), validate_args=False).sample()


REPARAMETERIZED = {
    "Normal": lambda d, a, b: d.Normal(a, b.exp()),
    "Uniform": lambda d, a, b: d.Uniform(a, a + b.exp()),
    "Exponential": lambda d, a, b: d.Exponential(b.exp() * (1 + a ** 2)),
    "Laplace": lambda d, a, b: d.Laplace(a, b.exp()),
    "Cauchy": lambda d, a, b: d.Cauchy(a, b.exp()),
    "Gumbel": lambda d, a, b: d.Gumbel(a, b.exp()),
    "LowRankMultivariateNormal": lambda d, a, b: d.LowRankMultivariateNormal(a, b.reshape(-1, 1), b.exp()),
}


def _weighted_sample(lib, name, a, b):
    lib.manual_seed(3)
    sample = REPARAMETERIZED[name](lib.distributions, a, b).rsample((4,))
    weights = lib.tensor(np.linspace(-1.0, 2.0, sample.numel()).reshape(tuple(sample.shape)))
    return (sample * weights).sum()


@pytest.mark.parametrize("name", list(REPARAMETERIZED))
def test_rsample_gradients_are_pytorchs_and_finite_differences(name):
    a0, b0 = np.array([0.3, -1.0, 2.0]), np.array([0.1, -0.4, 0.7])
    grads = {}
    for lib in (chainrule, torch):
        a, b = (lib.tensor(value, requires_grad=True) for value in (a0, b0))
        grads[lib] = [g.numpy() for g in lib.autograd.grad(_weighted_sample(lib, name, a, b), (a, b))]
    for mine, reference in zip(grads[chainrule], grads[torch]):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)
    step = 1e-6
    for position, base in enumerate((a0, b0)):
        for i in range(base.size):
            shifted = [a0.copy(), b0.copy()]
            shifted[position][i] += step
            up = float(_weighted_sample(chainrule, name, *(chainrule.tensor(v) for v in shifted)))
            shifted[position][i] -= 2 * step
            down = float(_weighted_sample(chainrule, name, *(chainrule.tensor(v) for v in shifted)))
            assert (up - down) / (2 * step) == pytest.approx(grads[chainrule][position][i], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_beta_and_dirichlet_samples_of_small_concentrations_stay_inside_the_interval(dtype):
    """(PyTorch normalises the gammas in float64 and keeps the ratio in (0, 1): a ratio that
    rounded to 1 had an infinite log-density)"""
    drawn = []
    for lib in (chainrule, torch):
        lib.manual_seed(1)
        small = lib.tensor(1e-2, dtype=getattr(lib, dtype))
        beta = lib.distributions.Beta(small, small).sample([4000])
        dirichlet = lib.distributions.Dirichlet(lib.full((3,), 1e-2, dtype=getattr(lib, dtype))).sample([1000])
        assert ((beta > 0) & (beta < 1)).all() and ((dirichlet > 0) & (dirichlet < 1)).all()
        drawn.append((beta.tolist(), dirichlet.tolist()))
    assert drawn[0] == drawn[1]


def test_gamma_family_samples_of_one_concentration_without_a_sample_shape():
    """``Gamma(tensor(3.), tensor(6.)).rsample()``: a 0-d draw reached the implicit gradient as a
    Python number (AttributeError: 'float' object has no attribute 'astype'); so did Chi2,
    StudentT and ``torch._standard_gamma`` of a 0-d concentration. PyTorch's numbers, and a gradient."""
    results = []
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        concentration = lib.tensor(3.0, requires_grad=True)
        draws = [lib.distributions.Gamma(concentration, lib.tensor(6.0)).rsample(), lib.distributions.Chi2(lib.tensor(3.0)).rsample(),
                 lib.distributions.StudentT(lib.tensor(3.0)).rsample(), lib._standard_gamma(lib.tensor(3.0, dtype=lib.float64))]
        draws[0].backward()
        results.append(([draw.item() for draw in draws], [tuple(draw.shape) for draw in draws], concentration.grad.item()))
    (theirs, their_shapes, their_grad), (ours, our_shapes, our_grad) = results
    assert ours == theirs and our_shapes == their_shapes == [()] * 4
    assert abs(our_grad - their_grad) < 1e-5
