"""The lecture's two-layer network x(5) -> h1(6) -> h2(7), seen as the graph backward walks.

Layer 1 has a 6 x 5 weight matrix and 6 biases, layer 2 a 7 x 6 matrix and 7 biases: 85 numbers to
learn. Between the layers a sigmoid, without which the two layers would collapse into one linear
map (W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)).

Every operation records a node (its ``grad_fn``); each node points to the nodes of its inputs
(``next_functions``), down to the leaves W1, b1, W2, b2. ``backward()`` walks these nodes from the
loss back to the leaves, and the example checks the gradients it finds against finite differences.
"""
import chainrule as torch
from chainrule.autograd import numerical_gradient
from chainrule.autograd.function import AccumulateGrad
from chainrule.examples._report import Report


def graph_lines(output):
    """The graph behind ``output``, one line per node, each input indented below its user.

    A node reached a second time (a tensor used twice) is named again without its inputs.
    """
    lines = []
    seen = set()
    stack = [(output.grad_fn, 0)]
    while stack:
        node, depth = stack.pop()
        indent = "    " * depth
        if isinstance(node, AccumulateGrad):
            leaf = node.variable
            lines.append(f"{indent}{leaf.name} {tuple(leaf.shape)}   (leaf: its gradient goes to {leaf.name}.grad)")
            continue
        shapes = ", ".join(str(shape) for shape, _ in node.output_meta)
        lines.append(f"{indent}{node.name()} -> {shapes}" + ("   (see above)" if node in seen else ""))
        if node in seen:
            continue
        seen.add(node)
        inputs = [next_node for next_node, _ in node.next_functions if next_node is not None]
        stack.extend((next_node, depth + 1) for next_node in reversed(inputs))
    return lines


def main(out=None, quick=False):
    """Run the example (``quick`` changes nothing: it is already small)."""
    report = Report("The two-layer network x(5) -> h1(6) -> h2(7) as a graph", out)
    torch.manual_seed(0)
    # float64, so that finite differences can check the gradients to many digits
    x = torch.randn(5, dtype=torch.float64)
    target = torch.randn(7, dtype=torch.float64)
    W1 = torch.randn(6, 5, requires_grad=True, dtype=torch.float64)
    b1 = torch.zeros(6, requires_grad=True, dtype=torch.float64)
    W2 = torch.randn(7, 6, requires_grad=True, dtype=torch.float64)
    b2 = torch.zeros(7, requires_grad=True, dtype=torch.float64)
    for name, parameter in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        parameter.name = name
    parameters = (W1, b1, W2, b2)

    x.name, target.name = "x", "t"

    def network_loss(W1, b1, W2, b2):
        h1 = torch.sigmoid(W1 @ x + b1)  # (6,)
        h2 = W2 @ h1 + b2  # (7,)
        h1.name, h2.name = "h1", "h2"  # the names of the lecture, for the drawing
        loss = ((h2 - target) ** 2).sum()
        loss.name = "loss"
        return loss

    count = sum(parameter.numel() for parameter in parameters)
    report.say(f"parameters: W1 6x5 = 30, b1 6, W2 7x6 = 42, b2 7: {count} in all")
    loss = network_loss(*parameters)
    lines = graph_lines(loss)
    report.say("The graph of the loss, from the loss down to the leaves (each line is a grad_fn node):")
    report.block("\n".join(lines))
    _draw(report, loss, parameters)

    loss.backward()
    report.say("After loss.backward() every leaf holds a gradient of its own shape:")
    report.block("\n".join(f"{p.name}.grad: shape {tuple(p.grad.shape)}" for p in parameters))
    shapes_match = all(parameter.grad.shape == parameter.shape for parameter in parameters)

    numerical = numerical_gradient(network_loss, [parameter.detach().requires_grad_() for parameter in parameters])
    difference = max(float(abs(parameter.grad._array - estimate).max()) for parameter, estimate in zip(parameters, numerical))
    report.say(
        f"Largest difference between backward's gradients and finite differences "
        f"(f(w + eps) - f(w - eps)) / (2 eps): {difference:.2e}"
    )
    results = {
        "parameters": count,
        "graph_nodes": len(lines),
        "grad_shapes_match": shapes_match,
        "max_difference_to_finite_differences": difference,
    }
    report.write(results)
    return results


def _draw(report, loss, parameters):
    """The graph as a picture (graph.svg), drawn top to bottom so that it fits a page."""
    if report.out is None:
        return
    from chainrule.viz import draw_graph

    try:
        drawing = draw_graph(loss, params={parameter.name: parameter for parameter in parameters}, rankdir="TB")
        path = drawing.render(report.path("graph.svg"))
    except (ImportError, RuntimeError) as error:
        report.say(f"(graph.svg not drawn: {error})")
        return
    report.attach("graph.svg")


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("two_layer_graph"))
