"""Pruning: zeroing part of a layer's weights and keeping them at zero, as ``torch.nn.utils.prune``.

``prune.l1_unstructured(layer, "weight", amount=0.3)`` zeroes the 30% of the weights smallest in
absolute value. The layer then holds, instead of the parameter ``weight``:

- ``weight_orig``, the parameter (what the optimizer trains, pruned entries included),
- ``weight_mask``, a buffer of 1s (kept) and 0s (pruned),

and a forward pre-hook recomputes ``layer.weight = weight_orig · weight_mask`` before every forward,
so a pruned weight stays 0 and its gradient is 0 (d weight / d weight_orig = mask).

Pruning a tensor again prunes among the entries still kept (a ``PruningContainer`` collects the
methods and combines their masks); ``prune.remove(layer, "weight")`` makes the pruned weight a plain
parameter again. ``amount`` is a fraction in [0, 1] of the entries (rounded) or a count. The methods:

==================  ===========  =====================================================================
method              type         prunes
==================  ===========  =====================================================================
Identity            unstructured nothing (a mask of ones)
RandomUnstructured  unstructured entries drawn at random
L1Unstructured      unstructured the entries smallest in |value| (or in ``importance_scores``)
RandomStructured    structured   whole slices along ``dim`` (rows, channels), drawn at random
LnStructured        structured   the slices along ``dim`` with the smallest Ln norm
CustomFromMask      global       the entries where a given mask is 0
==================  ===========  =====================================================================

``global_unstructured`` prunes several tensors as one: the smallest weights of the whole network,
rather than the same share of each layer. Subclass ``BasePruningMethod`` (``PRUNING_TYPE`` and
``compute_mask``) for a method of your own.
"""
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

from chainrule.autograd.grad_mode import no_grad
from chainrule.creation import ones_like, rand, rand_like, zeros_like
from chainrule.nn.utils.convert_parameters import parameters_to_vector


class BasePruningMethod(ABC):
    """A way of choosing what to prune; ``apply`` prunes a module's tensor with it.

    Subclasses set ``PRUNING_TYPE`` ('unstructured': any entries; 'structured': whole slices along
    ``self.dim``; 'global': a mask over the whole tensor) and define ``compute_mask(t, default_mask)``:
    the new mask of ``t``, from the mask it had (``default_mask``). As the forward pre-hook of the
    module it recomputes the pruned tensor before every forward.
    """

    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The mask (the shape of ``t``: 1 to keep, 0 to prune) after pruning ``t``, whose
        entries already pruned are the 0s of ``default_mask``."""

    def apply_mask(self, module):
        """``<name>_orig · <name>_mask``: the pruned tensor, differentiable in ``<name>_orig``."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        original = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=original.dtype) * original

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, choosing by ``importance_scores``
        (a tensor of its shape; its own values when None). The first pruning of a tensor moves the
        parameter to ``<name>_orig``; a later one joins the earlier method in a ``PruningContainer``
        and prunes among what it kept. A pruning that fails leaves the module as it was."""
        earlier = [
            (key, hook) for key, hook in module._forward_pre_hooks.items()
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name
        ]
        if len(earlier) > 1:
            raise AssertionError(
                f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. Use a PruningContainer."
            )
        method = cls(*args, **kwargs)
        method._tensor_name = name
        original = getattr(module, name)
        if importance_scores is None:
            importance_scores = original
        elif importance_scores.shape != original.shape:
            raise AssertionError(
                f"importance_scores should have the same shape as parameter {name} of {module}, "
                f"got {importance_scores.shape} vs {original.shape}"
            )
        if earlier:
            previous = earlier[0][1]
            container = previous if isinstance(previous, PruningContainer) else PruningContainer(previous)
            container.add_pruning_method(method)
            method = container
            default_mask = getattr(module, name + "_mask").detach().clone()
        else:  # the parameter becomes <name>_orig; the mask starts as ones
            parameters = list(module._parameters.items())
            module.register_parameter(name + "_orig", original)
            del module._parameters[name]
            default_mask = ones_like(original)
        kept_mask = module._buffers.get(name + "_mask")
        try:
            with no_grad():
                mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
        except Exception:  # as it was: the parameter (first pruning), or the earlier method and mask
            if earlier:
                method._pruning_methods = method._pruning_methods[:-1]
                module._buffers[name + "_mask"] = kept_mask
            else:
                module.__dict__.pop(name, None)
                module._buffers.pop(name + "_mask", None)
                module._parameters.clear()
                module._parameters.update(parameters)
            raise
        for key, _ in earlier:
            del module._forward_pre_hooks[key]
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` with this method's mask applied (a new tensor; no module involved)."""
        if importance_scores is None:
            importance_scores = t
        elif importance_scores.shape != t.shape:
            raise AssertionError(
                f"importance_scores should have the same shape as tensor t, got {importance_scores.shape} vs {t.shape}"
            )
        default_mask = default_mask if default_mask is not None else ones_like(t)
        with no_grad():
            mask = self.compute_mask(importance_scores, default_mask=default_mask)
        return t * mask

    def remove(self, module):
        """Make the pruned tensor permanent: ``<name>`` is a parameter again, holding orig · mask;
        ``<name>_orig`` and ``<name>_mask`` go."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be removed")
        pruned = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        original = module._parameters.pop(self._tensor_name + "_orig")
        original.data = pruned.data
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, original)


class PruningContainer(BasePruningMethod):
    """The methods that pruned one tensor, in order. Its mask is the last method's pruning of the
    entries (or slices) the earlier ones kept."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        if len(methods) == 1:
            self._tensor_name = methods[0]._tensor_name
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        """Append ``method`` (a BasePruningMethod for the same tensor name)."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(
                f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                f"PruningContainer {self}. Found '{method._tensor_name}'"
            )
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, index):
        return self._pruning_methods[index]

    def compute_mask(self, t, default_mask):
        """The last method applied to what is still kept: among the entries where the mask is 1
        (unstructured), among the slices along ``dim`` not yet wholly pruned (structured), or over
        the whole tensor (global)."""
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        if method.PRUNING_TYPE == "unstructured":
            kept = default_mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have the attribute `dim` defined.')
            dim = method.dim + t.dim() if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {t.dim()}")
            others = [axis for axis in range(t.dim()) if axis != dim]
            kept = [slice(None)] * t.dim()
            kept[dim] = default_mask.sum(dim=others) != 0
            kept = tuple(kept)
        elif method.PRUNING_TYPE == "global":
            kept = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        mask[kept] = method.compute_mask(t[kept], default_mask=mask[kept]).to(dtype=mask.dtype)
        return mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays as it is (all ones on a fresh tensor)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class EntryPruning(BasePruningMethod):
    """An unstructured method: it prunes the ``amount`` entries its ``chosen(t, count)`` picks
    (their indices in ``t`` flattened)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        count = _compute_nparams_toprune(self.amount, t.numel())
        mask = default_mask.clone()
        if count:
            mask.view(-1)[self.chosen(t, count)] = 0
        return mask


class RandomUnstructured(EntryPruning):
    """Prunes ``amount`` entries drawn at random."""

    def chosen(self, t, count):
        return rand_like(t).view(-1).topk(count).indices

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(EntryPruning):
    """Prunes the ``amount`` entries smallest in absolute value."""

    def chosen(self, t, count):
        return t.abs().reshape(-1).topk(count, largest=False).indices

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class SlicePruning(BasePruningMethod):
    """A structured method: it prunes ``amount`` whole slices along ``dim``, keeping those its
    ``kept(t, dim, slices, count)`` selects (a boolean per slice, or their indices)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        slices = _slices_along(t, self.dim)
        count = _compute_nparams_toprune(self.amount, slices)
        if not count:
            return default_mask
        dim = self.dim % t.dim()
        mask = zeros_like(t)
        where = [slice(None)] * t.dim()
        where[dim] = self.kept(t, dim, slices, count)
        mask[tuple(where)] = 1
        return mask * default_mask.to(dtype=t.dtype)


class RandomStructured(SlicePruning):
    """Prunes ``amount`` slices along ``dim`` drawn at random (whole rows, columns, channels)."""

    def kept(self, t, dim, slices, count):
        draws = rand(slices)
        return draws > draws.kthvalue(count).values

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(SlicePruning):
    """Prunes the ``amount`` slices along ``dim`` with the smallest ``n``-norm (``n``: a number,
    ``inf``, ``-inf``, 'fro' or 'nuc', as ``chainrule.norm`` takes)."""

    def __init__(self, amount, n, dim=-1):
        super().__init__(amount, dim)
        self.n = n

    def kept(self, t, dim, slices, count):
        norms = t.norm(p=self.n, dim=[axis for axis in range(t.dim()) if axis != dim])
        return norms.topk(slices - count, largest=True).indices

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where ``mask`` (the tensor's shape) is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"default_mask shape {default_mask.shape} must match self.mask shape {self.mask.shape}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


# ----------------------------------------------------------------------------- the functions
def identity(module, name):
    """Prune nothing of ``module.<name>``, but give it the pruned form (``_orig``, ``_mask``)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` entries of ``module.<name>`` drawn at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` smallest in absolute value (of
    ``importance_scores`` when given)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` slices of ``module.<name>`` along ``dim`` drawn at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` slices of ``module.<name>`` along ``dim`` with the smallest ``n``-norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the ``(module, name)`` tensors of ``parameters`` as one: ``pruning_method(**kwargs)``
    (an unstructured method, e.g. ``L1Unstructured`` with ``amount``) chooses among all their
    entries together, so a layer of small weights loses more than one of large weights.
    ``importance_scores``: ``{(module, name): scores}`` for tensors judged by other values."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
            f"{pruning_method} of type {method.PRUNING_TYPE}"
        )
    scores = parameters_to_vector([importance_scores.get((module, name), getattr(module, name)) for module, name in parameters])
    masks = parameters_to_vector([_mask_of(module, name) for module, name in parameters])
    method._tensor_name = "all"
    container = PruningContainer(method)
    with no_grad():
        final_mask = container.compute_mask(scores, masks)
    start = 0
    for module, name in parameters:
        tensor = getattr(module, name)
        custom_from_mask(module, name, mask=final_mask[start : start + tensor.numel()].view_as(tensor))
        start += tensor.numel()


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent: a plain parameter holding the pruned values."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module):
    """True when ``module`` or one of its submodules has a pruned tensor."""
    return any(
        isinstance(hook, BasePruningMethod)
        for submodule in module.modules()
        for hook in submodule._forward_pre_hooks.values()
    )


# ----------------------------------------------------------------------------- helpers
def _validate_pruning_amount_init(amount):
    """``amount``: a count (a non-negative int) or a fraction (a float in [0, 1]) (PyTorch's name,
    which custom pruning methods call)."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
        not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0
    ):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _validate_pruning_amount(amount, tensor_size):
    """PyTorch's ValueError for a count of entries (or slices) to prune above ``tensor_size``."""
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={tensor_size}")


def _compute_nparams_toprune(amount, tensor_size):
    """How many of ``tensor_size`` entries (or slices) ``amount`` prunes: itself for a count (checked
    by ``_validate_pruning_amount``), the rounded share for a fraction."""
    _validate_pruning_amount(amount, tensor_size)
    return amount if isinstance(amount, numbers.Integral) else round(amount * tensor_size)


def _slices_along(t, dim):
    """The number of slices of ``t`` along ``dim``, checked to be a dimension of a tensor with
    at least two (a slice of a vector is one entry: that is unstructured pruning)."""
    if t.dim() <= 1:
        raise ValueError(
            f"Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
            f"{t.shape} with {t.dim()} dims"
        )
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")
    return t.shape[dim]


def _mask_of(module, name):
    """The mask of ``module.<name>``: its ``_mask`` buffer once pruned, else ones."""
    mask = module._buffers.get(name + "_mask")
    return mask if mask is not None else ones_like(getattr(module, name))
