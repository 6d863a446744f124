"""``split_module(m, root_m, split_callback)``: a traced module cut into submodules, as torch.fx's.

``split_callback(node)`` names the partition (an int) of each computing node. Each partition
becomes a GraphModule ``submod_<partition>`` whose inputs are the values it reads from other
partitions or the program's inputs, and whose outputs are the values other partitions or the
program read (a tuple when there are several); the returned GraphModule calls the submodules in
an order their dependencies allow (or the order partitions first appear, ``keep_original_order``).
Parameters stay in the partitions that read them; layers are renamed with ``_`` for ``.``
(``qualname_map`` receives new path -> old path). torch.fx's autocast and grad-mode regions and
symbolic sizes are not handled: chainrule's graphs hold neither.
"""
import inspect

from chainrule.fx.graph import Graph
from chainrule.fx.graph_module import GraphModule
from chainrule.fx.node import map_arg
from chainrule.fx.proxy import Proxy
from chainrule.nn.module import Module


class Partition:
    """One part of the split: its nodes' names, the values it reads and returns (names, in the
    order they are found), the partitions it depends on, its graph and what that graph calls."""

    def __init__(self, name):
        self.name = name
        self.submod_name = f"submod_{name}"
        self.node_names = []
        self.inputs, self.outputs = {}, {}
        self.dependencies, self.dependents = {}, {}
        self.graph = Graph()
        self.environment = {}  # node of the original graph -> node of this partition's graph
        self.targets = {}  # path in the submodule -> the module or tensor it names


def _attribute(module, path):
    for part in path.split("."):
        if not hasattr(module, part):
            raise AttributeError(f"Node target {path} not found!")
        module = getattr(module, part)
    return module


def split_module(m, root_m, split_callback, qualname_map=None, keep_original_order=False, keep_original_node_name=False,
                 keep_original_input_name=True, *, partition_affix=None, tuple_return=False):
    """``m`` (a GraphModule traced from ``root_m``) split into submodules (see the module docstring)."""
    partitions, original = {}, {}

    def partition_of(node):
        return getattr(node, "_fx_partition", None)

    def record_use(defined_node, user):
        defined, used = partition_of(defined_node), partition_of(user) if user is not None else None
        if defined == used:
            return
        if defined is not None:
            partitions[defined].outputs.setdefault(defined_node.name)
            if used is not None:
                partitions[defined].dependents.setdefault(used)
        if used is not None:
            partitions[used].inputs.setdefault(defined_node.name)
            if defined is not None:
                partitions[used].dependencies.setdefault(defined)

    for node in m.graph.nodes:
        if node.op in ("placeholder", "get_attr", "output"):
            continue
        name = str(split_callback(node)) if partition_affix is None else f"{partition_affix}_{split_callback(node)}"
        if name not in partitions:
            partitions[name] = Partition(name)
        partitions[name].node_names.append(node.name)
        node._fx_partition = name
    for node in m.graph.nodes:
        original[node.name] = node
        if node.op in ("placeholder", "get_attr"):
            continue
        if node.op == "output":
            map_arg(node.args[0], lambda read: record_use(read, None))
            continue
        map_arg((node.args, node.kwargs), lambda read, user=node: record_use(read, user))

    # partitions in an order their dependencies allow (Kahn's algorithm, last ready first, as torch.fx)
    first_order = list(partitions)
    ready = [name for name, partition in partitions.items() if not partition.dependencies]
    ordered = []
    while ready:
        name = ready.pop()
        ordered.append(name)
        for dependent in partitions[name].dependents:
            partitions[dependent].dependencies.pop(name)
            if not partitions[dependent].dependencies:
                ready.append(dependent)
    if len(ordered) != len(partitions):
        raise RuntimeError("cycle exists between partitions!")

    for name in ordered:  # each partition's inputs: placeholders (submodules it reads by get_attr last)
        partition = partitions[name]
        is_module = [
            original[read].op == "get_attr" and isinstance(_attribute(m, original[read].target), Module) for read in partition.inputs
        ]
        reads = [read for read, module in zip(partition.inputs, is_module) if not module] + [read for read, module in zip(partition.inputs, is_module) if module]
        for number, read in enumerate(reads):
            node = original[read]
            if node.op == "get_attr" and isinstance(_attribute(m, node.target), Module):
                new = partition.graph.get_attr(node.target)
                partition.targets[node.target] = _attribute(m, node.target)
            else:
                new = partition.graph.placeholder(read if keep_original_input_name else f"arg_{number}", type_expr=node.type)
            new.meta = dict(node.meta)
            partition.environment[node] = new
        partition.inputs = {read: None for read in reads}

    for node in m.graph.nodes:  # each computing node, copied into its partition
        if partition_of(node) is None:
            continue
        partition = partitions[node._fx_partition]
        args, kwargs = map_arg((node.args, node.kwargs), partition.environment.__getitem__)
        target = node.target
        if node.op in ("call_module", "get_attr"):
            target = node.target.replace(".", "_")
            partition.targets[target] = _attribute(m, node.target)
            if qualname_map is not None:
                qualname_map[f"{partition.submod_name}.{target}"] = node.target
        new = partition.graph.create_node(node.op, target, args, kwargs, node.name if keep_original_node_name else None, node.type)
        new.meta = dict(node.meta)
        partition.environment[node] = new

    base, environment, attributes = Graph(), {}, {}

    def copy_input(node):
        if node.op == "placeholder":
            default = node.args[0] if node.args else inspect.Signature.empty
            environment[node.name] = base.placeholder(node.target, type_expr=node.type, default_value=default)
        elif node.op == "get_attr":
            environment[node.name] = base.get_attr(node.target)
            attributes[node.target] = _attribute(m, node.target)
        else:
            return
        environment[node.name].meta = dict(node.meta)

    if not keep_original_order:
        for node in m.graph.nodes:
            copy_input(node)
    inputs = [node for node in m.graph.nodes if node.op == "placeholder"]
    copied = set()
    for name in ordered if not keep_original_order else first_order:
        partition = partitions[name]
        results = tuple(partition.environment[original[output]] for output in partition.outputs)
        partition.graph.output(results[0] if len(results) == 1 and not tuple_return else results)
        if keep_original_order:
            for node in [*inputs, *(original[read] for read in partition.inputs if original[read] not in inputs)]:
                if node not in copied:
                    copy_input(node)
                    copied.add(node)
        attributes[partition.submod_name] = GraphModule(partition.targets, partition.graph)
        call = base.call_module(partition.submod_name, tuple(environment[read] for read in partition.inputs))
        if len(partition.outputs) > 1 or (partition.outputs and tuple_return):
            for position, output in enumerate(partition.outputs):
                environment[output] = Proxy(call)[position].node
        elif partition.outputs:
            environment[next(iter(partition.outputs))] = call
    if keep_original_order and not environment:
        for node in m.graph.nodes:
            copy_input(node)
    output = next(node for node in m.graph.nodes if node.op == "output")
    base.output(map_arg(output.args[0], lambda read: environment[read.name]))
    return GraphModule(attributes, base)
