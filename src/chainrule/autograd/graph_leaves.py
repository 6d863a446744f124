"""The leaves a result was computed from: a walk of its graph back to the ``AccumulateGrad`` nodes."""
from chainrule.autograd.function import AccumulateGrad


def reachable_leaves(tensors, stop_at=()):
    """The leaf tensors requiring grad that gradients of ``tensors`` would reach, each once, in the
    order found; the walk does not go past the nodes in ``stop_at``."""
    stopped = {id(node) for node in stop_at}
    seen, leaves, pending = set(), [], []
    for tensor in tensors:
        if tensor.grad_fn is not None:
            pending.append(tensor.grad_fn)
        elif tensor.requires_grad:
            leaves.append(tensor)
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen or id(node) in stopped:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            leaves.append(node.variable)
        else:
            pending.extend(next_node for next_node, _ in node.next_functions)
    unique = {id(leaf): leaf for leaf in leaves}
    return list(unique.values())
