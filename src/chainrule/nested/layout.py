"""``chainrule.jagged``, PyTorch's ``torch.jagged``: the layout of a nested tensor stored as one
``values`` tensor whose rows (along the ragged dimension) the ``offsets`` cut into components.

    nested_tensor([a, b], layout=chainrule.jagged)      # a (2, D), b (3, D) -> values (5, D), offsets [0, 2, 5]

The other layout a nested tensor may have is ``chainrule.strided`` (each component its own shape).
"""
from chainrule.memory_layout import layout

jagged = layout("jagged")
