"""``unflatten(ep)``: an exported program as a module with the exported module's hierarchy again.

Export flattens forward into one graph. Each node remembers the module calls that made it
(``meta['nn_module_stack']``, recorded by the tracer), so the graph can be cut back into modules:
the nodes of a call of ``a`` become the graph of a submodule ``a`` (an InterpreterModule, itself cut
into its own submodules), called from its parent's graph with the values that flow in and
returning the values that flow out. Parameters and buffers sit at their paths again (``a.fc.weight``,
the same tensors as ``ep.state_dict``'s), so ``unflattened.a`` can be called on its own, looked
at, or its parameters trained::

    unflattened = torch.export.unflatten(ep)
    unflattened.a(x)                    # the first block alone
    unflattened(x)                      # the whole program, as ep.module()(x)

A module called more than once is one submodule, called at each place its calls computed the same
operations; a call that cannot be cut out as one step (its nodes interleaved with its parent's
that read its results) stays inline in its parent's graph.
"""
import operator

from chainrule.fx import Graph, GraphModule


class InterpreterModule(GraphModule):
    """A submodule of an unflattened program: the graph of the nodes its calls made."""


class UnflattenedModule(GraphModule):
    """What ``unflatten`` returns: the program's module (its inputs checked as ``ep.module()``'s),
    its graph calling InterpreterModules that stand for the exported module's submodules."""


def unflatten(module, flat_args_adapter=None):
    """``module`` (an ExportedProgram) as an UnflattenedModule (see the module docstring)."""
    if flat_args_adapter is not None:
        raise NotImplementedError("unflatten: flat_args_adapter is for programs whose submodules' signatures changed; chainrule.export preserves none")
    flat = module.module()
    graph = flat.graph
    tensors = {node.target: _fetch(flat, node.target) for node in graph.nodes if node.op == "get_attr" or node.op == "call_module" and node.target != "_guards_fn"}
    submodules = dict(flat.named_children())
    children = _cut(graph, "", tensors)
    unflattened = UnflattenedModule({**submodules, **_roots(graph, tensors, children)}, graph, "UnflattenedModule")
    unflattened.training = flat.training
    return unflattened


def _fetch(module, path):
    for part in path.split("."):
        module = getattr(module, part)
    return module


def _roots(graph, tensors, children):
    """What a graph's get_attr and call_module nodes name: the tensors (and layers recorded as one
    node, among ``tensors``) and the child modules."""
    found = {}
    for node in graph.nodes:
        if node.op in ("get_attr", "call_module"):
            found[node.target] = children.get(node.target, tensors.get(node.target))
    return {target: value for target, value in found.items() if value is not None}


def _cut(graph, path, tensors):
    """Cut each call of a direct child of the module at ``path`` out of ``graph`` (see the module
    docstring); returns the child modules by their names in ``graph``. ``tensors``: the tensor of
    each get_attr target (paths relative to ``path``)."""
    children = {}
    operations = {}  # child name -> what its first call computed
    for key, child_path in _child_calls(graph, path):
        name = child_path[len(path) + 1:] if path else child_path
        region = [node for node in graph.nodes if key in node.meta.get("nn_module_stack", {})]
        cut = _region_graph(graph, region, name)
        if cut is None:
            continue
        child_graph, inputs, outputs, owned = cut
        if name in operations and operations[name] != _operations(child_graph):
            continue  # a later call computing something else stays inline
        if name not in children:
            operations[name] = _operations(child_graph)
            child_tensors = {target[len(name) + 1:]: tensor for target, tensor in tensors.items() if target.startswith(name + ".")}
            grandchildren = _cut(child_graph, child_path, child_tensors)
            children[name] = InterpreterModule(_roots(child_graph, child_tensors, grandchildren), child_graph, "InterpreterModule")
        with graph.inserting_after(region[-1]):
            call = graph.call_module(name, tuple(inputs))
        with graph.inserting_after(call):
            for position, output in enumerate(outputs):
                output.replace_all_uses_with(call if len(outputs) == 1 else graph.call_function(operator.getitem, (call, position)))
        for node in reversed(region):
            graph.erase_node(node)
        for node in owned:
            if not node.users:
                graph.erase_node(node)
    graph.lint()
    return children


def _child_calls(graph, path):
    """``(stack key, child path)`` for each call of a direct child of the module at ``path``, in order."""
    calls = {}
    for node in graph.nodes:
        for key, (called, _) in node.meta.get("nn_module_stack", {}).items():
            if called and (called.rpartition(".")[0] == path):
                calls.setdefault(key, called)
    return list(calls.items())


def _region_graph(graph, region, name):
    """The nodes ``region`` as a graph of their own: ``(graph, its inputs in the parent, the region's
    nodes its outputs stand for)``; None where the region cannot be one step (a node outside it
    between its nodes reads its results). The child's own tensors (get_attr ``name.…``) are read
    in the new graph."""
    inside = set(region)
    order = {node: position for position, node in enumerate(graph.nodes)}
    outputs = [node for node in region if any(user not in inside for user in node.users)]
    if any(order[user] < order[region[-1]] for node in outputs for user in node.users if user not in inside):
        return None
    read = [used for used in dict.fromkeys(used for node in region for used in node.all_input_nodes) if used not in inside]
    owned = [used for used in read if used.op == "get_attr" and used.target.startswith(name + ".")]
    inputs = [used for used in read if used not in owned]
    child = Graph()
    remap = {used: child.placeholder(used.name) for used in inputs}
    remap.update({used: child.get_attr(used.target[len(name) + 1:]) for used in owned})
    for node in region:
        remap[node] = child.node_copy(node, remap.__getitem__)
        if node.op == "call_module" and node.target.startswith(name + "."):  # a layer of the child, recorded as one node
            remap[node].target = node.target[len(name) + 1:]
    child.output(remap[outputs[0]] if len(outputs) == 1 else tuple(remap[node] for node in outputs))
    return child, inputs, outputs, owned


def _operations(graph):
    return [(node.op, node.target) for node in graph.nodes if node.op not in ("placeholder", "output")]
