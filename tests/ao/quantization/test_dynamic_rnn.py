"""Dynamically quantized GRU, LSTM and the recurrent cells, int8 and float16, against PyTorch.

Their products (``W_ih x + b_ih``, ``W_hh h + b_hh``) are PyTorch's to the bit, as the dynamic
Linear's are; σ and tanh are NumPy's, not PyTorch's vectorized ones, so the gates, and the states
after them, can differ in the last bit of float32: outputs are compared within ``ULPS`` (a few
float32 ulps of values below 1), exactly where no σ or tanh is involved (the relu RNNCell).
"""
import numpy as np
import pytest
import torch

import chainrule
from tests.quantized.pytorch_errors import assert_raises_as_pytorch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

ULPS = 3e-7
DTYPES = ["qint8", "float16"]


def same_float_layer(kind, *args, **kwargs):
    """A chainrule and a PyTorch float layer of ``kind`` with the same weights, each in a Sequential."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(getattr(torch.nn, kind)(*args, **kwargs))
    ours = chainrule.nn.Sequential(getattr(chainrule.nn, kind)(*args, **kwargs))
    ours.load_state_dict({key: chainrule.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    return ours, theirs


def quantized_pair(kind, *args, dtype="qint8", **kwargs):
    ours, theirs = same_float_layer(kind, *args, **kwargs)
    our_quantized = chainrule.ao.quantization.quantize_dynamic(ours, dtype=getattr(chainrule, dtype))
    their_quantized = torch.ao.quantization.quantize_dynamic(theirs, dtype=getattr(torch, dtype))
    return our_quantized, their_quantized


def flattened(values):
    if isinstance(values, (tuple, list)):
        return [each for value in values for each in flattened(value)]
    return [values.detach().numpy() if isinstance(values, torch.Tensor) else values.numpy()]


def assert_close_to_pytorchs(ours, theirs, atol=ULPS):
    ours, theirs = flattened(ours), flattened(theirs)
    assert len(ours) == len(theirs)
    for our_value, their_value in zip(ours, theirs):
        assert our_value.shape == their_value.shape
        np.testing.assert_allclose(our_value, their_value, rtol=0, atol=atol)


def data(*shape, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 2).astype(np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, kwargs, with_hx", [
    ("GRU", {}, False),
    ("GRU", dict(num_layers=2, bidirectional=True), True),
    ("GRU", dict(batch_first=True), True),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True), True),
], ids=str)
def test_layers_give_pytorchs_outputs_and_print_as_pytorchs(dtype, kind, kwargs, with_hx):
    our_quantized, their_quantized = quantized_pair(kind, 4, 5, dtype=dtype, **kwargs)
    assert repr(our_quantized) == repr(their_quantized).replace("torch.", "chainrule.")
    x = data(3, 6, 4) if kwargs.get("batch_first") else data(6, 3, 4)
    layers = 2 * kwargs.get("num_layers", 1) if kwargs.get("bidirectional") else kwargs.get("num_layers", 1)
    hx = [data(layers, 3, 5, seed=seed) for seed in (1, 2)][: 2 if kind == "LSTM" else 1] if with_hx else None
    our_hx = None if hx is None else tuple(chainrule.tensor(part) for part in hx)
    their_hx = None if hx is None else tuple(torch.tensor(part) for part in hx)
    if kind == "GRU" and hx is not None:
        our_hx, their_hx = our_hx[0], their_hx[0]
    assert_close_to_pytorchs(our_quantized[0](chainrule.tensor(x), our_hx), their_quantized[0](torch.tensor(x), their_hx))


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_packed_batch_gives_pytorchs_outputs(dtype):
    """A packed batch's shorter sequences drop out of the hidden product's scale, as in PyTorch."""
    our_quantized, their_quantized = quantized_pair("GRU", 4, 5, dtype=dtype, bidirectional=True)
    x, lengths, hx = data(6, 3, 4), [4, 6, 2], data(2, 3, 5, seed=1)
    ours = chainrule.nn.utils.rnn.pack_padded_sequence(chainrule.tensor(x), lengths, enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False)
    (our_output, our_h), (their_output, their_h) = our_quantized[0](ours, chainrule.tensor(hx)), their_quantized[0](theirs, torch.tensor(hx))
    assert_close_to_pytorchs((our_output.data, our_h), (their_output.data, their_h))
    np.testing.assert_array_equal(our_output.batch_sizes.numpy(), their_output.batch_sizes.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, kwargs", [("GRUCell", {}), ("LSTMCell", {}), ("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu"))], ids=str)
@pytest.mark.parametrize("with_hx", [False, True])
def test_cells_give_pytorchs_next_states(dtype, kind, kwargs, with_hx):
    our_quantized, their_quantized = quantized_pair(kind, 4, 5, dtype=dtype, **kwargs)
    assert repr(our_quantized) == repr(their_quantized).replace("torch.", "chainrule.")
    x, h, c = data(3, 4), data(3, 5, seed=1), data(3, 5, seed=2)
    our_hx = their_hx = None
    if with_hx:
        our_hx = (chainrule.tensor(h), chainrule.tensor(c)) if kind == "LSTMCell" else chainrule.tensor(h)
        their_hx = (torch.tensor(h), torch.tensor(c)) if kind == "LSTMCell" else torch.tensor(h)
    exact = kwargs.get("nonlinearity") == "relu"  # no σ or tanh: the products alone, to the bit
    our_next, their_next = our_quantized[0](chainrule.tensor(x), our_hx), their_quantized[0](torch.tensor(x), their_hx)
    assert_close_to_pytorchs(our_next, their_next, atol=0 if exact else ULPS)


@pytest.mark.parametrize("in_features", [3, 300])
def test_a_float16_linear_gives_pytorchs_outputs_to_the_bit(in_features):
    """Weights rounded to float16, the products accumulated in float32 one multiply-add at a time, as FBGEMM."""
    our_quantized, their_quantized = quantized_pair("Linear", in_features, 37, dtype="float16")
    assert repr(our_quantized) == repr(their_quantized).replace("torch.", "chainrule.")
    np.testing.assert_array_equal(our_quantized[0].weight().numpy(), their_quantized[0].weight().numpy())
    x = data(2, 5, in_features) * 100
    np.testing.assert_array_equal(our_quantized(chainrule.tensor(x)).numpy(), their_quantized(torch.tensor(x)).detach().numpy())


def test_a_float16_weight_beyond_its_range_is_clamped_as_pytorchs():
    ours, theirs = same_float_layer("Linear", 3, 2)
    for model in (ours, theirs):
        model[0].weight.data[0, 0] = 1e6
    our_weight = chainrule.ao.quantization.quantize_dynamic(ours, dtype=chainrule.float16)[0].weight()
    their_weight = torch.ao.quantization.quantize_dynamic(theirs, dtype=torch.float16)[0].weight()
    np.testing.assert_array_equal(our_weight.numpy(), their_weight.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_state_dict_has_pytorchs_keys_and_loads_back(dtype, tmp_path):
    ours, theirs = same_float_layer("GRU", 4, 5, num_layers=2)
    ours.add_module("1", chainrule.nn.LSTMCell(5, 3))
    theirs.add_module("1", torch.nn.LSTMCell(5, 3))
    our_quantized = chainrule.ao.quantization.quantize_dynamic(ours, dtype=getattr(chainrule, dtype))
    their_quantized = torch.ao.quantization.quantize_dynamic(theirs, dtype=getattr(torch, dtype))
    assert list(our_quantized.state_dict()) == list(their_quantized.state_dict())
    chainrule.save(our_quantized.state_dict(), tmp_path / "quantized.pt")
    fresh = chainrule.ao.quantization.quantize_dynamic(
        chainrule.nn.Sequential(chainrule.nn.GRU(4, 5, num_layers=2), chainrule.nn.LSTMCell(5, 3)), dtype=getattr(chainrule, dtype)
    )
    fresh.load_state_dict(chainrule.load(tmp_path / "quantized.pt"))
    x = chainrule.tensor(data(6, 3, 4))
    np.testing.assert_array_equal(fresh[0](x)[0].numpy(), our_quantized[0](x)[0].numpy())
    cell_input = chainrule.tensor(data(3, 5))
    np.testing.assert_array_equal(fresh[1](cell_input)[0].numpy(), our_quantized[1](cell_input)[0].numpy())


def test_with_no_spec_the_linear_and_recurrent_layers_are_quantized_and_the_model_evaluates():
    def model(nn):
        return nn.Sequential(nn.Linear(4, 4), nn.LSTM(4, 4), nn.GRU(4, 4), nn.LSTMCell(4, 4), nn.RNNCell(4, 4), nn.GRUCell(4, 4), nn.RNN(4, 4))

    ours = chainrule.ao.quantization.quantize_dynamic(model(chainrule.nn).train(), dtype=chainrule.float16)
    theirs = torch.ao.quantization.quantize_dynamic(model(torch.nn).train(), dtype=torch.float16)
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")
    assert not ours.training
    assert isinstance(chainrule.nn.quantized.dynamic.GRU(4, 4), chainrule.ao.nn.quantized.dynamic.RNNBase)


def bad_calls():
    """(name, call on the quantized module) pairs that PyTorch refuses."""
    return [
        ("GRU", lambda gru, lib: gru(lib.zeros(3, 4))),
        ("GRU", lambda gru, lib: gru(lib.zeros(3, 2, 6))),
        ("GRU", lambda gru, lib: gru(lib.zeros(3, 2, 4), lib.zeros(1, 3, 5))),
        ("GRU", lambda gru, lib: gru(lib.zeros(0, 2, 4))),
        ("LSTM", lambda lstm, lib: lstm(lib.zeros(3, 2, 4), (lib.zeros(1, 2, 5), lib.zeros(1, 3, 5)))),
        ("GRUCell", lambda cell, lib: cell(lib.zeros(4))),
        ("GRUCell", lambda cell, lib: cell(lib.zeros(2, 6))),
        ("RNNCell", lambda cell, lib: cell(lib.zeros(2, 4), lib.zeros(3, 5))),
        ("LSTMCell", lambda cell, lib: cell(lib.zeros(2, 4), (lib.zeros(2, 5), lib.zeros(2, 7)))),
    ]


@pytest.mark.parametrize("kind, call", bad_calls(), ids=lambda value: value if isinstance(value, str) else "")
def test_bad_input_is_refused_as_pytorch_refuses_it(kind, call):
    our_quantized, their_quantized = quantized_pair(kind, 4, 5)
    assert_raises_as_pytorch(lambda: call(our_quantized[0], chainrule), lambda: call(their_quantized[0], torch))


@pytest.mark.parametrize("kind", ["GRU", "GRUCell"])
def test_a_layer_without_biases_is_refused_as_pytorch_refuses_it(kind):
    ours, theirs = same_float_layer(kind, 4, 5, bias=False)
    assert_raises_as_pytorch(
        lambda: chainrule.ao.quantization.quantize_dynamic(ours), lambda: torch.ao.quantization.quantize_dynamic(theirs)
    )


def test_an_unknown_dtype_is_refused_as_pytorch_refuses_it():
    ours, theirs = same_float_layer("GRU", 4, 5)
    assert_raises_as_pytorch(
        lambda: chainrule.ao.quantization.quantize_dynamic(ours, dtype=chainrule.qint32),
        lambda: torch.ao.quantization.quantize_dynamic(theirs, dtype=torch.qint32),
    )
    assert_raises_as_pytorch(
        lambda: chainrule.ao.quantization.quantize_dynamic(ours, {chainrule.nn.GRU}, dtype=chainrule.qint32),
        lambda: torch.ao.quantization.quantize_dynamic(theirs, {torch.nn.GRU}, dtype=torch.qint32),
        words=0,  # PyTorch's message is the tuple of its two parts
    )
    with pytest.raises(RuntimeError, match="Unknown dtype specified for quantize_dynamic: chainrule.qint32"):
        chainrule.ao.quantization.quantize_dynamic(ours, {chainrule.nn.GRU}, dtype=chainrule.qint32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, args, input_shape", [
    ("LSTM", (4, 5, 2), (3, 2, 4)), ("GRU", (4, 5, 1, True, False, 0.0, True), (3, 2, 4)),
    ("GRUCell", (4, 5), (2, 4)), ("LSTMCell", (4, 5), (2, 4)), ("RNNCell", (4, 5), (2, 4)),
], ids=str)
def test_a_layer_built_directly_has_pytorchs_random_weights_and_moves_the_random_stream_as_pytorchs(dtype, kind, args, input_shape):
    """PyTorch's constructor draws random float weights (int8: quantized with scale 0.1 for the
    layers, 1 for the cells): the same weights here, and the draws after it are the same."""
    outputs = []
    for library in (chainrule, torch):
        library.manual_seed(0)
        layer = getattr(library.ao.nn.quantized.dynamic, kind)(*args, dtype=getattr(library, dtype))
        outputs.append((layer(library.randn(*input_shape)), library.randn(3)))
    assert_close_to_pytorchs(*outputs)


def test_quantize_dynamic_draws_from_the_random_stream_as_pytorchs():
    draws = []
    for library in (chainrule, torch):
        library.manual_seed(0)
        model = library.nn.Sequential(library.nn.GRU(4, 5, 2), library.nn.LSTMCell(4, 5), library.nn.Linear(4, 3))
        library.ao.quantization.quantize_dynamic(model)
        draws.append(library.randn(4).numpy())
    np.testing.assert_array_equal(*draws)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_fused_linear_relu_becomes_pytorchs_dynamic_linear_relu_only_when_named(dtype):
    """With no spec, PyTorch leaves a fused LinearReLU float (nor does it convert the Linear inside
    it); named in the spec, it becomes a DynamicQuantizedLinearReLU."""
    models = []
    for library in (torch, chainrule):
        library.manual_seed(0)
        fused = library.ao.nn.intrinsic.LinearReLU(library.nn.Linear(4, 6), library.nn.ReLU())
        models.append(library.nn.Sequential(fused, library.nn.Linear(6, 2)))
    theirs, ours = models
    ours.load_state_dict({key: chainrule.tensor(value.numpy()) for key, value in theirs.state_dict().items()})
    quantize = chainrule.ao.quantization.quantize_dynamic
    by_default = quantize(ours, dtype=getattr(chainrule, dtype))
    assert repr(by_default) == repr(torch.ao.quantization.quantize_dynamic(theirs, dtype=getattr(torch, dtype))).replace("torch.", "chainrule.")
    our_quantized = quantize(ours, {chainrule.ao.nn.intrinsic.LinearReLU}, dtype=getattr(chainrule, dtype))
    their_quantized = torch.ao.quantization.quantize_dynamic(theirs, {torch.ao.nn.intrinsic.LinearReLU}, dtype=getattr(torch, dtype))
    assert repr(our_quantized) == repr(their_quantized).replace("torch.", "chainrule.")
    x = data(5, 4)
    ours_out, theirs_out = our_quantized[0](chainrule.tensor(x)), their_quantized[0](torch.tensor(x))
    assert (ours_out.numpy() == 0).any()
    np.testing.assert_array_equal(ours_out.numpy(), theirs_out.detach().numpy())  # (PyTorch's float16 result requires grad)


def test_quint8_quantizes_the_embeddings_as_pytorchs():
    models = []
    for library in (torch, chainrule):
        library.manual_seed(0)
        models.append(library.nn.Sequential(library.nn.Embedding(10, 4), library.nn.EmbeddingBag(10, 4), library.nn.Linear(4, 2)))
    theirs, ours = models
    ours.load_state_dict({key: chainrule.tensor(value.numpy()) for key, value in theirs.state_dict().items()})
    our_quantized = chainrule.ao.quantization.quantize_dynamic(ours, dtype=chainrule.quint8)
    their_quantized = torch.ao.quantization.quantize_dynamic(theirs, dtype=torch.quint8)
    assert repr(our_quantized) == repr(their_quantized).replace("torch.", "chainrule.")
    indices = [3, 1, 4, 1, 5]
    np.testing.assert_array_equal(
        our_quantized[0](chainrule.tensor(indices)).numpy(), their_quantized[0](torch.tensor(indices)).numpy()
    )
    only_named = chainrule.ao.quantization.quantize_dynamic(ours, {chainrule.nn.Embedding}, dtype=chainrule.quint8)
    assert [type(each).__name__ for each in only_named] == ["Embedding", "EmbeddingBag", "Linear"]
    assert type(only_named[0]).__module__ == "chainrule.ao.nn.quantized.embedding_ops"
