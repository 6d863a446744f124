"""``chainrule.nested``, PyTorch's ``torch.nested``: nested tensors, lists of tensors of one number
of dimensions whose sizes differ (sentences of different lengths, images of different sizes),
computed on as one tensor, without padding.

- making them: ``nested_tensor``, ``as_nested_tensor``, ``nested_tensor_from_jagged`` (``creation.py``),
  ``narrow``, ``masked_select`` (views of a dense tensor, ``from_dense.py``);
- two layouts: ``chainrule.strided`` (``strided.py``: any dim but the batch may differ) and
  ``jagged`` (``jagged.py``: values + offsets, one ragged dim, ``nt.values()``, ``nt.offsets()``);
- reading them: ``nt.is_nested``, ``nt.unbind()``, ``nt.size(dim)``, ``nt.dim()``, ``print(nt)``;
- back to dense: ``to_padded_tensor`` (``padding.py``);
- computing on them: the operations of ``pointwise.py``, ``products.py``, ``reductions.py`` and
  ``reshaping.py``, which ``dispatch.py`` finds by name; gradients as for any tensor.
"""
from chainrule.nested import pointwise, products, reductions, reshaping  # noqa: F401 (they register their operations)
from chainrule.nested.creation import as_nested_tensor, nested_tensor, nested_tensor_from_jagged
from chainrule.nested.from_dense import masked_select, narrow
from chainrule.memory_layout import jagged
from chainrule.nested.padding import to_padded_tensor
from chainrule.nested.tensor import NestedTensor

__all__ = ["to_padded_tensor", "as_nested_tensor", "nested_tensor", "nested_tensor_from_jagged", "narrow", "masked_select"]
