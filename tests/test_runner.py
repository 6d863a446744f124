"""scripts/run_tests.py: the suite's two processes get halves of about equal duration, then share
the teaching scripts, each batch run by the process that claims it first (tests/claims.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import run_tests  # noqa: E402


def test_files_are_shared_longest_first_to_the_least_loaded_process():
    durations = {"a": 10.0, "b": 6.0, "c": 5.0, "d": 4.0, "e": 1.0}
    first, second = run_tests.shares(["a", "b", "c", "d", "e", "new"], durations)
    assert first == ["a", "new", "e"] and second == ["b", "c", "d"]  # "new" counts as the median file (5 s)
    assert sum(durations.get(f, 5.0) for f in first) == 16 and sum(durations[f] for f in second) == 15


def test_every_test_file_is_in_one_share_only_but_those_both_share():
    files = run_tests.test_files()
    own = [file for file in files if file not in run_tests.SHARED]
    shared = run_tests.shares(own, json.loads(run_tests.DURATIONS.read_text()))
    assert sorted(f for share in shared for f in share) == own
    assert "tests/test_runner.py" in own and set(run_tests.SHARED) <= set(files)


def test_each_claimed_test_runs_in_one_process_of_two(tmp_path):
    (tmp_path / "test_work.py").write_text(
        "import os, pytest\n"
        "@pytest.mark.parametrize('n', range(40))\n"
        "def test_work(n):\n"
        "    with open('ran.txt', 'a') as ran: ran.write(f'{n} {os.getpid()}\\n')\n",
    )
    (tmp_path / "conftest.py").write_text(  # 5 batches of 8 tests
        "import pytest\n"
        "def pytest_collection_modifyitems(items):\n"
        "    for item in items: item.add_marker(pytest.mark.claimed(f'batch{item.callspec.params[\"n\"] // 8}'))\n"
    )
    claims = tmp_path / "claims"
    claims.mkdir()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.claims", f"--claims={claims}", "test_work.py"]
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    processes = [subprocess.Popen(command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    ran = [line.split() for line in (tmp_path / "ran.txt").read_text().splitlines()]
    assert sorted(int(n) for n, _ in ran) == list(range(40))  # each once
    for batch in range(5):  # a batch's tests in one process
        assert len({pid for n, pid in ran if int(n) // 8 == batch}) == 1
    assert sorted(os.listdir(claims)) == [f"batch{batch}" for batch in range(5)]


def test_the_recorded_durations_name_only_files_that_exist():
    """A file renamed or removed leaves its time behind: record the durations again."""
    recorded = json.loads(run_tests.DURATIONS.read_text())
    assert set(recorded) <= set(run_tests.test_files())


def test_durations_are_read_from_junit_reports_per_file(tmp_path):
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite>'
        '<testcase classname="tests.ops.test_pool" name="a" time="1.25"/>'
        '<testcase classname="tests.ops.test_pool" name="b" time="0.5"/>'
        '<testcase classname="tests.nn.test_rnn.TestLSTM" name="c" time="2"/>'
        '</testsuite></testsuites>'
    )
    assert run_tests.durations_from([report]) == {"tests/nn/test_rnn.py": 2.0, "tests/ops/test_pool.py": 1.8}
