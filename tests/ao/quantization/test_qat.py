"""Quantization-aware training (the "Quantization Aware Training" tutorial's steps) and the
FakeQuantize module, compared with PyTorch."""
import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


def network(library):
    nn, q = library.nn, library.ao.quantization
    return nn.Sequential(q.QuantStub(), nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 6 * 6, 3), q.DeQuantStub())


def trained_and_converted(library, model, x, y, epochs=20):
    q = library.ao.quantization
    model.train()
    model.qconfig = q.get_default_qat_qconfig("x86")
    prepared = q.prepare_qat(q.fuse_modules_qat(model, [["1", "2", "3"]]))
    optimizer = library.optim.SGD(prepared.parameters(), lr=0.05)
    for epoch in range(epochs):
        if epoch == epochs - 3:
            prepared.apply(q.disable_observer)
        optimizer.zero_grad()
        loss = library.nn.functional.cross_entropy(prepared(library.tensor(x)), library.tensor(y))
        loss.backward()
        optimizer.step()
    prepared.eval()
    return float(loss), q.convert(prepared)


def test_qat_trains_and_converts_to_pytorchs_accuracy():
    torch.manual_seed(0)
    theirs = network(torch)
    ours = network(chainrule)
    ours.load_state_dict({key: chainrule.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 6, 6)).astype(np.float32)
    y = x.reshape(64, -1)[:, :3].argmax(1)
    our_loss, our_model = trained_and_converted(chainrule, ours, x, y)
    their_loss, their_model = trained_and_converted(torch, theirs, x, y)
    assert our_loss == pytest.approx(their_loss, rel=0.05)
    assert [type(each).__name__ for each in our_model] == ["Quantize", "ConvReLU2d", "Identity", "Identity", "Flatten", "Linear", "DeQuantize"]
    our_accuracy = (our_model(chainrule.tensor(x)).numpy().argmax(1) == y).mean()
    their_accuracy = (their_model(torch.tensor(x)).numpy().argmax(1) == y).mean()
    assert abs(our_accuracy - their_accuracy) <= 0.05


@pytest.mark.parametrize("factory", ["default_fake_quant", "default_weight_fake_quant", "default_per_channel_weight_fake_quant"])
def test_fake_quantize_module_gives_pytorchs_values_gradients_and_parameters(factory):
    ours, theirs = getattr(chainrule.ao.quantization, factory)(), getattr(torch.ao.quantization, factory)()
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")
    rng = np.random.default_rng(1)
    for _ in range(3):
        values = rng.standard_normal((4, 5)).astype(np.float32) * 2
        our_x, their_x = chainrule.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        our_out, their_out = ours(our_x), theirs(their_x)
        np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), atol=1e-6)
        our_out.sum().backward()
        their_out.sum().backward()
        np.testing.assert_array_equal(our_x.grad.numpy(), their_x.grad.numpy())
    np.testing.assert_allclose(ours.scale.numpy(), theirs.scale.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ours.zero_point.numpy(), theirs.zero_point.numpy())


def test_fake_quantize_switches_as_pytorchs():
    fake_quantize = chainrule.ao.quantization.default_fake_quant()
    x = chainrule.randn(8)
    fake_quantize(x)
    scale = fake_quantize.scale.clone()
    fake_quantize.apply(chainrule.ao.quantization.disable_observer)
    fake_quantize(x * 10)
    assert fake_quantize.scale.tolist() == scale.tolist()
    fake_quantize.disable_fake_quant()
    assert fake_quantize(x * 10) is not None and chainrule.equal(fake_quantize(x * 10), x * 10)


def test_qconfigs_print_as_pytorchs():
    for name in ["default_qconfig", "default_dynamic_qconfig", "default_per_channel_qconfig"]:
        ours = repr(getattr(chainrule.ao.quantization, name)).replace("chainrule.", "torch.")
        assert ours == repr(getattr(torch.ao.quantization, name))
    for backend in ["x86", "fbgemm", "qnnpack", "onednn"]:
        ours = repr(chainrule.ao.quantization.get_default_qconfig(backend)).replace("chainrule.", "torch.")
        assert ours == repr(torch.ao.quantization.get_default_qconfig(backend))
    with pytest.raises(AssertionError, match="not supported"):
        chainrule.ao.quantization.get_default_qconfig("tpu")
    with pytest.raises(ValueError, match="QConfig received observer instance"):
        chainrule.ao.quantization.QConfig(activation=chainrule.ao.quantization.MinMaxObserver(), weight=None)


def test_torch_quantization_is_the_same_module():
    assert chainrule.quantization.prepare is chainrule.ao.quantization.prepare
    assert chainrule.quantization.QuantStub is chainrule.ao.quantization.QuantStub


def test_torch_nn_quantized_is_the_older_name_of_ao_nn_quantized():
    assert chainrule.nn.quantized.FloatFunctional is chainrule.ao.nn.quantized.FloatFunctional
    assert chainrule.nn.quantized.dynamic.Linear is chainrule.ao.nn.quantized.dynamic.Linear
