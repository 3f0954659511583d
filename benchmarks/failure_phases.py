"""Where pick-and-place policies fail: the phase each failed episode stops in.

A test success rate says how often a policy fails, not where. This runs each saved checkpoint of
a FetchPickAndPlace suite (``policy_<epoch>.pkl`` of ``runs/benchmarks/SUITE/seed<N>``) on the same
fresh episodes and sorts every failure by the first phase it never completed:

* ``no reach``: the gripper never came within ``REACH`` of the block's centre;
* ``no lift``: the goal is in the air and the block never left the table;
* ``misplaced``: the block was reached (and lifted where needed) but is not at the goal at the
  end.

python -m benchmarks.failure_phases sources-pickplace-cautious-bc-qfilter --seed 0
    # adds its rows to benchmarks/results/demo-sources/failure-phases.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np
from tqdm import tqdm

from benchmarks.checkpoints import find_checkpoints
from benchmarks.evaluate import known_suite
from benchmarks.report import RESULTS, RUNS
from benchmarks.suites import SUITES
from herdemos.env_info import EnvInfo
from herdemos.environment import make_env
from herdemos.policy import load_policy
from herdemos.provenance import provenance
from herdemos.rollout import PolicyActions, run_episodes
from herdemos.util import HerdemosError, atomic_write_json

OUT = RESULTS / "demo-sources" / "failure-phases.json"
FIRST_SEED = 300_000
"""Episode seeds: apart from training's (0, 1, ...) and benchmarks.evaluate's selection and
report episodes (100,000 and 200,000 on)."""
REACH = 0.03
"""Gripper-to-block distance (m) that counts as reaching the block: a little more than the
block's half-width (0.025)."""
LIFTED = 0.015
"""Height (m) above the block's start, on the table, that counts as lifted."""
PHASES = ("success", "no reach", "no lift", "misplaced")


def phase_of(observations: np.ndarray, goal: np.ndarray, success: bool) -> str:
    """The phase one episode stopped in, from its observations (gripper position in columns
    0-2, block position in 3-5, as in every Fetch env) and its goal. The block starts on the
    table, so its first height is the table's."""
    if success:
        return "success"
    gripper, block = observations[:, :3], observations[:, 3:6]
    if np.min(np.linalg.norm(gripper - block, axis=-1)) >= REACH:
        return "no reach"
    lifted = block[0, 2] + LIFTED
    if goal[2] > lifted and np.max(block[:, 2]) < lifted:
        return "no lift"
    return "misplaced"


def phases(policy_path: Path, env_id: str, episodes: int) -> dict[str, int]:
    """How many of ``episodes`` deterministic episodes end in each phase."""
    policy = load_policy(policy_path)
    env = make_env(env_id)
    counts = dict.fromkeys(PHASES, 0)
    try:
        info = EnvInfo.of(env, env_id)
        for rollout in run_episodes(
            env, info, PolicyActions.exploiting(policy), FIRST_SEED, episodes
        ):
            ep = rollout.episodes
            success = bool(ep["info_is_success"][0, -1, 0])
            counts[phase_of(ep["o"][0], ep["g"][0, 0], success)] += 1
    finally:
        env.close()
    return counts


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows already in ``path`` (none if it does not exist).

    Raises:
        HerdemosError: ``path`` is not a file this tool wrote.
    """
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text())["results"]
        if not all(isinstance(r, dict) and {"suite", "seed"} <= r.keys() for r in rows):
            raise ValueError("a row without its suite and seed")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise HerdemosError(f"{path}: not a failure-phases file ({e}); move it away") from None
    return rows


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("suite")
@click.option("--seed", required=True, type=click.IntRange(0), help="The training seed's run.")
@click.option("--episodes", default=100, show_default=True, type=click.IntRange(1))
def main(suite: str, seed: int, episodes: int) -> None:
    """Sort the failures of every saved checkpoint of SUITE's seed by phase."""
    command = ["python", "-m", "benchmarks.failure_phases", suite, "--seed", str(seed)]
    command += ["--episodes", str(episodes)]
    try:
        env_id = SUITES[known_suite(suite)].env
        if not env_id.startswith("FetchPickAndPlace"):
            # A push's gripper stays beside the block: "reach" would need another definition.
            raise HerdemosError(f"{suite}: phases are defined for FetchPickAndPlace only")
        checkpoints = find_checkpoints(RUNS / suite, seed)
        if not checkpoints:
            raise HerdemosError(f"{suite}: no policy_<epoch>.pkl under {RUNS / suite}/seed{seed}")
        rows = [r for r in read_rows(OUT) if (r["suite"], r["seed"]) != (suite, seed)]
        # Each row keeps the command and commit it was measured with.
        made_by = {k: v for k, v in provenance(command).items() if k in ("command", "git_commit")}
        for c in tqdm(checkpoints, desc=f"{suite} seed {seed}", unit="checkpoint"):
            shares = {k: v / episodes for k, v in phases(c.path, env_id, episodes).items()}
            rows.append(
                {"suite": suite, "seed": seed, "epoch": c.epoch, "env_steps": c.env_steps}
                | {"episodes": episodes, **shares, **made_by}
            )
            click.echo(
                f"  epoch {c.epoch:>3}: " + ", ".join(f"{k} {v:.2f}" for k, v in shares.items())
            )
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    atomic_write_json(
        OUT,
        {
            "what": (
                "share of deterministic test episodes (env seeds from "
                f"{FIRST_SEED}) ending in each phase, per saved checkpoint: 'no reach' = the "
                f"gripper never within {REACH} m of the block, 'no lift' = goal in the air and "
                "the block never lifted, 'misplaced' = otherwise failed; each row names the "
                "command and git commit that measured it"
            ),
            "results": sorted(rows, key=lambda r: (r["suite"], r["seed"], r["epoch"])),
        },
    )
    click.echo(f"wrote {OUT}")


if __name__ == "__main__":
    main()
