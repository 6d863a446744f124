"""DataLoader: iterate over a dataset in (shuffled) mini-batches."""
import itertools
import multiprocessing
import os
import warnings
from typing import Generic, TypeVar

from chainrule import accelerator, dtypes
from chainrule.creation import empty
from chainrule.utils.data._utils.collate import default_collate, default_convert
from chainrule.utils.data._utils.fetch import DatasetKind, batch_gather
from chainrule.utils.data._utils.worker import WorkerPool, get_worker_info
from chainrule.utils.data.dataset import IterableDataset
from chainrule.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, index_array

_DatasetKind = DatasetKind  # PyTorch's name for it here (fastai imports it from torch.utils.data.dataloader)

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]  # PyTorch's

T_co = TypeVar("T_co", covariant=True)  # what the loader yields: a batch (covariant)


# PyTorch refuses to change these once a loader exists: its sampler and batches were built from them.
_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


def _check_unspecified_for_streams(**options):
    """A stream (IterableDataset) decides its own order: PyTorch's ValueError for any ordering option."""
    for name, value in options.items():
        if value not in (None, False):
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, but got {name}={value}")


class DataLoader(Generic[T_co]):
    """Batches of samples from ``dataset``, as ``torch.utils.data.DataLoader``::

        loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
        for inputs, targets in loader:     # inputs (64, *X.shape[1:]), targets (64, *y.shape[1:])
            ...

    Each pass (epoch) visits every sample once: in order, or in a new random order with
    ``shuffle=True`` (drawn from ``generator``, a ``chainrule.Generator``, or from the global
    generator, so ``chainrule.manual_seed`` makes the epochs reproducible). ``len(loader)`` is the
    number of batches; ``drop_last=True`` drops a last, incomplete batch.

    ``collate_fn`` turns a list of samples into a batch (default: ``default_collate``, which
    stacks tensors and transposes tuples). ``sampler`` (indices in an order) and
    ``batch_sampler`` (lists of indices) replace the built-in ordering and batching;
    ``batch_size=None`` yields samples one at a time. A ``TensorDataset`` with the default collation
    is gathered with one indexing per tensor per batch, with no Python loop over samples.

    ``num_workers=N`` loads batches in ``N`` worker processes (``chainrule.utils.data._utils.worker``):
    worth it when reading or transforming a sample is slow (files, augmentation); batches of
    in-memory tensors are fastest gathered in this process, the default ``num_workers=0``. The
    batches are the same, in the same order, either way (``in_order=False``: in the order they are
    ready). Each ``iter(loader)`` draws a base seed from ``generator`` (or the global generator);
    worker ``i`` seeds chainrule, ``random`` and NumPy's global generator from it and ``i``, as
    PyTorch does, then runs ``worker_init_fn(i)``: random augmentations differ across workers and
    epochs, and repeat under ``chainrule.manual_seed``. ``prefetch_factor`` (default 2) batches are
    loaded ahead per worker, ``multiprocessing_context`` picks the start method ("fork", "spawn"...;
    with "spawn" the dataset and ``collate_fn`` must pickle), a ``timeout`` > 0 raises when a batch
    takes longer. Workers start anew each epoch, or once with ``persistent_workers=True`` (they keep
    their seeds and their copies of the dataset). ``pin_memory`` warns, as PyTorch does without an
    accelerator, and changes nothing (there is no GPU to copy to).

    An ``IterableDataset`` is read as a stream, in its own order, ``batch_size`` samples a batch
    (no shuffle, sampler or batch_sampler). With ``num_workers=N`` each worker reads its own copy of
    the stream (``get_worker_info()`` tells it which share to read, as in PyTorch) and the batches
    come from the workers in turn, a worker leaving the turn when its stream ends. Once
    ``len(loader)`` has read the stream's ``__len__``, the epochs begun after warn, as PyTorch's do,
    at each batch past that many (batches counted against the number of samples, as PyTorch counts).

    ``DataLoader[T]`` is generic, as PyTorch's: ``T`` is the type of a batch, for type hints.
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
    ):
        if num_workers < 0:
            raise ValueError(
                f"num_workers option should be non-negative; use num_workers=0 to disable multiprocessing. "
                f"(got {num_workers})"
            )
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "  # PyTorch's words
                "to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError(f"prefetch_factor option should be non-negative, got {prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            self._dataset_kind = DatasetKind.Iterable
            _check_unspecified_for_streams(shuffle=shuffle, sampler=sampler, batch_sampler=batch_sampler)
        else:
            self._dataset_kind = DatasetKind.Map
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError(
                "sampler option is mutually exclusive with shuffle: the sampler decides the order; "
                "drop shuffle=True, or use a RandomSampler"
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )
        if sampler is None and self._dataset_kind == DatasetKind.Iterable:
            sampler = _InfiniteConstantSampler()  # the stream decides what comes, as in PyTorch
        elif sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.generator = generator
        self._iterator = None
        self._IterableDataset_len_called = None  # a stream's __len__, once len(loader) has read it
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._initialized = True
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        """The ``multiprocessing`` context the workers start from (None: the platform's default)."""
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                    f"but got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(
                        f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                        f"but got multiprocessing_context={context!r}"
                    )
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a string specifying "
                    f"the start method, but got multiprocessing_context={context}"
                )
        self._multiprocessing_context = context

    def check_worker_number_rationality(self):
        """Warn, as PyTorch does, when ``num_workers`` exceeds the CPUs this process may use."""
        if not self.num_workers:
            return
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if usable is None or self.num_workers > usable:
            suggestion = (
                f"Our suggested max number of worker in current system is {usable}"
                f"{'' if hasattr(os, 'sched_getaffinity') else ' (`cpuset` is not taken into account)'}, "
                "which is smaller than what this DataLoader is going to create."
                if usable is not None
                else "DataLoader is not able to compute a suggested max number of worker in current system."
            )
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. {suggestion} "
                "Please be aware that excessive worker creation might get DataLoader running slow or even "
                "freeze, lower the worker number to avoid potential slowness/freeze if necessary.",
                stacklevel=2,
            )

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in _FIXED_AFTER_INIT:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __iter__(self):
        """One epoch: an iterator of PyTorch's class names (the same one again, reset, with persistent workers)."""
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def _get_iterator(self):
        """A new pass: a ``_SingleProcessDataLoaderIter``, or for ``num_workers > 0`` a
        ``_MultiProcessingDataLoaderIter``."""
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __len__(self):
        if self._dataset_kind == DatasetKind.Iterable:  # the stream's own length, in batches
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)

    @property
    def _auto_collation(self):
        """Whether samples are fetched and collated in batches (PyTorch's name): a batch sampler is there."""
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What an epoch iterates: the batch sampler when batches are collated, else the sampler."""
        return self.batch_sampler if self._auto_collation else self.sampler


class _InfiniteConstantSampler(Sampler):
    """The sampler of a DataLoader over an IterableDataset, as PyTorch's: None, forever (the
    stream decides what comes)."""

    def __iter__(self):
        return itertools.repeat(None)


class _BaseDataLoaderIter:
    """One pass over a DataLoader, what ``iter(loader)`` returns (PyTorch's ``_BaseDataLoaderIter``).

    ``loader`` may be any object with the attributes PyTorch's iterator reads (``dataset``,
    ``_dataset_kind``, ``_auto_collation``, ``_index_sampler``, ``collate_fn``, ``drop_last``,
    ``generator``, ``num_workers``, ``timeout``, ``pin_memory``...), as fastai's loader, which drives
    these classes itself. Making one iterates the index sampler, then draws the epoch's base seed from
    the loader's generator (or the global one), in PyTorch's order, whatever ``num_workers`` (a
    sampler that draws its order when ``iter()`` is called draws it first);
    ``len()`` is the index sampler's. Past the stream length ``len(loader)`` had read
    (``_IterableDataset_len_called``), each batch warns, as PyTorch's.
    """

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(
                "pin_memory_device is deprecated, the current accelerator will be used as the device,"
                f"ignore pin_memory_device='{loader.pin_memory_device}'.",
                stacklevel=5,
            )
        if loader.pin_memory and not accelerator.is_available():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device pinned memory "
                "won't be used.",
                stacklevel=5,
            )
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._gathers_batches = self._dataset_kind == DatasetKind.Map and batch_gather(
            self._dataset, self._auto_collation, self._collate_fn
        ) is not None
        self._sampler_iter = self._epoch_indices()
        self._base_seed = empty((), dtype=dtypes.int64).random_(generator=loader.generator).item()  # PyTorch's draw
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0
        self._batches = None  # this epoch's batches, an iterator

    def _epoch_indices(self):
        """An iteration of the index sampler: what the fetcher is given, one per batch (one per sample
        without a batch sampler). Batches that ``batch_gather`` gathers at once come as integer
        arrays, cut from the epoch's index array by a BatchSampler as it came (no per-sample Python loop)."""
        if not self._gathers_batches:
            return iter(self._index_sampler)
        if type(self._index_sampler).__iter__ is BatchSampler.__iter__:
            return self._index_sampler.index_arrays()
        return map(index_array, self._index_sampler)

    def _reset(self, loader, first_iter=False):
        """Start an epoch: iterate the index sampler anew (the next epoch on the same workers, with
        ``persistent_workers``, where ``DataLoader.__iter__`` calls it)."""
        self._sampler_iter = self._epoch_indices()
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def __iter__(self):
        return self

    def __next__(self):
        batch = next(self._batches)
        self._num_yielded += 1
        if (
            self._IterableDataset_len_called is not None
            and self._dataset_kind == DatasetKind.Iterable
            and self._num_yielded > self._IterableDataset_len_called
        ):
            message = (
                f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. "
            )
            if self._num_workers > 0:
                message += (
                    "For multiprocessing data-loading, this could be caused by not properly configuring the "
                    "IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples."
                )
            warnings.warn(message, stacklevel=2)
        return batch

    def __len__(self):
        return len(self._index_sampler)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """A pass loading in this process (``num_workers=0``), PyTorch's name: one fetcher
    (``DatasetKind.create_fetcher``) turns each of the index sampler's indices into a batch."""

    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError(
                f"DataLoader(timeout={self._timeout}) needs num_workers > 0: a timeout applies to waiting for "
                "worker processes (PyTorch: _SingleProcessDataLoaderIter requires timeout == 0)"
            )
        if self._num_workers != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires num_workers == 0")
        self._dataset_fetcher = DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn, self._drop_last
        )
        self._batches = map(self._dataset_fetcher.fetch, self._sampler_iter)  # a stream's end: StopIteration


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """A pass loading in ``num_workers`` worker processes, PyTorch's name (``_utils.worker.WorkerPool``).

    The loader's ``multiprocessing_context`` (None: the platform's default) starts them, each runs
    the loader's ``worker_init_fn``; with ``persistent_workers`` they serve every epoch until
    ``_shutdown_workers()`` (which Lightning calls at teardown) or the iterator is gone.
    """

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._num_workers <= 0:
            raise AssertionError("num_workers must be greater than 0 for MultiProcessingDataLoaderIter")
        if self._prefetch_factor <= 0:
            raise AssertionError(
                f"prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter, got "
                f"{self._prefetch_factor}: each worker needs a batch to load"
            )
        fetching = (self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn, self._drop_last)
        self._pool = WorkerPool(
            fetching,
            self._base_seed,
            loader.worker_init_fn,
            num_workers=self._num_workers,
            context=loader.multiprocessing_context or multiprocessing.get_context(),
            prefetch_factor=self._prefetch_factor,
            timeout=self._timeout,
            in_order=self._in_order,
        )
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        """Start an epoch on the workers; an unfinished one is dropped."""
        super()._reset(loader, first_iter)
        if self._batches is not None:
            self._batches.close()
        self._batches = self._pool.batches(self._sampler_iter, shutdown_at_end=not self._persistent_workers)

    def _shutdown_workers(self):
        """Stop the worker processes now (once; the iterator then ends), as PyTorch's."""
        self._batches.close()
        self._pool.shutdown()
