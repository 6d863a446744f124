"""Running the same module or function in chainrule and in PyTorch, from identical starting values.

``module_pair(make)`` builds ``make(chainrule)`` and ``make(torch)`` in float64 and copies PyTorch's
state dict into ours (so ``load_state_dict`` is exercised on every layer test). ``check_module``
then compares outputs, input gradients, parameter gradients and buffers.
"""
import numpy as np
import torch

import chainrule


def to_ours(value):
    return chainrule.tensor(value.detach().numpy().copy())


def module_pair(make):
    theirs = make(torch).double()
    ours = make(chainrule).double()
    ours.load_state_dict({key: to_ours(value) for key, value in theirs.state_dict().items()})
    return ours, theirs


def assert_close(ours, theirs, what, atol=1e-10, rtol=1e-7):
    expected = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    got = ours._array if isinstance(ours, chainrule.Tensor) else np.asarray(ours)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} vs torch {expected.shape}"
    np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol, err_msg=what)


def check_module(make, input_array, training=True, seed=0):
    """Same output, input gradient, parameter gradients and buffers as the torch.nn counterpart."""
    ours, theirs = module_pair(make)
    ours.train(training)
    theirs.train(training)
    differentiable = input_array.dtype.kind == "f"
    x_ours = chainrule.tensor(input_array.copy(), requires_grad=differentiable)
    x_theirs = torch.tensor(input_array.copy(), requires_grad=differentiable)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert_close(out_ours, out_theirs, "output")

    weights = np.random.default_rng(seed).standard_normal(tuple(out_theirs.shape))
    (out_ours * chainrule.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    if differentiable:
        assert_close(x_ours.grad, x_theirs.grad, "input gradient")
    their_parameters = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        reference = their_parameters[name].grad
        assert_close(parameter.grad, reference if reference is not None else torch.zeros_like(their_parameters[name]), f"gradient of {name}")
    their_buffers = dict(theirs.named_buffers())
    for name, buffer in ours.named_buffers():
        assert_close(buffer, their_buffers[name], f"buffer {name}")
    return ours, theirs


def normal(*shape, seed=0):
    """Standard normal float64 values of ``shape``, the same for a given seed."""
    return np.random.default_rng(seed).standard_normal(shape)


def error_of(call):
    """(exception type, message) of what ``call()`` raises, or None: for comparing errors with torch."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the tests compare whatever each library raises
        return type(error), str(error)
    return None


def structure(node, depth=4):
    """A graph as nested node names with each edge's output number, ``depth`` nodes deep (PyTorch's
    and chainrule's compare equal when their nodes and edges do)."""
    if node is None:
        return None
    if depth == 0:
        return type(node).__name__
    return (type(node).__name__, tuple((structure(child, depth - 1), number) for child, number in node.next_functions))
