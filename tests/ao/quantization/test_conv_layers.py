"""The quantized convolutions of every dimension (plain and transposed), their fusions with batch
norm and ReLU, and their quantization-aware-training forms, compared with PyTorch's: the same
integers out, the same prints and state dicts, the same errors."""
import re

import numpy as np
import pytest
import torch

import chainrule
from tests.ao.quantization.same_weights import same_models
from tests.quantized.pytorch_errors import assert_raises_as_pytorch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fbgemm_engine():
    """PyTorch's FBGEMM kernels: x86's sum pairs of 8-bit products in 16 bits, saturating."""
    engine = torch.backends.quantized.engine
    torch.backends.quantized.engine = "fbgemm"
    yield
    torch.backends.quantized.engine = engine


def without_numbers(text):
    return re.sub(r"-?\d+\.\d+(e-?\d+)?", "#", text)


LAYERS = [  # name, constructor arguments, input shape, weight per channel
    ("Conv1d", dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, groups=2), (1, 4, 9), True),
    ("Conv1d", dict(in_channels=3, out_channels=2, kernel_size=2, dilation=2, padding=2, padding_mode="reflect"), (2, 3, 7), False),
    ("Conv2d", dict(in_channels=2, out_channels=4, kernel_size=(3, 2), padding=(1, 0), padding_mode="reflect"), (1, 2, 5, 4), True),
    ("Conv3d", dict(in_channels=2, out_channels=4, kernel_size=2, stride=(1, 2, 1), dilation=(2, 1, 1), bias=False), (2, 2, 5, 5, 3), True),
    ("ConvTranspose1d", dict(in_channels=4, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5), False),
    ("ConvTranspose2d", dict(in_channels=3, out_channels=4, kernel_size=(2, 3), stride=2, dilation=(1, 2)), (1, 3, 3, 4), False),
    ("ConvTranspose3d", dict(in_channels=2, out_channels=3, kernel_size=2, padding=(1, 0, 0), bias=False), (1, 2, 3, 2, 3), False),
]


def weight_pair(shape, per_channel):
    values = rng.standard_normal(shape).astype(np.float32) * 0.3
    if not per_channel:
        return (chainrule.quantize_per_tensor(chainrule.tensor(values), 0.01, 0, chainrule.qint8),
                torch.quantize_per_tensor(torch.tensor(values), 0.01, 0, torch.qint8))
    scales = rng.uniform(0.004, 0.02, shape[0])
    zero_points = np.zeros(shape[0], dtype=np.int64)
    return (
        chainrule.quantize_per_channel(chainrule.tensor(values), chainrule.tensor(scales), chainrule.tensor(zero_points), 0, chainrule.qint8),
        torch.quantize_per_channel(torch.tensor(values), torch.tensor(scales), torch.tensor(zero_points), 0, torch.qint8),
    )


@pytest.mark.parametrize("name, arguments, input_shape, per_channel", LAYERS)
def test_quantized_convolution_gives_pytorchs_integers_print_and_state(name, arguments, input_shape, per_channel):
    ours, theirs = getattr(chainrule.ao.nn.quantized, name)(**arguments), getattr(torch.ao.nn.quantized, name)(**arguments)
    their_weight = theirs.weight()
    our_weight, their_weight = weight_pair(tuple(their_weight.shape), per_channel)
    bias = rng.standard_normal(arguments["out_channels"]).astype(np.float32) if arguments.get("bias", True) else None
    ours.set_weight_bias(our_weight, None if bias is None else chainrule.tensor(bias))
    theirs.set_weight_bias(their_weight, None if bias is None else torch.tensor(bias))
    ours.scale, ours.zero_point = theirs.scale, theirs.zero_point = 0.03, 117
    values = rng.uniform(-3, 3, input_shape).astype(np.float32)
    our_out = ours(chainrule.quantize_per_tensor(chainrule.tensor(values), 0.05, 120, chainrule.quint8))
    their_out = theirs(torch.quantize_per_tensor(torch.tensor(values), 0.05, 120, torch.quint8))
    assert tuple(our_out.shape) == tuple(their_out.shape)
    np.testing.assert_array_equal(our_out.int_repr().numpy(), their_out.int_repr().numpy())
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    reloaded = getattr(chainrule.ao.nn.quantized, name)(**arguments)
    reloaded.load_state_dict(ours.state_dict())
    reloaded_out = reloaded(chainrule.quantize_per_tensor(chainrule.tensor(values), 0.05, 120, chainrule.quint8))
    assert chainrule.equal(reloaded_out.int_repr(), our_out.int_repr())


def test_quantized_convolutions_refuse_bad_input_as_pytorch():
    pairs = {library: library.ao.nn.quantized for library in (chainrule, torch)}
    layer = {library: nnq.Conv1d(2, 4, 3) for library, nnq in pairs.items()}
    for make_input in (
        lambda library: library.randn(1, 2, 5),  # not quantized
        lambda library: library.quantize_per_tensor(library.randn(2, 5), 0.1, 0, library.quint8),  # no batch dimension
        lambda library: library.quantize_per_tensor(library.randn(1, 2, 5), 0.1, 0, library.qint8),  # signed
    ):
        assert_raises_as_pytorch(lambda: layer[chainrule](make_input(chainrule)), lambda: layer[torch](make_input(torch)))
    for construct in (
        lambda nnq: nnq.Conv2d(2, 4, 3, padding_mode="circular"),
        lambda nnq: nnq.Conv3d(2, 4, 3, padding_mode="reflect"),
        lambda nnq: nnq.ConvTranspose2d(2, 4, 3, padding_mode="reflect"),
        lambda nnq: nnq.Conv1d(3, 4, 3, groups=2),
        lambda nnq: nnq.Conv1d.from_float(nnq.Linear(2, 2)),
    ):
        assert_raises_as_pytorch(lambda: construct(pairs[chainrule]), lambda: construct(pairs[torch]))
    our_transposed, their_transposed = chainrule.ao.nn.quantized.ConvTranspose1d(2, 2, 2), torch.ao.nn.quantized.ConvTranspose1d(2, 2, 2)
    our_weight, their_weight = weight_pair((2, 2, 2), per_channel=True)
    assert_raises_as_pytorch(lambda: our_transposed.set_weight_bias(our_weight, None), lambda: their_transposed.set_weight_bias(their_weight, None))


def layered(library):
    nn, q = library.nn, library.ao.quantization
    return nn.Sequential(
        q.QuantStub(), nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU(),
        nn.ConvTranspose1d(4, 3, 3, stride=2), nn.BatchNorm1d(3), nn.Flatten(), nn.Linear(69, 5), nn.BatchNorm1d(5),
        nn.Unflatten(1, (1, 5, 1, 1)), nn.Conv3d(1, 2, (3, 1, 1), padding=(1, 0, 0)), nn.ReLU(), q.DeQuantStub(),
    )


FUSIONS = [["1", "2", "3"], ["4", "5"], ["7", "8"], ["10", "11"]]


def test_fuse_prepare_calibrate_convert_gives_pytorchs_model_and_outputs():
    data = [rng.standard_normal((3, 2, 11)).astype(np.float32) for _ in range(2)]
    printed, outputs = {}, {}
    for library, model in zip((chainrule, torch), same_models(layered)):
        q = library.ao.quantization
        model.eval()
        model.qconfig = q.get_default_qconfig("fbgemm")
        with pytest.raises(AssertionError, match="Per channel weight observer is not supported"):
            q.prepare(model)
        model[4].qconfig = q.default_qconfig  # a transposed convolution's weight is quantized per tensor
        prepared = q.prepare(q.fuse_modules(model, FUSIONS))
        for batch in data:
            prepared(library.tensor(batch))
        converted = q.convert(prepared)
        printed[library] = [repr(prepared), repr(converted)]
        outputs[library] = converted(library.tensor(data[0])).numpy()
    assert [without_numbers(text) for text in printed[chainrule]] == [
        without_numbers(text.replace("torch.", "chainrule.")) for text in printed[torch]
    ]
    scale = 0.1  # outputs may move by a step where an observed range differs in its last bit
    assert np.abs(outputs[chainrule] - outputs[torch]).max() <= scale


def qat_model(library):
    nn, q = library.nn, library.ao.quantization
    return nn.Sequential(
        q.QuantStub(), nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.ReLU(), nn.Unflatten(1, (1, 4, 1)),
        nn.Conv3d(1, 2, (2, 1, 1), bias=False), nn.BatchNorm3d(2), nn.Flatten(), nn.Linear(18, 3), nn.BatchNorm1d(3),
        q.DeQuantStub(),
    )


def test_qat_fusions_train_and_convert_as_pytorchs():
    torch.manual_seed(1)
    their_float = qat_model(torch)
    our_float = qat_model(chainrule)
    our_float.load_state_dict({key: chainrule.tensor(value.detach().numpy()) for key, value in their_float.state_dict().items()})
    x = rng.standard_normal((4, 2, 5)).astype(np.float32)
    results = {}
    for library, model in ((chainrule, our_float), (torch, their_float)):
        q = library.ao.quantization
        model.train()
        model.qconfig = q.get_default_qat_qconfig("fbgemm")
        prepared = q.prepare_qat(q.fuse_modules_qat(model, [["1", "2", "3"], ["5", "6"], ["8", "9"]]))
        optimizer = library.optim.SGD(prepared.parameters(), lr=0.1)
        for _ in range(2):
            optimizer.zero_grad()
            output = prepared(library.tensor(x))
            output.square().mean().backward()
            optimizer.step()
        prepared.apply(library.ao.nn.intrinsic.qat.freeze_bn_stats)
        prepared.eval()
        frozen = prepared(library.tensor(x)).detach().numpy()
        layers = [(name, type(module).__name__) for name, module in prepared.named_modules() if "fake_quant" not in name and "post_process" not in name]
        results[library] = (layers, frozen, q.convert(prepared))
    our_print, our_frozen, our_converted = results[chainrule]
    their_print, their_frozen, their_converted = results[torch]
    assert our_print == their_print  # the same QAT layers (PyTorch's fake quantizers are its fused ones)
    np.testing.assert_allclose(our_frozen, their_frozen, atol=0.05)
    assert without_numbers(repr(our_converted)) == without_numbers(repr(their_converted).replace("torch.", "chainrule."))
    assert np.abs(our_converted(chainrule.tensor(x)).numpy() - their_converted(torch.tensor(x)).numpy()).max() <= 0.1


def test_fusion_mappings_and_names_match_pytorchs():
    ours = chainrule.ao.quantization.get_default_qat_module_mappings()
    theirs = torch.ao.quantization.get_default_qat_module_mappings()
    assert [(key.__name__, value.__name__) for key, value in ours.items()] == [(key.__name__, value.__name__) for key, value in theirs.items()]
    for package in ("ao.nn.intrinsic", "ao.nn.intrinsic.qat", "ao.nn.qat"):
        our_module = chainrule
        their_module = torch
        for part in package.split("."):
            our_module, their_module = getattr(our_module, part), getattr(their_module, part)
        wanted = {name for name in dir(their_module) if name[0].isupper() and name not in ("ConvAdd2d", "ConvAddReLU2d", "LinearLeakyReLU", "LinearTanh", "Embedding", "EmbeddingBag")}
        assert wanted <= set(dir(our_module)), wanted - set(dir(our_module))
    q = {library: library.ao.quantization for library in (chainrule, torch)}
    nn = {library: library.nn for library in (chainrule, torch)}
    assert_raises_as_pytorch(
        lambda: q[chainrule].fuse_modules_qat(nn[chainrule].Sequential(nn[chainrule].ConvTranspose2d(1, 2, 2), nn[chainrule].BatchNorm2d(2)), ["0", "1"]),
        lambda: q[torch].fuse_modules_qat(nn[torch].Sequential(nn[torch].ConvTranspose2d(1, 2, 2), nn[torch].BatchNorm2d(2)), ["0", "1"]),
    )
    assert_raises_as_pytorch(
        lambda: chainrule.ao.nn.intrinsic.ConvReLU1d(chainrule.nn.Conv2d(1, 1, 1), chainrule.nn.ReLU()),
        lambda: torch.ao.nn.intrinsic.ConvReLU1d(torch.nn.Conv2d(1, 1, 1), torch.nn.ReLU()),
    )
