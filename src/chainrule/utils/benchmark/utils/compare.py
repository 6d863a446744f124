"""``Compare``: many Measurements as tables, laid out as ``torch.utils.benchmark.Compare`` lays them.

One table per label. Its columns are the descriptions; its rows are grouped by thread count (a
"N threads: ----" rule opens each group), then by environment (``env``, shown as "(env)" before the
row name when the table holds more than one), then named by sub-label (else the statement). Each
cell is the median of the merged replicates, in the one unit that suits the table's fastest time::

    [---------- Batched dot ----------]
                    |  mul/sum  |  bmm
    1 threads: ------------------------
          [1, 1]    |     5.9   |   7.2
          [64, 64]  |    17.7   |  21.6
    4 threads: ------------------------
          [1, 1]    |     3.0   |   3.6
          [64, 64]  |     8.8   |  10.8

    Times are in microseconds (us).

``trim_significant_figures()`` rounds each cell to the digits its spread allows; ``colorize()``
marks each cell against the best of its column (or row) with terminal colours: green within 1%,
blue within 10%, dim red past twice, red past five times; ``highlight_warnings()`` adds
"(! XX%)" to cells whose spread is large.
"""
import collections
import enum
import itertools
import operator

import chainrule
from chainrule.utils.benchmark.utils import common

__all__ = ["Colorize", "Compare"]

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


class _Column:
    """One column of a table: the number format its cells share (as many integer digits as its
    largest cell, as many decimals as its least precise cell allows when trimming, else one)."""

    def __init__(self, grouped_results, time_scale, trim_significant_figures, highlight_warnings):
        self._grouped_results = grouped_results
        flat_results = list(itertools.chain.from_iterable(grouped_results))
        self._trim_significant_figures = trim_significant_figures
        self._highlight_warnings = highlight_warnings and any(r.has_warnings for r in flat_results if r)
        leading_digits = [
            int(chainrule.tensor(r.median / time_scale).log10().ceil()) if r else None for r in flat_results
        ]
        unit_digits = max(digits for digits in leading_digits if digits is not None)
        decimal_digits = min(
            max(m.significant_figures - digits, 0)
            for digits, m in zip(leading_digits, flat_results)
            if m is not None and digits is not None
        ) if trim_significant_figures else 1
        length = unit_digits + decimal_digits + (1 if decimal_digits else 0)
        self._template = f"{{:>{length}.{decimal_digits}f}}{{:>{7 if self._highlight_warnings else 0}}}"

    def get_results_for(self, group):
        return self._grouped_results[group]

    def num_to_str(self, value, estimated_sigfigs, spread):
        """A cell's text: ``value`` in the column's format (blank of the same width for None), with
        "(! XX%)" for a ``spread`` when warnings are highlighted."""
        if value is None:
            return " " * len(self.num_to_str(1, estimated_sigfigs, None))
        if self._trim_significant_figures:
            value = common.trim_sigfig(value, estimated_sigfigs)
        warning = f" (! {spread * 100:.0f}%)" if self._highlight_warnings and spread is not None else ""
        return self._template.format(value, warning)


def optional_min(seq):
    values = list(seq)
    return None if len(values) == 0 else min(values)


class _Row:
    """One row of a table: its name (and environment) and a Measurement or None per column."""

    def __init__(self, results, row_group, render_env, env_str_len, time_scale, colorize, num_threads=None):
        self._results = results
        self._row_group = row_group
        self._render_env = render_env
        self._env_str_len = env_str_len
        self._time_scale = time_scale
        self._colorize = colorize
        self._columns = ()
        self._num_threads = num_threads  # set on the first row of a thread group: it draws the rule

    def register_columns(self, columns):
        self._columns = columns

    def as_column_strings(self):
        present = [r for r in self._results if r is not None]
        env = f"({present[0].env})" if self._render_env else ""
        output = ["  " + env.ljust(self._env_str_len + 4) + present[0].as_row_name]
        for m, column in zip(self._results, self._columns):
            if m is None:
                output.append(column.num_to_str(None, 1, None))
            else:
                spread = m.iqr / m.median if m.has_warnings else None
                output.append(column.num_to_str(m.median / self._time_scale, m.significant_figures, spread))
        return output

    @staticmethod
    def color_segment(segment, value, best_value):
        if value <= best_value * 1.01 or value <= best_value + 100e-9:
            return BEST + BOLD + segment + TERMINATE * 2
        if value <= best_value * 1.1:
            return GOOD + BOLD + segment + TERMINATE * 2
        if value >= best_value * 5:
            return VERY_BAD + BOLD + segment + TERMINATE * 2
        if value >= best_value * 2:
            return BAD + segment + TERMINATE * 2
        return segment

    def row_separator(self, overall_width):
        return [f"{self._num_threads} threads: ".ljust(overall_width, "-")] if self._num_threads is not None else []

    def finalize_column_strings(self, column_strings, col_widths):
        """The row's cells padded to their columns' widths (and coloured against the best time of
        the row, or of the column within this thread group)."""
        best_values = [-1 for _ in column_strings]
        if self._colorize == Colorize.ROWWISE:
            row_min = min(r.median for r in self._results if r is not None)
            best_values = [row_min for _ in column_strings]
        elif self._colorize == Colorize.COLUMNWISE:
            best_values = [
                optional_min(r.median for r in column.get_results_for(self._row_group) if r is not None)
                for column in self._columns
            ]
        row_contents = [column_strings[0].ljust(col_widths[0])]
        for text, width, result, best_value in zip(column_strings[1:], col_widths[1:], self._results, best_values):
            text = text.center(width)
            if self._colorize != Colorize.NONE and result is not None and best_value is not None:
                text = self.color_segment(text, result.median, best_value)
            row_contents.append(text)
        return row_contents


class Table:
    """The table of one label's Measurements (replicates already merged)."""

    def __init__(self, results, colorize, trim_significant_figures, highlight_warnings):
        if len({r.label for r in results}) != 1:
            raise AssertionError("All results must share the same label")
        self.results = results
        self._colorize = colorize
        self._trim_significant_figures = trim_significant_figures
        self._highlight_warnings = highlight_warnings
        self.label = results[0].label
        self.time_unit, self.time_scale = common.select_unit(min(r.median for r in results))
        self.row_keys = common.ordered_unique([self.row_fn(r) for r in results])
        self.row_keys.sort(key=operator.itemgetter(slice(2)))  # by threads and env; stable, so rows keep their order
        self.column_keys = common.ordered_unique([self.col_fn(r) for r in results])
        self.rows, self.columns = self.populate_rows_and_columns()

    @staticmethod
    def row_fn(m):
        return m.num_threads, m.env, m.as_row_name

    @staticmethod
    def col_fn(m):
        return m.description

    def populate_rows_and_columns(self):
        grid = [[None for _ in self.column_keys] for _ in self.row_keys]
        row_position = {key: i for i, key in enumerate(self.row_keys)}
        column_position = {key: j for j, key in enumerate(self.column_keys)}
        for r in self.results:
            grid[row_position[self.row_fn(r)]][column_position[self.col_fn(r)]] = r

        unique_envs = {r.env for r in self.results}
        render_env = len(unique_envs) > 1
        env_str_len = max(len(env) for env in unique_envs) if render_env else 0

        rows, rows_by_group = [], []
        prior_num_threads, prior_env = -1, ""
        for (num_threads, env, _), row in zip(self.row_keys, grid):
            thread_transition = num_threads != prior_num_threads
            if thread_transition:
                prior_num_threads, prior_env = num_threads, ""
                rows_by_group.append([])
            rows.append(_Row(
                results=row,
                row_group=len(rows_by_group) - 1,
                render_env=render_env and env != prior_env,  # the environment is named where it changes
                env_str_len=env_str_len,
                time_scale=self.time_scale,
                colorize=self._colorize,
                num_threads=num_threads if thread_transition else None,
            ))
            rows_by_group[-1].append(row)
            prior_env = env

        columns = tuple(
            _Column(
                grouped_results=[tuple(row[j] for row in group) for group in rows_by_group],
                time_scale=self.time_scale,
                trim_significant_figures=self._trim_significant_figures,
                highlight_warnings=self._highlight_warnings,
            )
            for j in range(len(self.column_keys))
        )
        for row in rows:
            row.register_columns(columns)
        return tuple(rows), columns

    def render(self):
        string_rows = [[""] + self.column_keys]
        string_rows.extend(row.as_column_strings() for row in self.rows)
        num_cols = max(len(strings) for strings in string_rows)
        for strings in string_rows:
            strings.extend("" for _ in range(num_cols - len(strings)))

        col_widths = [max(len(text) for text in column) for column in zip(*string_rows)]
        lines = ["  |  ".join(text.center(width) for text, width in zip(string_rows[0], col_widths))]
        overall_width = len(lines[0])
        for strings, row in zip(string_rows[1:], self.rows):
            lines.extend(row.row_separator(overall_width))
            lines.append("  |  ".join(row.finalize_column_strings(strings, col_widths)))

        has_warnings = self._highlight_warnings and any(r.has_warnings for r in self.results)
        warning_note = "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n" if has_warnings else ""
        title = f" {self.label or ''} ".center(overall_width - 2, "-")
        body = "\n".join(lines)
        return f"[{title}]\n{body}\n\nTimes are in {common.unit_to_english(self.time_unit)}s ({self.time_unit}).\n{warning_note}"


class Compare:
    """Measurements as tables (see the module's description): ``print(Compare(results))``.

    Replicates (Measurements of the same task) are merged into one cell.
    """

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self):
        return "\n".join(self._render())

    def extend_results(self, results):
        """Add more Measurements to the tables."""
        for r in results:
            if not isinstance(r, common.Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        """Round each cell to the significant figures its spread allows."""
        self._trim_significant_figures = True

    def colorize(self, rowwise=False):
        """Colour each cell against the best of its column (of its row with ``rowwise``)."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self):
        """Mark the cells whose spread is large with "(! XX%)"."""
        self._highlight_warnings = True

    def print(self):
        print(str(self))

    def _render(self):
        by_label = collections.defaultdict(list)
        for r in common.Measurement.merge(self._results):
            by_label[r.label].append(r)
        return [
            Table(group, self._colorize, self._trim_significant_figures, self._highlight_warnings).render()
            for group in by_label.values()
        ]
