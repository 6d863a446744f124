"""A sweep of the recurrent layers (``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` and their cells) and of
``nn.utils.rnn`` (packing and padding) against PyTorch (the oracle).

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names, reprs or exception types. Models are built in PyTorch and their state_dict is
copied into chainrule through numpy, so outputs, final states and gradients must agree. Tests
marked ``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an XPASS
failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn

import chainrule
import chainrule.nn.utils.rnn
from tests.parity.sweep import outcome, raises_as_torch


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (torch.nn.utils.rnn.PackedSequence, chainrule.nn.utils.rnn.PackedSequence)):
        return ["PackedSequence"] + [plain(each) for each in value]
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple) and actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def data(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def pair(name, *args, **kwargs):
    """The torch layer ``nn.<name>(*args, **kwargs)`` and a chainrule one holding the same weights."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn, name)(*args, **kwargs)
        ours = getattr(chainrule.nn, name)(*args, **kwargs)
    ours.load_state_dict({key: chainrule.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    return {torch: theirs, chainrule: ours}


def same_with_weights(name, args, kwargs, run, rtol=1e-5, atol=1e-6):
    """``run(lib, layer)`` with the same weights in both libraries."""
    layers = pair(name, *args, **kwargs)
    expected = plain(run(torch, layers[torch]))
    actual = plain(run(chainrule, layers[chainrule]))
    assert_same(actual, expected, rtol, atol)


def with_grads(lib, layer, inputs, forward):
    """Forward, a weighted sum of every output, backward: the outputs, the input grads and the
    parameter grads (in named_parameters order)."""
    inputs = [lib.tensor(each, requires_grad=True) for each in inputs]
    result = forward(inputs)
    flat = []

    def collect(value):
        if isinstance(value, lib.Tensor):
            flat.append(value)
        elif isinstance(value, (tuple, list)):
            for each in value:
                collect(each)

    collect(result)
    loss = sum((each * lib.tensor(data(*each.shape, seed=7 + index))).sum() for index, each in enumerate(flat))
    loss.backward()
    return [result, [each.grad for each in inputs], [(name, parameter.grad) for name, parameter in layer.named_parameters()]]


# --- whole-sequence layers: outputs, final states and gradients ------------------------------------------

LAYER_CONFIGS = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu")),
    ("RNN", dict(num_layers=2, bidirectional=True)),
    ("RNN", dict(bias=False, batch_first=True)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=2)),
    ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(bias=False)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=3, batch_first=True)),
    ("GRU", dict(bidirectional=True, bias=False)),
]


def _config_id(config):
    name, kwargs = config
    return name + "-" + "-".join(f"{key}={value}" for key, value in kwargs.items())


@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=_config_id)
def test_layer_outputs_states_and_gradients(config):
    name, kwargs = config
    x = data(5, 3, 4) if not kwargs.get("batch_first") else data(3, 5, 4)
    same_with_weights(name, (4, 6), kwargs, lambda lib, layer: with_grads(lib, layer, [x], lambda inputs: layer(inputs[0])))


@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=_config_id)
def test_layer_with_given_initial_state(config):
    name, kwargs = config
    directions = 2 if kwargs.get("bidirectional") else 1
    rows = kwargs.get("num_layers", 1) * directions
    x = data(5, 3, 4) if not kwargs.get("batch_first") else data(3, 5, 4)
    h0 = data(rows, 3, kwargs.get("proj_size") or 6, seed=1)
    c0 = data(rows, 3, 6, seed=2)

    def forward(lib, layer):
        def run(inputs):
            if name == "LSTM":
                return layer(inputs[0], (inputs[1], inputs[2]))
            return layer(inputs[0], inputs[1])

        return with_grads(lib, layer, [x, h0, c0] if name == "LSTM" else [x, h0], run)

    same_with_weights(name, (4, 6), kwargs, forward)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_two_d_input(name, batch_first):
    x = data(5, 4)
    kwargs = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    h0 = data(4, 6, seed=1)

    def run(lib, layer):
        hx = (lib.tensor(h0), lib.tensor(h0 * 0.5)) if name == "LSTM" else lib.tensor(h0)
        return [layer(lib.tensor(x)), layer(lib.tensor(x), hx)]

    same_with_weights(name, (4, 6), kwargs, run)


def test_lstm_unbatched_with_proj_size():
    x = data(5, 4)
    same_with_weights("LSTM", (4, 6), dict(proj_size=2), lambda lib, layer: layer(lib.tensor(x)))


def test_float64_layers_and_module_to_double():
    x = data(5, 2, 4, dtype=np.float64)

    def run(lib, layer):
        layer = layer.double()
        output, (h, c) = layer(lib.tensor(x))
        return [output, h, c, layer.weight_ih_l0.dtype == lib.float64]

    same_with_weights("LSTM", (4, 3), dict(), run)


def test_layer_on_empty_batch():
    x = data(5, 0, 4)
    same_with_weights("GRU", (4, 3), dict(num_layers=2), lambda lib, layer: layer(lib.tensor(x)))


def test_eval_mode_ignores_dropout_between_layers():
    x = data(5, 3, 4)

    def run(lib, layer):
        layer.eval()
        return layer(lib.tensor(x))

    same_with_weights("LSTM", (4, 6), dict(num_layers=3, dropout=0.5), run)


def test_dropout_one_in_training_zeroes_what_the_next_layer_reads():
    # With p=1 dropout every later layer reads zeros: deterministic, so comparable.
    x = data(5, 3, 4)

    def run(lib, layer):
        layer.train()
        return layer(lib.tensor(x))

    same_with_weights("GRU", (4, 6), dict(num_layers=2, dropout=1.0), run)


# --- parameters, state dicts and reprs --------------------------------------------------------------------


@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=_config_id)
def test_parameter_names_order_and_shapes(config):
    name, kwargs = config

    def run(lib):
        layer = getattr(lib.nn, name)(4, 6, **kwargs)
        return [(key, tuple(value.shape), str(value.dtype)) for key, value in layer.named_parameters()] + [
            list(layer.state_dict().keys()),
            list(layer._flat_weights_names),
        ]

    assert run(chainrule) == [each if not isinstance(each, tuple) else (each[0], each[1], each[2].replace("torch", "chainrule")) for each in run(torch)]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_default_initialisation_follows_the_seed(name):
    same_in_both(lambda lib: list(getattr(lib.nn, name)(3, 5, num_layers=2, bidirectional=True).parameters()))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_default_initialisation_follows_the_seed(name):
    same_in_both(lambda lib: list(getattr(lib.nn, name)(3, 5).parameters()))


def test_all_weights_nested_lists():
    layers = pair("LSTM", 4, 6, num_layers=2, bidirectional=True, proj_size=2)
    ours, theirs = layers[chainrule].all_weights, layers[torch].all_weights
    assert isinstance(ours, list) and [len(each) for each in ours] == [len(each) for each in theirs]
    for our_direction, their_direction in zip(ours, theirs):
        assert isinstance(our_direction, list)
        for a, b in zip(our_direction, their_direction):
            assert isinstance(a, chainrule.nn.Parameter)
            assert tuple(a.shape) == tuple(b.shape)
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy())


def test_flatten_parameters_and_reset_parameters_return_none_and_keep_names():
    def run(lib):
        layer = lib.nn.GRU(3, 4, num_layers=2)
        names = [key for key, _ in layer.named_parameters()]
        return [layer.flatten_parameters(), layer.reset_parameters(), names == [key for key, _ in layer.named_parameters()]]

    assert run(chainrule) == run(torch)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_state_dict_round_trip_from_chainrule_to_torch(name):
    chainrule.manual_seed(3)
    ours = getattr(chainrule.nn, name)(4, 6, num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, name)(4, 6, num_layers=2, bidirectional=True)
    theirs.load_state_dict({key: torch.tensor(value.numpy()) for key, value in ours.state_dict().items()})
    x = data(5, 3, 4)
    assert_same(plain(ours(chainrule.tensor(x))), plain(theirs(torch.tensor(x))))


LAYER_REPRS = [
    ("RNN", (10, 20), dict()),
    ("RNN", (10, 20, 2), dict(nonlinearity="relu")),
    ("LSTM", (10, 20), dict(num_layers=2, batch_first=True, dropout=0.5, bidirectional=True)),
    ("LSTM", (10, 20), dict(proj_size=5, bias=False)),
    ("GRU", (10, 20), dict(dropout=0.0, num_layers=3)),
    ("RNNCell", (10, 20), dict(nonlinearity="relu", bias=False)),
    ("LSTMCell", (10, 20), dict()),
    ("GRUCell", (10, 20), dict(bias=False)),
]


@pytest.mark.parametrize("name,args,kwargs", LAYER_REPRS)
def test_repr(name, args, kwargs):
    assert repr(getattr(chainrule.nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


def test_repr_inside_a_model_and_attributes():
    def run(lib):
        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = lib.nn.Embedding(10, 4)
                self.lstm = lib.nn.LSTM(4, 8, batch_first=True)
                self.fc = lib.nn.Linear(8, 2)

        model = Model()
        lstm = model.lstm
        return [repr(model), lstm.mode, lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.bias, lstm.batch_first,
                lstm.dropout, lstm.bidirectional, lstm.proj_size, lib.nn.RNN(2, 3).nonlinearity, lib.nn.RNN(2, 3, nonlinearity="relu").mode]

    assert run(chainrule) == run(torch)


# --- constructor checks and the dropout warning -----------------------------------------------------------


def test_dropout_with_one_layer_warns_as_pytorch():
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.LSTM(3, 4, dropout=0.2)
            lib.nn.LSTM(3, 4, num_layers=2, dropout=0.2)
        return [(each.category, str(each.message)) for each in caught]

    assert run(chainrule) == run(torch)
    assert len(run(torch)) == 1


BAD_CONSTRUCTORS = {
    "dropout_above_one": lambda lib: lib.nn.LSTM(3, 4, num_layers=2, dropout=1.5),
    "dropout_negative": lambda lib: lib.nn.GRU(3, 4, num_layers=2, dropout=-0.1),
    "dropout_bool": lambda lib: lib.nn.GRU(3, 4, num_layers=2, dropout=True),
    "dropout_string": lambda lib: lib.nn.RNN(3, 4, num_layers=2, dropout="0.5"),
    "num_layers_zero": lambda lib: lib.nn.LSTM(3, 4, num_layers=0),
    "hidden_size_zero": lambda lib: lib.nn.LSTM(3, 0),
    "input_size_zero": lambda lib: lib.nn.GRU(0, 4),
    "hidden_size_float": lambda lib: lib.nn.LSTM(3, 4.0),
    "bias_int": lambda lib: lib.nn.RNN(3, 4, bias=1),
    "batch_first_int": lambda lib: lib.nn.LSTM(3, 4, batch_first=1),
    "proj_size_too_big": lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    "proj_size_negative": lambda lib: lib.nn.LSTM(3, 4, proj_size=-1),
    "proj_size_on_gru": lambda lib: lib.nn.GRU(3, 4, proj_size=2),
    "proj_size_on_rnn": lambda lib: lib.nn.RNN(3, 4, proj_size=2),
    "rnn_bad_nonlinearity": lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid"),
    "rnncell_bad_nonlinearity_forward": lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="sigmoid")(lib.zeros(2, 3)),
}


@pytest.mark.parametrize("case", sorted(BAD_CONSTRUCTORS))
def test_bad_constructor_arguments_raise_as_pytorch(case):
    raises_as_torch(BAD_CONSTRUCTORS[case])


def test_rnncell_with_unknown_nonlinearity_constructs():
    # PyTorch only checks the nonlinearity in forward; the constructor accepts it.
    def run(lib):
        cell = lib.nn.RNNCell(3, 4, nonlinearity="sigmoid")
        return [cell.nonlinearity, repr(cell)]

    assert outcome(lambda: run(chainrule)) == outcome(lambda: run(torch))


# --- forward checks ---------------------------------------------------------------------------------------

BAD_FORWARDS = {
    "input_1d": lambda lib: lib.nn.GRU(4, 3)(lib.zeros(4)),
    "input_4d": lambda lib: lib.nn.LSTM(4, 3)(lib.zeros(2, 2, 2, 4)),
    "wrong_feature_size": lambda lib: lib.nn.RNN(4, 3)(lib.zeros(5, 2, 3)),
    "float64_input_float32_layer": lambda lib: lib.nn.LSTM(4, 3)(lib.zeros(5, 2, 4, dtype=lib.float64)),
    "int_input": lambda lib: lib.nn.GRU(4, 3)(lib.zeros(5, 2, 4, dtype=lib.int64)),
    "h0_wrong_batch": lambda lib: lib.nn.GRU(4, 3)(lib.zeros(5, 2, 4), lib.zeros(1, 3, 3)),
    "h0_wrong_layers": lambda lib: lib.nn.RNN(4, 3, num_layers=2)(lib.zeros(5, 2, 4), lib.zeros(1, 2, 3)),
    "h0_wrong_size": lambda lib: lib.nn.RNN(4, 3)(lib.zeros(5, 2, 4), lib.zeros(1, 2, 4)),
    "h0_2d_for_batched": lambda lib: lib.nn.GRU(4, 3)(lib.zeros(5, 2, 4), lib.zeros(2, 3)),
    "h0_3d_for_unbatched": lambda lib: lib.nn.GRU(4, 3)(lib.zeros(5, 4), lib.zeros(1, 1, 3)),
    "lstm_c0_wrong_size": lambda lib: lib.nn.LSTM(4, 3)(lib.zeros(5, 2, 4), (lib.zeros(1, 2, 3), lib.zeros(1, 2, 4))),
    "lstm_proj_h0_hidden_size": lambda lib: lib.nn.LSTM(4, 3, proj_size=2)(lib.zeros(5, 2, 4), (lib.zeros(1, 2, 3), lib.zeros(1, 2, 3))),
    "gru_hx_tuple": lambda lib: lib.nn.GRU(4, 3)(lib.zeros(5, 2, 4), (lib.zeros(1, 2, 3),)),
    "zero_length_sequence": lambda lib: lib.nn.LSTM(4, 3)(lib.zeros(0, 2, 4)),
    "cell_input_3d": lambda lib: lib.nn.GRUCell(4, 3)(lib.zeros(1, 2, 4)),
    "cell_input_0d": lambda lib: lib.nn.RNNCell(4, 3)(lib.tensor(1.0)),
    "cell_wrong_input_size": lambda lib: lib.nn.RNNCell(4, 3)(lib.zeros(2, 5)),
    "cell_hx_wrong_batch": lambda lib: lib.nn.GRUCell(4, 3)(lib.zeros(2, 4), lib.zeros(3, 3)),
    "cell_hx_wrong_hidden": lambda lib: lib.nn.RNNCell(4, 3)(lib.zeros(2, 4), lib.zeros(2, 4)),
    "cell_hx_3d": lambda lib: lib.nn.GRUCell(4, 3)(lib.zeros(2, 4), lib.zeros(1, 2, 3)),
    "lstmcell_hx_3d": lambda lib: lib.nn.LSTMCell(4, 3)(lib.zeros(2, 4), (lib.zeros(1, 2, 3), lib.zeros(2, 3))),
    "lstmcell_c_wrong_hidden": lambda lib: lib.nn.LSTMCell(4, 3)(lib.zeros(2, 4), (lib.zeros(2, 3), lib.zeros(2, 4))),
    "cell_float64_input": lambda lib: lib.nn.GRUCell(4, 3)(lib.zeros(2, 4, dtype=lib.float64)),
    "cell_unbatched_input_batched_hx": lambda lib: lib.nn.RNNCell(4, 3)(lib.zeros(4), lib.zeros(2, 3)),
}


@pytest.mark.parametrize("case", sorted(BAD_FORWARDS))
def test_bad_forward_raises_as_pytorch(case):
    raises_as_torch(BAD_FORWARDS[case])


# --- cells -------------------------------------------------------------------------------------------------

CELL_CONFIGS = [
    ("RNNCell", dict()),
    ("RNNCell", dict(nonlinearity="relu", bias=False)),
    ("LSTMCell", dict()),
    ("LSTMCell", dict(bias=False)),
    ("GRUCell", dict()),
    ("GRUCell", dict(bias=False)),
]


@pytest.mark.parametrize("config", CELL_CONFIGS, ids=_config_id)
def test_cell_steps_and_gradients(config):
    name, kwargs = config
    x, h, c = data(3, 4), data(3, 6, seed=1), data(3, 6, seed=2)

    def run(lib, cell):
        def step(inputs):
            if name == "LSTMCell":
                h1, c1 = cell(inputs[0], (inputs[1], inputs[2]))
                return [h1, c1, cell(inputs[0], (h1, c1)), cell(inputs[0])]
            h1 = cell(inputs[0], inputs[1])
            return [h1, cell(inputs[0], h1), cell(inputs[0])]

        return with_grads(lib, cell, [x, h, c] if name == "LSTMCell" else [x, h], step)

    same_with_weights(name, (4, 6), kwargs, run)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_unbatched_input(name):
    x, h = data(4), data(6, seed=1)

    def run(lib, cell):
        hx = (lib.tensor(h), lib.tensor(h * 2)) if name == "LSTMCell" else lib.tensor(h)
        return [cell(lib.tensor(x)), cell(lib.tensor(x), hx)]

    same_with_weights(name, (4, 6), dict(), run)


def test_cell_parameter_names_with_and_without_bias():
    def run(lib):
        return [[(key, tuple(value.shape)) for key, value in getattr(lib.nn, name)(3, 5, bias=bias).named_parameters()]
                + [getattr(lib.nn, name)(3, 5, bias=bias).bias_ih is None]
                for name in ("RNNCell", "LSTMCell", "GRUCell") for bias in (True, False)]

    assert run(chainrule) == run(torch)


def test_manual_unroll_of_lstmcell_matches_lstm():
    x = data(6, 2, 4)

    def run(lib):
        lib.manual_seed(0)
        lstm = lib.nn.LSTM(4, 5)
        cell = lib.nn.LSTMCell(4, 5)
        cell.load_state_dict({"weight_ih": lstm.weight_ih_l0, "weight_hh": lstm.weight_hh_l0, "bias_ih": lstm.bias_ih_l0, "bias_hh": lstm.bias_hh_l0})
        h = c = lib.zeros(2, 5)
        outs = []
        for t in range(6):
            h, c = cell(lib.tensor(x[t]), (h, c))
            outs.append(h)
        return [lib.stack(outs), lstm(lib.tensor(x))[0]]

    same_in_both(run)


# --- nn.utils.rnn -----------------------------------------------------------------------------------------

LENGTHS = [3, 5, 1, 4]


def _padded(batch_first=False):
    x = data(4, 5, 2)  # (B, L, F)
    for row, length in enumerate(LENGTHS):
        x[row, length:] = 0
    return x if batch_first else x.transpose(1, 0, 2).copy()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths_as", ["list", "tensor", "int32_tensor"])
def test_pack_padded_sequence_unsorted_fields(batch_first, lengths_as):
    x = _padded(batch_first)

    def run(lib):
        lengths = {"list": LENGTHS, "tensor": lib.tensor(LENGTHS), "int32_tensor": lib.tensor(LENGTHS, dtype=lib.int32)}[lengths_as]
        packed = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), lengths, batch_first=batch_first, enforce_sorted=False)
        return [type(packed).__name__, packed._fields, packed]

    same_in_both(run)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_sorted_and_round_trip(batch_first):
    lengths = [5, 4, 4, 1]
    x = data(4, 5, 2) if batch_first else data(5, 4, 2)

    def run(lib):
        packed = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), lengths, batch_first=batch_first)
        padded, out_lengths = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=batch_first)
        return [packed, padded, out_lengths, packed.sorted_indices is None]

    same_in_both(run)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_value,total_length", [(0.0, None), (-1.0, 7), (5, 5)])
def test_pad_packed_sequence_padding_value_and_total_length(batch_first, padding_value, total_length):
    x = _padded(batch_first)

    def run(lib):
        packed = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), LENGTHS, batch_first=batch_first, enforce_sorted=False)
        return list(lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=batch_first, padding_value=padding_value, total_length=total_length))

    same_in_both(run)


def test_packing_gradients_flow_to_padded_input():
    x = _padded(True)

    def run(lib):
        padded = lib.tensor(x, requires_grad=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(padded, LENGTHS, batch_first=True, enforce_sorted=False)
        out, _ = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True)
        (out * lib.tensor(data(*out.shape, seed=3))).sum().backward()
        return padded.grad

    same_in_both(run)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    sequences = [data(length, 3, seed=length) for length in (2, 4, 1)]

    def run(lib):
        return lib.nn.utils.rnn.pad_sequence([lib.tensor(each) for each in sequences], batch_first=batch_first,
                                             padding_value=-2.5, padding_side=padding_side)

    same_in_both(run)


def test_pad_sequence_dtypes_tuple_and_tensor_inputs():
    def run(lib):
        pad = lib.nn.utils.rnn.pad_sequence
        ints = [lib.tensor([1, 2, 3]), lib.tensor([4])]
        return [pad(ints), pad(ints, padding_value=9), pad(tuple(ints), batch_first=True),
                pad(lib.ones(3, 2, dtype=lib.int64)), pad([lib.tensor([True]), lib.tensor([False, True])], batch_first=True)]

    same_in_both(run)


BAD_UTILS = {
    "pad_sequence_empty_list": lambda lib: lib.nn.utils.rnn.pad_sequence([]),
    "pad_sequence_bad_side": lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2)], padding_side="middle"),
    "pad_sequence_mismatched_trailing": lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2, 3), lib.ones(2, 4)]),
    "pack_unsorted_enforced": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 2), [2, 5, 1]),
    "pack_zero_length": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 2), [5, 2, 0]),
    "pack_lengths_count": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 2), [5, 2]),
    "pack_lengths_2d": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 2), lib.tensor([[5, 2, 1]])),
    "pack_sequence_unsorted": lambda lib: lib.nn.utils.rnn.pack_sequence([lib.ones(1), lib.ones(3)]),
    "pad_packed_total_length_short": lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_sequence([lib.ones(3, 2), lib.ones(1, 2)]), total_length=2),
}


@pytest.mark.parametrize("case", sorted(BAD_UTILS))
def test_bad_packing_arguments_raise_as_pytorch(case):
    raises_as_torch(BAD_UTILS[case])


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_unpack_sequence_unpad_sequence(enforce_sorted):
    lengths = (4, 3, 1) if enforce_sorted else (2, 4, 1)
    sequences = [data(length, 3, seed=length) for length in lengths]

    def run(lib):
        utils = lib.nn.utils.rnn
        tensors = [lib.tensor(each) for each in sequences]
        packed = utils.pack_sequence(tensors, enforce_sorted=enforce_sorted)
        padded = utils.pad_sequence(tensors, batch_first=True)
        return [packed, utils.unpack_sequence(packed),
                utils.unpad_sequence(padded, lib.tensor(lengths), batch_first=True),
                utils.unpad_sequence(padded.transpose(0, 1), lib.tensor(lengths))]

    same_in_both(run)


def test_packed_sequence_methods_and_repr():
    def run(lib):
        packed = lib.nn.utils.rnn.pack_sequence([lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0, 5.0])], enforce_sorted=False)
        as_double = packed.double()
        as_long = packed.to(lib.int64)
        return [repr(packed).replace("chainrule", "torch"), as_double.data.dtype == lib.float64, as_long.data.dtype == lib.int64,
                as_double.batch_sizes, as_double.sorted_indices, packed.is_cuda, packed.to(lib.float32) is packed,
                isinstance(packed, tuple), len(packed), packed.cpu() is packed]

    assert_same(plain(run(chainrule)), plain(run(torch)))


def test_packed_sequence_built_directly():
    def run(lib):
        PS = lib.nn.utils.rnn.PackedSequence
        data_ = lib.tensor([[1.0], [2.0], [3.0]])
        first = PS(data_, lib.tensor([2, 1]))
        second = PS(data_, lib.tensor([2, 1]), lib.tensor([1, 0]))
        return [first, second, lib.nn.utils.rnn.pad_packed_sequence(second)]

    same_in_both(run)


# --- PackedSequence into the recurrent layers -------------------------------------------------------------


@pytest.mark.parametrize("config", [
    ("RNN", dict()),
    ("RNN", dict(num_layers=2, bidirectional=True, nonlinearity="relu")),
    ("LSTM", dict(batch_first=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
    ("GRU", dict(bidirectional=True)),
    ("GRU", dict(num_layers=2, batch_first=True)),
], ids=_config_id)
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_packed_input_into_layer(config, enforce_sorted):
    name, kwargs = config
    batch_first = kwargs.get("batch_first", False)
    lengths = LENGTHS if not enforce_sorted else sorted(LENGTHS, reverse=True)
    x = _padded(batch_first)

    def run(lib, layer):
        def forward(inputs):
            packed = lib.nn.utils.rnn.pack_padded_sequence(inputs[0], lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
            output, state = layer(packed)
            padded, out_lengths = lib.nn.utils.rnn.pad_packed_sequence(output, batch_first=batch_first)
            return [output, state, padded, out_lengths]

        return with_grads(lib, layer, [x], forward)

    same_with_weights(name, (2, 6), kwargs, run)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_packed_input_with_given_initial_state_in_batch_order(name):
    x = _padded()
    h0 = data(2, 4, 3, seed=5)

    def run(lib, layer):
        packed = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), LENGTHS, enforce_sorted=False)
        hx = (lib.tensor(h0), lib.tensor(h0 * -1)) if name == "LSTM" else lib.tensor(h0)
        return layer(packed, hx)

    same_with_weights(name, (2, 3), dict(bidirectional=True), run)


def test_packed_input_with_wrong_initial_batch_raises_as_pytorch():
    def run(lib):
        packed = lib.nn.utils.rnn.pack_sequence([lib.ones(3, 2), lib.ones(2, 2)])
        return lib.nn.GRU(2, 3)(packed, lib.zeros(1, 3, 3))

    raises_as_torch(run)


def test_embedding_pack_lstm_classifier_pipeline():
    tokens = np.array([[1, 4, 2, 0, 0], [3, 3, 3, 3, 1], [5, 0, 0, 0, 0]])
    lengths = [3, 5, 1]

    def run(lib):
        lib.manual_seed(0)
        embedding = lib.nn.Embedding(6, 4, padding_idx=0)
        lstm = lib.nn.LSTM(4, 5, batch_first=True, bidirectional=True)
        fc = lib.nn.Linear(10, 2)
        packed = lib.nn.utils.rnn.pack_padded_sequence(embedding(lib.tensor(tokens)), lib.tensor(lengths), batch_first=True, enforce_sorted=False)
        output, (h, c) = lstm(packed)
        logits = fc(lib.cat([h[-2], h[-1]], dim=1))
        loss = lib.nn.functional.cross_entropy(logits, lib.tensor([0, 1, 1]))
        loss.backward()
        unpacked, out_lengths = lib.nn.utils.rnn.pad_packed_sequence(output, batch_first=True, total_length=6)
        return [logits, loss, unpacked, out_lengths, embedding.weight.grad, lstm.weight_hh_l0_reverse.grad]

    same_in_both(run)


# --- more edge cases ---------------------------------------------------------------------------------------


def test_positional_constructor_arguments_and_dtype_keyword():
    def run(lib):
        return [repr(lib.nn.RNN(2, 3, 2, "relu", False, True, 0.5, True)),
                repr(lib.nn.LSTM(2, 3, 2, False, True, 0.5, True, 1)),
                repr(lib.nn.GRU(2, 3, 2, True, False, 0.25)),
                str(lib.nn.LSTM(2, 3, dtype=lib.float64)(lib.ones(4, 1, 2, dtype=lib.float64))[0].dtype).split(".")[-1],
                str(lib.nn.GRUCell(2, 3, dtype=lib.float64).weight_hh.dtype).split(".")[-1]]

    assert run(chainrule) == run(torch)


def test_lenient_inputs_pytorch_accepts():
    def run(lib):
        utils = lib.nn.utils.rnn
        return [utils.pack_padded_sequence(lib.ones(5, 3, 2), [5.0, 2.0, 1.0]).batch_sizes,
                utils.pack_padded_sequence(lib.ones(5, 3, 2), np.array([5, 2, 1])).batch_sizes,
                utils.pack_padded_sequence(lib.ones(3, 2, 2), lib.tensor([3.0, 2.0])).batch_sizes,
                utils.pad_sequence(each for each in [lib.ones(2), lib.ones(3)]),
                utils.pad_sequence([lib.ones(0, 2), lib.ones(2, 2)], batch_first=True),
                utils.pad_sequence([lib.tensor([1, 2]), lib.tensor([3])], padding_value=1.5),
                lib.nn.LSTM(2, 3)(lib.ones(4, 1, 2), [lib.zeros(1, 1, 3), lib.zeros(1, 1, 3)])[1],
                lib.nn.GRU(2, 3)(lib.ones(4, 2, 2), lib.zeros(2, 1, 3).transpose(0, 1))[1],
                utils.pack_sequence([lib.ones(2, 2)])[1],
                lib.nn.GRU(2, 3, num_layers=2, dropout=1).dropout]

    same_in_both(run)


def test_pad_sequence_mixed_dtypes_keep_first_dtype():
    same_in_both(lambda lib: lib.nn.utils.rnn.pad_sequence([lib.tensor([1, 2]), lib.tensor([3.5])]))


def test_pack_empty_batch_raises_runtime_error():
    raises_as_torch(lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(5, 0, 2), []))


def test_lstm_hx_of_three_tensors_raises_runtime_error():
    raises_as_torch(lambda lib: lib.nn.LSTM(2, 3)(lib.ones(4, 1, 2), (lib.zeros(1, 1, 3),) * 3))


def test_replaced_parameter_deepcopy_no_grad_and_return_types():
    import copy

    def run(lib):
        lib.manual_seed(0)
        gru = lib.nn.GRU(2, 3)
        gru.weight_hh_l0 = lib.nn.Parameter(lib.zeros(9, 3))
        lstm = lib.nn.LSTM(2, 3, bidirectional=True)
        clone = copy.deepcopy(lstm)
        x = lib.ones(3, 1, 2)
        with lib.no_grad():
            quiet = lstm(x)
        result = lstm(x)
        return [gru._flat_weights[1].abs().sum().item(), repr(clone), (clone(x)[0] - result[0]).abs().sum().item(),
                quiet[0].requires_grad, quiet[1][0].requires_grad, result[0].requires_grad, result[1][1].requires_grad,
                type(result).__name__, type(result[1]).__name__, type(lib.nn.LSTMCell(2, 3)(lib.ones(1, 2))).__name__,
                type(lib.nn.utils.rnn.pad_packed_sequence(lib.nn.utils.rnn.pack_sequence([lib.ones(2, 2)]))).__name__,
                gru(x)[0]]

    same_in_both(run)
