"""DistributedSampler: the same shares as PyTorch's, for the same seed and epoch."""
import pytest
import torch as reference
from torch.utils.data.distributed import DistributedSampler as ReferenceSampler

from chainrule.utils.data import DistributedSampler
from chainrule.utils.data.distributed import torch_randperm


@pytest.mark.parametrize(
    "length, replicas, shuffle, drop_last, seed",
    [(10, 3, True, False, 0), (11, 4, True, True, 5), (11, 4, True, False, 5), (3, 5, True, False, 1),
     (3, 4, False, False, 0), (1797, 4, True, True, 42), (150, 2, False, True, 7)],
)
def test_every_share_of_every_epoch_equals_pytorchs(length, replicas, shuffle, drop_last, seed):
    for epoch in range(3):
        for rank in range(replicas):
            ours = DistributedSampler(range(length), replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            theirs = ReferenceSampler(range(length), replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_the_permutation_is_torch_randperms_for_large_seeds_too():
    for count, seed in [(0, 0), (1, 3), (1000, 2**32 + 9)]:
        generator = reference.Generator().manual_seed(seed)
        assert torch_randperm(count, seed).tolist() == reference.randperm(count, generator=generator).tolist()


def test_a_rank_outside_the_group_is_refused():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
