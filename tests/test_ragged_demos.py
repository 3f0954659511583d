"""Demo files of episodes with different lengths: the ``length`` key's checks, success at each
episode's last valid step, resets and mirror images that respect lengths, the legacy converter's
ragged files, and a real training run on such a file."""

import csv
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_cli_smoke import TINY, run

from herdemos.checkpoint import read_checkpoint_state
from herdemos.data_generation import convert_legacy_demos
from herdemos.demos import DemoData, load_demos
from herdemos.env_info import EnvInfo
from herdemos.ragged import pad_episodes
from herdemos.rollout import DemoStarts
from herdemos.symmetry import AffineMap, reflect
from herdemos.util import HerdemosError

HORIZON = 10
INFO = EnvInfo("PointGoal-v0", dim_o=2, dim_g=2, dim_u=2, horizon=HORIZON, max_u=1.0)


def point_episode(rng: np.random.Generator, max_steps: int = HORIZON) -> dict[str, np.ndarray]:
    """A straight-line point-env demo that stops one step after reaching its goal (or at
    ``max_steps``), as a real demonstrator stops when the task is done."""
    pos, goal = [rng.uniform(-0.5, 0.5, 2)], rng.uniform(-0.5, 0.5, 2)
    u, success = [], []
    while len(u) < max_steps and not (success and success[-1][0]):
        u.append(np.clip((goal - pos[-1]) / 0.1, -1, 1))
        pos.append(np.clip(pos[-1] + 0.1 * u[-1], -1, 1))
        success.append([float(np.linalg.norm(pos[-1] - goal) <= 0.1)])
    pos = np.array(pos)
    return {
        "o": pos,
        "ag": pos,
        "g": np.repeat(goal[None], len(u), 0),
        "u": np.array(u),
        "info_is_success": np.array(success),
    }


def ragged_demos(n: int = 8, seed: int = 0) -> DemoData:
    rng = np.random.default_rng(seed)
    episodes = pad_episodes([point_episode(rng) for _ in range(n)], HORIZON)
    return DemoData(episodes, None, {"env_id": "PointGoal-v0"})


def save(tmp_path, data: DemoData, name="ragged.npz", **replace) -> Path:
    arrays = {**data.to_arrays(), **replace}
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_lengths_round_trip_and_num_demo_takes_the_first_episodes(tmp_path):
    data = ragged_demos()
    assert 1 <= data.lengths.min() < data.lengths.max() <= HORIZON  # the demos really vary
    path = tmp_path / "demos.npz"
    data.save(path)
    with np.load(path, allow_pickle=False) as raw:
        assert raw["length"].dtype == np.int64
    loaded = load_demos(path, INFO, num_demo=5)
    np.testing.assert_array_equal(loaded.episodes["length"], data.lengths[:5])
    np.testing.assert_allclose(loaded.episodes["u"], data.episodes["u"][:5], rtol=1e-6)


def test_success_rate_reads_each_episodes_last_valid_step():
    data = ragged_demos()
    success = data.episodes["info_is_success"]
    assert not success[:, -1].any()  # padding, which a fixed-T reading would take
    assert data.success_rate == pytest.approx(1.0)
    success[0, data.lengths[0] - 1] = 0.0
    assert data.success_rate == pytest.approx(7 / 8)


def test_files_without_length_load_as_before(tmp_path):
    data = ragged_demos()
    del data.episodes["length"]
    path = tmp_path / "plain.npz"
    data.save(path)
    with np.load(path, allow_pickle=False) as raw:
        assert "length" not in raw.files
    loaded = load_demos(path, INFO)
    assert "length" not in loaded.episodes and list(loaded.lengths) == [HORIZON] * 8


@pytest.mark.parametrize(
    ("length", "message"),
    [
        (np.full(8, 3.0), "'length' must be an integer array of shape (8,), got float64 (8,)"),
        (np.full(8, True), "'length' must be an integer array of shape (8,), got bool (8,)"),
        (np.full((8, 1), 3), "'length' must be an integer array of shape (8,), got int64 (8, 1)"),
        (np.full(7, 3), "'length' must be an integer array of shape (8,), got int64 (7,)"),
        (np.array([3] * 7 + [0]), "'length' must be within 1..10 (T), got 0..3"),
        (np.array([3] * 7 + [11]), "'length' must be within 1..10 (T), got 3..11"),
        (np.array([3] * 7 + [-2]), "'length' must be within 1..10 (T), got -2..3"),
    ],
)
def test_a_bad_length_is_one_line_naming_the_file(tmp_path, length, message):
    path = save(tmp_path, ragged_demos(), length=length)
    with pytest.raises(HerdemosError) as error:
        load_demos(path, INFO)
    assert str(error.value) == f"{path}: {message}"


def test_demo_resets_start_only_from_valid_states_of_successful_episodes():
    # episode 0: 2 steps, succeeds at its end; episode 1: 3 steps, fails at its end (its
    # padding claims success); episode 2: 1 step, succeeds
    length = np.array([2, 3, 1])
    success = np.zeros((3, 4, 1))
    success[0, 1] = success[1, 3] = success[2, 0] = 1.0
    sim_state = np.arange(3 * 5, dtype=float).reshape(3, 5, 1)
    goal = np.arange(3 * 4, dtype=float).reshape(3, 4, 1)
    starts = DemoStarts.of_successful(sim_state, goal, success, length)
    np.testing.assert_array_equal(starts.length, [2, 1])
    rng = np.random.default_rng(0)
    drawn = [starts.sample(rng) for _ in range(600)]
    states = np.array([s[0] for s, _ in drawn])
    assert set(states) == {0.0, 1.0, 10.0}  # episode 0 steps 0, 1 and episode 2 step 0
    # uniform over the three valid states, as the sampler draws transitions
    assert all(abs(np.mean(states == s) - 1 / 3) < 0.07 for s in (0.0, 1.0, 10.0))
    for state, g in drawn:
        ep, t = divmod(int(state[0]), 5)
        assert g[0] == goal[ep, t, 0]


def test_a_mirror_image_keeps_lengths_and_zero_padding():
    data = ragged_demos()
    pos = AffineMap.identity(2).mirror(0, 0.3)  # an offset, which would move zero padding
    image = reflect(data.episodes, {"o": pos, "ag": pos, "g": pos, "u": pos})
    np.testing.assert_array_equal(image["length"], data.lengths)
    for i, length in enumerate(data.lengths):
        expected = data.episodes["g"][i, :length].copy()
        expected[:, 0] = 0.6 - expected[:, 0]
        np.testing.assert_allclose(image["g"][i, :length], expected)
        assert not image["g"][i, length:].any() and not image["u"][i, length:].any()
        np.testing.assert_array_equal(
            image["o"][i, length:], image["o"][i, [length]].repeat(HORIZON + 1 - length, 0)
        )


def legacy_ragged_file(path: Path, lengths) -> Path:
    """The original project's layout, with episodes of different lengths: 1-D object arrays of
    per-episode lists of observation dicts, actions and info dicts."""
    rng = np.random.default_rng(0)
    obs, acs, info = (np.empty(len(lengths), dtype=object) for _ in range(3))
    for i, length in enumerate(lengths):
        goal = rng.normal(size=3)
        obs[i] = [
            {
                "observation": rng.normal(size=10),
                "achieved_goal": rng.normal(size=3),
                "desired_goal": goal,
            }
            for _ in range(length + 1)
        ]
        acs[i] = [rng.uniform(-1, 1, 4) for _ in range(length)]
        info[i] = [{"is_success": float(t == length - 1)} for t in range(length)]
    np.savez_compressed(path, acs=acs, obs=obs, info=info)
    return path


def test_legacy_files_with_episodes_of_different_lengths_convert_with_length(tmp_path):
    old = legacy_ragged_file(tmp_path / "old.npz", [50, 7, 23])
    result = CliRunner().invoke(
        convert_legacy_demos.main,
        [str(old), "--env", "FetchReach-v4", "--out", str(tmp_path / "new.npz"), "--trust"],
    )
    assert result.exit_code == 0, result.output
    assert "converted 3 episodes of 7..50 steps (success 1.00)" in result.output
    info = EnvInfo("FetchReach-v4", dim_o=10, dim_g=3, dim_u=4, horizon=50, max_u=1.0)
    data = load_demos(tmp_path / "new.npz", info)
    np.testing.assert_array_equal(data.episodes["length"], [50, 7, 23])
    with np.load(old, allow_pickle=True) as raw:
        np.testing.assert_allclose(data.episodes["u"][1, :7], np.array(raw["acs"][1]), rtol=1e-6)
        last = raw["obs"][1][7]["observation"]
    np.testing.assert_allclose(data.episodes["o"][1, 8:], np.tile(last, (43, 1)), rtol=1e-6)
    assert not data.episodes["u"][1, 7:].any()
    assert data.metadata["success_rate"] == 1.0


def test_a_ragged_legacy_episode_longer_than_the_env_is_one_line(tmp_path):
    old = legacy_ragged_file(tmp_path / "long.npz", [60, 7])
    result = CliRunner().invoke(
        convert_legacy_demos.main, [str(old), "--env", "FetchReach-v4", "--trust"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{old}: an episode has 60 steps, more than the env's T=50" in result.output
    assert not (tmp_path / "long_herdemos.npz").exists()


def test_one_epoch_of_training_on_a_variable_length_demo_file(tmp_path):
    demo_file = tmp_path / "ragged.npz"
    ragged_demos().save(demo_file)
    logdir = tmp_path / "run"
    result = run(
        "experiment/train.py",
        *("--env", "point_env:PointGoal-v0", "--n_epochs", "1"),
        *("--bc_loss", "1", "--q_filter", "1", "--num_demo", "8"),
        *("--demo_file", str(demo_file), "--logdir", str(logdir)),
        *TINY,
    )
    assert result.returncode == 0, result.stderr
    with open(logdir / "progress.csv") as f:
        row = next(csv.DictReader(f))
    assert float(row["train/bc_loss"]) > 0 and np.isfinite(float(row["train/bc_loss"]))
    (checkpoint,) = logdir.glob("checkpoint*")
    arrays, _ = read_checkpoint_state(checkpoint)
    np.testing.assert_array_equal(arrays["demo_buffer/storage/length"], ragged_demos().lengths)
    assert "buffer/storage/length" not in arrays  # the agent's own episodes have T steps
