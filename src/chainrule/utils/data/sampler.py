"""Samplers: the order in which a DataLoader visits a dataset's indices, and how it groups them.

``SequentialSampler`` gives 0, 1, ..., n-1; ``RandomSampler`` a fresh random order each epoch
(from ``generator`` or the global generator seeded by ``chainrule.manual_seed``, drawn as PyTorch
draws it, so the same seed gives the same order);
``WeightedRandomSampler`` draws indices with given probabilities; ``BatchSampler`` groups any sampler's indices into lists of ``batch_size``.
The random samplers draw an epoch when its first index is read, not at ``iter(sampler)``, as
PyTorch's (generators) do. ``Sampler[T]`` is generic, as PyTorch's: ``Sampler[int]`` yields indices.
"""
from typing import Generic, TypeVar

from chainrule import dtypes
from chainrule.autograd.function import read_into_python
from chainrule.backend import xp
from chainrule.creation import as_tensor
from chainrule import sampling_algorithms
from chainrule.random import Generator, engine_of
from chainrule.sampling import multinomial

T_co = TypeVar("T_co", covariant=True)  # what a sampler yields: an index, a list of indices (covariant)


class Sampler(Generic[T_co]):
    """Base class of samplers: an iterable of dataset indices.

    Subclass it as in PyTorch, with ``__iter__`` and ``__len__``; or with ``epoch_indices()``
    returning one epoch's indices as an integer array, which lets a ``DataLoader`` cut batches
    from it without a Python loop over samples. It takes no arguments, as PyTorch 2.13's.
    """

    def __iter__(self):
        return iter(self.epoch_indices().tolist())

    def epoch_indices(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__ or epoch_indices()")


class SequentialSampler(Sampler[int]):
    """The indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def epoch_indices(self):
        return xp.arange(len(self.data_source), dtype=dtypes.int64)

    def __len__(self):
        return len(self.data_source)


_DRAWS_AT_ONCE = 2**16  # RandomSampler(replacement=True)'s indices are drawn this many at a time


class RandomSampler(Sampler[int]):
    """The indices in a new random order at each epoch (each pass over the sampler).

    With ``replacement=True``, ``num_samples`` indices drawn independently (repeats possible);
    without, ``num_samples`` (default: the dataset's size) taken from successive permutations.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        count = self.num_samples
        if not isinstance(count, int) or count <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={count}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        """One epoch's indices, drawn at the first ``next()``, a part at a time."""
        for part in self.index_parts():
            yield from part.tolist()

    def epoch_indices(self):
        return xp.concatenate(list(self.index_parts()))

    def index_parts(self):
        """One epoch's indices as successive arrays, drawn as PyTorch draws them: without a
        generator, a new one seeded by a 63-bit draw of the global one; then ``num_samples`` draws
        of [0, n) (in parts of at most ``_DRAWS_AT_ONCE``: each draw takes the same words of the
        stream however many are drawn together, and ``num_samples=int(1e10)``, minGPT's endless
        loader, must not be drawn at once), or count // n permutations and the start of one more
        (drawn even when count is a multiple of n), one at a time."""
        size, count = len(self.data_source), self.num_samples
        generator = self.generator
        if generator is None:
            seed = int(sampling_algorithms.full_range_integers(engine_of(None), (), dtypes.int64))
            generator = Generator(seed)
        engine = engine_of(generator)
        if self.replacement:
            for start in range(0, count, _DRAWS_AT_ONCE):
                yield sampling_algorithms.integers(engine, (min(_DRAWS_AT_ONCE, count - start),), 0, size, dtypes.int64)
            return
        for _ in range(count // size):
            yield sampling_algorithms.permutation(engine, size)
        yield sampling_algorithms.permutation(engine, size)[: count % size]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a new random order at each epoch.

    As PyTorch, it yields ``indices[position]`` for each position of a random permutation: the
    elements themselves (0-d tensors when ``indices`` is a tensor).
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        """One epoch's indices, drawn at the first ``next()``."""
        for position in self._permutation().tolist():
            yield self.indices[position]

    def epoch_indices(self):
        return xp.asarray(self.indices)[self._permutation()]

    def _permutation(self):
        return sampling_algorithms.permutation(engine_of(self.generator), len(self.indices))

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (one per sample):
    index i with probability weights[i] / sum(weights), independently with ``replacement``, else
    each index at most once. The usual cure for imbalanced classes: weight each sample by
    1 / (count of its class)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = as_tensor(weights, dtype=dtypes.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        """One epoch's indices, drawn at the first ``next()``."""
        yield from self.epoch_indices().tolist()

    def epoch_indices(self):
        drawn = multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        read_into_python("WeightedRandomSampler's indices")  # a compiled call would replay these numbers
        return drawn._array

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last may be shorter,
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)

    def index_arrays(self):
        """The batches as integer arrays, cut from the arrays of the epoch's indices when the sampler
        can give them (no per-sample Python loop), else grouped from its iteration (``index_array``).
        A sampler with ``index_parts()`` gives them a part at a time (an endless one never ends)."""
        if type(self.sampler).__iter__ not in _ITERATIONS_OF_EPOCH_INDICES:
            yield from map(index_array, self)
            return
        parts = self.sampler.index_parts() if hasattr(self.sampler, "index_parts") else (self.sampler.epoch_indices(),)
        pending = None  # the indices of a batch begun in one part and ended in the next
        for part in parts:
            if pending is not None:
                part = xp.concatenate([pending, part])
            whole = len(part) - len(part) % self.batch_size
            for start in range(0, whole, self.batch_size):
                yield part[start : start + self.batch_size]
            pending = part[whole:]
        if pending is not None and len(pending) and not self.drop_last:
            yield pending


# The ``__iter__`` methods that yield the values of ``epoch_indices()``, in order: a BatchSampler
# over a sampler iterated by one of them may cut its batches from that array.
_ITERATIONS_OF_EPOCH_INDICES = (
    Sampler.__iter__,
    RandomSampler.__iter__,
    SubsetRandomSampler.__iter__,
    WeightedRandomSampler.__iter__,
)


def index_array(batch):
    """``batch`` (indices) as an integer array; the batch itself when an index is not an integer (a
    float, a bool, none at all), to be read sample by sample as PyTorch reads it, which refuses a float."""
    array = xp.asarray(batch)
    return array if array.dtype.kind in "iu" else batch
