"""``torch._tensor``, the module PyTorch's ``Tensor`` is defined in: what code names through it
(Lightning's checkpoint loader rebuilds tensors with ``_rebuild_from_type_v2``; subclasses convert
results with ``_convert``)."""
from chainrule.overrides import _convert  # noqa: F401  a result's tensors seen as a subclass
from chainrule.serialization.pytorch_file import rebuild_with_type
from chainrule.tensor import Tensor  # noqa: F401

#: A tensor rebuilt by ``func(*args)``, made a ``new_type`` and given the pickled ``state``: what the
#: loader of PyTorch's files rebuilds this name of theirs with.
_rebuild_from_type_v2 = rebuild_with_type
