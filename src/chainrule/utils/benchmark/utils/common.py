"""What a timing is: the task that was timed (``TaskSpec``), its times (``Measurement``) and the
helpers that print times for people (``select_unit``, ``trim_sigfig``).

A ``Measurement`` keeps the raw seconds of each block of ``number_per_run`` runs and reads them per
run. Its statistics are PyTorch's, computed with the same tensor arithmetic (the quantiles in
float64, the significant-figure estimate in float32), so the same times give the same report, digit
for digit. It lives in this module, as PyTorch's does in ``torch.utils.benchmark.utils.common``: its
printed name and the name a pickle records are this module's.
"""
import collections
import contextlib
import dataclasses
import textwrap

import chainrule

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig", "ordered_unique", "set_torch_threads"]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # seconds: no timing is trusted below 25 ns

# Every timing varies a little; a spread (interquartile range over median) past these is reported.
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


@dataclasses.dataclass(repr=False, frozen=True)
class TaskSpec:
    """What a Timer times and how it is labelled (all but its globals): the statement, its setup,
    and the ``label`` / ``sub_label`` / ``description`` / ``env`` that place it in Compare's tables."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self):
        """The label (else the statement), with the sub-label after a colon."""
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
        """The lines naming the task at the top of a Measurement's report."""
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{section}\n" if "\n" in section else section for section in sections if section)


_TASKSPEC_FIELDS = tuple(field.name for field in dataclasses.fields(TaskSpec))


@dataclasses.dataclass(repr=False)
class Measurement:
    """The times of one timed task: ``raw_times[i]`` seconds for block i of ``number_per_run`` runs.

    Read per run: ``times`` (seconds), ``median``, ``mean``, ``iqr`` (interquartile range),
    ``significant_figures`` (how many digits the spread allows; Compare trims to them). The task's
    fields (``stmt``, ``label``, ``sub_label``, ``description``, ``env``, ``num_threads``...) read
    through. Measurements pickle, and compare equal when their times and tasks are equal.
    """

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict | None = None  # the user's own payload, kept as given

    # The statistics, computed on first use (class values until then, so a Measurement unpickled
    # from before they were kept computes them too).
    _sorted_times = ()
    _warnings = ()
    _median = _mean = _p25 = _p75 = -1.0

    def __getattr__(self, name):
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self):
        """Seconds per run of each block."""
        return [time / self.number_per_run for time in self.raw_times]

    @property
    def median(self):
        self._lazy_init()
        return self._median

    @property
    def mean(self):
        self._lazy_init()
        return self._mean

    @property
    def iqr(self):
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self):
        """floor(log10(median / confidence interval)), between 1 and 4: the interval is 1.645 standard
        deviations of the middle half of the times over sqrt(their count), and at least 25 ns."""
        self._lazy_init()
        count = len(self._sorted_times)
        middle_half = self._sorted_times[count // 4 : int(chainrule.tensor(3 * count / 4).ceil())]
        spread = chainrule.tensor(middle_half).std(unbiased=False).item()
        root_count = chainrule.tensor(len(middle_half)).sqrt().item()
        interval = max(1.645 * spread / root_count, _MIN_CONFIDENCE_INTERVAL)
        relative = chainrule.tensor(self._median / interval).log10().item()
        return min(max(int(chainrule.tensor(relative).floor()), 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self):
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self):
        if not self.raw_times or self._sorted_times:
            return
        self._sorted_times = tuple(sorted(self.times))
        ordered = chainrule.tensor(self._sorted_times, dtype=chainrule.float64)
        self._median = ordered.quantile(0.5).item()
        self._mean = ordered.mean().item()
        self._p25 = ordered.quantile(0.25).item()
        self._p75 = ordered.quantile(0.75).item()
        if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
            reason = "This suggests significant environmental influence."
        elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
            reason = "This could indicate system fluctuation."
        else:
            return
        self._warnings = (
            f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% "
            f"of the median measurement.\n           {reason}",
        )

    def meets_confidence(self, threshold=_IQR_WARN_THRESHOLD):
        """Whether the interquartile range is under ``threshold`` of the median."""
        return self.iqr / self.median < threshold

    @property
    def title(self):
        return self.task_spec.title

    @property
    def as_row_name(self):
        """The name of the task's row in Compare's table: its sub-label, else its statement."""
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self):
        """The task, the median (and the interquartile range from 4 blocks on), the block count and
        size, and a warning when the spread is large::

            <chainrule.utils.benchmark.utils.common.Measurement object at 0x7f395b6ac110>
            Broadcasting add (4x8)
              Median: 5.73 us
              IQR:    2.25 us (4.01 to 6.26)
              372 measurements, 100 runs per measurement, 1 thread
        """
        self._lazy_init()
        count = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        lines = [
            super().__repr__(),
            self.task_spec.summarize(),
            f"  {'Median: ' if count > 1 else ''}{self._median / scale:.2f} {unit}",
        ]
        if count >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({self._p25 / scale:.2f} to {self._p75 / scale:.2f})")
        threads = self.num_threads
        lines.append(
            f"  {count} measurement{'s' if count > 1 else ''}, {self.number_per_run} runs "
            f"{'per measurement,' if count > 1 else ','} {threads} thread{'s' if threads > 1 else ''}"
        )
        return "\n".join(lines + list(self._warnings)).strip()

    @staticmethod
    def merge(measurements):
        """Replicates of the same task as one Measurement of one run per time (metadata dropped, as
        it may differ between replicates), in the order the tasks first appear."""
        grouped = collections.defaultdict(list)
        for measurement in measurements:
            grouped[measurement.task_spec].append(measurement)
        return [
            Measurement(number_per_run=1, raw_times=[time for each in group for time in each.times], task_spec=task_spec)
            for task_spec, group in grouped.items()
        ]


def select_unit(t):
    """The unit ``t`` seconds reads best in, with its size: ('ns', 1e-9), ('us', 1e-6), ('ms', 1e-3)
    or ('s', 1)."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(chainrule.tensor(t).log10().item() // 3), "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[unit]


def unit_to_english(unit):
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[unit]


def trim_sigfig(x, n):
    """``x`` rounded to ``n`` significant figures (3.14159, 2 -> 3.1), in float32 as PyTorch rounds it."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = int(chainrule.tensor(x).abs().log10().ceil().item())
    scale = 10 ** (magnitude - n)
    return float(chainrule.tensor(x / scale).round() * scale)


def ordered_unique(elements):
    """The distinct elements, in the order they first appear."""
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n):
    """Run the block on ``n`` threads (``chainrule.set_num_threads``), then go back to the threads before."""
    prior_num_threads = chainrule.get_num_threads()
    try:
        chainrule.set_num_threads(n)
        yield
    finally:
        chainrule.set_num_threads(prior_num_threads)
