"""Recurrent layers and cells against torch.nn, from identical weights: outputs, final states,
input, state and parameter gradients, names, shapes, repr and errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from tests.nn.pairs import assert_close, error_of, module_pair, normal, structure


def run_both(ours, theirs, input_array, states=None):
    """Forward both with the same input and optional initial state arrays; returns leaves and outputs."""
    results = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        x = lib.tensor(input_array.copy(), requires_grad=True)
        leaves = [lib.tensor(state.copy(), requires_grad=True) for state in states or ()]
        hx = None if states is None else (tuple(leaves) if len(leaves) == 2 else leaves[0])
        results.append((x, leaves, module(x) if hx is None else module(x, hx)))
    return results


def flatten_outputs(output):
    """output, h_n or (output, (h_n, c_n)) or (h, c) as a flat list of tensors."""
    if isinstance(output, tuple):
        return [part for item in output for part in flatten_outputs(item)]
    return [output]


def assert_same_outputs_and_gradients(parts_ours, parts_theirs, leaves_ours, leaves_theirs, ours, theirs):
    """The outputs equal, then after one backward of a weighted sum of all of them, the gradients of
    the leaves (input, initial states) and of every parameter."""
    assert len(parts_ours) == len(parts_theirs)
    total_ours, total_theirs = 0, 0
    for position, (mine, reference) in enumerate(zip(parts_ours, parts_theirs)):
        assert_close(mine, reference, f"output {position}")
        weights = normal(*reference.shape, seed=position + 1)
        total_ours = total_ours + (mine * chainrule.tensor(weights)).sum()
        total_theirs = total_theirs + (reference * torch.tensor(weights)).sum()
    total_ours.backward()
    total_theirs.backward()
    for position, (mine, reference) in enumerate(zip(leaves_ours, leaves_theirs)):
        assert_close(mine.grad, reference.grad, f"gradient of leaf {position} (input, then initial states)")
    their_parameters = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(their_parameters)
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, their_parameters[name].grad, f"gradient of {name}")


def compare(make, input_array, states=None, training=False):
    ours, theirs = module_pair(make)
    ours.train(training)
    theirs.train(training)
    (x_ours, states_ours, out_ours), (x_theirs, states_theirs, out_theirs) = run_both(ours, theirs, input_array, states)
    assert_same_outputs_and_gradients(
        flatten_outputs(out_ours), flatten_outputs(out_theirs), [x_ours, *states_ours], [x_theirs, *states_theirs], ours, theirs
    )


LAYERS = [
    ("rnn", lambda lib: lib.nn.RNN(3, 4), (5, 2, 3)),
    ("rnn_relu_2_layers", lambda lib: lib.nn.RNN(3, 4, 2, "relu"), (5, 2, 3)),
    ("rnn_no_bias_bidirectional", lambda lib: lib.nn.RNN(3, 4, bias=False, bidirectional=True), (4, 2, 3)),
    ("lstm", lambda lib: lib.nn.LSTM(3, 4), (5, 2, 3)),
    ("lstm_batch_first", lambda lib: lib.nn.LSTM(3, 4, batch_first=True), (2, 5, 3)),
    ("lstm_2_layers_bidirectional", lambda lib: lib.nn.LSTM(3, 4, num_layers=2, bidirectional=True), (4, 3, 3)),
    ("lstm_projection", lambda lib: lib.nn.LSTM(3, 4, num_layers=2, proj_size=2, bidirectional=True), (4, 3, 3)),
    ("lstm_unbatched", lambda lib: lib.nn.LSTM(3, 4, num_layers=2), (5, 3)),
    ("lstm_unbatched_batch_first", lambda lib: lib.nn.LSTM(3, 4, batch_first=True), (5, 3)),
    ("lstm_one_step", lambda lib: lib.nn.LSTM(3, 4), (1, 1, 3)),
    ("gru", lambda lib: lib.nn.GRU(3, 4), (5, 2, 3)),
    ("gru_3_layers_batch_first_bidirectional", lambda lib: lib.nn.GRU(3, 4, 3, batch_first=True, bidirectional=True), (2, 4, 3)),
    ("gru_no_bias_unbatched", lambda lib: lib.nn.GRU(3, 4, bias=False), (6, 3)),
    ("gru_empty_batch", lambda lib: lib.nn.GRU(3, 4), (3, 0, 3)),
]


@pytest.mark.parametrize("make, shape", [case[1:] for case in LAYERS], ids=[case[0] for case in LAYERS])
def test_layer_matches_torch(make, shape):
    compare(make, normal(*shape))


def initial_state(module, shape, seed):
    """Random h0 (and c0 for LSTM) shaped for ``module`` and an input of ``shape``."""
    directions = 2 if module.bidirectional else 1
    batch = () if len(shape) == 2 else ((shape[0],) if module.batch_first else (shape[1],))
    sizes = (module.proj_size or module.hidden_size, module.hidden_size) if module.mode == "LSTM" else (module.hidden_size,)
    return [normal(module.num_layers * directions, *batch, size, seed=seed + position) for position, size in enumerate(sizes)]


@pytest.mark.parametrize("make, shape", [case[1:] for case in LAYERS if "empty" not in case[0]], ids=[case[0] for case in LAYERS if "empty" not in case[0]])
def test_layer_with_initial_state_matches_torch(make, shape):
    compare(make, normal(*shape), initial_state(make(chainrule), shape, seed=7))


CELLS = [
    ("rnn_cell", lambda lib: lib.nn.RNNCell(3, 4), (2, 3), [(2, 4)]),
    ("rnn_cell_relu_no_bias", lambda lib: lib.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"), (2, 3), [(2, 4)]),
    ("rnn_cell_unbatched", lambda lib: lib.nn.RNNCell(3, 4), (3,), [(4,)]),
    ("lstm_cell", lambda lib: lib.nn.LSTMCell(3, 4), (2, 3), [(2, 4), (2, 4)]),
    ("lstm_cell_unbatched", lambda lib: lib.nn.LSTMCell(3, 4), (3,), [(4,), (4,)]),
    ("gru_cell", lambda lib: lib.nn.GRUCell(3, 4), (2, 3), [(2, 4)]),
    ("gru_cell_unbatched_no_bias", lambda lib: lib.nn.GRUCell(3, 4, bias=False), (3,), [(4,)]),
]


@pytest.mark.parametrize("make, shape, state_shapes", [case[1:] for case in CELLS], ids=[case[0] for case in CELLS])
def test_cell_matches_torch(make, shape, state_shapes):
    compare(make, normal(*shape))
    compare(make, normal(*shape), [normal(*state, seed=3 + position) for position, state in enumerate(state_shapes)])


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.RNN(3, 5, 2, "relu", bias=False, batch_first=True, dropout=0.5, bidirectional=True),
        lambda lib: lib.nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True),
        lambda lib: lib.nn.GRU(3, 5),
        lambda lib: lib.nn.RNNCell(3, 5, bias=False, nonlinearity="relu"),
        lambda lib: lib.nn.LSTMCell(3, 5),
        lambda lib: lib.nn.GRUCell(3, 5, bias=False),
    ],
)
def test_names_shapes_repr_and_initialization_follow_torch(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = make(chainrule), make(torch)
    assert repr(ours) == repr(theirs)
    assert {key: tuple(value.shape) for key, value in ours.state_dict().items()} == {
        key: tuple(value.shape) for key, value in theirs.state_dict().items()
    }
    bound = 1 / np.sqrt(5)
    for parameter in ours.parameters():
        assert parameter.dtype == chainrule.float32
        assert 0 < np.abs(parameter._array).max() <= bound


def test_dropout_between_layers_only_in_training():
    ours, theirs = module_pair(lambda lib: lib.nn.LSTM(3, 4, num_layers=2, dropout=1.0))
    data = normal(4, 2, 3)
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        assert_close(ours(chainrule.tensor(data))[0], theirs(torch.tensor(data))[0], f"output, training={training}")
    chainrule.manual_seed(0)
    ours.dropout = 0.5
    ours.train()
    assert not np.allclose(ours(chainrule.tensor(data))[0]._array, theirs(torch.tensor(data))[0].detach().numpy())


def test_dropout_with_one_layer_warns_and_bad_dropout_raises():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)


@pytest.mark.parametrize(
    "make, arguments",
    [
        (lambda lib: lib.nn.LSTM(3, 5), lambda lib: (lib.ones(2, 3, 4, dtype=lib.float32),)),
        (lambda lib: lib.nn.LSTM(3, 5), lambda lib: (lib.ones(2, 3, 3), (lib.ones(1, 3, 5), lib.ones(1, 2, 5)))),
        (lambda lib: lib.nn.GRU(3, 5), lambda lib: (lib.ones(2, 3, 3), lib.ones(1, 2, 5))),
        (lambda lib: lib.nn.GRU(3, 5), lambda lib: (lib.ones(2, 3, 3), lib.ones(2, 5))),
        (lambda lib: lib.nn.GRU(3, 5), lambda lib: (lib.ones(2, 3), lib.ones(1, 2, 5))),
        (lambda lib: lib.nn.RNN(3, 5), lambda lib: (lib.ones(2, 3, 3, dtype=lib.float64),)),
        (lambda lib: lib.nn.RNN(3, 5), lambda lib: (lib.ones(3),)),
        (lambda lib: lib.nn.GRU(3, 5), lambda lib: (lib.ones(0, 2, 3),)),
        (lambda lib: lib.nn.RNNCell(3, 5), lambda lib: (lib.ones(2, 4),)),
        (lambda lib: lib.nn.GRUCell(3, 5), lambda lib: (lib.ones(2, 3), lib.ones(3, 5))),
        (lambda lib: lib.nn.LSTMCell(3, 5), lambda lib: (lib.ones(2, 3), (lib.ones(2, 4), lib.ones(2, 4)))),
        (lambda lib: lib.nn.RNNCell(3, 5), lambda lib: (lib.ones(1, 2, 3),)),
    ],
)
def test_errors_match_torch(make, arguments):
    ours, theirs = error_of(lambda: make(chainrule)(*arguments(chainrule))), error_of(lambda: make(torch)(*arguments(torch)))
    assert theirs is not None and ours is not None
    assert ours[0] is theirs[0]
    assert ours[1].replace("chainrule", "torch") == theirs[1]


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid"),
        lambda lib: lib.nn.GRU(3, 4, proj_size=2),
        lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
        lambda lib: lib.nn.LSTM(3, 0),
        lambda lib: lib.nn.LSTM(3.0, 4),
        lambda lib: lib.nn.LSTM(3, 4, bias=1),
        lambda lib: lib.nn.RNNBase("FOO", 3, 4),
    ],
)
def test_constructor_errors_match_torch(make):
    ours, theirs = error_of(lambda: make(chainrule)), error_of(lambda: make(torch))
    assert ours == theirs


def test_lstm_trained_a_few_steps_matches_torch_losses():
    """A character-level style model (LSTM, then Linear) trained by SGD from identical weights."""

    def make(lib):
        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = lib.nn.LSTM(3, 8, num_layers=2, batch_first=True)
                self.head = lib.nn.Linear(8, 2)

            def forward(self, x):
                output, _ = self.lstm(x)
                return self.head(output[:, -1])

        return Model()

    ours, theirs = module_pair(make)
    inputs, targets = normal(6, 5, 3, seed=1), np.random.default_rng(2).integers(0, 2, 6)
    losses = []
    for lib, model in ((chainrule, ours), (torch, theirs)):
        optimizer = lib.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        history = []
        for _ in range(5):
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(inputs)), lib.tensor(targets))
            loss.backward()
            optimizer.step()
            history.append(loss.item())
        losses.append(history)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)
    assert losses[0][-1] < losses[0][0]


def test_all_weights_and_flatten_parameters_follow_torch():
    ours, theirs = module_pair(lambda lib: lib.nn.GRU(3, 4, num_layers=2, bidirectional=True, bias=False))
    ours.flatten_parameters()
    assert [[tuple(weight.shape) for weight in group] for group in ours.all_weights] == [
        [tuple(weight.shape) for weight in group] for group in theirs.all_weights
    ]
    assert ours.all_weights[3][1] is ours.weight_hh_l1_reverse


def test_second_derivatives_through_time_match_torch():
    """A gradient penalty on an LSTM differentiates backpropagation through time once more."""
    ours, theirs = module_pair(lambda lib: lib.nn.LSTM(2, 3, bidirectional=True))
    array = normal(4, 2, 2, seed=3)
    results = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        x = lib.tensor(array.copy(), requires_grad=True)
        output, (h_n, c_n) = module(x)
        (grad_x,) = lib.autograd.grad((output**2).sum() + c_n.sum(), x, create_graph=True)
        (grad_x * grad_x).sum().backward()
        results.append((x.grad, module.weight_hh_l0_reverse.grad))
    assert_close(results[0][0], results[1][0], "second derivative wrt the input", atol=1e-9)
    assert_close(results[0][1], results[1][1], "second derivative wrt weight_hh_l0_reverse", atol=1e-9)


def test_float32_training_step_and_state_dict_round_trip():
    model = nn.LSTM(3, 4, batch_first=True)
    output, (h_n, c_n) = model(chainrule.randn(2, 5, 3))
    assert output.dtype == chainrule.float32 and output.shape == (2, 5, 4) and h_n.shape == c_n.shape == (1, 2, 4)
    output.sum().backward()
    assert all(parameter.grad is not None for parameter in model.parameters())
    copy = nn.LSTM(3, 4, batch_first=True)
    copy.load_state_dict(model.state_dict())
    probe = chainrule.randn(1, 2, 3)
    np.testing.assert_array_equal(copy(probe)[0]._array, model(probe)[0]._array)


@pytest.mark.parametrize("make", ["LSTMCell", "GRUCell", "RNNCell"])
def test_a_cells_state_of_too_many_dimensions_is_named_as_pytorch_names_it(make):
    for lib in (chainrule, torch):
        cell = getattr(lib.nn, make)(3, 4)
        state = lib.zeros(2, 1, 1, 4)
        with pytest.raises(ValueError) as caught:
            cell(lib.zeros(2, 3), (state, state) if make == "LSTMCell" else state)
        assert str(caught.value) == f"{make}: Expected {'hx[0]' if make == 'LSTMCell' else 'hidden'} to be 1D or 2D, got 4D instead"


@pytest.mark.parametrize("kind, depth", [("GRU", 5), ("RNN", 2), ("LSTM", 4)])
def test_a_step_by_step_layer_has_torchs_nodes_for_each_step(kind, depth):
    """Each step computes as PyTorch's loop (W_hh h + b_hh first, unsafe_chunk, GRU's h' = (h - n) z
    + n): the graph of the last step, down to the products, has PyTorch's nodes and edges (float64:
    an LSTM steps too). Deeper, chainrule's linear lists its weight directly where PyTorch's has a
    TBackward0."""
    graphs = []
    for lib, module in zip((chainrule, torch), module_pair(lambda lib: getattr(lib.nn, kind)(2, 3))):
        x = lib.tensor(normal(3, 2, 2), requires_grad=True)
        output, _ = module(x)
        graphs.append(structure(output.grad_fn.next_functions[2][0], depth))
    assert graphs[0] == graphs[1]
