"""The checks a checkpoint's bookkeeping passes before any of it is restored.

A checkpoint's JSON metadata is read back into the training loop's counters, the rollout
workers' pending seeds and the generators' states. A damaged or crafted value there (an epoch
that is text, a seed that is a string, a generator NumPy does not have) would be accepted and
crash the run later, after "resuming" was printed. So every value is checked here first, and a
checkpoint that fails is refused in one line, which lets the resume fall back to the older one.
The arrays (buffers, normalisers) are checked by their owners' ``load_state_dict``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})
MAX_SEED = 2**128  # SeedSequence entropy: the seeds a worker draws are 32-bit


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _duration(value: Any) -> bool:
    return _number(value) and value >= 0


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_number(v) for v in value)


def _named_numbers(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and _number(v) for k, v in value.items()
    )


Check = Callable[[Any], bool]
STATE: dict[str, Check] = {
    "epoch": _count,
    "best_success": _number,
    "total_env_steps": _count,
    "elapsed_before": _number,  # a clock set back can make it negative
    "growth_reference": _named_numbers,
}
EPOCH_PROGRESS: dict[str, Check] = {
    "cycle": _count,
    "train_success": _numbers,
    "loss_sums": _named_numbers,
    "n_updates": _count,
    "demo_resets": _count,
    "discarded_episodes": _count,
    "rollout_time": _duration,
    "sample_time": _duration,
    "update_time": _duration,
}


def _check_record(name: str, record: Any, checks: dict[str, Check]) -> None:
    if not isinstance(record, dict):
        raise ValueError(f"{name} is not a JSON object")
    for key, value in record.items():
        if key not in checks:
            raise ValueError(f"{name} has an unknown entry {key!r}")
        if not checks[key](value):
            raise ValueError(f"{name}.{key} = {str(value)[:40]!r} is not a valid value")


def _check_seeds(name: str, seeds: Any, n_envs: int) -> None:
    if not isinstance(seeds, list) or len(seeds) != n_envs:
        raise ValueError(f"{name} must list one seed per env ({n_envs})")
    for seed in seeds:
        if seed is not None and not (_count(seed) and seed < MAX_SEED):
            raise ValueError(f"{name} holds {str(seed)[:40]!r}, not a seed")


def check_generator_state(name: str, state: Any) -> None:
    """Raises ``ValueError`` unless ``state`` is one of NumPy's bit generators' states; it is
    tried on a fresh generator of that kind, never on a live one."""
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if kind not in BIT_GENERATORS:
        raise ValueError(f"{name} is not a NumPy generator state")
    try:
        getattr(np.random, kind)().state = state
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise ValueError(f"{name}: {e}") from None


def check_noise_rng_state(state: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The learner's target-noise generator state as int64, or ``ValueError`` unless it is an
    integer array of ``shape`` (the generator's)."""
    state = np.asarray(state)
    if state.shape != tuple(shape) or state.dtype.kind not in "iu":
        raise ValueError(f"target noise generator state of shape {state.shape}")
    return state.astype(np.int64)


def check_bookkeeping(
    meta: dict[str, Any],
    position: tuple[int, int],
    n_cycles: int,
    n_envs: tuple[int, int],
) -> None:
    """Raises ``ValueError`` naming the first value of a checkpoint's metadata that the
    training loop could not resume from.

    Args:
        meta: the checkpoint's metadata (``save_run_checkpoint`` writes it).
        position: ``(epochs, cycles)`` the checkpoint's folder name says it holds.
        n_cycles: cycles per epoch in the run's config.
        n_envs: how many training and evaluation envs the run has.
    """
    _check_record("state", meta["state"], STATE)
    _check_record("epoch_progress", meta["epoch_progress"], EPOCH_PROGRESS)
    held = (meta["state"].get("epoch", 0), meta["epoch_progress"].get("cycle", 0))
    if held != position:
        raise ValueError(f"it holds epoch and cycle {held}, its name says {position}")
    if held[1] > n_cycles:  # n_cycles: the epoch awaits its evaluation
        raise ValueError(f"cycle {held[1]} is past the {n_cycles} cycles of an epoch")
    _check_seeds("worker_seeds", meta["worker_seeds"], n_envs[0])
    _check_seeds("evaluator_seeds", meta["evaluator_seeds"], n_envs[1])
    check_generator_state("rng", meta["rng"])
    for key, count in (("envs", n_envs[0]), ("eval_envs", n_envs[1])):
        if not isinstance(meta[key], list) or len(meta[key]) != count:
            raise ValueError(f"{key} must hold one generator state per env ({count})")
        for state in meta[key]:
            check_generator_state(key, state)
