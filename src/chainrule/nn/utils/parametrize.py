"""Parametrizations, as ``torch.nn.utils.parametrize``: a tensor of a module computed on every
access from other tensors that are what is actually learned.

``register_parametrization(module, "weight", P)`` moves the parameter ``weight`` to
``module.parametrizations.weight.original`` and makes ``module.weight`` a property returning
P(original): an optimizer steps ``original``, and every forward sees P of it (an orthogonal matrix,
a weight of bounded norm, a symmetric matrix...). If P has ``right_inverse``, ``original`` starts at
right_inverse(weight) so that ``module.weight`` keeps its value, and assigning ``module.weight = X``
stores right_inverse(X). A ``right_inverse`` that returns several tensors makes them
``original0``, ``original1``, ... (then P takes them all). Several parametrizations registered on
one tensor are applied in registration order.

To give the module its property, its class is replaced by a subclass made for it alone,
``Parametrized<Class>``; removing the last parametrization restores the class.
"""
import contextlib
import copy
from collections.abc import Sequence

from chainrule import __future__ as future
from chainrule.autograd.function import not_replayable
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.container import ModuleDict, ModuleList
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor
from chainrule.utils.tensor_swap import swap_tensors

_cache = {"depth": 0, "values": {}}


@contextlib.contextmanager
def cached():
    """Inside ``with cached():`` each parametrized tensor is computed once, at its first access,
    and reused: for a weight read many times in one forward (a recurrent layer's step)."""
    _cache["depth"] += 1
    try:
        yield
    finally:
        _cache["depth"] -= 1
        if not _cache["depth"]:
            _cache["values"] = {}


def _register_parameter_or_buffer(module, name, tensor):
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_values(original, value):
    """Make ``original`` hold ``value``, keeping the tensor object (the optimizer holds it), as
    PyTorch's ``_maybe_set``: ``original.set_(value)`` (new memory: a tensor that shared the old
    one, such as an earlier ``state_dict()`` entry, keeps the old values), or ``swap_tensors``
    under ``set_swap_module_params_on_conversion(True)``."""
    with no_grad():
        if future.get_swap_module_params_on_conversion():
            if isinstance(original, Parameter) and not isinstance(value, Parameter):
                value = Parameter(value, requires_grad=original.requires_grad)
            swap_tensors(original, value)
        else:
            original.set_(value)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and the tensors they are computed from:
    ``original`` (or ``original0``, ``original1``, ...). Calling it gives the parametrized tensor."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = tuple(original.shape), original.dtype
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(
                f"'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). Got {type(new).__name__}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                    f"original.dtype: {original.dtype}\nright_inverse(original).dtype: {new.dtype}"
                )
            _set_values(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for position, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise ValueError(
                        "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                        f"Got element {position} of the sequence with type {type(part).__name__}."
                    )
                part = Parameter(part.detach(), original.requires_grad) if isinstance(original, Parameter) else part.detach()
                _register_parameter_or_buffer(self, f"original{position}", part)
        if not self.unsafe:
            check_unchanged(self(), original_shape, original_dtype, "unparametrized", "parametrized")

    def right_inverse(self, value):
        """Store ``value`` as the parametrized tensor: the originals become right_inverse(value),
        the parametrizations' inverses applied from the last to the first."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(
                        f"The tensor returned by `right_inverse` has dtype {value.dtype} while `original` has "
                        f"dtype {self.original.dtype}"
                    )
                _set_values(self.original, value)
                return
            if not isinstance(value, Sequence) or len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of tensors of length {self.ntensors}.")
            for position, part in enumerate(value):
                _set_values(getattr(self, f"original{position}"), part)

    def forward(self):
        if self.is_tensor:
            value = self[0](self.original)
        else:
            value = self[0](*(getattr(self, f"original{position}") for position in range(self.ntensors)))
        for module in list(self)[1:]:
            value = module(value)
        return value


def check_unchanged(value, shape, dtype, before, after, rule="Registering a parametrization may not change the {} of the tensor"):
    """A parametrization (unless ``unsafe``) keeps the tensor's shape and dtype; ValueError otherwise,
    its message starting with ``rule`` (its {} is "dtype" or "shape")."""
    if not isinstance(value, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(value).__name__}.")
    for what, old, new in (("dtype", dtype, value.dtype), ("shape", shape, tuple(value.shape))):
        if old != new:
            raise ValueError(
                f"{rule.format(what)}, unless `unsafe` flag is enabled.\n{before} {what}: {old}\n{after} {what}: {new}"
            )


def check_maps_to_itself(parametrization, current, tensor_name):
    """A parametrization added to a parametrized tensor (unless ``unsafe``) takes tensors of its
    shape and dtype to tensors of the same, both ways: ``forward`` and, if it has one,
    ``right_inverse`` (not implemented counts as the identity). ValueError otherwise."""
    shape, dtype, name = tuple(current.shape), current.dtype, f"module.{tensor_name}"
    value = parametrization(current)
    check_unchanged(value, shape, dtype, name, f"parametrization({name})")
    if not hasattr(parametrization, "right_inverse"):
        return
    try:
        inverse = parametrization.right_inverse(value)
    except NotImplementedError:
        return
    if not isinstance(inverse, Tensor):
        raise ValueError(f"parametrization.right_inverse must return a tensor. Got: {type(inverse).__name__}")
    rule = f"The tensor returned by parametrization.right_inverse must have the same {{}} as {name}"
    check_unchanged(inverse, shape, dtype, name, "returned", rule)


def _refuse_pickling(module):
    """``__getstate__`` of a parametrized module: as in PyTorch, only its state dict is saved."""
    raise RuntimeError(
        f"Serialization of parametrized modules is only supported through state_dict(): "
        f"{type(module).__name__} cannot be pickled (nor saved whole with chainrule.save). Save "
        "module.state_dict() instead, and load it into a module with the same parametrizations."
    )


def _deepcopy_module(module, memo):
    """``copy.deepcopy`` of a parametrized module, which pickling's refused ``__getstate__`` would
    otherwise stop: a new object of the same class holding a deep copy of every attribute."""
    replica = module.__class__.__new__(module.__class__)
    memo[id(module)] = replica
    replica.__setstate__(copy.deepcopy(module.__dict__, memo))
    return replica


def _inject_new_class(module):
    """Give ``module`` a class of its own, ``Parametrized<Class>``, to hold its properties. The
    class refuses pickling (it could not be found again by name when unpickled) but deep-copies."""
    cls = module.__class__
    methods = {"__getstate__": _refuse_pickling}
    if not hasattr(cls, "__deepcopy__"):
        methods["__deepcopy__"] = _deepcopy_module
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), methods)


def _inject_property(module, tensor_name):
    """``module.<tensor_name>`` computes the parametrization (once per ``cached()`` block);
    assigning to it stores the right inverse."""

    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache["depth"]:
            return parametrization()
        # Computed once for the whole block, which may span several calls of a compiled step: a
        # program would compute it on each (or reuse a tensor computed before it began).
        not_replayable("reads a parametrization inside parametrize.cached(), computed once per block")
        key = (id(self), tensor_name)
        if key not in _cache["values"]:
            _cache["values"][key] = parametrization()
        return _cache["values"][key]

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` be ``parametrization(original)`` (see the module docstring).

    On a tensor already parametrized, the new parametrization is applied after the others.
    ``unsafe=True`` allows a parametrization that changes the shape or dtype. Returns the module.
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            check_maps_to_itself(parametrization, getattr(module, tensor_name), tensor_name)
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with name '{tensor_name}'"
        )
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has a parametrization (on ``tensor_name``, if given)."""
    parametrizations = module._modules.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Make ``module.<tensor_name>`` a plain parameter (or buffer) again: holding its current
    parametrized value (``leave_parametrized=True``) or its original. The original tensor object
    is kept, so an optimizer holding it still trains it."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                _set_values(original, getattr(module, tensor_name))
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if value.requires_grad else value.detach()
    else:
        raise ValueError(
            "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized in terms "
            "of a sequence of tensors."
        )
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class before parametrizations gave it a ``Parametrized<Class>``."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Register on ``to_module`` the parametrizations of ``from_module`` (those of ``tensor_name``,
    or all), sharing the same original tensors: both modules then train one set of parameters.
    ``to_module`` gets the parametrized tensor as a parameter first if it lacks it. Returns it."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        source = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        originals = ["original"] if source.is_tensor else [f"original{position}" for position in range(source.ntensors)]
        for original in originals:
            setattr(target, original, getattr(source, original))
    return to_module


# PyTorch's public names (``from torch.nn.utils.parametrize import *`` brings these and no helper of this file's)
__all__ = [
    "cached", "ParametrizationList", "register_parametrization", "is_parametrized", "remove_parametrizations",
    "type_before_parametrizations", "transfer_parametrizations_and_params",
]
