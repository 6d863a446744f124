"""The layer classes are arranged as PyTorch's, so that ``isinstance`` answers as it does there: a
BatchNorm2d is no BatchNorm1d, a Dropout2d no Dropout, and code that tests for PyTorch's private
bases (``isinstance(m, nn.modules.batchnorm._BatchNorm)`` in weight-decay groups) finds them."""
import inspect

import pytest
import torch

import chainrule
from chainrule import nn

# Private bases chainrule keeps where PyTorch has none: they hold code shared by public layers and
# change no isinstance answer between PyTorch's classes.
CHAINRULE_ONLY_BASES = {"_ModuleSequence", "_AttentionLayer"}

SHARED_LAYERS = sorted(
    name
    for name in dir(nn)
    if inspect.isclass(getattr(nn, name))
    and issubclass(getattr(nn, name), nn.Module)
    and inspect.isclass(getattr(torch.nn, name, None))
)


def mro_names(cls, skip=()):
    return [base.__name__ for base in cls.__mro__ if base.__name__ not in ("object", "Generic", *skip)]


@pytest.mark.parametrize("name", SHARED_LAYERS)
def test_method_resolution_order_is_pytorchs(name):
    assert mro_names(getattr(nn, name), CHAINRULE_ONLY_BASES) == mro_names(getattr(torch.nn, name))


def test_isinstance_agrees_with_pytorch_for_every_pair_of_layers():
    disagreements = [
        (first, second)
        for first in SHARED_LAYERS
        for second in SHARED_LAYERS
        if issubclass(getattr(nn, first), getattr(nn, second)) != issubclass(getattr(torch.nn, first), getattr(torch.nn, second))
    ]
    assert disagreements == []


@pytest.mark.parametrize(
    "make, other",
    [
        (lambda lib: lib.nn.BatchNorm2d(3), "BatchNorm1d"),
        (lambda lib: lib.nn.BatchNorm3d(3), "BatchNorm2d"),
        (lambda lib: lib.nn.Dropout2d(), "Dropout"),
        (lambda lib: lib.nn.AlphaDropout(), "Dropout"),
        (lambda lib: lib.nn.InstanceNorm2d(3), "InstanceNorm1d"),
        (lambda lib: lib.nn.AvgPool3d(2), "AvgPool2d"),
        (lambda lib: lib.nn.ReflectionPad2d(1), "ReflectionPad1d"),
        (lambda lib: lib.nn.ReplicationPad3d(1), "ReplicationPad1d"),
        (lambda lib: lib.nn.CircularPad2d(1), "CircularPad1d"),
        (lambda lib: lib.nn.ZeroPad2d(1), "ConstantPad2d"),
    ],
)
def test_isinstance_of_a_built_layer(make, other):
    assert isinstance(make(chainrule), getattr(nn, other)) == isinstance(make(torch), getattr(torch.nn, other))


PRIVATE_BASES = [
    ("batchnorm", "_NormBase", ["BatchNorm1d", "BatchNorm3d", "InstanceNorm2d", "SyncBatchNorm", "LazyBatchNorm1d"]),
    ("batchnorm", "_BatchNorm", ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm2d", "InstanceNorm1d"]),
    ("instancenorm", "_InstanceNorm", ["InstanceNorm1d", "InstanceNorm3d", "LazyInstanceNorm2d", "BatchNorm1d"]),
    ("dropout", "_DropoutNd", ["Dropout", "Dropout1d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Linear"]),
    ("conv", "_ConvNd", ["Conv1d", "Conv3d", "ConvTranspose2d", "LazyConv2d", "Linear"]),
    ("pooling", "_MaxPoolNd", ["MaxPool1d", "MaxPool3d", "AvgPool2d"]),
    ("pooling", "_AvgPoolNd", ["AvgPool1d", "AvgPool2d", "AvgPool3d", "MaxPool2d"]),
]


@pytest.mark.parametrize("file, base, layers", PRIVATE_BASES, ids=[base for _, base, _ in PRIVATE_BASES])
def test_pytorchs_private_bases_are_where_code_looks_for_them(file, base, layers):
    ours = getattr(getattr(nn.modules, file), base)
    theirs = getattr(getattr(torch.nn.modules, file), base)
    for layer in layers:
        assert issubclass(getattr(nn, layer), ours) == issubclass(getattr(torch.nn, layer), theirs), layer


def test_weight_decay_groups_written_for_pytorch_find_every_batch_norm():
    def no_decay_names(lib):
        model = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.Flatten(), lib.nn.LazyBatchNorm1d())
        return [name for name, module in model.named_modules() if isinstance(module, lib.nn.modules.batchnorm._BatchNorm)]

    assert no_decay_names(chainrule) == no_decay_names(torch) == ["1", "3"]


@pytest.mark.parametrize("name", ["LazyBatchNorm1d", "LazyBatchNorm3d", "LazyInstanceNorm2d"])
def test_lazy_norm_layers_check_their_input_and_become_the_layer(name):
    for lib in (chainrule, torch):
        layer = getattr(lib.nn, name)()
        with pytest.raises(ValueError, match="expected"):
            layer(lib.ones(2, 3, 4, 5, 6, 7))
    layer = getattr(nn, name)()
    shape = {"LazyBatchNorm1d": (4, 3), "LazyBatchNorm3d": (2, 3, 2, 2, 2), "LazyInstanceNorm2d": (2, 3, 4, 4)}[name]
    layer(chainrule.randn(*shape))
    assert type(layer) is getattr(nn, name.replace("Lazy", "")) and layer.num_features == 3


def test_lazy_transposed_convolution_keeps_its_argument_order():
    layer = nn.LazyConvTranspose2d(4, 3, stride=2, padding=1, output_padding=1, groups=1, bias=False, dilation=1)
    output = layer(chainrule.randn(1, 2, 5, 5))
    assert type(layer) is nn.ConvTranspose2d and tuple(output.shape) == (1, 4, 10, 10) and layer.bias is None
