"""torch.distributions where chainrule once parted from PyTorch: Beta.mode outside a, b > 1 and the
deprecated sample_n."""
import numpy as np
import pytest
import torch

import chainrule

LIBRARIES = (chainrule, torch)


def test_beta_mode_is_the_dirichlet_modes_first_coordinate():
    a = [0.5, 2.0, 0.5, 1.0, 3.0, 1.0, 2.5]
    b = [2.0, 0.5, 0.5, 1.0, 1.0, 0.7, 4.0]
    ours, theirs = (lib.distributions.Beta(lib.tensor(a), lib.tensor(b)).mode.numpy() for lib in LIBRARIES)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, equal_nan=True)


def test_beta_mode_gradient_where_interior():
    a, b = np.array([2.0, 3.5]), np.array([4.0, 1.5])
    grads = []
    for lib in LIBRARIES:
        tensors = [lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)]
        grads.append([g.numpy() for g in lib.autograd.grad(lib.distributions.Beta(*tensors).mode.sum(), tensors)])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    assert chainrule.autograd.gradcheck(
        lambda a, b: chainrule.distributions.Beta(a, b).mode,
        (chainrule.tensor(a, requires_grad=True), chainrule.tensor(b, requires_grad=True)),
    )


def test_sample_n_warns_and_samples_n():
    for lib in LIBRARIES:
        with pytest.warns(FutureWarning, match=r"sample_n\(n\)` will be deprecated"):
            samples = lib.distributions.Normal(lib.zeros(2), 1.0).sample_n(3)
        assert tuple(samples.shape) == (3, 2)
