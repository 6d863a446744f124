"""FakeQuantize: the module that quantization-aware training puts where quantization will be.

In training it observes what passes (an observer updates the range), takes the scale and zero
point the observer calls for, and fake-quantizes the tensor (rounds it onto that grid and back,
``chainrule.fake_quantize_per_tensor_affine``): the network trains with the rounding error it will
have once quantized, the gradient passing straight through. ``disable_observer`` freezes the
parameters (late in training), ``disable_fake_quant`` lets values through untouched.
``FusedMovingAvgObsFakeQuantize`` (PyTorch's default for training) does both in one step, with
FBGEMM's rule for the parameters.
"""
import chainrule
from chainrule.ao.quantization.observer import (
    FixedQParamsObserver,
    HistogramObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    default_fixed_qparams_range_0to1_observer,
    default_fixed_qparams_range_neg1to1_observer,
    with_args,
)
from chainrule.backend import xp
from chainrule.dtypes import qint8, quint4x2, quint8
from chainrule.nn.module import Module
from chainrule.quantized.schemes import (
    PER_CHANNEL,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
)
from chainrule.tensor import tensor_from_array


class FakeQuantizeBase(Module):
    """A fake quantizer, with the switches ``fake_quant_enabled`` and ``observer_enabled`` (buffers,
    as PyTorch's, so that they are saved with the model)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("fake_quant_enabled", chainrule.tensor([1], dtype=chainrule.uint8))
        self.register_buffer("observer_enabled", chainrule.tensor([1], dtype=chainrule.uint8))

    def enable_fake_quant(self, enabled=True):
        self.fake_quant_enabled[0] = 1 if enabled else 0

    def disable_fake_quant(self):
        self.enable_fake_quant(False)

    def enable_observer(self, enabled=True):
        self.observer_enabled[0] = 1 if enabled else 0

    def disable_observer(self):
        self.enable_observer(False)

    with_args = classmethod(with_args)


class FakeQuantize(FakeQuantizeBase):
    """Observe with ``observer(**observer_kwargs)``, then fake-quantize with what it chose:
    ``input (any shape) -> output (same shape)``, per tensor or per channel (``ch_axis``)."""

    def __init__(self, observer=MovingAverageMinMaxObserver, quant_min=None, quant_max=None, is_dynamic=False, **observer_kwargs):
        super().__init__()
        if quant_min is not None and quant_max is not None:
            if quant_min > quant_max:
                raise AssertionError("quant_min must be less than or equal to quant_max")
            observer_kwargs.update(quant_min=quant_min, quant_max=quant_max)
        observer_kwargs["is_dynamic"] = is_dynamic
        self.activation_post_process = observer(**observer_kwargs)
        observer_module = self.activation_post_process
        self.quant_min, self.quant_max = observer_module.quant_min, observer_module.quant_max
        self.is_dynamic = observer_module.is_dynamic
        float_qparams = observer_module.qscheme is per_channel_affine_float_qparams
        self.register_buffer("scale", chainrule.tensor([1.0]))
        self.register_buffer("zero_point", chainrule.tensor([0], dtype=chainrule.float32 if float_qparams else chainrule.int32))
        self.dtype = observer_module.dtype
        self.qscheme = observer_module.qscheme
        self.ch_axis = getattr(observer_module, "ch_axis", -1)
        self.is_per_channel = self.qscheme in PER_CHANNEL

    def calculate_qparams(self):
        """The observer's ``(scale, zero_point)``."""
        return self.activation_post_process.calculate_qparams()

    def forward(self, X):
        if self.observer_enabled[0] == 1:
            self.activation_post_process(X.detach())
            scale, zero_point = self.calculate_qparams()
            self.scale = scale.to(chainrule.float32)
            self.zero_point = zero_point.to(self.zero_point.dtype)
        if self.fake_quant_enabled[0] == 1:
            return self.fake_quantized(X)
        return X

    def fake_quantized(self, X):
        """``X`` rounded onto the grid of ``scale`` and ``zero_point`` and back (per tensor or per channel)."""
        if self.is_per_channel:
            return chainrule.fake_quantize_per_channel_affine(X, self.scale, self.zero_point, self.ch_axis, self.quant_min, self.quant_max)
        return chainrule.fake_quantize_per_tensor_affine(X, self.scale, self.zero_point, self.quant_min, self.quant_max)

    def extra_repr(self):
        return (
            f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled={self.observer_enabled}, "
            f"quant_min={self.quant_min}, quant_max={self.quant_max}, dtype={self.dtype}, qscheme={self.qscheme}, "
            f"ch_axis={self.ch_axis}, scale={self.scale}, zero_point={self.zero_point}"
        )



class FusedMovingAvgObsFakeQuantize(FakeQuantize):
    """FakeQuantize with a moving-average observer, observing and fake-quantizing in one step, as
    PyTorch's fused kernel (``fused_moving_avg_obs_fake_quant``): the running min and max move as
    the observer's, but the scale and zero point of training are chosen from them on every forward
    by FBGEMM's rule (``fbgemm_qparams``), which for symmetric weights differs from the observer's:
    ``max(|min| / 128, max / 127)`` against ``max(|min|, max) / 127.5``. ``convert`` still asks the
    observer (``calculate_qparams``), as PyTorch does."""

    def __init__(self, observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, **observer_kwargs):
        super().__init__(observer, quant_min, quant_max, **observer_kwargs)
        if not isinstance(self.activation_post_process, (MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver)):
            raise AssertionError(
                "Fused observer+fake_quant module only works with MovingAverageMinMaxObserver "
                f"(got {type(self.activation_post_process).__name__})"
            )
        self.register_buffer("fake_quant_enabled", chainrule.tensor([1], dtype=chainrule.int64))
        self.register_buffer("observer_enabled", chainrule.tensor([1], dtype=chainrule.int64))
        self.is_symmetric_quant = self.qscheme in (per_tensor_symmetric, per_channel_symmetric)

    def forward(self, X):
        if self.observer_enabled[0] == 1:
            self.activation_post_process(X.detach())
        if self.fake_quant_enabled[0] != 1 or X.numel() == 0:
            return X
        observer = self.activation_post_process
        scale, zero_point = fbgemm_qparams(
            observer.min_val._array, observer.max_val._array, self.quant_min, self.quant_max, self.is_symmetric_quant
        )
        self.scale = tensor_from_array(scale.reshape(-1))
        self.zero_point = tensor_from_array(zero_point.reshape(-1))
        return self.fake_quantized(X)

    def extra_repr(self):
        return (
            f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled={self.observer_enabled}, "
            f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}, quant_min={self.quant_min}, "
            f"quant_max={self.quant_max}, qscheme={self.qscheme}, reduce_range={self.activation_post_process.reduce_range}"
        )


#: FBGEMM's smallest scale (float16's smallest normal number): a range that calls for less is widened.
SMALL_SCALE = xp.float32(6.1e-5)


def fbgemm_qparams(min_val, max_val, quant_min, quant_max, symmetric):
    """``(scale float32, zero_point int32)`` arrays for the float32 ranges ``[min_val, max_val]``
    (one per tensor or per channel), by FBGEMM's ``ChooseQuantizationParams``:

    - symmetric, where the range holds 0 inside: widened to ``[-128 s, 127 s]`` (for qint8) with
      ``s = max(|min| / 128, max / 127)``, zero point the middle of the integers rounded half to even;
    - the range widened to hold 0; ``scale = (max - min) / (quant_max - quant_min)`` in float64
      (0.1 where it is 0), at least ``SMALL_SCALE`` (the range stretched to match);
    - the zero point from the end whose term is smaller (``quant_min - min / scale`` or ``quant_max
      - max / scale``), rounded half to even and clamped into the integers."""
    low, high = min_val.astype(xp.float32), max_val.astype(xp.float32)
    integers = quant_max - quant_min
    if symmetric:
        lowest, highest = -(integers // 2 + 1), integers // 2
        straddles = (low < 0) & (high > 0)
        step = xp.maximum(xp.abs(low / xp.float32(lowest)), xp.abs(high / xp.float32(highest))).astype(xp.float64)
        low = xp.where(straddles, (step * lowest).astype(xp.float32), low)
        high = xp.where(straddles, (step * highest).astype(xp.float32), high)
    low, high = xp.minimum(low, xp.float32(0)), xp.maximum(high, xp.float32(0))
    scale = (high.astype(xp.float64) - low) / integers
    with xp.errstate(divide="ignore", over="ignore"):
        unusable = (scale.astype(xp.float32) == 0) | xp.isinf(xp.float32(1) / scale.astype(xp.float32))
    scale = xp.where(unusable, 0.1, scale)
    too_small = scale < SMALL_SCALE
    if too_small.any():
        stretch = (SMALL_SCALE / scale.astype(xp.float32)).astype(xp.float32)
        stretched_low = xp.where(high == 0, -SMALL_SCALE * xp.float32(integers), low * stretch)
        stretched_high = xp.where(low == 0, SMALL_SCALE * xp.float32(integers), high * stretch)
        low = xp.where(too_small & (low != 0), stretched_low, low).astype(xp.float32)
        high = xp.where(too_small, stretched_high, high).astype(xp.float32)
        scale = xp.where(too_small, xp.float64(SMALL_SCALE), scale)
    from_min, from_max = quant_min - low / scale, quant_max - high / scale
    from_min_smaller = abs(quant_min) - xp.abs(low / scale) < abs(quant_max) - xp.abs(high / scale)
    zero_point = xp.where(from_min_smaller, from_min, from_max)
    if symmetric:
        zero_point = xp.where((low < 0) & (high > 0), (quant_min + quant_max) / 2, zero_point)
    zero_point = xp.clip(xp.rint(zero_point), quant_min, quant_max)
    return scale.astype(xp.float32), zero_point.astype(xp.int32)


class FixedQParamsFakeQuantize(FakeQuantize):
    """Fake quantization on the fixed grid of a ``FixedQParamsObserver`` (sigmoid's, tanh's output),
    for quantization-aware training in graph mode."""

    def __init__(self, observer):
        super().__init__(observer=observer)
        if not isinstance(self.activation_post_process, FixedQParamsObserver):
            raise AssertionError(f"{type(self).__name__}'s observer must be a FixedQParamsObserver")
        self.scale = self.activation_post_process.scale
        self.zero_point = self.activation_post_process.zero_point

    def calculate_qparams(self):
        return self.scale, self.zero_point

    def extra_repr(self):
        return (
            f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled={self.observer_enabled}, "
            f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}, "
            f"quant_min={self.activation_post_process.quant_min}, quant_max={self.activation_post_process.quant_max}, "
            f"qscheme={self.qscheme}"
        )

def _switch(method_name):
    def switch(module):
        if isinstance(module, FakeQuantizeBase):
            getattr(module, method_name)()

    switch.__name__ = method_name
    switch.__doc__ = f"``module.{method_name}()`` where it is a fake quantizer: ``model.apply({method_name})``."
    return switch


disable_fake_quant = _switch("disable_fake_quant")
enable_fake_quant = _switch("enable_fake_quant")
disable_observer = _switch("disable_observer")
enable_observer = _switch("enable_observer")

default_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=quint8, qscheme=per_tensor_affine, reduce_range=True
)
default_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8, qscheme=per_tensor_symmetric, reduce_range=False
)
#: Dynamic quantization's, in training: the range of each batch alone (``averaging_constant=1``).
default_dynamic_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, is_dynamic=True, dtype=quint8, averaging_constant=1
)
default_fixed_qparams_range_neg1to1_fake_quant = FixedQParamsFakeQuantize.with_args(
    observer=default_fixed_qparams_range_neg1to1_observer
)
default_fixed_qparams_range_0to1_fake_quant = FixedQParamsFakeQuantize.with_args(observer=default_fixed_qparams_range_0to1_observer)
# The older names of the fixed ranges, kept by PyTorch.
default_symmetric_fixed_qparams_fake_quant = default_fixed_qparams_range_neg1to1_fake_quant
default_affine_fixed_qparams_fake_quant = default_fixed_qparams_range_0to1_fake_quant
default_per_channel_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8,
    qscheme=per_channel_symmetric, reduce_range=False, ch_axis=0,
)
default_embedding_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, qscheme=per_channel_affine_float_qparams, dtype=quint8,
    quant_min=0, quant_max=255, ch_axis=0, averaging_constant=1,
)
default_embedding_fake_quant_4bit = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, qscheme=per_channel_affine_float_qparams, ch_axis=0, dtype=quint4x2,
    averaging_constant=1,
)
default_histogram_fake_quant = FakeQuantize.with_args(
    observer=HistogramObserver, quant_min=0, quant_max=255, dtype=quint8, qscheme=per_tensor_affine, reduce_range=True
)
default_fused_act_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=quint8
)
default_fused_wt_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8, qscheme=per_tensor_symmetric
)
default_fused_per_channel_wt_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8, qscheme=per_channel_symmetric
)
fused_wt_fake_quant_range_neg_127_to_127 = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-127, quant_max=127, dtype=qint8, qscheme=per_tensor_symmetric, eps=2**-12
)
fused_per_channel_wt_fake_quant_range_neg_127_to_127 = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-127, quant_max=127, dtype=qint8,
    qscheme=per_channel_symmetric, eps=2**-12,
)
