"""benchmarks.evaluate: checkpoints are compared on shared episodes, the winner reported on fresh
ones, with honest binomial intervals."""

import numpy as np
import pytest

from benchmarks.evaluate import evaluate_suite, find_checkpoints, wilson_interval
from herdemos.policy import Policy
from herdemos.util import HerdemosError

ENV_ID = "point_env:PointGoal-v0"


def point_policy(gain: float) -> Policy:
    """An actor for PointGoalEnv that moves towards the goal at ``gain`` (0: stands still).

    Hidden units are relu(g - o) and relu(o - g) per axis; the output is their difference."""
    eye = np.eye(2, dtype=np.float32)
    w1 = np.concatenate([np.hstack([-eye, eye]), np.hstack([eye, -eye])]).astype(np.float32)
    w2 = gain * np.vstack([eye, -eye]).astype(np.float32)
    actor = [w1, np.zeros(4, np.float32), w2, np.zeros(2, np.float32)]
    critic = [np.zeros((6, 1), np.float32), np.zeros(1, np.float32)]
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    return Policy(actor, critic, zeros, ones, zeros, ones, 200.0, 5.0, 1.0, {"env_id": ENV_ID})


def write_run(seed_dir, gains_by_epoch):
    seed_dir.mkdir(parents=True)
    rows = ["epoch,total_env_steps"] + [f"{e},{e * 100}" for e in range(1, 31)]
    (seed_dir / "progress.csv").write_text("\n".join(rows) + "\n")
    for epoch, gain in gains_by_epoch.items():
        point_policy(gain).save(seed_dir / f"policy_{epoch}.pkl")


def test_wilson_interval_matches_the_textbook_value_and_stays_in_range():
    low, high = wilson_interval(95, 100)
    assert low == pytest.approx(0.8882, abs=1e-3) and high == pytest.approx(0.9785, abs=1e-3)
    assert wilson_interval(100, 100)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 100)[0] == pytest.approx(0.0)
    assert wilson_interval(0, 100)[1] > 0.02  # no success seen is not a zero rate


def test_checkpoints_are_found_per_seed_in_epoch_order_with_their_env_steps(tmp_path):
    write_run(tmp_path / "seed0", {20: 0.0, 10: 0.0})
    (tmp_path / "seed0" / "policy_best.pkl").write_bytes(b"not a checkpoint name")
    write_run(tmp_path / "seed1", {30: 0.0})
    found = find_checkpoints(tmp_path)
    assert [(c.seed_dir.name, c.epoch, c.env_steps) for c in found] == [
        ("seed0", 10, 1000),
        ("seed0", 20, 2000),
        ("seed1", 30, 3000),
    ]


def test_the_better_checkpoint_is_chosen_and_reported_on_fresh_episodes(tmp_path):
    write_run(tmp_path / "suite" / "seed0", {10: 0.0, 20: 20.0, 30: 0.0})
    payload = evaluate_suite(tmp_path / "suite", episodes=40, report_episodes=60)
    rates = {c["epoch"]: c["success_rate"] for c in payload["checkpoints"]}
    # Standing still succeeds only if the point starts within 0.1 of the goal; steering gets
    # there whenever 10 steps of 0.1 suffice.
    assert rates[10] == rates[30] < 0.1 < 0.3 < rates[20]
    assert payload["chosen"]["epoch"] == 20
    report = payload["report"]
    assert report["episodes"] == 60 and report["ci95"][0] <= report["success_rate"]
    assert report["success_rate"] <= report["ci95"][1]
    assert payload["report_first_seed"] != payload["selection_first_seed"]


def test_a_suite_without_saved_policies_is_a_one_line_error(tmp_path):
    (tmp_path / "empty" / "seed0").mkdir(parents=True)
    with pytest.raises(HerdemosError, match="no policy_<epoch>.pkl files"):
        evaluate_suite(tmp_path / "empty", episodes=5, report_episodes=5)


def test_min_epoch_leaves_out_earlier_checkpoints(tmp_path):
    write_run(tmp_path / "suite" / "seed0", {10: 20.0, 20: 0.0, 30: 0.0})
    payload = evaluate_suite(tmp_path / "suite", episodes=10, report_episodes=10, min_epoch=20)
    assert [c["epoch"] for c in payload["checkpoints"]] == [20, 30]
    with pytest.raises(HerdemosError, match="from epoch 40 on"):
        evaluate_suite(tmp_path / "suite", episodes=10, report_episodes=10, min_epoch=40)
