"""A sweep of ``torch.nn`` and ``torch.optim`` classes against PyTorch (the oracle): constructor
signatures, the re-initialisation idiom (``reset_parameters`` on every layer that has it in PyTorch),
``Module.to`` with a dtype, the error PyTorch raises for negative convolution padding and for
indices of small integer dtypes, L1 loss on integer tensors, ``nn.Buffer``, deprecated keywords and
the positional ``_stacklevel`` of ``F.softmax``, and repr / state_dict / forward parity for layers
the other tests barely reach.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
names or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional

import chainrule
import chainrule.nn.functional
from tests.parity.sweep import outcome, plain, raises_as_torch


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


# --- constructor signatures -------------------------------------------------------------------


def _parameters(cls):
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    return [(name, parameter.kind, repr(parameter.default)) for name, parameter in signature.parameters.items()]


def _same_default(ours, theirs):
    # Functions as defaults (Transformer's activation=F.relu) are each library's own.
    return ours == theirs or (ours.startswith("<function") and theirs.startswith("<function") and ours.split()[1] == theirs.split()[1])


# torch spells these as *args/**kwargs dispatchers or internal bases; the keyword ones are tested below.
_SIGNATURE_SKIPS = {"Module", "RNN", "RNNCellBase", "NLLLoss2d", "Sigmoid", "Tanh", "Softsign", "Tanhshrink", "LogSigmoid",
                    "Softmax2d", "Hardtanh", "UninitializedBuffer", "Container", "CrossMapLRN2d"}


def _signature_mismatches(torch_namespace, our_namespace, skip=()):
    mismatches = []
    for name in sorted(dir(torch_namespace)):
        theirs_class = getattr(torch_namespace, name)
        if name.startswith("_") or name in skip or not inspect.isclass(theirs_class):
            continue
        ours_class = getattr(our_namespace, name, None)
        if ours_class is None:
            continue  # tests/parity/test_names.py owns missing names
        theirs, ours = _parameters(theirs_class), _parameters(ours_class)
        if theirs is None or ours is None:
            continue
        if [each[:2] for each in ours] != [each[:2] for each in theirs] or not all(
            _same_default(mine[2], their[2]) for mine, their in zip(ours, theirs)
        ):
            mismatches.append(f"{name}: {ours} vs torch {theirs}")
    return mismatches


def test_nn_module_constructors_take_pytorchs_parameters_and_defaults():
    assert _signature_mismatches(torch.nn, chainrule.nn, _SIGNATURE_SKIPS) == []


def test_optimizer_and_scheduler_constructors_take_pytorchs_parameters_and_defaults():
    mismatches = _signature_mismatches(torch.optim, chainrule.optim)
    mismatches += _signature_mismatches(torch.optim.lr_scheduler, chainrule.optim.lr_scheduler, {"Any", "SupportsFloat", "partial", "ref"})
    mismatches += _signature_mismatches(torch.optim.swa_utils, chainrule.optim.swa_utils, {"Module"})
    assert mismatches == []


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("keyword, attribute", [("min_value", "min_val"), ("max_value", "max_val")])
def test_hardtanh_takes_the_deprecated_value_keywords(keyword, attribute):
    same_in_both(lambda lib: getattr(lib.nn.Hardtanh(**{keyword: 0.5}), attribute))


def test_uninitialized_buffer_takes_persistent():
    for lib in (torch, chainrule):
        module = lib.nn.Module()
        module.register_buffer("b", lib.nn.UninitializedBuffer(persistent=False))
        assert type(module.b).__name__ == "UninitializedBuffer"


# --- reset_parameters: for m in model.modules(): if hasattr(m, "reset_parameters"): ... ------


_RESETTABLE = {
    "LayerNorm": lambda nn: nn.LayerNorm(4),
    "GroupNorm": lambda nn: nn.GroupNorm(2, 4),
}


@pytest.mark.parametrize("name", list(_RESETTABLE))
def test_normalization_layers_reset_their_parameters(name):
    def run(lib):
        module = _RESETTABLE[name](lib.nn)
        with lib.no_grad():
            for parameter in module.parameters():
                parameter.fill_(3.0)
        module.reset_parameters()
        return [parameter for parameter in module.parameters()]

    same_in_both(run)


def test_the_reinitialisation_idiom_reaches_the_same_layers():
    def layers_with_reset(lib):
        model = lib.nn.Sequential(
            lib.nn.Linear(4, 4), lib.nn.BatchNorm1d(4), lib.nn.LayerNorm(4), lib.nn.GroupNorm(2, 4), lib.nn.RMSNorm(4),
            lib.nn.Embedding(3, 4), lib.nn.PReLU(), lib.nn.MultiheadAttention(4, 2), lib.nn.LSTM(4, 4),
        )
        return [type(module).__name__ for module in model.modules() if hasattr(module, "reset_parameters")]

    ours, theirs = layers_with_reset(chainrule), layers_with_reset(torch)
    # PyTorch: every layer above but Sequential and MultiheadAttention (which has _reset_parameters).
    assert set(theirs) == set(ours)


# --- Module.to / Module.type with a dtype ----------------------------------------------------


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_module_to_an_integer_dtype_raises_type_error(dtype):
    raises_as_torch(lambda lib: lib.nn.Linear(2, 2).to(getattr(lib, dtype)))


def test_module_to_an_integer_dtype_by_keyword_raises_type_error():
    raises_as_torch(lambda lib: lib.nn.Linear(2, 2).to(dtype=lib.int64))


def test_module_type_to_an_integer_dtype_raises():
    raises_as_torch(lambda lib: lib.nn.Linear(2, 2).type(lib.int64))


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_module_to_a_floating_dtype_converts_the_weights(dtype):
    same_in_both(lambda lib: [parameter.dtype == getattr(lib, dtype) for parameter in lib.nn.Linear(2, 2).to(getattr(lib, dtype)).parameters()])


# --- negative convolution padding -----------------------------------------------------------


_NEGATIVE_PADDING = {
    "Conv1d": lambda lib: lib.nn.Conv1d(1, 1, 3, padding=-1)(lib.ones(1, 1, 6)),
    "Conv2d": lambda lib: lib.nn.Conv2d(1, 1, 3, padding=-1)(lib.ones(1, 1, 6, 6)),
    "Conv2d_tuple": lambda lib: lib.nn.Conv2d(1, 1, 3, padding=(0, -1))(lib.ones(1, 1, 6, 6)),
    "Conv3d": lambda lib: lib.nn.Conv3d(1, 1, 3, padding=-1)(lib.ones(1, 1, 6, 6, 6)),
    "ConvTranspose1d": lambda lib: lib.nn.ConvTranspose1d(1, 1, 3, padding=-1)(lib.ones(1, 1, 6)),
    "ConvTranspose2d": lambda lib: lib.nn.ConvTranspose2d(1, 1, 3, padding=-1)(lib.ones(1, 1, 6, 6)),
    "F.conv2d": lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), padding=-1),
}


@pytest.mark.parametrize("name", list(_NEGATIVE_PADDING))
def test_negative_convolution_padding_raises(name):
    raises_as_torch(_NEGATIVE_PADDING[name])


# --- index dtypes of Embedding --------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
def test_embedding_refuses_small_integer_indices(dtype):
    raises_as_torch(lambda lib: lib.nn.Embedding(5, 2)(lib.tensor([1, 2], dtype=getattr(lib, dtype))))


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.embedding(lib.tensor([1, 2], dtype=lib.uint8), lib.ones(5, 2)),
    lambda lib: lib.nn.EmbeddingBag(5, 2)(lib.tensor([[1, 2]], dtype=lib.uint8)),
], ids=["F.embedding", "EmbeddingBag"])
def test_embedding_functions_refuse_uint8_indices(call):
    raises_as_torch(call)


def test_embedding_takes_int32_indices_and_refuses_bool():
    same_in_both(lambda lib: (lib.manual_seed(0), lib.nn.Embedding(5, 2)(lib.tensor([1, 4], dtype=lib.int32)))[1])
    raises_as_torch(lambda lib: lib.nn.Embedding(5, 2)(lib.tensor([True, False])))


# --- L1 loss on integer tensors -------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_l1_loss_of_integer_tensors(reduction):
    same_in_both(lambda lib: lib.nn.L1Loss(reduction=reduction)(lib.tensor([1, 2, 5]), lib.tensor([1, 3, 2])))


def test_mean_l1_loss_of_integer_tensors_raises_as_pytorch():
    raises_as_torch(lambda lib: lib.nn.L1Loss()(lib.tensor([1, 2]), lib.tensor([1, 3])))


def test_mse_loss_of_integer_tensors_raises_as_pytorch():
    raises_as_torch(lambda lib: lib.nn.MSELoss(reduction="sum")(lib.tensor([1, 2]), lib.tensor([1, 3])))


# --- nn.Buffer ------------------------------------------------------------------------------


def test_buffer_is_a_plain_tensor():
    same_in_both(lambda lib: type(lib.nn.Buffer(lib.ones(1))).__name__)


def test_buffer_passes_isinstance_and_registers():
    def run(lib):
        module = lib.nn.Linear(1, 1)
        module.kept = lib.nn.Buffer(lib.ones(1))
        module.dropped = lib.nn.Buffer(lib.ones(1), persistent=False)
        return isinstance(module.kept, lib.nn.Buffer), list(module.state_dict()), [name for name, _ in module.named_buffers()]

    same_in_both(run)


# --- F.softmax's positional _stacklevel -----------------------------------------------------


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_third_positional_is_stacklevel(name):
    same_in_both(lambda lib: getattr(lib.nn.functional, name)(lib.tensor([[1.0, 2.0, 3.0]]), 1, 3))


def test_softmin_third_positional_is_stacklevel():
    same_in_both(lambda lib: lib.nn.functional.softmin(lib.tensor([[1.0, 2.0, 3.0]]), 1, 3))


# --- repr, state_dict and forward for thinly covered layers ---------------------------------


def _random(lib, *shape, seed=0):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


_LAYERS = {
    "ZeroPad3d": (lambda nn: nn.ZeroPad3d((1, 0, 2, 1, 0, 1)), lambda lib: (_random(lib, 1, 2, 3, 3, 3),)),
    "ConstantPad3d": (lambda nn: nn.ConstantPad3d(1, 0.5), lambda lib: (_random(lib, 1, 2, 3, 3, 3),)),
    "CircularPad3d": (lambda nn: nn.CircularPad3d(1), lambda lib: (_random(lib, 1, 2, 3, 3, 3),)),
    "LPPool3d": (lambda nn: nn.LPPool3d(2, 2), lambda lib: (_random(lib, 1, 2, 4, 4, 4).abs(),)),
    "AdaptiveAvgPool3d": (lambda nn: nn.AdaptiveAvgPool3d((2, None, 3)), lambda lib: (_random(lib, 1, 2, 5, 5, 5),)),
    "MultiLabelMarginLoss": (lambda nn: nn.MultiLabelMarginLoss(), lambda lib: (_random(lib, 2, 4), lib.tensor([[3, 0, -1, 1], [1, 2, 3, -1]]))),
    "MultiLabelSoftMarginLoss": (lambda nn: nn.MultiLabelSoftMarginLoss(weight=None), lambda lib: (_random(lib, 3, 4), (_random(lib, 3, 4, seed=1) > 0).float())),
    "PoissonNLLLoss_full": (lambda nn: nn.PoissonNLLLoss(log_input=False, full=True), lambda lib: (_random(lib, 3, 4).abs(), _random(lib, 3, 4, seed=2).abs() * 3)),
    "GaussianNLLLoss_var_per_row": (lambda nn: nn.GaussianNLLLoss(full=True), lambda lib: (_random(lib, 3, 4), _random(lib, 3, 4, seed=2), _random(lib, 3, 1).abs())),
    "InstanceNorm2d_tracked": (lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True), lambda lib: (_random(lib, 2, 3, 4, 4),)),
}


@pytest.mark.parametrize("name", list(_LAYERS))
def test_layer_repr_state_dict_and_forward_match_pytorch(name):
    make, inputs = _LAYERS[name]
    theirs, ours = make(torch.nn), make(chainrule.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({key: chainrule.tensor(value.numpy().copy()) for key, value in theirs.state_dict().items()})
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        assert_same(plain(ours(*inputs(chainrule))), plain(theirs(*inputs(torch))), rtol=1e-4, atol=1e-5)
    for key, value in theirs.state_dict().items():
        assert_same(plain(ours.state_dict()[key]), plain(value))
