"""Hindsight Experience Replay: turning stored episodes into relabelled training transitions.

This module is pure NumPy and has no state: :func:`make_sample_her_transitions` returns a
function of ``(episodes, batch_size, rng)``. Both the agent's replay buffer and the demo
buffer use it, so demonstrations are relabelled exactly like the agent's own experience.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from herdemos.ragged import LENGTH, sample_valid_steps

Episodes = dict[str, np.ndarray]
Transitions = dict[str, np.ndarray]
RewardFn = Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], np.ndarray]
Sampler = Callable[[Episodes, int, np.random.Generator], Transitions]
ReplayStrategy = Literal["future", "none"]


def her_probability(strategy: ReplayStrategy, replay_k: int) -> float:
    """Fraction of sampled transitions whose goal is replaced by a future achieved goal.

    With ``replay_k = 4`` (the HER paper's k), 4 relabelled goals come per original goal,
    so the probability is ``1 - 1 / (1 + k) = 0.8``.
    """
    if strategy == "future":
        return 1.0 - 1.0 / (1.0 + replay_k)
    if strategy == "none":
        return 0.0
    raise ValueError(f"unknown replay_strategy {strategy!r}; use 'future' or 'none'")


def make_sample_her_transitions(
    strategy: ReplayStrategy, replay_k: int, reward_fn: RewardFn
) -> Sampler:
    """Builds the HER sampler.

    Args:
        strategy: ``'future'`` relabels with goals achieved later in the same episode;
            ``'none'`` keeps the original goals (plain DDPG replay).
        replay_k: ratio of relabelled to original goals for ``'future'``.
        reward_fn: the env's vectorised ``compute_reward(achieved_goal, desired_goal, info)``.
            Rewards are always recomputed, since the goal may have changed.

    Returns:
        ``sample(episodes, batch_size, rng)`` where ``episodes`` maps keys to arrays of shape
        ``(n_episodes, T or T+1, dim)``: ``o`` and ``ag`` have T+1 rows, ``u``, ``g`` and
        ``info_*`` have T. The result maps ``o, ag, g, u, info_*, o_2, ag_2, r`` to arrays of
        shape ``(batch_size, dim)`` (``r`` is ``(batch_size,)``).

        Demo episodes of different lengths carry ``length`` (``(n_episodes,)``, see
        :mod:`herdemos.ragged`). Then ``(episode, t)`` is drawn uniformly over all valid pairs
        (``t < length``), not an episode first and then a step: every recorded transition is
        equally likely, as it is with full episodes, and a short demo (a fast demonstrator)
        does not count more per step than a long one. 'future' goals come from
        ``t+1 .. length`` of the same episode. Without ``length`` the draws are those of
        full episodes, with the same random stream as ever.
    """
    future_p = her_probability(strategy, replay_k)

    def sample(episodes: Episodes, batch_size: int, rng: np.random.Generator) -> Transitions:
        n_episodes, horizon = episodes["u"].shape[:2]
        if LENGTH in episodes:
            ep, t = sample_valid_steps(episodes[LENGTH], batch_size, rng)
            end = np.asarray(episodes[LENGTH], np.int64)[ep]
        else:
            ep = rng.integers(0, n_episodes, size=batch_size)
            t = rng.integers(0, horizon, size=batch_size)
            end = np.full(batch_size, horizon, np.int64)
        per_step = (key for key in episodes if key not in ("o", "ag", LENGTH))
        out = {key: episodes[key][ep, t].copy() for key in per_step}
        out["o"] = episodes["o"][ep, t].copy()
        out["ag"] = episodes["ag"][ep, t].copy()
        out["o_2"] = episodes["o"][ep, t + 1].copy()
        out["ag_2"] = episodes["ag"][ep, t + 1].copy()

        # 'future': pick t' uniformly in t+1 .. end (inclusive) and use ag[t'] as the goal, where
        # end is the episode's length (T for full episodes). ag[t'] is the goal achieved
        # *after* action t'-1, so t' = t+1 is the goal that this very transition achieved
        # (reward 0 guaranteed) and t' = end is the episode's final state.
        # Worked example with end = 3 and t = 1: end - t = 2, so the offset is 0 or 1 and
        # t' is 2 or 3; never 0 or 1, which lie in the past, nor 4, padding past the end.
        relabel = np.flatnonzero(rng.random(batch_size) < future_p)
        offset = (rng.random(relabel.size) * (end[relabel] - t[relabel])).astype(np.int64)
        future_t = t[relabel] + 1 + offset
        out["g"][relabel] = episodes["ag"][ep[relabel], future_t]

        info = {key[len("info_") :]: out[key] for key in out if key.startswith("info_")}
        out["r"] = np.asarray(reward_fn(out["ag_2"], out["g"], info), np.float32).reshape(
            batch_size
        )
        return out

    return sample
