"""The helpers the API sweeps (``test_api_sweep_*.py``) share: each case is ``run(L)``, run once with
``L = torch`` (the oracle) and once with ``L = chainrule``, and the two outcomes are compared.

- ``outcome(run)``: ("ok", value) or ("raises", exception type), warnings silenced.
- ``raises_as_torch(run)``: PyTorch raises; chainrule raises the same type (or a subclass).
- ``plain(value)``: a tensor as (dtype name, shape, float64 values), lists and tuples item by item.
- ``assert_same`` / ``same_in_both(run)``: the plain results equal (values to rtol/atol, nan equal nan).
- ``bundle(*runs)``: several small cases as one.
- ``warning_categories(run)`` / ``fail_kind(run)``: the warnings ``run()`` gives, the exception it raises.
- ``bug(reason)``: a difference found, marked as a strict xfail that fails the day it is fixed.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule


def outcome(run):
    """What ``run()`` gives: ("ok", value) or ("raises", exception type)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", run()
    except Exception as error:  # noqa: BLE001 - the tests compare whatever each library raises
        return "raises", type(error)


def raises_as_torch(run):
    """``run(lib)`` raises in PyTorch; chainrule must raise the same exception type (or a subclass)."""
    kind, expected = outcome(lambda: run(torch))
    assert kind == "raises", f"PyTorch does not raise here: {expected!r}"
    kind, actual = outcome(lambda: run(chainrule))
    assert kind == "raises", f"PyTorch raises {expected.__name__}; chainrule returns {actual!r}"
    assert issubclass(actual, expected), f"PyTorch raises {expected.__name__}; chainrule raises {actual.__name__}"


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol, equal_nan=True)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = plain(run(torch))
        actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def bundle(*runs):
    """Several small cases as one: ``run(L)`` gives the list of each case's result."""
    return lambda L: [run(L) for run in runs]


def bug(reason):
    return pytest.mark.xfail(strict=True, reason=f"BUG: {reason}")


def warning_categories(run):
    """The categories (names) of the warnings ``run()`` emits, and what it returns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    return sorted({each.category.__name__ for each in caught}), result


def fail_kind(run):
    """The name of the exception ``run()`` raises, or "ok"."""
    kind, value = outcome(run)
    return value.__name__ if kind == "raises" else "ok"
