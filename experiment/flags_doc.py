"""Writes docs/flags.md, every train.py flag and config field, from their declarations:

    python -m herdemos.experiment.flags_doc > docs/flags.md

A test checks that the committed page equals this output, so the page cannot drift.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal

import click

from herdemos.config import SECTIONS, Config, config_field, field_type
from herdemos.experiment.config import PRESETS
from herdemos.experiment.flags import FLAGS, Flag, description, env_defaults, value_text

HEADER = """# Flags and config fields

Generated from the declarations by `python -m herdemos.experiment.flags_doc > docs/flags.md`
(flags: `experiment/flags.py`; fields: `config.py`); a test checks that this page
matches them. How to choose a method, the presets and the outputs: [training](training.md).
"""

SOURCES = """Sources of the defaults: *paper* = Nair et al. 2018; *seed* = the original
Overcoming-exploration-from-demos code and README; *baselines* = OpenAI baselines HER, which the
seed forked; *HER paper* = Andrychowicz et al. 2017; *herdemos* = chosen for this library.
"""

SECTION_TITLES = {
    "ddpg": "the learner: networks, optimiser, losses",
    "her": "hindsight relabelling",
    "demo": "demonstrations",
    "train": "the loop, exploration and bookkeeping",
}


def flags_markdown() -> str:
    """The whole page."""
    lines = [HEADER, "## train.py flags", ""]
    lines += [
        "A value given twice takes the later. Precedence: field defaults < the per-env table <",
        "`--preset` < `--method` < flags < `--set`; a flag or `--set` item that contradicts",
        "`--method` is an error. On `--resume`, flags may only repeat the run's `params.json`,",
        "except `--n_epochs` and `--video_interval`.",
        "",
        "| flag | sets | values | default | what it does |",
        "|---|---|---|---|---|",
    ]
    for flag in FLAGS:
        sets = f"`{flag.config}`" if flag.config else ""
        default = default_cell(flag.config) if flag.config else cell(flag.default or "")
        lines.append(
            f"| `--{flag.name}` | {sets} | {values_text(flag)} | {default} | "
            f"{cell(description(flag))} |"
        )
    lines += ["", "## Config fields", "", SOURCES]
    lines += [
        "Each is set with `--set FIELD=VALUE` (or `--set section.FIELD=VALUE`); `none` clears",
        "a field that may be empty. The presets column shows where `--preset` changes a default.",
    ]
    for section in SECTIONS:
        lines += ["", f"### {section}: {SECTION_TITLES[section]}", ""]
        lines += [
            "| field | type | default | source | presets | what it does |",
            "|---|---|---|---|---|---|",
        ]
        for f in dataclasses.fields(getattr(Config(), section)):
            key = f"{section}.{f.name}"
            meta = config_field(key).metadata
            lines.append(
                f"| `{f.name}` | {type_text(key)} | {default_cell(key)} | "
                f"{meta['source']} | {preset_text(key)} | {cell(meta['doc'])} |"
            )
    return "\n".join(lines) + "\n"


def values_text(flag: Flag) -> str:
    """What a flag accepts, in words: ``0 or 1``, ``int >= 1``, ``future, none``."""
    kind = flag.type
    if flag.is_flag:
        return "(a switch)"
    if isinstance(kind, click.Choice):
        return ", ".join(f"`{c}`" for c in kind.choices)
    if isinstance(kind, click.IntRange | click.FloatRange):
        name = "int" if isinstance(kind, click.IntRange) else "float"
        if (kind.min, kind.max) == (0, 1) and name == "int":
            return "0 or 1"
        if kind.max is None:
            return f"{name} >= {kind.min}"
        return f"{name} in [{kind.min}, {kind.max}]"
    if isinstance(kind, click.Path):
        return "folder" if not kind.file_okay else "file"
    if flag.multiple:
        return f"`{flag.metavar}`, repeatable"
    if kind is int:
        return "int"
    return type_text(flag.config) if flag.config else "text"


def type_text(key: str) -> str:
    """A field's type as ``--set`` parses it: ``float or none``, ``0 or 1``, ``future, none``."""
    base, optional = field_type(key)
    if typing.get_origin(base) is Literal:
        text = ", ".join(f"`{a}`" for a in typing.get_args(base))
    elif base is bool:
        text = "0 or 1"
    else:
        text = {int: "int", float: "float", str: "text"}[base]
    return f"{text} or `none`" if optional else text


def default_cell(key: str) -> str:
    """A field's default and the per-env table's changes to it: ```100`; FetchReach `10```."""
    cells = [code(value_text(config_field(key).default))]
    return "; ".join(cells + [f"{env} {code(value)}" for env, value in env_defaults(key)])


def preset_text(key: str) -> str:
    """The presets that change field ``section.name``, with their values: ``original `0.8```."""
    name, default = key.split(".")[1], config_field(key).default
    changed = [(p, s[name]) for p, s in PRESETS.items() if s.get(name, default) != default]
    return "; ".join(f"{preset} {code(value_text(value))}" for preset, value in changed)


def code(text: Any) -> str:
    return f"`{text}`" if text else ""


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    print(flags_markdown(), end="")
