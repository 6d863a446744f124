import gc
import os

import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# The op tables draw their shapes and values with hypothesis. By default they draw the same examples
# on every run (CI passes or fails for the code, never for the draw); HYPOTHESIS_PROFILE=explore
# draws new ones each run, to search for failures.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def pytest_configure(config):
    """One compute thread per test process, PyTorch's and NumPy's BLAS alike. The suite runs one
    worker per core (``-n 2`` on CI's two): a second thread per library only competes with the other
    worker, and an OpenMP or BLAS barrier then waits on a thread that is not running (PyTorch's
    bfloat16 products in Muon's tests took 5 s instead of 0.04 s under load)."""
    import torch

    import chainrule

    torch.set_num_threads(1)
    chainrule.set_num_threads(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session):
    """Python's collector of reference cycles paused while the tests are collected, then all that
    collecting made (36,000 test items with their parameters, every module imported) set aside
    where it never looks again (``gc.freeze``). Otherwise each full collection walks all of it, to
    find nothing: measured on one process, 11 s of a 36 s collection, and 0.25 s at each full
    collection while the tests run."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


_seeded = {"engine": None, "version": None}  # the global engine as the last seeding left it


@pytest.fixture(autouse=True)
def _fresh_seed():
    """Each test starts from the same global seed, so tests do not depend on their order. It is
    seeded again only where it changed since (a test drew from it, seeded it, loaded a state): an
    engine's ``version`` is new after every change. 36,000 seedings cost the suite 4 s."""
    from chainrule.random import default_generator

    engine = default_generator.engine
    if engine is not _seeded["engine"] or engine.version != _seeded["version"]:
        engine = default_generator.manual_seed(0).engine
        _seeded.update(engine=engine, version=engine.version)
