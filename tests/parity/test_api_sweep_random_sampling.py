"""A sweep of the random number APIs against PyTorch (the oracle): seeding (``manual_seed``,
``seed``, ``initial_seed``), ``Generator`` (seeding, state, device, copies), the global state
(``get_rng_state`` / ``set_rng_state`` / ``fork_rng``), the factories (``rand``, ``randn``,
``randint``, ``randperm``, the ``*_like`` forms, the four ``normal`` overloads, ``bernoulli``,
``multinomial``, ``poisson``) and the in-place samplers (``uniform_``, ``normal_``,
``exponential_``, ``geometric_``, ``cauchy_``, ``log_normal_``, ``random_``, ``bernoulli_``).

chainrule claims to draw PyTorch's exact CPU stream (``src/chainrule/random.py``), so the
``same_stream`` cases compare VALUES after the same ``manual_seed`` in both libraries, and then
one more draw, to check that both streams advanced alike. ``poisson`` draws from a NumPy
generator seeded by the stream (no value parity claimed): only shapes, dtypes, determinism and
``generator=`` are checked there.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import outcome, plain, raises_as_torch


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple):
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_stream(run, seed=0, rtol=1e-6):
    """``run(lib)`` after ``lib.manual_seed(seed)``: the same dtypes, shapes and values in both
    libraries, and the next ``rand(2)`` too (both streams advanced by the same number of words)."""
    results = []
    for lib in (torch, chainrule):
        lib.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = plain(run(lib))
        results.append((value, lib.rand(2).tolist()))
    (expected, expected_next), (actual, actual_next) = results
    assert_same(actual, expected, rtol=rtol, atol=0)
    assert actual_next == expected_next, "the streams drew different numbers of words"


def shape_and_dtype(value):
    return str(value.dtype).split(".")[-1], tuple(value.shape)


# --- values: chainrule claims PyTorch's exact CPU stream ---------------------------------------

STREAM_CASES = {
    "rand_size_keyword": lambda lib: lib.rand(size=(3, 7)),
    "rand_0d": lambda lib: lib.rand(()),
    "randn_list_size": lambda lib: lib.randn([4, 5]),
    "randint_high_only": lambda lib: lib.randint(7, (20,)),
    "randint_keywords": lambda lib: lib.randint(low=-4, high=9, size=(20,)),
    "randint_int8": lambda lib: lib.randint(-128, 128, (30,), dtype=lib.int8),
    "randint_uint8": lambda lib: lib.randint(0, 256, (30,), dtype=lib.uint8),
    "randint_float64": lambda lib: lib.randint(0, 10, (30,), dtype=lib.float64),
    "randint_bool": lambda lib: lib.randint(0, 2, (30,), dtype=lib.bool),
    "randint_out_int32": lambda lib: lib.randint(0, 100, (9,), out=lib.empty(9, dtype=lib.int32)),
    "randint_like_high": lambda lib: lib.randint_like(lib.zeros(3, 4, dtype=lib.int32), 9),
    "randint_like_low_high": lambda lib: lib.randint_like(lib.zeros(3, 4), 2, 9),
    "rand_like_float64": lambda lib: lib.rand_like(lib.zeros(5, 4, dtype=lib.float64)),
    "randn_like_dtype": lambda lib: lib.randn_like(lib.zeros(20), dtype=lib.float64),
    "randperm_int32": lambda lib: lib.randperm(100, dtype=lib.int32),
    "randperm_float32": lambda lib: lib.randperm(100, dtype=lib.float32),
    "randperm_large": lambda lib: lib.randperm(70000),
    "randperm_out": lambda lib: lib.randperm(7, out=lib.empty(7, dtype=lib.int64)),
    "normal_broadcast": lambda lib: lib.normal(lib.zeros(2, 1), lib.ones(1, 3)),
    "normal_0d": lambda lib: lib.normal(lib.tensor(1.0), lib.tensor(2.0)),
    "normal_sizes_float64": lambda lib: lib.normal(1.0, 2.0, (20,), dtype=lib.float64),
    "normal_out_float64": lambda lib: lib.normal(lib.zeros(5, dtype=lib.float64), 1.0, out=lib.empty(5, dtype=lib.float64)),
    "bernoulli_p_float": lambda lib: lib.bernoulli(lib.zeros(30), 0.3),
    "bernoulli_0d": lambda lib: lib.bernoulli(lib.tensor(0.4)),
    "bernoulli__int64": lambda lib: lib.zeros(30, dtype=lib.int64).bernoulli_(0.3),
    "bernoulli__bool": lambda lib: lib.zeros(30, dtype=lib.bool).bernoulli_(0.3),
    "bernoulli__tensor_p_broadcast": lambda lib: lib.zeros(2, 3).bernoulli_(lib.tensor([0.1, 0.5, 0.9])),
    "multinomial_2d_without_replacement": lambda lib: lib.multinomial(lib.rand(4, 10), 10),
    "multinomial_2d_with_replacement": lambda lib: lib.multinomial(lib.rand(4, 10), 30, True),
    "multinomial_float16_weights": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float16), 2),
    "multinomial_method": lambda lib: lib.tensor([0.2, 0.8]).multinomial(2),
    "random__int8_full": lambda lib: lib.zeros(30, dtype=lib.int8).random_(),
    "random__int16_to": lambda lib: lib.zeros(30, dtype=lib.int16).random_(7),
    "random__float16_range": lambda lib: lib.zeros(30, dtype=lib.float16).random_(-3, 5),
    "random__int64_2_32_plus_1": lambda lib: lib.zeros(30, dtype=lib.int64).random_(0, 2**32 + 1),
    "random__float32_2_24_plus_1": lambda lib: lib.zeros(30).random_(0, 2**24 + 1),
    "geometric__int64": lambda lib: lib.zeros(20, dtype=lib.int64).geometric_(0.2),
    "exponential__float16": lambda lib: lib.zeros(20, dtype=lib.float16).exponential_(0.5),
    "uniform__float16": lambda lib: lib.zeros(20, dtype=lib.float16).uniform_(-2, 3),
    "cauchy__keywords": lambda lib: lib.zeros(20).cauchy_(median=1, sigma=2),
    "log_normal__keywords": lambda lib: lib.zeros(20).log_normal_(mean=1, std=2),
    "normal__strided_slice": lambda lib: (lambda t: (t[:, ::2].normal_(), t)[1])(lib.zeros(4, 6)),
    "randn_negative_seed": lambda lib: (lib.manual_seed(-1), lib.randn(5))[1],
}


@pytest.mark.parametrize("name", sorted(STREAM_CASES))
def test_draws_pytorchs_stream(name):
    same_stream(STREAM_CASES[name])


STREAM_EDGE_CASES = [
    pytest.param(lambda lib: lib.randn(4, 5, out=lib.empty(4, dtype=lib.float64)), id="randn_out_float64"),
    pytest.param(lambda lib: lib.rand(5, out=lib.empty(5, dtype=lib.float64)), id="rand_out_float64"),
    pytest.param(lambda lib: lib.randn(17, dtype=lib.float16), id="randn_float16_17"),
    pytest.param(lambda lib: lib.zeros(20, dtype=lib.float16).normal_(), id="normal__float16_20"),
    pytest.param(lambda lib: lib.zeros(30).random_(0, 2**25), id="random__float32_2_25"),
    pytest.param(lambda lib: lib.zeros(30).random_(0, 2**31), id="random__float32_2_31"),
    pytest.param(lambda lib: lib.zeros(4, 6).t().uniform_(), id="uniform__transposed"),
    pytest.param(lambda lib: lib.zeros(4, 6).t().normal_(), id="normal__transposed"),
]


@pytest.mark.parametrize("run", STREAM_EDGE_CASES)
def test_draws_pytorchs_stream_edge_cases(run):
    same_stream(run)


# --- shapes and dtypes --------------------------------------------------------------------------

SHAPE_CASES = {
    "rand_0d": lambda lib: lib.rand(()),
    "rand_empty": lambda lib: lib.rand(0, 3),
    "randn_float64": lambda lib: lib.randn(2, 3, dtype=lib.float64),
    "randint_default_int64": lambda lib: lib.randint(3, 10, (2,)),
    "randint_0d": lambda lib: lib.randint(0, 5, ()),
    "randint_size_list": lambda lib: lib.randint(0, 4, [2, 2]),
    "randint_float32": lambda lib: lib.randint(0, 10, (5,), dtype=lib.float32),
    "randperm_empty": lambda lib: lib.randperm(0),
    "rand_like_keeps_dtype": lambda lib: lib.rand_like(lib.zeros(2, 3, dtype=lib.float64)),
    "randint_like_keeps_dtype": lambda lib: lib.randint_like(lib.zeros(2, 3, dtype=lib.uint8), 10),
    "randint_like_dtype": lambda lib: lib.randint_like(lib.zeros(3), 5, dtype=lib.int64),
    "normal_float_tensor": lambda lib: lib.normal(2.0, lib.ones(4)),
    "normal_tensor_float": lambda lib: lib.normal(lib.ones(4, dtype=lib.float64), 3.0),
    "normal_promotes_float64": lambda lib: lib.normal(lib.zeros(3, dtype=lib.float64), lib.ones(3)),
    "normal_empty": lambda lib: lib.normal(lib.zeros(0), lib.ones(0)),
    "normal_size_keyword": lambda lib: lib.normal(mean=2.0, std=3.0, size=(2, 2)),
    "bernoulli_float64": lambda lib: lib.bernoulli(lib.full((3,), 0.5, dtype=lib.float64)),
    "multinomial_1d": lambda lib: lib.multinomial(lib.tensor([0.1, 0.2, 0.7]), 2),
    "multinomial_2d": lambda lib: lib.multinomial(lib.tensor([[0.1, 0.2, 0.7], [1.0, 1.0, 1.0]]), 3),
    "poisson_2d": lambda lib: lib.poisson(lib.full((2, 3), 4.0)),
    "poisson_float64": lambda lib: lib.poisson(lib.ones(3, dtype=lib.float64)),
    "poisson_0d": lambda lib: lib.poisson(lib.tensor(2.0)),
    "poisson_empty": lambda lib: lib.poisson(lib.zeros(0)),
    "geometric__uint8": lambda lib: lib.zeros(30, dtype=lib.uint8).geometric_(0.3),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_shape_and_dtype(name):
    run = SHAPE_CASES[name]
    torch.manual_seed(0)
    chainrule.manual_seed(0)
    assert shape_and_dtype(run(chainrule)) == shape_and_dtype(run(torch))


# --- bad arguments: PyTorch's exception types ---------------------------------------------------

ERROR_CASES = {
    "rand_negative_size": lambda lib: lib.rand(-1),
    "rand_int_dtype": lambda lib: lib.rand(3, dtype=lib.int64),
    "randn_int_dtype": lambda lib: lib.randn(3, dtype=lib.int32),
    "rand_float_size": lambda lib: lib.rand(2.5),
    "randint_low_equals_high": lambda lib: lib.randint(5, 5, (3,)),
    "randint_low_above_high": lambda lib: lib.randint(5, 2, (3,)),
    "randint_no_size": lambda lib: lib.randint(0, 5),
    "randint_uint8_out_of_bounds": lambda lib: lib.randint(0, 300, (5,), dtype=lib.uint8),
    "randint_like_low_equals_high": lambda lib: lib.randint_like(lib.zeros(4), 5, 5),
    "randperm_negative": lambda lib: lib.randperm(-1),
    "randperm_int8_too_many": lambda lib: lib.randperm(200, dtype=lib.int8),
    "rand_like_int": lambda lib: lib.rand_like(lib.zeros(3, dtype=lib.int64)),
    "randn_like_int": lambda lib: lib.randn_like(lib.zeros(3, dtype=lib.int32)),
    "normal_negative_std_tensor": lambda lib: lib.normal(lib.zeros(3), -lib.ones(3)),
    "normal_negative_std_float": lambda lib: lib.normal(0.0, -1.0, (3,)),
    "normal_tensor_mean_negative_std": lambda lib: lib.normal(lib.zeros(3), -1.0),
    "normal_mismatched_shapes": lambda lib: lib.normal(lib.zeros(2), lib.ones(3)),
    "normal_no_size": lambda lib: lib.normal(2.0, 3.0),
    "normal__negative_std": lambda lib: lib.empty(4).normal_(0, -1),
    "bernoulli_p_above_one": lambda lib: lib.bernoulli(lib.full((3,), 1.5)),
    "bernoulli_p_negative": lambda lib: lib.bernoulli(lib.full((3,), -0.5)),
    "bernoulli_float_p_above_one": lambda lib: lib.bernoulli(lib.zeros(3), 1.5),
    "bernoulli__p_above_one": lambda lib: lib.empty(5).bernoulli_(1.5),
    "bernoulli__tensor_p_above_one": lambda lib: lib.empty(3).bernoulli_(lib.full((3,), 2.0)),
    "multinomial_too_many_samples": lambda lib: lib.multinomial(lib.tensor([0.1, 0.2, 0.7]), 4),
    "multinomial_2d_too_many_samples": lambda lib: lib.multinomial(lib.ones(2, 3), 4),
    "multinomial_zero_sum": lambda lib: lib.multinomial(lib.tensor([0.0, 0.0, 0.0]), 1),
    "multinomial_zero_sum_row": lambda lib: lib.multinomial(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), 1),
    "multinomial_negative_weight": lambda lib: lib.multinomial(lib.tensor([-0.1, 0.5]), 1),
    "multinomial_nan_weight": lambda lib: lib.multinomial(lib.tensor([float("nan"), 0.5]), 1),
    "multinomial_inf_weight": lambda lib: lib.multinomial(lib.tensor([float("inf"), 0.5]), 1),
    "multinomial_3d": lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    "multinomial_0d": lambda lib: lib.multinomial(lib.tensor(1.0), 1),
    "multinomial_zero_samples": lambda lib: lib.multinomial(lib.tensor([0.5, 0.5]), 0),
    "multinomial_negative_samples": lambda lib: lib.multinomial(lib.tensor([0.5, 0.5]), -1),
    "multinomial_int_weights": lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    "poisson_negative_rate": lambda lib: lib.poisson(lib.full((3,), -1.0)),
    "poisson_int": lambda lib: lib.poisson(lib.ones(3, dtype=lib.int64)),
    "uniform__reversed": lambda lib: lib.empty(4).uniform_(2, 1),
    "uniform__int": lambda lib: lib.zeros(4, dtype=lib.int64).uniform_(),
    "exponential__int": lambda lib: lib.zeros(4, dtype=lib.int64).exponential_(),
    "geometric__p_zero": lambda lib: lib.empty(4).geometric_(0),
    "geometric__p_above_one": lambda lib: lib.empty(4).geometric_(1.5),
    "geometric__no_p": lambda lib: lib.empty(4).geometric_(),
    "cauchy__negative_sigma": lambda lib: lib.empty(4).cauchy_(0, -1),
    "cauchy__int": lambda lib: lib.zeros(4, dtype=lib.int64).cauchy_(),
    "log_normal__negative_std": lambda lib: lib.empty(4).log_normal_(0, -1),
    "log_normal__int": lambda lib: lib.zeros(4, dtype=lib.int64).log_normal_(),
    "random__reversed": lambda lib: lib.empty(6).random_(5, 2),
    "random__empty_range": lambda lib: lib.empty(6).random_(5, 5),
    "random__uint8_out_of_bounds": lambda lib: lib.zeros(6, dtype=lib.uint8).random_(0, 300),
    "random__uint8_negative_from": lambda lib: lib.zeros(6, dtype=lib.uint8).random_(-1, 5),
    "random__int8_out_of_bounds": lambda lib: lib.zeros(3, dtype=lib.int8).random_(0, 200),
    "manual_seed_too_big": lambda lib: lib.manual_seed(2**64),
    "generator_manual_seed_float": lambda lib: lib.Generator().manual_seed(3.5),
    "generator_manual_seed_str": lambda lib: lib.Generator().manual_seed("3"),
    "generator_manual_seed_too_negative": lambda lib: lib.Generator().manual_seed(-2**63 - 1),
    "generator_unknown_device": lambda lib: lib.Generator("foo"),
    "generator_set_state_wrong_size": lambda lib: lib.Generator().set_state(lib.zeros(10, dtype=lib.uint8)),
    "generator_set_state_float": lambda lib: lib.Generator().set_state(lib.zeros(5056)),
    "set_rng_state_wrong_size": lambda lib: lib.set_rng_state(lib.zeros(10, dtype=lib.uint8)),
    "set_rng_state_float": lambda lib: lib.set_rng_state(lib.zeros(5056)),
    "set_rng_state_numpy": lambda lib: lib.set_rng_state(lib.get_rng_state().numpy()),
}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_bad_arguments_raise_as_in_pytorch(name):
    raises_as_torch(ERROR_CASES[name])


ERROR_EDGE_CASES = [
    pytest.param(lambda lib: lib.empty(4).exponential_(-1), id="exponential__negative_lambda"),
    pytest.param(lambda lib: lib.empty(4).exponential_(0), id="exponential__zero_lambda"),
    pytest.param(lambda lib: lib.empty(3).exponential_(float("nan")), id="exponential__nan_lambda"),
    pytest.param(lambda lib: lib.empty(4).uniform_(0, float("inf")), id="uniform__infinite_bound"),
    pytest.param(lambda lib: lib.empty(3).uniform_(0, float("nan")), id="uniform__nan_bound"),
    pytest.param(lambda lib: lib.empty(3, dtype=lib.float16).uniform_(0, 1e6), id="uniform__float16_out_of_range"),
    pytest.param(lambda lib: lib.bernoulli(lib.tensor([float("nan")])), id="bernoulli_nan_p"),
    pytest.param(lambda lib: lib.zeros(3).bernoulli_(float("nan")), id="bernoulli__nan_p"),
    pytest.param(lambda lib: lib.zeros(3).bernoulli_(lib.full((4,), 0.1)), id="bernoulli__p_wrong_shape"),
    pytest.param(lambda lib: lib.bernoulli(lib.ones(3, dtype=lib.int64)), id="bernoulli_int_input"),
    pytest.param(lambda lib: lib.bernoulli(lib.ones(3, dtype=lib.bool)), id="bernoulli_bool_input"),
    pytest.param(lambda lib: lib.zeros(3).bernoulli_(lib.ones(3, dtype=lib.int64)), id="bernoulli__int_p"),
    pytest.param(lambda lib: lib.multinomial(lib.zeros(0), 1), id="multinomial_no_categories"),
    pytest.param(lambda lib: lib.multinomial(lib.ones(2**24 + 1), 1), id="multinomial_too_many_categories"),
    pytest.param(lambda lib: lib.poisson(lib.tensor([float("nan")])), id="poisson_nan_rate"),
    pytest.param(lambda lib: lib.randperm(5000, dtype=lib.float16), id="randperm_float16_too_many"),
    pytest.param(lambda lib: lib.zeros(3).random_(0), id="random__to_zero"),
    pytest.param(lambda lib: lib.empty(3).random_(1.5, 4.5), id="random__float_bounds"),
    pytest.param(lambda lib: lib.rand(3, generator=5), id="generator_not_a_generator"),
    pytest.param(lambda lib: lib.Generator().set_state([0] * 5056), id="generator_set_state_list"),
    pytest.param(lambda lib: lib.Generator("cuda"), id="generator_cuda_without_cuda"),
]


@pytest.mark.parametrize("run", ERROR_EDGE_CASES)
def test_bad_arguments_raise_as_in_pytorch_edge_cases(run):
    raises_as_torch(run)


# --- seeding and the global generator -----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7, -1, -5, 2**63, 2**64 - 1, True])
def test_manual_seed_returns_the_default_generator_with_that_initial_seed(seed):
    for lib in (torch, chainrule):
        generator = lib.manual_seed(seed)
        assert generator is lib.default_generator
        assert isinstance(generator, lib.Generator)
    assert chainrule.initial_seed() == torch.initial_seed()


def test_manual_seed_accepts_what_pytorch_accepts():
    for value in ["3", 3.7, 5]:
        assert chainrule.manual_seed(value).initial_seed() == torch.manual_seed(value).initial_seed()
    assert chainrule.manual_seed(chainrule.tensor(5)).initial_seed() == torch.manual_seed(torch.tensor(5)).initial_seed()


def test_seed_returns_an_int_that_becomes_the_initial_seed():
    for lib in (torch, chainrule):
        value = lib.seed()
        assert type(value) is int and 0 <= value < 2**64
        assert lib.initial_seed() == value
    torch.manual_seed(0)
    chainrule.manual_seed(0)


def test_determinism_after_manual_seed():
    def draws(lib):
        lib.manual_seed(123)
        return [lib.rand(3).tolist(), lib.randn(20).tolist(), lib.randint(0, 9, (5,)).tolist(), lib.randperm(6).tolist(),
                lib.poisson(lib.full((6,), 3.0)).tolist(), lib.rand(1).tolist()]

    first, second = draws(chainrule), draws(chainrule)
    assert first == second
    expected = draws(torch)
    assert first[:4] == expected[:4]  # poisson's values are NumPy's, not PyTorch's


def test_rng_state_is_pytorchs_bytes_and_round_trips():
    for lib in (torch, chainrule):
        lib.manual_seed(4)
        state = lib.get_rng_state()
        assert shape_and_dtype(state) == ("uint8", (5056,))
        first = lib.randn(5).tolist()
        assert lib.set_rng_state(state) is None
        assert lib.randn(5).tolist() == first
    torch.manual_seed(4)
    chainrule.manual_seed(4)
    assert chainrule.get_rng_state().numpy().tobytes() == torch.get_rng_state().numpy().tobytes()


def test_rng_state_is_a_copy():
    values = []
    for lib in (torch, chainrule):
        lib.manual_seed(2)
        lib.get_rng_state().zero_()
        values.append(lib.rand(3).tolist())
    assert values[0] == values[1]


@pytest.mark.parametrize("enabled", [True, False])
def test_fork_rng_restores_the_global_stream(enabled):
    results = []
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        with lib.random.fork_rng(enabled=enabled):
            inside = lib.rand(3).tolist()
        results.append((inside, lib.rand(3).tolist()))
    assert results[0] == results[1]
    assert (results[0][0] == results[0][1]) is enabled


def test_fork_rng_restores_even_after_an_exception_and_takes_devices():
    for lib in (torch, chainrule):
        lib.manual_seed(1)
        expected = lib.get_rng_state().numpy().tobytes()
        with pytest.raises(KeyError):
            with lib.random.fork_rng(devices=[]):
                lib.randn(50)
                raise KeyError
        assert lib.get_rng_state().numpy().tobytes() == expected


def test_random_module_names():
    for name in ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng", "default_generator"]:
        assert hasattr(chainrule.random, name), name
        assert hasattr(chainrule, name) == hasattr(torch, name), name


# --- Generator ----------------------------------------------------------------------------------


def test_a_new_generator_has_pytorchs_default_seed_and_cpu_device():
    for lib in (torch, chainrule):
        generator = lib.Generator()
        assert generator.initial_seed() == 67280421310721
        assert generator.device == lib.device("cpu") and generator.device.type == "cpu"
        assert lib.Generator("cpu").device.type == "cpu"
        assert lib.Generator(device=lib.device("cpu")).device.type == "cpu"
        assert generator.manual_seed(3) is generator


@pytest.mark.parametrize("seed", [0, -1, -2**63, 2**63, 2**64 - 1])
def test_generator_manual_seed_and_initial_seed(seed):
    assert chainrule.Generator().manual_seed(seed).initial_seed() == torch.Generator().manual_seed(seed).initial_seed()


def test_generator_seed_returns_its_initial_seed():
    for lib in (torch, chainrule):
        generator = lib.Generator()
        value = generator.seed()
        assert type(value) is int and value == generator.initial_seed()


def test_generator_state_round_trip_and_copy():
    for lib in (torch, chainrule):
        generator = lib.Generator().manual_seed(2)
        lib.rand(20, generator=generator)
        state = generator.get_state()
        assert shape_and_dtype(state) == ("uint8", (5056,))
        first = lib.randn(7, generator=generator).tolist()
        assert generator.set_state(state) is generator
        assert lib.randn(7, generator=generator).tolist() == first
        generator.get_state().zero_()  # a copy: the generator goes on
        assert lib.randn(3, generator=generator).tolist() != [0.0] * 3
    ours = chainrule.Generator().manual_seed(2)
    theirs = torch.Generator().manual_seed(2)
    chainrule.rand(20, generator=ours)
    torch.rand(20, generator=theirs)
    assert ours.get_state().numpy().tobytes() == theirs.get_state().numpy().tobytes()


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_generator_copies_keep_the_stream(how):
    results = []
    for lib in (torch, chainrule):
        generator = lib.Generator().manual_seed(4)
        lib.rand(3, generator=generator)
        clone = copy.deepcopy(generator) if how == "deepcopy" else pickle.loads(pickle.dumps(generator))
        results.append((lib.rand(3, generator=clone).tolist(), lib.rand(3, generator=generator).tolist()))
    assert results[0] == results[1]
    assert results[1][0] == results[1][1]


GENERATOR_CASES = {
    "rand": lambda lib, g: lib.rand(5, generator=g),
    "randn": lambda lib, g: lib.randn(20, generator=g),
    "randint": lambda lib, g: lib.randint(0, 100, (4,), generator=g),
    "randperm": lambda lib, g: lib.randperm(8, generator=g),
    "rand_like": lambda lib, g: lib.rand_like(lib.zeros(4), generator=g),
    "randn_like": lambda lib, g: lib.randn_like(lib.zeros(4), generator=g),
    "randint_like": lambda lib, g: lib.randint_like(lib.zeros(4), 10, generator=g),
    "normal_sizes": lambda lib, g: lib.normal(1.0, 2.0, (20,), generator=g),
    "normal_tensors": lambda lib, g: lib.normal(lib.zeros(20), lib.ones(20), generator=g),
    "bernoulli": lambda lib, g: lib.bernoulli(lib.full((6,), 0.5), generator=g),
    "multinomial": lambda lib, g: lib.multinomial(lib.tensor([0.2, 0.3, 0.5]), 2, generator=g),
    "uniform_": lambda lib, g: lib.empty(4).uniform_(generator=g),
    "normal_": lambda lib, g: lib.empty(4).normal_(generator=g),
    "exponential_": lambda lib, g: lib.empty(4).exponential_(generator=g),
    "geometric_": lambda lib, g: lib.empty(4).geometric_(0.3, generator=g),
    "cauchy_": lambda lib, g: lib.empty(4).cauchy_(generator=g),
    "log_normal_": lambda lib, g: lib.empty(4).log_normal_(generator=g),
    "random_": lambda lib, g: lib.empty(4).random_(0, 10, generator=g),
    "bernoulli_": lambda lib, g: lib.empty(6).bernoulli_(0.5, generator=g),
}


@pytest.mark.parametrize("name", sorted(GENERATOR_CASES))
def test_generator_is_honoured_and_the_global_stream_left_alone(name):
    same_stream(lambda lib: GENERATOR_CASES[name](lib, lib.Generator().manual_seed(1)))


def test_poisson_honours_its_generator():
    def draws(seed):
        generator = chainrule.Generator().manual_seed(seed)
        return chainrule.poisson(chainrule.full((8,), 5.0), generator=generator).tolist()

    chainrule.manual_seed(0)
    before = chainrule.get_rng_state().numpy().tobytes()
    assert draws(3) == draws(3)
    assert chainrule.get_rng_state().numpy().tobytes() == before


# --- results users rely on ----------------------------------------------------------------------


def test_poisson_values_are_counts():
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        assert lib.poisson(lib.zeros(3)).tolist() == [0.0, 0.0, 0.0]
        counts = lib.poisson(lib.full((200,), 3.5))
        assert bool((counts % 1 == 0).all()) and bool((counts >= 0).all())
        assert 2.5 < counts.mean().item() < 4.5


@pytest.mark.parametrize("name", ["uniform_", "normal_", "exponential_", "cauchy_", "log_normal_", "random_", "bernoulli_"])
def test_in_place_samplers_return_self(name):
    for lib in (torch, chainrule):
        tensor = lib.empty(3)
        assert getattr(tensor, name)() is tensor
    for lib in (torch, chainrule):
        tensor = lib.empty(3)
        assert tensor.geometric_(0.5) is tensor


def test_out_returns_the_out_tensor_resized():
    for lib in (torch, chainrule):
        out = lib.empty(5)
        assert lib.rand(3, out=out) is out and tuple(out.shape) == (3,)
        out = lib.empty(2, dtype=lib.int64)
        assert lib.randperm(5, out=out) is out and tuple(out.shape) == (5,)


def test_multinomial_without_replacement_gives_distinct_categories():
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        rows = lib.multinomial(lib.rand(5, 8) + 0.01, 8)
        assert all(sorted(row) == list(range(8)) for row in rows.tolist())
        assert lib.multinomial(lib.tensor([0.0, 1.0, 0.0]), 5, replacement=True).tolist() == [1] * 5


def test_requires_grad_of_results():
    def flags(lib):
        return [lib.rand(2, requires_grad=True).requires_grad, lib.rand_like(lib.zeros(3), requires_grad=True).requires_grad,
                lib.rand_like(lib.zeros(3, requires_grad=True)).requires_grad,
                lib.randint_like(lib.zeros(3, requires_grad=True), 5).requires_grad,
                lib.normal(lib.zeros(3, requires_grad=True), 1.0).requires_grad,
                lib.normal(0.0, lib.ones(3, requires_grad=True)).requires_grad,
                lib.poisson(lib.ones(3, requires_grad=True)).requires_grad]

    assert flags(chainrule) == flags(torch)


def test_bernoulli_of_a_grad_probability_requires_grad():
    assert torch.bernoulli(torch.full((3,), 0.5, requires_grad=True)).requires_grad
    assert chainrule.bernoulli(chainrule.full((3,), 0.5, requires_grad=True)).requires_grad


def test_random_beyond_float_precision_warns_as_pytorch():
    categories = []
    for lib in (torch, chainrule):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.zeros(3).random_(0, 2**25)
        categories.append(sorted({each.category.__name__ for each in caught}))
    assert categories[0] == categories[1] == ["UserWarning"]


def test_normal_with_infinite_std_matches_pytorch():
    same_stream(lambda lib: lib.normal(0.0, float("inf"), (2,)))


# --- keywords and bounds of random_ -------------------------------------------------------------

RANDOM_KEYWORD_CASES = [
    pytest.param(lambda lib: lib.empty(6).random_(to=10), id="to_keyword"),
    pytest.param(lambda lib: lib.empty(6).random_(2, to=10), id="from_and_to_keyword"),
    pytest.param(lambda lib: lib.zeros(4, dtype=lib.int64).random_(-5, None), id="to_none"),
    pytest.param(lambda lib: lib.zeros(4, dtype=lib.int64).random_(-2**63, None), id="full_int64_range"),
]


@pytest.mark.parametrize("run", RANDOM_KEYWORD_CASES)
def test_random_keywords_and_open_upper_bound(run):
    same_stream(run)


OUT_CASES = [
    pytest.param(lambda lib: lib.bernoulli(lib.full((3,), 0.5), out=lib.empty(3)), id="bernoulli_out"),
    pytest.param(lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), 2, out=lib.empty(2, dtype=lib.int64)), id="multinomial_out"),
]


@pytest.mark.parametrize("run", OUT_CASES)
def test_out_keyword_of_samplers(run):
    same_stream(run)


# --- focused checks of the fixes above ----------------------------------------------------------

IN_PLACE_SAMPLERS = {
    "uniform_": lambda x: x.uniform_(-1, 3), "normal_": lambda x: x.normal_(1, 2), "random_": lambda x: x.random_(0, 100),
    "random_full": lambda x: x.random_(), "exponential_": lambda x: x.exponential_(2), "bernoulli_": lambda x: x.bernoulli_(0.3),
    "geometric_": lambda x: x.geometric_(0.3), "log_normal_": lambda x: x.log_normal_(), "cauchy_": lambda x: x.cauchy_(),
}


@pytest.mark.parametrize("dtype", ["float16", "float64"])
@pytest.mark.parametrize("name", sorted(IN_PLACE_SAMPLERS))
def test_in_place_samplers_fill_permuted_and_sliced_tensors_in_memory_order(name, dtype):
    fill = IN_PLACE_SAMPLERS[name]
    same_stream(lambda lib: fill(lib.zeros(2, 3, 5, dtype=getattr(lib, dtype)).permute(2, 0, 1)))
    same_stream(lambda lib: fill(lib.zeros(6, 10, dtype=getattr(lib, dtype))[:, ::2]))


def test_bernoulli__of_a_transposed_tensor_reads_its_probabilities_in_the_same_order():
    same_stream(lambda lib: lib.zeros(4, 6).t().bernoulli_(lib.rand(6, 4)))
    same_stream(lambda lib: lib.zeros(4, 6).t().bernoulli_(lib.rand(4)))


@pytest.mark.parametrize("count", [5, 16, 17, 33, 100])
def test_float16_normal_samples_in_every_size(count):
    same_stream(lambda lib: lib.zeros(count, dtype=lib.float16).normal_(0.3, 2.5))


@pytest.mark.parametrize("name", ["rand_like", "randn_like", "randint_like"])
def test_like_factories_of_a_transposed_tensor_draw_in_its_memory_order(name):
    arguments = (10,) if name == "randint_like" else ()
    same_stream(lambda lib: getattr(lib, name)(lib.zeros(4, 6).t(), *arguments))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "int8", "bool"])
@pytest.mark.parametrize("low, high", [(0, 2**25), (-2**31, 2**31 - 1), (0, 2**28 + 100), (-5, None), (3, None), (-2**63, None),
                                       (2**24 - 3, 2**24 + 9), (0, 2)])
def test_random__bounds_as_pytorch_rounds_and_checks_them(dtype, low, high):
    def fill(lib):
        return lib.zeros(7, dtype=getattr(lib, dtype)).random_(low, high)

    if outcome(lambda: fill(torch))[0] == "raises":
        raises_as_torch(fill)
    else:
        same_stream(fill)


@pytest.mark.parametrize("dtype", ["float16", "float64", "int32"])
@pytest.mark.parametrize("name", ["rand", "randn", "randint", "randperm"])
def test_random_factories_draw_in_the_dtype_of_out(name, dtype):
    arguments = {"rand": (20,), "randn": (20,), "randint": (0, 1000, (20,)), "randperm": (20,)}[name]

    def draw(lib):
        return getattr(lib, name)(*arguments, out=lib.empty(3, dtype=getattr(lib, dtype)))

    if outcome(lambda: draw(torch))[0] == "raises":
        raises_as_torch(draw)
    else:
        same_stream(draw)
