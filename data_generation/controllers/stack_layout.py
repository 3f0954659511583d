"""The FetchStack observation as the stacking controller reads it, and the finger geometry.

The layout itself is declared in :mod:`herdemos.envs`; the WAM's stacking envs share it, the
block size and the gripper, so one controller serves both arms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from herdemos.envs import BLOCK_HALF_SIZE, BLOCK_OBS, GRIPPER_OBS

STACK_ENV_PREFIX = "FetchStack"
"""Name prefix of herdemos' stacking envs (``FetchStack3-v1``, ``FetchStack3-Step-v1`` ...)."""

STACK_ENV_PREFIXES = (STACK_ENV_PREFIX, "WAMStack")
"""Name prefixes of every stacking env: Fetch's and the WAM's (``WAMStack2-v1``) share the
observation layout, the block size and the gripper, so one controller serves both."""

BLOCK_EDGE = 2 * BLOCK_HALF_SIZE

FINGER_FACE_OFFSET = 0.0009
"""Distance (metres) of a finger's inner face from the gripper centre line at joint position 0:
the finger body sits 15.9 mm out and its 7 mm half-thick pad is shifted 8 mm back in."""


def stack_block_count(dim_o: int) -> int:
    """Number of blocks N in a FetchStack observation of length ``dim_o = 10 + 15 N``.

    Raises:
        ValueError: ``dim_o`` does not have that form.
    """
    blocks, rest = divmod(dim_o - GRIPPER_OBS, BLOCK_OBS)
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
    per_block = flat[GRIPPER_OBS:].reshape(n_blocks, BLOCK_OBS)
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
    half_width = BLOCK_HALF_SIZE * (abs(np.cos(yaw)) + abs(np.sin(yaw)))
    return float(np.clip(half_width + slack - FINGER_FACE_OFFSET, 0.0, 0.05))
