"""``torch.ao.nn.quantized``: the layers of a statically quantized model (quantized tensors in and
out), and ``dynamic``: those of a dynamically quantized one (floats in and out)."""
from chainrule.ao.nn.quantized import dynamic, functional
from chainrule.ao.nn.quantized.activation import ELU, Hardswish, LeakyReLU, PReLU, ReLU6, Sigmoid, Softmax
from chainrule.ao.nn.quantized.batchnorm import BatchNorm2d, BatchNorm3d
from chainrule.ao.nn.quantized.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from chainrule.ao.nn.quantized.dropout import Dropout
from chainrule.ao.nn.quantized.embedding_ops import Embedding, EmbeddingBag, EmbeddingPackedParams
from chainrule.ao.nn.quantized.functional_modules import FloatFunctional, FXFloatFunctional, QFunctional
from chainrule.ao.nn.quantized.linear import Linear, LinearPackedParams
from chainrule.ao.nn.quantized.normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm
from chainrule.ao.nn.quantized.quantize_modules import DeQuantize, Quantize
from chainrule.nn import MaxPool2d  # PyTorch's quantized MaxPool2d is the float module (max_pool2d has a quantized kernel)

__all__ = [
    "BatchNorm2d", "BatchNorm3d", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "DeQuantize", "Dropout", "ELU", "Embedding", "EmbeddingBag", "EmbeddingPackedParams",
    "FloatFunctional", "FXFloatFunctional", "GroupNorm", "Hardswish", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "LeakyReLU", "Linear",
    "LinearPackedParams", "MaxPool2d", "PReLU", "QFunctional", "Quantize", "ReLU6", "Sigmoid", "Softmax",
]
