"""``load``'s ``map_location``: where each stored tensor goes, as ``torch.load`` decides it.

A file names a location for each storage (``"cpu"``, ``"cuda:0"``: chainrule's own files always
``"cpu"``). chainrule computes on the CPU, so a storage saved on a GPU loads onto the CPU without
being asked; ``map_location`` is checked as PyTorch reads it:

- a device (``"cpu"``, ``torch.device("cpu")``): every storage goes there;
- a dict (``{"cuda:0": "cpu"}``): a storage saved at a key goes to its value, the others to the CPU;
- a function ``(storage, location) -> storage``: called for each storage, given as a 1-D tensor of
  its elements (``lambda storage, location: storage`` keeps it; None keeps it too).

A target other than the CPU raises the RuntimeError PyTorch raises for a device it doesn't have.
"""
import typing

from chainrule.backend import to_numpy
from chainrule.device import device
from chainrule.storage import UntypedStorage
from chainrule.tensor import Tensor, tensor_from_array

#: What ``map_location`` may be, as PyTorch's type annotation names it (pyro annotates with it).
MAP_LOCATION = typing.Optional[typing.Union[typing.Callable[[UntypedStorage, str], UntypedStorage], device, str, dict[str, str]]]


class Failed(Exception):
    """``map_location`` raised, or named a device chainrule doesn't have: ``load`` raises ``error``
    itself, not the ValueError of a damaged file."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def restorer(map_location):
    """A function ``(array, location) -> array`` applying ``map_location`` to one storage's array;
    a device it names is checked now, a dict's and a function's for each storage (raising ``Failed``)."""
    if map_location is None:
        return lambda array, location: array
    if isinstance(map_location, dict):
        restore = lambda array, location: _on_cpu(array, map_location[location]) if location in map_location else array  # noqa: E731
    elif callable(map_location):
        restore = lambda array, location: _called(map_location, array, location)  # noqa: E731
    else:
        _check_target(map_location.decode("ascii") if isinstance(map_location, bytes) else str(map_location))
        return lambda array, location: array

    def checked(array, location):
        try:
            return restore(array, location)
        except Exception as error:
            raise Failed(error) from error

    return checked


def _on_cpu(array, target):
    _check_target(target.decode("ascii") if isinstance(target, bytes) else str(target))
    return array


def _check_target(target):
    kind = str(device(target)).split(":")[0]  # an invalid name raises PyTorch's RuntimeError here
    if kind == "cuda":
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
            "If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU. (chainrule computes on "
            "the CPU: map_location='cpu', or none, loads every tensor there.)"
        )
    if kind != "cpu":
        raise RuntimeError(
            f"don't know how to restore data location of a storage (tagged with {target}): chainrule "
            f"tensors live on the CPU; use map_location='cpu', or none."
        )


def _called(map_location, array, location):
    storage = tensor_from_array(array.reshape(-1))
    result = map_location(storage, location)
    if result is None or result is storage:
        return array
    if not isinstance(result, Tensor):
        raise TypeError(
            f"map_location returned a {type(result).__name__} for a storage at {location!r}; it must "
            f"return the storage it was given (a 1-D tensor), a tensor of its elements, or None"
        )
    restored = to_numpy(result._array)
    if restored.dtype != array.dtype or restored.size != array.size:
        raise RuntimeError(
            f"map_location returned {restored.size} elements of {restored.dtype} for a storage of "
            f"{array.size} elements of {array.dtype} at {location!r}; it must keep the storage's elements"
        )
    return restored.reshape(array.shape)
