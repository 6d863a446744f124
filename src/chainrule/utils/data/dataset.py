"""Datasets: indexable collections of samples, and ways to combine and split them.

A dataset is anything with ``__getitem__(index)`` returning one sample and ``__len__``. Subclass
``Dataset`` for your own data; ``TensorDataset`` wraps tensors whose first dimension indexes the
samples, ``Subset`` selects some samples, ``ConcatDataset`` (also ``a + b``) joins datasets,
``StackDataset`` pairs their samples, and ``random_split`` cuts one into random, disjoint parts
(train / validation). An ``IterableDataset`` is a stream of samples instead (``ChainDataset``
joins streams).

The classes are generic, as PyTorch's: ``Dataset[T]`` in a type hint or as a base class
(``class Images(Dataset[tuple[Tensor, int]])``) says what a sample is; nothing is checked at run time.
"""
import bisect
import itertools
import math
import warnings
from typing import Generic, Iterable, TypeVar

from chainrule.backend import xp
from chainrule.creation import randperm
from chainrule.tensor import Tensor, tensor_from_array

T_co = TypeVar("T_co", covariant=True)  # the type of a sample (covariant: a Dataset[bool] is a Dataset[int])
StackedSample = TypeVar("StackedSample", tuple, dict)  # a StackDataset's samples: tuples or dicts


class Dataset(Generic[T_co]):
    """Base class of datasets: define ``__getitem__(index)`` (one sample) and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"Subclasses of Dataset should implement __getitem__. ({type(self).__name__} must define __getitem__(index))")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples ``(tensors[0][i], tensors[1][i], ...)``: e.g. ``TensorDataset(inputs, targets)``.

    Every tensor's first dimension must have the same size: the number of samples (a 0-d tensor has
    none: IndexError, as PyTorch). A ``DataLoader`` over it gathers a whole batch with one indexing
    per tensor.
    """

    def __init__(self, *tensors):
        for tensor in tensors:
            if tensor.ndim == 0:
                raise IndexError(
                    "Dimension specified as 0 but tensor has no dimensions: TensorDataset indexes samples along "
                    "dimension 0, so every tensor needs at least one dimension"
                )
        sizes = [tensor.shape[0] for tensor in tensors]
        if any(size != sizes[0] for size in sizes):
            shapes = ", ".join(str(tuple(tensor.shape)) for tensor in tensors)
            # AssertionError is what PyTorch raises here.
            raise AssertionError(
                f"Size mismatch between tensors: TensorDataset needs every tensor to have the same size "
                f"in dimension 0 (the number of samples), got shapes {shapes}"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def collated_batch(self, indices):
        """What ``default_collate`` makes of the samples at ``indices`` (an int array), in one indexing.

        A list with one ``(B, *shape)`` tensor per wrapped tensor, as ``default_collate`` gives for
        tuples. Tensors that require grad are indexed through the graph.
        """
        return [
            tensor[indices] if tensor.requires_grad else tensor_from_array(tensor._array[indices])
            for tensor in self.tensors
        ]


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(data, [0, 5])[1] == data[5]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):  # PyTorch hands the mapped list to the dataset itself
            return self.dataset[[self.indices[position] for position in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        """The samples at ``indices`` as a list, read through the dataset's own ``__getitems__`` if any."""
        mapped = [self.indices[position] for position in indices]
        read_many = getattr(self.dataset, "__getitems__", None)
        return read_many(mapped) if read_many is not None else [self.dataset[index] for index in mapped]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """The samples of several map-style datasets one after the other (``a + b`` makes one); streams
    (IterableDatasets) are refused: ``ChainDataset`` joins those."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")  # PyTorch's type
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset: join streams with ChainDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(dataset) for dataset in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError(f"absolute value of index should not exceed dataset length (index {index}, length {len(self)})")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"index {index} is out of range for a dataset of {len(self)} samples")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """Base class of datasets read as a stream: define ``__iter__`` yielding the samples (a file
    read line by line, a generator). ``a + b`` chains two of them (``ChainDataset``).

    An abstract class, as PyTorch's: a class without ``__iter__`` cannot be instantiated (TypeError).
    """

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of several IterableDatasets, one stream after the other (read lazily)."""

    def __init__(self, datasets):
        self.datasets = datasets

    def _checked(self):
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")  # PyTorch's type
            yield dataset

    def __iter__(self):
        for dataset in self._checked():
            yield from dataset

    def __len__(self):
        return sum(len(dataset) for dataset in self._checked())


class StackDataset(Dataset[StackedSample]):
    """Sample i of several datasets of the same length, together: ``StackDataset(images, texts)[i]``
    is ``(images[i], texts[i])``, ``StackDataset(image=images, text=texts)[i]`` is
    ``{"image": images[i], "text": texts[i]}``."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like input/output, "
                "but both types are given."
            )
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets = args or kwargs
        datasets = list(args or kwargs.values())
        self._length = len(datasets[0])
        if any(len(dataset) != self._length for dataset in datasets):
            raise ValueError("Size mismatch between datasets")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices):
        """The samples at ``indices`` at once, each dataset read with its own batched fetch
        (``__getitems__``) where it has one, as PyTorch's."""
        named = self.datasets if isinstance(self.datasets, dict) else dict(enumerate(self.datasets))
        columns = {key: _items_of(dataset, indices) for key, dataset in named.items()}
        if isinstance(self.datasets, dict):
            return [{key: column[row] for key, column in columns.items()} for row in range(len(indices))]
        return [tuple(column[row] for column in columns.values()) for row in range(len(indices))]

    def __len__(self):
        return self._length


def _items_of(dataset, indices):
    """``dataset``'s samples at ``indices``: its batched fetch where it has one (which must give one
    sample per index), else one by one."""
    fetch = getattr(dataset, "__getitems__", None)
    if not callable(fetch):
        return [dataset[index] for index in indices]
    items = fetch(indices)
    if len(items) != len(indices):
        raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
    return items


def batch_gatherer(dataset):
    """A function from an index array to the collated batch, or None where samples must be read one by one.

    TensorDatasets (and Subsets of them) gather a batch with one indexing per tensor; a subclass
    that overrides ``__getitem__`` (to transform samples, say) is read sample by sample.
    """
    if type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.collated_batch
    if type(dataset).__getitem__ is Subset.__getitem__:
        gather = batch_gatherer(dataset.dataset)
        positions = xp.asarray(dataset.indices)
        if gather is not None and positions.dtype.kind in "iu":  # else read one by one: a float index raises
            return lambda indices: gather(positions[indices])
    return None


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are sizes that add up to ``len(dataset)``, or fractions that add up to 1 (each
    part gets ``floor(len * fraction)`` samples, and the samples left over go one each to the
    parts in turn, as in PyTorch). The shuffle draws from ``generator`` (a ``chainrule.Generator``)
    or the global generator that ``chainrule.manual_seed`` seeds.
    """
    lengths = list(lengths)
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for position, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {position} is not between 0 and 1 (got {fraction})")
            sizes.append(int(math.floor(total * fraction)))
        for extra in range(total - sum(sizes)):
            sizes[extra % len(sizes)] += 1
        for position, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {position} is 0. This might result in an empty dataset.", stacklevel=2)
        lengths = sizes
    if sum(lengths) != total:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! (lengths {lengths} add "
            f"up to {sum(lengths)}, the dataset has {total} samples); give sizes that add up to {total}, "
            f"or fractions that add up to 1"
        )
    order = randperm(total, generator=generator).tolist()
    return [
        Subset(dataset, order[end - length : end]) for end, length in zip(itertools.accumulate(lengths), lengths)
    ]
