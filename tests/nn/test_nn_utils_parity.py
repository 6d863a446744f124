"""torch.nn.utils as course and real-world code calls it, run the same way under PyTorch and
chainrule: gradient clipping, flat parameter vectors, weight norm on 1-d tensors and old
checkpoints, padded and packed sequences fed to recurrent layers, functional_call and batch-norm
fusion. Values, dtypes, gradients and exception types are compared with PyTorch."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401 - PyTorch does not import prune with nn.utils

import chainrule
from tests.nn.pairs import assert_close, error_of, normal

LIBRARIES = (chainrule, torch)


def both(make):
    """``make(library)`` for chainrule, then for PyTorch."""
    return make(chainrule), make(torch)


def filled(lib, module, seed=3):
    """``module`` in float64 with every parameter set to the same uniform values in both libraries."""
    module = module.double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for _, parameter in sorted(module.named_parameters()):
            parameter.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(parameter.shape))))
    return module


def parameters_with_grads(lib, count=3):
    rng = np.random.default_rng(1)
    parameters = []
    for scale in range(1, count + 1):
        parameter = lib.nn.Parameter(lib.tensor(rng.standard_normal((3, 4)).astype(np.float32)))
        parameter.grad = lib.tensor(rng.standard_normal((3, 4)).astype(np.float32)) * scale
        parameters.append(parameter)
    return parameters


# --- gradient clipping -------------------------------------------------------------------------

@pytest.mark.parametrize("norm_type", [2, 2.0, 1, 3, 0.5, float("inf"), "inf"])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_matches_torch(norm_type, foreach):
    def clip(lib):
        parameters = parameters_with_grads(lib)
        parameters[1].grad = None  # a parameter that got no gradient is skipped
        total = lib.nn.utils.clip_grad_norm_(parameters, 1.0, norm_type=norm_type, foreach=foreach)
        return total, [parameter.grad for parameter in parameters]

    (total_ours, grads_ours), (total_theirs, grads_theirs) = both(clip)
    assert total_ours.dtype.is_floating_point and total_ours.ndim == 0 and not total_ours.requires_grad
    assert str(total_ours.dtype).split(".")[-1] == str(total_theirs.dtype).split(".")[-1]
    assert_close(total_ours, total_theirs, "total norm", rtol=1e-6, atol=1e-6)
    assert grads_ours[1] is None
    for ours, theirs in zip(grads_ours[::2], grads_theirs[::2]):
        assert_close(ours, theirs, "clipped gradient", rtol=1e-6, atol=1e-6)


def test_clip_grad_norm_single_tensor_empty_list_and_nonfinite():
    def run(lib):
        single = parameters_with_grads(lib, 1)[0]
        total = lib.nn.utils.clip_grad_norm_(single, 0.5)
        empty = lib.nn.utils.clip_grad_norm_([], 1.0)
        return total, single.grad, empty

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, "single tensor / empty list", rtol=1e-6, atol=1e-6)

    def nonfinite(lib):
        parameters = parameters_with_grads(lib)
        parameters[0].grad[0, 0] = float("inf")
        return lambda: lib.nn.utils.clip_grad_norm_(parameters, 1.0, error_if_nonfinite=True)

    ours, theirs = both(nonfinite)
    assert error_of(ours)[0] is error_of(theirs)[0] is RuntimeError


def test_clip_grad_value_and_get_total_norm():
    def run(lib):
        parameters = parameters_with_grads(lib)
        lib.nn.utils.clip_grad_value_(parameters, clip_value=0.5)
        grads = [parameter.grad for parameter in parameters]
        total = lib.nn.utils.get_total_norm(grads, 3.0)
        lib.nn.utils.clip_grads_with_norm_(parameters, 1.0, total)
        return [total] + [parameter.grad for parameter in parameters]

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, "clip_grad_value_ / get_total_norm / clip_grads_with_norm_", rtol=1e-6, atol=1e-6)


def test_parameters_to_vector_round_trip():
    def run(lib):
        model = filled(lib, lib.nn.Linear(4, 3))
        vector = lib.nn.utils.parameters_to_vector(model.parameters())
        (vector * lib.arange(15.0, dtype=lib.float64)).sum().backward()
        lib.nn.utils.vector_to_parameters(lib.arange(15.0, dtype=lib.float64), model.parameters())
        return vector, model.weight.grad, model.weight, model.bias

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, "parameters_to_vector / vector_to_parameters")
    ours, theirs = both(lambda lib: lambda: lib.nn.utils.vector_to_parameters([1.0], lib.nn.Linear(1, 1).parameters()))
    assert error_of(ours)[0] is error_of(theirs)[0] is TypeError


# --- weight norm of a 1-d tensor, and old checkpoints ------------------------------------------

@pytest.mark.parametrize("form", ["old", "parametrization"])
def test_weight_norm_of_a_bias_is_one_magnitude_per_element(form):
    """A 1-d tensor with dim=0 has one norm per element: g = |v| (shape (3,), not (1,))."""

    def run(lib):
        model = filled(lib, lib.nn.Linear(4, 3))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            if form == "old":
                lib.nn.utils.weight_norm(model, name="bias")
                magnitude, direction = model.bias_g, model.bias_v
            else:
                lib.nn.utils.parametrizations.weight_norm(model, name="bias")
                magnitude, direction = model.parametrizations.bias.original0, model.parametrizations.bias.original1
        out = model(lib.tensor(normal(2, 4)))
        (out * lib.tensor(normal(2, 3, seed=1))).sum().backward()
        return magnitude, direction, out, magnitude.grad, direction.grad

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, f"{form} weight_norm of a bias")


def test_norm_except_dim_of_a_vector_passes_gradcheck():
    from chainrule.nn.utils.weight_norm import weight_from_magnitude_and_direction

    g = chainrule.tensor(normal(3), requires_grad=True)
    v = chainrule.tensor(normal(3, seed=1), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda g, v: weight_from_magnitude_and_direction(g, v, 0), (g, v))


def test_parametrized_weight_norm_loads_an_old_weight_norm_checkpoint():
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            old = lib.nn.utils.weight_norm(filled(lib, lib.nn.Linear(4, 3)))
        state = old.state_dict()
        new = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(4, 3).double())
        new.load_state_dict(state)
        return sorted(state), new.weight, new(lib.tensor(normal(2, 4)))

    (keys_ours, *ours), (keys_theirs, *theirs) = both(run)
    assert keys_ours == keys_theirs == ["bias", "weight_g", "weight_v"]
    for value_ours, value_theirs in zip(ours, theirs):
        assert_close(value_ours, value_theirs, "weight after loading an old checkpoint")


# --- padded and packed sequences ---------------------------------------------------------------

LENGTHS = (2, 5, 3)


def sequences(lib):
    return [lib.tensor(normal(length, 3, seed=length), requires_grad=True) for length in LENGTHS]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_values_and_gradients(batch_first, padding_side):
    def run(lib):
        inputs = sequences(lib)
        padded = lib.nn.utils.rnn.pad_sequence(inputs, batch_first=batch_first, padding_value=-1.0, padding_side=padding_side)
        (padded * lib.arange(float(padded.numel()), dtype=lib.float64).reshape(padded.shape)).sum().backward()
        return [padded] + [sequence.grad for sequence in inputs]

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, "pad_sequence")


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 1), [5, 3]),  # one length short
        lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 1), lib.tensor([[5, 3, 2]])),  # 2-d lengths
        lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 1), [2, 5, 3]),  # unsorted
        lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 1), [5, 3, 0]),  # empty sequence
        lambda lib: lib.nn.utils.rnn.pad_sequence([lib.tensor(1.0), lib.tensor(2.0)]),  # 0-d sequences
        lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2, 1)], padding_side="middle"),
        lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
            lib.nn.utils.rnn.pack_sequence([lib.ones(3, 1), lib.ones(2, 1)]), total_length=2
        ),
    ],
)
def test_packing_errors_match_torch(call):
    ours, theirs = error_of(lambda: call(chainrule)), error_of(lambda: call(torch))
    assert ours is not None and theirs is not None and ours[0] is theirs[0], (ours, theirs)


def test_pack_padded_sequence_error_texts():
    assert error_of(lambda: chainrule.nn.utils.rnn.pack_padded_sequence(chainrule.zeros(5, 3, 1), [5, 3]))[1] == (
        "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)"
    )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pack_then_pad_round_trip_with_gradients(batch_first, total_length):
    def run(lib):
        inputs = sequences(lib)
        padded = lib.nn.utils.rnn.pad_sequence(inputs, batch_first=batch_first)
        packed = lib.nn.utils.rnn.pack_padded_sequence(padded, lib.tensor(LENGTHS), batch_first=batch_first, enforce_sorted=False)
        out, lengths = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=batch_first, padding_value=-2.0, total_length=total_length)
        (out * lib.arange(float(out.numel()), dtype=lib.float64).reshape(out.shape)).sum().backward()
        return [packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices, out, lengths] + [s.grad for s in inputs]

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, "pack / pad round trip")
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


def test_unpack_and_unpad_sequence():
    def run(lib):
        packed = lib.nn.utils.rnn.pack_sequence(sequences(lib), enforce_sorted=False)
        padded = lib.nn.utils.rnn.pad_sequence(sequences(lib), batch_first=True)
        return lib.nn.utils.rnn.unpack_sequence(packed) + lib.nn.utils.rnn.unpad_sequence(padded, lib.tensor(LENGTHS), batch_first=True)

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, "unpack_sequence / unpad_sequence")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_layers_on_packed_sequences(kind, bidirectional, batch_first):
    """The usual embed -> pack -> LSTM -> unpack pattern, from identical weights: outputs, final
    states (each sequence's state at its own last step) and every gradient."""

    def run(lib):
        layer = filled(lib, getattr(lib.nn, kind)(3, 4, num_layers=2, bidirectional=bidirectional, batch_first=batch_first))
        inputs = sequences(lib)
        padded = lib.nn.utils.rnn.pad_sequence(inputs, batch_first=batch_first)
        packed = lib.nn.utils.rnn.pack_padded_sequence(padded, LENGTHS, batch_first=batch_first, enforce_sorted=False)
        output, state = layer(packed)
        assert isinstance(output, lib.nn.utils.rnn.PackedSequence)
        unpacked, _ = lib.nn.utils.rnn.pad_packed_sequence(output, batch_first=batch_first)
        states = state if isinstance(state, tuple) else (state,)
        ((unpacked**2).sum() + sum((s * s).sum() * 0.5 for s in states)).backward()
        gradients = [parameter.grad for _, parameter in sorted(layer.named_parameters())]
        return [unpacked, *states, *(s.grad for s in inputs), *gradients]

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, f"packed {kind}")


# --- functional_call and fusion ------------------------------------------------------------------

def test_functional_call_reports_repeated_names_in_order():
    def call(lib):
        model = lib.nn.Linear(2, 2)
        parameters = dict(model.named_parameters())
        return lambda: lib.func.functional_call(model, (parameters, parameters), (lib.ones(1, 2),))

    ours, theirs = both(call)
    assert error_of(ours)[0] is error_of(theirs)[0] is ValueError
    assert error_of(ours)[1] == error_of(theirs)[1]

    def not_dicts(lib):
        model = lib.nn.Linear(2, 2)
        return lambda: lib.func.functional_call(model, ([("weight", lib.ones(2, 2))],), (lib.ones(1, 2),))

    ours, theirs = both(not_dicts)
    assert error_of(ours) == (ValueError, error_of(theirs)[1])


def test_functional_call_gradients_match_torch():
    def run(lib):
        model = filled(lib, lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2)))
        parameters = {name: value.detach().clone().requires_grad_() for name, value in model.named_parameters()}
        lib.func.functional_call(model, parameters, (lib.tensor(normal(2, 4)),)).pow(2).sum().backward()
        return [parameters[name].grad for name in sorted(parameters)]

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs, "functional_call gradient")


def test_fuse_linear_bn_eval_mismatch_message():
    ours, theirs = both(lambda lib: lambda: lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(4, 5).eval(), lib.nn.BatchNorm1d(3).eval()))
    assert error_of(ours) == error_of(theirs)


def test_vector_to_parameters_makes_pieces_of_the_vector_the_parameters_data_as_pytorch():
    for lib in (chainrule, torch):
        layer = lib.nn.Linear(2, 2)
        vector = lib.arange(6.0, dtype=lib.float64)
        lib.nn.utils.vector_to_parameters(vector, layer.parameters())
        vector[0] = 100.0  # the parameters view the vector's memory, in its dtype
        assert layer.weight[0, 0].item() == 100.0 and layer.weight.dtype == lib.float64
        assert isinstance(layer.weight, lib.nn.Parameter) and layer.weight.requires_grad


def test_clipping_an_empty_generator_warns_at_the_caller_as_pytorch():
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur") as caught:
            assert lib.nn.utils.clip_grad_norm_((p for p in []), 1.0).item() == 0.0
        assert caught[0].filename == __file__


@pytest.mark.parametrize("dims", [2, 3])
def test_convolution_weights_converted_to_channels_last_as_pytorch(dims):
    for lib in (chainrule, torch):
        convolution, transposed = getattr(lib.nn, f"Conv{dims}d"), getattr(lib.nn, f"ConvTranspose{dims}d")
        model = lib.nn.Sequential(convolution(4, 3, 3), lib.nn.ReLU(), lib.nn.Sequential(transposed(3, 2, 2)))
        before = [layer.weight.tolist() for layer in (model[0], model[2][0])]
        memory_format = lib.channels_last if dims == 2 else lib.channels_last_3d
        convert = getattr(lib.nn.utils, f"convert_conv{dims}d_weight_memory_format")
        assert convert(model, memory_format) is model
        for layer, values in zip((model[0], model[2][0]), before):
            assert layer.weight.is_contiguous(memory_format=memory_format) and layer.weight.tolist() == values
            assert isinstance(layer.weight, lib.nn.Parameter)
