"""play.py --strip films a successful episode unless told which one to film."""

import ctypes.util

import numpy as np
import pytest
from test_use_policy import run

from herdemos.env_info import EnvInfo
from herdemos.environment import make_env
from herdemos.experiment.play import STRIP_SEARCH, first_successful_seed
from herdemos.policy import Policy
from herdemos.rollout import PolicyActions, run_episodes

ENV_ID = "FetchReach-v4"  # observation: gripper position first (3), then 7 more; goal: 3


def reaching_policy(toward_minus_x: bool = True, runaway: bool = False) -> Policy:
    """A hand-made FetchReach actor: tanh(20 * (goal - gripper)) per axis, through ReLU units
    for each sign. Without ``toward_minus_x`` it cannot move to smaller x, so it fails on the
    goals that lie behind the gripper; ``runaway`` drives it away at full speed instead."""
    kernel = np.zeros((13, 6), np.float32)
    for axis in range(3):
        kernel[10 + axis, axis], kernel[axis, axis] = 1.0, -1.0  # relu(g - grip)
        kernel[axis, 3 + axis], kernel[10 + axis, 3 + axis] = 1.0, -1.0  # relu(grip - g)
    out = np.zeros((6, 4), np.float32)
    for axis in range(3):
        out[axis, axis], out[3 + axis, axis] = 20.0, -20.0
    if not toward_minus_x:
        out[3, 0] = 0.0
    bias = np.array([10.0, 10.0, 10.0, 0.0] if runaway else [0.0] * 4, np.float32)
    rng = np.random.default_rng(0)
    critic = [rng.normal(0, 0.1, (17, 8)).astype(np.float32), np.zeros(8, np.float32)]
    critic += [rng.normal(0, 0.1, (8, 1)).astype(np.float32), np.zeros(1, np.float32)]
    zeros = np.zeros(10, np.float32)
    return Policy(
        [kernel, np.zeros(6, np.float32), out, bias],
        critic,
        zeros,
        np.ones(10, np.float32),
        np.zeros(3, np.float32),
        np.ones(3, np.float32),
        200.0,
        5.0,
        1.0,
        {"env_id": ENV_ID},
    )


def successes(policy: Policy, first_seed: int, n: int) -> list[bool]:
    env = make_env(ENV_ID)
    actions = PolicyActions.exploiting(policy)
    rollouts = run_episodes(env, EnvInfo.of(env, ENV_ID), actions, first_seed, n)
    return [bool(r.episodes["info_is_success"][0, -1, 0]) for r in rollouts]


def needs_gl():
    if not (ctypes.util.find_library("EGL") or ctypes.util.find_library("OSMesa")):
        pytest.skip("no headless GL library: apt-get install libegl1 libegl-mesa0 libosmesa6")


def test_the_first_successful_seed_comes_from_played_episodes_then_new_ones():
    tried = []

    def succeeds(seed):
        tried.append(seed)
        return seed == 13

    assert first_successful_seed(10, [False, True], succeeds) == 11 and tried == []
    assert first_successful_seed(10, [False, False], succeeds) == 13 and tried == [12, 13]
    tried.clear()
    assert first_successful_seed(0, [], lambda s: tried.append(s)) is None
    assert tried == list(range(STRIP_SEARCH))  # bounded


def test_strip_films_the_first_successful_episode_not_a_failed_first_one(tmp_path):
    needs_gl()
    policy = reaching_policy(toward_minus_x=False)
    played = successes(policy, 0, 30)
    assert any(played) and not all(played)  # the policy both fails and succeeds
    failed = played.index(False)
    wanted = failed + played[failed:].index(True)
    policy.save(tmp_path / "p.pkl")
    strip = tmp_path / "s.png"
    args = ["experiment/play.py", str(tmp_path / "p.pkl"), "--n_test_rollouts", "1"]
    result = run(*args, "--seed", str(failed), "--strip", str(strip))
    assert result.returncode == 0, result.stderr
    assert f"(episode seed {wanted}, success 1)" in result.stdout
    assert strip.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = run(*args, "--strip", str(strip), "--strip_seed", str(failed))
    assert result.returncode == 0, result.stderr
    assert f"(episode seed {failed}, success 0)" in result.stdout  # as asked, a failure


def test_strip_says_in_one_line_when_no_episode_succeeded(tmp_path):
    needs_gl()
    reaching_policy(runaway=True).save(tmp_path / "p.pkl")
    strip = tmp_path / "s.png"
    result = run(
        "experiment/play.py",
        str(tmp_path / "p.pkl"),
        "--n_test_rollouts",
        "1",
        "--seed",
        "4",
        "--strip",
        str(strip),
    )
    assert result.returncode == 0, result.stderr
    line = f"no episode of seeds 4-{4 + STRIP_SEARCH - 1} succeeded; filming seed 4, a failure"
    assert line in result.stdout.splitlines()
    assert "(episode seed 4, success 0)" in result.stdout and strip.exists()


def test_strip_seed_needs_strip(tmp_path):
    reaching_policy().save(tmp_path / "p.pkl")
    result = run("experiment/play.py", str(tmp_path / "p.pkl"), "--strip_seed", "3")
    assert result.returncode != 0 and "--strip_seed 3: give --strip too" in result.stderr
    assert "Traceback" not in result.stderr
