"""Getting the gripper behind an object without knocking it: :class:`BehindApproach`.

Push and Slide both start a contact from the side of the object opposite its goal, so the
collision-free way there (straight and low when the path is clear, over the top otherwise) is
shared by the two controllers and lives in its own module.
"""

from __future__ import annotations

import enum

import numpy as np

from herdemos.data_generation.controllers.common import (
    GAIN,
    TABLE_CLEARANCE,
    FetchState,
    move_toward,
    planar_distance,
    segment_clearance,
)


class _Approach(enum.Enum):
    PLAN = enum.auto()
    LIFT = enum.auto()
    TRANSIT_HIGH = enum.auto()
    DESCEND = enum.auto()
    TRANSIT_LOW = enum.auto()
    DONE = enum.auto()


class BehindApproach:
    """Brings the gripper to a point next to an object at the object's height, without hitting it.

    Pushing and striking both start with the gripper behind the object, on the side opposite
    the goal. If the straight low path there passes close to the object, the gripper lifts to a
    safe height, travels over, and descends; otherwise it moves straight (faster, and the object
    is not in the way).
    """

    PATH_CLEARANCE = 0.07
    """Minimum horizontal gap (metres) between the object centre and a low path: half a block
    (2.5 cm) plus half the closed fingers (1.5 cm) plus a 3 cm margin for P-control overshoot."""

    ARRIVAL_TOL = 0.01
    """Position error (metres) at which a way-point counts as reached; coarser than the
    deadband so the phase advances without waiting for the last millimetres."""

    def __init__(self, gain: float = GAIN) -> None:
        """Creates the approach helper.

        Args:
            gain: Proportional gain for the motions.
        """
        self.gain = gain
        self.phase = _Approach.PLAN

    def restart(self) -> None:
        """Forgets progress, so the next call plans a fresh approach."""
        self.phase = _Approach.PLAN

    @property
    def done(self) -> bool:
        """Whether the gripper reached the destination."""
        return self.phase is _Approach.DONE

    def step(
        self, state: FetchState, object_pos: np.ndarray, destination: np.ndarray
    ) -> np.ndarray:
        """Motion command for this step of the approach.

        Args:
            state: Parsed observation.
            object_pos: Object position (3,), the obstacle to avoid.
            destination: Final gripper position (3,), normally at object height.

        Returns:
            (3,) motion command; zeros once :attr:`done`.
        """
        high = np.array([destination[0], destination[1], object_pos[2] + TABLE_CLEARANCE])
        grip = state.grip_pos
        if self.phase is _Approach.PLAN:
            clearance = segment_clearance(grip, destination, object_pos)
            self.phase = (
                _Approach.TRANSIT_LOW if clearance > self.PATH_CLEARANCE else _Approach.LIFT
            )
        if self.phase is _Approach.LIFT:
            if grip[2] < high[2] - 2 * self.ARRIVAL_TOL:
                return move_toward(grip, np.array([grip[0], grip[1], high[2]]), self.gain)
            self.phase = _Approach.TRANSIT_HIGH
        if self.phase is _Approach.TRANSIT_HIGH:
            if planar_distance(grip, high) > self.ARRIVAL_TOL:
                return move_toward(grip, high, self.gain)
            self.phase = _Approach.DESCEND
        if self.phase in (_Approach.DESCEND, _Approach.TRANSIT_LOW):
            if np.linalg.norm(destination - grip) > self.ARRIVAL_TOL:
                return move_toward(grip, destination, self.gain)
            self.phase = _Approach.DONE
        return np.zeros(3)
