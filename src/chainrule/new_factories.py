"""``tensor.new_zeros(...)`` and its siblings: new tensors that take their dtype from an existing one.

Code that builds a buffer "like this tensor, but of another shape" writes ``x.new_zeros(n, m)``:
the dtype and the device (the CPU, or 'meta') follow ``x`` unless ``dtype=`` or ``device=`` say
otherwise; the default device (``with torch.device(...)``) does not count, as in PyTorch. Unlike
``chainrule.tensor(data)``, ``x.new_tensor(data)`` does not infer the dtype from the data:
``int_tensor.new_tensor([1.5])`` is ``tensor([1])``.

These are the functions behind the Tensor methods of the same names.
"""
from chainrule import creation, from_memory
from chainrule.backend import MetaArray
from chainrule.ops.registry import install_method, with_pytorch_keywords
from chainrule.tensor import Tensor


def _size(size, function):
    """Sizes given as ``new_zeros(2, 3)``, ``new_zeros((2, 3))``, ``new_zeros(Size)`` or with integer
    0-d tensors, checked as PyTorch checks them (see ``creation.size_argument``)."""
    return creation.size_argument(size, function)


def _device(tensor, device):
    """The device of the new tensor: ``device`` when given, else ``tensor``'s."""
    if device is None:
        return "meta" if type(tensor._array) is MetaArray else "cpu"
    return device


def new_tensor(tensor, data, dtype=None, device=None, requires_grad=False):
    """A copy of ``data`` with ``tensor``'s dtype (or ``dtype``), out of any graph."""
    if isinstance(data, Tensor):  # PyTorch's advice, under this method's name
        creation.warn_copy_construct("tensor.new_tensor(sourceTensor)")
        # a copy by operations, so that a compiled program copies the values of each call
        copy = data.detach().to(_device(tensor, device), dtype or tensor.dtype, copy=True)
        return copy.requires_grad_() if requires_grad else copy
    return creation.tensor(data, dtype=dtype or tensor.dtype, requires_grad=requires_grad, device=_device(tensor, device))


def new_zeros(tensor, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """Zeros of ``size``, in this tensor's dtype (unless ``dtype=``)."""
    return creation.zeros(_size(size, "new_zeros"), dtype=dtype or tensor.dtype, requires_grad=requires_grad, device=_device(tensor, device))


def new_ones(tensor, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """Ones of ``size``, in this tensor's dtype (unless ``dtype=``)."""
    return creation.ones(_size(size, "new_ones"), dtype=dtype or tensor.dtype, requires_grad=requires_grad, device=_device(tensor, device))


def new_empty(tensor, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """An uninitialised tensor of ``size``, in this tensor's dtype (unless ``dtype=``)."""
    return creation.empty(_size(size, "new_empty"), dtype=dtype or tensor.dtype, requires_grad=requires_grad, device=_device(tensor, device))


def new_full(tensor, size, fill_value, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """``size`` (a tuple or list, as PyTorch requires here) filled with ``fill_value``, converted to
    ``tensor``'s dtype (or ``dtype``): ``int_tensor.new_full((2,), 3.5)`` is ``tensor([3, 3])``."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            f"new_full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}; "
            f"write new_full(({size},), fill_value)"
        )
    fill_value = creation.fill_number(fill_value, "new_full")
    return creation.full(size, fill_value, dtype=dtype or tensor.dtype, requires_grad=requires_grad, device=_device(tensor, device))


def new_empty_strided(tensor, size, stride, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """``empty_strided(size, stride)`` with ``tensor``'s dtype (or ``dtype``)."""
    return from_memory.empty_strided(
        size, stride, dtype=dtype or tensor.dtype, device=_device(tensor, device), requires_grad=requires_grad, pin_memory=pin_memory
    )


for _factory in (new_tensor, new_full, new_empty_strided):
    install_method(_factory.__name__, _factory)
for _factory in (new_zeros, new_ones, new_empty):  # new_zeros(size=(2, 3)) too, as PyTorch takes it
    install_method(_factory.__name__, with_pytorch_keywords(_factory))
