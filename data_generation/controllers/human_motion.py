"""How a human teleoperator moves and when they stop recording, for the ``human`` style.

:class:`HumanHand` turns an intended target into motion commands with what distinguishes a person
at the controls from a script: a per-episode pace, smooth velocity changes (a first-order lag,
which also makes quick moves overshoot and come back), correlated tremor (an Ornstein-Uhlenbeck
process, not white noise), and hesitation (random pauses with a slowed hand).
:class:`Recording` decides when the episode's recording ends: a few steps after the task looks
done, or soon after the operator gives up; otherwise it runs to the env's horizon.
"""

from __future__ import annotations

import numpy as np

from herdemos.data_generation.controllers.common import ACTION_SCALE, limit

SEEN_DONE = 0.03
"""Object-goal distance (metres) at which the task looks done to the operator: inside the env's
5 cm success radius, since a person judges by eye and waits until it is clearly there."""


class HumanHand:
    """Human-like motion toward targets, one step at a time.

    Args:
        rng: the source of every random choice (pace, tremor, pauses).
    """

    GAIN = 1.1
    """Multiple of the remaining error aimed for per step, before the lag."""

    SMOOTHING = 0.55
    """Weight of the previous velocity in the next one: the hand accelerates and brakes over a
    few steps, and overshoots a little when it arrives fast."""

    TREMOR = 0.06
    """Stationary std of the tremor, in action units."""

    TREMOR_MEMORY = 0.8
    """Step-to-step correlation of the tremor (it drifts instead of jittering)."""

    HESITATE_PROB = 0.04
    """Per-step probability of starting a pause."""

    DEADBAND = 0.004
    """Errors below this (metres) are not corrected: the operator sees no difference."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self.pace = 1.0
        self._velocity = np.zeros(3)
        self._tremor = np.zeros(3)
        self._pause = 0

    def reset(self) -> None:
        """A new episode: a new pace for this operator's attempt, at rest."""
        self.pace = float(self._rng.uniform(0.55, 1.0))
        self._velocity = np.zeros(3)
        self._tremor = np.zeros(3)
        self._pause = 0

    def move(self, current: np.ndarray, target: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """Motion command (3,) in action units toward ``target``, within [-1, 1].

        Args:
            current: position of the controlled point (the gripper, or the carried object).
            target: where the operator wants it.
            speed: a cap for this move, as a fraction of the operator's pace.
        """
        error = np.asarray(target, np.float64) - np.asarray(current, np.float64)
        desired = np.zeros(3)
        if np.linalg.norm(error) >= self.DEADBAND:
            desired = self.pace * speed * limit(self.GAIN * error / ACTION_SCALE)
        if self._pause > 0:
            self._pause -= 1
            desired = 0.2 * desired  # hesitating: the hand nearly stops
        elif self._rng.random() < self.HESITATE_PROB:
            self._pause = int(self._rng.integers(2, 6))
        self._velocity = self.SMOOTHING * self._velocity + (1 - self.SMOOTHING) * desired
        kick = np.sqrt(1 - self.TREMOR_MEMORY**2) * self.TREMOR * self._rng.standard_normal(3)
        self._tremor = self.TREMOR_MEMORY * self._tremor + kick
        return np.clip(self._velocity + self._tremor, -1.0, 1.0)


class Recording:
    """When the operator stops recording.

    The recording ends once the task has looked done for ``linger`` steps (2 to 6, drawn per
    episode), or 2 to 6 steps after the operator gives up; otherwise it runs to the
    horizon. Lengths count actions, so a recording stopped at step ``t`` holds observations
    ``0..t`` and actions ``0..t-1``.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self.steps = 0
        self.stopped_at: int | None = None
        self._countdown: int | None = None
        self._linger = 0

    def reset(self) -> None:
        self.steps = 0
        self.stopped_at = None
        self._countdown = None
        self._linger = int(self._rng.integers(2, 7))

    def give_up(self) -> None:
        """The operator abandons the attempt; the recording ends a few steps later."""
        if self._countdown is None:
            self._countdown = int(self._rng.integers(2, 7))

    def stops_now(self, obs: dict[str, np.ndarray]) -> bool:
        """Called before each action; True once the recording is over (and from then on)."""
        if self.stopped_at is not None:
            return True
        distance = np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"])
        if self._countdown is None and distance < SEEN_DONE:
            self._linger -= 1
            if self._linger < 0:
                self.stopped_at = self.steps
        if self._countdown is not None:
            self._countdown -= 1
            if self._countdown < 0:
                self.stopped_at = self.steps
        if self.stopped_at is not None and self.stopped_at < 1:
            self.stopped_at = None  # at least one step is recorded
        if self.stopped_at is None:
            self.steps += 1
        return self.stopped_at is not None
