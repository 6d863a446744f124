"""torch.lstm / gru / rnn_tanh / rnn_relu and their cells (and torch._VF, through which library
RNN modules call them) against PyTorch: the same flat weights give the same outputs, final states
and gradients, for padded and packed inputs, and the same as the nn module that owns the weights."""
import itertools

import numpy as np
import pytest
import torch

import chainrule
from tests.nn.pairs import assert_close, error_of, module_pair, normal

MODULES = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}
FUNCTIONS = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu"}


def _make(mode, layers, bidirectional, bias, proj):
    options = dict(num_layers=layers, bidirectional=bidirectional, bias=bias)
    if mode.startswith("RNN"):
        options["nonlinearity"] = mode[4:].lower()
    if proj:
        options["proj_size"] = 2
    return lambda lib: getattr(lib.nn, MODULES[mode])(3, 4, **options)


def _states(mode, layers, bidirectional, proj, batch, seed):
    rows = layers * (2 if bidirectional else 1)
    sizes = (2 if proj else 4, 4) if mode == "LSTM" else (4,)
    return [normal(rows, batch, size, seed=seed + index) for index, size in enumerate(sizes)]


def _run(lib, module, mode, input_array, state_arrays, batch_first, layers, bidirectional, bias, packed_lengths=None):
    x = lib.tensor(input_array, requires_grad=True)
    states = [lib.tensor(state, requires_grad=True) for state in state_arrays]
    hx = states if mode == "LSTM" else states[0]
    function = getattr(lib, FUNCTIONS[mode])
    if packed_lengths is not None:
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, packed_lengths, batch_first=batch_first)
        results = function(packed.data, packed.batch_sizes, hx, module._flat_weights, bias, layers, 0.0, False, bidirectional)
    else:
        results = function(x, hx, module._flat_weights, bias, layers, 0.0, False, bidirectional, batch_first)
    total = sum((part * lib.tensor(normal(*part.shape, seed=position + 7))).sum() for position, part in enumerate(results))
    total.backward()
    return results, [x.grad, *[state.grad for state in states], *[weight.grad for weight in module._flat_weights]]


CASES = [
    (mode, layers, bidirectional, bias, proj, batch_first, packed)
    for mode, layers, bidirectional, bias, proj, batch_first, packed in itertools.product(
        FUNCTIONS, (1, 2), (False, True), (True, False), (False, True), (False, True), (False, True)
    )
    if not (proj and mode != "LSTM")
]


@pytest.mark.parametrize("mode, layers, bidirectional, bias, proj, batch_first, packed", CASES)
def test_recurrent_function_matches_pytorch_and_the_module(mode, layers, bidirectional, bias, proj, batch_first, packed):
    ours, theirs = module_pair(_make(mode, layers, bidirectional, bias, proj))
    length, batch = 5, 3
    input_array = normal(*((batch, length, 3) if batch_first else (length, batch, 3)), seed=1)
    state_arrays = _states(mode, layers, bidirectional, proj, batch, seed=2)
    lengths = [5, 4, 2] if packed else None
    mine, my_grads = _run(chainrule, ours, mode, input_array, state_arrays, batch_first, layers, bidirectional, bias, lengths)
    reference, reference_grads = _run(torch, theirs, mode, input_array, state_arrays, batch_first, layers, bidirectional, bias, lengths)
    assert len(mine) == len(reference) == (3 if mode == "LSTM" else 2)
    for position, (got, expected) in enumerate(zip(mine, reference)):
        assert_close(got, expected, f"result {position}")
    for position, (got, expected) in enumerate(zip(my_grads, reference_grads)):
        assert_close(got, expected, f"gradient {position}")
    if not packed:  # the module computes the same from the same weights
        hx = [chainrule.tensor(state) for state in state_arrays]
        ours.batch_first = batch_first
        output, final = ours(chainrule.tensor(input_array), tuple(hx) if mode == "LSTM" else hx[0])
        assert_close(output, mine[0].detach(), "module output")
        assert_close(final[0] if mode == "LSTM" else final, mine[1].detach(), "module h_n")


@pytest.mark.parametrize("mode", FUNCTIONS)
@pytest.mark.parametrize("bias", (True, False))
def test_cells_match_pytorch(mode, bias):
    cell_class = {"LSTM": "LSTMCell", "GRU": "GRUCell"}.get(mode, "RNNCell")
    options = {} if not mode.startswith("RNN") else {"nonlinearity": mode[4:].lower()}
    ours, theirs = module_pair(lambda lib: getattr(lib.nn, cell_class)(3, 4, bias=bias, **options))
    input_array, hidden, cell = normal(2, 3, seed=3), normal(2, 4, seed=4), normal(2, 4, seed=5)
    results = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        x, h, c = (lib.tensor(array, requires_grad=True) for array in (input_array, hidden, cell))
        hx = (h, c) if mode == "LSTM" else h
        function = getattr(lib, FUNCTIONS[mode] + "_cell")
        out = function(x, hx, module.weight_ih, module.weight_hh, module.bias_ih, module.bias_hh)
        parts = out if mode == "LSTM" else (out,)
        sum((part * lib.tensor(normal(*part.shape, seed=9 + i))).sum() for i, part in enumerate(parts)).backward()
        module_out = module(x.detach(), (h.detach(), c.detach()) if mode == "LSTM" else h.detach())
        results.append((parts, [x.grad, h.grad, module.weight_ih.grad], module_out))
    (mine, my_grads, my_module), (reference, reference_grads, _) = results
    for position, (got, expected) in enumerate(zip(mine, reference)):
        assert_close(got, expected, f"cell result {position}")
    for position, (got, expected) in enumerate(zip(my_grads, reference_grads)):
        assert_close(got, expected, f"cell gradient {position}")
    assert_close(my_module[0] if mode == "LSTM" else my_module, mine[0].detach(), "the module's step")


def test_vf_reaches_the_functions_as_library_rnns_call_them():
    """An RNN module written after PyTorch's calls ``_VF.lstm(input, hx, self._flat_weights, ...)``."""
    import chainrule._VF as VF
    import torch._VF as torch_VF

    assert VF.lstm is chainrule.lstm and VF.gru is chainrule.gru and chainrule._VF is VF
    ours, theirs = module_pair(_make("LSTM", 1, False, True, False))
    x = normal(4, 2, 3, seed=6)
    h = [normal(1, 2, 4, seed=7), normal(1, 2, 4, seed=8)]
    mine = VF.lstm(chainrule.tensor(x), [chainrule.tensor(a) for a in h], ours._flat_weights, True, 1, 0.0, False, False, False)
    reference = torch_VF.lstm(torch.tensor(x), [torch.tensor(a) for a in h], theirs._flat_weights, True, 1, 0.0, False, False, False)
    for got, expected in zip(mine, reference):
        assert_close(got, expected, "_VF.lstm")
    assert error_of(lambda: VF.no_such_operation)[0] is AttributeError


def test_dropout_between_layers_draws_as_pytorch():
    ours, theirs = module_pair(_make("GRU", 2, False, True, False))
    x, h = normal(4, 2, 3, seed=10), normal(2, 2, 4, seed=11)
    results = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        lib.manual_seed(3)
        results.append(lib.gru(lib.tensor(x), lib.tensor(h), module._flat_weights, True, 2, 0.5, True, False, False))
    for got, expected in zip(*results):
        assert_close(got, expected, "gru with dropout")


@pytest.mark.parametrize("call", [
    lambda lib, m: lib.lstm(lib.zeros(4, 2, 3, dtype=lib.float64), [lib.zeros(1, 2, 4, dtype=lib.float64)], m._flat_weights, True, 1, 0.0, False, False, False),
    lambda lib, m: lib.lstm_cell(lib.zeros(2, 3, dtype=lib.float64), [lib.zeros(2, 4, dtype=lib.float64)], m.weight_ih_l0, m.weight_hh_l0),
])
def test_lstm_refuses_a_single_state_as_pytorch(call):
    ours, theirs = module_pair(_make("LSTM", 1, False, True, False))
    mine, reference = error_of(lambda: call(chainrule, ours)), error_of(lambda: call(torch, theirs))
    assert mine is not None and reference is not None
    assert mine[0] is reference[0] is RuntimeError
    assert "two hidden states" in mine[1] and "two hidden states" in reference[1]
