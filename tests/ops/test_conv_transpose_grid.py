"""Convolutions against PyTorch over grids of their arguments: transposed convolutions with every
stride / padding / dilation / output_padding / groups combination (output_padding past the stride
included, which the dilation allows), grouped convolutions with padding='same', dilation and the
non-zero padding modes, and ConvolutionBackward0's ``next_functions``."""
import itertools
import random

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as F


def _transposed_cases(spatial, count, seed):
    """``count`` random argument sets of conv_transpose{spatial}d that PyTorch accepts."""
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        stride = tuple(rng.randint(1, 3) for _ in range(spatial))
        dilation = tuple(rng.randint(1, 3) for _ in range(spatial))
        padding = tuple(rng.randint(0, 2) for _ in range(spatial))
        output_padding = tuple(rng.randint(0, max(s, d) - 1) for s, d in zip(stride, dilation))
        groups = rng.choice([1, 2, 3])
        channels, per_group = groups * rng.randint(1, 2), rng.randint(1, 2)
        kernel = tuple(rng.randint(1, 3) for _ in range(spatial))
        size = tuple(rng.randint(1, 4) for _ in range(spatial))
        out = [(n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e in zip(size, stride, padding, dilation, kernel, output_padding)]
        if min(out) < 1:
            continue
        arguments = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
        cases.append(((2, channels) + size, (channels, per_group) + kernel, rng.random() < 0.5, arguments))
    return cases


TRANSPOSED = [(spatial, case) for spatial, count in ((1, 60), (2, 60), (3, 25)) for case in _transposed_cases(spatial, count, seed=spatial)]


def _pair(array, dtype=np.float64):
    return chainrule.tensor(array.astype(dtype), requires_grad=True), torch.tensor(array.astype(dtype), requires_grad=True)


@pytest.mark.parametrize("spatial, case", TRANSPOSED, ids=lambda value: str(value) if isinstance(value, int) else str(value[3]))
def test_transposed_convolution_matches_pytorch(spatial, case):
    input_shape, weight_shape, with_bias, arguments = case
    rng = np.random.default_rng(0)
    (x, tx), (w, tw) = _pair(rng.standard_normal(input_shape)), _pair(rng.standard_normal(weight_shape))
    b, tb = _pair(rng.standard_normal(weight_shape[1] * arguments["groups"]))
    name = f"conv_transpose{spatial}d"
    ours = getattr(F, name)(x, w, b if with_bias else None, **arguments)
    theirs = getattr(torch.nn.functional, name)(tx, tw, tb if with_bias else None, **arguments)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-10)
    weights = rng.standard_normal(tuple(theirs.shape))
    (ours * chainrule.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for mine, reference in ((x, tx), (w, tw)) + (((b, tb),) if with_bias else ()):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("name, arguments", [
    ("conv_transpose1d", dict(stride=1, output_padding=1, dilation=2)),
    ("conv_transpose2d", dict(stride=1, padding=1, output_padding=(1, 2), dilation=(2, 3), groups=2)),
    ("conv_transpose2d", dict(stride=(2, 1), padding=2, output_padding=(2, 1), dilation=(3, 2))),
    ("conv_transpose3d", dict(stride=1, output_padding=(0, 1, 2), dilation=(1, 2, 3))),
])
def test_output_padding_past_the_stride_differentiates_twice_as_pytorch(name, arguments):
    """The stride-1 case of the issue (the backward used to fail): gradients, the gradient of the
    gradients against PyTorch, and float64 finite differences."""
    spatial = int(name[-2])
    groups = arguments.get("groups", 1)
    rng = np.random.default_rng(1)
    (x, tx) = _pair(rng.standard_normal((2, 2 * groups) + (3,) * spatial))
    (w, tw) = _pair(rng.standard_normal((2 * groups, 2) + (2,) * spatial))
    ours = getattr(F, name)(x, w, **arguments)
    theirs = getattr(torch.nn.functional, name)(tx, tw, **arguments)
    weights = rng.standard_normal(tuple(theirs.shape))
    grads = chainrule.autograd.grad((ours * chainrule.tensor(weights)).sum(), (x, w), create_graph=True)
    their_grads = torch.autograd.grad((theirs * torch.tensor(weights)).sum(), (tx, tw), create_graph=True)
    for mine, reference in zip(grads, their_grads):
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), atol=1e-10)
    ((grads[0] ** 2).sum() + (grads[1] ** 3).sum()).backward()
    ((their_grads[0] ** 2).sum() + (their_grads[1] ** 3).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-9)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), atol=1e-9)
    inputs = (chainrule.tensor(x.detach().numpy(), requires_grad=True), chainrule.tensor(w.detach().numpy(), requires_grad=True))
    assert chainrule.autograd.gradcheck(lambda a, b: getattr(F, name)(a, b, **arguments), inputs)


def test_output_padding_past_the_stride_in_float32_and_unbatched():
    rng = np.random.default_rng(2)
    (x, tx), (w, tw) = _pair(rng.standard_normal((3, 4, 5)), np.float32), _pair(rng.standard_normal((3, 2, 3, 2)), np.float32)
    ours = F.conv_transpose2d(x, w, stride=1, output_padding=(1, 2), dilation=(2, 3))
    theirs = torch.nn.functional.conv_transpose2d(tx, tw, stride=1, output_padding=(1, 2), dilation=(2, 3))
    assert ours.dtype == chainrule.float32 and ours.shape == tuple(theirs.shape)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert x.grad.dtype == chainrule.float32 and w.grad.dtype == chainrule.float32


# ----------------------------------------------------------------------------- grouped, 'same', padding modes
def _layer_cases():
    rng = random.Random(4)
    cases = []
    for spatial, mode, same in itertools.product((1, 2, 3), ("zeros", "reflect", "replicate", "circular"), (True, False)):
        for _ in range(2 if spatial < 3 else 1):
            groups = rng.choice([2, 3])
            kernel = tuple(rng.randint(1, 4) for _ in range(spatial))  # reach d (k - 1) + 1 up to 7: inputs of 7
            dilation = tuple(rng.randint(1, 2) for _ in range(spatial))
            stride = (1,) * spatial if same else tuple(rng.randint(1, 2) for _ in range(spatial))
            padding = "same" if same else tuple(rng.randint(0, 2) for _ in range(spatial))
            arguments = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=mode)
            cases.append((spatial, groups * rng.randint(1, 2), groups * rng.randint(1, 2), rng.random() < 0.5, arguments))
    return cases


@pytest.mark.parametrize("spatial, in_channels, out_channels, bias, arguments", _layer_cases(), ids=str)
def test_grouped_convolution_layers_match_pytorch(spatial, in_channels, out_channels, bias, arguments):
    """Grouped Conv1d/2d/3d with dilation, 'same' padding (even kernels too) and every padding mode:
    outputs and the gradients of input, weight and bias."""
    rng = np.random.default_rng(5)
    theirs = getattr(torch.nn, f"Conv{spatial}d")(in_channels, out_channels, bias=bias, **arguments).double()
    ours = getattr(chainrule.nn, f"Conv{spatial}d")(in_channels, out_channels, bias=bias, **arguments).double()
    ours.load_state_dict({key: chainrule.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    x, tx = _pair(rng.standard_normal((2, in_channels) + (7,) * spatial))
    out, their_out = ours(x), theirs(tx)
    np.testing.assert_allclose(out.detach().numpy(), their_out.detach().numpy(), atol=1e-10)
    weights = rng.standard_normal(tuple(their_out.shape))
    (out * chainrule.tensor(weights)).sum().backward()
    (their_out * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-10)
    if bias:
        np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), atol=1e-10)


def test_grouped_same_convolution_with_dilation_passes_gradcheck():
    x = chainrule.randn(1, 4, 7, dtype=chainrule.float64, requires_grad=True)
    w = chainrule.randn(6, 2, 4, dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda a, b: F.conv1d(a, b, padding="same", dilation=3, groups=2), (x, w))


# ----------------------------------------------------------------------------- next_functions
def _edges(node):
    return [(type(next_node).__name__ if next_node is not None else None, output_nr) for next_node, output_nr in node.next_functions]


@pytest.mark.parametrize("bias, input_requires_grad", itertools.product((True, False), (True, False)))
@pytest.mark.parametrize("layer", ["Conv2d", "ConvTranspose2d", "Conv1d"])
def test_convolution_next_functions_list_an_absent_bias_as_pytorch(layer, bias, input_requires_grad):
    """ConvolutionBackward0 has three edges, input, weight, bias: ``(None, 0)`` for a bias=False
    layer or an input that needs no gradient; and calling the node gives None there."""
    results = []
    for library in (torch, chainrule):
        module = getattr(library.nn, layer)(2, 3, 3, bias=bias)
        x = library.randn((1, 2, 5, 5) if layer.endswith("2d") else (1, 2, 5), requires_grad=input_requires_grad)
        out = module(x)
        grads = out.grad_fn(library.ones_like(out))
        results.append((type(out.grad_fn).__name__, _edges(out.grad_fn), [None if grad is None else tuple(grad.shape) for grad in grads]))
    assert results[0] == results[1]
