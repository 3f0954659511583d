"""Planning of the stacking controller: which block to move next, and where to.

The lowest block not yet on its target is next, unless another block is in its way (on top of
it, or on or next to its spot on the tower, including where the hand and wrist pass); that one
is first parked on a free spot of the table. Every function reads only the observed state, so a
dropped or knocked-over block is simply planned for again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from herdemos.data_generation.controllers.common import planar_distance
from herdemos.data_generation.controllers.stack_layout import BLOCK_EDGE, StackState
from herdemos.envs import BLOCK_HALF_SIZE

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
so it is cleared first (see :func:`crowds`)."""

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
(see :func:`crowds`), so a block put down a little off the spot stays out of the way."""

PARK_BLOCK_CLEARANCE = 0.09
"""Minimum horizontal distance (metres) of a parking spot from every other block."""


@dataclass(frozen=True)
class Move:
    """One pick-and-place sub-task of the stacking controller.

    Attributes:
        block: Index of the block to move.
        park_at: Table position to put it down at (to clear the way), or None to put it on the
            tower, on the block below (whose position is re-read every step).
    """

    block: int
    park_at: np.ndarray | None


def next_move(state: StackState, centre: np.ndarray) -> Move | None:
    """Next sub-task: clear the way for the lowest unstacked block, or stack it; None once the
    tower stands. ``centre`` is the gripper's start, the centre of the parking area."""
    level = stacked_count(state)
    if level == state.n_blocks:
        return None
    in_the_way = blocker(state, level)
    if in_the_way is not None:
        return Move(in_the_way, parking_spot(state, in_the_way, centre))
    return Move(level, None)


def stacked_count(state: StackState) -> int:
    """Number of blocks, from the bottom, that are on their targets."""
    for i in range(state.n_blocks):
        if np.linalg.norm(state.blocks[i] - state.targets[i]) >= PLACED_TOL:
            return i
    return state.n_blocks


def blocker(state: StackState, level: int) -> int | None:
    """The highest unstacked block in the way of stacking block ``level``, if any.

    In the way means on top of that block (it could not be grasped) or on or beside its
    tower spot at that height or above (it could not be put down there).
    """
    block, spot = state.blocks[level], tower_spot(state, level)
    blocking = [
        j
        for j in range(level + 1, state.n_blocks)
        if (
            planar_distance(state.blocks[j], block) < BLOCK_EDGE
            and state.blocks[j][2] > block[2] + BLOCK_HALF_SIZE
        )
        or (
            crowds(state.n_blocks, state.blocks[j], spot)
            and state.blocks[j][2] > spot[2] - BLOCK_HALF_SIZE
        )
    ]
    return max(blocking, key=lambda j: state.blocks[j][2]) if blocking else None


def crowds(n_blocks: int, points: np.ndarray, spot: np.ndarray, margin: float = 0.0) -> np.ndarray:
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
    reach = hand_reach(n_blocks) + margin
    in_reach = np.all(offset < reach, axis=-1)
    return in_reach | (np.linalg.norm(offset, axis=-1) < BLOCKING_RADIUS + margin)


def hand_reach(n_blocks: int) -> np.ndarray:
    """Half extents (x, y) around the tower where a block would touch the hand.

    The hand grasps a table block with its grip site at the block centre, when the tower
    may stand ``n_blocks - 1`` blocks high, i.e. up to this height above the grip site.
    """
    tower_top = (n_blocks - 1) * BLOCK_EDGE - BLOCK_HALF_SIZE
    reach = [np.array([x, y]) for bottom, x, y in HAND_PARTS if bottom < tower_top]
    return np.max(reach, axis=0) + NEIGHBOUR_REACH


def parking_spot(state: StackState, block: int, centre: np.ndarray) -> np.ndarray:
    """The free table spot nearest to ``block``, clear of the tower and the other blocks, in
    the square of side ``2 PARK_RANGE`` around ``centre``.

    Falls back to the spot farthest from everything if none is free (not seen in practice).
    """
    offsets = np.arange(-PARK_RANGE, PARK_RANGE + 1e-9, PARK_GRID)
    grid = np.array([(x, y) for x in offsets for y in offsets]) + centre[:2]
    others = np.delete(state.blocks, block, axis=0)[:, :2]
    to_blocks = np.linalg.norm(grid[:, None, :] - others[None, :, :], axis=-1).min(axis=1)
    base = state.targets[0]
    crowded = crowds(state.n_blocks, grid, base, PARK_MARGIN)
    free = (to_blocks >= PARK_BLOCK_CLEARANCE) & ~crowded
    if free.any():
        distance = np.linalg.norm(grid - state.blocks[block, :2], axis=-1)
        best = int(np.argmin(np.where(free, distance, np.inf)))
    else:
        to_tower = np.linalg.norm(grid - base[:2], axis=-1)
        best = int(np.argmax(np.minimum(to_blocks, to_tower)))
    return np.array([*grid[best], base[2]])


def tower_spot(state: StackState, level: int) -> np.ndarray:
    """Where block ``level`` goes: its target for the base, else on the block below."""
    if level == 0:
        return state.targets[0].copy()
    return state.blocks[level - 1] + np.array([0.0, 0.0, BLOCK_EDGE])
