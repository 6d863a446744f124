"""Nested containers of tensors ("pytrees"), flattened to a list of leaves and rebuilt.

``torch.func`` transforms accept and return tuples, lists and dicts of tensors nested to any depth
(a model's parameters are a dict); everything else is a leaf. ``flatten(tree)`` gives
``(leaves, spec)`` and ``unflatten(leaves, spec)`` rebuilds the same structure around new leaves.
"""


def flatten(tree):
    """``(leaves in order, spec)``: the spec records the containers, the leaves what they held."""
    if isinstance(tree, (tuple, list)):
        kind, keys, children = type(tree), None, list(tree)
    elif isinstance(tree, dict):
        kind, keys, children = dict, list(tree), list(tree.values())
    else:
        return [tree], None
    leaves, child_specs = [], []
    for child in children:
        child_leaves, child_spec = flatten(child)
        leaves.extend(child_leaves)
        child_specs.append((len(child_leaves), child_spec))
    return leaves, (kind, keys, child_specs)


def unflatten(leaves, spec):
    """The structure that ``spec`` describes, holding ``leaves`` in order."""
    if spec is None:
        return leaves[0]
    kind, keys, child_specs = spec
    children, start = [], 0
    for count, child_spec in child_specs:
        children.append(unflatten(leaves[start:start + count], child_spec))
        start += count
    if kind is dict:
        return dict(zip(keys, children))
    return kind(children) if kind in (tuple, list) else kind(*children)  # a namedtuple takes fields


def tree_map(function, tree):
    """The same structure with ``function`` applied to every leaf."""
    leaves, spec = flatten(tree)
    return unflatten([function(leaf) for leaf in leaves], spec)
