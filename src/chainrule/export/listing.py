"""``print(ep)``: an exported program as PyTorch lists one, its graph as annotated code.

    ExportedProgram:
        class GraphModule(chainrule.nn.Module):
            def forward(self, p_fc_weight: "f32[4, 3]", p_fc_bias: "f32[4]", x: "f32[batch, 3]"):
                linear: "f32[batch, 4]" = chainrule.nn.functional.linear(x, p_fc_weight, p_fc_bias);  ...
                return (linear,)

    Graph signature: ...
    Range constraints: {'batch': VR[2, 10]}

Each value is annotated with its dtype (``f32``, ``i64``, ``b8``...) and sizes, a dynamic size by
its Dim's name. The operations are chainrule's (``chainrule.nn.functional.linear``, ``x.relu()``),
where PyTorch lists its ATen operators (``torch.ops.aten.linear.default``).
"""
import re
import textwrap

from chainrule.fx import GraphModule

_SHORT_DTYPES = {
    "float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16", "int64": "i64", "int32": "i32",
    "int16": "i16", "int8": "i8", "uint8": "u8", "bool": "b8", "complex64": "c64", "complex128": "c128",
}


def annotation(node):
    """``"f32[batch, 4]"`` for a node that computes a tensor (its ``meta`` ``dtype`` and ``shape``),
    ``"Sym(int)"`` for a size, else None."""
    if "shape" in node.meta:
        dtype = node.meta["dtype"].replace("chainrule.", "")
        sizes = ", ".join(str(size) for size in node.meta["shape"])
        return f'"{_SHORT_DTYPES.get(dtype, dtype)}[{sizes}]"'
    if node.op == "call_method" and node.target == "size":
        return '"Sym(int)"'
    return None


def annotated_code(graph_module):
    """The graph module's ``forward``, each parameter and assigned value annotated (see the module docstring)."""
    annotations = {node.name: annotation(node) for node in graph_module.graph.nodes}
    annotations.update({node.target: annotation(node) for node in graph_module.graph.nodes if node.op == "placeholder"})
    lines = []
    for line in graph_module.code.strip("\n").splitlines():
        if line.startswith("def forward("):
            line = re.sub(r"(?<=[(,] )(\w+)|(?<=\()(\w+)", lambda match: _annotated(match.group(0), annotations), line)
        else:
            line = re.sub(r"^(    )(\w+) = ", lambda match: f"{match.group(1)}{_annotated(match.group(2), annotations)} = ", line)
        if line.strip():
            lines.append(line)
    return "\n".join(lines)


def _annotated(name, annotations):
    found = annotations.get(name)
    return f"{name}: {found}" if found else name


def program_listing(program):
    """The text of ``print(ep)``."""
    body = textwrap.indent(annotated_code(program.graph_module), "    ")
    submodules = "".join(
        f"\n    class {name}(chainrule.nn.Module):\n" + textwrap.indent(annotated_code(module), "        ")
        for name, module in program.graph_module.named_children() if isinstance(module, GraphModule)
    )
    signature = textwrap.indent(str(program.graph_signature), "    ")
    return (
        f"ExportedProgram:\n    class GraphModule(chainrule.nn.Module):\n{textwrap.indent(body, '    ')}{textwrap.indent(submodules, '    ')}\n\n"
        f"Graph signature: {signature}\nRange constraints: {program.range_constraints}\n"
    )
