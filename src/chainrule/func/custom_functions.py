"""Custom ``autograd.Function``s called under the ``torch.func`` transforms, with PyTorch's rules.

While a transform runs its function (``transforming``), ``Function.apply`` of a custom Function
comes here (``apply``):

- a Function in the old form (``forward(ctx, ...)``, no ``setup_context``) is refused, under every
  transform, as PyTorch refuses it;
- under ``vmap`` (anywhere among the running transforms) a Function needs vmap support: its ``vmap``
  staticmethod or ``generate_vmap_rule=True``, else RuntimeError;
- under a forward-mode transform (``jvp``, ``jacfwd``, ``hessian``'s outer one, ``linearize``) a
  Function needs its ``jvp`` staticmethod, else NotImplementedError, as in PyTorch (chainrule
  computes those transforms by reverse mode, so the ``jvp`` itself is not what runs);
- when ``vmap`` is the innermost transform and the Function has a ``vmap`` staticmethod, that rule
  computes the result. chainrule's vmap calls the function once per batch element, so the rule gets
  each element as a batch of one (every tensor argument batched at dimension 0) and the element is
  taken back out of its result. What the rule computes is recorded as any other operations, so
  an outer ``grad`` differentiates it, as PyTorch's does.

Otherwise the Function runs as outside the transforms (``generate_vmap_rule``: once per element).

The Function a custom operator generates (``torch.library.custom_op``, ``batched_by_fallback``) is
an operator to the transforms: PyTorch's vmap runs an operator that has no batching rule once per
element through its fallback, beneath every vmap innermost among the transforms, so those vmaps do
not see it. Only the transforms outside them do: none, and the operator runs as outside the
transforms; a ``grad`` one, and it is refused as any Function in the old form, as in PyTorch.
"""
import sys
from collections import namedtuple
from contextlib import contextmanager

from chainrule.autograd import function as function_module
from chainrule.autograd.function import Function
from chainrule.tensor import Tensor

#: What a ``vmap`` staticmethod gets as ``info``, as PyTorch's.
VmapInfo = namedtuple("VmapInfo", ["batch_size", "randomness"])

_running = []  # the transforms running, innermost last: ("grad" (any reverse-mode one) or "jvp" (forward mode), None) or ("vmap", its randomness)


@contextmanager
def transforming(transform, randomness=None):
    """Within the block, custom Functions follow the rules above for ``transform`` ("grad", "jvp"
    or "vmap", with vmap's ``randomness``)."""
    _running.append((transform, randomness if transform == "vmap" else None))
    function_module._func_transforms = sys.modules[__name__]
    try:
        yield
    finally:
        _running.pop()
        function_module._func_transforms = sys.modules[__name__] if _running else None


def inside_vmap():
    """Whether a vmap is running: its function runs once per element, so a graph made outside it
    is walked once per element (a backward there keeps the graph, as PyTorch's one batched backward
    leaves it usable)."""
    return any(transform == "vmap" for transform, _ in _running)


def apply(cls, args):
    """``cls.apply(*args)`` for a custom Function called under the running transforms."""
    running = _running
    if getattr(cls, "batched_by_fallback", False):
        running = _without_innermost_vmaps(_running)
        if not running:
            return _applied_outside_transforms(cls.apply, *args)
    if cls.setup_context is Function.setup_context:
        raise RuntimeError(
            "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, ...), it must "
            "override the setup_context staticmethod. For more details, please see "
            "https://pytorch.org/docs/main/notes/extending.func.html"
        )
    has_rule = cls.vmap is not Function.vmap
    if not has_rule and not cls.generate_vmap_rule and any(kind == "vmap" for kind, _ in running):
        raise RuntimeError(
            f"You tried to vmap over {cls.__name__}, but it does not have vmap support. Please override and implement "
            f"the vmap staticmethod or set generate_vmap_rule=True. For more details, please see "
            f"https://pytorch.org/docs/main/notes/extending.func.html"
        )
    if cls.jvp is Function.jvp and any(kind == "jvp" for kind, _ in running):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it with forward mode AD.")
    kind, randomness = running[-1]
    if kind == "vmap" and has_rule:
        return _applied_outside_transforms(_through_vmap_rule, cls, args, randomness)
    return _applied_outside_transforms(cls.apply, *args)


def _without_innermost_vmaps(running):
    """The transforms ``running`` less the vmaps innermost among them."""
    end = len(running)
    while end and running[end - 1][0] == "vmap":
        end -= 1
    return running[:end]


def _applied_outside_transforms(function, *args):
    """``function(*args)``, in which a custom Function's apply is no longer this Function's own
    call under the transforms: it runs as outside them."""
    function_module._func_transforms = None
    try:
        return function(*args)
    finally:
        function_module._func_transforms = sys.modules[__name__]


def _through_vmap_rule(cls, args, randomness):
    """``cls.vmap`` on ``args`` as a batch of one, and the element taken out of what it returns."""
    in_dims = tuple(0 if isinstance(arg, Tensor) else None for arg in args)
    batched = [arg.unsqueeze(0) if isinstance(arg, Tensor) else arg for arg in args]
    output, out_dims = cls.vmap(VmapInfo(1, randomness), in_dims, *batched)
    if type(output) is not tuple:
        return output if out_dims is None else output.squeeze(out_dims)
    if not isinstance(out_dims, tuple):
        out_dims = (out_dims,) * len(output)
    return tuple(each if dim is None else each.squeeze(dim) for each, dim in zip(output, out_dims))
