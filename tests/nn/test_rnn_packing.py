"""nn.utils.rnn (padding, packing, unpacking) and recurrent layers on PackedSequences, against
PyTorch from identical weights: values, lengths, batch sizes, permutations, gradients, errors."""
import pytest
import torch

import chainrule
from chainrule.nn.utils import rnn
from tests.nn.pairs import assert_close, error_of, module_pair, normal
from tests.nn.test_rnn import assert_same_outputs_and_gradients


def both(array):
    return chainrule.tensor(array.copy(), requires_grad=True), torch.tensor(array.copy(), requires_grad=True)


def backward_both(ours, theirs):
    weights = normal(*theirs.shape, seed=7)
    (ours * chainrule.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_values_and_gradients(batch_first, padding_side):
    arrays = [normal(length, 3, seed=length) for length in (4, 1, 3)]
    pairs = [both(array) for array in arrays]
    ours = rnn.pad_sequence([mine for mine, _ in pairs], batch_first, -1.5, padding_side)
    theirs = torch.nn.utils.rnn.pad_sequence([reference for _, reference in pairs], batch_first, -1.5, padding_side)
    assert_close(ours, theirs, "padded")
    backward_both(ours, theirs)
    for mine, reference in pairs:
        assert_close(mine.grad, reference.grad, "gradient")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 5]])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_then_pad_round_trip(batch_first, lengths, as_tensor):
    shape = (4, 5, 2) if batch_first else (5, 4, 2)
    ours_input, their_input = both(normal(*shape, seed=1))
    sorted_lengths = lengths == sorted(lengths, reverse=True)
    ours = rnn.pack_padded_sequence(
        ours_input, chainrule.tensor(lengths) if as_tensor else lengths, batch_first, enforce_sorted=sorted_lengths
    )
    theirs = torch.nn.utils.rnn.pack_padded_sequence(
        their_input, torch.tensor(lengths) if as_tensor else lengths, batch_first, enforce_sorted=sorted_lengths
    )
    assert_close(ours.data, theirs.data, "data")
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    assert ours.batch_sizes.dtype == chainrule.int64
    for name in ("sorted_indices", "unsorted_indices"):
        mine, reference = getattr(ours, name), getattr(theirs, name)
        assert (mine is None and reference is None) or mine.tolist() == reference.tolist(), name
    padded, lengths_out = rnn.pad_packed_sequence(ours, batch_first, padding_value=9.0, total_length=6)
    padded_theirs, lengths_theirs = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first, 9.0, 6)
    assert_close(padded, padded_theirs, "padded")
    assert lengths_out.tolist() == lengths_theirs.tolist() and lengths_out.dtype == chainrule.int64
    backward_both(padded, padded_theirs)
    assert_close(ours_input.grad, their_input.grad, "input gradient")


def test_pack_sequence_and_unpack_sequence():
    arrays = [normal(length, 2, seed=length) for length in (2, 4, 1)]
    ours = rnn.pack_sequence([chainrule.tensor(array) for array in arrays], enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(array) for array in arrays], enforce_sorted=False)
    assert_close(ours.data, theirs.data, "data")
    for mine, array in zip(rnn.unpack_sequence(ours), arrays):
        assert_close(mine, array, "unpacked")
    padded = rnn.pad_sequence([chainrule.tensor(array) for array in arrays])
    for mine, array in zip(rnn.unpad_sequence(padded, chainrule.tensor([2, 4, 1])), arrays):
        assert_close(mine, array, "unpadded")


def test_packed_sequence_is_a_named_tuple_with_conversions():
    packed = rnn.pack_sequence([chainrule.ones(3, 2), chainrule.ones(1, 2)])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert batch_sizes.tolist() == [2, 1, 1] and sorted_indices is None and unsorted_indices is None
    assert packed.to("cpu") is packed and packed.to(chainrule.float32) is packed
    assert packed.double().data.dtype == chainrule.float64 and packed.double().batch_sizes is batch_sizes
    assert not packed.is_cuda and not packed.is_pinned()
    rebuilt = rnn.PackedSequence(data, batch_sizes, chainrule.tensor([1, 0]))
    assert rebuilt.unsorted_indices.tolist() == [1, 0]


def errors(lib):
    padded = lib.ones(3, 2, 1)
    utils = lib.nn.utils.rnn
    return [
        error_of(lambda: utils.pack_padded_sequence(padded, [2, 3])),
        error_of(lambda: utils.pack_padded_sequence(padded, [3, 0])),
        error_of(lambda: utils.pad_packed_sequence(utils.pack_padded_sequence(padded, [3, 1]), total_length=2)),
        error_of(lambda: utils.pad_sequence([])),
        error_of(lambda: utils.pad_sequence([lib.ones(2)], padding_side="up")),
    ]


def test_errors_are_pytorchs():
    assert errors(chainrule) == errors(torch)


LAYERS = [
    ("rnn", lambda lib: lib.nn.RNN(3, 4)),
    ("rnn_relu_2_layers_bidirectional", lambda lib: lib.nn.RNN(3, 4, 2, "relu", bidirectional=True)),
    ("lstm", lambda lib: lib.nn.LSTM(3, 4, batch_first=True)),
    ("lstm_2_layers_bidirectional_proj", lambda lib: lib.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)),
    ("gru_bidirectional", lambda lib: lib.nn.GRU(3, 4, bidirectional=True)),
    ("gru_2_layers", lambda lib: lib.nn.GRU(3, 4, 2, bias=False)),
]


def initial_states(module, batch, seed):
    directions = 2 if module.bidirectional else 1
    output_size = module.proj_size or module.hidden_size
    shapes = [(module.num_layers * directions, batch, output_size)]
    if module.mode == "LSTM":
        shapes.append((module.num_layers * directions, batch, module.hidden_size))
    return [normal(*shape, seed=seed + position) for position, shape in enumerate(shapes)]


@pytest.mark.parametrize("make", [make for _, make in LAYERS], ids=[name for name, _ in LAYERS])
@pytest.mark.parametrize("lengths", [[5, 4, 2], [2, 5, 1, 5]])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_on_packed_sequences_match_pytorch(make, lengths, with_state):
    """The NLP pattern: pack a padded batch, run the layer, unpack; outputs, final states and all
    gradients (input, initial state, parameters) equal PyTorch's."""
    ours_module, their_module = module_pair(make)
    batch_first = ours_module.batch_first
    shape = (len(lengths), 5, 3) if batch_first else (5, len(lengths), 3)
    x_ours, x_theirs = both(normal(*shape, seed=3))
    states = [both(array) for array in initial_states(ours_module, len(lengths), seed=11)] if with_state else []
    results = []
    for lib, module, x, leaves in (
        (chainrule, ours_module, x_ours, [mine for mine, _ in states]),
        (torch, their_module, x_theirs, [reference for _, reference in states]),
    ):
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False)
        hx = None if not leaves else (tuple(leaves) if len(leaves) == 2 else leaves[0])
        output, final = module(packed, hx)
        assert isinstance(output, lib.nn.utils.rnn.PackedSequence)
        padded, _ = lib.nn.utils.rnn.pad_packed_sequence(output, batch_first)
        results.append([padded, *(final if isinstance(final, tuple) else (final,))])
    assert_same_outputs_and_gradients(
        *results, [x_ours] + [mine for mine, _ in states], [x_theirs] + [reference for _, reference in states], ours_module, their_module
    )


def test_packed_input_must_be_two_dimensional():
    """PyTorch fails deep inside with a broadcasting error; chainrule says what is wrong."""
    packed = rnn.PackedSequence(chainrule.ones(3, 2, 2), chainrule.tensor([2, 1]))
    with pytest.raises(RuntimeError, match="input must have 2 dimensions, got 3"):
        chainrule.nn.LSTM(2, 3)(packed)
