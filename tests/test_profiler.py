"""chainrule.profiler (and the older autograd.profiler): every operation, backward node, optimizer
step and record_function block timed, nested as they ran, added up and printed as PyTorch's."""
import json

import pytest
import torch

import chainrule
from chainrule.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule


def _step(model, optimizer):
    with record_function("forward"):
        loss = model(chainrule.randn(8, 4)).relu().mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()


def _model():
    model = chainrule.nn.Sequential(chainrule.nn.Linear(4, 5), chainrule.nn.Tanh(), chainrule.nn.Linear(5, 2))
    return model, chainrule.optim.SGD(model.parameters(), lr=0.1)


def test_operations_backward_nodes_and_steps_are_events_nested_as_they_ran():
    model, optimizer = _model()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        _step(model, optimizer)
    events = prof.events()
    names = [event.name for event in events]
    assert names[0] == "forward" and names.count("aten::addmm") == 2 and "aten::tanh" in names
    assert "autograd::engine::evaluate_function: AddmmBackward0" in names
    assert "Optimizer.step#SGD.step" in names
    forward = events[0]
    assert {child.name for child in forward.cpu_children} == {"aten::addmm", "aten::tanh", "aten::relu", "aten::mean"}
    assert all(child.cpu_parent is forward for child in forward.cpu_children)
    assert forward.cpu_time_total >= sum(child.cpu_time_total for child in forward.cpu_children)
    assert forward.self_cpu_time_total == pytest.approx(forward.cpu_time_total - sum(c.cpu_time_total for c in forward.cpu_children))
    linear = next(event for event in events if event.name == "aten::addmm")
    assert linear.input_shapes == [[8, 4], [5, 4], [5]]
    starts = [event.time_range_start for event in events]
    assert starts == sorted(starts)


def test_key_averages_add_up_by_name_and_print_pytorchs_table():
    model, optimizer = _model()
    with profile(record_shapes=True) as prof:
        for _ in range(3):
            _step(model, optimizer)
    averages = prof.key_averages()
    by_name = {average.key: average for average in averages}
    assert by_name["aten::addmm"].count == 6 and by_name["forward"].count == 3
    linear_events = [event for event in prof.events() if event.name == "aten::addmm"]
    assert by_name["aten::addmm"].cpu_time_total == pytest.approx(sum(event.cpu_time_total for event in linear_events))
    assert by_name["aten::addmm"].cpu_time == pytest.approx(by_name["aten::addmm"].cpu_time_total / 6)
    total_self = sum(average.self_cpu_time_total for average in averages)
    assert total_self == pytest.approx(prof.self_cpu_time_total)
    table = averages.table(sort_by="cpu_time_total", row_limit=5)
    lines = table.splitlines()
    with torch.profiler.profile() as theirs:
        torch.ones(2).exp()
    their_lines = theirs.key_averages().table().splitlines()
    assert lines[1].split() == their_lines[1].split()  # Name  Self CPU %  Self CPU  CPU total %  ...
    assert [len(part) for part in lines[0].split("  ")[1:]] == [len(part) for part in their_lines[0].split("  ")[1:]]
    assert len(lines) == 5 + 5 and lines[-1].startswith("Self CPU time total: ")
    largest_first = sorted(averages, key=lambda average: average.cpu_time_total, reverse=True)
    assert [line.strip().startswith(average.key) for line, average in zip(lines[3:8], largest_first)] == [True] * 5
    grouped = prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total")
    assert "Input Shapes" in grouped.splitlines()[1] and "[[8, 4], [5, 4], [5]]" in grouped


def test_a_schedule_records_only_its_active_steps_and_hands_each_trace_over(tmp_path):
    model, optimizer = _model()
    traces = []
    plan = schedule(wait=1, warmup=1, active=2, repeat=2)
    assert [plan(step) for step in range(9)] == [
        ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE,
        ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE,
    ]
    with profile(schedule=plan, on_trace_ready=lambda prof: traces.append(prof.key_averages())) as prof:
        for _ in range(9):
            _step(model, optimizer)
            prof.step()
    assert len(traces) == 2
    assert all({average.key: average.count for average in trace}["forward"] == 2 for trace in traces)


def test_chrome_traces_and_the_tensorboard_handler(tmp_path):
    model, optimizer = _model()
    handler = chainrule.profiler.tensorboard_trace_handler(str(tmp_path / "log"), worker_name="worker0")
    with profile(on_trace_ready=handler) as prof:
        _step(model, optimizer)
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    trace = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert [event["name"] for event in trace] == [event.name for event in prof.events()]
    assert all(event["ph"] == "X" and event["dur"] >= 0 for event in trace)
    (written,) = (tmp_path / "log").iterdir()
    assert written.name.startswith("worker0.") and written.name.endswith(".pt.trace.json")


def test_nothing_is_recorded_outside_a_profile_and_the_wrappers_are_removed():
    apply = chainrule.autograd.Function.__dict__["apply"]
    with record_function("outside"):  # no profile: nothing to record into
        chainrule.ones(2).exp()
    with profile() as prof:
        chainrule.ones(2).exp()
    assert chainrule.autograd.Function.__dict__["apply"] is apply
    assert [event.name for event in prof.events()] == ["aten::exp"]
    with pytest.raises(RuntimeError, match="cannot be nested"), profile(), profile():
        pass
    assert chainrule.autograd.Function.__dict__["apply"] is apply


def test_the_older_autograd_profiler_records_the_same():
    model, optimizer = _model()
    with chainrule.autograd.profiler.profile(use_cuda=False, record_shapes=True) as prof:
        _step(model, optimizer)
    assert "aten::addmm" in [event.name for event in prof.function_events]
    assert "Self CPU time total" in str(prof)
    with chainrule.autograd.profiler.profile(enabled=False) as idle:
        _step(model, optimizer)
    assert len(idle.function_events) == 0
