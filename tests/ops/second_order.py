"""The second-order check of an op table: gradients of gradients (``create_graph=True``) compared
with PyTorch's, for every entry.

For an entry's output y, random weights w and v, the first gradient g = d/dx Σ w·y² runs each
operation's backward on tensors, recorded; the second, d/dx Σ v·g, differentiates through that
recorded backward. Squaring y makes g depend on x even for operations that are linear in x.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import make_inputs


def second_derivatives(lib, case, arrays, seed):
    differentiable = case.differentiable or [True] * len(arrays)
    inputs = [lib.tensor(array.copy(), requires_grad=flag) for array, flag in zip(arrays, differentiable)]
    wrt = [tensor for tensor, flag in zip(inputs, differentiable) if flag]
    out = (case.ours if lib is chainrule else case.theirs)(*inputs)
    if not out.requires_grad:
        return None
    weights = lib.tensor(np.random.default_rng(seed + 1).standard_normal(tuple(out.shape)))
    first = lib.autograd.grad((out * out * weights).sum(), wrt, create_graph=True, allow_unused=True)
    rng = np.random.default_rng(seed + 2)
    # A gradient that has no graph (of an empty input, say) adds nothing to the second derivative.
    terms = [(grad * lib.tensor(rng.standard_normal(tuple(grad.shape)))).sum() for grad in first if grad is not None and grad.requires_grad]
    if not terms:
        return None
    second = lib.autograd.grad(sum(terms), wrt, allow_unused=True)
    return [np.zeros(tuple(x.shape)) if grad is None else grad.detach().numpy() for x, grad in zip(wrt, second)]


def check_second_order(case, shapes, seed=0):
    arrays = make_inputs(shapes, seed, case.domain)
    ours = second_derivatives(chainrule, case, arrays, seed)
    theirs = second_derivatives(torch, case, arrays, seed)
    if theirs is None:
        return
    assert ours is not None, f"{case.name}: no second derivative, where PyTorch has one"
    for position, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(mine, reference, atol=case.atol, rtol=case.rtol, err_msg=f"{case.name} second derivative, input {position}")


def second_order_test(cases, max_examples=4):
    """The test that runs ``check_second_order`` on every entry of an op table."""

    @pytest.mark.parametrize("case", cases, ids=repr)
    @settings(max_examples=max_examples, deadline=None)
    @given(data=st.data())
    def test_second_order(case, data):
        shapes = data.draw(case.shapes, label="shapes")
        check_second_order(case, shapes, seed=data.draw(st.integers(0, 2**16), label="seed"))

    return test_second_order


def assert_second_order_matches_torch(name, call, arrays, atol=1e-10, seed=9):
    """``call(lib, *tensors)`` in chainrule and PyTorch: the gradients of
    Σ_k x_k · g_k² + Σ g_k³, with g = d Σ weights · out / d inputs taken with create_graph, agree.

    Both terms matter: ``x · g²`` needs the recorded backward even where g is constant in x (a
    kink's second derivative is 0), ``g³`` differentiates g itself.
    """
    results = []
    for lib in (chainrule, torch):
        inputs = [lib.tensor(array.copy(), requires_grad=True) for array in arrays]
        out = call(lib, *inputs)
        weights = lib.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape)))
        firsts = lib.autograd.grad((out * weights).sum(), inputs, create_graph=True)
        total = sum((x * g * g).sum() + (g * g * g).sum() for x, g in zip(inputs, firsts))
        results.append([second.detach().numpy() for second in lib.autograd.grad(total, inputs)])
    for position, (ours, theirs) in enumerate(zip(*results)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=atol, err_msg=f"{name}: input {position}")
