"""Which modules an exported forward called: ``ep.module_call_graph``, as PyTorch lists it.

One ModuleCallEntry per module path the trace saw called (``""`` for the exported module, ``"a"``,
``"a.fc"``...), in the order of their first call. The exported module's entry has a
ModuleCallSignature: its flattened inputs and outputs, their structures (pytree specs) and
forward's argument names. A submodule's signature is None: chainrule keeps no submodule's own
signature (PyTorch keeps those named in ``preserve_module_call_signature``).
"""
import dataclasses
from typing import Any, Optional


@dataclasses.dataclass
class ModuleCallSignature:
    """The inputs and outputs of one module's forward in the graph, and how they nest."""

    inputs: list
    outputs: list
    in_spec: Any
    out_spec: Any
    forward_arg_names: Optional[list] = None


@dataclasses.dataclass
class ModuleCallEntry:
    """A module the exported forward called, by its path (``fqn``), and its signature where kept."""

    fqn: str
    signature: Optional[ModuleCallSignature] = None


def module_call_graph(program):
    """The entries of ``program`` (see the module docstring)."""
    in_spec, out_spec = program.call_spec
    signature = program.graph_signature
    user_inputs = [spec.arg for spec in signature.input_specs if spec.kind.name == "USER_INPUT"]
    user_outputs = [spec.arg for spec in signature.output_specs if spec.kind.name == "USER_OUTPUT"]
    entries = {"": ModuleCallEntry("", ModuleCallSignature(user_inputs, user_outputs, in_spec, out_spec, list(program._forward_arguments)))}
    for node in program.graph.nodes:
        for path, _ in node.meta.get("nn_module_stack", {}).values():
            entries.setdefault(path, ModuleCallEntry(path))
    return list(entries.values())
