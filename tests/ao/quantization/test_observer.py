"""Observers choose PyTorch's scales and zero points for the same data."""
import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def both(name, **kwargs):
    """The observer ``name`` of chainrule and of PyTorch, each with ``kwargs`` (dtypes and schemes by name)."""
    made = []
    for library in (chainrule, torch):
        arguments = {key: getattr(library, value) if isinstance(value, str) else value for key, value in kwargs.items()}
        made.append(getattr(library.ao.quantization, name)(**arguments))
    return made


def batches(seed, shape=(4, 3, 5)):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape) * rng.uniform(0.1, 5) + rng.uniform(-2, 2)).astype(np.float32) for _ in range(3)]


def assert_same_qparams(ours, theirs, data):
    for batch in data:
        ours(chainrule.tensor(batch))
        theirs(torch.tensor(batch))
    (our_scale, our_zero_point), (their_scale, their_zero_point) = ours.calculate_qparams(), theirs.calculate_qparams()
    np.testing.assert_allclose(our_scale.numpy(), their_scale.numpy(), rtol=2e-7)
    np.testing.assert_array_equal(our_zero_point.numpy(), their_zero_point.numpy())
    assert our_scale.dtype == chainrule.float32 and str(our_zero_point.dtype).split(".")[1] == str(their_zero_point.dtype).split(".")[1]


PER_TENSOR = [
    dict(),
    dict(dtype="qint8", qscheme="per_tensor_symmetric"),
    dict(dtype="qint8", qscheme="per_tensor_affine", reduce_range=True),
    dict(dtype="quint8", qscheme="per_tensor_symmetric"),
    dict(quant_min=0, quant_max=127),
    dict(dtype="qint8", quant_min=-8, quant_max=7),
]


@pytest.mark.parametrize("name", ["MinMaxObserver", "MovingAverageMinMaxObserver", "HistogramObserver"])
@pytest.mark.parametrize("kwargs", PER_TENSOR, ids=repr)
@pytest.mark.parametrize("seed", [0, 1])
def test_per_tensor_observers_choose_pytorchs_parameters(name, kwargs, seed):
    if name == "HistogramObserver" and kwargs.get("quant_min") == -8:
        pytest.skip("PyTorch's histogram assumes the dtype's full range")
    ours, theirs = both(name, **kwargs)
    assert (ours.quant_min, ours.quant_max) == (theirs.quant_min, theirs.quant_max)
    assert_same_qparams(ours, theirs, batches(seed))


@pytest.mark.parametrize("name", ["PerChannelMinMaxObserver", "MovingAveragePerChannelMinMaxObserver"])
@pytest.mark.parametrize("kwargs", [dict(ch_axis=0), dict(ch_axis=1, dtype="qint8", qscheme="per_channel_symmetric"),
                                    dict(ch_axis=2, dtype="qint8", qscheme="per_channel_affine")], ids=repr)
def test_per_channel_observers_choose_pytorchs_parameters(name, kwargs):
    ours, theirs = both(name, **kwargs)
    assert_same_qparams(ours, theirs, batches(3))


def test_float_qparams_observer_gives_float_zero_points_as_pytorch():
    ours, theirs = both("PerChannelMinMaxObserver", qscheme="per_channel_affine_float_qparams", ch_axis=0)
    assert_same_qparams(ours, theirs, batches(4, (6, 4)))


def test_an_observer_that_saw_nothing_warns_and_gives_pytorchs_defaults():
    observer = chainrule.ao.quantization.MinMaxObserver()
    with pytest.warns(UserWarning, match="must run observer before calling calculate_qparams"):
        scale, zero_point = observer.calculate_qparams()
    assert scale.tolist() == [1.0] and zero_point.tolist() == [0]


def test_a_constant_input_gets_the_smallest_scale():
    ours, theirs = both("MinMaxObserver")
    assert_same_qparams(ours, theirs, [np.zeros((3, 3), np.float32)])


def test_observers_print_and_factories_work_as_pytorchs():
    q, tq = chainrule.ao.quantization, torch.ao.quantization
    for ours, theirs in [(q.MinMaxObserver(), tq.MinMaxObserver()), (q.PerChannelMinMaxObserver(), tq.PerChannelMinMaxObserver())]:
        assert repr(ours) == repr(theirs)
    made = q.default_weight_observer()
    assert made.dtype == chainrule.qint8 and made.qscheme is chainrule.per_tensor_symmetric
    assert made is not q.default_weight_observer()


def test_bad_arguments_raise_pytorchs_errors():
    q = chainrule.ao.quantization
    with pytest.raises(NotImplementedError, match="Cannot reduce range for symmetric"):
        q.MinMaxObserver(qscheme=chainrule.per_tensor_symmetric, reduce_range=True)
    with pytest.raises(NotImplementedError, match="PerChannelMinMaxObserver's qscheme only support"):
        q.PerChannelMinMaxObserver(qscheme=chainrule.per_tensor_affine)
    with pytest.raises(AssertionError, match="must include 0"):
        q.MinMaxObserver(quant_min=2, quant_max=10)
