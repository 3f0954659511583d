"""Demo episodes of different lengths, in the fixed-size layout of the buffers and demo files.

Real demonstrations end when the task is done, so a demo episode can be shorter than the env's
horizon T. Such episodes are stored padded to T, in the usual arrays (``(N, T, dim)`` for ``u``,
``g`` and ``info_*``, ``(N, T+1, dim)`` for ``o``, ``ag`` and ``sim_state``), next to an integer
array ``length`` of shape ``(N,)`` with ``1 <= length[i] <= T``. For episode ``i`` with
``L = length[i]``:

- rows ``t >= L`` of the T-row arrays are padding, set to zero;
- rows ``t > L`` of the (T+1)-row arrays are padding, copies of row ``L`` (the final state).

Worked example, T = 4 and L = 2: ``u`` rows 0, 1 are actions, rows 2, 3 are zeros; ``o`` rows
0, 1, 2 are observations (before step 0, after step 0, after step 1), rows 3, 4 repeat row 2.
Nothing reads padding rows: the HER sampler, the resets to demo states and the success
statistics use each episode's valid steps only. Without ``length`` every episode has T steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

LENGTH = "length"
"""The episodes' key of the per-episode lengths."""


def pad_episodes(
    episodes: Sequence[Mapping[str, np.ndarray]], horizon: int
) -> dict[str, np.ndarray]:
    """Pads ragged episodes into the buffer layout, with their ``length``.

    Generators and importers build each episode at its own length and call this once.

    Args:
        episodes: one mapping per episode, all with the same keys. ``u`` has ``L`` rows (the
            episode's steps, ``1 <= L <= horizon``); every other key has ``L`` rows (per-step
            data: ``g``, ``info_*``) or ``L + 1`` rows (states: ``o``, ``ag``, ``sim_state``).
        horizon: T, the env's episode length.

    Returns:
        ``{key: array(N, T or T+1, ...)}`` plus ``length`` (int64, ``(N,)``), always, even when
        every episode has T steps. Each key keeps the common dtype of its episodes.

    Raises:
        ValueError: no episodes, different keys, a length outside ``1..horizon``, a key with a
            row count other than ``L`` or ``L + 1``, or mismatched trailing shapes. Callers
            that read a user's file turn it into a one-line error naming the file.
    """
    if not episodes:
        raise ValueError("no episodes to pad")
    keys = list(episodes[0])
    if "u" not in keys:
        raise ValueError("episodes need actions 'u'")
    lengths = np.array([len(ep["u"]) for ep in episodes], np.int64)
    for i, ep in enumerate(episodes):
        if sorted(ep) != sorted(keys):
            raise ValueError(f"episode {i} has keys {sorted(ep)}, episode 0 has {sorted(keys)}")
        if not 1 <= lengths[i] <= horizon:
            raise ValueError(f"episode {i} has {lengths[i]} steps; must be within 1..{horizon} (T)")
    padded: dict[str, np.ndarray] = {}
    for key in keys:
        arrays = [np.asarray(ep[key]) for ep in episodes]
        extra = int(len(arrays[0]) - lengths[0])  # 0: per-step key, 1: state key
        if extra not in (0, 1):
            rows = len(arrays[0])
            raise ValueError(f"'{key}' of episode 0 has {rows} rows for {lengths[0]} steps")
        out = np.zeros(
            (len(arrays), horizon + extra, *arrays[0].shape[1:]), np.result_type(*arrays)
        )
        for i, (a, length) in enumerate(zip(arrays, lengths, strict=True)):
            if a.shape != (length + extra, *out.shape[2:]):
                raise ValueError(
                    f"'{key}' of episode {i} has shape {a.shape}, "
                    f"expected {(length + extra, *out.shape[2:])}"
                )
            out[i, : len(a)] = a
            out[i, len(a) :] = a[-1] if extra else 0
        padded[key] = out
    padded[LENGTH] = lengths
    return padded


def episode_lengths(episodes: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each episode's number of steps: ``episodes["length"]``, or T for all without it."""
    if LENGTH in episodes:
        return np.asarray(episodes[LENGTH], np.int64)
    n, horizon = episodes["u"].shape[:2]
    return np.full(n, horizon, np.int64)


def final_success(episodes: Mapping[str, np.ndarray]) -> np.ndarray:
    """The env's ``is_success`` after each episode's last valid step, shape ``(N,)``."""
    success = episodes["info_is_success"]
    if LENGTH not in episodes:
        return success[:, -1, 0]
    return success[np.arange(len(success)), episode_lengths(episodes) - 1, 0]


def step_mask(lengths: np.ndarray, horizon: int) -> np.ndarray:
    """``(N, T)`` booleans: True where step ``t`` of episode ``i`` is valid (``t < length[i]``)."""
    return np.arange(horizon)[None, :] < np.asarray(lengths)[:, None]


def sample_valid_steps(
    lengths: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` (episode, step) pairs drawn uniformly over all valid pairs, not per episode.

    Every recorded transition is equally likely, as in a buffer of full episodes, so a short
    episode (a fast demonstrator) is not sampled more often per step than a long one.

    Worked example: lengths [3, 1, 2] number the valid pairs 0..5 and ``ends`` = [3, 4, 6].
    A draw k = 4 lies in episode 2 (the first end greater than 4) at step 4 - (6 - 2) = 0.
    """
    lengths = np.asarray(lengths, np.int64)
    ends = np.cumsum(lengths)
    k = rng.integers(0, ends[-1], size=size)
    ep = np.searchsorted(ends, k, side="right")
    return ep, k - (ends[ep] - lengths[ep])


def clear_padding(episodes: dict[str, np.ndarray]) -> None:
    """Rewrites the padding rows of every array in place (zeros, or the final state repeated),
    after a transformation (a mirror image) changed them; without ``length`` nothing changes."""
    if LENGTH not in episodes:
        return
    lengths = episode_lengths(episodes)
    horizon = episodes["u"].shape[1]
    steps = ~step_mask(lengths, horizon)
    last_state = np.arange(len(lengths)), lengths
    for key, array in episodes.items():
        if key == LENGTH:
            continue
        if array.shape[1] == horizon:
            array[steps] = 0
        else:  # T+1 rows: row L is the final state, later rows repeat it
            states = np.concatenate([np.zeros((len(lengths), 1), bool), steps], axis=1)
            array[states] = np.repeat(array[last_state], horizon - lengths, axis=0)
