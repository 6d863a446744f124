"""interpolate rounds as PyTorch's CPU kernels: the same float32 (and float64) bits forward and
backward for the linear, bicubic and nearest modes (each kernel's order of products and fused
multiply-adds), within a few ulps for the antialiased ones."""
import numpy as np
import pytest
import torch

import chainrule


def _resized(lib, x, grad, dtype, channels_last, arguments):
    input = lib.tensor(x, dtype=dtype)
    if channels_last:
        input = input.contiguous(memory_format=lib.channels_last if x.ndim == 4 else lib.channels_last_3d)
    input.requires_grad_(True)
    output = lib.nn.functional.interpolate(input, **arguments)
    output.backward(lib.tensor(grad, dtype=dtype))
    return np.asarray(output.detach().numpy()), np.asarray(input.grad.numpy())


# PyTorch's kernels round by the CPU's vector instructions (whether products are fused, how many
# channels a vector holds): the bits are compared on the CPUs chainrule's emulation was checked on.
CHECKED_CPU = torch.backends.cpu.get_cpu_capability() == chainrule.backends.cpu.get_cpu_capability() == "AVX512"


def _compare(shape, arguments, dtype="float32", channels_last=False, seed=0, exact=True):
    exact = exact and CHECKED_CPU
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    out_shape = tuple(torch.nn.functional.interpolate(torch.zeros(shape), **arguments).shape)
    grad = rng.standard_normal(out_shape)
    ours = _resized(chainrule, x, grad, getattr(chainrule, dtype), channels_last, arguments)
    theirs = _resized(torch, x, grad, getattr(torch, dtype), channels_last, arguments)
    for name, our, their in zip(("values", "gradient"), ours, theirs):
        if exact:
            np.testing.assert_array_equal(our, their, err_msg=f"{name}: {shape} {arguments}")
        else:
            np.testing.assert_allclose(our, their, rtol=2e-6, atol=1e-6, err_msg=f"{name}: {shape} {arguments}")


def test_the_probes_example():
    x = [[[[0.06725, 0.2], [0.3, 0.4]]]]
    ours = chainrule.nn.functional.interpolate(chainrule.tensor(x), size=(5, 7), mode="bilinear")
    theirs = torch.nn.functional.interpolate(torch.tensor(x), size=(5, 7), mode="bilinear")
    assert theirs.flatten()[2].item() == 0.09569643437862396
    if CHECKED_CPU:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-6, atol=1e-6)


CASES = [
    ((2, 3, 9), dict(size=20, mode="linear")),
    ((2, 3, 9), dict(scale_factor=0.63, mode="linear", align_corners=True)),
    ((2, 3, 7, 5), dict(size=(12, 9), mode="bilinear")),  # small output: the channels-last kernel
    ((2, 3, 30, 41), dict(scale_factor=(2.3, 1.9), mode="bilinear")),  # large output: the generic kernel
    ((1, 2, 50, 40), dict(size=(70, 65), mode="bilinear", align_corners=True)),
    ((1, 3, 9, 11), dict(scale_factor=0.57, mode="bilinear", recompute_scale_factor=True)),
    ((2, 2, 4, 5, 6), dict(size=(7, 3, 9), mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(scale_factor=(1.7, 2.2, 0.8), mode="trilinear", align_corners=True)),
    ((2, 3, 6, 7), dict(size=(11, 4), mode="bicubic")),
    ((1, 2, 9, 8), dict(scale_factor=(1.6, 2.4), mode="bicubic", align_corners=True)),
    ((2, 3, 5, 7), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 6, 4, 5), dict(size=(9, 3, 11), mode="nearest-exact")),
]


@pytest.mark.parametrize("shape, arguments", CASES)
def test_float32_bits_as_pytorch(shape, arguments):
    _compare(shape, arguments)


@pytest.mark.parametrize(
    "shape, arguments",
    [
        ((2, 16, 6, 5), dict(size=(9, 11), mode="bilinear")),  # whole vectors of channels
        ((1, 21, 6, 5), dict(scale_factor=1.7, mode="bilinear", align_corners=True)),  # vectors and the rest
        ((2, 5, 40, 30), dict(size=(90, 70), mode="bilinear")),  # more than 3 channels, laid out channels-last
        ((1, 18, 3, 4, 5), dict(size=(5, 6, 4), mode="trilinear")),
        ((1, 4, 5, 6), dict(size=(8, 9), mode="bicubic")),
    ],
)
def test_channels_last_bits_as_pytorch(shape, arguments):
    _compare(shape, arguments, channels_last=True)


@pytest.mark.parametrize("shape, arguments", [CASES[0], CASES[3], CASES[8], CASES[10]])
def test_float64_bits_as_pytorch(shape, arguments):
    _compare(shape, arguments, dtype="float64")


@pytest.mark.parametrize(
    "shape, arguments",
    [
        ((2, 3, 13, 11), dict(size=(5, 7), mode="bilinear", antialias=True)),
        ((1, 2, 12, 10), dict(scale_factor=0.45, mode="bicubic", antialias=True)),
        ((2, 5, 4, 6), dict(size=(7, 3), mode="bilinear")),  # float64 channels-last kernel: not yet its bits
    ],
)
def test_within_a_few_ulps_elsewhere(shape, arguments):
    _compare(shape, arguments, dtype="float64" if not arguments.get("antialias") else "float32", exact=False)


def test_float16_still_matches_pytorch_closely():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 6))
    for arguments in (dict(size=(9, 8), mode="bilinear"), dict(size=(7, 4), mode="bicubic")):
        ours = chainrule.nn.functional.interpolate(chainrule.tensor(x, dtype=chainrule.float16), **arguments)
        theirs = torch.nn.functional.interpolate(torch.tensor(x, dtype=torch.float16), **arguments)
        assert ours.dtype == chainrule.float16
        np.testing.assert_allclose(ours.numpy().astype(np.float32), theirs.numpy().astype(np.float32), rtol=2e-3, atol=2e-3)


def test_gradient_of_the_gradient_is_the_resize_again():
    names = []
    for lib in (chainrule, torch):
        x = lib.randn(1, 2, 4, 5, requires_grad=True)
        weights = lib.randn(1, 2, 7, 3, requires_grad=True)
        (grad,) = lib.autograd.grad((lib.nn.functional.interpolate(x, size=(7, 3), mode="bilinear") * weights).sum(), x, create_graph=True)
        names.append(type(grad.grad_fn).__name__)
    assert names[0] == names[1]
    x = chainrule.randn(1, 2, 4, 5, dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradgradcheck(lambda t: chainrule.nn.functional.interpolate(t, size=(7, 3), mode="bilinear"), [x])
