"""TensorDataset, Subset, ConcatDataset and random_split."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule
from chainrule.utils.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split


def test_tensor_dataset_indexes_every_tensor():
    inputs, targets = chainrule.arange(12).reshape(6, 2), chainrule.tensor([0, 1, 0, 1, 1, 0])
    dataset = TensorDataset(inputs, targets)
    assert len(dataset) == 6
    sample = dataset[4]
    assert isinstance(sample, tuple) and sample[0].tolist() == [8, 9] and sample[1].item() == 1


def test_tensor_dataset_sizes_must_match():
    with pytest.raises(AssertionError, match=r"Size mismatch.*\(5, 2\), \(4,\)"):
        TensorDataset(chainrule.zeros(5, 2), chainrule.zeros(4))
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        TensorDataset(chainrule.zeros(5), chainrule.tensor(1.0))  # as PyTorch: a 0-d tensor has no samples


def test_subset_and_concat():
    dataset = TensorDataset(chainrule.arange(10))
    subset = Subset(dataset, [7, 2, 2])
    assert len(subset) == 3 and [sample[0].item() for sample in subset] == [7, 2, 2]
    (picked,) = subset[[0, 2]]  # a list index goes to the dataset in one piece, as in PyTorch
    assert picked.tolist() == [7, 2]
    joined = dataset + subset
    assert isinstance(joined, ConcatDataset) and len(joined) == 13
    assert joined[9][0].item() == 9 and joined[10][0].item() == 7 and joined[-1][0].item() == 2
    with pytest.raises(IndexError):
        joined[13]
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        joined[-14]


def test_plain_dataset_must_define_getitem():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


@settings(max_examples=15, deadline=None)
@given(
    size=st.integers(1, 40),
    fractions=st.lists(st.integers(1, 9), min_size=1, max_size=4).map(lambda weights: [w / sum(weights) for w in weights]),
)
def test_fractional_lengths_are_sized_like_torch(size, fractions):
    if abs(sum(fractions) - 1) > 1e-12 or sum(fractions) > 1:
        fractions[-1] = 1 - sum(fractions[:-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = random_split(range(size), fractions)
        theirs = torch.utils.data.random_split(range(size), fractions)
    assert [len(part) for part in ours] == [len(part) for part in theirs]
    everything = [index for part in ours for index in part.indices]
    assert sorted(everything) == list(range(size)), "parts must be disjoint and cover the dataset"


def test_integer_lengths_and_reproducibility():
    dataset = TensorDataset(chainrule.arange(30))
    first = random_split(dataset, [20, 7, 3], generator=chainrule.Generator().manual_seed(1))
    again = random_split(dataset, [20, 7, 3], generator=chainrule.Generator().manual_seed(1))
    assert [len(part) for part in first] == [20, 7, 3]
    assert [part.indices for part in first] == [part.indices for part in again]
    assert sorted(sum((part.indices for part in first), [])) == list(range(30))
    chainrule.manual_seed(5)
    seeded = [part.indices for part in random_split(dataset, [0.5, 0.5])]
    chainrule.manual_seed(5)
    assert [part.indices for part in random_split(dataset, [0.5, 0.5])] == seeded
    assert all(isinstance(part[0][0], chainrule.Tensor) for part in first)


def test_random_split_errors_and_warnings():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match=r"Length of split at index [12] is 0"):
        random_split(range(2), [0.9, 0.05, 0.05])


def test_loading_a_split_keeps_the_fast_path_values():
    inputs = np.arange(40, dtype=np.float32).reshape(20, 2)
    dataset = TensorDataset(chainrule.tensor(inputs), chainrule.arange(20))
    train, _ = random_split(dataset, [0.75, 0.25], generator=chainrule.Generator().manual_seed(0))
    loader = chainrule.utils.data.DataLoader(train, batch_size=4)
    labels = [index for _, targets in loader for index in targets.tolist()]
    assert labels == list(train.indices)
    for batch_inputs, targets in loader:
        np.testing.assert_array_equal(batch_inputs._array, inputs[targets._array])
