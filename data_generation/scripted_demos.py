"""Generating demonstrations with the scripted controllers, and the cached default demos that
train.py uses without ``--demo_file``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from herdemos.data_generation.controllers import (
    DEFAULT_STYLE,
    ScriptedController,
    make_controller,
    style_envs,
)
from herdemos.data_generation.controllers.common import StopsRecording
from herdemos.demos import DemoData, load_demos
from herdemos.env_info import EnvInfo, reward_fn_of
from herdemos.environment import make_env
from herdemos.policy import replace_at_random
from herdemos.ragged import LENGTH, clear_padding, final_success, step_mask
from herdemos.rollout import ObsBatch, RolloutWorker
from herdemos.sim_state import has_sim_state
from herdemos.util import HerdemosError

ENVS_PER_BATCH = 10  # envs stepped in lockstep; amortises Python overhead per step


@dataclass
class ScriptedActions:
    """Adapts one scripted controller per env to the rollout worker, adding Gaussian noise and,
    with probability ``random_prob``, a uniformly random action instead (the learner's own
    exploration, :func:`herdemos.policy.replace_at_random`, applied to the demonstrator)."""

    controllers: list[ScriptedController]
    noise: float
    max_u: float
    rng: np.random.Generator
    random_prob: float = 0.0

    def reset(self, obs: ObsBatch) -> None:
        for i, controller in enumerate(self.controllers):
            controller.reset({k: v[i] for k, v in obs.items()})

    def __call__(self, obs: ObsBatch) -> np.ndarray:
        u = np.stack(
            [c.act({k: v[i] for k, v in obs.items()}) for i, c in enumerate(self.controllers)]
        )
        if self.noise > 0:
            u = u + self.noise * self.max_u * self.rng.standard_normal(u.shape)
        u = np.clip(u, -self.max_u, self.max_u)
        if self.random_prob > 0:  # drawn only then, so demos without it keep their stream
            return replace_at_random(u, self.max_u, self.random_prob, self.rng)
        return u.astype(np.float32)

    @property
    def variable_length(self) -> bool:
        """Whether the controllers end their recordings themselves (human-like demos)."""
        return all(isinstance(c, StopsRecording) for c in self.controllers)

    def lengths(self, horizon: int) -> np.ndarray:
        """Each controller's recorded steps in the last episode (the horizon if it never
        stopped)."""
        steps = [
            c.recorded_steps if isinstance(c, StopsRecording) else None for c in self.controllers
        ]
        return np.array([horizon if s is None else s for s in steps], np.int64)


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def generate_demos(
    env_id: str,
    num_episodes: int,
    seed: int = 0,
    noise: float = 0.0,
    only_successful: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    miss_prob: float = 0.0,
    style: str = DEFAULT_STYLE,
    random_prob: float = 0.0,
) -> DemoData:
    """Runs the env's scripted controller and returns ``num_episodes`` demo episodes.

    Args:
        env_id: a goal env that has a scripted controller.
        num_episodes: episodes to keep.
        seed: env seeds are ``seed, seed + 1, ...``; noise uses the same seed.
        noise: Gaussian action-noise std as a fraction of ``max_u`` (imperfect demos).
        only_successful: keep only successful episodes (at most 20x attempts are made).
        on_progress: called with ``(kept, attempted)`` after every batch.
        miss_prob: stacking envs: probability that a pick first misses on purpose and recovers.
        style: which demonstrator (see :data:`~herdemos.data_generation.controllers.STYLES`).
        random_prob: probability of a uniformly random action instead of the (noisy) scripted
            one at each step, as the learner explores; the metadata names it when it is set.

    Raises:
        HerdemosError: no controller for the env (in that style), or too few successes.
    """
    if num_episodes < 1:
        raise HerdemosError("--num_episodes must be >= 1")
    rng = np.random.default_rng(seed)
    n_envs = min(ENVS_PER_BATCH, num_episodes)
    make_env(env_id).close()  # an unknown id fails here, by name, before the controller check
    if make_controller(env_id, rng, miss_prob, style) is None:
        if style != DEFAULT_STYLE:
            raise HerdemosError(
                f"--style {style}: no controller for {env_id} (there are for "
                f"{', '.join(style_envs(style))})"
            )
        raise HerdemosError(
            f"no scripted controller for {env_id} (there are for FetchReach, FetchPush, "
            "FetchPickAndPlace, FetchSlide and herdemos' own envs); train.py takes your own "
            "demonstrations with --demo_file"
        )
    envs = [make_env(env_id) for _ in range(n_envs)]
    info = EnvInfo.of(envs[0], env_id)
    record = has_sim_state(envs[0])
    worker = RolloutWorker(envs, info, seed=seed, rng=rng, record_sim_state=record)
    controllers = [make_controller(env_id, rng, miss_prob, style) for _ in envs]
    actions = ScriptedActions(controllers, noise, info.max_u, rng, random_prob)
    kept: list[dict[str, np.ndarray]] = []
    n_kept = attempted = 0
    while n_kept < num_episodes:
        if only_successful and attempted >= 20 * num_episodes:
            raise HerdemosError(
                f"{env_id}: only {n_kept} successful episodes in {attempted} attempts"
            )
        rollout = worker.generate_rollouts(actions)
        episodes = rollout.episodes
        if actions.variable_length:
            episodes[LENGTH] = actions.lengths(info.horizon)[rollout.valid]
            clear_padding(episodes)  # the rows after each recording's end become padding
        attempted += n_envs
        if only_successful:
            ok = final_success(episodes) > 0.5
            episodes = {k: v[ok] for k, v in episodes.items()}
        kept.append(episodes)
        n_kept += episodes["u"].shape[0]
        if on_progress is not None:
            on_progress(min(n_kept, num_episodes), attempted)
    stacked = {k: np.concatenate([e[k] for e in kept])[:num_episodes] for k in kept[0]}
    sim_state = stacked.pop("sim_state", None)
    data = DemoData(stacked, sim_state)
    # Returns under the env's own reward, recomputed for the kept episodes.
    flags = {"is_success": stacked["info_is_success"]}  # as HER passes info, per transition
    rewards = np.asarray(reward_fn_of(envs[0])(stacked["ag"][:, 1:], stacked["g"], flags))
    if LENGTH in stacked:  # only the recorded steps earn rewards
        rewards = rewards * step_mask(stacked[LENGTH], info.horizon)
    returns = rewards.sum(axis=1)
    data.metadata = {
        "env_id": env_id,
        "dim_o": info.dim_o,
        "dim_g": info.dim_g,
        "dim_u": info.dim_u,
        "T": info.horizon,
        "n_episodes": num_episodes,
        "generator": "herdemos scripted controller"
        + ("" if style == DEFAULT_STYLE else f", style {style}"),
        "seed": seed,
        "noise": noise,
        "miss_prob": miss_prob,
        "only_successful": only_successful,
        "attempted_episodes": attempted,
        "success_rate": data.success_rate,
        "mean_return": float(returns.mean()),
        "sim_state": "mj_getState(FULLPHYSICS|MOCAP_POS|MOCAP_QUAT|WARMSTART)" if record else None,
        "versions": {
            "mujoco": _version("mujoco"),
            "gymnasium": _version("gymnasium"),
            "gymnasium-robotics": _version("gymnasium-robotics"),
            "herdemos": _version("herdemos"),
        },
    }
    if random_prob > 0:
        data.metadata["random_prob"] = random_prob
    for env in envs:
        env.close()
    return data


def default_cache_dir() -> Path:
    """Where generated default demos are cached: ``$HERDEMOS_CACHE`` or ``~/.cache/herdemos``."""
    root = os.environ.get("HERDEMOS_CACHE") or Path.home() / ".cache" / "herdemos"
    return Path(root) / "demos"


def default_demo_name(
    env_id: str,
    num_episodes: int,
    seed: int,
    noise: float,
    miss_prob: float = 0.0,
    style: str = DEFAULT_STYLE,
) -> str:
    """A file name that says what is inside, e.g. ``FetchPush-v4_scripted_100ep_seed0.npz``
    (herdemos' controllers) or ``FetchPush-v4_original_100ep_seed0.npz`` (another style)."""
    source = "scripted" if style == DEFAULT_STYLE else style
    noise_part = f"_noise{noise:g}" if noise > 0 else ""
    miss_part = f"_miss{miss_prob:g}" if miss_prob > 0 else ""
    name = env_id.replace(":", "_")
    return f"{name}_{source}_{num_episodes}ep_seed{seed}{noise_part}{miss_part}.npz"


def cached_default_demos(
    env_id: str, num_demo: int, info: EnvInfo, log: Callable[[str], None]
) -> DemoData:
    """The default scripted demos for ``env_id`` (at least 100), generated once and cached."""
    n = max(100, num_demo)
    path = default_cache_dir() / default_demo_name(env_id, n, seed=0, noise=0.0)
    if path.exists():
        log(f"using cached scripted demos {path}")
    else:
        log(f"no --demo_file given: generating {n} scripted demos for {env_id} into {path}")
        data = generate_demos(env_id, n, seed=0)
        data.save(path)
        log(f"generated demos: success rate {data.success_rate:.2f}")
    return load_demos(path, info, num_demo)
