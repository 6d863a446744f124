"""Drawing the graph behind a result, like the computation graphs of the course notes.

Tensors are boxes (name, shape, value and gradient when small), operations are ellipses named as
their ``grad_fn``s (``MulBackward0``) with the formula they compute; arrows follow the forward
computation, from inputs to the result. Leaves that require grad are blue and labelled ``requires
grad``, constants grey, the result orange. After ``trace_backward`` every tensor shows its gradient
(as a sum of parts where it was used several times: ``grad 1 + 3 + 3 = 7``) and each arrow the
gradient sent back along it.

``render`` writes SVG with nothing installed: chainrule lays the graph out in layers itself (see
``layout.py``). Where Graphviz's ``dot`` program is installed it is used instead, and it also makes
PNG. ``source`` is the drawing as DOT text, for any Graphviz tool.
"""
import html
import shutil
import subprocess
import warnings
from pathlib import Path

from chainrule.tensor import Tensor
from chainrule.viz.formatting import format_array, format_shape
from chainrule.viz.formulas import formulas_of
from chainrule.viz.graph_model import CONSTANT, LEAF, ComputationGraph, caller_tensors
from chainrule.viz.layout import layered_layout
from chainrule.viz.trace import trace_of

FILL_COLORS = {LEAF: "#cfe6ff", CONSTANT: "#eeeeee", "op": "#fff4c2", "module": "#e6dcf5"}
OUTPUT_FILL = "#ffd9a8"
SHAPES = {"tensor": "box", "op": "ellipse", "module": "box3d"}  # as Graphviz names them
CHARACTER_WIDTH = 7.0  # pixels per character of 12px Helvetica, a little generous
LINE_HEIGHT = 15
MAX_FORMULA = 28  # characters of an operation's formula drawn in its ellipse
MAX_LINE = 40  # characters of a line in a box; longer values are cut (the explorer shows them whole)
INSTALL_DOT = (
    "Graphviz's `dot` program was not found; PNG needs it: install Graphviz "
    "(apt-get install graphviz, brew install graphviz, or conda install graphviz), "
    "or render SVG, which chainrule draws itself"
)


class DrawnNode:
    """One box or ellipse: ``kind`` is "tensor", "op" or "module", ``lines`` its label."""

    def __init__(self, node_id, kind, lines, fill):
        self.id = node_id
        self.kind = kind
        self.lines = [line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…" for line in lines]
        self.fill = fill

    @property
    def label(self):
        return "\n".join(self.lines)

    @property
    def size(self):
        padding = 34 if self.kind == "op" else 18
        return (max(len(line) for line in self.lines) * CHARACTER_WIDTH + padding, len(self.lines) * LINE_HEIGHT + 14)


class GraphDrawing:
    """A drawn graph: ``nodes`` (DrawnNode), ``edges`` (``(tail id, head id, label)``),
    ``render(path)`` to SVG or PNG, ``svg()`` as text, ``source`` as DOT, inline display in Jupyter.
    ``graph`` is the ComputationGraph drawn."""

    def __init__(self, nodes, edges, graph, rankdir="LR", blocks=()):
        self.nodes = nodes
        self.edges = edges
        self.graph = graph
        self.rankdir = rankdir
        self.blocks = blocks  # node ids drawn as one stack: an operation and the tensors it makes

    @property
    def source(self):
        """The drawing in Graphviz's DOT language."""
        lines = ["digraph chainrule {", f"\trankdir={self.rankdir}", '\tnode [fontname="Helvetica"]']
        for node in self.nodes:
            style = "filled" if node.kind != "tensor" else "rounded,filled"
            lines.append(f'\t{node.id} [label="{_dot_text(node.label)}" shape={SHAPES[node.kind]} style="{style}" fillcolor="{node.fill}"]')
        for tail, head, label in self.edges:
            lines.append(f'\t{tail} -> {head}' + (f' [label="{_dot_text(label)}" fontcolor="#c0262d"]' if label else ""))
        return "\n".join(lines + ["}"]) + "\n"

    def svg(self):
        """The drawing as SVG text: Graphviz's when ``dot`` is installed, else chainrule's own."""
        if shutil.which("dot"):
            return self.pipe("svg").decode("utf-8")
        return layered_svg(self.nodes, self.edges, self.rankdir, self.blocks)

    def pipe(self, format="svg"):
        """The rendered image as bytes; PNG needs Graphviz's ``dot``."""
        if format == "svg" and not shutil.which("dot"):
            return self.svg().encode("utf-8")
        if not shutil.which("dot"):
            raise RuntimeError(INSTALL_DOT)
        result = subprocess.run(["dot", f"-T{format}"], input=self.source.encode("utf-8"), capture_output=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"Graphviz's dot failed: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    def render(self, path, format=None):
        """Write the drawing to ``path`` as ``format`` ('svg' or 'png'; by default from the file's
        suffix, else svg) and return the path written."""
        path = Path(path)
        format = format or path.suffix.lstrip(".").lower() or "svg"
        if format not in ("svg", "png"):
            raise ValueError(f"render: format must be 'svg' or 'png', got {format!r}")
        if path.suffix.lower() != "." + format:
            path = path.with_name(path.name + "." + format)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.pipe(format))
        return str(path)

    def _repr_svg_(self):
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self._repr_svg_()}

    def __repr__(self):
        return f"<GraphDrawing: {len(self.graph.tensors)} tensors, {len(self.graph.operations)} operations>"


def _dot_text(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _graph_was_freed(output):
    """Whether a backward pass without retain_graph has released any node of ``output``'s graph."""
    stack, seen = [output.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node._freed:
            return True
        stack.extend(node.next_nodes)
    return False


def draw_graph(output, params=None, show_values=True, show_grads=True, rankdir="LR", collapse_modules=None, trace=None):
    """Draw the graph that computed ``output``; returns a GraphDrawing.

    Works before backward (values), after ``backward()`` (the leaves' gradients too) and after
    ``trace_backward(output)`` (every gradient, and the gradient sent along each arrow).

    Args:
        output: the result tensor (e.g. the loss).
        params: ``{name: tensor}`` to label tensors, e.g. ``dict(model.named_parameters())``, or
            intermediates (``{"u": u}``); other tensors show their ``name``, the name of the
            caller's variable that holds them, or ``t0``, ``t1``, ...
        show_values, show_grads: print values and gradients in tensor boxes of at most 6 elements.
        rankdir: "LR" (left to right) or "TB" (top to bottom).
        collapse_modules: a Module (or True, with ``params`` from ``named_parameters()``): draw each
            module that owns parameters as one box, hiding its parameters and inner operations.
        trace: the BackwardTrace of ``output``; by default the one ``trace_backward(output)`` just
            recorded, if any.
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"draw_graph: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if trace is None and isinstance(output, Tensor):
        trace = trace_of(output)
    if trace is None and isinstance(output, Tensor) and _graph_was_freed(output):
        warnings.warn(
            "draw_graph: backward() already freed this graph, so constants and intermediate values "
            "it saved are gone from the drawing; draw before backward, or call "
            "trace_backward(output) instead of backward() and draw after it",
            stacklevel=2,
        )
    graph = trace.graph if trace is not None else ComputationGraph(output, params, caller_tensors())
    modules = module_groups(graph, params, collapse_modules) if collapse_modules else {}
    group_of = {id(operation): group for group in modules.values() for operation in group.operations}
    hidden = _hidden_tensors(modules, group_of)
    sent = _gradients_sent(trace) if trace is not None and show_grads else {}

    nodes = []
    for info in graph.tensors:
        if id(info) not in hidden:
            lines = _tensor_lines(info, trace, show_values, show_grads)
            nodes.append(DrawnNode(info.id, "tensor", lines, OUTPUT_FILL if info.is_output else FILL_COLORS.get(info.kind, "white")))
    for group in modules.values():
        nodes.append(DrawnNode(group.id, "module", group.label().split("\n"), FILL_COLORS["module"]))
    edges = {}
    blocks = {}
    for operation in graph.operations:
        group = group_of.get(id(operation))
        if group is None:
            nodes.append(DrawnNode(operation.id, "op", _operation_lines(operation), FILL_COLORS["op"]))
        target = operation.id if group is None else group.id
        block = blocks.setdefault(target, [target])
        for position, info in enumerate(operation.inputs):
            if info is None or id(info) in hidden:
                continue
            if group is not None and info.producer is not None and group_of.get(id(info.producer)) is group:
                continue  # an arrow inside the module's box
            label = sent.get((operation.id, position)) if group is None else None
            if edges.get((info.id, target)) and label:  # one arrow for an input used twice (a · a): both parts
                label = edges[(info.id, target)] + " + " + label.removeprefix("grad ")
            elif (info.id, target) in edges:
                continue  # a module box gets one arrow per tensor
            edges[(info.id, target)] = label
        for info in operation.outputs:
            if info is not None and id(info) not in hidden:
                edges.setdefault((target, info.id), None)
                block.append(info.id)
    edges = [(tail, head, label) for (tail, head), label in edges.items()]
    return GraphDrawing(nodes, edges, graph, rankdir, list(blocks.values()))


def _gradients_sent(trace):
    """``{(operation id, input position): "grad 6"}``: what backward sent along each arrow."""
    sent = {}
    for step in trace.steps:
        if step.is_leaf:
            continue
        operation = trace.graph.operation(step.node)
        for edge in step.edges:
            if edge.grad_sent is not None:
                value = format_array(edge.grad_sent)
                if value is not None:
                    sent[(operation.id, edge.position)] = f"grad {value}"
    return sent


def _operation_lines(operation):
    """``MulBackward0`` and, when short, the formula it computes: ``v = b · c``."""
    outputs = ", ".join(info.name for info in operation.outputs if info is not None)
    formula = formulas_of(operation.node, [info.name if info is not None else None for info in operation.inputs], outputs).formula
    lines = [operation.name]
    if formula is not None and len(outputs) + len(formula) + 3 <= MAX_FORMULA:
        lines.append(f"{outputs} = {formula}")
    return lines


def _tensor_lines(info, trace, show_values, show_grads):
    lines = [info.name if not info.shape else f"{info.name}  ({format_shape(info.shape)})"]
    if show_values and info._array is not None and info.name != format_array(info._array):
        value = format_array(info._array)
        if value is not None:
            lines.append(f"value {value}")
    if show_grads:
        grad = trace.grad_text(info) if trace is not None else (format_array(info.grad) if info.grad is not None else None)
        if grad is not None and len(grad) <= 60 and not grad.startswith(format_shape(info.shape) + ","):
            lines.append(f"grad {grad}")
    if info.kind == LEAF and info.tensor.requires_grad:
        lines.append("requires grad")
    elif info.kind == CONSTANT:
        lines.append("constant")
    return lines


def layered_svg(nodes, edges, rankdir="LR", blocks=()):
    """SVG text for ``nodes`` and ``edges`` placed by ``layered_layout`` (no external program);
    each of ``blocks`` (lists of node ids) is stacked in one column."""
    sizes = {node.id: node.size for node in nodes}
    links = [edge[:2] for edge in edges]
    if rankdir == "TB":  # lay the transposed graph out left to right, then transpose it back
        placed, (width, height) = layered_layout({key: (h, w) for key, (w, h) in sizes.items()}, links, blocks)
        placed, width, height = {key: (y, x) for key, (x, y) in placed.items()}, height, width
    else:
        placed, (width, height) = layered_layout(sizes, links, blocks)
    box = {node.id: (*placed[node.id], *sizes[node.id]) for node in nodes}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#666"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
    ]
    for tail, head, label in edges:
        path, label_at = _connector(box[tail], box[head])
        parts.append(f'<path d="{path}" stroke="#777" stroke-width="1.3" fill="none" marker-end="url(#arrow)"/>')
        if label:
            parts.append(f'<text x="{label_at[0]:.1f}" y="{label_at[1]:.1f}" text-anchor="middle" fill="#c0262d" font-size="11">{html.escape(label)}</text>')
    for node in nodes:
        x, y, w, h = box[node.id]
        if node.kind == "op":
            parts.append(f'<ellipse cx="{x + w / 2:.1f}" cy="{y + h / 2:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" fill="{node.fill}" stroke="#a89040"/>')
        else:
            corner = 7 if node.kind == "tensor" else 2
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{corner}" fill="{node.fill}" stroke="#555"/>')
        top = y + h / 2 - (len(node.lines) - 1) * LINE_HEIGHT / 2 + 4
        for index, line in enumerate(node.lines):
            weight = ' font-weight="bold"' if index == 0 else ""
            parts.append(f'<text x="{x + w / 2:.1f}" y="{top + index * LINE_HEIGHT:.1f}" text-anchor="middle"{weight}>{html.escape(line)}</text>')
    return "\n".join(parts + ["</svg>"]) + "\n"


def _connector(tail, head):
    """An arrow's path from box ``tail`` to box ``head`` (each ``(x, y, width, height)``) and
    where its label goes."""
    tx, ty, tw, th = tail
    hx, hy, hw, hh = head
    if hx >= tx + tw:  # head to the right: leave from the right side, enter on the left
        x1, y1, x2, y2 = tx + tw, ty + th / 2, hx - 1, hy + hh / 2
        middle = (x1 + x2) / 2
        return f"M {x1:.1f} {y1:.1f} C {middle:.1f} {y1:.1f}, {middle:.1f} {y2:.1f}, {x2:.1f} {y2:.1f}", (middle, (y1 + y2) / 2 - 5)
    x1, y1, x2, y2 = tx + tw / 2, ty + th, hx + hw / 2, hy - 1  # head below
    middle = (y1 + y2) / 2
    return f"M {x1:.1f} {y1:.1f} C {x1:.1f} {middle:.1f}, {x2:.1f} {middle:.1f}, {x2:.1f} {y2:.1f}", ((x1 + x2) / 2 + 4, middle)


class ModuleGroup:
    """One module drawn as one box: its parameters and the operations between them."""

    def __init__(self, name, class_name, parameters, index):
        self.name = name
        self.class_name = class_name
        self.parameters = parameters  # TensorInfo of the module's own parameters
        self.operations = []
        self.id = f"module{index}"

    def label(self):
        title = f"{self.name} ({self.class_name})" if self.class_name else self.name
        parameters = ", ".join(f"{info.name.rpartition('.')[2]} {format_shape(info.shape)}" for info in self.parameters)
        count = len(self.operations)
        return f"{title}\n{parameters}\n{count} operation{'s' if count != 1 else ''}"


def module_groups(graph, params, collapse_modules):
    """``{module name: ModuleGroup}`` for each module owning parameters of the graph.

    A module's operations are those after one of its parameters and before (or at) the last
    operation that takes one of its parameters directly: for ``Linear`` that is ``x @ W.T + b``,
    and not the activation that follows it.
    """
    if collapse_modules is True:
        if not params:
            raise ValueError("collapse_modules=True needs params=dict(model.named_parameters()) (or pass the model itself)")
        named_parameters, class_names = params, {}
    else:
        named_parameters = dict(collapse_modules.named_parameters())
        class_names = {name: type(module).__name__ for name, module in collapse_modules.named_modules()}
    owners = {id(tensor): name.rpartition(".")[0] for name, tensor in named_parameters.items()}
    groups = {}
    for info in graph.leaves:
        owner = owners.get(id(info.tensor))
        if owner:
            if owner not in groups:
                groups[owner] = ModuleGroup(owner, class_names.get(owner), [], len(groups))
            groups[owner].parameters.append(info)
    claimed = set()
    for group in groups.values():
        for operation in _operations_between(graph, group.parameters):
            if id(operation) not in claimed:
                claimed.add(id(operation))
                group.operations.append(operation)
    return groups


def _operations_between(graph, parameters):
    """Operations downstream of ``parameters`` and upstream of (or at) one that takes one directly."""
    direct = {id(operation) for info in parameters for operation, _ in info.consumers}
    downstream = set()
    for operation in graph.operations:  # forward order: inputs are decided before their consumers
        if id(operation) in direct or any(info is not None and info.producer is not None and id(info.producer) in downstream for info in operation.inputs):
            downstream.add(id(operation))
    upstream = set(direct)
    for operation in reversed(graph.operations):
        if id(operation) in upstream:
            upstream.update(id(info.producer) for info in operation.inputs if info is not None and info.producer is not None)
    return [operation for operation in graph.operations if id(operation) in downstream and id(operation) in upstream]


def _hidden_tensors(modules, group_of):
    """Tensors drawn inside a module box: its parameters, and results used only inside it."""
    hidden = set()
    for group in modules.values():
        hidden.update(id(info) for info in group.parameters)
        for operation in group.operations:
            for info in operation.outputs:
                if info is not None and not info.is_output and all(group_of.get(id(consumer)) is group for consumer, _ in info.consumers):
                    hidden.add(id(info))
    return hidden

