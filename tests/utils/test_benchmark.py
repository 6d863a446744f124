"""utils.benchmark against torch.utils.benchmark: the same statistics and reports from the same times,
the same Compare tables to the character, the same fuzzed inputs for the same seed, and timing that
really runs the statement (with a clock the statement itself advances, PyTorch's Timer chooses the
same block sizes and counts, so those are compared too)."""
import pickle
import random
import re

import numpy as np
import pytest
import torch
import torch.utils.benchmark as torch_benchmark

import chainrule
from chainrule.utils import benchmark


def _text(report):
    """A report with object addresses dropped and chainrule's module names read as PyTorch's."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", report).replace("chainrule", "torch")


def _both(number, raw_times, **spec):
    """The same measurement made by chainrule and by PyTorch."""
    spec.setdefault("setup", "pass")
    return (
        benchmark.Measurement(number, list(raw_times), benchmark.TaskSpec(**spec)),
        torch_benchmark.Measurement(number, list(raw_times), torch_benchmark.TaskSpec(**spec)),
    )


def _outcome(compute):
    """What ``compute()`` gives, or the type of what it raises (to compare failures too)."""
    try:
        return compute()
    except Exception as error:  # the oracle decides which exceptions are right
        return type(error)


# ----------------------------------------------------------------------------------------------
# Measurement, TaskSpec and the unit helpers

TIMES = {
    "one": [3e-6],
    "two": [2e-6, 2.2e-6],
    "three, noisy": [1e-6, 1.3e-6, 2e-6],
    "four": [5e-4, 5.1e-4, 5.05e-4, 4.99e-4],
    "outlier": [2e-6, 4e-6, 3e-6, 3.5e-6, 10e-6, 2.5e-6, 3.1e-6],
    "steady": [1.234567e-3 * (1 + 1e-7 * i) for i in range(40)],
    "seconds": [1.5, 1.6, 1.55, 1.52, 1.49],
    "nanoseconds": [12e-9, 13e-9, 12.5e-9, 12.2e-9],
    "exactly one microsecond": [1e-6],
}

SPECS = {
    "stmt only": dict(stmt="x + y"),
    "labelled": dict(stmt="x + y", setup="y = 1", label="adds", sub_label="small", description="chainrule"),
    "many lines": dict(stmt="x = 1\ny = x + 1", setup="import math\nz = 2", sub_label="two", num_threads=4),
    "threads and env": dict(stmt="f(x)", label="calls", description="[1, 64]", env="A", num_threads=2),
}


@pytest.mark.parametrize("times", TIMES.values(), ids=TIMES.keys())
@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_measurements_give_pytorchs_statistics_and_report(times, spec):
    ours, theirs = _both(100, [t * 100 for t in times], **spec)
    for field in ("median", "iqr", "significant_figures", "has_warnings", "title", "env", "as_row_name", "num_threads", "stmt"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert ours.mean == pytest.approx(theirs.mean, rel=1e-15) and ours.times == theirs.times
    assert ours.meets_confidence(0.2) == theirs.meets_confidence(0.2)
    assert _text(repr(ours)) == _text(repr(theirs))
    assert ours.task_spec.summarize() == theirs.task_spec.summarize()


def test_significant_figures_and_warnings_agree_on_many_random_measurements():
    rng = random.Random(0)
    for _ in range(400):
        base, spread = 10 ** rng.uniform(-8, 0), rng.choice([1e-6, 1e-4, 1e-2, 0.1, 0.5])
        times = [base * (1 + spread * rng.random()) for _ in range(rng.randint(1, 60))]
        ours, theirs = _both(1, times, stmt="pass")
        assert (ours.median, ours.iqr, ours.significant_figures, ours.has_warnings) == (
            theirs.median, theirs.iqr, theirs.significant_figures, theirs.has_warnings
        ), times
        assert _text(repr(ours)) == _text(repr(theirs))


@pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's own, from its std of no times
def test_a_measurement_without_times_behaves_as_pytorchs():
    ours, theirs = _both(1, [], stmt="pass")
    assert (ours.median, ours.mean, ours.iqr, ours.has_warnings) == (theirs.median, theirs.mean, theirs.iqr, theirs.has_warnings)
    assert _outcome(lambda: ours.significant_figures) is _outcome(lambda: theirs.significant_figures) is ZeroDivisionError
    assert _outcome(lambda: repr(ours)) is _outcome(lambda: repr(theirs)) is ValueError


def test_task_fields_read_through_and_others_are_refused():
    ours, theirs = _both(10, [1e-5], stmt="f()", label="L", sub_label="S", description="D", env="E", num_threads=3)
    for field in ("stmt", "setup", "global_setup", "label", "sub_label", "description", "env", "num_threads"):
        assert getattr(ours, field) == getattr(theirs, field)
    with pytest.raises(AttributeError, match="'Measurement' object has no attribute 'nothing'"):
        ours.nothing
    assert ours == benchmark.Measurement(10, [1e-5], ours.task_spec) and ours != benchmark.Measurement(10, [2e-5], ours.task_spec)


def test_merge_pools_replicates_per_task_as_pytorch_does():
    specs = [dict(stmt="a"), dict(stmt="b"), dict(stmt="a"), dict(stmt="a", env="other")]
    pairs = [_both(number, [number * 1e-6 * (i + 1)], **spec) for i, (number, spec) in enumerate(zip((1, 10, 100, 1), specs))]
    ours = benchmark.Measurement.merge([pair[0] for pair in pairs])
    theirs = torch_benchmark.Measurement.merge([pair[1] for pair in pairs])
    assert [(m.stmt, m.env, m.number_per_run, m.raw_times, m.metadata) for m in ours] == [
        (m.stmt, m.env, m.number_per_run, m.raw_times, m.metadata) for m in theirs
    ]


UNIT_TIMES = [3e-9, 4.5e-6, 0.02, 3.0, 1e-10, 1e-9, 1e-6, 1e-3, 1.0, 999.9e-9, 0.99999999e-6, 0.9999e-6, 1.0000001e-3, 5e4]


@pytest.mark.parametrize("t", UNIT_TIMES + [0.0, -1.0, float("nan"), float("inf")])
def test_select_unit_as_pytorch_including_its_boundaries_and_failures(t):
    assert _outcome(lambda: benchmark.select_unit(t)) == _outcome(lambda: torch_benchmark.select_unit(t))


def test_trim_sigfig_and_unit_names_as_pytorch():
    rng = random.Random(1)
    values = [3.14159, 100.0, 99.99, 12.5, 0.0125, 1.0, 123456.0, -42.42, 7] + [10 ** rng.uniform(-6, 6) for _ in range(300)]
    for x in values:
        for n in (1, 2, 3, 4):
            assert benchmark.trim_sigfig(x, n) == torch_benchmark.trim_sigfig(x, n), (x, n)
    for x in (0.0, float("nan")):
        assert _outcome(lambda: benchmark.trim_sigfig(x, 2)) == _outcome(lambda: torch_benchmark.trim_sigfig(x, 2))
    with pytest.raises(AssertionError, match="must be an integer"):
        benchmark.trim_sigfig(1.0, 1.5)
    for unit in ("ns", "us", "ms", "s"):
        assert benchmark.unit_to_english(unit) == torch_benchmark.unit_to_english(unit)
    assert benchmark.ordered_unique([3, 1, 3, 2, 1]) == torch_benchmark.ordered_unique([3, 1, 3, 2, 1]) == [3, 1, 2]


def test_set_torch_threads_sets_and_restores():
    before = chainrule.get_num_threads()
    with benchmark.set_torch_threads(1):
        assert chainrule.get_num_threads() == 1
    assert chainrule.get_num_threads() == before


# ----------------------------------------------------------------------------------------------
# Pickling and PyTorch's module paths


def test_measurements_pickle_and_keep_pytorchs_module_path():
    ours, _ = _both(100, [1e-4, 1.1e-4, 1.05e-4, 0.99e-4], stmt="x * y", label="L", description="D", env="E")
    ours.metadata = {"commit": "abc"}
    restored = pickle.loads(pickle.dumps(ours))
    assert restored == ours and repr(restored).split(">")[1:] == repr(ours).split(">")[1:]
    assert str(benchmark.Compare([restored])) == str(benchmark.Compare([ours]))
    assert type(ours).__module__ == "chainrule.utils.benchmark.utils.common"
    from chainrule.utils.benchmark.utils import common, compare, fuzzer, timer

    assert common.Measurement is benchmark.Measurement and common.TaskSpec is benchmark.TaskSpec
    assert (timer.Timer, compare.Compare, fuzzer.Fuzzer) == (benchmark.Timer, benchmark.Compare, benchmark.Fuzzer)


def test_pytorchs_public_names_are_here():
    from torch.utils.benchmark.utils import common, compare, fuzzer, timer

    for module in (common, compare, fuzzer, timer):
        ours = __import__(f"chainrule.utils.benchmark.utils.{module.__name__.rsplit('.', 1)[1]}", fromlist=["_"])
        for name in module.__all__:
            assert getattr(ours, name) is getattr(benchmark, name), name
    assert str(benchmark.Language.PYTHON) == "Language.PYTHON" and benchmark.Colorize.ROWWISE.value == "rowwise"


# ----------------------------------------------------------------------------------------------
# Timer


class _StatementClock:
    """A clock that only the timed statement moves: each run of ``tick()`` takes ``step`` seconds,
    so a block of n runs measures n * step, and the clock's own overhead measures zero."""

    def __init__(self, step):
        self.now, self.step, self.runs = 0.0, step, 0

    def tick(self):
        self.now += self.step
        self.runs += 1

    def __call__(self):
        return self.now


def _timed(library, method, step=1e-6, **arguments):
    clock = _StatementClock(step)
    timer = library.Timer("tick()", globals={"tick": clock.tick}, timer=clock, label="ticks")
    return getattr(timer, method)(**arguments), clock.runs


@pytest.mark.parametrize(
    ("method", "arguments"),
    [
        ("timeit", dict(number=50)),
        ("blocked_autorange", dict(min_run_time=0.02)),
        ("blocked_autorange", dict(min_run_time=0.2)),
        ("adaptive_autorange", dict(min_run_time=0.01)),
        ("adaptive_autorange", dict(threshold=0.5, max_run_time=0.5)),
    ],
)
def test_a_timer_runs_blocks_as_pytorchs_does(method, arguments):
    (ours, our_runs), (theirs, their_runs) = (_timed(library, method, **arguments) for library in (benchmark, torch_benchmark))
    assert (ours.number_per_run, ours.raw_times) == (theirs.number_per_run, theirs.raw_times)
    assert our_runs == their_runs  # warm-ups and block-size search included
    assert _text(repr(ours)) == _text(repr(theirs))


def test_blocked_autorange_really_times_the_statement_and_reports_blocks():
    calls, blocks = [], []
    measurement = benchmark.Timer("record(1)", globals={"record": calls.append}).blocked_autorange(
        callback=lambda number, seconds: blocks.append((number, seconds)), min_run_time=0.02
    )
    assert len(calls) >= measurement.number_per_run * len(measurement.raw_times) and sum(measurement.raw_times) >= 0.02
    assert blocks == [(measurement.number_per_run, seconds) for seconds in measurement.raw_times]


def test_statements_see_chainrule_as_torch_and_code_is_dedented_as_pytorchs():
    stmt, setup = "\n        y = x * 2\n        z = torch.ones(3)\n    ", "\n        x = torch.ones((128,))\n        "
    ours = benchmark.Timer(stmt, setup, label="L").timeit(5)
    theirs = torch_benchmark.Timer(stmt, setup, label="L").timeit(5)
    assert (ours.stmt, ours.setup) == (theirs.stmt, theirs.setup) and ours.setup == "x = torch.ones((128,))"
    seen = {}
    benchmark.Timer("seen['torch'] = torch", globals={"seen": seen}).timeit(1)
    assert seen["torch"] is chainrule
    benchmark.Timer("seen['torch'] = torch", globals={"seen": seen, "torch": np}).timeit(1)
    assert seen["torch"] is np  # the caller's own ``torch`` wins


def test_a_timer_runs_on_its_threads_and_restores_them():
    seen = []
    before = chainrule.get_num_threads()
    benchmark.Timer("seen.append(torch.get_num_threads())", globals={"seen": seen}, num_threads=1).timeit(3)
    assert set(seen) == {1} and chainrule.get_num_threads() == before


def test_timer_refusals_as_pytorchs():
    with pytest.raises(ValueError, match="Currently only a `str` stmt is supported."):
        benchmark.Timer(stmt=lambda: None)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        benchmark.Timer(global_setup="#include <vector>")
    with pytest.raises(ValueError, match="Invalid language `fortran`."):
        benchmark.Timer(language="fortran")
    with pytest.raises(NotImplementedError, match="Python statements only"):
        benchmark.Timer(language=benchmark.Language.CPP)
    for method in ("autorange", "repeat"):
        with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
            getattr(benchmark.Timer(), method)()
    with pytest.raises(NotImplementedError, match="Callgrind"):
        benchmark.Timer().collect_callgrind()


# ----------------------------------------------------------------------------------------------
# Compare


def _random_results(seed):
    """Specs and times for a few tables: labels, threads, envs, rows, columns, missing cells and
    replicates, drawn at random."""
    rng = random.Random(seed)
    results = []
    for label in rng.sample(["conv", "Batched dot", None], k=rng.randint(1, 3)):
        envs = rng.choice([[None], ["A"], ["environment A: mul/sum", "environment B: bmm"]])
        descriptions = rng.sample(["mul/sum", "[64, 100]", "x", "a wide column name"], k=rng.randint(1, 3))
        rows = rng.sample([("stmt()", None), ("f(x)", "[1, 1]"), ("g(x)", "a longer row name"), ("h()", "z")], k=rng.randint(1, 3))
        for threads in sorted(rng.sample([1, 2, 4], k=rng.randint(1, 2)), reverse=rng.random() < 0.5):
            for env in envs:
                for stmt, sub_label in rows:
                    for description in descriptions:
                        if rng.random() < 0.15:
                            continue  # a missing cell
                        spec = dict(stmt=stmt, label=label, sub_label=sub_label, description=description, env=env, num_threads=threads)
                        base, spread, number = 10 ** rng.uniform(-8, -1), rng.choice([1e-4, 0.02, 0.15, 0.6]), rng.choice([1, 100])
                        for _ in range(rng.choice([1, 1, 2])):  # replicates, merged by Compare
                            times = [base * (1 + spread * rng.random()) * number for _ in range(rng.choice([1, 3, 8, 30]))]
                            results.append((number, times, spec))
    rng.shuffle(results)
    return results


STYLES = {
    "plain": [],
    "trimmed": ["trim_significant_figures"],
    "colored": ["colorize"],
    "trimmed and colored": ["trim_significant_figures", "colorize"],
    "rowwise": [("colorize", True)],
    "highlighted": ["highlight_warnings"],
    "everything": ["trim_significant_figures", ("colorize", True), "highlight_warnings"],
}


def _compare_both(results, style):
    pairs = [_both(number, times, **spec) for number, times, spec in results]
    tables = []
    for side in (0, 1):
        compare = (benchmark, torch_benchmark)[side].Compare([pair[side] for pair in pairs])
        for option in style:
            name, arguments = (option, ()) if isinstance(option, str) else (option[0], option[1:])
            getattr(compare, name)(*arguments)
        tables.append(_outcome(lambda: str(compare)))
    return tables


@pytest.mark.parametrize("style", STYLES.values(), ids=STYLES.keys())
@pytest.mark.parametrize("seed", range(12))
def test_compare_tables_are_pytorchs_character_for_character(seed, style):
    ours, theirs = _compare_both(_random_results(seed), style)
    assert ours == theirs


def test_the_recipes_tables_as_pytorch_prints_them():
    results = []
    for threads in (1, 4):
        for b, n in ((1, 1), (1, 64), (64, 1), (64, 64)):
            for description, scale in (("mul/sum", 1.0), ("bmm", 1.7)):
                times = [scale * (5 + b * n / 1000) * 1e-6 * (1 + 0.01 * k) for k in range(25)]
                results.append((100, [t * 100 for t in times], dict(stmt="batched_dot(x, x)", label="Batched dot", sub_label=f"[{b}, {n}]", description=description, num_threads=threads)))
    for env, scale in (("environment A: mul/sum", 1.0), ("environment B: bmm", 2.5)):
        for b, n in ((1, 1), (64, 100), (100, 1)):
            results.append((10, [scale * 3e-5 * (1 + 0.3 * (k % 3)) for k in range(9)], dict(stmt="batched_dot(x, x)", label="AB", description=f"[{b}, {n}]", env=env)))
    for style in STYLES.values():
        ours, theirs = _compare_both(results, style)
        assert ours == theirs
    assert "(environment A: mul/sum)  batched_dot(x, x)" in ours and "\x1b[" in ours


def test_compare_refusals_as_pytorchs():
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`, got <class 'int'> instead."):
        benchmark.Compare([1])
    no_description = [_both(1, [1e-6], stmt="x")]
    mixed_envs = [_both(1, [1e-6], stmt="x", description="d"), _both(1, [1e-6], stmt="x", description="d", env="A")]
    for pairs in (no_description, mixed_envs):  # PyTorch fails on these too, with a TypeError
        ours, theirs = (_outcome(lambda: str((benchmark, torch_benchmark)[side].Compare([p[side] for p in pairs]))) for side in (0, 1))
        assert ours is theirs is TypeError


def test_compare_extends_and_prints(capsys):
    first, second = _both(1, [1e-6], stmt="x", description="a"), _both(1, [2e-6], stmt="y", description="a")
    ours, theirs = benchmark.Compare([first[0]]), torch_benchmark.Compare([first[1]])
    ours.extend_results([second[0]])
    theirs.extend_results([second[1]])
    ours.print()
    assert capsys.readouterr().out == str(theirs) + "\n"


# ----------------------------------------------------------------------------------------------
# Fuzzer


def _fuzzer_pair(make, seed):
    """``make(library, benchmark_module)`` builds a fuzzer's arguments; both fuzzers, same seed."""
    return tuple(
        module.Fuzzer(seed=seed, **make(library, module)) for library, module in ((chainrule, benchmark), (torch, torch_benchmark))
    )


def _same_steps(ours, theirs, n):
    for (our_tensors, our_properties, our_params), (their_tensors, their_properties, their_params) in zip(ours.take(n), theirs.take(n)):
        assert our_params == their_params and list(our_tensors) == list(their_tensors)
        for name in their_tensors:
            mine, reference = our_tensors[name], their_tensors[name]
            assert tuple(mine.shape) == tuple(reference.shape) and mine.stride() == reference.stride(), name
            np.testing.assert_array_equal(mine.numpy(), reference.numpy())
            mine_properties, reference_properties = dict(our_properties[name]), dict(their_properties[name])
            np.testing.assert_array_equal(mine_properties.pop("order"), reference_properties.pop("order"))
            mine_properties["dtype"] = mine_properties["dtype"].replace("chainrule", "torch")
            assert mine_properties == reference_properties
    assert ours.rejection_rate == theirs.rejection_rate


def _recipe(library, module):
    return dict(
        parameters=[
            module.FuzzedParameter("k0", minval=1, maxval=1000, distribution="loguniform"),
            module.FuzzedParameter("k1", minval=1, maxval=1000, distribution="loguniform"),
        ],
        tensors=[module.FuzzedTensor("x", size=("k0", "k1"), min_elements=128, max_elements=10000, probability_contiguous=0.6)],
    )


def _many_kinds(library, module):
    return dict(
        parameters=[
            module.FuzzedParameter("dims", minval=1, maxval=4, distribution="uniform", strict=True),
            [module.FuzzedParameter(f"k{i}", minval=1, maxval=64, distribution="loguniform") for i in range(4)],
            module.FuzzedParameter("step", minval=1, maxval=3, distribution="uniform"),
            module.FuzzedParameter("scale", minval=0.5, maxval=2.0, distribution="uniform"),
        ],
        tensors=[
            module.FuzzedTensor("x", size=("k0", "k1", "k2", "k3"), steps=("step", 1, "step"), dim_parameter="dims", max_elements=20000),
            [module.FuzzedTensor("y", size=("k1", 3), probability_contiguous=0.2, max_allocation_bytes=4000, dtype=library.int32)],
            module.FuzzedTensor("z", size=(5, "k0"), dtype=library.float64, probability_contiguous=0.0),
        ],
        constraints=[lambda params: params["k0"] != 7],
    )


def _constructed(library, module):
    def constructor(size, dtype, scale, **params):
        return library.randn(size, dtype=dtype) * scale

    return dict(
        parameters=[
            module.FuzzedParameter("n", minval=2, maxval=40, distribution="uniform"),
            module.FuzzedParameter("scale", minval=1, maxval=9, distribution="uniform"),
        ],
        tensors=[module.FuzzedTensor("w", size=("n", "n", 2), tensor_constructor=constructor, probability_contiguous=0.3)],
    )


def _chosen(module, name, distribution):
    """A parameter drawn from a dict. PyTorch 2.13 refuses every normalized dict (its check is
    inverted), so its parameter is given the dict after construction, to serve as the oracle."""
    if module is benchmark:
        return module.FuzzedParameter(name, distribution=distribution)
    parameter = module.FuzzedParameter(name, distribution="uniform")
    parameter._distribution = distribution
    return parameter


def _choices(library, module):
    parameters = [
        module.FuzzedParameter("x_len", minval=4, maxval=1024, distribution="uniform"),
        _chosen(module, "y_len", {1: 0.3, module.ParameterAlias("x_len"): 0.5, 16: 0.2}),
    ]
    return dict(parameters=parameters, tensors=[module.FuzzedTensor("x", size=("x_len",)), module.FuzzedTensor("y", size=("y_len",))])


@pytest.mark.parametrize("make", [_recipe, _many_kinds, _constructed, _choices], ids=lambda make: make.__name__.strip("_"))
@pytest.mark.parametrize("seed", [0, 1, 7, 123456])
def test_a_fuzzer_yields_pytorchs_parameters_layouts_and_values(make, seed):
    _same_steps(*_fuzzer_pair(make, seed), n=8)


def test_take_starts_again_from_the_seed_and_a_missing_seed_is_drawn():
    fuzzer = benchmark.Fuzzer(seed=3, **_recipe(chainrule, benchmark))
    first, again = [params for _, _, params in fuzzer.take(4)], [params for _, _, params in fuzzer.take(4)]
    assert first == again
    assert isinstance(benchmark.Fuzzer(**_recipe(chainrule, benchmark))._seed, int)


def test_cuda_is_accepted_and_the_tensor_stays_on_the_cpu():
    fuzzer = benchmark.Fuzzer([], [benchmark.FuzzedTensor("x", size=(2, 3), cuda=True)], seed=0)
    tensors, _, _ = next(fuzzer.take(1))
    assert tensors["x"].device.type == "cpu" and tuple(tensors["x"].shape) == (2, 3)


def test_dict_distributions_follow_the_documented_rule():
    parameter = benchmark.FuzzedParameter("p", distribution={"a": 0.25, "b": 0.75})
    state = np.random.RandomState(0)
    draws = [parameter.sample(state) for _ in range(400)]
    assert set(draws) == {"a", "b"} and 0.6 < draws.count("b") / 400 < 0.9
    with pytest.raises(AssertionError, match="Distribution is not normalized"):
        benchmark.FuzzedParameter("p", distribution={"a": 0.5, "b": 0.6})
    with pytest.raises(AssertionError, match="Probabilities cannot be negative"):
        benchmark.FuzzedParameter("p", distribution={"a": -0.5, "b": 1.5})
    with pytest.raises(AssertionError, match="When passing a custom distribution, 'minval' must be None"):
        benchmark.FuzzedParameter("p", minval=1, distribution={"a": 1.0})


def test_fuzzer_refusals_as_pytorchs():
    with pytest.raises(AssertionError, match="Unknown distribution: None"):
        benchmark.FuzzedParameter("p", 1, 10)
    with pytest.raises(ValueError, match="Duplicate names in parameters and tensors: {'x'}"):
        benchmark.Fuzzer([benchmark.FuzzedParameter("x", 1, 2, "uniform")], [benchmark.FuzzedTensor("x", size=(1,))])
    impossible = dict(parameters=[], tensors=[benchmark.FuzzedTensor("x", size=(10,), max_elements=5)])
    with pytest.raises(ValueError, match="Failed to generate a set of valid parameters."):
        next(benchmark.Fuzzer(seed=0, **impossible).take(1))
    messages = []
    for module in (benchmark, torch_benchmark):
        cycle = [_chosen(module, name, {module.ParameterAlias(target): 1.0}) for name, target in ("ab", "ba")]
        with pytest.raises(ValueError, match="ParameterAlias cycle detected") as raised:
            next(module.Fuzzer(cycle + [module.FuzzedParameter("c", 1, 2, "uniform")], [], seed=0).take(1))
        messages.append(str(raised.value).replace("chainrule", "torch"))
    assert messages[0] == messages[1]
    assert repr(benchmark.ParameterAlias("k0")) == repr(torch_benchmark.ParameterAlias("k0")) == "ParameterAlias[alias_to: k0]"


def test_timing_chainrule_code_and_comparing():
    x = chainrule.ones(64, 64)
    results = [
        benchmark.Timer(stmt, globals={"x": x}, label="products", sub_label="64x64", description=name).blocked_autorange(min_run_time=0.02)
        for stmt, name in (("x @ x", "matmul"), ("torch.mul(x, x)", "mul"))
    ]
    lines = str(benchmark.Compare(results)).splitlines()
    assert "products" in lines[0] and "matmul" in lines[1] and "mul" in lines[1] and lines[2].startswith("1 threads: ---")
    assert lines[3].strip().startswith("64x64  |") and re.fullmatch(r"Times are in (nano|micro|milli)seconds \((ns|us|ms)\)\.", lines[-1])
