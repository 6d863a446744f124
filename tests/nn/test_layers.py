"""Every layer and activation module against its torch.nn counterpart, from identical weights."""
from chainrule.nn import functional as F
from chainrule.nn import init
import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import assert_close, check_module, module_pair


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def integers(high, *shape, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape)


LAYERS = [
    ("linear", lambda lib: lib.nn.Linear(4, 3), normal(5, 4)),
    ("linear_3d_input", lambda lib: lib.nn.Linear(4, 3), normal(2, 5, 4)),
    ("linear_no_bias", lambda lib: lib.nn.Linear(4, 3, bias=False), normal(5, 4)),
    ("identity", lambda lib: lib.nn.Identity(7, unused=True), normal(2, 3)),
    ("flatten", lambda lib: lib.nn.Flatten(), normal(2, 3, 4)),
    ("flatten_dims", lambda lib: lib.nn.Flatten(0, 1), normal(2, 3, 4)),
    ("unflatten", lambda lib: lib.nn.Unflatten(1, (2, 2)), normal(3, 4)),
    ("mlp", lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2)), normal(6, 4)),
    ("batchnorm_2d", lambda lib: lib.nn.BatchNorm1d(3), normal(6, 3)),
    ("batchnorm_3d", lambda lib: lib.nn.BatchNorm1d(3), normal(4, 3, 5)),
    ("batchnorm_no_affine", lambda lib: lib.nn.BatchNorm1d(3, affine=False), normal(6, 3)),
    ("batchnorm_cumulative", lambda lib: lib.nn.BatchNorm1d(3, momentum=None), normal(6, 3)),
    ("batchnorm_untracked", lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False), normal(6, 3)),
    ("layernorm", lambda lib: lib.nn.LayerNorm(4), normal(3, 4)),
    ("layernorm_2_dims", lambda lib: lib.nn.LayerNorm((3, 4)), normal(2, 3, 4)),
    ("layernorm_whole_input", lambda lib: lib.nn.LayerNorm(4), normal(4)),
    ("layernorm_no_affine", lambda lib: lib.nn.LayerNorm(4, elementwise_affine=False), normal(3, 4)),
    ("layernorm_no_bias", lambda lib: lib.nn.LayerNorm(4, bias=False), normal(3, 4)),
    ("embedding", lambda lib: lib.nn.Embedding(10, 3), integers(10, 4, 5)),
    ("embedding_padding", lambda lib: lib.nn.Embedding(10, 3, padding_idx=2), np.array([[2, 1, 2], [0, 2, 9]])),
    ("sigmoid", lambda lib: lib.nn.Sigmoid(), normal(3, 4)),
    ("tanh", lambda lib: lib.nn.Tanh(), normal(3, 4)),
    ("relu", lambda lib: lib.nn.ReLU(), normal(3, 4)),
    ("leaky_relu", lambda lib: lib.nn.LeakyReLU(0.2), normal(3, 4)),
    ("elu", lambda lib: lib.nn.ELU(0.5), normal(3, 4)),
    ("gelu", lambda lib: lib.nn.GELU(), normal(3, 4)),
    ("gelu_tanh", lambda lib: lib.nn.GELU(approximate="tanh"), normal(3, 4)),
    ("silu", lambda lib: lib.nn.SiLU(), normal(3, 4)),
    ("softplus", lambda lib: lib.nn.Softplus(beta=2.0, threshold=1.0), normal(3, 4)),
    ("softmax", lambda lib: lib.nn.Softmax(dim=1), normal(3, 4)),
    ("log_softmax", lambda lib: lib.nn.LogSoftmax(dim=-1), normal(2, 3, 4)),
]


@pytest.mark.parametrize("make, input_array", [case[1:] for case in LAYERS], ids=[case[0] for case in LAYERS])
def test_layer_matches_torch_in_training(make, input_array):
    check_module(make, input_array, training=True)


@pytest.mark.parametrize("make, input_array", [case[1:] for case in LAYERS if "batchnorm" in case[0] or case[0] == "mlp"])
def test_layer_matches_torch_in_evaluation(make, input_array):
    check_module(make, input_array, training=False)


def test_batchnorm_evaluation_uses_running_statistics_after_training_steps():
    ours, theirs = module_pair(lambda lib: lib.nn.BatchNorm1d(3))
    for seed in range(3):
        batch = normal(8, 3, seed=seed) * 2 + 1
        ours(chainrule.tensor(batch))
        theirs(torch.tensor(batch))
    assert_close(ours.running_mean, theirs.running_mean, "running_mean")
    assert_close(ours.running_var, theirs.running_var, "running_var")
    assert int(ours.num_batches_tracked) == 3
    ours.eval()
    theirs.eval()
    probe = normal(4, 3, seed=9)
    assert_close(ours(chainrule.tensor(probe)), theirs(torch.tensor(probe)), "evaluation output")


def test_inplace_activations_write_into_their_input():
    x = chainrule.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x) is x
    assert x.tolist() == [0.0, 2.0]
    y = chainrule.tensor([-1.0, 2.0])
    nn.LeakyReLU(0.5, inplace=True)(y)
    assert y.tolist() == [-0.5, 2.0]


def test_linear_default_initialization_bounds():
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    for parameter in (layer.weight, layer.bias):
        assert np.abs(parameter._array).max() <= bound
        assert np.abs(parameter._array).max() > 0.95 * bound
    assert layer.weight.dtype == chainrule.float32
    assert np.std(layer.weight._array) == pytest.approx(bound / np.sqrt(3), rel=0.02)


def test_linear_with_wrong_input_size_names_both_sizes():
    with pytest.raises(RuntimeError, match=r"last dimension 4 \(in_features\) but got shape \(8, 3\)"):
        nn.Linear(4, 2)(chainrule.ones(8, 3))


@pytest.mark.parametrize("shape", [(2,), (2, 2), (5, 6, 2)])
def test_linear_shape_error_carries_pytorchs_words(shape):
    """Code and answers online search for PyTorch's text: it is in the message, with the sizes."""
    import torch

    with pytest.raises(RuntimeError) as expected:
        torch.nn.Linear(3, 4)(torch.ones(shape))
    with pytest.raises(RuntimeError) as ours:
        nn.Linear(3, 4)(chainrule.ones(shape))
    assert str(expected.value) in str(ours.value)


def test_layer_dtype_argument():
    assert nn.Linear(2, 3, dtype=chainrule.float64).weight.dtype == chainrule.float64


def test_batchnorm_rejects_wrong_input():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(chainrule.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(chainrule.ones(1, 3))
    assert nn.BatchNorm1d(3).eval()(chainrule.ones(1, 3)).shape == (1, 3)


def test_layernorm_rejects_mismatched_shape():
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\]"):
        nn.LayerNorm(4)(chainrule.ones(2, 3))


def test_dropout_zeroes_and_rescales_in_training_only():
    chainrule.manual_seed(1)
    layer = nn.Dropout(p=0.25)
    x = chainrule.ones(200, 100, requires_grad=True)
    out = layer(x)
    kept = out._array != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.02)
    np.testing.assert_allclose(out._array[kept], 1 / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad._array, kept / 0.75, rtol=1e-6)
    assert layer.eval()(x) is x


def test_dropout_is_reproducible_from_the_seed_and_checks_p():
    chainrule.manual_seed(3)
    first = nn.Dropout()(chainrule.ones(50))
    chainrule.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout()(chainrule.ones(50))._array, first._array)
    assert (nn.Dropout(1.0)(chainrule.ones(5))._array == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    layer = nn.Embedding(5, 3, padding_idx=-1)
    assert layer.padding_idx == 4
    np.testing.assert_array_equal(layer.weight._array[4], 0)
    layer(chainrule.tensor([4, 1, 4])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad._array[4], 0)
    np.testing.assert_array_equal(layer.weight.grad._array[1], 1)


def test_embedding_rejects_out_of_range_and_float_indices():
    layer = nn.Embedding(5, 3)
    with pytest.raises(IndexError, match="index out of range"):
        layer(chainrule.tensor([1, 5]))
    with pytest.raises(IndexError):
        layer(chainrule.tensor([-1]))
    with pytest.raises(RuntimeError, match="Long"):
        layer(chainrule.tensor([1.0]))


def test_embedding_from_pretrained_is_frozen():
    layer = nn.Embedding.from_pretrained(chainrule.eye(3))
    assert not layer.weight.requires_grad
    assert layer(chainrule.tensor([2])).tolist() == [[0.0, 0.0, 1.0]]


def test_normalization_double_backward_matches_torch():
    """Gradient penalties differentiate a gradient: the fused Normalize node supports that."""
    for make, shape in ((lambda lib: lib.nn.BatchNorm1d(3), (5, 3)), (lambda lib: lib.nn.LayerNorm(4), (3, 4))):
        ours, theirs = module_pair(make)
        array = normal(*shape, seed=4)
        results = []
        for lib, module in ((chainrule, ours), (torch, theirs)):
            x = lib.tensor(array.copy(), requires_grad=True)
            out = (module(x) ** 3).sum()
            (grad_x,) = lib.autograd.grad(out, x, create_graph=True)
            (grad_x * grad_x).sum().backward()
            results.append((x.grad, module.weight.grad))
        (our_x, our_w), (their_x, their_w) = results
        assert_close(our_x, their_x, "second derivative wrt input", atol=1e-8)
        assert_close(our_w, their_w, "second derivative wrt weight", atol=1e-8)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type):
    ours, theirs = module_pair(lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Linear(4, 2)))
    data = normal(5, 3)
    totals = []
    for lib, model in ((chainrule, ours), (torch, theirs)):
        (model(lib.tensor(data)) ** 2).sum().backward()
        totals.append(lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5, norm_type=norm_type))
    assert_close(totals[0], totals[1], "total norm")
    their_parameters = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, their_parameters[name].grad, f"clipped gradient of {name}")


def test_clip_grad_value_and_parameter_vectors():
    model = nn.Linear(2, 2)
    model(chainrule.ones(1, 2) * 100).sum().backward()
    nn.utils.clip_grad_value_(model.parameters(), 0.5)
    assert np.abs(model.weight.grad._array).max() <= 0.5
    vector = nn.utils.parameters_to_vector(model.parameters())
    assert tuple(vector.shape) == (6,)
    nn.utils.vector_to_parameters(chainrule.arange(6.0), model.parameters())
    assert model.weight.tolist() == [[0.0, 1.0], [2.0, 3.0]] and model.bias.tolist() == [4.0, 5.0]
    with pytest.raises(RuntimeError, match="non-finite"):
        model.weight.grad._array[0, 0] = float("nan")
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True)


def test_embedding_checks_padding_idx_in_the_functional_form_too():
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(chainrule.tensor([1, 2]), chainrule.ones(10, 2), padding_idx=12)
    with pytest.raises(AssertionError):
        nn.Embedding.from_pretrained(chainrule.ones(3))
    assert nn.Embedding.from_pretrained(chainrule.ones(3, 2), sparse=False).weight.shape == (3, 2)


def test_small_api_details_follow_pytorch():
    with pytest.raises(RuntimeError, match="running_mean|channels"):
        nn.BatchNorm1d(3)(chainrule.ones(4, 5))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(chainrule.tensor([], dtype=chainrule.int64))
    with pytest.raises(RuntimeError, match="don't multiply up"):
        nn.Unflatten(1, (5, 5))(chainrule.ones(0, 6))
    assert nn.Unflatten(1, (2, -1))(chainrule.ones(3, 6)).shape == (3, 2, 3)
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        nn.Linear(2, 3, device="cuda")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        chainrule.zeros(2, device="cuda")
    assert chainrule.zeros(2, device="cpu").shape == (2,)


@pytest.mark.parametrize("options", [{}, {"track_running_stats": False}, {"affine": False, "track_running_stats": False}])
def test_batchnorm_channel_mismatch_as_pytorch(options):
    import torch

    def outcome(library):
        layer = library.nn.BatchNorm2d(4, **options)
        try:
            return tuple(layer(library.ones(2, 3, 2, 2)).shape)
        except RuntimeError as error:
            return str(error)

    expected, ours = outcome(torch), outcome(chainrule)
    assert ours == expected if isinstance(expected, tuple) else expected in ours
