"""Block stacking controller for herdemos' FetchStackN and WAMStackN envs (any number of blocks).

:class:`StackController` runs one state machine (approach, descend, grasp, lift, carry, lower,
release, retreat) over the sub-tasks that :mod:`.stack_plan` picks from the observed state; the
observation and finger geometry are in :mod:`.stack_layout`.
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
    planar_distance,
)
from herdemos.data_generation.controllers.stack_layout import (
    BLOCK_EDGE,
    StackState,
    finger_opening,
    parse_stack_obs,
)
from herdemos.data_generation.controllers.stack_plan import Move, next_move, tower_spot
from herdemos.envs import BLOCK_HALF_SIZE


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
    The planner (:func:`.stack_plan.next_move`) picks the next sub-task from the observed state
    whenever the previous one ends, so a dropped or knocked-over block is simply handled again.
    Each sub-task is one pick and place: approach above the block at a height that
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

    EARLY_CLOSE_HEIGHT = 0.065
    """Grip-site height (metres) above the block centre at which a deliberately missed grasp
    closes: the finger tips, 2 cm below the grip site, are 2 cm above the block's top, and the
    hand coasts on by about a centimetre while they shut, so they close on nothing. (Closing
    lower pinches the block's top edge: a half grasp that drops it, not a clean miss.)"""

    def __init__(self, rng: np.random.Generator | None = None, miss_prob: float = 0.0) -> None:
        """Creates the controller.

        Args:
            rng: Jitters the speed gain per episode, and draws the deliberate misses.
            miss_prob: Probability that a pick closes the fingers too early, above the block,
                on purpose. The controller then does what it does after any missed grasp: opens,
                re-aligns and grasps again. Demos made this way show that recovery, which a
                policy that misses a grasp otherwise never sees (it hovers or wanders off).
        """
        if miss_prob > 0 and rng is None:
            raise ValueError("miss_prob > 0 needs an rng to draw the misses")
        self._rng = rng
        self._miss_prob = miss_prob
        self._miss_pending = False
        self._gain = GAIN
        self._centre = np.zeros(3)
        self._move: Move | None = None
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
                self._move = next_move(state, self._centre)
                self._set_phase(_Carry.APPROACH)
                if self._move is not None and self._miss_prob > 0:  # no draw: old demos stay
                    self._miss_pending = bool(self._rng.random() < self._miss_prob)
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

    # Geometry ------------------------------------------------------------------------------

    def _destination(self, state: StackState, move: Move) -> np.ndarray:
        """Current destination of the moved block."""
        return move.park_at if move.park_at is not None else tower_spot(state, move.block)

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

    def _phase_action(self, state: StackState, move: Move) -> np.ndarray | None:
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

    def _dropped(self, state: StackState, move: Move) -> bool:
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
        return bool(np.any(near & (offsets[:, 2] < BLOCK_EDGE - BLOCK_HALF_SIZE / 2)))

    def _approach(self, state: StackState, move: Move) -> np.ndarray | None:
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

    def _descend(self, state: StackState, move: Move) -> np.ndarray | None:
        """Lowers the open hand around the block; re-approaches if misaligned or stuck."""
        grip, block = state.grip_pos, state.blocks[move.block]
        if (
            self._phase_steps > self.PHASE_LIMIT
            or planar_distance(grip, block) > 2 * self.ALIGN_TOL
        ):
            self._set_phase(_Carry.APPROACH)
            return None
        if self._miss_pending and self._phase_steps == 0:
            # Only a descent that starts above the miss height can miss cleanly; one that
            # starts lower (re-picking a block from a low hand) would pinch the block's edge.
            self._miss_pending = grip[2] - block[2] > self.EARLY_CLOSE_HEIGHT
        if self._miss_pending and grip[2] - block[2] <= self.EARLY_CLOSE_HEIGHT:
            self._miss_pending = False  # one deliberate miss per pick at most
            self._set_phase(_Carry.GRASP)
            return None
        if np.linalg.norm(block - grip) > self.ARRIVAL_TOL:
            motion = move_toward(grip, block, self._gain)
            return make_action(motion, self._open_command(state, move.block))
        self._set_phase(_Carry.GRASP)
        return None

    def _grasp(self, state: StackState, move: Move) -> np.ndarray | None:
        """Closes the fingers in place; re-approaches if they closed on nothing."""
        if self._phase_steps < self.GRASP_STEPS:
            return make_action(np.zeros(3), GRIPPER_CLOSED)
        if state.finger_pos < self.MIN_GRASP_OPENING:
            self._set_phase(_Carry.APPROACH)  # closed on nothing: try again
        else:
            self._set_phase(_Carry.LIFT)
        return None

    def _lift(self, state: StackState, move: Move) -> np.ndarray | None:
        """Lifts the block straight up to travel height, clear of its neighbours."""
        grip = state.grip_pos
        height = self._travel_height(state, move.block)
        if grip[2] < height - self.ARRIVAL_TOL:
            target = np.array([grip[0], grip[1], height])
            return make_action(move_toward(grip, target, self._gain), GRIPPER_CLOSED)
        self._set_phase(_Carry.CARRY)
        return None

    def _carry(self, state: StackState, move: Move) -> np.ndarray | None:
        """Carries the block at travel height until it is over its destination."""
        block, destination = state.blocks[move.block], self._destination(state, move)
        if planar_distance(block, destination) <= self.PLACE_ALIGN:
            self._set_phase(_Carry.LOWER)
            return None
        height = self._travel_height(state, move.block) - (state.grip_pos[2] - block[2])
        target = np.array([destination[0], destination[1], height])
        return make_action(move_toward(block, target, self._gain), GRIPPER_CLOSED)

    def _lower(self, state: StackState, move: Move) -> np.ndarray | None:
        """Lowers the block, at a capped speed, to just above its destination."""
        block, destination = state.blocks[move.block], self._destination(state, move)
        arrived = block[2] - destination[2] <= self.RELEASE_HEIGHT
        if arrived or self._phase_steps > self.PHASE_LIMIT:
            self._set_phase(_Carry.RELEASE)
            return None
        motion = move_toward(block, destination, self._gain, max_action=self.LOWER_SPEED)
        return make_action(motion, GRIPPER_CLOSED)

    def _release(self, state: StackState, move: Move) -> np.ndarray | None:
        """Opens the fingers in place until they clear the block."""
        opening = finger_opening(float(state.yaws[move.block]), 0.0)
        if self._phase_steps < self.RELEASE_STEPS and state.finger_pos < opening:
            return make_action(np.zeros(3), self._open_command(state, move.block))
        self._set_phase(_Carry.RETREAT)
        return None

    def _retreat(self, state: StackState, move: Move) -> np.ndarray | None:
        """Lifts the open hand off the released block, then ends the sub-task."""
        grip = state.grip_pos
        height = state.blocks[move.block][2] + self.RETREAT_HEIGHT
        if grip[2] < height - self.ARRIVAL_TOL:
            target = np.array([grip[0], grip[1], height])
            motion = move_toward(grip, target, self._gain)
            return make_action(motion, self._open_command(state, move.block))
        self._restart()
        return None
