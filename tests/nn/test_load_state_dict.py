"""load_state_dict is all or nothing: a state dict it refuses leaves the model exactly as it was."""
import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.tensor import tensor_from_array


def model():
    chainrule.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def snapshot(module):
    return {key: value._array.copy() for key, value in module.state_dict().items()}


def assert_unchanged(module, before):
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(value._array, before[key], err_msg=key)


def good_state():
    return {key: value.clone() + 1 for key, value in model().state_dict().items()}


@pytest.mark.parametrize(
    "change, message",
    [  # tensors of complex numbers, strings, dates: chainrule.tensor refuses to make them, made here directly
        (lambda state: state.update({"2.bias": chainrule.zeros(3)}), "size mismatch for 2.bias"),
        (lambda state: state.update({"2.bias": tensor_from_array(np.array([1 + 2j, 3j]))}), "dtype mismatch for 2.bias.*complex128"),
        (lambda state: state.update({"2.bias": tensor_from_array(np.array(["a", "b"]))}), "dtype mismatch for 2.bias"),
        (lambda state: state.update({"2.bias": tensor_from_array(np.array(["2020-01-01"] * 2, dtype="datetime64[D]"))}), "dtype mismatch"),
        (lambda state: state.update({"2.bias": [0.0, 0.0]}), "expected chainrule.Tensor or Tensor-like object from checkpoint but received <class .list.>"),
        (lambda state: state.pop("2.bias"), 'Missing key\\(s\\) in state_dict: "2.bias"'),
        (lambda state: state.update({"extra": chainrule.zeros(1)}), 'Unexpected key\\(s\\) in state_dict: "extra"'),
    ],
)
def test_a_refused_state_dict_changes_nothing(change, message):
    target = model()
    before = snapshot(target)
    state = good_state()
    change(state)
    with pytest.raises(RuntimeError, match=f"(?s){message}.*"):
        target.load_state_dict(state)
    assert_unchanged(target, before)


def test_a_good_state_dict_is_copied_and_converted():
    target = model()
    state = good_state()
    state["2.bias"] = chainrule.tensor([1, 2])  # ints into a float parameter convert, as in PyTorch
    state["1.num_batches_tracked"] = chainrule.tensor(5.0)
    assert str(target.load_state_dict(state)) == "<All keys matched successfully>"
    assert target[2].bias.dtype == chainrule.float32 and target[2].bias.tolist() == [1.0, 2.0]
    assert target[1].num_batches_tracked.dtype == chainrule.int64 and target[1].num_batches_tracked.item() == 5
    np.testing.assert_array_equal(target[0].weight._array, state["0.weight"]._array)
    state["0.weight"]._array += 1
    assert not np.array_equal(target[0].weight._array, state["0.weight"]._array), "the model holds a copy"
