"""Shared pieces of the scripted Fetch controllers: constants, observation parsing and motion.

Every task module of this package builds its 4-D action ``(dx, dy, dz, gripper)`` with
:func:`make_action`, and all but the stacking controller (whose observation layout differs) read
the Fetch observation through :func:`parse_obs`; the geometry helpers here keep the task modules
to their phase logic.

All position control goes through :func:`move_toward`, a proportional controller. Fetch moves
its mocap to ``current gripper position + 0.05 * action`` every step, and the soft weld only
covers roughly two thirds of that offset per step, so commanding slightly *more* than the
remaining error (``GAIN`` > 1) gives a fast, non-oscillating approach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class StopsRecording(Protocol):
    """A controller that, like a human operator, may end its recording before the horizon."""

    @property
    def recorded_steps(self) -> int | None:
        """Steps recorded once the recording stopped; None while it runs (to the horizon)."""
        ...


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
