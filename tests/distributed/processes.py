"""Launch a test program on several processes with mpiexec, as a user would, with a time limit."""
import os
import sys

import pytest

import chainrule
from chainrule.distributed.launch import launcher_environment, mpiexec_command, run_job

PROGRAMS = os.path.join(os.path.dirname(__file__), "programs")

try:
    from chainrule.distributed.launch import find_mpiexec

    import mpi4py  # noqa: F401

    MPIEXEC = find_mpiexec()
except (ImportError, FileNotFoundError):
    MPIEXEC = None

needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason="needs the extra chainrule[distributed] (mpi4py, mpich)")


def run_processes(count, program, *arguments, timeout=60, bare=False):
    """Run ``programs/<program>`` on ``count`` processes as ``chainrule run`` does (or, ``bare``, as
    ``mpiexec -n count python program`` does); the finished process, its output captured."""
    script = [os.path.join(PROGRAMS, program), *map(str, arguments)]
    command = [MPIEXEC, "-n", str(count), sys.executable, *script] if bare else mpiexec_command(count, script, MPIEXEC)
    environment = launcher_environment(MPIEXEC)
    source = os.path.dirname(os.path.dirname(chainrule.__file__))
    repository = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # for tests.*
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [source, repository, environment.get("PYTHONPATH")]))
    environment["OMP_NUM_THREADS"] = "1"  # several processes on few cores: no BLAS thread contention
    return run_job(command, environment, timeout, capture_output=True)


def check_finished(finished):
    """Assert that every process exited 0; show their output otherwise."""
    assert finished.returncode == 0, f"exit code {finished.returncode}\n{finished.stdout}\n{finished.stderr}"
    return finished.stdout


