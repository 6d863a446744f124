"""Fusion in the graph: each chain of layers that ``fuse_modules`` knows how to join (conv-bn,
conv-bn-relu, conv-relu, linear-relu, linear-bn, bn-relu, with ``F.relu`` standing for
``nn.ReLU``), where each value in the chain feeds only the next, becomes one fused module,
placed at the first layer's name; the other layers leave the graph and the module (which is
rebuilt from its graph, as PyTorch's: only the modules the graph calls, in the order it calls them;
in training mode the fused module holds the very batch norm and ReLU it replaced)."""
from chainrule import nn
from chainrule.ao.quantization.fuse_modules import fuse_known_modules
from chainrule.ao.quantization.fuser_method_mappings import DEFAULT_OP_LIST_TO_FUSER_METHOD
from chainrule.ao.quantization.fx.patterns import RELUS
from chainrule.fx import GraphModule


def _module_of(node, modules):
    """The layer ``node`` calls (an ``nn.ReLU()`` for a relu function), or None."""
    if node.op == "call_module":
        return modules[node.target]
    if node.op == "call_function" and node.target in RELUS and len(node.args) == 1 and not node.kwargs:
        return nn.ReLU()
    return None


def _longest_chain(node, modules):
    """The nodes of the longest known chain starting at ``node``, or None."""
    chain, types = [node], (type(_module_of(node, modules)),)
    best = None
    while True:
        if types in DEFAULT_OP_LIST_TO_FUSER_METHOD:
            best = list(chain)
        last = chain[-1]
        if len(last.users) != 1 or not any(known[: len(types)] == types and len(known) > len(types) for known in DEFAULT_OP_LIST_TO_FUSER_METHOD):
            return best
        (user,) = last.users
        following = _module_of(user, modules)
        if following is None or user.args[:1] != (last,):
            return best
        chain.append(user)
        types += (type(following),)


def fuse_graph(graph_module, is_qat):
    """``graph_module`` with its known chains fused (see the module docstring)."""
    modules = dict(graph_module.named_modules(remove_duplicate=False))
    for node in graph_module.graph.nodes:  # (a live view: it skips the nodes erased as it goes)
        if node.op != "call_module":
            continue
        chain = _longest_chain(node, modules)
        if chain is None:
            continue
        fused = fuse_known_modules([_module_of(each, modules) for each in chain], is_qat)[0]
        graph_module.add_submodule(node.target, fused)
        modules[node.target] = fused
        chain[-1].replace_all_uses_with(node)
        for erased in reversed(chain[1:]):
            graph_module.graph.erase_node(erased)
    return GraphModule(graph_module, graph_module.graph, "GraphModule")
