"""What the profiler measured: one ``FunctionEvent`` per timed call (an operation's forward, a
node's backward, an optimizer step, a ``record_function`` range), and their averages by name
(``FunctionEventAvg``), printed as PyTorch prints them (``EventList.table``).

With ``profile_memory``, each event also carries the bytes of tensor memory allocated (positive) and
freed (negative) while it ran, its children's included (``cpu_memory_usage``) and without them
(``self_cpu_memory_usage``); memory freed outside every event is a ``[memory]`` event of its own."""
import json
import math
import os


class FunctionEvent:
    """One timed call: ``name``, start and end in µs since the profile began, the input shapes (with
    ``record_shapes``), and the events that ran inside it (``cpu_children``)."""

    def __init__(self, name, start_us, input_shapes, parent):
        self.trace_name = name
        self.name = self.key = "ProfilerStep*" if name.startswith("ProfilerStep#") else name  # steps add up as one
        self.time_range_start = start_us
        self.time_range_end = start_us
        self.input_shapes = input_shapes
        self.cpu_parent = parent
        self.cpu_children = []
        self.count = 1
        self.cpu_memory_usage = 0
        self.flops = 0  # with ``with_flops``: the floating-point operations PyTorch's profiler counts for it
        self.stack = []  # the Python frames it ran under: not recorded (PyTorch records them only with verbose stacks)

    @property
    def cpu_time_total(self):
        """µs from start to end, the time of the events inside included."""
        return self.time_range_end - self.time_range_start

    @property
    def self_cpu_time_total(self):
        """µs spent in this event itself, the events inside it left out."""
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    cpu_time = cpu_time_total

    @property
    def self_cpu_memory_usage(self):
        """Bytes allocated (less those freed) by this event itself, the events inside it left out."""
        return self.cpu_memory_usage - sum(child.cpu_memory_usage for child in self.cpu_children)

    def __repr__(self):
        return f"<FunctionEvent name={self.name} cpu_time={_format_time(self.cpu_time_total)} input_shapes={self.input_shapes}>"


class FunctionEventAvg:
    """The events of one name (and input shapes, when grouped so): how many, their total and self
    time (µs), and the time per call."""

    def __init__(self, key, input_shapes):
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.flops = 0

    def add(self, event):
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        self.flops += event.flops
        return self

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
            f"cpu_time={_format_time(self.cpu_time)} input_shapes={self.input_shapes}>"
        )


class EventList(list):
    """A list of events (or of their averages) that can be averaged, printed and exported;
    ``profile_memory``, ``with_flops``: whether memory and flops were recorded (then the table
    shows them)."""

    def __init__(self, events=(), *, profile_memory=False, with_flops=False):
        super().__init__(events)
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """One ``FunctionEventAvg`` per name (per name and input shapes with
        ``group_by_input_shape``), in the order the names first appear."""
        groups = {}
        for event in self:
            key = (event.key, str(event.input_shapes)) if group_by_input_shape else event.key
            if key not in groups:
                groups[key] = FunctionEventAvg(event.key, event.input_shapes if group_by_input_shape else None)
            groups[key].add(event)
        return EventList(groups.values(), profile_memory=self._profile_memory, with_flops=self._with_flops)

    def total_average(self):
        """Every event added into one average (key 'Total')."""
        total = FunctionEventAvg("Total", None)
        for event in self:
            total.add(event)
        return total

    @property
    def self_cpu_time_total(self):
        return sum(event.self_cpu_time_total for event in self)

    def table(
        self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55, max_shapes_column_width=80,
        header=None, top_level_events_only=False,
    ):
        """The events as PyTorch's profiler prints them: name, self and total time (and their share
        of all self time), time per call, memory (with ``profile_memory``), calls, input shapes (when
        grouped by them), flops (with ``with_flops``, in the unit of the smallest); ``sort_by`` a column ('cpu_time_total',
        'self_cpu_time_total', 'cpu_time', 'count'...), largest first; at most ``row_limit`` rows."""
        rows = [event for event in self if not top_level_events_only or getattr(event, "cpu_parent", None) is None]
        if sort_by is not None:
            rows.sort(key=lambda event: getattr(event, sort_by.replace("cuda", "device"), 0) or 0, reverse=True)
        rows = rows[:row_limit] if row_limit is not None and row_limit > 0 else rows
        total = self.self_cpu_time_total
        shapes = any(event.input_shapes is not None for event in rows) and isinstance(rows[0], FunctionEventAvg) if rows else False
        name_width = min(max([len(event.key) for event in rows] + [4]) + 4, max_name_column_width)
        titles = ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg")
        titles += ("CPU Mem", "Self CPU Mem", "# of Calls") if self._profile_memory else ("# of Calls",)
        columns = [("Name", name_width)] + [(title, 12) for title in titles]
        shapes_width = min(max([len(str(event.input_shapes)) for event in rows] + [12]) + 4, max_shapes_column_width)
        if shapes:
            columns.append(("Input Shapes", shapes_width))
        counted = [event.flops for event in rows if event.flops > 0] if self._with_flops else []
        if counted:
            flops_scale, flops_unit = _flops_unit(min(counted))
            columns.append((f"Total {flops_unit}", 12))
        line = "".join("-" * width + "  " for _, width in columns)
        lines = [line] if header is None else ["=" * len(line), header, line]
        lines += ["".join(f"{title:>{width}}  " for title, width in columns), line]
        for event in rows:
            name = event.key if len(event.key) <= name_width else event.key[: name_width - 3] + "..."
            cells = [
                name, _format_share(event.self_cpu_time_total, total), _format_time(event.self_cpu_time_total),
                _format_share(event.cpu_time_total, total), _format_time(event.cpu_time_total), _format_time(event.cpu_time),
            ]
            if self._profile_memory:
                cells += [_format_memory(event.cpu_memory_usage), _format_memory(event.self_cpu_memory_usage)]
            cells.append(str(event.count))
            if shapes:
                cells.append(str(event.input_shapes)[:shapes_width])
            if counted:
                cells.append(f"{event.flops * flops_scale:8.3f}" if event.flops > 0 else "--")
            lines.append("".join(f"{cell:>{width}}  " for cell, (_, width) in zip(cells, columns)))
        lines += [line, f"Self CPU time total: {_format_time(total)}", ""]
        return "\n".join(lines)

    def export_chrome_trace(self, path):
        """The events as a Chrome trace (JSON), for chrome://tracing, Perfetto or TensorBoard."""
        trace = [
            {
                "ph": "X", "cat": "cpu_op", "name": event.trace_name, "pid": os.getpid(), "tid": 0,
                "ts": event.time_range_start, "dur": event.cpu_time_total,
                "args": {} if event.input_shapes is None else {"Input Dims": event.input_shapes},
            }
            for event in self
        ]
        with open(path, "w") as file:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, file)


def _format_time(time_us):
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_memory(nbytes):
    """Bytes as PyTorch's table prints them: ``24 B``, ``1.50 KB``, ``11.48 MB``, ``2.00 GB``."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _flops_unit(flops):
    """``(scale, unit)`` for a flop count, as PyTorch's table picks them: FLOPs, KFLOPs, ... PFLOPs
    by the count's thousands."""
    thousands = int(max(0, min(math.log10(flops) / 3, 5)))
    return 10 ** (-3 * thousands), ("FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs")[thousands]


def _format_share(time_us, total_us):
    return "NaN" if total_us == 0 else f"{time_us * 100.0 / total_us:.2f}%"
