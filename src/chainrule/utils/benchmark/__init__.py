"""``chainrule.utils.benchmark``, as ``torch.utils.benchmark``: timing a statement the careful way.

``Timer(stmt, setup, globals=...)`` times ``stmt`` with Python's ``timeit`` machinery; ``timeit(n)``
runs it n times once, ``blocked_autorange()`` picks a block size long enough to dwarf the clock's
own overhead and repeats blocks for at least ``min_run_time`` seconds. The ``Measurement`` reports
the median and interquartile range per run, and warns when the spread suggests a noisy machine;
``Compare`` tabulates many of them; ``Fuzzer`` draws random sizes and tensors to time::

    from chainrule.utils import benchmark

    t = benchmark.Timer(stmt="x @ x", globals={"x": x}, label="matmul", description="chainrule")
    print(t.blocked_autorange(min_run_time=0.2))

The parts live where PyTorch keeps them (``utils/common.py``, ``utils/timer.py``,
``utils/compare.py``, ``utils/fuzzer.py``); PyTorch's C++ timing (Callgrind) has no counterpart.
"""
from chainrule.utils.benchmark.utils.common import (
    Measurement,
    TaskSpec,
    ordered_unique,
    select_unit,
    set_torch_threads,
    trim_sigfig,
    unit_to_english,
)
from chainrule.utils.benchmark.utils.compare import Colorize, Compare
from chainrule.utils.benchmark.utils.fuzzer import FuzzedParameter, FuzzedTensor, Fuzzer, ParameterAlias
from chainrule.utils.benchmark.utils.timer import Language, Timer, timer

__all__ = [
    "TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig", "ordered_unique", "set_torch_threads",
    "Timer", "timer", "Language", "Colorize", "Compare", "Fuzzer", "FuzzedParameter", "ParameterAlias", "FuzzedTensor",
]
