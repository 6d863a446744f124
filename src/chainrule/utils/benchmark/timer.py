"""``Timer``: timing a Python statement carefully, on top of the standard library's ``timeit``.

What it adds to ``timeit.Timer``: a warm-up before measuring (first calls pay for caches and lazy
set-up), the compute threads fixed for the measurement (``num_threads``, one by default, so that
timings are comparable), ``chainrule`` visible to the statement as ``torch`` without an import,
labels that ``Compare`` lays out as tables, and replicates: ``blocked_autorange`` returns many
block times, from which a ``Measurement`` reports a median and a spread rather than one number.
"""
import enum
import textwrap
import timeit as timeit_module

import chainrule
from chainrule.utils.benchmark.measurement import Measurement, TaskSpec, set_torch_threads

__all__ = ["Timer", "timer", "Language"]

#: The least time a block is reported to take, in seconds.
_SHORTEST_TIME = 1e-9
#: Block sizes stop growing here: ``timeit`` counts runs in a C int.
_LARGEST_BLOCK = 2**31 - 1


def timer():
    """The clock a ``Timer`` reads by default: ``timeit``'s (chainrule computes on the CPU, so
    there is no device to wait for before reading it)."""
    return timeit_module.default_timer()


class Language(enum.Enum):
    """The language of the timed statement. chainrule times Python; ``CPP`` is named for code
    that passes it along, and refused by ``Timer``."""

    PYTHON = 0
    CPP = 1


def _as_written(code):
    """Code as the user wrote it inside a triple-quoted string: common indentation removed, the
    newline right after the opening quotes and the trailing whitespace dropped."""
    code = textwrap.dedent(code)
    if code.startswith("\n"):
        code = code[1:]
    return code.rstrip()


class Timer:
    """Time ``stmt`` (Python source) after running ``setup`` once, with ``globals`` visible.

    ``label``, ``sub_label``, ``description`` and ``env`` name the measurement for ``Compare``
    (title, row, column, environment); ``num_threads`` is the number of compute threads the
    statement runs on. ``timer`` is the clock (``timer()`` by default). ``chainrule`` is in the
    statement's globals as ``torch``, so ``"torch.ones(3) * 2"`` needs no import.
    """

    def __init__(
        self,
        stmt="pass",
        setup="pass",
        global_setup="",
        timer=timer,
        globals=None,
        label=None,
        sub_label=None,
        description=None,
        env=None,
        num_threads=1,
        language=Language.PYTHON,
    ):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError(
                "chainrule's Timer runs Python statements only: timing C++ (Language.CPP) needs "
                "PyTorch's C++ extension toolchain. Time the Python call instead."
            )
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply be moved to `setup`."
            )
        namespace = {"torch": chainrule, **(globals or {})}
        stmt, setup = _as_written(stmt), _as_written(setup)
        self._timer = timeit_module.Timer(stmt=stmt, setup=setup, timer=timer, globals=namespace)
        self._task_spec = TaskSpec(stmt, setup, global_setup, label, sub_label, description, env, num_threads)

    def _timeit(self, number):
        """Seconds for ``number`` runs, never quite zero (a measurement divides by it)."""
        seconds = self._timer.timeit(number)
        return max(seconds, _SHORTEST_TIME)

    def timeit(self, number=1000000):
        """One block of ``number`` runs, after a warm-up of a hundredth as many (at least two), as
        ``timeit.Timer.timeit`` but returning a ``Measurement``."""
        with set_torch_threads(self._task_spec.num_threads):
            self._timeit(max(int(number // 100), 2))
            return Measurement(number, [self._timeit(number)], self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _block_size(self, min_run_time):
        """How many runs to time at once.

        Reading the clock costs time too (measured here as the median of five empty blocks). A
        block must be long enough that this overhead is at most 1/10,000 of it and that it takes
        at least a thousandth of ``min_run_time``; the size grows tenfold until it is, or until
        one block alone fills ``min_run_time``. Smaller blocks would give more replicates, larger
        ones a cleaner time each: this is the smallest block that is clean enough.
        """
        with set_torch_threads(self._task_spec.num_threads):
            overhead = sorted(self._timeit(0) for _ in range(5))[2]
            number = 1
            while number * 10 <= _LARGEST_BLOCK:
                taken = self._timeit(number)
                if taken > min_run_time or (overhead / taken <= 1e-4 and taken >= min_run_time / 1000):
                    break
                number *= 10
        return number

    def _time_blocks(self, number, enough, min_run_time, max_run_time=None, callback=None):
        """Block times of ``number`` runs, until ``min_run_time`` seconds are spent and
        ``enough(times)`` agrees, or more than ``max_run_time`` seconds are spent.
        ``callback(number, seconds)`` hears of each block."""
        times, spent = [], 0.0
        satisfied = False
        with set_torch_threads(self._task_spec.num_threads):
            while spent < min_run_time or not satisfied:
                times.append(self._timeit(number))
                spent += times[-1]
                if callback:
                    callback(number, times[-1])
                satisfied = enough(times)
                if max_run_time and spent > max_run_time:
                    break
        return times

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of a size fitted to the statement (see ``_block_size``), timed one after another
        for at least ``min_run_time`` seconds: many replicates at little cost in clock overhead."""
        number = self._block_size(min_run_time)
        times = self._time_blocks(number, lambda times: True, min_run_time, callback=callback)
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Like ``blocked_autorange``, but goes on until the spread settles: at least
        ``min_run_time`` seconds and four blocks, and the interquartile range under ``threshold``
        of the median, or ``max_run_time`` seconds in all."""
        number = self._block_size(min_run_time=0.05)

        def settled(times):
            return len(times) > 3 and Measurement(number, times, self._task_spec).meets_confidence(threshold)

        times = self._time_blocks(number, settled, min_run_time, max_run_time, callback)
        return Measurement(number, times, self._task_spec)

    def collect_callgrind(self, number=100, *, repeats=None, collect_baseline=True, retain_out_file=False):
        raise NotImplementedError(
            "chainrule's Timer measures wall time only: counting instructions under Valgrind's "
            "Callgrind is not supported. Use blocked_autorange() or adaptive_autorange()."
        )
