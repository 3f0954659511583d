"""What an interrupted training session leaves in its run folder, tidied at the next start.

A kill (SIGKILL, a power cut) can land in the middle of a write. The writes are atomic, so the
finished files are always whole, but the half-written temporaries stay behind: a policy or
``progress.csv`` temp file (``.policy_best.pkl.x1y2z3w4.tmp``), a checkpoint folder still being
written (``.checkpoint-000004-000.tmp``) or one set aside while a checkpoint of the same
progress replaced it (``.checkpoint-000004-000.old``). The next session on the folder, holding
its lock, removes them, and puts back a set-aside checkpoint whose replacement never landed.

A session killed before its first checkpoint leaves nothing to resume from; ``--resume`` then
starts the run again from epoch 0 with its ``params.json``, and the earlier session's log and
policies are moved into a subfolder first (:func:`set_aside_unchecked_session`), never deleted.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from herdemos.run_lock import LOCK_NAME, pid_is_running

# The files training writes with util.atomic_write, whose temporaries are
# ".<name>.<8 characters of tempfile's random names>.tmp".
WRITE_TEMP = re.compile(
    r"^\.(progress\.csv|params\.json|provenance\.json|policy_(?:best|latest|\d+)\.pkl)"
    r"\.[a-z0-9_]{8}\.tmp$"
)
CHECKPOINT_TEMP = re.compile(r"^\.(checkpoint-\d{6,}-\d{3,})\.(tmp|old)$")
LOCK_TEMP = re.compile(rf"^\.{re.escape(LOCK_NAME)}\.(?:stale\.)?(\d+)$")
# What a session writes outside checkpoints, which a restart from epoch 0 would overwrite.
SESSION_FILES = re.compile(r"^(progress\.csv|policy_(?:best|latest|\d+)\.pkl|tb)$")


def clean_interrupted_writes(logdir: Path) -> list[str]:
    """Removes the temporaries of writes a killed session left in ``logdir``; the caller holds
    the run lock, so no other process is writing them. Returns what was done, one item each.

    A ``.checkpoint-*.old`` folder whose replacement is missing is the only copy of that
    checkpoint: it is renamed back instead.
    """
    done: list[str] = []
    for entry in sorted(logdir.iterdir()):
        name = entry.name
        if WRITE_TEMP.match(name) and entry.is_file():
            entry.unlink(missing_ok=True)
            done.append(f"removed {name}")
        elif match := CHECKPOINT_TEMP.match(name):
            final = logdir / match.group(1)
            if match.group(2) == "old" and not final.exists():
                os.replace(entry, final)
                done.append(f"restored {final.name} from {name}")
            else:
                shutil.rmtree(entry, ignore_errors=True)
                done.append(f"removed {name}")
        elif (match := LOCK_TEMP.match(name)) and entry.is_file():
            pid = int(match.group(1))
            if pid != os.getpid() and not pid_is_running(pid):
                entry.unlink(missing_ok=True)
                done.append(f"removed {name}")
    return done


def set_aside_unchecked_session(logdir: Path) -> Path | None:
    """Moves the log, TensorBoard events and policies of a session that wrote no checkpoint
    into ``logdir/restart-<n>`` (the first free n), so that a restart from epoch 0 overwrites
    nothing. Returns that folder, or None when there was nothing to move."""
    found = sorted(p for p in logdir.iterdir() if SESSION_FILES.match(p.name))
    if not found:
        return None
    n = 1
    while (logdir / f"restart-{n}").exists():
        n += 1
    aside = logdir / f"restart-{n}"
    aside.mkdir()
    for path in found:
        os.replace(path, aside / path.name)
    return aside
