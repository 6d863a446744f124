"""How a DataLoader turns what its index sampler gives (an index, or a batch of indices) into what it
yields, in any process, as ``torch.utils.data._utils.fetch``: ``_MapDatasetFetcher`` reads
``dataset[index]``, ``_IterableDatasetFetcher`` takes a stream's next samples (the index only says how
many); ``DatasetKind.create_fetcher`` makes the one for a loader's kind of dataset."""
from chainrule.backend import xp
from chainrule.utils.data._utils.collate import is_unchanged_default_collate
from chainrule.utils.data.dataset import batch_gatherer


class DatasetKind:
    """The two kinds of dataset a loader reads, PyTorch's constants: ``Map`` (``dataset[index]``) and
    ``Iterable`` (a stream, ``iter(dataset)``). A loader's ``_dataset_kind`` is one of them.
    PyTorch names it ``torch.utils.data.dataloader._DatasetKind`` (dataloader.py keeps that name)."""

    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        """The fetcher of one pass over ``dataset`` (for a stream, this makes its iterator)."""
        fetcher_type = _MapDatasetFetcher if kind == DatasetKind.Map else _IterableDatasetFetcher
        return fetcher_type(dataset, auto_collation, collate_fn, drop_last)


class _BaseDatasetFetcher:
    """What every fetcher holds: the dataset, whether indices come in batches (``auto_collation``:
    the loader has a batch sampler), the ``collate_fn`` a batch goes through, and ``drop_last``."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        raise NotImplementedError


def batch_gather(dataset, auto_collation, collate_fn):
    """The function that makes a whole batch from an integer index array with one indexing per tensor,
    or None where samples are read one by one: it exists for batches of a TensorDataset (or a Subset
    of one) collated by ``default_collate`` as it came (nobody registered a way of their own)."""
    if auto_collation and is_unchanged_default_collate(collate_fn):
        return batch_gatherer(dataset)
    return None


class _MapDatasetFetcher(_BaseDatasetFetcher):
    """``collate_fn(dataset[index])`` for one index; for a batch of indices ``collate_fn`` of
    ``dataset.__getitems__(indices)`` where defined, else of ``[dataset[i] for i in indices]``. A
    batch given as an integer array, where ``batch_gather`` finds a way, is gathered at once instead."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.gather = batch_gather(dataset, auto_collation, collate_fn)

    def fetch(self, possibly_batched_index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[possibly_batched_index])
        if self.gather is not None and isinstance(possibly_batched_index, xp.ndarray):
            return self.gather(possibly_batched_index)
        read_many = getattr(self.dataset, "__getitems__", None)
        if read_many:
            samples = read_many(possibly_batched_index)
        else:
            samples = [self.dataset[index] for index in possibly_batched_index]
        return self.collate_fn(samples)


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    """The next samples of the stream ``iter(dataset)``: as many as the batch of indices holds (the
    indices themselves unused), through ``collate_fn``; one sample for one index. Raises
    StopIteration once the stream has ended (or when a last, short batch is dropped: ``drop_last``)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        samples = []
        for _ in possibly_batched_index:
            try:
                samples.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(possibly_batched_index)):
            raise StopIteration
        return self.collate_fn(samples)
