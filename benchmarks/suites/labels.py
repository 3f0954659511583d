"""Readable labels for suites, generated from their train.py flags so they never drift.

The method in a label is the one :mod:`herdemos.methods` names for the config train.py
resolves from the flags, so ``--method bc`` and ``--set bc_only=1`` read alike and no second
copy of the method rules lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

from herdemos.config import Config
from herdemos.data_generation.controllers import DEFAULT_STYLE
from herdemos.experiment.resolve import config_from_command_line
from herdemos.methods import method_of
from herdemos.util import HerdemosError

OPTION_NAMES = {"demo_reset_prob": "demo resets"}
"""Readable names of the train.py options a label spells out; others keep their own name."""
SPELLED_OUT = frozenset(
    {"method", "num_demo", "bc_loss", "q_filter", "bc_only", "demo_mirror", "demo_mirror_planes"}
)
"""Flags and ``--set`` fields that the method and demo parts of a label already say."""


@dataclass(frozen=True)
class ParsedFlags:
    """A suite's train.py flags as data: ``--name value`` options, ``--set key=value``
    overrides and the preset, each keyed without its dashes."""

    options: dict[str, str]
    sets: dict[str, str]
    preset: str | None


def parse_flags(flags: tuple[str, ...]) -> ParsedFlags:
    """Splits ``("--num_demo", "100", "--set", "gamma=0.98", ...)`` into its parts.

    Every suite flag takes exactly one value, so the flags read as pairs; a later occurrence of
    an option wins, as it does on train.py's command line.

    Raises:
        ValueError: the flags do not come in ``--name value`` pairs.
    """
    if len(flags) % 2 or not all(name.startswith("--") for name in flags[::2]):
        raise ValueError(f"suite flags must be --name value pairs: {flags}")
    options: dict[str, str] = {}
    sets: dict[str, str] = {}
    preset = None
    for name, value in zip(flags[::2], flags[1::2], strict=True):
        if name == "--set":
            key, _, setting = value.partition("=")
            sets[key] = setting
        elif name == "--preset":
            preset = value
        else:
            options[name.removeprefix("--")] = value
    return ParsedFlags(options, sets, preset)


def suite_config(env: str, flags: tuple[str, ...]) -> Config:
    """The config train.py resolves from ``--env env`` and a suite's flags: what each of its
    seeds trains with, but for the seed and the runner's own flags (epochs, demo file, saving).

    Raises:
        HerdemosError: train.py would refuse the flags, in one line naming them.
    """
    try:
        return config_from_command_line(("--env", env, *flags))
    except HerdemosError as e:
        raise HerdemosError(f"suite flags {' '.join(flags)}: {e}") from None


def suite_label(
    env: str,
    flags: tuple[str, ...],
    demo_noise: float = 0.0,
    demo_miss: float = 0.0,
    demo_style: str = DEFAULT_STYLE,
) -> str:
    """``method; demos; settings`` for a legend or a table row, e.g. ``demos + BC + Q-filter;
    100 demos (noise 0.1); demo resets 0.5; --preset stacking``. The method is
    :mod:`herdemos.methods`' name for the config train.py resolves from the flags."""
    config = suite_config(env, flags)
    parsed = parse_flags(flags)
    parts = [method_of(config).label]
    if config.demo.num_demo > 0:
        recorded = [f"{demo_style} demonstrator"] if demo_style != DEFAULT_STYLE else []
        recorded += [f"noise {demo_noise:g}"] if demo_noise > 0 else []
        recorded += [f"missed grasps {demo_miss:g}"] if demo_miss > 0 else []
        demos = f"{config.demo.num_demo:,} demos" + (
            f" ({', '.join(recorded)})" if recorded else ""
        )
        if config.demo.demo_mirror:
            demos += f" + mirror images ({config.demo.demo_mirror_planes})"
        parts.append(demos)
    parts += [
        f"{OPTION_NAMES.get(name, name)} {value}"
        for name, value in parsed.options.items()
        if name not in SPELLED_OUT
    ]
    parts += [f"--preset {parsed.preset}"] if parsed.preset else []
    parts += [
        f"{key}={value}"
        for key, value in parsed.sets.items()
        if key.rpartition(".")[2] not in SPELLED_OUT
    ]
    return "; ".join(parts)
