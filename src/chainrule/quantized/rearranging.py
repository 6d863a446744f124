"""Quantized tensors' operations that pick, order or compare values (per tensor), as PyTorch's
QuantizedCPU kernels: the dense operation on the integers (``through_integers``), which keep their
scale and zero point; indices come back as int64 tensors.

``flip``, ``index_select``, ``chunk``, ``split``, ``unbind``, ``topk``, ``sort``, ``max``, ``min``
(of one tensor: PyTorch has no quantized ``maximum`` of two), ``pixel_shuffle``,
``pixel_unshuffle``, ``channel_shuffle`` (quint8 only, as PyTorch's), and ``equal``.
"""
from chainrule import dtypes
from chainrule.backend import xp
from chainrule.ops import index, join, reduce, shape, sort
from chainrule.quantized.array import unsupported
from chainrule.quantized.kernels import kernel, per_tensor, through_integers
from chainrule.quantized.tensor import QuantizedTensor


def _through(name, dense):
    def moved(input, *args, **kwargs):
        return through_integers(dense, input, *args, **kwargs)

    moved.__name__ = name
    moved.__doc__ = f"``{name}`` of the integers, which keep their scale and zero point."
    return moved


for _name, _dense in {
    "flip": shape.flip, "index_select": index.index_select, "chunk": join.chunk, "split": join.split,
    "unbind": join.unbind, "topk": sort.topk, "sort": sort.sort,
}.items():
    kernel(_name)(_through(_name, _dense))


def _extremum(name, dense):
    def extremum(input, dim=None, keepdim=False, *, other=None):
        if other is not None or isinstance(dim, QuantizedTensor):
            raise unsupported("maximum" if name == "max" else "minimum")
        if input._array.axis is not None:
            raise RuntimeError(
                f"{name.capitalize()} operator for quantized tensors only works for per tensor quantized tensors. "
                "Please use the per tensor quantized tensor or dequantize it first."
            )
        return through_integers(dense, input, dim, keepdim)

    extremum.__name__ = name
    extremum.__doc__ = f"The {name}imum integer (over ``dim``, with its index there): same scale and zero point."
    return extremum


kernel("max")(_extremum("max", reduce.max))
kernel("min")(_extremum("min", reduce.min))


@kernel("equal")
def equal(input, other):
    """Whether both are quantized alike (dtype, scheme, scale, zero point, axis) with equal integers."""
    if not (isinstance(input, QuantizedTensor) and isinstance(other, QuantizedTensor)):
        raise unsupported("equal")
    a, b = input._array, other._array
    same_quantization = (a.qdtype, a.scheme, a.axis) == (b.qdtype, b.scheme, b.axis) and all(
        xp.array_equal(xp.asarray(x), xp.asarray(y)) for x, y in ((a.scale, b.scale), (a.zero_point, b.zero_point))
    )
    return same_quantization and a.shape == b.shape and bool(xp.array_equal(a.integers, b.integers))


def _shuffle(name):
    def shuffled(input, factor):
        import chainrule.nn.functional as F  # (chainrule.nn is loaded after chainrule.quantized)

        if name == "channel_shuffle":
            per_tensor(input, name)
            if input.dtype != dtypes.quint8:
                raise RuntimeError(f"Quantized channel shuffle works only on QUInt8 but got {input.dtype.name.upper().replace('QUINT', 'QUInt').replace('QINT', 'QInt')}")
        return through_integers(getattr(F, name), input, factor)

    shuffled.__name__ = name
    shuffled.__doc__ = f"``F.{name}`` of the integers, which keep their scale and zero point."
    return shuffled


for _name in ("channel_shuffle", "native_channel_shuffle", "pixel_shuffle", "pixel_unshuffle"):
    kernel(_name)(_shuffle(_name))
