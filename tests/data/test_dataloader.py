"""DataLoader, samplers and default_collate against torch.utils.data."""
import collections

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule
from chainrule.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    default_convert,
)


def as_plain(value):
    """A batch with tensors replaced by (dtype name, values), comparable across the two libraries."""
    if isinstance(value, (chainrule.Tensor, torch.Tensor)):
        array = value._array if isinstance(value, chainrule.Tensor) else value.numpy()
        return ("tensor", str(value.dtype).split(".")[-1], array.tolist())
    if isinstance(value, dict):
        return {key: as_plain(item) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, [as_plain(item) for item in value])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [as_plain(item) for item in value])
    return value


def both(make_sample):
    """The same samples for each library (tensors made by that library)."""
    return [make_sample(chainrule, index) for index in range(3)], [make_sample(torch, index) for index in range(3)]


Point = collections.namedtuple("Point", "x y")

SAMPLES = {
    "tensors": lambda lib, i: lib.tensor([[i, 2.0 * i]]),
    "int_tensors": lambda lib, i: lib.tensor(i),
    "python_floats": lambda lib, i: 0.5 * i,
    "python_ints": lambda lib, i: i,
    "python_bools": lambda lib, i: i % 2 == 0,
    "numpy_arrays": lambda lib, i: np.full((2, 2), i, dtype=np.float32),
    "numpy_int_arrays": lambda lib, i: np.arange(3, dtype=np.int32) + i,
    "numpy_scalars": lambda lib, i: np.float64(i) / 4,
    "numpy_int_scalars": lambda lib, i: np.int16(i),
    "strings": lambda lib, i: f"sample {i}",
    "tuple": lambda lib, i: (lib.tensor([float(i)]), i),
    "list": lambda lib, i: [np.float32(i), "label", 1.5],
    "dict": lambda lib, i: {"image": np.ones(3, dtype=np.float64) * i, "label": i, "name": str(i)},
    "nested": lambda lib, i: {"pair": (i, [0.5, lib.tensor([i, i])]), "meta": {"id": i}},
    "namedtuple": lambda lib, i: Point(float(i), lib.tensor([i])),
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_default_collate_matches_torch(kind):
    ours, theirs = both(SAMPLES[kind])
    assert as_plain(default_collate(ours)) == as_plain(torch.utils.data.default_collate(theirs))


@pytest.mark.parametrize("kind", SAMPLES)
def test_default_convert_matches_torch(kind):
    ours, theirs = both(SAMPLES[kind])
    assert as_plain(default_convert(ours[1])) == as_plain(torch.utils.data.default_convert(theirs[1]))


def test_default_collate_refuses_what_torch_refuses():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])


def make_data(lib, samples=10):
    inputs = np.arange(samples * 3, dtype=np.float32).reshape(samples, 3)
    return lib.utils.data.TensorDataset(lib.tensor(inputs), lib.tensor(np.arange(samples)))


@settings(max_examples=15, deadline=None)
@given(samples=st.integers(1, 23), batch_size=st.integers(1, 8), drop_last=st.booleans())
def test_batches_and_length_match_torch(samples, batch_size, drop_last):
    ours = DataLoader(make_data(chainrule, samples), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(make_data(torch, samples), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    our_batches, their_batches = list(ours), list(theirs)
    assert len(our_batches) == len(ours)
    assert as_plain(our_batches) == as_plain(their_batches)


class Squares(Dataset):
    """A map-style dataset of (x, x^2, name) samples, read one by one."""

    def __len__(self):
        return 7

    def __getitem__(self, index):
        return float(index), np.array([index * index]), f"n{index}"


def test_a_custom_dataset_is_collated_like_torch():
    class TorchSquares(torch.utils.data.Dataset):
        __len__ = Squares.__len__
        __getitem__ = Squares.__getitem__

    ours = list(DataLoader(Squares(), batch_size=3))
    theirs = list(torch.utils.data.DataLoader(TorchSquares(), batch_size=3))
    assert as_plain(ours) == as_plain(theirs)


def test_the_fast_path_gives_what_default_collate_gives():
    dataset = make_data(chainrule, 13)
    fast = list(DataLoader(dataset, batch_size=4))
    slow = list(DataLoader(dataset, batch_size=4, collate_fn=default_collate))
    assert as_plain(fast) == as_plain(slow)
    subset = chainrule.utils.data.Subset(dataset, [12, 0, 5, 7])
    assert as_plain(list(DataLoader(subset, batch_size=3))) == as_plain(
        list(DataLoader(subset, batch_size=3, collate_fn=default_collate))
    )


def test_a_subclass_that_overrides_getitem_is_read_sample_by_sample():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            inputs, targets = super().__getitem__(index)
            return inputs * 2, targets

    inputs, targets = next(iter(DataLoader(Doubled(chainrule.ones(4, 2), chainrule.arange(4)), batch_size=4)))
    assert inputs.tolist() == [[2.0, 2.0]] * 4 and targets.tolist() == [0, 1, 2, 3]


def epoch_labels(loader):
    return [targets.tolist() for _, targets in loader]


def test_shuffling_is_reproducible_with_manual_seed():
    loader = DataLoader(make_data(chainrule, 20), batch_size=6, shuffle=True)
    chainrule.manual_seed(3)
    first, second = epoch_labels(loader), epoch_labels(loader)
    chainrule.manual_seed(3)
    assert epoch_labels(loader) == first and epoch_labels(loader) == second
    assert first != second, "each epoch should have its own order"
    for epoch in (first, second):
        labels = sum(epoch, [])
        assert sorted(labels) == list(range(20)) and labels != list(range(20))


def test_shuffling_with_a_generator_ignores_the_global_seed():
    def run(seed):
        chainrule.manual_seed(seed)
        generator = chainrule.Generator().manual_seed(7)
        return epoch_labels(DataLoader(make_data(chainrule, 20), batch_size=5, shuffle=True, generator=generator))

    assert run(0) == run(1)
    other = chainrule.Generator().manual_seed(8)
    assert epoch_labels(DataLoader(make_data(chainrule, 20), batch_size=5, shuffle=True, generator=other)) != run(0)


def test_samplers():
    data = list(range(10))
    assert list(SequentialSampler(data)) == data
    generator = chainrule.Generator().manual_seed(0)
    assert sorted(RandomSampler(data, generator=generator)) == data
    drawn = list(RandomSampler(data, replacement=True, num_samples=25, generator=generator))
    assert len(drawn) == 25 and set(drawn) <= set(data)
    longer = list(RandomSampler(data, num_samples=23, generator=generator))
    assert len(longer) == 23 and sorted(longer[:10]) == data and sorted(longer[10:20]) == data
    assert sorted(SubsetRandomSampler([3, 5, 9], generator=generator)) == [3, 5, 9]
    assert list(BatchSampler(SequentialSampler(data), 4, drop_last=False)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert list(BatchSampler(range(10), 4, drop_last=True)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(BatchSampler(data, 4, drop_last=False)) == 3 and len(BatchSampler(data, 4, drop_last=True)) == 2


def test_custom_sampler_and_batch_sampler_like_torch():
    order = [9, 2, 4, 4, 0]
    ours = DataLoader(make_data(chainrule), batch_size=2, sampler=order)
    theirs = torch.utils.data.DataLoader(make_data(torch), batch_size=2, sampler=order)
    assert as_plain(list(ours)) == as_plain(list(theirs)) and len(ours) == len(theirs) == 3
    batches = [[1, 2], [8], [3, 3, 0]]
    ours = DataLoader(make_data(chainrule), batch_sampler=batches)
    theirs = torch.utils.data.DataLoader(make_data(torch), batch_sampler=batches)
    assert as_plain(list(ours)) == as_plain(list(theirs)) and len(ours) == 3


def test_batch_size_none_yields_converted_samples_like_torch():
    ours = list(DataLoader(Squares(), batch_size=None))
    theirs = list(torch.utils.data.DataLoader(Squares(), batch_size=None))
    assert len(ours) == 7 and as_plain(ours) == as_plain(theirs)


def test_getitems_reads_a_batch_at_once():
    class Batched(Dataset):
        def __len__(self):
            return 5

        def __getitems__(self, indices):
            return [(index, -index) for index in indices]

    first, second = next(iter(DataLoader(Batched(), batch_size=3)))
    assert first.tolist() == [0, 1, 2] and second.tolist() == [0, -1, -2]


def test_workers_run_in_process():
    loader = DataLoader(make_data(chainrule), batch_size=4, num_workers=2, pin_memory=True)
    assert as_plain(list(loader)) == as_plain(list(DataLoader(make_data(chainrule), batch_size=4)))


def test_tensors_that_require_grad_keep_their_graph():
    weights = chainrule.ones(4, 2, requires_grad=True)
    (batch,) = next(iter(DataLoader(TensorDataset(weights), batch_size=2)))
    assert batch.requires_grad
    batch.backward(chainrule.ones(2, 2))
    assert weights.grad.tolist() == [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(shuffle=True, sampler=[0, 1]), "mutually exclusive with shuffle"),
        (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
        (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
        (dict(batch_size=None, drop_last=True), "disables auto-batching"),
        (dict(batch_size=0), "batch_size should be a positive integer value"),
        (dict(num_workers=-1), "num_workers option should be non-negative"),
    ],
)
def test_bad_options_raise_value_error(options, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(make_data(chainrule), **options)


def test_samples_of_different_shapes_raise_like_torch_stack():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[3\] at entry 0 and \[2\] at entry 1"):
        default_collate([chainrule.zeros(3), chainrule.zeros(2)])


def test_collate_keeps_numpy_strings_as_a_list():
    assert default_collate([np.str_("cat"), np.str_("dog")]) == ["cat", "dog"]


def test_a_batch_sampler_subclass_decides_the_batches():
    dataset = TensorDataset(chainrule.arange(5))

    class ReversedBatches(BatchSampler):
        def __iter__(self):
            return reversed(list(super().__iter__()))

    loader = DataLoader(dataset, batch_sampler=ReversedBatches(SequentialSampler(dataset), 2, False))
    assert [batch[0].tolist() for batch in loader] == [[4], [2, 3], [0, 1]]


def test_settings_fixed_after_construction_like_pytorch():
    loader = DataLoader(TensorDataset(chainrule.arange(4)), batch_size=2)
    loader.collate_fn = len
    assert list(loader) == [2, 2]
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3


def test_shuffling_an_empty_dataset_is_refused_at_construction():
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        DataLoader(TensorDataset(chainrule.zeros(0, 2)), batch_size=2, shuffle=True)


@pytest.mark.parametrize("replacement", [True, False])
def test_an_endless_random_sampler_draws_as_it_goes_the_indices_pytorch_draws(replacement):
    """minGPT's and makemore's InfiniteDataLoader: RandomSampler(num_samples=int(1e10)) must not
    draw its 10^10 indices at once; the ones it yields, alone or batched, are PyTorch's."""
    import itertools

    def first(lib, batched):
        lib.manual_seed(0)
        sampler = lib.utils.data.RandomSampler(range(10), replacement=replacement, num_samples=int(1e10))
        if not batched:
            return list(itertools.islice(iter(sampler), 70))
        loader = lib.utils.data.DataLoader(lib.arange(10), sampler=sampler, batch_size=3)
        return [batch.tolist() for batch in itertools.islice(iter(loader), 25)]

    for batched in (False, True):
        assert first(chainrule, batched) == first(torch, batched)
