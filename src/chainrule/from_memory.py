"""Tensors over memory that is given, or laid out by hand: ``frombuffer``, ``from_file``,
``empty_strided`` and ``empty_permuted``.

``frombuffer(buffer, dtype=...)`` reads the bytes of any Python object that exposes its memory (a
``bytearray``, an ``array._array``, a ``memoryview``, a NumPy array, a memory-mapped file) as a 1-D
tensor, without copying: writing into one shows in the other, as ``from_numpy`` shares an array's.
``from_file(name, shared, size, dtype=...)`` reads a file's raw bytes, mapped where ``shared``.

``empty_strided(size, stride)`` makes an uninitialized tensor whose strides are the ones given:
element (i_0, i_1, ...) lies at Σ_d i_d · stride[d] in a memory just large enough for them
(1 + Σ_d (size[d] - 1) · stride[d] elements; none when a size is 0). Code that prepares an output
in the layout of another tensor writes it (``torch.empty_strided(x.size(), x.stride())``).
``empty_permuted(size, physical_layout)`` makes one dense in a chosen order of its dimensions.
"""
import os

from chainrule import creation, dtypes
from chainrule.autograd.function import made_from_arguments
from chainrule.backend import read_from_file, strided_view, xp
from chainrule.caller_warnings import warn_once
from chainrule.device import on_meta
from chainrule.memory_layout import row_major_strides
from chainrule.ops.registry import public
from chainrule.tensor import tensor_from_array


@public(method=False)
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor of ``dtype`` over the memory of ``buffer`` (an object with Python's buffer
    protocol), sharing it: ``count`` elements (-1: as many as the bytes after ``offset`` hold, which
    must then be a whole number of them) from byte ``offset`` on. A read-only buffer (``bytes``) gives
    PyTorch's warning, and a tensor that cannot be written into."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError(
            f"object does not implement Python buffer protocol. (frombuffer reads bytes, bytearray, array._array, "
            f"memoryview or NumPy arrays, not {dtypes.python_type_name(buffer)}; make a tensor of a list with tensor())"
        ) from None
    with view:
        if not view.c_contiguous:
            raise RuntimeError(
                "could not retrieve buffer from object: frombuffer reads memory laid out in one piece, in row-major "
                "order; copy it first (numpy.ascontiguousarray)"
            )
        length, read_only = view.nbytes, view.readonly
    dtype = xp.dtype(creation.checked_dtype(dtype))
    if read_only:
        warn_once(
            "frombuffer of a read-only buffer",
            "The given buffer is not writable: writing into this tensor in place will raise an error. You may want "
            "to copy the buffer to protect its data or make it writable before converting it to a tensor. This type "
            "of warning will be suppressed for the rest of this program.",
        )
    size = dtype.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({length} bytes) minus 1"
        )
    if count < 0 and (length - offset) % size:
        raise ValueError(
            f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a multiple of element "
            f"size ({size}); give count= to read fewer elements"
        )
    elements = (length - offset) // size if count < 0 else count
    if offset + elements * size > length:
        raise ValueError(
            f"requested buffer length ({elements} * {size} bytes) after offset ({offset} bytes) must not be greater "
            f"than actual buffer length ({length} bytes)"
        )
    result = tensor_from_array(xp.frombuffer(buffer, dtype=dtype, count=elements, offset=offset))
    if requires_grad:
        result.requires_grad = True  # (PyTorch's RuntimeError for an integer dtype)
    return result


@public(method=False)
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialized tensor of shape ``size`` whose strides are ``stride`` (both tuples or lists
    of ints, one per dimension), over a memory of its own just large enough: strides that overlap
    (``(0, 0)``) or leave gaps (``(1, 4)`` for a 2 x 2 tensor) are kept, and the tensor is contiguous
    only where they are row-major's."""
    if pin_memory:
        creation.refuse_pinned_memory()
    meta = on_meta(device)
    shape, steps = _sizes_and_strides(size, stride, "empty_strided")
    dtype = dtypes.get_default_dtype() if dtype is None else xp.dtype(creation.checked_dtype(dtype))
    if meta:
        return creation.on_meta_device(shape, dtype, requires_grad)
    elements = 0 if 0 in shape else 1 + sum((side - 1) * step for side, step in zip(shape, steps))
    result = made_from_arguments(strided_view(xp.empty(elements, dtype=dtype), shape, steps), requires_grad)
    result._chosen_strides = True  # its strides are the ones asked for (see memory_layout.py)
    return result


@public(method=False)
def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialized tensor of shape ``size`` whose dimensions lie in memory in the order
    ``physical_layout`` (outermost first), densely: ``(0, 2, 3, 1)`` lays an (N, C, H, W) tensor out
    as NHWC. Its strides are those of a row-major tensor of the sizes in that order, given back to
    each dimension: ``t.stride(physical_layout[i])`` is that tensor's ``stride(i)``."""
    for name, position, value in (("size", 1, size), ("physical_layout", 2, physical_layout)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(
                f"empty_permuted(): argument '{name}' (position {position}) must be tuple of ints, not {type(value).__name__}"
            )
    order = tuple(creation.integer_argument(dim, "empty_permuted", "physical_layout", 2) for dim in physical_layout)
    if len(size) != len(order):
        raise RuntimeError(
            f"Number of dimensions in size does not match the length of the physical_layout; i.e. len(size) = "
            f"{len(size)} is not equal to len(physical_layout) = {len(order)}"
        )
    for position, dim in enumerate(order):
        if not 0 <= dim < len(order):
            raise RuntimeError(
                f"Dimension out of range (expected to be between 0 and {len(order) - 1}, but got {dim} at index "
                f"{position}).  NB: negative dims not currently supported; file an issue if you want it."
            )
    if len(set(order)) != len(order):
        raise RuntimeError(f"Duplicate dim not allowed (physical_layout {list(order)})")
    physical = creation.size_argument(([tuple(size)[dim] for dim in order],), "empty_permuted")
    stride = [0] * len(order)
    for dim, step in zip(order, row_major_strides(physical)):
        stride[dim] = step
    return empty_strided(
        size, stride, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad, pin_memory=pin_memory
    )


def _sizes_and_strides(size, stride, function):
    """``size`` and ``stride`` as tuples of ints, checked as PyTorch checks them: a TypeError for
    anything but a tuple or list of ints, a RuntimeError for a negative size or stride and for
    lengths that differ."""
    for name, position, value in (("size", 1, size), ("stride", 2, stride)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(
                f"{function}(): argument '{name}' (position {position}) must be tuple of ints, not "
                f"{type(value).__name__}; write {function}(({value},), (1,)) for one dimension"
            )
    shape = creation.size_argument((size,), function)
    steps = tuple(creation.integer_argument(step, function, "stride", 2) for step in stride)
    if len(shape) != len(steps):
        raise RuntimeError(
            f"dimensionality of sizes ({len(shape)}) must match dimensionality of strides ({len(steps)})"
        )
    if any(step < 0 for step in steps):
        raise RuntimeError(
            f"Storage size calculation overflowed with sizes={list(shape)} and strides={list(steps)} "
            f"(strides are counted forward: none may be negative)"
        )
    return shape, steps


@public(method=False)
def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False):
    """A 1-D tensor of the first ``size`` elements of ``dtype`` (the default float dtype) in the file
    ``filename``, as raw bytes (``ndarray.tofile`` writes them), mapped as PyTorch maps it: with
    ``shared=True`` writing into the tensor writes the file; otherwise its writes stay its own."""
    dtype = xp.dtype(dtypes.get_default_dtype() if dtype is None else creation.checked_dtype(dtype))
    try:
        length = os.path.getsize(filename)
    except OSError as error:
        mode = "read-write" if shared else "read-only"
        raise RuntimeError(f"unable to open file <{filename}> in {mode} mode: {error.strerror} ({error.errno})") from None
    needed = size * dtype.itemsize
    if length < needed:
        raise RuntimeError(f"file <{filename}> size <{length}> is smaller than the required mapping size <{needed}>")
    result = tensor_from_array(read_from_file(filename, dtype, size, bool(shared)) if size else xp.empty((0,), dtype=dtype))
    if requires_grad:
        result.requires_grad = True
    return result
