"""draw_graph: the DOT text of known graphs, checked structurally, and real rendering to SVG and PNG."""
import shutil
import warnings

import pytest

import chainrule
from chainrule import nn
from chainrule.viz import draw_graph, trace_backward
from tests.viz.examples import seed_example

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)")


def parse(drawing):
    """``({node id: (label, attributes text)}, [(tail, head), ...])`` from the DOT source."""
    nodes, edges = {}, []
    for statement in drawing.source.splitlines()[3:-1]:
        statement = statement.strip()
        if " -> " in statement:
            tail, head = statement.split(" [")[0].split(" -> ")
            edges.append((tail, head.strip()))
        else:
            node_id, _, rest = statement.partition(' [label="')
            label, _, attributes = rest.partition('" ')
            nodes[node_id] = (label.replace("\\n", "\n"), attributes)
    return nodes, edges


def by_label(nodes):
    """First label line (the name) -> (full label, attributes)."""
    return {label.split("\n")[0]: (label, attributes) for label, attributes in nodes.values()}


def test_seed_graph_has_a_box_per_tensor_and_an_ellipse_per_operation():
    J, params, _ = seed_example()
    nodes, edges = parse(draw_graph(J, params=params))
    assert len(nodes) == 10 and len(edges) == 9
    ellipses = sorted(label.split("\n")[0] for label, attributes in nodes.values() if "shape=ellipse" in attributes)
    assert ellipses == ["AddBackward0", "MulBackward0", "MulBackward0"]
    boxes = by_label({key: value for key, value in nodes.items() if "shape=box" in value[1]})
    assert set(boxes) == {"a", "b", "c", "v", "u", "3", "J"}
    for leaf in "abc":
        assert "requires grad" in boxes[leaf][0] and "#cfe6ff" in boxes[leaf][1]
    assert "constant" in boxes["3"][0]
    assert "value 11" in boxes["u"][0] and "value 6" in boxes["v"][0] and "value 33" in boxes["J"][0]
    assert "requires grad" not in boxes["u"][0]

    name_of = {node_id: label.split("\n")[0] for node_id, (label, _) in nodes.items()}
    named_edges = sorted((name_of[tail], name_of[head]) for tail, head in edges)
    assert named_edges == sorted(
        [("b", "MulBackward0"), ("c", "MulBackward0"), ("MulBackward0", "v"), ("a", "AddBackward0"), ("v", "AddBackward0"),
         ("AddBackward0", "u"), ("3", "MulBackward0"), ("u", "MulBackward0"), ("MulBackward0", "J")]
    )


def test_gradients_show_on_leaves_after_backward_and_everywhere_with_a_trace():
    J, params, (a, b, c) = seed_example()
    J.backward()
    with pytest.warns(UserWarning, match="already freed"):  # drawn after backward, on purpose
        leaves_only = by_label(parse(draw_graph(J, params=params))[0])
    assert "grad 6" in leaves_only["b"][0] and "grad" not in leaves_only["v"][0]
    J, params, (a, b, c) = seed_example()
    trace = trace_backward(J, params)
    everywhere = by_label(parse(draw_graph(J, trace=trace))[0])
    assert "grad 3" in everywhere["v"][0] and "grad 1" in everywhere["J"][0] and "grad 9" in everywhere["c"][0]
    hidden = by_label(parse(draw_graph(J, trace=trace, show_values=False, show_grads=False))[0])
    assert "value" not in hidden["u"][0] and "grad 6" not in hidden["b"][0]


def test_tensors_are_named_after_variables_else_short_names_and_unused_outputs_are_not_drawn():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    first, _second = x.unbind(0)
    y = (first * 2).exp()
    nodes, edges = parse(draw_graph(y, rankdir="TB"))
    labels = by_label(nodes)
    assert {"x  (2)", "first", "t0", "y"} <= set(labels)  # the caller's variables, then t0 for the product
    assert "_second" not in labels and len([label for label in labels if label.startswith("t")]) == 1  # the unused piece is not drawn
    assert "rankdir=TB" in draw_graph(y, rankdir="TB").source


def test_parameters_are_named_and_modules_collapse_into_one_box_each():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    loss = model(chainrule.randn(4, 2)).sum()
    params = dict(model.named_parameters())
    full = by_label(parse(draw_graph(loss, params=params))[0])
    assert {"0.weight  (3×2)", "0.bias  (3)", "2.weight  (1×3)", "2.bias  (1)"} <= set(full)

    for collapse in (model, True):
        nodes, edges = parse(draw_graph(loss, params=params, collapse_modules=collapse))
        modules = [label for label, attributes in nodes.values() if "box3d" in attributes]
        assert len(modules) == 2 and all("weight" in label and "bias" in label for label in modules)
        labels = [label for label, _ in nodes.values()]
        assert not any(label.startswith(("0.weight", "2.bias")) for label in labels)
        assert any(label.startswith("SigmoidBackward") for label in labels)
        assert not any(label.startswith("LinearBackward") for label in labels)
    assert any(label.startswith("0 (Linear)") for label, _ in parse(draw_graph(loss, params=params, collapse_modules=model))[0].values())
    with pytest.raises(ValueError, match="named_parameters"):
        draw_graph(loss, collapse_modules=True)


@needs_dot
@pytest.mark.parametrize("format", ["svg", "png"])
def test_render_writes_the_file_and_returns_its_path(tmp_path, format):
    J, params, _ = seed_example()
    path = draw_graph(J, params=params).render(tmp_path / "seed", format=format)
    assert path == str(tmp_path / f"seed.{format}")
    content = open(path, "rb").read()
    if format == "png":
        assert content.startswith(b"\x89PNG")
    else:
        assert b"<svg" in content and b"MulBackward0" in content and b"requires grad" in content


@needs_dot
def test_jupyter_display_is_svg_and_format_comes_from_the_suffix(tmp_path):
    J, params, _ = seed_example()
    drawing = draw_graph(J, params=params)
    assert drawing._repr_mimebundle_()["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    assert drawing.render(tmp_path / "graph.png").endswith("graph.png")
    with pytest.raises(ValueError, match="svg' or 'png"):
        drawing.render(tmp_path / "graph.pdf")


def test_without_dot_svg_is_drawn_by_chainrule_and_png_says_how_to_install_dot(tmp_path, monkeypatch):
    J, params, _ = seed_example()
    drawing = draw_graph(J, params=params)
    monkeypatch.setenv("PATH", str(tmp_path))
    svg = open(drawing.render(tmp_path / "graph.svg"), encoding="utf-8").read()
    assert svg.startswith("<svg") and svg.count("<ellipse") == 3 and svg.count("<rect") == 8  # 7 tensors and the background
    assert "MulBackward0" in svg and "v = b · c" in svg and "requires grad" in svg
    assert drawing._repr_mimebundle_()["image/svg+xml"].startswith("<svg")
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        drawing.render(tmp_path / "graph.png")


def test_draw_graph_works_before_backward_after_backward_and_after_a_trace(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot: chainrule's own SVG
    a = chainrule.tensor(3.0, requires_grad=True)
    y = a * a
    J = y + a
    before = draw_graph(J)
    assert "value 12" in before.source and '"a\\nvalue 3\\nrequires grad"' in before.source  # named after the variables
    trace_backward(J)
    after = by_label(parse(draw_graph(J))[0])  # the trace just recorded is found without passing it
    assert "grad 1 + 3 + 3 = 7" in after["a"][0] and "grad 1" in after["y"][0]
    assert 'label="grad 3 + 3"' in draw_graph(J).source  # both uses of a in a · a, on one arrow
    b = chainrule.tensor(2.0, requires_grad=True)
    K = b * 4
    K.backward()
    with pytest.warns(UserWarning, match="already freed"):
        drawn = draw_graph(K)
    assert "grad 4" in by_label(parse(drawn)[0])["b"][0]
    assert drawn.render(tmp_path / "after_backward.svg").endswith(".svg")


def test_a_tensor_without_graph_is_refused():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        draw_graph(chainrule.tensor([1.0, 2.0]) * 2)
    with pytest.raises(TypeError, match="Tensor"):
        draw_graph([1.0])


def test_drawing_a_freed_graph_warns():
    a = chainrule.tensor(2.0, requires_grad=True, name="a")
    loss = (a * a) * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_graph(loss)  # before backward: no warning
    loss.backward()
    with pytest.warns(UserWarning, match="already freed this graph"):
        draw_graph(loss)
