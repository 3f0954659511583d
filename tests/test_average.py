"""Checkpoint averaging: the mean policy, its checks, its CLI and benchmarks.evaluate's use."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.held_out import evaluate_suite
from herdemos.policy import Policy, average_policies, load_policy
from herdemos.util import HerdemosError

ROOT = Path(__file__).resolve().parents[1]
ENV_ID = "point_env:PointGoal-v0"


def axis_policy(gain_x: float, gain_y: float, epoch: int = 0) -> Policy:
    """A PointGoalEnv actor steering towards the goal with a separate gain per axis.

    Hidden units are relu(g - o) and relu(o - g) per axis; the output is their difference."""
    eye = np.eye(2, dtype=np.float32)
    w1 = np.concatenate([np.hstack([-eye, eye]), np.hstack([eye, -eye])]).astype(np.float32)
    gains = np.diag([gain_x, gain_y]).astype(np.float32)
    w2 = np.vstack([gains, -gains]).astype(np.float32)
    actor = [w1, np.zeros(4, np.float32), w2, np.zeros(2, np.float32)]
    critic = [np.full((6, 1), float(epoch), np.float32), np.zeros(1, np.float32)]
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    meta = {"env_id": ENV_ID, "epoch": epoch}
    return Policy(actor, critic, zeros, ones, zeros, ones, 200.0, 5.0, 1.0, meta)


def test_the_average_is_the_elementwise_mean_and_says_what_it_averaged():
    a, b = axis_policy(20.0, 0.0, epoch=10), axis_policy(0.0, 20.0, epoch=20)
    a.o_std, b.o_std = np.full(2, 2.0, np.float32), np.full(2, 4.0, np.float32)
    mean = average_policies([a, b], ["a.pkl", "b.pkl"])
    for got, wa, wb in zip(mean.actor_weights, a.actor_weights, b.actor_weights, strict=True):
        np.testing.assert_allclose(got, (wa + wb) / 2)
    np.testing.assert_allclose(mean.critic_weights[0], 15.0)
    np.testing.assert_allclose(mean.o_std, 3.0)
    assert mean.metadata["averaged_epochs"] == [10, 20]
    assert mean.metadata["averaged_from"] == ["a.pkl", "b.pkl"]
    assert mean.metadata["epoch"] == 20 and mean.env_id == ENV_ID
    # Steering on one axis each, the mean steers on both.
    obs = {"observation": np.zeros(2), "desired_goal": np.array([0.5, -0.5])}
    assert np.all(np.sign(mean.act(obs)) == [1, -1])
    assert a.act(obs)[1] == 0 and b.act(obs)[0] == 0


def test_policies_that_cannot_be_averaged_are_named():
    a = axis_policy(1.0, 1.0)
    other_env = axis_policy(1.0, 1.0)
    other_env.metadata["env_id"] = "FetchReach-v4"
    with pytest.raises(HerdemosError, match="b.pkl: trained on 'FetchReach-v4'"):
        average_policies([a, other_env], ["a.pkl", "b.pkl"])
    wider = axis_policy(1.0, 1.0)
    wider.actor_weights[0] = np.zeros((4, 5), np.float32)
    with pytest.raises(HerdemosError, match="c.pkl: network shapes differ from a.pkl"):
        average_policies([a, wider], ["a.pkl", "c.pkl"])


def test_checkpoints_of_different_runs_or_the_same_epoch_twice_are_refused():
    def checkpoint(epoch: int, seed: int, n_epochs: int) -> Policy:
        policy = axis_policy(1.0, 1.0, epoch)
        policy.metadata["config"] = {"train": {"seed": seed, "n_epochs": n_epochs}}
        return policy

    # a resume may raise n_epochs: checkpoints before and after it are one run
    mean = average_policies([checkpoint(10, 0, 50), checkpoint(60, 0, 100)], ["a", "b"])
    assert mean.metadata["averaged_epochs"] == [10, 60]
    with pytest.raises(HerdemosError, match=r"b.pkl: another training run than a.pkl \(train.seed"):
        average_policies([checkpoint(10, 0, 50), checkpoint(20, 1, 50)], ["a.pkl", "b.pkl"])
    with pytest.raises(HerdemosError, match=r"c.pkl: epoch 10 is already in the list \(a.pkl\)"):
        average_policies(
            [checkpoint(10, 0, 50), checkpoint(20, 0, 50), checkpoint(10, 0, 50)],
            ["a.pkl", "b.pkl", "c.pkl"],
        )


def run_average(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "experiment/average.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_average_cli_writes_a_loadable_policy(tmp_path):
    paths = []
    for epoch, gains in ((10, (20.0, 0.0)), (20, (0.0, 20.0))):
        paths.append(str(tmp_path / f"policy_{epoch}.pkl"))
        axis_policy(*gains, epoch=epoch).save(paths[-1])
    out = tmp_path / "policy_mean.pkl"
    result = run_average(*paths, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "mean of 2 policies (epochs 10, 20)" in result.stdout
    assert load_policy(out).metadata["averaged_epochs"] == [10, 20]


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda p: [p[0], "--out", "x.pkl"], "give at least two policy files"),
        (lambda p: [p[0], p[1], "--out", p[1]], "is one of the inputs"),
        (lambda p: [p[0], "missing.pkl", "--out", "x.pkl"], "missing.pkl: cannot read"),
        (lambda p: [p[0], p[0], "--out", "x.pkl"], "policy_1.pkl: given twice"),
        (lambda p: [p[0], p[1], "--out", p[0] + "/x.pkl"], "policy_1.pkl is a file, not a folder"),
        (lambda p: [p[0], p[1], "--out", ""], "is a folder, not a file"),
    ],
)
def test_average_cli_mistakes_are_one_line_errors_and_touch_nothing(tmp_path, make_args, message):
    paths = [str(tmp_path / "policy_1.pkl"), str(tmp_path / "policy_2.pkl")]
    for p in paths:
        axis_policy(1.0, 1.0).save(p)
    before = [Path(p).read_bytes() for p in paths]
    result = run_average(*make_args(paths))
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    assert [Path(p).read_bytes() for p in paths] == before


def write_seed(seed_dir: Path, policies: dict[int, Policy]) -> None:
    seed_dir.mkdir(parents=True)
    rows = ["epoch,total_env_steps"] + [f"{e},{e * 100}" for e in range(1, 31)]
    (seed_dir / "progress.csv").write_text("\n".join(rows) + "\n")
    for epoch, policy in policies.items():
        policy.save(seed_dir / f"policy_{epoch}.pkl")


def test_evaluate_chooses_the_average_when_it_beats_every_checkpoint(tmp_path):
    seed_dir = tmp_path / "suite" / "seed0"
    write_seed(
        seed_dir,
        {10: axis_policy(0, 0, 10), 20: axis_policy(20, 0, 20), 30: axis_policy(0, 20, 30)},
    )
    payload = evaluate_suite(tmp_path / "suite", 30, 30, average_last=2, env_id=ENV_ID)
    assert [c["epoch"] for c in payload["checkpoints"]] == [10, 20, 30]
    (average,) = payload["averages"]
    assert average["averaged_epochs"] == [20, 30]
    assert average["success_rate"] > max(c["success_rate"] for c in payload["checkpoints"])
    assert payload["chosen"]["averaged_epochs"] == [20, 30]
    written = load_policy(seed_dir / "policy_mean_20-30.pkl")
    assert written.metadata["averaged_epochs"] == [20, 30]
    assert payload["report"]["success_rate"] > 0.5


def test_evaluate_prefers_a_single_checkpoint_on_a_tie_and_rejects_a_window_too_long(tmp_path):
    seed_dir = tmp_path / "suite" / "seed0"
    write_seed(seed_dir, {10: axis_policy(20, 20, 10), 20: axis_policy(20, 20, 20)})
    payload = evaluate_suite(tmp_path / "suite", 10, 10, average_last=2, env_id=ENV_ID)
    assert "averaged_epochs" not in payload["chosen"] and payload["chosen"]["epoch"] == 10
    assert not (seed_dir / "policy_mean_10-20.pkl").exists()
    with pytest.raises(HerdemosError, match="--average_last 3: no seed"):
        evaluate_suite(tmp_path / "suite", 10, 10, average_last=3, env_id=ENV_ID)
