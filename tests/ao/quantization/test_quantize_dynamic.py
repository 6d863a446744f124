"""quantize_dynamic: PyTorch's outputs to the bit, its printing and its state dict."""
import os

import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def model(library, in_features=32):
    nn = library.nn
    return nn.Sequential(nn.Linear(in_features, 64), nn.ReLU(), nn.Linear(64, 10))


def same_weights(in_features=32):
    theirs = model(torch, in_features)
    ours = model(chainrule, in_features)
    ours.load_state_dict({key: chainrule.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("qconfig", [None, "per_channel_dynamic_qconfig"])
@pytest.mark.parametrize("batch_shape", [(50,), (1,), (3, 7), (0,)])
def test_outputs_are_pytorchs_to_the_bit(qconfig, batch_shape):
    ours, theirs = same_weights()
    if qconfig is None:
        our_spec, their_spec = {chainrule.nn.Linear}, {torch.nn.Linear}
    else:
        our_spec = {chainrule.nn.Linear: getattr(chainrule.ao.quantization, qconfig)}
        their_spec = {torch.nn.Linear: getattr(torch.ao.quantization, qconfig)}
    our_quantized = chainrule.ao.quantization.quantize_dynamic(ours, our_spec, dtype=chainrule.qint8)
    their_quantized = torch.ao.quantization.quantize_dynamic(theirs, their_spec, dtype=torch.qint8)
    x = np.random.default_rng(0).standard_normal((*batch_shape, 32)).astype(np.float32) * 2
    np.testing.assert_array_equal(our_quantized(chainrule.tensor(x)).numpy(), their_quantized(torch.tensor(x)).detach().numpy())
    assert repr(our_quantized) == repr(their_quantized).replace("torch.", "chainrule.")


def test_the_float_model_is_left_as_it_was_and_other_layers_stay_float():
    ours, _ = same_weights()
    ours.add_module("rnn", chainrule.nn.RNN(10, 4))
    quantized = chainrule.quantization.quantize_dynamic(ours, {chainrule.nn.Linear, chainrule.nn.RNN})
    assert type(ours[0]) is chainrule.nn.Linear and not hasattr(ours[0], "qconfig")
    assert type(quantized[0]).__name__ == "Linear" and quantized[0]._get_name() == "DynamicQuantizedLinear"
    assert type(quantized.rnn) is chainrule.nn.RNN  # PyTorch has no dynamically quantized RNN either
    assert not any(hasattr(each, "qconfig") for each in quantized.modules())


@pytest.mark.parametrize("kwargs", [{}, dict(num_layers=2), dict(bidirectional=True),
                                    dict(batch_first=True, num_layers=2, bidirectional=True)], ids=repr)
def test_a_dynamically_quantized_lstm_gives_pytorchs_outputs(kwargs):
    """The word language model of PyTorch's "Dynamic Quantization" tutorial quantizes its LSTM so."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.LSTM(8, 6, **kwargs))
    ours = chainrule.nn.Sequential(chainrule.nn.LSTM(8, 6, **kwargs))
    ours.load_state_dict({key: chainrule.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    our_quantized = chainrule.ao.quantization.quantize_dynamic(ours, {chainrule.nn.LSTM})
    their_quantized = torch.ao.quantization.quantize_dynamic(theirs, {torch.nn.LSTM})
    assert repr(our_quantized) == repr(their_quantized).replace("torch.", "chainrule.")
    x = np.random.default_rng(0).standard_normal((5, 3, 8)).astype(np.float32)
    our_out, (our_h, our_c) = our_quantized(chainrule.tensor(x))
    their_out, (their_h, their_c) = their_quantized(torch.tensor(x))
    for ours_value, theirs_value in [(our_out, their_out), (our_h, their_h), (our_c, their_c)]:
        np.testing.assert_allclose(ours_value.numpy(), theirs_value.detach().numpy(), atol=3e-7)  # σ and tanh: float32 ulps
    with pytest.raises(RuntimeError, match="input must have 3 dimensions, got 2"):
        our_quantized(chainrule.tensor(x[:, 0]))


def test_layers_chosen_by_name():
    ours, theirs = same_weights()
    our_quantized = chainrule.ao.quantization.quantize_dynamic(ours, {"2"})
    their_quantized = torch.ao.quantization.quantize_dynamic(theirs, {"2"})
    assert repr(our_quantized) == repr(their_quantized).replace("torch.", "chainrule.")


def test_the_state_dict_saves_loads_and_is_smaller(tmp_path):
    ours, theirs = same_weights(256)
    quantized = chainrule.ao.quantization.quantize_dynamic(ours, {chainrule.nn.Linear})
    their_keys = list(torch.ao.quantization.quantize_dynamic(theirs, {torch.nn.Linear}).state_dict())
    assert list(quantized.state_dict()) == their_keys
    float_path, quantized_path = tmp_path / "float.pt", tmp_path / "quantized.pt"
    chainrule.save(ours.state_dict(), float_path)
    chainrule.save(quantized.state_dict(), quantized_path)
    assert os.path.getsize(quantized_path) < os.path.getsize(float_path) / 3
    fresh = chainrule.ao.quantization.quantize_dynamic(model(chainrule, 256), {chainrule.nn.Linear})
    fresh.load_state_dict(chainrule.load(quantized_path))
    x = chainrule.randn(4, 256)
    np.testing.assert_array_equal(fresh(x).numpy(), quantized(x).numpy())


def test_a_dtype_without_default_settings_is_refused_and_says_so():
    with pytest.raises(ValueError, match="Don't know how to quantize with default settings"):
        chainrule.ao.quantization.quantize_dynamic(model(chainrule), dtype=chainrule.qint32)


def test_a_single_vector_is_refused_as_pytorch_refuses_it():
    quantized = chainrule.ao.quantization.quantize_dynamic(model(chainrule), {chainrule.nn.Linear})
    with pytest.raises(RuntimeError, match="The dimension of input tensor should be larger than or equal to 2"):
        quantized(chainrule.randn(32))


def test_the_workflow_warns_as_pytorch_that_it_is_deprecated_there():
    with pytest.warns(DeprecationWarning, match="torch.ao.quantization is deprecated"):
        chainrule.ao.quantization.quantize_dynamic(model(chainrule), {chainrule.nn.Linear})
