"""A pytest plugin for processes that share work: a test marked ``claimed(key)`` runs in whichever
of them claims ``key`` first, by creating the folder ``key`` in the folder given as ``--claims``.

``scripts/run_tests.py`` loads it (``-p tests.claims --claims DIR``) in both of its processes, which
both collect the teaching scripts and run them last: each batch goes to the process that is free
first, so that they end together. In a run without ``--claims`` the marker does nothing.
"""
import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--claims", metavar="DIR", help="claim each claimed(key) test's key in DIR, shared with other processes")


_claimed = {}  # key -> whether this process claimed it


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """A test whose key another process claimed is left to it: not run, not reported here (its
    fixtures are set up and torn down where it runs)."""
    folder = item.config.getoption("claims")
    marker = item.get_closest_marker("claimed") if folder else None
    if marker is None:
        return None
    key = marker.args[0]
    if key not in _claimed:
        try:
            os.mkdir(os.path.join(folder, key))
            _claimed[key] = True
        except FileExistsError:
            _claimed[key] = False
    return None if _claimed[key] else True
