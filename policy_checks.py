"""The checks a policy file's contents pass before they become a :class:`~herdemos.policy.Policy`.

Beyond the shapes fitting together, a policy must act with finite numbers on every input: its
statistics and scalars are finite and positive, and its weights small enough that no layer can
overflow float32 (:func:`_output_bound`), so a loaded policy never acts with NaN or Inf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FORMAT = "herdemos-policy-v1"


FLOAT32_MAX = float(np.finfo(np.float32).max)
METADATA_TYPES: dict[str, tuple[type, ...]] = {
    "env_id": (str,),
    "epoch": (int, type(None)),
    "success_rate": (int, float, type(None)),
    "config": (dict,),
    "T": (int,),
    "dim_o": (int,),
    "dim_g": (int,),
    "dim_u": (int,),
}
"""The metadata entries herdemos reads, with the types it can read them as."""


def _check_weights(name: str, value: Any) -> list[np.ndarray]:
    if not isinstance(value, list) or not value or len(value) % 2:
        raise ValueError(f"{name} must be a non-empty list of kernel/bias arrays")
    for w in value:
        if not isinstance(w, np.ndarray) or w.dtype.kind != "f" or not np.all(np.isfinite(w)):
            raise ValueError(f"{name} holds a non-float or non-finite array")
        if 0 in w.shape:
            raise ValueError(f"{name} has a layer of zero width")
    for i in range(0, len(value), 2):
        kernel, bias = value[i], value[i + 1]
        if kernel.ndim != 2 or bias.shape != (kernel.shape[1],):
            raise ValueError(f"{name} layer {i // 2} has mismatched kernel and bias shapes")
        if i + 2 < len(value) and kernel.shape[1] != value[i + 2].shape[0]:
            raise ValueError(f"{name} layer shapes do not chain")
    return [w.astype(np.float32) for w in value]


def _output_bound(weights: list[np.ndarray], input_bound: float) -> float:
    """An upper bound on any value the MLP computes, in any layer, for inputs of magnitude at
    most ``input_bound``: each layer's outputs are at most the largest row sum of absolute
    kernel entries times the inputs' bound, plus the largest bias (ReLU only shrinks them)."""
    bound = input_bound
    for kernel, bias in zip(weights[::2], weights[1::2], strict=True):
        rows = np.abs(kernel.astype(np.float64)).sum(axis=0).max()
        bound = bound * rows + float(np.abs(bias).max())
    return bound


def _positive_scalar(d: dict[str, Any], key: str) -> float:
    value = d[key]
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{key} must be a number")
    if not (isinstance(value, float | np.floating) or abs(value) < 2**64):
        raise ValueError(f"{key} is too large for a float")
    number = float(value)
    if not (math.isfinite(number) and 0 < number <= FLOAT32_MAX):
        raise ValueError(f"{key} must be a finite number > 0, not {number}")
    return number


def _check_metadata(metadata: Any) -> dict[str, Any]:
    if not isinstance(metadata, dict):
        raise ValueError("metadata must be a dict")
    for key, types in METADATA_TYPES.items():
        if key in metadata and (
            not isinstance(metadata[key], types) or isinstance(metadata[key], bool)
        ):
            raise ValueError(f"metadata {key!r} has the wrong type")
    config = metadata.get("config", {})
    if not all(isinstance(k, str) and isinstance(v, dict) for k, v in config.items()):
        raise ValueError("metadata 'config' must map section names to dicts")
    return metadata


def checked_fields(d: Any) -> dict[str, Any]:
    """The :class:`~herdemos.policy.Policy` fields of a loaded policy file's dict, checked.

    Raises:
        ValueError, KeyError, TypeError: naming what is wrong.
    """
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError(f"missing the {FORMAT!r} format tag")
    actor = _check_weights("actor_weights", d["actor_weights"])
    critic = _check_weights("critic_weights", d["critic_weights"])
    arrays = {}
    for key in ("o_mean", "o_std", "g_mean", "g_std"):
        a = d[key]
        if not isinstance(a, np.ndarray) or a.ndim != 1 or a.dtype.kind not in "fiu":
            raise ValueError(f"{key} must be a 1-D array of numbers")
        arrays[key] = a.astype(np.float32)
        if not np.all(np.isfinite(arrays[key])):
            raise ValueError(f"{key} must be finite in float32")
    for mean, std in (("o_mean", "o_std"), ("g_mean", "g_std")):
        if arrays[std].shape != arrays[mean].shape or arrays[mean].size == 0:
            raise ValueError(f"{mean} and {std} must have one equal, non-zero length")
        if not np.all(arrays[std] > 0):
            raise ValueError(f"{std} must be > 0")
    dim_in = arrays["o_mean"].size + arrays["g_mean"].size
    if actor[0].shape[0] != dim_in or critic[0].shape[0] != dim_in + actor[-1].shape[-1]:
        raise ValueError("network input sizes do not match the normaliser sizes")
    if critic[-1].shape[-1] != 1:
        raise ValueError("the critic must output one value")
    metadata = _check_metadata(d["metadata"])
    scalars = {k: _positive_scalar(d, k) for k in ("clip_obs", "norm_clip", "max_u")}
    # Normalised inputs lie in [-norm_clip, norm_clip], the critic's action input in [-1, 1]
    # for actions in the box; beyond float32's range a layer would give Inf, then NaN.
    reach = max(scalars["norm_clip"], 1.0)
    if max(_output_bound(actor, reach), _output_bound(critic, reach)) > FLOAT32_MAX:
        raise ValueError("weights so large that the networks could overflow float32")
    return {
        "actor_weights": actor,
        "critic_weights": critic,
        "metadata": metadata,
        **arrays,
        **scalars,
    }
