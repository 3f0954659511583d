"""The benchmark runner: it waits for train.py's checkpoint when interrupted, never touches a
run another process is training, and records the command that reruns each suite."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from herdemos.util import HerdemosError

ROOT = Path(__file__).resolve().parents[1]

# A stand-in for train.py: on SIGINT or SIGTERM it takes a second to "write a checkpoint", then
# exits with 128 + the signal (EXIT_AFTER_STOP overrides it); further signals change nothing.
CHILD = """
import signal, sys, time
stopping = []
def stop(signum, frame):
    if stopping:
        return
    stopping.append(signum)
    time.sleep(1.0)
    open(sys.argv[1], "w").write("checkpoint")
    sys.exit(EXIT_AFTER_STOP if EXIT_AFTER_STOP is not None else 128 + signum)
EXIT_AFTER_STOP = None
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
open(sys.argv[2], "w").write("started")
time.sleep(60)
"""

# The runner handles Ctrl-C as in a terminal, also when pytest itself was started as a background
# job of a non-interactive shell (`nohup pytest &`), which starts with SIGINT ignored.
RUNNER = """
import signal, sys
from pathlib import Path
import click
from benchmarks.run import run_child
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    run_child([sys.executable, "-c", *sys.argv[1:]], "suite seed 0", Path("x"))
except click.ClickException as e:
    e.show()
    sys.exit(e.exit_code)
"""


def stop_runner_after_start(tmp_path, child: str, stop) -> tuple[str, int, str]:
    """Starts the runner with a stand-in train.py, calls ``stop(runner)`` once the child runs,
    and returns what the child wrote as its checkpoint, the runner's exit code and stderr."""
    checkpoint, started = tmp_path / "checkpoint", tmp_path / "started"
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, child, str(checkpoint), str(started)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C would hit
    )
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists()
    stop(runner)
    _, stderr = runner.communicate(timeout=30)
    return checkpoint.read_text(), runner.returncode, stderr.strip()


@pytest.mark.parametrize("whole_group", [True, False])
def test_ctrl_c_waits_for_the_child_checkpoint_and_prints_one_line(tmp_path, whole_group):
    """A terminal's Ctrl-C reaches the runner and train.py; ``kill -INT RUNNER_PID`` reaches
    the runner alone, which passes it on. Either way train.py checkpoints before the runner
    ends."""

    def ctrl_c(runner):
        if whole_group:
            os.killpg(runner.pid, signal.SIGINT)
        else:
            os.kill(runner.pid, signal.SIGINT)

    assert stop_runner_after_start(tmp_path, CHILD, ctrl_c) == (
        "checkpoint",
        1,
        "Error: suite seed 0 interrupted; rerun to resume",
    )


@pytest.mark.parametrize("child_exit", [None, 0])
def test_sigterm_to_the_runner_alone_stops_the_child_after_its_checkpoint(tmp_path, child_exit):
    """``kill RUNNER_PID`` reaches train.py, which checkpoints and exits with 143, or with 0 when
    the signal came during its last epoch; the runner then reports a stop to resume from and
    starts nothing more (a background runner ignores SIGINT, so this is the way to stop it)."""
    child = CHILD.replace("EXIT_AFTER_STOP = None", f"EXIT_AFTER_STOP = {child_exit}")

    def kill(runner):
        runner.send_signal(signal.SIGTERM)  # the runner only, not its process group

    assert stop_runner_after_start(tmp_path, child, kill) == (
        "checkpoint",
        1,
        "Error: suite seed 0 stopped; rerun to resume from x",
    )


@pytest.mark.parametrize("code", [129, 130, 143])
def test_a_child_stopped_on_its_own_is_reported_as_stopped_not_failed(code):
    """``kill -HUP``, ``kill -INT`` or ``kill -TERM`` of train.py alone (not the runner) ends it
    with code 129, 130 or 143 after a checkpoint: a stop to resume from, not an error to look
    for above."""
    runner = subprocess.run(
        [sys.executable, "-c", RUNNER, f"import sys; sys.exit({code})"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert runner.returncode == 1
    assert runner.stderr.strip() == "Error: suite seed 0 stopped; rerun to resume from x"


def test_window_means_reads_ten_epochs_not_one_lucky_epoch():
    import numpy as np
    import pytest

    from benchmarks.report import summarize, window_means

    curve = np.array([0.0, 1.0, 0.0, 0.5, 0.5, 0.6])
    assert window_means(curve, 2) == pytest.approx((0.55, 0.55))
    # windows of 3: 0.33, 0.5, 0.33, 0.53: the lucky 1.0 alone does not make the best
    assert window_means(curve[:5], 3) == pytest.approx((0.5, 1 / 3))
    assert window_means(curve[:2], 10) == (0.5, 0.5)  # shorter than a window: its mean
    run = {"success": list(curve), "env_steps": [1, 2, 3, 4, 5, 6], "minutes": [1] * 6}
    summary = summarize([run])
    assert summary["best_success"] == 1.0
    assert summary["best_10_epoch_mean"] == pytest.approx(curve.mean())
    assert summary["last_10_epoch_mean"] == pytest.approx(curve.mean())


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def fake_suite(monkeypatch, tmp_path):
    """A suite ``fake`` whose runs live under ``tmp_path``; train.py is never started: the
    commands the runner would run are returned instead."""
    from benchmarks import run

    monkeypatch.setattr(run, "RUNS", tmp_path)
    suite = run.Suite("point_env:PointGoal-v0", ("--num_demo", "0"), 3, "fake", (0,))
    monkeypatch.setattr(run, "SUITES", {"fake": suite})
    monkeypatch.setattr(run, "FAMILIES", {"Fake": {"fake": suite}})
    started = []
    monkeypatch.setattr(run, "run_child", lambda command, label, logdir: started.append(command))
    return suite, started


def partial_run(logdir: Path, checkpoint: bool) -> dict:
    """A run folder interrupted at epoch 1 (with or without a checkpoint); returns its files."""
    logdir.mkdir(parents=True)
    (logdir / "progress.csv").write_text("epoch,total_env_steps\n1,100\n")
    if checkpoint:
        (logdir / "checkpoint-000001-000").mkdir()
        (logdir / "checkpoint-000001-000" / "state").write_bytes(b"state")
    return {p: p.read_bytes() for p in logdir.rglob("*") if p.is_file()}


@pytest.mark.parametrize("checkpoint", [False, True], ids=["restart", "resume"])
def test_a_run_being_trained_by_a_live_process_is_neither_deleted_nor_resumed(
    tmp_path, monkeypatch, checkpoint
):
    from benchmarks.run import run_seed

    suite, started = fake_suite(monkeypatch, tmp_path)
    logdir = tmp_path / "fake" / "seed0"
    files = partial_run(logdir, checkpoint)
    (logdir / "train.lock").write_text(f"{os.getpid()}\n")
    with pytest.raises(HerdemosError) as error:
        run_seed("fake", suite, 0, 3)
    assert str(error.value).startswith(
        f"{logdir}: being trained by process {os.getpid()}; stop it first ("
    )
    assert {p: p.read_bytes() for p in files} == files and not started


def test_a_stale_lock_does_not_stop_a_restart(tmp_path, monkeypatch):
    from benchmarks.run import run_seed

    suite, started = fake_suite(monkeypatch, tmp_path)
    logdir = tmp_path / "fake" / "seed0"
    partial_run(logdir, checkpoint=False)
    (logdir / "train.lock").write_text(f"{dead_pid()}\n")
    run_seed("fake", suite, 0, 3)
    assert not logdir.exists()  # cleared for a fresh start (the fake train.py wrote nothing)
    (command,) = started
    assert command[command.index("--logdir") + 1] == str(logdir)


def test_the_cli_refuses_a_live_run_in_one_line(tmp_path, monkeypatch):
    from benchmarks.run import main

    fake_suite(monkeypatch, tmp_path)
    logdir = tmp_path / "fake" / "seed0"
    files = partial_run(logdir, checkpoint=False)
    (logdir / "train.lock").write_text(str(os.getpid()))
    result = CliRunner().invoke(main, ["fake"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert (
        result.output
        == f"Error: {logdir}: being trained by process {os.getpid()}; stop it first (if no "
        f"trainer runs, delete {logdir / 'train.lock'})\n"
    )
    assert {p: p.read_bytes() for p in files} == files


def test_each_suite_records_the_command_that_reruns_it_alone(monkeypatch):
    """Options before the suite names and several suites per call: each results file records
    its own suite with the flags that apply to it."""
    from benchmarks import run, throughput

    written = {}
    monkeypatch.setattr(run, "run_training", lambda name, seeds, epochs: {"summary": {}})
    monkeypatch.setattr(throughput, "SUITES", {"throughput": lambda: {"summary": {}}})
    monkeypatch.setattr(
        run,
        "write_training_results",
        lambda folder, name, payload: written.setdefault(name, payload),
    )
    monkeypatch.setattr(
        run, "atomic_write_json", lambda path, payload: written.setdefault(path.stem, payload)
    )
    monkeypatch.setattr(run, "update_index", lambda groups: None)
    args = ["--epochs", "5", "--seeds", "1", "reach", "pickplace-her", "throughput"]
    result = CliRunner().invoke(run.main, args)
    assert result.exit_code == 0, result.output
    assert {name: payload["command"] for name, payload in written.items()} == {
        "reach": "python -m benchmarks.run reach --seeds 1 --epochs 5",
        "pickplace-her": "python -m benchmarks.run pickplace-her --seeds 1 --epochs 5",
        "throughput": "python -m benchmarks.run throughput",
    }


def test_negative_seeds_are_refused_before_anything_runs(monkeypatch):
    from benchmarks import run

    def fail(*args):
        raise AssertionError("a suite ran")

    monkeypatch.setattr(run, "run_suite", fail)
    result = CliRunner().invoke(run.main, ["--seeds", "-1", "reach"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "'--seeds'" in result.output and "Traceback" not in result.output


def test_help_and_list_tell_the_true_default_seeds():
    from benchmarks.run import main
    from benchmarks.suites import SUITES

    help_text = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    assert "[default: each suite's own, see --list]" in help_text and "0 1 2]" not in help_text
    listing = CliRunner().invoke(main, ["--list"]).output
    assert "seeds 0 1 2" in listing.splitlines()[list(SUITES).index("reach")]
    assert "seeds 0:" in listing  # the one-seed suites


def test_list_names_a_suites_method_from_its_flags_and_refuses_bad_flags_in_one_line(
    monkeypatch,
):
    from benchmarks import run
    from benchmarks.suites import Suite

    bc = Suite("FetchPush-v4", ("--method", "bc", "--num_demo", "100"), 5, "g")
    monkeypatch.setattr(run, "SUITES", {"mine": bc})
    listing = CliRunner().invoke(run.main, ["--list"])
    assert listing.exit_code == 0, listing.output
    assert listing.output.splitlines()[0].endswith(": BC only; 100 demos")
    refused = Suite("FetchPush-v4", ("--method", "bc"), 5, "g")
    monkeypatch.setattr(run, "SUITES", {"mine": refused})
    result = CliRunner().invoke(run.main, ["--list"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines() == [
        "Error: suite flags --method bc: --method bc needs demonstrations: pass --num_demo N "
        "(N > 0)"
    ]


def test_the_commands_in_the_runner_docstring_work():
    """They are what people copy: each must name the module form and a suite that exists."""
    from benchmarks import run

    commands = [line.split("#")[0].split() for line in run.__doc__.splitlines()]
    commands = [c for c in commands if c and c[0] == "python"]
    assert commands and all(c[:3] == ["python", "-m", "benchmarks.run"] for c in commands)
    listing = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    names = {line.split()[0] for line in listing.stdout.splitlines()}
    assert {c[3] for c in commands if c[3] != "--list"} <= names


def test_benchmarks_leave_tensorflow_to_the_learner_modules():
    """TensorFlow is imported only in actor_critic.py and ddpg.py; throughput's matmul peak is
    measured there and still gives a plausible speed."""
    import ast

    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in imported if m.split(".")[0] in ("tensorflow", "keras")], path

    from herdemos.actor_critic import matmul_peak_gflops

    assert 0.01 < matmul_peak_gflops(n=64, repeats=2) < 1e6


def test_a_failed_figure_save_leaves_the_previous_figure_whole(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.report import save_figure

    out = tmp_path / "curve.png"
    fig = plt.figure()
    save_figure(fig, out)
    good = out.read_bytes()
    assert good.startswith(b"\x89PNG\r\n\x1a\n")

    def broken(f, **kwargs):
        f.write(b"half a png")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(fig.canvas, "print_png", broken)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        save_figure(fig, out)
    plt.close(fig)
    assert out.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]  # no temporary file left


@pytest.mark.parametrize("episodes", [100, 1000])
def test_scripted_demos_are_generated_with_the_suites_episode_count(
    tmp_path, monkeypatch, episodes
):
    """A suite's ``demo_episodes`` reaches the generator and names its own demo file, so a
    1,000-demo suite never loads the 100-episode file of earlier suites (and 100 keeps the
    names those suites' results were made with)."""
    import benchmarks.run as run

    monkeypatch.setattr(run, "RUNS", tmp_path)
    suite = run.Suite(
        "FetchStack3-Step-v1", (), 3, "fake", (0,), demo_noise=0.1, demo_episodes=episodes
    )
    generated = []

    def generate(command, cwd):
        generated.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(run.subprocess, "run", generate)
    flags = run.noisy_demo_flags(suite)
    name = "FetchStack3-Step-v1_noise0.1" + ("_1000ep" if episodes == 1000 else "") + ".npz"
    assert flags == ["--demo_file", str(tmp_path / "demos" / name)]
    (command,) = generated
    assert command[command.index("--num_episodes") + 1] == str(episodes)
    assert command[command.index("--out") + 1] == flags[1]


def test_a_suite_with_its_own_demo_count_trains_on_its_own_demo_file(tmp_path, monkeypatch):
    """Clean demos but 1,000 of them: train.py's cached 100 would not do, so the runner makes
    the suite's file and passes it."""
    import benchmarks.run as run

    _, started = fake_suite(monkeypatch, tmp_path)
    suite = run.Suite("FetchStack3-Step-v1", (), 3, "fake", (0,), demo_episodes=1000)
    monkeypatch.setattr(run, "noisy_demo_flags", lambda s: ["--demo_file", f"{s.demo_episodes}"])
    run.run_seed("fake", suite, 0, 3)
    (command,) = started
    assert command[command.index("--demo_file") + 1] == "1000"


def test_the_runner_writes_into_the_suites_folder_and_the_index_never_readme_or_docs(
    tmp_path, monkeypatch
):
    """A run leaves its training results in results/<suite>/, redraws its comparison's figure
    there, regenerates results/README.md with the suite's command and headline, and writes
    nothing else: not the project's README.md, not docs/."""
    from benchmarks import run

    fake_suite(monkeypatch, tmp_path / "runs")
    results = tmp_path / "results"
    monkeypatch.setattr(run, "RESULTS", results)
    curve = {"env_steps": [10, 20], "minutes": [1.0, 2.0], "success": [0.25, 0.75]}
    payload = {
        "suite": "fake",
        "label": "x",
        "env": "point_env:PointGoal-v0",
        "runs": {"seed0": curve},
    }
    payload["summary"] = {"fake": run.summarize([curve])}
    monkeypatch.setattr(run, "run_training", lambda name, seeds, epochs: payload)
    project = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*"))]
    before = {p: p.read_bytes() for p in project if p.is_file()}
    result = CliRunner().invoke(run.main, ["fake"])
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(results)) for p in results.rglob("*") if p.is_file()) == [
        "README.md",
        "fake/training.json",
        "fake/training.png",
    ]
    index = (results / "README.md").read_text()
    assert "[`fake`](fake/)" in index and "0.50 best / 0.50 last 10-epoch mean" in index
    assert "`python -m benchmarks.run fake`: `python experiment/train.py --env " in index
    assert {p: p.read_bytes() for p in project if p.is_file()} == before
