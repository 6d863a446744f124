"""The second-order check shared by the op families' tests: differentiate a recorded backward
(``create_graph=True``) once more and compare with PyTorch."""
import numpy as np
import torch

import chainrule


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
