"""Joining quantized tensors (per tensor, one dtype), as PyTorch's QuantizedCPU ``cat``: the output
takes the first tensor's scale and zero point; a tensor quantized otherwise is quantized again to
them (its real values, as ``quantize_per_tensor`` rounds them). ``stack`` is ``cat`` of the tensors
each given a new dimension ``dim``."""
from chainrule.backend import xp
from chainrule.quantized.array import unsupported
from chainrule.quantized.kernels import kernel, quantized_like, requantized
from chainrule.quantized.tensor import QuantizedTensor


@kernel("cat", "concat", "concatenate")
def cat(tensors, dim=0):
    """The tensors' integers joined along ``dim``, each on the first tensor's grid: (…, n_i, …) -> (…, Σ n_i, …)."""
    tensors = list(tensors)
    if not all(isinstance(each, QuantizedTensor) for each in tensors):
        raise unsupported("qscheme")  # (a dense tensor among quantized ones: PyTorch asks it its scheme)
    if any(each._array.axis is not None for each in tensors):
        raise RuntimeError("Only per-tensor quantization is supported in 'cat'! (dequantize the per-channel tensors first)")
    first = tensors[0]._array
    if any(each._array.qdtype != first.qdtype for each in tensors):
        raise RuntimeError(f"All dtypes must be the same. (cat of quantized tensors: got {[each.dtype for each in tensors]})")
    integers = [_on_grid_of(first, each._array) for each in tensors]
    dim = dim % max(first.ndim, 1)
    return quantized_like(first, xp.concatenate(integers, axis=dim))


def _on_grid_of(first, array):
    """``array``'s integers, quantized again with ``first``'s scale and zero point where they differ."""
    if (array.scale, array.zero_point) == (first.scale, first.zero_point):
        return array.integers
    return requantized(array.real_values(), first.qdtype, first.scale, first.zero_point)._array.integers


@kernel("stack")
def stack(tensors, dim=0):
    """``cat`` of the tensors each with a new dimension of size 1 at ``dim``: n × (…) -> (…, n, …)."""
    tensors = list(tensors)
    dim = dim % (tensors[0].dim() + 1) if tensors else dim
    return cat([each.unsqueeze(dim) for each in tensors], dim)
