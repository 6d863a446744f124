"""Quantized Conv2d: ``input (N, C_in, H, W) quint8 -> output (N, C_out, H_out, W_out) quint8``,
int8 weights (per tensor or per output channel), a float bias, the output quantized to the
module's ``scale`` and ``zero_point``. The integers are convolved exactly (float64 holds their sums)
and scaled once per output channel (``integer_arithmetic``)."""
import chainrule
from chainrule.ao.nn.quantized import integer_arithmetic
from chainrule.ao.nn.quantized.quantized_output import QuantizedOutput
from chainrule.ao.nn.quantized.weights import quantized_weight
from chainrule.nn import functional as F


class Conv2d(QuantizedOutput):
    """A statically quantized 2-d convolution (``torch.ao.nn.quantized.Conv2d``), zero padding."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if padding_mode != "zeros":
            raise NotImplementedError(f"quantized Conv2d pads with zeros only, not {padding_mode!r}")
        pair = lambda value: tuple(value) if isinstance(value, (tuple, list)) else (value, value)  # noqa: E731
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding, self.dilation = pair(kernel_size), pair(stride), pair(padding), pair(dilation)
        self.padding_mode = padding_mode
        weight = chainrule.quantize_per_tensor(
            chainrule.zeros(out_channels, in_channels // groups, *self.kernel_size), 1.0, 0, chainrule.qint8
        )
        self.set_weight_bias(weight, chainrule.zeros(out_channels) if bias else None)
        self.scale, self.zero_point = 1.0, 0

    def _get_name(self):
        return "QuantizedConv2d"

    def extra_repr(self):
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"scale={self.scale}, zero_point={self.zero_point}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self._bias is None:
            text += ", bias=False"
        return text

    def weight(self):
        return self._weight

    def bias(self):
        return self._bias

    def set_weight_bias(self, weight, bias):
        self._weight, self._bias = weight, None if bias is None else bias.detach().float()

    def forward(self, input):
        if input.dim() != 4:
            raise ValueError("Input shape must be `(N, C, H, W)`!")
        integers, scales = integer_arithmetic.centered(input)
        weight, weight_scales = integer_arithmetic.centered(self._weight)
        accumulator = F.conv2d(
            integer_arithmetic.as_tensor(integers), integer_arithmetic.as_tensor(weight), None, self.stride, self.padding,
            self.dilation, self.groups,
        )._array
        values = integer_arithmetic.scaled_accumulator(accumulator, scales[0], weight_scales, self._bias, 1)
        return integer_arithmetic.requantized(self.activation(values), self.scale, self.zero_point)

    @staticmethod
    def activation(values):
        """What follows the convolution before requantizing: nothing here, relu in ConvReLU2d."""
        return values

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        destination[prefix + "weight"], destination[prefix + "bias"] = self._weight, self._bias
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        self.set_weight_bias(state_dict.pop(prefix + "weight"), state_dict.pop(prefix + "bias"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized convolution of a prepared and calibrated float one (or a fused ConvReLU2d)."""
        conv = mod[0] if isinstance(mod, chainrule.nn.Sequential) else mod
        weight_observer = getattr(conv, "weight_fake_quant", None) or mod.qconfig.weight()
        weight_observer(conv.weight)
        output_scale, output_zero_point = mod.activation_post_process.calculate_qparams()
        quantized = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                        conv.groups, conv.bias is not None, conv.padding_mode)
        quantized.set_weight_bias(quantized_weight(conv.weight.float(), weight_observer), conv.bias)
        quantized.scale, quantized.zero_point = float(output_scale), int(output_zero_point)
        return quantized
