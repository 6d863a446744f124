"""``export(model, args)``: a module's forward captured once as a graph, an ExportedProgram.

Export runs ``model(*args, **kwargs)`` once under the tracer of capture.py and returns the flat
graph it recorded with what is needed to run it again: the parameters, buffers and constants it
reads, how the user's inputs and outputs nest (pytree specs), and the range of every dynamic
size. ``ep.module()`` runs it as a module; ``dynamic_shapes`` (see dynamic_shapes.py) says which
input sizes may change. With ``Dim.AUTO`` sizes, export traces again where the code constrains
them: narrowed to the range the code allows, made to follow another size it is compared with, or
static where the code fixes it (see ``_relaxed``), instead of failing.
"""
import dataclasses
import operator

import chainrule
from chainrule.autograd.grad_mode import no_grad
from chainrule.export.capture import SIZE_METHODS, ExportTracer, TracingPatches
from chainrule.export.dynamic_shapes import _bound_inputs, dimension_specs
from chainrule.export.errors import UserError, UserErrorType
from chainrule.export.exported_program import ExportedProgram
from chainrule.export.graph_signature import ConstantArgument, ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec, TensorArgument
from chainrule.fx import GraphModule
from chainrule.fx.experimental.symbolic_shapes import ConstraintViolationError
from chainrule.nn.module import Module
from chainrule.overrides import armed_while
from chainrule.tensor import Tensor
from chainrule.utils._pytree import tree_flatten, tree_flatten_with_path, tree_unflatten


def export(mod, args, kwargs=None, *, dynamic_shapes=None, strict=False, preserve_module_call_signature=(), prefer_deferred_runtime_asserts_over_guards=False):
    """``mod``'s forward on ``args`` (a tuple) and ``kwargs``, captured as an ExportedProgram.
    ``strict`` is accepted for PyTorch's code; the capture is always the non-strict one (forward
    runs as Python, its tensor operations recorded). ``preserve_module_call_signature`` names
    submodules whose calls ``unflatten`` would keep: chainrule's graphs are flat, so it must be empty."""
    if not isinstance(mod, Module):
        raise ValueError(f"Expected `mod` to be an instance of `torch.nn.Module`, got {type(mod)}.")
    if not isinstance(args, tuple):
        raise UserError(UserErrorType.INVALID_INPUT, f"Expecting `args` to be a tuple of example positional inputs, got {type(args)}")
    if preserve_module_call_signature:
        raise NotImplementedError("export: preserve_module_call_signature is not supported by chainrule.export (its graphs are flat)")
    kwargs = dict(kwargs or {})
    names, specs = read_inputs(mod, args, kwargs, dynamic_shapes)
    leaves = tree_flatten((args, kwargs))[0]
    while True:
        try:
            return _export(mod, args, kwargs, names, specs)
        except UserError as error:
            relaxed = _relaxed(specs, error, leaves) if error.error_type is UserErrorType.CONSTRAINT_VIOLATION else None
            if relaxed is None:
                raise
            specs = relaxed


def read_inputs(mod, args, kwargs, dynamic_shapes):
    """The placeholder names of the flattened inputs and their dynamic dimensions (see dynamic_shapes.py)."""
    names = _input_names(mod, args, kwargs)
    return names, dimension_specs(type(mod).forward.__get__(mod), args, kwargs, dynamic_shapes, names)


def _relaxed(specs, error, leaves):
    """What to try after a constraint violation, or None (the error stands): the range of the
    Dim.AUTO size it names narrowed to the one it suggests; else a Dim.AUTO size made to follow
    another by the relation the code needs (``w = x + 2``); else the hinted sizes of equal example
    size made one (the code may need them equal, as ``x + y``); else every Dim.AUTO size static."""
    refined, relation = getattr(error, "refined_range", None), getattr(error, "relation", None)
    every = [spec for dimensions in specs for spec in dimensions.values()]
    if refined is not None and any(spec.auto and spec.name == refined[0] for spec in every):
        narrowed = _each_spec(specs, lambda spec, size: _with_root_range(spec, *refined), leaves)
        if narrowed != specs:
            return narrowed
    if relation is not None and any(spec.name == relation[0] for spec in every) and all(spec.auto for spec in every if spec.name == relation[0]):
        name, root, scale, offset = relation
        lower, upper = next((spec.min, spec.max) for spec in every if spec.name == root)

        def derived(spec, size):
            if spec.name != name:
                return spec
            return dataclasses.replace(spec, name=_linear_name(root, scale, offset), root=(root, lower, upper), scale=scale, offset=offset,
                                       min=scale * lower + offset, max=scale * upper + offset)

        return _each_spec(specs, derived, leaves)
    first_of_size = {}
    for dimensions, leaf in zip(specs, leaves):
        for dimension, spec in dimensions.items():
            if spec.hint:
                first_of_size.setdefault(leaf.shape[dimension], spec.name)
    unified = _each_spec(specs, lambda spec, size: dataclasses.replace(spec, name=first_of_size[size]) if spec.hint else spec, leaves)
    if unified != specs:
        return unified
    if any(spec.auto for spec in every):
        return [{dimension: spec for dimension, spec in dimensions.items() if not spec.auto} for dimensions in specs]
    return None


def _with_root_range(spec, name, lower, upper):
    """``spec`` with the range of the dimension ``name`` narrowed to [lower, upper]: its own, if it
    is that dimension, or the one that follows from it, if it is derived from it."""
    if spec.name == name:
        return dataclasses.replace(spec, min=lower, max=upper)
    if spec.root is not None and spec.root[0] == name:
        return dataclasses.replace(spec, root=(name, lower, upper), min=spec.scale * lower + spec.offset, max=spec.scale * upper + spec.offset)
    return spec


def _linear_name(root, scale, offset):
    """The name of the size ``scale * root + offset``: ``x_dim0 + 2``, ``2*x_dim0``."""
    return (f"{scale}*{root}" if scale != 1 else root) + (f" + {offset}" if offset > 0 else f" - {-offset}" if offset else "")


def _each_spec(specs, change, leaves):
    """``specs`` with ``change(spec, example size)`` applied to each dimension's spec."""
    return [{dimension: change(spec, leaf.shape[dimension]) for dimension, spec in dimensions.items()} for dimensions, leaf in zip(specs, leaves)]


def _input_names(mod, args, kwargs):
    """The placeholder name of each flattened input: the argument's name, then where the leaf lies
    in it (``d_a`` for ``d["a"]``, ``xs_0`` for ``xs[0]``), as PyTorch names them."""
    names = []
    for name, value in _bound_inputs(type(mod).forward.__get__(mod), args, kwargs).items():
        for path, _ in tree_flatten_with_path(value)[0]:
            names.append("_".join([name, *(_key_name(key) for key in path)]))
    return names


def _key_name(key):
    for attribute in ("idx", "key", "name"):
        if hasattr(key, attribute):
            return str(getattr(key, attribute))
    return str(key)


def _export(mod, args, kwargs, names, specs, on_failure=None):
    """One trace of ``mod`` (see capture.py); ``on_failure``: draft_export's handler of what
    would fail the export (see ``ExportTracer.fail``)."""
    leaves, in_spec = tree_flatten((args, kwargs))
    sizes = _probe_sizes(leaves, specs, names)
    tracer = ExportTracer(mod, probing=bool(sizes))
    tracer.on_failure = on_failure
    tracer.symbol_of_dimension = {(size.example, size.probe): name for name, size in sizes.items()}
    tracer.relations = {name: (size.root, size.scale, size.offset) for name, size in sizes.items()}
    tracer.ranges = {name: (size.min, size.max) for name, size in sizes.items() if size.root == name}
    tracer.examples = {name: size.example for name, size in sizes.items() if size.root == name}
    tracer.auto_symbols = {spec.name for dimensions in specs for spec in dimensions.values() if spec.auto and spec.root is None}
    input_specs = _state_inputs(mod, tracer)
    tracer.user_input_names = set(names)
    traced_leaves = []
    for leaf, name, dimensions in zip(leaves, names, specs):
        node_value = leaf.detach().clone() if isinstance(leaf, Tensor) else leaf
        proxy = tracer.user_input(name, node_value, _probe(node_value, dimensions, sizes))
        traced_leaves.append(proxy if isinstance(leaf, Tensor) else leaf)
        name = proxy.node.target  # (the input's name: its node is input_1 for an input named as a builtin, input)
        argument = TensorArgument(name) if isinstance(leaf, Tensor) else ConstantArgument(name, leaf)
        input_specs.append(InputSpec(InputKind.USER_INPUT, argument, None))
    traced_args, traced_kwargs = tree_unflatten(traced_leaves, in_spec)
    with TracingPatches(tracer), armed_while():
        result = mod(*traced_args, **traced_kwargs)
    output_leaves, out_spec = tree_flatten(result)
    output = tracer.graph.output(tuple(tracer.create_arg(leaf) for leaf in output_leaves))
    output_specs = []
    for leaf, argument in zip(output_leaves, output.args[0]):
        kept = TensorArgument(argument.name) if hasattr(argument, "name") else ConstantArgument("", argument)
        output_specs.append(OutputSpec(OutputKind.USER_OUTPUT, kept, None))
    tracer.graph.eliminate_dead_code(is_impure_node=_may_have_effects)
    input_specs += [InputSpec(InputKind.CONSTANT_TENSOR, TensorArgument(name), tracer.constant_targets[name]) for name in tracer.constants]
    branch_graphs = [module.graph for branch in tracer.root_submodules.values() for module in branch.modules() if isinstance(module, GraphModule)]
    for graph in [tracer.graph, *branch_graphs]:
        _record_shapes(graph, tracer.symbol_of_dimension)
    signature = ExportGraphSignature(sorted(input_specs, key=_graph_order(tracer)), output_specs)
    non_persistent = {spec.target for spec in input_specs if spec.kind is InputKind.BUFFER and not spec.persistent}
    state = {name: tensor for name, tensor in [*mod.named_parameters(), *mod.named_buffers()] if name not in non_persistent}
    constants = {**tracer.constants_by_target(), **{name: buffer for name, buffer in mod.named_buffers() if name in non_persistent}}
    range_constraints = {name: (size.min, size.max) for name, size in sizes.items()}
    program = ExportedProgram(
        root=tracer.root_submodules, graph=tracer.graph, graph_signature=signature, state_dict=state,
        range_constraints=range_constraints, constants=constants,
        example_inputs=(args, kwargs), in_spec=in_spec, out_spec=out_spec,
        input_dimensions=_input_dimensions(leaves, specs, sizes), forward_arguments=_forward_arguments(mod, args, kwargs),
    )
    program.graph_module.training = mod.training  # (the mode the graph holds)
    return program


def _may_have_effects(node):
    """Whether a node nothing reads must stay: all but the size arithmetic a Python decision
    consumed (``x.size(0)``, ``size >= 3``), which the graph need not compute again."""
    if node.op == "call_method":
        return node.target not in SIZE_METHODS
    return not (node.op == "call_function" and getattr(operator, getattr(node.target, "__name__", ""), None) is node.target and node.target is not operator.setitem)


def _state_inputs(mod, tracer):
    """Placeholders and specs for the parameters and buffers, in named_parameters/named_buffers order."""
    specs = []
    for name, parameter in mod.named_parameters():
        proxy = tracer.state_input("p_" + name.replace(".", "_"), parameter)
        specs.append(InputSpec(InputKind.PARAMETER, TensorArgument(proxy.node.name), name))
    non_persistent = {f"{prefix}.{name}".lstrip(".") for prefix, module in mod.named_modules() for name in module._non_persistent_buffers_set}
    for name, buffer in mod.named_buffers():
        proxy = tracer.state_input("b_" + name.replace(".", "_"), buffer)
        specs.append(InputSpec(InputKind.BUFFER, TensorArgument(proxy.node.name), name, persistent=name not in non_persistent))
    tracer.constant_paths = {
        id(value): f"{prefix}.{attribute}".lstrip(".")
        for prefix, module in mod.named_modules() for attribute, value in vars(module).items() if isinstance(value, Tensor)
    }
    return specs


def _graph_order(tracer):
    position = {node.target: index for index, node in enumerate(node for node in tracer.graph.nodes if node.op == "placeholder")}
    return lambda spec: position[spec.arg.name]


@dataclasses.dataclass
class DynamicSize:
    """A dynamic dimension as traced: its size in the example and in the probe, its range, and
    how it follows its root dimension (``scale * root + offset``; itself, 1 and 0 for a root)."""

    example: int
    probe: int
    min: int
    max: float
    root: str
    scale: int = 1
    offset: int = 0


def _probe_sizes(leaves, specs, names):
    """``{dimension name: DynamicSize}``: each root dimension's probe size differs from the
    example's, and from every other root's, so that a program that mixes two of them up fails on
    the probe (see capture.py); a derived dimension's follows its root's."""
    roots, seen = {}, []
    for leaf, dimensions, leaf_name in zip(leaves, specs, names):
        for dimension, spec in dimensions.items():
            example = leaf.shape[dimension]
            if spec.auto and example < 2:
                continue  # a size of 0 or 1 under Dim.AUTO stays static, as PyTorch specializes them
            if not spec.min <= example <= spec.max:
                raise ConstraintViolationError(f"{example} not in range [{spec.min}, {spec.max}] (size {dimension} of {leaf_name}, Dim {spec.name!r})")
            root_name, lower, upper = spec.root or (spec.name, spec.min, spec.max)
            root_example, remainder = divmod(example - spec.offset, spec.scale)
            known = roots.setdefault(root_name, (root_example, lower, upper))
            if remainder or known[0] != root_example:
                raise UserError(UserErrorType.INVALID_INPUT, f"Dim {spec.name!r} is given size {example} (size {dimension} of {leaf_name}), which does not agree with the other sizes of {root_name!r} in the example inputs: check the example inputs and dynamic_shapes")
            seen.append(spec)
    sizes = {}
    for step, (name, (example, lower, upper)) in enumerate(roots.items(), 1):
        probe = example + step if example + step <= upper else example - step
        if probe >= max(lower, 0):  # (else a range of one value: the size is static)
            sizes[name] = DynamicSize(example, probe, lower, upper, name)
    for spec in seen:
        root = sizes.get(spec.root[0]) if spec.root else None
        if root is not None:
            sizes[spec.name] = DynamicSize(spec.scale * root.example + spec.offset, spec.scale * root.probe + spec.offset, spec.min, spec.max, spec.root[0], spec.scale, spec.offset)
    return sizes


def _probe(value, dimensions, sizes):
    """The probe input: ``value`` with each dynamic dimension resized to its probe size, its rows
    repeated or cut (so that indices it holds stay valid)."""
    if not isinstance(value, Tensor):
        return value
    probe = value
    with no_grad():
        for dimension, spec in dimensions.items():
            if spec.name in sizes:
                rows = chainrule.arange(sizes[spec.name].probe) % max(value.shape[dimension], 1)
                probe = probe.index_select(dimension, rows) if value.shape[dimension] else probe.new_zeros((*probe.shape[:dimension], sizes[spec.name].probe, *probe.shape[dimension + 1:]))
    return probe


def _record_shapes(graph, names):
    """Each node's ``meta['shape']``: its tensor's sizes, with a dynamic one written as its Dim's
    name, and ``meta['dtype']``, its dtype's name (what ``print(ep)`` shows, and ``save`` keeps)."""
    for node in graph.nodes:
        value, probe_shape = node.meta.get("val"), node.meta.pop("probe_shape", None)
        if isinstance(value, Tensor):
            probe_shape = probe_shape or tuple(value.shape)
            node.meta["dtype"] = str(value.dtype)
            node.meta["shape"] = tuple(size if size == probed else names.get((size, probed), f"s{size}") for size, probed in zip(value.shape, probe_shape))


def _input_dimensions(leaves, specs, sizes):
    """For each flattened input, what ``ep.module()`` checks: ``(shape with None where dynamic,
    {dimension: (name, min, max, root name, scale, offset)})``."""
    checks = []
    for leaf, dimensions in zip(leaves, specs):
        if not isinstance(leaf, Tensor):
            checks.append(None)
            continue
        dynamic = {dimension: (spec.name, spec.min, spec.max, sizes[spec.name].root, spec.scale, spec.offset) for dimension, spec in dimensions.items() if spec.name in sizes}
        checks.append((tuple(None if dimension in dynamic else size for dimension, size in enumerate(leaf.shape)), dynamic))
    return checks


def _forward_arguments(mod, args, kwargs):
    return list(_bound_inputs(type(mod).forward.__get__(mod), args, kwargs))
