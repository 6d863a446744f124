"""``chainrule run -n N script.py``: mpiexec with this Python."""
import os
import subprocess
import sys

import pytest

import chainrule
from chainrule.distributed.launch import mpiexec_command
from tests.distributed.processes import PROGRAMS, needs_mpi


def test_the_command_line_is_mpiexec_with_this_python():
    assert mpiexec_command(3, ["train.py", "--lr", "0.1"], "/bin/mpiexec") == [
        "/bin/mpiexec", "-n", "3", sys.executable, "train.py", "--lr", "0.1"
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
