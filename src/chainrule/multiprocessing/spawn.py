"""``spawn(fn, args, nprocs)``: ``fn(i, *args)`` run in ``nprocs`` new processes, i = 0..nprocs-1,
as ``torch.multiprocessing.spawn`` (how distributed training scripts start one process per rank).

Each process runs under a wrapper that writes the traceback of an exception ``fn`` raises into a
file of its own and exits with status 1. ``join`` waits on every process; the first one to end
badly ends the others, and its error is raised here: ``ProcessRaisedException`` with the child's
traceback, or ``ProcessExitedException`` naming its exit code or signal.
"""
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import traceback
import warnings


class ProcessException(Exception):
    """A spawned process ended badly: ``error_index`` is its index, ``pid`` its process id."""

    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """The function raised: the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """The process exited with a status that is not 0 (``exit_code``), or was killed by a signal
    (``signal_name``), without a traceback."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _run(fn, index, args, error_file):
    """In the child: ``fn(index, *args)``; an exception's traceback is written to ``error_file``."""
    try:
        fn(index, *args)
    except KeyboardInterrupt:
        pass  # the parent stops its children so: nothing to report
    except Exception:
        with open(error_file, "wb") as file:
            pickle.dump(traceback.format_exc(), file)
        sys.exit(1)


class ProcessContext:
    """The processes ``start_processes`` started: ``join()`` them, ``pids()``."""

    def __init__(self, processes, error_files):
        self.processes, self.error_files = processes, error_files
        self.sentinels = {process.sentinel: index for index, process in enumerate(processes)}

    def pids(self):
        return [int(process.pid) for process in self.processes]

    def join(self, timeout=None, grace_period=None):
        """Wait (at most ``timeout`` seconds) for processes to end: True once all have ended well,
        False while some run; the first to end badly ends the others (after ``grace_period``
        seconds, if given, for them to finish) and its error is raised."""
        if not self.sentinels:
            return True
        failed = None
        for sentinel in multiprocessing.connection.wait(list(self.sentinels), timeout=timeout):
            index = self.sentinels.pop(sentinel)
            self.processes[index].join()
            if self.processes[index].exitcode != 0:
                failed = index
                break
        if failed is None:
            return not self.sentinels
        self._end_the_others(grace_period)
        raise self._error_of(failed)

    def _end_the_others(self, grace_period):
        if grace_period is not None:
            multiprocessing.connection.wait([process.sentinel for process in self.processes], timeout=grace_period)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()

    def _error_of(self, index):
        process = self.processes[index]
        if not os.path.exists(self.error_files[index]):  # it exited or was killed without raising
            if process.exitcode < 0:
                name = signal.Signals(-process.exitcode).name
                return ProcessExitedException(
                    f"process {index} terminated with signal {name}", index, process.pid, process.exitcode, name
                )
            return ProcessExitedException(f"process {index} terminated with exit code {process.exitcode}", index, process.pid, process.exitcode)
        with open(self.error_files[index], "rb") as file:
            child_traceback = pickle.load(file)
        os.remove(self.error_files[index])
        return ProcessRaisedException(f"\n\n-- Process {index} terminated with the following error:\n{child_traceback}", index, process.pid)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``fn(i, *args)`` in ``nprocs`` processes started by ``start_method``; waits for them with
    ``join`` (else returns their ``ProcessContext``)."""
    context = multiprocessing.get_context(start_method)
    processes, error_files = [], []
    for index in range(nprocs):
        error_file = os.path.join(tempfile.gettempdir(), f"chainrule-errorfile-{os.getpid()}-{id(processes)}-{index}.pickle")
        if os.path.exists(error_file):  # left by an earlier job of a process that had this id
            os.remove(error_file)
        process = context.Process(target=_run, args=(fn, index, args, error_file), daemon=daemon)
        process.start()
        processes.append(process)
        error_files.append(error_file)
    started = ProcessContext(processes, error_files)
    if not join:
        return started
    while not started.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``start_processes`` with the "spawn" start method (fresh interpreters, the arguments pickled)."""
    if start_method != "spawn":
        warnings.warn(
            f"This method only supports start_method=spawn (got: {start_method}).\n"
            f"To use a different start_method use:\n\t\t torch.multiprocessing.start_processes(...)",
            FutureWarning,
            stacklevel=2,
        )
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
