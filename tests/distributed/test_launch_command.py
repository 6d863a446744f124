"""``chainrule run -n N script.py``: mpiexec with this Python."""
import os
import subprocess
import sys

import pytest

import chainrule
from chainrule.distributed.launch import mpiexec_command
from tests.distributed.processes import PROGRAMS, needs_mpi


def test_the_command_line_is_mpiexec_with_this_python_running_the_script_through_the_launcher():
    assert mpiexec_command(3, ["train.py", "--lr", "0.1"], "/bin/mpiexec") == [
        "/bin/mpiexec", "-n", "3", sys.executable, "-m", "chainrule.distributed.launch", "train.py", "--lr", "0.1"
    ]
    with pytest.raises(ValueError, match="-n must be a positive number of processes, got 0"):
        mpiexec_command(0, ["train.py"], "/bin/mpiexec")


@needs_mpi
def test_chainrule_run_starts_the_script_on_n_processes():
    source = os.path.dirname(os.path.dirname(chainrule.__file__))
    environment = dict(os.environ, PYTHONPATH=source)
    finished = subprocess.run(
        [sys.executable, "-m", "chainrule", "run", "-n", "2", os.path.join(PROGRAMS, "collectives.py")],
        capture_output=True, text=True, env=environment, timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert "collectives ok on 2 processes" in finished.stdout


def test_the_launcher_runs_a_script_or_module_as_python_does(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import sys\nprint(__name__, sys.argv[1:])\nraise KeyError('from the script')\n")
    source = os.path.dirname(os.path.dirname(chainrule.__file__))
    environment = dict(os.environ, PYTHONPATH=source)
    command = [sys.executable, "-m", "chainrule.distributed.launch"]
    finished = subprocess.run([*command, str(script), "a", "b"], capture_output=True, text=True, env=environment, timeout=60)
    assert finished.returncode == 1 and finished.stdout == "__main__ ['a', 'b']\n"
    assert finished.stderr.splitlines()[1].startswith(f'  File "{script}", line 3') and "runpy" not in finished.stderr
    as_module = subprocess.run([*command, "-m", "chainrule", "demo", "--list"], capture_output=True, text=True, env=environment, timeout=60)
    assert as_module.returncode == 0 and as_module.stdout.startswith("linear_model")
