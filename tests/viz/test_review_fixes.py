"""Behaviours a review of viz and the command line found wrong."""
import shutil
import subprocess
import sys
import warnings

import pytest

import chainrule
from chainrule.viz import draw_graph, explore, trace_backward
from chainrule.viz.explorer import explore_command


def test_a_title_cannot_inject_into_the_page(tmp_path):
    a = chainrule.tensor(1.0, requires_grad=True, name="a")
    path = explore(a * 3, tmp_path / "page.html", title='__DATA__ <img src=x onerror=alert(1)> <!--<script>')
    page = open(path).read()
    assert "<img" not in page and "<!--<script>" not in page
    assert "<title>__DATA__ &lt;img" in page  # the title as text, not the page's data poured into it


def test_explore_reuses_a_trace_instead_of_a_second_backward(tmp_path):
    a = chainrule.tensor(2.0, requires_grad=True, name="a")
    loss = (a * a) * 3
    trace = trace_backward(loss)
    assert explore(loss, tmp_path / "page.html", trace=trace).endswith("page.html")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_drawing_a_freed_graph_warns():
    a = chainrule.tensor(2.0, requires_grad=True, name="a")
    loss = (a * a) * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_graph(loss)  # before backward: no warning
    loss.backward()
    with pytest.warns(UserWarning, match="already freed this graph"):
        draw_graph(loss)


@pytest.mark.parametrize(
    "expression",
    ["a * 9**9**9", "a * sum([1]*10**10)", "a * (1/0)", "a * 10**400", "exp(a, a)", "exp(a, **b)"],
)
def test_explore_command_refuses_bad_expressions_with_a_message(expression, tmp_path, capsys):
    assert explore_command(expression, ["--a", "1"], str(tmp_path / "page.html")) == 2
    assert "chainrule explore:" in capsys.readouterr().err


def test_explore_command_refuses_a_variable_given_twice(tmp_path, capsys):
    assert explore_command("a * 2", ["--a", "1", "--a", "2"], str(tmp_path / "page.html")) == 2
    assert "given twice" in capsys.readouterr().err


def test_trace_shows_local_values_only_for_elementwise_operations():
    x = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="x")
    w = chainrule.tensor([[0.5, 1.0], [2.0, 1.5]], requires_grad=True, name="W")
    matmul_step = next(step for step in trace_backward((x @ w).sum()).steps if step.operation == "MatmulBackward")
    assert all(edge.local is None for edge in matmul_step.edges)


def test_demo_refuses_unknown_options():
    result = subprocess.run([sys.executable, "-m", "chainrule", "demo", "linear_model", "--quik"], capture_output=True, text=True)
    assert result.returncode == 2 and "unrecognized arguments: --quik" in result.stderr


def test_explore_command_knows_every_intermediate_value(tmp_path):
    from chainrule.viz.expression import evaluate, parse_values

    output, named = evaluate("J = sum(exp(a - 2) * 3)", parse_values(["--a", "1,2"]))
    text = str(trace_backward(output, named))
    assert "?" not in text
    assert "d(exp(a - 2))/d(a - 2) = e^(a - 2)" in text and "dJ/da = [1.104, 3]" in text
