"""Drawing the graph behind a result with Graphviz, like the computation graphs of the course notes.

Tensors are boxes (name, shape, value and gradient when small), operations are ellipses named as
their ``grad_fn``s (``MulBackward``); arrows follow the forward computation, from inputs to the
result. Leaves that require grad are blue and labelled ``requires grad``, constants grey, the
result orange. ``draw_graph`` needs the ``graphviz`` Python package (``pip install 'chainrule[viz]'``)
and, to render SVG or PNG, Graphviz's ``dot`` program.
"""
import warnings

from pathlib import Path

from chainrule.tensor import Tensor
from chainrule.viz.formatting import format_array, format_shape
from chainrule.viz.graph_model import CONSTANT, LEAF, ComputationGraph

TENSOR_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "white", "fontname": "Helvetica"}
OPERATION_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#fff4c2", "fontname": "Helvetica"}
MODULE_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": "#e6dcf5", "fontname": "Helvetica"}
FILL_COLORS = {LEAF: "#cfe6ff", CONSTANT: "#eeeeee"}
OUTPUT_FILL = "#ffd9a8"
INSTALL_DOT = (
    "Graphviz's `dot` program was not found; rendering needs it: install Graphviz "
    "(apt-get install graphviz, brew install graphviz, or conda install graphviz)"
)


class GraphDrawing:
    """A drawn graph: ``source`` (the DOT text), ``render(path)`` to SVG or PNG, and inline display
    in Jupyter. ``digraph`` is the underlying ``graphviz.Digraph``, ``graph`` the ComputationGraph."""

    def __init__(self, digraph, graph):
        self.digraph = digraph
        self.graph = graph

    @property
    def source(self):
        return self.digraph.source

    def pipe(self, format="svg"):
        """The rendered image as bytes (needs Graphviz's ``dot``)."""
        import graphviz

        try:
            return self.digraph.pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(INSTALL_DOT) from None

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
        return self.pipe("svg").decode("utf-8")

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            return {"image/svg+xml": self._repr_svg_()}
        except RuntimeError as error:
            return {"text/plain": f"{error}\n\n{self.source}"}

    def __repr__(self):
        return f"<GraphDrawing: {len(self.graph.tensors)} tensors, {len(self.graph.operations)} operations>"


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

    Args:
        output: the result tensor (e.g. the loss).
        params: ``{name: tensor}`` to label tensors, e.g. ``dict(model.named_parameters())``, or
            intermediates (``{"u": u}``); other tensors show their ``name`` or ``t0``, ``t1``, ...
        show_values, show_grads: print values and gradients in tensor boxes of at most 6 elements.
            Gradients are the tensors' ``.grad`` (leaves after backward), or with ``trace`` the
            gradient of every tensor.
        rankdir: Graphviz's direction, "LR" (left to right) or "TB" (top to bottom).
        collapse_modules: a Module (or True, with ``params`` from ``named_parameters()``): draw each
            module that owns parameters as one box, hiding its parameters and inner operations.
        trace: the BackwardTrace of ``output`` (from ``trace_backward(output, params)``): its graph,
            names and gradients are drawn.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError("draw_graph needs the graphviz package: pip install 'chainrule[viz]'") from None
    if trace is None and isinstance(output, Tensor) and _graph_was_freed(output):
        warnings.warn(
            "draw_graph: backward() already freed this graph, so constants and intermediate values "
            "it saved are gone from the drawing; draw before backward, or pass "
            "trace=trace_backward(output) instead of calling backward()",
            stacklevel=2,
        )
    graph = trace.graph if trace is not None else ComputationGraph(output, params)
    modules = module_groups(graph, params, collapse_modules) if collapse_modules else {}
    group_of = {id(operation): group for group in modules.values() for operation in group.operations}
    hidden = _hidden_tensors(modules, group_of)

    digraph = graphviz.Digraph("chainrule", graph_attr={"rankdir": rankdir, "fontname": "Helvetica"})
    for info in graph.tensors:
        if id(info) not in hidden:
            grad = trace.grad_of(info) if trace is not None else info.grad
            digraph.node(info.id, _tensor_label(info, grad, show_values, show_grads), **_tensor_style(info))
    for group in modules.values():
        digraph.node(group.id, group.label(), **MODULE_STYLE)
    edges = []
    for operation in graph.operations:
        group = group_of.get(id(operation))
        if group is None:
            digraph.node(operation.id, operation.name, **OPERATION_STYLE)
        target = operation.id if group is None else group.id
        for info in operation.inputs:
            if info is None or id(info) in hidden:
                continue
            if group is not None and info.producer is not None and group_of.get(id(info.producer)) is group:
                continue  # an arrow inside the module's box
            edges.append((info.id, target))
        for info in operation.outputs:
            if info is not None and id(info) not in hidden:
                edges.append((target, info.id))
    for tail, head in dict.fromkeys(edges):  # a module box gets one arrow per tensor, not one per use
        digraph.edge(tail, head)
    return GraphDrawing(digraph, graph)


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


def _tensor_label(info, grad, show_values, show_grads):
    lines = [info.name if not info.shape else f"{info.name}  ({format_shape(info.shape)})"]
    if show_values and info.array is not None and info.name != format_array(info.array):
        value = format_array(info.array)
        if value is not None:
            lines.append(f"value {value}")
    if show_grads and grad is not None:
        value = format_array(grad)
        if value is not None:
            lines.append(f"grad {value}")
    if info.kind == LEAF and info.tensor.requires_grad:
        lines.append("requires grad")
    elif info.kind == CONSTANT:
        lines.append("constant")
    return "\n".join(lines)


def _tensor_style(info):
    fill = OUTPUT_FILL if info.is_output else FILL_COLORS.get(info.kind, "white")
    return {**TENSOR_STYLE, "fillcolor": fill}
