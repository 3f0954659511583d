"""Every check of a run's config and demos against its env, in one place.

Checks that need only the config are ``validate`` in the config module; the shapes and horizon of
a demo file are checked against the env's :class:`~herdemos.env_info.EnvInfo` while it is loaded
(:func:`herdemos.demos.load_demos`). What needs the env itself is here: a ``compute_reward`` that
takes batches, its mirror planes, its simulator state for demo resets, and the env a demo file
was recorded in. ``train.py`` runs
:func:`check_against_env` on a probe env before it starts any MPI rank or makes any folder, so
each mistake is one line.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import gymnasium as gym
import numpy as np

from herdemos.sim_state import has_sim_state, sim_state_size
from herdemos.util import HerdemosError

if TYPE_CHECKING:
    from herdemos.config import Config
    from herdemos.demos import DemoData
    from herdemos.symmetry import Reflection


def check_against_env(
    config: Config, env: gym.Env, demos: DemoData | None = None, name: str | None = None
) -> None:
    """Refuses a config, and its demos if given, that do not fit ``env``.

    Args:
        config: the run's resolved config (its ``train.env`` names ``env``).
        env: an env made from ``config.train.env``.
        demos: the loaded demos (None: check the config alone, before loading them).
        name: how error lines name the env (default ``--env ENV_ID``).

    Raises:
        HerdemosError: one line naming the flag or file and the problem.
    """
    env_id, demo = config.train.env, config.demo
    check_vectorised_reward(env, env_id, name=name)
    if demo.demo_mirror:
        mirror_reflections(env, env_id, demo.demo_mirror_planes)
    if demo.demo_reset_prob > 0 and not has_sim_state(env):
        raise HerdemosError(
            f"--demo_reset_prob: {env_id} is not a MuJoCo env whose state herdemos can restore "
            "(it needs model, data, goal and _get_obs())"
        )
    if demos is None:
        return
    source = demo.demo_file if demo.demo_file is not None else "the scripted demos"
    if demo.demo_env_check:
        check_demo_env(demos.metadata.get("env_id"), env_id, source)
    if demo.demo_reset_prob > 0:
        if demos.sim_state is None:
            raise HerdemosError(
                f"--demo_reset_prob: {source} holds no simulator states ('sim_state') to "
                "reset to; only herdemos' generators record them (not other controllers' files "
                "or Minari datasets made elsewhere): generate demos with data_generation/"
            )
        size = sim_state_size(env)
        if demos.sim_state.shape[-1] != size:
            raise HerdemosError(
                f"--demo_reset_prob: the simulator states in {source} have size "
                f"{demos.sim_state.shape[-1]}, {env_id} needs {size} (demos from another env or "
                "MuJoCo version?)"
            )


def check_vectorised_reward(
    env: gym.Env, env_id: str, batch: int = 3, name: str | None = None
) -> None:
    """Refuses an env whose ``compute_reward`` does not take a batch of goals: HER relabels whole
    batches with one call, so a per-goal function would fail (or broadcast) mid-training.
    ``name`` starts the error line (default ``--env ENV_ID``)."""
    name = name or f"--env {env_id}"
    dim_g = env.observation_space.spaces["desired_goal"].shape[0]
    goals = np.zeros((batch, dim_g))
    info = {"is_success": np.zeros((batch, 1))}  # what HER passes: the batch's stored flags
    try:
        reward = np.asarray(env.unwrapped.compute_reward(goals, goals + 1.0, info))
    except Exception as e:  # noqa: BLE001  (any failure of the env's own code is this one error)
        raise HerdemosError(
            f"{name}: compute_reward fails on a batch of {batch} goals "
            f"({type(e).__name__}: {e}); HER calls it on whole batches (see docs/envs.md)"
        ) from None
    if reward.shape != (batch,):
        raise HerdemosError(
            f"{name}: compute_reward returned shape {reward.shape} for {batch} goals, "
            f"not ({batch},); HER calls it on whole batches (see docs/envs.md)"
        )


def check_demo_env(recorded: object, env_id: str, source: str | os.PathLike) -> None:
    """Refuses demos recorded in another env than ``env_id``.

    Demos of another task can have the same sizes (FetchPush's and FetchPickAndPlace's do), so
    the shape checks at loading pass them; the env id in the file's metadata tells them apart.
    ``module:Name`` and ``Name`` are the same env. A file whose metadata names no env (your own
    demos) is accepted: its shapes were checked when it was loaded.

    Raises:
        HerdemosError: the file names another env, in one line naming the file, both envs and
            the override.
    """
    if recorded is None:
        return
    if not isinstance(recorded, str) or _env_name(recorded) != _env_name(env_id):
        raise HerdemosError(
            f"{source}: demos recorded in {recorded}, not {env_id}; use demos of {env_id}, or "
            "--set demo_env_check=0 to train on them anyway"
        )


def _env_name(env_id: str) -> str:
    """The env's registered name: ``'point_env:PointGoal-v0' -> 'PointGoal-v0'``."""
    return env_id.rsplit(":", 1)[-1]


def mirror_reflections(env: gym.Env, env_id: str, planes: str) -> tuple[Reflection, ...]:
    """The env's mirror symmetries named in ``planes`` (comma-separated, e.g. ``"x,y"``), for
    ``--demo_mirror`` (see :mod:`herdemos.symmetry`).

    Raises:
        HerdemosError: the env declares none (only the stacking envs do), or not one named.
    """
    declared = getattr(env.unwrapped, "reflections", None)
    if declared is None:
        raise HerdemosError(
            f"--demo_mirror 1: {env_id} declares no mirror symmetry (the FetchStack and "
            "WAMStack envs do)"
        )
    reflections = declared()
    names = [name.strip() for name in planes.split(",") if name.strip()]
    unknown = [name for name in names if name not in reflections]
    if unknown or not names or len(set(names)) < len(names):
        raise HerdemosError(
            f"--set demo_mirror_planes={planes}: {env_id} has the mirror planes "
            f"{','.join(reflections)}; name one or more of them, comma-separated, each once"
        )
    return tuple(reflections[name] for name in names)
