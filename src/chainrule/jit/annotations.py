"""``torch.jit.annotations``: the type names TorchScript code annotates with, where older model code
imports them from (timm's densenet: ``from torch.jit.annotations import List``): typing's, and
``BroadcastingList1`` to ``3``, TorchScript's "one number or a list of that many" (``kernel_size:
BroadcastingList2[int]``), which annotate as ``List`` does since no TorchScript reads them here."""
from typing import Any, Dict, List, Optional, Tuple, Union  # noqa: F401  PyTorch's module has them too

BroadcastingList1 = BroadcastingList2 = BroadcastingList3 = List
