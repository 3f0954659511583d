"""--video_interval: a filmed test episode every N epochs, in the run folder and TensorBoard,
without touching training's numbers; where nothing can be filmed, one line and training goes on."""

import csv

import imageio.v3 as iio
from test_cli_smoke import TINY, run

POINT = "point_env:PointGoal-v0"


def progress(run_dir):
    with open(run_dir / "progress.csv") as f:
        return [
            {k: v for k, v in row.items() if k != "wall_time" and not k.startswith("time/")}
            for row in csv.DictReader(f)
        ]


def test_a_run_with_video_interval_1_films_each_epoch_and_trains_the_same_numbers(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    reach = ["experiment/train.py", "--env", "FetchReach-v4", "--n_epochs", "1", *TINY]
    filmed = run(*reach, "--video_interval", "1", "--logdir", str(tmp_path / "filmed"))
    assert filmed.returncode == 0, filmed.stderr
    assert "no videos" not in filmed.stdout + filmed.stderr
    video = tmp_path / "filmed" / "videos" / "epoch-0001.mp4"
    frames = iio.imread(video)
    assert frames.shape[0] == 50 and frames.shape[-1] == 3  # one frame per step of T = 50
    assert frames.std() > 0  # a picture, not a blank
    events = EventAccumulator(str(tmp_path / "filmed" / "tb"))
    events.Reload()
    assert "video/test_episode" in events.Tags()["images"]
    plain = run(*reach, "--logdir", str(tmp_path / "plain"))
    assert plain.returncode == 0, plain.stderr
    assert progress(tmp_path / "filmed") == progress(tmp_path / "plain")


def test_an_env_that_cannot_be_filmed_says_so_once_and_training_completes(tmp_path):
    logdir = tmp_path / "run"
    result = run(
        "experiment/train.py", "--env", POINT, "--n_epochs", "2", "--video_interval", "1",
        "--logdir", str(logdir), *TINY,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if line.startswith("no videos:")]
    assert said == [
        "no videos: --env point_env:PointGoal-v0: the env does not render; training goes on "
        "without them (--video_interval)"
    ]
    assert [row["epoch"] for row in progress(logdir)] == ["1", "2"]
    assert not (logdir / "videos").exists()
