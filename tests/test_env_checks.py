"""check_against_env: a config and its demos that do not fit the env are one-line errors; the
env a demo file was recorded in is checked unless --set demo_env_check=0."""

import csv
import json
import re

import numpy as np
import pytest
from test_cli_smoke import TINY, point_demos, run

from herdemos.config import Config, with_overrides
from herdemos.data_generation.scripted_demos import generate_demos
from herdemos.demos import DemoData
from herdemos.env_checks import check_against_env
from herdemos.environment import make_env
from herdemos.sim_state import sim_state_size
from herdemos.util import HerdemosError

POINT = "point_env:PointGoal-v0"


def config(env: str, **demo) -> Config:
    return with_overrides(Config(), {"env": env, "num_demo": 2, **demo})


def demos(env_id: str | None, sim_state: np.ndarray | None = None) -> DemoData:
    """Two empty point-env episodes whose metadata names ``env_id`` (None: no env named)."""
    episodes = {"u": np.zeros((2, 10, 2))}
    return DemoData(episodes, sim_state, {} if env_id is None else {"env_id": env_id})


def refused(config: Config, env, data: DemoData | None = None) -> str:
    with pytest.raises(HerdemosError) as error:
        check_against_env(config, env, data)
    assert "\n" not in str(error.value)
    return str(error.value)


def test_demos_recorded_in_another_env_are_refused_naming_the_file_and_both_envs(point_env_id):
    env = make_env(POINT)
    message = refused(config(POINT, demo_file="push.npz"), env, demos("FetchPush-v4"))
    assert message == (
        "push.npz: demos recorded in FetchPush-v4, not point_env:PointGoal-v0; use demos of "
        "point_env:PointGoal-v0, or --set demo_env_check=0 to train on them anyway"
    )


def test_demo_env_check_0_accepts_demos_of_another_env(point_env_id):
    env = make_env(POINT)
    check_against_env(config(POINT, demo_env_check=False), env, demos("FetchPush-v4"))


@pytest.mark.parametrize("recorded", [None, "PointGoal-v0", POINT])
def test_demos_of_the_env_or_naming_no_env_are_accepted(point_env_id, recorded):
    """``module:Name`` and ``Name`` are one env; a file naming no env (your own demos) was
    checked on its sizes when loaded."""
    check_against_env(config(POINT), make_env(POINT), demos(recorded))


def test_demo_resets_need_an_env_whose_state_can_be_restored(point_env_id):
    message = refused(config(POINT, demo_reset_prob=0.1), make_env(POINT))
    assert message.startswith("--demo_reset_prob: point_env:PointGoal-v0 is not a MuJoCo env")


def test_demo_resets_need_simulator_states_of_the_envs_size():
    env = make_env("FetchReach-v4")
    resets = config("FetchReach-v4", demo_file="reach.npz", demo_reset_prob=0.1)
    message = refused(resets, env, demos("FetchReach-v4"))
    assert message.startswith("--demo_reset_prob: reach.npz holds no simulator states")
    wrong = np.zeros((2, 11, sim_state_size(env) + 1))
    message = refused(resets, env, demos("FetchReach-v4", wrong))
    assert f"have size {sim_state_size(env) + 1}, FetchReach-v4 needs {sim_state_size(env)}" in (
        message
    )
    right = np.zeros((2, 11, sim_state_size(env)))
    check_against_env(resets, env, demos("FetchReach-v4", right))


def test_mirror_planes_are_checked_without_demos(point_env_id):
    message = refused(config(POINT, demo_mirror=True), make_env(POINT))
    assert message.startswith("--demo_mirror 1: point_env:PointGoal-v0 declares no mirror")
    stack = config("FetchStack2-v1", demo_mirror=True, demo_mirror_planes="x,z")
    assert "has the mirror planes x,y,diagonal" in refused(stack, make_env("FetchStack2-v1"))


def test_push_demos_for_pick_and_place_are_one_line_before_any_folder_is_made(tmp_path):
    """FetchPush's demos have PickAndPlace's sizes; only the env the file names tells them
    apart."""
    demo_file = tmp_path / "push.npz"
    generate_demos("FetchPush-v4", 2, seed=0).save(demo_file)
    logdir = tmp_path / "run"
    args = ["--env", "FetchPickAndPlace-v4", "--num_demo", "2", "--demo_file", str(demo_file)]
    result = run("experiment/train.py", *args, "--logdir", str(logdir), *TINY)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {demo_file}: demos recorded in FetchPush-v4, not FetchPickAndPlace-v4; use demos "
        "of FetchPickAndPlace-v4, or --set demo_env_check=0 to train on them anyway"
    )
    assert not logdir.exists()


def test_demo_env_check_0_trains_on_demos_of_another_env(tmp_path):
    demo_file = point_demos(tmp_path / "demos.npz")  # they name PointGoal-v0: rename the env
    with np.load(demo_file, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["metadata"] = np.array(json.dumps({"env_id": "OtherGoal-v0"}))
    other = tmp_path / "other.npz"
    np.savez(other, **arrays)
    logdir = tmp_path / "run"
    args = ["--env", POINT, "--n_epochs", "1", "--num_demo", "5", "--demo_file", str(other)]
    refused_run = run("experiment/train.py", *args, "--logdir", str(logdir), *TINY)
    assert refused_run.returncode == 1
    assert "demos recorded in OtherGoal-v0, not point_env:PointGoal-v0" in refused_run.stderr
    override = ["--set", "demo_env_check=0"]
    result = run("experiment/train.py", *args, *override, "--logdir", str(logdir), *TINY)
    assert result.returncode == 0, result.stderr
    with open(logdir / "progress.csv") as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)] == [1]
    assert json.loads((logdir / "params.json").read_text())["demo"]["demo_env_check"] is False


@pytest.mark.parametrize(
    ("low", "high"),
    [([-1.0, -0.5], [1.0, 1.0]), ([-2.0, -2.0], [2.0, 1.0]), ([0.0, 0.0], [1.0, 1.0])],
)
def test_an_action_box_without_one_symmetric_bound_is_one_line(point_env_id, low, high):
    """The actor acts in max_u * tanh: an asymmetric box would be read wrongly, silently."""
    import gymnasium as gym

    from herdemos.env_info import EnvInfo

    env = make_env(point_env_id)
    wrapped = gym.wrappers.RescaleAction(env, np.array(low), np.array(high))
    with pytest.raises(
        HerdemosError, match=rf"--env {point_env_id}: action box low .*RescaleAction"
    ):
        EnvInfo.of(wrapped, point_env_id)
    symmetric = gym.wrappers.RescaleAction(env, -2.0, 2.0)
    assert EnvInfo.of(symmetric, point_env_id).max_u == 2.0


@pytest.mark.parametrize(
    ("reward", "message"),
    [
        (lambda ag, g, info: float(np.linalg.norm(ag - g) < 0.05) - 1.0, r"shape \(\) for 3"),
        (
            lambda ag, g, info: -1.0 if np.linalg.norm(ag - g, axis=-1) > 0.05 else 0.0,
            "fails on a batch of 3 goals",
        ),
        (lambda ag, g, info: np.zeros((len(ag), 1)), r"returned shape \(3, 1\) for 3 goals"),
    ],
)
def test_a_compute_reward_that_is_not_vectorised_is_one_line(point_env_id, reward, message):
    """HER relabels whole batches with one compute_reward call: checked before any training."""
    env = make_env(point_env_id)
    env.unwrapped.compute_reward = reward
    text = refused(config(point_env_id), env)
    assert text.startswith(f"--env {point_env_id}: compute_reward")
    assert re.search(message, text)
