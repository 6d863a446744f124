"""Module: the base class of every layer and model, as ``torch.nn.Module``.

A module keeps three ordered registries, filled by plain attribute assignment in ``__init__``:

- ``_parameters``: the ``Parameter``s it learns (``self.weight = Parameter(...)``),
- ``_buffers``: tensors that are state but not learned (``register_buffer``: running means, counters),
- ``_modules``: its submodules (``self.fc1 = Linear(4, 8)``).

Everything else follows from walking those registries: ``parameters()`` for the optimizer,
``state_dict()`` for checkpoints, ``train()`` / ``eval()`` for layers that behave differently while
training, and the printed tree. ``model(x)`` calls ``forward(x)`` between the registered hooks.
"""
import functools
import inspect
import warnings
from collections import OrderedDict, namedtuple
from types import SimpleNamespace
from typing import TypeVar
from operator import methodcaller

from chainrule import __future__ as future
from chainrule import dtypes
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import is_writable
from chainrule.caller_warnings import warn_at_caller
from chainrule.nn.backward_hooks import BackwardHooks
from chainrule.creation import empty_like
from chainrule.device import check_device
from chainrule.nn.parameter import Buffer, Parameter, is_lazy
from chainrule.ops.elementwise import to_arguments
from chainrule.tensor import Tensor
from chainrule.utils.hooks import WatchedHooks, add_hook, hook_registry, through_hooks


# NumPy's kinds of bool, signed and unsigned integers and real floats: what load_state_dict copies.
_REAL_KINDS = "biuf"
# The state dict entry of what get_extra_state returns.
_EXTRA_STATE_KEY_SUFFIX = "_extra_state"

# Each module's hooks, as PyTorch names them: {handle id: hook}, and flags {handle id: True}.
_HOOK_REGISTRIES = (
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_backward_pre_hooks",
    "_backward_hooks",
    "_state_dict_pre_hooks",
    "_state_dict_hooks",
    "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
)

# The hooks of every module (``register_module_forward_hook``...), run before each module's own.
_GLOBAL = SimpleNamespace(
    forward_pre_hooks=WatchedHooks(),
    forward_hooks=WatchedHooks(),
    forward_hooks_with_kwargs=WatchedHooks(),
    forward_hooks_always_called=WatchedHooks(),
    backward_pre_hooks=WatchedHooks(),
    backward_hooks=WatchedHooks(),
)


# As PyTorch: whether the backward hooks of every module are full (True) or legacy (False,
# ``register_module_backward_hook``); None before the first. Never reset, as PyTorch's.
_global_is_full_backward_hook = None

# The hooks every registration runs (``register_module_buffer_registration_hook``...): {handle id: hook}.
_REGISTRATION = SimpleNamespace(buffer_hooks=hook_registry(), module_hooks=hook_registry(), parameter_hooks=hook_registry())


def global_hooks():
    """The hooks every module runs (``register_module_forward_hook``...): each registry's name and
    its hooks, by handle id."""
    return vars(_GLOBAL)


def register_module_forward_pre_hook(hook):
    """Call ``hook(module, args)`` before the forward of every module (before its own pre-hooks)."""
    return add_hook(_GLOBAL.forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """Call ``hook(module, args, output)`` after the forward of every module (before its own hooks)."""
    hooks = (_GLOBAL.forward_hooks, _GLOBAL.forward_hooks_with_kwargs, _GLOBAL.forward_hooks_always_called)
    return _add_forward_hook(hooks, hook, False, with_kwargs, always_call)


def _add_forward_hook(registries, hook, prepend, with_kwargs, always_call):
    """Add ``hook`` to the first of ``registries`` (hooks, with-kwargs flags, always-called flags),
    and its id to the flags asked for."""
    hooks, with_kwargs_flags, always_called_flags = registries
    flags = [flags for flags, chosen in ((with_kwargs_flags, with_kwargs), (always_called_flags, always_call)) if chosen]
    return add_hook(hooks, hook, prepend, flags)


def register_module_full_backward_pre_hook(hook):
    """Call ``hook(module, grad_output)`` for every module, before its own backward pre-hooks."""
    return add_hook(_GLOBAL.backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    """Call ``hook(module, grad_input, grad_output)`` for every module, before its own backward hooks."""
    global _global_is_full_backward_hook
    _global_is_full_backward_hook = _backward_hook_kind(_global_is_full_backward_hook, True, "as a global Module hook")
    return add_hook(_GLOBAL.backward_hooks, hook)


def register_module_backward_hook(hook):
    """Deprecated (use ``register_module_full_backward_hook``): a legacy backward hook
    (``Module.register_backward_hook``) for every module, run before its own."""
    global _global_is_full_backward_hook
    _global_is_full_backward_hook = _backward_hook_kind(_global_is_full_backward_hook, False, "as a global Module hook")
    return add_hook(_GLOBAL.backward_hooks, hook)


def _backward_hook_kind(kind, full, where):
    """The kind a registry of backward hooks holds (full: True, legacy: False, None while it had
    none) once a hook of kind ``full`` joins it: one kind only, as PyTorch (RuntimeError)."""
    if kind is (not full):
        raise RuntimeError(
            f"Cannot use both regular backward hooks and full backward hooks {where}. Please use only one of them "
            f"(register_full_backward_hook: the legacy kind is deprecated)."
        )
    return full


def register_module_buffer_registration_hook(hook):
    """Call ``hook(module, name, buffer)`` whenever a module registers a buffer (``register_buffer``,
    or an assignment to one); it may return the tensor to register instead."""
    return add_hook(_REGISTRATION.buffer_hooks, hook)


def register_module_module_registration_hook(hook):
    """Call ``hook(module, name, submodule)`` whenever a module registers a submodule (``add_module``,
    or an assignment); it may return the module to register instead."""
    return add_hook(_REGISTRATION.module_hooks, hook)


def register_module_parameter_registration_hook(hook):
    """Call ``hook(module, name, param)`` whenever a module registers a Parameter
    (``register_parameter``, or an assignment; not None); it may return the Parameter to register
    instead."""
    return add_hook(_REGISTRATION.parameter_hooks, hook)


def _key_problems(missing, unexpected):
    """The messages of a strict load for keys the module lacks, or the checkpoint does: the missing
    first, as PyTorch lists them."""
    problems = []
    if missing:
        problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{key}"' for key in missing) + ". ")
    if unexpected:
        problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{key}"' for key in unexpected) + ". ")
    return problems


def _value_problems(key, value, target):
    """Why ``value`` cannot be loaded into ``target`` (empty when it can)."""
    if not isinstance(value, Tensor):
        return [
            f'While copying the parameter named "{key}", expected chainrule.Tensor or Tensor-like object from checkpoint '
            f"but received {type(value)}"
        ]
    if is_lazy(target):  # still lazy: the value is uninitialized too, and takes nothing to check (as PyTorch)
        return []
    if tuple(value.shape) != tuple(target.shape):
        return [
            f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
            f"the shape in current model is {target.shape}."
        ]
    if value._array.dtype.kind not in _REAL_KINDS:
        return [
            f"dtype mismatch for {key}: the checkpoint holds {value._array.dtype} values, which "
            f"can't be copied into a {target.dtype} tensor without losing them (only real "
            f"numbers and booleans can)."
        ]
    return []


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` found missing from, or unexpected in, the state dict."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _overrides(module, method):
    """Whether ``module``'s class defines its own ``method`` (``"get_extra_state"``...)."""
    return getattr(type(module), method) is not getattr(Module, method)


def _swap_in(target, value, assign):
    """``load_state_dict`` under ``set_swap_module_params_on_conversion(True)``, as PyTorch's: the
    tensor ``target.module_load`` makes of ``value`` (a Parameter where ``target`` is one) swaps
    places with ``target``, whose object the module, and an optimizer, keep."""
    from chainrule.utils import swap_tensors

    loaded = target.module_load(value, assign=assign)
    if loaded is value or loaded is target:
        raise RuntimeError(
            "module_load returned one of self or other, please .detach() the result if returning one of the inputs in module_load"
        )
    if isinstance(target, Parameter):
        loaded = loaded.requires_grad_(target.requires_grad) if isinstance(loaded, Parameter) else Parameter(loaded, requires_grad=target.requires_grad)
    swap_tensors(target, loaded)


def _load_tree(module, state_dict, prefix, metadata, assign, incompatible, error_msgs):
    """Load ``module`` (its ``_load_from_state_dict``, given its metadata entry), then each child
    with a dict of the entries under the child's prefix (a module registered in two places is
    loaded in each), then run the module's load post-hooks: PyTorch's order."""
    local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
    if assign:  # into the checkpoint's own metadata entry, as PyTorch writes it
        local_metadata["assign_to_params_buffers"] = assign
    module._load_from_state_dict(state_dict, prefix, local_metadata, True, *incompatible, error_msgs)
    for name, child in module._modules.items():
        if child is not None:
            child_prefix = prefix + name + "."
            entries = {key: value for key, value in state_dict.items() if key.startswith(child_prefix)}
            _load_tree(child, entries, child_prefix, metadata, assign, incompatible, error_msgs)
    for hook in list(module._load_state_dict_post_hooks.values()):
        if hook(module, incompatible) is not None:  # PyTorch asserts it
            raise AssertionError(
                "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to return new "
                "values; change incompatible_keys in place instead."
            )


class _LoadUndo:
    """What ``load_state_dict`` may change in a tree of modules, saved to be put back when the load
    fails: each module's registered tensors (``assign`` replaces them), the values of each tensor
    (a copy of its array; a read-only one cannot change; a lazy one's shape is kept as loaded) and
    the extra state of each module that both gets and sets one."""

    def __init__(self, root):
        modules = list(root.modules())
        self.registries = [
            (module, dict(module._parameters), dict(module._buffers), set(module._non_persistent_buffers_set))
            for module in modules
        ]
        tensors = {
            id(tensor): tensor for module in modules for tensor in (*module._parameters.values(), *module._buffers.values())
            if tensor is not None and not is_lazy(tensor)
        }
        self.arrays = [(tensor, tensor._array, tensor._array.copy()) for tensor in tensors.values() if is_writable(tensor._array)]
        self.extra_states = [
            (module, module.get_extra_state()) for module in modules
            if _overrides(module, "get_extra_state") and _overrides(module, "set_extra_state")
        ]

    def restore(self):
        """Put every module back as it was saved: its registries, its tensors' arrays and values, its extra state."""
        for module, parameters, buffers, non_persistent in self.registries:
            saved_registries = ((module._parameters, parameters), (module._buffers, buffers),
                                (module._non_persistent_buffers_set, non_persistent))
            for registry, saved in saved_registries:
                registry.clear()
                registry.update(saved)
        for tensor, array, values in self.arrays:
            tensor._array = array
            array[...] = values
        for module, state in self.extra_states:
            module.set_extra_state(state)


def _warn_legacy_hook(message):
    warnings.warn(message, FutureWarning, stacklevel=4)


def _call_legacy_backward_hook(hook, module, grad_inputs, grad_outputs):
    """A legacy module backward hook run as a node hook: ``hook(module, grad_input, grad_output)``."""
    return hook(module, grad_inputs, grad_outputs)


class Module:
    """Base class of layers and models: subclass it, register parts in ``__init__``, define ``forward``.

    >>> class TwoLayer(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = Linear(4, 8)
    ...         self.out = Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.out(relu(self.hidden(x)))
    """

    training: bool
    _version = 1  # the layout of this module's state dict entries, given to its state dict hooks
    _compiled_call_impl = None  # what module(...) runs after compile()
    _compile_function = None  # chainrule.compile, set by chainrule/compile (which imports this module)
    call_super_init = False  # PyTorch's flag: pass __init__'s arguments on to the next class of a subclass's bases
    dump_patches = False  # PyTorch's deprecated flag for saving whole-module source patches
    T_destination = TypeVar("T_destination", bound=dict)  # the type state_dict(destination=...) returns
    # As PyTorch: which kind ``_backward_hooks`` holds, full (True) or legacy (False); None while empty.
    _is_full_backward_hook = None

    def __init__(self, *args, **kwargs):
        if not self.call_super_init and kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if not self.call_super_init and args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} were given")
        # object.__setattr__: our own __setattr__ needs these registries to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})  # plain dicts, as PyTorch 2.13's (print(m._parameters) shows {...})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})  # a plain dict, as PyTorch's (keys() prints dict_keys)
        for registry in _HOOK_REGISTRIES:  # {handle id: hook}, or {handle id: True} for a flag
            object.__setattr__(self, registry, WatchedHooks())
        if self.call_super_init:  # a mixin after Module in the bases gets the arguments, as in PyTorch
            super().__init__(*args, **kwargs)

    def __setstate__(self, state):
        """Unpickling: the pickled attributes, each hook registry made the watched kind a compiled
        function checks (a module PyTorch pickled has the same attributes, its registries plain
        OrderedDicts: ``chainrule.load(path, weights_only=False)`` of one gives a chainrule module)."""
        self.__dict__.update(state)
        for registry in _HOOK_REGISTRIES:
            hooks = self.__dict__.get(registry)
            if type(hooks) is not WatchedHooks:
                object.__setattr__(self, registry, WatchedHooks(hooks or ()))

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function (define '
            f"forward(self, ...) in your subclass)"
        )

    def __call__(self, *args, **kwargs):
        """``forward`` between the hooks (``_call_impl``), or its compiled form after ``compile()``."""
        if self._compiled_call_impl is not None:
            return self._compiled_call_impl(*args, **kwargs)
        return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args, **kwargs):
        """Run ``forward`` between the hooks: the forward pre-hooks before it, the forward hooks
        after it (the hooks registered for every module with ``register_module_forward_hook``...
        first), and the backward hooks around it (``nn/backward_hooks.py``).

        A pre-hook ``hook(module, args)`` may return replacement arguments (``hook(module, args,
        kwargs)`` with ``with_kwargs=True``: replacement ``(args, kwargs)``); a hook ``hook(module,
        args, output)`` (``hook(module, args, kwargs, output)``) may return a replacement output.
        A hook registered with ``always_call=True`` runs even when a pre-hook, ``forward`` or
        another hook raises.
        """
        if not (
            self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks
            or _GLOBAL.forward_pre_hooks or _GLOBAL.forward_hooks or _GLOBAL.backward_hooks or _GLOBAL.backward_pre_hooks
        ):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        """``_call_impl`` when hooks are registered, in PyTorch's order: the backward hooks are
        those registered when the call begins; the forward hooks are read when forward has
        returned (one that forward adds or removes counts in this call); when anything raises (a
        pre-hook, forward, a hook) the ``always_call`` hooks that did not run yet run before the
        error goes on."""
        full_backward_hooks, legacy_backward_hooks = self._get_backward_hooks()
        backward_pre_hooks = self._get_backward_pre_hooks()
        result = None
        called = set()  # the always_call hooks that ran
        try:
            for hook_id, hook in [*_GLOBAL.forward_pre_hooks.items(), *self._forward_pre_hooks.items()]:
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    replacement = hook(self, args, kwargs)
                    if replacement is not None:
                        if not (isinstance(replacement, tuple) and len(replacement) == 2):
                            raise RuntimeError(
                                f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got {replacement}."
                            )
                        args, kwargs = replacement
                else:
                    replacement = hook(self, args)
                    if replacement is not None:
                        args = replacement if isinstance(replacement, tuple) else (replacement,)
            backward_hooks = None
            if full_backward_hooks or backward_pre_hooks:
                backward_hooks = BackwardHooks(self, full_backward_hooks, backward_pre_hooks)
                args = backward_hooks.wrap_inputs(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in [*_GLOBAL.forward_hooks.items(), *self._forward_hooks.items()]:
                if hook_id in self._forward_hooks_always_called or hook_id in _GLOBAL.forward_hooks_always_called:
                    called.add(hook_id)
                replacement = self._run_forward_hook(hook_id, hook, args, kwargs, result)
                if replacement is not None:
                    result = replacement
            if backward_hooks is not None:
                result = backward_hooks.wrap_outputs(result)
            if legacy_backward_hooks:
                self._hook_output_node(args, result, legacy_backward_hooks)
        except Exception:
            self._run_always_called_hooks(called, args, kwargs, result)
            raise
        return result

    def _run_forward_hook(self, hook_id, hook, args, kwargs, result):
        if hook_id in self._forward_hooks_with_kwargs or hook_id in _GLOBAL.forward_hooks_with_kwargs:
            return hook(self, args, kwargs, result)
        return hook(self, args, result)

    def _run_always_called_hooks(self, called, args, kwargs, result):
        """After an error in a call, the ``always_call`` forward hooks not ``called`` yet, those of
        every module first; one that raises only warns, as the first error goes on. As PyTorch, only
        this module's own ``with_kwargs`` hooks get ``kwargs`` here: one of every module is called
        ``hook(module, args, output)``."""
        hook_sets = (
            (_GLOBAL.forward_hooks, _GLOBAL.forward_hooks_always_called, "global module"),
            (self._forward_hooks, self._forward_hooks_always_called, "module"),
        )
        for hooks, always_called, kind in hook_sets:
            for hook_id, hook in list(hooks.items()):
                if hook_id not in always_called or hook_id in called:
                    continue
                try:
                    if hook_id in self._forward_hooks_with_kwargs:
                        replacement = hook(self, args, kwargs, result)
                    else:
                        replacement = hook(self, args, result)
                    if replacement is not None:
                        result = replacement
                except Exception as error:
                    warnings.warn(
                        f"{kind} forward hook with ``always_call=True`` raised an exception that was silenced as "
                        f"another error was raised in forward: {error}",
                        UserWarning,
                        stacklevel=4,
                    )

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before each forward (``hook(module, args, kwargs)`` with
        ``with_kwargs``); ``prepend`` puts it before the hooks already registered. Returns a handle
        whose ``remove()`` unregisters it."""
        flags = (self._forward_pre_hooks_with_kwargs,) if with_kwargs else ()
        return add_hook(self._forward_pre_hooks, hook, prepend, flags)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call ``hook(module, args, output)`` after each forward (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); with ``always_call`` also when forward raises. Returns a
        handle whose ``remove()`` unregisters it."""
        hooks = (self._forward_hooks, self._forward_hooks_with_kwargs, self._forward_hooks_always_called)
        return _add_forward_hook(hooks, hook, prepend, with_kwargs, always_call)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to this
        module's tensor inputs are computed (``nn/backward_hooks.py``); it may return a replacement
        grad_input. Returns a handle with ``remove()``."""
        self._is_full_backward_hook = _backward_hook_kind(self._is_full_backward_hook, True, "on a single Module")
        return add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        """Deprecated (use ``register_full_backward_hook``): call ``hook(module, grad_input,
        grad_output)`` when the node that made this module's output runs its backward, with that
        node's gradients (``grad_input`` per input of that last operation, which may include the
        weights). For a module whose forward is one operation on its inputs this is what the full
        hook sees; otherwise, as PyTorch, it warns (FutureWarning) at each call that some gradients
        will be missing. Returns a handle with ``remove()``."""
        self._is_full_backward_hook = _backward_hook_kind(self._is_full_backward_hook, False, "on a single Module")
        return add_hook(self._backward_hooks, hook)

    def _hook_output_node(self, args, result, hooks):
        """Register the legacy backward ``hooks`` on the node that made the output (the first
        tensor found in ``result``, through tuples, lists and dicts), as PyTorch does."""
        output = result
        while not isinstance(output, Tensor):
            if isinstance(output, dict):
                output = next(iter(output.values()))
            elif isinstance(output, (tuple, list)) and output:
                output = output[0]
            else:
                return
        node = output.grad_fn
        if node is None:
            return
        self._maybe_warn_non_full_backward_hook(args, result, node)
        for hook in hooks:
            node.register_hook(functools.partial(_call_legacy_backward_hook, hook, self))

    def _maybe_warn_non_full_backward_hook(self, inputs, result, node):
        """PyTorch's FutureWarnings for the cases where a legacy hook misses some gradients."""
        if isinstance(result, Tensor):
            result = (result,)
        elif not (isinstance(result, tuple) and all(isinstance(each, Tensor) for each in result)):
            _warn_legacy_hook(
                "Using non-full backward hooks on a Module that does not return a single Tensor or a tuple of "
                "Tensors is deprecated and will be removed in future versions. This hook will be missing some of "
                "the grad_output. Please use register_full_backward_hook to get the documented behavior."
            )
            return
        if isinstance(inputs, Tensor):
            inputs = (inputs,)
        elif not (isinstance(inputs, tuple) and all(isinstance(each, Tensor) for each in inputs)):
            _warn_legacy_hook(
                "Using non-full backward hooks on a Module that does not take as input a single Tensor or a tuple "
                "of Tensors is deprecated and will be removed in future versions. This hook will be missing some "
                "of the grad_input. Please use register_full_backward_hook to get the documented behavior."
            )
            return
        output_nodes = {each.grad_fn for each in result if each.grad_fn is not None}
        if not output_nodes or (len(output_nodes) == 1 and node not in output_nodes):
            _warn_legacy_hook(
                "Using a non-full backward hook when outputs are nested in python data structure is deprecated "
                "and will be removed in future versions. This hook will be missing some grad_output."
            )
        elif len(output_nodes) > 1:
            _warn_legacy_hook(
                "Using a non-full backward hook when outputs are generated by different autograd Nodes is "
                "deprecated and will be removed in future versions. This hook will be missing some grad_output. "
                "Please use register_full_backward_hook to get the documented behavior."
            )
        elif {each.grad_fn for each in inputs if each.grad_fn is not None} != {entry[0] for entry in node.next_functions}:
            _warn_legacy_hook(
                "Using a non-full backward hook when the forward contains multiple autograd Nodes is deprecated "
                "and will be removed in future versions. This hook will be missing some grad_input. Please use "
                "register_full_backward_hook to get the documented behavior."
            )

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the gradients with respect to this module's
        outputs arrive, before they go on into the module; it may return a replacement."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def _get_backward_hooks(self):
        """``(full, legacy)``: the lists of backward hooks of each kind that apply to this module,
        those for every module first, as PyTorch's."""
        full, legacy = [], []
        for kind, hooks in ((_global_is_full_backward_hook, _GLOBAL.backward_hooks), (self._is_full_backward_hook, self._backward_hooks)):
            if kind is True:
                full += hooks.values()
            elif kind is False:
                legacy += hooks.values()
        return full, legacy

    def _get_backward_pre_hooks(self):
        return [*_GLOBAL.backward_pre_hooks.values(), *self._backward_pre_hooks.values()]

    def register_state_dict_pre_hook(self, hook):
        """Call ``hook(module, prefix, keep_vars)`` before ``state_dict`` collects this module's entries."""
        return add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata)`` once ``state_dict`` has this
        module's entries (and its children's); it may change ``state_dict`` in place, and must
        return None. As PyTorch, the function is marked (``hook._from_public_api``): it cannot be
        registered with ``_register_state_dict_hook`` too."""
        hook._from_public_api = True
        return add_hook(self._state_dict_hooks, hook)

    def _register_state_dict_hook(self, hook):
        """As ``register_state_dict_post_hook``, but the hook may return a replacement state dict."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError(
                "Cannot register the same function as the state dict post hook that was previously registered via "
                "register_state_dict_post_hook (which refuses a returned value): register a function of its own."
            )
        return add_hook(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict`` reads this module's entries; it
        may change ``state_dict`` in place (rename old keys...)."""
        return add_hook(self._load_state_dict_pre_hooks, functools.partial(hook, self))

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """PyTorch's older form: ``hook(state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)``, or with ``module`` first when ``with_module``."""
        return add_hook(self._load_state_dict_pre_hooks, hook if not with_module else functools.partial(hook, self))

    def register_load_state_dict_post_hook(self, hook):
        """Call ``hook(module, incompatible_keys)`` after ``load_state_dict``; it may remove keys from
        ``incompatible_keys.missing_keys`` and ``.unexpected_keys`` (then not an error) and must
        return None."""
        return add_hook(self._load_state_dict_post_hooks, hook)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        registries = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if registries is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if registries is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = through_hooks(_REGISTRATION.module_hooks, value, self, name)
        elif registries is not None and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as parameter '{name}' (chainrule.nn.Parameter or "
                    f"None expected) (wrap it: Parameter(value))"
                )
            self._parameters[name] = None
        elif registries is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' (chainrule.nn.Module or None expected)")
            self._modules[name] = through_hooks(_REGISTRATION.module_hooks, None, self, name)
        elif isinstance(value, Buffer):
            if registries is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self._register_assigned_buffer(name, value)
        elif registries is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as buffer '{name}' (chainrule.nn.Buffer, chainrule.Tensor or None expected)"
                )
            self._buffers[name] = through_hooks(_REGISTRATION.buffer_hooks, value, self, name)
        else:
            object.__setattr__(self, name, value)

    def _register_assigned_buffer(self, name, buffer):
        """``self.name = Buffer(...)``: ``register_buffer(name, buffer, persistent)`` (a plain
        attribute of that name is PyTorch's KeyError there), the flag passed by position, as
        PyTorch passes it; a subclass's own ``register_buffer`` without that argument gets two
        arguments, and a non-persistent buffer is then PyTorch's RuntimeError."""
        register = self.register_buffer
        if getattr(register, "__func__", None) is Module.register_buffer or "persistent" in inspect.signature(register).parameters:
            register(name, buffer, buffer.persistent)
        elif not buffer.persistent:
            raise RuntimeError(
                "Registering a non-persistent buffer on a Module subclass that implements register_buffer() without the "
                "persistent argument is not allowed."
            )
        else:
            register(name, buffer)

    def _forget(self, name, keep):
        """Remove ``name`` from every other place it was registered, so it lives in ``keep`` only.

        ``keep`` itself is left alone, so that replacing a module or parameter keeps its position.
        """
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # Only reached when normal lookup fails: registered parts live in the registries.
        registries = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            found = registries.get(registry, ())
            if name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        """The attributes and registered names, less those that start with a digit (a Sequential's
        "0"), as PyTorch's."""
        names = set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(name for name in names if not name[0].isdigit())

    def _check_new_name(self, name, kind, registry):
        """A name may be registered again in its own ``registry``, never beside another attribute."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."' + (f", got: {name}" if kind == "module" else ""))
        if not name:
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``) as ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_type_name(param)}' object to parameter '{name}' (chainrule.nn.Parameter "
                f"or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly; to express '{name}' as a function of another Tensor, compute "
                f"the value in the forward() method."
            )
        self._parameters[name] = param if param is None else through_hooks(_REGISTRATION.parameter_hooks, param, self, name)

    def register_buffer(self, name, tensor, persistent=True):
        """Register a tensor that is state but not learned; ``persistent`` ones go into ``state_dict``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' (chainrule Tensor or None required)")
        self._buffers[name] = through_hooks(_REGISTRATION.buffer_hooks, tensor, self, name)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Register ``module`` (or None) as the submodule ``name``, as attribute assignment does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name(name, "module", self._modules)
        self._modules[name] = through_hooks(_REGISTRATION.module_hooks, module, self, name)

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` (``"encoder.0"``); ``""`` is the module itself."""
        module = self
        if target == "":
            return module
        for part in target.split("."):
            if part not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{part}` (looking up '{target}')")
            module = module._modules[part]
            if not isinstance(module, Module):
                raise AttributeError(f"`{part}` is not an nn.Module (looking up '{target}')")
        return module

    def set_submodule(self, target, module, strict=False):
        """Put ``module`` at the dotted path ``target`` (``"encoder.0"``): replacing the submodule
        there, or added under a new name to the module above it (unless ``strict``: then
        AttributeError). Any other attribute of that name is refused (AttributeError)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent, _, name = target.rpartition(".")
        owner = self.get_submodule(parent)
        if not hasattr(owner, name):
            if strict:
                raise AttributeError(f"{owner._get_name()} has no attribute `{name}` (setting '{target}')")
        elif not isinstance(getattr(owner, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(owner, name, module)

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` (``"encoder.0.weight"``); AttributeError
        when that is no Parameter (one registered as None, as ``bias=False`` leaves it, included)."""
        return self._get_member(target, lambda module, name, value: isinstance(value, Parameter), "an nn.Parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``); None for one
        registered as None."""
        return self._get_member(target, lambda module, name, value: name in module._buffers, "a buffer")

    def _get_member(self, target, belongs, kind):
        """The attribute at the dotted path ``target``, if ``belongs(module, name, value)``."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        value = getattr(module, name)
        if not belongs(module, name, value):
            raise AttributeError(f"`{name}` is not {kind}")
        return value

    # ----------------------------------------------------------------- walking the tree
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module and every submodule, parents before children,
        but for the modules in ``memo`` (a set of modules) and those below them; with
        ``remove_duplicate`` each module once (added to ``memo``)."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self, remove_duplicate=True):
        """This module and every submodule, parents before children (each once with ``remove_duplicate``)."""
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_children(self):
        """``(name, module)`` for each direct submodule (each once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, get_members_fn, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, member)`` for the ``(name, member)`` pairs ``get_members_fn(module)`` gives
        of this module (and its submodules), each once, as PyTorch's (pyro's PyroModule passes its
        own function: its pyro parameters)."""
        seen = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner_prefix, owner in owners:
            for name, member in get_members_fn(owner):
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield owner_prefix + ("." if owner_prefix else "") + name, member

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, parameter)`` pairs, e.g. ``("0.weight", ...)``; shared parameters once."""
        yield from self._named_members(_own_parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter of this module and its submodules: what an optimizer is given."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(_own_buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and all below it."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: dropout off, batch norm uses its running statistics. Same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording on or off for every parameter (e.g. to freeze a layer)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter: to None (default), or to zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                grad = param.grad
                if grad.grad_fn is not None:  # (a gradient of create_graph=True; a view assigned to .grad is no graph's)
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                with no_grad():
                    grad.zero_()

    # ----------------------------------------------------------------- dtype conversion
    def _apply(self, convert):
        """Replace the values of every parameter, gradient and buffer by ``convert(tensor)``.

        Parameters keep their identity (the optimizer still holds them); only their values (and
        layout) change: PyTorch's ``param.data = converted``. With ``chainrule.__future__``'s
        ``set_overwrite_module_params_on_conversion(True)`` (unless ``set_swap_module_params_on_conversion(True)``,
        which keeps them too) new Parameter objects and gradients take their places, as in PyTorch.
        """
        overwrite = future.get_overwrite_module_params_on_conversion() and not future.get_swap_module_params_on_conversion()
        with no_grad():
            for module in self.modules():
                for key, param in module._parameters.items():
                    if param is None:
                        continue
                    converted, grad = convert(param), param.grad
                    if overwrite:
                        module._parameters[key] = replacement = Parameter(converted, param.requires_grad)
                        if grad is not None:
                            replacement.grad = convert(grad)
                        continue
                    if converted is not param:  # (nothing to read in an uninitialized parameter left as it is)
                        param.data = converted
                    if grad is not None:
                        grad.data = convert(grad)
                for name, buffer in module._buffers.items():
                    if buffer is not None:
                        module._buffers[name] = convert(buffer)
        return self

    def _apply_to_floating(self, convert):
        """``_apply`` of ``convert`` to the floating-point parameters and buffers (counts stay integers).
        Called as a method, so that a tensor subclass's own conversion runs (a lazy module's
        uninitialized parameters)."""
        return self._apply(lambda tensor: convert(tensor) if tensor.is_floating_point() else tensor)

    def to(self, *args, **kwargs):
        """``to(dtype)`` converts floating parameters and buffers; ``to("cpu")`` changes nothing.
        An integer or bool dtype is refused, as PyTorch refuses it (weights must stay floating),
        and so is a ``copy`` argument (a keyword, or the second flag after ``non_blocking``)."""
        if "copy" in kwargs or sum(type(arg) is bool for arg in args) > 1:
            raise RuntimeError(
                ".to() does not accept copy argument: a module converts its own parameters; to keep the "
                "original, convert a copy (copy.deepcopy(module).to(...))"
            )
        for wanted in (*args, kwargs.get("dtype")):
            dtype = wanted.dtype if isinstance(wanted, Tensor) else wanted
            if isinstance(dtype, dtypes.dtype) and not (dtype.is_floating_point or dtype.is_complex):
                raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}")
            if isinstance(dtype, dtypes.dtype) and dtype.is_complex:
                warn_at_caller(
                    "Complex modules are a new feature under active development whose design may change, and some "
                    "modules might not work as expected when using complex tensors as parameters or buffers. Please "
                    "file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml if a "
                    "complex module does not work as expected."
                )
        memory_format = kwargs.pop("memory_format", None)
        device = to_arguments(args, kwargs)[0]
        moved = {} if device is None else {"device": device}

        def convert(tensor):
            """A floating or complex tensor as asked; any other (an integer count, a bool mask) only
            moved to the device; the memory format for the 4-d and 5-d ones, integer ones too."""
            layout = {"memory_format": memory_format} if memory_format is not None and tensor.dim() in (4, 5) else {}
            if tensor.is_floating_point() or tensor.is_complex():
                return tensor.to(*args, **kwargs, **layout)
            return tensor.to(**moved, **layout) if moved or layout else tensor

        return self._apply(convert)

    def float(self):
        return self._apply_to_floating(methodcaller("float"))

    def double(self):
        return self._apply_to_floating(methodcaller("double"))

    def half(self):
        return self._apply_to_floating(methodcaller("half"))

    def bfloat16(self):
        """TypeError, leaving the module as it is: NumPy has no bfloat16 (use ``half()`` or ``float()``)."""
        return self._apply_to_floating(methodcaller("bfloat16"))

    def type(self, dst_type):
        """Every parameter and buffer converted to ``dst_type`` (a dtype or a legacy tensor type);
        a parameter, which requires grad, only to a floating one, as in PyTorch."""
        dtype = dst_type if isinstance(dst_type, dtypes.dtype) else getattr(dst_type, "dtype", None)  # or FloatTensor's
        if isinstance(dtype, dtypes.dtype) and not dtype.is_floating_point and any(p.requires_grad for p in self.parameters()):
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        return self._apply(lambda tensor: tensor.type(dst_type))

    def cpu(self):
        return self

    def cuda(self, device=None):
        """There is no GPU in chainrule: raises, as ``Tensor.cuda`` does (use ``.to(device)`` with a
        device chosen by ``torch.cuda.is_available()``, which is False)."""
        check_device("cuda")

    def to_empty(self, *, device=None, recurse=True):
        """Give every parameter and buffer new, uninitialized memory of its shape and dtype (to be
        filled, by ``load_state_dict`` or an initializer, after building a model without values, as
        on the 'meta' device). ``device`` None keeps each tensor's device."""
        modules = self.modules() if recurse else [self]
        with no_grad():
            for module in modules:
                for param in module._parameters.values():
                    if param is not None:
                        param._array = empty_like(param, device=device)._array
                for name, buffer in module._buffers.items():
                    if buffer is not None:
                        module._buffers[name] = empty_like(buffer, device=device)
        return self

    def compile(self, *args, **kwargs):
        """Compile this module's calls in place, as ``torch.nn.Module.compile``: ``module(x)`` then
        runs ``chainrule.compile(module._call_impl, *args, **kwargs)`` (the hooks included)."""
        compiled = Module._compile_function(self._call_impl, *args, **kwargs)
        compiled.__name__ = f"{type(self).__name__}.forward"  # as its warnings name it
        self._compiled_call_impl = compiled

    def share_memory(self):
        """Move every parameter, gradient and buffer to memory shared with the processes this one
        forks later (``Tensor.share_memory_``): Hogwild training, each process updating this model."""
        return self._apply(lambda tensor: tensor.share_memory_())

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An OrderedDict ``{dotted name: tensor}`` of every parameter and persistent buffer.

        The tensors are detached (they share memory with the module: copy them to keep a snapshot).
        Each module's ``register_state_dict_pre_hook`` hooks run before its entries are collected,
        its post hooks after its children's. ``destination, prefix, keep_vars`` given by position
        still work, with PyTorch's FutureWarning.
        """
        if args:
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead: state_dict(destination=..., prefix=..., keep_vars=...)",
                FutureWarning,
                stacklevel=2,
            )
            destination = args[0] if destination is None else destination
            prefix = args[1] if len(args) > 1 and prefix == "" else prefix
            keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        # {module's dotted name: {"version": ...}}, as PyTorch: load_state_dict gives each module
        # its entry, so a layer can tell a checkpoint of an older layout (BatchNorm's version 1).
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in list(self._state_dict_pre_hooks.values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in list(self._state_dict_hooks.values()):
            replacement = hook(self, destination, prefix, local_metadata)
            if replacement is not None:
                if getattr(hook, "_from_public_api", False):
                    raise RuntimeError(
                        "state_dict post-hook must return None (registered with register_state_dict_post_hook: "
                        "change state_dict in place)"
                    )
                destination = replacement
        return destination

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Put this module's own parameters and persistent buffers (not its children's) in
        ``destination``, and what ``get_extra_state`` returns, if the module defines it."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars or is_lazy(param) else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars or is_lazy(buffer) else buffer.detach()
        if _overrides(self, "get_extra_state"):
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def get_extra_state(self):
        """What a module keeps besides tensors, for its state dict (under ``<prefix>_extra_state``):
        define it (and ``set_extra_state``) in a subclass that has such state."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called: define "
            "get_extra_state() in your module to return its extra state."
        )

    def set_extra_state(self, state):
        """Restore what ``get_extra_state`` returned, when ``load_state_dict`` finds it."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called: define "
            "set_extra_state() in your module, as the state dict holds extra state for it."
        )

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the values of ``state_dict`` into this module's parameters and buffers.

        As PyTorch, each module's ``_load_from_state_dict`` is called (parents first) with the
        entries under its prefix, loads its own parameters and persistent buffers, and reports
        the keys it lacks or does not know in ``missing_keys`` and ``unexpected_keys`` and the
        values it cannot load (not a tensor, a shape that does not match, values that are not
        numbers: complex, strings, dates...) in ``error_msgs``; each module's
        ``register_load_state_dict_post_hook`` hooks run once its children are loaded, and may
        clear the keys reported. Returns ``(missing_keys, unexpected_keys)``.

        All or nothing, unlike PyTorch: when the load fails (with ``strict=True`` a key still
        missing or unexpected; in any case an error message or an exception) every module is put
        back exactly as it was (its tensors, their values and its extra state) before the
        RuntimeError listing the problems is raised.

        ``assign=True`` makes the checkpoint's tensors the module's (their dtype kept; a parameter
        keeps its ``requires_grad``) instead of copying their values in.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata
        incompatible, problems = _IncompatibleKeys([], []), []
        before = _LoadUndo(self)
        try:
            _load_tree(self, state_dict, "", metadata, assign, incompatible, problems)
            if strict:
                problems = _key_problems(*incompatible) + problems
            if problems:
                raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(problems))
        except BaseException:
            before.restore()
            raise
        return incompatible

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        """Load this module's own parameters and persistent buffers (not its children's), as
        PyTorch's: called by ``load_state_dict`` for each module, parents first, with the entries
        under ``prefix`` (a copy it may change). Runs this module's load pre-hooks, then copies in
        the value of each entry (a lazy parameter first takes the checkpoint's shape; with
        ``local_metadata["assign_to_params_buffers"]`` the tensor itself is put in its place), and
        loads the extra state (``set_extra_state``). An absent key goes to ``missing_keys``; with
        ``strict``, a key under ``prefix`` naming neither an entry nor a child module goes to
        ``unexpected_keys``; a value it cannot load, to ``error_msgs``. A subclass may override it
        to adapt ``state_dict`` (rename the keys of an older layout...) and call ``super()``, or
        to load the values itself."""
        for hook in list(self._load_state_dict_pre_hooks.values()):
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        buffers = [(name, buffer) for name, buffer in self._buffers.items() if name not in self._non_persistent_buffers_set]
        local_state = {name: tensor for name, tensor in [*self._parameters.items(), *buffers] if tensor is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        swap = future.get_swap_module_params_on_conversion()
        for name, target in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if is_lazy(target) and isinstance(value, Tensor) and not is_lazy(value):
                target.materialize(value.shape)
            if isinstance(value, Tensor) and target.ndim == 0 and tuple(value.shape) == (1,):
                value = value[0]  # PyTorch 0.3's one-element vectors load into scalars
            problems = _value_problems(key, value, target)
            if problems:
                error_msgs += problems
                continue
            if is_lazy(target) and not assign:  # uninitialized into uninitialized: nothing to copy, it stays lazy
                continue
            try:
                with no_grad():
                    if swap:
                        _swap_in(target, value, assign)
                    elif not assign:
                        target.copy_(value)
                    elif isinstance(target, Parameter):
                        setattr(self, name, value.requires_grad_(target.requires_grad) if isinstance(value, Parameter)
                                else Parameter(value, requires_grad=target.requires_grad))
                    else:
                        setattr(self, name, value)
            except Exception as error:
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are {target.size()} and '
                    f"whose dimensions in the checkpoint are {value.size()}, an exception occurred : {error.args}."
                )
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if _overrides(self, "set_extra_state"):
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    first, dot, _ = key[len(prefix):].partition(".")
                    if first not in (self._modules if dot else local_state):
                        unexpected_keys.append(key)

    # ----------------------------------------------------------------- printing
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The settings printed inside the parentheses, e.g. ``in_features=4, out_features=8, bias=True``."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(module), 2) for name, module in self._modules.items()]
        return _tree_repr(self._get_name(), extra_lines, child_lines)


def _tree_repr(name, extra_lines, child_lines):
    """``Name(extra)`` on one line, or the settings and children one per line, as PyTorch prints."""
    lines = extra_lines + child_lines
    if not lines:
        return name + "()"
    if len(extra_lines) == 1 and not child_lines:
        return f"{name}({extra_lines[0]})"
    return name + "(\n  " + "\n  ".join(lines) + "\n)"


def _indent(text, spaces):
    """Indent every line of ``text`` but the first (nested modules print inside their parent)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


def _type_name(value):
    """How PyTorch's messages name a value's type: a tensor by its legacy type (chainrule.FloatTensor)."""
    return value.type() if isinstance(value, Tensor) and type(value) is Tensor else type(value).__name__


def _own_parameters(module):
    """``(name, parameter)`` of ``module``'s own parameters (None where one is registered as None)."""
    return module._parameters.items()


def _own_buffers(module):
    """``(name, buffer)`` of ``module``'s own buffers."""
    return module._buffers.items()
