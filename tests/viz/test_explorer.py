"""The explorer page: its data, the command line, and the page itself in headless Chromium."""
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule.__main__ import main
from chainrule.viz import explore, trace_backward
from chainrule.viz.explorer import explorer_data
from chainrule.viz.expression import course_mlp, evaluate, parse_values
from tests.viz.examples import seed_example

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def page_data(path):
    text = Path(path).read_text(encoding="utf-8")
    return json.loads(re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', text, re.S).group(1))


# ----------------------------------------------------------------------------- data and command line
def test_seed_steps_go_forward_node_by_node_then_backward_with_the_products():
    J, params, _ = seed_example()
    data = explorer_data(trace_backward(J, params), "seed")
    forward = [step for step in data["steps"] if step["phase"] == "forward"]
    backward = [step for step in data["steps"] if step["phase"] == "backward"]
    assert len(forward) == 7 and len(backward) == 6  # 3 leaves, the constant, 3 operations; 3 operations, 3 leaves
    assert [step["text"][0] for step in forward[3:]] == ["Mul(b, c) gives v = 6", "Add(a, v) gives u = 11", "the constant 3", "Mul(u, 3) gives J = 33"]  # 3 * u is mul(u, 3), as in PyTorch
    assert backward[2]["text"][1:] == ["dv/db = c = 2, so dJ/db = 3 × 2 = 6", "dv/dc = b = 3, so dJ/dc = 3 × 3 = 9"]
    assert backward[-1]["text"] == ["a.grad = dJ/da = 3   (stored in the leaf)"]
    names = {node["id"]: node.get("name") for node in data["nodes"]}
    for node in data["nodes"]:
        assert {"x", "y", "width", "height"} <= set(node)
    assert {names[edge["from"]] for edge in data["edges"] if names[edge["to"]] == "MulBackward0"} >= {"b", "c", "3", "u"}


def test_values_the_graph_did_not_keep_are_recomputed(tmp_path):
    x = chainrule.tensor([0.5, -1.0], requires_grad=True)
    y = chainrule.tensor([2.0, 3.0], requires_grad=True)
    data = page_data(explore((x * y + y).sum(), tmp_path / "inline.html"))
    values = {step["text"][0].split("(")[0]: list(step["values"].values())[0]["json"] for step in data["steps"] if step["phase"] == "forward"}
    # No operation saved x * y or x * y + y: their values come from running Mul and Add again.
    assert values["Mul"] == [1.0, -3.0] and values["Add"] == [3.0, 0.0] and values["Sum"] == 3.0
    assert [step["text"][0] for step in data["steps"] if step["phase"] == "forward"][-1] == "Sum(t1) gives t2 = 3"
    roles = {node["role"] for node in data["nodes"] if node["type"] == "tensor"}
    assert roles == {"leaf that requires grad", "intermediate result", "the output"}


def test_explore_writes_one_self_contained_page(tmp_path):
    J, params, (a, b, c) = seed_example()
    path = explore(J, tmp_path / "seed.html", params=params, title="J = 3(a + bc) <seed>")
    text = Path(path).read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert set(re.findall(r"https?://[^\s\"'`]+", text)) == {"http://www.w3.org/2000/svg"}  # the SVG namespace, not a download
    assert "J = 3(a + bc) &lt;seed&gt;" in text
    assert b.grad.item() == 6.0  # explore ran backward
    assert page_data(path)["output"] == "J"


def test_command_line_explores_an_expression_and_the_mlp(tmp_path, capsys):
    out = tmp_path / "graph.html"
    assert main(["explore", "v = b*c; u = a + v; J = 3*u", "--a", "5", "--b=3", "--c", "2", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    nodes = {node["name"]: node for node in page_data(out)["nodes"] if node["type"] == "tensor"}
    assert {"a", "b", "c", "u", "v", "J", "3"} == set(nodes)
    assert main(["explore", "mlp", "--out", str(tmp_path / "mlp.html")]) == 0
    names = {node["name"] for node in page_data(tmp_path / "mlp-operations.html")["nodes"]}
    assert {"x", "W1", "b1", "W2", "b2", "z1", "h", "z2", "O", "E"} <= names
    assert {"SigmoidBackward0", "SubBackward0", "PowBackward0", "ViewBackward0"} <= names  # a layer on one sample: PyTorch's name
    layer_view = (tmp_path / "mlp.html").read_text(encoding="utf-8")
    assert '"graph_page": "mlp-operations.html"' in layer_view and "δ" in layer_view


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["3*(a + b*c)", "--a", "5"], "uses 'b' but no value was given: add --b VALUE"),
        (["__import__('os').system('true')", "--a", "1"], "is not allowed"),
        (["a.__class__", "--a", "1"], "is not allowed"),
        (["a +", "--a", "1"], "cannot read the expression"),
        (["a * 2", "--a"], "--a needs a value"),
        (["a * 2", "--a", "five"], "expected a number"),
        (["3 * 4"], "is the number 12: use variables"),
        (["a * 2", "--a", "1,2"], "must be a single number"),
        (["mlp", "--W1", "1,2"], "W1 must have shape (2, 2)"),
    ],
)
def test_command_line_mistakes_are_explained(tmp_path, capsys, arguments, message):
    assert main(["explore", *arguments, "--out", str(tmp_path / "graph.html")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "graph.html").exists()


def test_expressions_allow_arithmetic_functions_and_matrices():
    values = parse_values(["--W", "1,2;3,4", "--x", "0.5,-1", "--s", "2"])
    assert values["W"].shape == (2, 2) and values["x"].shape == (2,) and values["s"].shape == ()
    result, named = evaluate("z = W @ x; y = sigmoid(z) * s; out = sum(exp(-y) / 2 + y ** 2)", values)
    expected_z = np.array([[1, 2], [3, 4]]) @ np.array([0.5, -1])
    np.testing.assert_allclose(named["z"]._array, expected_z)
    assert result.name == "out" and result.requires_grad
    mlp_error, _ = course_mlp({"x": chainrule.tensor([1.0, 0.0])})
    assert mlp_error.item() != pytest.approx(0.298371109, abs=1e-6)


# ----------------------------------------------------------------------------- the page in a browser (the browser fixture: conftest.py)
def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(Path(path).resolve().as_uri())
    return page, errors


def node_number(page, name, attribute):
    """The value or gradient a tensor's box shows (from its data attribute), or None."""
    raw = page.get_attribute(f'g.tensor[data-name="{name}"]', attribute)
    return None if raw is None else np.array(json.loads(raw))


def test_page_steps_through_the_seed_example(browser, tmp_path):
    J, params, (a, b, c) = seed_example()
    path = explore(J, tmp_path / "seed.html", params=params, title="J = 3 (a + b c)")
    page, errors = open_page(browser, path)
    assert page.text_content("#counter") == "step 0 of 13"
    assert node_number(page, "v", "data-value") is None
    for _ in range(4):
        page.click("#next")
    assert node_number(page, "v", "data-value") == 6.0 and node_number(page, "u", "data-value") is None
    assert "Mul(b, c) gives v = 6" in page.text_content("#status")
    page.click("#to-backward")
    expected_values = {"a": 5.0, "b": 3.0, "c": 2.0, "v": 6.0, "u": 11.0, "J": 33.0}
    assert {name: float(node_number(page, name, "data-value")) for name in expected_values} == expected_values
    assert node_number(page, "b", "data-grad") is None

    page.click("#next")
    page.click("#next")  # AddBackward: u's gradient goes to a and v
    assert "du/dv = 1, so dJ/dv = 3 × 1 = 3" in page.text_content("#status")
    assert node_number(page, "v", "data-grad") == 3.0 and node_number(page, "b", "data-grad") is None
    page.click("#next")  # v = b * c: dv/db = c, dv/dc = b
    assert (float(node_number(page, "b", "data-grad")), float(node_number(page, "c", "data-grad"))) == (b.grad.item(), c.grad.item())
    assert "× 2" in page.text_content("#edge-e0") or "× 2" in page.text_content("svg")
    page.click("#to-end")
    for leaf in (a, b, c):
        assert float(node_number(page, leaf.name, "data-grad")) == leaf.grad.item()
    assert page.is_disabled("#next") and not page.is_disabled("#prev")

    page.click('g.op >> nth=2')  # the last multiplication: its chain-rule step in the panel
    assert "dJ/du = 3" in page.text_content("#details")
    page.click('g.tensor[data-name="v"]')
    details = page.text_content("#details")
    assert "made by Mul(b, c)" in details and "6" in details
    page.click("#prev")
    assert page.text_content("#counter") == "step 12 of 13"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer_seed.png"), full_page=True)
    assert errors == []


def test_page_shows_the_mlp_deltas_equal_to_autograd(browser, tmp_path):
    error, named = course_mlp()
    path = explore(error, tmp_path / "mlp.html", params=named, title="MLP")
    page, errors = open_page(browser, path)
    page.click("#to-end")
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(node_number(page, name, "data-grad"), named[name].grad._array, rtol=1e-6)
    output, target = named["O"]._array, named["t"]._array
    np.testing.assert_allclose(node_number(page, "z2", "data-grad"), (output - target) * output * (1 - output), rtol=1e-5)
    np.testing.assert_allclose(node_number(page, "h", "data-value"), named["h"]._array, rtol=1e-6)
    page.click('g.tensor[data-name="W1"]')
    assert "dE/dW1" in page.text_content("#details")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer_mlp.png"), full_page=True)
    assert errors == []


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_drawing_artifact_for_the_seed_example():
    from chainrule.viz import draw_graph

    J, params, _ = seed_example()
    trace = trace_backward(J, params)
    ARTIFACTS.mkdir(exist_ok=True)
    assert Path(draw_graph(J, trace=trace).render(ARTIFACTS / "graph_seed.png")).stat().st_size > 1000


def fits_at_every_step(page):
    """Step through the whole page, checking at each step that nothing scrolls, the active nodes are
    inside the drawing's area and every text stays inside its box."""
    check = """() => {
        const area = document.getElementById("drawing").getBoundingClientRect();
        const inside = (rect, outer) => rect.left >= outer.left - 1 && rect.top >= outer.top - 1 && rect.right <= outer.right + 1 && rect.bottom <= outer.bottom + 1;
        const problems = [];
        if (document.documentElement.scrollWidth > innerWidth || document.documentElement.scrollHeight > innerHeight) problems.push("the page scrolls");
        document.querySelectorAll(".node.active").forEach(node => { if (!inside(node.getBoundingClientRect(), area)) problems.push("active " + node.dataset.name + " out of view"); });
        document.querySelectorAll(".node.tensor").forEach(node => {
            const box = node.querySelector("rect").getBoundingClientRect();
            node.querySelectorAll("text").forEach(text => { if (text.textContent && text.getBoundingClientRect().right > box.right + 1) problems.push("text runs out of " + node.dataset.name); });
        });
        return problems;
    }"""
    total = int(page.text_content("#counter").split()[-1])
    for step in range(total + 1):
        problems = page.evaluate(check)
        assert problems == [], f"step {step}: {problems}"
        if step < total:
            page.click("#next")


def test_the_seed_and_mlp_graphs_fit_1366x768_at_every_step(browser, tmp_path):
    J, params, _ = seed_example()
    page, errors = open_page(browser, explore(J, tmp_path / "seed.html", params=params))
    fits_at_every_step(page)
    out = tmp_path / "mlp.html"
    assert main(["explore", "mlp", "--out", str(out)]) == 0
    page, errors_mlp = open_page(browser, tmp_path / "mlp-operations.html")
    fits_at_every_step(page)
    page.click("#reset")
    for _ in range(20):
        page.click("#next")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer_mlp_operations_step20.png"))
    assert errors == [] and errors_mlp == []


def test_zoom_and_pan_change_the_view(browser, tmp_path):
    J, params, _ = seed_example()
    page, errors = open_page(browser, explore(J, tmp_path / "seed.html", params=params))
    before = page.get_attribute("#canvas", "viewBox")
    page.click("#zoom-in")
    zoomed = page.get_attribute("#canvas", "viewBox")
    assert float(zoomed.split()[2]) < float(before.split()[2])
    box = page.locator("#drawing").bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 300)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 250, steps=4)
    page.mouse.up()
    panned = page.get_attribute("#canvas", "viewBox")
    assert float(panned.split()[0]) > float(zoomed.split()[0])
    page.click("#fit")
    assert errors == []


def test_the_page_shows_a_gradient_accumulated_from_several_uses(browser, tmp_path):
    a = chainrule.tensor(3.0, requires_grad=True)
    y = a * a
    J = y + a
    page, errors = open_page(browser, explore(J, tmp_path / "accumulate.html"))
    page.click("#to-backward")
    page.click("#next")
    assert "part of dJ/da: 1 × 1 = 1" in page.text_content("#status")
    page.click("#next")
    assert "1 + 3 + 3 = 7" in page.text_content('g.tensor[data-name="a"]')  # the box adds the parts up
    page.click("#next")
    assert "a.grad = dJ/da = 1 + 3 + 3 = 7" in page.text_content("#status")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer_accumulation.png"))
    assert errors == []


def test_editing_an_input_recomputes_what_chainrule_computes(browser, tmp_path):
    J, params, _ = seed_example()
    path = explore(J, tmp_path / "seed.html", params=params)
    page, errors = open_page(browser, path)
    original = page_data(path)["steps"]
    page.fill("#input-t0", "5")  # the same value: the page's own recomputation must write what chainrule wrote
    page.dispatch_event("#input-t0", "change")
    recomputed = page.evaluate("() => data.steps")
    assert [step["text"] for step in recomputed] == [step["text"] for step in original]
    generator = np.random.default_rng(7)
    for _ in range(3):
        values = {name: float(generator.uniform(-3, 3)) for name in "abc"}
        leaf_ids = {node["name"]: node["id"] for node in page_data(path)["nodes"] if node.get("kind") == "leaf"}
        for name, value in values.items():
            page.fill(f"#input-{leaf_ids[name]}", repr(value))
            page.dispatch_event(f"#input-{leaf_ids[name]}", "change")
        page.evaluate("() => render(data.steps.length)")  # every step, whatever step the page was at
        a, b, c = (chainrule.tensor(values[name], requires_grad=True) for name in "abc")
        v = b * c
        u = a + v
        K = 3 * u
        K.backward()
        assert float(node_number(page, "J", "data-value")) == pytest.approx(K.item(), rel=1e-5)
        for name, leaf in zip("abc", (a, b, c)):
            assert float(node_number(page, name, "data-grad")) == pytest.approx(leaf.grad.item(), rel=1e-5)
    page.click("#reset")
    page.click("#to-backward")
    page.click("#next")
    page.click("#next")
    page.click("#next")
    status = page.text_content("#status")
    assert "dv/db = c = " in status and "so dJ/db = " in status
    assert "Recomputed in the page" in page.text_content("#edit")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer_seed_edited.png"))
    assert errors == []


def test_train_one_step_moves_the_leaves_against_the_gradient_and_the_output_falls(browser, tmp_path):
    x = chainrule.tensor(2.0, requires_grad=True)
    w = chainrule.tensor(0.5, requires_grad=True)
    b = chainrule.tensor(1.0, requires_grad=True)
    loss = (w * x + b) ** 2
    page, errors = open_page(browser, explore(loss, tmp_path / "fit.html"))
    page.fill("#input-lr", "0.05")
    for _ in range(3):
        page.click("#train")
    history = [float(value) for value in page.text_content("#history").split(": ")[1].split(" → ")]
    assert len(history) == 4 and history == sorted(history, reverse=True)
    values = {"x": 2.0, "w": 0.5, "b": 1.0}
    for _ in range(3):  # the same three steps of gradient descent, by hand
        residual = values["w"] * values["x"] + values["b"]
        grads = {"x": 2 * residual * values["w"], "w": 2 * residual * values["x"], "b": 2 * residual}
        values = {name: values[name] - 0.05 * grads[name] for name in values}
    leaf_ids = {node["name"]: node["id"] for node in page_data(tmp_path / "fit.html")["nodes"] if node.get("kind") == "leaf"}
    for name, value in values.items():
        assert float(page.input_value(f"#input-{leaf_ids[name]}")) == pytest.approx(value, rel=1e-6)
    assert history[-1] == pytest.approx((values["w"] * values["x"] + values["b"]) ** 2, rel=1e-3)
    assert errors == []


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
