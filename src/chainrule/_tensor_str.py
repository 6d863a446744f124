"""``torch._tensor_str``: the module where PyTorch keeps how tensors print, which libraries reach
into for the print options (``PRINT_OPTS``) and for a tensor's values as text without ``tensor(``
around them (``_tensor_str``; PyG writes its OFF meshes with it). The printing itself is
``chainrule._format``'s."""
from chainrule._format import PRINT_OPTIONS as PRINT_OPTS  # noqa: F401  PyTorch's name for the options
from chainrule._format import format_tensor, format_values


def _tensor_str(self, indent):
    """The values of ``self`` as its print shows them, for a print that starts ``indent`` columns
    in: ``[[1., 2.],\\n [3., 4.]]`` for indent 0; ``[]`` for an empty tensor."""
    return format_values(self._array, indent)


def _str(self, *, tensor_contents=None):
    """``repr(self)``: ``tensor(<values>, <suffixes>)``, with ``tensor_contents`` (a string) in place
    of the values when given."""
    return format_tensor(self, tensor_contents)

