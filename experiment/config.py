"""The experiment side of the configuration: named presets, the per-env table, and ``--set``
parsing. The config sections themselves, and their defaults, are declared in the core's
:mod:`herdemos.config`."""

from __future__ import annotations

import typing
from typing import Any, Literal

from herdemos.config import field_key, field_type
from herdemos.util import HerdemosError

# Named presets, applied after the per-env table and before explicit flags (--preset NAME).
PRESETS: dict[str, dict[str, Any]] = {
    # The original project's final experiment/config.py for the Fetch tasks, exactly: one
    # episode per cycle, 20 cycles of 40 updates (800 updates per 1,000 env steps, twice
    # herdemos' ratio), polyak 0.8 and random_eps 0.2.
    "original": {
        "n_cycles": 20,
        "rollout_batch_size": 1,
        "n_batches": 40,
        "batch_size": 1024,
        "demo_batch_size": 128,
        "polyak": 0.8,
        "random_eps": 0.2,
        "noise_eps": 0.1,
        "pi_lr": 1e-3,
        "q_lr": 1e-3,
        "n_test_rollouts": 10,
    },
}
# herdemos' stacking settings: the original preset with faster-moving targets and Gaussian
# exploration noise only, since a uniform random action every few steps wrecks long stacking
# episodes (docs/training.md#presets has the evidence).
PRESETS["stacking"] = {**PRESETS["original"], "polyak": 0.6, "random_eps": 0.0}
# The stacking settings with TD3's critic (twin critics, target noise 0.2). Each update costs
# more and not every stacking task gains, so it is a separate preset.
PRESETS["stacking-td3"] = {**PRESETS["stacking"], "twin_q": True, "target_noise": 0.2}

# Per-env overrides, keyed by the env id's name before "-v" (one table, applied before flags).
ENV_OVERRIDES: dict[str, dict[str, Any]] = {
    # baselines uses n_cycles=10 for FetchReach; it is solved in a few epochs.
    "FetchReach": {"n_epochs": 10},
    # herdemos: Push and PickAndPlace want many more epochs without demos; keep the default.
}


def env_family(env_id: str) -> str:
    """``'FetchPush-v4' -> 'FetchPush'``, ``'pkg.mod:Cls' -> 'pkg.mod:Cls'``."""
    return env_id.split("-v")[0] if "-v" in env_id else env_id


def _parse_value(section: str, name: str, text: str) -> Any:
    """Parses ``text`` into the field's declared type, with a clear error on mismatch."""
    base, optional = field_type(f"{section}.{name}")
    if optional and text.lower() in ("none", "null", ""):
        return None
    if typing.get_origin(base) is Literal:
        if text not in typing.get_args(base):
            raise HerdemosError(f"--set {name}={text}: expected one of {typing.get_args(base)}")
        return text
    try:
        if base is bool:
            if text.lower() in ("1", "true", "yes"):
                return True
            if text.lower() in ("0", "false", "no"):
                return False
            raise ValueError(text)
        if base is int:
            return int(text.replace("_", ""))
        if base is float:
            return float(text)
        return str(text)
    except ValueError:
        raise HerdemosError(
            f"--set {name}={text}: expected a value of type {base.__name__}"
        ) from None


def parse_set_options(items: tuple[str, ...]) -> dict[str, Any]:
    """Turns ``('n_cycles=10', 'ddpg.polyak=0.9')`` into ``{'train.n_cycles': 10,
    'ddpg.polyak': 0.9}``: full field keys, values parsed to the field's type.

    Raises:
        HerdemosError: a malformed item, unknown field or unparsable value, naming it.
    """
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise HerdemosError(f"--set {item!r}: expected FIELD=VALUE, e.g. --set n_cycles=10")
        full = field_key(key.strip())
        section, name = full.split(".")
        parsed[full] = _parse_value(section, name, value.strip())
    return parsed
