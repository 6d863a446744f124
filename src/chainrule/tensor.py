"""Tensor: an array of numbers that remembers how it was computed.

A tensor holds

- ``_array``: the values, a NumPy array (chainrule's name; ``data`` gives them as a tensor, as PyTorch does),
- ``grad``: after ``backward()``, the gradient of the loss with respect to this tensor (leaves only),
- ``requires_grad``: whether operations on it are recorded so that gradients can flow back to it,
- ``grad_fn``: the node of the graph that made it (``None`` for leaves the user created).

This file holds what a tensor *is*: its values, its place in the graph, its shape and type. The
operations (``x + y``, ``x.exp()``, ``x.sum(0)``, ``x[0]``, ``x.add_(y)``) are declared once each in
``chainrule/ops/``, whose registration (``ops/registry.py``) installs them here as methods and
operators, so a reader finds each operation's forward and backward side by side in one place.
"""
import copyreg
import operator
import weakref

from chainrule import dtypes
from chainrule.caller_warnings import warn_at_caller, warn_once
from chainrule.autograd import grad_mode
from chainrule.device import check_device, device
from chainrule.device import device as chainrule_device  # for methods whose parameter is named device
from chainrule.memory_layout import keep_copied_layout, strided, strides_are_pytorchs
from chainrule.backend import MetaArray, as_array, copied_with_memory, ndarray, to_numpy, xp
from chainrule.utils.hooks import WatchedHooks, add_hook, hook_registry
from chainrule.tracing import untraceable
from chainrule.utils.identity_map import IdentityMap

_new_object = object.__new__

#: The leaves whose ``grad_dtype`` was set to other than their own dtype: {tensor: NumPy dtype, or
#: None for any}. Kept apart so that the engine pays one emptiness test when nobody set one.
CHOSEN_GRAD_DTYPES = IdentityMap()

# The C++ names PyTorch's grad_dtype error gives the assigned gradient's dtype.
#: The tensor class that holds an array of another layout than the backend's (a sparse COO array:
#: ``sparse/tensor.py`` adds its own), by the array's type.
TENSORS_OF_OTHER_ARRAYS = {}


def tensor_from_array(array, requires_grad=False):
    """Wrap a backend array in a tensor, without copying and without checks (the fast path)."""
    if type(array) is not ndarray and type(array) is not MetaArray:
        other = TENSORS_OF_OTHER_ARRAYS.get(type(array))
        if other is not None:
            return other(array, requires_grad)
        array = as_array(array)
    tensor = _new_object(Tensor)
    init_leaf(tensor, array, requires_grad)
    return tensor


def init_leaf(tensor, array, requires_grad=False):
    """Give ``tensor`` (a Tensor or subclass instance) the fields of a new leaf holding ``array``."""
    tensor._array = array
    tensor._grad = None
    tensor._requires_grad = requires_grad
    tensor.grad_fn = None
    tensor._version_count = 0
    tensor._output_nr = 0
    tensor._hooks = None
    tensor._post_accumulate_grad_hooks = None
    tensor._accumulator = None
    tensor._name = None
    tensor._base = None
    tensor._version_holder = None
    tensor._chosen_strides = False
    tensor._is_inference = grad_mode._state.inference


def sizes_given(data):
    """``data`` as the sizes of the legacy constructors' ``Tensor(2, n)``: ints, or what stands for
    one as PyTorch reads sizes (an integer tensor of one element, a NumPy integer); None where not
    all are."""
    sizes = []
    for size in data:
        if isinstance(size, bool):
            return None
        if isinstance(size, int):
            sizes.append(size)
        elif isinstance(size, xp.integer) or isinstance(size, Tensor) and size._array.size == 1 and size._array.dtype.kind in "iu":
            sizes.append(int(size))
        else:
            return None
    return tuple(sizes)


def _same_memory(tensor):
    """A new leaf holding ``tensor``'s array (``.data``, ``detach()``), with its strides when they
    are PyTorch's: ``x.t().detach()`` is not contiguous either."""
    alias = tensor_from_array(tensor._array)
    if tensor._base is not None or tensor._chosen_strides:
        alias._chosen_strides = strides_are_pytorchs(tensor)
    return alias


def detached(tensor):
    """``tensor.detach()`` as chainrule's own code takes it: without handing the call to a
    subclass's ``__torch_function__``, as PyTorch's C++ detaches (``Tensor._make_subclass``)."""
    alias = _same_memory(tensor)
    alias._version_holder = tensor._version_owner
    alias._is_inference = tensor._is_inference
    return alias


def check_numpy_array(array):
    """PyTorch's refusals of a NumPy array made a tensor: a dtype tensors do not have, a byte order
    other than the machine's (``'>f4'`` on a little-endian one: a file's data read as it lies), or a
    negative stride (``array[::-1]``, ``np.flip``) or one that is no whole number of elements, which
    a tensor's layout cannot express."""
    dtypes.check_convertible(array.dtype)
    if not array.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. Conversion between byte orders "
            "is currently not supported. (Convert it first: array.astype(array.dtype.newbyteorder('=')).)"
        )
    if any(stride < 0 for stride in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative strides are not "
            "currently supported. (You can probably work around this by making a copy of your array  with array.copy().) "
        )
    if any(stride % array.itemsize for stride in array.strides):
        raise ValueError(
            "given numpy array strides not a multiple of the element byte size. Copy the numpy array to reallocate "
            f"the memory. (strides {array.strides} bytes, elements of {array.itemsize} bytes)"
        )


def from_numpy(array):
    """A tensor sharing memory with the NumPy array ``array``, keeping its dtype (no copy)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"expected np.ndarray (got {dtypes.python_type_name(array)})")
    return sharing_numpy_memory(array)


def sharing_numpy_memory(array):
    """A tensor over the NumPy array ``array``'s memory (``from_numpy``, and ``as_tensor`` / ``asarray``
    where they share), as PyTorch makes it: the array checked (``check_numpy_array``), a read-only one
    warned of, and its strides kept, so that ``from_numpy(a.T)`` is not contiguous, as in PyTorch."""
    check_numpy_array(array)
    if not array.flags.writeable:  # PyTorch's warning, once per process
        warn_once(
            "from_numpy of a read-only array",
            "The given NumPy array is not writable: writing into this tensor in place will raise an error. You may "
            "want to copy the array to protect its data or make it writable before converting it to a tensor. This "
            "type of warning will be suppressed for the rest of this program.",
        )
    tensor = tensor_from_array(array)
    if not array.flags.c_contiguous:
        tensor._chosen_strides = True
    return tensor


def legacy_construct(tensor, data, requires_grad=False, device=None, **unknown):
    """Make the new object ``tensor`` what ``Tensor(*data)`` makes of data that is no tensor: the
    values of a sequence (or array) as the default dtype, an uninitialized tensor of the sizes
    given (``Tensor()`` is empty, of shape (0,)), or a 1-D view of a storage's memory.
    ``requires_grad`` is chainrule's addition; the only device is the CPU."""
    if unknown:
        raise invalid_legacy_arguments(data, unknown)
    if device is not None and str(device).split(":")[0] != "cpu":  # Tensor(data, device="cpu") is taken
        raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {str(device).split(':')[0]} was passed")
    if len(data) == 1 and isinstance(data[0], Tensor._storage_types):  # Tensor(x.storage()): that memory, 1-D
        init_leaf(tensor, xp.empty((0,), dtype=dtypes.get_default_dtype()))
        view_storage(tensor, data[0], "Tensor")
        return
    if len(data) == 1 and isinstance(data[0], Size):  # Tensor(x.shape): uninitialized of that shape
        data = tuple(data[0])
    if len(data) == 1 and isinstance(data[0], (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data[0]).__name__}' (give numbers: a list, an array or a tensor)")
    if len(data) == 1 and isinstance(data[0], (float, complex, type(None), dict, set, frozenset)):
        raise TypeError(f"new(): data must be a sequence (got {type(data[0]).__name__}); for a 0-d tensor use chainrule.tensor(number)")
    if len(data) == 1 and not isinstance(data[0], int):
        array = xp.array(_to_raw(data[0]), dtype=dtypes.get_default_dtype())
    elif (sizes := sizes_given(data)) is not None:
        array = xp.empty(sizes or (0,), dtype=dtypes.get_default_dtype())  # Tensor() is empty, of shape (0,)
    else:
        raise invalid_legacy_sizes(data)
    init_leaf(tensor, array)
    keep_copied_layout(tensor)  # Tensor(a.T) of an array: laid out as the array, as PyTorch's
    if requires_grad:
        tensor.requires_grad = True


def invalid_legacy_sizes(sizes):
    """PyTorch's TypeError for sizes of ``Tensor(2, n)`` that are not all ints: the first that is not."""
    if isinstance(sizes[0], bool):
        return invalid_legacy_arguments(sizes, {})
    position, wrong = next((position, size) for position, size in enumerate(sizes, 1) if sizes_given((size,)) is None)
    return TypeError(
        f"new(): argument 'size' failed to unpack the object at pos {position} with error \"type must be tuple of ints,but "
        f"got {type(wrong).__name__}\""
    )


def invalid_legacy_arguments(data, options):
    """PyTorch's TypeError for arguments its legacy constructor takes in none of its forms: a keyword
    other than ``device``, a bool among sizes."""
    given = [("Tensor" if isinstance(each, Tensor) else type(each).__name__) for each in data]
    given += [f"{name}={type(value).__name__}" for name, value in options.items()]
    return TypeError(
        f"new() received an invalid combination of arguments - got ({', '.join(given)}), but expected one of: (*, device "
        f"device), (Storage storage), (Tensor other), (tuple of ints size, *, device device), (object data, *, device device)"
    )


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    ``Tensor(data)`` makes a float32 tensor (PyTorch's legacy constructor, used in course code as
    ``torch.Tensor([1.0])``); ``Tensor(2, 3)`` an uninitialized one of that shape. Prefer
    ``chainrule.tensor(data)``, which infers the dtype.
    """

    __slots__ = (
        "_array",
        "_grad",
        "_requires_grad",
        "grad_fn",
        "_version_count",
        "_output_nr",
        "_hooks",
        "_post_accumulate_grad_hooks",
        "_accumulator",
        "_name",
        "_base",  # the tensor this one is a view of (None: not a view), as PyTorch's
        "_version_holder",  # the tensor whose version counter this one shares (None: its own)
        "_chosen_strides",  # whether its array's strides are its own though it is no view (memory_layout.py)
        "_is_inference",
        "__weakref__",
        "__dict__",  # attributes of the caller's own, as PyTorch's tensors take them (fast.ai's w.g, an optimizer's p.avg)
    )
    __array_priority__ = 1000  # NumPy defers to our operators: ndarray * tensor gives a tensor

    def __new__(cls, *data, **options):
        """PyTorch's legacy constructor, which makes the whole tensor here: Tensor's ``__init__`` is
        ``object``'s, as PyTorch's, so that a subclass's own ``__init__`` need not call it
        (``def __init__(self, data): self.meta = ...``) and a subclass's ``__new__`` gets a complete
        tensor from ``super().__new__(cls, data)``.

        ``Tensor(other)`` is ``other`` under a new name: a view sharing its memory, dtype and graph
        (an ``AliasBackward0`` node where it requires grad); a user's subclass, ``MyTensor(t)``, makes
        it an instance of that class (``as_subclass``). Other data is copied as the default dtype
        (float32), sizes (``Tensor(2, 3)``, ``Tensor(x.shape)``) give an uninitialized tensor, a
        storage is viewed (``legacy_construct``).

        chainrule's own subclasses (Parameter, the sparse tensor, the lazy modules' uninitialized
        buffer) fill the new object themselves, with arguments of their own."""
        if cls is not Tensor and not is_users_class(cls):
            return _new_object(cls)
        if len(data) == 1 and isinstance(data[0], Tensor):
            if set(options) - {"device"}:  # PyTorch's legacy constructor takes no other keyword
                raise invalid_legacy_arguments(data, options)
            return data[0]._alias() if cls is Tensor else data[0].as_subclass(cls)  # (_alias: ops/shape.py)
        tensor = _new_object(cls)
        legacy_construct(tensor, data, **options)
        return tensor

    _storage_types = ()  # UntypedStorage and TypedStorage (storage.py), which Tensor(storage) views

    # ----------------------------------------------------------------- autograd attributes
    @property
    def requires_grad(self):
        """Whether gradients flow back to this tensor (settable on leaves only); a view's follows its
        base's, as PyTorch's (``v = a[:]; a.requires_grad_()`` makes v require grad too)."""
        return self._requires_grad or (self._base is not None and self._base._requires_grad)

    @requires_grad.setter
    def requires_grad(self, flag):
        if type(flag) is not bool:  # (t.requires_grad = 1 is refused, as in PyTorch)
            raise RuntimeError(f"requires_grad must be a bool (got {type(flag).__name__}: {flag!r})")
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if flag and self._is_inference and not grad_mode._state.inference:
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed; "
                "make a normal tensor from it first with x.clone()"
            )
        if flag and self._array.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point and complex dtype can require gradients "
                f"(this tensor is {dtypes.dtype_name(self._array.dtype)}); convert it first, e.g. "
                f"x.float().requires_grad_()"
            )
        self._requires_grad = flag

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (for a leaf) and return this tensor: ``w = chainrule.randn(3).requires_grad_()``."""
        if type(requires_grad) is not bool:
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be bool, not {type(requires_grad).__name__}")
        if requires_grad and self.grad_fn is not None:  # a non-leaf already requires grad: nothing to change, as in PyTorch
            return self
        if requires_grad and self._array.dtype.kind not in "fc":  # (the setter's words name complex too, as PyTorch's)
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (this tensor is "
                f"{dtypes.dtype_name(self._array.dtype)}); convert it first, e.g. x.float().requires_grad_()"
            )
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The gradient that ``backward()`` accumulated for this tensor (None before the first).
        A non-leaf tensor's stays None unless ``retain_grad()`` was called: reading it warns, as in
        PyTorch (``w = w - lr * w.grad`` made ``w`` a non-leaf)."""
        grad = self._grad
        if grad is None and self.grad_fn is not None and not self.retains_grad:
            warn_at_caller(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor "
                "by mistake, make sure you access the leaf Tensor instead."
            )
        return grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value is self:
                raise RuntimeError("can't assign Variable as its own grad")
            if value._array.shape != self._array.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._array.shape)}' to a tensor of size "
                    f"'{list(self._array.shape)}'. Please ensure that the gradient and the tensor are the same size"
                )
            allowed = CHOSEN_GRAD_DTYPES.get(self, self._array.dtype) if self.grad_fn is None else self._array.dtype
            if allowed is not None and value._array.dtype != allowed:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{dtypes.cpp_type_name(value._array.dtype)}' to a "
                    f"tensor with grad_dtype '{dtypes.scalar_type_name(allowed)}'. The gradient must match the "
                    f"tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute "
                    f"with a specific dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes "
                    f"of a tensor and its gradient may break downstream systems that assume they match. (convert it, e.g. "
                    f"grad.to({dtypes.dtype_name(allowed)}))"
                )
        self._grad = value

    @property
    def grad_dtype(self):
        """The dtype ``.grad`` must have (a leaf's own dtype unless set; None allows any): backward
        converts the gradient it accumulates to it, and assigning ``.grad`` of another dtype raises."""
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
        chosen = CHOSEN_GRAD_DTYPES.get(self, self._array.dtype)
        return None if chosen is None else dtypes.of(chosen)

    @grad_dtype.setter
    def grad_dtype(self, value):
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be set on leaf tensors.")
        if value is not None and not isinstance(value, dtypes.dtype):
            raise TypeError(f"grad_dtype must be a chainrule.dtype or None, but got {type(value).__name__}")
        if value is not None and value == self._array.dtype:
            CHOSEN_GRAD_DTYPES.pop(self, None)
        else:
            CHOSEN_GRAD_DTYPES[self] = None if value is None else value.dtype

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def name(self):
        """A label for graph drawings and traces (chainrule's addition; None by default).

        Naming an intermediate result (``v = b * c; v.name = "v"``) also labels it on the node that
        made it, so drawings find the name even after ``v`` itself is gone.
        """
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        if self.grad_fn is not None:
            if self.grad_fn._output_names is None:
                self.grad_fn._output_names = {}
            self.grad_fn._output_names[self._output_nr] = value

    @property
    def is_leaf(self):
        """True for tensors not made by a recorded operation (their ``.grad`` is filled by backward)."""
        return self.grad_fn is None

    @property
    def _cdata(self):
        """A number that identifies this tensor object, as PyTorch's address of its C++ tensor
        (pyro compares a parameter's with the one it keeps): the object's id here."""
        return id(self)

    @property
    def data(self):
        """The values as a new tensor without history, sharing memory (changes to it are not tracked)."""
        return _same_memory(self)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Variable data has to be a tensor, but got {type(value).__name__}; make one first "
                f"(x.data = chainrule.tensor(values))"
            )
        if self._requires_grad and value._array.dtype.kind not in "fc":
            raise RuntimeError(
                f"data set to a tensor that requires gradients must be floating point or complex dtype (got "
                f"{dtypes.dtype_name(value._array.dtype)}); convert it first, e.g. value.float()"
            )
        self._array, self._chosen_strides = value._array, strides_are_pytorchs(value)

    @data.deleter
    def data(self):
        raise RuntimeError("Deleting tensor data is not allowed. Delete tensor instead!")

    def __delitem__(self, key):
        raise TypeError("Tensor does not support deleting items (a tensor's size is fixed: select the rest, e.g. with a mask)")

    @property
    def output_nr(self):
        return self._output_nr

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        The gradients are added to the leaves' ``.grad`` (call ``zero_grad()`` between steps), and
        the graph is freed unless ``retain_graph=True``. A non-scalar output needs ``gradient``: the
        gradient of the final result with respect to this tensor, of its shape.
        """
        from chainrule.autograd.backward_pass import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = WatchedHooks()  # a leaf's: a compiled program must not skip a hook added later
            hooks = self._hooks
        else:
            if self.grad_fn._output_hooks is None:
                self.grad_fn._output_hooks = {}
            hooks = self.grad_fn._output_hooks.get(self._output_nr)
            if hooks is None:
                hooks = self.grad_fn._output_hooks[self._output_nr] = hook_registry()
        return add_hook(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf once backward has added its gradient to ``.grad``.

        This is when a gradient is ready to use (``DistributedDataParallel`` starts averaging it
        across processes then). Returns a handle whose ``remove()`` unregisters the hook.
        """
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_grad_hooks is None:
            self._post_accumulate_grad_hooks = WatchedHooks()
        return add_hook(self._post_accumulate_grad_hooks, hook)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        if self.grad_fn._retained is None:
            self.grad_fn._retained = {}
        self.grad_fn._retained[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        retained = self.grad_fn._retained if self.grad_fn is not None else None
        return bool(retained) and self._output_nr in retained

    def _became_output_of(self, grad_fn, output_nr):
        """In the graph, this tensor is now output ``output_nr`` of ``grad_fn`` (an in-place change
        gave it a new node). ``retain_grad()`` follows it there, as PyTorch moves it: the old node
        now makes a value the tensor no longer holds. Its ``register_hook`` hooks stay on the old
        node, as PyTorch's do."""
        retained = self.retains_grad
        if retained:
            del self.grad_fn._retained[self._output_nr]
        self.grad_fn, self._output_nr, self._requires_grad = grad_fn, output_nr, grad_fn is not None
        if retained:
            self.retain_grad()

    def module_load(self, other, assign=False):
        """What ``load_state_dict`` makes of ``other``, the state dict's value for this parameter or
        buffer, before putting it in place (PyTorch's hook for tensor subclasses): this tensor with
        ``other`` copied in, detached; with ``assign``, ``other`` detached."""
        if assign:
            return other.detach()
        return self.copy_(other).detach()

    def detach(self):
        """A tensor with the same values (shared memory) that is cut off from the graph.

        It shares this tensor's version counter, as in PyTorch: changing it in place is noticed by
        the operations that saved this tensor for backward. It is an inference tensor when this one is.
        """
        return detached(self)

    def _is_view(self):
        """Whether this tensor is a view of another (``_base``), as PyTorch's ``_is_view()``."""
        return self._base is not None

    @property
    def _version_owner(self):
        """The tensor whose version counter this one uses: the base of a view, or the tensor a
        detached one was detached from."""
        holder = self._version_holder
        return self if holder is None else holder

    @property
    def _version(self):
        """How many times the values were changed in place, counted with every view and detached
        tensor of the same base, as PyTorch's version counter (``x.detach().add_(1)`` moves x's)."""
        return self._version_owner._version_count

    @_version.setter
    def _version(self, value):
        self._version_owner._version_count = value

    def detach_(self):
        """Cut this tensor off from the graph, in place: it becomes a leaf that requires no grad.
        A view cannot (its base would still hold its history): use ``detach()``."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for "
                "training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence "
                "detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution. "
                f"(this tensor of shape {tuple(self._array.shape)} is a view of another tensor)"
            )
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------- shape and type
    @property
    def shape(self):
        return _new_tuple(Size, self._array.shape)  # shape_of, inlined: read on every operation

    def size(self, dim=None):
        """The shape, a ``Size`` (a tuple of ints); ``size(dim)`` the length of one dimension."""
        if dim is None:
            return _new_tuple(Size, self._array.shape)
        return self._array.shape[check_own_dim(dim, self._array.ndim, "size")]

    @property
    def ndim(self):
        return self._array.ndim

    def dim(self):
        """The number of dimensions (``ndim``, ``ndimension()``): 0 for a number, 2 for a matrix."""
        return self._array.ndim

    def numel(self):
        """The number of elements: the product of the sizes (``nelement()`` too)."""
        return int(self._array.size)

    def nelement(self):
        """The number of elements: the product of the sizes (``numel()`` too)."""
        return int(self._array.size)

    @property
    def dtype(self):
        """The element type, as PyTorch prints it (``chainrule.float32``); see dtypes.py."""
        return dtypes.of(self._array.dtype)

    @property
    def device(self):
        return _META if type(self._array) is MetaArray else _CPU

    @property
    def is_meta(self):
        """True for a tensor on the 'meta' device: a shape and a dtype without values
        (``module.to("meta")``, for ``torch.func`` code that only needs the module's structure)."""
        return type(self._array) is MetaArray

    @property
    def is_cuda(self):
        return False

    def is_floating_point(self):
        """Whether the dtype is a floating one (float16, float32, float64)."""
        return self._array.dtype.kind == "f"

    def element_size(self):
        """The bytes one element takes: 4 for float32, 8 for int64."""
        return self._array.itemsize

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        untraceable("len")
        return self._array.shape[0]

    def __iter__(self):
        """The rows of t along its first dimension, as PyTorch gives them: ``unbind(0)``, one node
        (``UnbindBackward0``) for all the rows of a tensor that requires grad."""
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        untraceable("iteration")
        return iter(self.unbind(0))

    def __reversed__(self):
        """``reversed(t)``: t flipped along its first dimension, as PyTorch (a 0-d tensor is itself)."""
        return self if self._array.ndim == 0 else self.flip(0)

    def __contains__(self, element):
        """``element in t``: whether any element of t equals it (a number or a tensor, broadcast)."""
        if not isinstance(element, (Tensor, int, float, bool, complex)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")
        return bool((self == element).any())

    @property
    def volatile(self):
        """Removed in PyTorch 0.4: always False, with PyTorch's warning (use ``no_grad()``)."""
        warn_at_caller("volatile was removed (Variable.volatile is always False)")
        return False

    @volatile.setter
    def volatile(self, value):
        warn_at_caller("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.")

    # ----------------------------------------------------------------- conversions
    def item(self):
        """The value of a one-element tensor as a Python number."""
        untraceable("number")
        return self._value()

    def _value(self):
        """``item()``'s value, for the conversions that warn of their own kind in a trace."""
        if type(self._array) is MetaArray:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors: they have no values")
        if self._array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._array.size} elements cannot be converted to Scalar "
                f"(item() needs exactly one element; shape is {tuple(self._array.shape)})"
            )
        return self._array.reshape(()).item()

    def tolist(self):
        """The values as nested Python lists of numbers (a number for a 0-d tensor)."""
        if type(self._array) is MetaArray:
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")
        untraceable("list")
        return self._array.tolist()

    def numpy(self, force=False):
        """The values as a NumPy array sharing memory. As PyTorch, it refuses a tensor that
        requires grad while grad mode is on (the array would leave the graph unseen); under
        ``no_grad``, or with ``force``, it gives the values."""
        if type(self._array) is MetaArray:
            raise TypeError("can't convert meta device type tensor to numpy: a meta tensor has no values")
        if self._requires_grad and not force and grad_mode._state.enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        untraceable("numpy")
        return to_numpy(self._array)

    def __array__(self, dtype=None, copy=None):
        """The values for NumPy (``np.asarray(t)``, ``plt.plot(t)``), with ``numpy()``'s rules:
        shared with t, or copied where NumPy asks (``np.array(t)`` passes copy=True) or ``dtype``
        differs (a conversion ``copy=False`` refuses, as NumPy's protocol says)."""
        array = self.numpy()
        if copy is False and dtype is not None and array.dtype != dtype:
            raise ValueError(f"Unable to avoid copy while converting a {array.dtype} tensor to {xp.dtype(dtype)} (copy=False)")
        return array.astype(array.dtype if dtype is None else dtype, copy=bool(copy))

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """The values as a DLPack capsule (``np.from_dlpack(t)``, another library's
        ``from_dlpack``): the NumPy array's own, sharing memory. A tensor that requires grad is
        refused with PyTorch's BufferError: the capsule cannot carry the graph. ``stream`` -1 (PyTorch's
        default) means none, as on PyTorch's CPU."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self.numpy().__dlpack__(
            stream=None if stream == -1 else stream, max_version=max_version, dl_device=dl_device, copy=copy
        )

    def __dlpack_device__(self):
        """(device type, index) for DLPack: the CPU's (1, 0), as the NumPy array's."""
        return to_numpy(self._array).__dlpack_device__()

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """What a NumPy function of tensors (``np.exp(t)``, ``np.maximum(t, u)``) returns: a tensor,
        as PyTorch's (a 0-d one for a scalar; bool results as uint8, as PyTorch's too). It is
        computed outside the graph, on the values."""
        array = xp.asarray(array)
        return tensor_from_array(array.astype(xp.uint8) if array.dtype == xp.bool_ else array)

    def __float__(self):
        if self._requires_grad and grad_mode._state.enabled:
            warn_scalar_of_a_graph()
        untraceable("float")
        return float(self._only_real_element("double"))

    def __int__(self):
        untraceable("integer")
        return int(self._only_real_element("int64_t"))

    def __complex__(self):
        return complex(self._only_element())

    def _only_real_element(self, cpp_type):
        """The value of a one-element tensor as a real number: a complex one's imaginary part must be
        0 (PyTorch's RuntimeError otherwise, which calls the lost part an overflow)."""
        value = self._only_element()
        if isinstance(value, complex):
            if value.imag:
                raise RuntimeError(f"value cannot be converted to type {cpp_type} without overflow (its imaginary part is "
                                   f"{value.imag}: take .real or abs() first)")
            value = value.real
        return value

    def _only_element(self):
        """The value of a one-element tensor, for float(), int() and complex() (ValueError otherwise, as PyTorch's)."""
        if self._array.size != 1:
            raise ValueError(
                f"only one element tensors can be converted to Python scalars (this one has shape {tuple(self._array.shape)})"
            )
        return self._value()

    def __bool__(self):
        if self._array.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self._array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape "
                f"{tuple(self._array.shape)}); use .any() or .all()"
            )
        untraceable("bool")
        return bool(self._value())

    def __index__(self):
        if self._array.dtype.kind not in "iub" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._value())

    def cpu(self, memory_format=None):
        """This tensor itself: chainrule's tensors are on the CPU already."""
        return self

    @property
    def layout(self):
        """``chainrule.strided``: a dense tensor, as every chainrule tensor is."""
        return strided

    @property
    def is_mps(self):
        return False

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """PyTorch's errors on a machine without CUDA: chainrule computes on the CPU (choose the
        device with ``torch.cuda.is_available()``, which is False, and move with ``.to(device)``)."""
        if device is not None and chainrule_device(device).type != "cuda":
            raise RuntimeError(f"Invalid device, must be cuda device: cuda() got {device!r}")
        check_device("cuda")

    def __repr__(self, *, tensor_contents=None):
        """``tensor(<values>, <suffixes>)``; ``tensor_contents``, a string, in place of the values
        (what a subclass's own repr passes to show its contents its way)."""
        from chainrule._format import format_tensor

        return format_tensor(self, tensor_contents)

    def __format__(self, format_spec):
        from chainrule._format import format_with_spec

        return format_with_spec(self, format_spec, plain=type(self) is Tensor)

    __hash__ = object.__hash__

    # ----------------------------------------------------------------- pickling and deepcopy (as PyTorch)
    def __reduce_ex__(self, protocol):
        """Pickle the values, ``requires_grad`` and the name, never the graph nor ``.grad``, as PyTorch does.

        The result is a leaf; a non-leaf that requires grad comes back as a leaf that requires grad.
        """
        from chainrule.autograd.function import read_into_python  # (it imports this module)

        read_into_python("pickling")  # the values, taken into Python
        return type(self)._from_pickle, (to_numpy(self._array), self._requires_grad, self._name), pickled_state(self)

    @classmethod
    def _from_pickle(cls, array, requires_grad, name):
        tensor = _new_object(cls)
        init_leaf(tensor, as_array(array), requires_grad)
        tensor._name = name
        return tensor

    def __deepcopy__(self, memo):
        """A leaf's copy with its own memory and, for a plain tensor, a copy of its ``.grad`` (PyTorch's rules).

        Tensors copied together that shared memory (a tensor and its views) share the copy of it,
        as PyTorch's copies of their storage do."""
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.  "
                "If you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, "
                "see https://github.com/pytorch/pytorch/pull/103001 (to copy a result's values, detach it first: "
                "tensor.detach())"
            )
        memory_copies = memo.setdefault("chainrule: copies of memory", {})
        copied = type(self)._from_pickle(copied_with_memory(self._array, memory_copies), self._requires_grad, self._name)
        copied._chosen_strides = strides_are_pytorchs(self)  # the same layout: the same strides
        memo[id(self)] = copied
        if type(self) is Tensor and self.grad is not None:  # a Parameter's copy has no grad in PyTorch
            copied.grad = self.grad.__deepcopy__(memo)
        slots = own_slots(self)
        if self.__dict__ or slots:
            from copy import deepcopy  # here, not at the top: the rest of this file never copies

            for name, value in slots.items():
                setattr(copied, name, deepcopy(value, memo))
            copied.__dict__.update(deepcopy(self.__dict__, memo))
        return copied


_OBJECTS_GETSTATE = getattr(object, "__getstate__", None)  # (Python 3.11 on)


def pickled_state(tensor):
    """What pickling keeps of ``tensor``'s Python state, as PyTorch's ``_get_obj_state``: what its
    class's own ``__getstate__`` returns, else its attributes (``__dict__``), paired with the values
    of a subclass's ``__slots__`` as ``(attributes, slots)`` where it has any; None for neither.
    Unpickling hands it to the class's ``__setstate__``, or sets the attributes (pickle's rule)."""
    getstate = getattr(type(tensor), "__getstate__", None)
    if getstate is not None and getstate is not _OBJECTS_GETSTATE:
        return tensor.__getstate__()
    slots = own_slots(tensor)
    return (tensor.__dict__ or None, slots) if slots else tensor.__dict__ or None


def own_slots(tensor):
    """``{name: value}`` of the ``__slots__`` a subclass of Tensor declares, those set (Tensor's own
    hold what every tensor holds, made anew by pickling and deepcopy)."""
    if type(tensor) is Tensor:
        return {}
    return {
        name: getattr(tensor, name)
        for name in copyreg._slotnames(type(tensor))
        if name not in Tensor.__slots__ and hasattr(tensor, name)
    }


class Size(tuple):
    """The shape of a tensor: a tuple of ints that prints as ``chainrule.Size([2, 3])``.

    ``Size(sizes)`` takes any iterable of ints, as ``torch.Size``: bools, objects with ``__index__``
    and one-element integer tensors become ints; anything else (a float, a float tensor) raises
    PyTorch's TypeError naming the item. Shapes chainrule reads from its arrays skip that check
    (``shape_of``).
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        return tuple.__new__(cls, [_size_item(size, position) for position, size in enumerate(sizes)])

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def numel(self):
        count = 1
        for size in self:
            count *= size
        return count

    # A slice, a concatenation or a repetition of a Size is a Size, as in PyTorch (shape[1:]).
    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return shape_of(item) if isinstance(key, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, count):
        return shape_of(tuple.__mul__(self, count))

    __rmul__ = __mul__


_new_tuple = tuple.__new__


def shape_of(sizes):
    """A tuple of ints already checked (an array's shape) as a ``Size``, without ``Size``'s checks."""
    return _new_tuple(Size, sizes)


def _size_item(size, position):
    """One item of ``Size(sizes)`` as an int, or PyTorch's TypeError naming it."""
    if type(size) is int:
        return size
    if isinstance(size, Tensor):
        if size._array.size == 1 and size._array.dtype.kind in "iub":
            return size.__index__()  # its value read into Python (a compiled step hears it)
    elif not isinstance(size, float):
        try:
            return operator.index(size)
        except TypeError:
            pass
    raise TypeError(f"chainrule.Size() takes an iterable of 'int' (item {position} is '{dtypes.python_type_name(size)}')")


def warn_scalar_of_a_graph():
    """PyTorch's warning, once per process, for a tensor that requires grad read as a Python number
    (``float(t)``, ``tensor([t])``) with grad mode on: the number leaves the graph."""
    warn_once(
        "scalar of a graph",
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
        "Consider using tensor.detach() first.",
    )


#: What a list given to tensor() holds that ``_to_raw`` looks into: lists, tensors, NumPy arrays.
_HOLDERS = (list, tuple, Tensor, ndarray)


def view_storage(tensor, storage, constructor):
    """Make the empty ``tensor`` view the whole of ``storage``, as PyTorch's legacy constructors
    ``Tensor(storage)`` and ``FloatTensor(storage)`` do: a typed storage must hold the tensor's dtype,
    an untyped one is read as elements of it."""
    if getattr(storage, "dtype", tensor._array.dtype) != tensor._array.dtype:
        raise RuntimeError(
            f"Expected a Storage of type {dtypes.scalar_type_name(tensor._array.dtype)} or an UntypedStorage, but got "
            f"type {dtypes.scalar_type_name(xp.dtype(storage.dtype))} for argument 1 'storage' ({constructor}(storage) "
            f"views the storage's memory; make a tensor of its own dtype, e.g. chainrule.tensor([], dtype=storage.dtype).set_(storage))"
        )
    tensor.set_(storage)


def _to_raw(data, nested=False):
    """Python data that may contain tensors, as nested lists/arrays NumPy can read. A tensor inside
    a list stands for one number, as in PyTorch (``tensor([t1, t2])`` of one-element tensors; use
    ``stack`` to join larger ones). As PyTorch, it warns of NumPy arrays inside a list (slow: make
    one array with ``numpy.array`` first) and of a tensor that requires grad read as a number, and
    refuses a 0-d array first in a list (which PyTorch reads as a sequence without a length)."""
    if isinstance(data, Tensor):
        if not nested:
            return data._array
        from chainrule.autograd.function import read_into_python  # (it imports this module)

        read_into_python("tensor() of a list holding tensors")  # each one's number, taken into Python
        if data._requires_grad and grad_mode._state.enabled:
            warn_scalar_of_a_graph()
        if data._array.size != 1:
            # PyTorch reads an integer or bool tensor there as an index (TypeError), others as a float (ValueError)
            integer = data._array.dtype.kind in "iub"
            raise (TypeError if integer else ValueError)(
                f"only {'integer tensors of a single element can be converted to an index' if integer else 'one element tensors can be converted to Python scalars'} "
                f"(a tensor of shape {tuple(data._array.shape)} inside a list: join tensors with torch.stack)"
            )
        number = data._array.reshape(())[()]
        return bool(number) if data._array.dtype.kind == "b" else number  # a Python bool, as PyTorch reads it
    if isinstance(data, (list, tuple)):
        if not any(isinstance(item, _HOLDERS) for item in data):
            return data
        if isinstance(data[0], ndarray) and data[0].ndim == 0:
            raise TypeError("len() of unsized object: tensor() reads the first item of a list, a 0-d NumPy array, as a "
                            "sequence; give its number (array.item()) or one array (numpy.array(the_list))")
        return [_to_raw(item, True) for item in data]
    if nested and isinstance(data, ndarray):
        warn_once(
            "tensor of a list of arrays",
            "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider converting the list "
            "to a single numpy.ndarray with numpy.array() before converting to a tensor.",
        )
    return data


def check_dim(dim, ndim, operation):
    """``dim`` made non-negative, or PyTorch's IndexError when it is out of range (its words, then
    the operation's name); a bool is PyTorch's TypeError (``x.topk(4, True)`` does not mean dim 1)."""
    rank = max(ndim, 1)
    if type(dim) is not int:
        if type(dim) is bool:
            raise TypeError(f"{operation}(): argument 'dim' must be int, not bool")
        dim = operator.index(dim)  # a NumPy integer, a 0-d integer tensor
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim}) (in {operation})"
        )
    return dim % rank


def is_users_class(cls):
    """Whether ``cls`` (a Tensor subclass) is one a user defined, not one of chainrule's own
    (Parameter, Buffer, the sparse tensor...)."""
    return cls.__module__.partition(".")[0] != "chainrule"


def check_own_dim(dim, ndim, operation):
    """``check_dim`` for a question about one of the tensor's own dimensions (``size(dim)``,
    ``stride(dim)``): a 0-d tensor has none, PyTorch's IndexError."""
    if ndim == 0 and type(dim) is not bool:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions ({operation} of a 0-d tensor)")
    return check_dim(dim, ndim, operation)




_CPU, _META = device("cpu"), device("meta")
