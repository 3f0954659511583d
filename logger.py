"""Run logs a person and a program can read: ``progress.csv``, TensorBoard scalars, and one
terminal line per epoch; and the epoch's row itself, with its values combined over MPI ranks."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from herdemos.util import HerdemosError, atomic_write_text, os_error_line

if TYPE_CHECKING:
    from tensorboardX import SummaryWriter

    from herdemos.checkpoint import EpochProgress, TrainingState
    from herdemos.ddpg import DDPG
    from herdemos.parallel import Ranks


class ProgressLog:
    """Accumulates one row per epoch; rewrites ``progress.csv`` atomically after each row so a
    crash never leaves a half-written line, and mirrors every value to TensorBoard.

    Args:
        logdir: the run folder.
        tensorboard: also write TensorBoard event files under ``logdir/tb``, with the row's
            ``total_env_steps`` as the step.
        purge_step: on resume, the first env step to be written again (the checkpoint's count
            plus one); TensorBoard drops events an interrupted session logged from this step
            on, so no epoch appears twice.

    A new run's TensorBoard log also holds its resolved config, read from ``params.json`` in
    ``logdir`` (see :func:`log_hyperparameters`); a resumed one has it from its first session.
    """

    def __init__(
        self, logdir: str | os.PathLike, tensorboard: bool = True, purge_step: int | None = None
    ) -> None:
        self.path = Path(logdir) / "progress.csv"
        self.rows: list[dict[str, float]] = []
        self._tb = None
        if tensorboard:
            from tensorboardX import SummaryWriter

            self._tb = SummaryWriter(str(Path(logdir) / "tb"), flush_secs=10, purge_step=purge_step)
            params = Path(logdir) / "params.json"
            if purge_step is None and params.exists():
                log_hyperparameters(self._tb, json.loads(params.read_text()))

    def restore(self, rows: list[dict[str, float]]) -> None:
        """Starts from rows of an earlier (resumed) run."""
        self.rows = list(rows)

    def write(self, row: dict[str, float]) -> None:
        self.rows.append(row)
        columns: list[str] = []
        for r in self.rows:
            columns += [k for k in r if k not in columns]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buf.getvalue())
        if self._tb is not None:
            # Env steps, not epochs, on the x-axis: runs with other --num_cpu, cycle or episode
            # counts per epoch then line up.
            step = int(row.get("total_env_steps", row.get("epoch", len(self.rows))))
            for key, value in row.items():
                if isinstance(value, int | float) and math.isfinite(value):
                    self._tb.add_scalar(key, value, step)

    def add_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """An (H, W, 3) uint8 picture in TensorBoard's Images tab at env step ``step``."""
        if self._tb is not None:
            self._tb.add_image(tag, image, step, dataformats="HWC")

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


HPARAM_METRICS = ("test/success_rate", "test/mean_Q", "train/success_rate")
"""The scalars TensorBoard's HParams tab sets against each run's hyper-parameters."""


def log_hyperparameters(writer: SummaryWriter, config: dict[str, dict[str, object]]) -> None:
    """Writes a run's config (``params.json``'s sections) to TensorBoard: in the HParams tab, so
    that runs can be filtered and compared by their settings, and as a text table.

    Args:
        writer: the run's TensorBoard writer.
        config: ``{section: {field: value}}``; fields appear as ``section.field``.
    """
    from tensorboardX.summary import hparams

    flat = {
        f"{section}.{key}": value
        for section, fields in config.items()
        if isinstance(fields, dict)
        for key, value in fields.items()
    }
    values = {k: v if isinstance(v, bool | int | float | str) else str(v) for k, v in flat.items()}
    experiment, session_start, _ = hparams(values, dict.fromkeys(HPARAM_METRICS))
    writer.file_writer.add_summary(experiment)
    writer.file_writer.add_summary(session_start)
    rows = "\n".join(f"| {key} | {value!r} |" for key, value in flat.items())
    writer.add_text("params", f"| field | value |\n|---|---|\n{rows}", 0)


def _number(text: str | None) -> float | int:
    if text in ("", None):
        return math.nan
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def read_progress(path: str | os.PathLike) -> list[dict[str, float]]:
    """Reads ``progress.csv`` into rows of numbers (integers stay integers; empty cells NaN)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: _number(v) for k, v in r.items() if k is not None} for r in rows]


def read_progress_checked(progress: Path, columns: tuple[str, ...]) -> list[dict[str, float]]:
    """The rows of ``progress`` (none if there is no such file), every one with finite numbers
    in ``columns``; for commands that build on a run's log.

    Raises:
        HerdemosError: the file is unreadable, lacks a column or a number, in one line naming it.
    """
    if not progress.exists():
        return []
    try:
        rows = read_progress(progress)
        for row in rows:
            for column in columns:
                if not math.isfinite(row[column]):
                    raise ValueError(f"a row without {column!r}")
    except KeyError as e:
        raise HerdemosError(f"{progress}: no {e.args[0]!r} column") from None
    except (ValueError, UnicodeDecodeError, csv.Error) as e:
        raise HerdemosError(
            f"{progress}: unreadable, not a progress log of numbers ({e})"
        ) from None
    except OSError as e:
        raise HerdemosError(os_error_line(e)) from None
    return rows


def read_run_progress(path: Path) -> list[dict[str, float]]:
    """The rows of run folder ``path``'s ``progress.csv``, for resuming it.

    Raises:
        HerdemosError: see :func:`read_progress_checked`; the run's checkpoints are untouched.
    """
    try:
        return read_progress_checked(path / "progress.csv", ("epoch",))
    except HerdemosError as e:
        raise HerdemosError(f"{e}; move it away to resume") from None


def epoch_line(row: dict[str, float], n_epochs: int) -> str:
    """One readable terminal line summarising an epoch."""
    critic = row.get("train/critic_loss", math.nan)  # absent when every episode was discarded
    parts = [
        f"epoch {int(row['epoch']):>4}/{n_epochs}",
        f"steps {int(row['total_env_steps']):>9,}",
        f"test success {row['test/success_rate']:.2f}",
        f"train success {row['train/success_rate']:.2f}",
        f"test Q {row['test/mean_Q']:7.2f}",
        f"critic {critic:.4f}",
    ]
    if row.get("train/q_filter_frac", math.nan) == row.get("train/q_filter_frac"):
        parts.append(f"Q-filter {row['train/q_filter_frac']:.2f}")
    parts.append(f"{row['time/epoch']:.1f}s")
    return " | ".join(parts)


def rank_loss_means(
    loss_sums: dict[str, float], n_updates: int, ranks: int, logs_bc: bool
) -> dict[str, float]:
    """This rank's per-update loss means, scaled so that their mean over the ranks is the
    number one process training on the whole batch would log.

    ``bc_loss`` is a *sum* over this rank's share of the demo rows, so N ranks' mean is 1/N of
    the whole batch's sum; it is scaled by N. The other losses are means and need no scaling.
    ``bc_loss`` and ``q_filter_frac`` are left out when no BC loss is trained (they are 0).
    """
    means = {}
    for key, total in loss_sums.items():
        if logs_bc or key not in ("bc_loss", "q_filter_frac"):
            scale = ranks if key == "bc_loss" else 1
            means[key] = total / max(n_updates, 1) * scale
    return means


def epoch_row(
    state: TrainingState,
    ep: EpochProgress,
    test: tuple[float, float],
    eval_time: float,
    buffer_episodes: int,
    learner: DDPG,
    ranks: Ranks,
) -> dict[str, float]:
    """The progress row of the epoch ``state`` has just completed.

    Collective under MPI: the values are averaged over the ranks, in the same order on every
    rank; counts summed over the ranks are their mean times the number of ranks.

    Args:
        state: the run's bookkeeping, its epoch already counted.
        ep: what the epoch accumulated on this rank.
        test: this rank's evaluation ``(success rate, mean Q)``.
        eval_time: seconds the evaluation took.
        buffer_episodes: episodes in this rank's replay buffer.
        learner: its normalisers' statistics are logged.
        ranks: the job's MPI ranks.
    """
    test_success, test_q = test
    mean, n_ranks = ranks.mean, ranks.size
    row: dict[str, float] = {
        "epoch": state.epoch,
        "total_env_steps": state.total_env_steps,
        "wall_time": state.wall_time(),
        "test/success_rate": mean(test_success),
        "test/mean_Q": mean(test_q),
        "train/success_rate": mean(float(np.mean(ep.train_success)) if ep.train_success else 0.0),
    }
    d = learner.config
    losses = rank_loss_means(ep.loss_sums, ep.n_updates, n_ranks, logs_bc=d.bc_loss or d.bc_only)
    for key in sorted(losses):  # same order on every rank: the means are collective
        row[f"train/{key}"] = mean(losses[key])
    row["train/demo_resets"] = mean(ep.demo_resets) * n_ranks
    row["train/discarded_episodes"] = mean(ep.discarded_episodes) * n_ranks
    row["buffer/episodes"] = buffer_episodes
    row["stats_o/mean"] = float(learner.o_stats.mean.mean())
    row["stats_o/std"] = float(learner.o_stats.std.mean())
    row["stats_g/mean"] = float(learner.g_stats.mean.mean())
    row["stats_g/std"] = float(learner.g_stats.std.mean())
    row["time/rollout"] = ep.rollout_time
    row["time/sample"] = ep.sample_time
    row["time/update"] = ep.update_time
    row["time/eval"] = eval_time
    row["time/epoch"] = ep.rollout_time + ep.sample_time + ep.update_time + eval_time
    return row
