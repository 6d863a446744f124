"""A float32 LSTM layer as one operation (ops/lstm_layer.py), as PyTorch's CPU runs it through oneDNN:
the same values, gradients and graph (``MkldnnRnnLayerBackward0`` nodes with the same edges) as
PyTorch's; finite differences and second derivatives of the operation itself in float64; and the
cases where PyTorch steps the cells one by one (float64, a packed sequence, projections, oneDNN
switched off), which chainrule steps one by one too."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.ops.lstm_layer import LstmLayer
from tests.nn.pairs import structure


def same_weights(ours, theirs):
    with torch.no_grad():
        for name, parameter in theirs.named_parameters():
            getattr(ours, name).data = chainrule.tensor(parameter.numpy().copy())


def run(lib, module, x, states, weights):
    """Outputs, the gradients of input, states and parameters after a weighted sum, and the graphs."""
    x = lib.tensor(x, requires_grad=True)
    leaves = [lib.tensor(state, requires_grad=True) for state in states]
    output, (h_n, c_n) = module(x, tuple(leaves)) if leaves else module(x)
    total = sum((part * lib.tensor(weight)).sum() for part, weight in zip((output, h_n, c_n), weights))
    total.backward()
    graphs = [structure(part.grad_fn) for part in (output, h_n, c_n)]
    values = [output, h_n, c_n, x.grad, *(leaf.grad for leaf in leaves), *(p.grad for p in module.parameters())]
    return [np.asarray(value.detach()) for value in values], graphs


CASES = [
    ("one_layer", {}, (5, 3, 4), False),
    ("batch_first_two_layers", {"batch_first": True, "num_layers": 2}, (3, 5, 4), False),
    ("bidirectional_without_bias", {"bidirectional": True, "num_layers": 2, "bias": False}, (4, 2, 4), False),
    ("initial_state_requires_grad", {"num_layers": 2, "bidirectional": True}, (4, 2, 4), True),
    ("unbatched", {"num_layers": 2}, (6, 4), True),
    ("one_step_one_sample", {}, (1, 1, 4), False),
]


@pytest.mark.parametrize("kwargs, shape, with_state", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_float32_layer_matches_torch_in_values_gradients_and_graph(kwargs, shape, with_state):
    rng = np.random.default_rng(0)
    theirs = torch.nn.LSTM(4, 5, **kwargs)
    ours = chainrule.nn.LSTM(4, 5, **kwargs)
    same_weights(ours, theirs)
    x = rng.standard_normal(shape).astype(np.float32)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    batch = () if len(shape) == 2 else (shape[0] if kwargs.get("batch_first") else shape[1],)
    states = [rng.standard_normal((layers, *batch, 5)).astype(np.float32) for _ in range(2)] if with_state else []
    with torch.no_grad():
        output, (h_n, c_n) = theirs(torch.tensor(x))
    weights = [rng.standard_normal(part.shape).astype(np.float32) for part in (output, h_n, c_n)]
    our_values, our_graphs = run(chainrule, ours, x, states, weights)
    their_values, their_graphs = run(torch, theirs, x, states, weights)
    assert our_graphs == their_graphs
    assert "MkldnnRnnLayerBackward0" in repr(their_graphs[0])
    for position, (mine, reference) in enumerate(zip(our_values, their_values)):
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-5, err_msg=f"value {position}")


def float64_inputs(reverse_bias, hidden=3, steps=4, batch=2, features=2, seed=1):
    rng = np.random.default_rng(seed)
    shapes = [(steps, batch, features), (4 * hidden, features), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,), (batch, hidden), (batch, hidden)]
    tensors = [chainrule.tensor(rng.standard_normal(shape) * 0.7, requires_grad=True) for shape in shapes]
    if not reverse_bias:
        tensors[3] = tensors[4] = None
    return tensors


@pytest.mark.parametrize("reverse, with_bias", [(False, True), (True, False)])
def test_the_operation_passes_finite_differences_of_first_and_second_order(reverse, with_bias):
    inputs = float64_inputs(with_bias)
    differentiable = [tensor for tensor in inputs if tensor is not None]

    def layer(*tensors):
        given = iter(tensors)
        arguments = [next(given) if tensor is not None else None for tensor in inputs]
        return LstmLayer.apply(*arguments, reverse)

    assert chainrule.autograd.gradcheck(layer, differentiable)
    assert chainrule.autograd.gradgradcheck(layer, differentiable, fast_mode=True)


def test_a_gradient_penalty_through_a_float32_layer_matches_torch():
    """PyTorch differentiates its oneDNN layer's backward again; so does chainrule (the recorded
    backward runs the steps again as tensors)."""
    rng = np.random.default_rng(3)
    theirs = torch.nn.LSTM(2, 3, bidirectional=True)
    ours = chainrule.nn.LSTM(2, 3, bidirectional=True)
    same_weights(ours, theirs)
    x = rng.standard_normal((4, 2, 2)).astype(np.float32)
    results = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        inputs = lib.tensor(x, requires_grad=True)
        output, (h_n, c_n) = module(inputs)
        (grad,) = lib.autograd.grad((output**2).sum() + c_n.sum(), inputs, create_graph=True)
        (grad * grad).sum().backward()
        results.append((np.asarray(inputs.grad), np.asarray(module.weight_hh_l0_reverse.grad)))
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-5)


def test_a_second_backward_without_retain_graph_raises_as_in_torch():
    model = chainrule.nn.LSTM(2, 3)
    output, _ = model(chainrule.randn(4, 2, 2))
    output.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        output.sum().backward()


def test_under_no_grad_there_is_no_graph_and_the_same_output():
    model = chainrule.nn.LSTM(2, 3, num_layers=2)
    x = chainrule.randn(4, 2, 2)
    with chainrule.no_grad():
        output, (h_n, _) = model(x)
    assert output.grad_fn is None and h_n.grad_fn is None
    np.testing.assert_array_equal(np.asarray(output), np.asarray(model(x)[0].detach()))


def step_by_step_graph(lib, make, x, packed=False):
    inputs = lib.tensor(x, requires_grad=True)
    if packed:
        inputs = lib.nn.utils.rnn.pack_padded_sequence(inputs, [x.shape[0], x.shape[0] - 1])
    output, _ = make(lib)(inputs)
    return structure((output.data if packed else output).grad_fn, depth=2)


@pytest.mark.parametrize(
    "case",
    ["float64", "packed", "projections", "oneDNN_disabled"],
)
def test_where_pytorch_steps_the_cells_one_by_one_so_does_chainrule(case):
    x = np.random.default_rng(5).standard_normal((3, 2, 4)).astype(np.float64 if case == "float64" else np.float32)
    kwargs = {"proj_size": 2} if case == "projections" else {}

    def make(lib):
        lib.manual_seed(0)
        module = lib.nn.LSTM(4, 5, **kwargs)
        return module.double() if case == "float64" else module

    graphs = []
    for lib in (chainrule, torch):
        warn_always = lib.is_warn_always_enabled()
        lib.set_warn_always(True)  # PyTorch warns once per process; this test may not be the first
        try:
            with warnings.catch_warnings(record=True) as caught, lib.backends.mkldnn.flags(enabled=case != "oneDNN_disabled"):
                warnings.simplefilter("always")
                graphs.append(step_by_step_graph(lib, make, x, packed=case == "packed"))
        finally:
            lib.set_warn_always(warn_always)
        projection_warnings = [str(w.message).partition(" (Triggered")[0] for w in caught if "projections" in str(w.message)]
        expected = ["LSTM with projections is not supported with oneDNN. Using default implementation."]
        assert projection_warnings == (expected if case == "projections" else [])
    assert graphs[0] == graphs[1]
    assert "MkldnnRnnLayerBackward0" not in repr(graphs[0])


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_on_the_meta_device_the_layers_give_meta_outputs_of_torchs_shapes_and_graph(kind):
    """PyTorch's oneDNN path is the CPU's: on 'meta' it steps the cells (a StackBackward0)."""
    results = []
    for lib in (chainrule, torch):
        module = getattr(lib.nn, kind)(4, 5, num_layers=2, batch_first=True, device="meta")
        output, state = module(lib.randn(2, 3, 4, device="meta", requires_grad=True))
        hidden = state[0] if kind == "LSTM" else state
        results.append((output.device.type, hidden.device.type, tuple(output.shape), tuple(hidden.shape), structure(output.grad_fn, depth=1)))
    assert results[0] == results[1]
    assert results[0][:2] == ("meta", "meta")


def test_a_state_of_another_dtype_than_the_input_raises_torchs_error():
    model = chainrule.nn.LSTM(4, 5)
    state = chainrule.zeros(1, 2, 5, dtype=chainrule.float64)
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        model(chainrule.randn(3, 2, 4), (state, state))
