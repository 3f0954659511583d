"""Readable labels for suites, generated from their train.py flags so they never drift."""

from __future__ import annotations

from dataclasses import dataclass

OPTION_NAMES = {"demo_reset_prob": "demo resets"}
"""Readable names of the train.py options a label spells out; others keep their own name."""


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


def method_name(flags: tuple[str, ...]) -> str:
    """The training method the flags choose, in the paper's terms (``HER only``, ``BC only``,
    ``demos + BC + Q-filter``, ...), without its settings."""
    parsed = parse_flags(flags)
    if parsed.sets.get("bc_only") in ("1", "true", "True"):
        return "BC only"
    if int(parsed.options.get("num_demo", "0")) <= 0:
        return "HER only"
    bc = parsed.options.get("bc_loss", "0") == "1"
    q_filter = parsed.options.get("q_filter", "0") == "1"
    if bc and q_filter:
        return "demos + BC + Q-filter"
    return "demos + BC (no Q-filter)" if bc else "demos in replay"


def uses_demo_mirror(flags: tuple[str, ...]) -> bool:
    """Whether the flags add the demos' mirror images (``--demo_mirror 1``)."""
    return parse_flags(flags).options.get("demo_mirror", "0") == "1"


def suite_label(flags: tuple[str, ...], demo_noise: float = 0.0, demo_miss: float = 0.0) -> str:
    """``method; demos; settings`` for a legend or a table row, e.g. ``demos + BC + Q-filter;
    100 demos (noise 0.1); demo resets 0.5; --preset stacking``."""
    parsed = parse_flags(flags)
    parts = [method_name(flags)]
    num_demo = int(parsed.options.get("num_demo", "0"))
    if num_demo > 0:
        recorded = [f"noise {demo_noise:g}"] if demo_noise > 0 else []
        recorded += [f"missed grasps {demo_miss:g}"] if demo_miss > 0 else []
        demos = f"{num_demo:,} demos" + (f" ({', '.join(recorded)})" if recorded else "")
        if uses_demo_mirror(flags):
            planes = parsed.sets.get("demo_mirror_planes", "default planes")
            demos += f" + mirror images ({planes})"
        parts.append(demos)
    shown = {"num_demo", "bc_loss", "q_filter", "demo_mirror"}
    parts += [
        f"{OPTION_NAMES.get(name, name)} {value}"
        for name, value in parsed.options.items()
        if name not in shown
    ]
    parts += [f"--preset {parsed.preset}"] if parsed.preset else []
    hidden = ("bc_only", "demo_mirror_planes")
    parts += [f"{key}={value}" for key, value in parsed.sets.items() if key not in hidden]
    return "; ".join(parts)
