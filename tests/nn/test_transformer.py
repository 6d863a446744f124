"""Transformer layers, stacks and the whole model against torch.nn, from identical weights: outputs,
input and parameter gradients, state dict keys, masks, the causal mask, training a 2-layer encoder
with Adam, and errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import assert_close, error_of, module_pair, normal


def build(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that its nested-tensor fast path is off
        return module_pair(make)


def compare(make, input_shapes, masks=None, training=False):
    """Same output, input gradients and parameter gradients as torch; ``masks``: keyword -> array."""
    ours, theirs = build(make)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    results = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        module.train(training)
        inputs = [lib.tensor(normal(*shape, seed=seed), requires_grad=True) for seed, shape in enumerate(input_shapes)]
        given = {name: lib.tensor(value) for name, value in (masks or {}).items()}
        output = module(*inputs, **given)
        (output * lib.tensor(normal(*output.shape, seed=9))).sum().backward()
        results.append((inputs, output, dict(module.named_parameters())))
    (inputs, output, parameters), (their_inputs, their_output, their_parameters) = results
    assert_close(output, their_output, "output")
    for position, (mine, reference) in enumerate(zip(inputs, their_inputs)):
        assert_close(mine.grad, reference.grad, f"gradient of input {position}")
    for name, parameter in parameters.items():
        assert_close(parameter.grad, their_parameters[name].grad, f"gradient of {name}")


def causal(size):
    return np.triu(np.full((size, size), -np.inf), 1)


PADDING = np.array([[False, False, False, True, True], [False] * 5])
LAYER = dict(d_model=8, nhead=2, dim_feedforward=12, dropout=0.0)

ENCODER_LAYERS = [
    ("relu", dict(LAYER), {}),
    ("gelu_norm_first", dict(LAYER, activation="gelu", norm_first=True), {}),
    ("callable_activation", dict(LAYER, activation=lambda lib: lib.nn.Tanh()), {}),
    ("batch_first_no_bias_eps", dict(LAYER, batch_first=True, bias=False, layer_norm_eps=1e-3), {}),
    ("masks", dict(LAYER), {"src_mask": causal(5), "src_key_padding_mask": PADDING}),
    ("causal_hint", dict(LAYER), {"src_mask": causal(5), "is_causal": True}),
]


def with_library(settings, lib):
    """Settings whose callables ``lambda lib: ...`` are made for ``lib``."""
    return {key: value(lib) if callable(value) and key == "activation" else value for key, value in settings.items()}


def sequence_shape(settings, length, batch=2):
    return (batch, length, settings["d_model"]) if settings.get("batch_first") else (length, batch, settings["d_model"])


def split_flags(masks):
    """Array masks for ``compare`` and plain flags (is_causal) passed through a wrapper."""
    return {k: v for k, v in masks.items() if isinstance(v, np.ndarray)}, {k: v for k, v in masks.items() if not isinstance(v, np.ndarray)}


@pytest.mark.parametrize("settings, masks", [case[1:] for case in ENCODER_LAYERS], ids=[case[0] for case in ENCODER_LAYERS])
@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_encoder_layer_matches_torch(settings, masks, training):
    arrays, flags = split_flags(masks)

    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(**with_library(settings, lib))
        if flags:
            forward = layer.forward
            layer.forward = lambda *args, **kwargs: forward(*args, **kwargs, **flags)
        return layer

    compare(make, [sequence_shape(settings, 5)], arrays, training)


def test_unbatched_encoder_layer_matches_torch():
    compare(lambda lib: lib.nn.TransformerEncoderLayer(**LAYER), [(5, 8)], {"src_mask": causal(5)})


DECODER_LAYERS = [
    ("relu", dict(LAYER), {}),
    ("gelu_norm_first_batch_first", dict(LAYER, activation="gelu", norm_first=True, batch_first=True), {}),
    ("masks", dict(LAYER), {"tgt_mask": causal(4), "memory_mask": np.zeros((4, 5)), "memory_key_padding_mask": PADDING}),
]


@pytest.mark.parametrize("settings, masks", [case[1:] for case in DECODER_LAYERS], ids=[case[0] for case in DECODER_LAYERS])
def test_decoder_layer_matches_torch(settings, masks):
    shapes = [sequence_shape(settings, 4), sequence_shape(settings, 5)]
    compare(lambda lib: lib.nn.TransformerDecoderLayer(**settings), shapes, masks, training=True)


def test_encoder_and_decoder_stacks_match_torch():
    def encoder(lib):
        return lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(**LAYER), 2, lib.nn.LayerNorm(8))

    def decoder(lib):
        return lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(**LAYER), 2)

    compare(encoder, [(5, 2, 8)], {"mask": causal(5), "src_key_padding_mask": PADDING})
    compare(decoder, [(4, 2, 8), (5, 2, 8)], {"tgt_mask": causal(4)})


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch_and_loads_its_checkpoint(batch_first):
    def make(lib):
        return lib.nn.Transformer(8, 2, 2, 1, 12, dropout=0.0, batch_first=batch_first)

    shapes = [(2, 5, 8), (2, 4, 8)] if batch_first else [(5, 2, 8), (4, 2, 8)]
    compare(make, shapes, {"tgt_mask": causal(4), "src_key_padding_mask": PADDING}, training=True)


def test_generate_square_subsequent_mask_matches_torch():
    ours = nn.Transformer.generate_square_subsequent_mask(4)
    assert ours.dtype == chainrule.float32
    assert_close(ours, torch.nn.Transformer.generate_square_subsequent_mask(4), "mask")


def test_stack_layers_start_equal_but_are_separate():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 12), 2)
    first, second = encoder.layers
    assert first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(first.linear1.weight._array, second.linear1.weight._array)


def test_dropout_makes_training_random_and_evaluation_deterministic():
    layer = nn.TransformerEncoderLayer(8, 2, 12, dropout=0.5)
    x = chainrule.randn(5, 2, 8)
    assert not np.allclose(layer(x)._array, layer(x)._array)
    layer.eval()
    np.testing.assert_array_equal(layer(x)._array, layer(x)._array)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-9), ("float32", 1e-5)])
def test_two_layer_encoder_trained_with_adam_matches_torch_losses(dtype, rtol):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        return lib.nn.Sequential(lib.nn.TransformerEncoder(layer, 2), lib.nn.Flatten(), lib.nn.Linear(40, 3))

    ours, theirs = build(make)
    ours.to(getattr(chainrule, dtype))
    theirs.to(getattr(torch, dtype))
    x, y = normal(6, 5, 8).astype(dtype), np.arange(6) % 3
    losses = []
    for lib, model in ((chainrule, ours), (torch, theirs)):
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-2)
        history = []
        for _ in range(5):
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            optimizer.step()
            history.append(loss.item())
        losses.append(history)
    np.testing.assert_allclose(losses[0], losses[1], rtol=rtol)
    assert losses[0][-1] < losses[0][0]


ERRORS = [
    ("unknown_activation", lambda lib: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh")),
    ("batch_mismatch", lambda lib: lib.nn.Transformer(8, 2, 1, 1, 12)(lib.ones(5, 2, 8), lib.ones(4, 3, 8))),
    ("d_model_mismatch", lambda lib: lib.nn.Transformer(8, 2, 1, 1, 12)(lib.ones(5, 2, 6), lib.ones(4, 2, 6))),
]


@pytest.mark.parametrize("call", [case[1] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_errors_match_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = error_of(lambda: call(chainrule)), error_of(lambda: call(torch))
    assert ours is not None and ours == theirs


@pytest.mark.parametrize(
    "padding",
    [[[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 1, 1, 1]], [[1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 1, 1, 1]]],
    ids=["padding_at_the_end", "padding_in_front"],
)
@pytest.mark.parametrize("wants_gradient", [False, True])
def test_encoder_inference_zeroes_padded_positions_as_torch(padding, wants_gradient):
    """PyTorch's nested-tensor inference path (evaluation, no gradient, batch first, padding at the
    end) outputs zeros at padded positions before the final norm; otherwise it computes them."""

    def make(lib):
        return lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 12, batch_first=True), 2, lib.nn.LayerNorm(8))

    ours, theirs = build(make)
    ours.eval()
    theirs.eval()
    x, padding = normal(3, 5, 8), np.array(padding, bool)
    outputs = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        with lib.set_grad_enabled(wants_gradient):
            outputs.append(module(lib.tensor(x), src_key_padding_mask=lib.tensor(padding)))
    assert_close(outputs[0], outputs[1], "output")
