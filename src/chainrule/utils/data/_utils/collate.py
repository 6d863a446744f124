"""Collation: turning a list of samples into one batch, as ``torch.utils.data._utils.collate``.

``collate(batch, collate_fn_map=...)`` looks at the first sample. When its type (or, failing that, a
type it is an instance of, in the map's order) has a function in ``collate_fn_map``, that function
makes the batch: ``fn(batch, collate_fn_map=collate_fn_map)``. Otherwise containers are walked:

- dicts (any mapping) are collated key by key, giving a dict of batches of the sample's own type,
- namedtuples field by field, keeping their type,
- tuples and lists are transposed: ``[(x0, y0), (x1, y1)]`` gives ``[batch_of_x, batch_of_y]``
  (a list for a tuple, as in PyTorch; another sequence keeps its type where it can).

``default_collate(batch)`` is ``collate`` with ``default_collate_fn_map``, whose entries are:

- tensors are stacked along a new first dimension: ``(B, *shape)`` (they must all have one shape),
- NumPy arrays and NumPy scalars become tensors (``as_tensor``: a dtype tensors lack, such as
  datetime64, is refused with TypeError), then are stacked,
- Python floats become a float64 tensor, ints an int64 tensor (ValueError past int64, as
  ``tensor()``), bools a bool tensor,
- strings and bytes stay as they are: a list of them (a tuple inside a transposed sample, as in PyTorch).

Register a type in ``default_collate_fn_map`` to change how ``default_collate`` (the DataLoader's
default) batches it::

    def collate_point_fn(batch, *, collate_fn_map=None):
        return Point.stack(batch)

    default_collate_fn_map[Point] = collate_point_fn
"""
import collections.abc
import copy
import re

from chainrule import dtypes
from chainrule.backend import as_array, xp
from chainrule.creation import as_tensor, tensor
from chainrule.functional import stack  # the overridable one: a batch of a Tensor subclass stays one, as PyTorch's
from chainrule.tensor import Tensor, tensor_from_array

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def collate(batch, *, collate_fn_map=None):
    """Combine the samples of ``batch`` (a list) into one batch; see the module's description."""
    sample = batch[0]
    sample_type = type(sample)
    if collate_fn_map is not None:
        if sample_type in collate_fn_map:
            return collate_fn_map[sample_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(sample, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(sample, collections.abc.Mapping):
        collated = {key: collate([item[key] for item in batch], collate_fn_map=collate_fn_map) for key in sample}
        return rebuild_mapping(sample, collated)
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return sample_type(*(collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)))
    if isinstance(sample, collections.abc.Sequence):
        size = len(sample)
        if any(len(item) != size for item in batch):
            raise RuntimeError(
                f"each element in list of batch should be of equal size (the first has {size} items, "
                f"others have {sorted({len(item) for item in batch})}); pad them, or pass a collate_fn"
            )
        columns = [collate(column, collate_fn_map=collate_fn_map) for column in zip(*batch)]
        return columns if isinstance(sample, tuple) else rebuild_sequence(sample, columns)
    raise TypeError(default_collate_err_msg_format.format(sample_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Tensors of one shape ``S`` -> one tensor ``(len(batch), *S)``."""
    return stack(batch)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """NumPy arrays -> tensors, then collated as tensors (text and object arrays are refused, and,
    by ``as_tensor``, arrays of a dtype tensors lack)."""
    if _holds_objects_or_text(batch[0]):
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([as_tensor(item) for item in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars -> one tensor ``(len(batch),)`` of their dtype (``as_tensor``: timedelta64 is refused)."""
    return as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats -> a float64 tensor, as PyTorch."""
    return tensor_from_array(as_array(batch, dtypes.float64))


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints -> an int64 tensor; bools -> a bool tensor: ``tensor(batch)``, as PyTorch."""
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay as they are: the list itself."""
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    xp.ndarray: collate_numpy_array_fn,
    (xp.bool_, xp.number, xp.object_): collate_numpy_scalar_fn,  # NumPy's text scalars are str and bytes
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}
_ORIGINAL_ENTRIES = list(default_collate_fn_map.items())


def default_collate(batch):
    """``collate(batch, collate_fn_map=default_collate_fn_map)``: what a DataLoader uses unless given a
    ``collate_fn``; see the module's description."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


def is_unchanged_default_collate(collate_fn):
    """Whether ``collate_fn`` is ``default_collate`` with the entries it came with: then a batch of a
    TensorDataset may be gathered at once instead (nobody registered a way of their own)."""
    return collate_fn is default_collate and list(default_collate_fn_map.items()) == _ORIGINAL_ENTRIES


def default_convert(data):
    """One sample made batch-free ready: NumPy arrays and scalars become tensors (``as_tensor``: a
    dtype tensors lack, such as datetime64, raises TypeError; text and object arrays stay as they
    are), containers are walked.

    Used by ``DataLoader(batch_size=None)``, which hands out samples one by one.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (xp.ndarray, xp.generic)) and not isinstance(data, (xp.str_, xp.bytes_)):
        return data if isinstance(data, xp.ndarray) and _holds_objects_or_text(data) else as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(item) for item in data))
    if isinstance(data, tuple):
        return [default_convert(item) for item in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return rebuild_sequence(data, [default_convert(item) for item in data])
    return data


def rebuild_mapping(original, values):
    """``values`` (a dict) in the container type of ``original``, as PyTorch rebuilds it: a copy of a
    mutable mapping updated (it keeps its extra state: a defaultdict its factory), a read-only one
    built from the dict, a plain dict where neither works."""
    try:
        if isinstance(original, collections.abc.MutableMapping):
            clone = copy.copy(original)
            clone.update(values)
            return clone
        return type(original)(values)
    except TypeError:
        return values


def rebuild_sequence(original, items):
    """``items`` (a list) in the container type of ``original``, as ``rebuild_mapping`` does for mappings."""
    try:
        if isinstance(original, collections.abc.MutableSequence):
            clone = copy.copy(original)
            for position, item in enumerate(items):
                clone[position] = item
            return clone
        return type(original)(items)
    except TypeError:
        return items


#: PyTorch's test of a NumPy dtype's string for text and objects (bytes, str, object), which no
#: tensor holds (MONAI's image readers use it too).
np_str_obj_array_pattern = re.compile(r"[SaUO]")


def _holds_objects_or_text(array):
    return np_str_obj_array_pattern.search(array.dtype.str) is not None
