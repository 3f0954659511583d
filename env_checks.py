"""Every check of a run's config and demos against its env, in one place.

Checks that need only the config are ``validate`` in the config module; the shapes and horizon of
a demo file are checked against the env's :class:`~herdemos.env_info.EnvInfo` while it is loaded
(:func:`herdemos.demos.load_demos`). What needs the env itself is here: its mirror planes and its
simulator state for demo resets. ``train.py`` runs :func:`check_against_env` on a probe env
before it starts any MPI rank or makes any folder, so each mistake is one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gymnasium as gym

from herdemos.sim_state import has_sim_state, sim_state_size
from herdemos.util import HerdemosError

if TYPE_CHECKING:
    from herdemos.demos import DemoData
    from herdemos.experiment.config import Config
    from herdemos.symmetry import Reflection


def check_against_env(config: Config, env: gym.Env, demos: DemoData | None = None) -> None:
    """Refuses a config, and its demos if given, that do not fit ``env``.

    Args:
        config: the run's resolved config (its ``train.env`` names ``env``).
        env: an env made from ``config.train.env``.
        demos: the loaded demos (None: check the config alone, before loading them).

    Raises:
        HerdemosError: one line naming the flag or file and the problem.
    """
    env_id, demo = config.train.env, config.demo
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
    if demo.demo_reset_prob > 0:
        if demos.sim_state is None:
            raise HerdemosError(
                f"--demo_reset_prob: {source} holds no simulator states ('sim_state'); "
                "regenerate the demos with data_generation/"
            )
        size = sim_state_size(env)
        if demos.sim_state.shape[-1] != size:
            raise HerdemosError(
                f"--demo_reset_prob: the simulator states in {source} have size "
                f"{demos.sim_state.shape[-1]}, {env_id} needs {size} (demos from another env or "
                "MuJoCo version?)"
            )


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
