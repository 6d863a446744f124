"""The rest of nn.utils against PyTorch: batch-norm fusion, get_total_norm and
clip_grads_with_norm_, the deprecated clip_grad_norm, skip_init."""

import numpy as np
import pytest
import torch

import chainrule
from tests.nn.pairs import assert_close, error_of, module_pair, normal

FUSIONS = {
    "conv2d": (lambda lib: lib.nn.Conv2d(2, 3, 3), lambda lib: lib.nn.BatchNorm2d(3), (2, 2, 5, 5), False),
    "conv1d_no_bias": (lambda lib: lib.nn.Conv1d(2, 3, 3, bias=False), lambda lib: lib.nn.BatchNorm1d(3, affine=False), (2, 2, 6), False),
    "conv_transpose2d": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3), lambda lib: lib.nn.BatchNorm2d(3), (2, 2, 4, 4), True),
    "linear": (lambda lib: lib.nn.Linear(4, 3), lambda lib: lib.nn.BatchNorm1d(3), (5, 4), None),
}


@pytest.mark.parametrize("case", list(FUSIONS))
def test_fused_layer_computes_layer_then_batch_norm(case):
    make_layer, make_norm, input_shape, transpose = FUSIONS[case]
    layer, their_layer = module_pair(make_layer)
    norm, their_norm = module_pair(make_norm)
    statistics = {"running_mean": normal(3, seed=1), "running_var": np.abs(normal(3, seed=2)) + 0.5}
    for name, value in statistics.items():
        getattr(norm, name).copy_(chainrule.tensor(value))
        getattr(their_norm, name).copy_(torch.tensor(value))
    for module in (layer, their_layer, norm, their_norm):
        module.eval()
    if transpose is None:
        fused = chainrule.nn.utils.fuse_linear_bn_eval(layer, norm)
        their_fused = torch.nn.utils.fuse_linear_bn_eval(their_layer, their_norm)
    else:
        fused = chainrule.nn.utils.fuse_conv_bn_eval(layer, norm, transpose)
        their_fused = torch.nn.utils.fuse_conv_bn_eval(their_layer, their_norm, transpose)
    assert fused is not layer and isinstance(fused.weight, chainrule.nn.Parameter)
    assert_close(fused.weight, their_fused.weight, "fused weight")
    assert_close(fused.bias, their_fused.bias, "fused bias")
    x = chainrule.tensor(normal(*input_shape, seed=3))
    assert_close(fused(x), norm(layer(x)).detach(), "fused output", atol=1e-12)


def test_fusion_needs_eval_mode():
    for lib in (chainrule, torch):
        kind, _ = error_of(lambda: lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(1, 2, 1), lib.nn.BatchNorm2d(2)))
        assert kind is AssertionError


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_total_norm_then_clip_equals_clip_grad_norm(norm_type):
    gradients = [normal(3, 2, seed=1), normal(4, seed=2)]
    results = []
    for lib in (chainrule, torch):
        parameters = [lib.nn.Parameter(lib.zeros(*gradient.shape, dtype=lib.float64)) for gradient in gradients]
        for parameter, gradient in zip(parameters, gradients):
            parameter.grad = lib.tensor(gradient)
        total = lib.nn.utils.get_total_norm([parameter.grad for parameter in parameters], norm_type)
        lib.nn.utils.clip_grads_with_norm_(parameters, 0.5, total)
        results.append((total, [parameter.grad for parameter in parameters]))
    (total, grads), (their_total, their_grads) = results
    assert_close(total, their_total, "total norm")
    for mine, reference in zip(grads, their_grads):
        assert_close(mine, reference, "clipped gradient")
    assert float(chainrule.nn.utils.get_total_norm([])) == 0.0


def test_clip_grad_norm_without_underscore_is_deprecated():
    parameter = chainrule.nn.Parameter(chainrule.ones(2))
    parameter.grad = chainrule.ones(2)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = chainrule.nn.utils.clip_grad_norm([parameter], 1.0)
    assert abs(float(total) - 2**0.5) < 1e-6


def test_skip_init_builds_the_module_without_drawing_numbers():
    chainrule.manual_seed(0)
    expected = chainrule.rand(3)
    chainrule.manual_seed(0)
    layer = chainrule.nn.utils.skip_init(chainrule.nn.Linear, 4, 2, bias=False)
    assert tuple(layer.weight.shape) == (2, 4) and layer.bias is None
    assert_close(chainrule.rand(3), expected._array, "the generator is where it was")
    for lib in (chainrule, torch):
        assert error_of(lambda: lib.nn.utils.skip_init(int))[0] is RuntimeError
