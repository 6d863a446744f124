"""chainrule.testing.assert_close passes and fails where torch.testing.assert_close does, with its
exception types and messages (module names read ``chainrule.`` where PyTorch's read ``torch.``)."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.testing import assert_close


def outcome(assert_close_function, actual, expected, **options):
    try:
        assert_close_function(actual, expected, **options)
    except (AssertionError, TypeError, ValueError) as error:
        # The class of a tensor reads <class 'torch.Tensor'> there, 'chainrule.tensor.Tensor' here.
        return type(error).__name__, str(error).replace("torch.", "chainrule.").replace("chainrule.tensor.Tensor", "chainrule.Tensor")
    return "passed", ""


def both(library, values):
    """``values`` with every numpy array made a tensor of ``library``, lists and dicts kept."""
    if isinstance(values, np.ndarray):
        return library.tensor(values) if library is chainrule else torch.from_numpy(values.copy())
    if isinstance(values, list):
        return [both(library, value) for value in values]
    if isinstance(values, dict):
        return {key: both(library, value) for key, value in values.items()}
    return values


CASES = [
    (np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 2.5, 3.1], np.float32), {}),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0 + 1e-6], np.float32), {}),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0], np.float64), {}),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0], np.float64), {"check_dtype": False}),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0, 3.0], np.float32), {}),
    (np.array([1, 2]), np.array([1, 3]), {}),
    (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.0, 5.0]]), {}),
    (np.array([[0.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [0.0, 5.0]]), {}),
    (np.array(1.0, np.float32), np.array(1.0001, np.float32), {}),
    (np.array([np.nan]), np.array([np.nan]), {}),
    (np.array([np.nan]), np.array([np.nan]), {"equal_nan": True}),
    (np.array([True, False]), np.array([True, True]), {}),
    (np.array([1.0, 2.0], np.float16), np.array([1.0, 2.001], np.float16), {}),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.5], np.float32), {"rtol": 0.3, "atol": 0.0}),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.5], np.float32), {"rtol": 0.3}),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.5], np.float32), {"msg": "custom"}),
    (1.0, 1.0 + 1e-9, {}),
    (1.0, 1.1, {}),
    (1, 2, {}),
    (1, 1.0, {}),
    (True, False, {}),
    ([np.array(1.0, np.float32), 2.0], [np.array(2.0, np.float32), 2.0], {}),
    ([1.0, 2.0], [1.0], {}),
    ({"a": np.array([1.0]), "b": 2}, {"a": np.array([1.5]), "b": 2}, {}),
    (np.array([1.0, 2.0], np.float32), [1.0, 2.0], {}),
    (np.array([2 + 2j], np.complex64), np.array([2 + 3j], np.complex64), {}),  # the relative difference prints as a real number
    (np.array([1.0, 2.0], np.float32), np.array([1, 3]), {"check_dtype": False}),  # compared in float32, as PyTorch promotes
    (np.array([1, 3]), np.array([1.0, 2.5], np.float32), {"check_dtype": False}),
]


@pytest.mark.parametrize("actual, expected, options", CASES, ids=[str(i) for i in range(len(CASES))])
def test_assert_close_answers_as_pytorch_does(actual, expected, options):
    ours = outcome(assert_close, both(chainrule, actual), both(chainrule, expected), **options)
    theirs = outcome(torch.testing.assert_close, both(torch, actual), both(torch, expected), **options)
    assert ours == theirs


def test_a_callable_msg_rewrites_the_message():
    with pytest.raises(AssertionError, match="^checked: Tensor-likes are not close!"):
        assert_close(chainrule.tensor([1.0]), chainrule.tensor([2.0]), msg=lambda message: "checked: " + message)


@pytest.mark.parametrize(
    ("dtype", "low", "high", "lowest", "highest"),
    [
        ("float32", None, None, -9, 9),
        ("float64", 0.5, 2.0, 0.5, 2.0),
        ("int64", None, None, -9, 9),
        ("uint8", None, None, 0, 9),
        ("int8", -200, 200, -128, 127),
        ("int32", 0, 3, 0, 2),
        ("bool", None, None, 0, 1),
    ],
)
def test_make_tensor_draws_within_pytorchs_intervals(dtype, low, high, lowest, highest):
    chainrule.manual_seed(0)
    made = chainrule.testing.make_tensor(2000, dtype=getattr(chainrule, dtype), device="cpu", low=low, high=high)
    theirs = torch.testing.make_tensor(2000, dtype=getattr(torch, dtype), device="cpu", low=low, high=high)
    assert made.dtype == getattr(chainrule, dtype) and made.shape == (2000,)
    values = made.numpy().astype(float)
    assert lowest <= values.min() and values.max() <= highest
    assert values.min() <= lowest + (highest - lowest) * 0.1 and values.max() >= highest - (highest - lowest) * 0.1
    expected = theirs.numpy().astype(float)
    assert expected.min() >= lowest and expected.max() <= highest  # the same intervals in PyTorch


def test_make_tensor_shapes_views_gradients_and_zeros():
    made = chainrule.testing.make_tensor((2, 3), dtype=chainrule.float64, device="cpu", requires_grad=True, noncontiguous=True)
    theirs = torch.testing.make_tensor((2, 3), dtype=torch.float64, device="cpu", requires_grad=True, noncontiguous=True)
    assert made.shape == theirs.shape and made.stride() == theirs.stride() and made.is_contiguous() is False
    assert made.requires_grad and made.is_leaf is theirs.is_leaf
    assert chainrule.testing.make_tensor(2, 3, dtype=chainrule.float32, device="cpu").shape == (2, 3)
    assert chainrule.testing.make_tensor(1, dtype=chainrule.float32, noncontiguous=True, device="cpu").is_contiguous()  # one element: nothing to stride
    nonzero = chainrule.testing.make_tensor(500, dtype=chainrule.int64, low=-1, high=2, exclude_zero=True, device="cpu")
    assert 0 not in nonzero.tolist() and 1 in nonzero.tolist()


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_make_tensor_draws_complex_values_as_pytorch(dtype):
    """Both parts uniform in [low, high), drawn as PyTorch draws them (the same numbers from the same
    seed); gradients allowed (gradgradcheck's default grad_outputs of a complex output)."""
    drawn = []
    for lib in (chainrule, torch):
        lib.manual_seed(3)
        made = lib.testing.make_tensor(2, 3, dtype=getattr(lib, dtype), device="cpu", low=-1, high=1, requires_grad=True)
        drawn.append((made.requires_grad, made.detach().numpy().tolist(), lib.rand(2).tolist()))
    assert drawn[0] == drawn[1]


def test_make_tensor_keeps_complex_bounds_and_low_equal_to_high_warns_for_complex_too():
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        parts = lib.view_as_real(lib.testing.make_tensor(1000, dtype=lib.complex64, device="cpu", low=-0.5, high=0.5))
        assert -0.5 <= parts.min().item() and parts.max().item() < 0.5
        with pytest.warns(FutureWarning, match="for floating or complex types is deprecated"):
            same = lib.testing.make_tensor(3, dtype=lib.complex64, device="cpu", low=1, high=1)
        assert same.tolist() == [1 + 1j] * 3


def test_a_sample_rounding_up_to_the_upper_bound_becomes_the_lower_one_as_in_pytorch():
    """float16 keeps 11 of the 24 random bits: about 1 sample in 4096 rounds up to 1.0, and PyTorch
    gives the lower bound instead (the interval stays half-open); the same numbers as PyTorch's."""
    drawn = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        samples = lib.rand(20000, dtype=lib.float16)
        lib.manual_seed(0)
        ranged = lib.empty(20000, dtype=lib.float16).uniform_(2, 4)
        assert samples.max().item() < 1 and ranged.max().item() < 4
        drawn.append((samples.tolist(), ranged.tolist()))
    assert drawn[0] == drawn[1]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"dtype": "int64", "requires_grad": True}, ValueError, "not supported for boolean and integral"),
        ({"dtype": "float32", "low": 5, "high": 1}, ValueError, "must be less than"),
        ({"dtype": "float32", "low": float("nan")}, ValueError, "cannot be NaN"),
        ({"dtype": "uint8", "low": -5, "high": -1}, ValueError, "only supports"),
    ],
)
def test_make_tensor_refuses_what_pytorch_refuses(kwargs, error, message):
    dtype = kwargs.pop("dtype")
    with pytest.raises(error, match=message):
        torch.testing.make_tensor(3, dtype=getattr(torch, dtype), device="cpu", **kwargs)
    with pytest.raises(error, match=message):
        chainrule.testing.make_tensor(3, dtype=getattr(chainrule, dtype), device="cpu", **kwargs)


def test_assert_allclose_is_the_deprecated_looser_form():
    with pytest.warns(FutureWarning, match="assert_close"):
        chainrule.testing.assert_allclose(chainrule.tensor([1.0, float("nan")]), [1.00005, float("nan")])
    with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="not close"):
        chainrule.testing.assert_allclose(chainrule.tensor([1.0]), [1.001])
    with pytest.warns(FutureWarning):
        chainrule.testing.assert_allclose(chainrule.tensor([1, 2]), chainrule.tensor([1.0, 2.0], dtype=chainrule.float64))
