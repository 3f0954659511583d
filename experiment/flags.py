"""Every train.py flag, declared once.

:data:`FLAGS` is the table: train.py's click options, its ``--help``, :class:`TrainFlags` and
docs/flags.md (``python -m herdemos.experiment.flags_doc``) are all generated from it. A flag
that sets a config field takes its help and default from that field's declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from herdemos.config import config_field, field_type
from herdemos.experiment.config import ENV_OVERRIDES, PRESETS
from herdemos.methods import METHODS, method_help
from herdemos.util import HerdemosError


@dataclass(frozen=True)
class Flag:
    """One train.py flag.

    Attributes:
        name: the flag without its dashes (``bc_loss`` is ``--bc_loss``).
        config: the config field it sets (``ddpg.bc_loss``); None for the flags below the
            config flags, which choose a bundle of fields or steer the command.
        type: its click type, with the range train.py accepts.
        help: what it does; None takes the config field's description.
        default: what happens when it is not given, for flags without a config field.
        dest: the parameter name, when it differs from ``name``.
        multiple: the flag may be repeated.
        metavar: the value's name in ``--help``.
        is_flag: an on/off switch without a value.
    """

    name: str
    config: str | None = None
    type: Any = None
    help: str | None = None
    default: str | None = None
    dest: str | None = None
    multiple: bool = False
    metavar: str | None = None
    is_flag: bool = False

    @property
    def param(self) -> str:
        return self.dest or self.name


SWITCH = click.IntRange(0, 1)  # the seed's 0/1 flags, bools in the config


FLAGS: tuple[Flag, ...] = (
    Flag("env", "train.env"),
    Flag("env_kwargs", "train.env_kwargs", str, metavar="JSON"),
    Flag(
        "logdir",
        type=click.Path(file_okay=False),
        help="Run folder; an existing run is never overwritten.",
        default="runs/<env>-<timestamp>",
    ),
    Flag(
        "resume",
        type=click.Path(file_okay=False),
        help="Continue the run in this folder from its last checkpoint.",
    ),
    Flag("n_epochs", "train.n_epochs", click.IntRange(min=1)),
    Flag("seed", "train.seed", int),
    Flag(
        "method",
        type=click.Choice(list(METHODS)),
        help=method_help(),
    ),
    Flag("num_demo", "demo.num_demo", click.IntRange(min=0)),
    Flag("demo_file", "demo.demo_file", click.Path()),
    Flag("bc_loss", "ddpg.bc_loss", SWITCH),
    Flag("q_filter", "ddpg.q_filter", SWITCH),
    Flag("demo_reset_prob", "demo.demo_reset_prob", click.FloatRange(0, 1)),
    Flag("demo_mirror", "demo.demo_mirror", SWITCH),
    Flag("replay_strategy", "her.replay_strategy", click.Choice(["future", "none"])),
    Flag("clip_return", "ddpg.clip_return", SWITCH),
    Flag("policy_save_interval", "train.policy_save_interval", click.IntRange(min=0)),
    Flag("num_cpu", "train.num_cpu", click.IntRange(min=1)),
    Flag("video_interval", "train.video_interval", click.IntRange(min=0)),
    Flag(
        "preset",
        type=click.Choice(sorted(PRESETS)),
        help="A named bundle of --set items: 'original' is the original project's Fetch config, "
        "'stacking' herdemos' settings for the stacking envs, 'stacking-td3' those with TD3's "
        "twin critics and target noise. --set items override it.",
    ),
    Flag(
        "set",
        dest="set_items",
        multiple=True,
        metavar="FIELD=VALUE",
        help="Set any config field, e.g. --set n_cycles=10 --set ddpg.polyak=0.9 "
        "(every field: docs/flags.md).",
    ),
    Flag("quiet", is_flag=True, help="No progress bar."),
    Flag(
        "stop_file",
        type=click.Path(dir_okay=False),
        help="Stop after the current cycle, with a checkpoint, once this file exists (for a "
        "hand-written mpirun or a job scheduler, where Ctrl-C would abort the ranks).",
    ),
)

FLAG_OF_FIELD: dict[str, Flag] = {f.config: f for f in FLAGS if f.config}
"""The flag that sets each config field that has one, by ``section.name``."""

SETTING_FLAGS: tuple[str, ...] = (*(f.name for f in FLAGS if f.config), "method", "preset")
"""The flags that choose the configuration (:class:`TrainFlags`); the rest steer the command."""


def flag_help(flag: Flag) -> str:
    """The flag's ``--help`` text, ending in its default."""
    default = default_text(flag.config) if flag.config else flag.default
    return f"{description(flag)}  [default: {default}]" if default else description(flag)


def description(flag: Flag) -> str:
    """What the flag does: its own help, or else its config field's description."""
    if flag.help is not None or flag.config is None:
        return str(flag.help)
    return config_field(flag.config).metadata["doc"]


def default_text(key: str) -> str:
    """A config field's default as a user types it, with the envs whose table entry changes
    it: ``100; FetchReach 10``."""
    values = [value_text(config_field(key).default)]
    values += [f"{env} {value}" for env, value in env_defaults(key)]
    return "; ".join(values)


def env_defaults(key: str) -> list[tuple[str, str]]:
    """The per-env table's values for field ``section.name``: ``[("FetchReach", "10")]``."""
    name = key.split(".")[1]
    return [(env, value_text(o[name])) for env, o in ENV_OVERRIDES.items() if name in o]


def value_text(value: Any) -> str:
    """A config value as a flag or ``--set`` takes it: ``1`` for True, ``none`` for None."""
    if isinstance(value, bool):
        return str(int(value))
    return "none" if value is None else str(value)


def flag_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorates a click command with every flag of :data:`FLAGS`, in the table's order. Values
    not given arrive as None (or ``()``, ``False``), so a default never hides a choice."""
    for flag in reversed(FLAGS):
        extra: dict[str, Any] = {"type": flag.type, "default": None}
        if flag.is_flag:
            extra = {"is_flag": True, "default": False}
        if flag.multiple:
            extra = {**extra, "multiple": True, "default": ()}
        command = click.option(
            f"--{flag.name}",
            flag.param,
            help=flag_help(flag),
            metavar=flag.metavar,
            **extra,
        )(command)
    return command


def parse_command_line(args: Sequence[str]) -> dict[str, Any]:
    """train.py's parameters from its command line (without the program), parsed and
    range-checked by the same click options train.py has, without running anything; what is
    not given is None, as in the command.

    Raises:
        HerdemosError: a flag or value click refuses, in click's words.
    """
    command = click.command("train.py")(flag_options(lambda **options: None))
    try:
        return dict(command.make_context("train.py", list(args)).params)
    except click.ClickException as e:
        raise HerdemosError(e.format_message()) from None


class TrainFlags:
    """The config-choosing flags as given on the command line; a flag not given is absent.

    Keeping "not given" apart from a default lets the precedence in
    ``resolve.resolve_config`` work and lets ``--resume`` tell a repeated flag from a change.
    """

    def __init__(self, **given: Any) -> None:
        unknown = set(given) - set(SETTING_FLAGS)
        if unknown:
            raise TypeError(f"not a config-choosing flag: {sorted(unknown)}")
        self.given: dict[str, Any] = {k: v for k, v in given.items() if v is not None}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TrainFlags:
        """The config-choosing flags among a click command's parameters."""
        return cls(**{name: options.get(name) for name in SETTING_FLAGS})

    def with_given(self, **more: Any) -> TrainFlags:
        return TrainFlags(**{**self.given, **more})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrainFlags) and self.given == other.given

    def __repr__(self) -> str:
        return f"TrainFlags({self.given})"

    @property
    def preset(self) -> str | None:
        return self.given.get("preset")

    def get(self, name: str) -> Any:
        """The value of flag ``name`` (None: not given)."""
        return self.given.get(name)

    def overrides(self) -> dict[str, Any]:
        """Config field -> value for every config flag given, e.g. ``{"ddpg.bc_loss": True}``
        (a 0/1 flag becomes the bool its field holds)."""
        out = {}
        for flag in FLAGS:
            if flag.config and flag.name in self.given:
                value = self.given[flag.name]
                out[flag.config] = bool(value) if field_type(flag.config)[0] is bool else value
        return out
