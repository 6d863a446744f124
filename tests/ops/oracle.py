"""The checks every operation passes: float64 finite differences and agreement with PyTorch.

An entry of an op table is an ``OpCase``: a chainrule function, the PyTorch function it mirrors, and
a strategy for input shapes. ``check_case`` draws inputs, then

1. compares the forward values with PyTorch's,
2. compares the gradients of ``(output * weights).sum()`` (random weights, so that every output
   element matters differently) with PyTorch's,
3. runs ``chainrule.autograd.gradcheck`` in float64 (central differences).
"""
import os
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from hypothesis import strategies as st

import chainrule


@dataclass
class OpCase:
    name: str
    ours: Callable  # f(*chainrule_tensors) -> chainrule tensor
    theirs: Callable  # f(*torch_tensors) -> torch tensor
    shapes: st.SearchStrategy  # draws a tuple of input shapes
    domain: Callable = None  # maps a float64 NumPy array into the op's domain (e.g. positive)
    differentiable: Sequence[bool] = None  # which inputs get gradients (default: all)
    gradcheck: bool = True
    atol: float = 1e-5
    rtol: float = 1e-4
    extra: dict = field(default_factory=dict)

    def __repr__(self):
        return self.name


def sizes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def one_shape(**kwargs):
    """A single input of any shape (0-d and size-1 dimensions included)."""
    return sizes(**kwargs).map(lambda shape: (shape,))


@st.composite
def broadcast_pair(draw, max_dims=3):
    """Two shapes that broadcast together: one may have fewer dims or size-1 dims."""
    full = draw(sizes(0, max_dims))
    def shrink(shape):
        dropped = draw(st.integers(0, len(shape)))
        return tuple(1 if draw(st.booleans()) else side for side in shape[dropped:])
    first, second = (full, shrink(full)) if draw(st.booleans()) else (shrink(full), full)
    return first, second


@st.composite
def broadcast_triple(draw, max_dims=3):
    first, second = draw(broadcast_pair(max_dims))
    third = draw(broadcast_pair(max_dims))[1][: len(first)]
    return first, second, tuple(third) if len(third) <= len(first) else first


@st.composite
def broadcast_group(draw, count=3, max_dims=3):
    """``count`` shapes that all broadcast to the first one (the others may drop or shrink dims)."""
    full = draw(sizes(0, max_dims))
    shapes = [full]
    for _ in range(count - 1):
        dropped = draw(st.integers(0, len(full)))
        shapes.append(tuple(1 if draw(st.booleans()) else side for side in full[dropped:]))
    return tuple(shapes)


def make_inputs(shapes, seed, domain=None):
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        array = rng.standard_normal(shape)
        if domain is not None:
            array = domain(array)
        arrays.append(np.asarray(array, dtype=np.float64))
    return arrays


def check_case(case, shapes, seed=0):
    arrays = make_inputs(shapes, seed, case.domain)
    differentiable = case.differentiable or [True] * len(arrays)

    ours = [chainrule.tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, differentiable)]
    theirs = [torch.tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, differentiable)]
    our_out = case.ours(*ours)
    their_out = case.theirs(*theirs)
    assert tuple(our_out.shape) == tuple(their_out.shape), f"{case.name}: shape {tuple(our_out.shape)} vs torch {tuple(their_out.shape)}"
    np.testing.assert_allclose(our_out._array, their_out.detach().numpy(), atol=case.atol, rtol=case.rtol, err_msg=f"{case.name} forward")

    if not any(differentiable) or not their_out.requires_grad:
        return
    weights = np.random.default_rng(seed + 1).standard_normal(our_out.shape)
    (our_out * chainrule.tensor(weights)).sum().backward()
    (their_out * torch.tensor(weights)).sum().backward()
    for position, (mine, reference) in enumerate(zip(ours, theirs)):
        if not differentiable[position]:
            continue
        expected = reference.grad.numpy() if reference.grad is not None else np.zeros(reference.shape)
        got = mine.grad._array if mine.grad is not None else np.zeros(mine.shape)
        np.testing.assert_allclose(got, expected, atol=case.atol, rtol=case.rtol, err_msg=f"{case.name} grad of input {position}")

    if case.gradcheck:
        fresh = [chainrule.tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, differentiable)]
        assert gradcheck(case.ours, fresh, eps=1e-6, atol=1e-5, rtol=1e-3)


#: Up to how many variables (input elements that require grad, plus output elements) gradcheck
#: builds the Jacobians in full, element by element: that costs two calls per input element and two
#: backward passes per output element. Larger ones are checked through random directions
#: (``fast_mode``), as PyTorch's own CI checks its operators; ``CHAINRULE_FULL_GRADCHECK=1`` builds
#: every one in full, as PyTorch's slow-gradcheck job does.
FULL_JACOBIAN_VARIABLES = 96
FULL_GRADCHECK = bool(os.environ.get("CHAINRULE_FULL_GRADCHECK"))


def gradcheck(fn, inputs, **kwargs):
    """``chainrule.autograd.gradcheck``, in full for small functions and in fast mode for large ones."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    outputs = fn(*inputs)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    variables = sum(value.numel() for value in (*inputs, *outputs) if isinstance(value, chainrule.Tensor) and value.requires_grad)
    fast = not FULL_GRADCHECK and variables > FULL_JACOBIAN_VARIABLES
    return chainrule.autograd.gradcheck(fn, inputs, fast_mode=fast, **kwargs)


def both(function, *values, dtype="float32"):
    """Run ``function(lib, *tensors)`` with chainrule and torch, returning both libraries' tensors."""
    ours = [chainrule.tensor(v, dtype=getattr(chainrule, dtype), requires_grad=True) for v in values]
    theirs = [torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for v in values]
    return (function(chainrule, *ours), ours), (function(torch, *theirs), theirs)


def library_case(name, fn, shapes, **kwargs):
    """An OpCase that runs one function, ``fn(library, *inputs)``, with ``chainrule`` and with ``torch``.

    For ops whose call differs only by the module: ``library_case("cat", lambda lib, a, b: lib.cat([a, b]), ...)``.
    """
    return OpCase(name, partial(fn, chainrule), partial(fn, torch), shapes, **kwargs)


def table_test(cases, max_examples=10):
    """The test that runs ``check_case`` on every entry of an op table: ``test_op = table_test(CASES)``."""

    @pytest.mark.parametrize("case", cases, ids=repr)
    @settings(max_examples=max_examples, deadline=None)
    @given(data=st.data())
    def test_op(case, data):
        shapes = data.draw(case.shapes, label="shapes")
        check_case(case, shapes, seed=data.draw(st.integers(0, 2**16), label="seed"))

    return test_op


# Imported here, below the original harness, so that the lines above it stay as they were.
from functools import partial  # noqa: E402

import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
