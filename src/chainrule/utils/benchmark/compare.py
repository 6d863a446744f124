"""``Compare``: many measurements laid out as tables, one table per label.

One table, as ``str(Compare(results))`` prints it::

    [------------ Batched dot ------------]
                    |  mul/sum  |   bmm
    1 threads: ----------------------------
          [1, 1]    |     5.8   |    7.9
          [64, 64]  |    12.0   |   10.5
    4 threads: ----------------------------
          [1, 1]    |     6.0   |    8.1
          ...

    Times are in microseconds (us).

* Replicates of one task (equal ``TaskSpec``) are pooled first (``Measurement.merge``).
* A column per ``description``, in the order they first appear.
* A row per (``num_threads``, ``env``, ``sub_label`` or else ``stmt``), sorted by thread count and
  then env (else in order of appearance), under a ruled line per thread count. When the results
  come from several envs, the first row of each env in a thread group names it in parentheses.
* A cell is the median time, all in one unit: the one that suits the table's fastest cell.
  ``trim_significant_figures()`` keeps only the digits each cell's spread justifies;
  ``colorize()`` marks each cell against the fastest of its column (within its thread count) or,
  ``rowwise=True``, of its row; ``highlight_warnings()`` adds ``(! 23%)`` to noisy cells.
"""
import dataclasses
import enum
import math

from chainrule.utils.benchmark import scalar_math
from chainrule.utils.benchmark.measurement import Measurement, ordered_unique, select_unit, trim_sigfig, unit_to_english

__all__ = ["Colorize", "Compare"]

#: Terminal escape codes for the colours, and the one that ends a colour.
_BRIGHT_GREEN = "\033[92m"
_BLUE = "\033[34m"
_DIM_RED = "\033[2m\033[91m"
_RED = "\033[31m"
_BOLD = "\033[1m"
_RESET = "\033[0m"

_CELL_SEPARATOR = "  |  "
_HIGH_VARIANCE_NOTE = "(! XX%) Measurement has high variance, where XX is the IQR / median * 100."


class Colorize(enum.Enum):
    """Against which cells a cell's time is judged when colouring a table."""

    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _colored(text, time, fastest):
    """``text`` coloured by how ``time`` compares with the ``fastest`` it is judged against: bright
    green within 1% (or 100 ns), blue within 10%, dim red from twice as slow, red from five times."""
    if time <= fastest * 1.01 or time <= fastest + 100e-9:
        start = _BRIGHT_GREEN + _BOLD
    elif time <= fastest * 1.1:
        start = _BLUE + _BOLD
    elif time >= fastest * 5:
        start = _RED + _BOLD
    elif time >= fastest * 2:
        start = _DIM_RED
    else:
        return text
    return start + text + _RESET * 2


class _NumberFormat:
    """How one column writes its times: right-aligned to a shared width, with one decimal, or
    when trimming as many as the least certain of its cells justifies (a cell of 3 significant
    figures reading 12.3 allows one decimal; one reading 123 allows none). When warnings are
    highlighted and one of its cells is noisy, each cell keeps room for a ``(! 23%)`` mark."""

    def __init__(self, measurements, scale, trim, highlight):
        measurements = [m for m in measurements if m is not None]
        integer_digits = [math.ceil(scalar_math.log10(m.median / scale)) for m in measurements]
        if trim:
            self.decimals = min(max(m.significant_figures - digits, 0) for m, digits in zip(measurements, integer_digits))
        else:
            self.decimals = 1
        self.width = max(integer_digits) + self.decimals + (1 if self.decimals else 0)
        self.trim = trim
        self.mark_width = 7 if highlight and any(m.has_warnings for m in measurements) else 0
        self.scale = scale

    def number(self, value, figures, spread):
        """``value`` (in the table's unit) written with ``figures`` significant figures when
        trimming, followed by the spread mark when ``spread`` is given."""
        if self.trim:
            value = trim_sigfig(value, figures)
        mark = f" (! {spread * 100:.0f}%)" if self.mark_width and spread is not None else ""
        return f"{value:>{self.width}.{self.decimals}f}{mark:>{self.mark_width}}"

    def cell(self, measurement):
        """The text of a cell; an empty cell is blank, as wide as a written number."""
        if measurement is None:
            return " " * len(self.number(1, 1, None))
        spread = measurement.iqr / measurement.median if measurement.has_warnings else None
        return self.number(measurement.median / self.scale, measurement.significant_figures, spread)


def _row_key(measurement):
    return measurement.num_threads, measurement.env, measurement.as_row_name


class _Table:
    """The measurements of one label, placed in rows and columns (see the module's docstring)."""

    def __init__(self, measurements, style):
        self.label = measurements[0].label
        self.measurements = measurements
        self.unit, scale = select_unit(min(m.median for m in measurements))
        self.row_keys = ordered_unique(_row_key(m) for m in measurements)
        self.row_keys.sort(key=lambda key: key[:2])  # by threads, then env; a stable sort keeps the rest in order
        self.columns = ordered_unique(m.description for m in measurements)
        placed = {(_row_key(m), m.description): m for m in measurements}
        self.grid = [[placed.get((key, column)) for column in self.columns] for key in self.row_keys]
        self.formats = [
            _NumberFormat([row[index] for row in self.grid], scale, style.trim, style.highlight)
            for index in range(len(self.columns))
        ]
        self.colorize = style.colorize
        self.highlight = style.highlight

    def _thread_groups(self):
        """The row indices under each thread count, in order."""
        groups = {}
        for index, (threads, _, _) in enumerate(self.row_keys):
            groups.setdefault(threads, []).append(index)
        return list(groups.values())

    def _row_names(self):
        """The first cell of each row: its name, after its env in parentheses where a new env
        starts within a thread group (only when the table mixes envs)."""
        envs = {m.env for m in self.measurements}
        env_width = max(len(env) for env in envs) + 4 if len(envs) > 1 else 4
        names = [None] * len(self.row_keys)
        for group in self._thread_groups():
            previous_env = ""
            for index in group:
                _, env, name = self.row_keys[index]
                shown = f"({env})" if len(envs) > 1 and env != previous_env else ""
                names[index] = "  " + shown.ljust(env_width) + name
                previous_env = env
        return names

    def _fastest(self, row_index, group):
        """The time each cell of a row is judged against when colouring (None: left plain)."""
        row = self.grid[row_index]
        if self.colorize == Colorize.ROWWISE:
            return [min(m.median for m in row if m is not None)] * len(row)
        if self.colorize == Colorize.COLUMNWISE:
            in_group = [[self.grid[index][column] for index in group] for column in range(len(row))]
            return [min((m.median for m in cells if m is not None), default=None) for cells in in_group]
        return [None] * len(row)

    def render(self):
        names = self._row_names()
        text_rows = [[name] + [fmt.cell(m) for fmt, m in zip(self.formats, row)] for name, row in zip(names, self.grid)]
        header = [""] + self.columns
        widths = [max(len(text) for text in column) for column in zip(header, *text_rows)]
        header_line = _CELL_SEPARATOR.join(text.center(width) for text, width in zip(header, widths))
        total_width = len(header_line)
        lines = ["[" + f" {self.label or ''} ".center(total_width - 2, "-") + "]", header_line]
        for group in self._thread_groups():
            threads = self.row_keys[group[0]][0]
            lines.append(f"{threads} threads: ".ljust(total_width, "-"))
            for index in group:
                cells = [text_rows[index][0].ljust(widths[0])]
                for text, width, measurement, fastest in zip(text_rows[index][1:], widths[1:], self.grid[index], self._fastest(index, group)):
                    text = text.center(width)
                    if measurement is not None and fastest is not None:
                        text = _colored(text, measurement.median, fastest)
                    cells.append(text)
                lines.append(_CELL_SEPARATOR.join(cells))
        lines += ["", f"Times are in {unit_to_english(self.unit)}s ({self.unit}).", ""]
        if self.highlight and any(m.has_warnings for m in self.measurements):
            lines[-1] = _HIGH_VARIANCE_NOTE + "\n"
        return "\n".join(lines)


@dataclasses.dataclass
class _Style:
    """How the tables are written: the options ``Compare``'s methods switch on."""

    colorize: Colorize = Colorize.NONE
    trim: bool = False
    highlight: bool = False


class Compare:
    """Print many measurements (``Timer`` results) as tables to compare them; see the module's
    docstring for the layout. ``print(compare)`` or ``compare.print()`` shows them.
    """

    def __init__(self, results):
        self._results = []
        self._style = _Style()
        self.extend_results(results)

    def extend_results(self, results):
        """Add more measurements to the tables."""
        for result in results:
            if not isinstance(result, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(result)} instead.")
        self._results += results

    def trim_significant_figures(self):
        """Show only the digits each cell's spread justifies (``Measurement.significant_figures``)."""
        self._style.trim = True

    def colorize(self, rowwise=False):
        """Colour each cell against the fastest of its column (or, ``rowwise``, of its row)."""
        self._style.colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self):
        """Mark noisy cells with their spread, ``(! 23%)``, and explain the mark under the table."""
        self._style.highlight = True

    def print(self):
        print(str(self))

    def __str__(self):
        by_label = {}
        for measurement in Measurement.merge(self._results):
            by_label.setdefault(measurement.label, []).append(measurement)
        return "\n".join(_Table(group, self._style).render() for group in by_label.values())
