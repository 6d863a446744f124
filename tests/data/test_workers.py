"""DataLoader(num_workers=N): real worker processes, and the batches of num_workers=0, batch for batch."""
import os

import numpy as np
import pytest
import torch

import chainrule
from chainrule.utils.data import DataLoader, Dataset, TensorDataset, get_worker_info


class SlowSquares(Dataset):
    """Samples read one by one (as from files), recording which process read each."""

    def __len__(self):
        return 23

    def __getitem__(self, index):
        info = get_worker_info()
        worker = -1 if info is None else info.id
        return chainrule.tensor([float(index), float(index) ** 2]), chainrule.tensor([os.getpid(), worker])


class Broken(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        if index == 5:
            raise KeyError(f"no sample {index}")
        return chainrule.tensor(float(index))


def epochs(loader, count=2):
    return [[tuple(part._array.copy() for part in batch) for batch in loader] for _ in range(count)]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size, drop_last", [(4, False), (5, True), (None, False)])
def test_workers_yield_the_batches_of_num_workers_0_in_order(shuffle, batch_size, drop_last):
    options = dict(batch_size=batch_size, shuffle=shuffle, drop_last=drop_last) if batch_size else dict(shuffle=shuffle)
    chainrule.manual_seed(3)
    in_process = epochs(DataLoader(SlowSquares(), **options))
    after_in_process = chainrule.rand(3).tolist()
    chainrule.manual_seed(3)
    with_workers = epochs(DataLoader(SlowSquares(), num_workers=3, **options))
    assert chainrule.rand(3).tolist() == after_in_process, "one base seed per epoch, workers or not, as PyTorch"
    assert len(with_workers[0]) == len(in_process[0])
    for epoch_in_process, epoch_with_workers in zip(in_process, with_workers):
        for (samples, _), (worker_samples, _) in zip(epoch_in_process, epoch_with_workers):
            np.testing.assert_array_equal(worker_samples, samples)
    origins = np.concatenate([origin.reshape(-1, 2) for _, origin in with_workers[0]])
    assert set(origins[:, 0]) - {os.getpid()} and not (origins[:, 0] == os.getpid()).any(), "read in other processes"
    assert set(origins[:, 1]) == {0, 1, 2}


def test_a_tensor_dataset_with_workers_matches_the_fast_path():
    X, y = chainrule.randn(50, 3), chainrule.arange(50)
    chainrule.manual_seed(0)
    in_process = epochs(DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True))
    chainrule.manual_seed(0)
    with_workers = epochs(DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, num_workers=2, prefetch_factor=1))
    for mine, theirs in zip(sum(in_process, []), sum(with_workers, [])):
        for part, worker_part in zip(mine, theirs):
            np.testing.assert_array_equal(worker_part, part)


def test_a_worker_error_is_raised_with_its_type_and_traceback():
    with pytest.raises(KeyError, match=r"(?s)Caught KeyError in DataLoader worker process 0\..*no sample 5"):
        list(DataLoader(Broken(), batch_size=2, num_workers=2))


def test_breaking_out_early_stops_the_workers():
    loader = DataLoader(SlowSquares(), batch_size=2, num_workers=2)
    for number, _ in enumerate(loader):
        if number == 1:
            break
    assert [batch[0].shape[0] for batch in loader][-1] == 1, "a new epoch starts cleanly"


def test_worker_init_fn_and_seeds_differ_per_worker_and_epoch():
    seen = []
    loader = DataLoader(SeedReporter(), batch_size=1, num_workers=2, worker_init_fn=_check_worker_id)
    for _ in range(2):
        seen.append([batch.item() for batch in loader])
    assert len(set(seen[0])) == 2 and set(seen[0]).isdisjoint(seen[1])


class SeedReporter(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, index):
        return chainrule.tensor(get_worker_info().seed % 10**9)


def _check_worker_id(worker_id):
    assert get_worker_info().id == worker_id


def test_worker_options_are_checked_as_pytorch():
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(SlowSquares(), prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(SlowSquares(), persistent_workers=True)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(SlowSquares(), timeout=-1)


def worker_shares(lib, sizes):
    """PyTorch's documented pattern: each worker reads its own share of the stream (``sizes[id]``)."""

    class WorkerShares(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            worker = 0 if info is None else info.id
            start = sum(sizes[:worker])
            return iter(range(start, start + sizes[worker]))

    return WorkerShares()


@pytest.mark.parametrize(
    "sizes, batch_size, drop_last",
    [((4, 4), 2, False), ((6, 1), 2, False), ((5, 3), 2, True), ((3, 0, 2), 1, False), ((5, 2), None, False)],
)
def test_a_stream_read_by_workers_comes_in_pytorchs_order(sizes, batch_size, drop_last):
    """Each worker reads its own copy; batches come from the workers in turn, an ended one leaving the turn."""
    options = dict(batch_size=batch_size, num_workers=len(sizes), drop_last=drop_last)
    ours, theirs = (
        [getattr(batch, "tolist", lambda: batch)() for batch in lib.utils.data.DataLoader(worker_shares(lib, sizes), **options)]
        for lib in (chainrule, torch)
    )
    assert ours == theirs
