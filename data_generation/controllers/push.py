"""FetchPush controller: approach behind the block, then push it along the block-goal line.

The approach is the shared :class:`~herdemos.data_generation.controllers.approach.BehindApproach`;
this module holds the push law and its tuning constants.
"""

from __future__ import annotations

import numpy as np

from herdemos.data_generation.controllers.approach import BehindApproach
from herdemos.data_generation.controllers.common import (
    GAIN,
    GRIPPER_CLOSED,
    jittered,
    line_coordinates,
    make_action,
    move_toward,
    parse_obs,
    planar_direction,
    planar_distance,
)


class PushController:
    """FetchPush: get behind the block, lower, push it to the goal, then hold still.

    While pushing, the gripper tracks a point just behind the block on the block-goal line,
    shifted forward, so pushing and lateral correction happen in one P-control law. The line is
    recomputed every step, so drift of the block is corrected by the gripper sliding sideways.
    """

    CONTACT = 0.04
    """Block centre to gripper centre at contact (metres): half a block (2.5 cm) plus half the
    closed fingers (``FINGER_HALF_X`` ~ ``FINGER_HALF_Y``, ~1.4 cm)."""

    STANDOFF = 0.065
    """Where the approach ends (metres from block centre): 2.5 cm short of contact so lowering
    next to the block does not touch it."""

    PUSH_STEP = 0.02
    """Maximum forward lead (metres) of the tracked point, which sets the cruising push speed.
    Faster pushes make the block skid ahead of the fingers and past the goal."""

    PUSH_SLOWDOWN = 0.5
    """Lead as a fraction of the remaining block-goal distance; near the goal the push slows
    down proportionally so the block stops on target instead of sliding through it."""

    HOLD_RADIUS = 0.015
    """Block-goal distance (metres) at which pushing stops, well inside the 5 cm success radius."""

    RESUME_RADIUS = 0.035
    """Block-goal distance (metres) at which a holding controller starts pushing again. The gap
    to ``HOLD_RADIUS`` is hysteresis: the block still creeps a little after the push stops, and
    without it the gripper would lunge after it and knock it through the goal."""

    MAX_PUSH_ACTION = 0.6
    """Cap on the push motion command. When the block skids ahead, P-control alone would make
    the gripper hit it at full speed; the cap keeps contact gentle and continuous."""

    MIN_PUSH_ACTION = 0.15
    """Floor of the distance-dependent speed cap, so the final centimetres still get pushed."""

    PUSH_BRAKING = 8.0
    """Speed cap per metre of remaining block-goal distance. The lagging gripper keeps moving
    for about a step after it is told to stop, so it must arrive slowly: at 2 cm from the goal
    the cap is 0.16 (under 5 mm per step)."""

    REPLAN_ALONG = -0.02
    """If the gripper is less than this far behind the block centre along the push line
    (metres), it is beside or ahead of the block and must re-approach."""

    REPLAN_LATERAL = 0.03
    """Lateral offset (metres) from the push line beyond which the gripper re-approaches; beyond
    ~3 cm the fingers only graze the block's corner and would spin it."""

    REPLAN_MIN_DISTANCE = 0.04
    """Replanning only happens farther than this from the goal, where the push direction is
    well defined; closer in (already inside the 5 cm success radius), a tiny block offset swings
    the direction wildly, so a misaligned gripper just backs off instead."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        """Creates the controller; ``rng`` only jitters the speed gain per episode."""
        self._rng = rng
        self._gain = GAIN
        self._approach = BehindApproach()
        self._holding = False

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        """Starts an episode with a fresh approach plan."""
        del obs
        self._gain = jittered(GAIN, self._rng)
        self._approach = BehindApproach(self._gain)
        self._holding = False

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Returns the approach or push action (the gripper is blocked closed in Push)."""
        state = parse_obs(obs)
        assert state.object_pos is not None, "Push needs an object observation"
        block, goal = state.object_pos, state.goal
        remaining = planar_distance(block, goal)
        hold_limit = self.RESUME_RADIUS if self._holding else self.HOLD_RADIUS
        self._holding = remaining < hold_limit
        if self._holding:
            return make_action(self._back_off(state.grip_pos, block), GRIPPER_CLOSED)
        direction = planar_direction(block, goal)
        if self._approach.done and self._misaligned(state.grip_pos, block, direction):
            if remaining < self.REPLAN_MIN_DISTANCE:
                # Already a success; pushing from the wrong side would only spoil it.
                return make_action(self._back_off(state.grip_pos, block), GRIPPER_CLOSED)
            self._approach.restart()
        if not self._approach.done:
            behind = block - self.STANDOFF * direction
            return make_action(self._approach.step(state, block, behind), GRIPPER_CLOSED)
        lead = min(self.PUSH_SLOWDOWN * remaining, self.PUSH_STEP)
        target = block + (lead - self.CONTACT) * direction
        speed_cap = np.clip(
            self.PUSH_BRAKING * remaining, self.MIN_PUSH_ACTION, self.MAX_PUSH_ACTION
        )
        motion = move_toward(state.grip_pos, target, self._gain, max_action=float(speed_cap))
        return make_action(motion, GRIPPER_CLOSED)

    def _back_off(self, grip: np.ndarray, block: np.ndarray) -> np.ndarray:
        """Motion that parks the gripper ``STANDOFF`` away from the block, on its current side.

        Merely stopping is not enough: the lagging gripper keeps moving for a step and would
        nudge the block through the goal, so it actively withdraws from the contact instead.
        """
        park = block + self.STANDOFF * planar_direction(block, grip)
        park[2] = grip[2]
        return move_toward(grip, park, self._gain)

    def _misaligned(self, grip: np.ndarray, block: np.ndarray, direction: np.ndarray) -> bool:
        """Whether the gripper is no longer behind the block on the push line."""
        along, lateral = line_coordinates(grip, block, direction)
        return along > self.REPLAN_ALONG or abs(lateral) > self.REPLAN_LATERAL
