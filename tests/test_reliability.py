"""Reliability: exact resume, graceful stop, SIGKILL and resume, NaN guard, physics blow-ups."""

import csv
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_asserts import python_path

from herdemos.checkpoint import checkpoint_name, list_checkpoints
from herdemos.config import Config, with_overrides
from herdemos.env_info import EnvInfo
from herdemos.logger import ProgressLog
from herdemos.rollout import RolloutWorker
from herdemos.trainer import Trainer, TrainingDiverged

from point_env import UnstablePointEnv, register

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"n_cycles": 2, "n_batches": 1, "batch_size": 32, "hidden": 16, "n_test_rollouts": 2}
CLI_SMALL = [
    "--set",
    "n_cycles=3",
    "--set",
    "n_batches=2",
    "--set",
    "batch_size=32",
    "--set",
    "hidden=16",
    "--set",
    "n_test_rollouts=2",
    "--quiet",
]


def small_trainer(logdir: Path, **overrides) -> Trainer:
    config = with_overrides(Config(), {"env": register(), **SMALL, **overrides})
    return Trainer.from_config(config, logdir, demos=None, log=lambda line: None)


def test_a_user_reward_that_reads_the_success_flags_gets_them_everywhere(tmp_path):
    """HER passes the stored is_success flags to compute_reward; so must the reward-floor probe
    at start-up (it passed an empty dict, a KeyError in a user's env)."""
    config = with_overrides(Config(), {**SMALL, "env": "point_env:SuccessInfoPointEnv"})
    trainer = Trainer.from_config(config, tmp_path, demos=None, log=lambda line: None)
    trainer.run_cycle()  # HER-relabelled batches went through compute_reward
    assert trainer.buffer.size == 2


@pytest.mark.parametrize(
    "overrides", [{}, {"twin_q": True, "target_noise": 0.2}], ids=["ddpg", "td3-target-noise"]
)
def test_first_update_after_resume_matches_the_uninterrupted_run(tmp_path, overrides):
    first = small_trainer(tmp_path / "a", **overrides)
    for _ in range(2):
        first.run_cycle()
    first.finish_epoch()
    folder = first.save_checkpoint()
    first.run_cycle()  # the uninterrupted run's next cycle: one rollout, one update
    expected_losses = dict(first.epoch_progress.loss_sums)
    expected_weights = first.learner.actor_weights()

    resumed = small_trainer(tmp_path / "b", **overrides)
    resumed.restore_checkpoint(folder)
    assert resumed.state.epoch == 1 and resumed.buffer.size == first.buffer.size - 2
    resumed.run_cycle()
    assert resumed.epoch_progress.loss_sums.keys() == expected_losses.keys()
    for key, value in expected_losses.items():
        assert resumed.epoch_progress.loss_sums[key] == pytest.approx(value, rel=1e-6, abs=1e-9)
    for a, b in zip(resumed.learner.actor_weights(), expected_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_checkpoint_from_another_config_is_refused(tmp_path):
    folder = small_trainer(tmp_path / "a").save_checkpoint()
    other = small_trainer(tmp_path / "b", polyak=0.5)
    with pytest.raises(Exception, match="different configuration"):
        other.restore_checkpoint(folder)


def test_a_checkpoint_from_before_a_new_config_field_still_resumes():
    """A field added since the checkpoint counts as its default; an unknown or changed one
    does not."""
    from herdemos.checkpoint import same_run_config

    current = with_overrides(Config(), {"n_epochs": 50})
    older = current.to_dict()
    del older["ddpg"]["twin_q"]
    older["train"]["n_epochs"] = 20  # the one field a resume may change
    assert same_run_config(older, current)
    assert not same_run_config(older, with_overrides(current, {"twin_q": True}))
    unknown = {**current.to_dict(), "her": {**current.to_dict()["her"], "no_such_field": 1}}
    assert not same_run_config(unknown, current)


def test_a_checkpoint_holding_retired_options_left_unset_still_resumes():
    """An old run stored ``reward_threshold`` and ``demo_replay_k`` as null; one that set
    them trained something this code no longer runs."""
    from herdemos.checkpoint import same_run_config

    current = Config()
    older = current.to_dict()
    older["her"]["reward_threshold"] = None
    older["demo"]["demo_replay_k"] = None
    assert same_run_config(older, current)
    older["demo"]["demo_replay_k"] = 0
    assert not same_run_config(older, current)


def test_checkpoints_past_three_digit_cycles_are_listed_newest_first(tmp_path):
    """--set n_cycles=1500 makes cycle numbers wider than the name's zero padding."""
    names = [checkpoint_name(3, 999), checkpoint_name(3, 1000), checkpoint_name(2, 1400)]
    for name in names:
        (tmp_path / name).mkdir()
    (tmp_path / ".checkpoint-000004-000.tmp").mkdir()  # unfinished: never listed
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "checkpoint-000003-1000",
        "checkpoint-000003-999",
        "checkpoint-000002-1400",
    ]


def test_a_stop_at_the_end_of_an_epoch_writes_and_prints_its_checkpoint_once(tmp_path):
    """The epoch's own checkpoint already holds everything: the stop that follows it neither
    writes it again nor prints a second checkpoint line."""
    config = with_overrides(Config(), {"env": register(), **SMALL, "n_epochs": 3})
    lines = []
    trainer = Trainer.from_config(config, tmp_path, demos=None, log=lines.append)
    progress = ProgressLog(tmp_path, tensorboard=False)
    finished = trainer.train(progress, show_bar=False, stop_requested=lambda: bool(progress.rows))
    assert not finished and (trainer.state.epoch, trainer.epoch_progress.cycle) == (1, 0)
    saved = [line for line in lines if line.startswith("checkpoint ")]
    assert len(saved) == 1 and saved[0].startswith("checkpoint checkpoint-000001-000 ("), lines
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-000001-000"]


def test_a_stop_inside_an_epoch_writes_a_checkpoint_of_its_cycle(tmp_path):
    config = with_overrides(Config(), {"env": register(), **SMALL, "checkpoint_interval": 0})
    lines = []
    trainer = Trainer.from_config(config, tmp_path, demos=None, log=lines.append)
    progress = ProgressLog(tmp_path, tensorboard=False)
    polls = iter([False, True])
    assert not trainer.train(progress, show_bar=False, stop_requested=lambda: next(polls))
    assert [line.split(" (")[0] for line in lines] == ["checkpoint checkpoint-000000-001"]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-000000-001"]


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_checkpoint(tmp_path):
    trainer = small_trainer(tmp_path)
    trainer.run_cycle()
    good = trainer.save_checkpoint()
    trainer.learner.train = lambda batch: {"critic_loss": math.nan, "actor_loss": 0.0}
    with pytest.raises(TrainingDiverged, match="epoch 1: critic_loss is NaN or Inf"):
        trainer.run_cycle()
    assert list_checkpoints(tmp_path) == [good]


def test_nan_parameter_is_caught_at_the_end_of_the_epoch(tmp_path):
    trainer = small_trainer(tmp_path)
    trainer.run_cycle()
    var = trainer.learner.main.critic.trainable_variables[0]
    var.assign(np.full(var.shape, np.nan, np.float32))
    with pytest.raises(TrainingDiverged, match="epoch 1: parameter .* is NaN or Inf"):
        trainer.finish_epoch()


def test_blown_up_episodes_are_discarded_and_counted():
    envs = [UnstablePointEnv() for _ in range(8)]
    for env in envs:
        env.spec = None
    info = EnvInfo("unstable", 2, 2, 2, horizon=10, max_u=1.0)

    class Zero:
        def reset(self, obs):
            pass

        def __call__(self, obs):
            return np.zeros((len(envs), 2), np.float32)

    worker = RolloutWorker(envs, info, seed=0, rng=np.random.default_rng(0))
    rollout = worker.generate_rollouts(Zero())
    assert 0 < rollout.n_discarded < 8
    assert rollout.episodes["o"].shape[0] == 8 - rollout.n_discarded
    assert np.isfinite(rollout.episodes["o"]).all()
    assert rollout.n_steps == 80


def cli(*args, **kwargs):
    env = {**os.environ, "PYTHONPATH": python_path()}
    command = [sys.executable, "experiment/train.py", *args]
    pipe = subprocess.PIPE
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=pipe, stderr=pipe, text=True, **kwargs
    )


def resume_run(logdir: Path, n_epochs) -> None:
    proc = cli("--resume", str(logdir), "--n_epochs", str(n_epochs), "--quiet")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def wait_for(predicate, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the training subprocess")


def epochs_of(logdir: Path) -> list[int]:
    with open(logdir / "progress.csv") as f:
        return [int(float(r["epoch"])) for r in csv.DictReader(f)]


def test_sigint_finishes_the_cycle_checkpoints_and_says_how_to_resume(tmp_path):
    logdir = tmp_path / "run"
    proc = cli(
        "--env", "point_env:PointGoal-v0", "--n_epochs", "500", "--logdir", str(logdir), *CLI_SMALL
    )
    wait_for(lambda: (logdir / "progress.csv").exists())
    # while it trains, the run is locked: a second trainer on the folder is refused
    assert (logdir / "train.lock").read_text().strip() == str(proc.pid)
    _, second_err = cli("--resume", str(logdir), "--quiet").communicate(timeout=300)
    assert f"{logdir}: being trained by process {proc.pid}; stop it first" in second_err
    assert "Traceback" not in second_err
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert f"--resume {logdir}" in err and "Traceback" not in err
    assert list_checkpoints(logdir)
    assert not (logdir / "train.lock").exists()  # released on the way out
    resume_run(logdir, str(epochs_of(logdir)[-1] + 2))
    epochs = epochs_of(logdir)
    assert epochs == list(range(1, len(epochs) + 1))


def test_sigkill_at_a_random_point_then_resume_is_continuous(tmp_path):
    logdir = tmp_path / "run"
    n_epochs = 6
    proc = cli(
        "--env", "point_env:PointGoal-v0", "--n_epochs", "1000", "--logdir", str(logdir), *CLI_SMALL
    )
    wait_for(lambda: len(list_checkpoints(logdir)) > 0)
    time.sleep(random.uniform(0.0, 1.5))
    proc.kill()
    proc.communicate(timeout=60)
    checkpoint = list_checkpoints(logdir)[0]
    done_epochs = int(checkpoint.name.split("-")[1])
    from herdemos.checkpoint import read_checkpoint_state

    arrays, meta = read_checkpoint_state(checkpoint)
    buffer_at_checkpoint = int(arrays["buffer/meta"][0])
    target = max(n_epochs, done_epochs + 2)
    resume_run(logdir, str(target))
    with open(logdir / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(1, target + 1))
    first_resumed = rows[meta["state"]["epoch"]]  # row of the first epoch finished after resume
    cycles_left = 3 - meta["epoch_progress"]["cycle"]
    assert int(first_resumed["buffer/episodes"]) == buffer_at_checkpoint + 2 * cycles_left
    steps = [int(r["total_env_steps"]) for r in rows]
    assert steps == [60 * (i + 1) for i in range(target)]  # 3 cycles x 2 episodes x T=10


def test_resume_flags_must_not_conflict(tmp_path):
    logdir = tmp_path / "run"
    proc = cli(
        "--env", "point_env:PointGoal-v0", "--n_epochs", "2", "--logdir", str(logdir), *CLI_SMALL
    )
    proc.communicate(timeout=300)
    assert proc.returncode == 0
    proc = cli("--resume", str(logdir), "--bc_loss", "1")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "--bc_loss" in err and "conflicts" in err
    assert "Traceback" not in err
    # A budget below the epochs already trained would make params.json forget them.
    params = (logdir / "params.json").read_text()
    proc = cli("--resume", str(logdir), "--n_epochs", "1")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and err.strip().splitlines() == [
        f"Error: --n_epochs 1: {logdir} has trained 2 epochs already; give at least that many"
    ]
    assert (logdir / "params.json").read_text() == params


def test_demo_rows_are_relabelled_by_her_like_the_agents(tmp_path):
    """As in the seed, demo rows get hindsight goals with the agent's replay_k."""
    from herdemos.demos import DemoData

    from point_env import make_episodes

    episodes = make_episodes(4, 10, np.random.default_rng(0))
    config = with_overrides(
        Config(),
        {
            "env": register(),
            **SMALL,
            "num_demo": 4,
            "demo_batch_size": 16,
        },
    )
    trainer = Trainer.from_config(config, tmp_path, DemoData(episodes), log=lambda line: None)
    trainer.buffer.store_episodes(make_episodes(2, 10, np.random.default_rng(1)))
    batch = trainer.sample_batch()
    demo_g = batch["g"][batch["is_demo"]]
    episode = np.round(batch["o"][batch["is_demo"], 1] / 100).astype(int)  # o encodes the episode
    time_step = batch["o"][batch["is_demo"], 0].astype(int)
    original = np.all(demo_g == episodes["g"][episode, time_step], axis=1)
    assert demo_g.shape[0] == 16
    assert not original.all()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("epoch,total_env_steps\nabc,1\n", "unreadable"),
        ("\x00poch,total_env_steps\n1,10\n", "no 'epoch' column"),
    ],
)
def test_resume_with_a_damaged_progress_log_is_one_line_and_keeps_the_run(
    tmp_path, content, problem
):
    logdir = tmp_path / "run"
    first = cli("--env", "point_env:PointGoal-v0", "--n_epochs", "1", "--logdir", str(logdir),
                *CLI_SMALL)  # fmt: skip
    assert first.wait(timeout=300) == 0
    (logdir / "progress.csv").write_text(content)
    checkpoints = list_checkpoints(logdir)
    _, err = cli("--resume", str(logdir), "--n_epochs", "2").communicate(timeout=300)
    assert f"{logdir / 'progress.csv'}: {problem}" in err and "Traceback" not in err
    assert list_checkpoints(logdir) == checkpoints
    assert (logdir / "progress.csv").read_text() == content


def test_a_stop_file_stops_training_like_ctrl_c_and_a_stale_one_is_refused(tmp_path):
    """--stop_file is how a job scheduler or a hand-written mpirun stops a run cleanly."""
    logdir, stop = tmp_path / "run", tmp_path / "STOP"
    proc = cli("--env", "point_env:PointGoal-v0", "--n_epochs", "500", "--logdir", str(logdir),
               "--stop_file", str(stop), *CLI_SMALL)  # fmt: skip
    wait_for(lambda: (logdir / "progress.csv").exists())
    stop.touch()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT and "Traceback" not in err
    assert f"--resume {logdir}" in err and list_checkpoints(logdir)
    assert (tmp_path / "STOP.stopped").exists()  # it stopped early, not at its last epoch
    _, err = cli("--resume", str(logdir), "--stop_file", str(stop)).communicate(timeout=120)
    assert err.strip().splitlines() == [
        f"Error: --stop_file {stop}: exists already, so training would stop at once; remove it"
    ]


def test_tensorboard_steps_are_env_steps_and_a_resume_drops_the_lost_epochs(tmp_path):
    """The x-axis is total env steps (runs with other rank or cycle counts line up); a resume
    from the checkpoint at 2,000 steps drops what an interrupted session logged after it."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def row(epoch):
        return {"epoch": epoch, "total_env_steps": 1000 * epoch, "test/success_rate": epoch / 10}

    first = ProgressLog(tmp_path)
    for epoch in (1, 2, 3):
        first.write(row(epoch))
    first.close()
    time.sleep(1.1)  # event file names carry the second they were opened in
    resumed = ProgressLog(tmp_path, purge_step=2000 + 1)
    resumed.write({**row(3), "test/success_rate": 0.9})
    resumed.close()
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    scalars = {e.step: e.value for e in events.Scalars("test/success_rate")}
    assert scalars == pytest.approx({1000: 0.1, 2000: 0.2, 3000: 0.9})
    assert [e.value for e in events.Scalars("epoch")] == [1, 2, 3]
