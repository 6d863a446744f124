"""The gradients of convolutions as functions, as ``torch.nn.grad``.

``conv2d_input(input_size, weight, grad_output)`` is what ``backward`` would put in the input's
``.grad`` for that ``grad_output``; ``conv2d_weight(input, weight_size, grad_output)`` the weight's.
Each is computed by chainrule's own autograd of the convolution (a vector-Jacobian product), so the
values are those of ``loss.backward()`` by construction.
"""
from chainrule import autograd
from chainrule.autograd.grad_mode import enable_grad
from chainrule.creation import zeros
from chainrule.ops.conv import conv1d, conv2d, conv3d

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]


def _input_gradient(convolution, input_size, weight, grad_output, stride, padding, dilation, groups):
    """d(conv)/d(input) applied to ``grad_output``: input (N, C_in, *spatial) of ``input_size``."""
    with enable_grad():
        input = zeros(*input_size, dtype=grad_output.dtype, requires_grad=True)
        output = convolution(input, weight.detach(), None, stride, padding, dilation, groups)
        return autograd.grad(output, input, grad_output)[0]


def _weight_gradient(convolution, input, weight_size, grad_output, stride, padding, dilation, groups):
    """d(conv)/d(weight) applied to ``grad_output``: weight (C_out, C_in / groups, *kernel) of ``weight_size``."""
    with enable_grad():
        weight = zeros(*weight_size, dtype=grad_output.dtype, requires_grad=True)
        output = convolution(input.detach(), weight, None, stride, padding, dilation, groups)
        return autograd.grad(output, weight, grad_output)[0]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv1d`` with respect to its input (N, C_in, L) of shape ``input_size``."""
    return _input_gradient(conv1d, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv1d`` with respect to its weight (C_out, C_in / groups, K) of shape ``weight_size``."""
    return _weight_gradient(conv1d, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv2d`` with respect to its input (N, C_in, H, W) of shape ``input_size``."""
    return _input_gradient(conv2d, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv2d`` with respect to its weight (C_out, C_in / groups, kH, kW) of shape ``weight_size``."""
    return _weight_gradient(conv2d, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv3d`` with respect to its input (N, C_in, D, H, W) of shape ``input_size``."""
    return _input_gradient(conv3d, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv3d`` with respect to its weight (C_out, C_in / groups, kD, kH, kW) of shape ``weight_size``."""
    return _weight_gradient(conv3d, input, weight_size, grad_output, stride, padding, dilation, groups)
