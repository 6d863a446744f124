"""The functions PyTorch computes on quantized tensors (its QuantizedCPU kernels): the same integers,
scale, zero point and dtype as PyTorch's for the same float input and qparams."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F
from tests.quantized.pytorch_errors import assert_raises_as_pytorch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

QDTYPES = [("quint8", 0.07, 131), ("qint8", 0.05, -3)]


def both(shape, qdtype="quint8", scale=0.07, zero_point=131, seed=0):
    """The same random input quantized per tensor in both libraries: (ours, theirs)."""
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 3
    ours = chainrule.quantize_per_tensor(chainrule.tensor(values), scale, zero_point, getattr(chainrule, qdtype))
    theirs = torch.quantize_per_tensor(torch.tensor(values), scale, zero_point, getattr(torch, qdtype))
    return ours, theirs


def assert_same(ours, theirs):
    """Same integers and quantization (also through tuples: values and indices)."""
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for mine, their in zip(ours, theirs):
            assert_same(mine, their)
        return
    if not isinstance(theirs, torch.Tensor):
        assert ours == theirs
        return
    if not theirs.is_quantized:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        return
    assert ours.is_quantized and str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert (ours.q_scale(), ours.q_zero_point()) == (theirs.q_scale(), theirs.q_zero_point())
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())


def run_both(call, shape, qdtype="quint8", scale=0.07, zero_point=131, seed=0):
    ours, theirs = both(shape, qdtype, scale, zero_point, seed)
    assert_same(call(chainrule, F, ours), call(torch, TF, theirs))


POOLS = {
    "max_pool2d": lambda lib, f, x: f.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    "max_pool2d dilated": lambda lib, f, x: f.max_pool2d(x, 2, 1, 0, dilation=2),
    "max_pool1d": lambda lib, f, x: f.max_pool1d(x.flatten(2), 3, 2, 1),
    "max_pool3d": lambda lib, f, x: f.max_pool3d(x.unsqueeze(2), (1, 2, 2)),
    "MaxPool2d": lambda lib, f, x: lib.nn.MaxPool2d(2)(x),
    "avg_pool2d": lambda lib, f, x: f.avg_pool2d(x, 3),
    "avg_pool2d padded ceil": lambda lib, f, x: f.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    "avg_pool2d pad excluded": lambda lib, f, x: f.avg_pool2d(x, 3, 2, 1, True, count_include_pad=False),
    "avg_pool2d divisor": lambda lib, f, x: f.avg_pool2d(x, 2, 1, 1, divisor_override=3),
    "avg_pool1d": lambda lib, f, x: f.avg_pool1d(x.flatten(2), 3, 2, 1),
    "avg_pool3d": lambda lib, f, x: f.avg_pool3d(x.unsqueeze(2), (1, 3, 3), 2, (0, 1, 1)),
    "adaptive_avg_pool2d": lambda lib, f, x: f.adaptive_avg_pool2d(x, (3, 2)),
    "AdaptiveAvgPool2d 1": lambda lib, f, x: lib.nn.AdaptiveAvgPool2d(1)(x),
    "adaptive_avg_pool1d": lambda lib, f, x: f.adaptive_avg_pool1d(x.flatten(2), 4),
    "adaptive_avg_pool3d": lambda lib, f, x: f.adaptive_avg_pool3d(x.unsqueeze(2), (1, 2, 3)),
    "mean dims": lambda lib, f, x: lib.mean(x, (2, 3)),
    "mean keepdim": lambda lib, f, x: x.mean([-1], keepdim=True),
    "mean all": lambda lib, f, x: x.mean(),
}


@pytest.mark.parametrize("name", POOLS)
@pytest.mark.parametrize("qdtype, scale, zero_point", QDTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (1, 1, 6, 6)])
def test_pooling_as_pytorchs(name, qdtype, scale, zero_point, shape):
    run_both(POOLS[name], shape, qdtype, scale, zero_point)


ELEMENTWISE = {
    "relu": lambda lib, f, x: f.relu(x),
    "relu method": lambda lib, f, x: x.relu(),
    "relu6": lambda lib, f, x: f.relu6(x),
    "ReLU6 module": lambda lib, f, x: lib.nn.ReLU6()(x),
    "hardtanh": lambda lib, f, x: f.hardtanh(x, -0.8, 1.3),
    "clamp": lambda lib, f, x: lib.clamp(x, -0.5, 2.0),
    "clamp method min": lambda lib, f, x: x.clamp(min=0.3),
    "threshold": lambda lib, f, x: f.threshold(x, 0.2, -1.0),
    "leaky_relu": lambda lib, f, x: f.leaky_relu(x, 0.1),
    "LeakyReLU": lambda lib, f, x: lib.nn.LeakyReLU(0.2)(x),
    "sigmoid": lambda lib, f, x: lib.sigmoid(x),
    "sigmoid method": lambda lib, f, x: x.sigmoid(),
    "Sigmoid": lambda lib, f, x: lib.nn.Sigmoid()(x),
    "tanh": lambda lib, f, x: lib.tanh(x),
    "hardsigmoid": lambda lib, f, x: f.hardsigmoid(x),
    "gelu": lambda lib, f, x: f.gelu(x),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("qdtype, scale, zero_point", QDTYPES)
def test_activations_as_pytorchs(name, qdtype, scale, zero_point):
    # (a multiple of 64 elements: PyTorch computes a tail shorter than its vector width otherwise,
    # dequantizing without the fused multiply-add, which differs from ours where a value is a tie)
    run_both(ELEMENTWISE[name], (3, 256), qdtype, scale, zero_point)


RESHAPING = {
    "interpolate nearest": lambda lib, f, x: f.interpolate(x, scale_factor=2),
    "interpolate size": lambda lib, f, x: f.interpolate(x, size=(5, 9)),
    "interpolate nearest-exact": lambda lib, f, x: f.interpolate(x, size=(4, 11), mode="nearest-exact"),
    "interpolate bilinear": lambda lib, f, x: f.interpolate(x, size=(9, 4), mode="bilinear"),
    "interpolate bilinear corners": lambda lib, f, x: f.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
    "Upsample": lambda lib, f, x: lib.nn.Upsample(scale_factor=3)(x),
    "interpolate 3d": lambda lib, f, x: f.interpolate(x.unsqueeze(2), scale_factor=2),
    "cat": lambda lib, f, x: lib.cat([x, x[:, :1]], 1),
    "stack": lambda lib, f, x: lib.stack([x, x], -1),
    "flatten": lambda lib, f, x: lib.flatten(x, 1),
    "reshape": lambda lib, f, x: lib.reshape(x, (-1, 5)),
    "max": lambda lib, f, x: lib.max(x),
    "max dim": lambda lib, f, x: tuple(lib.max(x, 1)),
    "min dim keepdim": lambda lib, f, x: tuple(x.min(2, keepdim=True)),
    "topk": lambda lib, f, x: tuple(lib.topk(x.flatten(), 5)),
    "sort": lambda lib, f, x: tuple(lib.sort(x.flatten(), descending=True, stable=True)),
    "chunk": lambda lib, f, x: lib.chunk(x, 2, 1),
    "split": lambda lib, f, x: x.split(2, -1),
    "index_select": lambda lib, f, x: lib.index_select(x, 1, lib.tensor([2, 0])),
    "flip": lambda lib, f, x: lib.flip(x, [1, 3]),
    "equal": lambda lib, f, x: (lib.equal(x, x.clone()), lib.equal(x, x.flip([0]))),
    "channel_shuffle": lambda lib, f, x: f.channel_shuffle(lib.cat([x, x[:, :1]], 1), 2),
    "pixel_shuffle": lambda lib, f, x: f.pixel_shuffle(lib.cat([x, x[:, :1]], 1), 2),
    "pixel_unshuffle": lambda lib, f, x: f.pixel_unshuffle(x[..., :6, :4], 2),
}


@pytest.mark.parametrize("name", RESHAPING)
def test_picking_and_joining_as_pytorchs(name):
    run_both(RESHAPING[name], (2, 3, 7, 5))


def test_cat_puts_the_others_on_the_first_ones_grid_as_pytorch():
    (a, their_a), (b, their_b) = both((2, 3)), both((4, 3), scale=0.031, zero_point=7, seed=1)
    assert_same(chainrule.cat([a, b]), torch.cat([their_a, their_b]))


def test_an_empty_batch_pools_as_pytorch():
    run_both(POOLS["max_pool2d"], (0, 2, 5, 5))
    run_both(POOLS["adaptive_avg_pool2d"], (0, 2, 5, 5))


REFUSED = {
    "hardswish without qparams": lambda lib, f, x: f.hardswish(x),
    "max_pool2d with indices": lambda lib, f, x: f.max_pool2d(x, 2, return_indices=True),
    "interpolate linear": lambda lib, f, x: f.interpolate(x[0], scale_factor=2, mode="linear"),
    "interpolate bicubic": lambda lib, f, x: f.interpolate(x, scale_factor=2, mode="bicubic"),
    "channel_shuffle of qint8": lambda lib, f, x: f.channel_shuffle(lib.quantize_per_tensor(x.dequantize(), 0.1, 0, lib.qint8), 3),
    "cat of two dtypes": lambda lib, f, x: lib.cat([x, lib.quantize_per_tensor(x.dequantize(), 0.1, 0, lib.qint8)]),
    "max of two": lambda lib, f, x: lib.max(x, x),
}


@pytest.mark.parametrize("name", REFUSED)
def test_what_pytorch_refuses_is_refused_as_there(name):
    ours, theirs = both((2, 3, 4, 4))
    assert_raises_as_pytorch(lambda: REFUSED[name](chainrule, F, ours), lambda: REFUSED[name](torch, TF, theirs))


def per_channel(library):
    values = library.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32))
    return library.quantize_per_channel(values, library.tensor([0.1, 0.2, 0.3]), library.tensor([1, 2, 3]), 1, library.quint8)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "relu", "sigmoid", "hardtanh", "mean dims"])
def test_a_per_channel_tensor_is_refused_as_in_pytorch(name):
    call = {**POOLS, **ELEMENTWISE}[name]
    assert_raises_as_pytorch(lambda: call(chainrule, F, per_channel(chainrule)), lambda: call(torch, TF, per_channel(torch)))


def test_plain_tensors_never_reach_the_kernels():
    x = chainrule.randn(2, 3, 4, 4)
    assert F.max_pool2d(x, 2).dtype == chainrule.float32
    with pytest.raises(TypeError):
        chainrule.cat([x, "not a tensor"])


def branching_cnn(library):
    nn, q = library.nn, library.ao.quantization

    class BranchingCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = q.QuantStub(), q.DeQuantStub()
            self.conv, self.bn, self.relu = nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()
            self.pool = nn.MaxPool2d(2, ceil_mode=True)
            self.left = nn.Conv2d(4, 3, 1)
            self.hardswish = nn.Hardswish()
            self.right = nn.Conv2d(4, 3, 3, padding=1)
            self.leaky = nn.LeakyReLU(0.1)
            self.average = nn.AdaptiveAvgPool2d(2)
            self.fc = nn.Linear(6 * 2 * 2, 5)

        def forward(self, x):
            x = self.pool(self.relu(self.bn(self.conv(self.quant(x)))))
            x = library.cat([self.hardswish(self.left(x)), self.leaky(self.right(x))], 1)
            x = library.flatten(self.average(x), 1)
            return self.dequant(library.sigmoid(self.fc(x)))

    return BranchingCNN()


def test_a_branching_cnn_quantizes_prints_and_computes_as_pytorchs():
    torch.manual_seed(0)
    theirs = branching_cnn(torch)
    state = {key: value.detach().numpy().copy() for key, value in theirs.state_dict().items()}
    ours = branching_cnn(chainrule)
    ours.load_state_dict({key: chainrule.tensor(value) for key, value in state.items()})
    data = np.random.default_rng(0).standard_normal((4, 3, 2, 7, 7)).astype(np.float32)
    converted, engine = [], torch.backends.quantized.engine
    torch.backends.quantized.engine = "qnnpack"  # (x86's kernels saturate 16-bit sums: see test_static.py)
    try:
        for library, model in ((chainrule, ours), (torch, theirs)):
            q = library.ao.quantization
            model.eval()
            model.qconfig = q.get_default_qconfig("qnnpack")
            prepared = q.prepare(q.fuse_modules(model, [["conv", "bn", "relu"]]))
            for batch in data[:3]:
                prepared(library.tensor(batch))
            converted.append(q.convert(prepared))
        our_model, their_model = converted
        their_output = their_model(torch.tensor(data[3])).numpy()
    finally:
        torch.backends.quantized.engine = engine
    without_numbers = lambda text: re.sub(r"-?\d+\.\d+(e-?\d+)?", "#", text)  # noqa: E731 (calibrated scales differ in the last bit)
    assert without_numbers(repr(our_model)) == without_numbers(repr(their_model).replace("torch.", "chainrule."))
    # those last bits move a value rounded at a tie by one step, a few steps at the output
    steps = np.abs(our_model(chainrule.tensor(data[3])).numpy() - their_output) * 256
    assert steps.max() <= 5.01 and steps.mean() < 0.5


@pytest.mark.parametrize("call", [
    lambda lib, qf, x: qf.hardswish(x, 0.05, 10),
    lambda lib, qf, x: qf.elu(x, 0.05, 10, 1.3),
    lambda lib, qf, x: qf.celu(x, 0.05, 10, 0.7),
    lambda lib, qf, x: qf.leaky_relu(x, 0.2, False, 0.05, 10),
    lambda lib, qf, x: qf.leaky_relu(x, 0.2),
    lambda lib, qf, x: qf.hardtanh(x, -0.5, 0.5),
    lambda lib, qf, x: qf.clamp(x, -0.5, 0.5),
    lambda lib, qf, x: qf.threshold(x, 0.1, 0.3),
    lambda lib, qf, x: qf.avg_pool2d(x, 2, 1, 1),
    lambda lib, qf, x: qf.adaptive_avg_pool2d(x, 3),
    lambda lib, qf, x: qf.max_pool2d(x, 2),
    lambda lib, qf, x: qf.interpolate(x, scale_factor=2, mode="bilinear"),
    lambda lib, qf, x: qf.upsample_nearest(x, scale_factor=2),
    lambda lib, qf, x: lib.ao.nn.quantized.Hardswish(0.05, 10)(x),
    lambda lib, qf, x: lib.ao.nn.quantized.ELU(0.05, 10, 1.3)(x),
    lambda lib, qf, x: lib.ao.nn.quantized.LeakyReLU(0.05, 10, 0.2)(x),
    lambda lib, qf, x: lib.ao.nn.quantized.Sigmoid(0.01, 3)(x),
])
@pytest.mark.parametrize("qdtype, scale, zero_point", QDTYPES)
def test_quantized_functional_and_activation_modules_as_pytorchs(call, qdtype, scale, zero_point):
    import chainrule.ao.nn.quantized.functional as our_qf
    import torch.ao.nn.quantized.functional as their_qf

    ours, theirs = both((2, 3, 8, 8), qdtype, scale, zero_point)
    assert_same(call(chainrule, our_qf, ours), call(torch, their_qf, theirs))
