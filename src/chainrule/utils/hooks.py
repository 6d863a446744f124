"""Hook registries and the handle that takes a hook out again, as ``torch.utils.hooks``.

Every place that keeps hooks (a tensor's ``register_hook``, a module's forward, backward and
state-dict hooks) keeps them in an ``OrderedDict`` from a handle's ``id`` to the hook, called in
that order; ``prepend=True`` moves a new hook to the front. The handle removes its hook from that
registry, and from the registries of its flags (``with_kwargs``, ``always_call``), by id.
"""
import weakref
from collections import OrderedDict

__all__ = ["BackwardHook", "RemovableHandle", "unserializable_hook"]  # BackwardHook: set by nn/backward_hooks.py


class RemovableHandle:
    """Returned by every ``register_*hook``: ``remove()`` unregisters the hook; used as a context
    manager (``with module.register_forward_hook(hook):``) it removes it at the end of the block.

    ``id`` is the hook's key in its registry, taken from the class counter ``next_id``, so ids are
    unique across every kind of hook. The handle holds the registries weakly: removing a hook of a
    module that is gone does nothing. ``extra_dict`` is one more registry, or a list of them, that
    the id is removed from too. Pickled (or deep-copied), a handle takes its registries along, as
    PyTorch's: the copy removes its hook from the copied registry."""

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extras = (extra_dict,) if isinstance(extra_dict, dict) else extra_dict if isinstance(extra_dict, list) else ()
        self.extra_dict_ref = tuple(weakref.ref(extra) for extra in extras)

    def remove(self):
        for reference in (self.hooks_dict_ref, *self.extra_dict_ref):
            registry = reference()
            if registry is not None:
                registry.pop(self.id, None)

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(reference() for reference in self.extra_dict_ref))

    def __setstate__(self, state):
        registry = state[0]
        self.hooks_dict_ref = weakref.ref(OrderedDict() if registry is None else registry)  # dead when gone
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        extras = state[2] if len(state) > 2 and state[2] is not None else ()
        self.extra_dict_ref = tuple(weakref.ref(extra) for extra in extras)

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.remove()


def unserializable_hook(hook):
    """Mark ``hook`` as one that is not meant to be saved with its tensor
    (``hook.__torch_unserializable__ = True``), which silences PyTorch's warning on saving a tensor
    that has hooks. Returns ``hook`` itself: use it as a decorator."""
    hook.__torch_unserializable__ = True
    return hook


def add_hook(registry, hook, prepend=False, flags=()):
    """Put ``hook`` in ``registry`` (last, or first with ``prepend``), and its id in each registry of
    ``flags`` (``_forward_hooks_with_kwargs``...); returns the handle that removes it from all."""
    handle = RemovableHandle(registry, extra_dict=list(flags))
    registry[handle.id] = hook
    if prepend:
        registry.move_to_end(handle.id, last=False)
    for flag in flags:
        flag[handle.id] = True
    return handle


def through_hooks(registry, value, *leading, check=None):
    """``value`` passed through the hooks of ``registry`` in turn, each called as
    ``hook(*leading, value)``: one that returns something replaces it for the next, after
    ``check(hook, replacement, value)`` when given (which raises for a replacement not allowed)."""
    for hook in list(registry.values()):
        replacement = hook(*leading, value)
        if replacement is not None:
            if check is not None:
                check(hook, replacement, value)
            value = replacement
    return value


def hook_registry():
    """A new, empty registry of hooks."""
    return OrderedDict()


class WatchedHooks(OrderedDict):
    """A registry of hooks that a compiled program would have to run (a module's, a leaf tensor's):
    each hook added or removed counts in ``WatchedHooks.changes``, which every compiled function
    checks before it replays, so that a hook registered after the recording is not skipped."""

    changes = 0

    def __repr__(self):  # printed as PyTorch's registries print (module._forward_pre_hooks)
        return repr(OrderedDict(self))

    def __reduce__(self):
        """Pickled as PyTorch pickles its registries, a plain OrderedDict (which ``torch.load``'s
        weights_only unpickler allows, and PyTorch can load); the module's or optimizer's
        ``__setstate__`` makes it a watched one again."""
        return OrderedDict, (), None, None, iter(self.items())

    def __setitem__(self, key, value):
        WatchedHooks.changes += 1
        super().__setitem__(key, value)

    def __delitem__(self, key):
        WatchedHooks.changes += 1
        super().__delitem__(key)

    def pop(self, key, *default):
        if key in self:
            WatchedHooks.changes += 1
        return super().pop(key, *default)

