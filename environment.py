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
import inspect
import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from herdemos.config import TrainConfig
from herdemos.config_checks import parse_env_kwargs
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


def make_env(
    env_id: str, render_mode: str | None = None, kwargs: Mapping[str, Any] | None = None
) -> gym.Env:
    """Builds an env by registered id or ``module:Class`` entry point, with ``gymnasium.make``
    keyword arguments ``kwargs`` (``--env_kwargs``), and checks it is a goal env.

    Raises:
        HerdemosError: unknown id, arguments the env refuses, or an observation without the
            goal-env keys.
    """
    register_robotics_envs()
    target = _resolve_entry_point(env_id) if ":" in env_id else env_id
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = gym.make(target, render_mode=render_mode, **(kwargs or {}))
    except gym.error.Error as e:
        raise HerdemosError(f"--env {env_id}: {e}") from None
    except (ImportError, AttributeError, ModuleNotFoundError) as e:
        raise HerdemosError(f"--env {env_id}: cannot import entry point ({e})") from None
    except TypeError as e:  # the entry point is no env class, or rejects an argument
        if kwargs:
            raise HerdemosError(f"--env {env_id} --env_kwargs {json.dumps(kwargs)}: {e}") from None
        raise HerdemosError(
            f"--env {env_id}: the entry point did not build a Gymnasium env ({e})"
        ) from None
    return checked_goal_env(env, f"--env {env_id}", render_mode)


def checked_goal_env(env: gym.Env, name: str, render_mode: str | None = None) -> gym.Env:
    """``env``, once it has the goal env's observation keys and ``compute_reward``; ``name``
    starts the error line (the flag, or the factory).

    Raises:
        HerdemosError: what is missing, in one line (the env is closed then).
    """
    space = env.observation_space
    keys = set(space.spaces) if isinstance(space, gym.spaces.Dict) else set()
    missing = [k for k in GOAL_KEYS if k not in keys]
    if missing:
        env.close()
        raise HerdemosError(
            f"{name}: not a goal-conditioned env; its observation lacks keys {missing}"
        )
    if not hasattr(env.unwrapped, "compute_reward"):
        env.close()
        raise HerdemosError(f"{name}: the env has no compute_reward(ag, g, info)")
    if render_mode is not None and has_sim_state(env):
        keep_physics_when_rendering(env)
    return env


EnvFactory = Callable[..., gym.Env]
"""A function that returns a new goal env, for :func:`herdemos.train`: it may take
``render_mode`` (videos during training need ``"rgb_array"``)."""


@dataclass(frozen=True)
class EnvMaker:
    """Makes the envs of a run: by id with ``--env_kwargs``, or with the Python API's factory.

    Attributes:
        env_id: the run's ``train.env``.
        kwargs: its ``gymnasium.make`` keyword arguments.
        factory: the API's env factory (None: ``make_env(env_id, ..., kwargs)``).
    """

    env_id: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    factory: EnvFactory | None = None

    @classmethod
    def of(cls, train: TrainConfig, factory: EnvFactory | None = None) -> EnvMaker:
        return cls(train.env, parse_env_kwargs(train.env_kwargs), factory)

    @property
    def name(self) -> str:
        """How error lines name the env: ``--env FetchReach-v4``, or the factory."""
        if self.factory is None:
            return f"--env {self.env_id}"
        return f"env factory {factory_name(self.factory)}"

    def __call__(self, render_mode: str | None = None) -> gym.Env:
        """A new env (that renders in ``render_mode``).

        Raises:
            HerdemosError: the env cannot be made, or is not a goal env; also a factory that
                takes no ``render_mode`` when one is asked for.
        """
        if self.factory is None:
            return make_env(self.env_id, render_mode, self.kwargs)
        register_robotics_envs()
        if render_mode is None:
            env = self.factory()
        elif "render_mode" in inspect.signature(self.factory).parameters:
            env = self.factory(render_mode=render_mode)
        else:
            raise HerdemosError(f"{self.name} takes no render_mode argument")
        if not isinstance(env, gym.Env):
            raise HerdemosError(f"{self.name} returned {type(env).__name__}, not a Gymnasium env")
        return checked_goal_env(env, self.name, render_mode)


def factory_name(factory: EnvFactory) -> str:
    """``module:qualname`` of a function (``tests.test_api:make_reach``), or its repr."""
    qualname = getattr(factory, "__qualname__", None)
    module = getattr(factory, "__module__", None)
    return f"{module}:{qualname}" if qualname and module else repr(factory)


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
