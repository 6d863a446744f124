"""A sweep of ``torch.utils.data`` against PyTorch (the oracle): datasets (TensorDataset,
ConcatDataset, Subset, ChainDataset, IterableDataset), ``random_split`` with exact index streams
under seeded generators, the samplers (exact index sequences), DataLoader batching / shuffling /
argument errors / attributes / warnings, ``default_collate`` and ``default_convert`` on the sample
types users feed them, ``get_worker_info`` and ``worker_init_fn`` without workers, and the
``randperm`` / ``randint`` streams shuffling draws from.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
container types, exception types or warnings. Tests marked ``xfail(strict=True, reason="BUG: ...")``
are differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data

import chainrule
import chainrule.utils.data
from tests.parity.sweep import outcome, raises_as_torch


def data(lib):
    return lib.utils.data


def plain(value):
    """A library-free description of ``value``: tensors as (dtype, shape, values), containers by type name."""
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.detach().numpy().tolist())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, [plain(each) for each in value])
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, [plain(each) for each in value])
    if isinstance(value, dict):
        return (type(value).__name__, {key: plain(each) for key, each in value.items()})
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.tolist())
    return (type(value).__name__, value)


def same_in_both(run):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert actual == expected


def generator(lib, seed):
    return lib.Generator().manual_seed(seed)


def warnings_of(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [(each.category.__name__, str(each.message)) for each in caught]


class Indices:
    """A map-style dataset whose sample i is i: batches show the order a loader visits."""

    def __init__(self, size):
        self.size = size

    def __getitem__(self, index):
        if not 0 <= index < self.size:
            raise IndexError(index)
        return index

    def __len__(self):
        return self.size


def stream(lib, count, with_len=False):
    class Stream(data(lib).IterableDataset):
        def __iter__(self):
            return iter(range(count))

    if with_len:
        Stream.__len__ = lambda self: count
    return Stream()


# --- datasets ---------------------------------------------------------------------------------


def test_tensordataset_samples_slices_and_len():
    def run(lib):
        ds = data(lib).TensorDataset(lib.arange(12.0).reshape(4, 3), lib.tensor([0, 1, 0, 1]))
        return [len(ds), ds[2], ds[-1], ds[1:3]]

    same_in_both(run)


@pytest.mark.parametrize("shapes", [[(3, 2), (4,)], [(3,), (2, 3)]])
def test_tensordataset_mismatched_sizes_raise(shapes):
    raises_as_torch(lambda lib: data(lib).TensorDataset(*[lib.zeros(shape) for shape in shapes]))


def test_tensordataset_zero_dim_raises_index_error():
    raises_as_torch(lambda lib: data(lib).TensorDataset(lib.tensor(1.0)))


def test_concatdataset_indexing_negative_and_cumulative_sizes():
    def run(lib):
        ds = data(lib).ConcatDataset([Indices(3), [10, 11], Indices(0), [20, 21, 22]])
        added = data(lib).TensorDataset(lib.arange(3)) + data(lib).TensorDataset(lib.arange(10, 12))
        return [ds.cumulative_sizes, len(ds), [ds[i] for i in range(-8, 8)], type(added).__name__, len(added), added[3], added[-1]]

    same_in_both(run)


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: data(lib).ConcatDataset([]),
        lambda lib: data(lib).ConcatDataset([Indices(3), [1, 2]])[5],
        lambda lib: data(lib).ConcatDataset([Indices(3), [1, 2]])[-6],
    ],
    ids=["empty", "past_end", "negative_past_start"],
)
def test_concatdataset_errors(build):
    raises_as_torch(build)


def test_concatdataset_refuses_iterable_dataset():
    raises_as_torch(lambda lib: data(lib).ConcatDataset([Indices(2), stream(lib, 3, with_len=True)]))


def test_subset_indexing_lists_and_getitems():
    def run(lib):
        base = data(lib).TensorDataset(lib.arange(10) * 10)
        sub = data(lib).Subset(base, [7, 2, 5])
        nested = data(lib).Subset(sub, [2, 0])
        return [len(sub), sub[0], sub[-1], sub.__getitems__([2, 0]), len(nested), nested[0], nested.indices]

    same_in_both(run)


def test_iterable_dataset_is_abstract():
    raises_as_torch(lambda lib: data(lib).IterableDataset())


def test_base_classes_not_implemented():
    raises_as_torch(lambda lib: data(lib).Dataset()[0])
    raises_as_torch(lambda lib: len(data(lib).Dataset()))
    raises_as_torch(lambda lib: iter(data(lib).Sampler()))


def test_chaindataset_iteration_len_and_plus():
    def run(lib):
        chain = data(lib).ChainDataset([stream(lib, 3, True), stream(lib, 2, True)])
        added = stream(lib, 2) + stream(lib, 1)
        return [list(chain), len(chain), type(added).__name__, list(added)]

    same_in_both(run)
    raises_as_torch(lambda lib: list(data(lib).ChainDataset([stream(lib, 2), Indices(2)])))
    raises_as_torch(lambda lib: len(data(lib).ChainDataset([Indices(2)])))


# --- random_split -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, lengths",
    [(10, [3, 7]), (10, [0.3, 0.7]), (10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]), (7, [1 / 3] * 3), (100, [80, 10, 10]), (5, [5, 0])],
)
@pytest.mark.parametrize("seed", [0, 42])
def test_random_split_indices_with_generator(size, lengths, seed):
    def run(lib):
        parts = data(lib).random_split(Indices(size), lengths, generator=generator(lib, seed))
        return [[type(part).__name__, len(part), list(part.indices)] for part in parts]

    same_in_both(run)


def test_random_split_global_generator():
    def run(lib):
        lib.manual_seed(3)
        first = [part.indices for part in data(lib).random_split(range(20), [0.5, 0.5])]
        second = [part.indices for part in data(lib).random_split(range(20), [15, 5])]
        third = [part.indices for part in data(lib).random_split(range(9), [4, 5], generator=lib.default_generator)]
        return [first, second, third]

    same_in_both(run)


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [1.5, -0.5], [11]])
def test_random_split_bad_lengths(lengths):
    raises_as_torch(lambda lib: data(lib).random_split(range(10), lengths))


def test_random_split_warns_on_empty_split():
    expected = warnings_of(lambda: torch.utils.data.random_split(range(2), [0.1, 0.1, 0.8]))
    actual = warnings_of(lambda: chainrule.utils.data.random_split(range(2), [0.1, 0.1, 0.8]))
    assert [category for category, _ in actual] == [category for category, _ in expected]


# --- random streams shuffling relies on -------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 5, 31, 100, 3000])
@pytest.mark.parametrize("seed", [0, 7])
def test_randperm_stream(n, seed):
    same_in_both(lambda lib: [lib.randperm(n, generator=generator(lib, seed)), lib.randperm(n)])


@pytest.mark.parametrize("high, size", [(10, (32,)), (7, (5,)), (1000, (3, 4)), (2**40, (6,))])
def test_randint_stream(high, size):
    same_in_both(lambda lib: [lib.randint(high, size, generator=generator(lib, 1)), lib.randint(0, high, size)])
    # the DataLoader's per-epoch base seed
    same_in_both(lambda lib: [lib.empty((), dtype=lib.int64).random_(generator=generator(lib, high)).item() for _ in range(2)])


# --- samplers ---------------------------------------------------------------------------------


def test_sequential_sampler():
    same_in_both(lambda lib: [list(data(lib).SequentialSampler(Indices(5))), len(data(lib).SequentialSampler(range(3)))])


@pytest.mark.parametrize(
    "replacement, num_samples, size", [(False, None, 10), (False, 25, 10), (False, 3, 10), (True, None, 10), (True, 70, 6), (True, 5, 100)]
)
@pytest.mark.parametrize("seeded", [True, False])
def test_random_sampler_sequences(replacement, num_samples, size, seeded):
    def run(lib):
        gen = generator(lib, 11) if seeded else None
        sampler = data(lib).RandomSampler(Indices(size), replacement=replacement, num_samples=num_samples, generator=gen)
        return [len(sampler), list(sampler), list(sampler)]

    same_in_both(run)


@pytest.mark.parametrize(
    "kwargs",
    [{"replacement": 1}, {"num_samples": 0}, {"num_samples": 2.0}, {"num_samples": -3}, {"num_samples": np.int64(2)}, {"size": 0}],
    ids=["replacement_int", "zero", "float", "negative", "numpy_int", "empty_dataset"],
)
def test_random_sampler_bad_arguments(kwargs):
    kwargs = dict(kwargs)
    size = kwargs.pop("size", 4)
    raises_as_torch(lambda lib: data(lib).RandomSampler(Indices(size), **kwargs))


@pytest.mark.parametrize("seeded", [True, False])
def test_subset_random_sampler_sequence(seeded):
    def run(lib):
        sampler = data(lib).SubsetRandomSampler([3, 9, 4, 1, 7, 8], generator=generator(lib, 2) if seeded else None)
        return [len(sampler), list(sampler), list(sampler)]

    same_in_both(run)


@pytest.mark.parametrize("replacement, num_samples", [(True, 20), (False, 4), (True, 1)])
def test_weighted_random_sampler_sequence(replacement, num_samples):
    def run(lib):
        sampler = data(lib).WeightedRandomSampler(
            [0.1, 0.9, 0.4, 0.7, 3.0, 0.2], num_samples, replacement=replacement, generator=generator(lib, 4)
        )
        unseeded = data(lib).WeightedRandomSampler(lib.tensor([1, 2, 3, 4]), num_samples, replacement=replacement)
        return [len(sampler), sampler.weights, list(sampler), list(sampler), list(unseeded)]

    same_in_both(run)


@pytest.mark.parametrize(
    "args",
    [([1.0, 2.0], True), ([1.0, 2.0], 0), ([[1.0, 2.0]], 2), ([1.0, 2.0], 2, 1), ([1.0, 2.0], 3, False), ([1.0, -1.0], 2), ([0.0, 0.0], 2)],
    ids=["num_samples_bool", "num_samples_zero", "weights_2d", "replacement_int", "too_many_unreplaced", "negative", "zero_sum"],
)
def test_weighted_random_sampler_bad_arguments(args):
    raises_as_torch(lambda lib: list(data(lib).WeightedRandomSampler(*args)))


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (5, False), (7, True), (1, False)])
def test_batch_sampler_lists_and_len(batch_size, drop_last):
    def run(lib):
        sampler = data(lib).BatchSampler(data(lib).SequentialSampler(range(10)), batch_size, drop_last)
        over_list = data(lib).BatchSampler([4, 2, 0], batch_size, drop_last)
        return [len(sampler), list(sampler), len(over_list), list(over_list)]

    same_in_both(run)


@pytest.mark.parametrize("args", [(0, False), (-1, False), (2.0, False), (True, False), (2, 0), (2, None)])
def test_batch_sampler_bad_arguments(args):
    raises_as_torch(lambda lib: data(lib).BatchSampler(range(4), *args))


def test_sampler_base_takes_no_arguments():
    raises_as_torch(lambda lib: data(lib).Sampler(range(3)))


# --- DataLoader -------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (10, True), (16, False), (None, False)])
def test_dataloader_sequential_batches_and_len(batch_size, drop_last):
    def run(lib):
        loader = data(lib).DataLoader(Indices(10), batch_size=batch_size, drop_last=drop_last)
        return [len(loader), list(loader), len(iter(loader))]

    same_in_both(run)


@pytest.mark.parametrize("seeded", [True, False])
@pytest.mark.parametrize("dataset", ["indices", "tensors", "subset"])
def test_dataloader_shuffle_order_and_epochs(seeded, dataset):
    def run(lib):
        if dataset == "indices":
            ds = Indices(23)
        else:
            ds = data(lib).TensorDataset(lib.arange(23), lib.arange(23, dtype=lib.float64).reshape(23, 1), lib.arange(23, dtype=lib.int32))
            if dataset == "subset":
                ds = data(lib).Subset(ds, list(range(22, -1, -1)))
        loader = data(lib).DataLoader(ds, batch_size=5, shuffle=True, generator=generator(lib, 9) if seeded else None)
        return [list(loader), list(loader)]

    same_in_both(run)


def test_dataloader_tensor_dataset_batches():
    def run(lib):
        ds = data(lib).TensorDataset(lib.arange(12.0).reshape(6, 2), lib.tensor([1, 0, 1, 1, 0, 0]))
        return [list(data(lib).DataLoader(ds, batch_size=4)), list(data(lib).DataLoader(ds, batch_size=None))]

    same_in_both(run)


def test_dataloader_collate_fn_sampler_list_and_batch_sampler():
    def run(lib):
        ds = Indices(6)
        custom = list(data(lib).DataLoader(ds, batch_size=4, collate_fn=lambda batch: sum(batch)))
        with_list = list(data(lib).DataLoader(ds, batch_size=2, sampler=[5, 0, 3]))
        batched = data(lib).DataLoader(ds, batch_sampler=[[1, 2], [5], [0, 3, 4]])
        return [custom, with_list, len(batched), list(batched), batched.batch_size, batched.drop_last]

    same_in_both(run)


def test_dataloader_getitems_is_used():
    def run(lib):
        class Batched(Indices):
            def __getitems__(self, indices):
                return [index * 100 for index in indices]

        return list(data(lib).DataLoader(Batched(5), batch_size=2))

    same_in_both(run)


def test_dataloader_dict_and_numpy_samples():
    def run(lib):
        class Records(Indices):
            def __getitem__(self, index):
                return {"x": np.full(2, index, dtype=np.float32), "y": index, "w": 0.5 * index, "name": f"s{index}"}

        return list(data(lib).DataLoader(Records(5), batch_size=2))

    same_in_both(run)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": -2},
        {"shuffle": True, "sampler": [0, 1]},
        {"batch_sampler": [[0]], "batch_size": 2},
        {"batch_sampler": [[0]], "shuffle": True},
        {"batch_sampler": [[0]], "drop_last": True},
        {"batch_sampler": [[0]], "sampler": [0]},
        {"batch_size": None, "drop_last": True},
        {"num_workers": -1},
        {"timeout": -1},
        {"prefetch_factor": 2},
        {"persistent_workers": True},
        {"multiprocessing_context": "fork"},
    ],
    ids=lambda kwargs: "-".join(f"{key}={value}" for key, value in kwargs.items()),
)
def test_dataloader_bad_arguments(kwargs):
    raises_as_torch(lambda lib: data(lib).DataLoader(Indices(4), **kwargs))


@pytest.mark.parametrize("name", ["batch_size", "sampler", "batch_sampler", "drop_last", "dataset"])
def test_dataloader_fixed_attributes(name):
    def run(lib):
        loader = data(lib).DataLoader(Indices(4))
        setattr(loader, name, getattr(loader, name))

    raises_as_torch(run)


def test_dataloader_attributes():
    def run(lib):
        loader = data(lib).DataLoader(Indices(4), batch_size=2, shuffle=True)
        single = data(lib).DataLoader(Indices(4), batch_size=None)
        return [
            type(loader.sampler).__name__,
            type(loader.batch_sampler).__name__,
            loader.collate_fn.__name__,
            single.collate_fn.__name__,
            single.batch_sampler,
            loader.prefetch_factor,
            loader.num_workers,
            loader.pin_memory,
            loader.timeout,
            loader.generator,
            loader.persistent_workers,
            loader.batch_sampler.batch_size,
            loader.batch_sampler.drop_last,
        ]

    same_in_both(run)
    assert chainrule.utils.data.DataLoader(Indices(2)).collate_fn is chainrule.utils.data.default_collate
    assert torch.utils.data.DataLoader(Indices(2)).collate_fn is torch.utils.data.default_collate


def test_pin_memory_on_cpu_warns_and_still_yields():
    expected = warnings_of(lambda: list(torch.utils.data.DataLoader(Indices(3), pin_memory=True)))
    actual = warnings_of(lambda: list(chainrule.utils.data.DataLoader(Indices(3), pin_memory=True)))
    assert actual == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_in_both(lambda lib: [list(data(lib).DataLoader(Indices(3), batch_size=2, pin_memory=True))])


def test_worker_init_fn_not_called_without_workers_and_no_worker_info():
    def run(lib):
        calls = []
        loader = data(lib).DataLoader(Indices(3), worker_init_fn=calls.append)
        batches = list(loader)
        return [calls, batches, data(lib).get_worker_info()]

    same_in_both(run)


# --- DataLoader over an IterableDataset -------------------------------------------------------


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False), (20, False), (20, True)])
def test_dataloader_iterable_batches(batch_size, drop_last):
    same_in_both(lambda lib: list(data(lib).DataLoader(stream(lib, 10), batch_size=batch_size, drop_last=drop_last, shuffle=False)))


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False)])
def test_dataloader_iterable_len(batch_size, drop_last):
    same_in_both(lambda lib: len(data(lib).DataLoader(stream(lib, 10, True), batch_size=batch_size, drop_last=drop_last)))
    raises_as_torch(lambda lib: len(data(lib).DataLoader(stream(lib, 10), batch_size=batch_size, drop_last=drop_last)))


@pytest.mark.parametrize(
    "kwargs", [{"shuffle": True}, {"sampler": [0, 1]}, {"batch_sampler": [[0]]}], ids=["shuffle", "sampler", "batch_sampler"]
)
def test_dataloader_iterable_refuses_ordering_options(kwargs):
    raises_as_torch(lambda lib: data(lib).DataLoader(stream(lib, 4), **kwargs))


def test_dataloader_iterable_warns_when_longer_than_len():
    def run(lib):
        class Liar(data(lib).IterableDataset):
            def __iter__(self):
                return iter(range(5))

            def __len__(self):
                return 2

        loader = data(lib).DataLoader(Liar(), batch_size=None)
        len(loader)
        list(loader)

    expected = [category for category, _ in warnings_of(lambda: run(torch))]
    actual = [category for category, _ in warnings_of(lambda: run(chainrule))]
    assert expected and actual == expected


# --- default_collate / default_convert --------------------------------------------------------

Point = collections.namedtuple("Point", "x y")

COLLATE_CASES = {
    "ints": lambda lib: [1, 2, 3],
    "floats": lambda lib: [1.0, 2.5],
    "bools": lambda lib: [True, False],
    "int_then_float": lambda lib: [1, 2.5],
    "float_then_int": lambda lib: [1.5, 2],
    "strings": lambda lib: ["a", "bc"],
    "bytes": lambda lib: [b"a", b"b"],
    "tensors_int32": lambda lib: [lib.tensor([1, 2], dtype=lib.int32), lib.tensor([3, 4], dtype=lib.int32)],
    "tensors_0d": lambda lib: [lib.tensor(1.5), lib.tensor(2.5)],
    "tensors_empty": lambda lib: [lib.zeros(0, 3), lib.zeros(0, 3)],
    "numpy_float64": lambda lib: [np.ones(2), np.zeros(2)],
    "numpy_uint8": lambda lib: [np.ones((2, 2), np.uint8), np.zeros((2, 2), np.uint8)],
    "numpy_bool": lambda lib: [np.array([True]), np.array([False])],
    "numpy_scalars_f32": lambda lib: [np.float32(1), np.float32(2)],
    "numpy_scalars_i16": lambda lib: [np.int16(1), np.int16(2)],
    "numpy_scalars_f64": lambda lib: [np.float64(1), np.float64(2)],
    "numpy_scalars_bool": lambda lib: [np.bool_(True), np.bool_(False)],
    "numpy_0d_arrays": lambda lib: [np.array(1.0, np.float32), np.array(2.0, np.float32)],
    "tuples": lambda lib: [(lib.tensor([1.0]), 0, "a"), (lib.tensor([2.0]), 1, "b")],
    "nested_lists": lambda lib: [[1, [2.0, 3]], [4, [5.0, 6]]],
    "dicts": lambda lib: [{"a": 1, "b": {"c": 1.0}}, {"a": 2, "b": {"c": 2.0}}],
    "ordered_dict": lambda lib: [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
    "namedtuples": lambda lib: [Point(1, lib.tensor(1.0)), Point(2, lib.tensor(2.0))],
    "list_of_tuples_of_dicts": lambda lib: [({"k": np.int64(1)},), ({"k": np.int64(2)},)],
}


@pytest.mark.parametrize("case", sorted(COLLATE_CASES))
def test_default_collate(case):
    same_in_both(lambda lib: data(lib).default_collate(COLLATE_CASES[case](lib)))


@pytest.mark.parametrize(
    "batch",
    [
        lambda lib: [],
        lambda lib: [[1, 2], [3]],
        lambda lib: [1j, 2j],
        lambda lib: [None, None],
        lambda lib: [np.array(["a"]), np.array(["b"])],
        lambda lib: [np.array([object()]), np.array([object()])],
        lambda lib: [lib.zeros(2), lib.zeros(3)],
        lambda lib: [{"a": 1}, {"b": 2}],
    ],
    ids=["empty", "ragged_lists", "complex", "none", "numpy_str", "numpy_object", "ragged_tensors", "dict_keys_differ"],
)
def test_default_collate_errors(batch):
    raises_as_torch(lambda lib: data(lib).default_collate(batch(lib)))


CONVERT_CASES = {
    "int": lambda lib: 3,
    "float": lambda lib: 2.5,
    "string": lambda lib: "abc",
    "numpy_array": lambda lib: np.arange(3, dtype=np.int32),
    "numpy_scalar": lambda lib: np.float32(1.5),
    "numpy_str_array": lambda lib: np.array(["a", "b"]),
    "tuple": lambda lib: (np.ones(2), 1, "x"),
    "list": lambda lib: [np.ones(1), [np.zeros(1)]],
    "dict": lambda lib: {"a": np.int64(3), "b": [1, 2]},
    "namedtuple": lambda lib: Point(np.ones(1), 2),
    "tensor": lambda lib: lib.tensor([1, 2]),
}


@pytest.mark.parametrize("case", sorted(CONVERT_CASES))
def test_default_convert(case):
    same_in_both(lambda lib: data(lib).default_convert(CONVERT_CASES[case](lib)))


def test_default_collate_int_overflow():
    raises_as_torch(lambda lib: data(lib).default_collate([2**63, 1]))


@pytest.mark.parametrize("function", ["default_collate", "default_convert"])
def test_numpy_datetime_arrays_refused(function):
    array = np.array(["2020-01-01"], "M8[D]")
    raises_as_torch(lambda lib: getattr(data(lib), function)([array, array] if function == "default_collate" else array))


def test_collate_with_custom_collate_fn_map():
    def run(lib):
        module = __import__(lib.__name__ + ".utils.data._utils.collate", fromlist=["collate"])
        fn_map = {**module.default_collate_fn_map, int: lambda batch, *, collate_fn_map=None: sum(batch)}
        return module.collate([(1, 2.0), (3, 4.0)], collate_fn_map=fn_map)

    same_in_both(run)


# --- more datasets, samplers and loaders ------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Dataset", "IterableDataset", "Subset", "ConcatDataset", "ChainDataset", "StackDataset", "Sampler", "DataLoader"]
)
def test_generic_subscript_for_type_hints(name):
    for lib in (torch, chainrule):
        class Typed(getattr(data(lib), name)[int]):
            pass

        assert issubclass(Typed, getattr(data(lib), name))


def test_dataloader_module_names():
    for name in torch.utils.data.dataloader.__all__:
        assert hasattr(chainrule.utils.data.dataloader, name), name


def test_stack_dataset():
    def run(lib):
        tuple_form = data(lib).StackDataset([1, 2], [3, 4])
        dict_form = data(lib).StackDataset(a=[1, 2], b=[3, 4])
        return [len(tuple_form), tuple_form[1], dict_form[0]]

    same_in_both(run)
    raises_as_torch(lambda lib: data(lib).StackDataset([1, 2], [3]))
    raises_as_torch(lambda lib: data(lib).StackDataset())
    raises_as_torch(lambda lib: data(lib).StackDataset([1], a=[2]))


def test_random_sampler_draws_lazily():
    def run(lib):
        sampler = data(lib).RandomSampler(range(8))
        pending = iter(sampler)
        lib.manual_seed(1)
        return list(pending)

    same_in_both(run)


def test_subset_random_sampler_tensor_indices():
    same_in_both(lambda lib: list(data(lib).SubsetRandomSampler(lib.tensor([3, 5, 7]), generator=generator(lib, 0))))


def test_dataloader_tensor_dataset_float_index():
    raises_as_torch(lambda lib: list(data(lib).DataLoader(data(lib).TensorDataset(lib.arange(5)), sampler=[1.0], batch_size=2)))


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: [(1, 2.0), (3, 4.0), (5, 6.0)],
        lambda lib: lib.arange(6).reshape(3, 2),
        lambda lib: np.arange(5, dtype=np.int32),
        lambda lib: data(lib).Subset(data(lib).TensorDataset(lib.arange(5), lib.arange(5.0)), lib.tensor([4, -1, 1])),
    ],
    ids=["list_of_tuples", "tensor", "numpy", "subset_tensor_indices"],
)
@pytest.mark.parametrize("batch_size", [2, None])
def test_dataloader_over_plain_containers(build, batch_size):
    same_in_both(lambda lib: list(data(lib).DataLoader(build(lib), batch_size=batch_size)))


def test_dataloader_errors_at_iteration_or_len():
    raises_as_torch(lambda lib: iter(data(lib).DataLoader(Indices(4), timeout=1.0)))
    raises_as_torch(lambda lib: list(data(lib).DataLoader(data(lib).TensorDataset(lib.arange(5)), sampler=[10], batch_size=2)))
    raises_as_torch(lambda lib: len(data(lib).DataLoader(range(3), sampler=iter([0, 1]))))


@pytest.mark.parametrize("kwargs", [{}, {"drop_last": True}, {"shuffle": False}])
def test_distributed_sampler_shards(kwargs):
    def run(lib):
        shards = []
        for rank in range(3):
            sampler = data(lib).DistributedSampler(range(10), num_replicas=3, rank=rank, seed=4, **kwargs)
            sampler.set_epoch(2)
            shards.append([len(sampler), list(sampler), sampler.total_size])
        return shards

    same_in_both(run)
    raises_as_torch(lambda lib: data(lib).DistributedSampler(range(10)))  # no process group
    raises_as_torch(lambda lib: data(lib).DistributedSampler(range(10), num_replicas=2, rank=2))
    raises_as_torch(lambda lib: data(lib).DistributedSampler(range(10), num_replicas=2, rank=-1))


class WorkerReport:
    """Sample i: what the worker loading it sees (its info, seeds and first random draws)."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 6

    def __getitem__(self, index):
        import random

        info = data(self.lib).get_worker_info()
        return (index, info.id, info.num_workers, info.seed, self.lib.initial_seed(), random.random(), float(np.random.rand()))


def test_workers_info_seeds_order_and_stream_sharding():
    def run(lib):
        loader = data(lib).DataLoader(WorkerReport(lib), batch_size=2, num_workers=2, generator=generator(lib, 5))
        return [list(loader), data(lib).get_worker_info()]

    same_in_both(run)

    def sharded(lib):
        class Sharded(data(lib).IterableDataset):
            def __iter__(self):
                info = data(lib).get_worker_info()
                return iter(range(info.id, 10, info.num_workers))

        return list(data(lib).DataLoader(Sharded(), batch_size=3, num_workers=2))

    same_in_both(sharded)
