"""Argument validation: PyTorch's ValueErrors for parameters outside their constraints, values
outside the support or of the wrong shape, and ill-formed constructor calls; and the reprs."""
import pytest
import torch

import chainrule


@pytest.fixture(autouse=True)
def pytorch_validates():
    """PyTorch validates by default, but loading torch._dynamo (another test's torch.compile, some
    optimizer paths) turns that default off for the whole process: the comparisons here need it on."""
    previous = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(previous)


def both(call):
    """``call(lib)`` in chainrule and torch: the exceptions each raised (None when none)."""
    raised = []
    for lib in (chainrule, torch):
        try:
            call(lib)
            raised.append(None)
        except Exception as error:  # noqa: BLE001  compared below
            raised.append(error)
    return raised


def same_words(message):
    return message.replace("torch.Size", "Size").replace("chainrule.Size", "Size")


ERRORS = {
    "negative scale": lambda lib: lib.distributions.Normal(lib.zeros(2), lib.tensor([1.0, -1.0])),
    "nan loc": lambda lib: lib.distributions.Laplace(lib.tensor(float("nan")), 1.0),
    "probs above 1": lambda lib: lib.distributions.Bernoulli(lib.tensor([0.5, 1.5])),
    "zero rate": lambda lib: lib.distributions.Exponential(lib.tensor([0.0])),
    "low above high": lambda lib: lib.distributions.Uniform(1.0, 0.0),
    "negative concentration": lambda lib: lib.distributions.Gamma(lib.tensor([-1.0]), 1.0),
    "negative Poisson rate": lambda lib: lib.distributions.Poisson(lib.tensor([-1.0])),
    "fractional total_count": lambda lib: lib.distributions.Binomial(lib.tensor([2.5]), lib.tensor([0.5])),
    "both probs and logits": lambda lib: lib.distributions.Bernoulli(0.3, logits=0.2),
    "neither probs nor logits": lambda lib: lib.distributions.Categorical(),
    "0-d categorical": lambda lib: lib.distributions.Categorical(lib.tensor(1.0)),
    "0-d loc": lambda lib: lib.distributions.MultivariateNormal(lib.tensor(0.0), lib.eye(1)),
    "two matrices": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2), scale_tril=lib.eye(2)),
    "1-d scale_tril": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2)),
    "not positive definite": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "not lower triangular": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2, 2)),
    "reinterpreting too many dims": lambda lib: lib.distributions.Independent(lib.distributions.Normal(lib.zeros(2), 1.0), 2),
    "log_prob of a number": lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(1.0),
    "value outside the support": lambda lib: lib.distributions.Bernoulli(0.3).log_prob(lib.tensor(0.5)),
    "negative value for an exponential": lambda lib: lib.distributions.Exponential(1.0).log_prob(lib.tensor([-1.0])),
    "category out of range": lambda lib: lib.distributions.Categorical(lib.ones(3)).log_prob(lib.tensor([3])),
    "value shape": lambda lib: lib.distributions.Normal(lib.zeros(2), 1.0).log_prob(lib.zeros(3)),
    "event shape": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(lib.zeros(3)),
    "not a simplex": lambda lib: lib.distributions.OneHotCategorical(lib.ones(3)).log_prob(lib.tensor([1.0, 1.0, 0.0])),
    "negative Cauchy scale": lambda lib: lib.distributions.Cauchy(lib.zeros(2), lib.tensor([1.0, -1.0])),
    "0-d Dirichlet": lambda lib: lib.distributions.Dirichlet(lib.tensor(1.0)),
    "negative Dirichlet concentration": lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, -1.0])),
    "zero Geometric probs": lambda lib: lib.distributions.Geometric(lib.tensor([0.0, 0.5])),
    "negative StudentT df": lambda lib: lib.distributions.StudentT(lib.tensor([-1.0])),
    "negative Chi2 df": lambda lib: lib.distributions.Chi2(lib.tensor([-1.0])),
    "negative HalfNormal scale": lambda lib: lib.distributions.HalfNormal(lib.tensor([-1.0])),
    "negative LogNormal scale": lambda lib: lib.distributions.LogNormal(0.0, lib.tensor([-1.0])),
    "negative Kumaraswamy concentration": lambda lib: lib.distributions.Kumaraswamy(lib.tensor([-1.0]), 1.0),
    "negative VonMises concentration": lambda lib: lib.distributions.VonMises(0.0, lib.tensor([-1.0])),
    "ContinuousBernoulli probs checked when asked": lambda lib: lib.distributions.ContinuousBernoulli(lib.tensor([1.5]), validate_args=True),
    "negative NegativeBinomial count": lambda lib: lib.distributions.NegativeBinomial(lib.tensor([-1.0]), lib.tensor([0.5])),
    "NegativeBinomial probs of 1": lambda lib: lib.distributions.NegativeBinomial(lib.tensor([2.0]), lib.tensor([1.0])),
    "fractional Multinomial count": lambda lib: lib.distributions.Multinomial(2.5, lib.ones(3)),
    "Multinomial counts above total": lambda lib: lib.distributions.Multinomial(2, lib.ones(3)).log_prob(lib.tensor([2.0, 1.0, 0.0])),
    "cov_factor shape": lambda lib: lib.distributions.LowRankMultivariateNormal(lib.zeros(3), lib.ones(2, 1), lib.ones(3)),
    "cov_diag shape": lambda lib: lib.distributions.LowRankMultivariateNormal(lib.zeros(3), lib.ones(3, 1), lib.ones(2)),
    "mixture not categorical": lambda lib: lib.distributions.MixtureSameFamily(lib.distributions.Normal(0.0, 1.0), lib.distributions.Normal(lib.zeros(2), 1.0)),
    "mixture of the wrong size": lambda lib: lib.distributions.MixtureSameFamily(lib.distributions.Categorical(lib.ones(3)), lib.distributions.Normal(lib.zeros(2), 1.0)),
    "transforms not transforms": lambda lib: lib.distributions.TransformedDistribution(lib.distributions.Normal(0.0, 1.0), "exp"),
    "value below the Pareto scale": lambda lib: lib.distributions.Pareto(1.0, 2.0).log_prob(lib.tensor([0.5])),
    "value above the generalized Pareto's end": lambda lib: lib.distributions.GeneralizedPareto(0.0, 1.0, -0.5).log_prob(lib.tensor([3.0])),
    "value off the simplex for Dirichlet": lambda lib: lib.distributions.Dirichlet(lib.ones(3)).log_prob(lib.tensor([0.5, 0.6, 0.1])),
    "Binomial KL with larger q count": lambda lib: lib.distributions.kl_divergence(lib.distributions.Binomial(3, 0.5), lib.distributions.Binomial(5, 0.5)),
    "unregistered constraint": lambda lib: lib.distributions.biject_to(lib.distributions.constraints.nonnegative_integer),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_match_pytorch(case):
    ours, theirs = both(ERRORS[case])
    assert theirs is not None and ours is not None, f"{case}: torch raised {theirs!r}, chainrule {ours!r}"
    assert type(ours) is type(theirs)
    our_message, their_message = same_words(str(ours)), same_words(str(theirs))
    assert our_message.split("\n")[0] == their_message.split("\n")[0]


def test_validation_can_be_turned_off():
    d = chainrule.distributions
    assert float(d.Normal(0.0, -1.0, validate_args=False).scale) == -1.0
    d.Distribution.set_default_validate_args(False)
    try:
        d.Bernoulli(0.3).log_prob(chainrule.tensor(0.5))
    finally:
        d.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        d.Bernoulli(0.3).log_prob(chainrule.tensor(0.5))


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.distributions.Normal(0.0, 1.0),
        lambda lib: lib.distributions.Normal(lib.zeros(2), 1.0),
        lambda lib: lib.distributions.Bernoulli(logits=lib.zeros(2, 3)),
        lambda lib: lib.distributions.Categorical(lib.ones(3)),
        lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)),
        lambda lib: lib.distributions.Independent(lib.distributions.Normal(lib.zeros(2), 1.0), 1),
        lambda lib: lib.distributions.StudentT(3.0),
        lambda lib: lib.distributions.Dirichlet(lib.ones(2, 3)),
        lambda lib: lib.distributions.LogNormal(0.0, 1.0),
        lambda lib: lib.distributions.Gumbel(lib.zeros(2), 1.0),
    ],
)
def test_repr_matches_pytorch(build):
    assert same_words(repr(build(chainrule))) == same_words(repr(build(torch)))


def test_constraints_repr_as_pytorch():
    names = ["real", "positive", "nonnegative", "unit_interval", "simplex", "boolean", "nonnegative_integer",
             "lower_cholesky", "positive_definite", "real_vector", "one_hot", "corr_cholesky", "positive_semidefinite",
             "square", "symmetric", "lower_triangular"]
    for name in names:
        assert repr(getattr(chainrule.distributions.constraints, name)) == repr(getattr(torch.distributions.constraints, name))


def test_methods_a_family_lacks_raise_not_implemented():
    d = chainrule.distributions
    with pytest.raises(NotImplementedError):
        d.Poisson(2.0).entropy()
    with pytest.raises(NotImplementedError):
        d.Beta(2.0, 1.0).cdf(chainrule.tensor(0.5))
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count not supported by `entropy`"):
        d.Binomial(chainrule.tensor([2.0, 3.0]), chainrule.tensor([0.5, 0.5])).entropy()


def test_every_public_name_and_module_of_torch_distributions_exists():
    import importlib
    import pkgutil

    d = chainrule.distributions
    assert [name for name in torch.distributions.__all__ if not hasattr(d, name)] == []
    assert [name for name in torch.distributions.transforms.__all__ if not hasattr(d.transforms, name)] == []
    for module in pkgutil.iter_modules(torch.distributions.__path__):
        importlib.import_module(f"chainrule.distributions.{module.name}")


def test_class_level_supports_are_constraints_and_subclasses_expand_to_themselves():
    for lib in (chainrule, torch):
        distributions = lib.distributions
        assert distributions.Categorical.support.event_dim == 0 and distributions.Binomial.support.is_discrete
        assert isinstance(distributions.Uniform.support, distributions.constraints.Constraint)
        assert isinstance(distributions.Independent.support, distributions.constraints.Constraint)

        class Diagonal(distributions.Independent):
            pass

        expanded = Diagonal(distributions.Normal(lib.zeros(2, 3), lib.ones(2, 3)), 1).expand((4, 2))
        assert type(expanded) is Diagonal and tuple(expanded.batch_shape) == (4, 2)
        assert distributions.Gamma(0.5, 1).log_prob(0).item() == float("inf")
        assert abs(distributions.Chi2(1).log_prob(1).item() + 1.4189385) < 1e-6
