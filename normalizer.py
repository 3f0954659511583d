"""Running mean/std normaliser for observations and goals (plain NumPy).

DDPG on Fetch tasks needs inputs on a common scale: positions are in metres around 1.0,
velocities are tiny. Like baselines HER, we keep running sums, derive mean and std from them,
and clip the normalised value to ``[-clip_range, clip_range]``. Keeping *sums* rather than means
makes statistics from several MPI ranks combine exactly by addition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

SumReducer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ArrayOps:
    """The few array functions that the input pipeline and the forward pass need.

    Arithmetic (``-``, ``/``, ``@``, ``+``) works alike on NumPy arrays and TF tensors; these do
    not. Passing them in lets one definition serve the NumPy policy that acts in the rollouts and
    the TF SavedModel of the export, so the two can never drift apart.
    """

    clip: Callable[[Any, float, float], Any]
    relu: Callable[[Any], Any]
    tanh: Callable[[Any], Any]
    concat: Callable[[list[Any]], Any]  # along the last axis
    to_float32: Callable[[Any], Any]


NUMPY_OPS = ArrayOps(
    clip=np.clip,
    relu=lambda x: np.maximum(x, 0.0),
    tanh=np.tanh,
    concat=lambda xs: np.concatenate(xs, axis=-1),
    to_float32=lambda x: x.astype(np.float32),
)


def normalize(x: Any, mean: Any, std: Any, clip_range: float, ops: ArrayOps = NUMPY_OPS) -> Any:
    """``clip((x - mean) / std, -clip_range, clip_range)`` in float32: the one normalisation
    used in training, in the NumPy policy and in the exported actor."""
    return ops.to_float32(ops.clip((x - mean) / std, -clip_range, clip_range))


def clip_and_normalize(
    x: Any,
    mean: Any,
    std: Any,
    clip_obs: float,
    norm_clip: float,
    ops: ArrayOps = NUMPY_OPS,
) -> Any:
    """Baselines' input pipeline for a policy: raw values clipped to ``clip_obs`` first (a
    simulator glitch cannot push one input arbitrarily far), then :func:`normalize`."""
    return normalize(ops.clip(x, -clip_obs, clip_obs), mean, std, norm_clip, ops)


class Normalizer:
    """Running statistics of a ``size``-dimensional quantity.

    Args:
        size: dimension of the normalised vectors.
        eps: lower bound on the std, so constant features do not blow up.
        clip_range: normalised values are clipped to this magnitude.
        reduce_sum: combines the per-rank sums (identity for one process, an MPI
            Allreduce for several). Applied in :meth:`recompute_stats`.
    """

    def __init__(
        self,
        size: int,
        eps: float = 1e-2,
        clip_range: float = 5.0,
        reduce_sum: SumReducer | None = None,
    ) -> None:
        self.size = size
        self.eps = eps
        self.clip_range = clip_range
        self._reduce_sum = reduce_sum or (lambda x: x)
        # Local sums since the last recompute; totals accumulate across all ranks.
        self._local_sum = np.zeros(size, np.float64)
        self._local_sumsq = np.zeros(size, np.float64)
        self._local_count = np.zeros(1, np.float64)
        self.total_sum = np.zeros(size, np.float64)
        self.total_sumsq = np.zeros(size, np.float64)
        self.total_count = np.zeros(1, np.float64)
        self.mean = np.zeros(size, np.float32)
        self.std = np.ones(size, np.float32)

    def update(self, x: np.ndarray) -> None:
        """Adds samples (any leading shape, last axis ``size``) to the local sums."""
        x = np.asarray(x, np.float64).reshape(-1, self.size)
        self._local_sum += x.sum(axis=0)
        self._local_sumsq += np.square(x).sum(axis=0)
        self._local_count += x.shape[0]

    def recompute_stats(self) -> None:
        """Folds the local sums (reduced across ranks) into the totals; refreshes mean/std."""
        packed = np.concatenate([self._local_sum, self._local_sumsq, self._local_count])
        packed = self._reduce_sum(packed)
        self.total_sum += packed[: self.size]
        self.total_sumsq += packed[self.size : 2 * self.size]
        self.total_count += packed[2 * self.size :]
        self._local_sum[:] = 0.0
        self._local_sumsq[:] = 0.0
        self._local_count[:] = 0.0
        count = max(float(self.total_count[0]), 1.0)
        mean = self.total_sum / count
        var = np.maximum(self.eps**2, self.total_sumsq / count - np.square(mean))
        self.mean = mean.astype(np.float32)
        self.std = np.sqrt(var).astype(np.float32)

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """Maps ``x`` to ``clip((x - mean) / std)`` in float32."""
        return normalize(x, self.mean, self.std, self.clip_range)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The arrays needed to restore this normaliser exactly (for checkpoints)."""
        return {
            "total_sum": self.total_sum.copy(),
            "total_sumsq": self.total_sumsq.copy(),
            "total_count": self.total_count.copy(),
            "mean": self.mean.copy(),
            "std": self.std.copy(),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restores :meth:`state_dict` output.

        Raises:
            ValueError: arrays of other lengths, non-finite ones, or a std that is not > 0
                (checked before anything changes).
        """
        lengths = {"total_sum": self.size, "total_sumsq": self.size, "total_count": 1}
        for key, length in {**lengths, "mean": self.size, "std": self.size}.items():
            value = np.asarray(state[key])
            if value.shape != (length,) or value.dtype.kind not in "fiu":
                raise ValueError(f"normaliser {key} of shape {value.shape}, not ({length},)")
            if not np.all(np.isfinite(value.astype(np.float64))):
                raise ValueError(f"normaliser {key} is not finite")
        if not np.all(np.asarray(state["std"]) > 0) or state["total_count"][0] < 0:
            raise ValueError("normaliser std must be > 0 and its count >= 0")
        self.total_sum = np.asarray(state["total_sum"], np.float64).copy()
        self.total_sumsq = np.asarray(state["total_sumsq"], np.float64).copy()
        self.total_count = np.asarray(state["total_count"], np.float64).copy()
        self.mean = np.asarray(state["mean"], np.float32).copy()
        self.std = np.asarray(state["std"], np.float32).copy()


def load_normalizer_states(state: dict[str, np.ndarray], norms: dict[str, Normalizer]) -> None:
    """Restores each of ``norms`` from the arrays of ``state`` under its name (``name/key``);
    ``ValueError`` naming a part that does not fit."""
    for name, norm in norms.items():
        prefix = f"{name}/"
        try:
            norm.load_state_dict(
                {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            )
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
