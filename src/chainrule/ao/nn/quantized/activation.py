"""Quantized activations, ``torch.ao.nn.quantized``'s: ``ReLU6`` (the integers clamped, same
qparams), and those whose output has qparams of its own, the observer's after ``convert``
(``from_float``): ``Hardswish``, ``ELU``, ``LeakyReLU``, ``Sigmoid``, ``Softmax``, and ``PReLU``,
whose slopes are quantized too (kernels in ``chainrule.quantized.activations``)."""
import chainrule
from chainrule import nn
from chainrule.caller_warnings import warn_at_caller
from chainrule.nn.module import Module
from chainrule.ops.activation import implicit_softmax_dim
from chainrule.quantized import activations
from chainrule.quantized.tensor import QuantizedTensor


class ReLU6(Module):
    """``QuantizedReLU6``: ``input quantized -> output quantized (same shape and parameters)``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def _get_name(self):
        return "QuantizedReLU6"

    def forward(self, input):
        return activations.relu6(input)

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return ReLU6(mod.inplace)


def _observed_qparams(mod):
    """(scale, zero_point) of a float module's observer, as Python numbers."""
    scale, zero_point = mod.activation_post_process.calculate_qparams()
    return float(scale), int(zero_point)


class Hardswish(nn.Hardswish):
    """``QuantizedHardswish``: x·relu6(x + 3)/6 quantized with ``scale`` and ``zero_point`` (buffers)."""

    def __init__(self, scale, zero_point, device=None, dtype=None):
        super().__init__()
        self.register_buffer("scale", chainrule.tensor(scale))
        self.register_buffer("zero_point", chainrule.tensor(zero_point))

    def _get_name(self):
        return "QuantizedHardswish"

    def forward(self, input):
        return activations.hardswish(input, self.scale.item(), int(self.zero_point.item()))

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return Hardswish(*_observed_qparams(mod))


class ELU(nn.ELU):
    """``QuantizedELU``: x for x > 0, alpha·(eˣ - 1) below, quantized with ``scale`` and ``zero_point``."""

    def __init__(self, scale, zero_point, alpha=1.0):
        super().__init__(alpha)
        self.scale = scale
        self.zero_point = zero_point

    def _get_name(self):
        return "QuantizedELU"

    def forward(self, input):
        return activations.elu(input, self.scale, self.zero_point, self.alpha)

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return ELU(*_observed_qparams(mod), mod.alpha)


class LeakyReLU(nn.LeakyReLU):
    """``QuantizedLeakyReLU``: leaky_relu quantized with ``scale`` and ``zero_point`` (buffers)."""

    def __init__(self, scale, zero_point, negative_slope=0.01, inplace=False, device=None, dtype=None):
        super().__init__(negative_slope, inplace)
        self.register_buffer("scale", chainrule.tensor(scale))
        self.register_buffer("zero_point", chainrule.tensor(zero_point))

    def _get_name(self):
        return "QuantizedLeakyReLU"

    def forward(self, input):
        return activations.leaky_relu_to(input, self.negative_slope, self.scale.item(), int(self.zero_point.item()))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(*_observed_qparams(mod), mod.negative_slope, mod.inplace)


class Sigmoid(nn.Sigmoid):
    """Quantized sigmoid (prints as ``Sigmoid()``, as PyTorch's): quantized with ``output_scale``
    and ``output_zero_point``."""

    def __init__(self, output_scale, output_zero_point):
        super().__init__()
        self.output_scale = output_scale
        self.output_zero_point = output_zero_point

    def forward(self, input):
        return activations.sigmoid_to(input, self.output_scale, self.output_zero_point)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(*_observed_qparams(mod))


class Softmax(nn.Softmax):
    """``QuantizedSoftmax``: e^x / Σ e^x along ``dim`` (as ``nn.Softmax``: the implicit choice,
    with its warning, where None), quantized with ``scale`` and ``zero_point``."""

    def __init__(self, dim=None, scale=1.0, zero_point=0):
        super().__init__(dim)
        self.scale = scale
        self.zero_point = zero_point

    def _get_name(self):
        return "QuantizedSoftmax"

    def forward(self, input):
        dim = implicit_softmax_dim("softmax", input.dim()) if self.dim is None else self.dim
        return activations.softmax_to(input, dim, self.scale, self.zero_point)

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return Softmax(mod.dim, *_observed_qparams(mod))


class PReLU(Module):
    """``QuantizedPReLU``: x above 0, ``weight``·x below, ``input (N, C, *)`` with quantized slopes
    ``weight (num_parameters,)`` (quint8, one for all channels or one per channel of dim 1), the
    output quantized with ``scale`` and ``zero_point``."""

    def __init__(self, output_scale, output_zero_point, num_parameters=1):
        super().__init__()
        self.num_parameters = num_parameters
        self.scale = output_scale
        self.zero_point = output_zero_point
        self.set_weight(chainrule.quantize_per_tensor(chainrule.randn(num_parameters), 1.0, 0, chainrule.quint8))

    def set_weight(self, w):
        self.weight = w

    def _get_name(self):
        return "QuantizedPReLU"

    def forward(self, input):
        if not isinstance(input, QuantizedTensor):
            raise RuntimeError(
                "Creation of quantized tensor requires quantized dtype like torch.quint8 (QuantizedPReLU takes a "
                f"quantized tensor, got {input.dtype}: quantize it first, with a QuantStub or chainrule.quantize_per_tensor)"
            )
        if input.dim() == 0:
            raise RuntimeError("prelu: Type promoting not supported. (QuantizedPReLU takes an input of at least one dimension)")
        return activations.prelu(input, self.weight, self.scale, self.zero_point)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized PReLU of a calibrated float one: its slopes quantized to quint8 with the
        parameters its qconfig's weight observer chooses for them."""
        quantized = cls(*_observed_qparams(mod), mod.num_parameters)
        slopes = mod.weight.detach().float()
        observer = mod.qconfig.weight()
        observer(slopes)
        if observer.dtype != chainrule.quint8:
            warn_at_caller(f"PReLU's weight observer should have dtype quint8 but got {observer.dtype}")
        weight_scale, weight_zero_point = observer.calculate_qparams()
        quantized.set_weight(chainrule.quantize_per_tensor(slopes, float(weight_scale), int(weight_zero_point), chainrule.quint8))
        return quantized
