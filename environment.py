"""Making goal-conditioned envs, describing them, and saving/restoring MuJoCo simulator state.

Any Gymnasium goal env works: a registered id (``FetchPush-v4``) or a ``module:Class`` entry
point. Simulator state save/restore is what demo files record and what resets to demo states
(the paper's fourth technique) use.
"""

from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gymnasium as gym
import numpy as np

from herdemos.util import HerdemosError

if TYPE_CHECKING:
    from herdemos.policy import Policy
    from herdemos.symmetry import Reflection

GOAL_KEYS = ("observation", "achieved_goal", "desired_goal")


def register_robotics_envs() -> None:
    """Registers gymnasium-robotics envs (Fetch ...) and herdemos' own envs, quietly (see
    :mod:`herdemos.envs.robotics` for the notice gymnasium-robotics prints on import)."""
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


def env_id_from_file(env_id: str, source: str | os.PathLike, remedy: str) -> str:
    """An env id read from a policy file, refused if it is a ``module:Name`` entry point.

    Building such an env imports ``module``, so a policy file, which may come from anyone,
    would choose code to run; the user must name it on the command line instead.

    Args:
        env_id: The id stored in the file.
        source: The file, for the message.
        remedy: What the command offers instead, for the message.

    Raises:
        HerdemosError: ``env_id`` is an entry point, in a line saying what to do.
    """
    if ":" in env_id:
        raise HerdemosError(
            f"{source}: its env {env_id!r} is a module:Name entry point, which would import "
            f"that module; {remedy}"
        )
    return env_id


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
    def of(cls, env: gym.Env, env_id: str) -> EnvInfo:
        spaces = env.observation_space.spaces
        horizon = env.spec.max_episode_steps if env.spec else None
        if not horizon:
            raise HerdemosError(f"--env {env_id}: the env declares no max_episode_steps")
        high = np.asarray(env.action_space.high, np.float64)
        return cls(
            env_id=env_id,
            dim_o=int(spaces["observation"].shape[0]),
            dim_g=int(spaces["desired_goal"].shape[0]),
            dim_u=int(env.action_space.shape[0]),
            horizon=int(horizon),
            max_u=float(high.max()),
        )


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


def physics_warnings(env: gym.Env) -> int:
    """How often MuJoCo has flagged bad accelerations (a physics blow-up) in this env so far."""
    data = getattr(env.unwrapped, "data", None)
    warning = getattr(data, "warning", None)
    if warning is None:
        return 0
    import mujoco

    return int(warning[mujoco.mjtWarning.mjWARN_BADQACC].number)


def env_rng_state(env: gym.Env) -> dict:
    """The env's random-generator state (JSON-serialisable), for exact resume."""
    return env.unwrapped.np_random.bit_generator.state


def set_env_rng_state(env: gym.Env, state: dict) -> None:
    generator = np.random.Generator(getattr(np.random, state["bit_generator"])())
    generator.bit_generator.state = state
    env.unwrapped.np_random = generator


# ---- simulator state ----
def _state_spec():
    import mujoco

    s = mujoco.mjtState
    # Full physics (time, qpos, qvel, act) plus the mocap target that Fetch's position control
    # moves, plus the solver warm start so that a restored step reproduces the original exactly.
    return s.mjSTATE_FULLPHYSICS | s.mjSTATE_MOCAP_POS | s.mjSTATE_MOCAP_QUAT | s.mjSTATE_WARMSTART


def env_reflections(env: gym.Env, env_id: str, planes: str) -> tuple[Reflection, ...]:
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


def env_for_policy(
    policy: Policy,
    policy_file: str | os.PathLike,
    env_override: str | None,
    render_mode: str | None = None,
) -> tuple[str, gym.Env, EnvInfo]:
    """The env a loaded policy runs on: ``env_override`` (the command's ``--env``), else the
    policy file's own registered id (an entry point from a file is refused, see
    :func:`env_id_from_file`). Commands that run a policy share this, so each refuses the same
    inputs with the same line.

    Returns:
        ``(env_id, env, info)``.

    Raises:
        HerdemosError: no env named anywhere, an untrusted or unknown id, or an env whose
            observation, goal or action sizes are not the policy's (the env is closed then).
    """
    if not (env_override or policy.env_id):
        raise HerdemosError(f"{policy_file}: the policy names no env; pass --env")
    trust = f"pass --env {policy.env_id} if you trust it"
    env_id = env_override or env_id_from_file(policy.env_id, policy_file, trust)
    env = make_env(env_id, render_mode=render_mode)
    info = EnvInfo.of(env, env_id)
    try:
        policy.check_fits((info.dim_o, info.dim_g, info.dim_u), env_id, str(policy_file))
    except HerdemosError:
        env.close()
        raise
    return env_id, env, info
