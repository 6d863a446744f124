"""chainrule._logging.set_logs against torch._logging.set_logs: the same keywords accepted, and what
chainrule.compile then tells on stderr (the program as recorded, its guard, recompiles, breaks)."""
import inspect
import logging

import pytest

import chainrule

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def logs_off():
    yield
    chainrule._logging.set_logs()


def test_every_keyword_of_pytorchs_set_logs_is_accepted():
    for name, parameter in inspect.signature(torch._logging.set_logs).parameters.items():
        chainrule._logging.set_logs(**{name: parameter.default})
        chainrule._logging.set_logs(**{name: {} if name == "modules" else (logging.INFO if parameter.default is None else True)})


def test_an_unknown_keyword_raises_type_error_as_pytorchs():
    for set_logs in (torch._logging.set_logs, chainrule._logging.set_logs):
        with pytest.raises(TypeError, match="unexpected keyword argument 'graph_cod'"):
            set_logs(graph_cod=True)


def step_of():
    return chainrule.compile(lambda x: (x.sin() * 2).sum())


def test_graph_code_shows_each_recorded_program(capsys):
    chainrule._logging.set_logs(graph_code=True)
    step = step_of()
    step(chainrule.randn(3))
    step(chainrule.randn(3))  # replayed: nothing new to show
    err = capsys.readouterr().err
    assert err.count("TRACED GRAPH") == 1 and step.code in err and "Sin: sin x0" in err


def test_recompiles_and_guards_and_breaks_are_told_when_chosen(capsys):
    chainrule._logging.set_logs(recompiles=True, guards=True, graph_breaks=True)
    step = step_of()
    step(chainrule.randn(3))
    step(chainrule.randn(4))
    chainrule.compile(lambda x: x.sum().item())(chainrule.randn(2))
    err = capsys.readouterr().err
    assert "TRACED GRAPH" not in err
    assert err.count("GUARDS of <lambda>") == 2 and "(value := args[0]._array).shape == (4,)" in err
    assert "Recompiling function <lambda>: none of its 1 recording applies" in err
    assert "Graph break in <lambda>: it runs eagerly from now on: it reads a tensor's value into Python (item)" in err


def test_dynamo_levels_choose_as_pytorchs_do_and_set_logs_alone_turns_all_off(capsys):
    chainrule._logging.set_logs(dynamo=logging.INFO)
    step = step_of()
    step(chainrule.randn(3))
    step(chainrule.randn(5))
    err = capsys.readouterr().err
    assert "Recompiling" in err and "TRACED GRAPH" not in err
    chainrule._logging.set_logs(dynamo=logging.DEBUG)
    step(chainrule.randn(6))
    assert "TRACED GRAPH" in capsys.readouterr().err
    chainrule._logging.set_logs()
    step(chainrule.randn(7))
    assert capsys.readouterr().err == ""
