"""What a refused command must look like, shared by the CLI tests that run commands in-process."""


def assert_one_line_error(result, *fragments):
    """Exit code 1 (a ClickException), one ``Error:`` line holding ``fragments``, no traceback.

    ``result`` is a ``click.testing.CliRunner`` result."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an unhandled exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert all(f in lines[0] for f in fragments), lines[0]
    assert "Traceback" not in result.output
