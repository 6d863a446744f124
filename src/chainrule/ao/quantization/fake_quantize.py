"""FakeQuantize: the module that quantization-aware training puts where quantization will be.

In training it observes what passes (an observer updates the range), takes the scale and zero
point the observer calls for, and fake-quantizes the tensor (rounds it onto that grid and back,
``chainrule.fake_quantize_per_tensor_affine``): the network trains with the rounding error it will
have once quantized, the gradient passing straight through. ``disable_observer`` freezes the
parameters (late in training), ``disable_fake_quant`` lets values through untouched.
"""
import chainrule
from chainrule.ao.quantization.observer import (
    FixedQParamsObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    with_args,
)
from chainrule.dtypes import qint8, quint8
from chainrule.nn.module import Module
from chainrule.quantized.schemes import (
    PER_CHANNEL,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
)


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
            if self.is_per_channel:
                return chainrule.fake_quantize_per_channel_affine(
                    X, self.scale, self.zero_point, self.ch_axis, self.quant_min, self.quant_max
                )
            return chainrule.fake_quantize_per_tensor_affine(X, self.scale, self.zero_point, self.quant_min, self.quant_max)
        return X

    def extra_repr(self):
        return (
            f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled={self.observer_enabled}, "
            f"quant_min={self.quant_min}, quant_max={self.quant_max}, dtype={self.dtype}, qscheme={self.qscheme}, "
            f"ch_axis={self.ch_axis}, scale={self.scale}, zero_point={self.zero_point}"
        )



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
default_per_channel_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8,
    qscheme=per_channel_symmetric, reduce_range=False, ch_axis=0,
)
