"""Minari datasets as demos: export and import round trips, training from a dataset id or folder,
datasets made elsewhere (ragged, no simulator states), and the refusals. Every dataset is made
here, in a temporary MINARI_DATASETS_PATH; nothing is downloaded."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import minari
import numpy as np
import pytest
from cli_asserts import assert_one_line_error, python_path
from click.testing import CliRunner
from minari.data_collector import EpisodeBuffer

from herdemos import minari_io
from herdemos.config import Config, with_overrides
from herdemos.data_generation.minari_demos import main as minari_cli
from herdemos.data_generation.scripted_demos import generate_demos
from herdemos.demos import DemoData, load_demo_source, load_demos
from herdemos.env_checks import check_against_env
from herdemos.env_info import EnvInfo
from herdemos.environment import make_env
from herdemos.ragged import pad_episodes
from herdemos.util import HerdemosError

ROOT = Path(__file__).resolve().parents[1]
ENV = "FetchReach-v4"
DATASET = "herdemos/reach-scripted-v0"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demos") / "reach.npz"
    generate_demos(ENV, 3, seed=0).save(path)
    return path


@pytest.fixture(scope="module")
def reach():
    env = make_env(ENV)
    yield env, EnvInfo.of(env, ENV)
    env.close()


@pytest.fixture
def minari_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


def export(demo_file: Path, dataset_id: str = DATASET, *args: str):
    return CliRunner().invoke(
        minari_cli, ["export", str(demo_file), "--dataset_id", dataset_id, *args]
    )


def foreign_dataset(env, dataset_id: str, lengths, seed: int = 0) -> None:
    """A dataset as another tool writes it: random-action Fetch episodes of the given lengths,
    sparse rewards, the env's spec, and no infos (no is_success, no simulator states)."""
    buffers = []
    for i, length in enumerate(lengths):
        obs, _ = env.reset(seed=seed + i)
        steps = [obs]
        actions, rewards = [], []
        for _ in range(length):
            u = env.action_space.sample()
            obs, reward, *_ = env.step(u)
            steps.append(obs)
            actions.append(u)
            rewards.append(reward)
        done = np.zeros(length, bool)
        done[-1] = True
        buffers.append(
            EpisodeBuffer(
                id=i,
                observations={k: np.stack([o[k] for o in steps]) for k in steps[0]},
                actions=np.stack(actions),
                rewards=np.array(rewards),
                terminations=np.zeros(length, bool),
                truncations=done,
            )
        )
    with warnings.catch_warnings():  # Minari asks for the optional fields left out
        warnings.simplefilter("ignore")
        minari.create_dataset_from_buffers(dataset_id, buffers, env=env)


def test_export_then_import_keeps_every_array_and_the_metadata_exactly(demo_file, minari_root):
    result = export(demo_file)
    assert result.exit_code == 0, result.output
    assert (minari_root / DATASET / "data" / "metadata.json").is_file()
    assert not [p for p in minari_root.iterdir() if p.name.startswith(".")]  # staging removed
    back = minari_root.parent / "back.npz"
    result = CliRunner().invoke(minari_cli, ["import", DATASET, "--out", str(back)])
    assert result.exit_code == 0, result.output
    assert "with simulator states" in result.output
    original, imported = np.load(demo_file), np.load(back)
    assert sorted(original.files) == sorted(imported.files)
    for key in original.files:
        assert original[key].dtype == imported[key].dtype, key
        np.testing.assert_array_equal(original[key], imported[key], err_msg=key)
    assert json.loads(str(imported["metadata"]))["env_id"] == ENV


def test_episodes_of_different_lengths_round_trip_with_their_lengths_and_states(
    demo_file, minari_root, reach
):
    full = load_demos(demo_file)
    lengths = [50, 31, 9]
    rows = []
    for i, steps in enumerate(lengths):
        row = {k: v[i, : steps + (k in ("o", "ag"))] for k, v in full.episodes.items()}
        rows.append({**row, "sim_state": full.sim_state[i, : steps + 1]})
    episodes = pad_episodes(rows, reach[1].horizon)
    ragged = demo_file.with_name("ragged.npz")
    DemoData(episodes, episodes.pop("sim_state"), full.metadata).save(ragged)
    assert export(ragged, "herdemos/ragged-v0").exit_code == 0
    dataset = minari.load_dataset("herdemos/ragged-v0")
    assert [len(episode.actions) for episode in dataset] == lengths
    assert len(dataset[2].infos["sim_state"]) == 10
    back = minari_root.parent / "back.npz"
    result = CliRunner().invoke(minari_cli, ["import", "herdemos/ragged-v0", "--out", str(back)])
    assert result.exit_code == 0, result.output
    original, imported = np.load(ragged), np.load(back)
    assert sorted(original.files) == sorted(imported.files) and "length" in imported.files
    for key in original.files:
        np.testing.assert_array_equal(original[key], imported[key], err_msg=key)
    assert load_demo_source("herdemos/ragged-v0", reach[1], 3).lengths.tolist() == lengths


def test_minari_itself_reads_the_exported_dataset(demo_file, minari_root):
    assert export(demo_file).exit_code == 0
    dataset = minari.load_dataset(DATASET)
    demos = load_demos(demo_file)
    assert dataset.total_episodes == 3 and dataset.env_spec.id == ENV
    episode = dataset[1]
    np.testing.assert_array_equal(episode.observations["observation"], demos.episodes["o"][1])
    np.testing.assert_array_equal(episode.actions, demos.episodes["u"][1])
    np.testing.assert_array_equal(episode.infos["sim_state"], demos.sim_state[1])
    assert episode.truncations[-1] and not episode.terminations.any()
    # Rewards are the env's own: 0 exactly where the episode is a success after the step.
    success = demos.episodes["info_is_success"][1, :, 0]
    np.testing.assert_array_equal(episode.rewards == 0, success > 0.5)


def test_a_dataset_id_and_its_folders_load_the_same_demos(demo_file, minari_root, reach):
    _, info = reach
    assert export(demo_file).exit_code == 0
    by_id = load_demo_source(DATASET, info, 2)
    expected = load_demos(demo_file, info, 2)
    for source in (minari_root / DATASET, minari_root / DATASET / "data"):
        by_path = load_demo_source(source, info, 2)
        for key, array in expected.episodes.items():
            np.testing.assert_array_equal(by_path.episodes[key], array)
            np.testing.assert_array_equal(by_id.episodes[key], array)
        np.testing.assert_array_equal(by_path.sim_state, expected.sim_state)
    assert by_id.metadata == expected.metadata


def test_a_ragged_dataset_from_elsewhere_is_padded_and_cannot_reset(minari_root, reach):
    env, info = reach
    foreign_dataset(env, "others/reach-random-v1", [info.horizon, 20, 7])
    arrays = minari_io.minari_demo_arrays("others/reach-random-v1", info.horizon)
    np.testing.assert_array_equal(arrays["length"], [info.horizon, 20, 7])
    assert arrays["u"].shape == (3, info.horizon, info.dim_u)
    assert not arrays["u"][2, 7:].any() and arrays["u"][2, 6].any()
    np.testing.assert_array_equal(
        arrays["o"][2, 8:], np.repeat(arrays["o"][2, 7:8], info.horizon - 7, 0)
    )
    assert "sim_state" not in arrays
    raw = minari.load_dataset("others/reach-random-v1")[2]
    np.testing.assert_array_equal(arrays["info_is_success"][2, :7, 0], raw.rewards == 0)
    np.testing.assert_array_equal(arrays["g"][2, :7], raw.observations["desired_goal"][:7])
    metadata = json.loads(str(arrays["metadata"]))
    assert metadata["env_id"] == ENV and "others/reach-random-v1" in metadata["source"]

    demos = load_demo_source("others/reach-random-v1", info, 3)
    assert demos.lengths.tolist() == [info.horizon, 20, 7]
    overrides = {"num_demo": 3, "demo_reset_prob": 0.5, "demo_file": "others/reach-random-v1"}
    config = with_overrides(Config(), {"env": ENV, **overrides})
    with pytest.raises(HerdemosError, match="holds no simulator states .* Minari datasets made"):
        check_against_env(config, env, demos)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("longer", "has 60 steps; the env's episodes have T=50"),
        ("flat", "observations must be a goal env's dict"),
        ("dense", "no 'is_success' in the infos, and the rewards are not"),
    ],
)
def test_datasets_that_do_not_fit_are_one_line(minari_root, reach, make, message):
    env, info = reach
    rng = np.random.default_rng(0)
    steps = 60 if make == "longer" else 5
    dims = {"observation": info.dim_o, "achieved_goal": info.dim_g, "desired_goal": info.dim_g}
    observations = {k: rng.normal(size=(steps + 1, d)) for k, d in dims.items()}
    spaces = {}
    if make == "flat":
        observations = observations["observation"]
        spaces = {"observation_space": env.observation_space["observation"]}
    rewards = rng.normal(size=steps) if make == "dense" else -np.ones(steps)
    done = np.arange(steps) == steps - 1
    episode = EpisodeBuffer(
        id=0,
        observations=observations,
        actions=rng.uniform(-1, 1, (steps, info.dim_u)).astype(np.float32),
        rewards=rewards,
        terminations=np.zeros(steps, bool),
        truncations=done,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        minari.create_dataset_from_buffers(
            "bad/data-v0",
            [episode],
            env=env if make != "flat" else None,
            action_space=env.action_space,
            **spaces,
        )
    with pytest.raises(HerdemosError, match=message) as error:
        load_demo_source("bad/data-v0", info, 1)
    assert str(error.value).startswith("bad/data-v0: ") and "\n" not in str(error.value)


def test_without_the_minari_package_the_error_says_how_to_install_it(
    demo_file, minari_root, reach, monkeypatch
):
    assert export(demo_file).exit_code == 0
    monkeypatch.setitem(sys.modules, "minari", None)  # `import minari` raises ImportError
    with pytest.raises(HerdemosError, match=r"pip install herdemos\[minari\]"):
        load_demo_source(DATASET, reach[1], 1)
    assert not minari_io.is_minari_source("demos/reach.npz")  # .npz files need no Minari
    result = export(demo_file, "herdemos/other-v0")
    assert_one_line_error(result, "pip install herdemos[minari]")


def test_where_demo_file_points(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "file-v0").write_text("")
    assert minari_io.is_minari_source("herdemos/pickandplace-scripted-v0")
    assert minari_io.is_minari_source("D4RL/door/human-v2")
    assert minari_io.is_minari_source("folder")
    assert not minari_io.is_minari_source("file-v0")  # an existing file is a demo file
    assert not minari_io.is_minari_source("demos/pp-v0.npz")
    assert not minari_io.is_minari_source("demos.npz")


def test_export_and_import_refusals_are_one_line(demo_file, minari_root, tmp_path):
    assert_one_line_error(export(demo_file, "no version"), "--dataset_id no version", "name-v0")
    assert export(demo_file).exit_code == 0
    assert_one_line_error(export(demo_file), f"--dataset_id {DATASET}", "exists")
    assert_one_line_error(
        export(demo_file, "herdemos/push-v0", "--env", "FetchPush-v4"),
        "demos recorded in FetchReach-v4, not FetchPush-v4",
    )
    assert not (minari_root / "herdemos" / "push-v0").exists()
    existing = tmp_path / "existing.npz"
    existing.write_bytes(b"keep")
    run = CliRunner().invoke
    assert_one_line_error(run(minari_cli, ["import", DATASET, "--out", str(existing)]), "exists")
    assert existing.read_bytes() == b"keep"
    assert_one_line_error(
        run(minari_cli, ["import", "herdemos/none-v0", "--out", str(tmp_path / "x.npz")]),
        "herdemos/none-v0: no local Minari dataset",
        "minari download herdemos/none-v0",
    )
    assert_one_line_error(
        run(minari_cli, ["import", str(tmp_path), "--out", str(tmp_path / "x.npz")]),
        "not a Minari dataset folder",
    )


def train(tmp_path: Path, minari_root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": python_path(), "MINARI_DATASETS_PATH": str(minari_root)}
    tiny = ["n_cycles=2", "n_batches=2", "batch_size=32", "n_test_rollouts=2", "demo_batch_size=8"]
    sets = [item for pair in zip(["--set"] * len(tiny), tiny, strict=True) for item in pair]
    command = [sys.executable, "experiment/train.py", "--env", ENV, "--n_epochs", "1", *args]
    return subprocess.run(
        [*command, *sets, "--quiet"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_train_one_epoch_from_a_dataset_id_and_from_its_folder(demo_file, minari_root, tmp_path):
    assert export(demo_file).exit_code == 0
    for name, source in (("by_id", DATASET), ("by_path", str(minari_root / DATASET))):
        logdir = tmp_path / name
        result = train(
            tmp_path,
            minari_root,
            "--bc_loss",
            "1",
            "--num_demo",
            "3",
            "--demo_file",
            source,
            "--demo_reset_prob",
            "0.5",
            "--logdir",
            str(logdir),
        )
        assert result.returncode == 0, result.stderr
        assert (logdir / "progress.csv").is_file()
        (session,) = json.loads((logdir / "provenance.json").read_text())["sessions"]
        assert session["demo_file"] == {
            "minari_dataset": source,
            "sha256": minari_io.dataset_sha256(source),
        }


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("herdemos/missing-v0", "herdemos/missing-v0: no local Minari dataset of this id"),
        ("{tmp}", "not a Minari dataset folder"),
    ],
)
def test_train_refuses_a_dataset_that_is_not_there_in_one_line(
    minari_root, tmp_path, source, message
):
    logdir = tmp_path / "run"
    args = ["--num_demo", "2", "--demo_file", source.format(tmp=tmp_path), "--logdir", str(logdir)]
    result = train(tmp_path, minari_root, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not logdir.exists()


def test_a_dataset_of_another_env_with_the_same_sizes_is_refused_unless_overridden(
    tmp_path, minari_root
):
    """Push demos fit PickAndPlace's sizes; the env id the dataset records tells them apart."""
    push = tmp_path / "push.npz"
    generate_demos("FetchPush-v4", 2, seed=0).save(push)
    assert export(push, "herdemos/push-v0").exit_code == 0
    env = make_env("FetchPickAndPlace-v4")
    try:
        demos = load_demo_source("herdemos/push-v0", EnvInfo.of(env, "FetchPickAndPlace-v4"), 2)
        overrides = {"env": "FetchPickAndPlace-v4", "num_demo": 2, "demo_file": "herdemos/push-v0"}
        config = with_overrides(Config(), overrides)
        with pytest.raises(HerdemosError, match="recorded in FetchPush-v4, not FetchPickAndPlace"):
            check_against_env(config, env, demos)
        check_against_env(with_overrides(config, {"demo_env_check": False}), env, demos)
    finally:
        env.close()
