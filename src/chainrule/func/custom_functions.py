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
  computes the result (``through_vmap_rule``).

Otherwise the Function runs as outside the transforms (``generate_vmap_rule``: once per element).

The Function a custom operator generates (``torch.library.custom_op``, ``batched_by_fallback``) is
an operator to the transforms: PyTorch's vmap runs an operator that has no batching rule once per
element through its fallback, beneath every vmap innermost among the transforms, so those vmaps do
not see it. Only the transforms outside them do: none, and the operator runs as outside the
transforms; a ``grad`` one, and it is refused as any Function in the old form, as in PyTorch. An
operator given a rule (``torch.library.register_vmap``) runs through it as a Function's ``vmap``.

A vmap rule ``rule(info, in_dims, *args) -> (output, out_dims)`` computes a whole batch at once.
chainrule's vmap calls the function once per batch element, so the rule gets each element as a
batch of one: every tensor argument batched at dimension 0 (``in_dims`` 0; None for the rest),
``info.batch_size`` 1, where PyTorch's rule gets the whole batch once. The element is taken back
out of each output at its ``out_dims`` entry (None: the output is not batched). The rule runs
beneath the innermost vmap, as PyTorch's: what it calls meets the transforms outside that vmap
(a custom operator called in it under an outer ``grad`` is refused, as in PyTorch), and what it
computes is recorded as any other operations, so an outer ``grad`` differentiates it.
"""
import sys
from collections import namedtuple
from contextlib import contextmanager

from chainrule.autograd import function as function_module
from chainrule.autograd.function import Function
from chainrule.tensor import Tensor
from chainrule.utils._pytree import broadcast_to_and_flatten, tree_flatten, tree_unflatten

#: What a ``vmap`` staticmethod gets as ``info``, as PyTorch's.
VmapInfo = namedtuple("VmapInfo", ["batch_size", "randomness"])

_running = []  # the transforms running, innermost last: ("grad" (any reverse-mode one) or "jvp" (forward mode), None) or ("vmap", its randomness)


@contextmanager
def transforming(transform, randomness=None):
    """Within the block, custom Functions follow the rules above for ``transform`` ("grad", "jvp"
    or "vmap", with vmap's ``randomness``)."""
    _running.append((transform, randomness if transform == "vmap" else None))
    _route_functions_here()
    try:
        yield
    finally:
        _running.pop()
        _route_functions_here()


def _route_functions_here():
    """Send ``Function.apply`` here while a transform runs, and nowhere when none does."""
    function_module._func_transforms = sys.modules[__name__] if _running else None


@contextmanager
def _beneath_innermost_vmap():
    """Within the block the innermost transform, a vmap, is not running (PyTorch's
    ``interpreter.lower()``): what a vmap rule calls meets the transforms outside it."""
    innermost = _running.pop()
    _route_functions_here()
    try:
        yield
    finally:
        _running.append(innermost)
        _route_functions_here()


def inside_vmap():
    """Whether a vmap is running: its function runs once per element, so a graph made outside it
    is walked once per element (a backward there keeps the graph, as PyTorch's one batched backward
    leaves it usable)."""
    return any(transform == "vmap" for transform, _ in _running)


def vmap_is_innermost():
    """Whether the innermost running transform is a vmap: an operator with a vmap rule runs
    through it (``through_vmap_rule``)."""
    return bool(_running) and _running[-1][0] == "vmap"


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
    if has_rule and vmap_is_innermost():
        return through_vmap_rule(cls.vmap, args, {}, lambda: cls.apply(*args))
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


def through_vmap_rule(rule, args, kwargs, unbatched_call):
    """What a batched function returns for the innermost vmap's element ``args`` (and ``kwargs``,
    which hold no tensors): ``rule(info, in_dims, *args, **kwargs)`` on the element as a batch of one,
    with the element taken out of its outputs (see the module's docstring). With no tensor among
    ``args`` nothing is batched, and ``unbatched_call()`` runs beneath the vmap instead, as PyTorch
    skips the rule."""
    leaves, spec = tree_flatten(args)
    in_dims = tree_unflatten([0 if isinstance(leaf, Tensor) else None for leaf in leaves], spec)
    batched = tree_unflatten([leaf.unsqueeze(0) if isinstance(leaf, Tensor) else leaf for leaf in leaves], spec)
    info = VmapInfo(batch_size=1, randomness=_running[-1][1])
    with _beneath_innermost_vmap():
        if not any(isinstance(leaf, Tensor) for leaf in leaves):
            return unbatched_call()
        result = rule(info, in_dims, *batched, **kwargs)
    return _element_of(result)


def _element_of(result):
    """Batch element 0 of a vmap rule's ``(output, out_dims)``; RuntimeError (PyTorch's words) when
    ``result`` is not such a pair or ``out_dims`` does not match ``output``'s structure."""
    expected = "Expected the vmap staticmethod to have two returns, an output and out_dims with pytree structure compatible with the output. "
    if not isinstance(result, tuple):
        raise RuntimeError(expected + f"Got a {type(result)} instead")
    if len(result) != 2:
        raise RuntimeError(expected + f"Got {len(result)} returns instead")
    output, out_dims = result
    outputs, spec = tree_flatten(output)
    dims = broadcast_to_and_flatten(out_dims, spec)
    if dims is None:
        raise RuntimeError(
            f"The autograd.Function's vmap staticmethod returned an incompatible (output, out_dims) tuple. Expected "
            f"out_dims={out_dims} to be compatible with the structure of `output`. out_dims has structure "
            f"{tree_flatten(out_dims)[1]} but output has structure {spec}. For more details, please see "
            f"https://pytorch.org/docs/main/notes/extending.func.html"
        )
    return tree_unflatten(
        [each.select(dim, 0) if isinstance(each, Tensor) and dim is not None else each for each, dim in zip(outputs, dims)], spec
    )
