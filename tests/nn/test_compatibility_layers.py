"""PyTorch's names kept for older or GPU code, as PyTorch behaves on a CPU: DataParallel (a plain
wrapper), SyncBatchNorm (batch norm unless a process group asks for synchronization),
UpsamplingNearest2d / UpsamplingBilinear2d, ``F.upsample*``, NLLLoss2d; and the reprs PyTorch
prints for attention layers, Embedding, Upsample and Unflatten."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import assert_close, check_module, module_pair

F = nn.functional


def test_data_parallel_wraps_the_module_as_pytorch_does_without_gpus():
    ours, theirs = module_pair(lambda lib: lib.nn.DataParallel(lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.state_dict()._metadata == theirs.state_dict()._metadata
    assert ours.device_ids == theirs.device_ids == []
    assert isinstance(ours.module, nn.Sequential)
    x = np.random.default_rng(0).normal(size=(4, 3))
    assert_close(ours(chainrule.tensor(x)), theirs(torch.tensor(x)), "output")
    assert nn.parallel.DataParallel is nn.DataParallel


def test_data_parallel_passes_keyword_arguments_on():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    assert nn.DataParallel(Scale(), device_ids=[0], output_device=0)(chainrule.ones(2), factor=3.0).tolist() == [3.0, 3.0]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2), (2, 3, 2, 2, 2)])
def test_sync_batch_norm_is_batch_norm_on_the_cpu(shape, training):
    x = np.random.default_rng(1).normal(size=shape)
    check_module(lambda lib: lib.nn.SyncBatchNorm(3, momentum=None), x, training=training)


def test_sync_batch_norm_checks_and_repr_as_pytorch():
    assert repr(nn.SyncBatchNorm(3, affine=False)) == repr(torch.nn.SyncBatchNorm(3, affine=False))
    for lib in (chainrule, torch):
        with pytest.raises(ValueError, match="expected at least 2D input \\(got 1D input\\)"):
            lib.nn.SyncBatchNorm(3)(lib.ones(3))


def test_sync_batch_norm_refuses_to_train_under_a_process_group(monkeypatch):
    monkeypatch.setattr(chainrule.distributed, "is_initialized", lambda: True)
    layer = nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match="SyncBatchNorm expected input tensor to be on GPU"):
        layer(chainrule.ones(4, 3))
    layer.eval()
    assert tuple(layer(chainrule.ones(4, 3)).shape) == (4, 3)


def test_convert_sync_batchnorm_keeps_the_parameters_and_buffers():
    def convert(lib):
        model = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 1), lib.nn.BatchNorm2d(4), lib.nn.Sequential(lib.nn.BatchNorm1d(4, affine=False)))
        model[1](lib.randn(2, 4, 3, 3))
        before = (model[1].weight, model[1].running_mean, model[1].num_batches_tracked)
        model.eval()
        converted = lib.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        after = (converted[1].weight, converted[1].running_mean, converted[1].num_batches_tracked)
        return converted, all(a is b for a, b in zip(before, after))

    (ours, kept_ours), (theirs, kept_theirs) = convert(chainrule), convert(torch)
    assert kept_ours and kept_theirs
    assert repr(ours) == repr(theirs)
    assert [module.training for module in ours.modules()] == [module.training for module in theirs.modules()]
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2))
    assert type(single) is nn.SyncBatchNorm


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=2),
        lambda lib: lib.nn.UpsamplingNearest2d(size=(5, 3)),
        lambda lib: lib.nn.UpsamplingBilinear2d(scale_factor=2),
        lambda lib: lib.nn.UpsamplingBilinear2d(size=(5, 7)),
    ],
)
def test_upsampling_layers_match_pytorch(make):
    assert repr(make(chainrule)) == repr(make(torch))
    assert isinstance(make(chainrule), nn.Upsample)
    check_module(make, np.random.default_rng(2).normal(size=(2, 3, 3, 4)))


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("upsample", dict(scale_factor=2)),
        ("upsample", dict(size=(5, 6), mode="bilinear", align_corners=False)),
        ("upsample_nearest", dict(scale_factor=2)),
        ("upsample_bilinear", dict(size=(6, 5))),
    ],
)
def test_deprecated_upsample_functions_warn_and_interpolate_as_pytorch(name, kwargs):
    x = np.random.default_rng(3).normal(size=(1, 2, 3, 4))
    x_ours, x_theirs = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead."):
        ours = getattr(F, name)(x_ours, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn.functional, name)(x_theirs, **kwargs)
    assert_close(ours, theirs, "output")
    ours.sum().backward()
    theirs.sum().backward()
    assert_close(x_ours.grad, x_theirs.grad, "input gradient")


def test_nll_loss_2d_warns_and_is_nll_loss():
    rng = np.random.default_rng(4)
    scores, target = rng.normal(size=(2, 3, 4, 4)), rng.integers(0, 3, size=(2, 4, 4))
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        ours = nn.NLLLoss2d(ignore_index=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.NLLLoss2d(ignore_index=1)
    assert isinstance(ours, nn.NLLLoss) and repr(ours) == repr(theirs)
    assert_close(ours(chainrule.tensor(scores), chainrule.tensor(target)), theirs(torch.tensor(scores), torch.tensor(target)), "loss")


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.MultiheadAttention(8, 2),
        lambda lib: lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16),
        lambda lib: lib.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16),
        lambda lib: lib.nn.Embedding(4, 3, max_norm=1.0),
        lambda lib: lib.nn.Embedding(4, 3, padding_idx=1, max_norm=2, norm_type=1.0, scale_grad_by_freq=True, sparse=True),
        lambda lib: lib.nn.Upsample(scale_factor=(2, 3)),
        lambda lib: lib.nn.Upsample(scale_factor=2, mode="bilinear"),
        lambda lib: lib.nn.Upsample(size=(4, 5)),
        lambda lib: lib.nn.Unflatten(1, (2, 3)),
        lambda lib: lib.nn.Unflatten(1, [2, -1]),
    ],
)
def test_repr_as_pytorch(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert repr(make(chainrule)) == repr(make(torch))


def test_out_proj_is_a_non_dynamically_quantizable_linear():
    out_proj = nn.MultiheadAttention(8, 2).out_proj
    assert type(out_proj) is nn.modules.linear.NonDynamicallyQuantizableLinear
    assert isinstance(out_proj, nn.Linear)
    assert "(out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)" in repr(nn.Transformer(8, 2, 1, 1, 16))


def test_unflatten_shows_a_size_by_its_libraries_name():
    assert repr(nn.Unflatten(1, chainrule.Size([2, 3]))) == "Unflatten(dim=1, unflattened_size=chainrule.Size([2, 3]))"
    assert repr(torch.nn.Unflatten(1, torch.Size([2, 3]))) == "Unflatten(dim=1, unflattened_size=torch.Size([2, 3]))"
    assert tuple(nn.Unflatten(1, chainrule.Size([2, 3]))(chainrule.ones(4, 6)).shape) == (4, 2, 3)


@pytest.mark.parametrize("size, message", [((2, 3.0), "element of type float at pos 1"), (6, "found type int")])
def test_unflatten_refuses_sizes_that_are_not_ints_as_pytorch(size, message):
    for lib in (chainrule, torch):
        with pytest.raises(TypeError, match=message):
            lib.nn.Unflatten(1, size)


def test_upsample_scale_factors_are_kept_as_floats():
    assert nn.Upsample(scale_factor=(2, 3)).scale_factor == torch.nn.Upsample(scale_factor=(2, 3)).scale_factor == (2.0, 3.0)
    layer = nn.Upsample(scale_factor=(2, 3))
    assert tuple(layer(chainrule.ones(1, 1, 2, 2)).shape) == (1, 1, 4, 6)
