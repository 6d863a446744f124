"""Default weights are PyTorch's: after the same ``manual_seed``, building a layer (or a model of
layers) in chainrule gives every parameter and buffer PyTorch's bits, drawn in PyTorch's order,
and leaves the generator where PyTorch's is (the next ``rand`` agrees). Lazy layers are compared
after their first forward; ``reset_parameters`` redraws the same numbers as PyTorch's."""
import numpy as np
import pytest
import torch

import chainrule


def _layers(nn, lib):
    """name -> (build, first call or None), written once for either library."""
    return {
        "Linear": (lambda: nn.Linear(5, 7), None),
        "Linear_no_bias": (lambda: nn.Linear(5, 7, bias=False), None),
        "Linear_float64": (lambda: nn.Linear(5, 7, dtype=lib.float64), None),
        "Linear_no_inputs": (lambda: nn.Linear(0, 3), None),
        "Bilinear": (lambda: nn.Bilinear(3, 4, 5), None),
        "LazyLinear": (lambda: nn.LazyLinear(6), lambda m: m(lib.ones(2, 4))),
        "Conv1d": (lambda: nn.Conv1d(4, 6, 3), None),
        "Conv2d_groups": (lambda: nn.Conv2d(4, 6, (3, 2), groups=2), None),
        "Conv2d_dilated_reflect": (lambda: nn.Conv2d(4, 8, 3, dilation=2, groups=4, padding=1, padding_mode="reflect", bias=False), None),
        "Conv3d": (lambda: nn.Conv3d(2, 4, 2), None),
        "ConvTranspose1d": (lambda: nn.ConvTranspose1d(4, 6, 3), None),
        "ConvTranspose2d_groups": (lambda: nn.ConvTranspose2d(4, 8, (3, 2), stride=2, groups=2, output_padding=1), None),
        "ConvTranspose3d": (lambda: nn.ConvTranspose3d(2, 4, 2), None),
        "LazyConv2d": (lambda: nn.LazyConv2d(6, 3), lambda m: m(lib.ones(1, 4, 5, 5))),
        "LazyConvTranspose1d": (lambda: nn.LazyConvTranspose1d(2, 2), lambda m: m(lib.ones(1, 3, 4))),
        "LazyConv3d": (lambda: nn.LazyConv3d(2, 2), lambda m: m(lib.ones(1, 3, 4, 4, 4))),
        "Embedding": (lambda: nn.Embedding(10, 4), None),
        "Embedding_padding": (lambda: nn.Embedding(10, 4, padding_idx=-1, max_norm=1.0), None),
        "EmbeddingBag": (lambda: nn.EmbeddingBag(10, 4, mode="max", padding_idx=1), None),
        "RNN": (lambda: nn.RNN(3, 4, num_layers=2, bidirectional=True, nonlinearity="relu"), None),
        "LSTM_projected": (lambda: nn.LSTM(3, 4, num_layers=2, proj_size=2, bidirectional=True), None),
        "GRU": (lambda: nn.GRU(3, 4, num_layers=2, bias=False, batch_first=True), None),
        "RNNCell": (lambda: nn.RNNCell(3, 4), None),
        "LSTMCell": (lambda: nn.LSTMCell(3, 4), None),
        "GRUCell": (lambda: nn.GRUCell(3, 4), None),
        "MultiheadAttention": (lambda: nn.MultiheadAttention(8, 2), None),
        "MultiheadAttention_kdim_vdim": (lambda: nn.MultiheadAttention(8, 2, kdim=5, vdim=3, add_bias_kv=True), None),
        "MultiheadAttention_bias_kv_zero_attn": (lambda: nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True, bias=False), None),
        "Transformer": (lambda: nn.Transformer(8, 2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16), None),
        "TransformerEncoderLayer_norm_first": (lambda: nn.TransformerEncoderLayer(8, 2, 16, norm_first=True, bias=False, batch_first=True), None),
        "TransformerDecoder": (lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8)), None),
        "BatchNorm2d": (lambda: nn.BatchNorm2d(4), None),
        "BatchNorm1d_no_affine": (lambda: nn.BatchNorm1d(4, affine=False, track_running_stats=False), None),
        "LazyBatchNorm2d": (lambda: nn.LazyBatchNorm2d(), lambda m: m(lib.ones(2, 3, 2, 2))),
        "LayerNorm": (lambda: nn.LayerNorm((3, 4)), None),
        "LayerNorm_no_bias": (lambda: nn.LayerNorm(4, bias=False), None),
        "GroupNorm": (lambda: nn.GroupNorm(2, 4), None),
        "InstanceNorm2d_affine": (lambda: nn.InstanceNorm2d(4, affine=True, track_running_stats=True), None),
        "LazyInstanceNorm1d": (lambda: nn.LazyInstanceNorm1d(affine=True), lambda m: m(lib.ones(2, 3, 4))),
        "LocalResponseNorm": (lambda: nn.LocalResponseNorm(2), None),
        "PReLU": (lambda: nn.PReLU(3, init=0.1), None),
        "RMSNorm": (lambda: nn.RMSNorm((2, 3)), None),
        "AdaptiveLogSoftmaxWithLoss": (lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 20, [5, 10], div_value=2.0), None),
        "AdaptiveLogSoftmaxWithLoss_head_bias": (lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 20, [5, 10], head_bias=True), None),
        "Sequential": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2)), None),
    }


NAMES = list(_layers(torch.nn, torch))


def _state_and_next_draw(lib, build, first_call, reset=False):
    lib.manual_seed(0)
    module = build()
    if first_call is not None:
        with lib.no_grad():
            first_call(module)
    if reset:
        lib.manual_seed(5)
        for submodule in module.modules():
            if hasattr(submodule, "reset_parameters"):
                submodule.reset_parameters()
    state = {name: value.detach().numpy().copy() for name, value in module.state_dict().items()}
    return state, lib.rand(3).numpy()


def assert_same_weights_as_torch(build_ours, build_theirs, reset=False):
    ours, our_next = _state_and_next_draw(chainrule, *build_ours, reset=reset)
    theirs, their_next = _state_and_next_draw(torch, *build_theirs, reset=reset)
    assert list(ours) == list(theirs)
    for name in theirs:
        assert ours[name].dtype == theirs[name].dtype and ours[name].shape == theirs[name].shape, name
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    np.testing.assert_array_equal(our_next, their_next, err_msg="the generator is out of step after the layer")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", NAMES)
def test_default_weights_are_pytorchs(name):
    assert_same_weights_as_torch(_layers(chainrule.nn, chainrule)[name], _layers(torch.nn, torch)[name])


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", NAMES)
def test_reset_parameters_redraws_pytorchs_weights(name):
    assert_same_weights_as_torch(_layers(chainrule.nn, chainrule)[name], _layers(torch.nn, torch)[name], reset=True)


@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2", "alexnet"])
def test_vision_models_without_weights_start_from_torchvisions_weights(model):
    torchvision_models = pytest.importorskip("torchvision.models")
    ours = getattr(chainrule.vision.models, model)
    theirs = getattr(torchvision_models, model)
    assert_same_weights_as_torch((lambda: ours(weights=None), None), (lambda: theirs(weights=None), None))
