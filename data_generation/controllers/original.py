"""The ``original`` style: the original project's demonstration generator, and a Push in its style.

The original project (jangirrishabh/Overcoming-exploration-from-demos) generated its
PickAndPlace demos with a script of three proportional phases read from the relative object
position, with a gain of 6 per action unit, tiny gripper commands (+0.05 to open, -0.005 to
close) and tight thresholds, and no clipping of its own (the env clips to [-1, 1]).
:class:`OriginalPickAndPlaceController` re-implements that behaviour from its description.
The original had no Push generator; :class:`OriginalPushController` is written in the same
conventions (same gain, gripper commands and thresholds) so that Push also has demos from a
controller herdemos was not tuned to.

Both are deterministic: they take an ``rng`` only for the common controller signature.
"""

from __future__ import annotations

import numpy as np

from herdemos.data_generation.controllers.common import parse_obs, planar_direction

ORIGINAL_GAIN = 6.0
"""Action units per metre of error: the original's ``action = 6 * error``."""

GRIPPER_OPENING = 0.05
"""The original's gripper command while approaching (the fingers are position-servoed relative
to their current opening, so a small positive command keeps opening them)."""

GRIPPER_CLOSING = -0.005
"""The original's gripper command from the descent on: a small squeeze every step."""

REACH_TOL = 0.005
"""Error norm (metres) that ends the approach and descent phases."""

CARRY_TOL = 0.01
"""Object-goal distance (metres) that ends the carry phase."""

ABOVE = np.array([0.0, 0.0, 0.03])
"""The original's approach point: 3 cm above the object centre."""


def original_action(error: np.ndarray, gripper: float) -> np.ndarray:
    """``6 * error`` with a gripper command, unclipped as in the original (the env clips)."""
    return np.append(ORIGINAL_GAIN * np.asarray(error, np.float64), gripper).astype(np.float32)


class _Phases:
    """The original's ``while`` loops as numbered phases, each episode starting at phase 1; the
    style has no randomness, so ``rng`` is unused."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        del rng
        self._phase = 1

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        del obs
        self._phase = 1


class OriginalPickAndPlaceController(_Phases):
    """FetchPickAndPlace as the original generator did it: above, down, carry, then hold.

    Phases (each also ends with the episode, whose T steps the generator always records):

    1. to 3 cm above the object, gripper +0.05, until the error norm is under 5 mm;
    2. down onto the object, gripper -0.005, until under 5 mm;
    3. carry, commanding ``6 * (goal - object)``, gripper -0.005, until under 1 cm;
    4. zero motion, gripper -0.005, to the end of the episode.

    The original read the relative position the env reports (``observation[6:9]``), so this one
    does too; a phase ends on the observation before a step, as the original's ``while`` loops.
    """

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        flat = np.asarray(obs["observation"], np.float64)
        object_rel_pos, object_pos = flat[6:9], flat[3:6]
        goal = np.asarray(obs["desired_goal"], np.float64)
        if self._phase == 1:
            error = object_rel_pos + ABOVE
            if np.linalg.norm(error) >= REACH_TOL:
                return original_action(error, GRIPPER_OPENING)
            self._phase = 2
        if self._phase == 2:
            if np.linalg.norm(object_rel_pos) >= REACH_TOL:
                return original_action(object_rel_pos, GRIPPER_CLOSING)
            self._phase = 3
        if self._phase == 3:
            error = goal - object_pos
            if np.linalg.norm(error) >= CARRY_TOL:
                return original_action(error, GRIPPER_CLOSING)
            self._phase = 4
        return original_action(np.zeros(3), GRIPPER_CLOSING)


class OriginalPushController(_Phases):
    """FetchPush in the original generator's style (the original had no Push script).

    The same gain, gripper command and thresholds as :class:`OriginalPickAndPlaceController`,
    and the same naivety: straight-line moves, no collision planning and no lateral correction
    while pushing. The "behind" point lies on the goal-object line, on the far side from the goal,
    and is re-read from every observation as the original re-read the object position.

    1. to ``LIFT`` above the behind point, until the error is under 5 mm;
    2. down to the object's height there, until 5 mm;
    3. push, commanding ``6 * (goal - object)``, until the object is within 1 cm of the goal;
    4. zero motion to the end of the episode.
    """

    BEHIND = 0.06
    """Distance (metres) behind the object centre: half a block plus the fingers plus a margin."""

    LIFT = np.array([0.0, 0.0, 0.10])
    """Approach height above the behind point. The original's 3 cm suits open fingers coming
    down onto a block; closed fingers travelling in a straight line from their start, which is
    below the block's top, knock the block less often the higher they aim."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        state = parse_obs(obs)
        assert state.object_pos is not None, "Push needs an object observation"
        behind = state.object_pos - self.BEHIND * planar_direction(state.object_pos, state.goal)
        if self._phase == 1:
            error = behind + self.LIFT - state.grip_pos
            if np.linalg.norm(error) >= REACH_TOL:
                return original_action(error, GRIPPER_CLOSING)
            self._phase = 2
        if self._phase == 2:
            error = behind - state.grip_pos
            if np.linalg.norm(error) >= REACH_TOL:
                return original_action(error, GRIPPER_CLOSING)
            self._phase = 3
        if self._phase == 3:
            error = state.goal - state.object_pos
            if np.linalg.norm(error) >= CARRY_TOL:
                return original_action(error, GRIPPER_CLOSING)
            self._phase = 4
        return original_action(np.zeros(3), GRIPPER_CLOSING)
