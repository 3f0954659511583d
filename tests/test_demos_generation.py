"""Scripted demos: every controller's file validates, legacy conversion, and demo-state resets."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from herdemos.data_generation import convert_legacy_demos, fetch_data_generation, scripted_demos
from herdemos.data_generation.scripted_demos import generate_demos
from herdemos.demos import load_demos
from herdemos.env_info import EnvInfo
from herdemos.environment import make_env
from herdemos.rollout import DemoStarts
from herdemos.sim_state import set_sim_state

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("env_id", "min_success"),
    [("FetchReach-v4", 0.9), ("FetchPush-v4", 0.8), ("FetchPickAndPlace-v4", 0.9)],
)
def test_controller_demos_validate_and_succeed(tmp_path, env_id, min_success):
    data = generate_demos(env_id, 10, seed=3)
    path = tmp_path / "demos.npz"
    data.save(path)
    env = make_env(env_id)
    loaded = load_demos(path, EnvInfo.of(env, env_id), num_demo=10)
    assert loaded.success_rate >= min_success
    assert loaded.sim_state is not None and loaded.sim_state.shape[:2] == (10, 51)
    meta = loaded.metadata
    assert meta["env_id"] == env_id and meta["T"] == 50 and meta["seed"] == 3
    assert set(meta["versions"]) >= {"mujoco", "gymnasium-robotics"}


def test_only_successful_keeps_successes_and_noise_changes_actions():
    clean = generate_demos("FetchPush-v4", 4, seed=0)
    noisy = generate_demos("FetchPush-v4", 4, seed=0, noise=0.3, only_successful=True)
    assert noisy.success_rate == 1.0
    assert not np.allclose(clean.episodes["u"], noisy.episodes["u"])


def test_random_actions_replace_some_steps_and_are_named_in_the_metadata():
    clean = generate_demos("FetchPush-v4", 10, seed=0)
    assert "random_prob" not in clean.metadata  # demos without it are as before
    some = generate_demos("FetchPush-v4", 10, seed=0, random_prob=0.3)
    assert some.metadata["random_prob"] == 0.3
    # Every episode starts from the same observation as its clean twin, so a first action
    # differs only where it was replaced by a random one.
    first_u = clean.episodes["u"][:, 0], some.episodes["u"][:, 0]
    replaced = ~np.all(np.isclose(*first_u), axis=-1)
    assert 0 < replaced.sum() < 10
    every = generate_demos("FetchPush-v4", 10, seed=0, random_prob=1.0).episodes["u"]
    assert abs(every.mean()) < 0.05 and 0.5 < every.std() < 0.65  # uniform on [-1, 1]


# Fetch reads positions from kinematics that MuJoCo computed at the start of the last substep,
# while a restored state gets fresh kinematics; that leaves sub-millimetre differences.
KINEMATICS_TOL = 2e-3


@pytest.mark.parametrize(
    "env_id, steps",
    [
        ("FetchPickAndPlace-v4", [(0, 0), (0, 17), (1, 30), (1, 49)]),
        ("WAMStack2-v1", [(0, 0), (0, 40), (1, 70), (1, 99)]),  # a second robot, 2 blocks
    ],
)
def test_restored_demo_state_reproduces_the_next_observation(env_id, steps):
    data = generate_demos(env_id, 2, seed=5)
    env = make_env(env_id)
    horizon = EnvInfo.of(env, env_id).horizon
    assert data.success_rate == 1.0
    assert data.sim_state is not None and data.sim_state.shape[:2] == (2, horizon + 1)
    env.reset(seed=123)  # an unrelated episode: the restore must overwrite everything
    for episode, t in steps:
        obs = set_sim_state(env, data.sim_state[episode, t], data.episodes["g"][episode, t])
        np.testing.assert_allclose(
            obs["observation"], data.episodes["o"][episode, t], atol=KINEMATICS_TOL
        )
        obs, *_ = env.step(data.episodes["u"][episode, t])
        np.testing.assert_allclose(
            obs["observation"], data.episodes["o"][episode, t + 1], atol=KINEMATICS_TOL
        )
        np.testing.assert_allclose(
            obs["achieved_goal"], data.episodes["ag"][episode, t + 1], atol=KINEMATICS_TOL
        )


def test_demo_starts_sample_states_with_their_goals():
    sim_state = np.arange(2 * 4 * 3, dtype=float).reshape(2, 4, 3)
    goal = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    starts = DemoStarts(sim_state, goal)
    rng = np.random.default_rng(0)
    for _ in range(20):
        state, g = starts.sample(rng)
        ep, t = np.argwhere((sim_state == state).all(axis=-1))[0]
        assert t < 3  # never the final state, after which no action is left
        np.testing.assert_array_equal(g, goal[ep, t])


def test_demo_starts_come_from_successful_demos_only():
    sim_state = np.arange(3 * 4 * 1, dtype=float).reshape(3, 4, 1)
    goal = np.zeros((3, 3, 2))
    success = np.zeros((3, 3, 1))
    success[1, -1] = 1.0  # only episode 1 ends in success (episode 2 succeeds, then loses it)
    success[2, 1] = 1.0
    starts = DemoStarts.of_successful(sim_state, goal, success)
    rng = np.random.default_rng(0)
    states = {float(starts.sample(rng)[0][0]) for _ in range(50)}
    assert states == {4.0, 5.0, 6.0}  # episode 1's first three states
    everything = DemoStarts.of_successful(sim_state, goal, np.zeros((3, 3, 1)))
    assert everything.sim_state.shape == sim_state.shape  # none succeeded: use them all


def test_no_controller_asks_for_a_demo_file():
    from herdemos.util import HerdemosError

    with pytest.raises(
        HerdemosError, match="no scripted controller for HandReach-v3 .*--demo_file"
    ):
        generate_demos("HandReach-v3", 2)


def legacy_file(path: Path, n=3, horizon=50) -> Path:
    """A file in the original project's layout: object arrays of observation and info dicts."""
    data = generate_demos("FetchReach-v4", n, seed=1)
    obs = np.empty((n, horizon + 1), dtype=object)
    info = np.empty((n, horizon), dtype=object)
    for i in range(n):
        for t in range(horizon + 1):
            obs[i, t] = {
                "observation": data.episodes["o"][i, t],
                "achieved_goal": data.episodes["ag"][i, t],
                "desired_goal": data.episodes["g"][i, min(t, horizon - 1)],
            }
        for t in range(horizon):
            info[i, t] = {"is_success": data.episodes["info_is_success"][i, t, 0]}
    np.savez_compressed(path, acs=data.episodes["u"][:, :horizon], obs=obs, info=info)
    return path


def test_legacy_conversion_needs_trust_and_produces_a_valid_file(tmp_path):
    old = legacy_file(tmp_path / "data_fetch_reach_3.npz")
    env = {**os.environ}
    command = [
        sys.executable,
        "data_generation/convert_legacy_demos.py",
        str(old),
        "--env",
        "FetchReach-v4",
        "--out",
        str(tmp_path / "new.npz"),
    ]
    refused = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "--trust" in refused.stderr
    assert not (tmp_path / "new.npz").exists()
    done = subprocess.run([*command, "--trust"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    info = EnvInfo.of(make_env("FetchReach-v4"), "FetchReach-v4")
    converted = load_demos(tmp_path / "new.npz", info)
    assert converted.n_episodes == 3 and converted.episodes["u"].shape == (3, 50, 4)
    assert "length" not in converted.episodes  # full episodes keep the plain format


def test_generator_cli_prints_a_summary(tmp_path):
    out = tmp_path / "reach.npz"
    result = subprocess.run(
        [
            sys.executable,
            "data_generation/fetch_data_generation.py",
            "--env",
            "FetchReach-v4",
            "--num_episodes",
            "5",
            "--out",
            str(out),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "success rate 1.00" in result.stdout and str(out) in result.stdout
    assert out.exists()


def one_line_error(result) -> str:
    """The command's single ``Error:`` line, after checking it failed as a user error would."""
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no crash
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def convert(*args: str):
    return CliRunner().invoke(convert_legacy_demos.main, [*args, "--trust"])


def test_legacy_conversion_that_does_not_fit_the_env_writes_nothing(tmp_path):
    old = legacy_file(tmp_path / "short.npz", n=2, horizon=2)
    out = tmp_path / "good.npz"
    out.write_bytes(b"an earlier, good conversion")
    for target in (out, tmp_path / "new.npz"):
        result = convert(str(old), "--env", "FetchReach-v4", "--out", str(target))
        line = one_line_error(result)
        assert f"{old}: episodes have T=2, FetchReach-v4 has T=50" in line
    assert out.read_bytes() == b"an earlier, good conversion"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npz", "short.npz"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("{old}", "--out: {old}: is LEGACY_FILE itself"),
        ("{tmp}/sub/../old.npz", "is LEGACY_FILE itself"),  # the same file, spelled otherwise
        ("{tmp}/new.txt", "--out: {tmp}/new.txt: the output must end in .npz"),
        ("{tmp}/old.npz/new.npz", "--out {tmp}/old.npz/new.npz: {old} is a file, not a folder"),
    ],
)
def test_legacy_converter_refuses_a_bad_out_before_reading(tmp_path, monkeypatch, out, message):
    old = legacy_file(tmp_path / "old.npz", n=1)
    (tmp_path / "sub").mkdir()
    before = old.read_bytes()
    monkeypatch.setattr(
        "herdemos.data_generation.legacy_format.read_legacy_demos",
        lambda path: pytest.fail("the input was read before --out was checked"),
    )
    fill = {"old": old, "tmp": tmp_path}
    result = convert(str(old), "--env", "FetchReach-v4", "--out", out.format(**fill))
    assert message.format(**fill) in one_line_error(result)
    assert old.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.npz", "sub"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--noise", "nan"], "'--noise': nan is not a finite number"),
        (["--noise", "inf"], "'--noise': inf is not a finite number"),
        (["--seed", "-1"], "'--seed': -1 is not in the range x>=0"),
        (["--out", "{tmp}/keep.npz/g.npz"], "--out {tmp}/keep.npz/g.npz: {tmp}/keep.npz is a file"),
        (["--out", "{tmp}"], "'--out'"),
    ],
)
def test_generator_refuses_bad_flags_before_generating(tmp_path, monkeypatch, args, message):
    keep = tmp_path / "keep.npz"
    keep.write_bytes(b"demos from an earlier run")
    monkeypatch.setattr(
        scripted_demos,
        "generate_demos",
        lambda *a, **k: pytest.fail("episodes were generated before the flags were checked"),
    )
    args = [a.format(tmp=tmp_path) for a in args]
    out = [] if "--out" in args else ["--out", str(keep)]
    result = CliRunner().invoke(
        fetch_data_generation.main, ["--env", "FetchReach-v4", "--quiet", *out, *args]
    )
    assert message.format(tmp=tmp_path) in one_line_error(result)
    assert keep.read_bytes() == b"demos from an earlier run"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.npz"]


def test_missed_grasp_demos_are_named_recorded_and_refused_where_there_is_no_grasp(tmp_path):
    from herdemos.data_generation.scripted_demos import default_demo_name
    from herdemos.demos import load_demos

    assert default_demo_name("FetchStack2-v1", 100, 0, 0.1, 0.2) == (
        "FetchStack2-v1_scripted_100ep_seed0_noise0.1_miss0.2.npz"
    )
    data = generate_demos("FetchStack2-v1", 2, seed=3, miss_prob=1.0)
    data.save(tmp_path / "miss.npz")
    assert load_demos(tmp_path / "miss.npz").metadata["miss_prob"] == 1.0
    result = subprocess.run(
        [sys.executable, "data_generation/fetch_data_generation.py", "--env", "FetchReach-v4",
         "--miss_prob", "0.5", "--num_episodes", "2", "--out", str(tmp_path / "r.npz")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: --miss_prob: only the stack")
    assert not (tmp_path / "r.npz").exists()
