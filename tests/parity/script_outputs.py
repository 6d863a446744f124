"""What the teaching scripts print: each library's run of a batch of them in one process, and what
PyTorch printed for each, recorded beside the scripts so that the suite compares chainrule with
PyTorch's output without running PyTorch again on every run (PyTorch's runs were 40% of the
scripts' time).

``pytorch_printed/NAME.txt`` holds the standard output of ``scripts/NAME.py`` run by
``run_script.py torch``, each recording under a line naming what it was recorded from. A recording
counts only while what the output depends on is unchanged: the script's text, the helper packages
beside the scripts and ``run_script.py`` (their digest), the versions of PyTorch, NumPy and Python,
and the instruction set PyTorch picks its kernels for (``torch.backends.cpu.get_cpu_capability()``:
a script that trains prints other losses on an AVX2 machine than on an AVX512 one, as PyTorch
itself does); otherwise the test runs PyTorch itself. A file holds one recording per instruction
set that printed something else, and names together those that printed the same. ``test_scripts.py``
asks for a new or changed script (or helper) to be recorded anew (a newer NumPy or another CPU on
another machine only makes PyTorch run there):

    python tests/parity/script_outputs.py            (every script whose recording for this machine is missing or stale)
    python tests/parity/script_outputs.py --all      (every script, for this machine)
"""
import atexit
import functools
import hashlib
import json
import os
import re
import select
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[1] / "src"
SCRIPTS = sorted((HERE / "scripts").glob("*.py"))
RECORDINGS = HERE / "pytorch_printed"
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # an object's address (<AddBackward0 object at 0x7f...>), new on every run


@functools.lru_cache(maxsize=None)
def _helpers_digest():
    """A digest of the files every script's output depends on besides its own text: the helper
    packages beside the scripts (``stepbystep/``...) and the runner."""
    digest = hashlib.sha256()
    helpers = sorted(path for path in (HERE / "scripts").rglob("*.py") if path.parent != HERE / "scripts")
    for path in [HERE / "run_script.py", *helpers]:
        digest.update(path.relative_to(HERE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _sources_key(script):
    """A digest of the script's text and of the helpers'."""
    return hashlib.sha256(script.read_bytes() + _helpers_digest().encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=None)
def _versions():
    return f"PyTorch {metadata.version('torch')}, NumPy {np.__version__}, Python {'%d.%d' % sys.version_info[:2]}"


@functools.lru_cache(maxsize=None)
def _cpu():
    """The instruction set PyTorch's kernels are chosen for on this machine ("AVX512", "AVX2"...)."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


_HEADER = re.compile(r"# printed by (?P<versions>.+) on (?P<cpus>[\w, ]+) for sources (?P<sources>\w+)")


def recording_of(script):
    return RECORDINGS / f"{script.stem}.txt"


def recordings(script):
    """The recordings of ``script``'s file: ``[(versions, [cpu...], sources, printed)]``."""
    path = recording_of(script)
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        header = _HEADER.fullmatch(line.rstrip("\n"))
        if header:
            found.append((header["versions"], header["cpus"].split(", "), header["sources"], []))
        else:
            found[-1][3].append(line)
    return [(versions, cpus, sources, "".join(lines)) for versions, cpus, sources, lines in found]


def _current(script):
    """The recordings of ``script`` made from its present sources by these versions, on any instruction set."""
    sources = _sources_key(script)
    return [recording for recording in recordings(script) if recording[2] == sources and recording[0] == _versions()]


def recorded(script, versions_too=True):
    """What PyTorch printed for ``script``, or None where no recording holds for it (each was made
    from other sources, or with ``versions_too`` by other versions or on another instruction set)."""
    if not versions_too:
        sources = _sources_key(script)
        return next((printed_then for _, _, their_sources, printed_then in recordings(script) if their_sources == sources), None)
    return next((printed_then for _, cpus, _, printed_then in _current(script) if _cpu() in cpus), None)


def recorded_elsewhere(script):
    """What PyTorch of these versions printed for ``script`` on the other instruction sets it was
    recorded on (where that differs from what it prints here)."""
    return [printed_then for _, cpus, _, printed_then in _current(script) if _cpu() not in cpus]


def _write(script, kept):
    recording_of(script).write_text(
        "".join(f"# printed by {versions} on {', '.join(cpus)} for sources {sources}\n{printed_then}"
                for versions, cpus, sources, printed_then in kept),
        encoding="utf-8",
    )


def printed(library, scripts):
    """What each of ``scripts`` prints with ``library`` ("torch" or "chainrule"), run one after another
    by this process's ``script_server.py`` for the library (started at the first call: one import
    of the library for all): ``{path: {"stdout": ..., "error": traceback or None}}``."""
    if library not in _servers or not _servers[library].running():
        _servers[library] = _ScriptServer(library)
    return _servers[library].printed(scripts)


_servers = {}  # library -> its script server


class _ScriptServer:
    """``script_server.py`` for a library, running in a process of its own until this one ends."""

    BATCH_SECONDS = 600  # the most a batch of scripts may take

    def __init__(self, library):
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SOURCE), os.environ.get("PYTHONPATH", "")]))
        # The scripts' matrices are tiny and the suite already keeps every core busy: BLAS threads
        # would only wait for one another (a script took 2.9 s with them, 0.7 s without).
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            environment.setdefault(variable, "1")
        self.library = library
        self.errors = tempfile.TemporaryFile("w+")  # warnings, progress bars: a full pipe would stop it
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "script_server.py"), library],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, text=True, env=environment, cwd=HERE,
        )
        atexit.register(self.stop)

    def running(self):
        return self.process.poll() is None

    def printed(self, scripts):
        self.process.stdin.write(json.dumps(list(map(str, scripts))) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], self.BATCH_SECONDS)
        answer = self.process.stdout.readline() if ready else ""
        if not answer:
            self.process.kill()
            self.errors.seek(0)
            raise AssertionError(
                f"the script server for {self.library} gave no answer in {self.BATCH_SECONDS} s:\n{self.errors.read()[-3000:]}"
            )
        return json.loads(answer)

    def stop(self):
        """Its requests ended: it returns (or is ended, if it does not within 10 s)."""
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.errors.close()


def record(scripts):
    """Run ``scripts`` with PyTorch and write down what each printed; a script that fails with
    PyTorch itself is reported and not recorded."""
    RECORDINGS.mkdir(exist_ok=True)
    count = 0
    for script, result in printed("torch", scripts).items():
        script = Path(script)
        if result["error"] is not None:
            print(f"{script.name}: fails with PyTorch itself, not recorded:\n{result['error'][-2000:]}")
            continue
        output = ADDRESS.sub("", result["stdout"])
        # this machine's recording joins one that printed the same, else stands beside the others
        # (those of other sources or versions are dropped: they no longer count anywhere)
        kept = [(versions, [cpu for cpu in cpus if cpu != _cpu()], sources, printed_then)
                for versions, cpus, sources, printed_then in _current(script)]
        same = next((recording for recording in kept if recording[3] == output), None)
        if same is None:
            kept.append((_versions(), [_cpu()], _sources_key(script), output))
        else:
            same[1].append(_cpu())
        _write(script, [recording for recording in kept if recording[1]])
        count += 1
    print(f"recorded what PyTorch printed for {count} scripts on {_cpu()} in {RECORDINGS}")


def main(arguments):
    stale = SCRIPTS if "--all" in arguments else [script for script in SCRIPTS if recorded(script) is None]
    scripts = {script.name for script in SCRIPTS}
    for orphan in RECORDINGS.glob("*.txt"):
        if f"{orphan.stem}.py" not in scripts:
            orphan.unlink()
    if stale:
        record(stale)


if __name__ == "__main__":
    main(sys.argv[1:])
