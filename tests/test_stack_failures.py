"""benchmarks.stack_failures sorts a failed stacking episode into the stage that went wrong."""

import numpy as np

from benchmarks.stack_failures import episode_outcome, is_stacked

TABLE = 0.425
TOWER = np.array([[1.30, 0.75, TABLE], [1.30, 0.75, TABLE + 0.05]])


def outcome(final, success=False, built=False, lifted=(True, True), placed=(True, True)):
    return episode_outcome(np.asarray(final), success, built, np.array(lifted), np.array(placed))


def test_a_tower_is_stacked_only_when_centred_and_one_block_higher():
    assert is_stacked(TOWER)
    assert is_stacked(TOWER + [0.0, 0.02, 0.0] * np.array([[0], [1]]))  # 2 cm off: it stands
    assert not is_stacked(TOWER + [0.0, 0.03, 0.0] * np.array([[0], [1]]))  # 3 cm off: it falls
    side_by_side = np.array([[1.30, 0.75, TABLE], [1.30, 0.80, TABLE]])
    assert not is_stacked(side_by_side)


def test_outcomes_name_the_stage_that_failed():
    assert outcome(TOWER, success=True) == "success"
    assert outcome(TOWER + [0.06, 0, 0], built=True) == "built_then_lost"
    # The tower stands, 6 cm from its target: neither block counts as placed.
    assert outcome(TOWER + [0.06, 0, 0], placed=(False, False)) == "tower_off_target"
    apart = np.array([[1.30, 0.75, TABLE], [1.10, 0.90, TABLE]])
    assert outcome(apart, placed=(False, False), lifted=(True, False)) == "first_block_not_placed"
    assert outcome(apart, placed=(True, False), lifted=(True, False)) == "block_1_never_lifted"
    assert outcome(apart, placed=(True, False)) == "block_1_not_placed"
    assert outcome(apart) == "all_placed_never_together"
