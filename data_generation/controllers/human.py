"""The ``human`` style: demonstrations as a teleoperator would record them.

The operator's hand is :class:`~.human_motion.HumanHand` (own pace, lagging smooth motion,
correlated tremor, pauses); the recording ends a few steps after the task looks done, or after
the operator gives up (:class:`~.human_motion.Recording`), so episodes have different lengths.
On top of that the task logic makes the mistakes people make: grasps placed off-centre that must
be redone, carries and pushes that overshoot the goal and come back, a block that slips from the
fingers, and attempts abandoned after a drop. Some episodes fail by design.

The controllers need a random generator: without one they draw from a fixed seed.
"""

from __future__ import annotations

import enum

import numpy as np

from herdemos.data_generation.controllers.common import (
    GRIPPER_CLOSED,
    GRIPPER_OPEN,
    line_coordinates,
    make_action,
    parse_obs,
    planar_direction,
    planar_distance,
)
from herdemos.data_generation.controllers.human_motion import SEEN_DONE, HumanHand, Recording

HOLDING_WIDTH = 0.03
"""Summed finger opening (metres) above which closed fingers hold the 5 cm block (empty
fingers close to nearly zero)."""


class _HumanController:
    """The parts every human-style controller shares: the hand, the recording, the step count."""

    LATE_GIVE_UP_PROB = 0.5
    """Probability that an operator far from the goal late in the episode gives up."""

    def __init__(self, rng: np.random.Generator | None) -> None:
        self._rng = rng if rng is not None else np.random.default_rng(0)
        self.hand = HumanHand(self._rng)
        self.recording = Recording(self._rng)
        self._deadline = 0

    @property
    def recorded_steps(self) -> int | None:
        """The recording's length once it stopped, else None (it runs to the horizon)."""
        return self.recording.stopped_at

    def _begin(self) -> None:
        self.hand.reset()
        self.recording.reset()
        self._deadline = int(self._rng.integers(35, 46))

    def _maybe_give_up(self, distance: float) -> None:
        """At a moment of its choosing late in the episode, an operator still far from the goal
        may stop trying, instead of recording to the end."""
        late = self.recording.steps == self._deadline and distance > 0.08
        if late and self._rng.random() < self.LATE_GIVE_UP_PROB:
            self.recording.give_up()

    def _overshoot(self, probability: float, low: float, high: float) -> float:
        """A distance to aim past a goal (metres), or 0: people often go a bit too far."""
        return float(self._rng.uniform(low, high)) if self._rng.random() < probability else 0.0


class _Pick(enum.Enum):
    APPROACH = enum.auto()
    DESCEND = enum.auto()
    CLOSE = enum.auto()
    CARRY = enum.auto()
    REOPEN = enum.auto()


class HumanPickAndPlaceController(_HumanController):
    """FetchPickAndPlace by a human-like operator: hover, descend, grasp (redone if it missed),
    carry (maybe past the goal, then back), and stop recording when it looks done."""

    MISGRASP_PROB = 0.2
    """Probability per episode that the first grasp is placed off-centre and misses."""

    DROP_PROB = 0.25
    """Probability per episode that the block slips from the fingers during the carry."""

    RETRY_PROB = 0.5
    """Probability that the operator picks the block up again after a drop (else gives up)."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        super().__init__(rng)
        self._phase = _Pick.APPROACH
        self._count = 0
        self._hover = 0.06
        self._offset = np.zeros(3)
        self._overshoot_by = 0.0
        self._beyond: np.ndarray | None = None
        self._drop_after: int | None = None
        self._close_steps = 3

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        del obs
        self._begin()
        rng = self._rng
        self._hover = float(rng.uniform(0.04, 0.09))
        self._close_steps = int(rng.integers(2, 6))
        self._offset = np.zeros(3)
        if rng.random() < self.MISGRASP_PROB:
            angle = rng.uniform(0, 2 * np.pi)
            self._offset = 0.035 * np.array([np.cos(angle), np.sin(angle), 0.0])
        self._overshoot_by = self._overshoot(0.4, 0.015, 0.04)
        self._beyond = None
        self._drop_after = int(rng.integers(2, 12)) if rng.random() < self.DROP_PROB else None
        self._enter(_Pick.APPROACH)

    def _enter(self, phase: _Pick) -> None:
        self._phase = phase
        self._count = 0

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        if self.recording.stops_now(obs):
            return make_action(np.zeros(3), GRIPPER_CLOSED)
        return self._decide(obs)

    def _decide(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        state = parse_obs(obs)
        assert state.object_pos is not None, "PickAndPlace needs an object observation"
        block, grip, goal = state.object_pos, state.grip_pos, state.goal
        fingers = float(np.sum(np.asarray(obs["observation"])[9:11]))
        self._maybe_give_up(float(np.linalg.norm(goal - block)))
        aim = block + self._offset
        if self._phase is _Pick.APPROACH:
            hover = aim + np.array([0.0, 0.0, self._hover])
            if planar_distance(grip, hover) > 0.012 or abs(grip[2] - hover[2]) > 0.03:
                return make_action(self.hand.move(grip, hover), GRIPPER_OPEN)
            self._enter(_Pick.DESCEND)
        if self._phase is _Pick.DESCEND:
            if np.linalg.norm(aim - grip) > 0.01:
                return make_action(self.hand.move(grip, aim, 0.7), GRIPPER_OPEN)
            self._enter(_Pick.CLOSE)
        if self._phase is _Pick.CLOSE:
            self._count += 1
            if self._count <= self._close_steps:
                return make_action(self.hand.move(grip, grip), GRIPPER_CLOSED)
            if fingers < HOLDING_WIDTH:  # missed: open, and try again centred
                self._offset = np.zeros(3)
                self._enter(_Pick.REOPEN)
            else:
                self._enter(_Pick.CARRY)
        if self._phase is _Pick.REOPEN:
            self._count += 1
            if self._count <= 3:
                up = grip + np.array([0.0, 0.0, 0.03])
                return make_action(self.hand.move(grip, up, 0.5), GRIPPER_OPEN)
            self._enter(_Pick.APPROACH)
            return self._decide(obs)
        return self._carry(obs, block, grip, goal, fingers)

    def _carry(
        self,
        obs: dict[str, np.ndarray],
        block: np.ndarray,
        grip: np.ndarray,
        goal: np.ndarray,
        fingers: float,
    ) -> np.ndarray:
        if np.linalg.norm(block - grip) > 0.05 or fingers < HOLDING_WIDTH / 2:
            self._offset = np.zeros(3)
            self._drop_after = None
            if self._rng.random() < self.RETRY_PROB:
                self._enter(_Pick.REOPEN)
                return self._decide(obs)
            self.recording.give_up()
            return make_action(np.zeros(3), GRIPPER_OPEN)
        self._count += 1
        if self._drop_after is not None and self._count > self._drop_after:
            return make_action(self.hand.move(grip, grip), GRIPPER_OPEN)  # it slips
        if self._overshoot_by > 0 and self._beyond is None:  # fixed as the carry starts
            self._beyond = goal + self._overshoot_by * planar_direction(block, goal)
        if self._beyond is not None and np.linalg.norm(self._beyond - block) < 0.012:
            self._overshoot_by, self._beyond = 0.0, None  # arrived past the goal: come back
        target = goal if self._beyond is None else self._beyond
        return make_action(self.hand.move(block, target), GRIPPER_CLOSED)


class _Push(enum.Enum):
    RISE = enum.auto()
    OVER = enum.auto()
    LOWER = enum.auto()
    PUSH = enum.auto()
    WAIT = enum.auto()


class HumanPushController(_HumanController):
    """FetchPush by a human-like operator: up and over to behind the block, down, push (maybe
    past the goal, then around and back), and stop recording when it looks done."""

    STANDOFF = 0.07
    """Where the gripper comes down, behind the block centre (metres)."""

    CONTACT = 0.04
    """Block centre to gripper centre at contact (half a block plus half the fingers)."""

    GIVE_UP_PROB = 0.3
    """Probability that the operator gives up when the block ends far off the push line."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        super().__init__(rng)
        self._phase = _Push.RISE
        self._aim = np.zeros(3)  # the goal, or a point past it the operator pushes to first
        self._push_speed = 0.6
        self._height = 0.08

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        self._begin()
        state = parse_obs(obs)
        assert state.object_pos is not None, "Push needs an object observation"
        overshoot = self._overshoot(0.4, 0.02, 0.05)
        self._aim = state.goal + overshoot * planar_direction(state.object_pos, state.goal)
        self._push_speed = float(self._rng.uniform(0.45, 0.85))
        self._height = float(self._rng.uniform(0.06, 0.1))
        self._phase = _Push.RISE

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        if self.recording.stops_now(obs):
            return make_action(np.zeros(3), GRIPPER_CLOSED)
        state = parse_obs(obs)
        assert state.object_pos is not None, "Push needs an object observation"
        block, grip, goal = state.object_pos, state.grip_pos, state.goal
        self._maybe_give_up(planar_distance(block, goal))
        direction = planar_direction(block, self._aim)
        remaining = planar_distance(block, self._aim)
        behind = block - self.STANDOFF * direction
        high = behind + np.array([0.0, 0.0, self._height])
        if self._phase is _Push.PUSH and remaining < 0.015:
            if planar_distance(self._aim, goal) > 0:
                self._aim = goal  # pushed past the goal: come back around
                self._phase = _Push.RISE
            else:
                self._phase = _Push.WAIT
        if self._phase is _Push.WAIT:
            if planar_distance(block, goal) < SEEN_DONE:  # done: lift the hand clear of it
                clear = block + 0.08 * planar_direction(block, grip)
                clear[2] = block[2] + 0.05
                return make_action(self.hand.move(grip, clear, 0.5), GRIPPER_CLOSED)
            self._phase = _Push.RISE
        if self._phase is _Push.RISE:
            if grip[2] < high[2] - 0.015:
                up = np.array([grip[0], grip[1], high[2]])
                return make_action(self.hand.move(grip, up), GRIPPER_CLOSED)
            self._phase = _Push.OVER
        if self._phase is _Push.OVER:
            if planar_distance(grip, high) > 0.015:
                return make_action(self.hand.move(grip, high), GRIPPER_CLOSED)
            self._phase = _Push.LOWER
        if self._phase is _Push.LOWER:
            if np.linalg.norm(behind - grip) > 0.012:
                return make_action(self.hand.move(grip, behind, 0.7), GRIPPER_CLOSED)
            self._phase = _Push.PUSH
        along, lateral = line_coordinates(grip, block, direction)
        if abs(lateral) > 0.03 or along > -0.02:
            if planar_distance(block, goal) > 0.25 and self._rng.random() < self.GIVE_UP_PROB:
                self.recording.give_up()
            self._phase = _Push.RISE
            up = grip + np.array([0.0, 0.0, 0.03])
            return make_action(self.hand.move(grip, up), GRIPPER_CLOSED)
        lead = min(0.5 * remaining, 0.025)
        target = block + (lead - self.CONTACT) * direction
        return make_action(self.hand.move(grip, target, self._push_speed), GRIPPER_CLOSED)
