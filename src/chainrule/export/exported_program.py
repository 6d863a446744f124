"""ExportedProgram: what ``export`` returns, a graph and everything needed to run it.

``ep.graph_module`` is the graph as a GraphModule of all its inputs (parameters, buffers,
constants, then the user's flattened inputs: see graph_signature.py); ``ep.graph`` its Graph;
``ep.state_dict`` the parameters and buffers by name; ``ep.constants`` the tensor constants;
``ep.range_constraints`` the range of each dynamic size; ``ep.module()`` a module that takes the
user's inputs as forward did, checks them against the export and computes the outputs.
"""
import copy
import operator

from chainrule.export.graph_signature import InputKind
from chainrule.export.input_guard import InputGuard
from chainrule.export.listing import program_listing
from chainrule.export.value_ranges import ValueRanges
from chainrule.fx import Graph, GraphModule
from chainrule.utils._pytree import tree_unflatten


class ExportedProgram:
    """A module's forward as a flat graph (see the module docstring)."""

    def __init__(self, root, graph, graph_signature, state_dict, range_constraints, constants, example_inputs,
                 in_spec, out_spec, input_dimensions, forward_arguments):
        self._graph_module = GraphModule(dict(root), graph)
        self._graph_signature = graph_signature
        self._state_dict = state_dict
        self._range_constraints = {name: ValueRanges(lower, upper) for name, (lower, upper) in range_constraints.items()}
        self._constants = constants
        self._example_inputs = example_inputs
        self._in_spec = in_spec
        self._out_spec = out_spec
        self._input_dimensions = input_dimensions
        self._forward_arguments = forward_arguments

    # ------------------------------------------------------------------ what it holds
    @property
    def graph_module(self):
        return self._graph_module

    @property
    def graph(self):
        return self._graph_module.graph

    @property
    def graph_signature(self):
        return self._graph_signature

    @property
    def state_dict(self):
        """The parameters and buffers the graph reads, by name (the module's own tensors)."""
        return self._state_dict

    @property
    def constants(self):
        """The tensor constants the graph reads, by where they came from (``lifted_tensor_0``, an attribute path)."""
        return self._constants

    @property
    def example_inputs(self):
        """``(args, kwargs)`` as given to export."""
        return self._example_inputs

    @property
    def range_constraints(self):
        """``{dimension name: ValueRanges(min, max)}`` for each dynamic size."""
        return self._range_constraints

    @property
    def call_spec(self):
        """``(in_spec, out_spec)``: how the user's inputs and outputs nest (pytree specs)."""
        return self._in_spec, self._out_spec

    def named_parameters(self):
        for name in self._graph_signature.parameters:
            yield name, self._state_dict[name]

    def parameters(self):
        for _, parameter in self.named_parameters():
            yield parameter

    def named_buffers(self):
        for name in self._graph_signature.buffers:
            yield name, self._state_dict[name]

    def buffers(self):
        for _, buffer in self.named_buffers():
            yield buffer

    # ------------------------------------------------------------------ running it
    def __call__(self, *args, **kwargs):
        raise RuntimeError("Unable to call ExportedProgram directly. You should use `exported_program.module()` instead.")

    def module(self):
        """A GraphModule that runs the program: forward takes the user's inputs as the exported
        forward did, checks them (AssertionError naming the size that differs from the export,
        ValueError for another structure), reads the parameters and buffers as attributes (the
        same Parameters as ``state_dict``'s, so that training it trains them) and returns the
        outputs in their structure."""
        graph = Graph()
        arguments = [graph.placeholder(name) for name in self._forward_arguments]
        flat = graph.call_module("_guards_fn", tuple(arguments))
        root = {"_guards_fn": InputGuard(self._in_spec, self._input_dimensions, self._forward_arguments, len(self._example_inputs[0])), "_out_spec": self._out_spec}
        root.update(self._graph_module.named_children())
        remap = {}
        user_inputs = 0
        targets = self._state_targets()
        for node in self.graph.nodes:
            if node.op != "placeholder":
                break
            if node.name in targets:
                target, value = targets[node.name]
                remap[node] = graph.get_attr(target)
                root[target] = value
            else:
                remap[node] = graph.create_node("call_function", operator.getitem, (flat, user_inputs), name=node.name)
                user_inputs += 1
        outputs = graph.graph_copy(self.graph, remap)
        spec = graph.get_attr("_out_spec")
        graph.output(graph.call_function(tree_unflatten, (list(outputs), spec)))
        module = GraphModule(root, graph)
        module.train(self._graph_module.training)
        return module

    def _state_targets(self):
        """placeholder name -> (attribute path in ``module()``, tensor) for the parameters, buffers and constants."""
        found = {}
        for spec in self._graph_signature.input_specs:
            if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER):
                found[spec.arg.name] = (spec.target, self._state_dict[spec.target])
            elif spec.kind == InputKind.CONSTANT_TENSOR:
                found[spec.arg.name] = (spec.target, self._constants[spec.target])
        return found

    def run_decompositions(self, decomp_table=None, decompose_custom_triton_ops=False):
        """This program again, as a new ExportedProgram: its graph holds chainrule's own operations,
        which have no smaller ATen ops to break into, so the graph is the same (a copy)."""
        program = copy.copy(self)
        program._graph_module = GraphModule(dict(self._graph_module.named_children()), copy.deepcopy(self.graph))
        return program

    def validate(self):
        """Check that the graph is well formed (its nodes read only nodes before them)."""
        self.graph.lint()

    def __str__(self):
        return program_listing(self)
