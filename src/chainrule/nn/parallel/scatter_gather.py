"""``torch.nn.parallel.scatter_gather``: a batch split into one piece per device, and the pieces'
outputs joined again, as ``DataParallel`` does with several GPUs. chainrule runs on the CPU only, so
the pieces stay where they are; the structure is PyTorch's: tensors are cut into ``len(target_gpus)``
chunks along ``dim`` (fewer where the dimension is shorter), through tuples, lists, dicts and
dataclass-like namedtuples, and anything else is repeated in each piece."""
from chainrule.ops.join import cat
from chainrule.tensor import Tensor


def scatter(inputs, target_gpus, dim=0):
    """``inputs`` as a list of one piece per target (the tensors in them cut along ``dim``)."""
    count = len(target_gpus)

    def cut(value):
        if isinstance(value, Tensor):
            return list(value.chunk(count, dim))
        if isinstance(value, tuple) and hasattr(value, "_fields") and value:  # a namedtuple
            return [type(value)(*piece) for piece in zip(*map(cut, value))]
        if isinstance(value, tuple) and value:
            return list(zip(*map(cut, value)))
        if isinstance(value, list) and value:
            return [list(piece) for piece in zip(*map(cut, value))]
        if isinstance(value, dict) and value:
            return [type(value)(piece) for piece in zip(*map(cut, value.items()))]
        return [value] * count

    return cut(inputs)


def scatter_kwargs(inputs, kwargs, target_gpus, dim=0):
    """``(inputs pieces, kwargs pieces)`` of equal length, the shorter padded with empty ones."""
    pieces = scatter(inputs, target_gpus, dim) if inputs else []
    keyword_pieces = scatter(kwargs, target_gpus, dim) if kwargs else []
    pieces += [()] * (len(keyword_pieces) - len(pieces))
    keyword_pieces += [{}] * (len(pieces) - len(keyword_pieces))
    return tuple(pieces), tuple(keyword_pieces)


def gather(outputs, target_device, dim=0):
    """The pieces' outputs (a list, one per piece) joined: tensors concatenated along ``dim``,
    tuples, lists and dicts item by item, None kept."""
    first = outputs[0]
    if isinstance(first, Tensor):
        return cat(outputs, dim) if first.dim() else cat([output.reshape(1) for output in outputs], 0)
    if first is None:
        return None
    if isinstance(first, dict):
        return type(first)((key, gather([output[key] for output in outputs], target_device, dim)) for key in first)
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(gather(list(items), target_device, dim) for items in zip(*outputs)))
    return type(first)(gather(list(items), target_device, dim) for items in zip(*outputs))
