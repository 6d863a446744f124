"""The whole suite on two cores: two pytest processes, each running half of the test files.

    python scripts/run_tests.py            (what scripts/test.sh runs when given no arguments)
    python scripts/run_tests.py --record   (the same, then tests/durations.json written anew)

pytest-xdist's ``-n 2`` puts a third process beside its two workers, which reports every test as
it ends (36,000 here) and takes its CPU time from them, and makes each worker collect every test:
tests/ops ran in 101 s under ``-n 2`` and in 82 s as two plain processes on halves of its files.
The halves are balanced by how long each file took (``tests/durations.json``, written by
``--record``: refresh it when files grow or are added; a file not listed there counts as the
median file). Both also collect ``SHARED`` and run it last, each of its tests in whichever process
claims it first (``tests/claims.py``): it fills the time one half leaves the other,
so that they end together. Each process prints to a log of its own; the first is shown as it
runs, the second once it is done, then one line for both. The exit status is the first failing process's.
"""
import json
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATIONS = ROOT / "tests" / "durations.json"
PROCESSES = 2
#: Test files both processes run last, their work claimed a batch at a time: the teaching scripts
#: (a fifth of the suite), whose batches of a few seconds each let the processes end together.
SHARED = ["tests/parity/test_scripts.py"]


def test_files():
    """The files pytest collects under tests/ (``test_*.py``, pytest's default pattern)."""
    return sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("test_*.py"))


def shares(files, durations, count=PROCESSES):
    """``files`` in ``count`` lists of about equal total duration: the longest first, each to the
    list that has the least so far (a file not in ``durations`` counts as the median file)."""
    typical = statistics.median(durations.values()) if durations else 1.0
    lists, totals = [[] for _ in range(count)], [0.0] * count
    for file in sorted(files, key=lambda file: (-durations.get(file, typical), file)):
        least = totals.index(min(totals))
        lists[least].append(file)
        totals[least] += durations.get(file, typical)
    return lists


def durations_from(reports):
    """Seconds per test file, summed over the test cases of pytest's JUnit XML ``reports``."""
    seconds = {}
    for report in reports:
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            parts = case.get("classname").split(".")
            module = next(index for index, part in enumerate(parts) if part.startswith("test_"))
            file = "/".join(parts[: module + 1]) + ".py"
            seconds[file] = seconds.get(file, 0.0) + float(case.get("time"))
    return {file: round(value, 1) for file, value in sorted(seconds.items())}


def main(record=False):
    durations = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        logs = [Path(folder, f"process{index}.log") for index in range(PROCESSES)]
        reports = [Path(folder, f"process{index}.xml") for index in range(PROCESSES)]
        claims = Path(folder, "claims")
        claims.mkdir()
        processes = []
        own = [file for file in test_files() if file not in SHARED]
        for files, log, report in zip(shares(own, durations), logs, reports):
            # (the report of each test's time only where it is recorded: it costs 0.14 ms a test)
            command = [
                sys.executable, "-u", "-m", "pytest", "-p", "tests.claims", f"--claims={claims}",
                *([f"--junitxml={report}"] if record else []), *files, *SHARED,
            ]
            with log.open("w") as writing:  # the process writes through its own copy of the file
                processes.append(subprocess.Popen(command, cwd=ROOT, stdout=writing, stderr=subprocess.STDOUT))
        try:
            statuses = [_shown_while_running(processes[0], logs[0])] + [process.wait() for process in processes[1:]]
        except KeyboardInterrupt:
            for process in processes:
                process.terminate()
            raise
        for index, log in enumerate(logs[1:], start=1):
            print(f"\n=== test process {index + 1} of {PROCESSES} ===", flush=True)
            sys.stdout.write(log.read_text())
        failed = [status for status in statuses if status != 0]
        print(f"\n=== {PROCESSES} test processes: exit statuses {statuses}, {time.monotonic() - start:.0f} s ===")
        if record and not failed:
            DURATIONS.write_text(json.dumps(durations_from(reports), indent=0) + "\n")
            print(f"durations written to {DURATIONS.relative_to(ROOT)}")
    return failed[0] if failed else 0


def _shown_while_running(process, log):
    """Copy ``log`` to stdout as ``process`` writes it; its exit status."""
    with log.open() as reading:
        while True:
            status = process.poll()
            sys.stdout.write(reading.read())
            sys.stdout.flush()
            if status is not None:
                return status
            time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main(record="--record" in sys.argv[1:]))
