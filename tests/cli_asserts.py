"""Shared by the CLI tests: what a refused command must look like, and the PYTHONPATH of a
command run in a subprocess."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_path(*folders) -> str:
    """The tests' helper modules and ``folders``, before whatever PYTHONPATH already holds (a
    checkout run in place of the installed package)."""
    inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    return os.pathsep.join([str(ROOT / "tests"), *map(str, folders), *inherited])


def assert_one_line_error(result, *fragments):
    """Exit code 1 (a ClickException), one ``Error:`` line holding ``fragments``, no traceback.

    ``result`` is a ``click.testing.CliRunner`` result."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an unhandled exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert all(f in lines[0] for f in fragments), lines[0]
    assert "Traceback" not in result.output
