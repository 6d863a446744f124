"""``chainrule.profiler``, as ``torch.profiler``: where a training step spends its time, operation by
operation, forward and backward (see ``timing.py``)::

    from chainrule.profiler import profile, record_function

    with profile(record_shapes=True) as prof:
        with record_function("model_inference"):
            model(inputs)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
"""
from chainrule.profiler.events import EventList, FunctionEvent, FunctionEventAvg
from chainrule.profiler.timing import (
    ProfilerAction,
    ProfilerActivity,
    kineto_available,
    profile,
    record_function,
    schedule,
    supported_activities,
    tensorboard_trace_handler,
)
from chainrule.profiler.timing import _ExperimentalConfig  # noqa: F401  (PyTorch's name, kept out of __all__)

__all__ = [
    "EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerAction", "ProfilerActivity", "kineto_available", "profile", "record_function",
    "schedule", "supported_activities", "tensorboard_trace_handler",
]
