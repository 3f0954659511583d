"""One training process per run folder: a ``train.lock`` file holding the trainer's PID.

Why: two processes training into one folder (a second ``--resume`` typed in another terminal,
or a benchmark runner restarted while its run is live) would interleave checkpoints and
``progress.csv`` rows, and a runner that clears a run folder without checkpoints would delete a
live run. The lock is advisory: a lock left by a killed process (its PID no longer runs) is
stale and simply taken over, so a crash never leaves a run that cannot be resumed.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from herdemos.util import HerdemosError

LOCK_NAME = "train.lock"
NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}
"""What ``os.link`` fails with on a filesystem that has no hard links."""


def pid_is_running(pid: int) -> bool:
    """Whether a process with this PID exists (signal 0 checks without signalling)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or no PID at all
        return False
    except PermissionError:  # it exists, it is just someone else's
        return True
    return True


def _read_pid(path: Path) -> int | None:
    """The PID in a lock file, or None (missing or garbled)."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


def _live_pid(path: Path) -> int | None:
    """The PID in a lock file if that process runs, else None (missing, garbled or stale)."""
    pid = _read_pid(path)
    return pid if pid is not None and pid_is_running(pid) else None


def lock_holder(logdir: str | os.PathLike) -> int | None:
    """The PID training into ``logdir`` right now, or None (no lock, or a stale one)."""
    return _live_pid(Path(logdir) / LOCK_NAME)


def _refuse_holder(logdir: str | os.PathLike, holder: int | None, own_pid_ok: bool) -> None:
    if holder is not None and not (own_pid_ok and holder == os.getpid()):
        # The PID alone is checked: after a reboot it may name an unrelated process.
        raise HerdemosError(
            f"{logdir}: being trained by process {holder}; stop it first (if no trainer runs, "
            f"delete {Path(logdir) / LOCK_NAME})"
        )


def _place_lock(lock: Path, content: str) -> None:
    """Creates ``lock`` holding ``content``; ``FileExistsError`` if a lock is there already.

    The content goes to a temporary file that is hard-linked into place, so a reader never sees
    a half-written lock. A filesystem without hard links (FAT, some network mounts) gets the
    file created exclusively instead, which is as safe except for that instant.
    """
    tmp = lock.with_name(f".{LOCK_NAME}.{os.getpid()}")
    tmp.write_text(content)
    try:
        os.link(tmp, lock)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in NO_HARD_LINKS:
            raise
        with os.fdopen(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644), "w") as f:
            f.write(content)
    finally:
        tmp.unlink(missing_ok=True)


def refuse_if_locked(logdir: str | os.PathLike, own_pid_ok: bool = False) -> None:
    """Raises a one-line error if a live process (other than this one, with ``own_pid_ok``)
    is training into ``logdir``."""
    _refuse_holder(logdir, lock_holder(logdir), own_pid_ok)


def clear_stale_lock(logdir: Path) -> None:
    """Moves a lock that was stale when read out of the way, without ever deleting a fresh one.

    Renaming is atomic, so of several processes clearing the same stale lock one moves it and
    the others find nothing to move. The mover then reads what it moved: if a racer's fresh lock
    had replaced the stale one in between, it is linked back and its holder named.
    """
    lock = logdir / LOCK_NAME
    moved = lock.with_name(f".{LOCK_NAME}.stale.{os.getpid()}")
    try:
        os.rename(lock, moved)
    except FileNotFoundError:
        return  # no lock, or another process moved the stale one
    try:
        holder = _live_pid(moved)
        if holder is not None and holder != os.getpid():
            with contextlib.suppress(FileExistsError):
                _place_lock(lock, moved.read_text())
        _refuse_holder(logdir, holder, own_pid_ok=True)
    finally:
        moved.unlink(missing_ok=True)


def acquire_run_lock(logdir: str | os.PathLike) -> None:
    """Marks ``logdir`` as trained by this process, refusing if a live process holds it.

    The lock appears whole (:func:`_place_lock`), and a stale lock is moved aside (never
    deleted blindly), so two processes starting at the same moment cannot both win.
    """
    refuse_if_locked(logdir, own_pid_ok=True)
    clear_stale_lock(Path(logdir))  # stale or our own (refuse_if_locked passed)
    try:
        _place_lock(Path(logdir) / LOCK_NAME, f"{os.getpid()}\n")
    except FileExistsError:
        refuse_if_locked(logdir, own_pid_ok=True)  # lost a race: name the winner
        raise HerdemosError(f"{logdir}: another process took the run lock; try again") from None


def release_run_lock(logdir: str | os.PathLike) -> None:
    """Removes the lock if this process holds it (never someone else's)."""
    lock = Path(logdir) / LOCK_NAME
    try:
        if int(lock.read_text().strip()) == os.getpid():
            lock.unlink()
    except (OSError, ValueError):
        pass
