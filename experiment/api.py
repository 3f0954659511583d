"""The Python API: :func:`herdemos.train`, the command line's run called from Python, and
:func:`herdemos.evaluate`, a policy's success on numbered episodes of an env id or factory.

``train`` starts runs through the same function as ``experiment/train.py`` (:func:`~herdemos.
experiment.train.start`), so a run trains number for number as the command with the same config
would. ``evaluate`` runs the episode loop that ``play.py`` runs, so a seed is the same episode in
both.
"""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from herdemos.config import Config, with_overrides
from herdemos.config_checks import canonical_env_kwargs, validate
from herdemos.methods import method_of
from herdemos.policy import Policy
from herdemos.util import HerdemosError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from herdemos.environment import EnvFactory


@dataclass(frozen=True)
class TrainResult:
    """A finished run.

    Attributes:
        run_dir: the run folder (``params.json``, ``progress.csv``, policies, videos ...).
        policy: its best policy (``policy_best.pkl``, as :func:`herdemos.load_policy` reads it).
    """

    run_dir: Path
    policy: Policy


def train(
    config: Config | None = None,
    env: str | EnvFactory | None = None,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    logdir: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    quiet: bool = False,
) -> TrainResult:
    """Trains a run, as ``python experiment/train.py`` does, and returns its folder and policy.

    The API runs in this process only: for ``num_cpu`` > 1 use the command line, which starts
    the MPI ranks. Ctrl-C stops after the current cycle with a checkpoint, as on the command
    line, and then raises ``KeyboardInterrupt``. From a thread other than the main one (a
    notebook's or a GUI's worker) it trains too, but signals do not reach it there.

    Args:
        config: the run's configuration, used as given (the command line's per-env table and
            presets are not applied); default ``Config()``.
        env: a registered env id or ``module:Class`` (as ``--env``), or a factory: a function
            that returns a new goal env, for env arguments and wrappers. It is called for every
            env of the run; a factory that takes ``render_mode`` can be filmed
            (``video_interval``). Default: ``config.train.env``.
        env_kwargs: ``gymnasium.make`` keyword arguments for an env id (``--env_kwargs``).
        logdir: the new run's folder (default ``runs/<env>-<timestamp>``).
        resume: a run folder to continue instead; its ``params.json`` is the config (``config``
            may change only ``n_epochs`` and ``video_interval``), and a run made with a factory
            needs it again.
        quiet: no progress bar.

    Returns:
        The run folder and its best policy.

    Raises:
        HerdemosError: a config, env or demo file that does not fit, in one line.
    """
    from herdemos.environment import EnvMaker, factory_name
    from herdemos.experiment import train as command
    from herdemos.parallel import Ranks
    from herdemos.policy import load_policy

    factory = env if callable(env) else None
    if env_kwargs is not None and factory is not None:
        raise HerdemosError("env_kwargs: a factory makes its env itself; pass them to it")
    if resume is not None:
        if isinstance(env, str) or env_kwargs is not None:
            raise HerdemosError(
                f"resume={str(resume)!r}: the run's params.json names its env; pass env only "
                "for a run made with a factory, and no env_kwargs"
            )
        path = Path(resume)
        config, logged = resumed_config(path, config, factory)
    else:
        config = new_config(config or Config(), env, env_kwargs)
        logged = None
        if config.train.num_cpu > 1:
            raise HerdemosError(
                f"num_cpu={config.train.num_cpu}: herdemos.train() runs in one process; for "
                "MPI use python experiment/train.py --num_cpu N"
            )
    make = EnvMaker.of(config.train, factory)
    if factory is not None and resume is None:
        probe = make()  # the env's registered id names the run (folder, play.py's default)
        spec = probe.unwrapped.spec or probe.spec
        probe.close()
        env_id = spec.id if spec is not None else factory_name(factory)
        config = with_overrides(config, {"env": env_id, "env_factory": factory_name(factory)})
        make = EnvMaker.of(config.train, factory)
    ranks = Ranks(None)
    if resume is None:
        path = command.new_run_folder(logdir, config, ranks)
    elif logdir is not None:
        raise HerdemosError("resume and logdir: give one (a resumed run keeps its folder)")
    code = command.start(path, config, logged, ranks, click.echo, quiet=quiet, make=make)
    if code != 0:
        raise KeyboardInterrupt(
            f"training stopped early; resume with herdemos.train(resume={str(path)!r})"
        )
    return TrainResult(run_dir=path, policy=load_policy(path / "policy_best.pkl"))


@dataclass(frozen=True)
class EvaluationResult:
    """A policy's deterministic episodes, seeded ``seed``, ``seed + 1``, ...

    Attributes:
        env_id: the env's id as given, the policy's own, or for a factory its
            ``module:qualname``.
        successes: per episode, whether its last step succeeds (``info["is_success"]``).
        returns: per episode, the sum of the rewards of its steps, as ``play.py`` reports it.
    """

    env_id: str
    successes: tuple[bool, ...]
    returns: tuple[float, ...]

    @property
    def success_rate(self) -> float:
        return sum(self.successes) / len(self.successes)


def evaluate(
    policy: Policy | TrainResult | str | os.PathLike,
    env: str | EnvFactory | None = None,
    *,
    episodes: int = 10,
    seed: int = 0,
) -> EvaluationResult:
    """Runs ``policy``'s deterministic actions on ``episodes`` episodes seeded ``seed``, ``seed +
    1``, ..., the episodes ``play.py POLICY --seed SEED --n_test_rollouts EPISODES`` runs.

    Args:
        policy: a :class:`~herdemos.policy.Policy`, a :class:`TrainResult` (its best policy) or
            the path of a policy file.
        env: a registered env id or ``module:Class`` (as ``play.py --env``), or a function that
            returns a new goal env (the factory given to :func:`train`, with its wrappers).
            Default: the registered id the policy names, with its run's env arguments; a policy
            trained with a factory needs ``env`` (the factory, or an id for the bare env).
        episodes: how many episodes (at least 1).
        seed: the first episode's env seed.

    Raises:
        HerdemosError: a wrong argument, no such policy file or env, or an env whose
            observation, goal or action sizes are not the policy's, in one line.
    """
    from herdemos.environment import EnvMaker, factory_name
    from herdemos.policy import load_policy
    from herdemos.policy_env import env_for_policy, fitting_info, run_train_config
    from herdemos.rollout import PolicyActions, Step, run_episodes

    episodes, seed = whole_number("episodes", episodes, 1), whole_number("seed", seed, 0)
    if isinstance(policy, TrainResult):
        policy = policy.policy
    if isinstance(policy, Policy):
        source = "policy"
    elif isinstance(policy, str | os.PathLike):
        source, policy = str(policy), load_policy(policy)
    else:
        raise HerdemosError(
            f"policy={policy!r}: give a Policy, a TrainResult or a policy file's path"
        )
    if callable(env):
        env_id = factory_name(env)
        maker = EnvMaker(env_id, factory=env)
        made = maker()
        info = fitting_info(policy, source, made, env_id, maker.name)
    elif env is None or (isinstance(env, str) and env.strip()):
        recorded = run_train_config(policy).get("env_factory")
        if env is None and recorded:
            raise HerdemosError(
                f"{source}: its run made its envs with the factory {recorded}; pass env=that "
                "factory, or env='ID' for the bare registered env"
            )
        env_id, made, info = env_for_policy(policy, source, env, flag="env=")
    else:
        raise HerdemosError(f"env={env!r}: give an env id or a function that returns an env")
    returns: list[float] = []

    def add_reward(step: Step) -> None:
        if step.t == 0:
            returns.append(0.0)
        returns[-1] += float(step.rewards[0])

    actions = PolicyActions.exploiting(policy)
    try:
        rollouts = list(run_episodes(made, info, actions, seed, episodes, add_reward))
    finally:
        made.close()
    return EvaluationResult(
        env_id=env_id,
        successes=tuple(bool(r.episodes["info_is_success"][0, -1, 0]) for r in rollouts),
        returns=tuple(returns),
    )


def whole_number(name: str, value: Any, least: int) -> int:
    """``value`` as an int (NumPy integers too), if it is one of at least ``least``.

    Raises:
        HerdemosError: anything else, naming the argument.
    """
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < least:
        raise HerdemosError(f"{name}={value!r}: give a whole number of at least {least}")
    return number


def new_config(config: Config, env: Any, env_kwargs: Mapping[str, Any] | None) -> Config:
    """``config`` with the env id and its arguments, checked as the command line checks it."""
    if isinstance(env, str):
        config = with_overrides(config, {"env": env})
    elif env is not None and not callable(env):
        raise HerdemosError(f"env={env!r}: give an env id or a function that returns an env")
    if env_kwargs is not None:
        config = with_overrides(config, {"env_kwargs": canonical_env_kwargs(dict(env_kwargs))})
    validate(config)
    method_of(config)
    return config


def resumed_config(
    path: Path, config: Config | None, factory: EnvFactory | None
) -> tuple[Config, list[dict[str, float]]]:
    """The resumed run's config (``config`` may raise ``n_epochs``) and its logged rows."""
    from herdemos.environment import factory_name
    from herdemos.experiment.flags import TrainFlags
    from herdemos.experiment.resolve import RESUME_MAY_CHANGE, resume_config
    from herdemos.logger import read_run_progress

    stored = resume_config(path, TrainFlags(), (), factory_given=factory is not None)
    t = stored.train
    recorded = t.env_factory
    if factory is not None and recorded != factory_name(factory):
        raise HerdemosError(
            f"resume={str(path)!r}: the run was trained with "
            + (f"the env factory {recorded}" if recorded else f"--env {stored.train.env}")
            + f", not {factory_name(factory)}"
        )
    if config is not None:
        # What a factory run recorded about its env came from the factory, not the config.
        kept = [key.split(".")[1] for key in RESUME_MAY_CHANGE]
        kept += ["env", "env_factory"] if factory is not None else []
        given = with_overrides(config, {key: getattr(stored.train, key) for key in kept})
        changed = [
            f"{section}.{key}"
            for section, values in given.to_dict().items()
            for key, value in values.items()
            if stored.to_dict()[section][key] != value
        ]
        if changed:
            raise HerdemosError(
                f"resume={str(path)!r}: config changes {', '.join(changed)} of the run's "
                "params.json; a resumed run keeps its configuration (but for n_epochs and "
                "video_interval)"
            )
        t = config.train
        stored = with_overrides(
            stored, {"n_epochs": t.n_epochs, "video_interval": t.video_interval}
        )
    return stored, read_run_progress(path)
