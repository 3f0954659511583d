"""Scripted (hand-coded) controllers that demonstrate the Fetch tasks.

The controllers are small phase state machines that read the Fetch observation dict and return
the 4-D Fetch action ``(dx, dy, dz, gripper)``. They are used to generate demonstrations, so they
aim to be quick, smooth and deterministic; exploration noise is added by the caller.

All position control goes through :func:`move_toward`, a proportional controller. Fetch moves
its mocap to ``current gripper position + 0.05 * action`` every step, and the soft weld only
covers roughly two thirds of that offset per step, so commanding slightly *more* than the
remaining error (``GAIN`` > 1) gives a fast, non-oscillating approach.

Measured with seeds 0..99 (no action noise): Reach, PickAndPlace and Push succeed in all
episodes; Slide in about two thirds. Most Slide failures are goals farther than a full-speed
strike can send the puck (about 0.6 m); the rest stop a few centimetres outside the 5 cm radius.
Stacking (herdemos' FetchStack2..6) succeeds in all of seeds 0..49 for every block count.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

ACTION_SCALE = 0.05
"""Metres of mocap displacement per unit of action (fixed inside the Fetch envs)."""

GAIN = 1.5
"""Proportional gain, as a multiple of the remaining error commanded per step (see module doc)."""

DEADBAND = 0.005
"""Position errors below this (metres) produce no motion, so the gripper rests instead of
dithering around a target. It is 10x tighter than the 5 cm success threshold."""

GRIPPER_OPEN = 1.0
GRIPPER_CLOSED = -1.0

TABLE_CLEARANCE = 0.08
"""Height (metres) above the object's centre at which the gripper travels over it. The closed
fingers reach about 2 cm below the grip site and a block's top is 2.5 cm above its centre, so 8 cm
leaves a margin of about 3.5 cm."""

FINGER_HALF_X = 0.0135
"""Half extent (metres) of the closed finger pair along world x (finger box half-length)."""

FINGER_HALF_Y = 0.015
"""Half extent (metres) of the closed finger pair along world y (two 1.4 cm finger boxes)."""

OBJECT_DIMS = 25
"""Length of ``observation`` in the Fetch envs with an object (Push, PickAndPlace, Slide)."""


class ScriptedController(Protocol):
    """A hand-coded policy for one Fetch task."""

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        """Prepares for a new episode; called after ``env.reset`` with the first observation."""
        ...

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Returns a float32 action of shape (4,) within [-1, 1]."""
        ...


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchState:
    """The parts of a Fetch observation the controllers use, in world coordinates.

    Attributes:
        grip_pos: Gripper (grip site) position.
        goal: Desired goal.
        object_pos: Object position, or None in Reach.
        object_vel: Object displacement per env step (world frame), or None in Reach.
        grip_vel: Gripper displacement per env step (world frame).
    """

    grip_pos: np.ndarray
    goal: np.ndarray
    object_pos: np.ndarray | None
    object_vel: np.ndarray | None
    grip_vel: np.ndarray


def parse_obs(obs: dict[str, np.ndarray]) -> FetchState:
    """Splits a Fetch observation dict into named quantities.

    The env reports the object velocity relative to the gripper; the gripper velocity is added
    back because the slide controller needs the puck's own speed.

    Args:
        obs: Observation dict with ``observation`` and ``desired_goal``.

    Returns:
        The parsed state.
    """
    flat = np.asarray(obs["observation"], dtype=np.float64)
    goal = np.asarray(obs["desired_goal"], dtype=np.float64)
    grip_pos = flat[0:3]
    if flat.shape[0] < OBJECT_DIMS:
        return FetchState(grip_pos, goal, None, None, flat[5:8])
    grip_vel = flat[20:23]
    object_vel = flat[14:17] + grip_vel
    return FetchState(grip_pos, goal, flat[3:6], object_vel, grip_vel)


def limit(vector: np.ndarray) -> np.ndarray:
    """Scales a motion command uniformly so every component is within [-1, 1].

    Uniform scaling (instead of per-component clipping) keeps the direction of motion, so the
    gripper travels along straight lines, which the collision checks of the approach rely on.

    Args:
        vector: Motion command in action units.

    Returns:
        The command, shrunk if necessary.
    """
    peak = float(np.max(np.abs(vector))) if vector.size else 0.0
    return vector / peak if peak > 1.0 else vector


def move_toward(
    current: np.ndarray,
    target: np.ndarray,
    gain: float = GAIN,
    deadband: float = DEADBAND,
    max_action: float = 1.0,
) -> np.ndarray:
    """Proportional motion command that brings ``current`` to ``target``.

    Args:
        current: Present position of the controlled point (metres).
        target: Desired position of the controlled point (metres).
        gain: Multiple of the remaining error commanded per step.
        deadband: Errors shorter than this give zero motion, avoiding chatter at the target.
        max_action: Speed cap; the command is scaled so no component exceeds it.

    Returns:
        Motion command (3,) in action units, direction-preserving and within
        ``[-max_action, max_action]``.
    """
    error = np.asarray(target, dtype=np.float64) - np.asarray(current, dtype=np.float64)
    if np.linalg.norm(error) < deadband:
        return np.zeros(3)
    return max_action * limit(gain * error / (ACTION_SCALE * max_action))


def make_action(motion: np.ndarray, gripper: float) -> np.ndarray:
    """Packs a motion command and a gripper command into a Fetch action.

    Args:
        motion: (3,) motion command in action units.
        gripper: Gripper command, +1 opens and -1 closes.

    Returns:
        float32 action of shape (4,), clipped to [-1, 1].
    """
    action = np.append(np.asarray(motion, dtype=np.float64), gripper)
    return np.clip(action, -1.0, 1.0).astype(np.float32)


def planar_direction(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Unit vector in the table plane from ``source`` to ``target`` (z component zero).

    Falls back to +x (away from the robot) when the points coincide, which only happens when
    the object already sits on the goal and the direction is irrelevant.

    Args:
        source: Start point (3,).
        target: End point (3,).

    Returns:
        (3,) unit vector with zero z component.
    """
    delta = np.asarray(target, dtype=np.float64) - np.asarray(source, dtype=np.float64)
    delta[2] = 0.0
    norm = float(np.linalg.norm(delta))
    if norm < 1e-9:
        return np.array([1.0, 0.0, 0.0])
    return delta / norm


def planar_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Horizontal (x, y) distance between two points."""
    return float(np.linalg.norm(np.asarray(a)[:2] - np.asarray(b)[:2]))


def line_coordinates(
    point: np.ndarray, origin: np.ndarray, direction: np.ndarray
) -> tuple[float, float]:
    """Coordinates of ``point`` in the planar frame (along ``direction``, left of it).

    Args:
        point: Point to express (3,).
        origin: Frame origin (3,).
        direction: Planar unit vector (3,) giving the frame's first axis.

    Returns:
        ``(along, lateral)``: signed distances along the direction and perpendicular to it.
    """
    rel = np.asarray(point)[:2] - np.asarray(origin)[:2]
    along = float(rel @ direction[:2])
    lateral = float(rel @ np.array([-direction[1], direction[0]]))
    return along, lateral


def segment_clearance(start: np.ndarray, end: np.ndarray, point: np.ndarray) -> float:
    """Horizontal distance from ``point`` to the segment ``start``-``end``."""
    a, b, p = (np.asarray(v, dtype=np.float64)[:2] for v in (start, end, point))
    seg = b - a
    length_sq = float(seg @ seg)
    t = 0.0 if length_sq < 1e-12 else float(np.clip((p - a) @ seg / length_sq, 0.0, 1.0))
    return float(np.linalg.norm(a + t * seg - p))


def jittered(value: float, rng: np.random.Generator | None, spread: float = 0.1) -> float:
    """Returns ``value`` scaled by a random factor in ``[1 - spread, 1 + spread]``, if ``rng``.

    Small per-episode variation of speeds makes demonstration sets less uniform without
    changing what the controller does.
    """
    if rng is None:
        return value
    return value * float(rng.uniform(1.0 - spread, 1.0 + spread))


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


# --------------------------------------------------------------------------------------------
# Task controllers
# --------------------------------------------------------------------------------------------


class ReachController:
    """FetchReach: move the gripper straight to the goal and stay there."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        """Creates the controller; ``rng`` only jitters the speed gain per episode."""
        self._rng = rng
        self._gain = GAIN

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        """Starts an episode (Reach is stateless apart from the jittered gain)."""
        del obs
        self._gain = jittered(GAIN, self._rng)

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Returns the P-control action toward the goal (the gripper is blocked in Reach)."""
        state = parse_obs(obs)
        return make_action(move_toward(state.grip_pos, state.goal, self._gain), 0.0)


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


# --------------------------------------------------------------------------------------------
# Block stacking (herdemos' FetchStackN envs)
# --------------------------------------------------------------------------------------------

STACK_ENV_PREFIX = "FetchStack"
"""Name prefix of herdemos' stacking envs (``FetchStack3-v0``, ``FetchStack3-Step-v0`` ...)."""

STACK_GRIPPER_DIMS = 10
"""Leading entries of a FetchStack observation: grip position, fingers, grip and finger speeds."""

STACK_BLOCK_DIMS = 15
"""Entries per block in a FetchStack observation: position, position relative to the grip,
Euler rotation, linear and angular velocity."""

BLOCK_HALF = 0.025
"""Half the edge (metres) of the Fetch blocks."""

BLOCK_EDGE = 2 * BLOCK_HALF

FINGER_FACE_OFFSET = 0.0009
"""Distance (metres) of a finger's inner face from the gripper centre line at joint position 0:
the finger body sits 15.9 mm out and its 7 mm half-thick pad is shifted 8 mm back in."""


def stack_block_count(dim_o: int) -> int:
    """Number of blocks N in a FetchStack observation of length ``dim_o = 10 + 15 N``.

    Raises:
        ValueError: ``dim_o`` does not have that form.
    """
    blocks, rest = divmod(dim_o - STACK_GRIPPER_DIMS, STACK_BLOCK_DIMS)
    if blocks < 1 or rest:
        raise ValueError(f"observation length {dim_o} is not 10 + 15 N for a FetchStack env")
    return blocks


@dataclass(frozen=True)
class StackState:
    """The parts of a FetchStack observation the stacking controller uses (world frame).

    Attributes:
        grip_pos: Gripper (grip site) position (3,).
        finger_pos: Mean finger joint position (metres each finger is open).
        blocks: Block positions (N, 3).
        yaws: Block rotations about the vertical (N,), radians.
        targets: Tower targets (N, 3), block 0 at the bottom.
    """

    grip_pos: np.ndarray
    finger_pos: float
    blocks: np.ndarray
    yaws: np.ndarray
    targets: np.ndarray

    @property
    def n_blocks(self) -> int:
        """Number of blocks N."""
        return self.blocks.shape[0]


def parse_stack_obs(obs: dict[str, np.ndarray]) -> StackState:
    """Splits a FetchStack observation dict into named quantities (layout in ``envs/stack.py``).

    Args:
        obs: Observation dict with ``observation`` and ``desired_goal``.

    Returns:
        The parsed state.
    """
    flat = np.asarray(obs["observation"], dtype=np.float64)
    n_blocks = stack_block_count(flat.shape[0])
    per_block = flat[STACK_GRIPPER_DIMS:].reshape(n_blocks, STACK_BLOCK_DIMS)
    targets = np.asarray(obs["desired_goal"], dtype=np.float64).reshape(n_blocks, 3)
    return StackState(
        grip_pos=flat[0:3],
        finger_pos=float(np.mean(flat[3:5])),
        blocks=per_block[:, 0:3],
        yaws=per_block[:, 8],
        targets=targets,
    )


def finger_opening(yaw: float, slack: float) -> float:
    """Finger joint position that leaves ``slack`` between each pad and a block of this yaw.

    The fingers close along world y; a block turned by ``yaw`` is ``h (|cos| + |sin|)`` wide
    there. Opening just that far, instead of fully (6.5 cm from the centre line to the outer
    pad face), keeps the pads off neighbouring blocks, which may start 7 cm away.
    """
    half_width = BLOCK_HALF * (abs(np.cos(yaw)) + abs(np.sin(yaw)))
    return float(np.clip(half_width + slack - FINGER_FACE_OFFSET, 0.0, 0.05))


@dataclass(frozen=True)
class _Move:
    """One pick-and-place sub-task of the stacking controller.

    Attributes:
        block: Index of the block to move.
        park_at: Table position to put it down at (to clear the way), or None to put it on the
            tower, on the block below (whose position is re-read every step).
    """

    block: int
    park_at: np.ndarray | None


class _Carry(enum.Enum):
    APPROACH = enum.auto()
    DESCEND = enum.auto()
    GRASP = enum.auto()
    LIFT = enum.auto()
    CARRY = enum.auto()
    LOWER = enum.auto()
    RELEASE = enum.auto()
    RETREAT = enum.auto()


class StackController:
    """FetchStackN: pick and place the blocks in order, block 0 first, each on the one below.

    A planner picks the next sub-task from the observed state whenever the previous one ends, so
    a dropped or knocked-over block is simply handled again: the lowest block not yet on its
    target is next, unless another block is in its way (on top of it, or on or next to its spot
    on the tower, including where the hand and wrist pass), which is first parked on a free spot
    of the table. Each sub-task is one pick and place: approach above the block at a height that
    clears every other block, descend with the fingers open (only just wider than the block if a
    neighbour is close), grasp, lift straight up, carry over, lower onto the tower (servoing the
    *block*, so an off-centre grasp still lands on target), release, and retreat upward.
    """

    ALIGN_TOL = 0.008
    """Horizontal gripper-block alignment (metres) required before descending; inside the
    finger slack."""

    FINGER_SLACK = 0.01
    """Gap (metres) between each open finger pad and the block while grasping."""

    OPEN_FINGER_REACH = (0.055, 0.105)
    """Half extents (metres, world x and y) around a block within which a neighbour's centre
    would touch fully open finger pads (1.35 cm along x, 6.5 cm out along y, plus 3.5 cm for a
    turned neighbour and a half-centimetre margin)."""

    FINGER_GAIN = 0.4
    """Gripper command per metre of finger position error. The finger joint is position
    servoed to ``current + command``; the full error (gain 1) overshoots to fully open."""

    HOVER = 0.06
    """Minimum height (metres) of the approach above the block to pick."""

    TRAVEL_CLEARANCE = 0.085
    """Travel height (metres) above the highest other block centre. A carried block's bottom
    is then 3.5 cm above that block's top, and an empty hand's finger tips (2 cm below the grip
    site) clear it by 4 cm."""

    ARRIVAL_TOL = 0.01
    """Position error (metres) at which a way-point counts as reached."""

    RISE_TOL = 0.02
    """If the gripper is lower than the travel height by more than this (metres), it first
    rises straight up, so the straight path to the next block cannot sweep through others."""

    PLACE_ALIGN = 0.006
    """Horizontal error (metres) of the carried block over its destination before lowering."""

    LOWER_SPEED = 0.5
    """Speed cap (action units) while lowering a block, so it touches down gently."""

    RELEASE_HEIGHT = 0.02
    """Height (metres) of the carried block above its destination at which it is released. It
    drops the last centimetre or so (the hand lags), which is harmless, whereas pressing it onto
    the tower lets lateral action noise drag the tower over (noise 0.1, N=3: 0.95 success
    against 0.8 when released at 0.8 cm)."""

    PHASE_LIMIT = 12
    """Steps after which a descent or lowering that does not arrive is cut short (blocked by a
    block); the descent restarts the sub-task, the lowering releases where it is."""

    GRASP_STEPS = 3
    """Steps spent closing before lifting; the fingers close within about 3 steps."""

    MIN_GRASP_OPENING = 0.01
    """Finger position (metres) below which a closed grip holds nothing (a held block keeps the
    fingers about 2.4 cm open)."""

    RELEASE_STEPS = 6
    """Maximum steps spent opening the fingers before retreating."""

    RETREAT_HEIGHT = 0.07
    """Height (metres) above the released block the gripper retreats to: the finger tips are
    then 2.5 cm above its top."""

    LOST_DISTANCE = 0.04
    """Gripper-block distance (metres) beyond which a carried block counts as dropped."""

    HOLD_HEIGHT = 0.1
    """Height (metres) above the top block at which the hand waits once the tower stands."""

    PLACED_TOL = 0.04
    """A block within this distance (metres) of its target counts as stacked (success needs
    5 cm; the margin keeps the tower accepted when blocks settle a little)."""

    BLOCKING_RADIUS = 0.075
    """Horizontal distance (metres) from a destination within which another block is in the
    way: a block edge plus the closed fingers' half width (1.5 cm) plus a 1 cm margin."""

    HAND_PARTS = (
        (-0.02, 0.0135, 0.049),
        (0.05, 0.043, 0.063),
        (0.167, 0.052, 0.052),
        (0.199, 0.053, 0.075),
    )
    """Finger pads (opened for grasping), palm, wrist roll and wrist flex links of the hand as
    ``(height of the part's bottom above the grip site, half extent along world x, along y)``,
    measured from the model's bounding boxes (metres). A block beside the tower within a part's
    reach is hit by it while the other is grasped, or while a block is put down on the tower,
    so it is cleared first (see :meth:`_crowds`)."""

    NEIGHBOUR_REACH = 0.04
    """Added to the part extents: a neighbouring block's half-diagonal (3.5 cm, for any yaw)
    plus a half-centimetre margin."""

    PARK_RANGE = 0.15
    """Half side (metres) of the square around the gripper start where blocks may be parked
    (the envs' initial block range)."""

    PARK_GRID = 0.025
    """Spacing (metres) of the candidate parking spots."""

    PARK_MARGIN = 0.02
    """Extra distance (metres) of a parking spot from where a block would be in the tower's way
    (see :meth:`_crowds`), so a block put down a little off the spot stays out of the way."""

    PARK_BLOCK_CLEARANCE = 0.09
    """Minimum horizontal distance (metres) of a parking spot from every other block."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        """Creates the controller; ``rng`` only jitters the speed gain per episode."""
        self._rng = rng
        self._gain = GAIN
        self._centre = np.zeros(3)
        self._move: _Move | None = None
        self._phase = _Carry.APPROACH
        self._phase_steps = 0

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        """Starts an episode; the gripper start is the centre of the parking area."""
        self._gain = jittered(GAIN, self._rng)
        self._centre = parse_stack_obs(obs).grip_pos.copy()
        self._move = None

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Returns the action of the current sub-task, planning a new one when it ends."""
        state = parse_stack_obs(obs)
        for _ in range(2 * len(_Carry)):
            if self._move is None:
                self._move = self._plan(state)
                self._set_phase(_Carry.APPROACH)
            if self._move is None:
                return self._hold(state)
            action = self._phase_action(state, self._move)
            if action is not None:
                self._phase_steps += 1
                return action
        return make_action(np.zeros(3), 0.0)  # unreachable: every move ends in an action

    def _hold(self, state: StackState) -> np.ndarray:
        """Keeps the open hand above the finished tower.

        Zero motion is not enough: Fetch re-centres its mocap on the hand every step, so action
        noise would make the hand drift down onto the tower; it is servoed back instead.
        """
        top = state.blocks[int(np.argmax(state.blocks[:, 2]))]
        target = top + np.array([0.0, 0.0, self.HOLD_HEIGHT])
        target[:2] = state.grip_pos[:2]
        return make_action(move_toward(state.grip_pos, target, self._gain), GRIPPER_OPEN)

    # Planning ------------------------------------------------------------------------------

    def _plan(self, state: StackState) -> _Move | None:
        """Next sub-task: clear the way for the lowest unstacked block, or stack it."""
        level = self._stacked(state)
        if level == state.n_blocks:
            return None
        blocker = self._blocker(state, level)
        if blocker is not None:
            return _Move(blocker, self._parking_spot(state, blocker))
        return _Move(level, None)

    def _stacked(self, state: StackState) -> int:
        """Number of blocks, from the bottom, that are on their targets."""
        for i in range(state.n_blocks):
            if np.linalg.norm(state.blocks[i] - state.targets[i]) >= self.PLACED_TOL:
                return i
        return state.n_blocks

    def _blocker(self, state: StackState, level: int) -> int | None:
        """The highest unstacked block in the way of stacking block ``level``, if any.

        In the way means on top of that block (it could not be grasped) or on or beside its
        tower spot at that height or above (it could not be put down there).
        """
        block, spot = state.blocks[level], self._tower_spot(state, level)
        blocking = [
            j
            for j in range(level + 1, state.n_blocks)
            if (
                planar_distance(state.blocks[j], block) < BLOCK_EDGE
                and state.blocks[j][2] > block[2] + BLOCK_HALF
            )
            or (
                self._crowds(state.n_blocks, state.blocks[j], spot)
                and state.blocks[j][2] > spot[2] - BLOCK_HALF
            )
        ]
        return max(blocking, key=lambda j: state.blocks[j][2]) if blocking else None

    def _crowds(
        self, n_blocks: int, points: np.ndarray, spot: np.ndarray, margin: float = 0.0
    ) -> np.ndarray:
        """Whether blocks at ``points`` are too close to the tower ``spot`` to build it there.

        Only the hand parts that reach down to the top of the full tower matter (the palm and
        wrist pass above a short one); the carried block itself needs ``BLOCKING_RADIUS``.

        Args:
            n_blocks: Blocks in the env, which sets the tower's height.
            points: Block positions, shape (..., 2 or 3).
            spot: Tower position (2 or 3,).
            margin: Extra clearance (metres) on every side.

        Returns:
            Boolean array of shape (...).
        """
        offset = np.abs(np.asarray(points)[..., :2] - np.asarray(spot)[:2])
        reach = self._hand_reach(n_blocks) + margin
        in_reach = np.all(offset < reach, axis=-1)
        return in_reach | (np.linalg.norm(offset, axis=-1) < self.BLOCKING_RADIUS + margin)

    def _hand_reach(self, n_blocks: int) -> np.ndarray:
        """Half extents (x, y) around the tower where a block would touch the hand.

        The hand grasps a table block with its grip site at the block centre, when the tower
        may stand ``n_blocks - 1`` blocks high, i.e. up to this height above the grip site.
        """
        tower_top = (n_blocks - 1) * BLOCK_EDGE - BLOCK_HALF
        reach = [np.array([x, y]) for bottom, x, y in self.HAND_PARTS if bottom < tower_top]
        return np.max(reach, axis=0) + self.NEIGHBOUR_REACH

    def _parking_spot(self, state: StackState, block: int) -> np.ndarray:
        """The free table spot nearest to ``block``, clear of the tower and the other blocks.

        Falls back to the spot farthest from everything if none is free (not seen in practice).
        """
        offsets = np.arange(-self.PARK_RANGE, self.PARK_RANGE + 1e-9, self.PARK_GRID)
        grid = np.array([(x, y) for x in offsets for y in offsets]) + self._centre[:2]
        others = np.delete(state.blocks, block, axis=0)[:, :2]
        to_blocks = np.linalg.norm(grid[:, None, :] - others[None, :, :], axis=-1).min(axis=1)
        base = state.targets[0]
        crowded = self._crowds(state.n_blocks, grid, base, self.PARK_MARGIN)
        free = (to_blocks >= self.PARK_BLOCK_CLEARANCE) & ~crowded
        if free.any():
            distance = np.linalg.norm(grid - state.blocks[block, :2], axis=-1)
            best = int(np.argmin(np.where(free, distance, np.inf)))
        else:
            to_tower = np.linalg.norm(grid - base[:2], axis=-1)
            best = int(np.argmax(np.minimum(to_blocks, to_tower)))
        return np.array([*grid[best], base[2]])

    def _tower_spot(self, state: StackState, level: int) -> np.ndarray:
        """Where block ``level`` goes: its target for the base, else on the block below."""
        if level == 0:
            return state.targets[0].copy()
        return state.blocks[level - 1] + np.array([0.0, 0.0, BLOCK_EDGE])

    def _destination(self, state: StackState, move: _Move) -> np.ndarray:
        """Current destination of the moved block."""
        return move.park_at if move.park_at is not None else self._tower_spot(state, move.block)

    def _travel_height(self, state: StackState, block: int) -> float:
        """Gripper height that clears every block other than ``block`` (see TRAVEL_CLEARANCE)."""
        others = np.delete(state.blocks, block, axis=0)
        return float(others[:, 2].max()) + self.TRAVEL_CLEARANCE

    # Phases --------------------------------------------------------------------------------

    def _set_phase(self, phase: _Carry) -> None:
        """Enters ``phase``, restarting its step count (used by the phase time limits)."""
        self._phase = phase
        self._phase_steps = 0

    def _restart(self) -> None:
        """Drops the current sub-task; the next call plans afresh from the observed state."""
        self._move = None

    def _phase_action(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Action of the current phase, or None after moving on to another phase."""
        handlers = {
            _Carry.APPROACH: self._approach,
            _Carry.DESCEND: self._descend,
            _Carry.GRASP: self._grasp,
            _Carry.LIFT: self._lift,
            _Carry.CARRY: self._carry,
            _Carry.LOWER: self._lower,
            _Carry.RELEASE: self._release,
            _Carry.RETREAT: self._retreat,
        }
        carrying = self._phase in (_Carry.LIFT, _Carry.CARRY, _Carry.LOWER)
        if carrying and self._dropped(state, move):
            self._restart()
            return None
        return handlers[self._phase](state, move)

    def _dropped(self, state: StackState, move: _Move) -> bool:
        """Whether the carried block has left the hand (then the sub-task is re-planned)."""
        block = state.blocks[move.block]
        return bool(np.linalg.norm(block - state.grip_pos) > self.LOST_DISTANCE)

    def _open_command(self, state: StackState, block: int) -> float:
        """Gripper command that opens the fingers around ``block``: fully, as in pick and place,
        unless a neighbour at the same height is within reach of the fully open pads; then
        servoed to just wider than the block. Full opening is preferred because it is robust to
        action noise, which makes the servoed opening wander by centimetres."""
        if not self._has_neighbour(state, block):
            return GRIPPER_OPEN
        target = finger_opening(float(state.yaws[block]), self.FINGER_SLACK)
        return self.FINGER_GAIN * (target - state.finger_pos)

    def _has_neighbour(self, state: StackState, block: int) -> bool:
        """Whether another block is level with ``block`` and within reach of open fingers."""
        offsets = np.abs(np.delete(state.blocks, block, axis=0) - state.blocks[block])
        near = np.all(offsets[:, :2] < self.OPEN_FINGER_REACH, axis=1)
        return bool(np.any(near & (offsets[:, 2] < BLOCK_EDGE - BLOCK_HALF / 2)))

    def _approach(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Moves above the block at travel height, rising first if low (so the straight path
        cannot sweep through other blocks), opening the fingers on the way."""
        grip, block = state.grip_pos, state.blocks[move.block]
        if planar_distance(grip, block) <= self.ALIGN_TOL:
            self._set_phase(_Carry.DESCEND)
            return None
        height = max(self._travel_height(state, move.block), block[2] + self.HOVER)
        target = np.array([block[0], block[1], height])
        if grip[2] < height - self.RISE_TOL:
            target[:2] = grip[:2]
        motion = move_toward(grip, target, self._gain)
        return make_action(motion, self._open_command(state, move.block))

    def _descend(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Lowers the open hand around the block; re-approaches if misaligned or stuck."""
        grip, block = state.grip_pos, state.blocks[move.block]
        if (
            self._phase_steps > self.PHASE_LIMIT
            or planar_distance(grip, block) > 2 * self.ALIGN_TOL
        ):
            self._set_phase(_Carry.APPROACH)
            return None
        if np.linalg.norm(block - grip) > self.ARRIVAL_TOL:
            motion = move_toward(grip, block, self._gain)
            return make_action(motion, self._open_command(state, move.block))
        self._set_phase(_Carry.GRASP)
        return None

    def _grasp(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Closes the fingers in place; re-approaches if they closed on nothing."""
        if self._phase_steps < self.GRASP_STEPS:
            return make_action(np.zeros(3), GRIPPER_CLOSED)
        if state.finger_pos < self.MIN_GRASP_OPENING:
            self._set_phase(_Carry.APPROACH)  # closed on nothing: try again
        else:
            self._set_phase(_Carry.LIFT)
        return None

    def _lift(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Lifts the block straight up to travel height, clear of its neighbours."""
        grip = state.grip_pos
        height = self._travel_height(state, move.block)
        if grip[2] < height - self.ARRIVAL_TOL:
            target = np.array([grip[0], grip[1], height])
            return make_action(move_toward(grip, target, self._gain), GRIPPER_CLOSED)
        self._set_phase(_Carry.CARRY)
        return None

    def _carry(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Carries the block at travel height until it is over its destination."""
        block, destination = state.blocks[move.block], self._destination(state, move)
        if planar_distance(block, destination) <= self.PLACE_ALIGN:
            self._set_phase(_Carry.LOWER)
            return None
        height = self._travel_height(state, move.block) - (state.grip_pos[2] - block[2])
        target = np.array([destination[0], destination[1], height])
        return make_action(move_toward(block, target, self._gain), GRIPPER_CLOSED)

    def _lower(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Lowers the block, at a capped speed, to just above its destination."""
        block, destination = state.blocks[move.block], self._destination(state, move)
        arrived = block[2] - destination[2] <= self.RELEASE_HEIGHT
        if arrived or self._phase_steps > self.PHASE_LIMIT:
            self._set_phase(_Carry.RELEASE)
            return None
        motion = move_toward(block, destination, self._gain, max_action=self.LOWER_SPEED)
        return make_action(motion, GRIPPER_CLOSED)

    def _release(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Opens the fingers in place until they clear the block."""
        opening = finger_opening(float(state.yaws[move.block]), 0.0)
        if self._phase_steps < self.RELEASE_STEPS and state.finger_pos < opening:
            return make_action(np.zeros(3), self._open_command(state, move.block))
        self._set_phase(_Carry.RETREAT)
        return None

    def _retreat(self, state: StackState, move: _Move) -> np.ndarray | None:
        """Lifts the open hand off the released block, then ends the sub-task."""
        grip = state.grip_pos
        height = state.blocks[move.block][2] + self.RETREAT_HEIGHT
        if grip[2] < height - self.ARRIVAL_TOL:
            target = np.array([grip[0], grip[1], height])
            motion = move_toward(grip, target, self._gain)
            return make_action(motion, self._open_command(state, move.block))
        self._restart()
        return None


_SUPPORTED: dict[str, Callable[[np.random.Generator | None], ScriptedController]] = {
    "FetchReach": ReachController,
    "FetchPush": PushController,
    "FetchPickAndPlace": PickAndPlaceController,
    "FetchSlide": SlideController,
    STACK_ENV_PREFIX: StackController,
}

CONTROLLER_ENVS: tuple[str, ...] = tuple(_SUPPORTED)


def make_controller(
    env_id: str, rng: np.random.Generator | None = None
) -> ScriptedController | None:
    """Returns the scripted controller for a Fetch env id, or None if there is none.

    The id is matched by its name before ``-v`` (``FetchPush-v4`` -> ``FetchPush``), ignoring a
    namespace (``gymnasium_robotics/...``) and a ``Dense`` suffix, since dense-reward variants
    have the same dynamics. Every ``FetchStack...`` id (any block count, sparse or ``-Step``
    reward) gets the stacking controller, which reads the block count from the observation.

    Args:
        env_id: Gymnasium env id.
        rng: Optional generator for small per-episode variation of the controllers' speed.

    Returns:
        A fresh controller, or None for envs without a scripted controller.
    """
    name = env_id.rsplit("/", 1)[-1].split("-v", 1)[0]
    name = name.removesuffix("Dense")
    if name.startswith(STACK_ENV_PREFIX):
        name = STACK_ENV_PREFIX  # one controller for every block count and reward type
    controller_cls = _SUPPORTED.get(name)
    return None if controller_cls is None else controller_cls(rng)
