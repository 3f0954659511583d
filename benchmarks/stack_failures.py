"""Where a stacking policy fails: each episode sorted into one outcome, written as JSON.

python -m benchmarks.stack_failures runs/benchmarks/stack2-original-resets/seed0/policy_latest.pkl

Outcomes, per episode of the deterministic policy:
- ``success``: every block in place at the last step (the success the benchmarks report);
- ``built_then_lost``: the tower stood complete at some step, but not at the end;
- ``tower_off_target``: at the end the blocks stand on each other, but the tower is more than
  5 cm from its target (the placement was imprecise, not the stacking);
- ``first_block_not_placed``: the bottom block never reached its target;
- ``all_placed_never_together``: each block was in place at some step, never all at once;
- ``block_k_never_lifted`` / ``block_k_not_placed``: the lowest block that never rose 3 cm above
  its start, or that rose but never reached its target.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import click
import gymnasium as gym
import numpy as np

from benchmarks.report import analysis_path
from herdemos.env_info import EnvInfo
from herdemos.environment import make_env
from herdemos.envs.scene import BLOCK_HALF_SIZE, BLOCK_SIZE
from herdemos.envs.stack import DISTANCE_THRESHOLD
from herdemos.policy import Policy, load_policy
from herdemos.policy_env import env_id_from_file
from herdemos.rendering import check_forced_backend
from herdemos.rollout import PolicyActions, Step, run_episodes
from herdemos.util import HerdemosError, atomic_write_json, check_json_out, check_output_file

LIFT = 0.03  # m above the start height that counts as lifted
PLACED = DISTANCE_THRESHOLD  # m: the envs' success distance per block
STACKED_Z = 0.01  # m: tolerance on one block height between neighbours


def is_stacked(blocks: np.ndarray) -> bool:
    """Whether every block stands on the one before it: its centre within half a block of the
    lower one's (so it does not tip over), one block height higher."""
    below, above = blocks[:-1], blocks[1:]
    planar = np.linalg.norm(above[:, :2] - below[:, :2], axis=1)
    height = above[:, 2] - below[:, 2]
    return bool(
        np.all(planar < BLOCK_HALF_SIZE) and np.all(np.abs(height - BLOCK_SIZE) < STACKED_Z)
    )


def episode_outcome(
    final: np.ndarray, success: bool, built: bool, lifted: np.ndarray, placed: np.ndarray
) -> str:
    """The outcome name (see the module docstring) from an episode's last block positions
    ``final`` (N x 3), its last success flag, whether the tower ever stood complete, and which
    blocks were ever lifted and ever placed."""
    if success:
        return "success"
    if built:
        return "built_then_lost"
    if is_stacked(final):
        return "tower_off_target"
    if not placed[0]:
        return "first_block_not_placed"
    if placed.all():
        return "all_placed_never_together"
    k = int(np.argmin(placed))
    return f"block_{k}_never_lifted" if not lifted[k] else f"block_{k}_not_placed"


class BlockWatch:
    """Follows the blocks through one episode's steps (a :data:`StepHook` for one env) and sorts
    the episode into its outcome once it has ended."""

    def __call__(self, step: Step) -> None:
        if step.t == 0:
            self.start = step.obs["achieved_goal"][0].reshape(-1, 3).copy()
            self.target = step.obs["desired_goal"][0].reshape(-1, 3)
            self.lifted = np.zeros(len(self.start), bool)
            self.placed = np.zeros(len(self.start), bool)
            self.built = False
        blocks = step.next_obs["achieved_goal"][0].reshape(-1, 3)
        info = step.infos[0]
        self.lifted |= blocks[:, 2] > self.start[:, 2] + LIFT
        self.placed |= np.linalg.norm(blocks - self.target, axis=1) < PLACED
        self.built |= bool(info["is_success"])
        self.final, self.success = blocks, bool(info.get("is_success"))

    def outcome(self) -> str:
        return episode_outcome(self.final, self.success, self.built, self.lifted, self.placed)


def classify_episodes(
    env: gym.Env, info: EnvInfo, policy: Policy, first_seed: int, episodes: int
) -> Iterator[str]:
    """The outcome (see the module docstring) of each deterministic episode, seeded
    ``first_seed``, ``first_seed + 1``, ..."""
    watch = BlockWatch()
    for _ in run_episodes(env, info, PolicyActions.exploiting(policy), first_seed, episodes, watch):
        yield watch.outcome()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("policy_file", type=click.Path(dir_okay=False))
@click.option(
    "--episodes",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Episodes to run, seeded --seed, --seed + 1, ...",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=7000,
    show_default=True,
    help="First episode's seed.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON file to write.  [default: benchmarks/results/<suite>/failures-<env>.json]",
)
def main(policy_file: str, episodes: int, seed: int, out: str | None) -> None:
    """Sorts POLICY_FILE's episodes on a FetchStack/WAMStack env into outcomes."""
    try:
        check_forced_backend()
        path = check_json_out(out, policy_file) if out is not None else None
        policy = load_policy(policy_file)
        env_id_from_file(policy.env_id, policy_file, "this analysis takes herdemos' stacking ids")
        if "Stack" not in policy.env_id:
            raise HerdemosError(f"{policy_file}: {policy.env_id} is not a stacking env")
        default = analysis_path(policy_file, f"failures-{policy.env_id}.json")
        path = path or check_output_file(default, "output")
        env = make_env(policy.env_id)
        info = EnvInfo.of(env, policy.env_id)
        runs = classify_episodes(env, info, policy, seed, episodes)
        with click.progressbar(runs, length=episodes, label="episodes") as bar:
            outcomes = Counter(bar)
        payload = {
            "policy": str(policy_file),
            "env": policy.env_id,
            "episodes": episodes,
            "first_seed": seed,
            "outcomes": dict(outcomes.most_common()),
        }
        atomic_write_json(path, payload)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    for name, count in outcomes.most_common():
        click.echo(f"{count:4d}  {name}")
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
