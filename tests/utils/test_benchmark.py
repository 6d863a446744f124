"""utils.benchmark against torch.utils.benchmark: the same statistics from the same times, the same
report, and timing that really runs the statement."""
import itertools
import re

import pytest
import torch.utils.benchmark as torch_benchmark

import chainrule
from chainrule.utils import benchmark


def _clock(step):
    """A timer that advances ``step`` seconds each time it is read: every run costs the same."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


def _shape(text):
    """A report with its numbers and object address blanked out."""
    return re.sub(r"0x[0-9a-f]+|\d+(\.\d+)?", "#", text).replace("chainrule.utils.benchmark", "torch.utils.benchmark.utils.common")


@pytest.mark.parametrize("times", [[3e-6], [2e-6, 4e-6, 3e-6, 3.5e-6, 10e-6, 2.5e-6, 3.1e-6]])
def test_measurements_give_pytorchs_statistics_and_report(times):
    for label, setup in ((None, "pass"), ("adds", "y = 1")):
        spec = dict(stmt="x + y", setup=setup, label=label, sub_label="small", description="chainrule")
        ours = benchmark.Measurement(100, [t * 100 for t in times], benchmark.TaskSpec(**spec))
        theirs = torch_benchmark.Measurement(100, [t * 100 for t in times], torch_benchmark.utils.common.TaskSpec(**spec))
        for field in ("median", "mean", "iqr", "significant_figures", "has_warnings", "title"):
            assert getattr(ours, field) == pytest.approx(getattr(theirs, field)), field
        assert ours.times == pytest.approx(theirs.times) and ours.meets_confidence(0.2) == theirs.meets_confidence(0.2)
        assert _shape(repr(ours)) == _shape(repr(theirs))


def test_a_timer_runs_the_statement_as_often_as_it_says():
    calls = []
    timer = benchmark.Timer("record(1)", globals={"record": calls.append}, timer=_clock(1e-3))
    measurement = timer.timeit(number=50)
    assert measurement.number_per_run == 50 and len(measurement.raw_times) == 1
    assert len(calls) == 50 + 2  # and a warm-up of two
    assert measurement.median == pytest.approx(1e-3 / 50)  # one tick of the clock for 50 runs
    calls.clear()
    blocked = benchmark.Timer("record(1)", globals={"record": calls.append}).blocked_autorange(min_run_time=0.02)
    assert len(calls) >= blocked.number_per_run * len(blocked.raw_times) and sum(blocked.raw_times) >= 0.02


def test_timing_chainrule_code_and_comparing():
    x = chainrule.ones(64, 64)
    results = [
        benchmark.Timer(stmt, globals={"x": x}, label="products", sub_label="64x64", description=name).blocked_autorange(min_run_time=0.02)
        for stmt, name in (("x @ x", "matmul"), ("x * x", "mul"))
    ]
    table = str(benchmark.Compare(results))
    assert "products" in table.splitlines()[0] and "matmul" in table and "mul" in table and "64x64" in table
    assert re.search(r"Times are in (nano|micro|milli)seconds \((ns|us|ms)\)\.", table)


@pytest.mark.parametrize(("t", "unit"), [(3e-9, "ns"), (4.5e-6, "us"), (0.02, "ms"), (3.0, "s")])
def test_select_unit_and_trim_sigfig_as_pytorch(t, unit):
    assert benchmark.select_unit(t) == torch_benchmark.select_unit(t) and benchmark.select_unit(t)[0] == unit
    assert benchmark.trim_sigfig(123.456, 2) == pytest.approx(torch_benchmark.utils.common.trim_sigfig(123.456, 2))


def test_bad_statements_are_refused():
    with pytest.raises(ValueError, match="str"):
        benchmark.Timer(stmt=lambda: None)
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        benchmark.Timer().autorange()
