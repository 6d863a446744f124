"""Dynamically quantized Linear: ``input (N, *, in_features) float -> output (N, *, out_features)
float``. The weight is int8, quantized once; each input is quantized to uint8 as it arrives, with
the scale and zero point its own min and max call for (7 bits on x86/FBGEMM, ``reduce_range``),
multiplied in integers and scaled back to floats (``integer_arithmetic``)."""
import chainrule
from chainrule.ao.nn.quantized import integer_arithmetic
from chainrule.ao.nn.quantized.linear import Linear as QuantizedLinear
from chainrule.ao.nn.quantized.weights import quantized_weight
from chainrule.backend import xp
from chainrule.quantized.quantize import choose_qparams, rounded
from chainrule.tensor import tensor_from_array


class Linear(QuantizedLinear):
    """``torch.ao.nn.quantized.dynamic.Linear``: float in, float out, int8 weight."""

    _version = 4

    def __init__(self, in_features, out_features, bias_=True, dtype=chainrule.qint8):
        super().__init__(in_features, out_features, bias_, dtype=dtype)
        self.version = 4

    def _get_name(self):
        return "DynamicQuantizedLinear"

    def extra_repr(self):
        text = f"in_features={self.in_features}, out_features={self.out_features}, dtype={self._packed_params.dtype}"
        return text + f", qscheme={self.weight().qscheme()}" if self._packed_params.dtype == chainrule.qint8 else text

    def forward(self, x):
        if x.dim() < 2:
            raise RuntimeError(
                f"The dimension of input tensor should be larger than or equal to 2 ({self._get_name()}: got shape "
                f"{tuple(x.shape)}; add a batch dimension, e.g. x.unsqueeze(0))"
            )
        values = x.detach()._array.astype(xp.float32)
        low, high = (values.min(), values.max()) if values.size else (0.0, 0.0)
        scale, zero_point = choose_qparams(low, high, 0, 255, reduce_range=True)
        integers = rounded(values, scale, zero_point, chainrule.quint8, fused=True).astype(xp.float64) - zero_point
        return tensor_from_array(self.linear_floats(integers, scale)).to(x.dtype)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamic quantized layer of a float Linear (or LinearReLU's Linear): its weight
        observed and quantized by its qconfig's weight observer (int8, per tensor by default)."""
        float_module = mod[0] if isinstance(mod, chainrule.nn.Sequential) else mod
        qconfig = getattr(mod, "qconfig", None)
        if qconfig is not None and qconfig.weight is not None:
            weight_observer = qconfig.weight()
        else:
            from chainrule.ao.quantization.qconfig import default_dynamic_qconfig

            weight_observer = default_dynamic_qconfig.weight()
        if weight_observer.dtype != chainrule.qint8:
            raise AssertionError(
                f"The only supported dtypes for dynamic quantized linear are qint8 and float16, got: {weight_observer.dtype} "
                "(float16 is not supported here: use dtype=chainrule.qint8)"
            )
        weight_observer(float_module.weight)
        quantized = cls(float_module.in_features, float_module.out_features, dtype=weight_observer.dtype)
        quantized.set_weight_bias(quantized_weight(float_module.weight.float(), weight_observer), float_module.bias)
        return quantized
