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
]


@pytest.mark.parametrize("actual, expected, options", CASES, ids=[str(i) for i in range(len(CASES))])
def test_assert_close_answers_as_pytorch_does(actual, expected, options):
    ours = outcome(assert_close, both(chainrule, actual), both(chainrule, expected), **options)
    theirs = outcome(torch.testing.assert_close, both(torch, actual), both(torch, expected), **options)
    assert ours == theirs


def test_a_callable_msg_rewrites_the_message():
    with pytest.raises(AssertionError, match="^checked: Tensor-likes are not close!"):
        assert_close(chainrule.tensor([1.0]), chainrule.tensor([2.0]), msg=lambda message: "checked: " + message)
