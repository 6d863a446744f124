"""``torch.utils.data._utils.collate``: the extensible ``collate`` and ``default_collate_fn_map``, against torch."""
import collections

import numpy as np
import pytest
import torch

import chainrule
from tests.data.test_dataloader import as_plain

LIBRARIES = (chainrule, torch)


class Interval:
    """A sample type neither library knows how to batch."""

    def __init__(self, low, high):
        self.low, self.high = low, high


def collate_interval_fn(batch, *, collate_fn_map=None):
    return ("intervals", [item.low for item in batch], [item.high for item in batch])


@pytest.fixture
def registered_interval():
    """``Interval`` registered in both libraries' ``default_collate_fn_map``, for one test."""
    for lib in LIBRARIES:
        lib.utils.data._utils.collate.default_collate_fn_map[Interval] = collate_interval_fn
    yield
    for lib in LIBRARIES:
        del lib.utils.data._utils.collate.default_collate_fn_map[Interval]


def test_the_module_has_pytorchs_names():
    module = chainrule.utils.data._utils.collate
    for name in ("collate", "default_collate", "default_convert", "default_collate_fn_map", "collate_tensor_fn",
                 "collate_numpy_array_fn", "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn",
                 "collate_str_fn", "default_collate_err_msg_format"):
        assert hasattr(module, name), name
    assert module.default_collate is chainrule.utils.data.default_collate
    assert module.default_convert is chainrule.utils.data.default_convert
    assert chainrule.utils.data._utils.worker.get_worker_info is chainrule.utils.data.get_worker_info
    ours = [getattr(key, "__name__", None) or tuple(item.__name__ for item in key) for key in module.default_collate_fn_map]
    theirs = [getattr(key, "__name__", None) or tuple(item.__name__ for item in key)
              for key in torch.utils.data._utils.collate.default_collate_fn_map]
    assert ours == theirs


def test_a_registered_type_is_collated_by_default_collate_and_the_dataloader(registered_interval):
    def batches(lib):
        samples = [{"span": Interval(index, index + 1), "label": index} for index in range(4)]
        direct = lib.utils.data.default_collate(samples[:2])
        return [as_plain(direct)] + [as_plain(batch) for batch in lib.utils.data.DataLoader(samples, batch_size=2)]

    ours, theirs = (batches(lib) for lib in LIBRARIES)
    assert ours == theirs
    spans = chainrule.utils.data.default_collate([Interval(0, 1), Interval(1, 2)])
    assert spans == ("intervals", [0, 1], [1, 2])


def test_a_registered_type_is_collated_in_worker_processes(registered_interval):
    samples = [(Interval(index, -index), index) for index in range(4)]
    ours, theirs = ([as_plain(batch) for batch in lib.utils.data.DataLoader(samples, batch_size=2, num_workers=2)]
                    for lib in LIBRARIES)
    assert ours == theirs


def test_overriding_the_tensor_entry_reaches_a_tensor_dataset():
    """A TensorDataset is gathered a batch at once only while the map is as it came."""
    module = chainrule.utils.data._utils.collate
    original = module.default_collate_fn_map[chainrule.Tensor]
    module.default_collate_fn_map[chainrule.Tensor] = lambda batch, *, collate_fn_map=None: len(batch)
    try:
        data = chainrule.utils.data.TensorDataset(chainrule.arange(5), chainrule.arange(5))
        assert list(chainrule.utils.data.DataLoader(data, batch_size=2)) == [[2, 2], [2, 2], [1, 1]]
    finally:
        module.default_collate_fn_map[chainrule.Tensor] = original
    assert [first.tolist() for first, _ in chainrule.utils.data.DataLoader(data, batch_size=2)] == [[0, 1], [2, 3], [4]]


def test_collate_with_a_map_of_ones_own_like_torch():
    def stack_tensors(lib):
        def collate_tensor(batch, *, collate_fn_map=None):
            return lib.stack(batch).sum(0)

        return {lib.Tensor: collate_tensor}

    def collated(lib):
        batch = [(lib.tensor([1.0, 2.0]), {"x": lib.tensor(3.0)}), (lib.tensor([4.0, 5.0]), {"x": lib.tensor(6.0)})]
        return as_plain(lib.utils.data._utils.collate.collate(batch, collate_fn_map=stack_tensors(lib)))

    assert collated(chainrule) == collated(torch)
    for lib in LIBRARIES:
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            lib.utils.data._utils.collate.collate([1, 2], collate_fn_map={})


def test_a_subclass_key_matches_in_the_maps_order_like_torch():
    class Celsius(float):
        pass

    for lib in LIBRARIES:
        batch = lib.utils.data.default_collate([Celsius(1.5), Celsius(2.5)])
        assert batch.dtype == lib.float64 and batch.tolist() == [1.5, 2.5]


class Tagged(collections.UserList):
    """A mutable sequence with state of its own."""

    tag = "kept"


SAMPLES = {
    "defaultdict": lambda lib, i: collections.defaultdict(list, {"x": i, "y": float(i)}),
    "ordered_dict": lambda lib, i: collections.OrderedDict([("b", i), ("a", np.int32(i))]),
    "user_list": lambda lib, i: Tagged([i, 2 * i]),
    "strings_in_tuples": lambda lib, i: (f"s{i}", i),
    "bytes": lambda lib, i: bytes([65 + i]),
    "numpy_bools": lambda lib, i: np.bool_(i % 2),
    "memmap_like_subclass": lambda lib, i: np.arange(3).view(np.matrix)[0] * i,
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_containers_keep_their_type_like_torch(kind):
    ours, theirs = ([SAMPLES[kind](lib, index) for index in range(3)] for lib in LIBRARIES)
    our_batch, their_batch = chainrule.utils.data.default_collate(ours), torch.utils.data.default_collate(theirs)
    assert container_type(our_batch) is container_type(their_batch)
    assert plain(our_batch) == plain(their_batch)
    converted = (chainrule.utils.data.default_convert(ours[1]), torch.utils.data.default_convert(theirs[1]))
    assert container_type(converted[0]) is container_type(converted[1])
    assert plain(converted[0]) == plain(converted[1])


def plain(value):
    if isinstance(value, collections.UserList):
        return (type(value).__name__, value.tag, as_plain(list(value)))
    return as_plain(value)


def container_type(value):
    return "tensor" if isinstance(value, (chainrule.Tensor, torch.Tensor)) else type(value)


def test_pin_memory_walks_a_batch_like_torch():
    for lib in LIBRARIES:
        pin = lib.utils.data._utils.pin_memory.pin_memory
        assert pin({"name": "a", "ids": (1, 2)}) == {"name": "a", "ids": (1, 2)}
        with pytest.raises(RuntimeError):  # no accelerator to pin for
            pin([lib.ones(2)])


def test_a_batch_of_a_tensor_subclass_keeps_the_subclass():
    """PyTorch's collate stacks with torch.stack, which a subclass's __torch_function__ answers."""
    names = []
    for lib in (torch, chainrule):
        class Tagged(lib.Tensor):
            pass

        samples = [lib.tensor([float(index), 1.0]).as_subclass(Tagged) for index in range(4)]
        batch = next(iter(lib.utils.data.DataLoader(samples, batch_size=2)))
        names.append((type(batch).__name__, batch.tolist()))
    assert names[0] == names[1] and names[0][0] == "Tagged"
