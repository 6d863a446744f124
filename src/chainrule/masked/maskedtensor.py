"""MaskedTensor: a tensor whose elements are each kept ("specified") or masked out, as PyTorch's
``torch.masked.MaskedTensor``.

    mt = MaskedTensor(data, mask)       # data: any shape; mask: bool, the same shape
    mt.get_data(), mt.get_mask()        # what it holds (get_data is differentiable)
    mt.to_tensor(0.0)                   # a plain tensor, masked-out elements filled with 0.0

It is a Tensor subclass: its own values are the data (so shape, dtype, ``requires_grad``, the graph
and ``backward`` are a tensor's), and it carries the mask beside them. What each operation does
to the mask (elementwise ones keep it, reductions keep a slice where any element was kept...) is
decided in ``operations.py``, which its ``__torch_function__`` hands every call to.

Gradients flow through the data as through any tensor (a masked-out element gets 0 where the
operation skipped it); ``mt.grad`` is a MaskedTensor with ``mt``'s mask.
"""
import warnings

from chainrule import dtypes
from chainrule.masked.printing import format_masked
from chainrule.memory_layout import strided
from chainrule.overrides import DisableTorchFunctionSubclass
from chainrule.tensor import Tensor

#: The dtypes a MaskedTensor may hold, as PyTorch's.
SUPPORTED_DTYPES = {dtypes.float16, dtypes.float32, dtypes.float64, dtypes.bool_, dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64}


def is_masked_tensor(obj, /):
    """Whether ``obj`` is a MaskedTensor."""
    return isinstance(obj, MaskedTensor)


class MaskedTensor(Tensor):
    """``data`` with a boolean ``mask`` of its shape: True keeps an element, False masks it out."""

    def __new__(cls, data, mask, requires_grad=False):
        """A new leaf holding a copy of ``data`` and ``mask`` (PyTorch warns that the API is a prototype)."""
        check_members(data, mask)
        warnings.warn(
            "The PyTorch API of MaskedTensors is in prototype stage and will change in the near future. Please open a "
            "Github issue for features requests and see our documentation on the torch.masked module for further "
            "information about the project.",
            UserWarning,
            stacklevel=2,
        )
        if data.requires_grad:
            warnings.warn(
                "It is not recommended to create a MaskedTensor with a tensor that requires_grad. To avoid this, you can "
                "use data.detach().clone()",
                UserWarning,
                stacklevel=2,
            )
        with DisableTorchFunctionSubclass():
            result = Tensor._make_subclass(cls, data.detach().clone(), requires_grad)
        result._masked_mask = mask.detach().clone()
        return result

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return masked_operation(func, args, kwargs or {})

    def get_data(self):
        """The data, masked-out elements included (their values mean nothing), as a plain tensor
        linked to this one in the graph."""
        return data_of(self)

    def get_mask(self):
        """The boolean mask: True where an element is kept."""
        return self._masked_mask

    def to_tensor(self, value):
        """A plain tensor: the data, with ``value`` where masked out (differentiable in the data)."""
        return self.get_data().masked_fill(~self._masked_mask, value)

    def is_sparse_coo(self):
        return False

    def is_sparse_csr(self):
        return False

    @property
    def is_sparse(self):
        """False: chainrule's MaskedTensors hold dense (strided) data only."""
        return False

    def __repr__(self):
        return format_masked(data_of(self), self._masked_mask)

    __str__ = __repr__


def masked_operation(func, args, kwargs):
    """What ``func(*args, **kwargs)`` gives when an argument is a MaskedTensor: installed by
    ``operations.py``, which builds on this class."""
    raise NotImplementedError("chainrule.masked.operations installs the MaskedTensor operations")


def check_members(data, mask):
    """PyTorch's checks of what a MaskedTensor holds: two tensors (no MaskedTensor), a bool mask of
    the data's shape, a dtype it supports, the dense (strided) layout."""
    if is_masked_tensor(data) or not isinstance(data, Tensor):
        raise TypeError("data must be a Tensor")
    if is_masked_tensor(mask) or not isinstance(mask, Tensor):
        raise TypeError("mask must be a Tensor")
    if data.layout != mask.layout:
        raise TypeError("data and mask must have the same layout.")
    if data.layout != strided:
        raise TypeError(f"data layout of {data.layout} is not supported (chainrule's MaskedTensor holds dense data only: pass x.to_dense())")
    if mask.dtype != dtypes.bool_:
        raise TypeError("mask must have dtype bool.")
    if data.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"{data.dtype} is not supported in MaskedTensor.")
    if data.dim() != mask.dim():
        raise ValueError("data.dim() must equal mask.dim()")
    if data.size() != mask.size():
        raise ValueError("data.size() must equal mask.size()")


def data_of(masked):
    """The data of the MaskedTensor ``masked`` as a plain tensor: an alias, so that gradients flow."""
    with DisableTorchFunctionSubclass():
        return masked._alias()


def masked_result(data, mask):
    """A MaskedTensor of the plain tensor ``data`` (no copy: its graph goes on) and ``mask``."""
    with DisableTorchFunctionSubclass():
        result = data.as_subclass(MaskedTensor)
    result._masked_mask = mask
    return result
