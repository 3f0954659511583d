"""Typed run configuration: every hyper-parameter, its default, and where the default comes from.

Sources: *paper* = Nair et al. 2018; *seed* = the original Overcoming-exploration-from-demos
code and README; *baselines* = OpenAI baselines HER, which the seed forked; *herdemos* = chosen
here for this library (the reason is given).

The resolved :class:`Config` is written to ``params.json`` in every run's logdir.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from herdemos.util import HerdemosError


@dataclass(frozen=True)
class DDPGConfig:
    """The learner: networks, optimiser, losses."""

    hidden: int = 256  # baselines: units per hidden layer
    layers: int = 3  # baselines: hidden layers in actor and critic
    pi_lr: float = 1e-3  # seed/baselines: actor Adam learning rate
    q_lr: float = 1e-3  # seed/baselines: critic Adam learning rate
    polyak: float = 0.95  # baselines: target <- polyak * target + (1 - polyak) * main
    action_l2: float = 1.0  # baselines: weight of the mean (pi / max_u)^2 penalty
    batch_size: int = 1024  # seed: transitions per update, demo rows included
    demo_batch_size: int = 128  # seed: rows of each batch drawn from the demo buffer
    gamma: float | None = None  # paper/baselines: None means 1 - 1/T (0.98 for T = 50)
    clip_return: bool = True  # baselines: clip targets to [r_min/(1-gamma), 0] (r_min -1 there)
    bc_loss: bool = False  # seed: add the behaviour-cloning loss on demo rows
    q_filter: bool = False  # seed/paper: clone only where Q(s, a_demo) > Q(s, pi(s))
    bc_only: bool = False  # paper's baseline: the actor learns by behaviour cloning alone
    lambda1: float = 0.001  # seed: weight of the RL actor loss when BC is on
    lambda2: float = 0.0078  # seed: weight of the (summed) BC loss
    # herdemos, opt-in from TD3 (Fujimoto et al. 2018): the critic's target takes the smaller of
    # two critics' values, which curbs the overestimation the actor climbs into. benchmarks/
    # actor_gap.py measured the single critic rating off-policy actions far above the actor's.
    twin_q: bool = False
    # TD3's target policy smoothing: Gaussian noise of this std (fraction of max_u), clipped at
    # 2.5 std as in TD3 (0.2 clipped at 0.5), on the target action; 0 is DDPG's exact target.
    target_noise: float = 0.0
    clip_obs: float = 200.0  # baselines: raw o and g are clipped to this before normalising
    norm_eps: float = 0.01  # baselines: lower bound on the normaliser's std
    norm_clip: float = 5.0  # baselines: normalised inputs are clipped to +-norm_clip


@dataclass(frozen=True)
class HERConfig:
    """Hindsight relabelling."""

    replay_strategy: Literal["future", "none"] = "future"  # baselines: 'future' strategy
    replay_k: int = 4  # HER paper/baselines: 4 relabelled goals per real goal
    # herdemos: success distance (m) behind the training rewards; None keeps the env's own (5 cm
    # for Fetch). Tighter asks the learner for precise placement while tests still count
    # success at the env's distance; needs an env with a `distance_threshold` attribute.
    reward_threshold: float | None = None


@dataclass(frozen=True)
class DemoConfig:
    """Where demonstrations come from and how they are used."""

    num_demo: int = 0  # seed: demo episodes loaded into R_D (0 = plain HER)
    demo_file: str | None = None  # seed: None means generate/cache scripted demos for the env
    demo_reset_prob: float = 0.0  # paper (resets to demo states): off by default
    # herdemos: HER ratio for demo rows; None = her.replay_k, as in the seed. 0 keeps each demo's
    # own goal, so the BC loss clones the demonstrator on the task it actually solved.
    demo_replay_k: int | None = None
    # herdemos: add the demos' mirror images (the env's reflection symmetries) to the demo
    # buffer, eight episodes per demo on the stacking envs (see herdemos.symmetry). Demo resets
    # still start from the recorded demos: the images have no simulator state.
    demo_mirror: bool = False
    # herdemos: the env's mirror planes --demo_mirror uses, comma-separated; the stacking envs
    # have x, y and diagonal (eight images of each demo), "x,y" gives four.
    demo_mirror_planes: str = "x,y,diagonal"
    # herdemos: refuse a demo file whose metadata names another env than --env. Demos of another
    # task can have the same sizes (FetchPush's fit FetchPickAndPlace) and would train silently;
    # 0 uses them anyway. Files that name no env are accepted on their sizes.
    demo_env_check: bool = True


@dataclass(frozen=True)
class TrainConfig:
    """The epoch / cycle / batch loop, exploration and bookkeeping."""

    env: str = "FetchPickAndPlace-v4"  # seed: the task its README reports
    n_epochs: int = 100  # herdemos: ~100k env steps, about 20 minutes on 2 cores
    n_cycles: int = 10  # seed/baselines (FetchReach): cycles per epoch
    n_batches: int = 40  # baselines: updates per cycle
    rollout_batch_size: int = 2  # baselines: parallel episodes per cycle
    n_test_rollouts: int = 10  # baselines: deterministic evaluation episodes per epoch
    buffer_size: int = 1_000_000  # baselines: replay capacity in transitions
    random_eps: float = 0.1  # seed README (its code used 0.2): probability of a random action
    noise_eps: float = 0.1  # seed: Gaussian action noise std, as a fraction of max_u
    seed: int = 0  # herdemos: base seed for NumPy, TF and the envs
    policy_save_interval: int = 5  # seed: save policy_{epoch}.pkl every this many epochs
    checkpoint_interval: int = 1  # herdemos: checkpoint every N epochs (0: only at the end)
    num_cpu: int = 1  # baselines: MPI ranks


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
        than their field's (a hand-edited or damaged ``params.json``), raise ``ValueError``."""
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
            hints = typing.get_type_hints(_section_type(name))
            extra = set(values) - set(hints)
            if extra:
                raise ValueError(f"unknown {name} fields {sorted(extra)}")
            typed = {key: _typed_value(f"{name}.{key}", hints[key], v) for key, v in values.items()}
            sections[name] = _section_type(name)(**typed)
        return cls(**sections)


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
# herdemos' stacking settings, measured on FetchStack2-v1 (benchmarks/results/stack2v1-*.json):
# the original preset, with the targets moving faster (polyak 0.6 per cycle of 40 updates, about
# 0.013 per update) and Gaussian exploration noise only. With random_eps 0.2, a uniform random
# action (a 5 cm jump, half of them opening the gripper) every 5 steps wrecks nearly every
# 100-step training episode, so the critic never sees the actor's own towers.
PRESETS["stacking"] = {**PRESETS["original"], "polyak": 0.6, "random_eps": 0.0}
# The stacking settings with TD3's critic (twin critics, target noise 0.2): on FetchStack2-Step-v1
# the mean of the epoch 160-230 policies succeeds on 0.96 of 200 fresh episodes, against 0.90 with
# one critic (benchmarks/results/stack2v1-step-tuned-noisy0.1-td3-eval.json), and on
# WAMStack2-Step-v1 0.97 against 0.80 (wam-stack2v1-step-tuned-noisy0.1-td3-eval.json). Each update
# costs about 1.5 times as much, and the sparse-reward WAMStack2 and Stack3 did not gain, so it is
# a separate preset.
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


def field_section(name: str) -> str:
    """The section that owns a field name (names are unique across sections)."""
    owners = [s for s in SECTIONS if name in {f.name for f in fields(_section_type(s))}]
    if not owners:
        known = sorted(f.name for s in SECTIONS for f in fields(_section_type(s)))
        raise HerdemosError(f"--set: unknown config field {name!r}; known fields: {known}")
    return owners[0]


def _section_type(section: str) -> type:
    return {"ddpg": DDPGConfig, "her": HERConfig, "demo": DemoConfig, "train": TrainConfig}[section]


def _parse_value(section: str, name: str, text: str) -> Any:
    """Parses ``text`` into the field's declared type, with a clear error on mismatch."""
    hints = typing.get_type_hints(_section_type(section))
    base, optional = _base_type(hints[name])
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


def field_key(key: str) -> str:
    """The full ``section.name`` of a config field given as ``name`` or ``section.name``.

    Raises:
        HerdemosError: no such section or field, in a line naming ``--set key``.
    """
    section, name = key.split(".", 1) if "." in key else (field_section(key), key)
    if section not in SECTIONS:
        raise HerdemosError(f"--set {key}: unknown section {section!r}; use one of {SECTIONS}")
    if name not in {f.name for f in fields(_section_type(section))}:
        raise HerdemosError(f"--set {key}: {section} has no field {name!r}")
    return f"{section}.{name}"


def with_overrides(config: Config, overrides: dict[str, Any]) -> Config:
    """Returns ``config`` with ``{field: value}`` applied (``name`` or ``section.name`` keys).

    Values must already have the field's type: text from the command line goes through
    :func:`parse_set_options` first, so a flag's own text (a ``--demo_file`` named ``none``)
    is never reinterpreted.
    """
    sections = {s: getattr(config, s) for s in SECTIONS}
    for key, value in overrides.items():
        section, name = field_key(key).split(".")
        sections[section] = replace(sections[section], **{name: value})
    return Config(**sections)


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


def validate(config: Config) -> None:
    """Rejects meaningless or out-of-range combinations with a message naming the flag."""
    d, demo, t = config.ddpg, config.demo, config.train
    for section in (d, config.her, demo, t):
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise HerdemosError(f"{f.name}={value}: must be a finite number")
    if demo.demo_file is not None and demo.num_demo <= 0:
        raise HerdemosError(
            f"--demo_file {demo.demo_file} needs --num_demo N (N > 0): "
            "without it no demonstration is loaded"
        )
    if d.q_filter and not d.bc_loss:
        raise HerdemosError(
            "--q_filter 1 needs --bc_loss 1: the Q-filter only decides where BC applies"
        )
    if d.bc_only and (d.bc_loss or d.q_filter):
        raise HerdemosError(
            "bc_only replaces the RL actor loss: use it without --bc_loss/--q_filter"
        )
    if d.bc_only and demo.num_demo <= 0:
        raise HerdemosError("bc_only needs demonstrations: pass --num_demo N (N > 0)")
    if d.bc_loss and demo.num_demo <= 0:
        raise HerdemosError("--bc_loss 1 needs demonstrations: pass --num_demo N (N > 0)")
    if demo.demo_reset_prob > 0 and demo.num_demo <= 0:
        raise HerdemosError("--demo_reset_prob > 0 needs demonstrations: pass --num_demo N")
    if demo.demo_mirror and demo.num_demo <= 0:
        raise HerdemosError("--demo_mirror 1 needs demonstrations: pass --num_demo N")
    if demo.demo_mirror_planes != DemoConfig.demo_mirror_planes and not demo.demo_mirror:
        raise HerdemosError(
            f"--set demo_mirror_planes={demo.demo_mirror_planes} needs --demo_mirror 1"
        )
    if not 0.0 <= demo.demo_reset_prob <= 1.0:
        raise HerdemosError("--demo_reset_prob must lie in [0, 1]")
    if demo.demo_replay_k is not None and demo.demo_replay_k < 0:
        raise HerdemosError("demo_replay_k must be >= 0 (0: demo rows keep their own goals)")
    if demo.num_demo < 0:
        raise HerdemosError("--num_demo must be >= 0")
    if demo.demo_file is not None and not demo.demo_file.strip():
        raise HerdemosError("--demo_file: empty path (omit the flag for scripted demos)")
    threshold = config.her.reward_threshold
    if threshold is not None and not threshold > 0:
        raise HerdemosError(f"--set reward_threshold={threshold}: must be > 0 (metres)")
    if demo.num_demo > 0 and not 0 < d.demo_batch_size < d.batch_size:
        raise HerdemosError(
            f"demo_batch_size ({d.demo_batch_size}) must lie strictly between 0 and "
            f"batch_size ({d.batch_size})"
        )
    for name in ("n_epochs", "n_cycles", "rollout_batch_size", "n_test_rollouts", "num_cpu"):
        if getattr(t, name) < 1:
            raise HerdemosError(f"--{name} must be >= 1")
    if t.n_batches < 1 or d.batch_size < 1:
        raise HerdemosError("n_batches and batch_size must be >= 1")
    if d.hidden < 1 or d.layers < 1 or d.pi_lr <= 0 or d.q_lr <= 0:
        raise HerdemosError("hidden and layers must be >= 1, and pi_lr and q_lr > 0")
    if t.buffer_size < 1:
        raise HerdemosError("buffer_size must be >= 1 (transitions)")
    if not (d.clip_obs > 0 and d.norm_eps > 0 and d.norm_clip > 0):
        raise HerdemosError("clip_obs, norm_eps and norm_clip must be > 0")
    if min(d.action_l2, d.lambda1, d.lambda2) < 0:
        raise HerdemosError("action_l2, lambda1 and lambda2 must be >= 0 (they weight losses)")
    if not 0.0 <= d.target_noise <= 1.0:
        raise HerdemosError("target_noise must lie in [0, 1] (a fraction of max_u)")
    if not 0.0 <= d.polyak <= 1.0:
        raise HerdemosError("polyak must lie in [0, 1]")
    if t.seed < 0:
        raise HerdemosError("--seed must be >= 0")
    if config.her.replay_k < 1:
        raise HerdemosError("replay_k must be >= 1")
    if t.policy_save_interval < 0 or t.checkpoint_interval < 0:
        raise HerdemosError("policy_save_interval and checkpoint_interval must be >= 0")
    if not (0.0 <= t.random_eps <= 1.0 and t.noise_eps >= 0.0):
        raise HerdemosError("random_eps must lie in [0, 1] and noise_eps must be >= 0")
    if d.gamma is not None and not 0.0 < d.gamma < 1.0:
        raise HerdemosError("gamma must lie in (0, 1)")


def method_label(params: dict[str, Any]) -> str:
    """A short human name for the method a ``params.json`` describes, for plot legends."""
    ddpg, demo, her = params.get("ddpg", {}), params.get("demo", {}), params.get("her", {})
    if ddpg.get("bc_only"):
        label = "BC only"
    elif demo.get("num_demo", 0) <= 0:
        label = "HER only" if her.get("replay_strategy", "future") != "none" else "DDPG only"
    elif ddpg.get("bc_loss") and ddpg.get("q_filter"):
        label = "demos + BC + Q-filter"
    elif ddpg.get("bc_loss"):
        label = "demos + BC"
    else:
        label = "demos in replay"
    if demo.get("demo_mirror"):
        planes = demo.get("demo_mirror_planes", DemoConfig.demo_mirror_planes)
        label += f" + mirrored demos ({planes})"
    if demo.get("demo_reset_prob", 0) > 0:
        label += f" + demo resets ({demo['demo_reset_prob']:g})"
    return label
