"""Held-out evaluation: choose a suite's checkpoint on selection episodes, report it on fresh ones.

Every candidate plays the same *selection* episodes (seeds 100000, 100001, ...), so the choice
is fair; the chosen one then plays *report* episodes (seeds 200000, ...), none of which played a
part in choosing it, so the reported rate is unbiased.
"""

from __future__ import annotations

from pathlib import Path

import click

from benchmarks.candidates import candidates, check_average_last
from benchmarks.checkpoints import find_checkpoints
from benchmarks.intervals import rate_entry
from herdemos.env_info import EnvInfo
from herdemos.environment import make_env
from herdemos.policy import Policy
from herdemos.rollout import PolicyActions, run_episodes
from herdemos.util import HerdemosError

SELECTION_SEED = 100_000  # far from the seeds training and its test episodes use (0, 1, ...)
REPORT_SEED = 200_000


def episode_successes(policy: Policy, env_id: str, first_seed: int, episodes: int) -> list[bool]:
    """Success at the last step of each deterministic episode, seeded first_seed, +1, ..."""
    env = make_env(env_id)
    try:
        info = EnvInfo.of(env, env_id)
        rollouts = run_episodes(env, info, PolicyActions.exploiting(policy), first_seed, episodes)
        return [bool(r.episodes["info_is_success"][0, -1, 0]) for r in rollouts]
    finally:
        env.close()


def evaluate_suite(
    suite_dir: Path,
    episodes: int,
    report_episodes: int,
    min_epoch: int = 0,
    average_last: int = 0,
    *,
    env_id: str,
    seed: int | None = None,
) -> dict:
    """Selection pass over the checkpoints under ``suite_dir`` from epoch ``min_epoch`` on (and,
    with ``average_last`` >= 2, each seed's mean of its last ``average_last``), then the report
    pass on the chosen one. A chosen average is written next to its checkpoints. With ``seed``,
    only that training seed's checkpoints compete (a second seed's own result).

    Episodes run on ``env_id``, the suite's env, never on an id read from a policy file (an
    entry point there would choose a module to import); a policy for another env is refused.
    """
    check_average_last(average_last)
    suite = suite_dir.name
    checkpoints = [c for c in find_checkpoints(suite_dir, seed) if c.epoch >= min_epoch]
    if not checkpoints:
        where = suite_dir if seed is None else suite_dir / f"seed{seed}"
        raise HerdemosError(
            f"{where}: no policy_<epoch>.pkl files from epoch {min_epoch} on; "
            f"run python -m benchmarks.run {suite}"
        )
    pool = candidates(checkpoints, average_last)
    if average_last >= 2 and not any(c.is_average for c in pool):
        raise HerdemosError(
            f"--average_last {average_last}: no seed of {suite_dir} has that many checkpoints "
            f"from epoch {min_epoch} on"
        )
    selection = []
    with click.progressbar(pool, label=f"{suite}: {episodes} episodes each") as bar:
        for c in bar:
            policy = c.policy()
            if policy.env_id != env_id:
                raise HerdemosError(
                    f"{c.last.path}: a policy for {policy.env_id}, not the suite's {env_id}"
                )
            successes = episode_successes(policy, env_id, SELECTION_SEED, episodes)
            selection.append({**c.entry(), **rate_entry(successes)})
    # Ties go to the earlier checkpoint (less training for the same measured success), and at
    # the same epoch to the single checkpoint (the simpler policy).
    index = max(
        range(len(selection)),
        key=lambda i: (
            selection[i]["successes"],
            -selection[i]["env_steps"],
            not pool[i].is_average,
        ),
    )
    best, chosen = selection[index], pool[index]
    policy = chosen.policy()
    if chosen.is_average:
        policy.save(chosen.path)
    click.echo(f"best on selection episodes: {chosen.path} ({best['success_rate']:.2f})")
    report = episode_successes(policy, env_id, REPORT_SEED, report_episodes)
    return {
        "suite": suite,
        "env": env_id,
        "selection_first_seed": SELECTION_SEED,
        "report_first_seed": REPORT_SEED,
        "min_epoch": min_epoch,
        "average_last": average_last,
        "checkpoints": [s for s, c in zip(selection, pool, strict=True) if not c.is_average],
        "averages": [s for s, c in zip(selection, pool, strict=True) if c.is_average],
        "chosen": {**best, "policy": str(chosen.path)},
        "report": rate_entry(report),
    }
