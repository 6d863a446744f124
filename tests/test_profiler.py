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


def _memory_by_name(library, prof_module):
    """{name: (cpu_memory_usage, self_cpu_memory_usage)} of a Linear + ReLU forward whose output is then deleted."""
    library.manual_seed(0)
    model = library.nn.Sequential(library.nn.Linear(4, 3), library.nn.ReLU())
    inputs = library.randn(2, 4)
    with prof_module.profile(activities=[prof_module.ProfilerActivity.CPU], profile_memory=True) as prof:
        out = model(inputs)
        del out
    averages = prof.key_averages()
    return {average.key: (average.cpu_memory_usage, average.self_cpu_memory_usage) for average in averages}, averages


def test_profile_memory_counts_the_bytes_each_operation_allocates_and_frees_as_pytorch():
    ours, averages = _memory_by_name(chainrule, chainrule.profiler)
    theirs, their_averages = _memory_by_name(torch, torch.profiler)
    for name in ("aten::addmm", "[memory]"):  # the outputs: 2x3 float32 each, freed outside any op
        assert ours[name] == theirs[name]
    assert ours["aten::relu"][0] == theirs["aten::relu"][0]  # (PyTorch's relu counts it in a clamp_min inside)
    assert ours["aten::addmm"] == (24, 24) and ours["[memory]"] == (-48, -48)
    table = averages.table(sort_by="self_cpu_memory_usage", row_limit=10)
    their_table = their_averages.table(sort_by="self_cpu_memory_usage", row_limit=10)
    assert table.splitlines()[1].split() == their_table.splitlines()[1].split()  # ... CPU Mem  Self CPU Mem  # of Calls
    assert "24 B" in table.splitlines()[3] and "-48 B" in table
    assert chainrule.profiler.events._format_memory(3 * 1024**2 // 2) == "1.50 MB"
    with profile(profile_memory=True) as prof:
        x = chainrule.ones(4, 4)
        x.t()  # a view allocates nothing
        x.view(16)
    memory = {event.name: event.cpu_memory_usage for event in prof.events()}
    assert memory["aten::t"] == 0 and memory["aten::view"] == 0


def test_a_second_cycle_warns_that_events_are_cleared_unless_acc_events(monkeypatch):
    model, optimizer = _model()
    monkeypatch.setattr(chainrule.profiler.timing, "_warned_events_cleared", False)
    with pytest.warns(UserWarning, match="won't be using warmup"):
        plan = schedule(wait=0, warmup=0, active=1)
    with pytest.warns(UserWarning, match="set acc_events=True"), profile(schedule=plan) as prof:
        for _ in range(3):
            _step(model, optimizer)
            prof.step()
    with profile(schedule=plan, acc_events=True) as kept:
        for _ in range(3):
            _step(model, optimizer)
            kept.step()
    kept_counts = {average.key: average.count for average in kept.key_averages()}
    assert kept_counts["forward"] == 3 and kept_counts["ProfilerStep*"] == 4  # each step an event, as PyTorch's
    assert {average.key: average.count for average in prof.key_averages()} == {"ProfilerStep*": 1}  # the last cycle's


def test_with_a_schedule_each_step_is_a_profiler_step_event_as_pytorchs(tmp_path):
    def steps_seen(library):
        seen = []
        model = library.nn.Linear(4, 2)
        plan = library.profiler.schedule(wait=1, warmup=1, active=2, repeat=1)
        with library.profiler.profile(schedule=plan, on_trace_ready=lambda p: seen.append([e.name for e in p.events() if e.name.startswith("Prof")])) as prof:
            for _ in range(6):
                model(library.randn(8, 4))
                prof.step()
        prof.export_chrome_trace(str(tmp_path / "trace.json"))
        traced = [e["name"] for e in json.loads((tmp_path / "trace.json").read_text())["traceEvents"] if e["name"].startswith("Prof")]
        return seen, sorted(traced)

    assert steps_seen(chainrule) == steps_seen(torch) == ([["ProfilerStep*", "ProfilerStep*"]], ["ProfilerStep#2", "ProfilerStep#3"])


def test_experimental_config_and_export_stacks_are_accepted(tmp_path):
    config = chainrule._C._profiler._ExperimentalConfig(verbose=True)
    assert chainrule.profiler._ExperimentalConfig is chainrule._C._profiler._ExperimentalConfig
    with profile(with_stack=True, experimental_config=config) as prof:
        chainrule.ones(2).exp()
    prof.export_stacks(str(tmp_path / "stacks.txt"), "self_cpu_time_total")
    assert (tmp_path / "stacks.txt").read_text() == ""  # no stacks recorded, as PyTorch without verbose stacks


def _flops_of_a_step(library):
    """(total flops, table header, flops of the backward) of a small step profiled with_flops."""
    library.manual_seed(0)
    linear, conv = library.nn.Linear(4, 3), library.nn.Conv2d(3, 4, 3, padding=1)
    x, image = library.randn(2, 4, requires_grad=True), library.randn(2, 3, 6, 6)
    with library.profiler.profile(with_flops=True) as prof:
        (linear(x) + 1).sum().backward()  # addmm 2·2·4·3 = 48, add 6; backward: two mm of 48
        conv(image)  # 2 · (2·4·6·6 outputs) · (3·3·3 weights) = 15552
        library.randn(5, 2, 3) @ library.randn(3, 4)  # folded into one mm: 2·10·3·4 = 240
        library.randn(2, 3, 4) @ library.randn(2, 4, 5)  # bmm: 2·2·3·4·5 = 240
    averages = prof.key_averages()
    backward = sum(event.flops for event in prof.events() if "Backward" in event.name or (event.cpu_parent and "Backward" in event.cpu_parent.name))
    return sum(average.flops for average in averages), averages.table(row_limit=3).splitlines()[1].split()[-2:], backward


def test_with_flops_counts_the_products_convolutions_and_elementwise_operations_as_pytorchs_profiler():
    assert _flops_of_a_step(chainrule) == _flops_of_a_step(torch) == (48 + 6 + 96 + 15552 + 240 + 240, ["Total", "FLOPs"], 96)
    assert chainrule.profiler.events._flops_unit(2_500_000) == (1e-6, "MFLOPs")
    with profile() as plain:  # without with_flops: no flops column
        chainrule.ones(2, 2) @ chainrule.ones(2, 2)
    assert "FLOPs" not in plain.key_averages().table() and plain.events()[0].flops == 0


def test_under_a_mode_an_operation_is_seen_twice_as_pytorchs_but_its_memory_counted_once():
    import torch.utils.flop_counter  # noqa: F401  (PyTorch's, not imported with torch)

    model = chainrule.nn.Linear(4, 3)
    with chainrule.utils.flop_counter.FlopCounterMode(display=False), profile(profile_memory=True) as prof:  # any OperationMode
        model(chainrule.randn(2, 4)).sum()
    with torch.utils.flop_counter.FlopCounterMode(display=False), torch.profiler.profile() as theirs:
        torch.nn.Linear(4, 3)(torch.randn(2, 4)).sum()
    ours = {average.key: average for average in prof.key_averages()}
    assert [ours[name].count for name in ("aten::addmm", "aten::sum")] == [
        average.count for average in theirs.key_averages() if average.key in ("aten::addmm", "aten::sum")
    ] == [2, 2]  # the call handed to the mode, and the call it hands back
    assert (ours["aten::addmm"].cpu_memory_usage, ours["aten::addmm"].self_cpu_memory_usage) == (48, 24)  # 24 bytes, once
    with profile(with_flops=True) as counting:  # the profiler's own flop counting is no mode it shows
        model(chainrule.randn(2, 4))
    assert [(event.name, event.cpu_parent, event.flops) for event in counting.events()] == [("aten::addmm", None, 48)]
