"""The ``chainrule demo`` command, run as a user runs it: in a subprocess."""
import subprocess
import sys

from chainrule.examples import DEMOS, run_as_script, run_demo


def run_command(*arguments, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_demo_list_names_every_example():
    finished = run_command("demo", "--list")
    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(DEMOS)
    assert "hand-written operators" in lines[DEMOS.index("two_moons")]


def test_a_quick_demo_writes_its_report_and_says_where(tmp_path):
    finished = run_command("demo", "linear_model", "--quick", "--out", str(tmp_path / "out"))
    assert finished.returncode == 0, finished.stderr
    assert "epoch 0: w = " in finished.stdout  # progress while it runs
    assert finished.stdout.splitlines()[-3:] == [f"Figures and report in {tmp_path / 'out'}:", "  loss.png", "  report.md"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert report.startswith("# Linear model") and "- w: 2" in report


def test_an_unknown_demo_is_refused_with_the_names(capsys):
    assert run_demo("nope") == 2
    assert "no example named 'nope'; choose one of linear_model" in capsys.readouterr().err


def test_an_example_module_runs_as_a_script(tmp_path, capsys):
    assert run_as_script("two_layer_graph", ["--out", str(tmp_path), "--quick"]) == 0
    assert (tmp_path / "report.md").exists()
    assert "85 in all" in capsys.readouterr().out
