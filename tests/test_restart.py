"""No dead ends: a run killed before its first checkpoint restarts in place, and what killed
writes leave behind is tidied at the next start."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_asserts import python_path, run_train

from herdemos.checkpoint import list_checkpoints
from herdemos.run_folder import clean_interrupted_writes, set_aside_unchecked_session

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--set", "n_cycles=2", "--set", "n_batches=1", "--set", "batch_size=32",
         "--set", "hidden=16", "--set", "n_test_rollouts=1", "--quiet"]  # fmt: skip


train = run_train


def epochs_of(logdir: Path) -> list[int]:
    with open(logdir / "progress.csv") as f:
        return [int(r["epoch"]) for r in csv.DictReader(f)]


def test_temporaries_of_killed_writes_are_removed_and_a_set_aside_checkpoint_put_back(tmp_path):
    (tmp_path / ".policy_best.pkl.ab3_x9yz.tmp").write_bytes(b"half a policy")
    (tmp_path / ".progress.csv.q1w2e3r4.tmp").write_text("epoch\n1\n")
    (tmp_path / ".checkpoint-000003-000.tmp").mkdir()  # a checkpoint being written
    (tmp_path / ".checkpoint-000002-000.old").mkdir()  # set aside, replacement never landed
    (tmp_path / ".checkpoint-000002-000.old" / "state-rank0.npz").write_bytes(b"kept")
    (tmp_path / "checkpoint-000001-000").mkdir()
    (tmp_path / ".checkpoint-000001-000.old").mkdir()  # its replacement did land
    (tmp_path / ".notes.txt.abcdefgh.tmp").write_text("not ours")  # another program's
    (tmp_path / "policy_best.pkl").write_bytes(b"whole")
    done = clean_interrupted_writes(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".notes.txt.abcdefgh.tmp",
        "checkpoint-000001-000",
        "checkpoint-000002-000",
        "policy_best.pkl",
    ]
    assert (tmp_path / "checkpoint-000002-000" / "state-rank0.npz").read_bytes() == b"kept"
    assert "restored checkpoint-000002-000 from .checkpoint-000002-000.old" in done
    assert len(done) == 5


def test_a_restart_sets_the_earlier_sessions_files_aside_in_a_new_folder(tmp_path):
    assert set_aside_unchecked_session(tmp_path) is None
    (tmp_path / "restart-1").mkdir()
    for name in ("progress.csv", "policy_best.pkl", "policy_5.pkl", "params.json"):
        (tmp_path / name).write_text(name)
    (tmp_path / "tb").mkdir()
    aside = set_aside_unchecked_session(tmp_path)
    assert aside == tmp_path / "restart-2"
    assert sorted(p.name for p in aside.iterdir()) == [
        "policy_5.pkl",
        "policy_best.pkl",
        "progress.csv",
        "tb",
    ]
    assert (tmp_path / "params.json").read_text() == "params.json"  # the restart reuses it


def test_a_run_without_a_checkpoint_restarts_in_place_on_resume(tmp_path):
    """What a kill between the first epoch's row and its checkpoint leaves: a log, policies and
    temporaries, but no checkpoint. A new run there names the command; --resume restarts."""
    logdir = tmp_path / "run"
    first = train("--env", "point_env:PointGoal-v0", "--n_epochs", "1", "--logdir", str(logdir),
                  *SMALL)  # fmt: skip
    assert first.returncode == 0, first.stderr
    for folder in list_checkpoints(logdir):
        shutil.rmtree(folder)
    (logdir / ".policy_latest.pkl.k1l2m3n4.tmp").write_bytes(b"\0" * 1000)
    old_log = (logdir / "progress.csv").read_text()

    again = train("--env", "point_env:PointGoal-v0", "--logdir", str(logdir), *SMALL)
    assert again.returncode == 1 and again.stderr.strip().splitlines() == [
        f"Error: --logdir {logdir}: already holds a run; continue it with "
        f"`python experiment/train.py --resume {logdir}`, or choose another folder"
    ]
    resumed = train("--resume", str(logdir), "--n_epochs", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert f"{logdir}: removed .policy_latest.pkl.k1l2m3n4.tmp" in resumed.stdout
    assert (
        f"{logdir}: no checkpoint yet, so the run restarts from epoch 0 with its params.json; "
        f"the earlier session's log and policies are in {logdir / 'restart-1'}" in resumed.stdout
    )
    assert epochs_of(logdir) == [1, 2]
    assert (logdir / "restart-1" / "progress.csv").read_text() == old_log
    assert (logdir / "restart-1" / "policy_best.pkl").exists()
    assert not list(logdir.glob(".*.tmp"))


def test_a_run_killed_before_its_first_checkpoint_can_be_resumed(tmp_path):
    logdir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": python_path()}
    proc = subprocess.Popen(
        [sys.executable, "experiment/train.py", "--env", "point_env:PointGoal-v0",
         "--n_epochs", "50", "--logdir", str(logdir), *SMALL],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 120
    while not (logdir / "params.json").exists() and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    for folder in list_checkpoints(logdir):  # in case the kill came late
        shutil.rmtree(folder)
    resumed = train("--resume", str(logdir), "--n_epochs", "1", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert "restarts from epoch 0" in resumed.stdout
    assert epochs_of(logdir) == [1]


def test_resume_of_a_folder_where_no_run_started_says_how_to_start_one(tmp_path):
    (tmp_path / "train.lock").write_text("999999999\n")  # all a session killed at once left
    result = train("--resume", str(tmp_path))
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        f"Error: --resume {tmp_path}: no params.json here, so no run started in it; start one "
        f"with `python experiment/train.py --logdir {tmp_path}` and your flags"
    ]
