"""Collation: turning a list of samples into one batch, as PyTorch's ``default_collate`` does.

``default_collate(samples)`` looks at the first sample and, recursively:

- tensors are stacked along a new first dimension: ``(B, *shape)`` (they must all have one shape),
- NumPy arrays and NumPy scalars become tensors, then are stacked,
- Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor,
- strings and bytes stay as they are: a list of them (a tuple inside a transposed sample, as in PyTorch),
- dicts are collated key by key, giving a dict of batches,
- tuples and lists are transposed: ``[(x0, y0), (x1, y1)]`` gives ``[batch_of_x, batch_of_y]``
  (a list, as in PyTorch; a namedtuple keeps its type).
"""
import collections.abc

from chainrule import dtypes
from chainrule.backend import as_array, xp
from chainrule.ops.join import stack
from chainrule.tensor import Tensor, tensor_from_array

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_collate(batch):
    """Combine the samples of ``batch`` (a list) into one batch; see the module's description."""
    sample = batch[0]
    if isinstance(sample, Tensor):
        return stack(batch)
    if isinstance(sample, xp.ndarray):
        if _holds_objects_or_text(sample):
            raise TypeError(_ERROR.format(sample.dtype))
        return stack([tensor_from_array(as_array(item)) for item in batch])
    if isinstance(sample, (str, bytes, xp.str_, xp.bytes_)):
        return batch
    if isinstance(sample, xp.generic):
        return tensor_from_array(as_array(batch))
    if isinstance(sample, float):
        return tensor_from_array(as_array(batch, dtypes.float64))
    if isinstance(sample, int):  # bool included: [True, False] gives a bool tensor, as torch.tensor does
        return tensor_from_array(as_array(batch, dtypes.infer_dtype(batch)))
    if isinstance(sample, collections.abc.Mapping):
        collated = {key: default_collate([item[key] for item in batch]) for key in sample}
        return collated if type(sample) is dict else _rebuild(type(sample), collated)
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(sample, collections.abc.Sequence):
        size = len(sample)
        if any(len(item) != size for item in batch):
            raise RuntimeError(
                f"each element in list of batch should be of equal size (the first has {size} items, "
                f"others have {sorted({len(item) for item in batch})}); pad them, or pass a collate_fn"
            )
        columns = [default_collate(column) for column in zip(*batch)]
        return columns if isinstance(sample, (tuple, list)) else _rebuild(type(sample), columns)
    raise TypeError(_ERROR.format(type(sample)))


def default_convert(data):
    """One sample made batch-free ready: NumPy arrays and scalars become tensors, containers are walked.

    Used by ``DataLoader(batch_size=None)``, which hands out samples one by one.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (xp.ndarray, xp.generic)) and not isinstance(data, (xp.str_, xp.bytes_)):
        return data if isinstance(data, xp.ndarray) and _holds_objects_or_text(data) else tensor_from_array(as_array(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        return converted if type(data) is dict else _rebuild(type(data), converted)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(item) for item in data))
    if isinstance(data, tuple):
        return [default_convert(item) for item in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(item) for item in data]
        return converted if isinstance(data, list) else _rebuild(type(data), converted)
    return data


def _holds_objects_or_text(array):
    return array.dtype.kind in "SUO"


def _rebuild(container_type, contents):
    """``contents`` in the sample's own container type when it can be built from one, else as is."""
    try:
        return container_type(contents)
    except TypeError:
        return contents
