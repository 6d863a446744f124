"""Parameter: a tensor that a Module learns.

Assigning a ``Parameter`` to a module attribute (``self.weight = Parameter(...)``) registers it, so
that ``module.parameters()`` hands it to the optimizer. It is a leaf that requires grad: after
``loss.backward()`` its ``.grad`` holds d loss / d parameter.
"""
from chainrule import dtypes
from chainrule.backend import xp
from chainrule.overrides import disabled_torch_function_impl
from chainrule.tensor import Tensor, init_leaf, is_users_class, tensor_from_array


class _ParameterMeta(type):
    """Parameter's class: ``isinstance(t, Parameter)`` holds too for a tensor of a user's Tensor
    subclass made a parameter, which keeps its class (see ``Parameter``), as in PyTorch. Checked
    only where the ordinary check fails, and for plain tensors at once."""

    def __instancecheck__(cls, instance):
        if type.__instancecheck__(cls, instance):
            return True
        return (
            cls is Parameter and isinstance(instance, Tensor) and type(instance) is not Tensor
            and getattr(instance, "_is_param", False)
        )


class Parameter(Tensor, metaclass=_ParameterMeta):
    """A leaf tensor registered by the Module it is assigned to, like ``torch.nn.Parameter``.

    ``Parameter(data)`` shares ``data``'s memory (no copy), as PyTorch's does, and is an inference
    tensor when ``data`` is (it then cannot require grad outside ``inference_mode``);
    ``Parameter()`` is an empty float tensor.

    >>> Parameter(chainrule.ones(2))
    Parameter containing:
    tensor([1., 1.], requires_grad=True)

    As in PyTorch, ``data`` of a Tensor subclass the user defined (``MyTensor``) gives a new leaf of
    that class on data's memory, flagged ``_is_param`` (so that modules register it and
    ``isinstance(p, Parameter)`` holds), which prints as ``Parameter(MyTensor([1., 1.], requires_grad=True))``.
    """

    __slots__ = ()
    __torch_function__ = disabled_torch_function_impl  # operations on parameters give plain tensors, as PyTorch's
    _is_param = True  # what marks a parameter of a user's Tensor subclass, which is no Parameter by class

    def __new__(cls, data=None, requires_grad=True):
        """Made whole here, as PyTorch's: a subclass's own ``__new__`` may take more arguments
        (``Params4bit(data, requires_grad, quant_state=...)``) and call this one with two."""
        if isinstance(data, Tensor) and is_users_class(type(data)):
            return _parameter_of_subclass(data, requires_grad)
        if data is None:
            array = xp.empty((0,), dtype=dtypes.get_default_dtype())
        elif isinstance(data, Tensor):
            array = data._array
        else:
            raise _not_a_tensor_error(data, "Parameter")
        parameter = super().__new__(cls)
        init_leaf(parameter, array)
        if data is not None:
            parameter._is_inference = data._is_inference
        if requires_grad and array.dtype.kind not in "fc":
            raise RuntimeError(
                f"Only Tensors of floating point and complex dtype can require gradients (Parameter of a "
                f"{dtypes.dtype_name(array.dtype)} tensor: convert it first, e.g. Parameter(x.float()), or pass requires_grad=False)"
            )
        parameter.requires_grad = requires_grad
        return parameter

    def __init__(self, *args, **kwargs):
        """Nothing left to do: ``__new__`` made the parameter (whatever a subclass's takes)."""

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _parameter_of_subclass(data, requires_grad=True):
    """``Parameter(data)`` for ``data`` of a user's Tensor subclass, as PyTorch's: ``data.detach()``
    (so the subclass's ``__torch_function__`` sees it, and keeps what it keeps: fast.ai's metadata),
    requiring grad, flagged ``_is_param``; a detach that gives another class is refused."""
    parameter = data.detach()
    if type(parameter) is not type(data):
        raise RuntimeError(
            f"Creating a Parameter from an instance of type {type(data).__name__} requires that detach() returns an "
            f"instance of the same type, but return type {type(parameter).__name__} was found instead. To use the type "
            "as a Parameter, please correct the detach() semantics defined by its __torch_dispatch__() implementation."
        )
    parameter.requires_grad_(requires_grad)
    parameter._is_param = True
    return parameter


def _not_a_tensor_error(data, kind):
    """PyTorch's AttributeError for a Parameter or Buffer of data that is no tensor (a list, an array,
    a number): its ``detach()`` is what PyTorch calls first."""
    return AttributeError(
        f"'{type(data).__module__ + '.' if isinstance(data, xp.ndarray) else ''}{type(data).__name__}' object has no "
        f"attribute 'detach' ({kind}(data) takes a Tensor: wrap the data first, e.g. {kind}(chainrule.tensor(data)))"
    )


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` holds for the tensors ``Buffer(...)`` marked (plain tensors), as
    PyTorch's metaclass of Buffer answers."""

    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor that becomes a buffer of the Module it is assigned to (state, not learned), like
    ``torch.nn.Buffer``: ``self.mask = Buffer(chainrule.ones(3))`` does what
    ``self.register_buffer("mask", chainrule.ones(3))`` does. As PyTorch's, ``Buffer(data)`` is a
    plain tensor (``type`` Tensor) sharing ``data``'s memory and its ``requires_grad``, marked
    (``_is_buffer``, ``persistent``: False keeps it out of ``state_dict``) so that
    ``isinstance(t, Buffer)`` holds.
    """

    __torch_function__ = disabled_torch_function_impl  # (no instance of it is made: nothing to override)

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor.__new__(Tensor)
            init_leaf(data, xp.empty((0,), dtype=dtypes.get_default_dtype()))
        elif not isinstance(data, Tensor):
            raise _not_a_tensor_error(data, "Buffer")
        buffer = data.detach().requires_grad_(data.requires_grad)
        buffer.persistent = persistent
        buffer._is_buffer = True
        return buffer


class UninitializedTensorMixin:
    """A tensor whose shape is not known yet: a lazy module's parameter or buffer until the first
    forward shows the input's size. ``materialize(shape)`` gives it values (uninitialized memory,
    which the module's ``reset_parameters`` then fills) and turns it into ``cls_to_become``; the
    object stays the same, so an optimizer built before the first forward still holds it.

    Until then it holds an empty (0,) placeholder of the requested dtype, and, as PyTorch's, it
    refuses to be computed with: reading ``shape`` raises RuntimeError, ``share_memory_()`` too, and
    every other method of Tensor, or operation on its values (``p.sum()``, ``p + 1``,
    ``F.linear(x, p)``, ``nn.init.zeros_(p)``), raises ValueError. Only the members PyTorch lets
    through work (``ALLOWED_METHODS`` and every property: ``size()``, ``dtype``, ``ndim``,
    ``requires_grad``, the conversions ``to()``, ``double()``... that ``module.double()`` uses before
    the first forward); they see the placeholder. A parameter's conversion gives a plain tensor, a
    buffer's another UninitializedBuffer (PyTorch keeps the class of a Tensor subclass's results,
    not of a Parameter's), which ``Module._apply`` puts in place.
    """

    __slots__ = ()
    cls_to_become = None
    results_keep_class = False  # whether the tensors its allowed methods return are of its class

    @property
    def _array(self):
        """The placeholder, for the members PyTorch allows only (see ``_let_through``)."""
        if id(self) in _reading:
            return _ARRAY.__get__(self)
        raise uninitialized_error("an operation on its values")

    @_array.setter
    def _array(self, values):
        _ARRAY.__set__(self, values)

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
            "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
            "`forward` to initialize the parameters before accessing their attributes."
        )

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize the "
            "parameters before calling `module.share_memory()`."
        )

    def materialize(self, shape, device=None, dtype=None):
        """Give it ``shape`` (and ``dtype``, by default its own) and make it a plain ``cls_to_become``."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        placeholder = _ARRAY.__get__(self)
        self._array = xp.empty(shape, dtype=placeholder.dtype if dtype is None else xp.dtype(dtype))
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol):
        """Pickled as a new uninitialized tensor of its dtype, no values (PyTorch's keeps even less: not the dtype)."""
        return type(self), (self.requires_grad, None, self.dtype)

    def __deepcopy__(self, memo):
        """A new uninitialized tensor of its class, dtype and ``requires_grad``, as PyTorch's parameter's
        (PyTorch's UninitializedBuffer cannot be copied: a lazy BatchNorm can here)."""
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, None, self.dtype)
        return memo[id(self)]


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter of a lazy module (``LazyLinear``...) whose shape comes from the first input."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):  # no data: Parameter's made of an empty one
        return super().__new__(cls, tensor_from_array(xp.empty((0,), dtype=dtype or dtypes.get_default_dtype())), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer of a lazy module (``LazyBatchNorm1d``'s running statistics) whose shape comes from
    the first input."""

    __slots__ = ()
    __torch_function__ = disabled_torch_function_impl  # (its allowed methods keep its class themselves)
    cls_to_become = Tensor
    results_keep_class = True

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        init_leaf(self, xp.empty((0,), dtype=dtype or dtypes.get_default_dtype()), requires_grad)
        self.persistent, self._is_buffer = persistent, True  # a Buffer: assigned to a module, it registers as one


def uninitialized_error(operation):
    """PyTorch's ValueError for ``operation`` (a name) used on an uninitialized parameter or buffer."""
    return ValueError(
        f"Attempted to use an uninitialized parameter in {operation}. This error happens when you are using a "
        "`LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. When using "
        "LazyModules Call `forward` with a dummy batch to initialize the parameters before calling torch functions"
    )


#: The methods of Tensor that an uninitialized tensor may use, PyTorch's
#: ``UninitializedTensorMixin._allowed_methods``: its size and dtype, copy_, and the conversions.
ALLOWED_METHODS = (
    "size", "copy_", "is_complex", "is_floating_point", "half", "float", "double", "char", "short", "int", "long",
    "cuda", "cpu", "to", "get_device",
)
_ARRAY = Tensor._array  # the slot that holds a tensor's array, behind the mixin's ``_array`` property
_reading = set()  # the ids of the uninitialized tensors an allowed member is working on now


def _let_through(member):
    """Tensor's ``member`` (a method, or a property's getter or setter) on an uninitialized tensor:
    run with its placeholder readable; a tensor it returns is of the tensor's class where
    ``results_keep_class`` says so."""

    def allowed(self, *args, **kwargs):
        if id(self) in _reading:
            return member(self, *args, **kwargs)
        _reading.add(id(self))
        try:
            result = member(self, *args, **kwargs)
        finally:
            _reading.discard(id(self))
        if self.results_keep_class and type(result) is Tensor:
            result.__class__ = type(self)
        return result

    allowed.__name__ = getattr(member, "__name__", "allowed")
    return allowed


def _refusing(name):
    """A method of UninitializedTensorMixin that raises PyTorch's ValueError instead of computing."""

    def refuse(self, *args, **kwargs):
        raise uninitialized_error(f"Tensor.{name}")

    refuse.__name__ = name
    return refuse


def _guard_uninitialized_tensors():
    """Give UninitializedTensorMixin, for each member of Tensor it does not define itself, PyTorch's
    rule: properties and ``ALLOWED_METHODS`` let through, any other method refused."""
    own = set(vars(UninitializedTensorMixin)) | {"__init__", "__hash__"}
    for name, member in vars(Tensor).items():
        if name in own:
            continue
        if isinstance(member, property):
            setter = member.fset and _let_through(member.fset)
            setattr(UninitializedTensorMixin, name, property(_let_through(member.fget), setter, doc=member.__doc__))
        elif name in ALLOWED_METHODS:
            setattr(UninitializedTensorMixin, name, _let_through(member))
        elif callable(member) and not isinstance(member, (staticmethod, classmethod, type)):
            setattr(UninitializedTensorMixin, name, _refusing(name))


_guard_uninitialized_tensors()


def is_lazy(param):
    """Whether ``param`` is an UninitializedParameter or UninitializedBuffer (shape not known yet)."""
    return isinstance(param, UninitializedTensorMixin)


# PyTorch's public names (``from torch.nn.parameter import *`` brings these and no helper of this file's)
__all__ = [
    "Parameter", "UninitializedParameter", "is_lazy", "Buffer", "UninitializedBuffer", "UninitializedTensorMixin",
]
