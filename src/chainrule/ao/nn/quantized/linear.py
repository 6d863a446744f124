"""Quantized Linear: ``input (N, *, in_features) quint8 -> output (N, *, out_features) quint8``,
int8 weights (per tensor or per output channel), a float bias, the output quantized to the
module's ``scale`` and ``zero_point`` (chosen by the observer during calibration)."""
import chainrule
from chainrule.ao.nn.quantized import integer_arithmetic
from chainrule.ao.nn.quantized.quantized_output import QuantizedOutput
from chainrule.ao.nn.quantized.weights import quantized_weight
from chainrule.nn.module import Module


class LinearPackedParams(Module):
    """Holds the quantized weight and the float bias (PyTorch's ``_packed_params``), saved in the
    state dict as ``_packed_params._packed_params`` (weight, bias) and ``_packed_params.dtype``."""

    def __init__(self, dtype=chainrule.qint8):
        super().__init__()
        self.dtype = dtype
        self.weight, self.bias = None, None

    def set_weight_bias(self, weight, bias):
        self.weight, self.bias = weight, None if bias is None else bias.detach().float()

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "_packed_params"] = (self.weight, self.bias)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        self.dtype = state_dict.pop(prefix + "dtype", self.dtype)
        self.set_weight_bias(*state_dict.pop(prefix + "_packed_params"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys, error_msgs)

    def __repr__(self):
        return "LinearPackedParams()"


class Linear(QuantizedOutput):
    """A statically quantized linear layer (``torch.ao.nn.quantized.Linear``)."""

    _FLOAT_MODULE = chainrule.nn.Linear

    def __init__(self, in_features, out_features, bias_=True, dtype=chainrule.qint8):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        weight = chainrule.quantize_per_tensor(chainrule.zeros(out_features, in_features), 1.0, 0, chainrule.qint8)
        self._packed_params = LinearPackedParams(dtype)
        self._packed_params.set_weight_bias(weight, chainrule.zeros(out_features) if bias_ else None)
        self.scale, self.zero_point = 1.0, 0

    def _get_name(self):
        return "QuantizedLinear"

    def __repr__(self):  # the packed parameters are not shown, as in PyTorch
        return f"{self._get_name()}({self.extra_repr()})"

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, scale={self.scale}, "
            f"zero_point={self.zero_point}, qscheme={self.weight().qscheme()}"
        )

    def weight(self):
        return self._packed_params.weight

    def bias(self):
        return self._packed_params.bias

    def set_weight_bias(self, weight, bias):
        self._packed_params.set_weight_bias(weight, bias)

    def accumulated(self, input_integers):
        """``Σ (qx - zx)(qw - zw)`` (exact) of ``input (…, in_features)`` centered integers: the
        accumulator ``(…, out_features)`` and the weight's scales."""
        weight, weight_scales = integer_arithmetic.centered(self.weight())
        return input_integers @ weight.T, weight_scales

    def linear_floats(self, input_integers, input_scale):
        """``input (…, in_features)`` centered integers and their scale -> float32 ``(…, out_features)``."""
        accumulator, weight_scales = self.accumulated(input_integers)
        return integer_arithmetic.scaled_accumulator(accumulator, input_scale, weight_scales, self.bias(), accumulator.ndim - 1)

    def forward(self, x):
        integers, scales = integer_arithmetic.centered(x)
        if self.bias() is None:  # FBGEMM requantizes the accumulator in one step (integer_arithmetic)
            accumulator, weight_scales = self.accumulated(integers)
            return integer_arithmetic.requantized_without_bias(
                accumulator, scales[0], weight_scales, accumulator.ndim - 1, self.activation, self.scale, self.zero_point
            )
        values = self.linear_floats(integers, scales[0])
        return integer_arithmetic.requantized(self.activation(values), self.scale, self.zero_point)

    @staticmethod
    def activation(values):
        """What follows the product before requantizing: nothing here, relu in LinearReLU."""
        return values

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized layer of a prepared and calibrated float one (its weight observed by its
        qconfig's weight observer, its output scale and zero point from its activation observer)."""
        float_module = mod[0] if isinstance(mod, chainrule.nn.Sequential) else mod  # a fused LinearReLU
        weight_observer = getattr(float_module, "weight_fake_quant", None) or mod.qconfig.weight()
        is_qat = hasattr(float_module, "weight_fake_quant")  # a QAT LinearBn1d gives its batch norm folded in
        weight, bias = float_module.float_weight_bias() if is_qat else (float_module.weight, float_module.bias)
        weight_observer(weight)
        output_scale, output_zero_point = mod.activation_post_process.calculate_qparams()
        quantized = cls(float_module.in_features, float_module.out_features, dtype=weight_observer.dtype)
        quantized.set_weight_bias(quantized_weight(weight.float(), weight_observer), bias)
        quantized.scale, quantized.zero_point = float(output_scale), int(output_zero_point)
        return quantized
