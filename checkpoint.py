"""Checkpoints: everything needed to continue a run exactly, written atomically.

A checkpoint is a folder ``checkpoint-EEEEEE-CCC`` (epochs and cycles completed) holding
``learner.*`` (TF: networks, targets, optimiser slots, step counter) and one
``state-rank<r>.npz`` per MPI rank (plain arrays: buffers, normalisers, RNG states and
bookkeeping as JSON). It is written into a hidden
temporary folder and renamed into place only when complete, so a crash or a full disk never
leaves a checkpoint that fails to load, and the previous checkpoint survives. The newest
``KEEP`` checkpoints are kept. A checkpoint resumes only the run configured as it was
(:func:`same_run_config`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from herdemos.config import Config
from herdemos.util import HerdemosError

KEEP = 2
CHECKPOINT_FORMAT = "herdemos-checkpoint-v1"  # the "format" field of every checkpoint's meta
NAME = re.compile(r"^checkpoint-(\d{6,})-(\d{3,})$")  # wider numbers past 999999 / 999


def checkpoint_name(epoch: int, cycle: int) -> str:
    return f"checkpoint-{epoch:06d}-{cycle:03d}"


def list_checkpoints(logdir: str | os.PathLike) -> list[Path]:
    """Complete checkpoints in ``logdir``, newest first."""
    if not Path(logdir).is_dir():
        return []
    found = [p for p in Path(logdir).iterdir() if p.is_dir() and NAME.match(p.name)]
    return sorted(found, key=checkpoint_position, reverse=True)


def checkpoint_position(folder: Path) -> tuple[int, int]:
    """``(epochs, cycles)`` completed, from a checkpoint folder's name: the sort key (names
    sort the same only while the numbers keep their zero-padded width)."""
    match = NAME.match(folder.name)
    if match is None:
        raise ValueError(f"{folder.name} is not a checkpoint name")
    return int(match.group(1)), int(match.group(2))


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def state_file_name(rank: int) -> str:
    """Each MPI rank keeps its own buffers and RNG states in its own file."""
    return f"state-rank{rank}.npz"


def write_checkpoint(
    logdir: str | os.PathLike,
    epoch: int,
    cycle: int,
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
    save_tf_state,
    workers,
) -> Path:
    """Writes one checkpoint atomically and prunes old ones. Collective under MPI: every rank
    writes its own state file into the temporary folder, then rank 0 adds the learner (which
    is identical on all ranks) and renames the folder into place.

    Args:
        logdir: the run folder.
        epoch, cycle: progress the checkpoint represents (names the folder).
        arrays: this rank's NumPy state (buffers, normalisers).
        meta: this rank's JSON-serialisable state (RNG states, counters, bookkeeping).
        save_tf_state: ``f(prefix)`` writing the learner's TF checkpoint.
        workers: the job's :class:`herdemos.parallel.Workers`.

    Returns:
        The checkpoint folder.
    """
    logdir = Path(logdir)
    final = logdir / checkpoint_name(epoch, cycle)
    tmp = logdir / f".{final.name}.tmp"
    if workers.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    workers.barrier()
    try:
        payload = dict(arrays)
        payload["meta"] = np.array(json.dumps(meta))
        with open(tmp / state_file_name(workers.rank), "wb") as f:
            np.savez(f, **payload)
        workers.barrier()
        if workers.is_main:
            save_tf_state(str(tmp / "learner"))
            _fsync_tree(tmp)
            aside = logdir / f".{final.name}.old"
            if final.exists():  # same progress saved twice (e.g. stop right after an epoch)
                shutil.rmtree(aside, ignore_errors=True)
                os.replace(final, aside)  # kept until the new folder is in place
            os.replace(tmp, final)
            shutil.rmtree(aside, ignore_errors=True)
            for old in list_checkpoints(logdir)[KEEP:]:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if workers.is_main:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    workers.barrier()
    return final


def read_checkpoint_state(
    folder: str | os.PathLike, state_file: str = "state-rank0.npz"
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Reads a checkpoint's NumPy state and JSON metadata, never unpickling anything.

    Raises:
        HerdemosError: one line naming the file and the problem.
    """
    path = Path(folder) / state_file
    if not path.is_file():
        raise HerdemosError(
            f"{path}: missing checkpoint state file (was the run started with another --num_cpu?)"
        )
    if not zipfile.is_zipfile(path):
        raise HerdemosError(f"{path}: not an .npz checkpoint (damaged or truncated)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception as e:  # zip/zlib/format errors of many types from a damaged file
        raise HerdemosError(f"{path}: unreadable checkpoint ({type(e).__name__})") from None
    if "meta" not in arrays:
        raise HerdemosError(f"{path}: checkpoint lacks its 'meta' record")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (json.JSONDecodeError, TypeError, ValueError):
        raise HerdemosError(f"{path}: checkpoint 'meta' is not valid JSON") from None
    if not isinstance(meta, dict):
        raise HerdemosError(f"{path}: checkpoint 'meta' must be a JSON object")
    return arrays, meta


def without_n_epochs(config: dict) -> dict:
    """A config dict minus ``train.n_epochs``, the one field a resume may change."""
    return {**config, "train": {k: v for k, v in config["train"].items() if k != "n_epochs"}}


def same_run_config(saved: dict, current: Config) -> bool:
    """Whether a checkpoint's config is the run's, up to ``train.n_epochs``.

    Fields added to the config since the checkpoint was written count as their defaults (which
    keep the old behaviour), so a herdemos upgrade does not strand a run; a saved field that no
    longer exists makes the configs different.
    """
    try:
        saved_config = Config.from_dict(saved)
    except (ValueError, TypeError):
        return False
    return without_n_epochs(saved_config.to_dict()) == without_n_epochs(current.to_dict())
