"""The DataLoader iterator classes driven as fastai and Lightning drive them, against torch.utils.data:
a loader of their own (any object with the attributes PyTorch's iterators read), the fetchers of
``_DatasetKind``, ``_shutdown_workers()``, and an exit that a user's SIGTERM handler must not hang."""
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch

import chainrule

LIBRARIES = {"chainrule": chainrule, "torch": torch}


def fake_loader(lib, num_workers=0, worker_init_fn=None):
    """fastai's ``_FakeLoader`` (fastai/data/load.py), cut down: an iterable dataset of itself, whose
    stream each worker reads whole, told apart by ``get_worker_info().id``."""

    class FakeLoader:
        _IterableDataset_len_called, _auto_collation, drop_last, in_order = None, False, False, True
        _index_sampler, generator, prefetch_factor = itertools.count(), None, 2
        pin_memory, pin_memory_device, timeout, persistent_workers = False, "", 0, False
        _dataset_kind = lib.utils.data.dataloader._DatasetKind.Iterable

        def __init__(self):
            self.dataset = self
            self.num_workers = num_workers
            self.worker_init_fn = worker_init_fn

        @property
        def multiprocessing_context(self):  # fastai gives the module itself
            return (None, __import__("multiprocessing"))[self.num_workers > 0]

        def collate_fn(self, sample):
            return sample

        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            offset = 0 if info is None else 10 * info.id + self.seen_by_init
            return iter([lib.zeros(2) + offset, lib.ones(2) + offset])

    return FakeLoader()


def worker_init_reading_the_info(lib):
    def init(worker_id):
        info = lib.utils.data.get_worker_info()
        assert type(info.dataset).__name__ == "FakeLoader" and info.id == worker_id
        assert info.num_workers == info.dataset.num_workers and isinstance(info.seed, int)
        info.dataset.seen_by_init = 100  # the worker's own copy: what its stream then reads

    return init


def batches_of(iterator):
    return [batch.tolist() for batch in iterator]


def test_a_loader_of_ones_own_drives_the_single_process_iterator_like_torch():
    results = {}
    for name, lib in LIBRARIES.items():
        iterator = lib.utils.data.dataloader._SingleProcessDataLoaderIter(fake_loader(lib))
        results[name] = batches_of(iterator)
    assert results["chainrule"] == results["torch"] == [[0.0, 0.0], [1.0, 1.0]]


def test_a_loader_of_ones_own_drives_worker_processes_like_torch():
    results = {}
    for name, lib in LIBRARIES.items():
        loader = fake_loader(lib, num_workers=2, worker_init_fn=worker_init_reading_the_info(lib))
        iterator = lib.utils.data.dataloader._MultiProcessingDataLoaderIter(loader)
        results[name] = batches_of(iterator)
    assert results["chainrule"] == results["torch"] == [[100.0] * 2, [110.0] * 2, [101.0] * 2, [111.0] * 2]


@pytest.mark.parametrize("name", LIBRARIES)
def test_the_iterator_checks_the_number_of_workers_like_torch(name):
    data = LIBRARIES[name].utils.data.dataloader
    with pytest.raises(AssertionError, match="num_workers == 0"):
        data._SingleProcessDataLoaderIter(fake_loader(LIBRARIES[name], num_workers=1))
    with pytest.raises(AssertionError, match="num_workers must be greater than 0"):
        data._MultiProcessingDataLoaderIter(fake_loader(LIBRARIES[name]))


def collate(data):
    return ("collated", data)


def fetched(lib, kind, dataset, auto_collation, drop_last, indices):
    """What a fetcher gives for each of ``indices``, "end" once it raises StopIteration."""
    fetcher = lib.utils.data._DatasetKind.create_fetcher(kind, dataset, auto_collation, collate, drop_last)
    answers = []
    for index in indices:
        try:
            answers.append(fetcher.fetch(index))
        except StopIteration:
            answers.append("end")
    return type(fetcher).__name__, answers


class Squares:
    def __getitem__(self, index):
        return index * index


class SquaresReadTogether(Squares):
    def __getitems__(self, indices):
        return [("together", index) for index in indices]


@pytest.mark.parametrize(
    "kind, dataset, auto_collation, drop_last, indices",
    [
        ("Map", Squares(), False, False, [3, 1]),
        ("Map", Squares(), True, False, [[3, 1], [2]]),
        ("Map", SquaresReadTogether(), True, False, [[3, 1]]),
        ("Iterable", range(5), False, False, [None] * 6),
        ("Iterable", range(5), True, False, [[None] * 2] * 4),
        ("Iterable", range(5), True, True, [[None] * 2] * 4),
        ("Iterable", range(4), True, False, [[None] * 2] * 3 + [[None]]),
    ],
)
def test_the_fetchers_of_each_kind_of_dataset_are_torchs(kind, dataset, auto_collation, drop_last, indices):
    ours, theirs = (
        fetched(lib, getattr(lib.utils.data._DatasetKind, kind), dataset, auto_collation, drop_last, indices)
        for lib in (chainrule, torch)
    )
    assert ours == theirs
    assert chainrule.utils.data._DatasetKind.Map == 0 and chainrule.utils.data._DatasetKind.Iterable == 1
    fetchers = chainrule.utils.data._utils.fetch
    kind = chainrule.utils.data.dataloader._DatasetKind
    assert isinstance(kind.create_fetcher(0, [], False, collate, False), fetchers._MapDatasetFetcher)


@pytest.mark.parametrize("persistent", [False, True])
def test_shutdown_workers_stops_them_and_ends_the_iterator(persistent):
    """As PyTorch's, whose next() then ends, or at times still gives a batch that had arrived."""
    for lib in LIBRARIES.values():
        dataset = lib.utils.data.TensorDataset(lib.arange(10.0))
        loader = lib.utils.data.DataLoader(dataset, batch_size=2, num_workers=2, persistent_workers=persistent)
        iterator = iter(loader)
        assert next(iterator)[0].tolist() == [0.0, 1.0]
        iterator._shutdown_workers()
        iterator._shutdown_workers()  # as Lightning may, twice
        workers = iterator._workers if lib is torch else iterator._pool.workers
        assert not any(worker.is_alive() for worker in workers)
        if lib is chainrule:
            with pytest.raises(StopIteration):
                next(iterator)


class EagerBatches:
    """A batch sampler that draws its whole epoch from the global generator when ``iter()`` is called."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 3

    def __iter__(self):
        order = self.lib.randperm(8).tolist()
        return iter([order[:3], order[3:6], order[6:]])


@pytest.mark.parametrize("num_workers, persistent", [(0, False), (2, False), (2, True)])
def test_the_index_sampler_is_iterated_where_torch_iterates_it(num_workers, persistent):
    """Before the base seed is drawn, and once more when workers start an epoch, as PyTorch does: a
    sampler that draws as it is iterated gives the same orders, and leaves the same global stream."""
    results = {}
    for name, lib in LIBRARIES.items():
        lib.manual_seed(0)
        dataset = lib.utils.data.TensorDataset(lib.arange(8.0))
        loader = lib.utils.data.DataLoader(
            dataset, batch_sampler=EagerBatches(lib), num_workers=num_workers, persistent_workers=persistent
        )
        orders = [[batch[0].tolist() for batch in loader] for _ in range(2)]
        results[name] = orders, lib.rand(3).tolist()
    assert results["chainrule"] == results["torch"]


def test_persistent_workers_warn_past_a_length_read_between_epochs_like_torch():
    """The stream length ``len(loader)`` read is taken again at each epoch's reset, as PyTorch's ``_reset``."""
    counts = {}
    for name, lib in LIBRARIES.items():

        class LongerThanItSays(lib.utils.data.IterableDataset):
            def __len__(self):
                return 2

            def __iter__(self):
                return iter(range(4))

        loader = lib.utils.data.DataLoader(LongerThanItSays(), batch_size=1, num_workers=1, persistent_workers=True)
        counts[name] = []
        for _ in range(2):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                assert [batch.tolist() for batch in loader] == [[0], [1], [2], [3]]
            counts[name].append(sum("was reported to be 2" in str(warning.message) for warning in caught))
            len(loader)
    assert counts["chainrule"] == counts["torch"] == [0, 2]


def test_the_loader_gives_the_iterator_torchs_names():
    dataset = chainrule.utils.data.TensorDataset(chainrule.arange(6.0))
    loader = chainrule.utils.data.DataLoader(dataset, batch_size=4)
    assert loader._dataset_kind == chainrule.utils.data._DatasetKind.Map
    assert type(loader._get_iterator()).__name__ == "_SingleProcessDataLoaderIter"


EXIT_WITH_A_SIGTERM_HANDLER = """
import signal
import {name} as torch
from {name}.utils.data import TensorDataset, DataLoader
signal.signal(signal.SIGTERM, lambda *a: print("got SIGTERM", flush=True))
d = DataLoader(TensorDataset(torch.arange(10.)), batch_size=4, num_workers=2, persistent_workers=True)
print([b[0].tolist() for b in d]); keep = d
"""


@pytest.mark.parametrize("name", LIBRARIES)
def test_persistent_workers_end_at_exit_despite_a_users_sigterm_handler(name):
    """Lightning installs a SIGTERM handler; forked workers inherit it and would swallow the
    terminate() that ends them at interpreter exit (the exit then waits forever): workers restore
    SIGTERM's default, as PyTorch's do."""
    script = textwrap.dedent(EXIT_WITH_A_SIGTERM_HANDLER.format(name=name))
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        output, errors = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the workers too: they share its process group
        process.communicate()
        pytest.fail("the interpreter did not exit: its workers ignored the SIGTERM that ends them")
    assert process.returncode == 0, errors
    assert output == "[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0]]\n"
