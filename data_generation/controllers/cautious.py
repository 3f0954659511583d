"""The ``cautious`` style: a slow, deliberate demonstrator unlike herdemos' own and the original's.

It differs from both on every knob a demonstrator has: a low gain (it commands less than the
remaining error, so it settles slowly instead of in a step or two) under a speed cap, gripper
commands of +-0.3 instead of +-1 (herdemos) or +0.05/-0.005 (original), a high approach from
10 cm above the object, vertical-only lifts and descents, and short pauses between phases.
"""

from __future__ import annotations

import enum

import numpy as np

from herdemos.data_generation.controllers.common import (
    line_coordinates,
    make_action,
    move_toward,
    parse_obs,
    planar_direction,
    planar_distance,
)

GAIN = 0.8
"""Multiple of the remaining error commanded per step; below 1, so moves settle gradually."""

MAX_SPEED = 0.6
"""Cap on every motion command (herdemos and the original use the whole [-1, 1])."""

GRIPPER_OPEN = 0.3
GRIPPER_CLOSED = -0.3

HIGH = 0.10
"""Travel height (metres) above the object centre for every approach."""

PAUSE_STEPS = 2
"""Steps of stillness between an approach and the contact that follows it."""

TOL = 0.008
"""Position error (metres) at which a way-point counts as reached."""


def _toward(current: np.ndarray, target: np.ndarray, speed: float = MAX_SPEED) -> np.ndarray:
    return move_toward(current, target, GAIN, deadband=0.002, max_action=speed)


class _Pick(enum.Enum):
    RISE = enum.auto()
    OVER = enum.auto()
    PAUSE = enum.auto()
    DESCEND = enum.auto()
    CLOSE = enum.auto()
    LIFT = enum.auto()
    CARRY = enum.auto()


class CautiousPickAndPlaceController:
    """FetchPickAndPlace: up, over the block high, pause, straight down, close, lift, carry.

    If the block is lost on the way, it starts over from the rise.
    """

    GRASP_DEPTH = -0.005
    """Grip site relative to the block centre when closing: a little below the centre."""

    CLOSE_STEPS = 4
    """Steps of closing in place; +-0.3 closes the fingers more gently than herdemos' -1."""

    LIFT_HEIGHT = 0.04
    """Straight-up lift (metres) before carrying, so the block never drags on the table."""

    LOST_DISTANCE = 0.05
    """Gripper-block distance (metres) beyond which the block counts as dropped."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        del rng  # deterministic
        self._phase = _Pick.RISE
        self._count = 0
        self._lift_z = 0.0

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        del obs
        self._enter(_Pick.RISE)

    def _enter(self, phase: _Pick) -> None:
        self._phase = phase
        self._count = 0

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        state = parse_obs(obs)
        assert state.object_pos is not None, "PickAndPlace needs an object observation"
        block, grip = state.object_pos, state.grip_pos
        above = block + np.array([0.0, 0.0, HIGH])
        if self._phase is _Pick.RISE:
            if grip[2] < above[2] - TOL:
                return make_action(_toward(grip, [grip[0], grip[1], above[2]]), GRIPPER_OPEN)
            self._enter(_Pick.OVER)
        if self._phase is _Pick.OVER:
            if planar_distance(grip, above) > TOL:
                return make_action(_toward(grip, above), GRIPPER_OPEN)
            self._enter(_Pick.PAUSE)
        if self._phase is _Pick.PAUSE:
            self._count += 1
            if self._count <= PAUSE_STEPS:
                return make_action(np.zeros(3), GRIPPER_OPEN)
            self._enter(_Pick.DESCEND)
        if self._phase is _Pick.DESCEND:
            grasp = block + np.array([0.0, 0.0, self.GRASP_DEPTH])
            if np.linalg.norm(grasp - grip) > TOL:
                return make_action(_toward(grip, grasp), GRIPPER_OPEN)
            self._enter(_Pick.CLOSE)
        if self._phase is _Pick.CLOSE:
            self._count += 1
            if self._count <= self.CLOSE_STEPS:
                return make_action(np.zeros(3), GRIPPER_CLOSED)
            self._lift_z = block[2] + self.LIFT_HEIGHT
            self._enter(_Pick.LIFT)
        if np.linalg.norm(block - grip) > self.LOST_DISTANCE:
            self._enter(_Pick.RISE)
            return self.act(obs)
        if self._phase is _Pick.LIFT:
            if block[2] < self._lift_z - TOL and state.goal[2] > block[2] - TOL:
                lifted = np.array([block[0], block[1], self._lift_z])
                return make_action(_toward(block, lifted), GRIPPER_CLOSED)
            self._enter(_Pick.CARRY)
        return make_action(_toward(block, state.goal), GRIPPER_CLOSED)


class _Push(enum.Enum):
    RISE = enum.auto()
    OVER = enum.auto()
    PAUSE = enum.auto()
    DESCEND = enum.auto()
    PUSH = enum.auto()
    RETREAT = enum.auto()


class CautiousPushController:
    """FetchPush: always over the top to a point well behind the block, pause, lower, then push
    slowly at a constant speed along the block-goal line, and lift away once it is close.

    Each approach goes up and over (never a low path beside the block), and a gripper that drifts
    off the push line goes back up and starts over.
    """

    STANDOFF = 0.08
    """Where the gripper comes down, behind the block centre (metres)."""

    CONTACT = 0.04
    """Block centre to gripper centre at contact (half a block plus half the fingers)."""

    PUSH_SPEED = 0.4
    """Constant motion command while pushing, well under herdemos' and the original's."""

    LEAD = 0.02
    """How far ahead of contact the tracked point sits (metres)."""

    DONE_RADIUS = 0.02
    """Block-goal distance (metres) at which the push ends and the gripper lifts away."""

    OFF_LINE = 0.025
    """Lateral offset from the push line (metres) beyond which it starts over."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        del rng  # deterministic
        self._phase = _Push.RISE
        self._count = 0

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        del obs
        self._enter(_Push.RISE)

    def _enter(self, phase: _Push) -> None:
        self._phase = phase
        self._count = 0

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        state = parse_obs(obs)
        assert state.object_pos is not None, "Push needs an object observation"
        block, grip, goal = state.object_pos, state.grip_pos, state.goal
        direction = planar_direction(block, goal)
        behind = block - self.STANDOFF * direction
        high = behind + np.array([0.0, 0.0, HIGH])
        remaining = planar_distance(block, goal)
        if remaining < self.DONE_RADIUS and self._phase is _Push.PUSH:
            self._enter(_Push.RETREAT)
        if self._phase is _Push.RETREAT:
            up = np.array([grip[0], grip[1], block[2] + HIGH])
            return make_action(_toward(grip, up), GRIPPER_CLOSED)
        if self._phase is _Push.RISE:
            if grip[2] < high[2] - TOL:
                return make_action(_toward(grip, [grip[0], grip[1], high[2]]), GRIPPER_CLOSED)
            self._enter(_Push.OVER)
        if self._phase is _Push.OVER:
            if planar_distance(grip, high) > TOL:
                return make_action(_toward(grip, high), GRIPPER_CLOSED)
            self._enter(_Push.PAUSE)
        if self._phase is _Push.PAUSE:
            self._count += 1
            if self._count <= PAUSE_STEPS:
                return make_action(np.zeros(3), GRIPPER_CLOSED)
            self._enter(_Push.DESCEND)
        if self._phase is _Push.DESCEND:
            if np.linalg.norm(behind - grip) > TOL:
                return make_action(_toward(grip, behind), GRIPPER_CLOSED)
            self._enter(_Push.PUSH)
        along, lateral = line_coordinates(grip, block, direction)
        if abs(lateral) > self.OFF_LINE or along > -self.CONTACT / 2:
            self._enter(_Push.RISE)
            return self.act(obs)
        target = block + (min(self.LEAD, remaining) - self.CONTACT) * direction
        return make_action(_toward(grip, target, self.PUSH_SPEED), GRIPPER_CLOSED)
