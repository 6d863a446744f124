"""``chainrule run -n 4 train.py``: start a script on several processes with the MPI launcher.

It runs ``mpiexec -n 4 <this python> train.py ...``, with the ``mpiexec`` that came with the MPI
wheel installed beside this Python (``pip install 'chainrule[distributed]'``), so that the
processes use the MPI library that mpi4py was built for, whatever else is on the PATH.
"""
import os
import shutil
import subprocess
import sys
import sysconfig

from chainrule.distributed.communicator import INSTALL_HINT


def find_mpiexec():
    """The path of ``mpiexec``: the one installed with this Python's packages, else the PATH's."""
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(folder, "mpiexec")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(f"chainrule run: no mpiexec found, beside this Python or on the PATH; {INSTALL_HINT}")
    return found


def mpiexec_command(processes, program, mpiexec=None):
    """The command line that starts ``program`` (``[script, *arguments]`` or ``["-m", module, ...]``)
    on ``processes`` processes of this Python."""
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"chainrule run: -n must be a positive number of processes, got {processes!r}")
    return [mpiexec or find_mpiexec(), "-n", str(processes), sys.executable, *program]


def launcher_environment(mpiexec):
    """The environment for ``mpiexec``: Open MPI refuses to start as root unless told it may
    (containers often run as root); MPICH needs nothing."""
    environment = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and is_open_mpi(mpiexec):
        environment.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        environment.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return environment


def is_open_mpi(mpiexec):
    try:
        version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in version or "OpenRTE" in version


def run(processes, program, timeout=None):
    """Start ``program`` on ``processes`` processes and wait; the launcher's exit code.

    The processes' output goes to this process's terminal, as with ``mpiexec`` itself.
    """
    command = mpiexec_command(processes, program)
    return subprocess.run(command, env=launcher_environment(command[0]), timeout=timeout).returncode
