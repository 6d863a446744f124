"""Questions about a tensor asked as functions, as PyTorch offers them: ``chainrule.numel(x)``,
and the small Tensor methods that answer them (``x.itemsize``, ``x.ndimension()``)."""
import warnings

from chainrule import dtypes, overrides
from chainrule.device import device as chainrule_device
from chainrule.backend import first_element_address, is_shared_memory, shared_copy
from chainrule.ops.registry import install_method, public
from chainrule.tensor import Tensor, detached


def is_tensor(obj):
    """True when ``obj`` is a chainrule Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


def _assert(condition, message):
    """``assert condition, message`` as a function (torchvision's models check shapes with it): a
    tensor of one element is read as its truth value; a tensor-like object with
    ``__torch_function__`` (not a Tensor) decides itself."""
    if type(condition) is not Tensor and overrides.has_torch_function((condition,)):
        return overrides.handle_torch_function(_assert, (condition,), condition, message)
    assert condition, message


def _assert_async(input, assert_msg=None):
    """Raise RuntimeError (``assert_msg``) unless the one-element tensor ``input`` is nonzero, as
    PyTorch's (kornia checks arguments with it); on a CPU it is checked at once."""
    _expect_tensor(input, "_assert_async")
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    if not input.item():
        raise RuntimeError(assert_msg if assert_msg is not None else "Expected Tensor with single nonzero value, but got zero")


def _expect_tensor(input, operation):
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{operation}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}; "
            f"wrap it with chainrule.tensor(...)"
        )


def typename(obj):
    """The full type name PyTorch prints: a tensor's type (``'chainrule.FloatTensor'``), else the
    object's module and qualified name (``'chainrule.nn.modules.linear.Linear'``), a builtin's bare."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:  # an instance: its class's names
        module, qualname = type(obj).__module__ or "", type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_floating_point(input):
    """True when ``input`` holds floating-point numbers (float16, float32 or float64)."""
    _expect_tensor(input, "is_floating_point")
    return input.is_floating_point()


def numel(input):
    """The number of elements of ``input``: the product of its sizes."""
    _expect_tensor(input, "numel")
    return input.numel()


# ----------------------------------------------------------------------------- more of PyTorch's questions
@public
def is_signed(input):
    """True when ``input``'s dtype holds negative numbers (floats, complex numbers and signed
    integers; not uint8, bool), as its dtype's ``is_signed``."""
    _expect_tensor(input, "is_signed")
    return input._array.dtype.kind in "fci"


@public
def get_device(input):
    """The index of the accelerator holding ``input``: -1, the CPU (chainrule computes on the CPU)."""
    _expect_tensor(input, "get_device")
    return -1


@public
def is_same_size(input, other):
    """True when ``input`` and ``other`` have the same shape."""
    _expect_tensor(input, "is_same_size")
    if not isinstance(other, Tensor):
        raise TypeError(f"is_same_size(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return input._array.shape == other._array.shape


@public
def is_nonzero(input):
    """The single value of a one-element ``input`` as a Python bool (``bool(x)``, as a function)."""
    _expect_tensor(input, "is_nonzero")
    if input._array.size != 1:
        amount = "no values" if input._array.size == 0 else "more than one value"
        raise RuntimeError(f"Boolean value of Tensor with {amount} is ambiguous (shape {tuple(input._array.shape)})")
    return bool(input)  # Tensor.__bool__: a value read, which a compiled function hears


install_method("itemsize", property(lambda self: self._array.itemsize, doc="Bytes per element (4 for float32)."))
install_method("nbytes", property(lambda self: self._array.nbytes, doc="Bytes of all elements: numel() · itemsize."))
install_method("ndimension", Tensor.dim)


def sum_to_size(self, *size):
    """The tensor summed down to ``size``, a shape it broadcasts to: the sum over its leading
    dimensions and over the dimensions where ``size`` is 1 (how a broadcast gradient is reduced)."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    shape = tuple(self._array.shape)
    extra = len(shape) - len(size)
    if extra < 0 or any(target not in (1, side) for target, side in zip(size, shape[extra:])):
        raise RuntimeError(f"size {list(size)} is not expandable to size {list(shape)}: each size must equal the tensor's or be 1")
    summed = tuple(range(extra)) + tuple(extra + dim for dim, target in enumerate(size) if target == 1 and shape[extra + dim] != 1)
    return self.sum(summed, keepdim=True).reshape(size) if summed else self.reshape(size)


install_method("sum_to_size", sum_to_size)


# ----------------------------------------------------------------------------- inference tensors, memory layout
@public
def is_inference(input):
    """True when ``input`` was made inside ``inference_mode()`` (an inference tensor)."""
    _expect_tensor(input, "is_inference")
    return input._is_inference


def dim_order(self):
    """The dimensions from outermost to innermost in memory: (0, 1, ..., n-1) for a contiguous
    tensor, (1, 0) for a transposed matrix (the dimensions sorted by decreasing stride, ties in order)."""
    strides = self.stride()
    return tuple(sorted(range(self._array.ndim), key=lambda dim: -strides[dim]))


def as_subclass(self, cls):
    """This tensor, the same values and memory, seen as an instance of the Tensor subclass ``cls``
    (the result is linked to this tensor in the graph, as PyTorch's alias)."""
    _check_subclass("as_subclass", cls)
    return _moved_into(self._alias(), cls)


def _make_subclass(cls, data, require_grad=False, dispatch_sizes_strides_policy=None, dispatch_device=False, dispatch_layout=False):
    """``Tensor._make_subclass(cls, data, require_grad)``: a new leaf of the Tensor subclass ``cls``
    on ``data``'s memory, detached from its graph, as PyTorch's (what a subclass's ``__new__`` and
    ``Parameter``'s call). The ``dispatch_*`` options concern PyTorch's C++ dispatch; none here."""
    _check_subclass("_make_subclass", cls)
    if not isinstance(data, Tensor):
        raise TypeError(f"_make_subclass(): argument 'data' (position 2) must be Tensor, not {type(data).__name__}")
    if require_grad and data._array.dtype.kind not in "fc":
        raise RuntimeError(f"Only Tensors of floating point and complex dtype can require gradients (this one is {data.dtype})")
    result = _moved_into(detached(data), cls)
    result.requires_grad = require_grad
    return result


def _check_subclass(name, cls):
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"{name}(): argument 'cls' must be a subclass of Tensor, not {getattr(cls, '__name__', cls)}")


def _moved_into(tensor, cls):
    """A new ``cls`` object holding what ``tensor`` (a new object nobody else holds) holds."""
    result = object.__new__(cls)
    for slot in Tensor.__slots__:  # through Tensor's own slots: a subclass may name its attributes as it likes
        if slot != "__weakref__":
            held = vars(Tensor)[slot]
            held.__set__(result, held.__get__(tensor))
    return result


Tensor._make_subclass = staticmethod(_make_subclass)


def bfloat16(self, memory_format=None):
    """Not available: NumPy (chainrule's array library) has no bfloat16 type (TypeError)."""
    return self.to(dtypes.bfloat16)


for _method in (dim_order, as_subclass, bfloat16):
    install_method(_method.__name__, _method)


# ----------------------------------------------------------------------------- memory and storage kinds
def data_ptr(self):
    """The memory address of the tensor's first element (0 when it holds none: empty, or on 'meta').
    Two tensors that share memory from the same element on have the same one: ``x.t().data_ptr() ==
    x.data_ptr()``, ``x[1:].data_ptr() == x.data_ptr() + x.stride(0) * x.element_size()``."""
    return first_element_address(self._array)


install_method("data_ptr", data_ptr)
install_method("const_data_ptr", data_ptr)
def is_pinned(self, device=None):
    """False: page-locked memory is for copies to a GPU, and chainrule has none. ``device``, which
    PyTorch deprecated, is still taken (checked as a device name), with PyTorch's DeprecationWarning."""
    if device is not None:
        chainrule_device(device)
        warnings.warn("The argument 'device' of Tensor.is_pinned() is deprecated. Please do not pass this argument.",
                      DeprecationWarning, stacklevel=2)
    return False


install_method("is_pinned", is_pinned)


def pin_memory(self, device=None):
    """PyTorch's error on a machine without an accelerator: page-locked memory is for copies to one."""
    raise RuntimeError(
        "Cannot access accelerator device when none is available. chainrule computes on the CPU: drop the "
        "pin_memory() call (DataLoader(pin_memory=True) is accepted and changes nothing)"
    )


install_method("pin_memory", pin_memory)


def share_memory_(self):
    """Move the tensor's values to memory shared with the processes this one forks later (Hogwild
    training: every process updates the one model), in place; returns the tensor. A process started
    by pickling (the "spawn" method) receives a copy instead."""
    if not is_shared_memory(self._array):
        self._array = shared_copy(self._array)
    return self


install_method("share_memory_", share_memory_)
def is_shared(self):
    """Whether this tensor's memory is shared between processes (``share_memory_()``)."""
    return is_shared_memory(self._array)


install_method("is_shared", is_shared)
install_method("is_cpu", property(lambda self: not self.is_meta, doc="True: chainrule computes on the CPU (False on 'meta')."))
for _kind in ("is_sparse", "is_sparse_csr", "is_quantized", "is_mkldnn"):  # a sparse COO tensor says is_sparse itself
    install_method(_kind, property(lambda self: False, doc="False: a dense, unquantized tensor (sparse COO ones: sparse/tensor.py)."))
for _kind in ("is_xpu", "is_xla", "is_ipu", "is_mtia", "is_maia", "is_vulkan"):  # PyTorch's other devices
    install_method(_kind, property(lambda self: False, doc="False: chainrule computes on the CPU."))
install_method("is_nested", property(lambda self: False, doc="False: a chainrule tensor is one array, not a nested tensor."))


def to_dense(self, dtype=None, *, masked_grad=None):
    """The tensor in the dense (strided) layout: itself, as every chainrule tensor is dense (converted
    to ``dtype`` when given, as ``to(dtype)``: its gradient flows back through the conversion)."""
    return self if dtype is None else self.to(dtype)


install_method("to_dense", to_dense)
