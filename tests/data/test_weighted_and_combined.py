"""WeightedRandomSampler, IterableDataset / ChainDataset and StackDataset, against PyTorch's
behaviour: lengths, frequencies, seeding, errors, and DataLoader batches."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.utils.data import (
    ChainDataset,
    DataLoader,
    IterableDataset,
    StackDataset,
    TensorDataset,
    WeightedRandomSampler,
)
from tests.nn.pairs import error_of


def test_weighted_sampler_draws_in_proportion_to_the_weights():
    sampler = WeightedRandomSampler([1.0, 0.0, 3.0], 8000, generator=chainrule.Generator().manual_seed(0))
    counts = np.bincount(list(sampler), minlength=3)
    assert len(sampler) == 8000 and counts[1] == 0
    assert abs(counts[2] / counts[0] - 3) < 0.3


def test_weighted_sampler_without_replacement_and_seeding():
    sampler = WeightedRandomSampler(chainrule.tensor([1.0, 2.0, 3.0, 4.0]), 4, replacement=False)
    chainrule.manual_seed(1)
    first = list(sampler)
    chainrule.manual_seed(1)
    assert sorted(first) == [0, 1, 2, 3] and list(sampler) == first
    assert sampler.weights.dtype == chainrule.float64


def test_weighted_sampler_errors_are_pytorchs():
    for arguments in [([1.0, 2.0], 0), ([1.0, 2.0], 2, "yes"), ([[1.0, 2.0]], 2)]:
        ours = error_of(lambda: WeightedRandomSampler(*arguments))
        theirs = error_of(lambda: torch.utils.data.WeightedRandomSampler(*arguments))
        assert ours == theirs


def test_weighted_sampler_in_a_data_loader():
    dataset = TensorDataset(chainrule.arange(6.0))
    loader = DataLoader(dataset, batch_size=4, sampler=WeightedRandomSampler([0, 0, 0, 0, 0, 1.0], 8))
    assert [batch[0].tolist() for batch in loader] == [[5.0] * 4, [5.0] * 4]


class Counter(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_chain_dataset_reads_the_streams_in_turn():
    chained = ChainDataset([Counter(0, 3), Counter(10, 12)])
    assert list(chained) == [0, 1, 2, 10, 11] and len(chained) == 5
    assert list(Counter(0, 2) + Counter(5, 6)) == [0, 1, 5]
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([[1, 2]]))


def test_stack_dataset_as_tuples_and_dicts():
    images, labels = chainrule.arange(6.0).reshape(3, 2), [7, 8, 9]
    assert StackDataset(images, labels)[1][1] == 8
    sample = StackDataset(image=images, label=labels)[2]
    assert sample["image"].tolist() == [4.0, 5.0] and sample["label"] == 9
    batch = next(iter(DataLoader(StackDataset(image=images, label=labels), batch_size=3)))
    assert batch["image"].shape == (3, 2) and batch["label"].tolist() == [7, 8, 9]
    expected = [
        (ValueError, "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like input/output, but both types are given."),
        (ValueError, "At least one dataset should be passed"),
        (ValueError, "Size mismatch between datasets"),
    ]
    for lib in (chainrule, torch):
        stack = lib.utils.data.StackDataset
        assert [error_of(lambda: stack([1], b=[2])), error_of(lambda: stack()), error_of(lambda: stack([1], [1, 2]))] == expected


def stream(lib, stop):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(stop))

    return Stream()


@pytest.mark.parametrize("options", [{"batch_size": 2}, {"batch_size": 2, "drop_last": True}, {"batch_size": None}])
def test_data_loader_reads_an_iterable_dataset_as_pytorch(options):
    ours = [batch.tolist() if hasattr(batch, "tolist") else batch for batch in DataLoader(stream(chainrule, 5), **options)]
    theirs = [batch.tolist() if hasattr(batch, "tolist") else batch for batch in torch.utils.data.DataLoader(stream(torch, 5), **options)]
    assert ours == theirs
    chained = DataLoader(ChainDataset([Counter(0, 3), Counter(10, 12)]), batch_size=3)
    assert [batch.tolist() for batch in chained] == [[0, 1, 2], [10, 11]] and len(chained) == 2


def test_data_loader_refuses_ordering_options_for_streams():
    for options in [{"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}]:
        ours = error_of(lambda: DataLoader(stream(chainrule, 3), **options))
        theirs = error_of(lambda: torch.utils.data.DataLoader(stream(torch, 3), **options))
        assert ours == theirs
