"""``save(ep, f)`` and ``load(f)``: an ExportedProgram in a file that holds data only.

The file is a zip archive (``f``: a path or a binary file object) of

- ``chainrule_export/program.json``: the graph, node by node (name, op, target, arguments, the
  dtype and shape it computes, the module calls that made it), cond's branch graphs, the signature, the input and output
  structures (pytree specs) and the dynamic ranges;
- ``chainrule_export/tensors.pt``: the parameters, buffers, constants and example inputs, in
  chainrule's own checkpoint format, read back with ``chainrule.load(weights_only=True)``;
- ``extra/NAME``: each of ``extra_files``.

Nothing read is run as code: a function a node calls is looked up by its saved path in the list of
allowed_targets.py, a method must be Tensor's, the structures may hold only tuples, lists and
dicts. A file that is no zip archive raises zipfile.BadZipFile (as PyTorch's load); a zip archive
that holds no chainrule program, or a malformed one, RuntimeError saying so.
"""
import io
import json
import math
import os
import zipfile

import chainrule
from chainrule.device import device
from chainrule.dtypes import dtype
from chainrule.export.allowed_targets import UnknownTarget, check_attribute, check_method, function_at, path_of
from chainrule.export.exported_program import ExportedProgram
from chainrule.export.graph_signature import ConstantArgument, ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec, TensorArgument
from chainrule.fx import Graph, GraphModule, Node
from chainrule.utils._pytree import treespec_dumps, treespec_loads

_PROGRAM = "chainrule_export/program.json"
_TENSORS = "chainrule_export/tensors.pt"
_FORMAT = "chainrule.export"
_VERSION = 1
_SPEC_TYPES = {None, "builtins.tuple", "builtins.list", "builtins.dict"}


def save(ep, f, *, extra_files=None, opset_version=None, pickle_protocol=2):
    """Write ``ep`` to ``f`` (see the module docstring). ``opset_version`` and ``pickle_protocol``
    are PyTorch's: nothing here is pickled, and chainrule's operations have no opset versions."""
    if not isinstance(ep, ExportedProgram):
        raise TypeError(f"The 'ep' parameter must be an instance of 'ExportedProgram', got '{type(ep).__name__}' instead.")
    in_spec, out_spec = ep.call_spec
    program = {
        "format": _FORMAT, "version": _VERSION,
        "graph": _graph_record(ep.graph_module),
        "input_specs": [_spec_record(spec) for spec in ep.graph_signature.input_specs],
        "output_specs": [_spec_record(spec) for spec in ep.graph_signature.output_specs],
        "range_constraints": {name: [ranges.lower, ranges.upper] for name, ranges in ep.range_constraints.items()},
        "in_spec": treespec_dumps(in_spec), "out_spec": treespec_dumps(out_spec),
        "input_dimensions": ep._input_dimensions, "forward_arguments": ep._forward_arguments,
        "training": ep.graph_module.training,
    }
    tensors = io.BytesIO()
    chainrule.save({"state_dict": dict(ep.state_dict), "constants": dict(ep.constants), "example_inputs": ep.example_inputs}, tensors)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            _write(file, program, tensors.getvalue(), extra_files or {})
    else:
        _write(f, program, tensors.getvalue(), extra_files or {})


def _write(file, program, tensors, extra_files):
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr(_PROGRAM, json.dumps(program))
        archive.writestr(_TENSORS, tensors)
        for name, content in extra_files.items():
            archive.writestr(f"extra/{name}", content)


def load(f, *, extra_files=None, expected_opset_version=None):
    """The ExportedProgram ``save`` wrote to ``f``; ``extra_files`` (name -> anything) gets each
    saved extra file's text."""
    with zipfile.ZipFile(f) as archive:
        names = set(archive.namelist())
        if _PROGRAM not in names or _TENSORS not in names:
            raise RuntimeError(f"{_name(f)} is not a saved chainrule.export program (it holds no {_PROGRAM}): write one with chainrule.export.save(ep, f)")
        program_text = archive.read(_PROGRAM)
        tensors = archive.read(_TENSORS)
        for name in list(extra_files or {}):
            extra_files[name] = archive.read(f"extra/{name}").decode()
    try:
        program = json.loads(program_text)
        if program.get("format") != _FORMAT or program.get("version") != _VERSION:
            raise ValueError(f"format {program.get('format')!r} version {program.get('version')!r}, expected {_FORMAT!r} version {_VERSION}")
        stored = chainrule.load(io.BytesIO(tensors), weights_only=True)
        return _program(program, stored)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, UnknownTarget) as error:
        raise RuntimeError(f"{_name(f)} is not a well-formed chainrule.export program: {error}") from error


def _name(f):
    return repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the file"


# ----------------------------------------------------------------------------- writing
def _graph_record(graph_module):
    nodes = []
    for node in graph_module.graph.nodes:
        record = {"name": node.name, "op": node.op, "target": _target_record(node), "args": _value(node.args), "kwargs": _value(node.kwargs)}
        if "shape" in node.meta:
            record.update(shape=list(node.meta["shape"]), dtype=node.meta["dtype"])
        if "nn_module_stack" in node.meta:
            record["module_stack"] = [[key, path, name] for key, (path, name) in node.meta["nn_module_stack"].items()]
        nodes.append(record)
    return {"nodes": nodes, "submodules": {name: _graph_record(module) for name, module in graph_module.named_children()}}


def _target_record(node):
    if node.op == "call_function":
        return path_of(node.target)
    if node.op == "call_module":
        raise TypeError(f"export.save: the graph calls the layer {node.target!r} as one step (its forward could not be traced into operations), and a module cannot be saved as data")
    return node.target


def _value(value):
    """A node argument as JSON data (see ``_argument`` for the kinds)."""
    if isinstance(value, Node):
        return {"node": value.name}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [_value(item) for item in value]}
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        return {"dict": [[_value(key), _value(item)] for key, item in value.items()]}
    if isinstance(value, slice):
        return {"slice": [_value(value.start), _value(value.stop), _value(value.step)]}
    if isinstance(value, dtype):
        return {"dtype": str(value).replace("chainrule.", "")}
    if isinstance(value, device):
        return {"device": str(value)}
    if value is Ellipsis:
        return {"ellipsis": None}
    raise TypeError(f"export.save: a node argument of type {type(value).__name__} ({value!r}) cannot be saved as data")


def _spec_record(spec):
    argument = spec.arg
    record = {"kind": spec.kind.name, "name": argument.name, "target": spec.target}
    if isinstance(argument, ConstantArgument):
        record["constant"] = _value(argument.value)
    if getattr(spec, "persistent", None) is not None:
        record["persistent"] = spec.persistent
    return record


# ----------------------------------------------------------------------------- reading
def _program(program, stored):
    graph_module = _graph_module(program["graph"])
    signature = ExportGraphSignature(
        [_input_spec(record) for record in program["input_specs"]],
        [_output_spec(record) for record in program["output_specs"]],
    )
    graph_module.train(bool(program["training"]))
    dimensions = [None if each is None else (tuple(each[0]), {int(key): tuple(value) for key, value in each[1].items()}) for each in program["input_dimensions"]]
    return ExportedProgram(
        root=dict(graph_module.named_children()), graph=graph_module.graph, graph_signature=signature,
        state_dict=stored["state_dict"], range_constraints={name: tuple(ends) for name, ends in program["range_constraints"].items()},
        constants=stored["constants"], example_inputs=stored["example_inputs"],
        in_spec=_tree_spec(program["in_spec"]), out_spec=_tree_spec(program["out_spec"]),
        input_dimensions=dimensions, forward_arguments=[str(name) for name in program["forward_arguments"]],
    )


def _graph_module(record):
    submodules = {str(name): _graph_module(child) for name, child in record["submodules"].items()}
    graph = Graph()
    made = {}
    for node_record in record["nodes"]:
        op, name = node_record["op"], str(node_record["name"])
        target = _target(op, node_record["target"], submodules)
        args = _argument(node_record["args"], made)
        kwargs = _argument(node_record["kwargs"], made)
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise ValueError(f"node {name!r}: args must be a tuple and kwargs a dict")
        if target is getattr and (len(args) != 2 or not isinstance(args[0], Node)):
            raise ValueError(f"node {name!r}: getattr takes a node and an attribute name")
        if target is getattr:
            check_attribute(args[1])
        node = graph.create_node(op, target, args, kwargs, name=name)
        if "shape" in node_record:
            node.meta.update(shape=tuple(node_record["shape"]), dtype=str(node_record["dtype"]))
        if "module_stack" in node_record:
            node.meta["nn_module_stack"] = {str(key): (str(path), str(name)) for key, path, name in node_record["module_stack"]}
        made[name] = node
    graph.lint()
    return GraphModule(submodules, graph)


def _target(op, target, submodules):
    if op == "call_function":
        return function_at(target)
    if op == "call_method":
        return check_method(target)
    if op == "get_attr" and target not in submodules:
        raise ValueError(f"get_attr of {target!r}, which is not one of the saved branch graphs")
    if op not in ("placeholder", "get_attr", "output") or not isinstance(target, str):
        raise ValueError(f"unknown node op {op!r} or target {target!r}")
    return target


def _argument(data, made):
    """A node argument from its JSON data: a node by name (one made before), a number, string,
    bool or None, a tuple, list, dict or slice of them, a dtype, a device, ``...``."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [_argument(item, made) for item in data]
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError(f"unreadable argument {data!r}")
    (kind, content), = data.items()
    if kind == "node":
        return made[content]
    if kind == "float":
        return float(content)
    if kind == "tuple":
        return tuple(_argument(item, made) for item in content)
    if kind == "dict":
        return {_argument(key, made): _argument(value, made) for key, value in content}
    if kind == "slice":
        return slice(*(_argument(part, made) for part in content))
    if kind == "dtype" and isinstance(getattr(chainrule, content, None), dtype):
        return getattr(chainrule, content)
    if kind == "device":
        return device(content)
    if kind == "ellipsis":
        return Ellipsis
    raise ValueError(f"unreadable argument {data!r}")


def _input_spec(record):
    kind = InputKind[record["kind"]]
    argument = ConstantArgument(record["name"], _argument(record["constant"], {})) if "constant" in record else TensorArgument(record["name"])
    return InputSpec(kind, argument, record["target"], record.get("persistent"))


def _output_spec(record):
    argument = ConstantArgument(record["name"], _argument(record["constant"], {})) if "constant" in record else TensorArgument(record["name"])
    return OutputSpec(OutputKind[record["kind"]], argument, record["target"])


def _tree_spec(text):
    """The pytree spec ``text`` holds, once checked to be made of tuples, lists and dicts only."""
    def check(schema):
        if schema["type"] not in _SPEC_TYPES:
            raise ValueError(f"an input or output structure of type {schema['type']!r}: only tuples, lists and dicts are read")
        if schema["context"] is not None and not all(isinstance(key, (str, int)) for key in json.loads(schema["context"]) or []):
            raise ValueError("a dict key in an input or output structure is not a string or int")
        for child in schema["children_spec"]:
            check(child)

    protocol, schema = json.loads(text)
    check(schema)
    return treespec_loads(text)
