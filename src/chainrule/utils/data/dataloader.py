"""DataLoader: iterate over a dataset in (shuffled) mini-batches."""
import itertools

from chainrule import dtypes
from chainrule.backend import xp
from chainrule.utils.data.collate import default_collate, default_convert
from chainrule.utils.data.dataset import IterableDataset
from chainrule.utils.data.fetch import Fetcher, stream_batches
from chainrule.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from chainrule.utils.data.worker import load_in_workers


# PyTorch refuses to change these once a loader exists: its sampler and batches were built from them.
_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset")


def _check_unspecified_for_streams(**options):
    """A stream (IterableDataset) decides its own order: PyTorch's ValueError for any ordering option."""
    for name, value in options.items():
        if value not in (None, False):
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, but got {name}={value}")


class DataLoader:
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

    ``num_workers=N`` loads batches in ``N`` worker processes (``chainrule.utils.data.worker``):
    worth it when reading or transforming a sample is slow (files, augmentation); batches of
    in-memory tensors are fastest gathered in this process, the default ``num_workers=0``. The
    batches are the same, in the same order, either way. ``worker_init_fn(worker_id)`` runs first in
    each worker, ``prefetch_factor`` (default 2) batches are loaded ahead per worker,
    ``multiprocessing_context`` picks the start method ("fork", "spawn"...; with "spawn" the dataset
    and ``collate_fn`` must pickle), a ``timeout`` > 0 raises when a batch takes longer. Workers
    start anew each epoch (``persistent_workers`` is accepted and changes nothing).
    ``pin_memory`` and ``pin_memory_device`` are accepted and change nothing (there is no GPU to
    copy to); batches always come in order, which ``in_order=False`` allows but does not require.

    An ``IterableDataset`` is read as a stream, in its own order, ``batch_size`` samples a batch
    (no shuffle, sampler or batch_sampler). With ``num_workers=N`` each worker reads its own copy of
    the stream (``get_worker_info()`` tells it which share to read, as in PyTorch) and the batches
    come from the workers in turn, a worker leaving the turn when its stream ends.
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=False,
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
                f"num_workers option should be non-negative (got {num_workers}); use num_workers=0 to "
                f"disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. Let num_workers > 0 "
                "to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            _check_unspecified_for_streams(shuffle=shuffle, sampler=sampler, batch_sampler=batch_sampler)
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
        if sampler is None:
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
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._epochs_started = 0
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in _FIXED_AFTER_INIT:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            self._epochs_started += 1
            if self.num_workers == 0:
                yield from stream_batches(self.dataset, self.batch_size, self.drop_last, self.collate_fn)
            else:
                yield from load_in_workers(self, itertools.repeat(None), epoch=self._epochs_started)
            return
        fetch = Fetcher(self.dataset, self.collate_fn, batched=self.batch_sampler is not None)
        if self.batch_sampler is None:
            tasks = iter(self.sampler)
        elif fetch.gather is not None:
            tasks = self._index_arrays()
        else:
            tasks = iter(self.batch_sampler)
        self._epochs_started += 1
        if self.num_workers == 0:
            yield from map(fetch, tasks)
        else:
            yield from load_in_workers(self, tasks, epoch=self._epochs_started)

    def _index_arrays(self):
        if type(self.batch_sampler).__iter__ is BatchSampler.__iter__:
            return self.batch_sampler.index_arrays()
        return (xp.asarray(batch, dtype=dtypes.int64) for batch in self.batch_sampler)

    def __len__(self):
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)
