"""``register_dataclass``: a dataclass as an input or output of an exported program.

Export flattens its inputs and outputs into tensors (pytrees: tuples, lists, dicts). A dataclass
registered here is taken apart the same way, field by field (``inputs.feature`` becomes the
placeholder ``inputs_feature``), and built again from its fields::

    @dataclass
    class Batch:
        feature: torch.Tensor
        bias: int

    torch.export.register_dataclass(Batch)
    ep = torch.export.export(model, (Batch(x, 1),))
"""
import dataclasses

from chainrule.utils._pytree import GetAttrKey, register_pytree_node


def register_dataclass(cls, *, serialized_type_name=None):
    """Make the dataclass ``cls`` a pytree node (see the module docstring): its children are its
    fields' values, in the order the class declares them."""
    if not dataclasses.is_dataclass(cls) or not isinstance(cls, type):
        raise TypeError(f"register_dataclass: {cls!r} is not a dataclass type")
    names = [field.name for field in dataclasses.fields(cls)]

    def flatten(value):
        return [getattr(value, name) for name in names], names

    def unflatten(children, context):
        return cls(**dict(zip(context, children)))

    def flatten_with_keys(value):
        return [(GetAttrKey(name), getattr(value, name)) for name in names], names

    register_pytree_node(cls, flatten, unflatten, serialized_type_name=serialized_type_name, flatten_with_keys_fn=flatten_with_keys)
