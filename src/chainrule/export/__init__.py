"""``chainrule.export``, as ``torch.export``: a module's forward captured once as a graph.

    ep = chainrule.export.export(model, (x,), dynamic_shapes={"x": {0: Dim("batch", max=64)}})
    print(ep)                    # the graph as annotated code, its signature, the dynamic ranges
    ep.module()(other_x)         # runs it; inputs checked against the export
    chainrule.export.save(ep, "model.pt2"); ep = chainrule.export.load("model.pt2")

export.py captures (the tracer is capture.py; draft_export.py reports instead of failing),
exported_program.py holds the result, graph_signature.py names its inputs and outputs,
dynamic_shapes.py reads ``Dim`` and the hints, unlifted_module.py makes ``ep.module()`` (its input
checks: input_guard.py), unflatten.py cuts the graph back into submodules, decompositions.py
replaces operations, serialize.py writes and reads programs as data (allowed_targets.py: what a
saved graph may call).

Not provided: ``ExportBackwardSignature`` (chainrule exports no joint forward-backward graphs),
``FlatArgsAdapter`` (no submodule signature is preserved to adapt to) and ``Constraint`` (a type
name only, in PyTorch).
"""
from chainrule.export.dataclass_inputs import register_dataclass
from chainrule.export.decompositions import CustomDecompTable, default_decompositions
from chainrule.export.draft_export import draft_export
from chainrule.export.dynamic_shapes import AdditionalInputs, Dim, ShapesCollection, dims
from chainrule.export.export import export
from chainrule.export.exported_program import ExportedProgram
from chainrule.export.graph_signature import ExportGraphSignature
from chainrule.export.module_call_graph import ModuleCallEntry, ModuleCallSignature
from chainrule.export.serialize import load, save
from chainrule.export.unflatten import UnflattenedModule, unflatten

__all__ = [
    "AdditionalInputs", "CustomDecompTable", "Dim", "ExportGraphSignature", "ExportedProgram", "ModuleCallEntry", "ModuleCallSignature",
    "ShapesCollection", "UnflattenedModule", "default_decompositions", "dims", "draft_export", "export", "load", "register_dataclass",
    "save", "unflatten",
]
