"""FetchPickAndPlace controller: a grasp-and-carry phase machine for the single block.

Kept apart from the stacking controller, which grasps blocks the same way but needs planning
around neighbouring blocks that this one-block task does not have.
"""

from __future__ import annotations

import enum

import numpy as np

from herdemos.data_generation.controllers.common import (
    GAIN,
    GRIPPER_CLOSED,
    GRIPPER_OPEN,
    jittered,
    make_action,
    move_toward,
    parse_obs,
    planar_distance,
)


class _Pick(enum.Enum):
    APPROACH = enum.auto()
    DESCEND = enum.auto()
    GRASP = enum.auto()
    CARRY = enum.auto()


class PickAndPlaceController:
    """FetchPickAndPlace: hover over the block, descend open, close, carry to goal, hold.

    The carry phase servoes the *block* (not the gripper) onto the goal, so a block held off
    centre still lands on target. If the block is lost, the controller starts over.
    """

    HOVER = 0.05
    """Height (metres) above the block centre for the approach: high enough that the open
    fingers (reaching ~2 cm below the grip site) clear the block top (2.5 cm above centre)."""

    ALIGN_TOL = 0.01
    """Horizontal alignment (metres) required before descending; the open fingers leave ~2.5 cm
    of slack either side of the 5 cm block, so 1 cm is safely inside it."""

    GRASP_DEPTH = 0.0
    """Grip-site height relative to the block centre when closing: the finger pads then cover
    the block's middle while their tips stay ~6 mm above the table."""

    GRASP_STEPS = 3
    """Steps spent closing before lifting; the fingers close fully within about 3 steps."""

    LOST_DISTANCE = 0.04
    """Gripper-block distance (metres) beyond which the block is considered dropped."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        """Creates the controller; ``rng`` only jitters the speed gain per episode."""
        self._rng = rng
        self._gain = GAIN
        self._phase = _Pick.APPROACH
        self._grasp_steps = 0

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        """Starts an episode in the approach phase."""
        del obs
        self._gain = jittered(GAIN, self._rng)
        self._restart()

    def _restart(self) -> None:
        """Goes back to the approach phase (episode start, or after dropping the block)."""
        self._phase = _Pick.APPROACH
        self._grasp_steps = 0

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Returns the action for the current phase, advancing phases as conditions are met."""
        state = parse_obs(obs)
        assert state.object_pos is not None, "PickAndPlace needs an object observation"
        block, grip = state.object_pos, state.grip_pos
        if self._phase is _Pick.APPROACH:
            if planar_distance(grip, block) > self.ALIGN_TOL:
                hover = block + np.array([0.0, 0.0, self.HOVER])
                return make_action(move_toward(grip, hover, self._gain), GRIPPER_OPEN)
            self._phase = _Pick.DESCEND
        if self._phase is _Pick.DESCEND:
            grasp_point = block + np.array([0.0, 0.0, self.GRASP_DEPTH])
            if np.linalg.norm(grasp_point - grip) > self.ALIGN_TOL:
                return make_action(move_toward(grip, grasp_point, self._gain), GRIPPER_OPEN)
            self._phase = _Pick.GRASP
        if self._phase is _Pick.GRASP:
            self._grasp_steps += 1
            if self._grasp_steps <= self.GRASP_STEPS:
                return make_action(np.zeros(3), GRIPPER_CLOSED)
            self._phase = _Pick.CARRY
        if np.linalg.norm(block - grip) > self.LOST_DISTANCE:
            self._restart()
            return self.act(obs)
        return make_action(move_toward(block, state.goal, self._gain), GRIPPER_CLOSED)
