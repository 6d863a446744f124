"""Saving to a path: atomic, keeping permissions and symlinks, never leaving temporary files behind."""
import multiprocessing
import os
import signal
import stat
import time

import numpy as np
import pytest

import chainrule
from chainrule.serialization import atomic


def temporaries(directory):
    return [name for name in os.listdir(directory) if atomic.TEMPORARY_MARK in name]


def test_a_crash_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.pt"
    chainrule.save({"epoch": 1, "weight": chainrule.ones(3)}, target)

    def disk_full(descriptor):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="disk full"):
        chainrule.save({"epoch": 2, "weight": chainrule.zeros(3)}, target)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["checkpoint.pt"]
    assert chainrule.load(target)["epoch"] == 1


def test_an_interrupt_before_the_rename_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.pt"
    chainrule.save({"epoch": 1}, target)

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_copy_permissions", interrupt)  # the last call before the rename
    with pytest.raises(KeyboardInterrupt):
        chainrule.save({"epoch": 2}, target)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["checkpoint.pt"]
    assert chainrule.load(target) == {"epoch": 1}


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_resave_keeps_the_permissions(tmp_path):
    target = tmp_path / "private.pt"
    chainrule.save({"epoch": 1}, target)
    os.chmod(target, 0o600)
    chainrule.save({"epoch": 2}, target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    os.chmod(target, 0o640)
    chainrule.save({"epoch": 3}, target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks")
def test_a_symlink_is_written_through(tmp_path):
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "real.pt"
    chainrule.save({"epoch": 1}, real)
    link = tmp_path / "latest.pt"
    link.symlink_to(real)
    chainrule.save({"epoch": 2}, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert chainrule.load(real) == {"epoch": 2}
    dangling = tmp_path / "dangling.pt"
    dangling.symlink_to(tmp_path / "runs" / "new.pt")
    chainrule.save({"epoch": 3}, dangling)
    assert dangling.is_symlink() and chainrule.load(tmp_path / "runs" / "new.pt") == {"epoch": 3}


def _save_forever(path, seed):
    """Runs in a child process: save ever-changing checkpoints until killed, on a slow disk."""
    real_fsync = os.fsync

    def slow_fsync(descriptor):  # widens the window between creating the temporary file and the rename
        real_fsync(descriptor)
        time.sleep(0.01)

    os.fsync = slow_fsync
    rng = np.random.default_rng(seed)
    version = 0
    while True:
        version += 1
        chainrule.save({"version": version, "weight": chainrule.tensor(rng.standard_normal(200_000).astype(np.float32))}, path)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fork")
def test_sigkill_during_saves_leaves_a_loadable_file_and_the_next_save_cleans_up(tmp_path):
    target = tmp_path / "checkpoint.pt"
    chainrule.save({"version": 0, "weight": chainrule.zeros(3)}, target)
    context = multiprocessing.get_context("fork")
    rng = np.random.default_rng(0)
    killed_mid_save = 0
    for round_number in range(12):
        writer = context.Process(target=_save_forever, args=(str(target), round_number))
        writer.start()
        time.sleep(0.05 + 0.1 * rng.random())
        os.kill(writer.pid, signal.SIGKILL)
        writer.join()
        loaded = chainrule.load(target)
        assert isinstance(loaded["version"], int) and loaded["weight"].dtype == chainrule.float32
        left = temporaries(tmp_path)
        assert len(left) <= 1, "each save removed what the killed saves before it left"
        killed_mid_save += len(left)
    assert killed_mid_save, "some kill landed mid-save (the slow disk makes that near certain)"
    chainrule.save({"version": "final"}, target)
    assert temporaries(tmp_path) == [], "the next save removes what killed saves left"
    assert chainrule.load(target) == {"version": "final"}


def test_the_next_save_keeps_temporaries_of_a_live_writer(tmp_path):
    target = tmp_path / "checkpoint.pt"
    live = tmp_path / f".checkpoint.pt{atomic.TEMPORARY_MARK}{os.getppid()}-abcdef12.tmp"
    live.write_bytes(b"being written")
    chainrule.save({"epoch": 1}, target)
    assert live.exists()
