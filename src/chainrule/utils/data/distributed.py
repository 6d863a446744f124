"""DistributedSampler: each process of a data-parallel job reads its own share of the dataset.

Every process shuffles the indices with the same seed (``seed + epoch``), so all of them hold the
same permutation; process ``rank`` of ``num_replicas`` then takes every ``num_replicas``-th index
starting at ``rank``. The shares are disjoint and, together, cover the dataset. So that they have equal
lengths, the permutation is first padded with its own first indices (or, with ``drop_last``, cut
down) to a multiple of ``num_replicas``.

The permutation is the one ``torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))``
gives, so a job partitions a dataset exactly as PyTorch's DistributedSampler would.
"""
import math

from chainrule import dtypes
from chainrule.backend import xp
from chainrule.utils.data.sampler import Sampler


class DistributedSampler(Sampler):
    """The share of ``dataset``'s indices that process ``rank`` of ``num_replicas`` trains on.

    Call ``set_epoch(epoch)`` at the start of each epoch: the order is drawn from ``seed + epoch``,
    and without it every epoch repeats the first one's order.

    Args:
        dataset: anything with ``len``.
        num_replicas: the number of processes (default: ``distributed.get_world_size()``).
        rank: this process's share (default: ``distributed.get_rank()``).
        shuffle: shuffle the indices each epoch (all processes the same way).
        seed: the shuffling seed; it must be the same on every process.
        drop_last: drop the last indices so the dataset divides evenly, rather than pad by
            repeating the first ones.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from chainrule.distributed import get_rank, get_world_size

            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def epoch_indices(self):
        count = len(self.dataset)
        if self.shuffle:
            indices = torch_randperm(count, self.seed + self.epoch)
        else:
            indices = xp.arange(count, dtype=dtypes.int64)
        if self.drop_last:
            indices = indices[: self.total_size]
        elif self.total_size > count:
            repeats = math.ceil(self.total_size / count)
            indices = xp.concatenate([indices] * repeats)[: self.total_size]
        return indices[self.rank : self.total_size : self.num_replicas]

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Shuffle the next epoch with ``seed + epoch`` (call it with the epoch number before each)."""
        self.epoch = epoch


def torch_randperm(count, seed):
    """``torch.randperm(count)`` of a CPU generator seeded with ``seed``: the same permutation.

    PyTorch's generator is the Mersenne Twister (MT19937) seeded with the low 32 bits of ``seed``;
    randperm is a Fisher-Yates shuffle that swaps position ``i`` with ``i + (draw mod (count - i))``,
    one 32-bit draw per position. NumPy's legacy ``RandomState`` is the same twister seeded the same
    way, and its full-range 32-bit integers are its raw draws.
    """
    draws = xp.random.RandomState(seed & 0xFFFFFFFF).randint(0, 2**32, size=max(count - 1, 0), dtype=xp.uint64)
    offsets = (draws % xp.arange(count, 1, -1, dtype=xp.uint64)).tolist()
    order = list(range(count))
    for position, offset in enumerate(offsets):
        other = position + offset
        order[position], order[other] = order[other], order[position]
    return xp.asarray(order, dtype=dtypes.int64)
