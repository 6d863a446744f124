"""Dynamically quantized Linear: ``input (N, *, in_features) float -> output (N, *, out_features)
float``, in one of two ways, as PyTorch's ``DynamicQuantizedLinear``:

- ``dtype=qint8``: the weight is int8, quantized once; each input is quantized to uint8 as it
  arrives, with the scale and zero point its own min and max call for (7 bits on x86/FBGEMM,
  ``reduce_range``), multiplied in integers and scaled back to floats (``integer_arithmetic``);
- ``dtype=float16``: the weight is stored as float16 and the product accumulated in float32
  (``float16_arithmetic``).
"""
import chainrule
from chainrule.ao.nn.quantized.dynamic import float16_arithmetic
from chainrule.ao.nn.quantized.linear import Linear as QuantizedLinear
from chainrule.ao.nn.quantized.weights import quantized_weight
from chainrule.backend import xp
from chainrule.quantized.quantize import choose_qparams, rounded
from chainrule.tensor import tensor_from_array

SUPPORTED_DTYPES = (chainrule.qint8, chainrule.float16)


class Linear(QuantizedLinear):
    """``torch.ao.nn.quantized.dynamic.Linear``: float in, float out, int8 or float16 weight."""

    _version = 4

    def __init__(self, in_features, out_features, bias_=True, dtype=chainrule.qint8):
        super().__init__(in_features, out_features, bias_, dtype=dtype)
        self.version = 4
        if dtype == chainrule.float16:
            self.set_weight_bias(chainrule.zeros(out_features, in_features), self.bias())

    def _get_name(self):
        return "DynamicQuantizedLinear"

    def extra_repr(self):
        text = f"in_features={self.in_features}, out_features={self.out_features}, dtype={self._packed_params.dtype}"
        return text + f", qscheme={self.weight().qscheme()}" if self._packed_params.dtype == chainrule.qint8 else text

    def weight(self):
        """The int8 weight (a quantized tensor), or the float16 one as float32 values (as PyTorch unpacks it)."""
        weight = self._packed_params.weight
        return weight.float() if weight.dtype == chainrule.float16 else weight

    def set_weight_bias(self, weight, bias):
        """Hold ``weight`` (quantized int8, or float: rounded to float16 for ``dtype=float16``) and the float ``bias``."""
        if self._packed_params.dtype == chainrule.float16:
            weight = tensor_from_array(float16_arithmetic.float16_weight(weight.detach()._array))
        super().set_weight_bias(weight, bias)

    def forward(self, x):
        if x.dim() < 2:
            raise RuntimeError(
                f"The dimension of input tensor should be larger than or equal to 2 ({self._get_name()}: got shape "
                f"{tuple(x.shape)}; add a batch dimension, e.g. x.unsqueeze(0))"
            )
        return self.linear_dynamic(x)

    def linear_dynamic(self, x):
        """``x (…, in_features)`` float -> ``(…, out_features)`` in x's dtype, any number of leading
        dimensions (the product of the recurrent layers and cells too). With int8 weights ``x`` is
        quantized to uint8 in 7 bits (``reduce_range``, as FBGEMM on x86 does for all of them).
        ``activation`` (none here; relu in the fused LinearReLU) runs on the float result."""
        values = x.detach()._array.astype(xp.float32)
        if self._packed_params.dtype == chainrule.float16:
            result = float16_arithmetic.linear(values, self._packed_params.weight._array, self.bias())
        else:
            low, high = (values.min(), values.max()) if values.size else (0.0, 0.0)
            scale, zero_point = choose_qparams(low, high, 0, 255, reduce_range=True)
            integers = rounded(values, scale, zero_point, chainrule.quint8, fused=True).astype(xp.float64) - zero_point
            result = self.linear_floats(integers, scale)
        return tensor_from_array(self.activation(result)).to(x.dtype)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamic quantized layer of a float Linear (or LinearReLU's Linear): its weight
        observed and quantized by its qconfig's weight observer (int8, per tensor by default), or
        kept as float16 where that observer's dtype is float16 (``float16_dynamic_qconfig``)."""
        float_module = mod[0] if isinstance(mod, chainrule.nn.Sequential) else mod
        return cls.from_weight(float_module.weight, float_module.bias, getattr(mod, "qconfig", None))

    @classmethod
    def from_weight(cls, weight, bias, qconfig):
        """The dynamic quantized layer of the float ``weight`` (out_features, in_features) and
        ``bias``, quantized as ``qconfig``'s weight observer says (``default_dynamic_qconfig``'s if None)."""
        if qconfig is not None and qconfig.weight is not None:
            weight_observer = qconfig.weight()
        else:
            from chainrule.ao.quantization.qconfig import default_dynamic_qconfig

            weight_observer = default_dynamic_qconfig.weight()
        if weight_observer.dtype not in SUPPORTED_DTYPES:
            raise AssertionError(
                f"The only supported dtypes for dynamic quantized linear are qint8 and float16, got: {weight_observer.dtype} "
                "(give the layer a qconfig whose weight observer has one of them)"
            )
        weight_observer(weight)
        held = quantized_weight(weight.float(), weight_observer) if weight_observer.dtype == chainrule.qint8 else weight.float()
        return cls.from_packed(held, bias, weight_observer.dtype)

    def packed(self):
        """``(weight, bias)`` as held (int8 quantized or float16): what a recurrent layer's state dict saves."""
        return self._packed_params.weight, self.bias()

    @classmethod
    def from_packed(cls, weight, bias, dtype=None):
        """The layer holding ``weight`` (out_features, in_features), int8 quantized or float16 (or
        float, rounded to float16 for ``dtype=float16``), and ``bias``."""
        linear = cls(weight.shape[1], weight.shape[0], bias is not None, dtype=dtype or weight.dtype)
        linear.set_weight_bias(weight, bias)
        return linear
