"""ExportedProgram: what ``export`` returns, a graph and everything needed to run it.

``ep.graph_module`` is the graph as a GraphModule of all its inputs (parameters, buffers,
constants, then the user's flattened inputs: see graph_signature.py); ``ep.graph`` its Graph;
``ep.state_dict`` the parameters and buffers by name; ``ep.constants`` the tensor constants;
``ep.range_constraints`` the range of each dynamic size; ``ep.module()`` a module that takes the
user's inputs as forward did, checks them against the export and computes the outputs.
"""
import copy

from chainrule.export.decompositions import decomposed_graph_module, default_decompositions
from chainrule.export.listing import program_listing
from chainrule.export.module_call_graph import module_call_graph
from chainrule.export.unlifted_module import unlifted_module
from chainrule.export.value_ranges import ValueRanges
from chainrule.fx import GraphModule


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
        """The parameters and persistent buffers the graph reads, by name (the module's own tensors)."""
        return self._state_dict

    @property
    def constants(self):
        """The tensor constants the graph reads, by where they came from (``lifted_tensor_0``, an
        attribute path), and the non-persistent buffers by name."""
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
    def module_call_graph(self):
        """The modules the exported forward called, a ModuleCallEntry each (see module_call_graph.py)."""
        return module_call_graph(self)

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
        """The buffers by name (a non-persistent one is among the constants, as in PyTorch)."""
        for name in self._graph_signature.buffers:
            yield name, self._state_dict[name] if name in self._state_dict else self._constants[name]

    def buffers(self):
        for _, buffer in self.named_buffers():
            yield buffer

    # ------------------------------------------------------------------ running it
    def __call__(self, *args, **kwargs):
        raise RuntimeError("Unable to call ExportedProgram directly. You should use `exported_program.module()` instead.")

    def module(self):
        """A module that runs the program (see unlifted_module.py): forward takes the user's inputs
        as the exported forward did, checks them, and reads the parameters and buffers as its own."""
        return unlifted_module(self)

    def run_decompositions(self, decomp_table=None, decompose_custom_triton_ops=False):
        """A new ExportedProgram whose graph has each operation of ``decomp_table`` replaced by
        what its function computes (see decompositions.py); by default (an empty table) a copy."""
        program = copy.copy(self)
        program._graph_module = decomposed_graph_module(self, default_decompositions() if decomp_table is None else decomp_table)
        return program

    def validate(self):
        """Check that the graph is well formed (its nodes read only nodes before them)."""
        self.graph.lint()

    def __str__(self):
        return program_listing(self)
