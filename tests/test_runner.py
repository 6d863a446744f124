"""scripts/run_tests.py: the suite's two processes get halves of about equal duration."""
import json
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


def test_every_test_file_is_in_one_share_only():
    files = run_tests.test_files()
    shared = run_tests.shares(files, json.loads(run_tests.DURATIONS.read_text()))
    assert sorted(f for share in shared for f in share) == files
    assert "tests/test_runner.py" in files and "tests/parity/test_scripts.py" in files


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
