"""Forward-mode automatic differentiation, as ``torch.autograd.forward_ad``.

Reverse mode (``backward``) sends one gradient from the output back to every input: one pass gives
a whole row of the Jacobian, ∂loss/∂x for every x. Forward mode sends a *tangent* t (a direction
in input space) forward with the values: one pass gives one column-combination of the Jacobian,
J·t, the directional derivative of every output. Each operation y = f(x) carries its inputs'
tangents to its output as

    ṫ_y = Σ_i (∂f/∂x_i) · t_i            (the chain rule, read forward)

::

    import chainrule.autograd.forward_ad as fwAD

    with fwAD.dual_level():
        x = fwAD.make_dual(primal, tangent)     # x carries (value, direction)
        y = f(x)                                # every operation carries the tangent along
        jvp = fwAD.unpack_dual(y).tangent       # J · tangent, without a backward pass

A tensor holding a tangent is a *dual tensor*; tangents live only inside ``dual_level()`` (they are
dropped when it ends) and, as in PyTorch, grad mode does not stop them, ``detach()`` drops them, and
an in-place operation updates its tensor's tangent.

chainrule's operations declare their backward (vᵀ J), not their J·t. The tangent of each operation
is computed from the backward, exactly: vᵀ J is linear in v, so J·t is the gradient with respect to
v of ⟨vᵀ J, t⟩, one recorded backward and one backward more (it costs a few times the operation). A
custom ``Function`` that defines ``jvp(ctx, *tangents)`` is used as it is, with what its forward
kept on ctx (``ctx.save_for_forward``).
"""
import sys
import weakref
from collections import namedtuple

from chainrule.autograd import function as function_module
from chainrule.autograd import grad_mode
from chainrule.autograd.backward_pass import grad
from chainrule.autograd.function import Function
from chainrule.creation import zeros_like
from chainrule.random import default_generator
from chainrule.tensor import Tensor

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_levels = []  # the dual levels entered (at most one: PyTorch has no nested forward AD yet)
_tangents = {}  # id(tensor) -> (weak reference to the tensor, its tangent), in the current level
_current_level = -1  # the level entered (0), -1 outside any: PyTorch's module attribute, which code reads


# ----------------------------------------------------------------------------- levels
def enter_dual_level():
    """Start a level in which tensors may carry tangents; returns its number (0)."""
    global _current_level
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append(0)
    _current_level = 0
    return 0


def exit_dual_level(*, level=None):
    """End the current level: every tangent made in it is dropped."""
    global _current_level
    if not _levels:
        raise RuntimeError("Dual level must be a positive number (no forward AD level is entered to exit)")
    if level is not None and level != _levels[-1]:
        raise RuntimeError(
            f"Trying to exit a forward AD level that was not the last one that was created. This is not supported. "
            f"(level {level}, the last one {_levels[-1]})"
        )
    _levels.pop()
    _current_level = -1
    _tangents.clear()
    function_module._forward_ad = None


class dual_level:  # noqa: N801 (PyTorch's name)
    """``with dual_level():`` tangents live within the block (the level number is ``as``'s value)."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exception):
        exit_dual_level()


# ----------------------------------------------------------------------------- dual tensors
def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` (the same values and memory, its own graph node if any) that carries
    ``tangent``, a tensor of its shape: the direction forward mode differentiates along."""
    if not _levels:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
        )
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual(): expected two tensors, got {type(tensor).__name__} and {type(tangent).__name__}")
    if tensor._array.dtype.kind != "f":
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if tangent._array.dtype.kind != "f":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent_of(tangent) is not None:
        raise RuntimeError(
            "Setting a forward grad that itself has a forward gradient at the same level0 is not supported. "
            "(Pass the tangent's primal: fwAD.unpack_dual(tangent).primal.)"
        )
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"Trying to set a forward gradient that has a different size than that of the original Tensor, "
            f"this is not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient "
            f"is of size {list(tangent.shape)}."
        )
    dual = tensor.view_as(tensor)
    set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)``: a view of ``tensor`` without tangent, and its tangent (None when it
    carries none, or outside the level)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type(tensor).__name__}")
    found = tangent_of(tensor)
    if found is None:
        return UnpackedDualTensor(tensor, None)
    carrier, function_module._forward_ad = function_module._forward_ad, None  # the view is no dual tensor
    try:
        primal = tensor.view_as(tensor)
    finally:
        function_module._forward_ad = carrier
    return UnpackedDualTensor(primal, found)


def tangent_of(tensor):
    """The tangent ``tensor`` carries in the current level, or None."""
    entry = _tangents.get(id(tensor))
    return None if entry is None or entry[0]() is not tensor else entry[1]


def set_tangent(tensor, tangent):
    """Let ``tensor`` carry ``tangent`` (None: none) in the current level."""
    key = id(tensor)
    if tangent is None:
        _forget(key)
        return
    _tangents[key] = (weakref.ref(tensor, lambda _, key=key: _forget(key)), tangent)
    function_module._forward_ad = sys.modules[__name__]


def _forget(key):
    """Drop the tangent kept under ``key``; with none left, operations take their plain path again."""
    _tangents.pop(key, None)
    if not _tangents:
        function_module._forward_ad = None


def tangent_moved(source, target):
    """An in-place operation wrote ``source``'s values into ``target``: its tangent goes too."""
    set_tangent(target, tangent_of(source))


# ----------------------------------------------------------------------------- carrying tangents through operations
def carry_tangents(cls, args):
    """``cls.apply(*args)`` when some tensor carries a tangent: the outputs, each given the tangent
    Σ_i J_i t_i of the inputs' tangents t_i, from ``cls.jvp`` for a custom Function (which raises
    NotImplementedError when it has none, as PyTorch's) and from the backward of chainrule's own
    operations."""
    tangents = [tangent_of(arg) if isinstance(arg, Tensor) else None for arg in args]
    function_module._forward_ad = None  # what runs below carries no tangent
    try:
        if all(tangent is None for tangent in tangents):
            return cls.apply(*args)
        if cls.on_arrays and not _defines_jvp(cls):
            outputs, output_tangents = _through_backward(cls, args, tangents)
        else:
            outputs, output_tangents = _through_jvp(cls, args, tangents)
    finally:
        function_module._forward_ad = sys.modules[__name__] if _tangents else None
    for output, tangent in zip(outputs if type(outputs) is tuple else (outputs,), output_tangents):
        if isinstance(output, Tensor) and output._array.dtype.kind == "f":
            set_tangent(output, tangent)
    return outputs


def _defines_jvp(cls):
    return getattr(cls, "jvp", Function.jvp) is not Function.jvp


def _through_backward(cls, args, tangents):
    """The outputs, and J·t computed from the backward: with v a zero cotangent that requires grad,
    ⟨vᵀ J, t⟩ is linear in v and its gradient with respect to v is J·t. The operation runs a
    second time for this, on clones (an in-place operation must not write twice), drawing the
    same random numbers (a dropout's tangent uses the output's mask). The tangents are themselves
    differentiable, as PyTorch's, when an input or a tangent requires grad."""
    differentiable = grad_mode._state.enabled and any(
        isinstance(value, Tensor) and value.requires_grad for value in (*args, *tangents)
    )
    with grad_mode.enable_grad():
        copies = [arg.clone() if isinstance(arg, Tensor) else arg for arg in args]
    random_state = default_generator.state_bytes()
    outputs = cls.apply(*args)
    after = default_generator.state_bytes()
    default_generator.set_state(random_state)
    with grad_mode.enable_grad():
        dual = []
        for copy, tangent in zip(copies, tangents):
            if tangent is not None:
                dual.append(copy if copy.requires_grad else copy.requires_grad_())
        again = cls.apply(*copies)
        default_generator.set_state(after)
        again = again if type(again) is tuple else (again,)
        floating = [output for output in again if isinstance(output, Tensor) and output.requires_grad]
        cotangents = [zeros_like(output).requires_grad_() for output in floating]
        vjps = grad(floating, dual, cotangents, create_graph=True, allow_unused=True) if floating else ()
        inner = None  # ⟨vᵀ J, t⟩ summed over the inputs that carry a tangent
        for vjp, tangent in zip(vjps, [tangent for tangent in tangents if tangent is not None]):
            if vjp is not None:
                term = (vjp * tangent.to(vjp.dtype)).sum()
                inner = term if inner is None else inner + term
        products = [None] * len(cotangents)
        if inner is not None and inner.requires_grad:
            products = grad(inner, cotangents, create_graph=differentiable, allow_unused=True)
    by_output = iter(zip(cotangents, products))
    output_tangents = []
    for output in again:
        if isinstance(output, Tensor) and output.requires_grad:
            cotangent, product = next(by_output)
            product = zeros_like(cotangent) if product is None else product
            output_tangents.append(product if differentiable else product.detach())
        else:
            output_tangents.append(None)
    return outputs, output_tangents


class _JvpContext:
    """The ctx a custom Function's ``jvp`` sees: its forward's ctx, whose ``saved_tensors`` are
    what forward passed to ``save_for_forward``."""

    def __init__(self, ctx):
        object.__setattr__(self, "_ctx", ctx)

    @property
    def saved_tensors(self):
        return self._ctx.__dict__.get("_kept_for_forward", ())

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    def __setattr__(self, name, value):
        setattr(self._ctx, name, value)

    def __delattr__(self, name):
        delattr(self._ctx, name)


def _through_jvp(cls, args, tangents):
    """The outputs of a custom Function and the tangents its ``jvp(ctx, *tangents)`` gives (zeros
    for floating tensor inputs without a tangent, None for the others: integers, numbers; None for
    all of them after ``ctx.set_materialize_grads(False)``, as PyTorch), with the ctx its forward
    filled."""
    outputs, ctx = cls.apply_keeping_context(args)
    materialize = ctx is None or ctx.materialize_grads
    given = [
        tangent if tangent is not None or not materialize
        else zeros_like(arg) if isinstance(arg, Tensor) and arg._array.dtype.kind in "fc" else None
        for arg, tangent in zip(args, tangents)
    ]
    result = cls.jvp(_JvpContext(ctx), *given)
    result = result if type(result) is tuple else (result,)
    count = len(outputs) if type(outputs) is tuple else 1
    if len(result) != count:
        raise RuntimeError(f"{cls.__name__}.jvp returned {len(result)} tangents for {count} outputs")
    return outputs, list(result)


# PyTorch's public names (``from torch.autograd.forward_ad import *`` brings these and no helper of this file's)
__all__ = [
    "UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level",
]
