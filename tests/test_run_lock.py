"""The run lock: one live trainer per run folder, stale locks taken over, others' left alone."""

import os
import subprocess
import sys

import pytest

from herdemos.run_lock import (
    LOCK_NAME,
    acquire_run_lock,
    clear_stale_lock,
    lock_holder,
    refuse_if_locked,
    release_run_lock,
)
from herdemos.util import HerdemosError


@pytest.fixture
def other_process():
    """A live process that is not this one (its PID stands in for another trainer)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_holder_is_named_and_its_lock_kept(tmp_path, other_process):
    (tmp_path / LOCK_NAME).write_text(f"{other_process}\n")
    assert lock_holder(tmp_path) == other_process
    message = (
        f"{tmp_path}: being trained by process {other_process}; stop it first (if no trainer "
        f"runs, delete {tmp_path / LOCK_NAME})"
    )
    with pytest.raises(HerdemosError) as error:
        acquire_run_lock(tmp_path)
    assert str(error.value) == message
    release_run_lock(tmp_path)  # not ours: left alone
    assert (tmp_path / LOCK_NAME).read_text().strip() == str(other_process)


@pytest.mark.parametrize("content", ["dead", "not a pid", "", "0", "-1", "99999999999999999999"])
def test_stale_or_garbled_locks_are_taken_over_and_released(tmp_path, content):
    (tmp_path / LOCK_NAME).write_text(str(dead_pid()) if content == "dead" else content)
    assert lock_holder(tmp_path) is None
    acquire_run_lock(tmp_path)
    assert lock_holder(tmp_path) == os.getpid()
    acquire_run_lock(tmp_path)  # taking our own lock again is fine...
    with pytest.raises(HerdemosError, match="being trained by process"):
        refuse_if_locked(tmp_path)  # ...but to anyone asking whether the run is free, it is busy
    release_run_lock(tmp_path)
    assert not (tmp_path / LOCK_NAME).exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left behind


def test_a_fresh_lock_that_replaced_a_stale_one_is_never_deleted(tmp_path, other_process):
    """The race: this process read the lock as stale, then another trainer took it over before
    this one cleared it. Clearing must put the newcomer's lock back and name it."""
    (tmp_path / LOCK_NAME).write_text(f"{other_process}\n")  # the newcomer's lock
    with pytest.raises(HerdemosError, match=f"being trained by process {other_process}"):
        clear_stale_lock(tmp_path)
    assert (tmp_path / LOCK_NAME).read_text().strip() == str(other_process)
    assert [p.name for p in tmp_path.iterdir()] == [LOCK_NAME]


def test_no_lock_means_no_holder(tmp_path):
    assert lock_holder(tmp_path) is None
    assert lock_holder(tmp_path / "missing") is None


def test_a_filesystem_without_hard_links_still_gets_one_exclusive_lock(
    tmp_path, other_process, monkeypatch
):
    """FAT or some network mounts refuse ``os.link``: the lock is created exclusively instead,
    and a live holder's lock still wins."""
    import errno

    def no_link(src, dst):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    acquire_run_lock(tmp_path)
    assert lock_holder(tmp_path) == os.getpid()
    assert [p.name for p in tmp_path.iterdir()] == [LOCK_NAME]  # no temp file left
    release_run_lock(tmp_path)
    (tmp_path / LOCK_NAME).write_text(f"{other_process}\n")
    with pytest.raises(HerdemosError, match="stop it first"):
        acquire_run_lock(tmp_path)
    assert lock_holder(tmp_path) == other_process
