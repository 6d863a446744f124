"""QConfig: how to quantize a module, as two factories: one for the observer (or fake quantizer) of
its activations, one for that of its weight. ``model.qconfig = get_default_qconfig("x86")`` before
``prepare``; ``quantize_dynamic`` uses ``default_dynamic_qconfig``.
"""
import copy
import functools
from collections import namedtuple
from typing import Optional

from chainrule.ao.quantization.fake_quantize import (
    FakeQuantize,
    FusedMovingAvgObsFakeQuantize,
    default_embedding_fake_quant,
    default_embedding_fake_quant_4bit,
    default_fake_quant,
    default_fused_per_channel_wt_fake_quant,
    default_fused_wt_fake_quant,
    default_per_channel_weight_fake_quant,
    default_weight_fake_quant,
)
from chainrule.ao.quantization.observer import (
    MinMaxObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    NoopObserver,
    PartialWrapper,
    PerChannelMinMaxObserver,
    PlaceholderObserver,
    default_dynamic_quant_observer,
    default_float_qparams_observer,
    default_observer,
    default_per_channel_weight_observer,
    default_placeholder_observer,
    default_reuse_input_observer,
    default_weight_observer,
)
from chainrule.ao.quantization.histogram_observer import HistogramObserver
from chainrule.caller_warnings import warn_at_caller
from chainrule.dtypes import float16, float32, qint8, quint8
from chainrule.quantized.schemes import per_channel_symmetric, per_tensor_symmetric


class QConfig(namedtuple("QConfig", ["activation", "weight"])):
    """``QConfig(activation=factory, weight=factory)``: each a class or ``with_args`` factory (not an
    instance: every module quantized gets observers of its own)."""

    __slots__ = ()

    def __new__(cls, activation, weight):
        from chainrule.nn.module import Module

        if isinstance(activation, Module) or isinstance(weight, Module):
            raise ValueError(
                "QConfig received observer instance, please pass observer class instead. "
                "Use MyObserver.with_args(x=1) to override arguments to constructor if needed"
            )
        return super().__new__(cls, activation, weight)


default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_per_channel_qconfig = QConfig(activation=default_observer, weight=default_per_channel_weight_observer)
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer, weight=default_weight_observer)
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer, weight=default_per_channel_weight_observer)
float16_dynamic_qconfig = QConfig(
    activation=default_dynamic_quant_observer.with_args(dtype=float16), weight=PlaceholderObserver.with_args(dtype=float16)
)
float_qparams_weight_only_qconfig = QConfig(activation=default_placeholder_observer, weight=default_float_qparams_observer)
default_qat_qconfig = QConfig(activation=default_fake_quant, weight=default_weight_fake_quant)
#: Quantization-aware training of embeddings: the weight fake-quantized per row (float qparams),
#: the output (floats) not observed.
default_embedding_qat_qconfig = QConfig(activation=NoopObserver.with_args(dtype=float32), weight=default_embedding_fake_quant)
default_embedding_qat_qconfig_4bit = QConfig(
    activation=NoopObserver.with_args(dtype=float32), weight=default_embedding_fake_quant_4bit
)
#: For operations that reuse their input's observer (``reshape``, in graph mode quantization).
default_reuse_input_qconfig = QConfig(activation=default_reuse_input_observer, weight=NoopObserver)
#: PReLU's in the default graph mode mapping: its weight (the slopes) quint8 by min and max.
default_quint8_weight_qconfig = QConfig(activation=HistogramObserver, weight=MinMaxObserver)

#: The engines whose kernels accumulate in 16 bits need activations of 7 bits (``reduce_range``).
REDUCES_RANGE = {"x86": True, "fbgemm": True, "qnnpack": False, "onednn": False}


def check_backend(backend, function):
    if backend not in REDUCES_RANGE:
        raise AssertionError(
            f"Backend: {backend} not supported. {function}: choose one of {sorted(REDUCES_RANGE)}"
        )


def get_default_qconfig(backend="x86", version=0):
    """The post-training qconfig of PyTorch for ``backend`` ("x86", "fbgemm", "qnnpack", "onednn"):
    histogram-calibrated activations, symmetric int8 weights (per channel on x86 and fbgemm)."""
    check_backend(backend, "get_default_qconfig")
    if backend in ("x86", "fbgemm"):
        return QConfig(activation=HistogramObserver.with_args(reduce_range=True), weight=default_per_channel_weight_observer)
    if backend == "qnnpack":
        return QConfig(activation=HistogramObserver.with_args(reduce_range=False), weight=default_weight_observer)
    return QConfig(activation=HistogramObserver.with_args(reduce_range=False), weight=default_per_channel_weight_observer)


def get_default_qat_qconfig(backend="x86", version=1):
    """The quantization-aware-training qconfig of PyTorch for ``backend``: moving-average observers
    with fake quantization, fused in one module (``FusedMovingAvgObsFakeQuantize``) for
    ``version=1``, apart (``FakeQuantize``) for ``version=0``; weights symmetric int8, per channel
    but on qnnpack, activations of 7 bits on x86 and fbgemm."""
    check_backend(backend, "get_default_qat_qconfig")
    if version not in (0, 1):
        raise AssertionError(
            f"Version number: {version}in get_default_qat_qconfig is not supported. Version number must be 0 or 1"
        )
    if version == 0:
        activation = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255)
        per_tensor_weight, per_channel_weight = default_weight_fake_quant, default_per_channel_weight_fake_quant
    else:
        activation = FusedMovingAvgObsFakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255)
        per_tensor_weight, per_channel_weight = default_fused_wt_fake_quant, default_fused_per_channel_wt_fake_quant
    if backend != "onednn":  # PyTorch's onednn qconfig leaves reduce_range at its default (False) unsaid
        activation = activation.with_args(reduce_range=REDUCES_RANGE[backend])
    return QConfig(activation=activation, weight=per_tensor_weight if backend == "qnnpack" else per_channel_weight)


def _deprecated_dict_form(mapping_name):
    """The ``to_dict()`` of ``get_default_{...}_mapping``, with PyTorch's FutureWarning."""

    def decorate(function):
        @functools.wraps(function)
        def warning(*args, **kwargs):
            warn_at_caller(
                f"`torch.ao.quantization.{function.__name__}` is deprecated and will be removed in a future version. "
                f"Please use `torch.ao.quantization.{mapping_name}` instead.",
                FutureWarning,
            )
            return function(*args, **kwargs)

        return warning

    return decorate


@_deprecated_dict_form("get_default_qconfig_mapping")
def get_default_qconfig_dict(backend="x86", version=0):
    """``get_default_qconfig_mapping(backend, version)`` as the older dict form (deprecated)."""
    from chainrule.ao.quantization.qconfig_mapping import get_default_qconfig_mapping

    return get_default_qconfig_mapping(backend, version).to_dict()


@_deprecated_dict_form("get_default_qat_qconfig_mapping")
def get_default_qat_qconfig_dict(backend="x86", version=1):
    """``get_default_qat_qconfig_mapping(backend, version)`` as the older dict form (deprecated)."""
    from chainrule.ao.quantization.qconfig_mapping import get_default_qat_qconfig_mapping

    return get_default_qat_qconfig_mapping(backend, version).to_dict()


#: A module's qconfig, or None where it is not quantized.
QConfigAny = Optional[QConfig]


def _factories_equal(first, second):
    """Whether two observer (or fake quantizer) factories make the same thing: ``with_args``
    wrappers compare by class and arguments (an ``observer`` argument by this rule again)."""
    if not (isinstance(first, PartialWrapper) and isinstance(second, PartialWrapper)):
        return first == second
    first_partial, second_partial = first.factory, second.factory
    first_kwargs, second_kwargs = copy.copy(first_partial.keywords), copy.copy(second_partial.keywords)
    observers_equal = True
    if "observer" in first_kwargs and "observer" in second_kwargs:
        observers_equal = _factories_equal(first_kwargs.pop("observer"), second_kwargs.pop("observer"))
    return (observers_equal and first_kwargs == second_kwargs and first_partial.func == second_partial.func
            and first_partial.args == second_partial.args)


def qconfig_equals(q1, q2):
    """Whether two qconfigs (or None) quantize alike: ``with_args`` factories are new objects on
    each call, so ``==`` on QConfigs says False where this compares what they make."""
    if q1 is None or q2 is None:
        return q1 == q2
    try:
        return _factories_equal(q1.activation, q2.activation) and _factories_equal(q1.weight, q2.weight)
    except AttributeError:
        return q1 == q2


__all__ = [
    "QConfig", "default_qconfig", "default_per_channel_qconfig", "default_dynamic_qconfig", "per_channel_dynamic_qconfig",
    "float16_dynamic_qconfig", "float_qparams_weight_only_qconfig", "default_qat_qconfig", "get_default_qconfig",
    "get_default_qat_qconfig", "default_per_channel_weight_fake_quant", "default_embedding_qat_qconfig",
    "default_embedding_qat_qconfig_4bit", "MinMaxObserver", "PerChannelMinMaxObserver", "get_default_qconfig_dict",
    "get_default_qat_qconfig_dict", "QConfigAny", "qconfig_equals",
]
