"""``torch.distributed.fsdp.wrap``: auto-wrap policies, which submodules of a model get a wrapper of their own.

FSDP shards a model one unit at a time; a policy names the units. The function policies are
called as ``policy(module=m, recurse=r, nonwrapped_numel=n)`` (bind their extra arguments with
``functools.partial``): with ``recurse=True`` the answer is whether to look into ``m``'s children,
with ``recurse=False`` whether to wrap ``m`` itself, ``n`` being the parameters of ``m`` that no
wrapped child holds. ``ModuleWrapPolicy`` and ``CustomPolicy`` give, for a whole model, each
module to wrap with the keyword arguments of its wrapper.

``enable_wrap`` and ``wrap`` wrap modules with any wrapper class named in the context (PyTorch's
FSDP there, any other wrapper here: chainrule's ``FullyShardedDataParallel`` refuses, see
``chainrule.distributed.unsharded``).
"""
import contextlib
import copy
from abc import ABC, abstractmethod

from chainrule.nn.container import ModuleDict, ModuleList
from chainrule.nn.multihead_attention import MultiheadAttention

__all__ = [
    "always_wrap_policy",
    "lambda_auto_wrap_policy",
    "transformer_auto_wrap_policy",
    "size_based_auto_wrap_policy",
    "enable_wrap",
    "wrap",
    "CustomPolicy",
    "ModuleWrapPolicy",
]


def always_wrap_policy(*args, **kwargs):
    """Wrap every submodule: always True."""
    return True


def lambda_auto_wrap_policy(module, recurse, nonwrapped_numel, lambda_fn):
    """Look into every module; wrap the ones for which ``lambda_fn(module)`` is true."""
    if recurse:
        return True
    return lambda_fn(module)


def transformer_auto_wrap_policy(module, recurse, nonwrapped_numel, transformer_layer_cls):
    """Look into every module; wrap each instance of a class in ``transformer_layer_cls`` (a set of
    classes: the transformer's layer, so that the parameters one layer shares stay in one unit)."""
    if recurse:
        return True
    return isinstance(module, tuple(transformer_layer_cls))


def size_based_auto_wrap_policy(
    module,
    recurse,
    nonwrapped_numel,
    min_num_params=int(1e8),
    force_leaf_modules=None,
    exclude_wrap_modules=None,
):
    """Wrap a module once at least ``min_num_params`` of its parameters are not yet in a wrapped child.

    Modules of ``force_leaf_modules`` (default ``size_based_auto_wrap_policy.FORCE_LEAF_MODULES``:
    MultiheadAttention) are not looked into; modules of ``exclude_wrap_modules`` (default
    ``EXCLUDE_WRAP_MODULES``: ModuleList, ModuleDict, which have no forward) are never wrapped.
    """
    if force_leaf_modules is None:
        force_leaf_modules = size_based_auto_wrap_policy.FORCE_LEAF_MODULES
    if exclude_wrap_modules is None:
        exclude_wrap_modules = size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES
    is_large = nonwrapped_numel >= min_num_params
    if recurse:
        return is_large and not isinstance(module, tuple(force_leaf_modules))
    return is_large and not isinstance(module, tuple(exclude_wrap_modules))


size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES = {ModuleList, ModuleDict}
size_based_auto_wrap_policy.FORCE_LEAF_MODULES = {MultiheadAttention}


class _Policy(ABC):
    """A policy over a whole model: ``_run_policy(root_module, ignored_modules, root_kwargs)``
    gives ``{module: its wrapper's keyword arguments}`` for each module to wrap."""

    @abstractmethod
    def _run_policy(self, root_module, ignored_modules, root_kwargs):
        """``{module: keyword arguments}`` for each module of ``root_module`` to wrap."""


class ModuleWrapPolicy(_Policy):
    """Wrap every module that is an instance of one of ``module_classes``, each with a copy of
    the root's keyword arguments; as a function policy, ``transformer_auto_wrap_policy`` of them."""

    def __init__(self, module_classes):
        self._module_classes = set(module_classes)
        self._module_classes_str = str(self._module_classes)

    def _run_policy(self, root_module, ignored_modules, root_kwargs):
        module_classes = tuple(self._module_classes)
        return {
            module: copy.copy(root_kwargs)
            for module in root_module.modules()
            if module not in ignored_modules and isinstance(module, module_classes)
        }

    def __call__(self, module, recurse, *args, **kwargs):
        return transformer_auto_wrap_policy(module, recurse, -1, self._module_classes)

    def __repr__(self):
        return super().__repr__() + f"({self._module_classes_str})"


class CustomPolicy(_Policy):
    """Wrap as ``lambda_fn(module)`` says: False (or ``{}``) not at all, True with the root's
    keyword arguments, a dict with the root's updated by it."""

    def __init__(self, lambda_fn):
        self._lambda_fn = lambda_fn

    def _run_policy(self, root_module, ignored_modules, root_kwargs):
        target_module_to_kwargs = {}
        for module in root_module.modules():
            if module in ignored_modules:
                continue
            result = self._lambda_fn(module)
            if not isinstance(result, (dict, bool)):
                raise ValueError(
                    "The lambda_fn passed to CustomPolicy should return "
                    f"False/True or a kwarg dict, but it returned {result}"
                )
            if not result:
                continue
            kwargs = copy.copy(root_kwargs)
            if isinstance(result, dict):
                kwargs.update(result)
            target_module_to_kwargs[module] = kwargs
        return target_module_to_kwargs


class _ConfigAutoWrap:
    """The wrapper class and its keyword arguments while an ``enable_wrap`` block runs (one at a time)."""

    in_autowrap_context = False
    wrapper_cls = None
    kwargs = {}


@contextlib.contextmanager
def enable_wrap(*, wrapper_cls, **wrapper_kwargs):
    """Within the block, ``wrap(module)`` returns ``wrapper_cls(module, **wrapper_kwargs)``."""
    if _ConfigAutoWrap.in_autowrap_context:
        raise NotImplementedError(
            "You are already within an autowrap context and we currently do not supported nested autowrap."
        )
    _ConfigAutoWrap.in_autowrap_context = True
    _ConfigAutoWrap.wrapper_cls = wrapper_cls
    _ConfigAutoWrap.kwargs = wrapper_kwargs
    try:
        yield
    finally:
        _ConfigAutoWrap.in_autowrap_context = False
        _ConfigAutoWrap.wrapper_cls = None
        _ConfigAutoWrap.kwargs = {}


def wrap(module, **wrap_overrides):
    """``module`` in the wrapper of the enclosing ``enable_wrap`` (its arguments updated by
    ``wrap_overrides``, then by the module's own ``_wrap_overrides``); outside one, ``module`` itself."""
    if not _ConfigAutoWrap.in_autowrap_context:
        return module
    kwargs = {**_ConfigAutoWrap.kwargs, **wrap_overrides, **getattr(module, "_wrap_overrides", {})}
    return _ConfigAutoWrap.wrapper_cls(module, **kwargs)
