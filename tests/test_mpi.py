"""MPI: two ranks keep identical learners and normalisers, explore differently, and learn."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_asserts import python_path, run_train

from herdemos import load_policy
from herdemos.checkpoint import list_checkpoints
from herdemos.environment import make_env
from herdemos.parallel import mpirun_command

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("mpi4py")


def run_mpi(args, timeout=600):
    env = {**os.environ, "PYTHONPATH": python_path()}
    return subprocess.run(
        mpirun_command(2, args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_two_ranks_hold_identical_parameters_and_normaliser_stats():
    result = run_mpi(["tests/mpi_rank_state.py"])
    assert result.returncode == 0, result.stderr[-2000:]
    reports = sorted(
        (
            json.loads(line[len("REPORT ") :])
            for line in result.stdout.splitlines()
            if line.startswith("REPORT ")
        ),
        key=lambda r: r["rank"],
    )
    assert [r["rank"] for r in reports] == [0, 1] and reports[0]["size"] == 2
    first, second = reports
    assert first["updates"] == second["updates"] == 12
    assert first["batch_size"] == 32  # each rank samples half of batch_size 64
    assert first["params"] == second["params"] and first["targets"] == second["targets"]
    assert first["o_mean"] == second["o_mean"] and first["o_std"] == second["o_std"]
    assert first["g_mean"] == second["g_mean"]
    # ...while each rank explored its own episodes (seed offset by rank).
    assert first["buffer_first_o"] != second["buffer_first_o"]


@pytest.mark.slow
def test_two_rank_fetch_reach_learns(tmp_path):
    logdir = tmp_path / "reach"
    result = run_mpi(
        [
            "-m",
            "mpi4py",
            "experiment/train.py",
            "--env",
            "FetchReach-v4",
            "--n_epochs",
            "5",
            "--logdir",
            str(logdir),
            "--set",
            "batch_size=256",
            "--set",
            "n_batches=20",
            "--set",
            "seed=1",
            "--quiet",
        ]
    )
    assert result.returncode == 0, result.stderr[-2000:]
    params = json.loads((logdir / "params.json").read_text())
    assert params["train"]["num_cpu"] == 2
    policy = load_policy(logdir / "policy_latest.pkl")
    env = make_env("FetchReach-v4")
    successes = []
    for episode in range(50):
        obs, _ = env.reset(seed=50_000 + episode)
        for _ in range(50):
            obs, _, _, _, info = env.step(policy.act(obs))
        successes.append(info["is_success"])
    assert np.mean(successes) >= 0.9, f"2-rank FetchReach success {np.mean(successes):.2f}"


train_cli = run_train


SMALL = ("--set", "n_cycles=1", "--set", "batch_size=16", "--set", "hidden=8", "--quiet")


def test_resume_with_another_number_of_ranks_is_refused(tmp_path):
    logdir = str(tmp_path / "run")
    first = train_cli(
        "--env", "point_env:PointGoal-v0", "--n_epochs", "1", "--logdir", logdir, *SMALL
    )
    assert first.returncode == 0, first.stderr
    again = train_cli("--resume", logdir, "--num_cpu", "2")
    assert again.returncode != 0 and "--num_cpu" in again.stderr
    assert "Traceback" not in again.stderr


def test_two_rank_run_resumes_with_its_ranks(tmp_path):
    logdir = tmp_path / "run"
    first = train_cli(
        "--env", "point_env:PointGoal-v0", "--num_cpu", "2", "--n_epochs", "1",
        "--logdir", str(logdir), *SMALL, "--set", "n_cycles=2",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    checkpoint = next(logdir.glob("checkpoint-*"))
    assert sorted(p.name for p in checkpoint.glob("state-rank*.npz")) == [
        "state-rank0.npz",
        "state-rank1.npz",
    ]
    resumed = train_cli("--resume", str(logdir), "--n_epochs", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    lines = (logdir / "progress.csv").read_text().splitlines()[1:]
    assert [line.split(",")[:2] for line in lines] == [["1", "80"], ["2", "160"]]


def test_a_hand_written_mpirun_refuses_a_stale_stop_file(tmp_path):
    """Ranks started by train.py --num_cpu may find their launcher's stop file (a Ctrl-C before
    they started); ranks started by hand find only a stale one, which would stop them at once."""
    stop, logdir = tmp_path / "STOP", tmp_path / "run"
    stop.touch()
    result = run_mpi(
        ["experiment/train.py", "--env", "point_env:PointGoal-v0", "--logdir", str(logdir),
         "--stop_file", str(stop), *SMALL],
        timeout=300,
    )  # fmt: skip
    line = f"Error: --stop_file {stop}: exists already, so training would stop at once; remove it"
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.count(line) == 2  # once per rank
    assert not logdir.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_ctrl_c_on_a_num_cpu_run_checkpoints_every_rank_and_resumes(tmp_path, sig):
    """Ctrl-C (or a closed terminal) reaches the whole foreground group, but mpirun keeps each
    rank in a group of its own and aborts them on SIGINT; the launcher passes the stop on."""
    logdir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": python_path()}
    proc = subprocess.Popen(
        [sys.executable, "experiment/train.py", "--env", "point_env:PointGoal-v0",
         "--num_cpu", "2", "--n_epochs", "500", "--logdir", str(logdir), *SMALL],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a job started from a shell
        # SIGHUP as in a terminal, also when pytest runs under nohup: train.py keeps an ignored
        # SIGHUP ignored (nohup asks to outlive the terminal)
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not (logdir / "progress.csv").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-2000:]
        time.sleep(0.5)
    os.killpg(proc.pid, sig)  # what Ctrl-C (SIGINT) or closing the terminal (SIGHUP) does
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 128 + sig, err[-2000:]
    assert f"--resume {logdir} --num_cpu 2" in err and "Traceback" not in err
    assert "MPI_ABORT" not in err and "Abort" not in err
    checkpoint = list_checkpoints(logdir)[-1]
    assert sorted(p.name for p in checkpoint.glob("state-rank*.npz")) == [
        "state-rank0.npz",
        "state-rank1.npz",
    ]
    assert not (logdir / "train.lock").exists()
    stopped_at = len((logdir / "progress.csv").read_text().splitlines()) - 1
    resumed = train_cli("--resume", str(logdir), "--n_epochs", str(stopped_at + 1), "--quiet")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert len((logdir / "progress.csv").read_text().splitlines()) - 1 == stopped_at + 1


def test_a_bad_demo_file_stops_a_num_cpu_run_before_mpirun(tmp_path):
    bad = tmp_path / "text.npz"
    bad.write_text("not demos")
    result = train_cli(
        "--env", "point_env:PointGoal-v0", "--num_cpu", "2", "--num_demo", "5",
        "--demo_file", str(bad), "--logdir", str(tmp_path / "run"), *SMALL,
        "--set", "demo_batch_size=4",
    )  # fmt: skip
    assert result.returncode != 0 and "launching" not in result.stdout
    assert result.stderr.strip().splitlines() == [
        f"Error: {bad}: not an .npz file (no zip archive inside), or truncated"
    ]
