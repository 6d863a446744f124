"""float16 convolutions, attention and arithmetic with a number computed as PyTorch's CPU kernels
compute them: in float32, rounded to float16 once (ops/half_precision.py). Composed of float16
NumPy steps (a bias added after rounding, depthwise taps summed in float16, a 0-d float32 divisor
rounded to float16 first) a third of the elements or more were a float16 step off PyTorch's."""
import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as CF
import torch.nn.functional as TF


def _run(lib, function, arrays, grad_seed=5, differentiable=np.float16):
    """function(lib, *tensors) and the gradients of its float16 (``differentiable``) inputs for one
    random output gradient."""
    tensors = [lib.tensor(array, requires_grad=array.dtype == differentiable) for array in arrays]
    output = function(lib, *tensors)
    grad = np.random.default_rng(grad_seed).standard_normal(output.shape).astype(np.float16)
    output.backward(lib.tensor(grad).to(output.dtype))
    return [output.detach().numpy()] + [tensor.grad.numpy() for tensor in tensors if tensor.grad is not None]


def _assert_same_bits(function, arrays, gradients_summed_otherwise=False, kernel_varies_by_cpu=False):
    """The same float16 bits as PyTorch, forward and backward; ``gradients_summed_otherwise``: a
    gradient summed over many terms in another order may be a float16 step off in a few places.

    Which kernel PyTorch's CPU build takes depends on the CPU: on an AVX-512 Xeon without
    AVX512-FP16 its oneDNN convolution accumulates the float16 input gradient in float16 (up to ~80
    float16 steps from the exact value) and its 3-d attention is not its float32 math rounded once.
    With ``kernel_varies_by_cpu``, where PyTorch's float16 result is not its own float32 result
    rounded once, chainrule's (which rounds once, everywhere) is compared with that float32 result
    rounded once instead."""
    expected, got = _run(torch, function, arrays), _run(chainrule, function, arrays)
    assert len(expected) == len(got)
    if kernel_varies_by_cpu:
        wide = _run(torch, function, [array.astype(np.float32) if array.dtype == np.float16 else array for array in arrays],
                    differentiable=np.float32)
        rounded_once = [value.astype(np.float16) for value in wide]
        expected = [once if np.mean(want != once) >= 0.02 else want for want, once in zip(expected, rounded_once)]
    for index, (want, have) in enumerate(zip(expected, got)):
        assert have.dtype == want.dtype
        if index and gradients_summed_otherwise:
            steps = np.abs(have.astype(np.float64) - want) / np.spacing(np.abs(want))
            assert np.mean(have != want) < 0.02 and steps.max() <= 1
        else:
            np.testing.assert_array_equal(have, want)


def _halves(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float16) for shape in shapes]


CONVOLUTIONS = {
    "conv2d_bias": (lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding=1), [(1, 4, 8, 8), (8, 4, 3, 3), (8,)]),
    "conv1d_bias_strided": (lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, padding=1, stride=2), [(2, 4, 20), (6, 4, 3), (6,)]),
    "conv2d_groups": (lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, stride=2, groups=2), [(2, 4, 9, 9), (6, 2, 3, 3), (6,)]),
    "depthwise": (lambda lib, x, w: lib.nn.functional.conv2d(x, w, groups=3, padding=1), [(2, 3, 10, 10), (3, 1, 3, 3)]),
    "depthwise_dilated_bias": (
        lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, groups=3, padding=2, dilation=2), [(2, 3, 10, 10), (6, 1, 3, 3), (6,)]
    ),
    "depthwise_1d": (lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, groups=4), [(2, 4, 30), (4, 1, 5), (4,)]),
    "conv_transpose2d": (lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w), [(2, 4, 6, 6), (4, 3, 3, 3)]),
    "conv_transpose2d_strided_bias": (
        lambda lib, x, w, b: lib.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        [(1, 4, 5, 5), (4, 3, 3, 3), (3,)],
    ),
    "conv_transpose2d_depthwise": (lambda lib, x, w, b: lib.nn.functional.conv_transpose2d(x, w, b, groups=4), [(2, 4, 6, 6), (4, 1, 3, 3), (4,)]),
    "conv_transpose1d": (lambda lib, x, w, b: lib.nn.functional.conv_transpose1d(x, w, b, stride=3), [(2, 4, 7), (4, 5, 3), (5,)]),
    "conv3d_bias": (lambda lib, x, w, b: lib.nn.functional.conv3d(x, w, b), [(1, 2, 5, 5, 5), (3, 2, 2, 2, 2), (3,)]),
}


@pytest.mark.parametrize("name", sorted(CONVOLUTIONS))
def test_convolution_rounds_once_as_pytorch(name):
    function, shapes = CONVOLUTIONS[name]
    arrays = _halves(0, *shapes)
    _assert_same_bits(function, arrays, gradients_summed_otherwise=True, kernel_varies_by_cpu=True)
    # and the float32 convolution rounded to float16
    wide = function(chainrule, *[chainrule.tensor(array).float() for array in arrays]).half()
    np.testing.assert_array_equal(function(chainrule, *[chainrule.tensor(array) for array in arrays]).numpy(), wide.numpy())


def test_float32_convolution_is_unchanged():
    x, w, b = (chainrule.tensor(array.astype(np.float32), requires_grad=True) for array in _halves(1, (2, 3, 8, 8), (3, 1, 3, 3), (3,)))
    output = CF.conv2d(x, w, b, padding=1, groups=3)
    assert output.dtype == chainrule.float32 and type(output.grad_fn).__name__ == "ConvolutionBackward0"
    assert type(CF.conv2d(x.half(), w.half(), b.half(), groups=3).grad_fn).__name__ == "ConvolutionBackward0"


ATTENTION = {
    "3d": ([(3, 8, 16), (3, 10, 16), (3, 10, 12)], {}),
    "4d": ([(2, 3, 8, 16), (2, 3, 10, 16), (2, 3, 10, 16)], {}),
    "causal": ([(2, 3, 8, 16), (2, 3, 8, 16), (2, 3, 8, 16)], {"is_causal": True}),
    "scale": ([(2, 8, 16), (2, 10, 16), (2, 10, 16)], {"scale": 0.3}),
    "bool_mask": ([(2, 3, 8, 16), (2, 3, 10, 16), (2, 3, 10, 16)], {"mask": "bool"}),
    "float_mask": ([(2, 8, 16), (2, 10, 16), (2, 10, 16)], {"mask": "float"}),
    "gqa": ([(2, 4, 8, 16), (2, 2, 10, 16), (2, 2, 10, 16)], {"enable_gqa": True}),
}


def _attention(lib, arrays, options, mask):
    tensors = [lib.tensor(array) for array in arrays]
    keywords = {key: value for key, value in options.items() if key != "mask"}
    if mask is not None:
        keywords["attn_mask"] = lib.tensor(mask)
    return lib.nn.functional.scaled_dot_product_attention(*tensors, **keywords)


@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_attention_computes_in_float32_and_rounds_once(name):
    shapes, options = ATTENTION[name]
    arrays = _halves(2, *shapes)
    rng = np.random.default_rng(3)
    mask = {"bool": rng.random((8, 10)) > 0.3, "float": rng.standard_normal((8, 10)).astype(np.float16)}.get(options.get("mask"))
    got = _attention(chainrule, arrays, options, mask).numpy()
    wide_mask = mask if mask is None or mask.dtype == bool else mask.astype(np.float32)
    wide = _attention(torch, [array.astype(np.float32) for array in arrays], options, wide_mask).half().numpy()
    # PyTorch's float32 kernel and chainrule's sum in other orders: a float16 step apart, rarely
    assert np.mean(got != wide) < 0.01 and np.allclose(got, wide, rtol=2e-3, atol=1e-3)
    mine_wide = _attention(chainrule, [array.astype(np.float32) for array in arrays], options, wide_mask).half().numpy()
    np.testing.assert_array_equal(got, mine_wide)


def test_attention_of_3d_inputs_has_pytorchs_bits():
    # 3-d inputs take PyTorch's math kernel, which computes float16 in float32 (4-d ones its flash
    # kernel, which rounds the softmax's numerators to float16 before the product with the values)
    arrays = _halves(4, (3, 8, 16), (3, 10, 16), (3, 10, 12))
    _assert_same_bits(
        lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v), arrays, gradients_summed_otherwise=True,
        kernel_varies_by_cpu=True,
    )


def test_attention_gradients_in_float32():
    arrays = _halves(5, (2, 6, 8), (2, 7, 8), (2, 7, 8))
    got = _run(chainrule, lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v), arrays)
    expected = _run(torch, lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v), arrays)
    for have, want in zip(got, expected):
        assert have.dtype == np.float16
        assert np.mean(have != want) < 0.02 and np.allclose(have, want, rtol=4e-3, atol=2e-3)


Y = np.linspace(-2, 2, 7).astype(np.float16)
Z = np.linspace(0.1, 3, 7).astype(np.float16)


def test_the_reported_values():
    y, z = chainrule.tensor(Y), chainrule.tensor(Z)
    assert (y / chainrule.tensor(0.7071234))[1].item() == -1.884765625
    assert chainrule.lerp(y, z, chainrule.tensor(0.3).half())[1].item() == -0.7578125


NUMBERS = {
    "div_float32": lambda lib, y: y / lib.tensor(0.7071234),
    "div_float64": lambda lib, y: y / lib.tensor(0.7071234, dtype=lib.float64),
    "true_divide": lambda lib, y: lib.true_divide(y, lib.tensor(0.7071234)),
    "div_": lambda lib, y: (y * 1).div_(lib.tensor(0.7071234)),
    "mul_float32": lambda lib, y: y * lib.tensor(0.7071234),
    "mul_float64": lambda lib, y: lib.mul(y, lib.tensor(0.3, dtype=lib.float64)),
    "mul_int_tensor": lambda lib, y: y * lib.tensor(70001),
    "mul_int": lambda lib, y: y * 70001,
    "div_int": lambda lib, y: y / 70001,
    "int_times": lambda lib, y: 3001 * y,
    "mul_float": lambda lib, y: y * 0.7071234,
    "add_float32": lambda lib, y: y + lib.tensor(0.7071234),
    "sub_float64": lambda lib, y: y - lib.tensor(0.7071234, dtype=lib.float64),
}


@pytest.mark.parametrize("name", sorted(NUMBERS))
@pytest.mark.parametrize("shape", [(7,), (5, 64), (3, 33)])
def test_arithmetic_with_a_number_as_pytorch(name, shape):
    data = (np.random.default_rng(len(shape) + shape[0]).standard_normal(shape) * 2).astype(np.float16)
    _assert_same_bits(lambda lib, y: NUMBERS[name](lib, y), [data])


def test_number_gradient_of_a_product():
    # the 0-d float32 tensor's gradient: float16 products summed, as PyTorch's MulBackward0
    data, grad = _halves(6, (300,), (300,))
    results = []
    for lib in (torch, chainrule):
        y, s = lib.tensor(data, requires_grad=True), lib.tensor(0.7071234, requires_grad=True)
        (y * s).backward(lib.tensor(grad))
        results.append((y.grad.numpy(), s.grad.item()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    assert results[1][1] == pytest.approx(results[0][1], rel=2e-3)


def test_float32_arithmetic_with_a_number_is_unchanged():
    y = chainrule.tensor(np.linspace(-2, 2, 7).astype(np.float32))
    assert (y / chainrule.tensor(0.7071234)).dtype == chainrule.float32
    np.testing.assert_array_equal((y * 0.3).numpy(), y.numpy() * np.float32(0.3))


ALPHA = {
    "add": lambda lib, y, z, w: lib.add(y, z, alpha=0.3),
    "sub": lambda lib, y, z, w: lib.sub(y, z, alpha=0.3),
    "add_int_alpha": lambda lib, y, z, w: lib.add(y, z, alpha=3),
    "add_": lambda lib, y, z, w: (y * 1).add_(z, alpha=0.3),
    "add_number": lambda lib, y, z, w: lib.add(y, 0.7071234, alpha=0.3),
    "rsub_operator": lambda lib, y, z, w: lib.sub(0.7071234, y, alpha=0.3),
    "lerp_float": lambda lib, y, z, w: lib.lerp(y, z, 0.3),
    "lerp_far_float": lambda lib, y, z, w: lib.lerp(y, z, 0.7),
    "lerp_half_0d": lambda lib, y, z, w: lib.lerp(y, z, lib.tensor(0.3).half()),
    "lerp_tensor": lambda lib, y, z, w: lib.lerp(y, z, w),
    "lerp_": lambda lib, y, z, w: (y * 1).lerp_(z, w),
}


@pytest.mark.parametrize("name", sorted(ALPHA))
@pytest.mark.parametrize("seed", [0, 1])
def test_alpha_and_lerp_round_once(name, seed):
    # (1024 elements: PyTorch's vectorized loop; see test_scaled_sum_of_few_elements for its tail)
    y, z, w = _halves(seed, (4, 256), (4, 256), (4, 256))
    _assert_same_bits(lambda lib, y, z, w: ALPHA[name](lib, y, z, w), [y, z, w * 0.5])


def test_lerp_of_few_elements():
    _assert_same_bits(lambda lib, y, z: lib.lerp(y, z, 0.3), [Y, Z])


def test_node_names():
    y, z = (chainrule.tensor(array, requires_grad=True) for array in (Y, Z))
    names = [type(result.grad_fn).__name__ for result in (
        chainrule.add(y, z, alpha=0.3), chainrule.sub(y, z, alpha=0.3), chainrule.rsub(y, 0.5, alpha=0.3),
        chainrule.lerp(y, z, 0.3), chainrule.lerp(y, z, z), y / chainrule.tensor(0.7),
    )]
    assert names == ["AddBackward0", "SubBackward0", "RsubBackward1", "LerpBackward0", "LerpBackward1", "DivBackward0"]
