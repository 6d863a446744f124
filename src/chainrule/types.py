"""``torch.types``: the type aliases function signatures are annotated with (``Number``,
``Device``, ``_size``...). They describe arguments only: chainrule never checks them."""
import os
from typing import IO, Union

from chainrule.device import device as _device
from chainrule.dtypes import dtype as _dtype
from chainrule.tensor import Size, Tensor

_int = int
_float = float
_bool = bool
_complex = complex
_str = str
_bytes = bytes
_size = Union[Size, list[int], tuple[int, ...]]

Number = Union[int, float, bool]
_Number = Number
IntLikeType = int
FloatLikeType = float
BoolLikeType = bool
Device = Union[_device, str, int, None]
FileLike = Union[str, os.PathLike, IO[bytes]]
_TensorOrTensors = Union[Tensor, tuple[Tensor, ...], list[Tensor]]

__all__ = ["Number", "Device", "FileLike", "Size", "Tensor", "IntLikeType", "FloatLikeType", "BoolLikeType", "_dtype", "_device"]
