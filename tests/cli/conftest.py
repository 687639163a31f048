"""CLI tests run in process through click's CliRunner; a few real subprocess runs live beside them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from digitgan.cli import cli


@pytest.fixture
def invoke(tmp_path, monkeypatch):
    """invoke(*args) -> click Result (exit_code, stdout, stderr), run in tmp_path as the working directory."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), prog_name="digitgan")

    return run


def one_line_error(result: Result, code: int = 2) -> str:
    """Assert a user error: the exit code, no traceback, exactly one line on stderr; return that line."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # not an uncaught exception
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
