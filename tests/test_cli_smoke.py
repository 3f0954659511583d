"""Subprocess smoke tests of the real command lines, CleanRL style: a few steps each."""

import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from cli_asserts import python_path

from herdemos import load_policy
from herdemos.demos import DemoData

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--set",
    "n_cycles=2",
    "--set",
    "n_batches=2",
    "--set",
    "batch_size=32",
    "--set",
    "n_test_rollouts=2",
    "--set",
    "demo_batch_size=8",
    "--quiet",
]


def run(*args, cwd=ROOT, timeout=300):
    env = {
        **os.environ,
        "PYTHONPATH": python_path(),
        "HERDEMOS_CACHE": str(Path(tempfile.gettempdir()) / "herdemos-test-cache"),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def point_demos(path: Path, n=6, horizon=10) -> Path:
    """Straight-line demos in the point env: ag moves toward g by 0.1 per step."""
    rng = np.random.default_rng(0)
    start, goal = rng.uniform(-1, 1, (n, 2)), rng.uniform(-1, 1, (n, 2))
    pos = np.zeros((n, horizon + 1, 2))
    pos[:, 0] = start
    u = np.zeros((n, horizon, 2))
    for t in range(horizon):
        u[:, t] = np.clip((goal - pos[:, t]) / 0.1, -1, 1)
        pos[:, t + 1] = np.clip(pos[:, t] + 0.1 * u[:, t], -1, 1)
    success = (np.linalg.norm(pos[:, 1:] - goal[:, None], axis=-1) <= 0.1)[..., None]
    episodes = {
        "o": pos,
        "ag": pos,
        "g": np.repeat(goal[:, None], horizon, 1),
        "u": u,
        "info_is_success": success.astype(np.float32),
    }
    DemoData(episodes, None, {"env_id": "PointGoal-v0"}).save(path)
    return path


def test_train_help_is_fast_and_lists_the_seed_flags():
    result = run("experiment/train.py", "--help")
    assert result.returncode == 0
    for flag in ("--bc_loss", "--q_filter", "--num_demo", "--demo_file", "--set", "--logdir"):
        assert flag in result.stdout


@pytest.mark.parametrize("env_id", ["point_env:PointGoalEnv", "point_env:PointGoal-v0"])
def test_train_runs_with_entry_point_envs_and_writes_outputs(tmp_path, env_id):
    logdir = tmp_path / "run"
    result = run(
        "experiment/train.py",
        "--env",
        env_id,
        "--n_epochs",
        "2",
        "--logdir",
        str(logdir),
        "--policy_save_interval",
        "1",
        *TINY,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch    2/2" in result.stdout
    with open(logdir / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert [int(r["total_env_steps"]) for r in rows] == [40, 80]  # 2 cycles x 2 eps x T=10
    for column in ("test/success_rate", "test/mean_Q", "train/critic_loss", "stats_o/std"):
        assert column in rows[0]
    params = json.loads((logdir / "params.json").read_text())
    assert params["train"]["env"] == env_id and params["train"]["n_cycles"] == 2
    for name in ("policy_latest.pkl", "policy_best.pkl", "policy_1.pkl", "policy_2.pkl"):
        assert load_policy(logdir / name).metadata["env_id"] == env_id
    assert list((logdir / "tb").glob("events.*"))


def test_train_with_demos_bc_and_q_filter(tmp_path):
    demo_file = point_demos(tmp_path / "demos.npz")
    logdir = tmp_path / "run"
    result = run(
        "experiment/train.py",
        "--env",
        "point_env:PointGoal-v0",
        "--n_epochs",
        "1",
        "--bc_loss",
        "1",
        "--q_filter",
        "1",
        "--num_demo",
        "5",
        "--demo_file",
        str(demo_file),
        "--logdir",
        str(logdir),
        *TINY,
    )
    assert result.returncode == 0, result.stderr
    with open(logdir / "progress.csv") as f:
        row = next(csv.DictReader(f))
    assert float(row["train/bc_loss"]) > 0
    assert 0.0 <= float(row["train/q_filter_frac"]) <= 1.0
    # Provenance: the command, the versions and the demo file's hash, one entry per session.
    (session,) = json.loads((logdir / "provenance.json").read_text())["sessions"]
    assert "experiment/train.py" in session["command"] and "--q_filter 1" in session["command"]
    assert session["packages"]["numpy"] == np.__version__
    assert session["demo_file"] == {
        "path": str(demo_file),
        "sha256": hashlib.sha256(demo_file.read_bytes()).hexdigest(),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--q_filter", "1"], "--q_filter 1 needs --bc_loss 1"),
        (["--set", "n_cycle=3"], "unknown config field 'n_cycle'"),
        (["--set", "replay_k=abc"], "expected a value of type int"),
        (["--env", "NoSuchEnv-v0"], "--env NoSuchEnv-v0"),
        (["--env", "gymnasium.envs.classic_control:CartPoleEnv"], "not a goal-conditioned env"),
        (["--num_demo", "10", "--demo_file", "missing.npz"], "missing.npz: no such demo file"),
        (["--demo_file", "demos.npz"], "--demo_file demos.npz needs --num_demo N"),
        (["--env", "os:system"], "--env os:system: the entry point did not build a Gymnasium env"),
        (["--set", "pi_lr=nan"], "pi_lr=nan: must be a finite number"),
    ],
)
def test_user_mistakes_get_one_line_errors_without_traceback(tmp_path, args, message):
    result = run(
        "experiment/train.py",
        "--env",
        "point_env:PointGoal-v0",
        *args,
        "--logdir",
        str(tmp_path / "run"),
        *TINY,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_mirror_on_an_env_without_a_mirror_symmetry_is_one_line(tmp_path):
    demo_file = point_demos(tmp_path / "demos.npz")
    args = ["--num_demo", "5", "--demo_file", str(demo_file), "--demo_mirror", "1"]
    result = run("experiment/train.py", "--env", "point_env:PointGoal-v0", *args, *TINY)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "Error: --demo_mirror 1: point_env:PointGoal-v0 declares no mirror symmetry (the "
        "FetchStack and WAMStack envs do)"
    )
    assert "Traceback" not in result.stderr and demo_file.is_file()


def test_a_bad_mirror_plane_is_one_line_before_any_folder_is_made(tmp_path):
    logdir = tmp_path / "run"
    args = ["--env", "FetchStack2-v1", "--num_demo", "1", "--demo_mirror", "1"]
    args += ["--set", "demo_mirror_planes=x,z", "--logdir", str(logdir)]
    result = run("experiment/train.py", *args)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: --set demo_mirror_planes=x,z: FetchStack2-v1 has the mirror planes "
        "x,y,diagonal; name one or more of them, comma-separated, each once"
    )
    assert "Traceback" not in result.stderr and not logdir.exists()


def test_existing_logdir_is_never_overwritten(tmp_path):
    logdir = tmp_path / "run"
    logdir.mkdir()
    (logdir / "progress.csv").write_text("epoch\n1\n")
    result = run(
        "experiment/train.py", "--env", "point_env:PointGoal-v0", "--logdir", str(logdir), *TINY
    )
    assert result.returncode != 0 and "already holds a run" in result.stderr
    assert (logdir / "progress.csv").read_text() == "epoch\n1\n"


def test_module_entry_point_works(tmp_path):
    result = run("-m", "herdemos.experiment.train", "--help")
    assert result.returncode == 0 and "--num_demo" in result.stdout


@pytest.mark.parametrize(
    "code",
    [
        "import herdemos.envs.wam",
        "from herdemos.environment import make_env; make_env('FetchReach-v4')",
    ],
)
def test_importing_the_envs_prints_nothing(code):
    """gymnasium-robotics' Adroit notice must not be the first line every command shows."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "Adroit" not in result.stderr
