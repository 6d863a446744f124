"""The eager-mode workflow: ``prepare`` (observers in), calibrate by running data, ``convert``
(quantized layers in); ``prepare_qat`` for quantization-aware training; ``quantize_dynamic`` in one
step for layers that quantize their input as it arrives.

Each module's qconfig is its own ``qconfig`` attribute, else its parent's (``propagate_qconfig_``).
A module is quantized where it has a qconfig and the mapping has its type; others stay float.
"""
import copy
import functools

import chainrule
from chainrule.ao.nn.intrinsic.fused import FusedModule
from chainrule.ao.quantization import mappings
from chainrule.ao.quantization.qconfig import default_dynamic_qconfig, float16_dynamic_qconfig, float_qparams_weight_only_qconfig
from chainrule.ao.quantization.stubs import DeQuantStub, QuantWrapper
from chainrule.caller_warnings import warn_at_caller
from chainrule.dtypes import float16, qint8, quint8

#: PyTorch 2.13's DeprecationWarning, given on every call of its workflow functions.
DEPRECATION_WARNING = (
    "torch.ao.quantization is deprecated and will be removed in 2.10. \n"
    "For migrations of users: \n"
    "1. Eager mode quantization (torch.ao.quantization.quantize, "
    "torch.ao.quantization.quantize_dynamic), please migrate to use torchao eager mode "
    "quantize_ API instead \n"
    "2. FX graph mode quantization (torch.ao.quantization.quantize_fx.prepare_fx,"
    "torch.ao.quantization.quantize_fx.convert_fx, please migrate to use torchao pt2e quantization "
    "API instead (prepare_pt2e, convert_pt2e) \n"
    "3. pt2e quantization has been migrated to torchao (https://github.com/pytorch/ao/tree/main/torchao/quantization/pt2e) \n"
    "see https://github.com/pytorch/ao/issues/2259 for more details"
)


def deprecated_in_pytorch(function):
    """``function``, warning as PyTorch's does on every call that it is deprecated there."""

    @functools.wraps(function)
    def warning(*args, **kwargs):
        warn_at_caller(DEPRECATION_WARNING, DeprecationWarning)
        return function(*args, **kwargs)

    return warning


def propagate_qconfig_(module, qconfig_dict=None, prefix="", parent_qconfig=None):
    """Give every submodule its ``qconfig``: its own, else ``qconfig_dict``'s for its type or its
    name, else its parent's (None where none is found)."""
    qconfig_dict = qconfig_dict or {}
    qconfig = qconfig_dict.get(type(module), parent_qconfig)
    qconfig = qconfig_dict.get(prefix, qconfig)
    qconfig = getattr(module, "qconfig", qconfig)
    _assert_valid_qconfig(qconfig, module)
    module.qconfig = qconfig
    for name, child in module.named_children():
        propagate_qconfig_(child, qconfig_dict, f"{prefix}.{name}" if prefix else name, qconfig)


def _assert_valid_qconfig(qconfig, module):
    """PyTorch's check: a transposed convolution's weight cannot be quantized per channel."""
    nn = chainrule.nn
    if qconfig is None or qconfig.weight is None or not isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return
    if qconfig.weight().qscheme in (chainrule.per_channel_affine, chainrule.per_channel_symmetric):
        raise AssertionError(
            f"Per channel weight observer is not supported yet for ConvTranspose{{n}}d. ({type(module).__name__}: give it a "
            "qconfig with a per-tensor weight observer, e.g. chainrule.ao.quantization.default_qconfig)"
        )


def _observer_forward_hook(module, input, output):
    """Run the module's output through its observer (or fake quantizer), as PyTorch's hook does."""
    return module.activation_post_process(output)


def add_observer_(module, observed_types):
    """An ``activation_post_process`` (the qconfig's activation observer) and the hook that feeds it
    on every module of ``observed_types`` that has a qconfig (not inside them). A Dropout gets none,
    as in PyTorch: its quantized form passes its input through, keeping its parameters."""
    for child in module.children():
        if type(child) is chainrule.nn.Dropout:
            continue
        if type(child) in observed_types and getattr(child, "qconfig", None) is not None and not isinstance(child, DeQuantStub):
            child.activation_post_process = child.qconfig.activation()
            child.register_forward_hook(_observer_forward_hook)
        else:
            add_observer_(child, observed_types)


def add_quant_dequant(module):
    """Each leaf submodule that has a qconfig wrapped in a ``QuantWrapper`` (quantize before it,
    dequantize after), in place; ``module`` itself wrapped (a new module returned) where it is such a leaf."""
    if not list(module.children()) and getattr(module, "qconfig", None):
        return QuantWrapper(module)
    for name, child in module.named_children():
        setattr(module, name, add_quant_dequant(child))
    return module


@deprecated_in_pytorch
def prepare(model, inplace=False, allow_list=None, observer_non_leaf_module_list=None, prepare_custom_config_dict=None):
    """``model`` (a copy, unless ``inplace``) with observers after the layers to quantize: run
    representative data through it (calibration), then ``convert``."""
    if not inplace:
        model = copy.deepcopy(model)
    propagate_qconfig_(model)
    if not any(getattr(each, "qconfig", None) for each in model.modules()):
        warn_at_caller(
            "None of the submodule got qconfig applied. Make sure you passed correct configuration through "
            "`qconfig_dict` or by assigning the `.qconfig` attribute directly on submodules"
        )
    add_observer_(model, set(allow_list or mappings.DEFAULT_STATIC_QUANT_MODULE_MAPPINGS))
    return model


@deprecated_in_pytorch
def prepare_qat(model, mapping=None, inplace=False):
    """``model`` (a copy, unless ``inplace``; in training mode) with its layers swapped for their
    quantization-aware-training forms and fake quantizers on their outputs: train it, then
    ``convert``."""
    if not model.training:
        raise AssertionError("prepare_qat only works on models in training mode (call model.train())")
    if not inplace:
        model = copy.deepcopy(model)
    mapping = mapping or mappings.DEFAULT_QAT_MODULE_MAPPINGS
    propagate_qconfig_(model)
    convert(model, mapping=mapping, inplace=True, remove_qconfig=False)
    return prepare(model, inplace=True, allow_list={*mappings.DEFAULT_STATIC_QUANT_MODULE_MAPPINGS, *mapping.values()})


def swap_module(module, mapping):
    """``module``'s quantized form (``mapping[type].from_float``) where it has a qconfig, else itself."""
    target = mapping.get(type(module))
    if target is None or getattr(module, "qconfig", None) is None:
        return module
    swapped = target.from_float(module)
    swapped.train(module.training)  # a quantized model in evaluation stays so (its LSTM drops out in training only)
    return swapped


@deprecated_in_pytorch
def convert(module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False, convert_custom_config_dict=None,
            use_precomputed_fake_quant=False):
    """``module`` (a copy, unless ``inplace``) with each calibrated layer swapped for its quantized
    form (``mapping``: PyTorch's static mapping by default)."""
    if not inplace:
        module = copy.deepcopy(module)
    mapping = mappings.DEFAULT_STATIC_QUANT_MODULE_MAPPINGS if mapping is None else mapping
    _convert_children(module, mapping)
    if remove_qconfig:
        for each in module.modules():
            if "qconfig" in each.__dict__:
                del each.qconfig
    return module


def _convert_children(module, mapping):
    """Each child swapped by ``swap_module``; one not swapped has its own children converted,
    except a fused module (LinearReLU...), which is swapped as one unit or not at all, as in PyTorch."""
    for name, child in list(module.named_children()):
        swapped = swap_module(child, mapping)
        if swapped is child:
            if not isinstance(child, FusedModule):
                _convert_children(child, mapping)
        else:
            setattr(module, name, swapped)


#: The qconfig each dtype of ``quantize_dynamic`` quantizes with: int8 or float16 weights for Linear
#: and the recurrent layers, quint8 rows (each with its own scale and offset) for the embeddings.
DYNAMIC_QCONFIGS = {qint8: default_dynamic_qconfig, float16: float16_dynamic_qconfig, quint8: float_qparams_weight_only_qconfig}


def dynamic_default_types(dtype):
    """The layers ``quantize_dynamic`` quantizes to ``dtype`` when given no ``qconfig_spec``: Linear
    and the recurrent ones (qint8, float16), the embeddings (quint8)."""
    nn = chainrule.nn
    if dtype == quint8:
        return (nn.EmbeddingBag, nn.Embedding)
    return (nn.Linear, nn.LSTM, nn.GRU, nn.LSTMCell, nn.RNNCell, nn.GRUCell)


@deprecated_in_pytorch
def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """``model`` (a copy, unless ``inplace``; in evaluation mode) with its Linear, LSTM, GRU and
    recurrent cell layers (or those of ``qconfig_spec``: a set of types or names, or a dict of them
    to qconfigs) swapped for dynamically quantized ones: floats in and out, weights int8 (inputs
    quantized as they arrive) or, with ``dtype=float16``, float16; with ``dtype=quint8``, its
    Embedding and EmbeddingBag layers with quint8 rows."""
    if qconfig_spec is None:
        if dtype not in DYNAMIC_QCONFIGS:
            raise ValueError(
                f"Don't know how to quantize with default settings for {dtype}. Provide full qconfig please "
                "(quantize_dynamic here knows dtype=chainrule.qint8, chainrule.float16 and chainrule.quint8)"
            )
        qconfig_spec = dict.fromkeys(dynamic_default_types(dtype), DYNAMIC_QCONFIGS[dtype])
    elif isinstance(qconfig_spec, set):
        if dtype not in DYNAMIC_QCONFIGS:
            raise RuntimeError(
                f"Unknown dtype specified for quantize_dynamic: {dtype} (use chainrule.qint8, chainrule.float16 or chainrule.quint8, "
                "or give a dict of qconfigs)"
            )
        qconfig_spec = dict.fromkeys(qconfig_spec, DYNAMIC_QCONFIGS[dtype])
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    return convert(model, mapping or mappings.DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS, inplace=True)


@deprecated_in_pytorch
def quantize(model, run_fn, run_args, mapping=None, inplace=False):
    """Post-training static quantization in one call: prepare, ``run_fn(model, *run_args)``
    (calibration), convert."""
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    prepare(model, inplace=True)
    run_fn(model, *run_args)
    return convert(model, mapping, inplace=True)


@deprecated_in_pytorch
def quantize_qat(model, run_fn, run_args, inplace=False):
    """Quantization-aware training in one call: prepare_qat, ``run_fn(model, *run_args)`` (training), convert."""
    if not inplace:
        model = copy.deepcopy(model)
    model.train()
    prepare_qat(model, inplace=True)
    run_fn(model, *run_args)
    return convert(model, inplace=True)
