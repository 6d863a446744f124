"""``Timer``: time a statement the careful way, as ``torch.utils.benchmark.Timer`` does.

It runs on Python's ``timeit`` machinery, with PyTorch's differences: the statement sees ``torch``
(here chainrule) without importing it, runs on ``num_threads`` threads (one by default, so numbers
compare across machines), is warmed up before it is timed, and comes back as a ``Measurement``.
``blocked_autorange`` picks a block size long enough to dwarf the clock's own cost and repeats blocks
for at least ``min_run_time`` seconds; ``adaptive_autorange`` repeats until the spread is small.
"""
import enum
import textwrap
import timeit

import chainrule
from chainrule.utils.benchmark.utils import common

__all__ = ["Timer", "timer", "Language"]


def timer():
    """The clock a Timer reads (seconds), once queued accelerator work has finished."""
    chainrule.accelerator.synchronize()
    return timeit.default_timer()


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


def _as_block(code):
    """Code written indented inside a function or a triple-quoted string, as a block of its own:
    dedented, without the newline after the opening quotes or the trailing blank space."""
    code = textwrap.dedent(code)
    return (code[1:] if code and code[0] == "\n" else code).rstrip()


class Timer:
    """Time ``stmt`` (a string of Python) after ``setup``, with the names in ``globals`` (and
    ``torch``) visible.

    ``label``, ``sub_label`` and ``description`` name the timing in reports and in Compare's table
    (label: its title; sub_label: its row; description: its column); ``env`` marks timings of the
    same task in different environments (an A/B test), which Compare keeps apart.
    ``num_threads``: the threads matrix products run on while it is timed (``set_num_threads``).
    ``language``: Python only (PyTorch also compiles C++ statements; chainrule has no C++ side).
    """

    def __init__(
        self, stmt="pass", setup="pass", global_setup="", timer=timer, globals=None, label=None, sub_label=None,
        description=None, env=None, num_threads=1, language=Language.PYTHON,
    ):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language in (Language.CPP, "cpp", "c++"):
            raise ValueError("chainrule's Timer times Python statements only (it has no C++ side to compile "
                             "a C++ one against); write the statement in Python, with language=Language.PYTHON")
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply be moved to `setup`."
            )
        # A copy, so that what timeit adds (``__builtins__``) does not reach the caller's dict.
        self._globals = dict(globals or {})
        self._globals.setdefault("torch", chainrule)
        stmt, setup = _as_block(stmt), _as_block(setup)
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=dict(self._globals))
        self._task_spec = common.TaskSpec(stmt, setup, global_setup, label, sub_label, description, env, num_threads)

    def _timeit(self, number):
        # Reading a clock takes tens of nanoseconds: no real timing is under 1 ns (nor divides by 0).
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number=1000000):
        """One measurement of ``number`` runs (after a warm-up of number // 100, at least 2)."""
        with common.set_torch_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))
            return common.Measurement(number_per_run=number, raw_times=[self._timeit(number=number)], task_spec=self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _threaded_measurement_loop(self, number, stop_hook, min_run_time, max_run_time=None, callback=None):
        """Blocks of ``number`` runs until ``min_run_time`` seconds are spent and ``stop_hook(times)``
        agrees (or ``max_run_time`` seconds are spent)."""
        total_time = 0.0
        can_stop = False
        times = []
        with common.set_torch_threads(self._task_spec.num_threads):
            while total_time < min_run_time or not can_stop:
                time_spent = self._timeit(number)
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time):
        """Runs per block: ten times more until the clock's own cost is at most 1e-4 of a block and a
        block takes a thousandth of ``min_run_time`` (or more than all of it). Warms up too."""
        with common.set_torch_threads(self._task_spec.num_threads):
            overhead = chainrule.tensor([self._timeit(0) for _ in range(5)]).median().item()
            number = 1
            while True:
                time_taken = self._timeit(number)
                if overhead / time_taken <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time:
                    break
                if number * 10 > 2147483647:  # PyTorch's limit: a C++ int counts the runs
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of a fitting size (see ``_estimate_block_size``), repeated for at least
        ``min_run_time`` seconds; ``callback(number, seconds)`` hears of each block."""
        number = self._estimate_block_size(min_run_time)
        times = self._threaded_measurement_loop(number, lambda times: True, min_run_time=min_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Blocks until, after ``min_run_time`` seconds and more than 3 blocks, the interquartile range
        is under ``threshold`` of the median (or ``max_run_time`` seconds have passed)."""
        number = self._estimate_block_size(min_run_time=0.05)

        def confident(times):
            return len(times) > 3 and common.Measurement(number, times, self._task_spec).meets_confidence(threshold=threshold)

        times = self._threaded_measurement_loop(number, confident, min_run_time, max_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)
