"""torch.special where chainrule once parted from PyTorch: gammainc/gammaincc (the same functions
as torch.igamma/igammac), the exception type of the derivatives PyTorch lacks, xlog1py at a nan,
digamma at -0. Values, dtypes, gradients and exceptions against PyTorch; float64 finite differences."""
import math

import numpy as np
import pytest
import torch

import chainrule

LIBRARIES = (chainrule, torch)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.special.zeta(x, lib.tensor(2.0, dtype=x.dtype)),
        lambda lib, x: lib.special.gammainc(x, lib.tensor(2.0, dtype=x.dtype)),
        lambda lib, x: lib.special.gammaincc(x, lib.tensor(2.0, dtype=x.dtype)),
        lambda lib, x: lib.distributions.Gamma(x, 1.0).cdf(lib.tensor(0.5, dtype=x.dtype)),
    ],
)
def test_derivatives_pytorch_lacks_raise_not_implemented(call):
    messages = []
    for lib in LIBRARIES:
        with pytest.raises(NotImplementedError) as error:
            call(lib, lib.tensor([2.5], dtype=lib.float64, requires_grad=True)).sum().backward()
        messages.append(str(error.value))
    assert messages[0].startswith(messages[1].rstrip("."))


def test_gammainc_is_igamma_with_its_checks_and_gradient_in_x():
    a, x = np.array([0.5, 1.0, 2.0, 7.5]), np.array([0.3, 1.0, 4.0, 6.0])
    grads = []
    for lib in LIBRARIES:
        x_tensor = lib.tensor(x, requires_grad=True)
        lower, upper = lib.special.gammainc(lib.tensor(a), x_tensor), lib.special.gammaincc(lib.tensor(a), x_tensor)
        assert str(lower.dtype).endswith("float64")
        grads.append(lib.autograd.grad((lower * 2 + upper).sum(), x_tensor)[0].numpy())
        np.testing.assert_allclose(lower.detach().numpy(), lib.igamma(lib.tensor(a), lib.tensor(x)).numpy(), rtol=0)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)
    assert chainrule.autograd.gradcheck(lambda x: chainrule.special.gammaincc(chainrule.tensor(a), x),
                                        (chainrule.tensor(x, requires_grad=True),))
    for lib in LIBRARIES:
        with pytest.raises(TypeError):
            lib.special.gammainc(lib.tensor([1.0]), 2.0)
        with pytest.raises(NotImplementedError):
            lib.special.gammainc(lib.tensor([1]), lib.tensor([2]))


def test_xlog1py_is_nan_where_other_is_nan_even_at_zero():
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, np.nan])
    y = np.array([np.nan, -1.0, 3.0, np.nan, -0.5, 0.0])
    ours, theirs = (lib.special.xlog1py(lib.tensor(x), lib.tensor(y)).numpy() for lib in LIBRARIES)
    np.testing.assert_array_equal(ours, theirs)
    grads = []
    for lib in LIBRARIES:
        x_tensor = lib.tensor([0.0, 0.0, 0.0, 1.0], requires_grad=True)
        y_tensor = lib.tensor([0.5, -1.0, -2.0, 3.0], requires_grad=True)
        grads.append([g.numpy() for g in lib.autograd.grad(lib.special.xlog1py(x_tensor, y_tensor).sum(), [x_tensor, y_tensor])])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, equal_nan=True)
    finite_x, finite_y = np.array([0.0, 1.0, -2.0]), np.array([0.5, 2.0, 3.0])
    assert chainrule.autograd.gradcheck(
        chainrule.special.xlog1py, (chainrule.tensor(finite_x, requires_grad=True), chainrule.tensor(finite_y, requires_grad=True))
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_digamma_takes_the_limit_from_the_side_of_a_signed_zero(dtype):
    values = [0.0, -0.0, 1e-30, -1.5, 1.0, math.inf, -math.inf, math.nan]
    ours, theirs = (lib.special.digamma(lib.tensor(values, dtype=getattr(lib, dtype))).numpy() for lib in LIBRARIES)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours[0] == -math.inf and ours[1] == math.inf
