"""FetchSlide controller: strike the puck so that it glides to the goal on its own.

Holds the friction model of the slippery table (:class:`SlidingFriction`), which predicts where
a sliding puck stops and which launch velocity reaches the goal, and the strike-and-release
controller built on it. The approach behind the puck is the shared
:class:`~herdemos.data_generation.controllers.approach.BehindApproach`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from herdemos.data_generation.controllers.approach import BehindApproach
from herdemos.data_generation.controllers.common import (
    ACTION_SCALE,
    FINGER_HALF_X,
    FINGER_HALF_Y,
    GAIN,
    GRIPPER_CLOSED,
    FetchState,
    jittered,
    limit,
    line_coordinates,
    make_action,
    parse_obs,
    planar_direction,
    planar_distance,
)


class _Slide(enum.Enum):
    APPROACH = enum.auto()
    STRIKE = enum.auto()
    FOLLOW = enum.auto()
    RELEASE = enum.auto()


@dataclass(frozen=True)
class SlidingFriction:
    """Where a puck sliding freely on the Fetch slide table comes to rest.

    MuJoCo's default pyramidal friction cone makes the table's friction anisotropic: the
    friction force is bounded by ``|fx| + |fy| <= mu * N`` (a diamond in world x, y), so it
    brakes only the larger velocity component until both are equal, then both at half rate. A
    puck therefore curves toward the nearer diagonal or axis, and aiming straight at the goal
    misses wide. Integrating that law gives, for ``|vx| >= |vy|``, a rest displacement of
    ``((vx^2 + vy^2) / (2 a), |vx| |vy| / a)`` (signs from the velocity; x and y swap roles
    otherwise), which this class evaluates and inverts.

    Attributes:
        deceleration: ``mu * g`` in metres per step per step (friction 0.1 -> ~1 m/s^2, times
            the 0.04 s step squared; measured 0.0016).
    """

    deceleration: float = 0.0016

    def travel(self, velocity: np.ndarray) -> np.ndarray:
        """Planar displacement (3,) until a puck sliding with ``velocity`` (per step) stops."""
        major, minor, swapped = _order_axes(velocity)
        along_major = (major**2 + minor**2) / (2.0 * self.deceleration)
        along_minor = abs(major * minor) / self.deceleration
        return _unorder_axes(along_major, along_minor, swapped, velocity)

    def launch_velocity(self, displacement: np.ndarray) -> np.ndarray:
        """Velocity (3,) per step that makes a puck glide exactly ``displacement`` and stop."""
        major, minor, swapped = _order_axes(displacement)
        energy = 2.0 * self.deceleration * abs(major)  # vx^2 + vy^2
        cross = 2.0 * self.deceleration * abs(minor)  # 2 |vx| |vy|
        speed_sum = np.sqrt(energy + cross)
        speed_diff = np.sqrt(max(energy - cross, 0.0))
        return _unorder_axes(
            (speed_sum + speed_diff) / 2.0, (speed_sum - speed_diff) / 2.0, swapped, displacement
        )


def _order_axes(vector: np.ndarray) -> tuple[float, float, bool]:
    """Returns ``(larger, smaller, swapped)`` planar components by magnitude (unsigned)."""
    x, y = abs(float(vector[0])), abs(float(vector[1]))
    return (y, x, True) if y > x else (x, y, False)


def _unorder_axes(major: float, minor: float, swapped: bool, signs: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_order_axes`, taking the signs of the components from ``signs``."""
    x, y = (minor, major) if swapped else (major, minor)
    return np.array([np.copysign(x, signs[0]), np.copysign(y, signs[1]), 0.0])


class SlideController:
    """FetchSlide: get behind the puck, strike it toward the goal, and let it glide there.

    The table is so slippery that the puck cannot be escorted to the goal (most goals are out
    of the arm's reach); it has to be launched with the right velocity, computed from the
    friction model in :class:`SlidingFriction`. The impact is aimed a little short, then the
    *release* is closed-loop: the gripper keeps driving behind the puck, the puck's resting
    point is predicted from its measured velocity each step, and the gripper backs off as soon
    as that point reaches the goal. A puck that stops short is struck again if time allows.
    """

    PUCK_RADIUS = 0.025

    RUNUP = 0.06
    """Gap (metres) between gripper and puck at the start of a strike, long enough for the
    lagging gripper to reach the commanded speed before impact."""

    PUCK_SPEED_PER_ACTION = 0.04
    """Puck speed (metres per step) right after a strike, per unit of strike action (measured:
    0.037-0.046). The puck leaves 1.6-2x faster than the gripper's end-of-step speed, because
    each step starts with a jerk as the mocap jumps ahead; this also makes impacts scatter."""

    GRIPPER_SPEED_PER_ACTION = 0.03
    """Gripper speed (metres per step) per unit of action near the slide start positions
    (measured 0.023-0.03; the weld covers ~60% of the commanded 5 cm, less as the arm
    stretches out)."""

    STRIKE_SHORTFALL = 0.85
    """Fraction of the needed launch speed the impact alone is aimed at. Impacts scatter by
    about 10% and an overshoot cannot be undone, so the impact aims short and the following
    gripper tops up the rest (tuned on seeds 0..99, checked on 100..299: 0.8 and 0.9 do worse)."""

    TOP_UP_FRACTION = 0.25
    """Fraction of the missing puck speed by which the following gripper outpaces the puck.
    Each contact adds up to twice the closing speed (plus the step-start jerk), so topping up
    with small closing speeds approaches the needed speed from below."""

    MIN_STRIKE_ACTION = 0.15
    """Lowest strike speed, so short corrections still move the puck."""

    LATERAL_GAIN = 1.5
    """P-gain keeping the gripper on the strike line (same meaning as ``GAIN``)."""

    RELEASE_MARGIN = 0.03
    """Release when the predicted resting point is within this (metres) of the goal: the
    release takes effect a step late, during which the gripper may still push a little."""

    RETREAT = 0.3
    """Backward action while the puck glides away, so the decelerating gripper does not touch
    it again."""

    RESTING_SPEED = 0.0005
    """Puck speed (metres per step) below which it is considered stopped."""

    RESTRIKE_DISTANCE = 0.03
    """A puck resting farther than this (metres) from the goal gets another strike; nearer
    ones are left alone, since the success radius is 5 cm and a tap could overshoot."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        """Creates the controller; ``rng`` only jitters the approach gain per episode."""
        self._rng = rng
        self._gain = GAIN
        self._friction = SlidingFriction()
        self._phase = _Slide.APPROACH
        self._approach = BehindApproach()
        self._strike_action = 1.0
        self._last_puck_speed = 0.0

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        """Starts an episode with a fresh approach plan."""
        del obs
        self._gain = jittered(GAIN, self._rng)
        self._approach = BehindApproach(self._gain)
        self._phase = _Slide.APPROACH
        self._last_puck_speed = 0.0

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Returns the action for the current phase (the gripper is blocked closed in Slide)."""
        state = parse_obs(obs)
        assert state.object_pos is not None, "Slide needs an object observation"
        if self._phase is _Slide.APPROACH:
            direction, _ = self._strike_plan(state)
            start = self._strike_line_point(state.object_pos, direction)
            start = start - self.RUNUP * direction
            motion = self._approach.step(state, state.object_pos, start)
            if not self._approach.done:
                return make_action(motion, GRIPPER_CLOSED)
            self._begin_strike(state)
        if self._phase in (_Slide.STRIKE, _Slide.FOLLOW):
            return make_action(self._strike(state), GRIPPER_CLOSED)
        return make_action(self._after_release(state), GRIPPER_CLOSED)

    def _strike_plan(self, state: FetchState) -> tuple[np.ndarray, float]:
        """Launch direction (unit, planar) and launch speed (per step) to glide to the goal."""
        velocity = self._friction.launch_velocity(state.goal - state.object_pos)
        speed = float(np.linalg.norm(velocity))
        if speed < 1e-9:
            return np.array([1.0, 0.0, 0.0]), 0.0
        return velocity / speed, speed

    def _strike_line_point(self, puck: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Gripper position at which its leading finger corner touches the puck on the line.

        A flat finger face pushes the puck along the face normal (world x or y) whatever the
        gripper's heading, so for an oblique strike the leading corner must touch the puck at
        the point whose normal is the launch direction; the gripper centre sits half a finger
        back and to the side of it.
        """
        corner = np.array(
            [
                np.copysign(FINGER_HALF_X, direction[0]),
                np.copysign(FINGER_HALF_Y, direction[1]),
                0.0,
            ]
        )
        return puck - self.PUCK_RADIUS * direction - corner

    def _begin_strike(self, state: FetchState) -> None:
        """Fixes the strike speed from the launch speed the puck needs."""
        _, speed = self._strike_plan(state)
        action = self.STRIKE_SHORTFALL * speed / self.PUCK_SPEED_PER_ACTION
        self._strike_action = float(np.clip(action, self.MIN_STRIKE_ACTION, 1.0))
        self._last_puck_speed = 0.0
        self._phase = _Slide.STRIKE

    def _strike(self, state: FetchState) -> np.ndarray:
        """Drives the gripper along the strike line until the puck will glide to the goal."""
        direction, needed_speed = self._strike_plan(state)
        puck_speed = float(np.linalg.norm(state.object_vel[:2]))
        speed_gain = puck_speed - self._last_puck_speed
        self._last_puck_speed = puck_speed
        if self._phase is _Slide.STRIKE and puck_speed > self.RESTING_SPEED and speed_gain <= 0:
            self._phase = _Slide.FOLLOW  # the impact is over once the puck stops speeding up
        following = self._phase is _Slide.FOLLOW
        if self._released(state, max(speed_gain, 0.0) if following else 0.0):
            self._phase = _Slide.RELEASE
            return self._after_release(state)
        if not following:
            return self._along_strike_line(state, direction, self._strike_action)
        top_up = self._top_up_action(puck_speed, needed_speed)
        return self._along_strike_line(state, direction, top_up)

    def _along_strike_line(
        self, state: FetchState, direction: np.ndarray, speed: float
    ) -> np.ndarray:
        """Motion at ``speed`` along ``direction`` that also servoes the gripper onto the line
        through the contact position and keeps it at puck height."""
        puck = state.object_pos
        _, lateral = line_coordinates(
            state.grip_pos, self._strike_line_point(puck, direction), direction
        )
        normal = np.array([-direction[1], direction[0], 0.0])
        motion = speed * direction - self.LATERAL_GAIN * lateral / ACTION_SCALE * normal
        motion[2] = self.LATERAL_GAIN * (puck[2] - state.grip_pos[2]) / ACTION_SCALE
        return limit(motion)

    def _released(self, state: FetchState, speed_gain: float) -> bool:
        """Whether the puck, left alone now, would glide at least to the goal.

        The decision acts a step late (the gripper is still pushing during the next step), so
        while a top-up push is speeding the puck up, the speed is extrapolated one step ahead.
        """
        puck, velocity = state.object_pos, state.object_vel
        speed = float(np.linalg.norm(velocity[:2]))
        if speed > 0.0:
            velocity = velocity * (1.0 + speed_gain / speed)
        rest_point = puck + self._friction.travel(velocity)
        short_by, _ = line_coordinates(state.goal, rest_point, planar_direction(puck, state.goal))
        return short_by < self.RELEASE_MARGIN

    def _top_up_action(self, puck_speed: float, needed_speed: float) -> float:
        """Gripper speed (action units) while following a puck after the impact.

        The gripper closes in on a puck that is too slow at ``TOP_UP_FRACTION`` of the missing
        speed, so the next contact nudges it up instead of launching it past the goal; a puck
        that is fast enough is merely shadowed (no closing speed) until the release.
        """
        gripper_speed = puck_speed + self.TOP_UP_FRACTION * max(needed_speed - puck_speed, 0.0)
        return float(np.clip(gripper_speed / self.GRIPPER_SPEED_PER_ACTION, 0.0, 1.0))

    def _after_release(self, state: FetchState) -> np.ndarray:
        """Backs off while the puck glides, then plans another strike if it stopped short."""
        speed = float(np.linalg.norm(state.object_vel[:2]))
        if speed > self.RESTING_SPEED:
            if planar_distance(state.grip_pos, state.object_pos) < self.RUNUP:
                return -self.RETREAT * planar_direction(state.grip_pos, state.object_pos)
            return np.zeros(3)
        if planar_distance(state.object_pos, state.goal) > self.RESTRIKE_DISTANCE:
            self._approach.restart()
            self._phase = _Slide.APPROACH
        return np.zeros(3)
