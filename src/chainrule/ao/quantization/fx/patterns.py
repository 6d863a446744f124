"""What graph mode quantization can quantize, and how: PyTorch's default backend config (x86,
fbgemm) in small, one table entry per operation.

Each operation quantizes in one of these ways (``OpPattern.kind``):

- ``"layer"``: a layer swapped at convert for its quantized form (``mappings``: Linear, Conv,
  fused ConvReLU2d..., BatchNorm, LayerNorm...), or its dynamic form for a dynamic qconfig;
  its output gets an observer of its own;
- ``"weighted"``: ``F.linear`` and ``F.conv1d/2d/3d`` on weights the model holds: the weight
  gets the qconfig's weight observer (the bias stays float), and convert packs the quantized
  weight (``chainrule.ops.quantized.linear_prepack``...) for ``ops.quantized.linear`` /
  ``conv2d``... (``linear_relu``... when a ReLU follows);
- ``"binary"``: ``+`` and ``*`` of two tensors (``chainrule.ops.quantized.add``/``mul`` at
  convert, with the output observer's scale and zero point; ``add_relu`` when a ReLU follows);
  with a number instead of a second tensor the output shares the input's observer (``add(x, 2.0)``);
  ``chainrule.matmul`` of two tensors (``ops.quantized.matmul``, no ReLU fused);
- ``"output_qparams"``: functional hardswish, ELU, leaky ReLU and layer norm, run at convert as
  ``ops.quantized.hardswish(x, output_scale=..., output_zero_point=...)``...;
- ``"shares_input"``: operations that work on quantized tensors and keep their input's scale and
  zero point (pools, ReLU, reshapes, ``cat`` whose inputs are made to share one observer);
  their output shares the input's observer;
- ``"fixed_qparams"``: sigmoid, tanh, hardsigmoid, whose output range is known: the qconfig must
  give them the ``FixedQParamsObserver`` of that range (the default mapping does), else they stay float.

``dtype_configs`` lists the (input dtype, output dtype, dynamic) a qconfig may ask for; a qconfig
asking for another leaves the operation in float (an LSTM under a static qconfig, say).
What is missing from PyTorch's table: dynamic quantization of ``F.linear``, the transposed
convolutions' functions, ``F.group_norm`` / ``F.instance_norm``, ``F.dropout``, and standalone /
custom modules. Softmax is not quantized by PyTorch's default table either (it stays float).
"""
import dataclasses
import operator

import chainrule
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.ao.nn.quantized import FloatFunctional
from chainrule.ao.quantization import mappings
from chainrule.ao.quantization.stubs import DeQuantStub, QuantStub
from chainrule.dtypes import float16, float32, quint8

STATIC = (quint8, quint8, False)
DYNAMIC_INT8 = (quint8, float32, True)
DYNAMIC_FLOAT16 = (float16, float32, True)
WEIGHT_ONLY = (float32, float32, False)


@dataclasses.dataclass(frozen=True)
class OpPattern:
    kind: str
    dtype_configs: tuple = (STATIC,)
    fixed_qparams: tuple = None  # (scale, zero_point) a fixed-range operation requires
    weight_argument: tuple = None  # (position, keyword) of the argument the weight observer watches
    float_arguments: tuple = ()  # (position, keyword) of the arguments left float (biases, norms' affine)
    fuses_relu: bool = False  # whether a ReLU that follows joins the match (add_relu, linear_relu)

    def argument_role(self, position, keyword):
        """How an argument of a matched node is observed (``"weight"``, ``"float"`` or ``"input"``),
        given its ``position`` if positional, else its ``keyword``."""

        def is_argument(argument):
            return position == argument[0] if keyword is None else keyword == argument[1]

        if self.weight_argument is not None and is_argument(self.weight_argument):
            return "weight"
        if any(is_argument(each) for each in self.float_arguments):
            return "float"
        return "input"


SHARES_INPUT = OpPattern("shares_input")
BINARY = OpPattern("binary", fuses_relu=True)
MATMUL = OpPattern("binary")
WEIGHTED = OpPattern("weighted", weight_argument=(1, "weight"), float_arguments=((2, "bias"),), fuses_relu=True)
OUTPUT_QPARAMS = OpPattern("output_qparams")
LAYER_NORM = OpPattern("output_qparams", float_arguments=((2, "weight"), (3, "bias")))
STATIC_LAYER = OpPattern("layer")
LINEAR_LAYER = OpPattern("layer", (STATIC, DYNAMIC_INT8, DYNAMIC_FLOAT16))
RECURRENT_LAYER = OpPattern("layer", (DYNAMIC_INT8, DYNAMIC_FLOAT16))
EMBEDDING_LAYER = OpPattern("layer", (WEIGHT_ONLY,))
ZERO_TO_ONE = OpPattern("fixed_qparams", fixed_qparams=(1.0 / 256.0, 0))
MINUS_ONE_TO_ONE = OpPattern("fixed_qparams", fixed_qparams=(2.0 / 256.0, 128))

SHARING_MODULES = (
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.Hardtanh,
    nn.Identity, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.PixelShuffle, nn.PixelUnshuffle, nn.ReLU, nn.ReLU6,
)
SHARING_FUNCTIONS = (
    F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d, F.hardtanh, F.interpolate, F.max_pool1d, F.max_pool2d,
    F.max_pool3d, F.pixel_shuffle, F.pixel_unshuffle, F.relu, F.relu6, F.avg_pool1d, F.avg_pool2d, F.avg_pool3d, chainrule.clamp,
    chainrule.flatten, chainrule.mean, chainrule.narrow, chainrule.repeat_interleave, chainrule.transpose, chainrule.squeeze,
    chainrule.stack, chainrule.unsqueeze, operator.floordiv, chainrule.cat,
)
SHARING_METHODS = (
    "contiguous", "clamp", "detach", "detach_", "mean", "permute", "repeat", "repeat_interleave", "reshape", "resize_", "relu",
    "relu_", "squeeze", "squeeze_", "transpose", "unsqueeze", "unsqueeze_", "view",
)
FIXED_RANGE = {
    nn.Sigmoid: ZERO_TO_ONE, nn.Hardsigmoid: ZERO_TO_ONE, nn.Tanh: MINUS_ONE_TO_ONE,
    chainrule.sigmoid: ZERO_TO_ONE, F.hardsigmoid: ZERO_TO_ONE, chainrule.tanh: MINUS_ONE_TO_ONE,
    "sigmoid": ZERO_TO_ONE, "sigmoid_": ZERO_TO_ONE, "hardsigmoid": ZERO_TO_ONE, "hardsigmoid_": ZERO_TO_ONE,
    "tanh": MINUS_ONE_TO_ONE, "tanh_": MINUS_ONE_TO_ONE,
}
BINARY_FUNCTIONS = (operator.add, chainrule.add, operator.mul, chainrule.mul)
#: The functional layers with weights, by the name of their quantized operation.
WEIGHTED_FUNCTIONS = {F.linear: "linear", F.conv1d: "conv1d", F.conv2d: "conv2d", F.conv3d: "conv3d"}
#: The functions run at convert by the quantized operation of the same name, given their output's parameters.
OUTPUT_QPARAMS_FUNCTIONS = {F.hardswish: OUTPUT_QPARAMS, F.elu: OUTPUT_QPARAMS, F.leaky_relu: OUTPUT_QPARAMS, F.layer_norm: LAYER_NORM}
#: What can follow a binary operation to make ``add_relu`` / ``mul_relu``.
RELUS = (nn.ReLU, F.relu, chainrule.relu)
NOT_QUANTIZED_IN_GRAPH_MODE = (QuantStub, DeQuantStub, FloatFunctional)


def layer_pattern(module_type):
    """The pattern of a layer: how its qconfig may quantize it, or None."""
    if module_type in (nn.LSTM, nn.GRU, nn.LSTMCell, nn.GRUCell, nn.RNNCell):
        return RECURRENT_LAYER
    if module_type in (nn.Embedding, nn.EmbeddingBag):
        return EMBEDDING_LAYER
    if module_type in mappings.DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS:
        return LINEAR_LAYER
    quantizable = {*mappings.DEFAULT_STATIC_QUANT_MODULE_MAPPINGS, *mappings.DEFAULT_QAT_MODULE_MAPPINGS}  # (ConvBn2d: by its QAT form)
    if module_type in quantizable and module_type not in NOT_QUANTIZED_IN_GRAPH_MODE:
        return STATIC_LAYER
    return None


def pattern_of(node, modules):
    """The pattern of one node of a traced graph, or None where it stays float."""
    if node.op == "call_module":
        module_type = type(modules[node.target])
        if module_type in SHARING_MODULES:
            return SHARES_INPUT
        if module_type in FIXED_RANGE:
            return FIXED_RANGE[module_type]
        return layer_pattern(module_type)
    if node.op == "call_function":
        if node.target in BINARY_FUNCTIONS:
            return BINARY
        if node.target is chainrule.matmul:
            return MATMUL
        if node.target in WEIGHTED_FUNCTIONS:
            return WEIGHTED
        if node.target in OUTPUT_QPARAMS_FUNCTIONS:
            return OUTPUT_QPARAMS_FUNCTIONS[node.target]
        if node.target in SHARING_FUNCTIONS:
            return SHARES_INPUT
        return FIXED_RANGE.get(node.target)
    if node.op == "call_method":
        return SHARES_INPUT if node.target in SHARING_METHODS else FIXED_RANGE.get(node.target)
    return None


def is_relu(node, modules):
    """Whether ``node`` computes a ReLU (``nn.ReLU()``, ``F.relu``, ``chainrule.relu``)."""
    if node.op == "call_module":
        return type(modules[node.target]) is nn.ReLU
    return node.op == "call_function" and node.target in RELUS
