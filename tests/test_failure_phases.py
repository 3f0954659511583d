"""benchmarks.failure_phases: the phase a failed pick-and-place episode stops in."""

import json

import numpy as np
import pytest
from cli_asserts import assert_one_line_error
from click.testing import CliRunner

from benchmarks import failure_phases
from benchmarks.failure_phases import REACH, phase_of
from herdemos.util import HerdemosError

TABLE_HEIGHT = 0.425  # the Fetch table's; the tool reads it from the block's start
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
        # The table's height is the block's start: on a higher table a goal on it is not in the air.
        (REACH - 0.01, [0.6] * 5, np.array([1.3, 0.7, 0.6]), False, "misplaced"),
        (REACH - 0.01, [0.6] * 5, np.array([1.3, 0.7, 0.8]), False, "no lift"),
    ],
)
def test_failures_are_sorted_by_the_first_phase_not_completed(
    distance, heights, goal, success, expected
):
    assert phase_of(episode(distance, heights), goal, success) == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-suite", "--seed", "0"], "not a training suite"),
        (["sources-push-cautious-bc-rl", "--seed", "0"], "FetchPickAndPlace only"),
        (["sources-pickplace-cautious-bc-rl", "--seed", "99"], "no policy_<epoch>.pkl"),
    ],
)
def test_suites_without_phases_or_checkpoints_are_one_line_errors(argv, message):
    assert_one_line_error(CliRunner().invoke(failure_phases.main, argv), message)


@pytest.mark.parametrize(
    "content", ["not json", '{"rows": []}', '{"results": [{"epoch": 10}]}', '{"results": 3}']
)
def test_a_results_file_it_did_not_write_is_refused_by_name(tmp_path, content):
    path = tmp_path / "failure-phases.json"
    path.write_text(content)
    with pytest.raises(HerdemosError, match="not a failure-phases file"):
        failure_phases.read_rows(path)
    assert path.read_text() == content


def test_rows_of_earlier_runs_are_read_back(tmp_path):
    rows = [{"suite": "a", "seed": 0, "epoch": 10}, {"suite": "b", "seed": 1, "epoch": 20}]
    path = tmp_path / "failure-phases.json"
    path.write_text(json.dumps({"results": rows}))
    assert failure_phases.read_rows(path) == rows
    assert failure_phases.read_rows(path.with_name("absent.json")) == []
