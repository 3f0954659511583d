"""What the learner reads from an env: its sizes and horizon (:class:`EnvInfo`) and its rewards.

The learner never sees an env; it sees an :class:`EnvInfo` and the env's vectorised
``compute_reward``, which HER calls on whole batches of relabelled goals.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from herdemos.util import HerdemosError


@dataclass(frozen=True)
class EnvInfo:
    """What the learner needs to know about an env."""

    env_id: str
    dim_o: int
    dim_g: int
    dim_u: int
    horizon: int  # T: steps per episode
    max_u: float

    @classmethod
    def of(cls, env: gym.Env, env_id: str, name: str | None = None) -> EnvInfo:
        """What ``env`` (made from ``env_id``) offers the learner; ``name`` starts the error
        lines (default ``--env ENV_ID``; the Python API names its factory).

        Raises:
            HerdemosError: no horizon, or an action box the actor cannot produce.
        """
        name = name or f"--env {env_id}"
        if not isinstance(env.action_space, gym.spaces.Box):
            raise HerdemosError(
                f"{name}: action space {env.action_space}; herdemos needs a continuous Box"
            )
        spaces = env.observation_space.spaces
        horizon = declared_horizon(env)
        if not horizon:
            raise HerdemosError(f"{name}: the env declares no max_episode_steps")
        low = np.asarray(env.action_space.low, np.float64)
        high = np.asarray(env.action_space.high, np.float64)
        # The actor's output is max_u * tanh(.) in every dimension: one symmetric bound.
        if not (
            np.all(np.isfinite(high))
            and np.allclose(low, -high)
            and np.allclose(high, high.flat[0])
        ):
            raise HerdemosError(
                f"{name}: action box low {low.tolist()} high {high.tolist()}; herdemos "
                "needs the same symmetric bound in every dimension (wrap the env in "
                "gymnasium.wrappers.RescaleAction(env, -1.0, 1.0))"
            )
        return cls(
            env_id=env_id,
            dim_o=int(spaces["observation"].shape[0]),
            dim_g=int(spaces["desired_goal"].shape[0]),
            dim_u=int(env.action_space.shape[0]),
            horizon=int(horizon),
            max_u=float(high.max()),
        )


def declared_horizon(env: gym.Env) -> int | None:
    """The env's episode length: its shortest ``TimeLimit`` wrapper's, which also holds for an
    env a factory wrapped itself, without ``gymnasium.make``; else its spec's."""
    limits = []
    layer = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, gym.wrappers.TimeLimit):
            limits.append(layer._max_episode_steps)
        layer = layer.env
    if limits:
        return min(limits)
    return env.spec.max_episode_steps if env.spec else None


def reward_fn_of(env: gym.Env):
    """The env's vectorised ``compute_reward(achieved_goal, desired_goal, info)``."""
    return env.unwrapped.compute_reward


def worst_step_reward(env: gym.Env) -> float:
    """The env's lowest per-step reward, found by asking ``compute_reward`` about a goal far out
    of reach (1 km along every axis).

    Target returns are clipped to ``[worst / (1 - gamma), 0]``. Fetch's sparse reward bottoms out
    at -1, but the stacking envs' step reward reaches -N, so a fixed -1 floor would cap every
    Q-value at the value of N - 1 placed blocks.
    """
    dim_g = env.observation_space.spaces["desired_goal"].shape[0]
    here = np.zeros((1, dim_g))
    info = {"is_success": np.zeros((1, 1))}  # what HER passes: the stored info_* of the batch
    reward = np.asarray(env.unwrapped.compute_reward(here, here + 1e3, info), np.float64)
    worst = float(reward.reshape(-1)[0])
    if not np.isfinite(worst) or worst >= 0:
        return -1.0  # not a cost-style reward: keep the baselines floor
    return worst
