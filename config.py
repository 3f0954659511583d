"""The typed run configuration: every hyper-parameter, its default, and where that comes from.

Sources: *paper* = Nair et al. 2018; *seed* = the original Overcoming-exploration-from-demos
code and README; *baselines* = OpenAI baselines HER, which the seed forked; *HER paper* =
Andrychowicz et al. 2017; *herdemos* = chosen here for this library. Each field's source and
description are declared with it (:func:`setting`), and train.py's flag help and docs/flags.md
are generated from them.

The resolved :class:`Config` is written to ``params.json`` in every run's logdir.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import typing
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from herdemos.util import HerdemosError


def setting(default: Any, source: str, doc: str) -> Any:
    """A config field: its default, where that default comes from, and what it does. The
    matching train.py flag's help and docs/flags.md are generated from these."""
    return field(default=default, metadata={"source": source, "doc": doc})


@dataclass(frozen=True)
class DDPGConfig:
    """The learner: networks, optimiser, losses."""

    hidden: int = setting(256, "baselines", "Units per hidden layer of the actor and critic.")
    layers: int = setting(3, "baselines", "Hidden layers of the actor and critic.")
    pi_lr: float = setting(1e-3, "seed/baselines", "Actor Adam learning rate.")
    q_lr: float = setting(1e-3, "seed/baselines", "Critic Adam learning rate.")
    polyak: float = setting(
        0.95, "baselines", "After each cycle: target <- polyak * target + (1 - polyak) * main."
    )
    action_l2: float = setting(
        1.0, "baselines", "Weight of the mean (pi / max_u)^2 penalty in the actor loss."
    )
    batch_size: int = setting(1024, "seed", "Transitions per update, demo rows included.")
    demo_batch_size: int = setting(128, "seed", "Rows of each batch drawn from the demo buffer.")
    gamma: float | None = setting(
        None, "paper/baselines", "Discount factor; none means 1 - 1/T (0.98 for T = 50)."
    )
    clip_return: bool = setting(
        True,
        "baselines",
        "Clip target returns to [r_min/(1-gamma), 0], r_min the lowest step reward.",
    )
    bc_loss: bool = setting(False, "seed", "Add the behaviour-cloning loss on demo rows.")
    q_filter: bool = setting(
        False, "seed/paper", "Clone only where Q(s,a_demo) > Q(s,pi(s)); needs --bc_loss 1."
    )
    # herdemos: the seed's Q-filter compares two values of a critic that is untrained early on,
    # and the actor climbs that critic, so the filter drops most demo rows before the critic
    # can judge them (docs/demo-sources.md#the-q-filter-and-an-untrained-critic).
    q_filter_slack: Literal["none", "td_error"] = setting(
        "none",
        "seed",
        "Q-filter slack: 'td_error' drops a demo action only when Q(s,pi) exceeds Q(s,a_demo) "
        "by more than the critic's TD error on that row; 'none' is the seed's filter.",
    )
    # herdemos: |Q| grows during training while lambda1 stays fixed, so the RL term's pull grows
    # against BC's. After TD3+BC (Fujimoto and Gu 2021), which divides its Q term by the batch's
    # mean |Q|; here the whole RL term (the action penalty too) is divided, never by less than 1.
    rl_scale: Literal["fixed", "mean_abs_q"] = setting(
        "fixed",
        "seed",
        "With BC: 'mean_abs_q' divides the RL actor loss by max(1, the batch's mean |Q(s,pi)|); "
        "'fixed' is the seed's lambda1 alone.",
    )
    bc_only: bool = setting(
        False, "paper", "The actor learns by behaviour cloning alone (the paper's baseline)."
    )
    lambda1: float = setting(0.001, "seed", "Weight of the RL actor loss when BC is on.")
    lambda2: float = setting(0.0078, "seed", "Weight of the (summed) BC loss.")
    # Opt-in from TD3 (Fujimoto et al. 2018): the smaller of two critics' values curbs the
    # overestimation the actor climbs into (benchmarks/actor_gap.py shows the single critic
    # rating off-policy actions far above the actor's own).
    twin_q: bool = setting(
        False,
        "baselines (one critic)",
        "Two critics; targets take the smaller value, the actor follows the first.",
    )
    target_noise: float = setting(
        0.0,
        "baselines (DDPG's target)",
        "Std of Gaussian noise on target actions, a fraction of max_u, clipped at 2.5 std "
        "(TD3 uses 0.2); 0 is DDPG's exact target.",
    )
    clip_obs: float = setting(200.0, "baselines", "Raw o and g are clipped to this first.")
    norm_eps: float = setting(0.01, "baselines", "Lower bound on the normaliser's std.")
    norm_clip: float = setting(5.0, "baselines", "Normalised inputs are clipped to +-norm_clip.")


@dataclass(frozen=True)
class HERConfig:
    """Hindsight relabelling."""

    replay_strategy: Literal["future", "none"] = setting(
        "future", "baselines", "HER strategy; 'none' disables relabelling."
    )
    replay_k: int = setting(
        4, "HER paper/baselines", "Relabelled goals per real goal, for agent and demo rows."
    )


@dataclass(frozen=True)
class DemoConfig:
    """Where demonstrations come from and how they are used."""

    num_demo: int = setting(0, "seed", "Demo episodes in the demo buffer (0: plain HER).")
    demo_file: str | None = setting(
        None,
        "seed",
        "Demo .npz, or a Minari dataset (a local dataset id or a dataset folder); if omitted, "
        "scripted demos are generated and cached.",
    )
    demo_reset_prob: float = setting(
        0.0, "seed (no resets)", "Probability that a training episode starts from a demo state."
    )
    # Demo resets still start from the recorded demos: the images have no simulator state.
    demo_mirror: bool = setting(
        False,
        "seed (no mirror images)",
        "Also put the demos' mirror images in the demo buffer (stacking envs: 8 episodes "
        "per demo; choose planes with --set demo_mirror_planes=x,y).",
    )
    demo_mirror_planes: str = setting(
        "x,y,diagonal",
        "herdemos",
        "The env's mirror planes --demo_mirror uses, comma-separated (x,y: four images).",
    )
    # Demos of another task can have the same sizes (FetchPush's fit FetchPickAndPlace) and
    # would train silently. Files that name no env are accepted on their sizes.
    demo_env_check: bool = setting(
        True,
        "herdemos",
        "Refuse a demo file whose metadata names another env than --env (0: use it anyway).",
    )


@dataclass(frozen=True)
class TrainConfig:
    """The epoch / cycle / batch loop, exploration and bookkeeping."""

    env: str = setting(
        "FetchPickAndPlace-v4",
        "seed",
        "Gymnasium goal env id or module:Class.",
    )
    env_kwargs: str = setting(
        "{}",
        "herdemos",
        'Keyword arguments for gymnasium.make, a JSON object, e.g. \'{"reward_type": '
        '"dense"}\'; resume and play.py make the env with them too.',
    )
    # A factory is Python code, not data: the run records its name so that --resume and
    # play.py, which cannot call it, refuse instead of silently building the env without it.
    env_factory: str | None = setting(
        None,
        "herdemos",
        "The name of the Python env factory herdemos.train() was given (set by the API).",
    )
    n_epochs: int = setting(100, "herdemos", "Epochs to train (may be raised on --resume).")
    n_cycles: int = setting(10, "seed/baselines", "Cycles per epoch.")
    n_batches: int = setting(40, "baselines", "Updates per cycle.")
    rollout_batch_size: int = setting(2, "baselines", "Parallel episodes per cycle.")
    n_test_rollouts: int = setting(10, "baselines", "Deterministic test episodes per epoch.")
    buffer_size: int = setting(1_000_000, "baselines", "Replay capacity in transitions.")
    random_eps: float = setting(
        0.1, "seed README (its code: 0.2)", "Probability of a uniform random action."
    )
    noise_eps: float = setting(0.1, "seed", "Gaussian action noise std, a fraction of max_u.")
    seed: int = setting(0, "herdemos", "Random seed of NumPy, TF and the envs.")
    policy_save_interval: int = setting(
        5, "seed", "Save policy_<epoch>.pkl every N epochs (0: never)."
    )
    checkpoint_interval: int = setting(
        1, "herdemos", "Write a checkpoint every N epochs (0: only at the end)."
    )
    num_cpu: int = setting(1, "baselines", "MPI ranks.")
    video_interval: int = setting(
        0,
        "herdemos",
        "Film one deterministic test episode every N epochs into videos/ and TensorBoard "
        "(0: never).",
    )


@dataclass(frozen=True)
class Config:
    """Everything a run needs; sections keep related fields together."""

    ddpg: DDPGConfig = field(default_factory=DDPGConfig)
    her: HERConfig = field(default_factory=HERConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> Config:
        """Inverse of :meth:`to_dict`. Unknown sections or fields, and values of another type
        than their field's (a hand-edited or damaged ``params.json``), raise ``ValueError``; a
        retired option is dropped if it was unset (None), else raises :class:`RetiredOption`."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object of config sections")
        unknown = set(data) - set(SECTIONS)
        if unknown:
            raise ValueError(f"unknown sections {sorted(unknown)}")
        sections = {}
        for name in SECTIONS:
            values = data.get(name, {})
            if not isinstance(values, dict):
                raise ValueError(f"section {name!r} is not a JSON object")
            values = {k: v for k, v in values.items() if not _unset_retired(f"{name}.{k}", v)}
            hints = typing.get_type_hints(_section_type(name))
            extra = set(values) - set(hints)
            if extra:
                raise ValueError(f"unknown {name} fields {sorted(extra)}")
            typed = {key: _typed_value(f"{name}.{key}", hints[key], v) for key, v in values.items()}
            sections[name] = _section_type(name)(**typed)
        return cls(**sections)


class RetiredOption(ValueError):
    """A stored config sets an option that has been retired (docs/retired.md)."""


def _unset_retired(key: str, value: Any) -> bool:
    """Whether ``key`` is a retired option left unset, which an old ``params.json`` or
    checkpoint holds harmlessly; a set one raises :class:`RetiredOption`."""
    if key not in RETIRED:
        return False
    if value is not None:
        raise RetiredOption(f"{key} = {value!r}: {retired_line(key)}")
    return True


def retired_line(key: str) -> str:
    return (
        f"{key.split('.')[1]} was retired ({RETIRED[key]}); docs/retired.md has the evidence "
        "and the commit that still runs it"
    )


def _typed_value(key: str, hint: Any, value: Any) -> Any:
    """``value`` if it has the field's declared type (ints are taken for floats), else
    ``ValueError`` naming the field."""
    base, optional = _base_type(hint)
    if value is None and optional:
        return None
    if typing.get_origin(base) is Literal:
        if value in typing.get_args(base):
            return value
        raise ValueError(f"{key} = {value!r}: expected one of {typing.get_args(base)}")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if base is float and number:
        try:
            return float(value)
        except OverflowError:  # an integer beyond any float, e.g. 10**400 in a params.json
            raise ValueError(f"{key}: a number too large for a float") from None
    if (base is int and number and isinstance(value, int)) or (
        base in (bool, str) and isinstance(value, base)
    ):
        return value
    raise ValueError(f"{key} = {value!r}: expected a value of type {base.__name__}")


def _base_type(hint: Any) -> tuple[Any, bool]:
    """A field's type without ``| None``, and whether None is allowed: ``(float, True)`` for
    ``float | None``."""
    args = typing.get_args(hint)
    optional = type(None) in args
    return (next(a for a in args if a is not type(None)) if optional else hint), optional


SECTIONS: tuple[str, ...] = ("ddpg", "her", "demo", "train")

RETIRED: dict[str, str] = {
    "her.reward_threshold": "a stricter training-reward distance measured nothing",
    "demo.demo_replay_k": "demo rows are relabelled with replay_k, as in the seed",
}
"""Options removed with their code, by ``section.name``, with why in a few words. Old runs
that left them unset (None) still load and resume."""


def field_section(name: str) -> str:
    """The section that owns a field name (names are unique across sections)."""
    owners = [s for s in SECTIONS if name in _field_names(s)]
    if not owners:
        known = [n for s in SECTIONS for n in _field_names(s)]
        raise HerdemosError(f"--set: unknown config field {name!r}; {_nearest(name, known)}")
    return owners[0]


def _field_names(section: str) -> list[str]:
    return [f.name for f in fields(_section_type(section))]


def _nearest(name: str, known: list[str]) -> str:
    """``did you mean 'n_cycles'?`` for a mistyped name, or where the names are listed."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(repr(c) for c in close)}?"
    return "every field is listed in docs/flags.md"


def _section_type(section: str) -> type:
    return {"ddpg": DDPGConfig, "her": HERConfig, "demo": DemoConfig, "train": TrainConfig}[section]


def config_field(key: str) -> dataclasses.Field:
    """The declaration of field ``section.name``: its default and, in its metadata, the source
    of that default and a description."""
    section, name = key.split(".")
    return next(f for f in fields(_section_type(section)) if f.name == name)


def field_type(key: str) -> tuple[Any, bool]:
    """Field ``section.name``'s type without ``| None``, and whether None is allowed."""
    section, name = key.split(".")
    return _base_type(typing.get_type_hints(_section_type(section))[name])


def field_key(key: str) -> str:
    """The full ``section.name`` of a config field given as ``name`` or ``section.name``.

    Raises:
        HerdemosError: no such section or field, in a line naming ``--set key``.
    """
    retired = [k for k in RETIRED if key in (k, k.split(".")[1])]
    if retired:
        raise HerdemosError(f"--set {key}: {retired_line(retired[0])}")
    section, name = key.split(".", 1) if "." in key else (field_section(key), key)
    if section not in SECTIONS:
        raise HerdemosError(f"--set {key}: unknown section {section!r}; use one of {SECTIONS}")
    if name not in _field_names(section):
        owners = [s for s in SECTIONS if name in _field_names(s)]
        hint = f"it is {owners[0]}.{name}" if owners else _nearest(name, _field_names(section))
        raise HerdemosError(f"--set {key}: {section} has no field {name!r}; {hint}")
    return f"{section}.{name}"


def with_overrides(config: Config, overrides: dict[str, Any]) -> Config:
    """Returns ``config`` with ``{field: value}`` applied (``name`` or ``section.name`` keys).

    Values must already have the field's type: text from the command line is parsed first
    (``experiment.config.parse_set_options``), so a flag's own text (a ``--demo_file`` named
    ``none``) is never reinterpreted.
    """
    sections = {s: getattr(config, s) for s in SECTIONS}
    for key, value in overrides.items():
        section, name = field_key(key).split(".")
        sections[section] = replace(sections[section], **{name: value})
    return Config(**sections)
