"""Seeds of DataLoader workers, and the worker options, against torch.utils.data.

Each ``iter(loader)`` draws a base seed from the loader's generator; worker ``i`` seeds ``random``
and the library's generator with ``base_seed + i`` and NumPy with ``_generate_state(base_seed, i)``.
The two libraries' generators differ, so their base seeds differ; what must agree is everything
derived from a base seed, and where the base seed is drawn.
"""
import dataclasses
import random
import time

import numpy as np
import pytest
import torch

import chainrule

LIBRARIES = {"chainrule": chainrule, "torch": torch}


def data_module(lib):
    return lib.utils.data


def make_generator(lib, seed):
    return lib.Generator().manual_seed(seed)


def draws(lib):
    """A dataset whose samples report the worker and what its global generators give next."""

    class Draws(lib.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            info = lib.utils.data.get_worker_info()
            return {
                "index": index,
                "id": info.id,
                "seed": info.seed,
                "num_workers": info.num_workers,
                "own_dataset": info.dataset is self,
                "numpy": float(np.random.rand()),
                "random": random.random(),
                "library": float(lib.rand(()).item()),
            }

    return Draws()


def samples(lib, **options):
    """The samples of one epoch, as plain Python values."""
    loader_options = dict(batch_size=None, num_workers=2, **options)
    return [{key: (value.item() if hasattr(value, "item") else value) for key, value in sample.items()}
            for sample in lib.utils.data.DataLoader(draws(lib), **loader_options)]


def expected_numpy_draw(base_seed, worker_id, position):
    """NumPy's ``position``-th draw in a worker seeded as PyTorch seeds it."""
    state = np.random.RandomState(torch.utils.data._utils.worker._generate_state(base_seed, worker_id))
    return state.rand(position + 1)[-1]


def test_numpy_random_augmentations_differ_across_workers_like_torch():
    def augmented(lib):
        class Aug(lib.utils.data.Dataset):
            def __len__(self):
                return 4

            def __getitem__(self, index):
                return np.random.rand()

        return [batch.tolist() for batch in lib.utils.data.DataLoader(Aug(), batch_size=2, num_workers=2)]

    for lib in (chainrule, torch):
        values = sum(augmented(lib), [])
        assert len(set(values)) == 4, f"{lib.__name__}: workers repeat NumPy's numbers: {values}"


@pytest.mark.parametrize("name", LIBRARIES)
def test_each_worker_is_seeded_from_the_base_seed_as_pytorch_does(name):
    lib = LIBRARIES[name]
    epoch = samples(lib, generator=make_generator(lib, 5))
    base_seeds = {sample["seed"] - sample["id"] for sample in epoch}
    assert len(base_seeds) == 1, "one base seed per epoch"
    (base_seed,) = base_seeds
    assert 0 <= base_seed < 2**63
    for sample in epoch:
        position = sample["index"] // 2  # worker i reads samples i, i + 2: its first, then second draw
        assert sample["num_workers"] == 2 and sample["own_dataset"] and sample["id"] == sample["index"] % 2
        assert sample["numpy"] == expected_numpy_draw(base_seed, sample["id"], position)
        expected_random = random.Random(sample["seed"])
        assert sample["random"] == [expected_random.random() for _ in range(position + 1)][-1]
        expected_library = lib.Generator().manual_seed(sample["seed"])
        assert sample["library"] == [lib.rand((), generator=expected_library).item() for _ in range(position + 1)][-1]


def test_generate_state_is_pytorchs():
    ours, theirs = chainrule.utils.data._utils.worker._generate_state, torch.utils.data._utils.worker._generate_state
    seeds = [0, 1, 2**32 - 1, 2**32, 2**62 + 12345, 2**63 - 1, 8734561298734512]
    for base_seed in seeds:
        for worker_id in (0, 1, 7, 63):
            assert ours(base_seed, worker_id) == theirs(base_seed, worker_id)


@pytest.mark.parametrize("name", LIBRARIES)
def test_seeds_repeat_with_the_generator_and_change_with_the_epoch(name):
    lib = LIBRARIES[name]
    loader = lib.utils.data.DataLoader(draws(lib), batch_size=None, num_workers=2, generator=make_generator(lib, 3))
    first, second = ([sample["numpy"] for sample in loader] for _ in range(2))
    assert first != second and len(set(first + second)) == 8
    again = lib.utils.data.DataLoader(draws(lib), batch_size=None, num_workers=2, generator=make_generator(lib, 3))
    assert [[sample["numpy"] for sample in again] for _ in range(2)] == [first, second]
    lib.manual_seed(11)
    global_first = samples(lib)
    lib.manual_seed(11)
    assert samples(lib) == global_first, "without a generator, the global seed decides"


@pytest.mark.parametrize("num_workers", [0, 2])
def test_each_iter_draws_one_base_seed_from_the_loaders_generator_like_torch(num_workers):
    def consumption(lib, persistent):
        generator = make_generator(lib, 0)
        options = dict(num_workers=num_workers, persistent_workers=persistent, generator=generator)
        loader = lib.utils.data.DataLoader(list(range(4)), batch_size=2, **options)
        lib.manual_seed(1)
        global_before = lib.rand(3).tolist()
        lib.manual_seed(1)
        drawn = []
        for _ in range(2):
            reference = make_generator(lib, 0)
            reference.set_state(generator.get_state())
            list(loader)
            after = generator.get_state()
            drawn.append(not _same_state(after, reference.get_state()))
        return drawn, lib.rand(3).tolist() == global_before

    for persistent in ([False, True] if num_workers else [False]):
        ours, theirs = consumption(chainrule, persistent), consumption(torch, persistent)
        assert ours == theirs
        assert ours[0] == ([True, not persistent]), "a persistent loader draws its base seed once"
        assert ours[1], "the global generator is untouched when the loader has its own"


def _same_state(first, second):
    if isinstance(first, torch.Tensor):
        return torch.equal(first, second)
    return chainrule.equal(first, second)


def test_without_a_generator_the_global_generator_gives_the_base_seed():
    for lib in (chainrule, torch):
        lib.manual_seed(4)
        expected = lib.rand(2).tolist()
        lib.manual_seed(4)
        list(lib.utils.data.DataLoader(list(range(4)), batch_size=2))
        assert lib.rand(2).tolist() != expected, f"{lib.__name__}: iter(loader) draws from the global generator"


def counting(lib):
    """A dataset counting, in each worker's own copy, the samples it has read (and the init calls)."""

    class Counting(lib.utils.data.Dataset):
        def __init__(self):
            self.reads = 0
            self.inits = 0

        def __len__(self):
            return 4

        def __getitem__(self, index):
            self.reads += 1
            info = lib.utils.data.get_worker_info()
            return [index, self.reads, self.inits, info.seed - info.id]

    return Counting()


def _count_init(worker_id):
    for lib in (chainrule, torch):
        info = lib.utils.data.get_worker_info()
        if info is not None:
            info.dataset.inits += 1


@pytest.mark.parametrize("persistent", [False, True])
def test_persistent_workers_keep_their_dataset_copies_and_seeds_like_torch(persistent):
    def epochs(lib):
        loader = lib.utils.data.DataLoader(
            counting(lib), batch_size=None, num_workers=2, persistent_workers=persistent, worker_init_fn=_count_init
        )
        return [[list(map(int, sample)) for sample in loader] for _ in range(3)]

    ours, theirs = epochs(chainrule), epochs(torch)
    strip_seed = lambda runs: [[sample[:3] for sample in epoch] for epoch in runs]  # noqa: E731
    assert strip_seed(ours) == strip_seed(theirs)
    for runs in (ours, theirs):
        base_seeds = [{sample[3] for sample in epoch} for epoch in runs]
        assert all(len(seeds) == 1 for seeds in base_seeds)
        assert (len(set().union(*base_seeds)) == 1) == persistent


def test_worker_init_fn_runs_after_seeding_like_torch():
    def first_draws(lib):
        class InitDraws(lib.utils.data.Dataset):
            def __len__(self):
                return 2

            def __getitem__(self, index):
                info = lib.utils.data.get_worker_info()
                return [info.seed - info.id, info.id, self.numpy_at_init, self.random_at_init]

        loader = lib.utils.data.DataLoader(InitDraws(), batch_size=None, num_workers=2, worker_init_fn=_draw_at_init)
        return [[value.item() if hasattr(value, "item") else value for value in sample] for sample in loader]

    for lib in (chainrule, torch):
        for base_seed, worker_id, numpy_draw, random_draw in first_draws(lib):
            assert numpy_draw == expected_numpy_draw(base_seed, worker_id, 0)
            assert random_draw == random.Random(base_seed + worker_id).random()


def _draw_at_init(worker_id):
    for lib in (chainrule, torch):
        info = lib.utils.data.get_worker_info()
        if info is not None:
            info.dataset.numpy_at_init = np.random.rand()
            info.dataset.random_at_init = random.random()


def test_worker_info_is_pytorchs_frozen_record():
    ours, theirs = chainrule.utils.data._utils.worker.WorkerInfo, torch.utils.data._utils.worker.WorkerInfo
    assert [field.name for field in dataclasses.fields(ours)] == [field.name for field in dataclasses.fields(theirs)]
    for info_type in (ours, theirs):
        info = info_type(id=1, num_workers=2, seed=7, dataset=None)
        assert (info.rng, info.worker_method) == (None, "multiprocessing")
        with pytest.raises(dataclasses.FrozenInstanceError):
            info.id = 3
    assert chainrule.utils.data.get_worker_info() is None


def outcome(action):
    """('ok', None) or (exception type name, message) of ``action()``."""
    try:
        action()
    except Exception as error:
        return type(error).__name__, str(error)
    return "ok", None


CONSTRUCTION = [
    dict(num_workers=1, prefetch_factor=-1),
    dict(prefetch_factor=2),
    dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="no-such-method"),
    dict(num_workers=1, multiprocessing_context=3),
    dict(timeout=-1),
    dict(persistent_workers=True),
    dict(num_workers=-1),
]


@pytest.mark.parametrize("options", CONSTRUCTION, ids=str)
def test_worker_options_are_refused_like_torch(options):
    ours, theirs = (outcome(lambda lib=lib: lib.utils.data.DataLoader(list(range(4)), **options)) for lib in (chainrule, torch))
    assert ours[0] == theirs[0] != "ok"
    key_phrase = theirs[1].split(";")[0].split(",")[0][:40]
    assert key_phrase in ours[1]


@pytest.mark.parametrize("options", [dict(timeout=1), dict(num_workers=1, prefetch_factor=0)], ids=str)
def test_options_refused_when_iterating_like_torch(options):
    for lib in (chainrule, torch):
        loader = lib.utils.data.DataLoader(list(range(4)), **options)
        with pytest.raises(AssertionError):
            iter(loader)


def test_multiprocessing_context_becomes_a_context_like_torch():
    for lib in (chainrule, torch):
        loader = lib.utils.data.DataLoader(list(range(4)), num_workers=1, multiprocessing_context="spawn")
        assert loader.multiprocessing_context.get_start_method() == "spawn"
        loader = lib.utils.data.DataLoader(list(range(4)), num_workers=1)
        assert loader.multiprocessing_context is None
        with pytest.raises(ValueError, match="persistent_workers attribute should not be set"):
            loader.persistent_workers = True


def test_a_spawned_worker_loads_the_same_batches():
    loader = chainrule.utils.data.DataLoader(
        chainrule.utils.data.TensorDataset(chainrule.arange(6)), batch_size=4, num_workers=1, multiprocessing_context="spawn"
    )
    assert [batch.tolist() for (batch,) in loader] == [[0, 1, 2, 3], [4, 5]]


def sleepy(lib, slow_index, seconds):
    class Sleepy(lib.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            if index == slow_index:
                time.sleep(seconds)
            return index

    return Sleepy()


def test_timeout_raises_like_torch():
    for lib in (chainrule, torch):
        loader = lib.utils.data.DataLoader(sleepy(lib, 0, 0.8), batch_size=None, num_workers=1, timeout=0.3)
        with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
            list(loader)


def test_in_order_false_yields_batches_as_they_are_ready_like_torch():
    for lib in (chainrule, torch):
        ordered = [int(index) for index in lib.utils.data.DataLoader(sleepy(lib, 0, 0.5), batch_size=None, num_workers=2)]
        assert ordered == [0, 1, 2, 3]
        loader = lib.utils.data.DataLoader(sleepy(lib, 0, 1.0), batch_size=None, num_workers=2, in_order=False)
        unordered = [int(index) for index in loader]
        assert sorted(unordered) == [0, 1, 2, 3] and unordered[0] != 0, lib.__name__


def test_a_loader_iterator_has_a_length_like_torch():
    for lib in (chainrule, torch):
        loader = lib.utils.data.DataLoader(list(range(10)), batch_size=4)
        iterator = iter(loader)
        assert len(iterator) == 3 and iter(iterator) is iterator
        assert next(iterator).tolist() == [0, 1, 2, 3]


def test_pin_memory_warns_without_an_accelerator_like_torch():
    for lib in (chainrule, torch):
        loader = lib.utils.data.DataLoader(list(range(4)), batch_size=2, pin_memory=True)
        with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
            batches = [batch.tolist() for batch in loader]
        assert batches == [[0, 1], [2, 3]]


def shares(lib):
    """A stream each worker reads its own share of: worker 0 five items, worker 1 two."""

    class Shares(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            return iter(range(0, 5) if info.id == 0 else range(100, 102))

    return Shares()


def test_persistent_workers_restart_streams_and_drop_an_abandoned_epoch_like_torch():
    def epochs(lib):
        loader = lib.utils.data.DataLoader(shares(lib), batch_size=2, num_workers=2, persistent_workers=True)
        runs = []
        for epoch in range(3):
            batches = []
            for batch in loader:
                batches.append(batch.tolist())
                if epoch == 1:  # abandoned after one batch: its prefetched batches must not leak into the next
                    break
            runs.append(batches)
        return runs

    ours, theirs = epochs(chainrule), epochs(torch)
    assert ours == theirs
    assert ours[0] == ours[2] == [[0, 1], [100, 101], [2, 3], [4]]
