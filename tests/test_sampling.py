"""The in-place random fills geometric_, log_normal_ and cauchy_: their distributions (checked by
statistics that the numbers must satisfy), generator= and manual_seed reproducibility, errors."""
import numpy as np
import pytest
import torch

import chainrule


def test_geometric_counts_trials_up_to_the_first_success():
    samples = chainrule.empty(20000).geometric_(0.25).array
    assert samples.min() >= 1 and np.all(samples == np.round(samples))
    assert abs(samples.mean() - 4.0) < 0.15  # mean 1 / p
    assert chainrule.empty(3, dtype=chainrule.int64).geometric_(0.5).dtype == chainrule.int64


def test_log_normal_is_the_exponential_of_a_normal():
    logs = np.log(chainrule.empty(20000).log_normal_(0.5, 0.25).array)
    assert abs(logs.mean() - 0.5) < 0.01 and abs(logs.std() - 0.25) < 0.01


def test_cauchy_has_its_median_and_quartiles():
    samples = chainrule.empty(20000, dtype=chainrule.float64).cauchy_(2.0, 3.0).array
    lower, median, upper = np.percentile(samples, [25, 50, 75])
    assert abs(median - 2.0) < 0.2 and abs(lower - (2.0 - 3.0)) < 0.3 and abs(upper - (2.0 + 3.0)) < 0.3


@pytest.mark.parametrize("fill", [lambda x, **k: x.geometric_(0.3, **k), lambda x, **k: x.log_normal_(**k), lambda x, **k: x.cauchy_(**k)])
def test_fills_are_reproducible_with_a_seed_or_a_generator(fill):
    chainrule.manual_seed(3)
    first = fill(chainrule.empty(5)).array.copy()
    chainrule.manual_seed(3)
    np.testing.assert_array_equal(fill(chainrule.empty(5)).array, first)
    generated = [fill(chainrule.empty(5), generator=chainrule.Generator().manual_seed(7)).array for _ in range(2)]
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
    with pytest.raises(RuntimeError, match="cauchy_: a continuous distribution needs a floating point tensor"):
        chainrule.ones(2, dtype=chainrule.int64).cauchy_()
