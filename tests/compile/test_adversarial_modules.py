"""chainrule.compile against eager execution for the layers, hooks and habits of real training
code: every convolution, pooling, normalization, embedding, recurrent and attention layer with its
options; module and tensor hooks, gradient clipping, weight tying, frozen parameters and dtype moves
made before the first call or between calls; grad-mode blocks and autocast inside the step; the
course's Runner with ``compile=True`` and DataLoader batches; indexing-heavy losses whose index
tensors change from call to call; reductions to 0-d, empty batches and integer tensors.

Each test runs the same calls twice from the same seed, once eagerly and once compiled, and
compares everything either run leaves behind bit for bit (the harness of
``test_adversarial_replay.py``): results, every ``.grad``, parameters, buffers, optimizer state and
the random stream. Where a step needs something a program cannot repeat, the test pins that it runs
eagerly with exactly one warning; the cases marked ``NEEDLESS`` fall back although nothing in them
needs it (an index array or mask made from the values outside an operation, which a recording
could follow through operations), and would replay once recorded. Arrays made from shapes alone
(replicate padding's positions, adaptive averaging matrices, a 2-d EmbeddingBag's bags) replay.
"""
import contextlib
import types
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from chainrule.train.runner import Runner
from chainrule.utils.data import DataLoader, Dataset, TensorDataset
from tests.compile.test_adversarial_replay import (
    assert_identical,
    assert_replays_as_eager,
    classes,
    normal,
    recordings,
    snapshot,
    state_of,
)

FALLS_BACK = "runs eagerly"  # what the one warning of a function that falls back says


# ----------------------------------------------------------------------------- the harness
def adam(parameters):
    return optim.Adam(parameters, lr=1e-2)


def scalar_loss(output):
    """A loss that reaches every tensor a layer returns (an RNN's (out, (h, c)), attention's
    (out, weights)): the mean of squares of each, plus a sine so the gradient is not linear."""
    if isinstance(output, chainrule.Tensor):
        return (output * output).mean() + output.sin().sum() * 0.1
    return sum(scalar_loss(item) for item in output if item is not None)


def fitting(make_model, make_optimizer=adam, loss=scalar_loss):
    """A setup (see ``run_calls``): a model from ``make_model()`` trained by one optimizer step per
    call on ``loss(model(*inputs))``; the step returns the loss."""

    def setup():
        model = make_model()
        optimizer = make_optimizer(model.parameters())

        def step(*inputs):
            optimizer.zero_grad()
            value = loss(model(*inputs))
            value.backward()
            optimizer.step()
            return value

        return step, model, optimizer

    return setup


def inputs_of(*makers, count=4):
    """Calls whose positional arguments are ``maker(index)`` for each maker."""
    return lambda: [(tuple(make(index) for make in makers), {}) for index in range(count)]


def floats(shape, seed=0, dtype=np.float64, requires_grad=False):
    """A maker of normal tensors of ``shape``, new values on every call."""
    return lambda index: normal(shape, 1000 * seed + index, dtype, requires_grad)


def integers(shape, high, seed=0):
    """A maker of int64 tensors in [0, high), new values on every call."""
    return lambda index: chainrule.tensor(np.random.default_rng(1000 * seed + 500 + index).integers(0, high, size=shape))


def masks(shape, seed=0):
    return lambda index: chainrule.tensor(np.random.default_rng(1000 * seed + 700 + index).random(shape) > 0.5)


def assert_eager_in_both(setup, make_calls, between=None, expect="replays", seed=0):
    """``setup`` run eagerly and compiled over ``make_calls()``, with ``between(index, observed)``
    run before each call (a hook added, a parameter frozen: the same change in both runs), leaves
    the same state behind after every call. ``expect``: "replays" (no warning, and some call was
    a replay), "falls back" (exactly one warning that it runs eagerly) or "either" (at most one
    warning). Returns the compiled function."""
    histories, messages = [], []
    for compiled in (False, True):
        chainrule.manual_seed(seed)
        step, *observed = setup()
        function = chainrule.compile(step) if compiled else step
        history = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for index, (args, kwargs) in enumerate(make_calls()):
                if between is not None:
                    between(index, observed)
                history += [snapshot(function(*args, **kwargs), returned=True), snapshot(args), state_of(*observed)]
        history.append(("random", default_generator.state_bytes()))
        histories.append(history)
        messages = [str(warning.message) for warning in caught if "chainrule.compile" in str(warning.message)]
    assert_identical(histories[0], histories[1])
    if expect == "replays":
        assert not messages, messages
        assert recordings(function) < len(make_calls()), "no call was replayed: nothing was tested"
    elif expect == "falls back":
        assert len(messages) == 1 and FALLS_BACK in messages[0], messages
    else:
        assert len(messages) <= 1, messages
    return function


def check(setup, make_calls, falls_back):
    """Replays as eager, or (``falls_back``) runs eagerly with one warning and eager values."""
    if falls_back:
        assert_replays_as_eager(setup, make_calls, warns=FALLS_BACK)
    else:
        assert_replays_as_eager(setup, make_calls)


# ----------------------------------------------------------------------------- layers
# name -> (the model, the input's shape, whether it falls back). NEEDLESS: a fallback nothing needs.
NEEDLESS = True
LAYERS = {
    "conv1d stride padding dilation": (lambda: nn.Conv1d(2, 4, 3, stride=2, padding=2, dilation=2), (3, 2, 9), False),
    "conv1d reflect": (lambda: nn.Conv1d(2, 4, 3, padding=1, padding_mode="reflect"), (3, 2, 6), False),
    "conv1d circular": (lambda: nn.Conv1d(2, 4, 3, padding=1, padding_mode="circular"), (3, 2, 6), False),
    "conv1d padding same even kernel": (lambda: nn.Conv1d(2, 4, 4, padding="same"), (3, 2, 6), False),
    "conv2d groups stride dilation no bias": (
        lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), dilation=(1, 2), groups=2, bias=False), (2, 4, 7, 6), False
    ),
    "conv2d depthwise padding valid": (lambda: nn.Conv2d(3, 6, 2, groups=3, padding="valid"), (2, 3, 4, 4), False),
    # the replicated positions are an index made from the shape alone: a constant of the program
    "conv2d replicate": (lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2, padding_mode="replicate"), (2, 4, 5, 5), False),
    "conv3d": (lambda: nn.Conv3d(2, 2, 2, padding=1), (2, 2, 3, 3, 3), False),
    "conv_transpose1d groups dilation": (lambda: nn.ConvTranspose1d(4, 4, 3, stride=2, groups=2, dilation=2), (2, 4, 4), False),
    "conv_transpose2d output_padding": (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), (2, 2, 3, 3), False),
    "conv_transpose3d": (lambda: nn.ConvTranspose3d(2, 2, 2, stride=2), (1, 2, 2, 2, 2), False),
    "max_pool1d dilation": (lambda: nn.Sequential(nn.Conv1d(1, 2, 1), nn.MaxPool1d(2, dilation=2)), (2, 1, 8), False),
    "max_pool2d ceil_mode padding": (
        lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)), (2, 1, 6, 6), False
    ),
    "max_pool3d": (lambda: nn.Sequential(nn.Conv3d(1, 2, 1), nn.MaxPool3d(2)), (2, 1, 4, 4, 4), False),
    "avg_pool2d count_include_pad False": (
        lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)), (2, 1, 6, 6), False
    ),
    "adaptive_avg_pool2d dividing": (lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d(2)), (2, 1, 4, 4), False),
    # the averaging matrices of windows that do not tile come from the shape alone: constants
    "adaptive_avg_pool2d not dividing": (lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d((2, 3))), (2, 1, 5, 7), False),
    "adaptive_avg_pool1d not dividing": (lambda: nn.Sequential(nn.Conv1d(1, 2, 1), nn.AdaptiveAvgPool1d(2)), (2, 1, 5), False),
    "adaptive_max_pool2d not dividing": (lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveMaxPool2d(2)), (2, 1, 5, 5), False),
    "batch_norm1d": (lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), (5, 3), False),
    # momentum=None averages with 1 / num_batches_tracked, computed in the program from the buffer
    "batch_norm1d momentum None": (lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=None)), (5, 3), False),
    "batch_norm2d momentum None": (lambda: nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, momentum=None)), (2, 2, 3, 3), False),
    "batch_norm1d without affine or running stats": (
        lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, affine=False, track_running_stats=False)), (5, 3), False
    ),
    "group_norm": (lambda: nn.Sequential(nn.Conv2d(2, 4, 1), nn.GroupNorm(2, 4)), (2, 2, 3, 3), False),
    "instance_norm2d affine tracking": (
        lambda: nn.Sequential(nn.Conv2d(2, 4, 1), nn.InstanceNorm2d(4, affine=True, track_running_stats=True)), (2, 2, 3, 3), False
    ),
    "instance_norm1d": (lambda: nn.Sequential(nn.Conv1d(2, 4, 1), nn.InstanceNorm1d(4)), (2, 2, 5), False),
    "layer_norm over two dimensions without bias": (
        lambda: nn.Sequential(nn.Linear(3, 6), nn.Unflatten(1, (2, 3)), nn.LayerNorm((2, 3), bias=False), nn.Flatten()), (4, 3), False
    ),
    "pixel_shuffle and unshuffle": (lambda: nn.Sequential(nn.Conv2d(1, 4, 1), nn.PixelShuffle(2), nn.PixelUnshuffle(2)), (2, 1, 2, 2), False),
    "channel_shuffle": (lambda: nn.Sequential(nn.Conv2d(1, 4, 1), nn.ChannelShuffle(2)), (2, 1, 2, 2), False),
    "upsample nearest": (lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.Upsample(scale_factor=2)), (2, 1, 2, 3), False),
    "upsample bilinear align_corners": (
        lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.Upsample(size=(3, 5), mode="bilinear", align_corners=True)), (2, 1, 2, 3), False
    ),
    "upsample bicubic fractional": (lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.Upsample(scale_factor=1.5, mode="bicubic")), (2, 1, 2, 4), False),
    "dropout1d": (lambda: nn.Sequential(nn.Conv1d(1, 3, 1), nn.Dropout1d(0.5)), (2, 1, 4), False),
    "dropout2d": (lambda: nn.Sequential(nn.Conv2d(1, 3, 1), nn.Dropout2d(0.5)), (2, 1, 2, 2), False),
    "alpha_dropout": (lambda: nn.Sequential(nn.Linear(3, 4), nn.AlphaDropout(0.3)), (5, 3), False),
    "feature_alpha_dropout": (lambda: nn.Sequential(nn.Conv2d(1, 3, 1), nn.FeatureAlphaDropout(0.3)), (2, 1, 2, 2), False),
    "flatten and unflatten": (lambda: nn.Sequential(nn.Linear(4, 6), nn.Unflatten(2, (2, 3)), nn.Flatten(0, 1)), (2, 3, 4), False),
}


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_with_its_options_trains_as_eager(name):
    """Each layer, with the options that change its arithmetic (stride, padding modes, dilation,
    groups, ceil_mode, running statistics, dropout's random masks), trains in float64 to the
    eager parameters, buffers, optimizer state and random stream over four calls with new inputs."""
    make_layer, shape, falls_back = LAYERS[name]
    check(fitting(lambda: make_layer().double()), inputs_of(floats(shape)), falls_back)


TOKEN_LAYERS = {
    "embedding padding_idx": (lambda: nn.Embedding(7, 3, padding_idx=0), False),
    "embedding scale_grad_by_freq": (lambda: nn.Embedding(7, 3, scale_grad_by_freq=True), False),
    # max_norm renormalizes the looked-up rows of the weight in place (a copy_ under no_grad)
    "embedding max_norm": (lambda: nn.Embedding(7, 3, max_norm=0.5), False),
    # a 2-d input's bags are its rows: their positions come from its shape alone
    "embedding_bag mean": (lambda: nn.EmbeddingBag(7, 3, mode="mean"), False),
    "embedding_bag max": (lambda: nn.EmbeddingBag(7, 3, mode="max"), False),
    # which entries are padding depends on the token ids: that mask is computed again on each call
    "embedding_bag sum padding_idx": (lambda: nn.EmbeddingBag(7, 3, mode="sum", padding_idx=0), False),
}


@pytest.mark.parametrize("name", TOKEN_LAYERS)
def test_embeddings_looking_up_new_tokens_on_every_call_train_as_eager(name):
    """Embeddings and embedding bags fed new token ids on every call (repeated ids, the padding id
    among them) give the eager weight gradients and updates."""
    make_layer, falls_back = TOKEN_LAYERS[name]
    check(fitting(lambda: make_layer().double()), inputs_of(integers((4, 5), 7)), falls_back)


# ----------------------------------------------------------------------------- recurrent layers
RECURRENT = {
    "lstm two layers bidirectional batch_first": (lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True), (2, 5, 3)),
    "lstm with dropout between layers": (lambda: nn.LSTM(3, 4, num_layers=2, dropout=0.5), (5, 2, 3)),
    "lstm proj_size": (lambda: nn.LSTM(3, 4, proj_size=2, batch_first=True), (2, 5, 3)),
    "lstm unbatched": (lambda: nn.LSTM(3, 4), (5, 3)),
    "gru two layers": (lambda: nn.GRU(3, 4, num_layers=2), (5, 2, 3)),
    "rnn relu bidirectional": (lambda: nn.RNN(3, 4, nonlinearity="relu", bidirectional=True), (5, 2, 3)),
}


@pytest.mark.parametrize("name", RECURRENT)
def test_recurrent_layers_without_an_initial_state_train_as_eager(name):
    """LSTM, GRU and RNN in their layouts (batch_first, bidirectional, two layers, dropout
    between layers, projections, unbatched) train as eager: the output and final states both
    reach the loss."""
    make_layer, shape = RECURRENT[name]
    assert_replays_as_eager(fitting(lambda: make_layer().double()), inputs_of(floats(shape)))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_recurrent_layers_given_an_initial_state_that_needs_its_gradient_train_as_eager(kind):
    """An initial state passed as an argument (a new one, requiring grad, on every call): the
    layer's parameters and the state's own ``.grad`` are eager's."""
    shape = (4, 2, 4)

    def make_layer():
        layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True) if kind == "lstm" else nn.GRU(3, 4, num_layers=2, bidirectional=True)
        return layer.double()

    def initial_state(index):
        first = normal(shape, 50 + index, requires_grad=True)
        return (first, normal(shape, 60 + index, requires_grad=True)) if kind == "lstm" else first

    assert_replays_as_eager(fitting(make_layer), inputs_of(floats((5, 2, 3)), initial_state))


# ----------------------------------------------------------------------------- attention
CAUSAL = np.triu(np.ones((5, 5), dtype=bool), 1)


class Attending(nn.Module):
    """``attend(self, x)`` around the attention layers in ``layers``; masks kept as tensors of the
    module (not buffers), as a user's module often keeps them."""

    def __init__(self, attend, *layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.attend = attend
        self.causal = chainrule.tensor(CAUSAL)
        self.additive = chainrule.tensor(np.where(CAUSAL, -1e9, 0.0))
        self.padding = chainrule.tensor(np.array([[False] * 4 + [True], [False] * 5]))

    def forward(self, x):
        return self.attend(self, x)


ATTENTION = {
    "mha bool attn_mask and key_padding_mask": (
        lambda s, x: s.layers[0](x, x, x, attn_mask=s.causal, key_padding_mask=s.padding), lambda: [nn.MultiheadAttention(4, 2, batch_first=True)], False
    ),
    "mha additive mask, no weights": (
        lambda s, x: s.layers[0](x, x, x, attn_mask=s.additive, need_weights=False), lambda: [nn.MultiheadAttention(4, 2, batch_first=True)], False
    ),
    "mha dropout bias_kv zero_attn per-head weights": (
        lambda s, x: s.layers[0](x, x, x, average_attn_weights=False),
        lambda: [nn.MultiheadAttention(4, 2, dropout=0.3, batch_first=True, add_bias_kv=True, add_zero_attn=True)], False,
    ),
    "mha is_causal": (lambda s, x: s.layers[0](x, x, x, attn_mask=s.causal, is_causal=True), lambda: [nn.MultiheadAttention(4, 2, batch_first=True)], False),
    "transformer encoder layer with dropout": (
        lambda s, x: s.layers[0](x), lambda: [nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.1, batch_first=True)], False
    ),
    "transformer encoder layer norm_first gelu with masks": (
        lambda s, x: s.layers[0](x, src_mask=s.causal, src_key_padding_mask=s.padding),
        lambda: [nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.2, activation="gelu", norm_first=True, batch_first=True)],
        False,
    ),
    "transformer encoder two layers causal": (
        lambda s, x: s.layers[0](x, mask=s.additive, is_causal=True),
        lambda: [nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, batch_first=True), 2)], False,
    ),
    "sdpa is_causal with dropout": (
        lambda s, x: F.scaled_dot_product_attention(s.layers[0](x), x, x, is_causal=True, dropout_p=0.3), lambda: [nn.Linear(4, 4)], False
    ),
    "sdpa additive mask and scale": (
        lambda s, x: F.scaled_dot_product_attention(s.layers[0](x), x, x, attn_mask=s.additive, scale=0.3), lambda: [nn.Linear(4, 4)], False
    ),
    "sdpa bool mask grouped query attention": (
        lambda s, x: F.scaled_dot_product_attention(
            s.layers[0](x).unsqueeze(1).expand(2, 2, 5, 4), x.unsqueeze(1), x.unsqueeze(1), attn_mask=s.causal, enable_gqa=True
        ),
        lambda: [nn.Linear(4, 4)], False,
    ),
}


@pytest.mark.parametrize("name", ATTENTION)
def test_attention_with_masks_and_dropout_trains_as_eager(name):
    """MultiheadAttention with boolean, additive and key-padding masks, is_causal, bias_kv and
    zero_attn; Transformer encoder layers (norm_first, gelu, dropout); scaled_dot_product_attention
    with is_causal and dropout in training: eager's values, gradients and random stream."""
    attend, make_layers, falls_back = ATTENTION[name]
    check(fitting(lambda: Attending(attend, *make_layers()).double()), inputs_of(floats((2, 5, 4))), falls_back)


# ----------------------------------------------------------------------------- padding and resampling
FUNCTIONAL = {
    "pad reflect 2d": (lambda y: F.pad(y.unsqueeze(1), (1, 2, 2, 1), mode="reflect"), False),
    "pad circular": (lambda y: F.pad(y.unsqueeze(1), (1, 2, 1, 1), mode="circular"), False),
    "pad constant with a crop": (lambda y: F.pad(y, (-1, 2, 1, 0), value=1.5), False),
    "pad replicate": (lambda y: F.pad(y, (1, 2), mode="replicate"), False),  # index array from the shape: a constant
    "interpolate linear": (lambda y: F.interpolate(y, size=7, mode="linear"), False),
    "interpolate nearest-exact": (lambda y: F.interpolate(y.unsqueeze(1), scale_factor=1.7, mode="nearest-exact"), False),
    "interpolate trilinear recompute_scale_factor": (
        lambda y: F.interpolate(y.reshape(1, 1, 2, 5, 4), scale_factor=2, mode="trilinear", recompute_scale_factor=True), False
    ),
    "interpolate area": (lambda y: F.interpolate(y.unsqueeze(1), size=(3, 3), mode="area"), False),  # averaging matrices: constants
    "pixel_shuffle": (lambda y: F.pixel_shuffle(y.reshape(2, 4, 5, 1), 2), False),
}


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_padding_and_resampling_functions_train_as_eager(name):
    """F.pad in each mode (with a negative amount that crops) and F.interpolate in each mode,
    applied to a linear layer's output: eager gradients and updates."""
    function, falls_back = FUNCTIONAL[name]
    setup = fitting(lambda: Attending(lambda s, x: function(s.layers[0](x)), nn.Linear(4, 4)).double())
    check(setup, inputs_of(floats((2, 5, 4))), falls_back)


# ----------------------------------------------------------------------------- hooks and changes between calls
def mlp():
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()


def regression(count=5):
    return inputs_of(floats((4, 3)), floats((4, 2), seed=1), count=count)


def training(make_model=mlp, after_backward=None, make_optimizer=adam):
    """zero_grad, mse loss, backward, ``after_backward(model)`` (clipping), step; the loss."""

    def setup():
        model = make_model()
        optimizer = make_optimizer(model.parameters())

        def step(inputs, targets):
            optimizer.zero_grad()
            loss = F.mse_loss(model(inputs), targets)
            loss.backward()
            if after_backward is not None:
                after_backward(model)
            optimizer.step()
            return loss

        return step, model, optimizer

    return setup


def at_call(number, change):
    """``between`` that makes ``change(model, optimizer)`` before call ``number``."""

    def between(index, observed):
        if index == number:
            change(*observed)

    return between


def halve_gradient(parameter):
    parameter.grad.mul_(0.5)


HOOK_CHANGES = {
    "forward pre and post hooks before the first call": (
        at_call(0, lambda model, _: (
            model[0].register_forward_pre_hook(lambda module, inputs: (inputs[0] * 2,)),
            model[2].register_forward_hook(lambda module, inputs, output: output + 1),
        )),
        "replays",
    ),
    "forward hooks added between calls": (
        at_call(2, lambda model, _: (
            model[0].register_forward_pre_hook(lambda module, inputs: (inputs[0] * 2,)),
            model[2].register_forward_hook(lambda module, inputs, output: output + 1),
        )),
        "replays",
    ),
    "full backward hook added between calls": (
        at_call(2, lambda model, _: model[2].register_full_backward_hook(lambda module, grad_in, grad_out: (grad_in[0] * 0.5,))),
        "replays",
    ),
    "full backward pre hook added between calls": (
        at_call(2, lambda model, _: model[2].register_full_backward_pre_hook(lambda module, grad_out: (grad_out[0] * 3,))),
        "replays",
    ),
    "a parameter's tensor hook added between calls": (
        at_call(2, lambda model, _: model[0].weight.register_hook(lambda grad: grad * 10)),
        "falls back",
    ),
    "a post-accumulate-grad hook added between calls": (
        at_call(2, lambda model, _: model[0].weight.register_post_accumulate_grad_hook(halve_gradient)),
        "falls back",
    ),
    "a parameter frozen, then thawed": (
        lambda index, observed: observed[0][0].weight.requires_grad_(index not in (2, 3)),
        "replays",
    ),
    "train, eval and train again with batch norm and dropout": (
        lambda index, observed: observed[0].train(index % 2 == 0),
        "replays",
    ),
}


@pytest.mark.parametrize("name", HOOK_CHANGES)
def test_hooks_and_changes_made_between_calls_are_honoured(name):
    """Module hooks (forward pre/post, full backward, full backward pre) registered before the
    first call or between calls, tensor hooks on parameters, parameters frozen with
    requires_grad_(False) and thawed, and train/eval switches: each call computes as eager, either
    by a new recording or by running eagerly with one warning."""
    between, expect = HOOK_CHANGES[name]
    make_model = mlp
    if "batch norm" in name:
        make_model = lambda: nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Dropout(0.3), nn.Linear(5, 2)).double()  # noqa: E731
    assert_eager_in_both(training(make_model), regression(6), between, expect)


def test_a_forward_hook_added_then_removed_records_each_set_of_hooks():
    """A hook added before call 1 and removed (by its handle) before call 3: calls 3 and 4 compute
    without it again, as eager."""
    handles = []

    def between(index, observed):
        if index == 1:
            handles.append(observed[0][2].register_forward_hook(lambda module, inputs, output: output * 3))
        if index == 3:
            handles.pop().remove()

    assert_eager_in_both(training(), regression(6), between)


CLIPPING = {
    "clip_grad_norm_": lambda model: nn.utils.clip_grad_norm_(model.parameters(), 0.1),
    "clip_grad_norm_ infinity norm": lambda model: nn.utils.clip_grad_norm_(model.parameters(), 0.1, norm_type=float("inf")),
    "clip_grad_norm_ 1-norm foreach": lambda model: nn.utils.clip_grad_norm_(model.parameters(), 0.2, norm_type=1.0, foreach=True),
    "clip_grad_value_": lambda model: nn.utils.clip_grad_value_(model.parameters(), 0.05),
}


@pytest.mark.parametrize("name", CLIPPING)
def test_gradient_clipping_inside_the_step_is_eager(name):
    """Clipping by norm (2, infinity, 1) and by value between backward and step: the clipped
    gradients and the updates are eager's, for gradients that do and do not reach the limit."""
    assert_eager_in_both(training(after_backward=CLIPPING[name]), regression())


def test_clipping_that_checks_for_non_finite_norms_replays():
    """error_if_nonfinite=True checks the norm in the program on each call: eager values, no warning."""
    clip = lambda model: nn.utils.clip_grad_norm_(model.parameters(), 0.1, error_if_nonfinite=True)  # noqa: E731
    assert_eager_in_both(training(after_backward=clip), regression(), expect="replays")


class TiedLanguageModel(nn.Module):
    """An embedding and an output layer sharing one weight (Press & Wolf's weight tying)."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(7, 4)
        self.out = nn.Linear(4, 7, bias=False)
        self.out.weight = self.embed.weight

    def forward(self, tokens, targets):
        logits = self.out(self.embed(tokens).tanh())
        return F.cross_entropy(logits.reshape(-1, 7), targets.reshape(-1))


def test_a_weight_tied_between_two_modules_gets_both_gradients_then_is_untied():
    """One Parameter used by an embedding and a linear layer gets both gradients summed as eager;
    untied between calls (a new Parameter for the output, given to the optimizer) records anew."""

    def untie(index, observed):
        model, optimizer = observed
        if index == 2:
            model.out.weight = nn.Parameter(model.embed.weight.detach().clone())
            optimizer.add_param_group({"params": [model.out.weight]})

    setup = fitting(lambda: TiedLanguageModel().double(), loss=lambda loss: loss)
    assert_eager_in_both(setup, inputs_of(integers((3, 4), 7), integers((3, 4), 7, seed=1), count=5), untie)


def test_a_model_moved_to_float32_between_calls_records_anew():
    """``model.float()`` between calls (with float32 batches from then on): the float32 calls
    compute in float32, as eager, never with the float64 recording."""

    def calls():
        return [
            ((normal((4, 3), i, np.float32 if i >= 2 else np.float64), normal((4, 2), 9 + i, np.float32 if i >= 2 else np.float64)), {})
            for i in range(5)
        ]

    assert_eager_in_both(training(), calls, at_call(2, lambda model, _: model.float()))


def changes(*steps):
    """``between`` that applies ``steps[index](model)`` before call ``index`` (None: no change)."""

    def between(index, observed):
        if index < len(steps) and steps[index] is not None:
            steps[index](observed[0])

    return between


MODULE_SETTINGS = {
    "leaky relu slope and dropout p": (
        lambda: nn.Sequential(nn.Linear(3, 5), nn.LeakyReLU(0.1), nn.Dropout(0.2), nn.Linear(5, 2)).double(),
        changes(None, None, lambda m: setattr(m[1], "negative_slope", 0.3), lambda m: setattr(m[2], "p", 0.6)),
    ),
    "layer norm eps and batch norm momentum": (
        lambda: nn.Sequential(nn.Linear(3, 5), nn.LayerNorm(5), nn.BatchNorm1d(5), nn.Linear(5, 2)).double(),
        changes(None, None, lambda m: setattr(m[1], "eps", 0.5), lambda m: setattr(m[2], "momentum", 0.5)),
    ),
    "batch norm running statistics changed in eval": (
        lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double().eval(),
        changes(
            None,
            lambda m: m[1].running_mean.add_(1.0),
            lambda m: m[1].reset_running_stats(),
            lambda m: m[1].running_var.fill_(4.0),
            lambda m: setattr(m[1], "running_mean", chainrule.ones(4, dtype=chainrule.float64)),
        ),
    ),
    "parameters overwritten through .data, .array and copy_": (
        mlp,
        changes(
            None,
            None,
            lambda m: setattr(m[0].weight, "data", chainrule.ones(5, 3, dtype=chainrule.float64)),
            lambda m: m[0].weight._array.__setitem__(Ellipsis, 0.5),
            lambda m: m[2].bias.detach().copy_(chainrule.tensor([1.0, -1.0])),
        ),
    ),
}


@pytest.mark.parametrize("name", MODULE_SETTINGS)
def test_module_settings_buffers_and_parameter_values_changed_between_calls_are_read(name):
    """A layer's numbers (slope, dropout p, eps, momentum) changed between calls record anew; a
    batch norm's running statistics changed in place or replaced in eval mode, and parameter
    values overwritten in place, are read by the next replay."""
    make_model, between = MODULE_SETTINGS[name]
    assert_eager_in_both(training(make_model), regression(6), between)


# ----------------------------------------------------------------------------- grad modes and autocast
def test_no_grad_enable_grad_and_inference_mode_nested_inside_the_step_are_eager():
    """enable_grad inside no_grad, inference_mode inside no_grad and set_grad_enabled(False): the
    values made under each join the loss as eager (only the enable_grad one carries a gradient)."""

    def setup():
        model = mlp()
        optimizer = adam(model.parameters())

        def step(inputs, targets):
            optimizer.zero_grad()
            with chainrule.no_grad():
                frozen = model(inputs)
                with chainrule.enable_grad():
                    penalty = model(inputs).pow(2).mean()
                with chainrule.inference_mode():
                    inferred = model(inputs) * 2
            with chainrule.set_grad_enabled(False):
                plain = model(inputs)
            loss = F.mse_loss(model(inputs), targets + (frozen + inferred + plain) * 0.1) + penalty
            loss.backward()
            optimizer.step()
            return loss, frozen, inferred

        return step, model, optimizer

    assert_eager_in_both(setup, regression(4))


def test_a_step_called_under_no_grad_or_inference_mode_between_training_calls_is_eager():
    """The caller's grad mode is part of the guard: calls under no_grad and inference_mode (no
    backward) and plain calls (backward) interleave, each computing as eager."""
    modes = [None, chainrule.no_grad, chainrule.inference_mode, None, chainrule.inference_mode, chainrule.no_grad]

    def setup():
        model = mlp()

        def step(inputs, targets):
            loss = F.mse_loss(model(inputs), targets)
            if loss.requires_grad:
                loss.backward()
            return loss

        return step, model

    histories = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        step, model = setup()
        function = chainrule.compile(step) if compiled else step
        history = []
        for mode, (args, _) in zip(modes, regression(len(modes))()):
            with mode() if mode is not None else contextlib.nullcontext():
                result = function(*args)
            history += [snapshot(result, returned=True), state_of(model)]
        histories.append(history)
    assert_identical(histories[0], histories[1])


def test_autocast_and_a_grad_scaler_inside_the_step_are_eager():
    """autocast("cpu") around the forward, GradScaler's scale, step and update (disabled without
    CUDA, as PyTorch): replays as eager."""

    def setup():
        model = mlp()
        optimizer = adam(model.parameters())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "GradScaler is enabled, but CUDA is not available"
            scaler = chainrule.amp.GradScaler()

        def step(inputs, targets):
            optimizer.zero_grad()
            with chainrule.autocast("cpu"):
                loss = F.mse_loss(model(inputs), targets)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            return loss

        return step, model, optimizer

    assert_eager_in_both(setup, regression(4))


# ----------------------------------------------------------------------------- Runner and DataLoader
def test_the_runner_with_compile_trains_and_evaluates_as_eager_over_shuffled_batches_with_a_short_last_one():
    """Runner(compile=True) over a shuffled DataLoader of 10 samples in batches of 4 (the last
    one of 2: a second recording), a model with batch norm and dropout, evaluated each epoch:
    step losses, dev losses, the model, the optimizer and the random stream are eager's."""
    inputs, labels = normal((10, 3), 1), classes(10, 2, 3)
    results = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.2), nn.Linear(5, 3)).double()
        optimizer = adam(model.parameters())
        runner = Runner(model, optimizer, nn.CrossEntropyLoss(), compile=compiled)
        train_data = DataLoader(TensorDataset(inputs, labels), batch_size=4, shuffle=True, drop_last=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runner.train(train_data, dev_data=DataLoader(TensorDataset(inputs, labels), batch_size=3), num_epochs=3, log_steps=0)
        assert not [str(warning.message) for warning in caught if "chainrule.compile" in str(warning.message)]
        results.append(snapshot([
            runner.train_step_losses, runner.dev_losses, list(model.state_dict().values()), state_of(optimizer),
            default_generator.state_bytes(),
        ]))
    assert_identical(results[0], results[1])
    assert recordings(runner._forward_backward_step) == 2


class Records(Dataset):
    """Seven records as dicts: features, targets and a Python weight the collate makes a tensor."""

    def __init__(self):
        self.features, self.targets = normal((7, 3), 3), normal((7, 2), 4)

    def __len__(self):
        return 7

    def __getitem__(self, index):
        return {"x": self.features[index], "y": self.targets[index], "weight": 0.5 + index}


def test_dict_and_tuple_batches_of_a_shuffled_data_loader_with_a_short_last_batch_replay_as_eager():
    """Batches straight from DataLoaders, as dicts (one argument) and as tuples (two), shuffled,
    batch_size 3 over 7 samples (the last of 1): each size records once and replays after."""

    def dict_step(model, optimizer):
        def step(batch):
            optimizer.zero_grad()
            per_sample = F.mse_loss(model(batch["x"]), batch["y"], reduction="none").mean(1)
            loss = (per_sample * batch["weight"]).sum()
            loss.backward()
            optimizer.step()
            return loss

        return step

    def dict_setup():
        model = mlp()
        optimizer = adam(model.parameters())
        return dict_step(model, optimizer), model, optimizer

    def dict_batches():
        chainrule.manual_seed(5)
        return [((batch,), {}) for _ in range(2) for batch in DataLoader(Records(), batch_size=3, shuffle=True)]

    def tuple_batches():
        chainrule.manual_seed(5)
        data = TensorDataset(normal((7, 3), 3), normal((7, 2), 4))
        return [(tuple(batch), {}) for _ in range(2) for batch in DataLoader(data, batch_size=3, shuffle=True)]

    assert recordings(assert_replays_as_eager(dict_setup, dict_batches)) == 2
    assert recordings(assert_replays_as_eager(training(), tuple_batches)) == 2


# ----------------------------------------------------------------------------- indexing
def backward_of_squares(output):
    (output * output).sum().backward()
    return output


INDEXING = {
    "gather": (lambda x, index, source, mask: x.gather(1, index), False),
    "index_select": (lambda x, index, source, mask: x.index_select(1, index[0]), False),
    "x[index] advanced": (lambda x, index, source, mask: x[index[:, 0], 1:][:, index[0, :1]], False),
    "index_put_ accumulate with repeated indices": (
        lambda x, index, source, mask: (x * 1.0).index_put_((index[:, 0],), source[:, :1].expand(3, 4), accumulate=True), False
    ),
    "x[index] = value with repeated indices": (lambda x, index, source, mask: put(x, (index[:, 0],), source[:, 1:2]), False),
    "x[i, j] = 0-d value": (lambda x, index, source, mask: put(x, (index[:, 0], index[:, 1]), source[0, 0]), False),
    "where with Python scalars": (lambda x, index, source, mask: chainrule.where(mask, x, 0.5) + chainrule.where(x > 0, 1.0, x * 2), False),
    "masked_fill with a 0-d tensor": (lambda x, index, source, mask: x.masked_fill(mask, source[0, 0]), False),
    "cumsum and cumprod": (lambda x, index, source, mask: x.cumsum(1) + x.cumprod(0), False),
    "argmax max median in the loss": (
        lambda x, index, source, mask: x.gather(1, x.argmax(1, keepdim=True)) * x.max() + x.max(0).values.sum() + x.median(), False
    ),
    "scatter": (lambda x, index, source, mask: x.scatter(1, index, source), False),
    "scatter_add with repeated indices": (lambda x, index, source, mask: x.scatter_add(1, index, source), False),
    "index_add": (lambda x, index, source, mask: x.index_add(1, index[0], source, alpha=2.0), False),
    "take_along_dim": (lambda x, index, source, mask: chainrule.take_along_dim(x, index, 1), False),
    "sort and topk": (lambda x, index, source, mask: x.sort(1, descending=True).values + x.topk(4, 1).values, False),
    "kthvalue": (lambda x, index, source, mask: x.kthvalue(2, 1).values, False),
    "cummax": (lambda x, index, source, mask: x.cummax(1).values, False),
    "one_hot": (lambda x, index, source, mask: F.one_hot(index, 4).double() * source[..., None], False),
    # a boolean mask selects as many elements as it holds True, one_hot without num_classes has as many
    # columns as the largest index says: the shapes depend on the values (a write through a mask keeps them)
    "one_hot of inferred size": (lambda x, index, source, mask: F.one_hot(index).double() * source[..., None], True),
    "x[mask]": (lambda x, index, source, mask: x[mask], True),
    "x[mask] = 0": (lambda x, index, source, mask: put(x, mask, 0.0), False),
    "x[mask] = source's element": (lambda x, index, source, mask: put(x, mask, source[0, 0]), True),
}


def put(x, key, value):
    """A copy of ``x`` with ``copy[key] = value`` (an in-place write into an intermediate)."""
    copy = x * 1.0
    copy[key] = value
    return copy


@pytest.mark.parametrize("name", INDEXING)
def test_indexing_with_index_tensors_and_masks_that_change_on_every_call_is_eager(name):
    """gather, index_select, advanced indexing, index_put with repeated indices, x[i] = v, where
    with scalars, masked_fill with a tensor, scans, sorts and argmax in the loss, with new index
    tensors, masks and values on every call: the gradients of x and of the values written are
    eager's (a replay never reuses the recorded indices)."""
    function, falls_back = INDEXING[name]

    def step(x, index, source, mask):
        return backward_of_squares(function(x, index, source, mask))

    calls = inputs_of(floats((3, 4), requires_grad=True), integers((3, 2), 3), floats((3, 2), seed=1, requires_grad=True), masks((3, 4)), count=5)
    check(lambda: (step,), calls, falls_back)


# ----------------------------------------------------------------------------- reductions, empty batches, integers
def test_reductions_to_0d_and_with_keepdim_are_eager():
    """sum, mean(keepdim), amax over two dimensions, std(keepdim), var, prod, norm, logsumexp,
    of a 2-d input and of a 0-d one."""

    def step(x):
        total = (
            x.sum() + x.mean(-1, keepdim=True).sum() + x.amax(tuple(range(x.ndim))) + x.std(0, correction=0, keepdim=True).sum()
            + x.var() + x.prod() + x.norm() + x.logsumexp(-1).sum()
        ) if x.ndim else x.sum() * 2 + x.mean() + x.exp().sum()
        total.backward()
        return total

    assert_replays_as_eager(lambda: (step,), inputs_of(floats((3, 4), requires_grad=True)))
    assert_replays_as_eager(lambda: (step,), inputs_of(floats((), requires_grad=True)))


def test_empty_batches_between_full_ones_train_as_eager():
    """Batches of 0 samples (a sum loss: zero gradients; a mean of nothing: nan) between batches
    of 3: each size its recording, every value and update eager's, nan where nan."""

    def setup():
        model = mlp()
        optimizer = adam(model.parameters())

        def step(inputs, targets):
            optimizer.zero_grad()
            output = model(inputs)
            loss = F.mse_loss(output, targets, reduction="sum") + output.sum()
            loss.backward()
            optimizer.step()
            return loss, output.detach().mean()

        return step, model, optimizer

    def calls():
        return [((normal((n, 3), i), normal((n, 2), 9 + i)), {}) for i, n in enumerate([0, 0, 3, 0, 3])]

    assert_replays_as_eager(setup, calls)


def test_integer_and_boolean_arithmetic_replays_as_eager():
    """Integer tensors (remainder, products, shifts, bitwise and, cumsum, sums with a dtype, a
    mean in float64) and boolean ones (and, any, all, cumsum of a mask) give eager's values and
    dtypes, int32 and int64."""

    def step(a, b, mask):
        return (
            a % 4 + a * b - a.abs() + a.cumsum(0) + (a > b).long() + a.clamp(-2, 2) + (a << 1) + a.bitwise_and(b) + a.sign(),
            a.prod(), a.sum(dtype=chainrule.int32), a.mean(dtype=chainrule.float64), a.to(chainrule.int32) * 3,
            (mask & (a > 0)).sum(), mask.any(), mask.all(1), mask.long().cumsum(0),
        )

    def signed(seed):
        return lambda index: chainrule.tensor(np.random.default_rng(seed + index).integers(-5, 6, size=(4, 3)))

    assert_replays_as_eager(lambda: (step,), inputs_of(signed(0), signed(10), masks((4, 3))))


def test_integer_division_of_an_argument_replays_and_a_zero_divisor_raises_as_eager():
    """Floor and truncated division, remainder and fmod of integers are computed in the program
    on each call, with PyTorch's check for a divisor of 0."""

    def step(a, b):
        return a // 3, a // b, chainrule.div(a, b, rounding_mode="trunc"), a % b, chainrule.fmod(a, b), a

    def divisors(index):
        values = np.random.default_rng(index + 10).integers(1, 4, size=(4, 3))
        return chainrule.tensor(values * np.where(values % 2 == 0, -1, 1))

    numerators = lambda index: chainrule.tensor(np.random.default_rng(index).integers(-9, 10, size=(4, 3)))  # noqa: E731
    assert_replays_as_eager(lambda: (step,), inputs_of(numerators, divisors))
    for operation in (lambda a, b: a // b, lambda a, b: a % b, lambda a, b: chainrule.div(a, b, rounding_mode="trunc"), chainrule.fmod):
        compiled = chainrule.compile(lambda a, b, operation=operation: operation(a, b) * 2)
        compiled(numerators(0), divisors(0))
        compiled(numerators(1), divisors(1))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            compiled(numerators(2), chainrule.zeros(4, 3, dtype=chainrule.int64))


def test_argsort_of_an_integer_argument_replays():
    """The positions that sort a call's values are found again on each replay (sorting_positions
    runs in the program), as eager's."""

    def step(a):
        return a.argsort(0), a.sort(1, descending=True).indices, a

    calls = inputs_of(lambda index: chainrule.tensor(np.random.default_rng(index).integers(-5, 6, size=(4, 3))))
    assert_replays_as_eager(lambda: (step,), calls)


def test_writing_into_an_integer_argument_replays_and_changes_it_as_eager():
    """x[0] = 7 on an integer argument (no gradient anywhere) is written by the program too."""

    def step(a):
        a[0] = 7
        a[1:, 0] = a[0, 1:2]
        return a * 2, a

    calls = inputs_of(lambda index: chainrule.tensor(np.random.default_rng(index).integers(-5, 6, size=(4, 3))))
    assert_replays_as_eager(lambda: (step,), calls)


def test_float32_inputs_mixed_with_float64_and_half_casts_are_eager():
    """float32 times float64 (promotion), a half-precision round trip and log1p in float32."""

    def step(x, y):
        half = x.half()
        total = (x * y).sum() + x.double().sum() + (x + 1e-3).abs().log1p().mean() + (half * 2).float().sum()
        total.backward()
        return total, half

    assert_replays_as_eager(lambda: (step,), inputs_of(floats((3,), dtype=np.float32, requires_grad=True), floats((3,), seed=1, requires_grad=True)))


# ----------------------------------------------------------------------------- Python side effects: eager, with one warning
def test_a_forward_hook_that_keeps_an_activation_keeps_each_call_s():
    """A forward hook storing the layer's output (feature extraction, activation monitoring)
    holds each call's activation after the call, as eager: a replay would skip the hook, so the
    recording sees the dict change and the function runs eagerly (it once kept the first call's)."""
    kept = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        activations = {}
        model = mlp()
        model[1].register_forward_hook(lambda module, inputs, output: activations.__setitem__("tanh", output.detach()))
        step = training(lambda: model)()[0]
        function = chainrule.compile(step) if compiled else step
        history = []
        for args, _ in regression(4)():
            function(*args)
            history.append(activations["tanh"]._array.copy())
        kept.append(history)
    assert_identical(kept[0], kept[1])


class KeepsItsOutput(nn.Module):
    """A layer that keeps its last output as an attribute (``self.last``), as a visualizer might."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.last = None

    def forward(self, x):
        output = self.linear(x)
        self.last = output.detach()
        return output


def test_an_attribute_assigned_in_forward_holds_each_call_s_value():
    """``self.last = output.detach()`` in forward: after each call the attribute holds that
    call's output: a replay would not assign it, so the function runs eagerly."""
    kept = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        setup = training(lambda: KeepsItsOutput().double())
        step, model, _ = setup()
        function = chainrule.compile(step) if compiled else step
        history = []
        for args, _ in regression(4)():
            function(*args)
            history.append(model.last._array.copy())
        kept.append(history)
    assert_identical(kept[0], kept[1])


def test_losses_appended_to_a_list_inside_the_step_are_appended_on_every_call():
    """``history.append(loss.detach())`` inside the step: one entry per call, as eager (the
    function runs eagerly: a replay would skip the append)."""
    lengths = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        history = []
        model = mlp()
        optimizer = adam(model.parameters())

        def step(inputs, targets):
            optimizer.zero_grad()
            loss = F.mse_loss(model(inputs), targets)
            loss.backward()
            optimizer.step()
            history.append(loss.detach())
            return loss

        function = chainrule.compile(step) if compiled else step
        for args, _ in regression(4)():
            function(*args)
        lengths.append(len(history))
    assert lengths[0] == lengths[1] == 4


# ----------------------------------------------------------------------------- numbers read from Python state
class Settings:
    temperature = 2.0


SETTINGS_MODULE = types.ModuleType("settings")
SETTINGS_MODULE.temperature = 2.0
FACTORS = [2.0]
NUMPY_SCALE = [np.float64(2.0)]  # in a list so the test can restore it; read as NUMPY_SCALE[0]
FORWARD_SCALE = {"value": 2.0}


class Scaled(nn.Module):
    """A linear layer whose output is scaled by numbers held in Python state of several kinds."""

    def __init__(self, kind):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.kind = kind
        self.options = {"scale": 2.0}
        self.root = np.sqrt(4.0)  # a NumPy float64, as sqrt(head_dim) often is

    def forward(self, x):
        output = self.linear(x)
        if self.kind == "module dict attribute":
            return output * self.options["scale"]
        if self.kind == "module NumPy attribute":
            return output * self.root
        return output * forward_scale()


def forward_scale():
    """A global read by the module's forward through a helper, not by the compiled function."""
    return GLOBAL_READ_IN_FORWARD


GLOBAL_READ_IN_FORWARD = 2.0


def set_global(name, value):
    globals()[name] = value


STALE_NUMBERS = {
    "class attribute": (lambda output: output * Settings.temperature, lambda model, value: setattr(Settings, "temperature", value)),
    "Python module attribute": (
        lambda output: output * SETTINGS_MODULE.temperature, lambda model, value: setattr(SETTINGS_MODULE, "temperature", value)
    ),
    "global list item": (lambda output: output * FACTORS[0], lambda model, value: FACTORS.__setitem__(0, value)),
    "global NumPy scalar": (lambda output: output * NUMPY_SCALE[0], lambda model, value: NUMPY_SCALE.__setitem__(0, np.float64(value))),
    "module dict attribute": (lambda output: output, lambda model, value: model.options.__setitem__("scale", value)),
    "module NumPy attribute": (lambda output: output, lambda model, value: setattr(model, "root", np.sqrt(value * value))),
    "global read by forward": (lambda output: output, lambda model, value: set_global("GLOBAL_READ_IN_FORWARD", value)),
}


@pytest.mark.parametrize("name", STALE_NUMBERS)
def test_a_number_read_from_python_state_and_changed_between_calls_is_read_anew(name):
    """A temperature held in a class attribute, a Python module's attribute, a global list, a
    NumPy scalar, a module's dict or NumPy attribute, or a global that the model's forward reads:
    changed between calls, the next call uses the new number, as eager (or records anew), never
    the recorded one."""
    scale, change = STALE_NUMBERS[name]

    def setup():
        model = Scaled(name).double()
        change(model, 2.0)
        optimizer = adam(model.parameters())

        def step(inputs, targets):
            optimizer.zero_grad()
            loss = F.mse_loss(scale(model(inputs)), targets)
            loss.backward()
            optimizer.step()
            return loss

        return step, model, optimizer

    try:
        assert_eager_in_both(setup, regression(4), lambda index, observed: change(observed[0], 2.0 + index), expect="either")
    finally:
        change(Scaled(name), 2.0)


# ----------------------------------------------------------------------------- programs that once did not run
def test_logcumsumexp_whose_output_is_added_to_before_the_loss_replays():
    """logcumsumexp's backward loops over the signs of the incoming gradient. When that gradient
    arrives through an addition (a copy of another name), the simplified program drops the copy:
    the read inside the loop must be renamed too (every replay raised NameError once)."""

    def step(x):
        return backward_of_squares(x.logcumsumexp(1) + x)

    assert_replays_as_eager(lambda: (step,), inputs_of(floats((3, 4), requires_grad=True)))


SPECIAL = {
    "lgamma": chainrule.lgamma,
    "digamma": chainrule.digamma,
    "i0": chainrule.i0,
    "special.i0e": chainrule.special.i0e,
    "special.i1": chainrule.special.i1,
    "special.i1e": chainrule.special.i1e,
}


@pytest.mark.parametrize("name", SPECIAL)
def test_special_functions_whose_derivative_is_another_special_function_replay(name):
    """lgamma (in every Gamma, Beta or Student-t log_prob), digamma and the Bessel functions have
    derivatives that are special functions too (digamma, polygamma, i1...), found in chainrule's
    own array namespace: the replayed program finds them there too (it once looked on NumPy)."""
    function = SPECIAL[name]

    def step(x):
        total = function(x).sum()
        total.backward()
        return total

    positive = lambda index: chainrule.tensor(np.random.default_rng(index).uniform(0.5, 3.0, size=(3,)), requires_grad=True)  # noqa: E731
    assert_replays_as_eager(lambda: (step,), inputs_of(positive))
