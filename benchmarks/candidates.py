"""What the held-out selection compares: single checkpoints, and each seed's mean of its last few.

A DDPG actor keeps oscillating around a good solution, so the mean of a seed's last checkpoints
(``experiment/average.py``) can beat every one of them; it competes on the same episodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks.checkpoints import Checkpoint
from herdemos.policy import Policy, average_policies, load_policy
from herdemos.util import HerdemosError


@dataclass(frozen=True)
class Candidate:
    """One checkpoint, or the mean of a seed's last few."""

    members: tuple[Checkpoint, ...]

    @property
    def last(self) -> Checkpoint:
        return self.members[-1]

    @property
    def is_average(self) -> bool:
        return len(self.members) > 1

    @property
    def path(self) -> Path:
        """Where the candidate's policy file is (averages are written there when chosen)."""
        if not self.is_average:
            return self.last.path
        return self.last.seed_dir / f"policy_mean_{self.members[0].epoch}-{self.last.epoch}.pkl"

    def policy(self) -> Policy:
        if not self.is_average:
            return load_policy(self.last.path)
        paths = [c.path for c in self.members]
        return average_policies([load_policy(p) for p in paths], [str(p) for p in paths])

    def entry(self) -> dict:
        c = self.last
        extra = {"averaged_epochs": [m.epoch for m in self.members]} if self.is_average else {}
        return {"seed_dir": c.seed_dir.name, "epoch": c.epoch, "env_steps": c.env_steps, **extra}


def check_average_last(average_last: int) -> None:
    """``--average_last`` is 0 (off) or at least 2: the "mean" of one checkpoint is that
    checkpoint, so 1 would be accepted and silently do nothing.

    Raises:
        HerdemosError: naming the flag.
    """
    if average_last == 1:
        raise HerdemosError(
            "--average_last 1: a mean needs at least 2 checkpoints; give 0 (off) or 2 or more"
        )


def candidates(checkpoints: list[Checkpoint], average_last: int) -> list[Candidate]:
    """Each checkpoint alone, then per seed the mean of its last ``average_last`` checkpoints
    (none when ``average_last`` < 2 or a seed has fewer)."""
    singles = [Candidate((c,)) for c in checkpoints]
    if average_last < 2:
        return singles
    averages = []
    for seed_dir in sorted({c.seed_dir for c in checkpoints}):
        own = [c for c in checkpoints if c.seed_dir == seed_dir]
        if len(own) >= average_last:
            averages.append(Candidate(tuple(own[-average_last:])))
    return singles + averages
