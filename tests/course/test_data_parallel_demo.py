"""The data-parallel demo, which starts its 2 processes itself."""
from tests.distributed.processes import needs_mpi


@needs_mpi
def test_the_demo_shows_that_the_averaged_update_is_the_full_batch_update(tmp_path):
    from chainrule.examples import data_parallel

    results = data_parallel.main(out=tmp_path, quick=True)
    assert results["gradient_difference"] < 1e-12 and results["update_difference"] < 1e-12
    assert results["replica_spread"] == 0.0 and results["accuracy"] >= 0.9
    assert "their average (DDP)" in (tmp_path / "report.md").read_text()
