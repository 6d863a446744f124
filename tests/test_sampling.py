"""The in-place random fills geometric_, log_normal_ and cauchy_: their distributions (checked by
statistics that the numbers must satisfy), generator= and manual_seed reproducibility, errors."""
import numpy as np
import pytest
import torch

import chainrule


def test_geometric_counts_trials_up_to_the_first_success():
    samples = chainrule.empty(20000).geometric_(0.25)._array
    assert samples.min() >= 1 and np.all(samples == np.round(samples))
    assert abs(samples.mean() - 4.0) < 0.15  # mean 1 / p
    assert chainrule.empty(3, dtype=chainrule.int64).geometric_(0.5).dtype == chainrule.int64


def test_log_normal_is_the_exponential_of_a_normal():
    logs = np.log(chainrule.empty(20000).log_normal_(0.5, 0.25)._array)
    assert abs(logs.mean() - 0.5) < 0.01 and abs(logs.std() - 0.25) < 0.01


def test_cauchy_has_its_median_and_quartiles():
    samples = chainrule.empty(20000, dtype=chainrule.float64).cauchy_(2.0, 3.0)._array
    lower, median, upper = np.percentile(samples, [25, 50, 75])
    assert abs(median - 2.0) < 0.2 and abs(lower - (2.0 - 3.0)) < 0.3 and abs(upper - (2.0 + 3.0)) < 0.3


@pytest.mark.parametrize("fill", [lambda x, **k: x.geometric_(0.3, **k), lambda x, **k: x.log_normal_(**k), lambda x, **k: x.cauchy_(**k)])
def test_fills_are_reproducible_with_a_seed_or_a_generator(fill):
    chainrule.manual_seed(3)
    first = fill(chainrule.empty(5))._array.copy()
    chainrule.manual_seed(3)
    np.testing.assert_array_equal(fill(chainrule.empty(5))._array, first)
    generated = [fill(chainrule.empty(5), generator=chainrule.Generator().manual_seed(7))._array for _ in range(2)]
    np.testing.assert_array_equal(*generated)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda lib: lib.ones(2).geometric_(1.0), r"geometric_ expects p to be in \(0, 1\), but got p=1"),
        (lambda lib: lib.ones(2).log_normal_(std=0), "log_normal_ expects std > 0.0, but found std=0"),
        (lambda lib: lib.ones(2).cauchy_(sigma=-1), "cauchy_ expects sigma > 0.0, but found sigma=-1"),
    ],
)
def test_errors_match_pytorch(call, message):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=message):
            call(lib)


def test_continuous_fills_refuse_integer_tensors():
    with pytest.raises(RuntimeError, match=r"^Cauchy distribution is a continuous probability distribution. dtype must be a floating point but you specified long int \(cauchy_"):
        chainrule.ones(2, dtype=chainrule.int64).cauchy_()


# ----------------------------------------------------------------------------- poisson, randint_like
def test_poisson_draws_counts_with_the_given_means_and_a_zero_gradient():
    rates = chainrule.tensor([0.0, 0.5, 3.0, 40.0], requires_grad=True)
    samples = chainrule.poisson(rates.reshape(4, 1).expand(4, 5000))
    counts = samples.detach()._array
    assert samples.dtype == chainrule.float32 and np.all(counts == np.round(counts)) and counts[0].max() == 0
    np.testing.assert_allclose(counts.mean(axis=1), [0.0, 0.5, 3.0, 40.0], atol=0.3)
    theirs = torch.poisson(torch.ones(2, requires_grad=True))
    assert samples.grad_fn.name() == theirs.grad_fn.name() and samples.requires_grad
    samples.sum().backward()
    assert rates.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert chainrule.poisson(chainrule.tensor(2.0, dtype=chainrule.float64)).dtype == chainrule.float64


def test_poisson_and_randint_like_repeat_with_a_seeded_generator():
    draws = []
    for _ in range(2):
        generator = chainrule.Generator().manual_seed(7)
        draws.append((chainrule.poisson(chainrule.full((5,), 3.0), generator=generator).tolist(),
                      chainrule.randint_like(chainrule.ones(5), 0, 100, generator=generator).tolist()))
    assert draws[0] == draws[1]


def test_randint_like_keeps_the_shape_and_dtype_as_pytorch_does():
    x = chainrule.ones(2, 3)
    for ours, theirs in [
        (chainrule.randint_like(x, 5), torch.randint_like(torch.ones(2, 3), 5)),
        (chainrule.randint_like(x, 2, 5), torch.randint_like(torch.ones(2, 3), 2, 5)),
        (chainrule.randint_like(x.long(), 3, dtype=chainrule.float64), torch.randint_like(torch.ones(2, 3).long(), 3, dtype=torch.float64)),
        (chainrule.randint_like(x, high=4), torch.randint_like(torch.ones(2, 3), high=4)),
    ]:
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    values = chainrule.randint_like(chainrule.ones(1000, dtype=chainrule.int64), 2, 5)._array
    assert set(values.tolist()) == {2, 3, 4}


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.poisson(-lib.ones(2)), RuntimeError),
    (lambda lib: lib.poisson(lib.ones(2, dtype=lib.int64)), NotImplementedError),
    (lambda lib: lib.randint_like(lib.ones(2), 5, 2), RuntimeError),
    (lambda lib: lib.randint_like(lib.ones(2), 0), RuntimeError),
    (lambda lib: lib.binomial(lib.tensor([5]), lib.tensor([0.2])), ValueError),
    (lambda lib: lib.binomial(lib.tensor([5.0]), lib.tensor([0.2], dtype=lib.float64)), RuntimeError),
])
def test_poisson_and_randint_like_errors_are_pytorchs(call, error):
    with pytest.raises(error) as expected:
        call(torch)
    with pytest.raises(error) as got:
        call(chainrule)
    assert " ".join(str(expected.value).split()[:3]) in str(got.value)


@pytest.mark.parametrize("sampler, arguments", [
    ("normal_", ()), ("uniform_", ()), ("exponential_", ()), ("cauchy_", ()), ("log_normal_", ()), ("geometric_", (0.5,)),
])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16", "float64"])
def test_samplers_refuse_the_dtypes_pytorch_refuses_with_its_exception_type(sampler, arguments, dtype):
    def outcome(library):
        try:
            getattr(library.zeros(3, dtype=getattr(library, dtype)), sampler)(*arguments)
        except Exception as error:  # noqa: BLE001 (the type is what is compared)
            return type(error)
        return None

    assert outcome(chainrule) is outcome(torch)
