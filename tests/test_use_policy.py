"""Using a trained policy: play.py (metrics, video), export.py (SavedModel), plot.py."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_asserts import python_path

from herdemos import load_policy
from herdemos.policy import Policy

ROOT = Path(__file__).resolve().parents[1]


def run(*args, extra_env=None):
    env = {**os.environ, "PYTHONPATH": python_path(), **(extra_env or {})}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def random_policy(path: Path, env_id="FetchReach-v4", dims=(10, 3, 4), hidden=16) -> Path:
    rng = np.random.default_rng(0)
    dim_o, dim_g, dim_u = dims

    def layer(n_in, n_out):
        return [rng.normal(0, 0.3, (n_in, n_out)).astype(np.float32), np.zeros(n_out, np.float32)]

    actor = layer(dim_o + dim_g, hidden) + layer(hidden, dim_u)
    critic = layer(dim_o + dim_g + dim_u, hidden) + layer(hidden, 1)
    Policy(
        actor,
        critic,
        np.zeros(dim_o, np.float32),
        np.ones(dim_o, np.float32),
        np.zeros(dim_g, np.float32),
        np.ones(dim_g, np.float32),
        200.0,
        5.0,
        1.0,
        {"env_id": env_id},
    ).save(path)
    return path


def test_export_matches_load_policy_act(tmp_path):
    import tensorflow as tf

    policy_file = random_policy(tmp_path / "p.pkl")
    result = run("experiment/export.py", str(policy_file), "--out", str(tmp_path / "model"))
    assert result.returncode == 0, result.stderr
    serve = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]
    policy = load_policy(policy_file)
    rng = np.random.default_rng(1)
    o = rng.normal(1, 2, (64, 10)).astype(np.float32)
    g = rng.normal(1, 2, (64, 3)).astype(np.float32)
    exported = serve(observation=tf.constant(o), desired_goal=tf.constant(g))["action"].numpy()
    np.testing.assert_allclose(exported, policy.deterministic(o, g), atol=1e-5)


def test_export_refuses_to_overwrite(tmp_path):
    (tmp_path / "model").mkdir()
    result = run(
        "experiment/export.py",
        str(random_policy(tmp_path / "p.pkl")),
        "--out",
        str(tmp_path / "model"),
    )
    assert result.returncode != 0 and "already exists" in result.stderr


def test_play_prints_metrics_and_writes_a_video_and_a_strip(tmp_path):
    import ctypes.util

    if not (ctypes.util.find_library("EGL") or ctypes.util.find_library("OSMesa")):
        pytest.skip("no headless GL library: apt-get install libegl1 libegl-mesa0 libosmesa6")
    policy_file = random_policy(tmp_path / "p.pkl")
    video, strip = tmp_path / "reach.mp4", tmp_path / "reach.png"
    result = run(
        "experiment/play.py",
        str(policy_file),
        "--n_test_rollouts",
        "2",
        "--video",
        str(video),
        "--strip",
        str(strip),
    )
    assert result.returncode == 0, result.stderr
    assert "success rate" in result.stdout and "mean Q" in result.stdout
    import imageio.v2 as imageio

    reader = imageio.get_reader(video)
    frame = reader.get_data(10)
    assert frame.ndim == 3 and frame.std() > 10  # a real picture, not a blank frame
    assert reader.count_frames() == 100  # 2 episodes x T=50
    picture = imageio.imread(strip)
    assert picture.shape[1] == 5 * frame.shape[1] and picture.shape[0] == frame.shape[0]
    first, last = np.split(picture, 5, axis=1)[0], np.split(picture, 5, axis=1)[-1]
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 0  # the arm moved


# Runs in its own process: the GL backend must be chosen before MuJoCo is imported.
SAME_EPISODE_FILMED = """
import sys
import numpy as np
from herdemos.rendering import choose_headless_backend
choose_headless_backend()
from herdemos.environment import make_env

def episode(render_mode):
    env = make_env(sys.argv[1], render_mode=render_mode)
    obs, _ = env.reset(seed=3)
    seen = [obs["observation"]]
    for action in np.random.default_rng(0).uniform(-1, 1, (25, env.action_space.shape[0])):
        seen.append(env.step(action)[0]["observation"])
        if render_mode:
            assert env.render().std() > 10  # a real picture
    env.close()
    return np.array(seen)

print(np.abs(episode(None) - episode("rgb_array")).max())
"""


@pytest.mark.parametrize("env_id", ["FetchPickAndPlace-v4", "FetchStack2-v1"])
def test_filming_an_episode_does_not_change_it(env_id):
    """Rendering used to run MuJoCo's forward pass between steps, which moved the next mocap
    target: a filmed Stack3 episode failed where the same episode unfilmed stacked the tower.
    Filmed and unfilmed episodes must now be identical, step for step."""
    import ctypes.util

    if not (ctypes.util.find_library("EGL") or ctypes.util.find_library("OSMesa")):
        pytest.skip("no headless GL library: apt-get install libegl1 libegl-mesa0 libosmesa6")
    result = run("-c", SAME_EPISODE_FILMED, env_id)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.split()[-1]) == 0.0


def test_play_without_display_points_to_video(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "experiment/play.py", str(random_policy(tmp_path / "p.pkl")), "--render"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "--video" in result.stderr
    assert "Traceback" not in result.stderr


def test_play_rejects_a_bad_policy_file(tmp_path):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"not a pickle")
    result = run("experiment/play.py", str(bad))
    assert result.returncode != 0 and "bad.pkl" in result.stderr
    assert "Traceback" not in result.stderr


def write_run(folder: Path, bc: bool, success: list[float]) -> None:
    import json

    folder.mkdir(parents=True)
    params = {
        "train": {"env": "FetchPickAndPlace-v4"},
        "ddpg": {"bc_loss": bc, "q_filter": bc},
        "demo": {"num_demo": 100 if bc else 0},
        "her": {"replay_strategy": "future"},
    }
    (folder / "params.json").write_text(json.dumps(params))
    lines = ["epoch,total_env_steps,test/success_rate,test/mean_Q"]
    lines += [f"{i + 1},{1000 * (i + 1)},{s},{-s}" for i, s in enumerate(success)]
    (folder / "progress.csv").write_text("\n".join(lines) + "\n")


def test_plot_groups_seeds_and_tolerates_bad_runs(tmp_path):
    write_run(tmp_path / "demo_s0", True, [0.1, 0.5, 0.9])
    write_run(tmp_path / "demo_s1", True, [0.2, 0.6])  # still in progress
    write_run(tmp_path / "her_s0", False, [0.0, 0.0, 0.1])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "progress.csv").write_text("")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "progress.csv").write_text("a,b\n1,2\n")
    write_run(tmp_path / "damaged", True, [0.3])
    (tmp_path / "damaged" / "params.json").write_text('{"ddpg": "not a section"}')
    out = tmp_path / "curves.png"
    result = run("experiment/plot.py", str(tmp_path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "4 runs, 3 groups" in result.stdout  # the damaged run plots as an unknown env
    assert "empty/progress.csv: no epochs logged yet" in result.stderr
    assert "junk/progress.csv: missing columns" in result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_with_nothing_to_plot_fails_clearly(tmp_path):
    result = run("experiment/plot.py", str(tmp_path / "nowhere"))
    assert result.returncode != 0 and "no such folder" in result.stderr


def test_play_strip_needs_a_png_name(tmp_path):
    result = run(
        "experiment/play.py",
        str(random_policy(tmp_path / "p.pkl")),
        "--strip",
        str(tmp_path / "frames.jpg"),
    )
    assert result.returncode != 0 and "--strip" in result.stderr and ".png" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "frames.jpg").exists()


@pytest.mark.parametrize(
    ("script", "flag"),
    [
        ("experiment/play.py", "--strip"),
        ("experiment/play.py", "--video"),
        ("experiment/export.py", "--out"),
    ],
)
def test_an_output_under_a_file_is_refused_before_any_work(tmp_path, script, flag):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    name = "model" if script.endswith("export.py") else "frames.png"
    if flag == "--video":
        name = "film.mp4"
    result = run(script, str(random_policy(tmp_path / "p.pkl")), flag, str(blocker / name))
    assert result.returncode != 0
    assert f"{flag} {blocker / name}: {blocker} is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr and blocker.read_text() == "keep me"
    assert "success rate" not in result.stdout  # refused before any episode


def test_plot_output_under_a_file_is_refused(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    result = run("experiment/plot.py", str(tmp_path), "--out", str(blocker / "c.png"))
    assert result.returncode != 0 and f"{blocker} is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_play_refuses_a_negative_seed_and_an_empty_env(tmp_path):
    policy = str(random_policy(tmp_path / "p.pkl"))
    result = run("experiment/play.py", policy, "--seed", "-1")
    assert result.returncode != 0 and "--seed" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("experiment/play.py", policy, "--env", "")
    assert result.returncode != 0 and "--env '': give an env id" in result.stderr


def test_a_policy_file_cannot_choose_a_module_to_import(tmp_path):
    """A policy's env id ``module:Name`` would import ``module``: refused unless the user
    names it with --env."""
    (tmp_path / "planted.py").write_text(
        f"open({str(tmp_path / 'imported')!r}, 'w').close()\nNothing = None\n"
    )
    policy = str(random_policy(tmp_path / "p.pkl", env_id="planted:Nothing"))
    extra = {"PYTHONPATH": python_path(tmp_path)}
    result = run("experiment/play.py", policy, extra_env=extra)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "p.pkl: its env 'planted:Nothing' is a module:Name entry point" in result.stderr
    assert "pass --env planted:Nothing" in result.stderr
    result = run("-m", "benchmarks.stack_failures", policy, extra_env=extra)
    assert result.returncode != 0 and "module:Name entry point" in result.stderr
    assert not (tmp_path / "imported").exists()
    trusted = run("experiment/play.py", policy, "--env", "planted:Nothing", extra_env=extra)
    assert (tmp_path / "imported").exists()  # the user asked for it by name
    assert "Traceback" not in trusted.stderr
