"""The kernels of quantized tensors: the public functions PyTorch computes on them (its QuantizedCPU
kernels), by name.

A dense operation refuses a quantized tensor's array (``array.py``); the failed call then asks this
registry for a kernel of the same name (``overrides.KERNELS_OF_OTHER_TENSORS``) and runs it with the
same arguments. Each family lives in a file of its own (``pooling.py``, ``activations.py``,
``resampling.py``, ``joining.py``, ``rearranging.py``); a kernel that is also a Tensor method in
PyTorch (``x.sigmoid()``, ``x.topk(2)``) is installed on QuantizedTensor, so that the method and the
function run the same code.

Most kernels move or compare the integers without changing what they mean: those run the dense
operation itself on the integers, held exactly as float64 (``through_integers``), and keep the scale
and zero point.
"""
from chainrule.backend import xp
from chainrule.overrides import KERNELS_OF_OTHER_TENSORS
from chainrule.quantized import schemes
from chainrule.quantized.array import QuantizedArray, unsupported
from chainrule.quantized.quantize import integer_range, rounded
from chainrule.quantized.tensor import INTEGERS_OF, MOVING_INTEGERS, QuantizedTensor, quantized_tensor
from chainrule.tensor import Tensor, tensor_from_array

#: The kernel of each public function name (``"max_pool2d"``, ``"sigmoid"``...).
KERNELS = {}


def kernel(*names):
    """Register the decorated function as the kernel of ``names``; those that are Tensor methods
    become QuantizedTensor's methods too."""

    def register(function):
        for name in names:
            KERNELS[name] = function
            if hasattr(Tensor, name):
                setattr(QuantizedTensor, name, function)
        return function

    return register


def per_tensor(input, operation):
    """The array of ``input``, quantized per tensor; PyTorch's RuntimeError for a per-channel one."""
    array = input._array
    if array.axis is not None:
        raise RuntimeError(
            "Expected quantizer->qscheme() == kPerTensorAffine to be true, but got false. "
            f"({operation} of a quantized tensor needs one scale and zero point; this one is {array.scheme.name}: "
            "dequantize it, or quantize it per tensor)"
        )
    return array


def quantized_like(array, integers):
    """A quantized tensor of ``integers`` (any NumPy numbers, cast to the dtype) with ``array``'s
    scale and zero point."""
    return quantized_tensor(array.with_integers(xp.asarray(integers).astype(array.integers.dtype)))


def quantized_with(integers, qdtype, scale, zero_point):
    """A per-tensor quantized tensor of ``integers`` (any NumPy numbers, clamped to the range of
    ``qdtype``) with the given scale and zero point."""
    lowest, highest = integer_range(qdtype, "quantize")
    clamped = xp.clip(integers, lowest, highest).astype(INTEGERS_OF[qdtype])
    return quantized_tensor(QuantizedArray(clamped, qdtype, schemes.per_tensor_affine, float(scale), int(zero_point)))


def requantized(values, qdtype, scale, zero_point):
    """The float32 real ``values`` quantized per tensor (as ``quantize_per_tensor``)."""
    return quantized_with(rounded(values, scale, zero_point, qdtype, fused=True), qdtype, scale, zero_point)


def through_integers(dense, input, *args, **kwargs):
    """``dense(integers, *args, **kwargs)`` (a dense operation that moves, picks or compares values)
    on ``input``'s integers held exactly as float64, its tensors made quantized again with
    ``input``'s scale and zero point (a tuple's too; integer tensors, as indices, stay)."""
    array = per_tensor(input, dense.__name__)
    result = dense(tensor_from_array(array.integers.astype(xp.float64)), *args, **kwargs)
    return _requantized_results(result, array)


def _requantized_results(result, array):
    if isinstance(result, Tensor) and result._array.dtype == xp.float64:
        return quantized_like(array, result._array)
    if isinstance(result, (tuple, list)):
        converted = [_requantized_results(each, array) for each in result]
        return type(result)(*converted) if hasattr(result, "_fields") else type(result)(converted)
    return result


KERNELS.update({name: getattr(QuantizedTensor, name) for name in (*MOVING_INTEGERS, "clone", "detach", "contiguous")})


def _kernel_named(name):
    """The kernel of ``name``, or one refusing it with PyTorch's NotImplementedError (whatever the
    dense operation's own error on the integers was)."""
    return KERNELS.get(name) or _refusing(name)


def _refusing(name):
    def refused(*args, **kwargs):
        raise unsupported(name)

    return refused


KERNELS_OF_OTHER_TENSORS[QuantizedTensor] = _kernel_named
