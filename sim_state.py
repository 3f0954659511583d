"""MuJoCo simulator state and env random-generator state, saved and restored.

Demo files record the simulator state before every step, and resets to demo states (the
paper's fourth technique) restore it; checkpoints save each env's random-generator state so
that a resumed run draws the episodes the uninterrupted one would have. MuJoCo is imported only
when a state is read or written.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


def _state_spec():
    import mujoco

    s = mujoco.mjtState
    # Full physics (time, qpos, qvel, act) plus the mocap target that Fetch's position control
    # moves, plus the solver warm start so that a restored step reproduces the original exactly.
    return s.mjSTATE_FULLPHYSICS | s.mjSTATE_MOCAP_POS | s.mjSTATE_MOCAP_QUAT | s.mjSTATE_WARMSTART


def has_sim_state(env: gym.Env) -> bool:
    """True for MuJoCo envs whose state herdemos can save and restore."""
    u = env.unwrapped
    return hasattr(u, "model") and hasattr(u, "data") and hasattr(u, "goal")


def sim_state_size(env: gym.Env) -> int:
    import mujoco

    return int(mujoco.mj_stateSize(env.unwrapped.model, _state_spec()))


def get_sim_state(env: gym.Env) -> np.ndarray:
    """The simulator state vector (see :func:`_state_spec`)."""
    import mujoco

    u = env.unwrapped
    state = np.empty(sim_state_size(env), np.float64)
    mujoco.mj_getState(u.model, u.data, state, _state_spec())
    return state


def set_sim_state(env: gym.Env, state: np.ndarray, goal: np.ndarray) -> dict[str, np.ndarray]:
    """Restores a state from :func:`get_sim_state` and the goal; returns the new observation."""
    import mujoco

    u = env.unwrapped
    mujoco.mj_setState(u.model, u.data, np.asarray(state, np.float64), _state_spec())
    u.goal = np.asarray(goal, np.float64).copy()
    mujoco.mj_forward(u.model, u.data)
    return u._get_obs()


def env_rng_state(env: gym.Env) -> dict:
    """The env's random-generator state (JSON-serialisable), for exact resume."""
    return env.unwrapped.np_random.bit_generator.state


def set_env_rng_state(env: gym.Env, state: dict) -> None:
    """Gives the env a generator in ``state`` (from :func:`env_rng_state`)."""
    generator = np.random.Generator(getattr(np.random, state["bit_generator"])())
    generator.bit_generator.state = state
    env.unwrapped.np_random = generator
