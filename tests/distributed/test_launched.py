"""Programs launched on 2 and 4 processes with mpiexec: collectives, DDP, the sampler and faults."""
import json
import time

import numpy as np
import pytest

from tests.distributed.processes import check_finished, needs_mpi, run_processes
from tests.distributed.runner_case import histories, iris_case

pytestmark = needs_mpi


@pytest.mark.parametrize("count", [2, 4])
def test_collectives_match_their_closed_forms(count):
    assert f"collectives ok on {count} processes" in check_finished(run_processes(count, "collectives.py"))


@pytest.mark.parametrize("count", [2, 4])
def test_ddp_trains_exactly_as_one_process_on_the_whole_batch(count):
    output = check_finished(run_processes(count, "ddp_matches_full_batch.py"))
    for case in ("sgd accumulate=1", "sgd accumulate=2", "adam accumulate=1", "adam accumulate=2"):
        line = next(line for line in output.splitlines() if line.startswith(case))
        assert float(line.rsplit("=", 1)[1]) <= 1e-10, line


@pytest.mark.parametrize("count", [2, 4])
def test_sampler_shares_partition_the_dataset_every_epoch(count):
    assert f"sampler partitions on {count} processes" in check_finished(run_processes(count, "sampler_partition.py"))


@pytest.mark.parametrize("bare", [True, False], ids=["mpiexec", "chainrule-run"])
def test_a_raising_rank_ends_every_process_with_its_error_printed_once(bare):
    start = time.monotonic()
    finished = run_processes(4, "raise_on_one_rank.py", timeout=30, bare=bare)
    elapsed = time.monotonic() - start
    assert finished.returncode != 0 and elapsed < 10
    assert "unreachable" not in finished.stdout
    output = finished.stdout + finished.stderr
    assert output.count("ValueError: deliberate failure on the last rank") == 1, output
    assert "rank 3 of 4 raised an error" in output
    assert 'raise_on_one_rank.py", line 7, in <module>' in output and "runpy" not in output  # the script's frames


def test_a_rank_exiting_with_a_failing_status_ends_every_process():
    start = time.monotonic()
    finished = run_processes(2, "exit_on_one_rank.py", timeout=30)
    assert finished.returncode == 3 and time.monotonic() - start < 10
    assert "rank 1 of 2 exited with status 3; ending every process" in finished.stderr


def test_models_that_differ_across_ranks_are_refused_at_wrap_time_once():
    start = time.monotonic()
    finished = run_processes(2, "mismatched_models.py", timeout=30)
    elapsed = time.monotonic() - start
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0 and elapsed < 10, output
    assert output.count("the model differs across processes") == 1, output
    assert "parameter '0.weight' has shape (6, 4) (chainrule.float32) on rank 0 but shape (7, 4) (chainrule.float32) on rank 1" in output


def test_the_runner_under_ddp_reports_the_whole_jobs_numbers_from_rank_0_alone(tmp_path, capsys):
    checkpoint = tmp_path / "best.pt"
    output = check_finished(run_processes(2, "runner_under_ddp.py", checkpoint))
    launched = json.loads(output.split("HISTORIES ", 1)[1])
    model, _, runner, train_data, dev_data = iris_case()
    runner.train(train_data, dev_data, num_epochs=6, log_steps=2, save_path=tmp_path / "single.pt")
    single_output = capsys.readouterr().out.replace(str(tmp_path / "single.pt"), str(checkpoint))
    runner.load_model(tmp_path / "single.pt")
    alone = histories(runner, model)
    assert launched["dev_scores"] == alone["dev_scores"] and launched["best_score"] == alone["best_score"]
    for name in ("train_step_losses", "dev_losses"):
        assert launched[name] == pytest.approx(alone[name], abs=1e-12)
    flat = lambda weights: [value for weight in weights for value in np.ravel(weight)]  # noqa: E731
    assert flat(launched["weights"]) == pytest.approx(flat(alone["weights"]), abs=1e-12)
    printed = [line for line in output.splitlines() if line.startswith("[")]
    assert printed == [line for line in single_output.splitlines() if line.startswith("[")]  # once, not per rank
    assert checkpoint.stat().st_size > 0


def test_an_error_that_every_rank_raises_is_printed_once_by_rank_0():
    finished = run_processes(4, "raise_on_every_rank.py", timeout=30, bare=True)
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0 and output.count("ValueError: the same failure on every rank") == 1, output
    assert "rank 0 of 4 raised an error" in output


@pytest.mark.parametrize("count", [2, 4])
def test_zero_redundancy_optimizer_and_join(count):
    output = check_finished(run_processes(count, "zero_and_join.py"))
    for line in ("zero bucket_view=False ok", "zero bucket_view=True ok", "join ok"):
        assert f"{line} on {count} processes" in output
