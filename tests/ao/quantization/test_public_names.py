"""The public names of torch.ao.quantization added for parity: each compared with PyTorch's."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.ao.quantization as ours
import torch.ao.quantization as theirs


def printed(module):
    return repr(module).replace("chainrule.", "torch.")


FACTORIES = [
    "default_histogram_observer", "default_debug_observer", "default_dynamic_fake_quant", "default_histogram_fake_quant",
    "default_fixed_qparams_range_0to1_fake_quant", "default_fixed_qparams_range_neg1to1_fake_quant",
    "default_symmetric_fixed_qparams_observer", "default_affine_fixed_qparams_observer",
    "default_symmetric_fixed_qparams_fake_quant", "default_affine_fixed_qparams_fake_quant",
    "weight_observer_range_neg_127_to_127", "per_channel_weight_observer_range_neg_127_to_127",
    "default_float_qparams_observer_4bit",
]


@pytest.mark.parametrize("name", FACTORIES)
def test_factories_print_as_pytorchs(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert printed(getattr(ours, name)()) == repr(getattr(theirs, name)())


@pytest.mark.parametrize("name", ["weight_observer_range_neg_127_to_127", "per_channel_weight_observer_range_neg_127_to_127",
                                  "default_float_qparams_observer_4bit", "default_histogram_observer"])
def test_observers_choose_pytorchs_parameters(name):
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    our_observer, their_observer = getattr(ours, name)(), getattr(theirs, name)()
    our_observer(chainrule.tensor(x))
    their_observer(torch.tensor(x))
    for mine, pytorchs in zip(our_observer.calculate_qparams(), their_observer.calculate_qparams()):
        np.testing.assert_allclose(mine.numpy(), pytorchs.numpy(), rtol=1e-6)


def test_recording_observer_keeps_copies():
    observer = ours.RecordingObserver()
    x = chainrule.ones(2)
    assert observer(x) is x
    x.add_(1)
    assert [each.tolist() for each in observer.get_tensor_value()] == [[1.0, 1.0]]
    with pytest.raises(Exception, match="should not be called for RecordingObserver"):
        observer.calculate_qparams()


def models(library):
    nn = library.nn
    library.manual_seed(0)
    return (nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.ReLU(), nn.Linear(2, 3), nn.BatchNorm1d(3),
            nn.ConvTranspose2d(2, 3, 1), nn.BatchNorm2d(3))


@pytest.mark.parametrize("is_qat", [False, True])
def test_fuser_methods(is_qat):
    mine, pytorchs = models(chainrule), models(torch)
    for each in (*mine, *pytorchs):
        each.train(is_qat)
    for name, picks in [("fuse_conv_bn", (0, 1)), ("fuse_conv_bn_relu", (0, 1, 2)), ("fuse_linear_bn", (3, 4))]:
        fused, their_fused = getattr(ours, name)(is_qat, *(mine[i] for i in picks)), getattr(theirs, name)(is_qat, *(pytorchs[i] for i in picks))
        assert printed(fused) == repr(their_fused)
    if is_qat:
        with pytest.raises(Exception, match="not yet supported in QAT"):
            ours.fuse_convtranspose_bn(True, mine[5], mine[6])
    else:
        assert printed(ours.fuse_convtranspose_bn(False, mine[5], mine[6])) == repr(theirs.fuse_convtranspose_bn(False, pytorchs[5], pytorchs[6]))


def test_fuser_methods_refuse_mixed_modes():
    conv, bn = chainrule.nn.Conv2d(2, 3, 1), chainrule.nn.BatchNorm2d(3).eval()
    with pytest.raises(AssertionError):
        ours.fuse_conv_bn(False, conv, bn)


def test_get_fuser_method():
    nn = chainrule.nn
    assert ours.get_fuser_method((nn.Conv2d, nn.BatchNorm2d)) is ours.fuse_conv_bn
    assert ours.get_fuser_method((nn.Linear, nn.ReLU), {(nn.Linear, nn.ReLU): print}) is print
    fused = ours.get_fuser_method((nn.Linear, nn.ReLU))(False, nn.Linear(2, 2), nn.ReLU())
    assert type(fused).__name__ == type(theirs.get_fuser_method((torch.nn.Linear, torch.nn.ReLU))(False, torch.nn.Linear(2, 2), torch.nn.ReLU())).__name__
    with pytest.raises(AssertionError, match="did not find fuser method"):
        theirs.get_fuser_method((torch.nn.ReLU, torch.nn.Linear))
    with pytest.raises(AssertionError, match="did not find fuser method"):
        ours.get_fuser_method((nn.ReLU, nn.Linear))


def test_quant_module_classes():
    nn = chainrule.nn
    assert ours.get_static_quant_module_class(nn.Conv2d).__name__ == theirs.get_static_quant_module_class(torch.nn.Conv2d).__name__
    assert ours.get_dynamic_quant_module_class(nn.LSTM).__name__ == theirs.get_dynamic_quant_module_class(torch.nn.LSTM).__name__
    assert ours.get_static_quant_module_class(nn.ReLU, {nn.ReLU: nn.Identity}) is nn.Identity
    for function in (ours.get_static_quant_module_class, ours.get_dynamic_quant_module_class):
        with pytest.raises(AssertionError, match="does not have a corresponding quantized module class"):
            function(nn.Tanh)
    with pytest.raises(AssertionError):
        theirs.get_static_quant_module_class(torch.nn.Tanh)


def test_default_qconfig_propagation_list():
    mine = {each.__name__ for each in ours.get_default_qconfig_propagation_list()}
    pytorchs = {each.__name__ for each in theirs.get_default_qconfig_propagation_list()}
    # PyTorch's also holds onednn's fused modules (LinearTanh, ConvAdd2d...), which chainrule lacks.
    assert mine <= pytorchs and {"Sequential", "Conv2d", "LSTM", "LinearBn1d", "QuantStub"} <= mine


def test_get_combined_dict():
    assert ours.get_combined_dict({"a": 1, "b": 1}, {"b": 2, "c": 3}) == torch.ao.quantization.utils.get_combined_dict({"a": 1, "b": 1}, {"b": 2, "c": 3})


def observed(library):
    library.manual_seed(0)
    model = library.nn.Sequential(library.ao.quantization.QuantStub(), library.nn.Linear(2, 2))
    model.qconfig = library.ao.quantization.default_qconfig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = library.ao.quantization.prepare(model)
    model(library.tensor([[1.0, -2.0], [0.5, 3.0]]))
    return model


def test_observer_state_dict_round_trip():
    mine, pytorchs = ours.get_observer_state_dict(observed(chainrule)), theirs.get_observer_state_dict(observed(torch))
    assert list(mine) == list(pytorchs)
    for key in mine:
        np.testing.assert_allclose(mine[key].numpy(), pytorchs[key].numpy(), rtol=1e-6)
    fresh = observed(chainrule)
    fresh[0].activation_post_process.reset_min_max_vals()
    ours.load_observer_state_dict(fresh, mine)
    assert float(fresh[0].activation_post_process.max_val) == float(mine["0.activation_post_process.max_val"])


def test_qconfig_equals():
    for library in (ours, theirs):
        assert library.qconfig_equals(library.get_default_qconfig("x86"), library.get_default_qconfig("x86"))
        assert library.qconfig_equals(library.get_default_qat_qconfig(), library.get_default_qat_qconfig())
        assert not library.qconfig_equals(library.get_default_qconfig("x86"), library.get_default_qconfig("qnnpack"))
        assert library.qconfig_equals(None, None) and not library.qconfig_equals(library.default_qconfig, None)


def test_add_quant_dequant():
    def wrapped(library):
        model = library.nn.Sequential(library.nn.Linear(2, 2), library.nn.ReLU())
        model[0].qconfig = library.ao.quantization.default_qconfig
        return library.ao.quantization.add_quant_dequant(model)

    assert printed(wrapped(chainrule)) == repr(wrapped(torch))
    leaf = chainrule.nn.Linear(2, 2)
    leaf.qconfig = ours.default_qconfig
    assert type(ours.add_quant_dequant(leaf)) is ours.QuantWrapper


def test_quant_type_and_patterns():
    assert [(each.name, int(each)) for each in ours.QuantType] == [(each.name, int(each)) for each in theirs.QuantType]
    assert ours.MatchAllNode.__name__ == "MatchAllNode" and ours.QConfigAny is not None and ours.Pattern is not None
    assert set(ours.ObserverOrFakeQuantize.__args__) == {ours.ObserverBase, ours.FakeQuantizeBase}


def test_default_eval_fn_runs_each_input():
    seen = []
    ours.default_eval_fn(seen.append, [(1, "a"), (2, "b")])
    assert seen == [1, 2]


@pytest.mark.parametrize("name", ["get_default_qconfig_dict", "get_default_qat_qconfig_dict"])
def test_deprecated_dict_forms(name):
    with pytest.warns(FutureWarning):
        mine = getattr(ours, name)()
    with pytest.warns(FutureWarning):
        pytorchs = getattr(theirs, name)()
    assert list(mine) == list(pytorchs)
    assert printed(mine[""]) == repr(pytorchs[""])
    assert len(mine["object_type"]) == len(pytorchs["object_type"])
