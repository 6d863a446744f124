"""Graph mode post-training quantization (``quantize_fx``), as PyTorch's FX tutorials run it: the
same models, weights and calibration data in both libraries; the prepared and converted graphs
and the outputs compared."""
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
    """``relu(conv(x) + x)`` (add_relu), ``F.max_pool2d``, ``*``, ``reshape(x.size(0), -1)``, ``+ 1``,
    a Sigmoid layer and ``sigmoid(...).mean()`` (fixed-range outputs)."""
    nn, F = library.nn, library.nn.functional

    class FunctionalOps(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.relu, self.fc, self.sig = nn.Conv2d(1, 1, 3, padding=1), nn.ReLU(), nn.Linear(9, 3), nn.Sigmoid()

        def forward(self, x):
            y = F.max_pool2d(self.relu(self.conv(x) + x), 2)
            y = y * y
            z = y.reshape(y.size(0), -1) + 1
            return self.sig(self.fc(z)), library.sigmoid(z).mean()

    return FunctionalOps()


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
    from importlib import import_module

    quantize_fx = import_module(f"{library.__name__}.ao.quantization.quantize_fx")
    mapping = qconfig_mapping or q.get_default_qconfig_mapping("x86")
    prepared = quantize_fx.prepare_fx(model, mapping, (library.tensor(data[0]),))
    for batch in data:
        prepared(library.tensor(batch))
    return prepared, quantize_fx.convert_fx(prepared)


def comparable(code):
    """Generated code with PyTorch's names as ours, node numbering dropped (``add_1`` is ``add``)."""
    code = code.replace("torch.", "chainrule.").replace("chainrule.nn.functional.", "F.").replace("chainrule.ops.quantized", "QOPS")
    code = re.sub(r"\b(add|mul|add_relu)_\d+\b", r"\1", code)
    code = re.sub(r"\b_(scale|zero_point)_\d+\b", r"_\1_N", code)
    return [line.strip() for line in code.strip().splitlines()]


def shared_observers(prepared):
    """The observer names grouped by the module they call (shared observers)."""
    groups = {}
    for name, module in prepared.named_modules(remove_duplicate=False):
        if name.startswith("activation_post_process"):
            groups.setdefault(id(module), []).append(name)
    return sorted(groups.values())


@pytest.mark.parametrize("build, shape", [(residual_cnn, (4, 1, 6, 6)), (functional_ops, (4, 1, 6, 6)), (shared_relu, (2, 1, 5, 5))])
def test_prepare_calibrate_convert_as_pytorch(build, shape):
    ours, theirs = same_models(build)
    rng = np.random.default_rng(1)
    data = [rng.standard_normal(shape).astype(np.float32) for _ in range(2)]
    our_prepared, our_model = quantized_fx(chainrule, ours, data)
    engine = torch.backends.quantized.engine
    torch.backends.quantized.engine = "x86"
    try:
        their_prepared, their_model = quantized_fx(torch, theirs, data)
        x = rng.standard_normal(shape).astype(np.float32)
        their_outputs = their_model(torch.tensor(x))
    finally:
        torch.backends.quantized.engine = engine
    assert comparable(our_prepared.code) == comparable(their_prepared.code)
    assert shared_observers(our_prepared) == shared_observers(their_prepared)
    assert comparable(our_model.code) == comparable(their_model.code)
    assert [type(each).__name__ for each in our_model.children()] == [type(each).__name__ for each in their_model.children()]
    our_outputs = our_model(chainrule.tensor(x))
    for ours_out, theirs_out in zip(*(each if isinstance(each, tuple) else (each,) for each in (our_outputs, their_outputs))):
        # the calibrated scales may differ in float32's last bit (the float layers sum in another
        # order): a value at a rounding tie moves one step, and what follows by a few
        step = np.abs(theirs_out.numpy()).max() / 50 + 1e-3
        assert np.abs(ours_out.numpy() - theirs_out.numpy()).max() <= 5 * step


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
