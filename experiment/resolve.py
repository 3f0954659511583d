"""How train.py's command-line flags become a :class:`Config`, for a new run or a resumed one.

Kept apart from the command itself so the precedence rules (defaults < per-env table <
``--preset`` < ``--method`` < flags < ``--set``) and the resume checks can be read and tested
on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from herdemos.bounded_files import read_json_file
from herdemos.config import Config, RetiredOption, field_key, with_overrides
from herdemos.config_checks import canonical_env_kwargs, parse_env_kwargs, validate
from herdemos.experiment.config import ENV_OVERRIDES, PRESETS, env_family, parse_set_options
from herdemos.experiment.flags import FLAG_OF_FIELD, TrainFlags, parse_command_line
from herdemos.methods import METHODS, check_requested, method_of, refuse_contradictions
from herdemos.util import HerdemosError


def explicit_overrides(flags: TrainFlags, set_items: tuple[str, ...]) -> dict[str, Any]:
    """The config changes the user asked for, by full field key: flags, then ``--set`` items
    (which win, on a new run and on a resumed one alike)."""
    explicit = {**flags.overrides(), **parse_set_options(set_items)}
    if "train.env_kwargs" in explicit:  # one spelling, so a resume repeating it is no change
        explicit["train.env_kwargs"] = canonical_env_kwargs(
            parse_env_kwargs(explicit["train.env_kwargs"])
        )
    if explicit.get("train.env_factory") is not None:
        raise HerdemosError(
            "--set env_factory: herdemos.train() records its env factory there; on the command "
            "line use --env and --env_kwargs"
        )
    return explicit


def given_texts(flags: TrainFlags, set_items: tuple[str, ...]) -> dict[str, str]:
    """How the user set each config field, by full field key: ``--seed 3``, ``--set seed=3``
    (the ``--set`` item, when both were given, as it wins)."""
    given = {key: _flag_text(key, value) for key, value in flags.overrides().items()}
    parse_set_options(set_items)  # names a bad item first, so the keys below all exist
    given.update({field_key(item.partition("=")[0].strip()): f"--set {item}" for item in set_items})
    return given


def resolve_config(flags: TrainFlags, set_items: tuple[str, ...]) -> Config:
    """defaults < per-env table < ``--preset`` < ``--method`` < explicit flags < ``--set``."""
    explicit = explicit_overrides(flags, set_items)
    method = flags.get("method")
    if method:
        refuse_contradictions(method, explicit, given_texts(flags, set_items))
    env = explicit.get("train.env", Config().train.env)  # --env, or --set env=...
    config = with_overrides(Config(), {"env": env})
    config = with_overrides(config, ENV_OVERRIDES.get(env_family(env), {}))
    if flags.preset:
        config = with_overrides(config, PRESETS[flags.preset])
    if method:
        config = with_overrides(config, METHODS[method].switches())
    config = with_overrides(config, explicit)
    validate(config)
    if method:
        check_requested(method, config)
    method_of(config)
    return config


def config_from_command_line(args: Sequence[str]) -> Config:
    """The config a new run of ``train.py ARGS`` trains with, resolved as train.py resolves it,
    for code that reads a command line as data (a benchmark suite's flags); nothing is run.

    Raises:
        HerdemosError: a flag train.py would refuse, in one line.
    """
    options = parse_command_line(args)
    return resolve_config(TrainFlags.from_options(options), options["set_items"])


def resume_config(
    logdir: Path, flags: TrainFlags, set_items: tuple[str, ...], factory_given: bool = False
) -> Config:
    """The run's own ``params.json``. Flags, ``--preset`` and ``--method`` may only repeat it,
    except ``--n_epochs``, which sets a new epoch budget (training stops once it is reached), and
    ``--video_interval``, which changes no number of training.
    A run whose envs came from a Python factory resumes only with one (``factory_given``)."""
    params_file = logdir / "params.json"
    try:
        stored = Config.from_dict(read_json_file(params_file))
    except FileNotFoundError:
        if logdir.is_dir():  # a session killed before it wrote params.json trained nothing
            raise HerdemosError(
                f"--resume {logdir}: no params.json here, so no run started in it; start one "
                f"with `python experiment/train.py --logdir {logdir}` and your flags"
            ) from None
        raise HerdemosError(
            f"--resume {logdir}: no params.json here; is this a run folder?"
        ) from None
    except RetiredOption as e:
        raise HerdemosError(f"{params_file}: {e}") from None
    except (ValueError, TypeError, UnicodeDecodeError) as e:  # Refused is a ValueError
        raise HerdemosError(f"{params_file}: unreadable ({e})") from None
    except OSError as e:
        raise HerdemosError(f"{params_file}: unreadable ({e.strerror or e})") from None
    if stored.train.env_factory is not None and not factory_given:
        raise HerdemosError(
            f"--resume {logdir}: its envs came from the Python env factory "
            f"{stored.train.env_factory}; resume it with herdemos.train(env=<that factory>, "
            f"resume={str(logdir)!r})"
        )
    given = given_texts(flags, set_items)
    explicit = explicit_overrides(flags, set_items)
    may_change = {k: explicit.pop(k) for k in RESUME_MAY_CHANGE if k in explicit}
    for key, value in explicit.items():
        _refuse_change(stored, key, value, given[key])
    if flags.preset:
        for key, value in PRESETS[flags.preset].items():
            full = field_key(key)
            if full not in explicit:
                _refuse_change(stored, full, value, f"--preset {flags.preset} (sets {key}={value})")
    method = flags.get("method")
    if method and method_of(stored).name != method:
        raise HerdemosError(
            f"--method {method} conflicts with the run's params.json (method "
            f"{method_of(stored).name}); a resumed run keeps its configuration"
        )
    merged = stored
    if may_change:
        merged = with_overrides(merged, may_change)
    validate(merged)
    method_of(merged)
    return merged


RESUME_MAY_CHANGE = ("train.n_epochs", "train.video_interval")
"""The fields a resumed run may change: its epoch budget, and how often it films."""


def _flag_text(key: str, value: Any) -> str:
    """How the user wrote the flag that sets config field ``key``: ``--bc_loss 1``."""
    shown = int(value) if isinstance(value, bool) else value
    return f"--{FLAG_OF_FIELD[key].name} {shown}"


def _refuse_change(stored: Config, key: str, value: Any, given: str) -> None:
    """Raises if setting ``key`` to ``value`` would change the resumed run's configuration."""
    if with_overrides(stored, {key: value}) != stored:
        section, name = key.split(".")
        old = getattr(getattr(stored, section), name)
        raise HerdemosError(
            f"{given} conflicts with the run's params.json ({name}={old!r}); "
            "a resumed run keeps its configuration"
        )
