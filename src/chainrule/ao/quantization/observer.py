"""Observers: modules that watch the tensors passing through them during calibration and then
choose the quantization parameters (scale, zero point) for them, as PyTorch's
``torch.ao.quantization.observer``.

For a range ``[min, max]`` widened to hold 0 and the integers ``[quant_min, quant_max]``:

- affine: ``scale = (max - min) / (quant_max - quant_min)``, ``zero_point = quant_min - round(min / scale)``
  (clamped into the range), so that ``min`` and ``max`` land on the ends and 0 is exact;
- symmetric: ``scale = max(|min|, max) / ((quant_max - quant_min) / 2)``, ``zero_point`` 0 (or 128
  for quint8), so that the grid is symmetric around 0 (weights);
- float qparams (per channel, embeddings): ``scale = (max - min) / (quant_max - quant_min)``,
  ``zero_point = -min / scale`` as a float.

The scale is at least ``eps`` (float32's), so an all-zero tensor still gets a usable one. The
arithmetic is done with chainrule's float32 tensors as PyTorch does it, so the parameters agree.
"""
import functools
import math
from collections import OrderedDict

import chainrule
from chainrule.caller_warnings import warn_at_caller
from chainrule.dtypes import qint8, qint32, quint4x2, quint8
from chainrule.nn.module import Module
from chainrule.quantized.schemes import (
    PER_CHANNEL,
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
)

FLOAT32_EPS = float(chainrule.finfo(chainrule.float32).eps)


class PartialWrapper:
    """A factory of observers (or fake quantizers) with some arguments fixed: ``MinMaxObserver.with_args(
    dtype=chainrule.qint8)``. Each call makes a new instance; it prints as PyTorch's does."""

    def __init__(self, factory):
        self.factory = factory

    def __call__(self, *args, **kwargs):
        return self.factory(*args, **kwargs)

    def with_args(self, **kwargs):
        return PartialWrapper(functools.partial(self.factory, **kwargs))

    def __repr__(self):
        return repr(self.factory) + "{}"


def with_args(cls_or_factory, **kwargs):
    """A ``PartialWrapper`` that makes ``cls_or_factory(**kwargs)``."""
    return PartialWrapper(functools.partial(cls_or_factory, **kwargs))


def quantization_range(dtype, reduce_range, quant_min=None, quant_max=None):
    """``(quant_min, quant_max)``: the dtype's 8-bit range (halved by ``reduce_range``: FBGEMM's
    16-bit accumulation needs one bit less), or the customized one given (halved too)."""
    if quant_min is not None and quant_max is not None:
        if not quant_min <= 0 <= quant_max:
            raise AssertionError("Used-specified quantization range must include 0.")
        if quant_min >= quant_max:
            raise AssertionError("qmin must be strictly less than qmax for user-specified quantization range.")
        return (quant_min // 2, quant_max // 2) if reduce_range else (quant_min, quant_max)
    if dtype in (qint8, chainrule.int8):
        return (-64, 63) if reduce_range else (-128, 127)
    if dtype in (quint8, chainrule.uint8):
        return (0, 127) if reduce_range else (0, 255)
    if dtype in (qint32, chainrule.int32):
        return (-(2**31), 2**31 - 1)
    return (0, 15)  # quint4x2


class ObserverBase(Module):
    """An observer: ``forward`` records statistics of what passes (and returns it unchanged),
    ``calculate_qparams()`` gives the scale and zero point they call for."""

    def __init__(self, dtype, is_dynamic=False):
        super().__init__()
        self.dtype = dtype
        self.is_dynamic = is_dynamic

    with_args = classmethod(with_args)


class UniformQuantizationObserverBase(ObserverBase):
    """An observer of a range of values, mapped uniformly onto the integers of ``dtype``."""

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False, quant_min=None, quant_max=None,
                 factory_kwargs=None, eps=FLOAT32_EPS, is_dynamic=False, **kwargs):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.qscheme = qscheme
        if reduce_range:
            warn_at_caller(
                "Please use quant_min and quant_max to specify the range for observers.                     "
                "reduce_range will be deprecated in a future release of PyTorch."
            )
        self.reduce_range = reduce_range
        self.register_buffer("eps", chainrule.tensor([eps]))
        if qscheme not in (per_tensor_affine, per_tensor_symmetric, *PER_CHANNEL):
            raise AssertionError(
                "Default Observer only works for per_tensor_affine, per_tensor_symmetric, per_channel_affine, "
                "per_channel_symmetric and per_channel_float_qparams quantization scheme"
            )
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        self.quant_min, self.quant_max = quantization_range(dtype, reduce_range, quant_min, quant_max)
        if qscheme in (per_tensor_symmetric, per_channel_symmetric) and reduce_range and dtype == quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for quint8")

    def _calculate_qparams(self, min_val, max_val):
        """``(scale, zero_point)`` tensors (one element per tensor, one per channel) for the observed
        range; scale 1 and zero point 0 before anything was observed."""
        if min_val.numel() == 0 or bool((min_val == math.inf).all()) and bool((max_val == -math.inf).all()):
            warn_at_caller(
                "must run observer before calling calculate_qparams. Returning default values."
            )
            return chainrule.tensor([1.0]), chainrule.tensor([0])
        quant_min, quant_max = self.quant_min, self.quant_max
        min_val_neg = chainrule.minimum(min_val, chainrule.zeros_like(min_val))
        max_val_pos = chainrule.maximum(max_val, chainrule.zeros_like(max_val))
        zero_point = chainrule.zeros(min_val_neg.shape, dtype=chainrule.int64)
        if self.qscheme in (per_tensor_symmetric, per_channel_symmetric):
            max_val_pos = chainrule.maximum(-min_val_neg, max_val_pos)
            scale = chainrule.maximum(max_val_pos / (float(quant_max - quant_min) / 2), self.eps)
            if self.dtype in (quint8, chainrule.uint8):
                middle = (quant_min + quant_max) // 2 if self.has_customized_qrange else 128
                zero_point = chainrule.full(zero_point.shape, middle, dtype=chainrule.int64)
        elif self.qscheme is per_channel_affine_float_qparams:
            scale = (max_val - min_val) / float(quant_max - quant_min)
            scale = chainrule.where(scale > self.eps, scale, chainrule.ones_like(scale))
            zero_point = -1 * min_val / scale
        else:
            scale = chainrule.maximum((max_val_pos - min_val_neg) / float(quant_max - quant_min), self.eps)
            zero_point = quant_min - chainrule.round(min_val_neg / scale).to(chainrule.int32)
            zero_point = chainrule.clamp(zero_point, quant_min, quant_max)
        if scale.dim() == 0:
            scale = scale.reshape(1)
        if zero_point.dim() == 0:
            zero_point = zero_point.reshape(1)
        return scale, zero_point

    def forward(self, x_orig):
        """Record the range of ``x_orig`` (``extremes``, merged with the running one by
        ``combined``); return it unchanged."""
        if x_orig.numel() == 0:
            return x_orig
        self.min_val, self.max_val = self.combined(*self.extremes(x_orig))
        return x_orig

    def calculate_qparams(self):
        """``(scale, zero_point)`` for the observed range: one-element tensors, or one per channel."""
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def reset_min_max_vals(self):
        """Forget what was observed."""
        raise NotImplementedError("Cannot reset min/max values in the given observer.")


class MinMaxObserver(UniformQuantizationObserverBase):
    """Parameters from the running minimum and maximum of everything observed."""

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False, quant_min=None, quant_max=None,
                 factory_kwargs=None, eps=FLOAT32_EPS, is_dynamic=False, **kwargs):
        if qscheme in PER_CHANNEL:
            raise NotImplementedError(
                "MinMaxObserver's qscheme only support torch.per_tensor_symmetric and torch.per_tensor_affine. "
                f"(got {qscheme!r}: use PerChannelMinMaxObserver)"
            )
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs, eps, is_dynamic, **kwargs)
        self.register_buffer("min_val", chainrule.tensor(math.inf))
        self.register_buffer("max_val", chainrule.tensor(-math.inf))

    def extremes(self, x_orig):
        """``(min, max)`` of ``x_orig``: 0-d tensors."""
        x = x_orig.detach().to(self.min_val.dtype)
        return x.min(), x.max()

    def combined(self, low, high):
        """The running range widened to hold ``[low, high]``."""
        return chainrule.minimum(low, self.min_val), chainrule.maximum(high, self.max_val)

    def reset_min_max_vals(self):
        self.min_val.copy_(chainrule.tensor(math.inf))
        self.max_val.copy_(chainrule.tensor(-math.inf))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """Parameters from moving averages of the minimum and maximum of each observed batch:
    ``min ← min + c (min(X) - min)`` (the first batch's own at first), ``c = averaging_constant``."""

    def __init__(self, averaging_constant=0.01, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, eps=FLOAT32_EPS, is_dynamic=False, **kwargs):
        if qscheme in PER_CHANNEL:
            raise NotImplementedError(
                "MovingAverageMinMaxObserver's qscheme only support torch.per_tensor_symmetric and "
                f"torch.per_tensor_affine. but got: {qscheme!r}"
            )
        self.averaging_constant = averaging_constant
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, eps=eps, is_dynamic=is_dynamic, **kwargs)

    def combined(self, low, high):
        """The running range moved ``averaging_constant`` of the way to ``[low, high]``."""
        if float(self.min_val) == math.inf and float(self.max_val) == -math.inf:
            return low, high
        return moved_towards(self.min_val, low, self.averaging_constant), moved_towards(self.max_val, high, self.averaging_constant)


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    """Parameters per channel (the slices along ``ch_axis``), from each channel's running min and max."""

    def __init__(self, ch_axis=0, dtype=quint8, qscheme=per_channel_affine, reduce_range=False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps=FLOAT32_EPS, is_dynamic=False, **kwargs):
        if qscheme not in PER_CHANNEL:
            raise NotImplementedError(
                "PerChannelMinMaxObserver's qscheme only support torch.per_channel_symmetric, "
                "torch.per_channel_affine and torch.per_channel_affine_float_qparams."
            )
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs, eps, is_dynamic, **kwargs)
        self.ch_axis = ch_axis
        self.register_buffer("min_val", chainrule.tensor([]))
        self.register_buffer("max_val", chainrule.tensor([]))

    def extremes(self, x_orig):
        """``(min, max)`` of each channel of ``x_orig``: tensors of ``x_orig.shape[ch_axis]`` elements."""
        channels = x_orig.detach().movedim(self.ch_axis, 0).to(self.min_val.dtype).flatten(1)
        return channels.min(dim=1).values, channels.max(dim=1).values

    def combined(self, low, high):
        """The running ranges widened to hold ``[low, high]``, channel by channel."""
        if not self.min_val.numel():
            return low, high
        return chainrule.minimum(low, self.min_val), chainrule.maximum(high, self.max_val)

    def reset_min_max_vals(self):
        self.min_val, self.max_val = chainrule.tensor([]), chainrule.tensor([])


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per channel, from moving averages of each channel's min and max (see MovingAverageMinMaxObserver)."""

    def __init__(self, averaging_constant=0.01, ch_axis=0, dtype=quint8, qscheme=per_channel_affine,
                 reduce_range=False, quant_min=None, quant_max=None, eps=FLOAT32_EPS, is_dynamic=False, **kwargs):
        super().__init__(ch_axis, dtype, qscheme, reduce_range, quant_min, quant_max, eps=eps, is_dynamic=is_dynamic, **kwargs)
        self.averaging_constant = averaging_constant

    def combined(self, low, high):
        """The running ranges moved ``averaging_constant`` of the way to ``[low, high]``."""
        if not self.min_val.numel():
            return low, high
        return moved_towards(self.min_val, low, self.averaging_constant), moved_towards(self.max_val, high, self.averaging_constant)


def moved_towards(running, observed, averaging_constant):
    """``running + c (observed - running)``: a moving average's step."""
    return running + averaging_constant * (observed - running)


class PlaceholderObserver(ObserverBase):
    """Observes nothing: it carries the dtype (and, for dynamic quantization, ``is_dynamic=True``)
    that the conversion reads; the parameters are chosen later (per batch, for dynamic)."""

    def __init__(self, dtype=chainrule.float32, custom_op_name="", compute_dtype=None, quant_min=None, quant_max=None,
                 qscheme=None, eps=None, is_dynamic=False):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.qscheme = per_tensor_affine if qscheme is None else qscheme
        self.quant_min, self.quant_max, self.eps = quant_min, quant_max, eps
        self.custom_op = custom_op_name

    def forward(self, x):
        return x

    def extra_repr(self):
        return f"dtype={self.dtype}, is_dynamic={self.is_dynamic}"

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")  # noqa: TRY002 (PyTorch's type)


class RecordingObserver(ObserverBase):
    """For debugging: keeps a copy of every tensor that passes (``get_tensor_value()``)."""

    def __init__(self, dtype=quint8):
        super().__init__(dtype=dtype, is_dynamic=False)
        self.tensor_val = []

    def forward(self, x):
        self.tensor_val.append(x.clone())
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for RecordingObserver")  # noqa: TRY002 (PyTorch's type)

    def get_tensor_value(self):
        return self.tensor_val


class NoopObserver(ObserverBase):
    """Observes nothing, for a dtype that needs no parameters (float16)."""

    def __init__(self, dtype=chainrule.float16, custom_op_name=""):
        super().__init__(dtype=dtype)
        self.custom_op = custom_op_name

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for NoopObserver")  # noqa: TRY002 (PyTorch's type)


class FixedQParamsObserver(ObserverBase):
    """Observes nothing: its parameters are fixed, ``scale`` and ``zero_point``, for the operations
    whose output range is known (sigmoid: [0, 1) on scale 1/256, tanh: [-1, 1) on 2/256 around
    128). Graph mode quantization gives such an operation's output this observer."""

    def __init__(self, scale, zero_point, dtype=quint8, qscheme=per_tensor_affine, quant_min=0, quant_max=255,
                 is_dynamic=False, **kwargs):
        if is_dynamic:
            raise NotImplementedError("FixedQParamsObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.quant_min, self.quant_max = quant_min, quant_max
        self.register_buffer("scale", chainrule.tensor([scale], dtype=chainrule.float32))
        self.register_buffer("zero_point", chainrule.tensor([zero_point], dtype=chainrule.int32))
        self.qscheme = qscheme

    def forward(self, X):
        return X

    def calculate_qparams(self):
        return self.scale, self.zero_point


class ReuseInputObserver(ObserverBase):
    """Observes nothing: in graph mode quantization an operation given it (``reshape`` in the
    default mapping) reuses the observer of its input for its output (none where its input has none)."""

    def __init__(self):
        super().__init__(quint8, is_dynamic=False)

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for ReuseInputObserver")  # noqa: TRY002 (PyTorch's type)


default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_weight_observer = MinMaxObserver.with_args(dtype=qint8, qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(dtype=qint8, qscheme=per_channel_symmetric)
default_dynamic_quant_observer = PlaceholderObserver.with_args(dtype=quint8, quant_min=0, quant_max=255, is_dynamic=True)
default_placeholder_observer = PlaceholderObserver
default_float_qparams_observer = PerChannelMinMaxObserver.with_args(
    dtype=quint8, qscheme=per_channel_affine_float_qparams, ch_axis=0
)
default_fixed_qparams_range_0to1_observer = FixedQParamsObserver.with_args(
    scale=1.0 / 256.0, zero_point=0, dtype=quint8, quant_min=0, quant_max=255
)
default_fixed_qparams_range_neg1to1_observer = FixedQParamsObserver.with_args(
    scale=2.0 / 256.0, zero_point=128, dtype=quint8, quant_min=0, quant_max=255
)
default_reuse_input_observer = ReuseInputObserver
default_debug_observer = RecordingObserver
#: Weights on [-127, 127] (without -128), so that a product of two fits 15 bits.
weight_observer_range_neg_127_to_127 = MinMaxObserver.with_args(
    dtype=qint8, qscheme=per_tensor_symmetric, quant_min=-127, quant_max=127, eps=2**-12
)
per_channel_weight_observer_range_neg_127_to_127 = PerChannelMinMaxObserver.with_args(
    dtype=qint8, qscheme=per_channel_symmetric, quant_min=-127, quant_max=127, eps=2**-12
)
default_float_qparams_observer_4bit = PerChannelMinMaxObserver.with_args(
    dtype=quint4x2, qscheme=per_channel_affine_float_qparams, ch_axis=0
)
# The older names of the fixed ranges, kept by PyTorch.
default_symmetric_fixed_qparams_observer = default_fixed_qparams_range_neg1to1_observer
default_affine_fixed_qparams_observer = default_fixed_qparams_range_0to1_observer


def _is_activation_post_process(module):
    from chainrule.ao.quantization.fake_quantize import FakeQuantizeBase

    return isinstance(module, (ObserverBase, FakeQuantizeBase))


def get_observer_state_dict(mod):
    """The entries of ``mod.state_dict()`` that belong to its observers and fake quantizers
    (``activation_post_process`` in the key), to save the calibration apart from the weights."""
    state = mod.state_dict()
    observed = OrderedDict((key, value) for key, value in state.items() if "activation_post_process" in key)
    observed._metadata = state._metadata
    return observed


def load_observer_state_dict(mod, obs_dict):
    """Load ``get_observer_state_dict``'s entries into the observers and fake quantizers of ``mod``
    (the other entries, and observers absent from ``obs_dict``, are left alone)."""
    missing_keys, unexpected_keys = [], []
    for name, module in mod.named_modules():
        if _is_activation_post_process(module):
            module._load_from_state_dict(obs_dict, name + ".", {}, False, missing_keys, unexpected_keys, [])

# PyTorch's HistogramObserver lives in its observer module; here it has a file of its own.
from chainrule.ao.quantization.histogram_observer import HistogramObserver  # noqa: E402

default_histogram_observer = HistogramObserver.with_args(quant_min=0, quant_max=127)
