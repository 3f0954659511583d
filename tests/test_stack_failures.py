"""benchmarks.stack_failures sorts a failed stacking episode into the stage that went wrong."""

import numpy as np
import pytest
from cli_asserts import assert_one_line_error
from click.testing import CliRunner

from benchmarks.stack_failures import episode_outcome, is_stacked, main
from herdemos.policy import Policy

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


def write_policy(path):
    """A real (tiny, non-stacking) policy file: the --out checks must run before it is loaded."""
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    actor = [np.zeros((4, 2), np.float32), zeros]
    critic = [np.zeros((6, 1), np.float32), np.zeros(1, np.float32)]
    Policy(actor, critic, zeros, ones, zeros, ones, 200.0, 5.0, 1.0, {"env_id": "X-v0"}).save(path)
    return path


@pytest.mark.parametrize(
    ("make_out", "fragments"),
    [
        (lambda policy: str(policy), ["--out", "is the policy file being read"]),
        (lambda policy: "policy.pkl", ["--out policy.pkl: is the policy file"]),  # relative
        (lambda policy: str(policy.parent / "failures.txt"), ["--out", "must end in .json"]),
        (lambda policy: str(policy / "failures.json"), ["--out", "is a file, not a folder"]),
        (lambda policy: "", ["--out", "is a folder, not a file"]),
    ],
)
def test_a_bad_out_is_refused_before_the_policy_is_touched(
    tmp_path, monkeypatch, make_out, fragments
):
    monkeypatch.chdir(tmp_path)
    policy = write_policy(tmp_path / "policy.pkl")
    before = policy.read_bytes()
    result = CliRunner().invoke(main, [str(policy), "--out", make_out(policy)])
    assert_one_line_error(result, *fragments)
    assert policy.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.pkl"]


def test_a_negative_seed_is_a_usage_error_without_traceback(tmp_path):
    policy = write_policy(tmp_path / "policy.pkl")
    result = CliRunner().invoke(main, [str(policy), "--seed", "-1"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "'--seed'" in result.output and "Traceback" not in result.output


def test_help_documents_episodes_and_where_the_default_output_goes():
    text = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    assert "benchmarks/results/<suite>/failures-<env>.json" in text
    assert "--episodes INTEGER RANGE Episodes to run" in text
