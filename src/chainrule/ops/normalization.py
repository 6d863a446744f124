"""Normalization layers' arithmetic: batch norm and layer norm as one fused operation.

Both subtract a mean and divide by a standard deviation, then scale and shift by learned
parameters; they differ only in which dimensions the statistics are taken over:

- batch norm: over the batch (and length) dimensions, one mean per channel: (N, C) or (N, C, L);
- layer norm: over the last dimensions (``normalized_shape``), one mean per sample.

One ``Normalize`` node does it all and knows the gradient in closed form, instead of the eight or so
nodes (mean, subtract, square, mean, add, sqrt, divide, multiply, add) of the composed version.
The public functions with PyTorch's signatures are in ``chainrule.nn.functional``.
"""
from chainrule.autograd.function import Function, saved_or_recomputed
from chainrule.backend import xp


def batch_statistics(array, axes):
    """``(mean, biased variance)`` of ``array`` over ``axes``, with those axes kept as size 1."""
    mean = array.mean(axis=axes, keepdims=True)
    centered = array - mean
    return mean, (centered * centered).mean(axis=axes, keepdims=True)


class Normalize(Function):
    """Normalize x, then scale and shift:

        x_hat = (x - mean) / sqrt(var + eps),    out = x_hat * weight + bias

    ``mean`` and ``var`` (arrays shaped to broadcast against x) are either x's own statistics over
    the axes ``normalized_over`` (batch norm in training, layer norm), so that the gradient flows
    through them too, or fixed values (batch norm in evaluation: ``normalized_over`` is None).
    With g = d loss / d x_hat = grad_output * weight and s = sqrt(var + eps):

        d loss / d x = (g - mean(g) - x_hat * mean(g * x_hat)) / s    (x's own statistics)
        d loss / d x = g / s                                           (fixed statistics)
        d loss / d weight = sum(grad_output * x_hat),   d loss / d bias = sum(grad_output)

    the means over ``normalized_over``, the sums over the dimensions a parameter is shared along.
    ``weight`` and ``bias`` (or None) are viewed as ``parameter_view`` to broadcast: (1, C, 1) for
    batch norm of (N, C, L), ``normalized_shape`` for layer norm.
    """

    @staticmethod
    def forward(ctx, input, weight, bias, mean, var, eps, normalized_over, parameter_view):
        inv_std = 1.0 / xp.sqrt(var + eps)
        x_hat = (input.array - mean) * inv_std
        ctx.save_for_backward(input, weight)
        ctx.statistics, ctx.normalized_over, ctx.parameter_view = (mean, var, eps), normalized_over, parameter_view
        ctx.x_hat, ctx.inv_std = x_hat, inv_std
        ctx.parameter_shape = next((p.shape for p in (weight, bias) if p is not None), None)
        output = x_hat if weight is None else x_hat * weight.array.reshape(parameter_view)
        return output if bias is None else output + bias.array.reshape(parameter_view)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        x_hat, inv_std = saved_or_recomputed((ctx.x_hat, ctx.inv_std), lambda: _recompute_normalized(ctx, input))
        grad_x_hat = grad_output if weight is None else grad_output * weight.reshape(ctx.parameter_view)
        axes = ctx.normalized_over
        if axes is None:
            grad_input = grad_x_hat * inv_std
        else:
            mean_grad = grad_x_hat.mean(axes, keepdim=True)
            mean_grad_along_x_hat = (grad_x_hat * x_hat).mean(axes, keepdim=True)
            grad_input = (grad_x_hat - mean_grad - x_hat * mean_grad_along_x_hat) * inv_std
        grad_weight = grad_bias = None
        if ctx.needs_input_grad[1]:
            grad_weight = _sum_to_parameter(ctx, grad_output * x_hat)
        if ctx.needs_input_grad[2]:
            grad_bias = _sum_to_parameter(ctx, grad_output)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None


def _recompute_normalized(ctx, input):
    """``(x_hat, 1 / s)`` from the input with tensor operations, so that they are differentiable."""
    mean, var, eps = ctx.statistics
    if ctx.normalized_over is not None:
        mean = input.mean(ctx.normalized_over, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(ctx.normalized_over, keepdim=True)
    inv_std = (var + eps) ** -0.5
    return (input - mean) * inv_std, inv_std


def _sum_to_parameter(ctx, grad):
    """``grad`` (the input's shape) summed over the dimensions the parameters are shared along."""
    view = ctx.parameter_view
    padded = (1,) * (grad.ndim - len(view)) + tuple(view)
    shared_axes = tuple(axis for axis, size in enumerate(padded) if size == 1)
    if shared_axes:  # none when a layer norm covers the whole input
        grad = grad.sum(shared_axes)
    return grad.reshape(ctx.parameter_shape)
