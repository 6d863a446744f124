"""utils.benchmark against torch.utils.benchmark where the recipes lean on it: the globals a Timer's
statement sees, Compare's tables (threads, environments, trimming, colours, warnings) from the same
times, the Fuzzer's sizes, layouts and values from the same seed, and Measurements through pickle."""
import pickle
import re

import numpy as np
import pytest
import torch
import torch.utils.benchmark as torch_benchmark

import chainrule
from chainrule.utils import benchmark


def _measurement(library, number_per_run, raw_times, **task):
    """A Measurement of ``library`` (chainrule's benchmark or torch's) with given times: no clock."""
    return library.Measurement(number_per_run, list(raw_times), library.TaskSpec(**task))


# ----------------------------------------------------------------------------- Timer
def test_a_statement_sees_torch_without_importing_it():
    for library, module in ((benchmark, chainrule), (torch_benchmark, torch)):
        seen = []
        library.Timer("record(torch)", globals={"record": seen.append}).timeit(number=3)
        assert seen and all(each is module for each in seen)
        mine = object()  # a ``torch`` the caller passes is kept
        library.Timer("record(torch)", globals={"record": seen.append, "torch": mine}).timeit(number=3)
        assert seen[-1] is mine
        given = {"x": 1}
        library.Timer("x + 1", globals=given).timeit(number=3)
        assert given == {"x": 1}  # neither torch nor __builtins__ leak into the caller's dict


def test_a_timer_dedents_its_code_and_keeps_the_threads():
    setup = """
        x = torch.ones((128,))
        y = torch.ones((4,)).sum()
    """
    stmt = "\n    x * y\n"
    ours, theirs = benchmark.Timer(stmt, setup), torch_benchmark.Timer(stmt, setup)
    assert (ours._task_spec.stmt, ours._task_spec.setup) == (theirs._task_spec.stmt, theirs._task_spec.setup)
    measured = ours.timeit(number=10)
    assert re.sub(r"0x[0-9a-f]+|\d+\.\d+ \w+", "#", repr(measured)).replace("chainrule", "torch") == re.sub(
        r"0x[0-9a-f]+|\d+\.\d+ \w+", "#", repr(theirs.timeit(number=10))
    )
    threads = chainrule.get_num_threads()
    benchmark.Timer("x", globals={"x": 1}, num_threads=threads + 1).blocked_autorange(min_run_time=0.001)
    assert chainrule.get_num_threads() == threads


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(dict(global_setup="int x = 1;"), "global_setup is C\\+\\+ only"), (dict(language="fortran"), "Invalid language")],
)
def test_a_timer_refuses_what_pytorch_refuses(arguments, message):
    for library in (benchmark, torch_benchmark):
        with pytest.raises(ValueError, match=message):
            library.Timer("pass", **arguments)


# ----------------------------------------------------------------------------- Compare
_AB_TIMES = {  # (env, description) -> seconds per block of 10 runs
    ("environment A: mul/sum", "[1, 1]"): [31e-6, 30e-6, 33e-6, 30.5e-6],
    ("environment A: mul/sum", "[64, 100]"): [52e-6, 49e-6, 70e-6, 51e-6, 50e-6],
    ("environment B: bmm", "[1, 1]"): [90e-6, 91e-6, 89e-6],
    ("environment B: bmm", "[100, 1]"): [1.2e-3, 1.1e-3, 1.9e-3, 1.15e-3],
}


def _ab_results(library):
    return [
        _measurement(library, 10, times, stmt="batched_dot(x, x)", setup="pass", label="Batched dot", description=column, env=env)
        for (env, column), times in _AB_TIMES.items()
    ]


def _thread_results(library):
    """Two thread counts, two sub-labels, two columns, a replicate to merge and a missing cell."""
    results = []
    for threads, scale in ((1, 1.0), (4, 0.4)):
        for row, size in (("[1, 64]", 1), ("[64, 64]", 64)):
            for column, cost in (("mul/sum", 2e-6), ("bmm", 5e-6)):
                if (threads, row, column) == (4, "[64, 64]", "bmm"):
                    continue
                times = [cost * size * scale * (1 + 0.02 * k) for k in range(5)]
                spec = dict(stmt="f(x)", setup="pass", label="Batched dot", sub_label=row, description=column, num_threads=threads)
                results.append(_measurement(library, 100, times, **spec))
    replicate = dict(stmt="f(x)", setup="pass", label="Batched dot", sub_label="[1, 64]", description="mul/sum")
    results.append(_measurement(library, 100, [2.1e-6, 2.0e-6], **replicate))
    noisy = dict(stmt="g(x)", setup="pass", label="Other", description="noisy")
    results.append(_measurement(library, 1000, [3e-3, 9e-3, 1e-3, 6e-3], **noisy))
    return results


@pytest.mark.parametrize("results", [_ab_results, _thread_results])
@pytest.mark.parametrize(
    "options",
    [(), ("trim_significant_figures",), ("trim_significant_figures", "colorize"), ("highlight_warnings",), ("colorize_rowwise",)],
)
def test_compare_draws_pytorchs_tables(results, options):
    tables = []
    for library in (benchmark, torch_benchmark):
        compare = library.Compare(results(library))
        for option in options:
            if option == "colorize_rowwise":
                compare.colorize(rowwise=True)
            else:
                getattr(compare, option)()
        tables.append(str(compare))
    assert tables[0] == tables[1]


def test_compare_keeps_environments_apart_in_timed_runs():
    """Real timings: the same rows, environments and columns (the numbers masked)."""
    tables = []
    for library, module in ((benchmark, chainrule), (torch_benchmark, torch)):
        timers = [
            library.Timer("x + x", globals={"x": module.ones(n)}, label="add", description=f"n={n}", env=env)
            for env in ("A", "B") for n in (1, 100)
        ]
        results = [timer.blocked_autorange(min_run_time=0.001) for timer in timers]
        table = re.sub(r"\d+\.?\d*", "#", str(library.Compare(results)))
        tables.append([line.split() for line in table.splitlines() if "|" in line or "(" in line])
    assert tables[0] == tables[1]
    assert any(line[0] == "(A)" for line in tables[0]) and any(line[0] == "(B)" for line in tables[0])


def test_compare_refuses_what_is_not_a_measurement():
    for library in (benchmark, torch_benchmark):
        with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
            library.Compare([1.0])


# ----------------------------------------------------------------------------- Fuzzer
def _fuzzer(library, seed):
    return library.Fuzzer(
        parameters=[
            library.FuzzedParameter("k0", minval=1, maxval=1000, distribution="loguniform"),
            library.FuzzedParameter("k1", minval=1, maxval=1000, distribution="loguniform"),
            library.FuzzedParameter("k2", minval=2, maxval=9, distribution="uniform", strict=True),
            library.FuzzedParameter("scale", minval=0.5, maxval=2.0, distribution="uniform"),
            library.FuzzedParameter("dims", minval=1, maxval=3, distribution="uniform"),
            library.FuzzedParameter("step", minval=1, maxval=3, distribution="uniform"),
        ],
        tensors=[
            library.FuzzedTensor("x", size=("k0", "k1"), min_elements=128, max_elements=10000, probability_contiguous=0.6),
            [library.FuzzedTensor(
                "y", size=("k2", "k1", 3), steps=("step", 1, 2), dim_parameter="dims", max_allocation_bytes=200000,
            )],
        ],
        constraints=[lambda params: params["k0"] != params["k1"]],
        seed=seed,
    )


def _integer_fuzzer(library, seed):
    module = chainrule if library is benchmark else torch
    return library.Fuzzer(
        parameters=[library.FuzzedParameter("n", minval=1, maxval=64, distribution="uniform")],
        tensors=[library.FuzzedTensor("i", size=("n", 5, 2), dtype=module.int32, probability_contiguous=0.0)],
        seed=seed,
    )


def _as_comparable(tensors, properties, params):
    arrays = {name: (tuple(t.shape), t.stride(), str(t.dtype).split(".")[-1], t.numpy().tolist()) for name, t in tensors.items()}
    shown = {
        name: {key: (value.tolist() if isinstance(value, np.ndarray) else value) for key, value in each.items()}
        for name, each in properties.items()
    }
    for each in shown.values():
        each["dtype"] = each["dtype"].split(".")[-1]
    return arrays, shown, params


@pytest.mark.parametrize("make", [_fuzzer, _integer_fuzzer])
@pytest.mark.parametrize("seed", [0, 1, 7, 2024])
def test_the_same_seed_fuzzes_the_same_tensors(make, seed):
    ours, theirs = make(benchmark, seed), make(torch_benchmark, seed)
    for mine, pytorchs in zip(ours.take(8), theirs.take(8), strict=True):
        assert _as_comparable(*mine) == _as_comparable(*pytorchs)
    assert ours.rejection_rate == theirs.rejection_rate


def test_aliases_and_custom_distributions_draw_as_pytorch(monkeypatch):
    """PyTorch 2.13 refuses a custom distribution whose probabilities sum to one (its check is the
    wrong way round); with that check out of the way, the draws are the same."""
    with pytest.raises(AssertionError, match="not normalized"):
        torch_benchmark.FuzzedParameter("n", distribution={1: 0.5, 2: 0.5})
    with pytest.raises(AssertionError, match="not normalized"):
        benchmark.FuzzedParameter("n", distribution={1: 0.5, 2: 0.6})
    monkeypatch.setattr(torch_benchmark.FuzzedParameter, "_check_distribution", lambda self, distribution: distribution)

    def make(library):
        return library.Fuzzer(
            parameters=[
                library.FuzzedParameter("x_len", minval=4, maxval=32, distribution="uniform"),
                library.FuzzedParameter("y_len", distribution={1: 0.3, library.ParameterAlias("x_len"): 0.7}),
                library.FuzzedParameter("z_len", distribution={library.ParameterAlias("y_len"): 1.0}),
            ],
            tensors=[library.FuzzedTensor("x", size=("x_len",)), library.FuzzedTensor("y", size=("y_len", "z_len"))],
            seed=3,
        )

    for mine, pytorchs in zip(make(benchmark).take(10), make(torch_benchmark).take(10), strict=True):
        assert _as_comparable(*mine) == _as_comparable(*pytorchs)
    assert repr(benchmark.ParameterAlias("k")) == repr(torch_benchmark.ParameterAlias("k"))


def test_the_fuzzer_refuses_what_pytorch_refuses():
    for library in (benchmark, torch_benchmark):
        with pytest.raises(ValueError, match="Duplicate names"):
            library.Fuzzer([library.FuzzedParameter("x", 1, 2, "uniform")], [library.FuzzedTensor("x", size=("x",))])
        too_small = library.FuzzedTensor("t", size=("n",), min_elements=5)
        impossible = library.Fuzzer([library.FuzzedParameter("n", 1, 2, "uniform")], [too_small], seed=0)
        with pytest.raises(ValueError, match="Failed to generate"):
            next(impossible.take(1))
        with pytest.raises(AssertionError, match="Unknown distribution"):
            library.FuzzedParameter("n", 1, 2, distribution="normal")


# ----------------------------------------------------------------------------- pickling
def test_measurements_pickle_as_pytorchs_do():
    times = [3e-6, 2e-6, 5e-6, 3.5e-6, 2.5e-6]
    ours = _measurement(benchmark, 100, times, stmt="x + y", setup="pass", label="adds", description="int", env="A")
    theirs = _measurement(torch_benchmark, 100, times, stmt="x + y", setup="pass", label="adds", description="int", env="A")
    assert type(ours).__module__.replace("chainrule", "torch") == type(theirs).__module__ == "torch.utils.benchmark.utils.common"
    assert (ours.env, ours.as_row_name, ours.title) == (theirs.env, theirs.as_row_name, theirs.title)
    with pytest.raises(TypeError):
        hash(ours)  # a dataclass compared by value, as PyTorch's: not hashable
    for measurement in (ours, theirs):
        repr(measurement)  # computes and keeps the statistics before pickling
        copy = pickle.loads(pickle.dumps(measurement))
        assert copy == measurement
        assert (copy.median, copy.significant_figures) == (measurement.median, measurement.significant_figures)
    results = [ours, _measurement(benchmark, 10, times, stmt="x + y", setup="pass", label="adds", description="int", env="B")]
    assert str(benchmark.Compare(pickle.loads(pickle.dumps(results)))) == str(benchmark.Compare(results))


def test_a_pickle_of_the_single_module_measurement_still_loads():
    """Measurements pickled when the benchmark was one module name ``chainrule.utils.benchmark``."""
    fresh = _measurement(benchmark, 100, [3e-6, 2e-6], stmt="x", setup="pass")  # statistics not yet computed
    old = pickle.dumps(fresh, protocol=0).replace(b"chainrule.utils.benchmark.utils.common\n", b"chainrule.utils.benchmark\n")
    assert b"chainrule.utils.benchmark\n" in old
    loaded = pickle.loads(old)
    assert loaded == fresh and loaded.median == pytest.approx(2.5e-8) and loaded.task_spec.stmt == "x"


@pytest.mark.parametrize(("x", "n"), [(3.14159, 2), (123.456, 2), (0.000123456, 3), (98765.4321, 4), (-2.5, 1)])
def test_trim_sigfig_and_select_unit_round_in_float32_as_pytorch(x, n):
    assert benchmark.trim_sigfig(x, n) == torch_benchmark.trim_sigfig(x, n)
    assert benchmark.select_unit(abs(x) * 1e-6) == torch_benchmark.select_unit(abs(x) * 1e-6)
