"""benchmarks.failure_phases: the phase a failed pick-and-place episode stops in."""

import numpy as np
import pytest

from benchmarks.failure_phases import REACH, TABLE_HEIGHT, phase_of

AIR_GOAL = np.array([1.3, 0.7, TABLE_HEIGHT + 0.2])
TABLE_GOAL = np.array([1.3, 0.7, TABLE_HEIGHT])


def episode(gripper_to_block: float, block_heights: list[float]) -> np.ndarray:
    """Observations whose gripper is ``gripper_to_block`` m from the block along x at every
    step, and whose block rises through ``block_heights``."""
    t = len(block_heights)
    obs = np.zeros((t, 25))
    obs[:, 3:6] = [1.2, 0.7, 0.0]
    obs[:, 5] = block_heights
    obs[:, :3] = obs[:, 3:6] + [gripper_to_block, 0.0, 0.0]
    return obs


@pytest.mark.parametrize(
    ("distance", "heights", "goal", "success", "expected"),
    [
        (REACH + 0.01, [TABLE_HEIGHT] * 5, AIR_GOAL, True, "success"),
        (REACH + 0.01, [TABLE_HEIGHT] * 5, AIR_GOAL, False, "no reach"),
        (REACH + 0.01, [TABLE_HEIGHT] * 5, TABLE_GOAL, False, "no reach"),
        (REACH - 0.01, [TABLE_HEIGHT] * 5, AIR_GOAL, False, "no lift"),
        (REACH - 0.01, [TABLE_HEIGHT, TABLE_HEIGHT + 0.05], AIR_GOAL, False, "misplaced"),
        # A goal on the table needs no lift: a reached block that is not there is misplaced.
        (REACH - 0.01, [TABLE_HEIGHT] * 5, TABLE_GOAL, False, "misplaced"),
    ],
)
def test_failures_are_sorted_by_the_first_phase_not_completed(
    distance, heights, goal, success, expected
):
    assert phase_of(episode(distance, heights), goal, success) == expected
