"""Finding a benchmark run's saved policies: ``runs/benchmarks/SUITE/seed*/policy_<epoch>.pkl``.

Each checkpoint is placed on the training curve by the env steps trained at its epoch, read from
the run's ``progress.csv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from herdemos.logger import read_progress_checked

CHECKPOINT_NAME = re.compile(r"policy_(\d+)\.pkl$")


@dataclass(frozen=True)
class Checkpoint:
    """One saved policy of one training seed."""

    seed_dir: Path
    epoch: int
    env_steps: int

    @property
    def path(self) -> Path:
        return self.seed_dir / f"policy_{self.epoch}.pkl"


def env_steps_by_epoch(progress: Path) -> dict[int, int]:
    """Env steps trained by each epoch, from a run's ``progress.csv`` (none without one).

    A damaged log is a one-line error naming it rather than a traceback: its numbers place the
    checkpoints on the figure's env-step axis, so they cannot be guessed.

    Raises:
        HerdemosError: the file cannot be read or holds no numeric epoch / env-step columns.
    """
    rows = read_progress_checked(progress, ("epoch", "total_env_steps"))
    return {int(r["epoch"]): int(r["total_env_steps"]) for r in rows}


def find_checkpoints(suite_dir: Path, seed: int | None = None) -> list[Checkpoint]:
    """Every ``policy_<epoch>.pkl`` under ``suite_dir/seed*/`` (only ``seed<seed>/`` if given),
    in (seed, epoch) order, with the env steps trained at that epoch from the run's
    progress.csv."""
    found = []
    pattern = "seed*" if seed is None else f"seed{seed}"
    for seed_dir in sorted(d for d in suite_dir.glob(pattern) if d.is_dir()):
        steps = env_steps_by_epoch(seed_dir / "progress.csv")
        epochs = sorted(
            int(m.group(1)) for p in seed_dir.iterdir() if (m := CHECKPOINT_NAME.match(p.name))
        )
        found += [Checkpoint(seed_dir, e, steps.get(e, 0)) for e in epochs]
    return found
