"""chainrule.compiler, as torch.compiler: reset, disable, is_compiling, set_stance."""
import pytest

import chainrule
from chainrule import compiler


def _compiled():
    @chainrule.compile
    def step(x):
        return (x * 2).sum()

    return step


def test_reset_makes_every_compiled_function_record_anew():
    step = _compiled()
    x = chainrule.ones(3)
    step(x)
    recording = step._last
    step(x)
    assert len(step.recordings) == 1 and step._last is recording and step.eager_reason is None  # recorded once, replayed
    compiler.reset()
    assert step.recordings == {}
    assert step(x).item() == 6.0 and len(step.recordings) == 1 and step._last is not recording


def test_a_disabled_function_makes_the_step_run_eagerly_with_its_name():
    seen = []

    @compiler.disable(reason="it logs")
    def log(value):
        seen.append(compiler.is_compiling())
        return value

    @chainrule.compile
    def step(x):
        return log(x * 2).sum()

    with pytest.warns(UserWarning, match="calls log, marked chainrule.compiler.disable: it logs"):
        assert step(chainrule.ones(2)).item() == 4.0
    assert step(chainrule.ones(2)).item() == 4.0
    assert seen == [False, False] and step.eager_reason is not None  # it runs outside any recording, as in PyTorch
    assert log(3) == 3


def test_stances_force_eager_skip_or_refuse_a_new_recording():
    step = _compiled()
    with compiler.set_stance("force_eager"):
        step(chainrule.ones(3))
    assert step.recordings == {}
    step(chainrule.ones(3))
    with compiler.set_stance("eager_on_recompile"):
        assert step(chainrule.ones(4)).item() == 8.0  # a new shape: run eagerly, not recorded
    assert sum(map(len, step.recordings.values())) == 1
    with compiler.set_stance("fail_on_recompile"), pytest.raises(RuntimeError, match="fail_on_recompile"):
        step(chainrule.ones(5))

    @compiler.set_stance("force_eager")
    def eager_inside():
        return step(chainrule.ones(6))

    eager_inside()
    assert sum(map(len, step.recordings.values())) == 1  # the decorator's stance held only inside
    step(chainrule.ones(6))
    assert sum(map(len, step.recordings.values())) == 2
    with pytest.raises(RuntimeError, match="invalid"):
        compiler.set_stance("sometimes")


def test_is_compiling_while_a_call_is_recorded():
    @chainrule.compile
    def step(x):
        return x + 1, compiler.is_compiling()

    assert step(chainrule.ones(2))[1] is True  # recorded: the body runs, compiling
    assert step(chainrule.ones(2))[1] is True and step.eager_reason is None  # replayed: the value the recording saw
    assert not compiler.is_compiling()


def test_the_rest_of_torch_compiler():
    assert compiler.compile is chainrule.compile and compiler.list_backends() == ["chainrule", "cudagraphs", "inductor", "openxla", "tvm"]
    assert set(compiler.list_backends(exclude_tags=())) >= {"chainrule", "eager", "aot_eager", "inductor"}
    assert not compiler.is_compiling() and not compiler.is_exporting()
    function = lambda x: x  # noqa: E731
    assert compiler.allow_in_graph(function) is function and compiler.assume_constant_result(function) is function


def test_dynamo_names_from_the_torch_compile_tutorial_work():
    """``torch._dynamo.reset()``, ``config.cache_size_limit`` / ``recompile_limit``, ``mark_dynamic``."""
    import torch

    import chainrule._dynamo as dynamo

    assert chainrule._dynamo is dynamo
    step = _compiled()
    step(chainrule.ones(3))
    dynamo.reset()
    assert step.recordings == {}
    assert dynamo.config.cache_size_limit == dynamo.config.recompile_limit == torch._dynamo.config.recompile_limit == 8
    try:
        dynamo.config.recompile_limit = 2
        assert step.cache_size_limit == 2
        with pytest.warns(UserWarning, match="recorded 2 times"):
            for size in (1, 2, 3):
                x = chainrule.ones(size)
                dynamo.mark_dynamic(x, 0)
                assert step(x).item() == 2.0 * size
    finally:
        dynamo.config.cache_size_limit = 8
    dynamo.config.suppress_errors = True
    assert dynamo.config.suppress_errors is True
    dynamo.config.suppress_errors = False
    with pytest.raises(AttributeError, match="does not exist"):
        dynamo.config.no_such_setting = 1
    with pytest.raises(AttributeError, match="does not exist"):
        dynamo.config.no_such_setting  # noqa: B018
    assert dynamo.is_compiling() is False and dynamo.mark_static(chainrule.ones(2)) is None
