"""Does a trained actor follow its own critic? The *actor gap*, measured on a policy's episodes.

python -m benchmarks.actor_gap runs/benchmarks/stack2v1-step-tuned-noisy0.1/seed0/policy_latest.pkl

DDPG trains the actor to maximise Q(s, pi(s)). With the behaviour-cloning loss the actor is also
pulled toward the demonstrator's actions, and with the seed's loss weights (lambda1 0.001 on the
RL term's batch mean, lambda2 0.0078 on the BC term's sum over cloned rows) the BC pull is by
far the stronger. Off the demonstrations the actor can then sit on actions that its critic
rates far below others. At every state of the policy's deterministic episodes this tool compares
Q(s, pi(s)) with the best Q of ``--actions`` random actions (uniform, or with ``--spread`` near
pi(s)):

    gap(s) = max_k Q(s, u_k) - Q(s, pi(s))

A gap well above 0 means some action the critic prefers was there to be taken. Whether the
critic is right about it is a separate question, which ``--follow_critic`` answers: it plays the
episodes with the critic's best action instead of the actor's. If success rises, the actor is
lagging a good critic (weight the RL term more); if it falls, the gap is the critic's error on
actions it was never trained on. Gaps are in the env's reward units: a gap of 1 is one step of
reward. The JSON holds the success rate, the mean gap and the share of states with gap > 1, over
all states and split by successful and failed episodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click
import gymnasium as gym
import numpy as np

from benchmarks.report import analysis_path
from herdemos.env_info import EnvInfo
from herdemos.policy import Policy, load_policy
from herdemos.policy_env import env_for_policy
from herdemos.rendering import check_forced_backend
from herdemos.rollout import run_episodes
from herdemos.util import HerdemosError, atomic_write_json, check_json_out, check_output_file

BIG_GAP = 1.0  # reward units: one step of reward


def actor_gaps(
    policy: Policy,
    o: np.ndarray,
    g: np.ndarray,
    n_actions: int,
    rng: np.random.Generator,
    spread: float = 0.0,
    pi: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Compares pi(s) with ``n_actions`` other actions, fresh ones per row of ``o``/``g``: drawn
    uniformly in ``[-max_u, max_u]``, or with ``spread`` > 0 around pi(s) (Gaussian, std
    ``spread * max_u``, clipped to the box), which stays where training noise put the data.
    ``pi`` passes the actor's actions when the caller has them already (one actor pass a step).

    Returns:
        ``(gaps, best)``: ``max_k Q(s, u_k) - Q(s, pi(s))`` per row, shape ``(rows,)``, and the
        action the critic rates highest among pi(s) and the ``u_k``, shape ``(rows, dim_u)``.
    """
    o, g = np.atleast_2d(o), np.atleast_2d(g)
    rows = len(o)
    pi = policy.deterministic(o, g) if pi is None else np.atleast_2d(pi)
    q_pi = policy.q_value(o, g, pi)
    shape = (rows, n_actions, pi.shape[-1])
    if spread > 0:
        noise = spread * policy.max_u * rng.standard_normal(shape)
        u = np.clip(pi[:, None, :] + noise, -policy.max_u, policy.max_u)
    else:
        u = rng.uniform(-policy.max_u, policy.max_u, shape)
    q_random = policy.q_value(
        np.repeat(o, n_actions, 0), np.repeat(g, n_actions, 0), u.reshape(rows * n_actions, -1)
    ).reshape(rows, n_actions)
    top = q_random.argmax(axis=1)
    gaps = q_random[np.arange(rows), top] - q_pi
    best = np.where((gaps > 0)[:, None], u[np.arange(rows), top], pi)
    return gaps, best.astype(np.float32)


@dataclass
class CriticCheckedActions:
    """Acts with pi(s), or with ``follow_critic`` with the critic's best action of
    :func:`actor_gaps`, and records the gap at every state it acts in (one env)."""

    policy: Policy
    n_actions: int
    rng: np.random.Generator
    follow_critic: bool = False
    spread: float = 0.0
    gaps: list[float] = field(default_factory=list)

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        self.gaps = []

    def __call__(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        o, g = obs["observation"], obs["desired_goal"]
        pi = self.policy.deterministic(o, g)
        gap, best = actor_gaps(self.policy, o, g, self.n_actions, self.rng, self.spread, pi)
        self.gaps.append(gap[0])
        return best if self.follow_critic else pi


def episode_gaps(
    env: gym.Env,
    policy: Policy,
    seed: int,
    n_actions: int,
    rng: np.random.Generator,
    follow_critic: bool = False,
    spread: float = 0.0,
) -> tuple[np.ndarray, bool]:
    """Runs one episode, acting with pi(s), or with ``follow_critic`` with the critic's best
    action of :func:`actor_gaps`; returns the gap at each visited state and the success."""
    acting = CriticCheckedActions(policy, n_actions, rng, follow_critic, spread)
    (rollout,) = run_episodes(env, EnvInfo.of(env, env.spec.id), acting, seed, 1)
    return np.array(acting.gaps), bool(rollout.episodes["info_is_success"][0, -1, 0])


def summarise(gaps: list[np.ndarray]) -> dict[str, float | int]:
    """Mean gap, share of states above :data:`BIG_GAP`, and counts, over the given episodes."""
    if not gaps:
        return {"episodes": 0, "states": 0}
    every = np.concatenate(gaps)
    return {
        "episodes": len(gaps),
        "states": int(every.size),
        "mean_gap": round(float(every.mean()), 3),
        "median_gap": round(float(np.median(every)), 3),
        "share_gap_above_1": round(float((every > BIG_GAP).mean()), 3),
    }


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("policy_file", type=click.Path(dir_okay=False))
@click.option(
    "--episodes",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Episodes to run, seeded --seed, --seed + 1, ...",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=7000, show_default=True, help="First seed."
)
@click.option(
    "--actions",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Random actions compared with the actor's at each state.",
)
@click.option(
    "--spread",
    type=click.FloatRange(min=0.0),
    default=0.0,
    show_default=True,
    help="0: the other actions are uniform over the action box; > 0: Gaussian around pi(s) "
    "with this std, as a fraction of max_u (0.1 is the training noise).",
)
@click.option(
    "--follow_critic",
    is_flag=True,
    help="Act with the critic's best action (of pi(s) and the random ones) instead of pi(s): "
    "if the critic is right where the gap is large, success rises; if it falls, the gap is "
    "the critic's error.",
)
@click.option(
    "--env",
    "env_id",
    default=None,
    help="Env id or module:Class entry point.  [default: the policy file's own registered id]",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON file to write.  [default: benchmarks/results/<suite>/"
    "actor-gap-<env>[-spread<s>][-follow-critic].json]",
)
def main(
    policy_file: str,
    episodes: int,
    seed: int,
    actions: int,
    spread: float,
    follow_critic: bool,
    env_id: str | None,
    out: str | None,
) -> None:
    """Measures how far POLICY_FILE's actor is from the best action its own critic knows."""
    try:
        check_forced_backend()
        path = check_json_out(out, policy_file) if out is not None else None
        policy = load_policy(policy_file)
        env_id, env, _ = env_for_policy(policy, policy_file, env_id)
        name = env_id.replace(":", "_").replace("/", "_")
        suffix = f"-spread{spread:g}" if spread > 0 else ""
        suffix += "-follow-critic" if follow_critic else ""
        default = analysis_path(policy_file, f"actor-gap-{name}{suffix}.json")
        path = path or check_output_file(default, "output")
        rng = np.random.default_rng(seed)
        won: list[np.ndarray] = []
        lost: list[np.ndarray] = []
        with click.progressbar(range(episodes), label="episodes") as bar:
            for i in bar:
                gaps, success = episode_gaps(
                    env, policy, seed + i, actions, rng, follow_critic, spread
                )
                (won if success else lost).append(gaps)
        env.close()
        payload = {
            "policy": str(policy_file),
            "env": env_id,
            "first_seed": seed,
            "random_actions": actions,
            "spread": spread,
            "acting": "critic's best action" if follow_critic else "actor",
            "success_rate": round(len(won) / episodes, 3),
            "all": summarise(won + lost),
            "successful_episodes": summarise(won),
            "failed_episodes": summarise(lost),
        }
        atomic_write_json(path, payload)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    acting = "the critic's best action" if follow_critic else "the actor"
    click.echo(f"acting with {acting}: success {len(won)}/{episodes}")
    for key in ("all", "successful_episodes", "failed_episodes"):
        s = payload[key]
        if s["episodes"]:
            click.echo(
                f"{key:20s} {s['episodes']:4d} episodes: mean gap {s['mean_gap']:.2f}, "
                f"gap > 1 at {100 * s['share_gap_above_1']:.0f}% of states"
            )
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
