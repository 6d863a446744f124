"""Comparing a chainrule distribution with PyTorch's: the same parameters (float64, requires_grad)
in both libraries, a quantity computed from each (log_prob, entropy, kl...), its values, and the
gradients of a random weighting of it with respect to every parameter."""
import numpy as np
import torch

import chainrule


def compare_with_torch(quantity, parameters, rtol=1e-10, atol=1e-12, seed=0):
    """``quantity(lib, *parameter_tensors)`` -> tensor, in chainrule and in torch: values, and the
    gradients of Σ w · quantity (random w) for each parameter array in ``parameters``."""
    results = {}
    for lib in (chainrule, torch):
        tensors = [lib.tensor(np.array(array, dtype=np.float64), requires_grad=True) for array in parameters]
        out = quantity(lib, *tensors)
        weights = lib.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape)))
        finite = np.isfinite(out.detach().numpy())
        grads = [np.zeros(np.shape(array)) for array in parameters]
        if out.requires_grad and finite.all():
            found = lib.autograd.grad((out * weights).sum(), tensors, allow_unused=True)
            grads = [g.numpy() if g is not None else np.zeros(tuple(t.shape)) for g, t in zip(found, tensors)]
        results[lib] = (out.detach().numpy(), grads)
    (ours, our_grads), (theirs, their_grads) = results[chainrule], results[torch]
    assert ours.shape == theirs.shape, f"shape {ours.shape} vs torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)
    for position, (mine, reference) in enumerate(zip(our_grads, their_grads)):
        np.testing.assert_allclose(mine, reference, rtol=rtol * 100, atol=atol * 100, err_msg=f"gradient of parameter {position}")


def second_derivatives(lib, quantity, parameters, seed):
    """d/dθ Σ v · (d/dθ Σ w · quantity): the gradient's own gradient, with random weights v and w."""
    tensors = [lib.tensor(np.array(array, dtype=np.float64), requires_grad=True) for array in parameters]
    out = quantity(lib, *tensors)
    rng = np.random.default_rng(seed)
    first = lib.autograd.grad((out * lib.tensor(rng.standard_normal(tuple(out.shape)))).sum(), tensors, create_graph=True, allow_unused=True)
    total = sum((grad * lib.tensor(rng.standard_normal(tuple(grad.shape)))).sum() for grad in first if grad is not None)
    return [grad.detach().numpy() if grad is not None else None for grad in lib.autograd.grad(total, tensors, allow_unused=True)]


def compare_second_order_with_torch(quantity, parameters, rtol=1e-8, seed=0):
    ours = second_derivatives(chainrule, quantity, parameters, seed)
    theirs = second_derivatives(torch, quantity, parameters, seed)
    for position, (mine, reference) in enumerate(zip(ours, theirs)):
        if reference is None:
            assert mine is None or not np.any(mine), f"parameter {position}: torch has no second derivative"
            continue
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=1e-10, err_msg=f"second derivative of parameter {position}")
