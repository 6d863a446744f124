"""Transforms and the constraint registry against PyTorch's: forward values, inverses, ln|det J|
and their gradients, shapes, domains and codomains; biject_to and transform_to."""
import numpy as np
import pytest
import torch

import chainrule
from tests.distributions.oracle import compare_with_torch
from tests.distributions.test_families import lower_factor, normal_values, positive_values, simplex_rows


def corr_cholesky_factor(lib, vector):
    return lib.distributions.transforms.CorrCholeskyTransform()(vector)


# name: (build(lib) -> transform, x in the domain (float64 array))
TRANSFORMS = {
    "Exp": (lambda lib: lib.distributions.transforms.ExpTransform(), normal_values(2, 3)),
    "Power": (lambda lib: lib.distributions.transforms.PowerTransform(lib.tensor([0.5, 2.0, -1.5], dtype=lib.float64)), positive_values(2, 3)),
    "Sigmoid": (lambda lib: lib.distributions.transforms.SigmoidTransform(), normal_values(2, 3) * 3),
    "Softplus": (lambda lib: lib.distributions.transforms.SoftplusTransform(), normal_values(2, 3) * 3),
    "Tanh": (lambda lib: lib.distributions.transforms.TanhTransform(), normal_values(2, 3)),
    "Affine": (lambda lib: lib.distributions.transforms.AffineTransform(lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64), lib.tensor([2.0, -0.5, 3.0], dtype=lib.float64)),
               normal_values(2, 3)),
    "Affine_numbers": (lambda lib: lib.distributions.transforms.AffineTransform(1.5, -2.0), normal_values(4)),
    "Affine_event": (lambda lib: lib.distributions.transforms.AffineTransform(0.0, lib.tensor([2.0, -0.5, 3.0], dtype=lib.float64), event_dim=1),
                     normal_values(2, 3)),
    "StickBreaking": (lambda lib: lib.distributions.transforms.StickBreakingTransform(), normal_values(2, 3)),
    "CorrCholesky": (lambda lib: lib.distributions.transforms.CorrCholeskyTransform(), normal_values(2, 6) * 0.7),
    "Compose": (lambda lib: lib.distributions.transforms.ComposeTransform(
        [lib.distributions.transforms.AffineTransform(0.5, 2.0), lib.distributions.transforms.ExpTransform()]), normal_values(2, 3)),
    "Compose_vector": (lambda lib: lib.distributions.transforms.ComposeTransform(
        [lib.distributions.transforms.ExpTransform(), lib.distributions.transforms.AffineTransform(-1.0, 3.0),
         lib.distributions.transforms.StickBreakingTransform()]), normal_values(2, 3) * 0.3),
    "Independent": (lambda lib: lib.distributions.transforms.IndependentTransform(lib.distributions.transforms.ExpTransform(), 1), normal_values(2, 3)),
    "Reshape": (lambda lib: lib.distributions.transforms.ReshapeTransform((2, 3), (3, 2)), normal_values(4, 2, 3)),
    "Cat": (lambda lib: lib.distributions.transforms.CatTransform(
        [lib.distributions.transforms.ExpTransform(), lib.distributions.transforms.SigmoidTransform()], dim=-1, lengths=[1, 2]), normal_values(2, 3)),
    "Stack": (lambda lib: lib.distributions.transforms.StackTransform(
        [lib.distributions.transforms.ExpTransform(), lib.distributions.transforms.TanhTransform()], dim=0), normal_values(2, 3)),
    "CumulativeDistribution": (lambda lib: lib.distributions.transforms.CumulativeDistributionTransform(
        lib.distributions.Normal(lib.tensor(0.5, dtype=lib.float64), lib.tensor(2.0, dtype=lib.float64))), normal_values(2, 3)),
    "Inverse_Sigmoid": (lambda lib: lib.distributions.transforms.SigmoidTransform().inv, simplex_rows(2, 3)),
    "identity": (lambda lib: lib.distributions.transforms.identity_transform, normal_values(3)),
}
# the transforms that are not one-to-one: inverse and ln|det J| checked where defined
NOT_BIJECTIVE = {
    "Softmax": (lambda lib: lib.distributions.transforms.SoftmaxTransform(), normal_values(2, 3)),
    "Abs": (lambda lib: lib.distributions.transforms.AbsTransform(), normal_values(2, 3)),
    "LowerCholesky": (lambda lib: lib.distributions.transforms.LowerCholeskyTransform(), normal_values(2, 3, 3)),
    "PositiveDefinite": (lambda lib: lib.distributions.transforms.PositiveDefiniteTransform(), lower_factor((2,), 3)),
}


def compare_forward_and_inverse(build, x):
    """t(x) and t.inv(y), y = PyTorch's t(x), with their gradients, against PyTorch's."""
    compare_with_torch(lambda lib, value: build(lib)(value), [x])
    y = build(torch)(torch.tensor(x)).numpy()
    compare_with_torch(lambda lib, value: build(lib).inv(value), [y])


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_forward_inverse_and_log_det_match_pytorch_with_gradients(name):
    build, x = TRANSFORMS[name]
    compare_forward_and_inverse(build, x)
    compare_with_torch(lambda lib, value: build(lib).log_abs_det_jacobian(value, build(lib)(value)), [x])
    ours = build(chainrule)
    np.testing.assert_allclose(ours.inv(ours(chainrule.tensor(x))).numpy(), x, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(NOT_BIJECTIVE))
def test_transforms_that_are_not_one_to_one_match_pytorch(name):
    build, x = NOT_BIJECTIVE[name]
    compare_forward_and_inverse(build, x)
    assert not build(chainrule).bijective


@pytest.mark.parametrize("name", sorted(TRANSFORMS) + sorted(NOT_BIJECTIVE))
def test_domains_codomains_signs_and_shapes_match_pytorch(name):
    build, x = {**TRANSFORMS, **NOT_BIJECTIVE}[name]
    ours, theirs = build(chainrule), build(torch)
    for attribute in ("domain", "codomain"):
        mine, reference = getattr(ours, attribute), getattr(theirs, attribute)
        assert type(mine).__name__ == type(reference).__name__ and mine.event_dim == reference.event_dim, attribute
    assert ours.bijective == theirs.bijective
    assert tuple(ours.forward_shape(x.shape)) == tuple(theirs.forward_shape(torch.Size(x.shape)))
    y_shape = tuple(theirs(torch.tensor(x)).shape)
    assert tuple(ours.inverse_shape(y_shape)) == tuple(theirs.inverse_shape(torch.Size(y_shape)))
    try:
        expected_sign = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.sign  # noqa: B018
        return
    np.testing.assert_array_equal(np.asarray(ours.sign.numpy() if hasattr(ours.sign, "numpy") else ours.sign),
                                  np.asarray(expected_sign.numpy() if hasattr(expected_sign, "numpy") else expected_sign))


def test_codomain_check_accepts_what_the_transform_makes():
    for name, (build, x) in {**TRANSFORMS, **NOT_BIJECTIVE}.items():
        transform = build(chainrule)
        if name in ("CumulativeDistribution",):
            continue
        assert bool(transform.codomain.check(transform(chainrule.tensor(x))).all()), name


def test_inverse_of_inverse_is_the_transform_and_equality_is_pytorchs():
    t = chainrule.distributions.transforms
    exp = t.ExpTransform()
    assert exp.inv.inv is exp
    assert t.ExpTransform() == t.ExpTransform() and t.ExpTransform().inv == t.ExpTransform().inv
    assert t.AffineTransform(1.0, 2.0) == t.AffineTransform(1.0, 2.0) and t.AffineTransform(1.0, 2.0) != t.AffineTransform(1.0, 3.0)
    assert t.ComposeTransform([exp, t.SigmoidTransform()]) == t.ComposeTransform([t.ExpTransform(), t.SigmoidTransform()])
    assert repr(exp.inv) == repr(torch.distributions.transforms.ExpTransform().inv)


def test_a_cached_transform_returns_the_x_it_was_given():
    transform = chainrule.distributions.transforms.SigmoidTransform(cache_size=1)
    x = chainrule.tensor([40.0, -3.0], dtype=chainrule.float64)  # sigmoid(40) rounds to 1: no inverse gives 40 back
    assert transform.inv(transform(x)) is x
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        chainrule.distributions.transforms.ExpTransform(cache_size=2)


def test_shape_errors_match_pytorch():
    for lib in (chainrule, torch):
        t = lib.distributions.transforms
        with pytest.raises(ValueError, match="Input is not a flattened lower-diagonal number"):
            t.CorrCholeskyTransform().forward_shape((4,))
        with pytest.raises(ValueError, match="in_shape, out_shape have different numbers of elements"):
            t.ReshapeTransform((2, 3), (4,))


CONSTRAINTS = {
    "real": lambda c: c.real, "positive": lambda c: c.positive, "nonnegative": lambda c: c.nonnegative,
    "greater_than": lambda c: c.greater_than(1.5), "less_than": lambda c: c.less_than(-2.0),
    "unit_interval": lambda c: c.unit_interval, "interval": lambda c: c.interval(-1.0, 3.0),
    "half_open_interval": lambda c: c.half_open_interval(0.5, 2.0), "simplex": lambda c: c.simplex,
    "real_vector": lambda c: c.real_vector, "lower_cholesky": lambda c: c.lower_cholesky,
    "positive_definite": lambda c: c.positive_definite, "corr_cholesky": lambda c: c.corr_cholesky,
    "independent_positive": lambda c: c.independent(c.positive, 1),
    "cat": lambda c: c.cat([c.positive, c.real], dim=-1, lengths=[1, 2]), "stack": lambda c: c.stack([c.positive, c.unit_interval], dim=-1),
}
UNCONSTRAINED = {"simplex": normal_values(2, 3), "lower_cholesky": normal_values(2, 3, 3), "positive_definite": normal_values(2, 3, 3),
                 "corr_cholesky": normal_values(2, 3), "stack": normal_values(3, 2)}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_constraint_registry_matches_pytorch(registry, name):
    their_registry = getattr(torch.distributions, registry)
    their_constraint = CONSTRAINTS[name](torch.distributions.constraints)
    try:
        theirs = their_registry(their_constraint)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            getattr(chainrule.distributions, registry)(CONSTRAINTS[name](chainrule.distributions.constraints))
        return
    ours = getattr(chainrule.distributions, registry)(CONSTRAINTS[name](chainrule.distributions.constraints))
    assert repr(ours) == repr(theirs)
    x = UNCONSTRAINED.get(name, normal_values(2, 3))
    compare_with_torch(lambda lib, value: getattr(lib.distributions, registry)(CONSTRAINTS[name](lib.distributions.constraints))(value), [x])
    assert bool(CONSTRAINTS[name](chainrule.distributions.constraints).check(ours(chainrule.tensor(x))).all())


def test_transformed_distribution_matches_pytorch_with_gradients():
    values, simplex_values = positive_values(4, 3), simplex_rows(2, 4)

    def log_prob(lib, loc, scale, shift):
        t = lib.distributions.transforms
        base = lib.distributions.Normal(loc, scale)
        distribution = lib.distributions.TransformedDistribution(base, [t.AffineTransform(shift, 2.0), t.ExpTransform(), t.PowerTransform(0.5)])
        value = lib.tensor(values)
        return distribution.log_prob(value) + distribution.cdf(value)

    compare_with_torch(log_prob, [normal_values(3), positive_values(3), normal_values(1)])

    def vector_log_prob(lib, loc, scale):
        base = lib.distributions.Normal(loc, scale)
        return lib.distributions.TransformedDistribution(base, lib.distributions.transforms.StickBreakingTransform()).log_prob(lib.tensor(simplex_values))

    compare_with_torch(vector_log_prob, [normal_values(3), positive_values(3)])
    for lib in (chainrule, torch):
        distribution = lib.distributions.TransformedDistribution(lib.distributions.Normal(lib.zeros(2, 3), 1.0),
                                                                 lib.distributions.transforms.StickBreakingTransform())
        assert (tuple(distribution.batch_shape), tuple(distribution.event_shape)) == ((2,), (4,))
        assert tuple(distribution.expand((5, 2)).sample().shape) == (5, 2, 4)
