"""``CrossMapLRN2d``: Lua Torch's local response normalization across channels, kept by PyTorch for
old models (``LocalResponseNorm`` is its modern form). Each value is divided by the energy of the
values at the same place in the neighbouring channels::

    scale[n, c] = k + alpha / size · Σ_{c' in the window of c} input[n, c']²
    output[n, c] = input[n, c] · scale[n, c]^(-beta)                input (N, C, H, W) -> (N, C, H, W)

It computes as PyTorch's port of the Lua code does, so its numbers are PyTorch's, quirks included:
the window sums run along the channels, adding the square entering the window and taking out the
one leaving it, except that the first channel's square is never taken out (so every channel past the
first half window counts it); the backward pass is the Lua code's formula for a centred window,
which is not quite the derivative of that forward pass. Its backward cannot be differentiated again.
"""
from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function
from chainrule.backend import xp
from chainrule.dtypes import scalar_type_name
from chainrule.nn.module import Module
from chainrule.tensor import tensor_from_array


def _scale(input, size, alpha, k):
    """k + alpha / size · (the running sums of squares along the channels), as PyTorch computes them."""
    channels = input.shape[1]
    squares = input * input
    pre_pad = int((size - 1) / 2 + 1)
    scale = xp.zeros_like(input)
    first = scale[:, 0]  # (an IndexError when there are no channels, as PyTorch's select)
    for channel in range(min(pre_pad, channels)):
        first += squares[:, channel]
    for channel in range(1, channels):
        scale[:, channel] = scale[:, channel - 1]
        if channel < channels - pre_pad + 1:
            scale[:, channel] += squares[:, channel + pre_pad - 1]
        if channel > pre_pad:
            scale[:, channel] -= squares[:, channel - pre_pad]
    return scale * (alpha / size) + k


def _input_gradient(input, output, scale, grad_output, size, alpha, beta):
    """The Lua code's gradient: scale^(-beta) · grad minus, for each channel, 2 · alpha · beta / size ·
    input times the sum over its window of grad · output / scale."""
    channels = input.shape[1]
    start, padded_channels = int(size - (size - 1) / 2), channels + size - 1
    if start < 0 or start + channels > padded_channels:
        raise RuntimeError(f"start ({start}) + length ({channels}) exceeds dimension size ({padded_channels}).")
    grad_input = scale ** -beta * grad_output
    padded = xp.zeros((input.shape[0], padded_channels) + input.shape[2:], dtype=input.dtype)
    padded[:, start : start + channels] = grad_output * output / scale
    window_sum = padded[:, : size - 1].sum(1)
    for channel in range(channels):
        window_sum = window_sum + padded[:, channel + size - 1]
        grad_input[:, channel] += -(2 * alpha * beta / size) * input[:, channel] * window_sum
        window_sum = window_sum - padded[:, channel]
    return grad_input


class CrossMapLRN2dFunction(Function):
    """The operation, as PyTorch's ``torch.nn._functions.CrossMapLRN2d`` (its node: CrossMapLRN2dBackward)."""

    node_name = "CrossMapLRN2dBackward"

    @staticmethod
    def forward(ctx, input, size, alpha=1e-4, beta=0.75, k=1):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        if input._array.dtype.kind != "f":
            raise RuntimeError(
                f"result type Float can't be cast to the desired output type {scalar_type_name(input._array.dtype)} "
                f"(CrossMapLRN2d takes floating point input: convert it with input.float())"
            )
        scale = _scale(input._array, size, alpha, k)
        output = scale ** -beta * input._array
        ctx.save_for_backward(input)
        ctx.size, ctx.alpha, ctx.beta, ctx.scale, ctx.output = size, alpha, beta, scale, output
        return tensor_from_array(output)

    @staticmethod
    def backward(ctx, grad_output):
        if grad_mode.is_grad_enabled():  # PyTorch's backward writes with out=, which a recorded backward refuses
            raise RuntimeError(
                "mul(): functions with out=... arguments don't support automatic differentiation, but one of the "
                "arguments requires grad. (CrossMapLRN2d's backward cannot be differentiated: call backward "
                "without create_graph=True)"
            )
        (input,) = ctx.saved_tensors
        grad_input = _input_gradient(input._array, ctx.output, ctx.scale, grad_output._array, ctx.size, ctx.alpha, ctx.beta)
        return tensor_from_array(grad_input), None, None, None, None


class CrossMapLRN2d(Module):
    """Local response normalization across channels, Lua Torch's (see above): (N, C, H, W) -> (N, C, H, W).
    No parameters."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return CrossMapLRN2dFunction.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
