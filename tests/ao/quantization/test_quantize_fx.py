"""Graph mode post-training quantization (``quantize_fx``), as PyTorch's FX tutorials run it: the
same models, weights and calibration data in both libraries; the prepared and converted graphs
and the outputs compared."""
import contextlib
import importlib
import re

import numpy as np
import pytest
import torch

import chainrule
from tests.ao.quantization import same_weights
from tests.quantized.pytorch_errors import assert_raises_as_pytorch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning", "ignore::FutureWarning")


def residual_cnn(library):
    """Conv-BN-ReLU, max pool, a residual ``+``, ``cat``, ``flatten``, Linear-ReLU, Linear."""
    nn = library.nn

    class ResidualCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.relu = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()
            self.pool, self.conv2 = nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1)
            self.fc, self.relu2, self.fc2 = nn.Linear(72, 10), nn.ReLU(), nn.Linear(10, 3)

        def forward(self, x):
            x = self.pool(self.relu(self.bn(self.conv(x))))
            y = self.conv2(x)
            x = library.cat([x + y, y], 1)
            return self.fc2(self.relu2(self.fc(library.flatten(x, 1))))

    return ResidualCNN()


def functional_ops(library):
    """``relu(conv(x) + x)`` (add_relu), ``F.max_pool2d``, ``*``, ``relu(y + 1)`` (add_relu with a
    number), ``reshape(x.size(0), -1)``, ``+ 1``,
    a Sigmoid layer and ``sigmoid(...).mean()`` (fixed-range outputs)."""
    nn, F = library.nn, library.nn.functional

    class FunctionalOps(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.relu, self.fc, self.sig = nn.Conv2d(1, 1, 3, padding=1), nn.ReLU(), nn.Linear(9, 3), nn.Sigmoid()

        def forward(self, x):
            y = F.max_pool2d(self.relu(self.conv(x) + x), 2)
            y = F.relu(y * y + 1)
            z = y.reshape(y.size(0), -1) + 1
            return self.sig(self.fc(z)), library.sigmoid(z).mean()

    return FunctionalOps()


def functional_layers(library):
    """``F.linear`` on a weight the model holds, twice (one weight observer) and then ReLU
    (``linear_relu``), ``F.conv2d`` + ReLU and ``F.conv1d`` (packed weights), ``matmul``,
    functional hardswish, ELU, leaky ReLU and layer norm (output parameters given), softmax (float)."""
    nn, F = library.nn, library.nn.functional

    class FunctionalLayers(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight, self.bias = nn.Parameter(library.randn(4, 4) / 2), nn.Parameter(library.randn(4))
            self.conv_weight, self.conv_bias = nn.Parameter(library.randn(2, 1, 3, 3) / 3), nn.Parameter(library.randn(2))
            self.conv1d_weight = nn.Parameter(library.randn(2, 2, 3) / 3)

        def forward(self, x):
            y = F.relu(F.linear(x, self.weight, self.bias))
            y = F.linear(y, self.weight)
            z = F.relu(F.conv2d(y.reshape(2, 1, 4, 2), self.conv_weight, self.conv_bias, (1, 1), (1, 1), (1, 1), 1))
            u = F.conv1d(z.flatten(2), self.conv1d_weight, None, (1,), (0,), (1,), 1)
            m = library.matmul(y, y.t())
            return (u, F.softmax(m, dim=-1), F.hardswish(m), F.elu(m), F.leaky_relu(m, 0.1), F.layer_norm(m, (4,)))

    return FunctionalLayers()


def shared_relu(library):
    """One ReLU module called twice, once after Conv-BN (fused) and once more: the fused module
    holds it, and the second call still reaches it; adaptive average pool, ``flatten``, sigmoid."""
    nn = library.nn

    class SharedReLU(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.relu = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()
            self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(4, 3)

        def forward(self, x):
            y = self.relu(self.bn(self.conv(x)))
            y = y + self.relu(y)
            return library.sigmoid(self.fc(library.flatten(self.pool(y), 1)))

    return SharedReLU()


def same_models(build):
    """The two models of ``build`` with the same weights (``same_weights``), in evaluation mode."""
    ours, theirs = same_weights.same_models(build)
    return ours.eval(), theirs.eval()


def quantized_fx(library, model, data, qconfig_mapping=None):
    q = library.ao.quantization
    quantize_fx = importlib.import_module(f"{library.__name__}.ao.quantization.quantize_fx")
    mapping = qconfig_mapping or q.get_default_qconfig_mapping("x86")
    prepared = quantize_fx.prepare_fx(model, mapping, (library.tensor(data[0]),))
    for batch in data:
        prepared(library.tensor(batch))
    return prepared, quantize_fx.convert_fx(prepared)


def comparable(code):
    """Generated code with PyTorch's names as ours (its ``F.linear`` is ``torch._C._nn.linear``, its
    ``F.conv2d`` ``torch.conv2d``)."""
    code = code.replace("torch._C._nn.", "F.").replace("torch.", "chainrule.").replace("chainrule.nn.functional.", "F.")
    code = re.sub(r"\bchainrule\.(conv[123]d)\(", r"F.\1(", code).replace("chainrule.ops.quantized", "QOPS")
    return [line.strip() for line in code.strip().splitlines()]


def shared_observers(prepared):
    """The observer names grouped by the module they call (shared observers)."""
    groups = {}
    for name, module in prepared.named_modules(remove_duplicate=False):
        if name.startswith("activation_post_process"):
            groups.setdefault(id(module), []).append(name)
    return sorted(groups.values())


@contextlib.contextmanager
def x86_engine():
    """PyTorch's quantized engine set to x86 (the backend of the default qconfigs here)."""
    engine = torch.backends.quantized.engine
    torch.backends.quantized.engine = "x86"
    try:
        yield
    finally:
        torch.backends.quantized.engine = engine


def assert_within_steps(our_outputs, their_outputs, steps=5):
    """Each output (or tuple of outputs) within ``steps`` quantization steps of PyTorch's, a step
    taken as 1/50 of the largest value (the output observers see ranges of about 50 steps here)."""
    pairs = zip(*(each if isinstance(each, tuple) else (each,) for each in (our_outputs, their_outputs)))
    for ours, theirs in pairs:
        step = np.abs(theirs.detach().numpy()).max() / 50 + 1e-3
        assert np.abs(ours.detach().numpy() - theirs.detach().numpy()).max() <= steps * step


def min_max_mapping(library):
    """``default_qconfig`` (min-max observers) everywhere: calibrates faster than the histograms of
    the default mapping, for the model with many observed values."""
    q = library.ao.quantization
    return q.QConfigMapping().set_global(q.default_qconfig)


@pytest.mark.parametrize("build, shape, mapping", [
    (residual_cnn, (4, 1, 6, 6), None), (functional_ops, (4, 1, 6, 6), None), (shared_relu, (2, 1, 5, 5), None),
    (functional_layers, (4, 4), min_max_mapping),
])
def test_prepare_calibrate_convert_as_pytorch(build, shape, mapping):
    ours, theirs = same_models(build)
    rng = np.random.default_rng(1)
    data = [rng.standard_normal(shape).astype(np.float32) for _ in range(2)]
    our_prepared, our_model = quantized_fx(chainrule, ours, data, mapping and mapping(chainrule))
    with x86_engine():
        their_prepared, their_model = quantized_fx(torch, theirs, data, mapping and mapping(torch))
        x = rng.standard_normal(shape).astype(np.float32)
        their_outputs = their_model(torch.tensor(x))
    assert comparable(our_prepared.code) == comparable(their_prepared.code)
    assert shared_observers(our_prepared) == shared_observers(their_prepared)
    assert comparable(our_model.code) == comparable(their_model.code)
    assert [type(each).__name__ for each in our_model.children()] == [type(each).__name__ for each in their_model.children()]
    # the calibrated scales may differ in float32's last bit (the float layers sum in another
    # order): a value at a rounding tie moves one step, and what follows by a few
    assert_within_steps(our_model(chainrule.tensor(x)), their_outputs)


def test_dynamic_linear_and_lstm_as_pytorch():
    def build(library):
        nn = library.nn

        class Recurrent(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc, self.lstm = nn.Linear(4, 4), nn.LSTM(4, 3)

            def forward(self, x):
                return self.lstm(self.fc(x))[0]

        return Recurrent()

    ours, theirs = same_models(build)
    data = [np.random.default_rng(2).standard_normal((3, 2, 4)).astype(np.float32)]
    models = []
    for library, model in ((chainrule, ours), (torch, theirs)):
        q, nn = library.ao.quantization, library.nn
        mapping = q.QConfigMapping().set_object_type(nn.Linear, q.default_dynamic_qconfig).set_object_type(nn.LSTM, q.default_dynamic_qconfig)
        models.append(quantized_fx(library, model, data, mapping))
    (our_prepared, our_model), (their_prepared, their_model) = models
    assert comparable(our_prepared.code) == comparable(their_prepared.code)
    assert repr(our_model).replace("chainrule.", "torch.").splitlines()[:3] == repr(their_model).splitlines()[:3]
    np.testing.assert_allclose(our_model(chainrule.tensor(data[0])).numpy(), their_model(torch.tensor(data[0])).numpy(), atol=1e-4)


def test_qconfig_mapping_repr_and_dict_as_pytorch():
    def text(library):
        raw = repr(library.ao.quantization.get_default_qconfig_mapping("qnnpack"))
        raw = re.sub(r" at 0x[0-9a-f]+", "", raw.replace("torch.", "chainrule."))
        return re.sub(r"<(?:class|function|built-in method) '?[\w.]*?(\w+)'?(?: of [^>]*)?>", r"\1", raw).splitlines()

    ours, theirs = text(chainrule), text(torch)
    assert ours == theirs
    q = chainrule.ao.quantization
    mapping = (q.QConfigMapping().set_global(q.default_qconfig).set_object_type(chainrule.nn.Linear, None)
               .set_module_name_regex("layer.*", q.default_qconfig).set_module_name("fc", None)
               .set_module_name_object_type_order("", chainrule.add, 0, None))
    assert q.QConfigMapping.from_dict(mapping.to_dict()).to_dict() == mapping.to_dict()
    assert list(mapping.to_dict()) == list(torch.ao.quantization.QConfigMapping().to_dict())


def test_module_name_none_leaves_a_layer_float():
    ours, _ = same_models(residual_cnn)
    q = chainrule.ao.quantization
    mapping = q.get_default_qconfig_mapping().set_module_name("fc2", None)
    _, model = quantized_fx(chainrule, ours, [np.random.default_rng(3).standard_normal((2, 1, 6, 6)).astype(np.float32)], mapping)
    assert type(model.fc2) is chainrule.nn.Linear and "fc.dequantize()" in model.code
    assert not model(chainrule.ones(1, 1, 6, 6)).is_quantized


def test_bad_input_as_pytorch():
    import torch.ao.quantization.quantize_fx as their_fx

    import chainrule.ao.quantization.quantize_fx as our_fx

    def linear(library):
        return library.nn.Sequential(library.nn.Linear(3, 3)).eval()

    def mapping(library):
        return library.ao.quantization.get_default_qconfig_mapping()

    assert_raises_as_pytorch(lambda: our_fx.prepare_fx(linear(chainrule), mapping(chainrule)),
                             lambda: their_fx.prepare_fx(linear(torch), mapping(torch)))
    assert_raises_as_pytorch(lambda: our_fx.prepare_fx(linear(chainrule), 3, (chainrule.ones(1, 3),)),
                             lambda: their_fx.prepare_fx(linear(torch), 3, (torch.ones(1, 3),)))
    assert_raises_as_pytorch(lambda: our_fx.convert_fx(linear(chainrule)), lambda: their_fx.convert_fx(linear(torch)))
    assert_raises_as_pytorch(lambda: our_fx.convert_fx(chainrule.fx.symbolic_trace(linear(chainrule))),
                             lambda: their_fx.convert_fx(torch.fx.symbolic_trace(linear(torch))))

    def branching(library):
        class Branching(library.nn.Module):
            def forward(self, x):
                return x if x.sum() > 0 else -x

        return Branching()

    with pytest.raises(chainrule.fx.proxy.TraceError, match="cannot be used as inputs to control flow"):
        our_fx.prepare_fx(branching(chainrule), mapping(chainrule), (chainrule.ones(2),))
    prepared = our_fx.prepare_fx(linear(chainrule).train(), mapping(chainrule), (chainrule.ones(1, 3),))
    assert prepared.training  # as PyTorch: a model in training mode is prepared as it is


def test_quantization_aware_training_as_pytorch():
    """``prepare_qat_fx`` on a model in training mode (Conv-BN-ReLU fused with its batch norm kept,
    layers swapped for their QAT forms, fake quantizers), two SGD steps on the same data, then
    ``convert_fx``. The printed prepared models are the same and the first losses agree to float32
    rounding. The gradients may not: ``torch.sqrt`` on CPU is not correctly rounded (about one
    value in five differs from NumPy's in the last bit), so the folded batch norm's scale factor
    may too, and the largest scaled weight, which sets the scale, sits exactly at the end of the
    fake quantizer's range, where one library may cut its straight-through gradient and the other
    not: a weight's gradient can differ, the second loss by a few per mille. Ties in the fake
    quantizers then move a value one step here and there: the converted outputs are compared
    within a few quantization steps. Both use the default QAT mapping (FusedMovingAvgObsFakeQuantize)."""
    rng = np.random.default_rng(4)
    data = [rng.standard_normal((4, 1, 6, 6)).astype(np.float32) for _ in range(3)]
    results = []
    for library, model in zip((chainrule, torch), same_weights.same_models(residual_cnn)):
        quantize_fx = importlib.import_module(f"{library.__name__}.ao.quantization.quantize_fx")
        mapping = library.ao.quantization.get_default_qat_qconfig_mapping("x86")
        with x86_engine():
            prepared = quantize_fx.prepare_qat_fx(model.train(), mapping, (library.tensor(data[0]),))
            printed = str(prepared)
            optimizer = library.optim.SGD(prepared.parameters(), lr=0.1)
            losses = []
            for batch in data[:2]:
                loss = prepared(library.tensor(batch)).square().mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss))
            converted = quantize_fx.convert_fx(prepared.eval())
            results.append((printed, losses, converted, converted(library.tensor(data[2]))))
    (our_printed, our_losses, our_model, our_output), (their_printed, their_losses, their_model, their_output) = results
    assert our_printed.replace("chainrule.", "torch.") == their_printed
    np.testing.assert_allclose(our_losses[0], their_losses[0], rtol=1e-5)
    np.testing.assert_allclose(our_losses[1], their_losses[1], rtol=1e-2)
    assert comparable(our_model.code) == comparable(their_model.code)
    assert_within_steps(our_output, their_output)
