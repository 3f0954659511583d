"""Checkpoints: everything needed to continue a run exactly, written atomically.

A checkpoint is a folder ``checkpoint-EEEEEE-CCC`` (epochs and cycles completed) holding
``learner.*`` (TF: networks, targets, optimiser slots, step counter) and one
``state-rank<r>.npz`` per MPI rank (plain arrays: buffers, normalisers, RNG states and
bookkeeping as JSON). It is written into a hidden
temporary folder and renamed into place only when complete, so a crash or a full disk never
leaves a checkpoint that fails to load, and the previous checkpoint survives. The newest
``KEEP`` checkpoints are kept. A checkpoint resumes only the run configured as it was
(:func:`same_run_config`).

What a checkpoint holds is written here too: :class:`TrainingState` and :class:`EpochProgress`
(the loop's bookkeeping), and which parts of a run they are saved with
(:func:`save_run_checkpoint`, :func:`restore_run_checkpoint`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from herdemos.bounded_files import Refused, loads_json, read_npz
from herdemos.checkpoint_checks import check_bookkeeping
from herdemos.config import Config
from herdemos.sim_state import env_rng_state, set_env_rng_state
from herdemos.util import HerdemosError

if TYPE_CHECKING:
    from herdemos.assembly import RunParts
    from herdemos.parallel import Ranks

KEEP = 2
CHECKPOINT_FORMAT = "herdemos-checkpoint-v1"  # the "format" field of every checkpoint's meta
NAME = re.compile(r"^checkpoint-(\d{6,})-(\d{3,})$")  # wider numbers past 999999 / 999


@dataclass
class TrainingState:
    """Bookkeeping that a checkpoint must carry besides networks and buffers."""

    epoch: int = 0  # epochs completed
    best_success: float = -1.0  # below any success rate, so epoch 1 always saves a best policy
    total_env_steps: int = 0
    start_time: float = field(default_factory=time.time)
    elapsed_before: float = 0.0  # wall seconds of earlier (resumed) sessions
    # Parameter norms and losses at the run's first epoch, which later ones are compared with
    # (herdemos.growth_guard); checkpointed so that a resumed run keeps comparing with them.
    growth_reference: dict[str, float] = field(default_factory=dict)

    def wall_time(self) -> float:
        return self.elapsed_before + time.time() - self.start_time


@dataclass
class EpochProgress:
    """What the current, unfinished epoch has accumulated; checkpointed so that a run stopped
    mid-epoch resumes at the next cycle."""

    cycle: int = 0  # cycles completed in this epoch
    train_success: list[float] = field(default_factory=list)
    loss_sums: dict[str, float] = field(default_factory=dict)
    n_updates: int = 0
    demo_resets: int = 0
    discarded_episodes: int = 0
    rollout_time: float = 0.0
    sample_time: float = 0.0
    update_time: float = 0.0


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
    ranks: Ranks,
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
        ranks: the job's :class:`herdemos.parallel.Ranks`.

    Returns:
        The checkpoint folder.
    """
    logdir = Path(logdir)
    final = logdir / checkpoint_name(epoch, cycle)
    tmp = logdir / f".{final.name}.tmp"
    try:
        if ranks.is_main:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        ranks.barrier()
        payload = dict(arrays)
        payload["meta"] = np.array(json.dumps(meta))
        with open(tmp / state_file_name(ranks.rank), "wb") as f:
            np.savez(f, **payload)
        ranks.barrier()
        if ranks.is_main:
            save_tf_state(str(tmp / "learner"))
            _fsync_tree(tmp)
            aside = logdir / f".{final.name}.old"
            if final.exists():  # same progress saved twice (e.g. a stop right after resuming)
                shutil.rmtree(aside, ignore_errors=True)
                os.replace(final, aside)  # kept until the new folder is in place
            os.replace(tmp, final)
            shutil.rmtree(aside, ignore_errors=True)
            for old in list_checkpoints(logdir)[KEEP:]:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException as e:
        if ranks.is_main:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):  # a full disk, from NumPy or from TF (ddpg.save_tf_state)
            raise HerdemosError(
                f"{final}: cannot write checkpoint ({e.strerror or e}); the earlier checkpoints "
                f"are kept: make room, then resume with: python experiment/train.py --resume "
                f"{logdir}"
            ) from None
        raise
    ranks.barrier()
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
        arrays = read_npz(path)
    except Refused as e:
        raise HerdemosError(f"{path}: unreadable checkpoint ({e})") from None
    except Exception as e:  # zip/zlib/format errors of many types from a damaged file
        raise HerdemosError(f"{path}: unreadable checkpoint ({type(e).__name__})") from None
    if "meta" not in arrays:
        raise HerdemosError(f"{path}: checkpoint lacks its 'meta' record")
    text = arrays.pop("meta")
    try:
        if text.dtype.kind != "U" or text.ndim != 0:
            raise Refused("not a string")
        meta = loads_json(str(text))
    except Refused as e:
        raise HerdemosError(f"{path}: checkpoint 'meta' is not valid JSON ({e})") from None
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


def save_run_checkpoint(
    logdir: Path,
    parts: RunParts,
    state: TrainingState,
    epoch_progress: EpochProgress,
    ranks: Ranks,
) -> Path:
    """Writes a checkpoint of everything a run needs to continue exactly: buffers, normalisers,
    RNG states of the sampler, the envs and the workers' pending seeds, the bookkeeping, and
    the learner's TF state. Collective under MPI.

    Returns:
        The checkpoint folder.
    """
    arrays = {f"buffer/{k}": v for k, v in parts.buffer.state_dict().items()}
    if parts.demo_buffer is not None:
        arrays.update({f"demo_buffer/{k}": v for k, v in parts.demo_buffer.state_dict().items()})
    arrays.update(parts.learner.normalizer_state())
    arrays["learner/noise_rng"] = parts.learner.noise_rng_state()
    saved_state = dataclasses.asdict(state)
    saved_state["elapsed_before"] = state.wall_time()
    del saved_state["start_time"]
    meta = {
        "format": CHECKPOINT_FORMAT,
        "config": parts.config.to_dict(),
        "state": saved_state,
        "epoch_progress": dataclasses.asdict(epoch_progress),
        "rng": parts.rng.bit_generator.state,
        "envs": [env_rng_state(env) for env in parts.envs],
        "eval_envs": [env_rng_state(env) for env in parts.eval_envs],
        "worker_seeds": parts.worker.pending_seeds(),
        "evaluator_seeds": parts.evaluator.pending_seeds(),
    }
    return write_checkpoint(
        logdir,
        state.epoch,
        epoch_progress.cycle,
        arrays,
        meta,
        parts.learner.save_tf_state,
        ranks,
    )


def restore_run_checkpoint(
    folder: Path, parts: RunParts, rank: int
) -> tuple[TrainingState, EpochProgress]:
    """Restores into ``parts`` a checkpoint that :func:`save_run_checkpoint` wrote for the same
    config; returns its bookkeeping.

    Raises:
        HerdemosError: one line naming the checkpoint and the problem.
    """
    arrays, meta = read_checkpoint_state(folder, state_file_name(rank))
    try:
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"not a {CHECKPOINT_FORMAT} checkpoint")
        if not same_run_config(meta["config"], parts.config):
            raise ValueError("it was written with a different configuration")
        check_bookkeeping(
            meta,
            checkpoint_position(Path(folder)),
            parts.config.train.n_cycles,
            (len(parts.envs), len(parts.eval_envs)),
        )

        def section(prefix: str) -> dict[str, np.ndarray]:
            return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

        parts.buffer.load_state_dict(section("buffer/"))
        if parts.demo_buffer is not None:
            parts.demo_buffer.load_state_dict(section("demo_buffer/"))
        parts.learner.load_normalizer_state(arrays)
        if "learner/noise_rng" in arrays:  # absent from checkpoints written before it
            parts.learner.set_noise_rng_state(arrays["learner/noise_rng"])
        parts.rng.bit_generator.state = meta["rng"]
        for env, rng_state in zip(parts.envs, meta["envs"], strict=True):
            set_env_rng_state(env, rng_state)
        for env, rng_state in zip(parts.eval_envs, meta["eval_envs"], strict=True):
            set_env_rng_state(env, rng_state)
        parts.worker.set_pending_seeds(meta["worker_seeds"])
        parts.evaluator.set_pending_seeds(meta["evaluator_seeds"])
        state = TrainingState(**meta["state"])
        epoch_progress = EpochProgress(**meta["epoch_progress"])
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, OverflowError) as e:
        raise HerdemosError(f"{folder}: cannot resume from this checkpoint ({e})") from None
    parts.learner.restore_tf_state(str(Path(folder) / "learner"))
    return state, epoch_progress
