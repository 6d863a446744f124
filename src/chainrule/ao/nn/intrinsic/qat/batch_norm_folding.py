"""Training a layer and the batch norm after it as the one layer they become once quantized.

At ``convert`` the batch norm is folded into the layer: with ``s = γ / sqrt(running_var + eps)``
per output channel, ``W' = W · s`` and ``b' = (b - running_mean) · s + β``. So that training sees
the rounding of that int8 weight, the forward fake-quantizes ``W · s`` (PyTorch's approximation):

    y = fake_quant(W · s) ∗ x / s + b,  then batch norm (batch statistics while training)

which is ``W ∗ x + b`` but for the weight's rounding. ``freeze_bn_stats`` stops updating the
running statistics (the batch norm then uses them), ``update_bn_stats`` resumes.
"""
import math

import chainrule
from chainrule.ao.nn.qat.modules import layer_arguments
from chainrule.nn import init


class FoldsBatchNorm:
    """Mixin for a QAT layer (a convolution or Linear with ``weight_fake_quant``) that holds its
    batch norm as ``bn``. ``FOLD`` is the function that folds them (``fuse_conv_bn_weights`` or
    ``fuse_linear_bn_weights``)."""

    FOLD = None

    def _add_batch_norm(self, qconfig, batch_norm_class, channels, bias, eps, momentum, freeze_bn):
        """``qconfig``, ``bn``, ``weight_fake_quant`` and the layer's bias, in PyTorch's order (the
        bias registered and drawn after the batch norm), on a layer made without bias."""
        if not qconfig:
            raise AssertionError(f"qconfig must be provided for QAT module ({type(self).__name__}(..., qconfig=...))")
        self.qconfig = qconfig
        self.freeze_bn = freeze_bn if self.training else True
        self.bn = batch_norm_class(channels, eps, momentum, True, True)
        self.weight_fake_quant = self.qconfig.weight()
        if bias:
            self.bias = chainrule.nn.Parameter(chainrule.empty(channels))
        else:
            self.register_parameter("bias", None)
        self.reset_bn_parameters()
        if self.training and not freeze_bn:
            self.update_bn_stats()
        else:
            self.freeze_bn_stats()

    def reset_running_stats(self):
        self.bn.reset_running_stats()

    def reset_bn_parameters(self):
        """Running statistics reset, γ ~ U(0, 1), β = 0, the bias ~ U(-1/√fan_in, 1/√fan_in)."""
        self.bn.reset_running_stats()
        init.uniform_(self.bn.weight)
        init.zeros_(self.bn.bias)
        if self.bias is not None and not isinstance(self, chainrule.nn.Linear):
            fan_in = self.weight[0].numel()
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def update_bn_stats(self):
        self.freeze_bn = False
        self.bn.training = True
        return self

    def freeze_bn_stats(self):
        self.freeze_bn = True
        self.bn.training = False
        return self

    def train(self, mode=True):
        """Training mode for the layer; for the batch norm too unless its statistics are frozen."""
        self.training = mode
        if not self.freeze_bn:
            for module in self.children():
                module.train(mode)
        return self

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT layer of a fused ``nni.ConvBn*d``, ``ConvBnReLU*d`` or ``LinearBn1d``: its parameters and
        running statistics taken over."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(f"qat.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__}, got {type(mod).__name__}")
        if not getattr(mod, "qconfig", None):
            raise AssertionError(f"Input float module must have a valid qconfig ({type(mod).__name__}: set its .qconfig)")
        layer, bn = mod[0], mod[1]
        qat = cls(*layer_arguments(layer), bn.eps, bn.momentum, False, mod.qconfig)
        qat.weight, qat.bias = layer.weight, layer.bias
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            setattr(qat.bn, name, getattr(bn, name))
        return qat

    def folded_forward(self, input, layer_forward):
        """``bn(layer_forward(input, fake_quant(W·s), 0) / s + b)``, ``s = γ / sqrt(running_var + eps)``;
        ``layer_forward(input, weight, bias)`` is the layer's own product (convolution or linear)."""
        scale_factor = self.bn.weight / chainrule.sqrt(self.bn.running_var + self.bn.eps)
        weight_shape = [-1] + [1] * (self.weight.dim() - 1)
        bias_shape = [1, -1] + [1] * (self.weight.dim() - 2)
        scaled_weight = self.weight_fake_quant(self.weight * scale_factor.reshape(weight_shape))
        zero_bias = chainrule.zeros(self.weight.shape[0], dtype=input.dtype)
        output = layer_forward(input, scaled_weight, zero_bias) / scale_factor.reshape(bias_shape)
        if self.bias is not None:
            output = output + self.bias.reshape(bias_shape)
        return self.bn(output)

    def float_weight_bias(self):
        """The weight and bias with the batch norm folded in (its running statistics), as ``convert`` takes them."""
        bn = self.bn
        return self.FOLD(self.weight, self.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
