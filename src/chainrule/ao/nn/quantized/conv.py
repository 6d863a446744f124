"""Quantized convolutions, ``torch.ao.nn.quantized``'s: ``Conv1d``, ``Conv2d``, ``Conv3d`` and the
transposed ``ConvTranspose1d/2d/3d``. ``input (N, C_in, *spatial) quint8 -> output (N, C_out,
*spatial_out) quint8``, int8 weights (per tensor, or per output channel for the plain
convolutions: PyTorch refuses per-channel transposed ones), a float bias, the output quantized to
the module's ``scale`` and ``zero_point``.

The integers are convolved exactly (float64 holds their sums, as FBGEMM's int32 does) and scaled
once per output channel (``integer_arithmetic``; without bias, FBGEMM's one-multiplier
requantization): the same integers out as PyTorch's FBGEMM kernels, transposed convolutions
included (they requantize the same way).
"""
import chainrule
from chainrule.ao.nn.intrinsic.fused import FusedModule
from chainrule.ao.nn.quantized import integer_arithmetic
from chainrule.ao.nn.quantized.quantized_output import QuantizedOutput
from chainrule.ao.nn.quantized.weights import quantized_weight
from chainrule.dtypes import qint8, quint8
from chainrule.nn import functional as F

#: The dense convolution of each (number of spatial dimensions, transposed).
CONVOLUTIONS = {
    (1, False): F.conv1d, (2, False): F.conv2d, (3, False): F.conv3d,
    (1, True): F.conv_transpose1d, (2, True): F.conv_transpose2d, (3, True): F.conv_transpose3d,
}
LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def per_dimension(value, spatial):
    """``value`` as a tuple of ``spatial`` numbers (one number is repeated)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * spatial


class _ConvNd(QuantizedOutput):
    """What the quantized convolutions share; ``spatial`` (1, 2, 3) and ``transposed`` say which.

    For a plain convolution ``acc[n, o] = Σ_{c, k} (qx - zx)[n, c, stride·i + dilation·k - padding]
    · (qw - zw)[o, c, k]`` (over the channels of ``o``'s group), for a transposed one the adjoint
    (weight ``(C_in, C_out / groups, *kernel)``); then ``y = acc · sx·sw + bias``, quantized with
    (``scale``, ``zero_point``) after ``activation`` (ReLU in the fused ``ConvReLU``)."""

    spatial = 2
    transposed = False
    _FLOAT_MODULE = None

    def _init(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups, bias,
              padding_mode):
        super().__init__()
        if out_channels <= 0:
            raise ValueError(f"out_channels must be greater than 0, got {out_channels}")
        for role, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(f"{role} must be divisible by groups ({self._get_name()}: {role}={channels}, groups={groups})")
        self.check_padding_mode(padding_mode)
        self.in_channels, self.out_channels, self.groups, self.padding_mode = in_channels, out_channels, groups, padding_mode
        self.kernel_size, self.stride = per_dimension(kernel_size, self.spatial), per_dimension(stride, self.spatial)
        self.padding, self.dilation = per_dimension(padding, self.spatial), per_dimension(dilation, self.spatial)
        self.output_padding = per_dimension(output_padding, self.spatial)
        channels = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        weight = chainrule.quantize_per_tensor(chainrule.zeros(*channels, *self.kernel_size), 1.0, 0, qint8)
        self.set_weight_bias(weight, chainrule.zeros(out_channels) if bias else None)
        self.scale, self.zero_point = 1.0, 0

    def check_padding_mode(self, padding_mode):
        """PyTorch's quantized convolutions pad with zeros or by reflection (1-d and 2-d only)."""
        if padding_mode not in ("zeros", "reflect"):
            raise ValueError(
                f"'padding_mode' {padding_mode} is not supported by quantized convolution ({self._get_name()} "
                "pads with 'zeros' or 'reflect')"
            )
        if padding_mode == "reflect" and self.spatial == 3:
            raise AssertionError(f"Conv3d does not support reflection padding ({self._get_name()}: use padding_mode='zeros')")

    def _get_name(self):
        return "Quantized" + type(self).__name__

    def extra_repr(self):
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"scale={self.scale}, zero_point={self.zero_point}"
        )
        for name, default in (("padding", 0), ("dilation", 1), ("output_padding", 0)):
            if getattr(self, name) != (default,) * self.spatial:
                text += f", {name}={getattr(self, name)}"
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
        if self.transposed and weight.qscheme() not in (chainrule.per_tensor_affine, chainrule.per_tensor_symmetric):
            raise RuntimeError(
                f"Per Channel Quantization is currently disabled for transposed conv ({self._get_name()}: "
                "quantize its weight per tensor)"
            )
        self._weight, self._bias = weight, None if bias is None else bias.detach().float()

    def forward(self, input):
        if input.dim() != self.spatial + 2:
            raise ValueError(f"Input shape must be `{LAYOUTS[self.spatial]}`!")
        operation = f"conv{'_transpose' * self.transposed}{self.spatial}d"
        if not input.is_quantized:
            raise NotImplementedError(
                f"Could not run 'quantized::{operation}' with arguments from the 'CPU' backend: {self._get_name()} "
                "takes a quantized input (quantize it first, e.g. with a QuantStub or chainrule.quantize_per_tensor)"
            )
        if input.dtype != quint8:
            raise RuntimeError(
                f"quantized::conv(FBGEMM): Expected activation data type QUInt8 but got {input.dtype} ({self._get_name()})"
            )
        integers, scales = integer_arithmetic.centered(input)
        padding = self.padding
        if self.padding_mode == "reflect":
            before_and_after = [amount for each in reversed(self.padding) for amount in (each, each)]
            integers = F.pad(integer_arithmetic.as_tensor(integers), before_and_after, mode="reflect")._array
            padding = 0
        weight, weight_scales = integer_arithmetic.centered(self._weight)
        geometry = (self.stride, padding, self.output_padding, self.groups, self.dilation) if self.transposed else (
            self.stride, padding, self.dilation, self.groups)
        accumulator = CONVOLUTIONS[self.spatial, self.transposed](
            integer_arithmetic.as_tensor(integers), integer_arithmetic.as_tensor(weight), None, *geometry
        )._array
        if self._bias is None:
            return integer_arithmetic.requantized_without_bias(
                accumulator, scales[0], weight_scales, 1, self.activation, self.scale, self.zero_point
            )
        values = integer_arithmetic.scaled_accumulator(accumulator, scales[0], weight_scales, self._bias, 1)
        return integer_arithmetic.requantized(self.activation(values), self.scale, self.zero_point)

    @staticmethod
    def activation(values):
        """What follows the convolution before requantizing: nothing here, relu in ConvReLU."""
        return values

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        destination[prefix + "weight"], destination[prefix + "bias"] = self._weight, self._bias
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        self.set_weight_bias(state_dict.pop(prefix + "weight"), state_dict.pop(prefix + "bias"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized convolution of a prepared and calibrated float one: a float convolution or
        fused ``ConvReLU`` (weight observed by its qconfig's weight observer), or a trained QAT one
        (its own ``weight_fake_quant``, the batch norm of a ``ConvBn`` folded into the weight first)."""
        if not hasattr(mod, "weight_fake_quant") and type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(
                f"nnq.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__} but got: {type(mod).__name__}"
            )
        conv = mod[0] if isinstance(mod, FusedModule) else mod
        weight, bias = conv.float_weight_bias() if hasattr(conv, "weight_fake_quant") else (conv.weight, conv.bias)
        weight_observer = getattr(conv, "weight_fake_quant", None) or mod.qconfig.weight()
        weight_observer(weight)
        if weight_observer.dtype != qint8:
            raise AssertionError(f"Weight observer must have a dtype of qint8, got {weight_observer.dtype} ({cls.__name__})")
        geometry = (conv.stride, conv.padding, conv.output_padding, conv.groups, bias is not None, conv.dilation) if cls.transposed else (
            conv.stride, conv.padding, conv.dilation, conv.groups, bias is not None)
        quantized = cls(conv.in_channels, conv.out_channels, conv.kernel_size, *geometry, conv.padding_mode)
        quantized.set_weight_bias(quantized_weight(weight.float(), weight_observer), bias)
        output_scale, output_zero_point = mod.activation_post_process.calculate_qparams()
        quantized.scale, quantized.zero_point = float(output_scale), int(output_zero_point)
        return quantized


class _PlainConvNd(_ConvNd):
    """The constructor of the plain quantized convolutions (``torch.nn.Conv*d``'s arguments)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        self._init(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias, padding_mode)


class _ConvTransposeNd(_ConvNd):
    """The constructor of the transposed quantized convolutions (``torch.nn.ConvTranspose*d``'s
    arguments, zero padding only); weight ``(C_in, C_out / groups, *kernel)``, per tensor."""

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        self._init(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups, bias, padding_mode)

    def check_padding_mode(self, padding_mode):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__} (got {padding_mode!r})')


class Conv1d(_PlainConvNd):
    """``QuantizedConv1d``: ``input (N, C_in, L) -> (N, C_out, L_out)``."""

    spatial = 1
    _FLOAT_MODULE = chainrule.nn.Conv1d


class Conv2d(_PlainConvNd):
    """``QuantizedConv2d``: ``input (N, C_in, H, W) -> (N, C_out, H_out, W_out)``."""

    spatial = 2
    _FLOAT_MODULE = chainrule.nn.Conv2d


class Conv3d(_PlainConvNd):
    """``QuantizedConv3d``: ``input (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)``, zero padding."""

    spatial = 3
    _FLOAT_MODULE = chainrule.nn.Conv3d


class ConvTranspose1d(_ConvTransposeNd):
    """``QuantizedConvTranspose1d``: ``input (N, C_in, L) -> (N, C_out, L_out)``,
    ``L_out = (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1``."""

    spatial = 1
    _FLOAT_MODULE = chainrule.nn.ConvTranspose1d


class ConvTranspose2d(_ConvTransposeNd):
    """``QuantizedConvTranspose2d``: ``input (N, C_in, H, W) -> (N, C_out, H_out, W_out)``."""

    spatial = 2
    _FLOAT_MODULE = chainrule.nn.ConvTranspose2d


class ConvTranspose3d(_ConvTransposeNd):
    """``QuantizedConvTranspose3d``: ``input (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)``."""

    spatial = 3
    _FLOAT_MODULE = chainrule.nn.ConvTranspose3d
