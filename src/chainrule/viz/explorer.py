"""The explorer: one self-contained web page that steps through forward and backward.

``explore(loss, "graph.html")`` computes everything in Python (values from the graph, gradients
and local derivatives from ``trace_backward``), lays the graph out in layers from left to right,
and writes one HTML file with the data as JSON and a small script that draws it as SVG: no server,
no network. The buttons step forward (values appear operation by operation) and then backward
(each operation sends arriving × local to its inputs, and a tensor used several times shows its
gradient as the sum of the parts); clicking a node shows its value, gradient and formula. The
drawing fits the window, zooms and pans, and follows the current step. For an expression of single
numbers the student can edit the leaves, or train one step, and the page recomputes everything with
each operation's derivative (``_recompute_plan``).
"""
import math
import re
import sys
from pathlib import Path

from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import to_numpy, xp
from chainrule.tensor import Tensor
from chainrule.viz.explorer_page import PAGE
from chainrule.viz.expression import course_mlp, evaluate, names_used, parse_values
from chainrule.viz.formatting import collapse_constant, derivative, format_number, format_shape, summarize_array, to_plain
from chainrule.viz.formulas import formulas_of
from chainrule.viz.graph_model import CONSTANT, INTERMEDIATE, LEAF
from chainrule.viz.layout import layered_layout
from chainrule.viz.network import course_network, explore_network
from chainrule.viz.page import write_page
from chainrule.viz.trace import gradient_sent_text, local_derivative_text, sum_text, trace_backward, trace_of

CHARACTER_WIDTH = 7.4  # pixels per character of the page's 12px monospace font
MIN_WIDTH = 135  # pixels: room for a value like "grad -0.001234" when the student edits an input
MAX_EDGE_LABEL = 22  # characters
MAX_SUM = 32  # characters of a gradient shown as the sum of its parts in a box
ROLES = {LEAF: "leaf that requires grad", CONSTANT: "constant", INTERMEDIATE: "intermediate result"}


def explore(output, path="graph.html", params=None, title=None, trace=None):
    """Write the explorer page for ``output`` (a single number, e.g. the loss) and return its path.

    Runs backward (through ``trace_backward``: the leaves' ``.grad`` are filled), so call it
    instead of ``output.backward()``, unless ``trace_backward(output)`` just ran: its trace is
    used (or pass the ``trace`` you have). ``params`` names tensors, e.g. ``dict(model.named_parameters())``
    or intermediates ``{"u": u}``.
    """
    if trace is None:
        trace = trace_of(output) or trace_backward(output, params)
    data = explorer_data(trace, title or f"Backprop through {trace.output_name}")
    return write_page(PAGE, data["title"], data, path)


def explore_command(expression, values, out_path, force=False):
    """``chainrule explore EXPR --a 5 ... --out graph.html``; returns the exit status (2 for a
    mistake, with one line saying what to do)."""
    try:
        if Path(out_path).exists() and not force:
            raise ValueError(f"{out_path} exists; pass --force to overwrite it, or --out another file")
        variables = parse_values(values)
        if expression.strip() == "mlp":
            written = _explore_mlp(variables, out_path)
        else:
            output, named = evaluate(expression, variables)
            unused = [name for name in variables if name not in names_used(expression)]
            if unused:
                raise ValueError(f"--{unused[0]} is given but the expression does not use {unused[0]!r}")
            if not isinstance(output, Tensor):
                raise ValueError(f"{expression!r} is the number {output:g}: use variables given as --NAME VALUE")
            written = [explore(output, out_path, params=named, title=expression)]
    except (ValueError, RuntimeError, TypeError, ArithmeticError, IndexError) as error:
        print(f"chainrule explore: {error}", file=sys.stderr)
        return 2
    print(f"wrote {' and '.join(written)}: open {'it' if len(written) == 1 else 'them'} in a web browser")
    return 0


def _explore_mlp(variables, out_path):
    """The course network: its layer view at ``out_path`` and its operation graph beside it."""
    output, named = course_mlp(variables)
    graph_path = Path(out_path).with_name(Path(out_path).stem + "-operations.html")
    explore(output, graph_path, params=named, title="The course's 2-layer MLP, operation by operation: E = ½ Σ (O − t)²")
    model, x, target = course_network()
    with no_grad():
        for index, (weight, bias) in ((0, ("W1", "b1")), (2, ("W2", "b2"))):
            model[index].weight.copy_(named[weight])
            model[index].bias.copy_(named[bias])
    network = explore_network(model, named["x"], named["t"], out_path, graph_page=graph_path.name)
    return [network, str(graph_path)]


def explorer_data(trace, title):
    """Everything the page shows, as plain data: nodes with positions, edges, and the steps."""
    graph = trace.graph
    nodes = [_tensor_node(info, trace) for info in graph.tensors] + [_operation_node(operation) for operation in graph.operations]
    edges = {}
    for operation in graph.operations:
        for info in operation.inputs:
            if info is not None:
                edges.setdefault((info.id, operation.id), f"e{len(edges)}")
        for info in operation.outputs:
            if info is not None:
                edges.setdefault((operation.id, info.id), f"e{len(edges)}")
    _layout(graph, nodes, edges)
    return {
        "title": title,
        "output": trace.output_name,
        "nodes": nodes,
        "edges": [{"id": edge_id, "from": tail, "to": head} for (tail, head), edge_id in edges.items()],
        "steps": _forward_steps(graph) + _backward_steps(trace, edges),
        "recompute": _recompute_plan(trace, edges),
    }


# Operations the page can compute again itself, on single numbers, when the student edits a leaf.
RECOMPUTABLE = {"Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sin", "Cos", "Tanh", "Sigmoid", "Sqrt", "Sum", "Mean"}


def _family(operation):
    """The operation's family as the page knows it: ``Sub`` for ``Rsub`` (``1 - x``), ``Sum`` for
    ``SumAll``; the Op's own name when no class it derives from is one of RECOMPUTABLE."""
    known = (cls.__name__ for cls in operation.function.__mro__ if cls.__name__ in RECOMPUTABLE)
    return next(known, operation.function.__name__)


def _recompute_plan(trace, edges):
    """What the page needs to recompute forward and backward when a leaf is edited, or None when it
    cannot: every tensor must be a single number and every operation one of RECOMPUTABLE.

    The page then redoes, in the same order and with the same texts, what ``_forward_steps`` and
    ``_backward_steps`` wrote, taking each local derivative's formula from here (the operation's own).
    """
    graph = trace.graph
    if any(info._array is None or info._array.size != 1 for info in graph.tensors):
        return None
    operations = []
    for operation in graph.operations:
        name = _family(operation)
        inputs = [info.id if info is not None else None for info in operation.inputs][: _arity(operation)]
        exponent = operation.node.__dict__.get("exponent")
        if name == "Pow":  # a number exponent, kept on the node; a tensor exponent is not recomputed
            known = inputs[0] is not None and inputs[1] is None and isinstance(exponent, (int, float))
        else:
            known = all(input_id is not None for input_id in inputs)
        if name not in RECOMPUTABLE or not known:
            return None
        outputs = [info.id for info in operation.outputs if info is not None]
        operations.append({"id": operation.id, "function": name, "call": _call(operation), "inputs": inputs, "exponent": exponent, "output": outputs[0]})
    backward = []
    for step in trace.steps:
        if step.is_leaf:
            info = graph.slot(step.node) if step.node is not None else graph.output_info
            backward.append({"leaf": info.id})
            continue
        operation = graph.operation(step.node)
        backward.append(
            {
                "operation": operation.id,
                "name": step.operation,
                "output": [info.id for info in operation.outputs if info is not None][0],
                "edges": [
                    {
                        "position": edge.position,
                        "input": operation.inputs[edge.position].id,
                        "derivative": derivative(step.output_name, edge.input_name),
                        "formula": edge.formula,
                        "uses": edge.uses,
                        "edge": edges[(operation.inputs[edge.position].id, operation.id)],
                    }
                    for edge in step.edges
                    if edge.grad_sent is not None
                ],
            }
        )
    return {
        "leaves": [info.id for info in graph.leaves],
        "operations": operations,
        "backward": backward,
        "names": {info.id: info.name for info in graph.tensors},
        "values": {info.id: float(info._array.reshape(-1)[0]) for info in graph.tensors},
        "output_id": graph.output_info.id,
    }


def _arity(operation):
    """How many of the operation's arguments the page computes with: two for a binary operation."""
    return 2 if _family(operation) in ("Add", "Sub", "Mul", "Div", "Pow") else 1


# ----------------------------------------------------------------------------- nodes
def _tensor_node(info, trace):
    role = "the output" if info.is_output else ROLES[info.kind]
    made_by = None
    if info.producer is not None:
        made_by = _call(info.producer)
    grad_text = trace.grad_text(info)  # as a sum of parts where several uses sent one
    texts = [_value_text(info._array), grad_text if grad_text is not None and len(grad_text) <= MAX_SUM else _value_text(trace.grad_of(info))]
    return {
        "id": info.id,
        "type": "tensor",
        "kind": info.kind,
        "output": info.is_output,
        "name": info.name,
        "shape": format_shape(info.shape),
        "role": role,
        "made_by": made_by,
        "width": _text_width([info.name + "  " + format_shape(info.shape), "= " + texts[0], "grad " + texts[1]]),
        "height": 56,
    }


def _operation_node(operation):
    outputs = [info.name for info in operation.outputs if info is not None]
    declared = formulas_of(operation.node, [info.name if info is not None else None for info in operation.inputs], ", ".join(outputs))
    return {
        "id": operation.id,
        "type": "op",
        "name": operation.name,
        "function": operation.function.__name__,
        "formula": f"{', '.join(outputs)} = {declared.formula}" if declared.formula else "",
        "call": _call(operation),
        "outputs": outputs,
        "width": _text_width([operation.name]) + 12,
        "height": 34,
    }


BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


def _call(operation):
    """``Sum(t1)``, ``Mul(3, u)``, ``Pow(x, 2)``: PyTorch's name for the operation (its ``grad_fn``
    name without ``Backward0``) and the tensors it read; a number exponent is shown as a number."""
    names = [info.name for info in operation.inputs if info is not None]
    exponent = operation.node.__dict__.get("exponent")
    if isinstance(exponent, (int, float)) and None in operation.inputs:
        names.append(format_number(exponent))
    return f"{BACKWARD_SUFFIX.sub('', operation.name)}({', '.join(names)})"


# ----------------------------------------------------------------------------- steps
def _forward_steps(graph):
    """One step per leaf or constant, then one per operation (with its outputs), in forward order."""
    steps = []
    done = set()
    for info in graph.tensors:
        if info.producer is None:
            value = _value_text(info._array)
            text = f"the constant {value}" if info.name == value else f"{info.name} = {value}   (a {ROLES[info.kind]})"
            steps.append(_forward_step(text, [info], [info.id]))
        elif info.producer.id not in done:
            operation = info.producer
            done.add(operation.id)
            outputs = [output for output in operation.outputs if output is not None]
            results = ", ".join(f"{output.name} = {_value_text(output._array)}" for output in outputs)
            text = f"{_call(operation)} gives {results}"
            steps.append(_forward_step(text, outputs, [operation.id] + [output.id for output in outputs]))
    return steps


def _forward_step(text, infos, active):
    return {"phase": "forward", "text": [text], "active": active, "values": {info.id: _array_data(info._array) for info in infos}}


def _backward_steps(trace, edges):
    """One step per node backward visits: the gradients it sends, with arriving × local."""
    graph = trace.graph
    output = trace.output_name
    received = {}  # tensor id -> gradients received so far
    steps = []
    for step in trace.steps:
        if step.is_leaf:
            info = graph.slot(step.node) if step.node is not None else graph.output_info
            text = [f"{info.name}.grad = {derivative(output, info.name)} = {sum_text(step.grad_terms)}   {_stored_note(step.grad_terms)}"]
            steps.append({"phase": "backward", "text": text, "active": [info.id], "grads": {}, "edges": {}, "stored": [info.id]})
            continue
        operation = graph.operation(step.node)
        grads = {}
        if step.number == 1:
            grads[graph.output_info.id] = _array_data(step.grad_output, f"{derivative(output, output)} = 1: where backward starts")
        arriving = sum_text(step.grad_terms)
        if len(step.grad_terms) > 1:
            arriving += f"   (the sum of the parts from its {len(step.grad_terms)} uses)"
        text = [f"{step.operation}: the gradient arriving is {derivative(output, step.output_name)} = {arriving}"]
        active = [operation.id]
        edge_labels = {}
        for edge in step.edges:
            text.append(f"{local_derivative_text(step.output_name, edge)}, so {gradient_sent_text(output, step.grad_output, edge)}")
            if edge.grad_sent is None:
                continue
            info = operation.inputs[edge.position]
            terms = received.setdefault(info.id, [])
            terms.append(edge.grad_sent)
            sum_of_uses = "summed over its uses: " + sum_text(terms) if len(terms) > 1 else None
            grads[info.id] = _array_data(sum(terms[1:], terms[0]), sum_of_uses)
            if len(terms) > 1 and len(sum_text(terms)) <= MAX_SUM:
                grads[info.id]["text"] = sum_text(terms)  # the box shows the parts adding up: 1 + 3 + 3 = 7
            edge_id = edges[(info.id, operation.id)]
            label = _edge_label(edge)
            edge_labels[edge_id] = f"{edge_labels[edge_id]}, {label}" if edge_id in edge_labels else label
            active.append(info.id)
        steps.append({"phase": "backward", "text": text, "active": active, "grads": grads, "edges": edge_labels})
    return steps


def _stored_note(terms):
    if len(terms) > 1:
        return f"(the sum of the parts sent by its {len(terms)} uses, stored in the leaf)"
    return "(stored in the leaf)"


def _edge_label(edge):
    """What an arrow shows backward: ``× 2 = 6`` (local derivative, gradient sent), or the gradient
    sent alone, ``← [1, 2]``, when that is too long; the status line has every number in full."""
    if edge.grad_sent is None:
        return ""
    sent = summarize_array(edge.grad_sent)
    if edge.local is not None:
        text = f"× {summarize_array(collapse_constant(edge.local))} = {sent}"
        if len(text) <= MAX_EDGE_LABEL:
            return text
    text = "← " + sent
    return text if len(text) <= MAX_EDGE_LABEL else "← " + format_shape(edge.grad_sent.shape)


# ----------------------------------------------------------------------------- layout
def _layout(graph, nodes, edges):
    """Set each node's x, y (see ``layout.py``): columns from left to right, each operation above
    the tensors it makes."""
    by_id = {node["id"]: node for node in nodes}
    blocks = [[operation.id] + [info.id for info in operation.outputs if info is not None] for operation in graph.operations]
    placed, _size = layered_layout({node["id"]: (node["width"], node["height"]) for node in nodes}, list(edges), blocks)
    for node_id, (x, y) in placed.items():
        by_id[node_id]["x"], by_id[node_id]["y"] = x, y


# ----------------------------------------------------------------------------- values
def _value_text(array):
    return "?" if array is None else summarize_array(array)


def _array_data(array, detail=None):
    """A value for the page: short text, full text, exact numbers (JSON) and an explanation."""
    if array is None:
        return {"text": "?", "full": "not known", "json": None, "detail": detail}
    values = to_numpy(array)
    full = xp.array2string(values, separator=", ", formatter={"float_kind": format_number}, max_line_width=60, threshold=200)
    return {"text": summarize_array(values), "full": full, "json": _json_safe(to_plain(values)), "detail": detail}


def _json_safe(value):
    """JSON has no nan or infinity: those become the strings "nan", "inf", "-inf"."""
    if isinstance(value, list):
        return [_json_safe(element) for element in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _text_width(lines):
    return max(MIN_WIDTH, min(320, int(max(len(line) for line in lines) * CHARACTER_WIDTH) + 20))
