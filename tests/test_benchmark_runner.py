"""The benchmark runner waits for train.py to write its checkpoint when interrupted."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A stand-in for train.py: on SIGINT it takes a second to "write a checkpoint", then exits 1.
CHILD = """
import signal, sys, time
def stop(signum, frame):
    time.sleep(1.0)
    open(sys.argv[1], "w").write("checkpoint")
    sys.exit(1)
signal.signal(signal.SIGINT, stop)
open(sys.argv[2], "w").write("started")
time.sleep(60)
"""

RUNNER = """
import sys
from pathlib import Path
import click
from benchmarks.run import run_child
try:
    run_child([sys.executable, "-c", *sys.argv[1:]], "suite seed 0", Path("x"))
except click.ClickException as e:
    e.show()
    sys.exit(e.exit_code)
"""


def test_ctrl_c_waits_for_the_child_checkpoint_and_prints_one_line(tmp_path):
    checkpoint, started = tmp_path / "checkpoint", tmp_path / "started"
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, CHILD, str(checkpoint), str(started)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C would hit
    )
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists()
    os.killpg(runner.pid, signal.SIGINT)
    _, stderr = runner.communicate(timeout=30)
    assert checkpoint.read_text() == "checkpoint"
    assert runner.returncode == 1
    assert stderr.strip() == "Error: suite seed 0 interrupted; rerun to resume"


def test_a_child_interrupted_on_its_own_is_reported_as_interrupted_not_failed():
    """``kill -INT`` of train.py alone (not the runner) ends it with code 130: that is a stop
    to resume from, not an error to look for above."""
    runner = subprocess.run(
        [sys.executable, "-c", RUNNER, "import sys; sys.exit(130)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert runner.returncode == 1
    assert runner.stderr.strip() == "Error: suite seed 0 interrupted; rerun to resume from x"


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


def test_readme_table_is_replaced_between_its_markers_only():
    from benchmarks.run import replace_between_markers

    text = "intro\n<!-- t -->\n| old |\n<!-- /t -->\nafter\n"
    assert replace_between_markers(text, "t", "| new |\n") == (
        "intro\n<!-- t -->\n| new |\n<!-- /t -->\nafter\n"
    )
    assert replace_between_markers("no markers\n", "t", "| new |\n") == "no markers\n"
