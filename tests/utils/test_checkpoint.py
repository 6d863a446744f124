"""torch.utils.checkpoint: the same outputs and gradients as without it, the forward recomputed in
backward with the same random state, and PyTorch's warnings and errors."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.utils.checkpoint import checkpoint, checkpoint_sequential


def model():
    chainrule.manual_seed(0)
    return chainrule.nn.Sequential(
        chainrule.nn.Linear(4, 8), chainrule.nn.Tanh(), chainrule.nn.Dropout(0.5), chainrule.nn.Linear(8, 3), chainrule.nn.Sigmoid()
    ).double()


def gradients(run):
    """Output and gradients (parameters, then input) of ``run(net, x)``, with the same random draws."""
    net = model()
    x = chainrule.tensor(np.random.default_rng(7).standard_normal((5, 4)), requires_grad=True)
    chainrule.manual_seed(1)
    output = run(net, x)
    output.pow(2).sum().backward()
    return [output.detach()] + [parameter.grad for parameter in net.parameters()] + [x.grad]


@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("preserve_rng_state", [True, False])
def test_same_outputs_and_gradients(use_reentrant, preserve_rng_state):
    expected = gradients(lambda net, x: net(x))
    got = gradients(lambda net, x: checkpoint(net, x, use_reentrant=use_reentrant, preserve_rng_state=preserve_rng_state))
    if not preserve_rng_state:  # dropout draws other masks when recomputed: only the output agrees
        expected, got = expected[:1], got[:1]
    for ours, reference in zip(got, expected):
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-12)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_sequential(use_reentrant):
    expected = gradients(lambda net, x: net(x))
    for segments in (1, 2, 5):
        got = gradients(lambda net, x: checkpoint_sequential(net, segments, x, use_reentrant=use_reentrant))
        for ours, reference in zip(got, expected):
            np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-12)


def test_the_forward_runs_again_in_backward():
    calls = []

    def segment(x):
        calls.append(1)
        return x.sin() * 2

    x = chainrule.randn(3, requires_grad=True)
    out = checkpoint(segment, x, use_reentrant=False)
    assert len(calls) == 1
    out.sum().backward()
    assert len(calls) == 2
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(x.detach().numpy()), rtol=1e-6)


def test_keyword_arguments_and_several_outputs():
    x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    first, second, label = checkpoint(lambda x, scale=1.0: (x * scale, x.exp(), "label"), x, use_reentrant=False, scale=3.0)
    assert label == "label"
    (first.sum() + second.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + np.exp(x.detach().numpy()))
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda x, scale=1.0: x, x, use_reentrant=True, scale=3.0)


def test_warnings_as_pytorch():
    x = chainrule.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda x: x * 2, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(lambda x: x * 2, chainrule.randn(3), use_reentrant=True)
    assert not out.requires_grad
    tx = torch.randn(3)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        assert not torch.utils.checkpoint.checkpoint(lambda x: x * 2, tx, use_reentrant=True).requires_grad


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_the_recomputation_casts_as_the_autocast_forward_did(use_reentrant):
    # PyTorch replays the forward's autocast state in the recomputation: float16 products inside
    # the checkpoint give the gradients of the same region run without checkpointing.
    def gradients(checkpointed):
        chainrule.manual_seed(0)
        layer = chainrule.nn.Linear(4, 3)
        x = chainrule.randn(2, 4, requires_grad=True)
        with chainrule.autocast("cpu", dtype=chainrule.float16):
            run = lambda t: layer(t).relu()  # noqa: E731
            y = checkpoint(run, x, use_reentrant=use_reentrant) if checkpointed else run(x)
        assert y.dtype == chainrule.float16
        y.float().sum().backward()
        return x.grad.numpy(), layer.weight.grad.numpy()

    for plain, checkpointed in zip(gradients(False), gradients(True)):
        np.testing.assert_array_equal(checkpointed, plain)
