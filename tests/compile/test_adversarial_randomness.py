"""Adversarial randomness: compiled steps that draw random numbers (distributions, samplers,
dropout, explicit generators, seeding inside and between calls), each run eagerly and compiled
over six calls from the same seed, compared bit for bit after every call: the result (or the
error raised), the state the step changes, the default generator's state and the state of every
explicit generator. Running eagerly from some call on, with one warning, is allowed; anything else
that differs is a bug.
"""
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule import distributions as D
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

CALLS = 6


def _plain(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy().copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _run(setup, compiled, calls=CALLS):
    """``setup()`` -> dict with ``step``, ``args(i)``, and optionally ``state()`` (tensors to
    compare), ``generators`` (explicit generators) and ``between(i)`` (run before call i)."""
    torch.manual_seed(0)
    case = setup()
    step = torch.compile(case["step"]) if compiled else case["step"]
    state = case.get("state", lambda: [])
    generators = case.get("generators", [])
    between = case.get("between", lambda i: None)
    records = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            between(i)
            try:
                result = ("returned", _plain(step(*case["args"](i))))
            except Exception as error:  # the same error, eagerly and compiled
                result = ("raised", type(error).__name__, str(error))
            records.append((
                result,
                _plain(state()),
                torch.random.default_generator.state_bytes(),
                [generator.state_bytes() for generator in generators],
            ))
    compile_warnings = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return records, compile_warnings


def check(setup, calls=CALLS):
    eager, _ = _run(setup, compiled=False, calls=calls)
    compiled, compile_warnings = _run(setup, compiled=True, calls=calls)
    assert len(compile_warnings) <= 1, compile_warnings
    for i, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {i}")
    return compile_warnings


# ----------------------------------------------------------------- distributions in a training step
def _training(build, use):
    def setup():
        layer = nn.Linear(3, 4)
        optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            h = layer(x)
            loss, shown = use(build(h), h)
            loss.backward()
            optimizer.step()
            return loss.detach(), shown

        return {
            "step": step,
            "args": lambda i: (torch.randn(2, 3),),
            "state": lambda: [p.detach().clone() for p in layer.parameters()] + [p.grad for p in layer.parameters()],
        }

    return setup


def _vae(d, h):
    z = d.rsample()
    prior = D.Normal(torch.zeros_like(h), torch.ones_like(h))
    return (z ** 2).sum() + D.kl_divergence(d, prior).sum(), z.detach()


def _reinforce(d, h):
    action = d.sample()
    return -(d.log_prob(action) * action.float()).sum() - 0.01 * d.entropy().sum(), action


def _reinforce_shaped(d, h):
    actions = d.sample((3,))
    return -d.log_prob(actions).sum(), actions


def _rsample_square(d, h):
    z = d.rsample()
    return (z ** 2).sum(), z.detach()


DISTRIBUTION_STEPS = {
    "normal_vae_kl": (lambda h: D.Normal(h, F.softplus(h) + 0.1), _vae),
    "categorical_logits_reinforce": (lambda h: D.Categorical(logits=h), _reinforce),
    "categorical_probs_reinforce": (lambda h: D.Categorical(probs=F.softmax(h, -1)), _reinforce),
    "categorical_sample_shape": (lambda h: D.Categorical(logits=h), _reinforce_shaped),
    "bernoulli_logits": (lambda h: D.Bernoulli(logits=h), lambda d, h: (-d.log_prob(d.sample()).sum() + d.entropy().sum(), d.sample())),
    "one_hot_categorical": (lambda h: D.OneHotCategorical(logits=h), lambda d, h: (-d.log_prob(d.sample()).sum() + d.entropy().sum(), d.sample())),
    "relaxed_bernoulli": (lambda h: D.RelaxedBernoulli(torch.tensor(0.5), logits=h), _rsample_square),
    "relaxed_one_hot": (lambda h: D.RelaxedOneHotCategorical(torch.tensor(0.5), logits=h), _rsample_square),
    "exponential": (lambda h: D.Exponential(F.softplus(h) + 0.1), _rsample_square),
    "laplace_cdf": (lambda h: D.Laplace(h, 1.0), lambda d, h: ((d.rsample() ** 2).sum() + d.cdf(h * 0.5).sum(), d.sample())),
    "uniform_entropy": (lambda h: D.Uniform(h, h + 1.0), lambda d, h: ((d.rsample() ** 2).sum() + d.entropy().sum(), d.sample())),
    "normal_icdf_of_rand": (lambda h: D.Normal(h, 1.0), lambda d, h: (d.icdf(torch.rand(2, 4)).sum(), d.sample())),
    "multivariate_normal": (lambda h: D.MultivariateNormal(h, scale_tril=torch.eye(4) * 2), lambda d, h: ((d.rsample((2,)) ** 2).sum() + d.log_prob(h * 0.5).sum(), d.sample())),
    "multivariate_normal_covariance": (lambda h: D.MultivariateNormal(h, covariance_matrix=torch.eye(4) * 2 + 0.5), lambda d, h: ((d.rsample((2,)) ** 2).sum() + d.log_prob(h * 0.5).sum(), d.sample())),
    "multivariate_normal_precision": (lambda h: D.MultivariateNormal(h, precision_matrix=torch.eye(4) * 2 + 0.5), lambda d, h: (d.log_prob(h * 0.5).sum() + d.entropy().sum(), d.sample())),
    "independent": (lambda h: D.Independent(D.Normal(h, 1.0), 1), lambda d, h: ((d.rsample() ** 2).sum() + d.log_prob(h * 0.5).sum(), d.sample())),
    "transformed": (lambda h: D.TransformedDistribution(D.Normal(h, 1.0), [D.transforms.ExpTransform()]), lambda d, h: (d.rsample().sum() + d.log_prob(d.sample()).sum(), d.sample())),
    "mixture_same_family": (lambda h: D.MixtureSameFamily(D.Categorical(logits=h), D.Normal(h, 1.0)), lambda d, h: (d.log_prob(d.sample()).sum(), d.sample())),
    "gamma_runs_eagerly": (lambda h: D.Gamma(F.softplus(h) + 0.1, 1.0), _rsample_square),
    "dirichlet_runs_eagerly": (lambda h: D.Dirichlet(F.softplus(h) + 0.1), _rsample_square),
    "gumbel_softmax_soft": (lambda h: None, lambda d, h: ((F.gumbel_softmax(h, tau=0.5) ** 2).sum(), h.detach())),
    "gumbel_softmax_hard": (lambda h: None, lambda d, h: ((F.gumbel_softmax(h, tau=0.5, hard=True) * h).sum(), h.detach())),
}


@pytest.mark.parametrize("name", list(DISTRIBUTION_STEPS))
def test_a_training_step_through_a_distribution_matches_eager(name):
    fell_back = check(_training(*DISTRIBUTION_STEPS[name]))
    if name.startswith("multivariate_normal"):  # its Cholesky factor and the support checks are recorded too
        assert not fell_back


# ----------------------------------------------------------------- dropout with p changing
DROPOUTS = {
    "dropout": (F.dropout, (2, 3, 4)),
    "dropout1d": (F.dropout1d, (2, 3, 4)),
    "dropout2d": (F.dropout2d, (2, 3, 4, 4)),
    "dropout3d": (F.dropout3d, (2, 3, 2, 2, 2)),
    "alpha_dropout": (F.alpha_dropout, (2, 3, 4)),
    "feature_alpha_dropout": (F.feature_alpha_dropout, (2, 3, 4)),
}


@pytest.mark.parametrize("name", list(DROPOUTS))
def test_dropout_with_p_changing_between_calls_matches_eager(name):
    function, shape = DROPOUTS[name]
    ps = [0.1, 0.5, 0.0, 0.9, 1.0, 0.3]
    check(lambda: {"step": lambda x, p: function(x, p, training=True) * 2, "args": lambda i: (torch.ones(*shape), ps[i])})


# ----------------------------------------------------------------- every sampler
def _all_samplers(with_generator):
    def setup():
        generator = torch.Generator().manual_seed(9) if with_generator else None
        g = {"generator": generator} if with_generator else {}

        def step(x):
            return (
                torch.empty(3).uniform_(**g), torch.empty(3).normal_(**g), torch.empty(3).exponential_(**g),
                torch.empty(3).geometric_(0.3, **g), torch.empty(3).cauchy_(**g), torch.empty(3).log_normal_(**g),
                torch.empty(3).random_(0, 10, **g), torch.empty(3).bernoulli_(0.4, **g), torch.randperm(5, **g),
                torch.randint(0, 5, (3,), **g), torch.multinomial(x.abs() + 0.1, 2, **g), torch.poisson(x.abs(), **g),
                torch.normal(x, 1.0, **g), torch.normal(x, x.abs(), **g), torch.bernoulli(x.sigmoid(), **g),
                torch.rand(2, **g), torch.randn(2, **g), torch.normal(0.0, 2.0, (2,), **g),
            ) + (() if with_generator else (torch.rand_like(x), torch.randn_like(x), torch.randint_like(x, 5), F.rrelu(x, training=True)))

        return {"step": step, "args": lambda i: (torch.randn(3),), "generators": [generator] if with_generator else []}

    return setup


@pytest.mark.parametrize("with_generator", [False, True])
def test_every_sampler_matches_eager(with_generator):
    check(_all_samplers(with_generator))


# ----------------------------------------------------------------- generators and seeding around the step
def test_torch_manual_seed_inside_the_step_matches_eager():
    check(lambda: {"step": lambda x: (torch.manual_seed(3), torch.rand(2) + x)[1], "args": lambda i: (torch.zeros(2),)})


def test_fork_rng_inside_the_step_matches_eager():
    def step(x):
        with torch.random.fork_rng():
            inner = torch.rand(2)
        return inner + x, torch.rand(2)

    check(lambda: {"step": step, "args": lambda i: (torch.zeros(2),)})


def test_get_and_set_rng_state_inside_the_step_match_eager():
    def step(x):
        saved = torch.get_rng_state()
        first = torch.rand(2)
        torch.set_rng_state(saved)
        return first + x, torch.rand(2)

    check(lambda: {"step": step, "args": lambda i: (torch.zeros(2),)})


def test_the_default_generator_used_eagerly_between_calls_and_reseeded():
    def between(i):
        torch.rand(i)
        if i == 4:
            torch.manual_seed(11)

    check(lambda: {"step": lambda x: torch.randn(2) + F.dropout(x, 0.5), "args": lambda i: (torch.ones(4),), "between": between})


def test_an_explicit_generator_reseeded_and_restored_by_the_caller():
    def setup():
        generator = torch.Generator().manual_seed(1)
        saved = {}

        def between(i):
            if i == 1:
                saved["state"] = generator.get_state()
            if i == 2:
                generator.manual_seed(20)
            if i == 4:
                generator.set_state(saved["state"])

        return {"step": lambda x: torch.randn(2, generator=generator) + x, "args": lambda i: (torch.zeros(2),),
                "between": between, "generators": [generator]}

    check(setup)


def test_generators_given_as_arguments_alternate_or_are_new():
    def setup():
        first, second = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
        generators = [first, second, first, torch.Generator().manual_seed(3), second, first]
        return {"step": lambda x, g: torch.rand(2, generator=g) + x, "args": lambda i: (torch.zeros(2), generators[i]),
                "generators": [first, second]}

    check(setup)


def test_one_generator_shared_by_two_compiled_functions():
    generator_holder = {}

    def run(compiled):
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(3)
        first = lambda x: torch.randn(2, generator=generator) + x
        second = lambda x: torch.rand(2, generator=generator) * x
        if compiled:
            first, second = torch.compile(first), torch.compile(second)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [(_plain(first(torch.ones(2))), _plain(second(torch.ones(2))), generator.state_bytes()) for _ in range(CALLS)]

    assert_identical(run(True), run(False))


# ----------------------------------------------------------------- checks of values on a later call
def _later(good, bad):
    return lambda i: bad if i == 3 else good


VALUE_CHECKS = {
    "normal_scale": (lambda x, s: D.Normal(x, s).log_prob(x * 0.5), lambda i: (torch.ones(2), torch.tensor([1.0, _later(1.0, -1.0)(i)]))),
    "normal_scale_rsample": (lambda x, s: D.Normal(x, s).rsample(), lambda i: (torch.ones(2), torch.tensor([1.0, _later(1.0, -1.0)(i)]))),
    "categorical_probs": (lambda p: D.Categorical(probs=p).sample(), lambda i: (torch.tensor([0.5, _later(0.5, -0.5)(i), 0.2]),)),
    "uniform_low_above_high": (lambda low: D.Uniform(low, torch.ones(2)).rsample(), lambda i: (torch.tensor([0.2, _later(0.5, 1.5)(i)]),)),
    "uniform_value_outside": (lambda v: D.Uniform(torch.zeros(2), torch.ones(2)).log_prob(v), lambda i: (torch.tensor([0.2, _later(0.5, 1.5)(i)]),)),
    "exponential_rate": (lambda r: D.Exponential(r).rsample(), lambda i: (torch.tensor([1.0, _later(1.0, -1.0)(i)]),)),
    "multinomial_zero_row": (lambda p: torch.multinomial(p, 2), lambda i: (torch.tensor([[0.5, 0.5], [_later(0.5, 0.0)(i)] * 2]),)),
    "bernoulli_probability_above_one": (lambda p: torch.bernoulli(p), lambda i: (torch.tensor([0.5, _later(0.5, 1.5)(i)]),)),
}


@pytest.mark.parametrize("name", list(VALUE_CHECKS))
def test_a_value_invalid_on_a_later_call_raises_as_eagerly(name):
    step, args = VALUE_CHECKS[name]
    check(lambda: {"step": step, "args": args})


# ----------------------------------------------------------------- bugs
def test_normal_with_a_negative_std_on_a_later_call():
    # eager: RuntimeError 'normal expects all elements of std >= 0.0' on call 3; compiled: samples
    check(lambda: {"step": lambda m, s: torch.normal(m, s), "args": lambda i: (torch.ones(3), torch.tensor([1.0, _later(1.0, -1.0)(i), 1.0]))})


def test_poisson_with_a_negative_rate_on_a_later_call():
    check(lambda: {"step": lambda r: torch.poisson(r), "args": lambda i: (torch.tensor([1.0, _later(2.0, -1.0)(i)]),)})


def _explicit_generator_step(body):
    def setup():
        generator = torch.Generator().manual_seed(2)
        return {"step": lambda x: body(generator, x), "args": lambda i: (torch.ones(2),), "generators": [generator]}

    return setup


def test_explicit_generator_manual_seed_inside_the_step():
    check(_explicit_generator_step(lambda g, x: (g.manual_seed(5), torch.rand(2, generator=g) + x)[1]))


def test_explicit_generator_get_and_set_state_inside_the_step():
    def body(g, x):
        saved = g.get_state()
        first = torch.rand(2, generator=g)
        g.set_state(saved)
        return first + x, torch.rand(2, generator=g)

    check(_explicit_generator_step(body))


def test_explicit_generator_numpy_draw_inside_the_step():
    check(_explicit_generator_step(lambda g, x: x * 2 if g.numpy.random() < 0.5 else x - 1))


@pytest.mark.parametrize("validate_from_call_3", [False, True])
def test_default_validate_args_switched_between_calls(validate_from_call_3):
    def between(i):
        D.Distribution.set_default_validate_args((i >= 3) == validate_from_call_3)

    try:
        check(lambda: {"step": lambda s: D.Normal(torch.zeros(2), s).log_prob(torch.ones(2)),
                       "args": lambda i: (torch.tensor([1.0, _later(1.0, -1.0)(i)]),), "between": between})
    finally:
        D.Distribution.set_default_validate_args(True)


ZERO_DIM_ARGUMENTS = {
    "normal_size_form": lambda m: torch.normal(m, m + 1.0, (3,)),
    "randint_high": lambda n: torch.randint(0, n, (3,)),
    "randperm_n": lambda n: torch.randperm(n),
    "normal__std": lambda s: torch.empty(3).normal_(0.0, s),
    "multinomial_num_samples": lambda n: torch.multinomial(torch.ones(4), n, True),
}


@pytest.mark.parametrize("name", list(ZERO_DIM_ARGUMENTS))
def test_a_zero_dim_tensor_as_a_random_factorys_number(name):
    step = ZERO_DIM_ARGUMENTS[name]
    floating = name.startswith("normal")
    check(lambda: {"step": step, "args": lambda i: (torch.tensor(float(i + 1)) if floating else torch.tensor(i + 2),)})
