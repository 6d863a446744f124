"""``ModuleTracker``, as ``torch.utils.module_tracker``: which modules are running now, in forward
and in backward, by their qualified names::

    with ModuleTracker() as tracker:
        model(x)          # inside Sequential.0's forward, tracker.parents is
                          # {"Global", "Sequential", "Sequential.0"}

A module is named after its class, its children after it with a dot (``Sequential.0``,
``TransformerEncoderLayer.self_attn``), the name the module was first reached by. Forward is
tracked by hooks every module runs (``register_module_forward_pre_hook``); backward by gradient
hooks on each module's outputs (the module enters once all their gradients are in) and inputs (it
leaves once theirs are), as PyTorch's. A module whose inputs need no gradient (the first layer)
never leaves in backward: ``parents`` goes back to ``{"Global"}`` when the backward pass ends.
``FlopCounterMode`` files its counts under these names.
"""
import logging
import weakref

from chainrule.autograd.engine import BackwardPass
from chainrule.autograd.graph import register_multi_grad_hook
from chainrule.autograd.variable import Variable
from chainrule.nn.module import register_module_forward_hook, register_module_forward_pre_hook
from chainrule.tensor import Tensor
from chainrule.utils._pytree import tree_flatten

__all__ = ["ModuleTracker"]

logger = logging.getLogger(__name__)


class ModuleTracker:
    """A context manager whose ``parents`` is the set of the names of the modules running now,
    always with ``"Global"``; ``is_bw`` says whether a backward pass is running."""

    def __init__(self):
        self.parents = {"Global"}
        self._known_modules = weakref.WeakKeyDictionary()
        self._seen_modules = weakref.WeakSet()
        self._has_callback = False
        self._hooks = []

    def _maybe_set_engine_callback(self):
        """Once per backward pass: back to ``{"Global"}`` when it ends (one pass at a time)."""
        if self._has_callback:
            return

        def callback():
            self.parents = {"Global"}
            self._has_callback = False

        Variable._execution_engine.queue_callback(callback)
        self._has_callback = True

    @property
    def is_bw(self):
        """Whether a backward pass is running now."""
        return BackwardPass.current is not None

    def _get_mod_name(self, mod):
        if mod not in self._known_modules:
            self._known_modules[mod] = type(mod).__name__
        mod_name = self._known_modules[mod]
        if mod not in self._seen_modules:
            for name, submod in mod.named_children():
                self._known_modules[submod] = f"{mod_name}.{name}"
                self._get_mod_name(submod)
            self._seen_modules.add(mod)
        return mod_name

    def _get_append_fn(self, name, is_bw):
        def fn(*args):
            if is_bw:
                self._maybe_set_engine_callback()
            if name in self.parents:
                logger.info(
                    "The module hierarchy tracking seems to be broken as this Module was already entered. %s during %s",
                    name,
                    "backward" if is_bw else "forward",
                )
            self.parents.add(name)

        return fn

    def _get_pop_fn(self, name, is_bw):
        def fn(*args):
            if name in self.parents:
                self.parents.remove(name)
            else:
                logger.info(
                    "The Module hierarchy tracking is confused as we're exiting a Module that was never entered. %s during %s",
                    name,
                    "backward" if is_bw else "forward",
                )

        return fn

    def _fw_pre_hook(self, mod, input):
        name = self._get_mod_name(mod)
        self._get_append_fn(name, False)()
        tensors = _tensors_requiring_grad(input)
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors, self._get_pop_fn(name, True)))

    def _fw_post_hook(self, mod, input, output):
        name = self._get_mod_name(mod)
        self._get_pop_fn(name, False)()
        tensors = _tensors_requiring_grad(output)
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors, self._get_append_fn(name, True)))

    def __enter__(self):
        self._fw_pre_handle = register_module_forward_pre_hook(self._fw_pre_hook)
        self._fw_post_handle = register_module_forward_hook(self._fw_post_hook)
        return self

    def __exit__(self, *args):
        self._fw_pre_handle.remove()
        self._fw_post_handle.remove()
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()


def _tensors_requiring_grad(tree):
    leaves, _ = tree_flatten(tree)
    return [leaf for leaf in leaves if isinstance(leaf, Tensor) and leaf.requires_grad]
