"""What a refused command must look like, shared by the CLI tests that run commands in-process,
and the PYTHONPATH of the tests that run them in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def python_path(*folders) -> str:
    """The tests' helper modules and ``folders``, before whatever PYTHONPATH already holds (a
    checkout run in place of the installed package)."""
    inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    return os.pathsep.join([str(TESTS), *map(str, folders), *inherited])


def run_train(*args: str) -> subprocess.CompletedProcess:
    """Runs experiment/train.py as a user would, with the test envs importable."""
    env = {**os.environ, "PYTHONPATH": python_path()}
    return subprocess.run(
        [sys.executable, "experiment/train.py", *args],
        cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def assert_one_line_error(result, *fragments):
    """Exit code 1 (a ClickException), one ``Error:`` line holding ``fragments``, no traceback.

    ``result`` is a ``click.testing.CliRunner`` result."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an unhandled exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert all(f in lines[0] for f in fragments), lines[0]
    assert "Traceback" not in result.output
