"""Quantizing a float weight with the parameters its observer chose."""
import chainrule
from chainrule.quantized.schemes import per_channel_affine, per_channel_symmetric, per_tensor_affine, per_tensor_symmetric


def quantized_weight(weight, observer):
    """``weight`` (detached) quantized per tensor or per channel as ``observer`` (which has seen it) says."""
    scale, zero_point = observer.calculate_qparams()
    weight = weight.detach()
    if observer.qscheme in (per_tensor_affine, per_tensor_symmetric):
        return chainrule.quantize_per_tensor(weight, float(scale), int(zero_point), observer.dtype)
    if observer.qscheme in (per_channel_affine, per_channel_symmetric):
        return chainrule.quantize_per_channel(
            weight, scale.double(), zero_point.long(), observer.ch_axis, observer.dtype
        )
    raise ValueError(f"Unsupported qscheme: {observer.qscheme!r} (quantizing a weight)")
