"""The env-free checks of a resolved :class:`herdemos.config.Config`: ranges, and options that
need another. The method's switches are checked in :mod:`herdemos.methods`, and everything that
needs the env in :mod:`herdemos.env_checks`."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from herdemos.config import Config, DemoConfig
from herdemos.util import HerdemosError


def validate(config: Config) -> None:
    """Rejects out-of-range values and options that need another, in a line naming the flag.

    The switches that choose the method are combined, and checked, in :mod:`herdemos.methods`;
    the checks against the env are ``env_checks.check_against_env``.
    """
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
    if demo.num_demo < 0:
        raise HerdemosError("--num_demo must be >= 0")
    if demo.demo_file is not None and not demo.demo_file.strip():
        raise HerdemosError("--demo_file: empty path (omit the flag for scripted demos)")
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
    if t.video_interval < 0:
        raise HerdemosError("--video_interval must be >= 0")
    parse_env_kwargs(t.env_kwargs)


def parse_env_kwargs(text: str) -> dict[str, Any]:
    """The env's ``gymnasium.make`` keyword arguments from their JSON text (``--env_kwargs``).

    Raises:
        HerdemosError: not a JSON object, in one line naming the flag.
    """
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise HerdemosError(f"--env_kwargs {text}: not JSON ({e})") from None
    if not isinstance(value, dict):
        raise HerdemosError(
            f'--env_kwargs {text}: expected a JSON object, e.g. \'{{"reward_type": "dense"}}\''
        )
    return value


def canonical_env_kwargs(kwargs: dict[str, Any]) -> str:
    """Env keyword arguments as ``--env_kwargs`` text in one spelling (sorted keys), so that a
    resumed run given the same arguments written differently is not refused as a change."""
    return json.dumps(kwargs, sort_keys=True)
