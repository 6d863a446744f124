"""The top-level ATen forms (``torch.native_layer_norm``, ``torch.native_dropout``, ``torch.ctc_loss``,
``torch.grid_sampler``...) compared with PyTorch's: every output's values, shape, dtype and whether
it has a gradient, the gradients through them, and a float64 finite-difference check."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import gradcheck

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5))


def native_layer_norm(t, x):
    return t.native_layer_norm(x, [5], t.ones(5, dtype=x.dtype) * 1.5, t.zeros(5, dtype=x.dtype) + 0.25, 1e-5)


def native_layer_norm_last_two(t, x):
    return t.native_layer_norm(x, [4, 5], None, None, 1e-3)


def native_batch_norm_training(t, x):
    running_mean, running_var = t.zeros(4, dtype=x.dtype), t.ones(4, dtype=x.dtype)
    outputs = t.native_batch_norm(x, t.full((4,), 2.0, dtype=x.dtype), None, running_mean, running_var, True, 0.1, 1e-5)
    return (*outputs, running_mean, running_var)


def native_batch_norm_evaluation(t, x):
    running_mean, running_var = t.full((4,), 0.5, dtype=x.dtype), t.full((4,), 2.0, dtype=x.dtype)
    return t.native_batch_norm(x, None, None, running_mean, running_var, False, 0.1, 1e-5)


def native_group_norm(t, x):
    return t.native_group_norm(x.reshape(3, 4, 5), None, None, 3, 4, 5, 2, 1e-5)


CALLS = {
    "native_layer_norm": native_layer_norm,
    "native_layer_norm over two dims": native_layer_norm_last_two,
    "native_batch_norm in training": native_batch_norm_training,
    "native_batch_norm in evaluation": native_batch_norm_evaluation,
    "native_group_norm": native_group_norm,
    "native_dropout without train": lambda t, x: t.native_dropout(x, 0.3, False),
    "ctc_loss, each sample's": lambda t, x: t.ctc_loss(x.log_softmax(2), t.tensor([[1, 2], [1, 1], [3, 3], [2, 4]]), [3, 3, 2, 3], [2, 1, 1, 2]),
    "ctc_loss summed": lambda t, x: t.ctc_loss(x.log_softmax(2), t.tensor([[1, 2], [1, 1], [3, 3], [2, 4]]), [3, 3, 2, 3], [2, 1, 1, 2], 0, 2),
    "grid_sampler bilinear, border": lambda t, x: t.grid_sampler(x[None, :, :, :4], t.tanh(x[:1, :, :4].reshape(1, 2, 4, 2) * 3), 0, 1, False),
    "grid_sampler_2d nearest, reflection": lambda t, x: t.grid_sampler_2d(x[None, :, :, :4], t.tanh(x[:1, :, :4].reshape(1, 2, 4, 2)), 1, 2, True),
    "affine_grid_generator": lambda t, x: t.affine_grid_generator(x[:2, :2, :3], [2, 1, 3, 4], False),
    "segment_reduce": lambda t, x: t.segment_reduce(x[0], "max", lengths=t.tensor([1, 0, 3])),
}


def as_tensors(lib, outputs):
    return outputs if isinstance(outputs, tuple) else (outputs,)


@pytest.mark.parametrize("name", list(CALLS))
def test_outputs_and_gradients_are_pytorchs(name):
    results = {}
    for lib in (chainrule, torch):
        x = lib.tensor(X, requires_grad=True)
        outputs = as_tensors(lib, CALLS[name](lib, x))
        differentiable = [out for out in outputs if out.requires_grad]
        if differentiable:
            sum(out.double().sum() * (index + 1) for index, out in enumerate(differentiable)).backward()
        results[lib] = outputs, x.grad
    (ours, our_grad), (theirs, their_grad) = results[chainrule], results[torch]
    assert len(ours) == len(theirs)
    for mine, pytorchs in zip(ours, theirs):
        assert tuple(mine.shape) == tuple(pytorchs.shape)
        assert str(mine.dtype).split(".")[-1] == str(pytorchs.dtype).split(".")[-1]
        assert mine.requires_grad == pytorchs.requires_grad
        np.testing.assert_allclose(mine.detach().numpy(), pytorchs.detach().numpy(), rtol=1e-6, atol=1e-8)
    assert (our_grad is None) == (their_grad is None)
    if their_grad is not None:
        np.testing.assert_allclose(our_grad.numpy(), their_grad.numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["native_layer_norm", "native_batch_norm in training", "native_group_norm", "grid_sampler bilinear, border"])
def test_finite_differences(name):
    def differentiable_outputs(x):
        return tuple(out for out in as_tensors(chainrule, CALLS[name](chainrule, x)) if out.requires_grad)

    assert gradcheck(differentiable_outputs, (chainrule.tensor(X, requires_grad=True),))


def test_native_dropout_draws_as_dropout_and_returns_its_mask():
    x = RNG.standard_normal((6, 7)).astype(np.float32)
    for lib in (chainrule, torch):
        lib.manual_seed(5)
        output, mask = lib.native_dropout(lib.tensor(x), 0.4, None)  # no train given: in training
        lib.manual_seed(5)
        dropped = lib.nn.functional.dropout(lib.tensor(x), 0.4)
        assert mask.dtype == lib.bool
        np.testing.assert_array_equal(output.numpy(), dropped.numpy())
        np.testing.assert_array_equal(mask.numpy(), dropped.numpy() != 0)
    chainrule.manual_seed(1)
    torch.manual_seed(1)
    np.testing.assert_array_equal(chainrule.native_dropout(chainrule.tensor(x), 0.4, True)[1].numpy(), torch.native_dropout(torch.tensor(x), 0.4, True)[1].numpy())


def test_in_place_forms_write_into_their_first_argument():
    for lib in (chainrule, torch):
        a = lib.tensor([4, 6, 0])
        assert lib.gcd_(a, lib.tensor([6, 9, 5])) is a and a.tolist() == [2, 3, 5]
        assert lib.lcm_(a, lib.tensor([4, 2, 0])) is a and a.tolist() == [4, 6, 0]
        b = lib.arange(6.0)
        assert lib.as_strided_(b, (2, 2), (1, 2)) is b and b.tolist() == [[0.0, 2.0], [1.0, 3.0]]
        c = lib.tensor([1 + 2j])
        assert lib.conj_physical_(c) is c and c.tolist() == [1 - 2j]
        weight = lib.ones(4, 3)
        assert lib.embedding_renorm_(weight, lib.tensor([0, 2]), 1.0, 2.0) is weight
        np.testing.assert_allclose(weight.sum(1).numpy(), [3 / (3**0.5 + 1e-7), 3, 3 / (3**0.5 + 1e-7), 3], rtol=1e-6)
        lib.manual_seed(0)
        d = lib.ones(2, 3, 4)
        assert lib.feature_dropout_(d, 0.5, True) is d
        assert set(d.unique().tolist()) <= {0.0, 2.0}


def test_names_beside_them():
    assert chainrule.newaxis is None
    capsule = chainrule.to_dlpack(chainrule.arange(3.0))
    assert type(capsule).__name__ == "PyCapsule"
    assert torch.from_dlpack(capsule).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match="native_group_norm|elements"):
        chainrule.native_group_norm(chainrule.ones(2, 4, 3), None, None, 2, 4, 5, 2, 1e-5)
