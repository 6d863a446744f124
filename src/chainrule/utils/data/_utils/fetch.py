"""What a DataLoader does to make a batch, in any process: ``Fetcher`` for one task (an index or a
batch of indices), ``stream_batches`` for a stream (an IterableDataset)."""
import itertools

from chainrule.backend import xp
from chainrule.utils.data._utils.collate import is_unchanged_default_collate
from chainrule.utils.data.dataset import batch_gatherer


class Fetcher:
    """Turns a task into what the loader yields: ``collate_fn(dataset[index])`` for one sample, or
    ``collate_fn([dataset[i] for i in indices])`` for a batch: one indexing per tensor for an
    integer array of indices into a TensorDataset with ``default_collate`` as it came (nothing
    registered in its map), ``dataset.__getitems__(indices)`` where defined.
    """

    def __init__(self, dataset, collate_fn, batched):
        self.dataset = dataset
        self.collate_fn = collate_fn
        self.batched = batched
        self.gather = batch_gatherer(dataset) if batched and is_unchanged_default_collate(collate_fn) else None

    def __call__(self, task):
        if not self.batched:
            return self.collate_fn(self.dataset[task])
        if self.gather is not None and isinstance(task, xp.ndarray):  # else a batch of non-integer indices
            return self.gather(task)
        read_many = getattr(self.dataset, "__getitems__", None)
        samples = read_many(task) if read_many is not None else [self.dataset[index] for index in task]
        return self.collate_fn(samples)


def stream_batches(dataset, batch_size, drop_last, collate_fn):
    """The batches of the stream ``dataset``: its samples in its own order, grouped ``batch_size``
    at a time (one by one for ``batch_size=None``), each group passed through ``collate_fn``; a
    last, short group dropped with ``drop_last``."""
    samples = iter(dataset)
    if batch_size is None:
        yield from map(collate_fn, samples)
        return
    while True:
        batch = list(itertools.islice(samples, batch_size))
        if not batch or (drop_last and len(batch) < batch_size):
            return
        yield collate_fn(batch)
