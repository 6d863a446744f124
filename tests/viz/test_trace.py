"""trace_backward: the chain rule step by step, with numbers equal to autograd's (and PyTorch's)."""
import json

import numpy as np
import pytest

import chainrule
from chainrule.autograd import Function
from chainrule.viz import trace_backward
from chainrule.viz.expression import course_mlp
from tests.viz.examples import seed_example, torch_course_mlp


def edges_by_local_formula(trace):
    return {edge.formula: edge for step in trace.steps for edge in step.edges}


def test_seed_example_shows_each_local_derivative_and_ends_at_the_leaf_gradients():
    J, params, (a, b, c) = seed_example()
    trace = trace_backward(J, params)

    operations = [(step.operation, step.output_name) for step in trace.steps if not step.is_leaf]
    assert operations == [("MulBackward0", "J"), ("AddBackward0", "u"), ("MulBackward0", "v")]
    rows = {(row["output"], row["input"]): row for row in trace.to_dicts()}
    assert rows[("J", "u")]["local_formula"] == "dJ/du = 3" and rows[("J", "u")]["local"] == 3.0
    assert rows[("u", "v")]["local_formula"] == "du/dv = 1" and rows[("u", "a")]["grad_sent"] == 3.0
    assert rows[("v", "b")]["local_formula"] == "dv/db = c = 2" and rows[("v", "b")]["grad_sent"] == 6.0
    assert rows[("v", "c")]["local_formula"] == "dv/dc = b = 3" and rows[("v", "c")]["grad_sent"] == 9.0
    assert rows[("v", "b")]["grad_output"] == 3.0  # dJ/dv arrives at v's multiplication

    assert {name: float(value) for name, value in trace.gradients.items()} == {"a": 3.0, "b": 6.0, "c": 9.0}
    assert (a.grad.item(), b.grad.item(), c.grad.item()) == (3.0, 6.0, 9.0)  # backward really ran
    assert [step.output_name for step in trace.steps if step.is_leaf] == ["c", "b", "a"]  # the engine's order

    text = str(trace)
    for expected in ("dJ/du = 3", "du/dv = 1", "dv/db = c = 2", "dv/dc = b = 3", "dJ/db = 3 × 2 = 6", "a.grad = 3", "dJ/da = 3"):
        assert expected in text
    json.dumps(trace.to_dicts())  # plain data, ready for a notebook
    assert repr(trace) == "<BackwardTrace of J: 6 steps>"


def test_a_tensor_used_twice_sums_the_gradients_arriving_from_each_use():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True, name="x")
    trace = trace_backward((x * x + x).sum())
    (leaf_step,) = [step for step in trace.steps if step.is_leaf]
    assert len(leaf_step.grad_terms) == 3
    np.testing.assert_allclose(leaf_step.grad_output, [3.0, 5.0])
    np.testing.assert_allclose(x.grad._array, [3.0, 5.0])
    assert "[1, 1] + [1, 2] + [1, 2] = [3, 5]" in str(trace)


def test_course_mlp_gradients_equal_autograd_and_pytorch_and_show_the_delta_rule():
    E, named = course_mlp()
    assert E.item() == pytest.approx(0.298371109, abs=1e-6)  # the worked example's total error
    trace = trace_backward(E, named)
    torch_error, torch_tensors, torch_steps = torch_course_mlp(named)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(trace.gradients[name], named[name].grad._array, rtol=1e-6)
        np.testing.assert_allclose(trace.gradients[name], torch_tensors[name].grad.numpy(), rtol=1e-5, atol=1e-7)

    graph = trace.graph
    info = {tensor_info.name: tensor_info for tensor_info in graph.tensors}
    output, target, hidden = (named[name]._array.astype(np.float64) for name in ("O", "t", "h"))
    delta_output = (output - target) * output * (1 - output)  # seed 003: delta_k = (O_k - t_k) O_k (1 - O_k)
    np.testing.assert_allclose(trace.grad_of(info["z2"]), delta_output, rtol=1e-5)
    delta_hidden = hidden * (1 - hidden) * (named["W2"]._array.T @ delta_output)  # delta_j = O_j (1 - O_j) sum_k delta_k w_jk
    np.testing.assert_allclose(trace.grad_of(info["z1"]), delta_hidden, rtol=1e-5)
    np.testing.assert_allclose(trace.grad_of(info["z2"]), torch_steps["z2"].grad.numpy(), rtol=1e-5)

    sigmoid_edges = [edge for step in trace.steps if step.operation.startswith("SigmoidBackward") for edge in step.edges]
    np.testing.assert_allclose(sigmoid_edges[0].local, output * (1 - output), rtol=1e-5)  # local O (1 - O)
    linear_steps = [step for step in trace.steps if step.operation.startswith("LinearBackward")]
    assert all(edge.local is None for step in linear_steps for edge in step.edges if edge.input_name.startswith("W"))


def test_broadcast_inputs_get_their_gradient_summed_and_local_values_only_when_elementwise():
    x = chainrule.tensor([[1.0, 2.0, 3.0]], requires_grad=True, name="x")
    w = chainrule.tensor([[0.5], [-1.0]], requires_grad=True, name="w")
    loss = (x * w).sin().sum()
    trace = trace_backward(loss)
    np.testing.assert_allclose(trace.gradients["x"], x.grad._array, rtol=1e-6)
    np.testing.assert_allclose(trace.gradients["w"], w.grad._array, rtol=1e-6)
    shown = 0
    for step in trace.steps:
        for edge in step.edges:
            if edge.local is not None:  # the product shown, summed back to the input's shape, is what was sent
                product = sum_to_shape(np.asarray(step.grad_output * edge.local), edge.grad_sent.shape)
                np.testing.assert_allclose(product, edge.grad_sent, rtol=1e-5)
                shown += 1
    assert shown == 4  # x and w at the product, the sine, the sum


def sum_to_shape(array, shape):
    array = array.sum(axis=tuple(range(array.ndim - len(shape))))
    axes = tuple(axis for axis, side in enumerate(shape) if side == 1)
    return array.sum(axis=axes, keepdims=True)


def test_a_custom_function_without_declared_derivatives_points_to_its_backward():
    class Cube(Function):
        """out = x^3;   d out / d x = 3 x^2 (a docstring is not read for formulas)"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x._array ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x * x

    x = chainrule.tensor(2.0, requires_grad=True, name="x")
    trace = trace_backward(Cube.apply(x))
    (edge,) = trace.steps[0].edges
    assert edge.formula == "see Cube.backward" and float(edge.local) == 12.0


def test_output_checks_and_retain_graph():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="single number"):
        trace_backward(x * 2)
    y = (x * x).sum()
    trace_backward(y, retain_graph=True)
    y.backward()  # the graph was kept
    np.testing.assert_allclose(x.grad._array, [4.0, 8.0])
    leaf = chainrule.tensor(1.5, requires_grad=True, name="w")
    assert trace_backward(leaf).gradients == {"w": 1.0}


def test_to_dataframe_needs_pandas():
    J, params, _ = seed_example()
    trace = trace_backward(J, params)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            trace.to_dataframe()
    else:
        assert len(trace.to_dataframe()) == len(trace.to_dicts())


def test_names_given_to_intermediates_reach_the_trace_without_params():
    a = chainrule.tensor(5.0, requires_grad=True, name="a")
    b = chainrule.tensor(3.0, requires_grad=True, name="b")
    c = chainrule.tensor(2.0, requires_grad=True, name="c")
    v = b * c
    v.name = "v"
    u = a + v
    u.name = "u"
    J = 3 * u
    J.name = "J"
    del v, u  # the names live on the nodes that made them
    text = str(chainrule.viz.trace_backward(J))
    assert "dJ/du = 3" in text and "dv/db = c = 2" in text and "dv/dc = b = 3" in text


def test_formulas_come_from_the_operation_with_the_tensors_names():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    power = a**3
    J = (power * 2).sum()
    text = str(trace_backward(J))
    assert "dpower/da = 3 · a^(3 - 1) = [3, 12]" in text  # Pow's derivative, exponent from the node
    assert "d(power)/d" not in text


def test_a_variable_used_twice_gets_its_gradient_as_the_sum_of_the_parts():
    a = chainrule.tensor(3.0, requires_grad=True)
    y = a * a
    J = y + a
    trace = trace_backward(J)
    text = str(trace)
    assert "a.grad = 1 + 3 + 3 = 7" in text
    assert text.count("part of dJ/da") == 3  # each use sends a part, not the whole gradient
    assert "dy/da = a = 3" in text  # named after the caller's variables, without name=
    assert a.grad.item() == 7.0


def test_parameters_take_their_names_from_a_model_in_the_callers_variables():
    from chainrule import nn

    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())
    x = chainrule.tensor([[0.5, -1.0]])
    loss = model(x).sum()
    names = {info.name for info in trace_backward(loss).graph.tensors}
    assert {"0.weight", "0.bias", "loss"} <= names


def test_trace_shows_local_values_only_for_elementwise_operations():
    x = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="x")
    w = chainrule.tensor([[0.5, 1.0], [2.0, 1.5]], requires_grad=True, name="W")
    matmul_step = next(step for step in trace_backward((x @ w).sum()).steps if step.operation == "MmBackward0")
    assert all(edge.local is None for edge in matmul_step.edges)


def test_params_may_be_named_parameters_or_a_list_of_tensors():
    model = chainrule.nn.Linear(2, 1)
    x = chainrule.ones(3, 2)
    names = {info.name for info in trace_backward(model(x).sum(), model.named_parameters()).graph.tensors}
    assert {"weight", "bias"} <= names
    names = {info.name for info in trace_backward(model(x).sum(), list(model.parameters())).graph.tensors}
    assert {"params[0]", "params[1]"} <= names
    with pytest.raises(TypeError, match="params must be"):
        trace_backward(model(x).sum(), [1, 2])
