"""nn API details that code written for PyTorch relies on, each compared with real PyTorch:
functional's keyword names, container return values, the legacy backward hook, LSTMCell's hx
check, the transformer layers' block methods, ConvTranspose's output_size, padding modes with
padding='same', the *_with_indices pools, torch.nn.grad, RNN._flat_weights and lazy parameters."""
import inspect
import re
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.nn import functional as F
from tests.nn.pairs import assert_close, module_pair, to_ours


# Builtins whose docstring names a parameter otherwise than their binding does: the binding wins
# (test_docstring_errata_are_pytorchs_real_keywords shows each).
_DOCSTRING_ERRATA = {"one_hot": {"tensor": "input"}}


def _torch_parameter_names(function):
    """The parameter names of a torch.nn.functional function (from its docstring for builtins)."""
    try:
        return [parameter.name for parameter in inspect.signature(function).parameters.values()]
    except (TypeError, ValueError):
        match = re.match(r"[\w.]+\((.*?)\)", (function.__doc__ or "").strip(), re.S)
        if match is None:
            return None
        errata = _DOCSTRING_ERRATA.get(function.__name__, {})
        names = [part.split("=")[0].strip().lstrip("*") for part in match.group(1).split(",") if part.strip() not in ("", "/")]
        return [errata.get(name, name) for name in names]


def test_docstring_errata_are_pytorchs_real_keywords():
    indices = torch.tensor([1, 0])
    assert torch.nn.functional.one_hot(input=indices).shape == (2, 2)
    with pytest.raises(TypeError):
        torch.nn.functional.one_hot(tensor=indices)


@pytest.mark.parametrize("name", sorted(name for name in F.__all__ if callable(getattr(torch.nn.functional, name, None))))
def test_functional_parameters_have_pytorchs_names(name):
    theirs = _torch_parameter_names(getattr(torch.nn.functional, name))
    if theirs is None or theirs[:1] in (["args"], ["self"]):  # torch's dispatchers: *args, **kwargs
        pytest.skip("torch gives no parameter names")
    theirs = [each for each in theirs if not each.startswith("_")]  # _stacklevel, _random_samples
    ours = [
        parameter.name
        for parameter in inspect.signature(getattr(F, name)).parameters.values()
        if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD) and not parameter.name.startswith("_")
    ]
    assert ours == theirs[: len(ours)], f"F.{name}: {ours} vs torch {theirs}"
    assert ours[:1] == theirs[:1]


def test_functional_takes_pytorchs_keywords():
    x, w = np.random.default_rng(0).standard_normal((2, 3)), np.random.default_rng(1).standard_normal((4, 3))
    assert_close(F.softmax(input=chainrule.tensor(x), dim=1), torch.nn.functional.softmax(input=torch.tensor(x), dim=1), "softmax")
    assert_close(F.linear(input=chainrule.tensor(x), weight=chainrule.tensor(w)), torch.nn.functional.linear(input=torch.tensor(x), weight=torch.tensor(w)), "linear")
    assert_close(F.gelu(input=chainrule.tensor(x)), torch.nn.functional.gelu(input=torch.tensor(x)), "gelu")
    assert_close(F.relu_(input=chainrule.tensor(x)), torch.nn.functional.relu_(input=torch.tensor(x)), "relu_")
    with pytest.raises(TypeError):
        F.softmax(chainrule.tensor(x), input=chainrule.tensor(x), dim=1)


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
def test_containers_return_what_pytorchs_return(library):
    relu, tanh = library.nn.ReLU(), library.nn.Tanh()
    sequence = library.nn.Sequential(relu)
    assert sequence.insert(0, tanh) is sequence
    assert sequence.append(relu) is sequence and sequence.extend([tanh]) is sequence
    assert sequence.pop(0) is tanh and len(sequence) == 3
    del sequence[0]
    assert list(sequence._modules) == ["0", "1"]
    assert type(sequence + sequence) is library.nn.Sequential and len(sequence + sequence) == 4
    assert len(sequence * 3) == 6 and len(2 * sequence) == 4
    sequence *= 2
    assert len(sequence) == 4 and list(sequence._modules) == ["0", "1", "2", "3"]
    sequence += library.nn.Sequential(relu)
    assert len(sequence) == 5
    with pytest.raises(ValueError):
        sequence + library.nn.ModuleList([relu])
    with pytest.raises(ValueError):
        sequence * 0
    modules = library.nn.ModuleList([relu])
    assert modules.insert(0, tanh) is None and modules.append(relu) is modules
    assert modules.pop(0) is tanh
    assert type(modules + [tanh]) is library.nn.ModuleList and len(modules + [tanh]) == 3
    modules += [tanh]
    assert len(modules) == 3


def _legacy_hook_run(library, make, input_array, feed_non_leaf):
    seen, messages = [], []
    module = make(library)
    module.register_backward_hook(lambda module, grad_input, grad_output: seen.append((grad_input, grad_output)))
    x = library.tensor(input_array, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module(x * 1 if feed_non_leaf else x).sum().backward()
    messages = [str(warning.message) for warning in caught if warning.category is FutureWarning]
    return seen, messages


@pytest.mark.parametrize("feed_non_leaf", [False, True])
def test_legacy_backward_hook_matches_pytorch_for_one_operation(feed_non_leaf):
    input_array = np.random.default_rng(0).standard_normal((4, 3))
    seen_ours, warned_ours = _legacy_hook_run(chainrule, lambda library: library.nn.Tanh(), input_array, feed_non_leaf)
    seen_theirs, warned_theirs = _legacy_hook_run(torch, lambda library: library.nn.Tanh(), input_array, feed_non_leaf)
    assert warned_ours == warned_theirs
    assert len(seen_ours) == len(seen_theirs) == 1
    for ours, theirs in zip(seen_ours[0], seen_theirs[0]):
        assert len(ours) == len(theirs)
        for each_ours, each_theirs in zip(ours, theirs):
            assert_close(each_ours, each_theirs, "legacy hook gradient")


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
def test_legacy_and_full_backward_hooks_do_not_mix(library):
    for first, second in (("register_full_backward_hook", "register_backward_hook"), ("register_backward_hook", "register_full_backward_hook")):
        layer = library.nn.Linear(3, 2)
        getattr(layer, first)(lambda *args: None)
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
            getattr(layer, second)(lambda *args: None)


def test_legacy_backward_hook_may_replace_the_gradient():
    layer = nn.Tanh()
    layer.register_backward_hook(lambda module, grad_input, grad_output: tuple(g * 0 for g in grad_input))
    x = chainrule.randn(2, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        layer(x).sum().backward()
    assert (x.grad.numpy() == 0).all()


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
def test_lstm_cell_wants_a_pair_as_hx(library):
    cell = library.nn.LSTMCell(3, 4)
    with pytest.raises(TypeError, match=r"lstm_cell\(\): argument 'hx' \(position 2\) must be tuple of Tensors, not Tensor"):
        cell(library.randn(2, 3), library.randn(2, 4))
    with pytest.raises(RuntimeError, match="lstm_cell expects two hidden states"):
        cell(library.randn(2, 3), (library.randn(2, 4),))
    hidden, state = cell(library.randn(2, 3), [library.randn(2, 4), library.randn(2, 4)])
    assert tuple(hidden.shape) == tuple(state.shape) == (2, 4)


def _keeping_attention(library, layer_class):
    """A blog recipe: a layer whose _sa_block asks for the attention weights and keeps them."""

    class Keeping(layer_class):
        def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
            x, self.kept = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=True, is_causal=is_causal)
            return self.dropout1(x)

    return Keeping


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_layers_call_their_block_methods(norm_first):
    rng = np.random.default_rng(0)
    src, memory = rng.standard_normal((5, 2, 8)), rng.standard_normal((3, 2, 8))
    for kind in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        def make(library):
            return _keeping_attention(library, getattr(library.nn, kind))(8, 2, dim_feedforward=16, dropout=0.0, norm_first=norm_first)

        ours, theirs = module_pair(make)
        inputs_ours = (chainrule.tensor(src),) + ((chainrule.tensor(memory),) if "Decoder" in kind else ())
        inputs_theirs = (torch.tensor(src),) + ((torch.tensor(memory),) if "Decoder" in kind else ())
        assert_close(ours(*inputs_ours), theirs(*inputs_theirs), kind)
        assert_close(ours.kept, theirs.kept, kind + " kept weights")
        for name in ("_sa_block", "_ff_block") + (("_mha_block",) if "Decoder" in kind else ()):
            assert list(inspect.signature(getattr(ours, name)).parameters) == list(inspect.signature(getattr(theirs, name)).parameters)


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_conv_transpose_output_size(spatial):
    size = (5,) * spatial
    input_array = np.random.default_rng(0).standard_normal((1, 2, *size))
    ours, theirs = module_pair(lambda library: getattr(library.nn, f"ConvTranspose{spatial}d")(2, 3, 3, stride=2, padding=1))
    for output_size in ([10] * spatial, [9] * spatial, [1, 3, *[10] * spatial]):
        assert_close(ours(chainrule.tensor(input_array), output_size=output_size), theirs(torch.tensor(input_array), output_size=output_size), str(output_size))
    for wrong in ([11] * spatial, [8] * spatial, [10] * (spatial + 1)):
        with pytest.raises(ValueError) as caught_theirs:
            theirs(torch.tensor(input_array), output_size=wrong)
        with pytest.raises(ValueError) as caught_ours:
            ours(chainrule.tensor(input_array), output_size=wrong)
        assert str(caught_ours.value).split(" (for")[0] == str(caught_theirs.value).split(" (for")[0]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "zeros"])
@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("kernel, dilation, padding", [(3, 1, "same"), (4, 1, "same"), (4, 2, "same"), (3, 2, 2), (2, 1, "valid")])
def test_conv_padding_modes_with_same_padding(mode, spatial, kernel, dilation, padding):
    input_array = np.random.default_rng(0).standard_normal((2, 2, *(7,) * spatial))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: even kernels with 'same' may copy the input
        ours, theirs = module_pair(lambda library: getattr(library.nn, f"Conv{spatial}d")(2, 3, kernel, padding=padding, dilation=dilation, padding_mode=mode))
        assert list(ours._reversed_padding_repeated_twice) == list(theirs._reversed_padding_repeated_twice)
        x_ours, x_theirs = chainrule.tensor(input_array, requires_grad=True), torch.tensor(input_array, requires_grad=True)
        out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert_close(out_ours, out_theirs, "output")
    out_ours.sum().backward()
    out_theirs.sum().backward()
    assert_close(x_ours.grad, x_theirs.grad, "input gradient")
    assert_close(ours.weight.grad, theirs.weight.grad, "weight gradient")


@pytest.mark.parametrize("name, size, argument", [
    ("max_pool1d_with_indices", (1, 2, 9), 2),
    ("max_pool2d_with_indices", (1, 2, 6, 6), 2),
    ("max_pool3d_with_indices", (1, 2, 4, 4, 4), 2),
    ("adaptive_max_pool1d_with_indices", (1, 2, 9), 4),
    ("adaptive_max_pool2d_with_indices", (1, 2, 6, 6), 3),
    ("adaptive_max_pool3d_with_indices", (1, 2, 4, 4, 4), 2),
])
def test_pools_with_indices(name, size, argument):
    input_array = np.random.default_rng(0).standard_normal(size)
    values_ours, indices_ours = getattr(F, name)(chainrule.tensor(input_array), argument)
    values_theirs, indices_theirs = getattr(torch.nn.functional, name)(torch.tensor(input_array), argument)
    assert_close(values_ours, values_theirs, "values")
    assert (indices_ours.numpy() == indices_theirs.numpy()).all()


@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_nn_grad_matches_torch(spatial):
    rng = np.random.default_rng(spatial)
    input_array = rng.standard_normal((2, 4, *(7,) * spatial))
    weight_array = rng.standard_normal((6, 2, *(3,) * spatial))
    options = (2, 1, 1, 2)  # stride, padding, dilation, groups
    output_size = (2, 6, *(4,) * spatial)
    grad_output = rng.standard_normal(output_size)
    ours = getattr(nn.grad, f"conv{spatial}d_input")(input_array.shape, chainrule.tensor(weight_array), chainrule.tensor(grad_output), *options)
    theirs = getattr(torch.nn.grad, f"conv{spatial}d_input")(input_array.shape, torch.tensor(weight_array), torch.tensor(grad_output), *options)
    assert_close(ours, theirs, "input gradient")
    ours = getattr(nn.grad, f"conv{spatial}d_weight")(chainrule.tensor(input_array), weight_array.shape, chainrule.tensor(grad_output), *options)
    theirs = getattr(torch.nn.grad, f"conv{spatial}d_weight")(torch.tensor(input_array), weight_array.shape, torch.tensor(grad_output), *options)
    assert_close(ours, theirs, "weight gradient")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_rnn_flat_weights(kind):
    ours, theirs = module_pair(lambda library: getattr(library.nn, kind)(3, 4, num_layers=2, bidirectional=True))
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert all(weight is getattr(ours, name) for weight, name in zip(ours._flat_weights, ours._flat_weights_names))
    for weight_ours, weight_theirs in zip(ours._flat_weights, theirs._flat_weights):
        assert_close(weight_ours, weight_theirs, "flat weight")


@pytest.mark.parametrize("library", [torch, chainrule], ids=["torch", "chainrule"])
def test_uninitialized_parameters_refuse_to_be_used(library):
    layer = library.nn.LazyLinear(3)
    weight = layer.weight
    assert type(weight) is library.nn.parameter.UninitializedParameter
    for use in (weight.numel, lambda: weight + 1, lambda: weight * 2, lambda: library.nn.init.normal_(weight), lambda: len(weight)):
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            use()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        weight.shape
    assert [repr(value) for value in layer.state_dict().values()] == ["<UninitializedParameter>"] * 2
    layer(library.ones(2, 5))
    assert type(layer.weight) is library.nn.Parameter and tuple(layer.weight.shape) == (3, 5)
    assert layer.weight.numel() == 15
    assert type(library.nn.parameter.UninitializedBuffer()).__name__ == "UninitializedBuffer"


def test_lazy_parameters_load_from_a_state_dict():
    theirs = torch.nn.Linear(5, 3).double()
    ours = nn.LazyLinear(3).double()
    ours.load_state_dict({key: to_ours(value) for key, value in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 5))
    assert_close(ours(chainrule.tensor(x)), theirs(torch.tensor(x)), "output")


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.relu([1.0, 2.0]),
    lambda lib: lib.nn.functional.conv2d(None, lib.ones(1, 1, 1, 1)),
    lambda lib: lib.nn.functional.cross_entropy([1.0], lib.tensor([0])),
    lambda lib: lib.nn.MaxPool2d(2, return_indices=True)(print),
    lambda lib: lib.nn.functional.softmax([1.0], 0),  # PyTorch's reads input.softmax: AttributeError
    lambda lib: lib.nn.functional.normalize(3),
    lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(4, 3), 1.5),
    lambda lib: lib.kron(lib.ones(2), 2.0),
    lambda lib: lib.cross(lib.ones(3), None),
    lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 3), 1.5),
    lambda lib: lib.nn.functional.nll_loss(lib.ones(2, 3), None),
    lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (3,), weight=[1.0, 1.0, 1.0]),
    lambda lib: lib.nn.functional.kl_div(lib.ones(2, 3), 1.0),
    lambda lib: lib.nn.functional.mse_loss(lib.ones(2, 3), None),  # PyTorch's reads target.size(): AttributeError
], ids=["relu", "conv2d", "cross_entropy", "max_pool2d", "softmax", "normalize", "linear bias", "kron", "cross", "cross_entropy target",
        "nll_loss target", "layer_norm weight", "kl_div target", "mse_loss target"])
def test_a_functional_given_no_tensor_raises_pytorchs_exception_type(call):
    raised = []
    for lib in (torch, chainrule):
        with pytest.raises((TypeError, AttributeError)) as error:
            call(lib)
        raised.append(error.type is AttributeError)
    assert raised[0] == raised[1]
