"""A sweep of the normalization layers and their functional forms against PyTorch (the oracle):
BatchNorm1d/2d/3d (momentum, momentum=None, track_running_stats, affine, eval mode, the batch-of-1
error, num_batches_tracked), ``F.batch_norm`` without running statistics, LayerNorm, GroupNorm,
InstanceNorm1d/2d/3d (unbatched input, running statistics, the channel-count warning), RMSNorm,
LocalResponseNorm, ``F.normalize`` and ``SyncBatchNorm.convert_sync_batchnorm``: outputs, running
statistics, float64 gradients, state_dict keys and old checkpoints, reprs and exception types.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
names or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
(CrossMapLRN2d is left out on purpose: see tests/parity/test_names.py.)
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional

import chainrule
import chainrule.nn.functional
from tests.parity.sweep import outcome, raises_as_torch


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    if isinstance(value, dict):
        return [(key, plain(each)) for key, each in value.items()]
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple) and len(expected) == 3 and isinstance(expected[2], np.ndarray):
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    expected = plain(run(torch))
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def data(lib, shape, seed=0, dtype="float32", scale=1.0, offset=0.0):
    """The same numbers in both libraries (a NumPy draw)."""
    values = np.random.default_rng(seed).standard_normal(shape) * scale + offset
    return lib.tensor(values, dtype=getattr(lib, dtype))


def caught(run):
    """The warning categories and messages ``run()`` gives."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        run()
    return [(record.category.__name__, str(record.message)) for record in records]


SHAPES = {"BatchNorm1d": (6, 3), "BatchNorm2d": (4, 3, 2, 3), "BatchNorm3d": (3, 3, 2, 2, 2)}


# --- BatchNorm --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"])
@pytest.mark.parametrize("momentum", [0.1, None, 0.7])
def test_batchnorm_running_stats_after_several_train_steps(name, momentum):
    def run(lib):
        layer = getattr(lib.nn, name)(3, momentum=momentum)
        outputs = [layer(data(lib, SHAPES[name], seed, scale=1 + seed, offset=seed)) for seed in range(3)]
        return outputs + [layer.running_mean, layer.running_var, layer.num_batches_tracked]

    same_in_both(run, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm2d_modes(affine, track, training):
    def run(lib):
        layer = lib.nn.BatchNorm2d(3, eps=1e-3, affine=affine, track_running_stats=track)
        layer(data(lib, (4, 3, 2, 3), 1, offset=2.0))  # one training step first
        layer.train(training)
        output = layer(data(lib, (4, 3, 2, 3), 2))
        return [output, layer.running_mean, layer.running_var, layer.num_batches_tracked, sorted(layer.state_dict())]

    same_in_both(run, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 1)])
def test_batchnorm1d_two_and_three_dimensional_input(shape):
    def run(lib):
        layer = lib.nn.BatchNorm1d(3)
        output = layer(data(lib, shape, 3))
        return [output, layer.running_mean, layer.running_var]

    same_in_both(run, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "name, shape",
    [("BatchNorm1d", (1, 3)), ("BatchNorm1d", (1, 3, 1)), ("BatchNorm2d", (1, 3, 1, 1)), ("BatchNorm3d", (1, 3, 1, 1, 1))],
)
def test_batchnorm_batch_of_one_in_training_raises_value_error(name, shape):
    raises_as_torch(lambda lib: getattr(lib.nn, name)(3)(lib.ones(shape)))


def test_batchnorm_batch_of_one_message_and_eval_mode_accepts_it():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        chainrule.nn.BatchNorm1d(3)(chainrule.ones(1, 3))
    same_in_both(lambda lib: lib.nn.BatchNorm1d(3).eval()(data(lib, (1, 3))))
    # Several values per channel from the positions alone: fine in training.
    same_in_both(lambda lib: lib.nn.BatchNorm2d(3)(data(lib, (1, 3, 2, 2))), atol=1e-5)


@pytest.mark.parametrize(
    "name, shape",
    [("BatchNorm1d", (2, 3, 4, 5)), ("BatchNorm1d", (3,)), ("BatchNorm2d", (2, 3, 4)), ("BatchNorm3d", (2, 3, 4, 5))],
)
def test_batchnorm_wrong_number_of_dimensions_raises_value_error(name, shape):
    raises_as_torch(lambda lib: getattr(lib.nn, name)(3)(lib.ones(shape)))


def test_batchnorm_wrong_channel_count_raises_as_torch():
    raises_as_torch(lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(4, 5)))
    raises_as_torch(lambda lib: lib.nn.BatchNorm2d(3, track_running_stats=False)(lib.ones(4, 5, 2, 2)))


def test_batchnorm_float64_gradients_in_training_and_eval():
    def run(lib):
        results = []
        for training in (True, False):
            layer = lib.nn.BatchNorm1d(3, dtype=lib.float64)
            with lib.no_grad():
                layer.weight.copy_(data(lib, (3,), 4, "float64"))
                layer.bias.copy_(data(lib, (3,), 5, "float64"))
                layer.running_mean.copy_(data(lib, (3,), 6, "float64"))
                layer.running_var.fill_(2.0)
            layer.train(training)
            x = data(lib, (5, 3, 2), 7, "float64").requires_grad_()
            (layer(x) * data(lib, (5, 3, 2), 8, "float64")).sum().backward()
            results += [x.grad, layer.weight.grad, layer.bias.grad]
        return results

    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_batchnorm_state_dict_keys_dtypes_and_round_trip():
    def run(lib):
        source = lib.nn.BatchNorm2d(3)
        for seed in range(2):
            source(data(lib, (4, 3, 2, 2), seed, offset=1.0))
        state = source.state_dict()
        target = lib.nn.BatchNorm2d(3)
        result = target.load_state_dict(state)
        return [list(state), [str(each.dtype) .split(".")[-1] for each in state.values()], tuple(result.missing_keys),
                target.running_mean, target.running_var, target.num_batches_tracked]

    same_in_both(run)


def test_batchnorm_loads_old_checkpoint_without_num_batches_tracked():
    def run(lib):
        source = lib.nn.BatchNorm1d(3)
        source(data(lib, (4, 3), 1))
        old = {key: value for key, value in source.state_dict().items() if key != "num_batches_tracked"}  # no _metadata
        target = lib.nn.BatchNorm1d(3)
        result = target.load_state_dict(old, strict=True)
        return [tuple(result.missing_keys), tuple(result.unexpected_keys), target.running_mean, target.num_batches_tracked]

    same_in_both(run)


def test_batchnorm_strict_load_of_version_2_state_dict_missing_num_batches_tracked_raises():
    def run(lib):
        state = lib.nn.BatchNorm1d(3).state_dict()
        del state["num_batches_tracked"]  # _metadata says version 2: the key is really missing
        lib.nn.BatchNorm1d(3).load_state_dict(state)

    raises_as_torch(run)

    def non_strict(lib):
        state = lib.nn.BatchNorm1d(3).state_dict()
        del state["num_batches_tracked"]
        return tuple(lib.nn.BatchNorm1d(3).load_state_dict(state, strict=False).missing_keys)

    same_in_both(non_strict)


def test_batchnorm_reset_running_stats_and_parameters():
    def run(lib):
        layer = lib.nn.BatchNorm1d(3)
        layer(data(lib, (4, 3), 1, offset=3.0))
        with lib.no_grad():
            layer.weight.fill_(2.0)
        layer.reset_running_stats()
        first = [layer.running_mean.clone(), layer.running_var.clone(), layer.num_batches_tracked.clone(), layer.weight.clone()]
        layer(data(lib, (4, 3), 2))
        layer.reset_parameters()
        return first + [layer.running_mean, layer.num_batches_tracked, layer.weight]

    same_in_both(run)


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.BatchNorm1d(4),
        lambda nn: nn.BatchNorm2d(4, eps=1e-3, momentum=None),
        lambda nn: nn.BatchNorm3d(4, affine=False, track_running_stats=False),
        lambda nn: nn.BatchNorm1d(4, bias=False),
        lambda nn: nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
        lambda nn: nn.InstanceNorm3d(4, momentum=None),
        lambda nn: nn.LayerNorm(4),
        lambda nn: nn.LayerNorm([2, 3], eps=1e-6, elementwise_affine=False),
        lambda nn: nn.LayerNorm((3,), bias=False),
        lambda nn: nn.GroupNorm(2, 4, affine=False),
        lambda nn: nn.RMSNorm([2, 3], eps=1e-6, elementwise_affine=False),
        lambda nn: nn.RMSNorm(3, eps=0.5),
        lambda nn: nn.LocalResponseNorm(3, alpha=0.5, beta=2, k=2),
        lambda nn: nn.SyncBatchNorm(4, momentum=None),
        lambda nn: nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.LayerNorm(4)),
    ],
)
def test_reprs_and_parameter_names(make):
    def run(lib):
        layer = make(lib.nn)
        return [repr(layer), str(layer), [(name, tuple(p.shape)) for name, p in layer.named_parameters()],
                [(name, tuple(b.shape), str(b.dtype).split(".")[-1]) for name, b in layer.named_buffers()]]

    same_in_both(run)


def test_batchnorm_attributes():
    def run(lib):
        layer = lib.nn.BatchNorm2d(5, eps=0.01, momentum=None, affine=False)
        return [layer.num_features, layer.eps, layer.momentum, layer.affine, layer.track_running_stats, layer.weight, layer.bias]

    same_in_both(run)


def test_batchnorm_mixed_dtype_input_raises_as_torch():
    raises_as_torch(lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(4, 3, dtype=lib.float64)))
    raises_as_torch(lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(4, 3, dtype=lib.int64)))


def test_batchnorm_empty_batch():
    def run(lib):
        layer = lib.nn.BatchNorm1d(3).eval()
        return layer(lib.ones(0, 3))

    same_in_both(run)


# --- F.batch_norm -----------------------------------------------------------------------------


def test_functional_batch_norm_without_running_stats_in_training():
    def run(lib):
        x = data(lib, (5, 3, 2), 1)
        return [lib.nn.functional.batch_norm(x, None, None, training=True),
                lib.nn.functional.batch_norm(x, None, None, data(lib, (3,), 2), data(lib, (3,), 3), True, 0.3, 1e-3)]

    same_in_both(run)


def test_functional_batch_norm_keywords_updates_running_stats_in_place():
    def run(lib):
        mean, var = lib.zeros(3), lib.ones(3)
        x = data(lib, (6, 3), 1, offset=2.0)
        out = lib.nn.functional.batch_norm(input=x, running_mean=mean, running_var=var, weight=None, bias=None,
                                           training=True, momentum=0.25, eps=1e-4)
        evaluation = lib.nn.functional.batch_norm(x, mean, var)  # training=False by default
        return [out, mean, var, evaluation]

    same_in_both(run, atol=1e-5)


def test_functional_batch_norm_eval_without_running_stats_raises():
    raises_as_torch(lambda lib: lib.nn.functional.batch_norm(lib.ones(4, 3), None, None, training=False))


def test_functional_batch_norm_batch_of_one_raises_value_error():
    raises_as_torch(lambda lib: lib.nn.functional.batch_norm(lib.ones(1, 3), None, None, training=True))


# --- LayerNorm --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs, shape",
    [
        ((4,), {}, (2, 4)),
        (((3, 4),), {}, (2, 3, 4)),
        (([4],), {"elementwise_affine": False}, (2, 3, 4)),
        ((4,), {"bias": False}, (3, 4)),
        ((4,), {"eps": 0.5}, (4,)),
        (((2, 4),), {}, (2, 4)),
        ((4,), {}, (0, 4)),
    ],
)
def test_layernorm_forward_and_float64_gradients(args, kwargs, shape):
    def run(lib):
        layer = lib.nn.LayerNorm(*args, **kwargs, dtype=lib.float64)
        if layer.weight is not None:
            with lib.no_grad():
                layer.weight.copy_(data(lib, tuple(layer.weight.shape), 4, "float64"))
        x = data(lib, shape, 1, "float64").requires_grad_()
        out = layer(x)
        (out * data(lib, shape, 2, "float64")).sum().backward()
        grads = [p.grad for p in layer.parameters()]
        return [out, x.grad] + grads + [sorted(layer.state_dict()), layer.normalized_shape]

    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_layernorm_shape_mismatch_raises_runtime_error():
    raises_as_torch(lambda lib: lib.nn.LayerNorm(4)(lib.ones(2, 5)))
    raises_as_torch(lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (3, 2)))


def test_functional_layer_norm_keywords_and_float32():
    def run(lib):
        x = data(lib, (2, 3, 4), 1)
        return [lib.nn.functional.layer_norm(x, [4]),
                lib.nn.functional.layer_norm(input=x, normalized_shape=(3, 4), weight=lib.full((3, 4), 2.0), bias=None, eps=0.1)]

    same_in_both(run)


# --- GroupNorm --------------------------------------------------------------------------------


@pytest.mark.parametrize("groups, channels, affine, shape", [(2, 4, True, (3, 4, 5)), (1, 4, False, (2, 4, 2, 2)),
                                                             (4, 4, True, (2, 4, 3)), (3, 6, True, (2, 6)),
                                                             (2, 4, True, (2, 4, 1, 2, 2))])
def test_groupnorm_forward_and_float64_gradients(groups, channels, affine, shape):
    def run(lib):
        layer = lib.nn.GroupNorm(groups, channels, affine=affine, dtype=lib.float64)
        if affine:
            with lib.no_grad():
                layer.weight.copy_(data(lib, (channels,), 4, "float64"))
                layer.bias.copy_(data(lib, (channels,), 5, "float64"))
        x = data(lib, shape, 1, "float64").requires_grad_()
        out = layer(x)
        (out * data(lib, shape, 2, "float64")).sum().backward()
        return [out, x.grad] + [p.grad for p in layer.parameters()] + [sorted(layer.state_dict())]

    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_groupnorm_groups_not_dividing_channels_raises_value_error():
    raises_as_torch(lambda lib: lib.nn.GroupNorm(3, 4))
    raises_as_torch(lambda lib: lib.nn.functional.group_norm(lib.ones(2, 4, 3), 3))
    raises_as_torch(lambda lib: lib.nn.GroupNorm(2, 4)(lib.ones(2, 6, 3)))


def test_functional_group_norm_keywords():
    def run(lib):
        x = data(lib, (2, 4, 3), 1)
        return [lib.nn.functional.group_norm(x, 2),
                lib.nn.functional.group_norm(input=x, num_groups=4, weight=lib.full((4,), 3.0), bias=lib.ones(4), eps=0.1)]

    same_in_both(run)


# --- InstanceNorm -----------------------------------------------------------------------------


INSTANCE = {"InstanceNorm1d": (2, 3, 5), "InstanceNorm2d": (2, 3, 2, 3), "InstanceNorm3d": (2, 3, 2, 2, 2)}


@pytest.mark.parametrize("name", sorted(INSTANCE))
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("affine, track", [(False, False), (True, False), (False, True), (True, True)])
def test_instancenorm_train_then_eval(name, batched, affine, track):
    def run(lib):
        layer = getattr(lib.nn, name)(3, affine=affine, track_running_stats=track)
        shape = INSTANCE[name] if batched else INSTANCE[name][1:]
        outputs = [layer(data(lib, shape, seed, scale=1 + seed, offset=seed)) for seed in range(2)]
        layer.eval()
        outputs.append(layer(data(lib, shape, 5)))
        return outputs + [layer.running_mean, layer.running_var, layer.num_batches_tracked, sorted(layer.state_dict())]

    same_in_both(run, rtol=1e-5, atol=1e-5)


def test_instancenorm_momentum_none_cumulative_average():
    def run(lib):
        layer = lib.nn.InstanceNorm1d(3, momentum=None, track_running_stats=True)
        for seed in range(3):
            layer(data(lib, (2, 3, 4), seed, offset=seed))
        return [layer.running_mean, layer.running_var, layer.num_batches_tracked]

    same_in_both(run, atol=1e-5)


def test_instancenorm_float64_gradients():
    def run(lib):
        layer = lib.nn.InstanceNorm2d(3, affine=True, dtype=lib.float64)
        with lib.no_grad():
            layer.weight.copy_(data(lib, (3,), 4, "float64"))
        x = data(lib, (2, 3, 2, 3), 1, "float64").requires_grad_()
        (layer(x) * data(lib, (2, 3, 2, 3), 2, "float64")).sum().backward()
        return [x.grad, layer.weight.grad, layer.bias.grad]

    same_in_both(run, rtol=1e-7, atol=1e-9)


@pytest.mark.filterwarnings("ignore:input's size at dim")
def test_instancenorm_channel_mismatch_warns_without_affine_and_raises_with_it():
    def warned(lib):
        return [category for category, _ in caught(lambda: lib.nn.InstanceNorm1d(3)(data(lib, (2, 5, 4))))]

    same_in_both(warned)
    message = caught(lambda: chainrule.nn.InstanceNorm1d(3)(data(chainrule, (2, 5, 4))))[0][1]
    assert "does not match num_features" in message
    same_in_both(lambda lib: lib.nn.InstanceNorm1d(3)(data(lib, (2, 5, 4))))
    raises_as_torch(lambda lib: lib.nn.InstanceNorm1d(3, affine=True)(lib.ones(2, 5, 4)))


@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (3,)), ("InstanceNorm1d", (2, 3, 4, 4)),
                                         ("InstanceNorm2d", (3, 4)), ("InstanceNorm3d", (2, 3, 4, 4, 4, 1))])
def test_instancenorm_wrong_number_of_dimensions_raises_value_error(name, shape):
    raises_as_torch(lambda lib: getattr(lib.nn, name)(3)(lib.ones(shape)))


def test_instancenorm_one_spatial_element_in_training_raises_value_error():
    raises_as_torch(lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 1)))
    raises_as_torch(lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 1, 1)))


def test_functional_instance_norm_keywords_and_running_stats():
    def run(lib):
        mean, var = lib.zeros(3), lib.ones(3)
        x = data(lib, (2, 3, 4), 1, offset=1.0)
        out = lib.nn.functional.instance_norm(input=x, running_mean=mean, running_var=var, weight=lib.full((3,), 2.0),
                                              bias=None, use_input_stats=True, momentum=0.5, eps=1e-3)
        evaluation = lib.nn.functional.instance_norm(x, mean, var, use_input_stats=False)
        return [out, mean, var, evaluation, lib.nn.functional.instance_norm(x)]

    same_in_both(run, atol=1e-5)


def test_instancenorm_old_checkpoint_with_running_stats_reports_error():
    def run(lib):
        state = {"running_mean": lib.zeros(3), "running_var": lib.ones(3)}  # no _metadata: pre-0.4 checkpoint
        lib.nn.InstanceNorm1d(3).load_state_dict(state)

    raises_as_torch(run)


# --- RMSNorm ----------------------------------------------------------------------------------


@pytest.mark.parametrize("args, kwargs, shape, dtype",
                         [((4,), {}, (2, 4), "float64"), (((3, 4),), {"eps": 1e-2}, (2, 3, 4), "float64"),
                          ((4,), {"elementwise_affine": False}, (3, 4), "float64"), ((4,), {}, (2, 4), "float32"),
                          ((4,), {"eps": None}, (4,), "float32"), ((4,), {}, (0, 4), "float64")])
def test_rmsnorm_forward_and_gradients(args, kwargs, shape, dtype):
    def run(lib):
        layer = lib.nn.RMSNorm(*args, **kwargs, dtype=getattr(lib, dtype))
        if layer.weight is not None:
            with lib.no_grad():
                layer.weight.copy_(data(lib, tuple(layer.weight.shape), 4, dtype))
        x = data(lib, shape, 1, dtype, scale=1e-2).requires_grad_()
        out = layer(x)
        (out * data(lib, shape, 2, dtype)).sum().backward()
        return [out, x.grad] + [p.grad for p in layer.parameters()] + [sorted(layer.state_dict()), layer.eps]

    tolerance = (1e-7, 1e-9) if dtype == "float64" else (1e-5, 1e-5)
    same_in_both(run, *tolerance)


def test_functional_rms_norm_and_shape_error():
    def run(lib):
        x = data(lib, (2, 3), 1, scale=1e-4)
        return [lib.nn.functional.rms_norm(x, (3,)), lib.nn.functional.rms_norm(x, [3], weight=lib.full((3,), 2.0), eps=1e-3),
                lib.nn.functional.rms_norm(x.double(), (2, 3))]

    same_in_both(run, atol=1e-5)
    raises_as_torch(lambda lib: lib.nn.RMSNorm(4)(lib.ones(2, 3)))


# --- LocalResponseNorm ------------------------------------------------------------------------


@pytest.mark.parametrize("size, shape", [(2, (2, 5, 3)), (3, (2, 5, 2, 2)), (5, (1, 4, 2, 2, 2)), (1, (2, 3, 4))])
def test_local_response_norm_forward_and_float64_gradient(size, shape):
    def run(lib):
        layer = lib.nn.LocalResponseNorm(size, alpha=0.3, beta=0.6, k=1.5)
        x = data(lib, shape, 1, "float64").requires_grad_()
        out = layer(x)
        (out * data(lib, shape, 2, "float64")).sum().backward()
        return [out, x.grad, list(layer.state_dict())]

    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_local_response_norm_defaults_keywords_and_bad_input():
    def run(lib):
        x = data(lib, (2, 6, 3), 1, scale=10.0)
        return [lib.nn.LocalResponseNorm(2)(x), lib.nn.functional.local_response_norm(input=x, size=3, alpha=0.1, beta=0.5, k=2.0),
                lib.nn.functional.local_response_norm(lib.ones(2, 0, 3), 2)]

    same_in_both(run)
    raises_as_torch(lambda lib: lib.nn.LocalResponseNorm(2)(lib.ones(3, 4)))


# --- F.normalize ------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"p": 3}, {"dim": 0}, {"dim": -1, "p": float("inf")},
                                    {"p": 2, "dim": 1, "eps": 10.0}, {"p": 0.5}])
def test_normalize_values_and_float64_gradient(kwargs):
    def run(lib):
        x = data(lib, (3, 4), 1, "float64")
        x[1] = 0.0  # a zero row: the eps clamp
        x.requires_grad_()
        out = lib.nn.functional.normalize(x, **kwargs)
        (out * data(lib, (3, 4), 2, "float64")).sum().backward()
        return [out, x.grad]

    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_normalize_zero_dimensional_empty_out_and_dtype():
    def run(lib):
        F = lib.nn.functional
        out = lib.empty(2, 3)
        returned = F.normalize(data(lib, (2, 3), 1), dim=0, out=out)
        return [F.normalize(lib.tensor(-3.0), dim=0), F.normalize(lib.ones(0, 3)), F.normalize(lib.zeros(2, 3)),
                out, returned is out, F.normalize(data(lib, (4,), 2, "float64"), dim=0)]

    same_in_both(run)
    raises_as_torch(lambda lib: lib.nn.functional.normalize(lib.ones(2, 3), dim=2))


def test_normalize_integer_input_raises_as_torch():
    raises_as_torch(lambda lib: lib.nn.functional.normalize(lib.tensor([3, 4])))


# --- SyncBatchNorm ----------------------------------------------------------------------------


def test_convert_sync_batchnorm_keeps_parameters_buffers_and_structure():
    def run(lib):
        nn = lib.nn
        model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, momentum=None), nn.Sequential(nn.BatchNorm1d(4, affine=False)))
        model[1](data(lib, (2, 3, 2, 2), 1, offset=1.0))
        model.eval()
        weight = model[1].weight
        converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return [converted is model, repr(converted), converted[1].weight is weight, converted[1].training,
                converted[1].running_mean, converted[1].num_batches_tracked, sorted(converted.state_dict()),
                type(nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(3))).__name__]

    same_in_both(run)


def test_sync_batchnorm_forward_on_cpu_without_process_group():
    def run(lib):
        layer = lib.nn.SyncBatchNorm(3)
        out = layer(data(lib, (4, 3, 2), 1, offset=1.0))
        return [out, layer.running_mean, layer.running_var, layer.num_batches_tracked]

    same_in_both(run, atol=1e-5)


# --- edge cases: eps validation, half-given running stats, integer input, double backward -------


@pytest.mark.parametrize("training, eps", [(True, 0.0), (True, -1e-5), (False, -0.5)])
def test_functional_batch_norm_rejects_non_positive_eps(training, eps):
    raises_as_torch(lambda lib: lib.nn.functional.batch_norm(lib.ones(4, 3), lib.zeros(3), lib.ones(3), training=training, eps=eps))


def test_batchnorm_module_with_zero_eps_raises_in_training():
    raises_as_torch(lambda lib: lib.nn.BatchNorm2d(3, eps=0)(lib.ones(2, 3, 2, 2)))


def test_batchnorm_zero_eps_is_fine_in_eval():
    same_in_both(lambda lib: lib.nn.BatchNorm2d(3, eps=0).eval()(data(lib, (2, 3, 2, 2))))
    same_in_both(lambda lib: lib.batch_norm(data(lib, (4, 3)), None, None, None, None, True, 0.1, 0.0, False))


@pytest.mark.parametrize("which", ["mean", "var"])
def test_functional_batch_norm_half_given_running_stats_raises_value_error(which):
    def run(lib):
        mean, var = (lib.zeros(3), None) if which == "mean" else (None, lib.ones(3))
        return lib.nn.functional.batch_norm(lib.ones(4, 3), mean, var, training=True)

    raises_as_torch(run)


def test_functional_batch_norm_eval_with_only_running_mean_raises():
    raises_as_torch(lambda lib: lib.nn.functional.batch_norm(lib.ones(4, 3), lib.zeros(3), None, training=False))


@pytest.mark.parametrize("call", ["functional", "module"])
def test_rms_norm_integer_input_raises_not_implemented_error(call):
    def run(lib):
        x = lib.ones(2, 3, dtype=lib.int64)
        return lib.nn.functional.rms_norm(x, (3,)) if call == "functional" else lib.nn.RMSNorm(3)(x)

    raises_as_torch(run)


@pytest.mark.parametrize("call", [lambda F, x: F.layer_norm(x, (3,)), lambda F, x: F.group_norm(x.unsqueeze(-1), 1),
                                  lambda F, x: F.instance_norm(x.unsqueeze(-1)), lambda F, x: F.batch_norm(x, None, None, training=True),
                                  lambda F, x: F.normalize(x)])
def test_other_norms_on_integer_input_raise_as_torch(call):
    raises_as_torch(lambda lib: call(lib.nn.functional, lib.ones(4, 3, dtype=lib.int64)))


def test_top_level_rms_norm():
    same_in_both(lambda lib: lib.rms_norm(data(lib, (4, 3)), [3], None, 1e-6))


def test_top_level_norm_functions():
    def run(lib):
        x = data(lib, (4, 4), 1)
        return [lib.layer_norm(x, [4]), lib.group_norm(x, 2), lib.instance_norm(x.unsqueeze(-1).expand(4, 4, 3) * lib.arange(3.0), None, None, None, None, True, 0.1, 1e-5, False)]

    same_in_both(run, atol=1e-5)


@pytest.mark.parametrize("name", ["LayerNorm", "BatchNorm1d", "GroupNorm", "RMSNorm", "InstanceNorm1d"])
def test_double_backward_float64(name):
    def run(lib):
        make = {"LayerNorm": lambda: lib.nn.LayerNorm(4, dtype=lib.float64), "BatchNorm1d": lambda: lib.nn.BatchNorm1d(3, dtype=lib.float64),
                "GroupNorm": lambda: lib.nn.GroupNorm(1, 3, dtype=lib.float64), "RMSNorm": lambda: lib.nn.RMSNorm(4, dtype=lib.float64),
                "InstanceNorm1d": lambda: lib.nn.InstanceNorm1d(3, affine=True, dtype=lib.float64)}
        layer = make[name]()
        x = data(lib, (2, 3, 4), 1, "float64").requires_grad_()
        (grad,) = lib.autograd.grad((layer(x) ** 3).sum(), x, create_graph=True)
        grad.pow(2).sum().backward()
        return [grad, x.grad, layer.weight.grad]

    same_in_both(run, rtol=1e-6, atol=1e-8)


# --- BatchNorm idioms: frozen statistics, in-place buffers, dtype conversion, lazy layers --------


def test_batchnorm_track_running_stats_switched_off_after_construction():
    def run(lib):
        layer = lib.nn.BatchNorm1d(3)
        layer.track_running_stats = False
        first = layer(data(lib, (4, 3), 1, offset=2.0))
        layer.eval()
        return [first, layer(data(lib, (4, 3), 2)), layer.running_mean, layer.num_batches_tracked]

    same_in_both(run)


def test_batchnorm_running_stats_set_to_none_uses_batch_statistics_in_eval():
    def run(lib):
        layer = lib.nn.BatchNorm1d(3)
        layer(data(lib, (4, 3), 3, offset=2.0))
        layer.running_mean = None
        layer.running_var = None
        layer.eval()
        return [layer(data(lib, (4, 3), 1)), sorted(layer.state_dict())]

    same_in_both(run)
    raises_as_torch(lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False).eval()(lib.ones(1, 3)))


def test_batchnorm_updates_buffers_in_place_even_under_no_grad():
    def run(lib):
        layer = lib.nn.BatchNorm1d(3)
        mean, count = layer.running_mean, layer.num_batches_tracked
        with lib.no_grad():
            layer(data(lib, (4, 3), 1, offset=1.0))
        return [mean is layer.running_mean, count is layer.num_batches_tracked, mean, count]

    same_in_both(run)


def test_batchnorm_double_keeps_num_batches_tracked_int64():
    def run(lib):
        layer = lib.nn.BatchNorm1d(3).double()
        out = layer(data(lib, (4, 3), 1, "float64"))
        return [out, layer.running_mean, layer.num_batches_tracked, layer.weight]

    same_in_both(run, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name, shape", [("LazyBatchNorm1d", (4, 3, 2)), ("LazyBatchNorm2d", (2, 3, 2, 2)), ("LazyInstanceNorm1d", (2, 3, 4))])
def test_lazy_normalization_layers_become_their_eager_class(name, shape):
    def run(lib):
        kwargs = {"affine": True, "track_running_stats": True} if "Instance" in name else {}
        layer = getattr(lib.nn, name)(**kwargs)
        out = layer(data(lib, shape, 1))
        return [out, type(layer).__name__, repr(layer), layer.running_mean, sorted(layer.state_dict())]

    same_in_both(run, atol=1e-5)
