"""Quantized BatchNorm2d and BatchNorm3d (evaluation-mode batch norm): ``input (N, C, H, W)`` or
``(N, C, D, H, W)`` quantized -> output quantized (same shape and dtype) with the layer's own
``scale`` and ``zero_point`` (buffers, as in PyTorch).

The running statistics fold into one multiplier and one offset per channel, in output units:

    y / output_scale = alpha · (q - input_zero_point) + beta
    alpha = weight / sqrt(running_var + eps) · input_scale / output_scale
    beta = (bias - running_mean · weight / sqrt(running_var + eps)) / output_scale

computed as PyTorch's ``compute_fused_params`` does (``1 / sqrt`` of a float32 in float64, the
products in float32, the divisions by the scales in float64, each result rounded to float32); then
``alpha · x + beta`` is one fused multiply-add, rounded to an integer (half to even) and shifted by
the output zero point. The same operations here give PyTorch's integers.
"""
import chainrule
from chainrule.ao.nn.quantized.normalization import check_quantized, with_output_integers
from chainrule.backend import xp
from chainrule.nn import BatchNorm2d as FloatBatchNorm2d
from chainrule.nn import BatchNorm3d as FloatBatchNorm3d

float32, float64 = xp.float32, xp.float64


def fused_parameters(weight, bias, running_mean, running_var, eps, input_scale, output_scale):
    """``(alpha, beta)``: float32 arrays, one per channel (module docstring)."""
    weight, bias, running_mean, running_var = (each.detach()._array.astype(float32) for each in (weight, bias, running_mean, running_var))
    inverse_std = (1.0 / xp.sqrt(running_var + float32(eps)).astype(float64)).astype(float32)
    alpha = ((inverse_std * weight).astype(float64) * (input_scale / output_scale)).astype(float32)
    beta = ((bias - running_mean * inverse_std * weight).astype(float64) / output_scale).astype(float32)
    return alpha, beta


def batch_norm(input, rank, weight, bias, running_mean, running_var, eps, scale, zero_point, relu=False):
    """``quantized::batch_norm2d`` (``rank`` 4) and ``batch_norm3d`` (5); ``relu``: ``_relu`` (outputs
    below the zero point, which stands for 0, raised to it)."""
    operation = f"batch_norm{rank - 2}d" + ("_relu" if relu else "")
    check_quantized(input, operation)
    if input.numel() == 0:
        return input.clone()
    if input.dim() != rank:
        raise RuntimeError(
            f"Expecting the input tensor of rank {rank}. (quantized {operation} got shape {tuple(input.shape)})"
        )
    channels = input.shape[1]
    if weight.numel() != channels:
        raise RuntimeError(
            f"Expect weight size to match C (the layer has {weight.numel()} channels, the input {channels})"
        )
    array = input._array
    alpha, beta = fused_parameters(weight, bias, running_mean, running_var, eps, float(array.scale), scale)
    along_channels = (1, channels) + (1,) * (rank - 2)
    centered = array.integers.astype(float64) - array.zero_point
    units = (alpha.astype(float64).reshape(along_channels) * centered + beta.reshape(along_channels)).astype(float32)
    if relu:
        units = xp.maximum(units, float32(0))
    return with_output_integers(units, scale, zero_point, input)


class QuantizedBatchNorm:
    """What the quantized batch norms add to the float ones: the output ``scale`` and
    ``zero_point`` buffers, the quantized forward (``RANK``: 4 or 5), ``from_float``."""

    RANK = None
    RELU = False

    def __init__(self, num_features, eps=1e-5, momentum=0.1, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, True, True, device, dtype)
        self.register_buffer("scale", chainrule.tensor(1.0))
        self.register_buffer("zero_point", chainrule.tensor(0))

    def _get_name(self):
        return "Quantized" + type(self).__name__

    def forward(self, input):
        return batch_norm(
            input, self.RANK, self.weight, self.bias, self.running_mean, self.running_var, self.eps, float(self.scale),
            int(self.zero_point), self.RELU,
        )

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized layer of a calibrated float batch norm (or a fused BNReLU, whose first part
        it takes): the same parameters and running statistics, the observer's scale and zero point."""
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        batch_norm_module = mod[0] if isinstance(mod, chainrule.nn.Sequential) else mod
        quantized = cls(batch_norm_module.num_features, batch_norm_module.eps)
        quantized.weight, quantized.bias = batch_norm_module.weight, batch_norm_module.bias
        quantized.running_mean, quantized.running_var = batch_norm_module.running_mean, batch_norm_module.running_var
        quantized.scale, quantized.zero_point = scale, zero_point
        return quantized


class BatchNorm2d(QuantizedBatchNorm, FloatBatchNorm2d):
    """``QuantizedBatchNorm2d``: ``input (N, C, H, W) quantized -> output quantized``."""

    RANK = 4


class BatchNorm3d(QuantizedBatchNorm, FloatBatchNorm3d):
    """``QuantizedBatchNorm3d``: ``input (N, C, D, H, W) quantized -> output quantized``."""

    RANK = 5
