"""``chainrule.utils.benchmark``, as ``torch.utils.benchmark``: timing code the careful way, and
comparing the timings.

* ``Timer`` (``timer.py``) times a statement: ``Timer("x @ x", globals={"x": x}).blocked_autorange()``;
* ``Measurement`` (``measurement.py``) holds the times and reports their median and spread;
* ``Compare`` (``compare.py``) lays many measurements out as tables;
* ``Fuzzer``, ``FuzzedParameter``, ``FuzzedTensor`` (``fuzzer.py``) make random, reproducible
  inputs to time, the same as PyTorch's for the same seed.

PyTorch's module paths (``torch.utils.benchmark.utils.common`` and the others) lead to these files
through ``chainrule.utils.benchmark.utils``. Not here: timing C++ and counting instructions with
Callgrind (PyTorch's ``Language.CPP``, ``collect_callgrind``, ``CallgrindStats``), and the sparse
fuzzers, as chainrule has no sparse tensors.
"""
from chainrule.utils.benchmark import utils
from chainrule.utils.benchmark.compare import Colorize, Compare
from chainrule.utils.benchmark.fuzzer import FuzzedParameter, FuzzedTensor, Fuzzer, ParameterAlias
from chainrule.utils.benchmark.measurement import (
    Measurement,
    TaskSpec,
    ordered_unique,
    select_unit,
    set_torch_threads,
    trim_sigfig,
    unit_to_english,
)
from chainrule.utils.benchmark.timer import Language, Timer, timer

__all__ = [
    "Colorize", "Compare", "FuzzedParameter", "FuzzedTensor", "Fuzzer", "Language", "Measurement", "ParameterAlias",
    "TaskSpec", "Timer", "ordered_unique", "select_unit", "set_torch_threads", "timer", "trim_sigfig", "unit_to_english",
]
