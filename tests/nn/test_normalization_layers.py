"""GroupNorm, InstanceNorm1d/2d, RMSNorm and LocalResponseNorm (and their functions) against
torch.nn, from identical weights: outputs, input and parameter gradients, buffers, repr, errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.nn import functional as F
from tests.nn.pairs import assert_close, check_module, error_of, module_pair, normal


def with_random_affine(make):
    """``make`` with its weight and bias (if any) drawn at random, so that their gradients matter."""

    def made(lib):
        module = make(lib)
        generator = np.random.default_rng(5)
        for parameter in module.parameters():
            with lib.no_grad():
                parameter.copy_(lib.tensor(generator.standard_normal(tuple(parameter.shape)), dtype=parameter.dtype))
        return module

    return made


LAYERS = [
    ("group_norm", lambda lib: lib.nn.GroupNorm(2, 4), normal(3, 4, 5)),
    ("group_norm_images", lambda lib: lib.nn.GroupNorm(3, 6), normal(2, 6, 3, 4)),
    ("group_norm_one_group", lambda lib: lib.nn.GroupNorm(1, 4), normal(2, 4, 3)),
    ("group_norm_channel_groups_2d_input", lambda lib: lib.nn.GroupNorm(4, 4), normal(3, 4, 2)),
    ("group_norm_no_affine", lambda lib: lib.nn.GroupNorm(2, 4, affine=False), normal(3, 4, 5)),
    ("group_norm_no_bias", lambda lib: lib.nn.GroupNorm(2, 4, bias=False), normal(3, 4, 5)),
    ("group_norm_one_sample", lambda lib: lib.nn.GroupNorm(2, 4), normal(1, 4, 3)),
    ("instance_norm_1d", lambda lib: lib.nn.InstanceNorm1d(3), normal(2, 3, 5)),
    ("instance_norm_1d_unbatched", lambda lib: lib.nn.InstanceNorm1d(3), normal(3, 5)),
    ("instance_norm_1d_affine", lambda lib: lib.nn.InstanceNorm1d(3, affine=True), normal(2, 3, 5)),
    ("instance_norm_1d_tracking", lambda lib: lib.nn.InstanceNorm1d(3, track_running_stats=True), normal(4, 3, 5)),
    ("instance_norm_2d", lambda lib: lib.nn.InstanceNorm2d(3, affine=True), normal(2, 3, 4, 5)),
    ("instance_norm_2d_unbatched_tracking", lambda lib: lib.nn.InstanceNorm2d(3, track_running_stats=True), normal(3, 4, 5)),
    ("instance_norm_3d", lambda lib: lib.nn.InstanceNorm3d(2, affine=True, track_running_stats=True), normal(2, 2, 3, 2, 2)),
    ("rms_norm", lambda lib: lib.nn.RMSNorm(4), normal(3, 4)),
    ("rms_norm_2_dims_eps", lambda lib: lib.nn.RMSNorm((3, 4), eps=1e-3), normal(2, 3, 4)),
    ("rms_norm_no_affine", lambda lib: lib.nn.RMSNorm(4, elementwise_affine=False), normal(2, 5, 4)),
    ("rms_norm_whole_input", lambda lib: lib.nn.RMSNorm(4), normal(4)),
    ("local_response_norm", lambda lib: lib.nn.LocalResponseNorm(3), normal(2, 5, 4)),
    ("local_response_norm_images", lambda lib: lib.nn.LocalResponseNorm(2, alpha=0.5, beta=0.6, k=2.0), normal(2, 4, 3, 3)),
    ("local_response_norm_wide_window", lambda lib: lib.nn.LocalResponseNorm(7, alpha=0.3), normal(1, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("make, input_array", [case[1:] for case in LAYERS], ids=[case[0] for case in LAYERS])
@pytest.mark.parametrize("training", [True, False])
def test_layer_matches_torch(make, input_array, training):
    check_module(with_random_affine(make), input_array, training=training)


def test_instance_norm_evaluation_uses_running_statistics_after_training_steps():
    ours, theirs = module_pair(lambda lib: lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.3))
    for seed in range(3):
        batch = normal(2, 3, 4, 4, seed=seed) * 2 + 1
        ours(chainrule.tensor(batch))
        theirs(torch.tensor(batch))
    assert_close(ours.running_mean, theirs.running_mean, "running_mean")
    assert_close(ours.running_var, theirs.running_var, "running_var")
    assert_close(ours.num_batches_tracked, theirs.num_batches_tracked, "num_batches_tracked")
    ours.eval()
    theirs.eval()
    probe = normal(2, 3, 4, 4, seed=9)
    assert_close(ours(chainrule.tensor(probe)), theirs(torch.tensor(probe)), "evaluation output")


def test_double_backward_matches_torch():
    """Gradient penalties differentiate a gradient: group and instance norm use the fused node."""
    makes = (
        (lambda lib: lib.nn.GroupNorm(2, 4), (3, 4, 2)),
        (lambda lib: lib.nn.InstanceNorm1d(4, affine=True), (3, 4, 5)),
        (lambda lib: lib.nn.RMSNorm(4), (3, 4)),
        (lambda lib: lib.nn.LocalResponseNorm(2), (2, 4, 3)),
    )
    for make, shape in makes:
        ours, theirs = module_pair(with_random_affine(make))
        array = normal(*shape, seed=4)
        grads = []
        for lib, module in ((chainrule, ours), (torch, theirs)):
            x = lib.tensor(array.copy(), requires_grad=True)
            (grad_x,) = lib.autograd.grad((module(x) ** 3).sum(), x, create_graph=True)
            (grad_x * grad_x).sum().backward()
            grads.append(x.grad)
        assert_close(grads[0], grads[1], f"second derivative of {type(ours).__name__}", atol=1e-8)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.GroupNorm(2, 4),
        lambda lib: lib.nn.GroupNorm(2, 4, eps=1e-3, affine=False),
        lambda lib: lib.nn.InstanceNorm1d(3),
        lambda lib: lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=None),
        lambda lib: lib.nn.RMSNorm([2, 3], eps=1e-3),
        lambda lib: lib.nn.RMSNorm(4, elementwise_affine=False),
        lambda lib: lib.nn.LocalResponseNorm(3),
    ],
)
def test_repr_and_state_dict_follow_torch(make):
    ours, theirs = make(chainrule), make(torch)
    assert repr(ours) == repr(theirs)
    assert {key: tuple(value.shape) for key, value in ours.state_dict().items()} == {
        key: tuple(value.shape) for key, value in theirs.state_dict().items()
    }
    for name, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[name], value, name)


def test_functions_match_torch():
    x = normal(2, 4, 3)
    weight, bias = normal(4, seed=1), normal(4, seed=2)
    cases = [
        lambda lib, x: lib.nn.functional.group_norm(x, 2, lib.tensor(weight), lib.tensor(bias), eps=1e-3),
        lambda lib, x: lib.nn.functional.instance_norm(x),
        lambda lib, x: lib.nn.functional.instance_norm(
            x, lib.ones(4, dtype=lib.float64) * 0.5, lib.ones(4, dtype=lib.float64) * 2, use_input_stats=False
        ),
        lambda lib, x: lib.nn.functional.rms_norm(x, (4, 3)),
        lambda lib, x: lib.nn.functional.rms_norm(x, [3], lib.tensor(weight[:3]), eps=0.1),
        lambda lib, x: lib.nn.functional.local_response_norm(x, 4, alpha=0.2),
    ]
    for position, case in enumerate(cases):
        x_ours, x_theirs = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out_ours, out_theirs = case(chainrule, x_ours), case(torch, x_theirs)
        assert_close(out_ours, out_theirs, f"case {position}")
        (out_ours * chainrule.tensor(x)).sum().backward()
        (out_theirs * torch.tensor(x)).sum().backward()
        assert_close(x_ours.grad, x_theirs.grad, f"case {position} input gradient")


def test_float32_default_and_rms_norm_default_eps():
    x = normal(3, 4).astype(np.float32)
    out = nn.RMSNorm(4)(chainrule.tensor(x))
    assert out.dtype == chainrule.float32
    np.testing.assert_allclose(out._array, torch.nn.RMSNorm(4)(torch.tensor(x)).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.GroupNorm(3, 4),
        lambda lib: lib.nn.functional.group_norm(lib.ones(2, 4, 3), 3),
        lambda lib: lib.nn.functional.group_norm(lib.ones(4), 2),
        lambda lib: lib.nn.GroupNorm(2, 4)(lib.ones(2, 6, 3)),
        lambda lib: lib.nn.functional.rms_norm(lib.ones(2, 3), (4,)),
        lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 4, 5)),
        lambda lib: lib.nn.InstanceNorm3d(3)(lib.ones(2, 3, 4)),
        lambda lib: lib.nn.InstanceNorm2d(3, affine=True)(lib.ones(2, 4, 4, 5)),
    ],
)
def test_errors_match_torch(call):
    assert error_of(lambda: call(chainrule)) == error_of(lambda: call(torch)) != None  # noqa: E711


def test_errors_that_name_sizes_differently_from_torch():
    for lib in (torch, chainrule):
        with pytest.raises(ValueError, match=r"more than 1 value per channel when training, got input size \[?[^,]*1, 2"):
            lib.nn.functional.group_norm(lib.ones(1, 2, 1), 2)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(chainrule.ones(2, 3, 1))
    with pytest.raises(ValueError, match="3D or higher dimensionality input"):
        F.local_response_norm(chainrule.ones(2, 3), 2)
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(chainrule.ones(2, 4, 5))


def test_rms_norm_keeps_the_input_dtype_with_a_weight_of_another_as_pytorch():
    results = []
    for lib in (chainrule, torch):
        x = lib.ones(2, 4, requires_grad=True)
        weight = lib.ones(4, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch warns that it cannot use its fused kernel
            output = lib.nn.functional.rms_norm(x, (4,), weight=weight)
        output.sum().backward()
        results.append([str(t.dtype).split(".")[-1] for t in (output, x.grad, weight.grad)])
    assert results[0] == results[1]


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 2, 2)])
def test_batch_norm_of_an_empty_batch_in_training_is_empty_as_pytorch(shape):
    results = []
    for lib in (chainrule, torch):
        layer = (lib.nn.BatchNorm1d if len(shape) == 2 else lib.nn.BatchNorm2d)(3)
        x = lib.zeros(*shape, requires_grad=True)
        output = layer(x)
        output.sum().backward()
        results.append((tuple(output.shape), type(output.grad_fn).__name__, layer.running_mean.tolist(),
                        int(layer.num_batches_tracked), tuple(x.grad.shape)))
    assert results[0] == results[1]
