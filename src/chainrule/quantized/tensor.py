"""QuantizedTensor: a tensor of PyTorch's quantized dtypes (quint8, qint8, qint32), its array a
``QuantizedArray`` (integers plus scale and zero point).

It is a Tensor (shape, ``size()``, ``dim()``, ``numel()``, ``len()`` as a dense one's); this file
holds what it is (``int_repr()``, ``q_scale()``, ``qscheme()``...), the operations PyTorch runs on
the integers without changing their meaning (views, indexing, ``clone``), how it prints and how it
pickles (its integers and parameters, so that a quantized model's state dict saves and loads).
Every other operation reaches the array, which refuses it with PyTorch's NotImplementedError.

It also gives plain tensors the quantized tensors' methods, with PyTorch's answers: ``dequantize()``
is the tensor itself, ``int_repr()``, ``q_scale()``... raise NotImplementedError (not quantized).
"""
from chainrule import dtypes
from chainrule._format import PRINT_OPTIONS, format_values
from chainrule.backend import xp
from chainrule.memory_layout import strided
from chainrule.ops.registry import install_method
from chainrule.overrides import disabled_torch_function_impl
from chainrule.quantized import schemes
from chainrule.quantized.array import QuantizedArray, unsupported
from chainrule.tensor import TENSORS_OF_OTHER_ARRAYS, Tensor, init_leaf, tensor_from_array

#: The quantized dtypes a tensor holds here, and the NumPy integers that hold their values.
INTEGERS_OF = {dtypes.quint8: xp.uint8, dtypes.qint8: xp.int8, dtypes.qint32: xp.int32}
#: The integer dtype of ``int_repr()``, by quantized dtype: PyTorch's.
INT_REPR_DTYPES = {dtypes.quint8: dtypes.uint8, dtypes.qint8: dtypes.int8, dtypes.qint32: dtypes.int32}


class QuantizedTensor(Tensor):
    """A quantized tensor: integers ``q`` standing for the real numbers ``(q - zero_point) · scale``."""

    __slots__ = ()
    __torch_function__ = disabled_torch_function_impl  # a tensor of another kind, not a user's subclass

    is_quantized = True
    layout = strided

    @property
    def dtype(self):
        """The quantized dtype: chainrule.quint8, qint8 or qint32."""
        return self._array.qdtype

    # ------------------------------------------------------------------ what it holds
    def int_repr(self):
        """The integers themselves, as a uint8 (quint8), int8 (qint8) or int32 (qint32) tensor."""
        return tensor_from_array(self._array.integers.copy())

    def dequantize(self):
        """The real numbers the integers stand for, a float32 tensor: ``(q - zero_point) · scale``."""
        return tensor_from_array(self._array.real_values())

    def qscheme(self):
        """The quantization scheme: chainrule.per_tensor_affine, per_channel_affine..."""
        return self._array.scheme

    def q_scale(self):
        """The scale of a per-tensor quantized tensor, a Python float."""
        return float(self._per_tensor("q_scale").scale)

    def q_zero_point(self):
        """The zero point of a per-tensor quantized tensor, a Python int."""
        return int(self._per_tensor("q_zero_point").zero_point)

    def q_per_channel_scales(self):
        """The scales of a per-channel quantized tensor, a float64 tensor (one per channel)."""
        return tensor_from_array(self._per_channel("q_per_channel_scales").scale.copy())

    def q_per_channel_zero_points(self):
        """The zero points of a per-channel quantized tensor, int64 (float32 for float qparams)."""
        return tensor_from_array(self._per_channel("q_per_channel_zero_points").zero_point.copy())

    def q_per_channel_axis(self):
        """The axis along which a per-channel quantized tensor's channels lie."""
        return self._per_channel("q_per_channel_axis").axis

    def _per_tensor(self, operation):
        if self._array.axis is not None:
            raise RuntimeError(
                f"Expected quantizer->qscheme() == kPerTensorAffine to be true, but got false. ({operation}: this "
                f"tensor is quantized {self._array.scheme.name}; use q_per_channel_scales() and "
                "q_per_channel_zero_points())"
            )
        return self._array

    def _per_channel(self, operation):
        if self._array.axis is None:
            raise RuntimeError(
                f"Expected quantizer->qscheme() == kPerChannelAffine || quantizer->qscheme() == "
                f"kPerChannelAffineFloatQParams to be true, but got false. ({operation}: this tensor is quantized "
                "per_tensor_affine; use q_scale() and q_zero_point())"
            )
        return self._array

    # ------------------------------------------------------------------ copies
    def clone(self, *, memory_format=None):
        """A quantized tensor with a copy of the integers and the same parameters."""
        return quantized_tensor(self._array.with_integers(self._array.integers.copy()))

    def detach(self):
        """Itself: a quantized tensor is never part of a graph."""
        return self

    def contiguous(self, memory_format=None):
        """Itself: the integers lie row-major."""
        return self

    def __deepcopy__(self, memo):
        copied = self.clone()
        memo[id(self)] = copied
        return copied

    def __reduce_ex__(self, protocol):
        """Pickled as its integers and parameters (by name and value): chainrule.load rebuilds it."""
        array = self._array
        return type(self)._from_pickle, (
            array.integers, array.qdtype, array.scheme.name, array.scale, array.zero_point, array.axis
        )

    @classmethod
    def _from_pickle(cls, integers, qdtype, scheme_name, scale, zero_point, axis):
        if qdtype not in INTEGERS_OF or scheme_name not in schemes.BY_NAME:
            raise ValueError(f"not a quantized tensor's pickle: dtype {qdtype!r}, scheme {scheme_name!r}")
        integers = xp.asarray(integers, dtype=INTEGERS_OF[qdtype])
        return quantized_tensor(QuantizedArray(integers, qdtype, schemes.BY_NAME[scheme_name], scale, zero_point, axis))

    # ------------------------------------------------------------------ printing
    def __repr__(self):
        return format_quantized(self)


def quantized_tensor(array):
    """A QuantizedTensor holding the QuantizedArray ``array`` (no copy)."""
    tensor = QuantizedTensor.__new__(QuantizedTensor)
    init_leaf(tensor, array)
    return tensor


TENSORS_OF_OTHER_ARRAYS[QuantizedArray] = lambda array, requires_grad=False: quantized_tensor(array)


def _moving_integers(name):
    """The Tensor method ``name`` (a view, an index, a reshape) applied to a per-tensor quantized
    tensor's integers, which keep their scale and zero point. A per-channel one would have to move
    its channel axis too: refused (dequantize first)."""
    method = getattr(Tensor, name)

    def moved(self, *args, **kwargs):
        if self._array.axis is not None:
            raise unsupported(f"{name} of a per-channel quantized tensor")
        integers = method(tensor_from_array(self._array.integers), *args, **kwargs)
        return quantized_tensor(self._array.with_integers(integers._array))

    moved.__name__ = name
    moved.__doc__ = f"``Tensor.{name}`` of the integers, which keep their scale and zero point."
    return moved


#: The Tensor methods that move a quantized tensor's integers (also its kernels for the functions
#: of these names: ``chainrule.flatten(x, 1)``).
MOVING_INTEGERS = ("__getitem__", "reshape", "view", "flatten", "squeeze", "unsqueeze", "permute", "transpose", "t", "narrow", "select")
for _name in MOVING_INTEGERS:
    setattr(QuantizedTensor, _name, _moving_integers(_name))


# ----------------------------------------------------------------------------- printing
def format_quantized(tensor):
    """PyTorch's print of a quantized tensor: the real values, then ``size=``, ``dtype=``,
    ``quantization_scheme=``, ``scale=``, ``zero_point=`` (and ``axis=`` per channel), each starting
    a new line where the last one would pass the line width."""
    array = tensor._array
    prefix = "tensor("
    text = prefix + format_values(array.real_values(), len(prefix))
    suffixes = [f"size={tuple(array.shape)}", f"dtype={array.qdtype!r}", f"quantization_scheme={array.scheme!r}"]
    if array.axis is None:
        suffixes += [f"scale={array.scale!r}", f"zero_point={array.zero_point!r}"]
    else:
        suffixes += [
            f"scale={tensor_from_array(array.scale)!r}", f"zero_point={tensor_from_array(array.zero_point)!r}", f"axis={array.axis}"
        ]
    line_length = len(text) - text.rfind("\n") + 1  # PyTorch counts two columns more than the line holds
    for suffix in suffixes:
        width = len(suffix) - suffix.count("chainrule.") * (len("chainrule.") - len("torch."))  # PyTorch's width
        if line_length + width + 2 > PRINT_OPTIONS.linewidth:
            text += ",\n" + " " * len(prefix) + suffix
            line_length = len(prefix) + width
        else:
            text += ", " + suffix
            line_length += width + 2
    return text + ")"


# ----------------------------------------------------------------------------- plain tensors' answers
def dequantize(self):
    """The tensor itself: only a quantized tensor has integers to dequantize (PyTorch's answer)."""
    return self


def _not_quantized(name):
    def refused(self, *args, **kwargs):
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the 'CPU' backend: {name} needs a quantized tensor "
            f"(this one is {dtypes.dtype_name(self._array.dtype)}); quantize it first, e.g. "
            "chainrule.quantize_per_tensor(x, scale, zero_point, chainrule.quint8)"
        )

    refused.__name__ = name
    refused.__doc__ = f"Only for quantized tensors (``{name}``): a plain tensor raises NotImplementedError, as in PyTorch."
    return refused


install_method("dequantize", dequantize)
for _name in ("int_repr", "q_scale", "q_zero_point", "q_per_channel_scales", "q_per_channel_zero_points", "q_per_channel_axis", "qscheme"):
    install_method(_name, _not_quantized(_name))
