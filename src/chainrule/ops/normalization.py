"""Normalization layers' arithmetic: batch norm and layer norm as one fused operation.

Both subtract a mean and divide by a standard deviation, then scale and shift by learned
parameters; they differ only in which dimensions the statistics are taken over:

- batch norm: over the batch (and length) dimensions, one mean per channel: (N, C) or (N, C, L);
- layer norm: over the last dimensions (``normalized_shape``), one mean per sample.

One node does it all and knows the gradient in closed form, instead of the eight or so nodes (mean,
subtract, square, mean, add, sqrt, divide, multiply, add) of the composed version. The public
functions with PyTorch's signatures are in ``chainrule.nn.functional``.
"""
import math

from chainrule import dtypes
from chainrule.autograd.function import computed_without_gradient
from chainrule.backend import ignoring_float_errors, xp
from chainrule.memory_layout import CHANNELS_LAST_OF_ANY_INPUT
from chainrule.ops.elementwise import power
from chainrule.ops.op import Op
from chainrule.tensor import Tensor


class Normalize(Op):
    """``mean`` and ``var`` (arrays shaped to broadcast against the input) are either the input's
    own statistics over the axes ``normalized_over`` (batch norm in training, layer norm), so that
    the gradient flows through them too, or fixed values (batch norm in evaluation:
    ``normalized_over`` is None, and the input's gradient is just g / √(var + eps)). Given as None
    with ``normalized_over``, they are computed here, inside the operation (layer norm).

    ``weight`` and ``bias`` (or None) are viewed as ``parameter_view`` to broadcast: (1, C, 1) for
    batch norm of (N, C, L), ``normalized_shape`` for layer norm; their gradients are summed over
    the dimensions they are shared along. ``grouping`` (group norm's (N, groups, C / groups, -1),
    or None) is the shape the input is viewed as for all of this, the output and the input's
    gradient having the input's own shape, so that one node stands for PyTorch's one. x̂ and 1 / √(var + eps) are recomputed from the saved
    input in backward, so that a recorded backward differentiates through the statistics too.
    """

    formula = "x̂ · weight + bias,  x̂ = (input - mean) / √(var + eps)"
    derivatives = (
        "(g - mean(g) - x̂ · mean(g x̂)) / √(var + eps),  g = grad · weight",
        "Σ grad · x̂",
        "Σ grad",
        None, None, None, None, None, None,
    )

    @staticmethod
    def forward(ctx, input, weight, bias, mean, var, eps, normalized_over, parameter_view, grouping=None):
        with ignoring_float_errors():  # an overflowing sum gives inf, inf - inf nan, silently, as in PyTorch
            ctx.save_for_backward(input, weight)
            ctx.grouping, input_shape = grouping, input.shape
            input = input if grouping is None else input.reshape(grouping)
            ctx.statistics = (mean, var) if normalized_over is None else None  # the fixed ones only
            if mean is None:
                mean, var = batch_statistics(input, normalized_over)
            ctx.eps, ctx.normalized_over, ctx.parameter_view = eps, normalized_over, parameter_view
            ctx.parameter_shape = next((p.shape for p in (weight, bias) if p is not None), None)
            x_hat, _ = standardized(input, mean, var, eps)
            output = x_hat if weight is None else x_hat * weight.reshape(parameter_view)
            output = output if bias is None else output + bias.reshape(parameter_view)
            output = output.astype(input.dtype, copy=False)  # float16 input, float32 parameters: float16 out
            return output if grouping is None else output.reshape(input_shape)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        input_shape, grouping = tuple(input.shape), ctx.grouping
        if grouping is not None:
            input, grad_output = input.reshape(grouping), grad_output.reshape(grouping)
        axes = ctx.normalized_over
        mean, var = ctx.statistics if axes is None else batch_statistics(input, axes)
        x_hat, inv_std = standardized(input, mean, var, ctx.eps)
        grad_x_hat = grad_output if weight is None else grad_output * weight.reshape(ctx.parameter_view)
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0] and axes is None:
            grad_input = grad_x_hat * inv_std
        elif ctx.needs_input_grad[0]:
            centered_grad = grad_x_hat - mean_over(grad_x_hat, axes) - x_hat * mean_over(grad_x_hat * x_hat, axes)
            grad_input = centered_grad * inv_std
        if ctx.needs_input_grad[1]:
            grad_weight = _sum_to_parameter(ctx, grad_output * x_hat)
        if ctx.needs_input_grad[2]:
            grad_bias = _sum_to_parameter(ctx, grad_output)
        if grad_input is not None and grouping is not None:
            grad_input = grad_input.reshape(input_shape)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None, None


class BatchNormalize(Normalize):
    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT
    node_name = "NativeBatchNormBackward0"


class InstanceNormalize(BatchNormalize):
    """Instance norm: PyTorch batch-normalizes the input viewed as (1, N·C, *) (a row-major copy)
    and views the result back, so its last node is a view and its result row-major."""

    node_name = "ViewBackward0"
    keeps_layout = None


class LayerNormalize(Normalize):
    node_name = "NativeLayerNormBackward0"


class GroupNormalize(Normalize):
    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT
    node_name = "NativeGroupNormBackward0"


def require_floating_input(input, kernel, operation):
    """PyTorch's NotImplementedError for a normalization of a tensor ``input`` that is not floating
    point: its kernel ``kernel`` (as PyTorch's message names it) is for those only."""
    if input._array.dtype.kind != "f":
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(input._array.dtype)}\' ({operation} needs a '
            f"floating point input; convert it first, e.g. x.float())"
        )


def check_parameter_dtypes(input, **parameters):
    """Raise PyTorch's RuntimeError when a parameter's dtype (weight, bias, running statistics: tensors
    or None) is not the tensor ``input``'s. The one mix allowed is PyTorch's: float16 input with
    float32 parameters (the output is float16)."""
    expected = input._array.dtype
    for name, parameter in parameters.items():
        if parameter is None or parameter._array.dtype == expected:
            continue
        if expected == dtypes.float16.dtype and parameter._array.dtype == dtypes.float32.dtype:
            continue
        pytorch_words = (
            "expect parameter to have scalar type of Float" if expected == dtypes.float32.dtype
            else "all inputs must share same datatype."
        )
        raise RuntimeError(
            f"mixed dtype (CPU): {pytorch_words} (normalization: the input is {dtypes.dtype_name(expected)}, "
            f"the {name} {dtypes.dtype_name(parameter._array.dtype)}; convert the input, e.g. x.float(), or the module, "
            f"e.g. model.double())"
        )


def mean_over(values, axes):
    """The mean of ``values`` (an array or a tensor) over ``axes``, kept as size-1 dimensions."""
    return values.sum(axis=axes, keepdims=True) / math.prod(values.shape[axis] for axis in axes)


def batch_statistics(values, axes):
    """``(mean, biased variance)`` of ``values`` over ``axes``, with those axes kept as size 1."""
    mean = mean_over(values, axes)
    centered = values - mean
    return mean, mean_over(centered * centered, axes)


def standardized(input, mean, var, eps):
    """``(x̂, 1 / √(var + eps))`` with x̂ = (input - mean) / √(var + eps)."""
    inv_std = power(var + eps, -0.5)  # as Pow computes it, on arrays and on tensors alike
    return (input - mean) * inv_std, inv_std


def _sum_to_parameter(ctx, grad):
    """``grad`` (the input's shape) summed over the dimensions the parameters are shared along."""
    view = ctx.parameter_view
    padded = (1,) * (grad.ndim - len(view)) + tuple(view)
    shared_axes = tuple(axis for axis, size in enumerate(padded) if size == 1)
    if shared_axes:  # none when a layer norm covers the whole input
        grad = grad.sum(axis=shared_axes)
    return grad.reshape(ctx.parameter_shape)


# ----------------------------------------------------------------------------- running statistics
# Batch norm in training computes its batch's statistics and moves its running statistics and batch
# count in place. Done by the operations below, these are lines of a compiled program too, replayed
# on every call (``writes_into`` names the inputs a forward writes into; ``apply_writing`` runs it).
class BatchStatistics(Op):
    """``(mean, biased variance)`` of ``input`` over ``axes`` (kept as size 1), as constants: the
    normalizing operation differentiates through them itself."""

    formula = "mean and variance of input over axes"
    derivatives = (None, None)

    @staticmethod
    def forward(ctx, input, axes):
        with ignoring_float_errors():  # an overflowing sum gives inf, inf - inf nan, silently, as in PyTorch
            return batch_statistics(input, axes)


class UpdateRunning(Op):
    """running <- (1 - momentum) running + momentum batch_value, in place (a running mean or
    variance of shape (C,); ``batch_value`` is shaped to broadcast, e.g. (1, C, 1))."""

    formula = "(1 - momentum) · running + momentum · batch_value"
    derivatives = (None, None, None)
    writes_into = (0,)

    @staticmethod
    def forward(ctx, running, batch_value, momentum):
        # A number, also where momentum comes as a 0-d array (cumulative_momentum): a float64 array
        # would compute float32 statistics in float64, a Python float computes them in float32.
        momentum = float(momentum)
        running[...] = ((1 - momentum) * running + momentum * batch_value.reshape(running.shape)).astype(running.dtype)
        return running.copy()


class CountBatch(Op):
    """``num_batches_tracked`` + 1, in place: a batch norm layer counts its training batches."""

    formula = "count + 1"
    derivatives = (None,)
    writes_into = (0,)

    @staticmethod
    def forward(ctx, count):
        count += 1
        return count.copy()


def cumulative_momentum(num_batches_tracked):
    """The momentum of a cumulative average (batch norm's ``momentum=None``): 1 / the number of
    batches counted so far, as PyTorch's ``1.0 / float(num_batches_tracked)``. A 0-d tensor found
    from the count on each call, so that a compiled program finds it again from its own count."""
    return computed_without_gradient(_reciprocal_count, [num_batches_tracked])


def _reciprocal_count(count):
    return xp.asarray(1.0 / float(count))


def apply_writing(function, *args):
    """``function.apply(*args)`` for an operation whose forward writes into its inputs at the
    positions ``function.writes_into``: their version goes up, as PyTorch's, before it runs, so that
    a compiled program's recorder finds the change already counted once the operation is done."""
    for position in function.writes_into:
        if isinstance(args[position], Tensor):
            args[position]._version_owner._version_count += 1
    return function.apply(*args)
