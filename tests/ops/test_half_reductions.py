"""float16 reductions and scans against PyTorch, which accumulates half precision in float32 on
the CPU and rounds once to float16 (a float16 running sum of ones would stop at 2048).

Forward results must equal torch's to the bit, or within one float16 ulp where the two sum in a
different order; gradients within float16 rounding of the exact (float32) gradient, as torch's
own float16 gradients are. float32 results must stay what NumPy computes directly.
"""
import numpy as np
import pytest
import torch

import chainrule

HALF_EPS = float(np.finfo(np.float16).eps)

# name -> f(module, tensor, dim, keepdim), the same call on torch and on chainrule
REDUCTIONS = {
    "sum": lambda m, t, d, k: m.sum(t, d, keepdim=k),
    "mean": lambda m, t, d, k: m.mean(t, d, keepdim=k),
    "nansum": lambda m, t, d, k: m.nansum(t, d, keepdim=k),
    "nanmean": lambda m, t, d, k: m.nanmean(t, d, keepdim=k),
    "cumsum": lambda m, t, d, k: m.cumsum(t, d),
    "cumprod": lambda m, t, d, k: m.cumprod(t, d),
    "logsumexp": lambda m, t, d, k: m.logsumexp(t, d, keepdim=k),
    "logcumsumexp": lambda m, t, d, k: m.logcumsumexp(t, d),
    "norm": lambda m, t, d, k: m.norm(t, dim=d, keepdim=k),
    "norm_p1": lambda m, t, d, k: m.norm(t, p=1, dim=d, keepdim=k),
    "norm_p3": lambda m, t, d, k: m.norm(t, p=3, dim=d, keepdim=k),
    "vector_norm": lambda m, t, d, k: m.linalg.vector_norm(t, dim=d, keepdim=k),
    "var": lambda m, t, d, k: m.var(t, d, keepdim=k),
    "std": lambda m, t, d, k: m.std(t, d, keepdim=k),
    "var_mean.var": lambda m, t, d, k: m.var_mean(t, d, keepdim=k)[0],
    "var_mean.mean": lambda m, t, d, k: m.var_mean(t, d, keepdim=k)[1],
    "std_mean.std": lambda m, t, d, k: m.std_mean(t, d, keepdim=k)[0],
    "std_mean.mean": lambda m, t, d, k: m.std_mean(t, d, keepdim=k)[1],
    "softmax": lambda m, t, d, k: m.softmax(t, d),
    "log_softmax": lambda m, t, d, k: m.log_softmax(t, d),
}
# (shape, dim): long slices (where float16 accumulation saturates), contiguous and strided ones
CASES = [((10000, 3), 0), ((3, 5000), 1), ((40, 30, 7), 1), ((40, 30, 7), -1), ((6, 200), 0), ((5, 7), 1)]
SCALES = (1.0, 4.0, 300.0)  # 300: squares beyond float16's 65504


def ulps_apart(a, b):
    """The largest distance between a and b counted in float16 steps (nan equal to nan)."""
    a, b = np.asarray(a, np.float16), np.asarray(b, np.float16)
    ordered = [bits.astype(np.int32) for bits in (a.view(np.int16), b.view(np.int16))]
    ordered = [np.where(bits < 0, -32768 - bits, bits) for bits in ordered]  # monotone in the value
    distance = np.abs(ordered[0] - ordered[1])
    distance[np.isnan(a) & np.isnan(b)] = 0
    return int(distance.max()) if distance.size else 0


def half_input(shape, scale, seed):
    rng = np.random.default_rng(seed)
    return ((rng.random(shape) - 0.3) * scale).astype(np.float16)


def input_for(name, shape, scale, seed):
    """float16 input for ``name``: products of many numbers stay finite only near 1."""
    if name == "cumprod":
        rng = np.random.default_rng(seed)
        return (1 + (rng.random(shape) - 0.5) * 0.02 * min(1.0, 100 / max(shape))).astype(np.float16)
    return half_input(shape, scale, seed)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape, dim", CASES)
def test_float16_forward_matches_torch(name, shape, dim):
    f = REDUCTIONS[name]
    for seed, scale in enumerate(SCALES):
        array = input_for(name, shape, scale, seed)
        keepdim = bool(seed % 2)
        ours = f(chainrule, chainrule.tensor(array), dim, keepdim)
        assert ours.dtype == chainrule.float16
        if name == "log_softmax" and dim in (-1, len(shape) - 1):
            # torch's float16 kernel along the last dim loses digits near 0 (thousands of ulps);
            # the value it should give is its float32 result, rounded once
            expected = f(torch, torch.tensor(array.astype(np.float32)), dim, keepdim).half()
        else:
            expected = f(torch, torch.tensor(array), dim, keepdim)
        assert tuple(ours.shape) == tuple(expected.shape)
        assert ulps_apart(ours.numpy(), expected.numpy()) <= 1, (name, shape, dim, scale)


def test_the_reported_case_sums_past_2048():
    array = np.random.default_rng(0).random((10000, 2)).astype(np.float16)
    ours, theirs = chainrule.tensor(array).sum(0), torch.tensor(array).sum(0)
    assert np.array_equal(ours.numpy(), theirs.numpy())
    assert (ours.numpy() > 4000).all()


def test_float16_sums_have_torch_node_names():
    leaf = chainrule.tensor(np.ones((3, 2), np.float16), requires_grad=True)
    assert type(leaf.sum(0).grad_fn).__name__ == "SumBackward1"
    assert type(leaf.sum().grad_fn).__name__ == "SumBackward0"


def test_ones_are_counted_past_2048():
    ones = np.ones((5000, 2), np.float16)
    for name in ("sum", "nansum", "cumsum"):
        result = REDUCTIONS[name](chainrule, chainrule.tensor(ones), 0, False).numpy()
        assert result.reshape(-1)[-1] == 5000, name


def test_float16_prod_multiplies_in_float16_as_torch_does():
    """PyTorch's prod, unlike its sums, multiplies float16 in float16: so does ours."""
    array = (1 + (np.random.default_rng(3).random((300, 5)) - 0.5) * 0.01).astype(np.float16)
    ours, theirs = chainrule.tensor(array).prod(0), torch.tensor(array).prod(0)
    assert np.array_equal(ours.numpy(), theirs.numpy())


def float16_gradient_error(module, f, array, dim, grad_output, exact):
    """The largest error of f's float16 gradient in ``module`` (torch or chainrule), relative to the
    largest exact value."""
    leaf = module.tensor(array, requires_grad=True)
    f(module, leaf, dim, False).backward(module.tensor(grad_output))
    assert leaf.grad.dtype == module.float16
    return np.abs(leaf.grad.numpy().astype(np.float32) - exact).max() / max(float(np.abs(exact).max()), 1e-30)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape, dim", CASES)
def test_float16_gradient_within_rounding(name, shape, dim):
    """The float16 gradient is within float16 rounding of the exact one (torch's float32 gradient),
    or no further from it than torch's own float16 gradient (where a float16 output, rounded, enters
    the gradient: logsumexp's e^(x - out))."""
    f = REDUCTIONS[name]
    rng = np.random.default_rng(7)
    for scale in SCALES:
        array = input_for(name, shape, scale, int(scale))
        grad_output = rng.standard_normal(tuple(f(torch, torch.tensor(array), dim, False).shape)).astype(np.float16)
        exact_input = torch.tensor(array.astype(np.float32), requires_grad=True)
        f(torch, exact_input, dim, False).backward(torch.tensor(grad_output.astype(np.float32)))
        exact = exact_input.grad.numpy()
        ours = float16_gradient_error(chainrule, f, array, dim, grad_output, exact)
        theirs = float16_gradient_error(torch, f, array, dim, grad_output, exact)
        assert ours <= max(2 * HALF_EPS, 1.5 * theirs), (name, shape, dim, scale, ours, theirs)


# float32 goes the way it always went: NumPy's own computation, bit for bit (a running sum in float64, as
# PyTorch's CPU scans accumulate)
FLOAT32_REFERENCES = {
    "sum": lambda a, d: a.sum(axis=d, dtype=a.dtype),
    "mean": lambda a, d: a.sum(axis=d) / a.shape[d],
    "cumsum": lambda a, d: np.cumsum(a, axis=d, dtype=np.float64).astype(np.float32),  # PyTorch's CPU scans carry float64
    "var": lambda a, d: ((a - a.sum(axis=d, keepdims=True) / a.shape[d]) ** 2).sum(axis=d) / (a.shape[d] - 1),
    "norm": lambda a, d: np.sqrt(np.sum(np.abs(a) * np.abs(a), axis=d)),
    "softmax": lambda a, d: np.exp(a - a.max(d, keepdims=True)) / np.exp(a - a.max(d, keepdims=True)).sum(axis=d, keepdims=True),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_REFERENCES))
@pytest.mark.parametrize("shape, dim", CASES)
def test_float32_unchanged(name, shape, dim):
    array = half_input(shape, 4.0, 11).astype(np.float32)
    dim = dim % len(shape)
    ours = REDUCTIONS[name](chainrule, chainrule.tensor(array), dim, False)
    assert ours.dtype == chainrule.float32
    assert np.array_equal(ours.numpy(), FLOAT32_REFERENCES[name](array, dim))


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.rsqrt(x), lambda lib, x: lib.pow(x, -0.5), lambda lib, x: x**2, lambda lib, x: x**-2, lambda lib, x: x**3,
], ids=["rsqrt", "pow_-0.5", "square", "pow_-2", "cube"])
def test_float16_powers_are_rounded_once_as_pytorchs(call):
    """PyTorch's CPU kernels compute float16 in float32 and round once (chainrule's 1/√x rounded √x
    first: a quarter of the values were one step off). PyTorch's vectorized rsqrt is itself
    approximate: a few values in a thousand round the other way there."""
    values = (np.random.default_rng(0).random(2000) * 10 + 0.01).astype(np.float16)
    ours, theirs = (call(lib, lib.tensor(values)).numpy() for lib in (chainrule, torch))
    np.testing.assert_allclose(ours, theirs, rtol=1e-3)  # one float16 step at most
    assert (ours != theirs).mean() <= 0.002


@pytest.mark.parametrize("call", [
    lambda lib, x: x * 0.7, lambda lib, x: 1.702 * x, lambda lib, x: x / 0.7, lambda lib, x: 3.3 / x,
    lambda lib, x: x + 0.1, lambda lib, x: 0.3 - x, lambda lib, x: x - 1e-3, lambda lib, x: lib.mul(x, 0.2989),
    lambda lib, x: x.clone().mul_(0.9).add_(0.01), lambda lib, x: x.clone().div_(1.3).sub_(0.7), lambda lib, x: x * 1e5,
    lambda lib, x: x.mul(0.25).div(2.0),
], ids=["mul", "rmul", "div", "rdiv", "add", "rsub", "sub", "torch.mul", "in place mul add", "in place div sub", "overflow", "exact"])
def test_float16_with_a_python_float_is_computed_in_float32_as_pytorchs(call):
    """PyTorch multiplies a float16 tensor by 0.7 in float32, the number kept in float32, and rounds
    once (transformers' temperature, torchvision's grayscale weights); rounding 0.7 to float16
    first put a third of the products one step off. The gradient is computed so too. (A sum or a
    difference rounds the number to float16 first in PyTorch too.)"""
    values = ((np.random.default_rng(0).random(2000) - 0.5) * 20).astype(np.float16)
    results = {}
    for lib in (chainrule, torch):
        x = lib.tensor(values, requires_grad=True)
        y = call(lib, x)
        (y * lib.tensor(values)).sum().backward()
        results[lib] = y.detach().numpy(), y.dtype == lib.float16, x.grad.numpy(), type(y.grad_fn).__name__
    (ours, ours_half, our_grad, our_node), (theirs, their_half, their_grad, their_node) = results[chainrule], results[torch]
    assert ours_half and their_half and our_node == their_node
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(our_grad, their_grad)
