"""``chainrule.autograd.profiler``, as ``torch.autograd.profiler``: the older form of the profiler
(``chainrule.profiler`` is the current one, and records the same events)::

    with chainrule.autograd.profiler.profile(record_shapes=True) as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))
"""
import contextlib

from chainrule.profiler import profile as _profile
from chainrule.profiler.events import EventList, FunctionEvent, FunctionEventAvg
from chainrule.profiler.timing import record_function

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "emit_itt", "emit_nvtx", "profile", "record_function"]


class profile(_profile):  # noqa: N801 (PyTorch's name)
    """Time every operation inside the block (nothing with ``enabled=False``); ``use_cuda`` and the
    other device options are accepted (chainrule runs on the CPU)."""

    def __init__(
        self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
        profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
        experimental_config=None, acc_events=False, custom_trace_id_callback=None, **options,
    ):
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory, with_flops=with_flops)
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self.start()
        return self

    @property
    def function_events(self):
        return self.events()

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55, header=None, top_level_events_only=False):
        """The events one by one (``key_averages().table()`` adds them up by name)."""
        return self.events().table(sort_by, row_limit, max_src_column_width, max_name_column_width, header=header, top_level_events_only=top_level_events_only)

    def total_average(self):
        return self.events().total_average()

    def __str__(self):
        return self.table()


@contextlib.contextmanager
def emit_nvtx(enabled=True, record_shapes=False):
    """NVIDIA's range markers for its GPU profilers: nothing to mark on the CPU."""
    yield


@contextlib.contextmanager
def emit_itt(enabled=True, record_shapes=False):
    """Intel VTune's range markers: not emitted here."""
    yield
