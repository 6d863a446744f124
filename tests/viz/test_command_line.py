"""The ``chainrule`` command as a student uses it: help, version, and every mistake answered in one
line with exit status 2."""
import subprocess
import sys

import pytest

import chainrule
from chainrule.__main__ import main
from chainrule.viz import trace_backward
from chainrule.viz.explorer import explore_command
from tests.viz.test_explorer import page_data


def run_command(*arguments, cwd=None):
    return subprocess.run([sys.executable, "-m", "chainrule", *arguments], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_version_and_help_without_markup():
    finished = run_command("--version")
    assert finished.returncode == 0 and finished.stdout.strip() == "chainrule 0.1.0 (PyTorch 2.13.0's API)"
    help_text = run_command("--help").stdout
    assert "chainrule demo NAME" in help_text and "``" not in help_text
    explore_help = run_command("explore", "--help").stdout
    assert "--NAME VALUE" in explore_help and "--x 1,2,3" in explore_help and "--force" in explore_help


def test_names_that_prefix_an_option_unicode_names_and_integer_arguments_work(tmp_path, capsys):
    assert main(["explore", "o * h + f", "--o", "2", "--h", "3", "--f", "1", "--out", str(tmp_path / "prefix.html")]) == 0
    assert {node["name"] for node in page_data(tmp_path / "prefix.html")["nodes"]} >= {"o", "h", "f"}
    assert main(["explore", "θ * 2", "--θ", "1.5", "--out", str(tmp_path / "greek.html")]) == 0
    assert main(["explore", "sum(a * a, dim=0)", "--a", "1,2,3", "--out", str(tmp_path / "sum.html")]) == 0
    backward = [step for step in page_data(tmp_path / "sum.html")["steps"] if step["phase"] == "backward"]
    assert backward[-1]["text"][0].startswith("a.grad = d(sum(a * a, dim=0))/da = [1, 2, 3] + [1, 2, 3] = [2, 4, 6]")
    capsys.readouterr()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["explore", "a * 2", "--a", "1", "--b", "2"], "--b is given but the expression does not use 'b'"),
        (["explore", "sum(a, dim=5)", "--a", "1,2"], "chainrule explore:"),
        (["explore", "a @ b", "--a", "1,2", "--b", "1,2,3"], "chainrule explore:"),
        (["explore"], "the following arguments are required: expression"),
        (["demo", "linear_model", "--quik"], "unrecognized arguments: --quik"),
        (["nope"], "invalid choice: 'nope'"),
    ],
)
def test_every_mistake_is_one_line_with_status_2(tmp_path, arguments, message):
    finished = run_command(*arguments, "--out", str(tmp_path / "page.html")) if arguments[0] == "explore" and len(arguments) > 1 else run_command(*arguments)
    assert finished.returncode == 2
    assert message in finished.stderr and len(finished.stderr.strip().splitlines()) == 1, finished.stderr
    assert "Traceback" not in finished.stderr


def test_an_existing_file_is_kept_unless_forced(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("mine")
    finished = run_command("explore", "a * 2", "--a", "1", "--out", str(page))
    assert finished.returncode == 2 and "exists; pass --force" in finished.stderr and page.read_text() == "mine"
    assert run_command("explore", "a * 2", "--a", "1", "--out", str(page), "--force").returncode == 0
    assert page.read_text() != "mine"


@pytest.mark.parametrize(
    "expression",
    ["a * 9**9**9", "a * sum([1]*10**10)", "a * (1/0)", "a * 10**400", "exp(a, a)", "exp(a, **b)"],
)
def test_explore_command_refuses_bad_expressions_with_a_message(expression, tmp_path, capsys):
    assert explore_command(expression, ["--a", "1"], str(tmp_path / "page.html")) == 2
    assert "chainrule explore:" in capsys.readouterr().err


def test_explore_command_refuses_a_variable_given_twice(tmp_path, capsys):
    assert explore_command("a * 2", ["--a", "1", "--a", "2"], str(tmp_path / "page.html")) == 2
    assert "given twice" in capsys.readouterr().err


def test_explore_command_knows_every_intermediate_value(tmp_path):
    from chainrule.viz.expression import evaluate, parse_values

    output, named = evaluate("J = sum(exp(a - 2) * 3)", parse_values(["--a", "1,2"]))
    text = str(trace_backward(output, named))
    assert "?" not in text
    assert "d(exp(a - 2))/d(a - 2) = e^(a - 2)" in text and "dJ/da = [1.104, 3]" in text
