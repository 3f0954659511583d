"""A tiny goal-conditioned env for tests: move a point in the unit square to a goal.

No MuJoCo, steps in microseconds, and ``compute_reward`` is vectorised like the Fetch envs',
so HER and the buffers can be tested exactly.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from herdemos.policy import Policy

THRESHOLD = 0.1


class PointGoalEnv(gym.Env):
    """2-D point; action = velocity in [-1, 1]^2 scaled by 0.1; success within 0.1 of the goal."""

    metadata = {"render_modes": []}
    max_episode_steps = 10  # read by herdemos when made as "point_env:PointGoalEnv"

    def __init__(self, render_mode: str | None = None) -> None:
        box = spaces.Box(-1.0, 1.0, (2,), np.float64)
        self.observation_space = spaces.Dict(
            {"observation": box, "achieved_goal": box, "desired_goal": box}
        )
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.pos = np.zeros(2)
        self.goal = np.zeros(2)

    def _obs(self) -> dict[str, np.ndarray]:
        return {
            "observation": self.pos.copy(),
            "achieved_goal": self.pos.copy(),
            "desired_goal": self.goal.copy(),
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos = self.np_random.uniform(-1, 1, 2)
        self.goal = self.np_random.uniform(-1, 1, 2)
        return self._obs(), {}

    def compute_reward(self, achieved_goal, desired_goal, info):
        d = np.linalg.norm(np.asarray(achieved_goal) - np.asarray(desired_goal), axis=-1)
        return -(d > THRESHOLD).astype(np.float32)

    def step(self, action):
        self.pos = np.clip(self.pos + 0.1 * np.clip(action, -1, 1), -1, 1)
        reward = float(self.compute_reward(self.pos, self.goal, None))
        return self._obs(), reward, False, False, {"is_success": float(reward == 0.0)}


def register() -> str:  # also runs on import, so "point_env:PointGoal-v0" works
    """Registers the env (idempotently) and returns its id."""
    env_id = "PointGoal-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=PointGoalEnv, max_episode_steps=10)
    return env_id


def make_episodes(n: int, horizon: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random episodes in buffer layout, with ag[t] = t + 100 * episode so indices are legible."""
    ag = np.zeros((n, horizon + 1, 2), np.float32)
    ag[..., 0] = np.arange(horizon + 1)[None, :]
    ag[..., 1] = 100 * np.arange(n)[:, None]
    return {
        "o": ag.copy(),
        "ag": ag,
        "g": rng.uniform(-1, 1, (n, horizon, 2)).astype(np.float32),
        "u": rng.uniform(-1, 1, (n, horizon, 2)).astype(np.float32),
        "info_is_success": np.zeros((n, horizon, 1), np.float32),
    }


register()


class UnstablePointEnv(PointGoalEnv):
    """Like :class:`PointGoalEnv`, but about half of the episodes 'blow up': from step 3 on the
    observation is NaN, as a diverged physics simulation would report."""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = super().reset(seed=seed, options=options)
        self.blow_up = bool(self.np_random.random() < 0.5)
        self.t = 0
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.t += 1
        if self.blow_up and self.t >= 3:
            obs = {k: np.full_like(v, np.nan) for k, v in obs.items()}
        return obs, reward, terminated, truncated, info


class SuccessInfoPointEnv(PointGoalEnv):
    """Like :class:`PointGoalEnv`, but its ``compute_reward`` needs ``info["is_success"]`` with
    one flag per goal pair, as the README's plug-in contract lets a user env expect."""

    def compute_reward(self, achieved_goal, desired_goal, info):
        if info is not None:  # herdemos' batched calls (this env's own step passes None)
            flags = np.asarray(info["is_success"])
            assert flags.shape[0] == np.asarray(achieved_goal).shape[0], "one flag per goal pair"
        return super().compute_reward(achieved_goal, desired_goal, info)


class TerminatingPointEnv(PointGoalEnv):
    """Like :class:`PointGoalEnv`, but an episode terminates once the goal is reached, and
    ``steps`` counts the calls to ``step`` (none may follow a termination)."""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self.steps = 0
        self.done = False
        return super().reset(seed=seed, options=options)

    def step(self, action):
        assert not self.done, "stepped after terminated=True"
        self.steps += 1
        obs, reward, _, truncated, info = super().step(action)
        self.done = reward == 0.0
        return obs, reward, self.done, truncated, info


def point_policy(gain: float) -> Policy:
    """An actor for PointGoalEnv that moves towards the goal at ``gain`` (0: stands still).

    Hidden units are relu(g - o) and relu(o - g) per axis; the output is their difference."""
    eye = np.eye(2, dtype=np.float32)
    w1 = np.concatenate([np.hstack([-eye, eye]), np.hstack([eye, -eye])]).astype(np.float32)
    w2 = gain * np.vstack([eye, -eye]).astype(np.float32)
    actor = [w1, np.zeros(4, np.float32), w2, np.zeros(2, np.float32)]
    critic = [np.zeros((6, 1), np.float32), np.zeros(1, np.float32)]
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    return Policy(
        actor,
        critic,
        zeros,
        ones,
        zeros,
        ones,
        200.0,
        5.0,
        1.0,
        {"env_id": "point_env:PointGoal-v0"},
    )
