"""``chainrule.utils.benchmark``, as ``torch.utils.benchmark``: timing a statement the careful way.

``Timer(stmt, setup, globals=...)`` times ``stmt`` with Python's ``timeit`` machinery; ``timeit(n)``
runs it n times once, ``blocked_autorange()`` picks a block size long enough to dwarf the timer's
own overhead and repeats blocks for at least ``min_run_time`` seconds. The ``Measurement`` reports
the median and interquartile range per run, and warns when the spread suggests a noisy machine;
``Compare`` tabulates many of them::

    from chainrule.utils import benchmark

    t = benchmark.Timer(stmt="x @ x", globals={"x": x}, label="matmul", description="chainrule")
    print(t.blocked_autorange(min_run_time=0.2))
"""
import dataclasses
import enum
import math
import statistics
import textwrap
import timeit

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # seconds: no timing is trusted below 25 ns
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What was timed and how it is labelled."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str = None
    sub_label: str = None
    description: str = None
    env: str = None
    num_threads: int = 1

    @property
    def title(self):
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self):
        if self.setup == "pass" or not self.setup:
            return ""
        return f"setup:\n{textwrap.indent(self.setup, '  ')}" if "\n" in self.setup else f"setup: {self.setup}"

    def summarize(self):
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{section}\n" if "\n" in section else section for section in sections if section)


class Measurement:
    """The times of ``number_per_run`` runs each (``raw_times``, seconds), read per run: ``times``,
    ``median``, ``mean``, ``iqr``; ``significant_figures`` is how many digits the spread allows."""

    def __init__(self, number_per_run, raw_times, task_spec, metadata=None):
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.metadata = metadata

    def __getattr__(self, name):  # stmt, label, sub_label, description, num_threads... from the task
        if name != "task_spec" and name in TaskSpec.__dataclass_fields__ or name == "title":
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute {name!r}")

    @property
    def times(self):
        return [time / self.number_per_run for time in self.raw_times]

    def _quantile(self, q):
        ordered = sorted(self.times)
        position = q * (len(ordered) - 1)
        below = math.floor(position)
        above = min(below + 1, len(ordered) - 1)
        return ordered[below] + (ordered[above] - ordered[below]) * (position - below)

    @property
    def median(self):
        return self._quantile(0.5)

    @property
    def mean(self):
        return statistics.fmean(self.times)

    @property
    def iqr(self):
        return self._quantile(0.75) - self._quantile(0.25)

    @property
    def significant_figures(self):
        ordered = sorted(self.times)
        middle = ordered[len(ordered) // 4 : math.ceil(3 * len(ordered) / 4)]
        spread = statistics.pstdev(middle) if len(middle) > 1 else 0.0
        interval = max(1.645 * spread / math.sqrt(len(middle)), _MIN_CONFIDENCE_INTERVAL)
        return min(max(int(math.floor(math.log10(self.median / interval))), 1), _MAX_SIGNIFICANT_FIGURES)

    def meets_confidence(self, threshold=_IQR_WARN_THRESHOLD):
        return self.iqr / self.median < threshold

    @property
    def has_warnings(self):
        return bool(self._warnings())

    def _warnings(self):
        if len(self.times) < 4 or self.meets_confidence(_IQR_WARN_THRESHOLD):
            return []
        if self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
            reason = "This could indicate system fluctuation."
        else:
            reason = "This suggests significant environmental influence."
        return [f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% of the median measurement.\n           {reason}"]

    def __repr__(self):
        count = len(self.raw_times)
        unit, scale = select_unit(self.median)
        lines = [object.__repr__(self), self.task_spec.summarize(), f"  {'Median: ' if count > 1 else ''}{self.median / scale:.2f} {unit}"]
        if count >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({self._quantile(0.25) / scale:.2f} to {self._quantile(0.75) / scale:.2f})")
        threads = self.task_spec.num_threads
        lines.append(
            f"  {count} measurement{'s' if count > 1 else ''}, {self.number_per_run} runs "
            f"{'per measurement,' if count > 1 else ','} {threads} thread{'s' if threads > 1 else ''}"
        )
        return "\n".join(lines + self._warnings())

    @staticmethod
    def merge(measurements):
        """Measurements of the same task as one (their times together), one per task."""
        grouped = {}
        for measurement in measurements:
            grouped.setdefault(measurement.task_spec, []).append(measurement)
        return [
            Measurement(1, [time for each in group for time in each.times], spec)
            for spec, group in grouped.items()
        ]


class Timer:
    """Time ``stmt`` (a string of Python, after ``setup``, with ``globals`` visible); ``label``,
    ``sub_label`` and ``description`` name it in tables. ``num_threads`` is recorded (set the
    BLAS threads with ``chainrule.set_num_threads``)."""

    def __init__(
        self, stmt="pass", setup="pass", global_setup="", timer=timeit.default_timer, globals=None, label=None,
        sub_label=None, description=None, env=None, num_threads=1, language=Language.PYTHON,
    ):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError("chainrule's Timer runs Python statements only (language=Language.PYTHON)")
        self._globals = dict(globals or {})
        self._timer = timeit.Timer(stmt=textwrap.dedent(stmt), setup=textwrap.dedent(setup), timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(stmt, setup, global_setup, label, sub_label, description, env, num_threads)

    def _measure(self, number):
        return self._timer.timeit(number)

    def timeit(self, number=1000000):
        """One measurement of ``number`` runs (after a first call that warms up)."""
        self._measure(number=max(int(number // 100), 2))
        return Measurement(number, [self._measure(number)], self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _block_size(self, min_run_time):
        """Runs per block: ten times more until the timer's own overhead is 1e-4 of a block and a
        block takes a thousandth of ``min_run_time`` (or the whole of it)."""
        overhead = statistics.median(self._measure(0) for _ in range(5))
        number = 1
        while True:
            taken = self._measure(number)
            if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or taken > min_run_time or number * 10 > 2**31 - 1:
                return number
            number *= 10

    def _blocks(self, number, min_run_time, stop, max_run_time=None, callback=None):
        times, total = [], 0.0
        while total < min_run_time or not stop(times):
            spent = self._measure(number)
            times.append(spent)
            total += spent
            if callback:
                callback(number, spent)
            if max_run_time and total > max_run_time:
                break
        return times

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of a fitting size, repeated for at least ``min_run_time`` seconds."""
        number = self._block_size(min_run_time)
        return Measurement(number, self._blocks(number, min_run_time, lambda times: True, callback=callback), self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Blocks until the interquartile range is within ``threshold`` of the median (or
        ``max_run_time`` seconds have passed)."""
        number = self._block_size(min_run_time=0.05)

        def confident(times):
            return len(times) > 3 and Measurement(number, times, self._task_spec).meets_confidence(threshold)

        return Measurement(number, self._blocks(number, min_run_time, confident, max_run_time, callback), self._task_spec)


def select_unit(t):
    """The unit a time of ``t`` seconds reads best in: ('ns', 1e-9), ('us', 1e-6), ('ms', 1e-3) or ('s', 1)."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(t) // 3) if t > 0 else -3, "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[unit]


def trim_sigfig(x, n):
    """``x`` rounded to ``n`` significant figures."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    if x == 0:
        return 0.0
    scale = 10 ** (math.ceil(math.log10(abs(x))) - n)
    return float(round(x / scale) * scale)


class Compare:
    """Measurements as tables: one per label, a row per sub-label (and thread count), a column per
    description, each cell the median in one unit for the table."""

    def __init__(self, results):
        self._results = list(results)
        self._trim = False

    def trim_significant_figures(self):
        self._trim = True

    def colorize(self, rowwise=False):
        """Colours mark the fastest and slowest cells in PyTorch's terminal output: not here."""

    def extend_results(self, results):
        self._results.extend(results)

    def __str__(self):
        return "\n".join(self._table(label) for label in dict.fromkeys(m.task_spec.label for m in self._results))

    def print(self):
        print(str(self))

    def _table(self, label):
        measurements = [m for m in Measurement.merge(self._results) if m.task_spec.label == label]
        columns = list(dict.fromkeys(m.task_spec.description or "" for m in measurements))
        rows = list(dict.fromkeys((m.task_spec.num_threads, m.task_spec.sub_label or m.task_spec.stmt) for m in measurements))
        unit, scale = select_unit(min(m.median for m in measurements))
        cells = {}
        for m in measurements:
            value = m.median / scale
            digits = m.significant_figures if self._trim else 4
            cells[(m.task_spec.num_threads, m.task_spec.sub_label or m.task_spec.stmt), m.task_spec.description or ""] = (
                f"{trim_sigfig(value, digits):.1f}" if self._trim else f"{value:.1f}"
            )
        name_width = max(len(row[1]) for row in rows) + 4
        widths = [max(len(column), *(len(cells.get((row, column), "")) for row in rows)) + 4 for column in columns]
        header = " " * name_width + "|" + "|".join(f"{column:^{width}}" for column, width in zip(columns, widths))
        title = f" {label} " if label else ""
        width = len(header)
        lines = [f"[{title:-^{width - 2}}]", header]
        for threads in dict.fromkeys(row[0] for row in rows):
            lines.append(f"{threads} threads: ".ljust(width, "-"))
            for row in (row for row in rows if row[0] == threads):
                values = [f"{cells.get((row, column), ''):^{width}}" for column, width in zip(columns, widths)]
                lines.append(f"{row[1]:>{name_width - 2}}  |" + "|".join(values))
        names = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}
        return "\n".join(lines + ["", f"Times are in {names[unit]} ({unit}).", ""])
