"""A sweep of ``torch.distributions`` transforms, constraints and KL divergences against PyTorch (the
oracle), beyond what ``test_api_sweep_distributions.py`` covers:

- transforms (Exp, Affine with numbers / tensors / ``event_dim``, Sigmoid, Tanh, Softplus, Power,
  Abs, Softmax, StickBreaking, LowerCholesky, PositiveDefinite, CorrCholesky, Compose, Independent,
  Reshape, Cat, Stack, CumulativeDistribution and the ``.inv`` of each): forward values, inverse,
  ``log_abs_det_jacobian``, domain / codomain / ``event_dim`` / ``sign`` / ``bijective``,
  ``forward_shape`` / ``inverse_shape``, reprs, float32 / float64 / 0-d / empty inputs and float64
  gradients of forward and log-det;
- caching (``cache_size=1``, ``with_cache``, ``t.inv.inv is t``), equality (``==`` / ``!=``), and the
  errors PyTorch raises (bad ``cache_size``, shape mismatches, Cat/Stack size checks, abstract methods);
- ``TransformedDistribution`` (event / batch shapes when transforms change the event dim, log_prob,
  seeded rsample, cdf / icdf through a decreasing map, expand, ``mean`` / ``entropy`` errors) and its
  subclasses (Gumbel, LogisticNormal, HalfNormal, HalfCauchy, Weibull, Pareto, Kumaraswamy,
  RelaxedBernoulli, RelaxedOneHotCategorical) with the ``ValueError`` of validation;
- constraints: ``check`` of each public constraint on edge values and dtypes, ``is_discrete``,
  ``event_dim``, ``dependent`` / ``dependent_property`` / ``is_dependent``, Independent / Cat / Stack;
- ``biject_to`` / ``transform_to``: the transform each returns, applied to values (and back), the
  ``NotImplementedError`` for unregistered constraints, ``register``;
- ``kl_divergence`` for the registered pairs the other sweep leaves out (Gumbel, Pareto, HalfNormal,
  ContinuousBernoulli, LowRankMultivariateNormal, ...), float64 KL gradients, ``register_kl`` errors;
- ``Distribution.set_default_validate_args`` argument checks.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names or exception types. Draws are compared by value only where chainrule documents
PyTorch's stream (normal, uniform, exponential). Tests marked ``xfail(strict=True, reason="BUG: ...")``
are differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import pytest
import torch

from tests.parity.sweep import bundle, outcome, raises_as_torch, same_in_both


@pytest.fixture(autouse=True)
def pytorch_validates():
    """PyTorch validates by default, but loading torch._dynamo (another test's) turns that default
    off for the whole process: the comparisons here need it on (as test_api_sweep_distributions.py)."""
    previous = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(previous)


def D(L):
    return L.distributions


def TR(L):
    return L.distributions.transforms


def C(L):
    return L.distributions.constraints


def T(L, data, dtype=None):
    return L.tensor(data, dtype=dtype or L.float32)


def either(run):
    """The value of ``run()``, or the name of the exception it raises (for lists of mixed results)."""
    kind, result = outcome(run)
    return result if kind == "ok" else result.__name__


X = [-1.5, 0.0, 0.7, 2.0]
POS = [0.25, 1.0, 2.5]
X32 = [[-1.0, 0.5], [0.0, 2.0], [1.5, -0.3]]
X23 = [[0.3, -1.0, 0.5], [2.0, 0.1, -0.7]]
MAT = [[[0.5, 2.0], [-1.0, 0.3]], [[-0.2, 1.0], [0.7, 1.1]]]


# --- transforms: the cases swept ------------------------------------------------------------------

TRANSFORMS = {
    "exp": (lambda L: TR(L).ExpTransform(), X),
    "affine_numbers": (lambda L: TR(L).AffineTransform(1.0, 2.0), X),
    "affine_negative_scale": (lambda L: TR(L).AffineTransform(0.5, -3.0), X),
    "affine_int_numbers": (lambda L: TR(L).AffineTransform(1, 2), X),
    "affine_tensors": (lambda L: TR(L).AffineTransform(T(L, [0.0, 1.0]), T(L, [2.0, -0.5])), X32),
    "affine_event_dim1": (lambda L: TR(L).AffineTransform(T(L, [0.0, 1.0]), T(L, [2.0, -0.5]), event_dim=1), X32),
    "affine_event_dim1_numbers": (lambda L: TR(L).AffineTransform(1.0, 3.0, event_dim=1), X32),
    "affine_event_dim2": (lambda L: TR(L).AffineTransform(0.0, T(L, [[1.0, 2.0], [3.0, 0.5]]), event_dim=2), MAT),
    "sigmoid": (lambda L: TR(L).SigmoidTransform(), X + [-100.0, 100.0]),
    "tanh": (lambda L: TR(L).TanhTransform(), X),
    "softplus": (lambda L: TR(L).SoftplusTransform(), X),
    "power_number": (lambda L: TR(L).PowerTransform(2.0), POS),
    "power_negative_tensor": (lambda L: TR(L).PowerTransform(T(L, -0.5)), POS),
    "power_broadcast": (lambda L: TR(L).PowerTransform(T(L, [2.0, 3.0])), [[0.5, 1.5], [2.0, 0.25]]),
    "abs": (lambda L: TR(L).AbsTransform(), X),
    "softmax": (lambda L: TR(L).SoftmaxTransform(), X23),
    "stick_breaking": (lambda L: TR(L).StickBreakingTransform(), X23),
    "lower_cholesky": (lambda L: TR(L).LowerCholeskyTransform(), MAT),
    "positive_definite": (lambda L: TR(L).PositiveDefiniteTransform(), MAT),
    "corr_cholesky": (lambda L: TR(L).CorrCholeskyTransform(), X23),
    "compose": (lambda L: TR(L).ComposeTransform([TR(L).AffineTransform(0.5, 2.0), TR(L).ExpTransform()]), X),
    "compose_empty": (lambda L: TR(L).ComposeTransform([]), X),
    "compose_event_dims": (lambda L: TR(L).ComposeTransform([TR(L).AffineTransform(0.0, 2.0), TR(L).StickBreakingTransform()]), X23),
    "independent": (lambda L: TR(L).IndependentTransform(TR(L).ExpTransform(), 1), X32),
    "independent_two": (lambda L: TR(L).IndependentTransform(TR(L).AffineTransform(0.0, T(L, [1.0, 2.0])), 2), X32),
    "reshape": (lambda L: TR(L).ReshapeTransform((3, 2), (6,)), [X32, X32]),
    "reshape_list_shapes": (lambda L: TR(L).ReshapeTransform([2, 3], [3, 2]), X23),
    "cat": (lambda L: TR(L).CatTransform([TR(L).ExpTransform(), TR(L).AffineTransform(0.0, 2.0)], dim=0, lengths=[1, 2]), X32),
    "cat_negative_dim": (lambda L: TR(L).CatTransform([TR(L).ExpTransform(), TR(L).SigmoidTransform()], dim=-1), X32),
    "cat_event_dim": (lambda L: TR(L).CatTransform([TR(L).IndependentTransform(TR(L).ExpTransform(), 1),
                                                   TR(L).IndependentTransform(TR(L).AffineTransform(0.0, 3.0), 1)], 0), X23),
    "stack": (lambda L: TR(L).StackTransform([TR(L).ExpTransform(), TR(L).AffineTransform(1.0, 2.0)], dim=1), X32),
    "stack_negative_dim": (lambda L: TR(L).StackTransform([TR(L).TanhTransform(), TR(L).ExpTransform()], dim=-1), X32),
    "cdf_normal": (lambda L: TR(L).CumulativeDistributionTransform(D(L).Normal(0.0, 1.0)), X),
    "inverse_exp": (lambda L: TR(L).ExpTransform().inv, POS),
    "inverse_sigmoid": (lambda L: TR(L).SigmoidTransform().inv, [0.1, 0.5, 0.9]),
    "inverse_stick_breaking": (lambda L: TR(L).StickBreakingTransform().inv, [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]),
}


def forward_inverse_logdet(L, name, dtype):
    transform = TRANSFORMS[name][0](L)
    x = L.tensor(TRANSFORMS[name][1], dtype=dtype)
    y = transform(x)
    return [y, either(lambda: transform.inv(y)), either(lambda: transform.log_abs_det_jacobian(x, y))]


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_values(name):
    """y = t(x), t.inv(y), log|det J| in float32 and float64 (nan where PyTorch gives nan)."""
    same_in_both(lambda L: [forward_inverse_logdet(L, name, L.float32), forward_inverse_logdet(L, name, L.float64)],
                 rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_properties(name):
    """repr, domain / codomain (repr, event_dim, is_discrete), event_dim, sign, bijective, the
    inverse's properties and forward_shape / inverse_shape of the swept input's shape."""
    def run(L):
        transform = TRANSFORMS[name][0](L)
        x = T(L, TRANSFORMS[name][1])
        y = transform(x)
        results = [repr(transform), transform.bijective, either(lambda: transform.sign), either(lambda: transform.event_dim),
                   repr(transform.inv), transform.inv.bijective, either(lambda: transform.inv.sign),
                   either(lambda: tuple(transform.forward_shape(x.shape))), either(lambda: tuple(transform.inverse_shape(y.shape)))]
        for constraint in (transform.domain, transform.codomain, transform.inv.domain, transform.inv.codomain):
            results += [repr(constraint), constraint.event_dim, constraint.is_discrete]
        return results
    same_in_both(run)


@pytest.mark.parametrize("name", [n for n in TRANSFORMS if n not in ("abs", "softmax", "lower_cholesky", "positive_definite")])
def test_transform_gradients_float64(name):
    """d/dx of sum(t(x)²) + sum(log|det J|) in float64: the values PyTorch's autograd gives."""
    def run(L):
        x = L.tensor(TRANSFORMS[name][1], dtype=L.float64, requires_grad=True)
        transform = TRANSFORMS[name][0](L)
        y = transform(x)
        total = (y * y).sum() + transform.log_abs_det_jacobian(x, y).sum()
        return [total, L.autograd.grad(total, x)[0]]
    same_in_both(run, rtol=1e-6, atol=1e-9)


def test_transform_parameter_gradients_float64():
    """Gradients reach the parameters of Affine, Power and CumulativeDistribution transforms."""
    def run(L):
        loc, scale, exponent, mu = (L.tensor(v, dtype=L.float64, requires_grad=True) for v in ([0.5, -1.0], [2.0, -0.5], 1.5, 0.3))
        x = L.tensor([[0.2, 1.5], [3.0, 0.7]], dtype=L.float64)
        affine, power = TR(L).AffineTransform(loc, scale, event_dim=1), TR(L).PowerTransform(exponent)
        cdf = TR(L).CumulativeDistributionTransform(D(L).Normal(mu, 2.0))
        total = sum(((t(x) ** 2).sum() + t.log_abs_det_jacobian(x, t(x)).sum()) for t in (affine, power, cdf))
        return list(L.autograd.grad(total, [loc, scale, exponent, mu]))
    same_in_both(run, rtol=1e-6, atol=1e-9)


EDGE_INPUTS = {
    "int_inputs": bundle(lambda L: TR(L).ExpTransform()(L.tensor([1, 2])),
                         lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).ExpTransform()).log_prob(L.tensor([1, 2]))),
    "exp_0d_and_empty": bundle(lambda L: TR(L).ExpTransform()(T(L, 0.5)), lambda L: TR(L).ExpTransform()(L.zeros(0)),
                               lambda L: TR(L).ExpTransform().log_abs_det_jacobian(L.zeros(0, 2), L.ones(0, 2))),
    "affine_0d_number_scale_logdet": lambda L: TR(L).AffineTransform(1.0, -2.0).log_abs_det_jacobian(T(L, 0.5), T(L, 0.0)),
    "affine_zero_scale": lambda L: (lambda t: [t(T(L, X)), t.sign, either(lambda: t.log_abs_det_jacobian(T(L, X), T(L, X))),
                                               TR(L).AffineTransform(1.0, T(L, 0.0)).log_abs_det_jacobian(T(L, X), T(L, X))])(
        TR(L).AffineTransform(1.0, 0.0)),
    "affine_float64_input_number_params": lambda L: TR(L).AffineTransform(1.0, 2.0)(T(L, X, L.float64)),
    "affine_int_input": lambda L: TR(L).AffineTransform(1, 2)(L.tensor([1, 2])),
    "affine_tensor_scale_sign": lambda L: TR(L).AffineTransform(0.0, T(L, [2.0, -1.0, 0.0])).sign,
    "affine_float16": lambda L: TR(L).AffineTransform(1.0, 2.0)(T(L, X, L.float16)),
    "sigmoid_float16_clamps": lambda L: TR(L).SigmoidTransform()(T(L, [-30.0, 0.0, 30.0], L.float16)),
    "sigmoid_inverse_of_edges": lambda L: TR(L).SigmoidTransform().inv(T(L, [0.0, 1.0])),
    "tanh_inverse_of_edges": lambda L: TR(L).TanhTransform().inv(T(L, [-1.0, 1.0])),
    "tanh_logdet_large": lambda L: TR(L).TanhTransform().log_abs_det_jacobian(T(L, [-50.0, 50.0]), T(L, [-1.0, 1.0])),
    "stick_breaking_one_entry": bundle(lambda L: TR(L).StickBreakingTransform()(T(L, [[0.3]])),
                                       lambda L: TR(L).StickBreakingTransform().inv(T(L, [[0.4, 0.6]]))),
    "stick_breaking_sums_to_one": lambda L: TR(L).StickBreakingTransform()(T(L, [[5.0, -5.0, 0.0, 20.0]])).sum(-1),
    "corr_cholesky_shapes": bundle(lambda L: tuple(TR(L).CorrCholeskyTransform().forward_shape((4, 6))),
                                   lambda L: tuple(TR(L).CorrCholeskyTransform().inverse_shape((4, 4, 4)))),
    "power_exponent_is_tensor": lambda L: [TR(L).PowerTransform(2).exponent, TR(L).PowerTransform(2.5).exponent],
    "reshape_logdet_batch": lambda L: TR(L).ReshapeTransform((2,), (2, 1)).log_abs_det_jacobian(L.ones(4, 3, 2), L.ones(4, 3, 2, 1)),
    "identity_transform": lambda L: [repr(TR(L).identity_transform), TR(L).identity_transform(T(L, X)),
                                     TR(L).identity_transform.log_abs_det_jacobian(T(L, X), T(L, X)),
                                     TR(L).identity_transform.bijective, TR(L).identity_transform.sign],
    "compose_sign_and_bijective": lambda L: (lambda t: [t.sign, t.bijective, t.inv.sign])(
        TR(L).ComposeTransform([TR(L).AffineTransform(0.0, -1.0), TR(L).ExpTransform(), TR(L).AffineTransform(1.0, -2.0)])),
    "compose_not_bijective": lambda L: TR(L).ComposeTransform([TR(L).ExpTransform(), TR(L).AbsTransform()]).bijective,
    "cat_stack_not_bijective": lambda L: [TR(L).CatTransform([TR(L).ExpTransform(), TR(L).AbsTransform()]).bijective,
                                          TR(L).StackTransform([TR(L).ExpTransform(), TR(L).ExpTransform()]).bijective],
    "cat_default_lengths": lambda L: (lambda t: [t.lengths, t.length, t.dim, t.event_dim])(
        TR(L).CatTransform([TR(L).ExpTransform(), TR(L).ExpTransform()])),
    "independent_attributes": lambda L: (lambda t: [t.reinterpreted_batch_ndims, repr(t.base_transform), t.sign])(
        TR(L).IndependentTransform(TR(L).AffineTransform(0.0, -2.0), 2)),
    "cdf_transform_attributes": lambda L: (lambda t: [t.sign, t.bijective, repr(t.domain), repr(t.codomain)])(
        TR(L).CumulativeDistributionTransform(D(L).Exponential(2.0))),
}


@pytest.mark.parametrize("name", list(EDGE_INPUTS))
def test_transform_edge_inputs(name):
    same_in_both(EDGE_INPUTS[name])


# --- caching, with_cache, inverses, equality -------------------------------------------------------

def cache_identities(L, make, data):
    """With cache_size=1, t(x) then t.inv(t(x)) gives x itself; t(x) twice gives the same object."""
    transform = make(L)
    x = T(L, data)
    y = transform(x)
    return [transform(x) is y, transform.inv(y) is x, transform.inv(y.clone()) is x]


CACHING = {
    "exp_cached": lambda L: cache_identities(L, lambda L: TR(L).ExpTransform(cache_size=1), X),
    "exp_uncached": lambda L: cache_identities(L, lambda L: TR(L).ExpTransform(), X),
    "exp_with_cache": lambda L: cache_identities(L, lambda L: TR(L).ExpTransform().with_cache(1), X),
    "affine_cached": lambda L: cache_identities(L, lambda L: TR(L).AffineTransform(1.0, 2.0, cache_size=1), X),
    "affine_with_cache": lambda L: cache_identities(L, lambda L: TR(L).AffineTransform(1.0, 2.0).with_cache(), X),
    "power_with_cache": lambda L: cache_identities(L, lambda L: TR(L).PowerTransform(2.0).with_cache(1), POS),
    "stick_breaking_cached": lambda L: cache_identities(L, lambda L: TR(L).StickBreakingTransform(cache_size=1), X23),
    "softmax_cached_inverse": lambda L: cache_identities(L, lambda L: TR(L).SoftmaxTransform(cache_size=1), X23),
    "compose_cached": lambda L: cache_identities(
        L, lambda L: TR(L).ComposeTransform([TR(L).AffineTransform(0.0, 2.0), TR(L).ExpTransform()], cache_size=1), X),
    "compose_with_cache": lambda L: cache_identities(
        L, lambda L: TR(L).ComposeTransform([TR(L).AffineTransform(0.0, 2.0), TR(L).ExpTransform()]).with_cache(1), X),
    "independent_cached": lambda L: cache_identities(L, lambda L: TR(L).IndependentTransform(TR(L).ExpTransform(), 1, cache_size=1), X32),
    "reshape_with_cache": lambda L: cache_identities(L, lambda L: TR(L).ReshapeTransform((3, 2), (6,)).with_cache(1), X32),
    "cat_cached": lambda L: cache_identities(
        L, lambda L: TR(L).CatTransform([TR(L).ExpTransform(), TR(L).ExpTransform()], dim=-1, cache_size=1), X32),
    "stack_with_cache": lambda L: cache_identities(
        L, lambda L: TR(L).StackTransform([TR(L).ExpTransform(), TR(L).ExpTransform()], 1).with_cache(1), X32),
    "cdf_with_cache": lambda L: cache_identities(
        L, lambda L: TR(L).CumulativeDistributionTransform(D(L).Normal(0.0, 1.0)).with_cache(1), X),
    "inverse_with_cache": lambda L: (lambda t: (lambda y: [type(t).__name__, t.inv(t(y)) is y])(T(L, POS)))(
        TR(L).ExpTransform().inv.with_cache(1)),
    "with_cache_same_size_is_self": lambda L: (lambda t: [t.with_cache(0) is t, t.with_cache(1) is t.with_cache(1),
                                                          type(t.with_cache(1)).__name__])(TR(L).SigmoidTransform()),
    "inverse_identities": lambda L: (lambda t: [t.inv.inv is t, t.inv is t.inv, type(t.inv).__name__])(TR(L).ExpTransform()),
    "compose_inverse_identities": lambda L: (lambda t: [t.inv.inv is t, type(t.inv).__name__, repr(t.inv)])(
        TR(L).ComposeTransform([TR(L).AffineTransform(0.0, 2.0), TR(L).ExpTransform()])),
    "cache_size_true": lambda L: cache_identities(L, lambda L: TR(L).ExpTransform(cache_size=True), X),
}


@pytest.mark.parametrize("name", list(CACHING))
def test_caching_and_inverses(name):
    same_in_both(CACHING[name])


def test_cached_transform_reverses_autograd_as_pytorch():
    """With cache_size=1, t.inv(t(x)) is x itself, so its gradient w.r.t. y is not defined
    (PyTorch's documented caveat): both libraries raise RuntimeError from grad."""
    def run(L):
        transform = TR(L).ExpTransform(cache_size=1)
        x = T(L, POS, L.float64).requires_grad_()
        y = transform(x)
        z = transform.inv(y)
        return L.autograd.grad(z.sum(), [y])
    raises_as_torch(run)


EQUALITY = {
    "parameter_free": lambda L: [TR(L).ExpTransform() == TR(L).ExpTransform(), TR(L).ExpTransform() != TR(L).ExpTransform(),
                                 TR(L).ExpTransform() == TR(L).SigmoidTransform(), TR(L).AbsTransform() == TR(L).AbsTransform(),
                                 TR(L).SoftmaxTransform() == TR(L).SoftmaxTransform(), TR(L).TanhTransform() == TR(L).TanhTransform(),
                                 TR(L).StickBreakingTransform() == TR(L).StickBreakingTransform(),
                                 TR(L).LowerCholeskyTransform() == TR(L).LowerCholeskyTransform(),
                                 TR(L).SoftplusTransform() == TR(L).SoftplusTransform(), TR(L).ExpTransform() == 1],
    "cached_equals_uncached": lambda L: [TR(L).ExpTransform(cache_size=1) == TR(L).ExpTransform()],
    "affine": lambda L: [TR(L).AffineTransform(1.0, 2.0) == TR(L).AffineTransform(1.0, 2.0),
                         TR(L).AffineTransform(1.0, 2.0) == TR(L).AffineTransform(1.0, 3.0),
                         TR(L).AffineTransform(1.0, 2.0) != TR(L).AffineTransform(0.0, 2.0),
                         TR(L).AffineTransform(1, 2) == TR(L).AffineTransform(1.0, 2.0),
                         TR(L).AffineTransform(T(L, [1.0, 1.0]), 2.0) == TR(L).AffineTransform(1.0, 2.0),
                         TR(L).AffineTransform(T(L, [1.0, 2.0]), 2.0) == TR(L).AffineTransform(1.0, 2.0),
                         TR(L).AffineTransform(1.0, 2.0) == TR(L).ExpTransform()],
    "power": lambda L: [TR(L).PowerTransform(2.0) == TR(L).PowerTransform(T(L, 2.0)),
                        TR(L).PowerTransform(2.0) == TR(L).PowerTransform(3.0), TR(L).PowerTransform(2.0) == TR(L).ExpTransform()],
    "compose": lambda L: [TR(L).ComposeTransform([TR(L).ExpTransform()]) == TR(L).ComposeTransform([TR(L).ExpTransform()]),
                          TR(L).ComposeTransform([TR(L).ExpTransform()]) == TR(L).ExpTransform(),
                          TR(L).ComposeTransform([]) == TR(L).identity_transform,
                          TR(L).ComposeTransform([TR(L).ExpTransform(), TR(L).AffineTransform(0.0, 1.0)])
                          == TR(L).ComposeTransform([TR(L).AffineTransform(0.0, 1.0), TR(L).ExpTransform()])],
    "inverse": lambda L: [TR(L).ExpTransform().inv == TR(L).ExpTransform().inv, TR(L).ExpTransform().inv == TR(L).ExpTransform(),
                          TR(L).ExpTransform().inv == TR(L).SigmoidTransform().inv,
                          TR(L).AffineTransform(0.0, 2.0).inv == TR(L).AffineTransform(0.0, 2.0).inv],
    "identity_only": lambda L: [TR(L).ReshapeTransform((2,), (2,)) == TR(L).ReshapeTransform((2,), (2,)),
                                TR(L).IndependentTransform(TR(L).ExpTransform(), 1) == TR(L).IndependentTransform(TR(L).ExpTransform(), 1),
                                (lambda t: t == t)(TR(L).ReshapeTransform((2,), (2,)))],
}


@pytest.mark.parametrize("name", list(EQUALITY))
def test_transform_equality(name):
    same_in_both(EQUALITY[name])


# --- transforms: the errors PyTorch raises ----------------------------------------------------------

def custom_transform_with_init(L):
    class Scaled(TR(L).Transform):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

    return Scaled(2.0).with_cache(1)


TRANSFORM_ERRORS = {
    "cache_size_two": lambda L: TR(L).ExpTransform(cache_size=2),
    "cache_size_negative_affine": lambda L: TR(L).AffineTransform(0.0, 1.0, cache_size=-1),
    "compose_cache_size_two": lambda L: TR(L).ComposeTransform([], cache_size=2),
    "with_cache_custom_init": custom_transform_with_init,
    "base_transform_call": lambda L: TR(L).Transform()(T(L, X)),
    "base_transform_inverse": lambda L: TR(L).Transform().inv(T(L, X)),
    "base_transform_sign": lambda L: TR(L).Transform().sign,
    "base_transform_logdet": lambda L: TR(L).Transform().log_abs_det_jacobian(T(L, X), T(L, X)),
    "exp_sign_of_inverse_of_abs": lambda L: TR(L).AbsTransform().inv.sign,
    "softmax_logdet": lambda L: TR(L).SoftmaxTransform().log_abs_det_jacobian(T(L, X23), T(L, X23)),
    "abs_logdet": lambda L: TR(L).AbsTransform().log_abs_det_jacobian(T(L, X), T(L, X)),
    "lower_cholesky_logdet": lambda L: TR(L).LowerCholeskyTransform().log_abs_det_jacobian(T(L, MAT), T(L, MAT)),
    "event_dim_differs": lambda L: TR(L).CorrCholeskyTransform().event_dim,
    "reshape_numel_mismatch": lambda L: TR(L).ReshapeTransform((2, 3), (5,)),
    "reshape_forward_shape_mismatch": lambda L: TR(L).ReshapeTransform((2, 3), (6,)).forward_shape((4, 3, 2)),
    "reshape_forward_shape_too_few_dims": lambda L: TR(L).ReshapeTransform((2, 3), (6,)).forward_shape((3,)),
    "reshape_inverse_shape_mismatch": lambda L: TR(L).ReshapeTransform((2, 3), (6,)).inverse_shape((4, 5)),
    "stick_breaking_forward_shape_0d": lambda L: TR(L).StickBreakingTransform().forward_shape(()),
    "stick_breaking_inverse_shape_0d": lambda L: TR(L).StickBreakingTransform().inverse_shape(()),
    "corr_cholesky_not_triangular_number": lambda L: TR(L).CorrCholeskyTransform().forward_shape((4,)),
    "corr_cholesky_inverse_not_square": lambda L: TR(L).CorrCholeskyTransform().inverse_shape((3, 2)),
    "independent_too_few_dims": lambda L: TR(L).IndependentTransform(TR(L).ExpTransform(), 2)(T(L, X)),
    "independent_inverse_too_few_dims": lambda L: TR(L).IndependentTransform(TR(L).ExpTransform(), 2).inv(T(L, X)),
    "sigmoid_int_input": lambda L: TR(L).SigmoidTransform()(L.tensor([1, 2])),
    "affine_equality_shapes_mismatch": lambda L: (TR(L).AffineTransform(T(L, [1.0, 2.0]), 1.0)
                                                  == TR(L).AffineTransform(T(L, [1.0, 2.0, 3.0]), 1.0)),
    "power_equality_shapes_mismatch": lambda L: TR(L).PowerTransform(T(L, [2.0, 3.0])) == TR(L).PowerTransform(T(L, [2.0, 3.0, 4.0])),
    "transformed_transforms_not_list": lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), (TR(L).ExpTransform(),)),
    "transformed_item_not_transform": lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), [TR(L).ExpTransform(), 1]),
    "transformed_base_shape_too_small": lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).StickBreakingTransform()),
    "transformed_mean": lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).ExpTransform()).mean,
    "transformed_variance": lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).ExpTransform()).variance,
    "transformed_entropy": lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).ExpTransform()).entropy(),
    "transformed_sample_int_shape": lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).ExpTransform()).sample(3),
}


@pytest.mark.parametrize("name", list(TRANSFORM_ERRORS))
def test_transform_errors_raise_as_torch(name):
    raises_as_torch(TRANSFORM_ERRORS[name])


@pytest.mark.parametrize("method", ["forward_shape", "inverse_shape"])
def test_softmax_shape_of_0d_raises(method):
    raises_as_torch(lambda L: getattr(TR(L).SoftmaxTransform(), method)(()))


@pytest.mark.parametrize("case", ["constraint", "transform", "transformed_distribution_event_shape"])
def test_stack_negative_dim_event_dim(case):
    runs = {"constraint": lambda L: C(L).stack([C(L).positive, C(L).unit_interval], dim=-1).event_dim,
            "transform": lambda L: TR(L).StackTransform([TR(L).ExpTransform(), TR(L).TanhTransform()], dim=-1).event_dim,
            "transformed_distribution_event_shape": lambda L: tuple(D(L).TransformedDistribution(
                D(L).Normal(L.zeros(3, 2), 1.0), TR(L).StackTransform([TR(L).ExpTransform(), TR(L).TanhTransform()], dim=-1)).event_shape)}
    same_in_both(runs[case])


def test_stick_breaking_empty_vector():
    same_in_both(lambda L: TR(L).StickBreakingTransform()(L.zeros(2, 0)))


def test_softmax_transform_large_logits_float32():
    same_in_both(lambda L: TR(L).SoftmaxTransform()(T(L, [[10000.0, 10001.0, 9999.0]])))


def test_cat_lengths_mismatch_raises_assertion_error():
    raises_as_torch(lambda L: TR(L).CatTransform([TR(L).ExpTransform()], lengths=[1, 2]))


@pytest.mark.parametrize("kind", ["CatTransform", "StackTransform"])
def test_cat_stack_non_transform_raises_assertion_error(kind):
    raises_as_torch(lambda L: getattr(TR(L), kind)([TR(L).ExpTransform(), "exp"]))


def test_cat_wrong_size_raises_assertion_error():
    raises_as_torch(lambda L: TR(L).CatTransform([TR(L).ExpTransform(), TR(L).ExpTransform()], dim=0)(T(L, X)))


def test_stack_wrong_size_raises_assertion_error():
    raises_as_torch(lambda L: TR(L).StackTransform([TR(L).ExpTransform(), TR(L).ExpTransform()], dim=0)(T(L, X)))


# --- TransformedDistribution and its subclasses ----------------------------------------------------

TRANSFORMED = {
    "stick_breaking": lambda L: D(L).TransformedDistribution(D(L).Normal(L.zeros(2), L.ones(2)), TR(L).StickBreakingTransform()),
    "reshape": lambda L: D(L).TransformedDistribution(D(L).Normal(L.zeros(2, 3), 1.0), [TR(L).ReshapeTransform((2, 3), (6,))]),
    "affine_event_dim1": lambda L: D(L).TransformedDistribution(
        D(L).Normal(L.zeros(4, 2), 1.0), [TR(L).AffineTransform(T(L, [1.0, 2.0]), T(L, [0.5, 3.0]), event_dim=1)]),
    "batch_from_transform": lambda L: D(L).TransformedDistribution(
        D(L).Normal(L.zeros(2), 1.0), [TR(L).AffineTransform(T(L, [[0.0], [1.0], [2.0]]), 2.0)]),
    "decreasing": lambda L: D(L).TransformedDistribution(
        D(L).Normal(T(L, [0.0, 1.0]), 1.0), [TR(L).AffineTransform(1.0, -2.0), TR(L).ExpTransform()]),
    "independent_base": lambda L: D(L).TransformedDistribution(
        D(L).Independent(D(L).Normal(L.zeros(3, 2), 1.0), 1), [TR(L).ExpTransform()]),
    "empty_list": lambda L: D(L).TransformedDistribution(D(L).Normal(T(L, [0.0, 1.0]), 1.0), []),
    "sigmoid_of_mvn": lambda L: D(L).TransformedDistribution(
        D(L).MultivariateNormal(L.zeros(2), T(L, [[1.0, 0.3], [0.3, 2.0]])), [TR(L).SigmoidTransform()]),
    "tanh_cached": lambda L: D(L).TransformedDistribution(D(L).Normal(T(L, [0.0, 1.0]), 1.0), [TR(L).TanhTransform(cache_size=1)]),
}

TRANSFORMED_POINTS = {
    "stick_breaking": [0.2, 0.3, 0.5], "reshape": [0.1, -0.2, 0.3, 0.0, 1.0, -1.0], "affine_event_dim1": [[0.5, 1.0]] * 4,
    "batch_from_transform": [0.5, 2.0], "decreasing": [0.5, 2.0], "independent_base": [[0.5, 1.5]] * 3,
    "empty_list": [0.5, -1.0], "sigmoid_of_mvn": [0.3, 0.8], "tanh_cached": [0.3, -0.8],
}


@pytest.mark.parametrize("name", list(TRANSFORMED))
def test_transformed_distribution(name):
    """batch/event shapes, support, log_prob (also broadcast against a new leading dim), seeded
    rsample values and shapes, expand, and cdf/icdf where the transforms are one-dimensional."""
    def run(L):
        L.manual_seed(0)
        dist = TRANSFORMED[name](L)
        point = T(L, TRANSFORMED_POINTS[name])
        expanded = dist.expand((2,) + tuple(dist.batch_shape))
        return [tuple(dist.batch_shape), tuple(dist.event_shape), repr(dist.support), dist.support.event_dim, dist.has_rsample,
                dist.log_prob(point), dist.log_prob(point.expand((3,) + tuple(point.shape))), dist.rsample((2,)), dist.sample(),
                tuple(expanded.batch_shape), tuple(expanded.sample((3,)).shape), expanded.log_prob(point),
                type(dist.base_dist).__name__, either(lambda: dist.cdf(point)), either(lambda: dist.icdf(T(L, 0.3)))]
    same_in_both(run, rtol=1e-5, atol=1e-5)


def test_transformed_rsample_and_log_prob_gradients_float64():
    def run(L):
        loc = L.tensor([0.3, -0.2], dtype=L.float64, requires_grad=True)
        scale = L.tensor([1.5, 0.5], dtype=L.float64, requires_grad=True)
        L.manual_seed(1)
        dist = D(L).TransformedDistribution(D(L).Normal(loc, scale), [TR(L).AffineTransform(0.5, -2.0), TR(L).SigmoidTransform()])
        draws = dist.rsample((3,))
        total = (draws ** 2).sum() + dist.log_prob(L.tensor([0.2, 0.9], dtype=L.float64)).sum()
        return [draws, total, list(L.autograd.grad(total, [loc, scale]))]
    same_in_both(run, rtol=1e-6, atol=1e-9)


SUBCLASSES = {
    "Gumbel": (lambda L: D(L).Gumbel(T(L, [0.0, 1.0]), T(L, [1.0, 2.0])), [0.5, -1.0]),
    "LogisticNormal": (lambda L: D(L).LogisticNormal(T(L, [0.0, 1.0]), T(L, [1.0, 0.5])), [0.2, 0.3, 0.5]),
    "HalfNormal": (lambda L: D(L).HalfNormal(T(L, [1.0, 2.0])), [0.5, 3.0]),
    "HalfCauchy": (lambda L: D(L).HalfCauchy(T(L, [1.0, 2.0])), [0.5, 3.0]),
    "Weibull": (lambda L: D(L).Weibull(T(L, [1.0, 2.0]), T(L, [1.5, 0.5])), [0.5, 3.0]),
    "Pareto": (lambda L: D(L).Pareto(T(L, [1.0, 2.0]), T(L, [3.0, 0.5])), [1.5, 3.0]),
    "Kumaraswamy": (lambda L: D(L).Kumaraswamy(T(L, [2.0, 0.5]), T(L, [3.0, 1.5])), [0.3, 0.8]),
    "RelaxedBernoulli": (lambda L: D(L).RelaxedBernoulli(T(L, 0.7), logits=T(L, [0.5, -1.0])), [0.3, 0.8]),
    "RelaxedOneHotCategorical": (lambda L: D(L).RelaxedOneHotCategorical(T(L, 0.7), logits=T(L, [0.5, -1.0, 0.2])), [0.2, 0.3, 0.5]),
    "LogNormal_0d": (lambda L: D(L).LogNormal(0.5, 2.0), 1.5),
}


@pytest.mark.parametrize("name", list(SUBCLASSES))
def test_transformed_subclasses(name):
    """log_prob, shapes, support, the base distribution and transforms they are built from, moments,
    cdf / icdf (or the exception PyTorch raises) and the sample shape."""
    def run(L):
        make, point = SUBCLASSES[name]
        dist = make(L)
        results = [dist.log_prob(T(L, point)), tuple(dist.batch_shape), tuple(dist.event_shape), repr(dist.support),
                   type(dist.base_dist).__name__, [repr(t) for t in dist.transforms], tuple(dist.sample((3,)).shape),
                   dist.sample().dtype == L.float32, isinstance(dist, D(L).TransformedDistribution)]
        for get in (lambda: dist.mean, lambda: dist.variance, lambda: dist.mode, dist.entropy,
                    lambda: dist.cdf(T(L, point)), lambda: dist.icdf(T(L, 0.3))):
            results.append(either(get))
        return results
    same_in_both(run, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["Gumbel", "HalfNormal", "Weibull", "Pareto", "LogNormal_0d"])
def test_transformed_subclass_seeded_rsample(name):
    """These build on uniform / normal draws (PyTorch's stream): the same seed gives the same draws."""
    def run(L):
        L.manual_seed(3)
        return SUBCLASSES[name][0](L).rsample((2,))
    same_in_both(run, rtol=1e-5, atol=1e-5)


VALIDATION_ERRORS = {
    "transformed_value_outside_codomain": lambda L: D(L).TransformedDistribution(
        D(L).Normal(0.0, 1.0), TR(L).ExpTransform()).log_prob(T(L, -1.0)),
    "transformed_value_not_simplex": lambda L: TRANSFORMED["stick_breaking"](L).log_prob(T(L, [0.5, 0.6, 0.1])),
    "transformed_cdf_outside": lambda L: D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).ExpTransform()).cdf(T(L, -2.0)),
    "lognormal_negative_value": lambda L: D(L).LogNormal(0.0, 1.0).log_prob(T(L, -1.0)),
    "gumbel_negative_scale": lambda L: D(L).Gumbel(0.0, -1.0),
    "gumbel_nan_value": lambda L: D(L).Gumbel(0.0, 1.0).log_prob(T(L, float("nan"))),
    "logistic_normal_not_simplex": lambda L: D(L).LogisticNormal(T(L, [0.0, 1.0]), T(L, [1.0, 0.5])).log_prob(T(L, [0.2, 0.3, 0.6])),
    "relaxed_bernoulli_value_above_one": lambda L: D(L).RelaxedBernoulli(T(L, 0.5), probs=T(L, 0.3)).log_prob(T(L, 1.5)),
    "relaxed_one_hot_not_simplex": lambda L: D(L).RelaxedOneHotCategorical(T(L, 0.5), probs=T(L, [0.3, 0.7])).log_prob(T(L, [0.5, 0.6])),
    "half_normal_negative_value": lambda L: D(L).HalfNormal(1.0).log_prob(T(L, -0.5)),
    "pareto_value_below_scale": lambda L: D(L).Pareto(2.0, 1.0).log_prob(T(L, 1.0)),
    "weibull_zero_concentration": lambda L: D(L).Weibull(1.0, 0.0),
    "kumaraswamy_value_outside": lambda L: D(L).Kumaraswamy(2.0, 3.0).log_prob(T(L, 1.5)),
    "set_default_validate_args_not_bool": lambda L: D(L).Distribution.set_default_validate_args("yes"),
    "set_default_validate_args_none": lambda L: D(L).Distribution.set_default_validate_args(None),
}


@pytest.mark.parametrize("name", list(VALIDATION_ERRORS))
def test_validation_errors_raise_as_torch(name):
    raises_as_torch(VALIDATION_ERRORS[name])


def test_validate_args_false_on_transformed_distributions():
    """validate_args=False (or the default turned off) lets out-of-support values through: nan / -inf as PyTorch."""
    def run(L):
        results = [D(L).LogNormal(0.0, 1.0, validate_args=False).log_prob(T(L, [-1.0, 0.0])),
                   D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).SigmoidTransform(),
                                                validate_args=False).log_prob(T(L, [1.5, 0.0])),
                   D(L).HalfNormal(1.0, validate_args=False).log_prob(T(L, -0.5))]
        try:
            D(L).Distribution.set_default_validate_args(False)
            results += [D(L).Gumbel(0.0, -1.0).scale, D(L).Pareto(2.0, 1.0).log_prob(T(L, 1.0))]
        finally:
            D(L).Distribution.set_default_validate_args(True)
        return results
    same_in_both(run)


# --- constraints ------------------------------------------------------------------------------------

CHECKS = {
    "real": lambda L: C(L).real.check(T(L, [0.0, float("inf"), float("-inf"), float("nan")])),
    "real_int_and_bool": bundle(lambda L: C(L).real.check(L.tensor([1, 2])), lambda L: C(L).real.check(L.tensor([True]))),
    "boolean": bundle(lambda L: C(L).boolean.check(T(L, [0.0, 1.0, 0.5, -1.0])), lambda L: C(L).boolean.check(L.tensor([True, False]))),
    "positive_nonnegative": bundle(lambda L: C(L).positive.check(T(L, [-1.0, 0.0, 1e-30, float("inf")])),
                                   lambda L: C(L).nonnegative.check(T(L, [-1e-30, 0.0, 2.0])),
                                   lambda L: C(L).positive.check(L.tensor([0, 3]))),
    "bounds": bundle(lambda L: C(L).greater_than(1.5).check(T(L, [1.0, 1.5, 2.0])),
                     lambda L: C(L).greater_than_eq(1.5).check(T(L, [1.0, 1.5, 2.0])),
                     lambda L: C(L).less_than(1.5).check(T(L, [1.0, 1.5, 2.0])),
                     lambda L: C(L).greater_than(T(L, [0.0, 2.0])).check(T(L, [[1.0, 1.0], [-1.0, 3.0]]))),
    "intervals": bundle(lambda L: C(L).interval(0.0, 1.0).check(T(L, [-0.1, 0.0, 0.5, 1.0, 1.1])),
                        lambda L: C(L).half_open_interval(0.0, 1.0).check(T(L, [0.0, 1.0, 0.999])),
                        lambda L: C(L).unit_interval.check(T(L, [0.0, 1.0, float("nan")])),
                        lambda L: C(L).interval(T(L, [0.0, 1.0]), T(L, [2.0, 1.5])).check(T(L, [1.9, 1.9]))),
    "integers": bundle(lambda L: C(L).nonnegative_integer.check(T(L, [0.0, 1.0, -1.0, 1.5])),
                       lambda L: C(L).positive_integer.check(T(L, [0.0, 1.0, 2.0])),
                       lambda L: C(L).integer_interval(-1, 2).check(L.tensor([-2, -1, 2, 3])),
                       lambda L: C(L).nonnegative_integer.check(L.tensor([0, 5, -3]))),
    "simplex": bundle(lambda L: C(L).simplex.check(T(L, [[0.2, 0.8], [0.5, 0.6], [1.2, -0.2], [1.0, 0.0]])),
                      lambda L: C(L).simplex.check(T(L, [0.5, 0.5 + 1e-7])), lambda L: C(L).simplex.check(T(L, [1.0]))),
    "multinomial": bundle(lambda L: C(L).multinomial(3).check(T(L, [[1.0, 2.0], [2.0, 2.0], [-1.0, 1.0], [0.0, 0.0]]))),
    "one_hot": bundle(lambda L: C(L).one_hot.check(T(L, [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])),
                      lambda L: C(L).one_hot.check(L.tensor([[0, 1, 0]]))),
    "lower_triangular_cholesky": bundle(
        lambda L: C(L).lower_triangular.check(T(L, [[[1.0, 0.0], [2.0, -1.0]], [[1.0, 1.0], [0.0, 1.0]]])),
        lambda L: C(L).lower_cholesky.check(T(L, [[[1.0, 0.0], [2.0, 3.0]], [[1.0, 0.0], [2.0, -1.0]], [[0.0, 0.0], [1.0, 1.0]]]))),
    "corr_cholesky": bundle(lambda L: C(L).corr_cholesky.check(T(L, [[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.5, 0.5]]]))),
    "square_symmetric": bundle(lambda L: C(L).square.check(L.zeros(3, 2, 2)), lambda L: C(L).square.check(L.zeros(2, 3)),
                               lambda L: C(L).symmetric.check(T(L, [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 2.0], [2.1, 1.0]]]))),
    "positive_definite_semidefinite": bundle(
        lambda L: C(L).positive_definite.check(T(L, [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]])),
        lambda L: C(L).positive_semidefinite.check(T(L, [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]]))),
    "independent": bundle(lambda L: C(L).independent(C(L).positive, 1).check(T(L, [[1.0, 2.0], [1.0, -2.0]])),
                          lambda L: C(L).independent(C(L).real, 2).check(L.zeros(3, 2, 2)),
                          lambda L: C(L).real_vector.check(T(L, [[1.0, float("nan")], [0.0, 0.0]])),
                          lambda L: C(L).independent(C(L).simplex, 1).check(T(L, [[0.5, 0.5], [0.2, 0.8]]))),
    "cat": bundle(lambda L: C(L).cat([C(L).positive, C(L).real], 0, [1, 2]).check(T(L, [-1.0, -1.0, 3.0])),
                  lambda L: C(L).cat([C(L).positive, C(L).unit_interval], dim=-1).check(T(L, [[1.0, 0.5], [-1.0, 2.0]]))),
    "stack": bundle(lambda L: C(L).stack([C(L).positive, C(L).unit_interval], 0).check(T(L, [[1.0, -1.0], [0.5, 2.0]])),
                    lambda L: C(L).stack([C(L).positive, C(L).unit_interval], dim=-1).check(T(L, [[1.0, 0.5], [-1.0, 2.0]]))),
    "empty_and_0d": bundle(lambda L: C(L).positive.check(L.zeros(0)), lambda L: C(L).simplex.check(L.zeros(0, 3)),
                           lambda L: C(L).positive.check(T(L, 2.0)), lambda L: C(L).lower_cholesky.check(L.eye(2))),
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_constraint_check(name):
    """check() of each constraint: values, dtype (bool) and the event dims it reduces."""
    same_in_both(CHECKS[name])


def test_constraint_attributes():
    """is_discrete, event_dim and repr of every public constraint object and parametrised constraint."""
    def run(L):
        c = C(L)
        objects = [c.real, c.boolean, c.positive, c.nonnegative, c.nonnegative_integer, c.positive_integer, c.unit_interval,
                   c.simplex, c.one_hot, c.lower_triangular, c.lower_cholesky, c.corr_cholesky, c.square, c.symmetric,
                   c.positive_definite, c.positive_semidefinite, c.real_vector, c.greater_than(2.0), c.greater_than_eq(-1),
                   c.less_than(3.0), c.interval(-1.0, 2.0), c.half_open_interval(0.0, 1.0), c.integer_interval(0, 5),
                   c.multinomial(4), c.independent(c.simplex, 2), c.independent(c.nonnegative_integer, 1),
                   c.cat([c.real, c.simplex]), c.stack([c.boolean, c.real])]
        return [[repr(each), each.is_discrete, each.event_dim] for each in objects]
    same_in_both(run)


def test_constraint_bound_attributes():
    def run(L):
        c = C(L)
        return [c.greater_than(2.0).lower_bound, c.less_than(3).upper_bound, c.interval(-1.0, 2.0).lower_bound,
                c.interval(-1.0, 2.0).upper_bound, c.integer_interval(0, 5).upper_bound, c.multinomial(4).upper_bound,
                c.positive.lower_bound, c.unit_interval.upper_bound, c.independent(c.real, 2).reinterpreted_batch_ndims,
                repr(c.independent(c.real, 2).base_constraint), c.cat([c.real, c.real]).lengths, c.stack([c.real]).dim]
    same_in_both(run)


def test_dependent_constraints():
    def run(L):
        c = C(L)

        class Thing:
            @c.dependent_property
            def support(self):
                return c.positive

            @c.dependent_property(is_discrete=True, event_dim=1)
            def counts(self):
                return c.nonnegative_integer

        custom = c.dependent(is_discrete=True, event_dim=1)
        return [c.is_dependent(c.dependent), c.is_dependent(c.real), c.is_dependent(Thing.support), repr(Thing().support),
                c.is_dependent(Thing.counts), Thing.counts.is_discrete, Thing.counts.event_dim, custom.is_discrete,
                custom.event_dim, repr(c.dependent), c.is_dependent(custom), either(lambda: c.dependent.check(T(L, 1.0))),
                c.is_dependent(D(L).Uniform(0.0, 1.0).arg_constraints["low"]), c.is_dependent(D(L).Uniform(0.0, 1.0).support)]
    same_in_both(run)


@pytest.mark.parametrize("attribute", ["is_discrete", "event_dim"])
def test_dependent_has_no_static_attributes(attribute):
    raises_as_torch(lambda L: getattr(C(L).dependent, attribute))


def test_independent_check_too_few_dims_raises():
    raises_as_torch(lambda L: C(L).independent(C(L).real, 1).check(T(L, 1.0)))


CAT_STACK_CONSTRAINT_ERRORS = {
    "cat_not_a_constraint": lambda L: C(L).cat([C(L).real, 3]),
    "stack_not_a_constraint": lambda L: C(L).stack([C(L).real, "real"]),
    "cat_lengths_mismatch": lambda L: C(L).cat([C(L).real], lengths=[1, 2]),
    "cat_check_dim_out_of_range": lambda L: C(L).cat([C(L).real, C(L).real]).check(T(L, 1.0)),
}


@pytest.mark.parametrize("name", list(CAT_STACK_CONSTRAINT_ERRORS))
def test_cat_stack_constraint_errors_raise_as_torch(name):
    raises_as_torch(CAT_STACK_CONSTRAINT_ERRORS[name])


def test_custom_constraint_subclass():
    """A user's Constraint subclass: default repr, is_discrete, event_dim; base check() raises NotImplementedError."""
    def run(L):
        class _EvenInteger(C(L).Constraint):
            is_discrete = True

            def check(self, value):
                return value % 2 == 0

        even = _EvenInteger()
        return [repr(even), even.is_discrete, even.event_dim, even.check(L.tensor([1, 2, 4])),
                either(lambda: C(L).Constraint().check(T(L, 1.0))), repr(C(L).Constraint())]
    same_in_both(run)


# --- biject_to / transform_to ----------------------------------------------------------------------

REGISTRY_CASES = {
    "real": (lambda c: c.real, X),
    "positive": (lambda c: c.positive, X),
    "nonnegative": (lambda c: c.nonnegative, X),
    "greater_than": (lambda c: c.greater_than(2.0), X),
    "greater_than_eq": (lambda c: c.greater_than_eq(-1.0), X),
    "less_than": (lambda c: c.less_than(3.0), X),
    "interval": (lambda c: c.interval(-1.0, 2.0), X),
    "half_open_interval": (lambda c: c.half_open_interval(0.0, 5.0), X),
    "unit_interval": (lambda c: c.unit_interval, X),
    "simplex": (lambda c: c.simplex, X23),
    "real_vector": (lambda c: c.real_vector, X23),
    "independent_positive": (lambda c: c.independent(c.positive, 1), X23),
    "corr_cholesky": (lambda c: c.corr_cholesky, X23),
    "cat": (lambda c: c.cat([c.positive, c.real], 0, [1, 2]), X32),
    "stack": (lambda c: c.stack([c.positive, c.unit_interval], dim=-1), X32),
    "lower_cholesky": (lambda c: c.lower_cholesky, MAT),
    "positive_definite": (lambda c: c.positive_definite, MAT),
    "positive_semidefinite": (lambda c: c.positive_semidefinite, MAT),
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(REGISTRY_CASES))
def test_constraint_registry(registry, name):
    """The transform (repr, bijective), y = t(x) inside the constraint (check), t.inv(y) and log|det J|;
    or the NotImplementedError PyTorch raises for a constraint the registry does not know."""
    def run(L):
        make, data = REGISTRY_CASES[name]
        constraint = make(C(L))
        kind, transform = outcome(lambda: getattr(D(L), registry)(constraint))
        if kind == "raises":
            return transform.__name__
        x = T(L, data)
        y = transform(x)
        return [repr(transform), transform.bijective, y, constraint.check(y), either(lambda: transform.inv(y)),
                either(lambda: transform.log_abs_det_jacobian(x, y))]
    same_in_both(run, rtol=1e-5, atol=1e-5)


REGISTRY_ERRORS = {
    "biject_to_boolean": lambda L: D(L).biject_to(C(L).boolean),
    "transform_to_integer": lambda L: D(L).transform_to(C(L).nonnegative_integer),
    "biject_to_one_hot": lambda L: D(L).biject_to(C(L).one_hot),
    "transform_to_dependent": lambda L: D(L).transform_to(C(L).dependent),
    "register_not_a_constraint": lambda L: L.distributions.constraint_registry.ConstraintRegistry().register(5, lambda c: None),
    "register_kl_not_types": lambda L: D(L).register_kl(D(L).Normal(0.0, 1.0), D(L).Normal),
}


@pytest.mark.parametrize("name", list(REGISTRY_ERRORS))
def test_registry_errors_raise_as_torch(name):
    raises_as_torch(REGISTRY_ERRORS[name])


def test_constraint_registry_register_new_constraint():
    """A new registry and a new constraint type: register by type and by instance, as a decorator."""
    def run(L):
        registry = L.distributions.constraint_registry.ConstraintRegistry()

        class _Above(C(L).Constraint):
            def __init__(self, bound):
                self.bound = bound
                super().__init__()

        @registry.register(_Above)
        def _to_above(constraint):
            return TR(L).ComposeTransform([TR(L).ExpTransform(), TR(L).AffineTransform(constraint.bound, 1.0)])

        registry.register(C(L).real, lambda constraint: TR(L).identity_transform)
        return [registry(_Above(3.0))(T(L, X)), registry(C(L).real)(T(L, X)), either(lambda: registry(C(L).positive))]
    same_in_both(run)


# --- kl_divergence ------------------------------------------------------------------------------

KL_DISTS = {
    "Normal": lambda L: D(L).Normal(T(L, [0.0, 1.0]), T(L, [1.0, 2.0])),
    "Gumbel": lambda L: D(L).Gumbel(T(L, [0.0, 1.0]), T(L, [1.0, 0.5])),
    "Pareto": lambda L: D(L).Pareto(T(L, [1.0, 2.0]), T(L, [3.0, 2.5])),
    "Pareto_low_alpha": lambda L: D(L).Pareto(T(L, [1.0, 2.0]), T(L, [0.5, 1.0])),
    "HalfNormal": lambda L: D(L).HalfNormal(T(L, [1.0, 2.0])),
    "ContinuousBernoulli": lambda L: D(L).ContinuousBernoulli(probs=T(L, [0.3, 0.6])),
    "ContinuousBernoulli_half": lambda L: D(L).ContinuousBernoulli(probs=T(L, [0.5, 0.2])),
    "Exponential": lambda L: D(L).Exponential(T(L, [0.5, 2.0])),
    "Gamma": lambda L: D(L).Gamma(T(L, [2.0, 0.5]), T(L, [3.0, 1.5])),
    "Beta": lambda L: D(L).Beta(T(L, [2.0, 0.5]), T(L, [3.0, 0.5])),
    "Uniform": lambda L: D(L).Uniform(T(L, [0.0, 0.2]), T(L, [1.0, 0.9])),
    "Uniform_wide": lambda L: D(L).Uniform(T(L, [1.5, 0.5]), T(L, [3.0, 4.0])),
    "Laplace": lambda L: D(L).Laplace(T(L, [0.0, 1.0]), T(L, [1.0, 0.5])),
    "LowRankMVN": lambda L: D(L).LowRankMultivariateNormal(T(L, [0.0, 1.0]), T(L, [[1.0], [0.5]]), T(L, [1.0, 2.0])),
    "LowRankMVN_b": lambda L: D(L).LowRankMultivariateNormal(T(L, [1.0, -1.0]), T(L, [[0.3, 0.1], [0.2, -0.4]]), T(L, [0.5, 1.5])),
    "MVN": lambda L: D(L).MultivariateNormal(T(L, [0.5, 0.0]), T(L, [[2.0, 0.3], [0.3, 1.0]])),
    "OneHotCategorical": lambda L: D(L).OneHotCategorical(logits=T(L, [[0.1, 0.2, 0.7], [1.0, -1.0, 0.0]])),
    "Binomial": lambda L: D(L).Binomial(10, probs=T(L, [0.2, 0.6])),
    "Poisson": lambda L: D(L).Poisson(T(L, [1.5, 4.0])),
    "Cauchy": lambda L: D(L).Cauchy(T(L, [0.0, 1.0]), T(L, [1.0, 0.5])),
    "Chi2": lambda L: D(L).Chi2(T(L, [2.0, 3.0])),
    "Independent_MVN": lambda L: D(L).Independent(D(L).MultivariateNormal(L.zeros(3, 2), L.eye(2)), 1),
    "Independent_MVN_b": lambda L: D(L).Independent(D(L).MultivariateNormal(T(L, [[0.5, 0.0]] * 3), 2 * L.eye(2)), 1),
    "LogNormal": lambda L: D(L).LogNormal(T(L, [0.0, 1.0]), T(L, [1.0, 0.5])),
    "Weibull": lambda L: D(L).Weibull(T(L, [1.0, 2.0]), T(L, [1.5, 0.5])),
}

KL_PAIRS = [("Gumbel", "Gumbel"), ("Gumbel", "Normal"), ("Normal", "Gumbel"), ("Gumbel", "Exponential"), ("Exponential", "Gumbel"),
            ("Gumbel", "Gamma"), ("Gamma", "Gumbel"), ("Uniform", "Gumbel"), ("Gumbel", "Pareto"), ("Gumbel", "Uniform"),
            ("Pareto", "Pareto"), ("Pareto_low_alpha", "Pareto"), ("Pareto", "Normal"), ("Pareto", "Exponential"),
            ("Pareto", "Gamma"), ("Pareto", "Uniform"), ("Uniform_wide", "Pareto"), ("Exponential", "Pareto"),
            ("Gamma", "Pareto"), ("Normal", "Pareto"), ("Beta", "Pareto"), ("Laplace", "Pareto"), ("Pareto_low_alpha", "Normal"),
            ("HalfNormal", "HalfNormal"),
            ("ContinuousBernoulli", "ContinuousBernoulli"), ("ContinuousBernoulli_half", "ContinuousBernoulli"),
            ("ContinuousBernoulli", "Exponential"), ("ContinuousBernoulli", "Normal"), ("ContinuousBernoulli", "Uniform"),
            ("ContinuousBernoulli", "Pareto"), ("Uniform", "ContinuousBernoulli"), ("Uniform_wide", "ContinuousBernoulli"),
            ("Beta", "ContinuousBernoulli"), ("Exponential", "ContinuousBernoulli"), ("Normal", "ContinuousBernoulli"),
            ("Beta", "Exponential"), ("Beta", "Gamma"), ("Exponential", "Beta"), ("Laplace", "Beta"), ("Gamma", "Beta"),
            ("Laplace", "Exponential"), ("Laplace", "Gamma"), ("Laplace", "Uniform"), ("Exponential", "Uniform"),
            ("Gamma", "Uniform"), ("Normal", "Beta"), ("Normal", "Exponential"), ("Uniform_wide", "Uniform"),
            ("LowRankMVN", "LowRankMVN_b"), ("LowRankMVN", "MVN"), ("MVN", "LowRankMVN"),
            ("OneHotCategorical", "OneHotCategorical"), ("Poisson", "Binomial"), ("Chi2", "Gamma"), ("Chi2", "Exponential"),
            ("Independent_MVN", "Independent_MVN_b"), ("LogNormal", "Weibull"), ("Cauchy", "Laplace"), ("HalfNormal", "Normal")]


@pytest.mark.parametrize("p, q", KL_PAIRS, ids=[f"{p}-{q}" for p, q in KL_PAIRS])
def test_kl_divergence_more_pairs(p, q):
    """The KL PyTorch computes (inf where supports do not nest), or the NotImplementedError it raises."""
    same_in_both(lambda L: either(lambda: D(L).kl_divergence(KL_DISTS[p](L), KL_DISTS[q](L))), rtol=1e-5, atol=1e-5)


KL_GRADS = [("Gumbel", "Normal"), ("Pareto", "Exponential"), ("HalfNormal", "HalfNormal"), ("ContinuousBernoulli", "Normal"),
            ("LowRankMVN", "MVN"), ("Beta", "Gamma"), ("Gamma", "Gumbel")]


@pytest.mark.parametrize("p, q", KL_GRADS, ids=[f"{p}-{q}" for p, q in KL_GRADS])
def test_kl_divergence_gradients_float64(p, q):
    """Gradients of KL(p || q).sum() w.r.t. the parameters of both distributions, in float64."""
    same_in_both(lambda L: kl_gradient(L, p, q), rtol=1e-6, atol=1e-9)


KL_PARAMS = {
    "Gumbel": ([[0.0, 1.0], [1.0, 0.5]], lambda L, a, b: D(L).Gumbel(a, b)),
    "Normal": ([[0.0, 1.0], [1.0, 2.0]], lambda L, a, b: D(L).Normal(a, b)),
    "Pareto": ([[1.0, 2.0], [3.0, 2.5]], lambda L, a, b: D(L).Pareto(a, b)),
    "Exponential": ([[0.5, 2.0]], lambda L, a: D(L).Exponential(a)),
    "HalfNormal": ([[1.0, 2.0]], lambda L, a: D(L).HalfNormal(a)),
    "ContinuousBernoulli": ([[0.3, 0.6]], lambda L, a: D(L).ContinuousBernoulli(probs=a)),
    "LowRankMVN": ([[0.0, 1.0], [[1.0], [0.5]], [1.0, 2.0]], lambda L, a, b, c: D(L).LowRankMultivariateNormal(a, b, c)),
    "MVN": ([[0.5, 0.0], [[2.0, 0.3], [0.3, 1.0]]], lambda L, a, b: D(L).MultivariateNormal(a, b)),
    "Beta": ([[2.0, 0.5], [3.0, 0.5]], lambda L, a, b: D(L).Beta(a, b)),
    "Gamma": ([[2.0, 0.5], [3.0, 1.5]], lambda L, a, b: D(L).Gamma(a, b)),
    "Laplace": ([[0.0, 1.0], [1.0, 0.5]], lambda L, a, b: D(L).Laplace(a, b)),
}


def kl_gradient(L, p, q):
    (p_values, make_p), (q_values, make_q) = KL_PARAMS[p], KL_PARAMS[q]
    p_leaves = [L.tensor(v, dtype=L.float64, requires_grad=True) for v in p_values]
    q_leaves = [L.tensor(v, dtype=L.float64, requires_grad=True) for v in q_values]
    kl = D(L).kl_divergence(make_p(L, *p_leaves), make_q(L, *q_leaves))
    return [kl, list(L.autograd.grad(kl.sum(), p_leaves + q_leaves))]


def test_kl_exponential_family_fallback():
    """A pair of one ExponentialFamily subclass nobody registered (Chi2-Chi2) goes through PyTorch's
    Bregman-divergence fallback: values and float64 gradients."""
    def run(L):
        df_p = L.tensor([2.0, 3.5], dtype=L.float64, requires_grad=True)
        df_q = L.tensor([4.0, 1.5], dtype=L.float64, requires_grad=True)
        kl = D(L).kl_divergence(D(L).Chi2(df_p), D(L).Chi2(df_q))
        return [kl, list(L.autograd.grad(kl.sum(), [df_p, df_q]))]
    same_in_both(run, rtol=1e-6, atol=1e-9)


def test_kl_transformed_distributions():
    """TransformedDistribution-TransformedDistribution: the base KL when the transforms match,
    NotImplementedError when they differ."""
    def run(L):
        same = D(L).kl_divergence(
            D(L).TransformedDistribution(D(L).Normal(T(L, [0.0, 1.0]), 1.0), [TR(L).ExpTransform(), TR(L).AffineTransform(1.0, 2.0)]),
            D(L).TransformedDistribution(D(L).Normal(T(L, [1.0, 0.0]), 2.0), [TR(L).ExpTransform(), TR(L).AffineTransform(1.0, 2.0)]))
        differ = either(lambda: D(L).kl_divergence(
            D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), [TR(L).ExpTransform()]),
            D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), [TR(L).SigmoidTransform()])))
        event_mismatch = either(lambda: D(L).kl_divergence(
            D(L).TransformedDistribution(D(L).Normal(L.zeros(2), 1.0), [TR(L).ExpTransform()]),
            D(L).TransformedDistribution(D(L).Independent(D(L).Normal(L.zeros(2), 1.0), 1), [TR(L).ExpTransform()])))
        return [same, differ, event_mismatch, D(L).kl_divergence(D(L).LogNormal(0.0, 1.0), D(L).LogNormal(1.0, 2.0))]
    same_in_both(run)


def test_register_kl_overrides_for_subclass():
    """register_kl on a user subclass takes precedence over the parent pair; the function is returned
    unchanged by the decorator; an unregistered user class raises NotImplementedError."""
    def run(L):
        class Wide(L.distributions.Gumbel):
            pass

        class Lonely(L.distributions.Distribution):
            arg_constraints = {}

        def formula(p, q):
            return p.loc * 0 + 7.0

        returned = L.distributions.register_kl(Wide, L.distributions.Gumbel)(formula)
        return [returned is formula, L.distributions.kl_divergence(Wide(T(L, [0.0, 1.0]), 1.0), L.distributions.Gumbel(0.0, 1.0)),
                L.distributions.kl_divergence(L.distributions.Gumbel(0.0, 1.0), Wide(T(L, [0.0, 1.0]), 2.0)),
                either(lambda: L.distributions.kl_divergence(Lonely(validate_args=False), L.distributions.Gumbel(0.0, 1.0)))]
    same_in_both(run)


def test_kl_self_is_zero_for_transformed_subclasses():
    def run(L):
        return [D(L).kl_divergence(KL_DISTS[name](L), KL_DISTS[name](L)) for name in ("Gumbel", "Pareto", "HalfNormal", "LogNormal")]
    same_in_both(run)


# --- warnings ----------------------------------------------------------------------------------

def test_warning_categories():
    """The warnings (categories) that ordinary transform / constraint / KL use gives: PyTorch gives none
    here, and neither may chainrule (kl ambiguity warnings are in test_api_sweep_distributions.py)."""
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            TR(L).ComposeTransform([TR(L).ExpTransform(), TR(L).AffineTransform(0.0, 2.0)])(T(L, X))
            D(L).TransformedDistribution(D(L).Normal(0.0, 1.0), TR(L).ExpTransform()).log_prob(T(L, 1.0))
            D(L).biject_to(C(L).simplex)(T(L, X23))
            C(L).positive_definite.check(T(L, MAT))
            D(L).kl_divergence(D(L).Gumbel(0.0, 1.0), D(L).Gamma(1.0, 1.0))
            TR(L).SigmoidTransform(cache_size=1).inv(T(L, [0.0, 1.0]))
        return [each.category.__name__ for each in caught]
    same_in_both(run)
