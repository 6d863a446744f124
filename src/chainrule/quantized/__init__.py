"""Quantized tensors, as PyTorch's: integers plus the scale and zero point that map them back to
real numbers (``quantize_per_tensor``, ``quantize_per_channel``, ``dequantize``), and the
quantization schemes (``per_tensor_affine``...). ``chainrule.ao.quantization`` builds the
quantization workflow on them."""
from chainrule.quantized.quantize import (
    choose_qparams,
    dequantize,
    quantize_per_channel,
    quantize_per_tensor,
    quantize_per_tensor_dynamic,
)
from chainrule.quantized.schemes import (
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qscheme,
)
from chainrule.quantized.tensor import QuantizedTensor

# the kernels, each family registering its own (kernels.py)
from chainrule.quantized import activations, joining, pooling, rearranging, resampling  # noqa: E402,F401
