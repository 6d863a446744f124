"""Linear, Bilinear and Identity: the affine layer every MLP is built from, its two-input form, and a
placeholder that does nothing."""

import math

from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter


def _weight_and_bias(module, weight_shape, bias, device, dtype):
    """Register ``weight`` of ``weight_shape`` and ``bias`` (weight_shape[0],) (or None without
    ``bias``), then draw their starting values by the module's ``reset_parameters`` (none on the
    'meta' device, where they have no values)."""
    module.weight = Parameter(empty(weight_shape, device=device, dtype=dtype))
    if bias:
        module.bias = Parameter(empty(weight_shape[0], device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored): a placeholder layer."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b:   input (*, in_features) -> output (*, out_features).

    ``weight`` (out_features, in_features) and ``bias`` (out_features,) start as PyTorch's do:
    U(-1/sqrt(in_features), 1/sqrt(in_features)) for both (kaiming_uniform_ with a = sqrt(5) gives
    that bound for the weight). ``bias=False`` leaves the bias out.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in_features), bias, device, dtype)

    def reset_parameters(self):
        """Draw fresh starting values (from the global generator)."""
        init.layer_defaults_(self.weight, self.bias)

    def forward(self, input):
        # The weight decides the shapes, not in_features: an unsafe parametrization or a replaced
        # Parameter may give it another shape, and PyTorch computes with it all the same.
        try:
            return F.linear(input, self.weight, self.bias)
        except RuntimeError:
            in_features, out_features = self.weight.shape[-1], self.weight.shape[0]
            if not input.ndim or input.shape[-1] == in_features:
                raise  # F.linear's own words say it (a 0-d input: both arguments need a dimension)
            rows = math.prod(input.shape[:-1])
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and {in_features}x{out_features}) "
                f"(Linear: expected input with last dimension {in_features} (in_features) but got shape "
                f"{tuple(input.shape)}; reshape the input (e.g. x.flatten(1)) or change in_features)"
            ) from None

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear, under the name PyTorch gives MultiheadAttention's ``out_proj`` (so that its
    quantization tools leave that layer alone): the same layer, printed as PyTorch prints it."""


class Bilinear(Module):
    """y = x1ᵀ A x2 + b:   input1 (*, in1_features), input2 (*, in2_features) -> (*, out_features).

    ``weight`` A (out_features, in1_features, in2_features) and ``bias`` (out_features,) start
    U(-1/√in1_features, 1/√in1_features), as PyTorch's.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        if in1_features == 0:  # the weights' bound 1/√in1_features would be infinite
            raise ValueError(f"in1_features must be > 0, but got (in1_features={in1_features})")
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in1_features, in2_features), bias, device, dtype)

    def reset_parameters(self):
        """Draw fresh starting values (from the global generator)."""
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
