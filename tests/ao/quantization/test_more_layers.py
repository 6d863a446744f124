"""The quantized PReLU, Softmax, MaxPool2d and FXFloatFunctional of ``torch.ao.nn.quantized``, the
QAT embeddings, and the fused observer and fake quantizer of PyTorch's default QAT qconfig:
printed and computed as PyTorch's (the same integers out)."""
import re

import numpy as np
import pytest
import torch

import chainrule
from tests.ao.quantization.same_weights import same_models
from tests.quantized.pytorch_errors import assert_raises_as_pytorch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


def quantized_pair(values, scale, zero_point):
    return (
        chainrule.quantize_per_tensor(chainrule.tensor(values), scale, zero_point, chainrule.quint8),
        torch.quantize_per_tensor(torch.tensor(values), scale, zero_point, torch.quint8),
    )


def assert_same_integers(ours, theirs):
    assert (ours.q_scale(), ours.q_zero_point()) == (theirs.q_scale(), theirs.q_zero_point())
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())


def printed(module):
    return repr(module).replace("chainrule.", "torch.")


def printed_to_float32(module):
    """``printed``, each scale shown to 6 significant digits: after training, a scale observed from
    float32 sums taken in another order may differ from PyTorch's in its last bit."""
    return re.sub(r"scale=([0-9.e-]+)", lambda match: f"scale={float(match.group(1)):.6g}", printed(module))


# A weight scale under 1/255 makes PyTorch's quantized 1 of the slopes saturate (the second case).
@pytest.mark.parametrize("channels, weight_scale, weight_zero_point", [(1, 0.01, 3), (4, 0.002, 0), (3, 0.03, 200)])
def test_prelu_gives_pytorchs_integers(channels, weight_scale, weight_zero_point):
    rng = np.random.default_rng(0)
    slopes = rng.uniform(-0.5, 0.5, channels).astype(np.float32)
    ours, theirs = chainrule.ao.nn.quantized.PReLU(0.04, 100, channels), torch.ao.nn.quantized.PReLU(0.04, 100, channels)
    our_weight, their_weight = quantized_pair(slopes, weight_scale, weight_zero_point)
    ours.set_weight(our_weight)
    theirs.set_weight(their_weight)
    assert repr(ours) == repr(theirs) == "QuantizedPReLU()"
    our_input, their_input = quantized_pair(rng.uniform(-3, 3, (2, channels, 5)).astype(np.float32), 0.03, 120)
    assert_same_integers(ours(our_input), theirs(their_input))


def test_prelu_converts_from_float_as_pytorchs():
    rng = np.random.default_rng(0)
    def build(library):
        q = library.ao.quantization
        model = library.nn.Sequential(q.QuantStub(), library.nn.PReLU(3), q.DeQuantStub()).eval()
        model.qconfig = q.QConfig(activation=q.MinMaxObserver, weight=q.MinMaxObserver)
        return model

    ours, theirs = same_models(build)
    ours[1].weight.data = chainrule.tensor([0.1, -0.2, 0.3])
    theirs[1].weight.data = torch.tensor([0.1, -0.2, 0.3])
    values = rng.standard_normal((4, 3, 2)).astype(np.float32)
    converted = []
    for library, model in ((chainrule, ours), (torch, theirs)):
        prepared = library.ao.quantization.prepare(model)
        prepared(library.tensor(values))
        converted.append(library.ao.quantization.convert(prepared))
    assert printed(converted[0]) == printed(converted[1])
    our_input, their_input = quantized_pair(values, 0.02, 128)
    assert_same_integers(converted[0][1].weight, converted[1][1].weight)
    assert_same_integers(converted[0][1](our_input), converted[1][1](their_input))


def test_prelu_refuses_what_pytorchs_refuses():
    rng = np.random.default_rng(0)
    ours, theirs = chainrule.ao.nn.quantized.PReLU(0.04, 100, 4), torch.ao.nn.quantized.PReLU(0.04, 100, 4)
    our_input, their_input = quantized_pair(rng.standard_normal((2, 3, 5)).astype(np.float32), 0.03, 120)
    assert_raises_as_pytorch(lambda: ours(our_input), lambda: theirs(their_input))
    assert_raises_as_pytorch(lambda: ours(chainrule.randn(2, 4)), lambda: theirs(torch.randn(2, 4)))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_gives_pytorchs_integers(dim):
    rng = np.random.default_rng(0)
    ours, theirs = chainrule.ao.nn.quantized.Softmax(dim, 1 / 256, 0), torch.ao.nn.quantized.Softmax(dim, 1 / 256, 0)
    assert printed(ours) == repr(theirs)
    our_input, their_input = quantized_pair(rng.uniform(-4, 4, (3, 6, 5)).astype(np.float32), 0.05, 110)
    assert_same_integers(ours(our_input), theirs(their_input))


def test_softmax_from_float_takes_the_observed_qparams():
    modules = []
    for library in (chainrule, torch):
        float_softmax = library.nn.Softmax(dim=1)
        float_softmax.activation_post_process = library.ao.quantization.MinMaxObserver()
        float_softmax.activation_post_process(library.tensor([[0.0, 0.3, 0.9]]))
        modules.append(library.ao.nn.quantized.Softmax.from_float(float_softmax))
    assert (modules[0].dim, modules[0].scale, modules[0].zero_point) == (modules[1].dim, modules[1].scale, modules[1].zero_point)


def test_max_pool2d_is_the_float_module_on_quantized_tensors():
    rng = np.random.default_rng(0)
    assert chainrule.ao.nn.quantized.MaxPool2d is chainrule.nn.MaxPool2d
    our_input, their_input = quantized_pair(rng.standard_normal((1, 2, 4, 4)).astype(np.float32), 0.03, 120)
    assert_same_integers(chainrule.ao.nn.quantized.MaxPool2d(2)(our_input), torch.ao.nn.quantized.MaxPool2d(2)(their_input))


def test_fx_float_functional_computes_without_observing():
    rng = np.random.default_rng(0)
    ours, theirs = chainrule.ao.nn.quantized.FXFloatFunctional(), torch.ao.nn.quantized.FXFloatFunctional()
    assert repr(ours) == repr(theirs) and not list(ours.children())
    x, y = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    for name in ("add", "mul", "add_relu"):
        mine = getattr(ours, name)(chainrule.tensor(x), chainrule.tensor(y))
        np.testing.assert_array_equal(mine.numpy(), getattr(theirs, name)(torch.tensor(x), torch.tensor(y)).numpy())
    assert_raises_as_pytorch(lambda: ours(chainrule.tensor(x)), lambda: theirs(torch.tensor(x)))


def embedding_model(library):
    class Tables(library.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = library.nn.Embedding(10, 4)
            self.bag = library.nn.EmbeddingBag(10, 4, mode="sum")

        def forward(self, ids):
            return self.embedding(ids).sum(1) + self.bag(ids)

    return Tables()


def test_embedding_qat_trains_and_converts_as_pytorchs():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10, (5, 3))
    converted, trained_outputs = [], []
    for library, model in zip((chainrule, torch), same_models(embedding_model)):
        q = library.ao.quantization
        model.qconfig = q.default_embedding_qat_qconfig
        prepared = q.prepare_qat(model, mapping=q.get_embedding_qat_module_mappings())
        optimizer = library.optim.SGD(prepared.parameters(), lr=0.1)
        for _ in range(2):
            optimizer.zero_grad()
            output = prepared(library.tensor(ids))
            (output ** 2).mean().backward()
            optimizer.step()
        trained_outputs.append(output.detach().numpy())
        prepared.eval()
        converted.append(q.convert(prepared, mapping=q.get_embedding_static_quant_module_mappings()))
    np.testing.assert_allclose(trained_outputs[0], trained_outputs[1], rtol=1e-5, atol=1e-5)
    assert printed(converted[0]) == printed(converted[1])
    assert type(converted[0].embedding) is chainrule.ao.nn.quantized.Embedding
    # The tables are quantized per row from weights that may differ in their last bit after
    # training (float32 sums in another order): the outputs agree to a row's quantization step.
    np.testing.assert_allclose(converted[0](chainrule.tensor(ids)).numpy(), converted[1](torch.tensor(ids)).numpy(), atol=0.05)


def test_embedding_qat_refuses_a_qconfig_that_is_not_per_row():
    our_qconfig, their_qconfig = chainrule.ao.quantization.default_qat_qconfig, torch.ao.quantization.default_qat_qconfig
    assert_raises_as_pytorch(
        lambda: chainrule.ao.nn.qat.Embedding(4, 2, qconfig=our_qconfig), lambda: torch.ao.nn.qat.Embedding(4, 2, qconfig=their_qconfig)
    )
    assert_raises_as_pytorch(lambda: chainrule.ao.nn.qat.EmbeddingBag(4, 2), lambda: torch.ao.nn.qat.EmbeddingBag(4, 2))


@pytest.mark.parametrize(
    "factory", ["default_fused_act_fake_quant", "default_fused_wt_fake_quant", "default_fused_per_channel_wt_fake_quant"]
)
def test_fused_fake_quantize_gives_pytorchs_values_gradients_and_parameters(factory):
    rng = np.random.default_rng(0)
    ours, theirs = getattr(chainrule.ao.quantization, factory)(), getattr(torch.ao.quantization, factory)()
    assert printed(ours) == repr(theirs)
    for step in range(3):
        if step == 2:
            ours.disable_observer()
            theirs.disable_observer()
        values = rng.standard_normal((4, 5)).astype(np.float32) * (step + 1)
        our_x, their_x = chainrule.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        our_out, their_out = ours(our_x), theirs(their_x)
        np.testing.assert_array_equal(our_out.detach().numpy(), their_out.detach().numpy())
        our_out.sum().backward()
        their_out.sum().backward()
        np.testing.assert_array_equal(our_x.grad.numpy(), their_x.grad.numpy())
        np.testing.assert_array_equal(ours.scale.numpy(), theirs.scale.numpy())
        np.testing.assert_array_equal(ours.zero_point.numpy(), theirs.zero_point.numpy())
    assert printed(ours) == repr(theirs)


def test_default_qat_qconfigs_print_as_pytorchs():
    for backend in ["x86", "fbgemm", "qnnpack", "onednn"]:
        for version in (0, 1):
            ours = chainrule.ao.quantization.get_default_qat_qconfig(backend, version)
            theirs = torch.ao.quantization.get_default_qat_qconfig(backend, version)
            assert printed(ours) == repr(theirs)
    assert printed(chainrule.ao.quantization.get_default_qat_qconfig("x86").activation()) == repr(
        torch.ao.quantization.get_default_qat_qconfig("x86").activation()
    )
    assert printed(chainrule.ao.quantization.default_embedding_qat_qconfig) == repr(torch.ao.quantization.default_embedding_qat_qconfig)


def linear_network(library):
    q = library.ao.quantization
    return library.nn.Sequential(q.QuantStub(), library.nn.Linear(6, 5), library.nn.ReLU(), library.nn.Linear(5, 3), q.DeQuantStub())


def test_qat_with_the_fused_qconfig_converts_to_pytorchs_model():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 6)).astype(np.float32)
    converted, outputs = [], []
    for library, model in zip((chainrule, torch), same_models(linear_network)):
        q = library.ao.quantization
        model.qconfig = q.get_default_qat_qconfig("x86")
        prepared = q.prepare_qat(model.train())
        optimizer = library.optim.SGD(prepared.parameters(), lr=0.1)
        for _ in range(2):
            optimizer.zero_grad()
            (prepared(library.tensor(x)) ** 2).mean().backward()
            optimizer.step()
        quantized = q.convert(prepared.eval())
        converted.append(quantized)
        outputs.append(quantized(library.tensor(x)).numpy())
    assert printed_to_float32(converted[0]) == printed_to_float32(converted[1])
    # After training, weights may differ in their last float32 bit (sums in another order), which
    # can move a value across a rounding boundary: outputs agree to one step of the output scale.
    np.testing.assert_allclose(outputs[0], outputs[1], atol=converted[1][3].scale * 1.01)
