"""The env a policy file runs on: the command's ``--env``, else the id the file names.

A policy file may come from anyone, so the id it names is used only if it is a registered id:
a ``module:Name`` entry point would import that module, letting the file choose code to run.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import gymnasium as gym

from herdemos.config_checks import parse_env_kwargs
from herdemos.env_info import EnvInfo
from herdemos.environment import make_env
from herdemos.util import HerdemosError

if TYPE_CHECKING:
    from herdemos.policy import Policy


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


def env_for_policy(
    policy: Policy,
    policy_file: str | os.PathLike,
    env_override: str | None,
    render_mode: str | None = None,
    flag: str = "--env",
) -> tuple[str, gym.Env, EnvInfo]:
    """The env a loaded policy runs on: ``env_override`` (the command's ``--env``), else the
    policy file's own registered id (an entry point from a file is refused, see
    :func:`env_id_from_file`) with the run's ``--env_kwargs``. Commands that run a policy share
    this, so each refuses the same inputs with the same line; ``flag`` is how the lines name
    the override (``env=`` for the Python API).

    Returns:
        ``(env_id, env, info)``.

    Raises:
        HerdemosError: no env named anywhere, an untrusted or unknown id, or an env whose
            observation, goal or action sizes are not the policy's (the env is closed then).
    """
    if not (env_override or policy.env_id):
        raise HerdemosError(f"{policy_file}: the policy names no env; pass {flag}")
    trust = f"pass {naming(flag, policy.env_id)} if you trust it"
    env_id = env_override or env_id_from_file(policy.env_id, policy_file, trust)
    kwargs = {} if env_override else env_kwargs_from_file(policy, policy_file)
    env = make_env(env_id, render_mode=render_mode, kwargs=kwargs)
    return env_id, env, fitting_info(policy, policy_file, env, env_id)


def naming(flag: str, value: str) -> str:
    """``--env ID`` for a command's flag, ``env='ID'`` for an API argument."""
    return f"{flag} {value}" if flag.startswith("--") else f"{flag}{value!r}"


def fitting_info(
    policy: Policy, policy_file: str | os.PathLike, env: gym.Env, env_id: str, name: str = ""
) -> EnvInfo:
    """What the learner reads from ``env``, once its sizes are the policy's; ``name`` starts the
    env's own error lines (default ``--env ENV_ID``).

    Raises:
        HerdemosError: an env the learner cannot use, or whose observation, goal or action
            sizes are not the policy's. The env is closed then, whatever went wrong.
    """
    try:
        info = EnvInfo.of(env, env_id, name or None)
        policy.check_fits((info.dim_o, info.dim_g, info.dim_u), env_id, str(policy_file))
    except BaseException:
        env.close()
        raise
    return info


def env_kwargs_from_file(policy: Policy, source: str | os.PathLike) -> dict[str, Any]:
    """The ``--env_kwargs`` of the run a policy file comes from (none for older files). They are
    plain JSON values for ``gymnasium.make`` of a registered id, so they choose no code.

    Raises:
        HerdemosError: they are not a JSON object, naming the file.
    """
    text = run_train_config(policy).get("env_kwargs", "{}")
    try:
        return parse_env_kwargs(text if isinstance(text, str) else "")
    except HerdemosError as e:
        raise HerdemosError(f"{source}: {e}") from None


def run_train_config(policy: Policy) -> dict[str, Any]:
    """The ``train`` section of the config of the run a policy file comes from (empty for older
    files and hand-made policies)."""
    return (policy.metadata.get("config") or {}).get("train") or {}
