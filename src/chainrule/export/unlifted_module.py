"""``ep.module()``: an exported program as a module again, its parameters and buffers its own.

The program's graph takes everything as inputs (parameters, buffers, constants, the flattened
user inputs). The module's graph reads the parameters, buffers and constants as attributes
(``fc_weight = self.fc.weight``: the same Parameters as ``ep.state_dict``'s, so that training the
module trains them, and a batch norm updates its running statistics in place), takes the user's
inputs as the exported forward did, flattens and checks them with ``_guards_fn`` (input_guard.py)
and returns the outputs in their structure. As PyTorch's, it cannot switch between training and
evaluation (``train()``/``eval()`` raise): the graph holds the mode it was exported in (a dropout's
``training=True``); export the module again in the other mode.
"""
import operator

from chainrule.export.graph_signature import InputKind
from chainrule.export.input_guard import InputGuard
from chainrule.fx import Graph, GraphModule
from chainrule.utils._pytree import tree_unflatten


class ExportedModule(GraphModule):
    """The module ``ep.module()`` returns (see the module docstring)."""

    def train(self, mode=True):
        raise NotImplementedError(f"Calling {'train' if mode else 'eval'}() is not supported yet.")


def unlifted_module(program):
    """The module of ``program`` (see the module docstring)."""
    in_spec, out_spec = program.call_spec
    arguments = program._forward_arguments
    graph = Graph()
    flat = graph.call_module("_guards_fn", tuple(graph.placeholder(name) for name in arguments))
    root = {"_guards_fn": InputGuard(in_spec, program._input_dimensions, arguments, len(program.example_inputs[0])), "_out_spec": out_spec}
    root.update(graph_submodules(program.graph_module))
    targets = _state_targets(program)
    remap = {}
    for node in program.graph.nodes:
        if node.op != "placeholder":
            break
        if node.name in targets:
            target, value = targets[node.name]
            remap[node] = graph.get_attr(target)
            root[target] = value
        else:
            remap[node] = graph.create_node("call_function", operator.getitem, (flat, len(remap) - len(targets)), name=node.name)
    outputs = graph.graph_copy(program.graph, remap)
    graph.output(graph.call_function(tree_unflatten, (list(outputs), graph.get_attr("_out_spec"))))
    module = ExportedModule(root, graph)
    module.training = program.graph_module.training
    return module


def graph_submodules(graph_module):
    """The modules ``graph_module``'s graph reads, by the target its nodes name (cond's branch
    graphs, a layer recorded as one node): what a GraphModule of that graph is built with."""
    return {node.target: graph_module.get_submodule(node.target) for node in graph_module.graph.nodes
            if node.op == "call_module" or node.op == "get_attr" and node.target in dict(graph_module.named_children())}


def _state_targets(program):
    """placeholder name -> (attribute path in the module, tensor) for the parameters, buffers and constants."""
    found = {}
    for spec in program.graph_signature.input_specs:
        if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
            found[spec.arg.name] = (spec.target, program.state_dict[spec.target] if spec.target in program.state_dict else program.constants[spec.target])
    return found
