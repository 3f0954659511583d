"""Making goal-conditioned envs: registration, ``make_env``, ``module:Class`` entry points, the
render fix, and MuJoCo's physics warnings.

Any Gymnasium goal env works: a registered id (``FetchPush-v4``) or a ``module:Class`` entry
point. What the learner reads from an env is :mod:`herdemos.env_info`; the simulator state that
demo files record is :mod:`herdemos.sim_state`; the env a policy file runs on is
:mod:`herdemos.policy_env`; the checks of a run's config and demos against its env are
:mod:`herdemos.env_checks`.
"""

from __future__ import annotations

import importlib
import warnings

import gymnasium as gym

from herdemos.sim_state import has_sim_state
from herdemos.util import HerdemosError

GOAL_KEYS = ("observation", "achieved_goal", "desired_goal")


def register_robotics_envs() -> None:
    """Registers gymnasium-robotics envs (Fetch ...) and herdemos' own envs, quietly (see
    :mod:`herdemos.envs.robotics` for the notice gymnasium-robotics prints on import).

    Raises:
        HerdemosError: ``MUJOCO_GL`` names a backend whose library is missing; importing
            gymnasium-robotics imports MuJoCo, which would fail with a PyOpenGL traceback.
    """
    from herdemos.rendering import check_forced_backend

    check_forced_backend()
    from herdemos.envs.robotics import gymnasium_robotics

    gym.register_envs(gymnasium_robotics)
    import herdemos.envs  # noqa: F401  (registers herdemos' envs on import)


def _resolve_entry_point(env_id: str) -> str | gym.envs.registration.EnvSpec:
    """Makes ``module:Name`` usable: ``Name`` is either an env id that importing ``module``
    registers (Gymnasium resolves those itself) or an env class, wrapped in a spec here with its
    ``max_episode_steps`` class attribute as the horizon."""
    module_name, attr = env_id.split(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise HerdemosError(f"--env {env_id}: cannot import module {module_name!r} ({e})") from None
    if attr in gym.registry:
        return env_id
    entry = getattr(module, attr, None)
    if entry is None:
        raise HerdemosError(f"--env {env_id}: module {module_name!r} has no {attr!r}")
    steps = getattr(entry, "max_episode_steps", None)
    return gym.envs.registration.EnvSpec(id=env_id, entry_point=entry, max_episode_steps=steps)


def make_env(env_id: str, render_mode: str | None = None) -> gym.Env:
    """Builds an env by registered id or ``module:Class`` entry point and checks it is a goal env.

    Raises:
        HerdemosError: unknown id, or an observation without the goal-env keys.
    """
    register_robotics_envs()
    target = _resolve_entry_point(env_id) if ":" in env_id else env_id
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = gym.make(target, render_mode=render_mode)
    except gym.error.Error as e:
        raise HerdemosError(f"--env {env_id}: {e}") from None
    except (ImportError, AttributeError, ModuleNotFoundError) as e:
        raise HerdemosError(f"--env {env_id}: cannot import entry point ({e})") from None
    except TypeError as e:  # the entry point is no env class (or rejects Gymnasium's arguments)
        raise HerdemosError(
            f"--env {env_id}: the entry point did not build a Gymnasium env ({e})"
        ) from None
    space = env.observation_space
    keys = set(space.spaces) if isinstance(space, gym.spaces.Dict) else set()
    missing = [k for k in GOAL_KEYS if k not in keys]
    if missing:
        env.close()
        raise HerdemosError(
            f"--env {env_id}: not a goal-conditioned env; its observation lacks keys {missing}"
        )
    if not hasattr(env.unwrapped, "compute_reward"):
        env.close()
        raise HerdemosError(f"--env {env_id}: the env has no compute_reward(ag, g, info)")
    if render_mode is not None and has_sim_state(env):
        keep_physics_when_rendering(env)
    return env


def keep_physics_when_rendering(env: gym.Env) -> None:
    """Makes ``env.render()`` leave the simulation exactly as it found it.

    gymnasium-robotics' ``render`` (which herdemos' envs inherit) first runs ``_render_callback``,
    which moves the goal markers and calls ``mj_forward``. That refreshes the body positions
    ``mj_step`` leaves one substep old, and the next action's mocap target is computed from them,
    so a filmed episode drifted away from the same episode unfilmed: a Stack3 policy that
    stacks all three blocks unfilmed failed when filmed. Rendering and then restoring the
    simulator data keeps ``play.py --video`` showing the episode it scores. The instance's
    ``render`` is replaced because the envs' own ``step`` calls it in ``human`` mode.
    """
    import mujoco

    base = env.unwrapped
    render = base.render
    saved = mujoco.MjData(base.model)

    def render_and_restore():
        mujoco.mj_copyData(saved, base.model, base.data)
        try:
            return render()
        finally:
            mujoco.mj_copyData(base.data, base.model, saved)

    base.render = render_and_restore


def physics_warnings(env: gym.Env) -> int:
    """How often MuJoCo has flagged bad accelerations (a physics blow-up) in this env so far."""
    data = getattr(env.unwrapped, "data", None)
    warning = getattr(data, "warning", None)
    if warning is None:
        return 0
    import mujoco

    return int(warning[mujoco.mjtWarning.mjWARN_BADQACC].number)
