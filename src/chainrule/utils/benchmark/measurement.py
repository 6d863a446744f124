"""What was timed (``TaskSpec``) and what the timing found (``Measurement``), with the small helpers
that turn seconds into readable numbers (``select_unit``, ``trim_sigfig``).

PyTorch keeps these in ``torch.utils.benchmark.utils.common``; chainrule makes that path import
this file, and names it as the classes' module so that their reprs and pickles read as PyTorch's.

A ``Measurement`` holds raw block times: ``raw_times[i]`` is how long one block of
``number_per_run`` runs took. Everything reported is per run (``times``), and summarised by the
median and the interquartile range, which a few slow outliers (a page fault, another process) do
not drag around as they drag the mean.
"""
import contextlib
import dataclasses
import functools
import math
import textwrap
import typing

import chainrule
from chainrule.utils.benchmark import scalar_math

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig", "ordered_unique", "set_torch_threads"]

#: Where PyTorch keeps these classes; ``chainrule.utils.benchmark.utils`` makes it importable.
PYTORCH_MODULE = "chainrule.utils.benchmark.utils.common"

#: A table never shows more digits than this, however steady the times.
MOST_SIGNIFICANT_FIGURES = 4
#: The timer itself is not trusted to resolve differences smaller than this (seconds).
TIMER_RESOLUTION = 25e-9
#: A spread (interquartile range over median) from which a measurement carries a warning, and
#: from which that warning says the environment, not chance, is to blame.
NOISY_SPREAD = 0.1
VERY_NOISY_SPREAD = 0.25


def _labelled(text, sub_label):
    return text + (f": {sub_label}" if sub_label else "")


def _indented(text):
    return textwrap.indent(text, "  ")


@dataclasses.dataclass(frozen=True, repr=False)
class TaskSpec:
    """Everything that identifies a timing except its globals: the code and its labels.

    ``label`` names what is measured, ``sub_label`` tells apart variants of it (a table's rows),
    ``description`` the settings compared (a table's columns), ``env`` the environment (A/B tests
    of two builds), ``num_threads`` the compute threads it ran on. Equal specs are the same task,
    so ``Measurement.merge`` pools their times.
    """

    stmt: str
    setup: str
    global_setup: str = ""
    label: typing.Optional[str] = None
    sub_label: typing.Optional[str] = None
    description: typing.Optional[str] = None
    env: typing.Optional[str] = None
    num_threads: int = 1

    @property
    def title(self):
        """The label (or a one-line statement), with the sub-label after a colon; a statement of
        several lines is shown indented under ``stmt:``."""
        if self.label is not None:
            return _labelled(self.label, self.sub_label)
        if "\n" not in self.stmt:
            return _labelled(self.stmt, self.sub_label)
        sub_label = f" ({self.sub_label})" if self.sub_label else ""
        return f"stmt:{sub_label}\n{_indented(self.stmt)}"

    def setup_str(self):
        """The setup as a report shows it; nothing for an empty setup or ``pass``."""
        if not self.setup or self.setup == "pass":
            return ""
        if "\n" in self.setup:
            return f"setup:\n{_indented(self.setup)}"
        return f"setup: {self.setup}"

    def summarize(self):
        """Title, description and setup, one section per line; a section of several lines is
        followed by an empty line to set it apart."""
        sections = [section for section in (self.title, self.description, self.setup_str()) if section]
        return "\n".join(section + "\n" if "\n" in section else section for section in sections)


_TASK_FIELDS = frozenset(field.name for field in dataclasses.fields(TaskSpec))


def _quantile(ordered, q):
    """The ``q`` quantile of sorted values, interpolated linearly between the two nearest ones (the
    default of ``torch.quantile``). The blend starts from whichever end is nearer, as ``torch.lerp``
    computes it, so the result agrees with PyTorch's to the last bit."""
    position = q * (len(ordered) - 1)
    low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
    weight = position - math.floor(position)
    if weight < 0.5:
        return low + weight * (high - low)
    return high - (high - low) * (1 - weight)


class _Summary(typing.NamedTuple):
    """The per-run times in order and their summary; -1 where there are no times (PyTorch's
    placeholder)."""

    ordered: tuple
    median: float
    mean: float
    lower_quartile: float
    upper_quartile: float


@dataclasses.dataclass(repr=False)
class Measurement:
    """The times of one task: ``raw_times`` in seconds per block of ``number_per_run`` runs.

    Statistics are per run: ``times``, ``median``, ``mean``, ``iqr`` (upper minus lower quartile);
    ``significant_figures`` is how many digits the spread justifies. The task's fields (``stmt``,
    ``label``, ``sub_label``, ``description``, ``env``, ``num_threads``...) read through.
    ``metadata`` is for the caller's own notes. A measurement pickles, so results from separate
    runs (two builds, two machines) can be compared later.
    """

    number_per_run: int
    raw_times: typing.List[float]
    task_spec: TaskSpec
    metadata: typing.Optional[dict] = None

    def __getattr__(self, name):
        if name in _TASK_FIELDS:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __getstate__(self):
        """Pickle the times and the task only: the statistics are worked out again when asked for."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @property
    def times(self):
        """Seconds per run: each block's time shared among its runs."""
        return [block_time / self.number_per_run for block_time in self.raw_times]

    @functools.cached_property
    def _summary(self):
        ordered = tuple(sorted(self.times))
        if not ordered:
            return _Summary(ordered, -1.0, -1.0, -1.0, -1.0)
        return _Summary(
            ordered, _quantile(ordered, 0.5), math.fsum(ordered) / len(ordered), _quantile(ordered, 0.25), _quantile(ordered, 0.75)
        )

    @property
    def median(self):
        return self._summary.median

    @property
    def mean(self):
        return self._summary.mean

    @property
    def iqr(self):
        return self._summary.upper_quartile - self._summary.lower_quartile

    @property
    def significant_figures(self):
        """How many digits of the median are worth printing (1 to 4).

        The middle half of the times (the tails are left out, as in the IQR) gives a standard
        deviation; 1.645 of its standard errors is a rough 90% confidence interval for the median,
        never taken below the timer's resolution. The digits that survive that uncertainty are
        log10(median / interval), rounded down. A rough guide for tables, not a statistical test.
        """
        ordered = self._summary.ordered
        middle = ordered[len(ordered) // 4 : math.ceil(3 * len(ordered) / 4)]
        spread = scalar_math.population_std(middle)
        interval = max(1.645 * spread / scalar_math.sqrt(len(middle)), TIMER_RESOLUTION)
        figures = math.floor(scalar_math.log10(self.median / interval))
        return min(max(figures, 1), MOST_SIGNIFICANT_FIGURES)

    def meets_confidence(self, threshold=NOISY_SPREAD):
        """Whether the spread (IQR over median) is below ``threshold``."""
        return self.iqr / self.median < threshold

    @functools.cached_property
    def _warnings(self):
        if not self._summary.ordered:
            return ()
        if not self.meets_confidence(VERY_NOISY_SPREAD):
            reason = "This suggests significant environmental influence."
        elif not self.meets_confidence(NOISY_SPREAD):
            reason = "This could indicate system fluctuation."
        else:
            return ()
        spread = self.iqr / self.median * 100
        return (f"  WARNING: Interquartile range is {spread:.1f}% of the median measurement.\n           {reason}",)

    @property
    def has_warnings(self):
        return bool(self._warnings)

    @property
    def title(self):
        return self.task_spec.title

    @property
    def env(self):
        return self.task_spec.env

    @property
    def as_row_name(self):
        """The name of this measurement's row in a ``Compare`` table."""
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self):
        """The object, the task, the median (and the quartiles when there are four times or more),
        how many blocks of how many runs, and any warning; for example::

            <torch.utils.benchmark.utils.common.Measurement object at 0x7f2c1d9e4b50>
            Batched dot: 64x64
            setup: from __main__ import batched_dot
              Median: 12.40 us
              IQR:    0.31 us (12.27 to 12.58)
              161 measurements, 100 runs per measurement, 1 thread
        """
        summary = self._summary
        count = len(summary.ordered)
        unit, scale = select_unit(summary.median)
        lines = [object.__repr__(self), self.task_spec.summarize()]
        lines.append(f"  {'Median: ' if count > 1 else ''}{summary.median / scale:.2f} {unit}")
        if count >= 4:
            quartiles = f"{summary.lower_quartile / scale:.2f} to {summary.upper_quartile / scale:.2f}"
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({quartiles})")
        blocks = f"{count} measurement{'s' if count > 1 else ''}"
        runs = f"{self.number_per_run} runs {'per measurement,' if count > 1 else ','}"
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"
        lines.append(f"  {blocks}, {runs} {threads}")
        return "\n".join(lines + list(self._warnings))

    @staticmethod
    def merge(measurements):
        """One measurement per distinct task, pooling the per-run times of its replicates (as one
        run per block, since replicates may use different block sizes); metadata is dropped, as
        replicates may disagree on it."""
        times_of_task = {}
        for measurement in measurements:
            times_of_task.setdefault(measurement.task_spec, []).extend(measurement.times)
        return [Measurement(1, times, task_spec) for task_spec, times in times_of_task.items()]


TaskSpec.__module__ = Measurement.__module__ = PYTORCH_MODULE


#: Time units by the power of a thousand of a time in seconds; anything else reads in seconds.
_UNIT_OF_THOUSANDS = {-3: ("ns", 1e-9), -2: ("us", 1e-6), -1: ("ms", 1e-3)}

_UNIT_NAMES = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}


def select_unit(t):
    """The unit ``t`` seconds reads best in, and its size in seconds: ``("us", 1e-6)`` for 4.5e-6.

    The unit is chosen by ``log10(t) // 3`` (the power of a thousand), worked out on ``t`` held in
    the default dtype as PyTorch works it out, so the boundaries fall where PyTorch's fall.
    """
    return _UNIT_OF_THOUSANDS.get(int(scalar_math.log10(t) // 3), ("s", 1))


def unit_to_english(u):
    """``"us"`` -> ``"microsecond"``."""
    return _UNIT_NAMES[u]


def trim_sigfig(x, n):
    """``x`` rounded to ``n`` significant figures (3.14159, 2 -> 3.1), in the default dtype's
    precision as PyTorch computes it (so 3.1 comes back as float32's 3.0999999046325684)."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    digits_before_point = math.ceil(scalar_math.log10(abs(x)))
    step = 10 ** (digits_before_point - n)  # the place of the last digit kept
    steps = round(scalar_math.held(x / step))  # to the nearest, ties to even, as torch.round
    return scalar_math.held(scalar_math.held(steps) * scalar_math.held(step))


def ordered_unique(elements):
    """The distinct elements, in the order they first appear."""
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n):
    """Run the body on ``n`` compute threads (``chainrule.set_num_threads``), then restore."""
    before = chainrule.get_num_threads()
    try:
        chainrule.set_num_threads(n)
        yield
    finally:
        chainrule.set_num_threads(before)
