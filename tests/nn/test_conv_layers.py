"""Convolution, pooling and image (and volume) layers: each against its torch.nn twin from identical weights,
PyTorch's initialization statistics and reprs, errors naming the layer, and two small networks
(LeNet-5 and a residual block) trained a few steps matching PyTorch's losses."""
import math

import numpy as np
import pytest
import torch

import chainrule
from tests.nn.pairs import check_module, module_pair

rng = np.random.default_rng(0)
IMAGES = rng.standard_normal((2, 4, 7, 6))
VOLUMES = rng.standard_normal((2, 4, 5, 6, 4))

LAYERS = [
    ("Conv2d", lambda nn: nn.Conv2d(4, 6, 3), IMAGES),
    ("Conv2d_strided_padded_grouped", lambda nn: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, bias=False), IMAGES),
    ("Conv2d_same_dilated", lambda nn: nn.Conv2d(4, 2, 3, padding="same", dilation=2), IMAGES),
    ("Conv2d_reflect", lambda nn: nn.Conv2d(4, 3, 3, padding=1, padding_mode="reflect"), IMAGES),
    ("Conv2d_circular", lambda nn: nn.Conv2d(4, 3, 3, padding=(1, 2), padding_mode="circular"), IMAGES),
    ("Conv1d", lambda nn: nn.Conv1d(4, 5, 3, stride=2, padding=1), IMAGES[:, :, 0]),
    ("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), IMAGES),
    ("MaxPool2d", lambda nn: nn.MaxPool2d(2), IMAGES),
    ("MaxPool2d_overlapping", lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True), IMAGES),
    ("MaxPool1d", lambda nn: nn.MaxPool1d(2), IMAGES[:, :, 0]),
    ("AvgPool2d", lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False), IMAGES),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(2), IMAGES[:, :, 0]),
    ("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((3, 4)), IMAGES),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d(1), IMAGES),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 2, 0, 1)), IMAGES),
    ("Upsample", lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"), IMAGES),
    ("BatchNorm2d_train", lambda nn: nn.BatchNorm2d(4), IMAGES),
    ("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1), IMAGES[:, :, 0]),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(4), IMAGES[:, :, 0]),
    ("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(4), IMAGES[:, :, 0]),
    ("LPPool2d", lambda nn: nn.LPPool2d(2, 2), np.abs(IMAGES)),
    ("LPPool1d", lambda nn: nn.LPPool1d(3, 3, 2), np.abs(IMAGES[:, :, 0])),
    ("Conv3d", lambda nn: nn.Conv3d(4, 6, 3), VOLUMES),
    ("Conv3d_strided_padded_grouped", lambda nn: nn.Conv3d(4, 6, (3, 2, 2), stride=(2, 1, 2), padding=1, groups=2, bias=False), VOLUMES),
    ("Conv3d_same_dilated", lambda nn: nn.Conv3d(4, 2, 3, padding="same", dilation=(2, 1, 1)), VOLUMES),
    ("Conv3d_replicate", lambda nn: nn.Conv3d(4, 3, 3, padding=(1, 0, 1), padding_mode="replicate"), VOLUMES),
    ("Conv3d_unbatched", lambda nn: nn.Conv3d(4, 3, 2), VOLUMES[0]),
    ("ConvTranspose3d", lambda nn: nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1, output_padding=(1, 0, 1)), VOLUMES),
    ("ConvTranspose3d_grouped_dilated", lambda nn: nn.ConvTranspose3d(4, 6, 2, groups=2, dilation=2), VOLUMES),
    ("MaxPool3d", lambda nn: nn.MaxPool3d(2), VOLUMES),
    ("MaxPool3d_overlapping", lambda nn: nn.MaxPool3d(3, 2, 1, ceil_mode=True), VOLUMES),
    ("AvgPool3d", lambda nn: nn.AvgPool3d(3, 2, 1, count_include_pad=False), VOLUMES),
    ("AvgPool3d_divisor", lambda nn: nn.AvgPool3d((2, 3, 2), 1, divisor_override=3), VOLUMES),
    ("AdaptiveAvgPool3d", lambda nn: nn.AdaptiveAvgPool3d((3, None, 3)), VOLUMES),
    ("AdaptiveMaxPool3d", lambda nn: nn.AdaptiveMaxPool3d((2, 4, 3)), VOLUMES),
    ("LPPool3d", lambda nn: nn.LPPool3d(2, 2), np.abs(VOLUMES)),
    ("BatchNorm3d_train", lambda nn: nn.BatchNorm3d(4), VOLUMES),
]


@pytest.mark.parametrize("name, make, data", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_layer_matches_pytorch(name, make, data):
    check_module(lambda lib: make(lib.nn), data)


def test_batchnorm2d_eval_uses_running_statistics():
    check_module(lambda lib: lib.nn.BatchNorm2d(4, momentum=None), IMAGES, training=False)


def test_batchnorm3d_eval_uses_running_statistics():
    check_module(lambda lib: lib.nn.BatchNorm3d(4, momentum=None), VOLUMES, training=False)


def test_reprs_as_pytorch():
    for make in (
        lambda nn: nn.Conv2d(1, 6, 5),
        lambda nn: nn.Conv2d(3, 8, (3, 5), stride=2, padding=1, dilation=2, bias=False, padding_mode="reflect"),
        lambda nn: nn.Conv2d(4, 4, 3, padding="same", groups=2),
        lambda nn: nn.Conv1d(2, 3, 4),
        lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1),
        lambda nn: nn.MaxPool2d(2),
        lambda nn: nn.MaxPool1d(3, 2),
        lambda nn: nn.AvgPool2d(2),
        lambda nn: nn.AvgPool1d(3),
        lambda nn: nn.AdaptiveAvgPool2d((2, None)),
        lambda nn: nn.AdaptiveMaxPool2d((1, 1)),
        lambda nn: nn.ZeroPad2d(1),
        lambda nn: nn.Upsample(scale_factor=2),
        lambda nn: nn.Dropout2d(0.3),
        lambda nn: nn.BatchNorm2d(16),
        lambda nn: nn.ConvTranspose1d(2, 4, 3, stride=2, output_padding=1, groups=2),
        lambda nn: nn.AdaptiveAvgPool1d(3),
        lambda nn: nn.AdaptiveMaxPool1d(3),
        lambda nn: nn.MaxUnpool1d(2, stride=1),
        lambda nn: nn.MaxUnpool2d(2),
        lambda nn: nn.LPPool1d(2, 3, 2),
        lambda nn: nn.LPPool2d(2, 3),
        lambda nn: nn.Conv3d(2, 3, 3),
        lambda nn: nn.Conv3d(3, 8, (3, 5, 1), stride=2, padding=1, dilation=2, bias=False, padding_mode="circular"),
        lambda nn: nn.ConvTranspose3d(4, 2, 3, stride=2, output_padding=1, groups=2),
        lambda nn: nn.MaxPool3d(2),
        lambda nn: nn.MaxPool3d((3, 2, 2), 1, 1, ceil_mode=True),
        lambda nn: nn.AvgPool3d(2),
        lambda nn: nn.AvgPool3d((2, 3, 1), 1, (1, 1, 0)),
        lambda nn: nn.AdaptiveAvgPool3d((1, None, 2)),
        lambda nn: nn.AdaptiveMaxPool3d(2),
        lambda nn: nn.LPPool3d(2, 3),
        lambda nn: nn.MaxUnpool3d(2),
        lambda nn: nn.MaxUnpool3d((2, 3, 1), stride=1, padding=(1, 0, 0)),
        lambda nn: nn.BatchNorm3d(16, momentum=None, affine=False),
    ):
        assert repr(make(chainrule.nn)) == repr(make(torch.nn))


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda nn: nn.Conv2d(8, 32, 5), (32, 8, 5, 5)),
        (lambda nn: nn.Conv2d(16, 32, 3, groups=4), (32, 4, 3, 3)),
        (lambda nn: nn.Conv1d(16, 64, 7), (64, 16, 7)),
        (lambda nn: nn.ConvTranspose2d(32, 16, 4), (32, 16, 4, 4)),
        (lambda nn: nn.Conv3d(8, 32, 3), (32, 8, 3, 3, 3)),
        (lambda nn: nn.Conv3d(16, 32, (3, 2, 3), groups=2), (32, 8, 3, 2, 3)),
        (lambda nn: nn.ConvTranspose3d(16, 32, 3), (16, 32, 3, 3, 3)),
    ],
)
def test_initialization_has_pytorchs_statistics(make, shape):
    """kaiming_uniform_(a=√5): U(-b, b) with b = 1/√fan_in, fan_in = weight.shape[1] · kernel area;
    the bias from the same range. Checked: the bound, the shape and the standard deviation b/√3."""
    chainrule.manual_seed(0)
    layer = make(chainrule.nn)
    assert tuple(layer.weight.shape) == shape == tuple(make(torch.nn).weight.shape)
    bound = 1 / math.sqrt(math.prod(shape[1:]))
    weight, bias = layer.weight._array, layer.bias._array
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert abs(weight.mean()) < 0.05 * bound


@pytest.mark.parametrize(
    "layer, shape, words",
    [
        (lambda nn: nn.Conv2d(3, 6, 5), (1, 1, 28, 28), r"expected input\[1, 1, 28, 28\] to have 3 channels.*Conv2d\(3, 6, kernel_size=\(5, 5\)"),
        (lambda nn: nn.Conv2d(1, 6, 5), (1, 1, 3, 3), r"^Calculated padded input size.*Kernel size can't be greater.*\(in Conv2d\(1, 6"),
        (lambda nn: nn.Conv2d(1, 6, 5), (28, 28), r"Conv2d\(1, 6.*\(N, C, H, W\)"),
        (lambda nn: nn.Conv1d(2, 4, 3), (1, 3, 10), r"to have 2 channels, but got 3 channels instead \(Conv1d\(2, 4"),
        (lambda nn: nn.MaxPool2d(3), (1, 1, 2, 2), "Output size is too small"),
        (lambda nn: nn.Conv3d(3, 6, 3), (1, 1, 5, 5, 5), r"expected input\[1, 1, 5, 5, 5\] to have 3 channels.*Conv3d\(3, 6, kernel_size=\(3, 3, 3\)"),
        (lambda nn: nn.Conv3d(1, 6, 3), (1, 1, 2, 5, 5), r"^Calculated padded input size.*Kernel size can't be greater.*\(in Conv3d\(1, 6"),
        (lambda nn: nn.Conv3d(1, 6, 3), (5, 5, 5), r"Conv3d\(1, 6.*\(N, C, D, H, W\)"),
        (lambda nn: nn.ConvTranspose3d(2, 6, 3), (1, 3, 4, 4, 4), r"Given transposed=1.*to have 2 channels.*ConvTranspose3d\(2, 6"),
        (lambda nn: nn.MaxPool3d(3), (1, 1, 2, 4, 4), "Output size is too small"),
        (lambda nn: nn.AvgPool3d(2), (1, 4, 4), "4D or 5D"),
        (lambda nn: nn.AdaptiveMaxPool3d(2), (4, 4, 4), "4D or 5D"),
    ],
)
def test_errors_name_the_layer_and_the_shapes(layer, shape, words):
    with pytest.raises(RuntimeError):
        layer(torch.nn)(torch.zeros(shape))
    with pytest.raises(RuntimeError, match=words):
        layer(chainrule.nn)(chainrule.zeros(shape))


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_max_unpool_undoes_max_pool_as_pytorch(spatial):
    """MaxUnpool puts each maximum back where MaxPool found it (zeros elsewhere), gradients included."""
    data = {1: IMAGES[:, :, 0], 2: IMAGES, 3: VOLUMES}[spatial]
    results = []
    for lib in (chainrule, torch):
        pool = getattr(lib.nn, f"MaxPool{spatial}d")(2, return_indices=True)
        unpool = getattr(lib.nn, f"MaxUnpool{spatial}d")(2)
        x = lib.tensor(data, requires_grad=True)
        output = unpool(*pool(x), output_size=tuple(x.shape))
        (output * lib.tensor(data)).sum().backward()
        results.append((output.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_batchnorm2d_wants_4d_input_and_batchnorm3d_5d():
    with pytest.raises(ValueError, match="4D"):
        chainrule.nn.BatchNorm2d(3)(chainrule.zeros(2, 3, 4))
    for lib in (torch, chainrule):
        with pytest.raises(ValueError, match="expected 5D input"):
            lib.nn.BatchNorm3d(3)(lib.zeros(2, 3, 4, 4))


def test_dropout2d_drops_whole_channels_and_keeps_the_mean():
    chainrule.manual_seed(0)
    x = chainrule.ones(64, 8, 3, 3)
    out = chainrule.nn.Dropout2d(0.25)(x)._array
    per_plane = out.reshape(64, 8, 9)
    assert np.all(per_plane.min(-1) == per_plane.max(-1))  # a plane is kept or dropped as a whole
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs(out.mean() - 1.0) < 0.1
    layer = chainrule.nn.Dropout2d(0.25).eval()
    assert layer(x) is x


# ----------------------------------------------------------------------------- small networks, trained
def lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def residual_block(nn):
    class Block(nn.Module):
        """conv-bn-relu-conv-bn plus the input (a skip connection), then relu; a pooled classifier."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.conv1, self.bn1 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
            self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))

        def forward(self, x):
            x = self.stem(x)
            y = nn.functional.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return self.head(nn.functional.relu(x + y))

    return Block()


@pytest.mark.parametrize(
    "make, shape, classes",
    [(lenet, (4, 1, 28, 28), 10), (residual_block, (6, 3, 8, 8), 4)],
    ids=["LeNet-5", "residual block"],
)
def test_training_steps_match_pytorch(make, shape, classes):
    ours, theirs = module_pair(lambda lib: make(lib.nn))
    data = np.random.default_rng(1).standard_normal(shape)
    labels = np.random.default_rng(2).integers(0, classes, shape[0])
    losses = []
    for lib, model in ((chainrule, ours), (torch, theirs)):
        optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        x, y = lib.tensor(data), lib.tensor(labels)
        run = []
        for _ in range(4):
            loss = lib.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)
    assert losses[0][-1] < losses[0][0]
    for (name, mine), reference in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(mine._array, reference.detach().numpy(), rtol=1e-7, atol=1e-10, err_msg=name)
