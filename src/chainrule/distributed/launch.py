"""``chainrule run -n 4 train.py``: start a script on several processes with the MPI launcher.

It runs ``mpiexec -n 4 <this python> -m chainrule.distributed.launch train.py ...``, with the
``mpiexec`` that came with the MPI wheel installed beside this Python (``pip install
'chainrule[distributed]'``), so that the processes use the MPI library that mpi4py was built for,
whatever else is on the PATH.

In each process, ``run_script`` runs ``train.py`` as ``python train.py`` would, and adds one thing
to what ``init_process_group`` already does for uncaught exceptions: a process that calls
``sys.exit(code)`` with a failing code also ends every process. (Under a bare ``mpiexec``, such a
process would wait in MPI's finalization for the others, which may be waiting for it.)
"""
import os
import runpy
import shutil
import signal
import subprocess
import sys
import sysconfig

from chainrule.distributed.communicator import INSTALL_HINT
from chainrule.distributed.process_group import end_every_process, get_world_size, is_initialized


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
    mpiexec = mpiexec or find_mpiexec()
    # Open MPI starts no more processes than cores unless told to; MPICH shares the cores as asked.
    options = ["--map-by", ":OVERSUBSCRIBE"] if is_open_mpi(mpiexec) else []
    return [mpiexec, *options, "-n", str(processes), sys.executable, "-m", __name__, *program]


def launcher_environment(mpiexec):
    """The environment for ``mpiexec``: Open MPI refuses to start as root unless told it may
    (containers often run as root); MPICH needs nothing."""
    environment = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and is_open_mpi(mpiexec):
        environment.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        environment.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return environment


def is_open_mpi(mpiexec):
    """Whether ``mpiexec`` is Open MPI's (the MPICH wheel's is Hydra)."""
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
    return run_job(command, launcher_environment(command[0]), timeout).returncode


def run_job(command, environment, timeout=None, capture_output=False):
    """Run the launcher ``command`` and wait, as ``subprocess.run`` does; past ``timeout`` seconds,
    kill it together with every process it started (not only ``mpiexec``), then raise TimeoutExpired."""
    with subprocess.Popen(
        command,
        env=environment,
        start_new_session=True,  # its own process group, so that one signal reaches all of the job
        stdout=subprocess.PIPE if capture_output else None,
        stderr=subprocess.PIPE if capture_output else None,
        text=True,
    ) as job:
        try:
            stdout, stderr = job.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(job.pid, signal.SIGKILL)
            job.communicate()
            raise
    return subprocess.CompletedProcess(command, job.returncode, stdout, stderr)


def run_script(program):
    """Run ``program`` (``[script, *arguments]`` or ``["-m", module, *arguments]``) in this process as
    Python runs a script; a failing ``sys.exit`` in a process group of several ends every process."""
    if program[:1] == ["-m"]:
        sys.argv = program[1:]
        run = lambda: runpy.run_module(program[1], run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        sys.argv = list(program)
        sys.path.insert(0, os.path.dirname(os.path.abspath(program[0])))
        run = lambda: runpy.run_path(program[0], run_name="__main__")  # noqa: E731
    try:
        run()
    except SystemExit as exit:
        if exit.code not in (None, 0) and is_initialized() and get_world_size() > 1:
            end_every_process(f"exited with status {exit.code}", exit.code if isinstance(exit.code, int) else 1)
        raise
    except BaseException as error:
        # Reported as Python reports a script's error: from the script's first frame, not from here.
        error = error.with_traceback(_script_frames(error.__traceback__))
        sys.excepthook(type(error), error, error.__traceback__)
        sys.exit(1)


def _script_frames(error_traceback):
    """The traceback from its first frame outside this launcher and runpy."""
    while error_traceback is not None and (
        error_traceback.tb_frame.f_code.co_filename in (__file__, runpy.__file__, "<frozen runpy>")
        or error_traceback.tb_frame.f_code.co_name == "<lambda>"
        and error_traceback.tb_frame.f_code.co_filename == __file__
    ):
        error_traceback = error_traceback.tb_next
    return error_traceback


if __name__ == "__main__":
    run_script(sys.argv[1:])
