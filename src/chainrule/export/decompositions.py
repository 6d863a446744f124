"""``ep.run_decompositions(table)``: operations of an exported graph replaced by the operations
of a function that computes the same.

``table`` maps an operation, as the graph calls it (``chainrule.nn.functional.linear``, or a
Tensor method such as ``chainrule.Tensor.relu``), to a function of the same arguments; each node of
that operation is replaced by the nodes that function records when called on the node's inputs::

    table = chainrule.export.default_decompositions()
    table[chainrule.nn.functional.linear] = lambda x, weight, bias=None: x @ weight.t() + bias
    ep = ep.run_decompositions(table)

PyTorch's graphs hold ATen operators, and its default table breaks them into its core ATen set.
A chainrule graph holds chainrule's own operations, which are its primitives already: the default
table (``default_decompositions()``) is empty, and running it copies the program.
"""
import copy

from chainrule.autograd.grad_mode import no_grad
from chainrule.export.unlifted_module import graph_submodules
from chainrule.fx import GraphModule, Interpreter, Proxy
from chainrule.fx.node import map_arg
from chainrule.fx.proxy import GraphAppendingTracer
from chainrule.overrides import armed_while
from chainrule.tensor import Tensor
from chainrule.utils._pytree import tree_flatten


class CustomDecompTable(dict):
    """A decomposition table: operation -> the function that replaces it (see the module docstring)."""

    def materialize(self):
        """The table as a plain dict."""
        return dict(self)

    def copy(self):
        return CustomDecompTable(self)


def default_decompositions():
    """The table ``run_decompositions()`` uses by default: empty (see the module docstring)."""
    return CustomDecompTable()


def decomposed_graph_module(program, table):
    """A copy of ``program``'s graph module with the operations of ``table`` decomposed, each new
    node's ``meta`` (dtype, shape) recorded from a run on the example inputs."""
    graph_module = GraphModule(graph_submodules(program.graph_module), copy.deepcopy(program.graph))
    graph_module.training = program.graph_module.training
    if not table:
        return graph_module
    graph = graph_module.graph
    tracer = GraphAppendingTracer(graph)
    methods = {getattr(Tensor, name, None): name for name in dir(Tensor) if not name.startswith("_")}
    by_target = {methods.get(operation, operation): function for operation, function in table.items()}
    for node in list(graph.nodes):
        function = by_target.get(node.target) if node.op in ("call_function", "call_method") else None
        if function is None:
            continue
        args, kwargs = map_arg((node.args, node.kwargs), lambda each: Proxy(each, tracer))
        with graph.inserting_before(node), armed_while():
            result = function(*args, **kwargs)
        if not isinstance(result, Proxy):
            raise TypeError(f"run_decompositions: the decomposition of {node.target} returned {result!r}, not a value computed from its inputs")
        node.replace_all_uses_with(result.node)
        graph.erase_node(node)
    graph.lint()
    graph_module.recompile()
    _record_meta(graph_module, program)
    return graph_module


def _record_meta(graph_module, program):
    """Give each node without one a ``meta`` dtype and shape, from a run on the example inputs
    (and copies of the state, which a batch norm would update)."""
    targets = {name: tensor.detach().clone() for name, tensor in {**program.state_dict, **program.constants}.items()}
    inputs = [targets[spec.target] for spec in program.graph_signature.input_specs if spec.target is not None]
    inputs += tree_flatten(program.example_inputs)[0]

    class Recording(Interpreter):
        def run_node(self, node):
            value = super().run_node(node)
            if isinstance(value, Tensor) and "shape" not in node.meta:
                node.meta.update(dtype=str(value.dtype), shape=tuple(value.shape))
            return value

    with no_grad():
        Recording(graph_module).run(*inputs)
