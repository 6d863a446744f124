"""The statically quantized batch norm, layer/group/instance norm, embedding and dropout layers of
``torch.ao.nn.quantized``: printed, saved and computed as PyTorch's (the same integers out)."""
import numpy as np
import pytest
import torch

import chainrule
from tests.quantized.pytorch_errors import assert_raises_as_pytorch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

rng = np.random.default_rng(0)


def quantized_pair(shape, scale=0.05, zero_point=120, low=-3.0, high=3.0):
    values = rng.uniform(low, high, shape).astype(np.float32)
    return (
        chainrule.quantize_per_tensor(chainrule.tensor(values), scale, zero_point, chainrule.quint8),
        torch.quantize_per_tensor(torch.tensor(values), scale, zero_point, torch.quint8),
    )


def assert_same_quantized(ours, theirs):
    assert ours.dtype == chainrule.quint8 and tuple(ours.shape) == tuple(theirs.shape)
    assert (ours.q_scale(), ours.q_zero_point()) == (theirs.q_scale(), theirs.q_zero_point())
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())


def assert_same_state(ours, theirs, rtol=0.0):
    our_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(our_state) == list(their_state)
    for key, value in their_state.items():
        mine = our_state[key]
        if isinstance(value, torch.Tensor) and value.is_quantized:
            np.testing.assert_array_equal(mine.int_repr().numpy(), value.int_repr().numpy())
            np.testing.assert_array_equal(mine.q_per_channel_scales().numpy(), value.q_per_channel_scales().numpy())
            np.testing.assert_array_equal(mine.q_per_channel_zero_points().numpy(), value.q_per_channel_zero_points().numpy())
        elif isinstance(value, torch.Tensor):
            np.testing.assert_allclose(np.asarray(mine.numpy()), value.numpy(), rtol=rtol, atol=0)
        else:
            assert repr(mine) == repr(value).replace("torch.", "chainrule.")


def same_parameters(channels):
    weight, bias = rng.standard_normal(channels).astype(np.float32), rng.standard_normal(channels).astype(np.float32)
    return weight, bias


@pytest.mark.parametrize("rank, channels, batch, relu", [(4, 3, 1, False), (4, 35, 2, True), (5, 2, 2, False), (5, 3, 1, True)])
def test_batch_norm_gives_pytorchs_integers(rank, channels, batch, relu):
    name = f"BNReLU{rank - 2}d" if relu else f"BatchNorm{rank - 2}d"
    ours = getattr(chainrule.ao.nn.intrinsic.quantized if relu else chainrule.ao.nn.quantized, name)(channels)
    theirs = getattr(torch.ao.nn.intrinsic.quantized if relu else torch.ao.nn.quantized, name)(channels)
    state = {
        "weight": rng.standard_normal(channels), "bias": rng.standard_normal(channels),
        "running_mean": rng.standard_normal(channels), "running_var": rng.uniform(0.2, 2.0, channels),
        "num_batches_tracked": np.array(0), "scale": np.array(0.043), "zero_point": np.array(97),
    }
    theirs.load_state_dict({key: torch.tensor(value).float() if key not in ("num_batches_tracked", "zero_point") else torch.tensor(value) for key, value in state.items()})
    ours.load_state_dict({key: chainrule.tensor(value.astype(np.float32)) if value.dtype.kind == "f" else chainrule.tensor(value) for key, value in state.items()})
    assert repr(ours) == repr(theirs)
    assert_same_state(ours, theirs)
    our_input, their_input = quantized_pair((batch, channels) + (3, 2, 2)[: rank - 2])
    assert_same_quantized(ours(our_input), theirs(their_input))


def layer_pairs(channels=6):
    nnq, their_nnq = chainrule.ao.nn.quantized, torch.ao.nn.quantized
    weight, bias = same_parameters(channels)
    ours = lambda: (chainrule.nn.Parameter(chainrule.tensor(weight)), chainrule.nn.Parameter(chainrule.tensor(bias)))  # noqa: E731
    theirs = lambda: (torch.nn.Parameter(torch.tensor(weight)), torch.nn.Parameter(torch.tensor(bias)))  # noqa: E731
    return [
        (nnq.LayerNorm([channels], *ours(), 0.07, 131), their_nnq.LayerNorm([channels], *theirs(), 0.07, 131), (2, 3, channels)),
        (nnq.LayerNorm([3, 2], None, None, 0.02, 128, elementwise_affine=False),
         their_nnq.LayerNorm([3, 2], None, None, 0.02, 128, elementwise_affine=False), (1, 3, 2)),
        (nnq.GroupNorm(3, channels, *ours(), 0.05, 125), their_nnq.GroupNorm(3, channels, *theirs(), 0.05, 125), (2, channels, 5)),
        (nnq.InstanceNorm1d(channels, None, None, 0.03, 127), their_nnq.InstanceNorm1d(channels, None, None, 0.03, 127), (1, channels, 7)),
        (nnq.InstanceNorm2d(channels, *ours(), 0.06, 119, affine=True),
         their_nnq.InstanceNorm2d(channels, *theirs(), 0.06, 119, affine=True), (2, channels, 3, 3)),
        (nnq.InstanceNorm3d(channels, None, None, 0.04, 130), their_nnq.InstanceNorm3d(channels, None, None, 0.04, 130), (1, channels, 2, 2, 3)),
    ]


def test_layer_group_and_instance_norms_give_pytorchs_integers():
    for ours, theirs, shape in layer_pairs():
        assert repr(ours) == repr(theirs)
        assert_same_state(ours, theirs)
        our_input, their_input = quantized_pair(shape, scale=0.04, zero_point=100, low=-2.0, high=6.0)
        assert_same_quantized(ours(our_input), theirs(their_input))


def norm_model(library):
    nn, q = library.nn, library.ao.quantization
    return nn.Sequential(
        q.QuantStub(), nn.BatchNorm2d(3), nn.ReLU(), nn.Dropout(0.2), nn.InstanceNorm2d(3, affine=True), nn.GroupNorm(1, 3),
        nn.Flatten(), nn.LayerNorm(12), q.DeQuantStub(),
    )


def test_converted_model_of_norm_layers_is_pytorchs():
    ours, theirs = norm_model(chainrule), norm_model(torch)
    state = {key: rng.uniform(0.5, 1.5, value.shape).astype(np.float32) if value.is_floating_point() else value.numpy()
             for key, value in theirs.state_dict().items()}
    theirs.load_state_dict({key: torch.tensor(value) for key, value in state.items()})
    ours.load_state_dict({key: chainrule.tensor(value) for key, value in state.items()})
    data = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    converted = []
    for library, model in ((chainrule, ours), (torch, theirs)):
        q = library.ao.quantization
        model.eval()
        model.qconfig = q.default_qconfig
        q.fuse_modules(model, [["1", "2"]], inplace=True)
        prepared = q.prepare(model)
        assert not hasattr(prepared[3], "activation_post_process")  # no observer after a dropout
        prepared(library.tensor(data))
        converted.append(q.convert(prepared))
    assert repr(converted[0]) == repr(converted[1]).replace("torch.", "chainrule.")
    # the float norms' outputs, and so the observed ranges, may differ in the last bit: the same scales from here on
    assert_same_state(converted[0], converted[1], rtol=1e-6)
    converted[0].load_state_dict({key: chainrule.tensor(value.numpy()) for key, value in converted[1].state_dict().items()})
    x = rng.standard_normal((1, 3, 2, 2)).astype(np.float32)
    np.testing.assert_array_equal(converted[0](chainrule.tensor(x)).numpy(), converted[1](torch.tensor(x)).numpy())


def embedding_model(library):
    nn = library.nn
    model = nn.Module()
    model.embedding = nn.Embedding(7, 5)
    model.bag = nn.EmbeddingBag(7, 3, mode="mean", include_last_offset=True)
    return model


def embedding_models():
    theirs = embedding_model(torch)
    state = {key: rng.standard_normal(value.shape).astype(np.float32) for key, value in theirs.state_dict().items()}
    ours = embedding_model(chainrule)
    converted = []
    for library, model in ((chainrule, ours), (torch, theirs)):
        q = library.ao.quantization
        model.load_state_dict({key: library.tensor(value) for key, value in state.items()})
        model.qconfig = q.float_qparams_weight_only_qconfig
        converted.append(q.convert(q.prepare(model)))
    return converted


def test_embeddings_convert_print_save_and_look_up_as_pytorchs(tmp_path):
    ours, theirs = embedding_models()
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")
    assert_same_state(ours, theirs)
    assert repr(ours.bag.weight()) == repr(theirs.bag.weight()).replace("torch.", "chainrule.")
    indices = np.array([[6, 0, 3], [1, 1, 2]])
    np.testing.assert_array_equal(
        ours.embedding(chainrule.tensor(indices)).numpy(), theirs.embedding(torch.tensor(indices)).numpy()
    )
    flat, offsets = np.array([4, 2, 2, 6, 0, 1, 5]), np.array([0, 3, 3, 7])  # an empty bag; the last offset closes the last one
    weights = rng.uniform(-2, 2, 7).astype(np.float32)
    for args in ((flat, offsets), (flat, offsets, weights), (indices.astype(np.int32),)):
        np.testing.assert_array_equal(
            ours.bag(*map(chainrule.tensor, args)).numpy(), theirs.bag(*map(torch.tensor, args)).numpy()
        )
    path = tmp_path / "embeddings.pt"
    chainrule.save(ours.state_dict(), path)
    fresh = embedding_models()[0]
    fresh.load_state_dict(chainrule.load(path))
    np.testing.assert_array_equal(fresh.bag(chainrule.tensor(indices)).numpy(), ours.bag(chainrule.tensor(indices)).numpy())


def test_fuse_modules_joins_batch_norm_and_relu_as_pytorch():
    for library in (chainrule, torch):
        model = library.nn.Sequential(library.nn.BatchNorm3d(2), library.nn.ReLU())
        fused = library.ao.quantization.fuse_modules(model, ["0", "1"])  # training mode: PyTorch fuses these as well
        if library is chainrule:
            ours = fused
    assert repr(ours) == repr(fused)
    assert type(ours[0]) is chainrule.ao.nn.intrinsic.BNReLU3d


def test_static_mapping_has_pytorchs_entries_for_these_layers():
    ours, theirs = chainrule.ao.quantization.get_default_static_quant_module_mappings(), torch.ao.quantization.get_default_static_quant_module_mappings()
    names = ["BatchNorm2d", "BatchNorm3d", "Dropout", "Embedding", "EmbeddingBag", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
             "InstanceNorm3d", "LayerNorm"]
    for name in names:
        assert ours[getattr(chainrule.nn, name)].__qualname__ == theirs[getattr(torch.nn, name)].__qualname__
    for name in ("BNReLU2d", "BNReLU3d"):
        assert ours[getattr(chainrule.ao.nn.intrinsic, name)] is getattr(chainrule.ao.nn.intrinsic.quantized, name)


def test_dropout_passes_the_quantized_input_through():
    for training in (True, False):
        ours = chainrule.ao.nn.quantized.Dropout(0.5).train(training)
        x, _ = quantized_pair((2, 3))
        assert ours(x) is x
    assert repr(ours) == repr(torch.ao.nn.quantized.Dropout(0.5))


def test_bad_input_raises_pytorchs_errors():
    nnq, their_nnq = chainrule.ao.nn.quantized, torch.ao.nn.quantized
    ours, theirs = quantized_pair((2, 3, 2, 2))
    calls = [
        (lambda m: m(chainrule.ones(2, 3, 2, 2)), lambda m: m(torch.ones(2, 3, 2, 2)), "BatchNorm2d", (3,)),
        (lambda m: m(ours[0]), lambda m: m(theirs[0]), "BatchNorm2d", (3,)),
        (lambda m: m(ours), lambda m: m(theirs), "BatchNorm3d", (3,)),
        (lambda m: m(ours), lambda m: m(theirs), "BatchNorm2d", (4,)),
        (lambda m: m(ours), lambda m: m(theirs), "LayerNorm", ([3], None, None, 0.1, 2)),
        (lambda m: m(ours[0, 0]), lambda m: m(theirs[0, 0]), "GroupNorm", (1, 3, None, None, 0.1, 2)),
        (lambda m: m(ours), lambda m: m(theirs), "GroupNorm", (2, 3, None, None, 0.1, 2)),
    ]
    for our_call, their_call, name, args in calls:
        assert_raises_as_pytorch(lambda: our_call(getattr(nnq, name)(*args)), lambda: their_call(getattr(their_nnq, name)(*args)))
    assert_raises_as_pytorch(
        lambda: chainrule.ao.nn.intrinsic.quantized.BNReLU2d(3)(ours[0]), lambda: torch.ao.nn.intrinsic.quantized.BNReLU2d(3)(theirs[0])
    )
    our_model, their_model = embedding_models()
    lookups = [
        ("bag", (np.array([0, 1]),)),  # 1-d indices without offsets
        ("bag", (np.array([[0, 1]]), np.array([0]))),  # 2-d indices with offsets
        ("bag", (np.array([0, 7]), np.array([0, 2]))),  # an index past the table
        ("embedding", (np.array([1.0]),)),
        ("embedding", (np.array(1),)),
        ("embedding", (np.array([-1]),)),
    ]
    for layer, args in lookups:
        assert_raises_as_pytorch(
            lambda: getattr(our_model, layer)(*map(chainrule.tensor, args)), lambda: getattr(their_model, layer)(*map(torch.tensor, args))
        )
    assert_raises_as_pytorch(
        lambda: nnq.Embedding.from_float(chainrule.nn.Linear(2, 2)), lambda: their_nnq.Embedding.from_float(torch.nn.Linear(2, 2))
    )
