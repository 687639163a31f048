"""`digitgan dream` as a user types it."""

from tests.cli.conftest import one_line_error


def test_dream_cli(invoke, tmp_path):
    result = invoke("dream", "--digit", "4", "-n", "4", "--steps", "5", "--seed", "2", "--out", str(tmp_path / "d.png"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "d.png").exists() and "driven classifier (plain) says the asked digit" in result.stderr
    assert invoke("dream", "--help").exit_code == 0
    assert "'x' is not a digit" in one_line_error(invoke("dream", "--digit", "x", "--out", "d.png"))
    assert "12 is not a digit 0-9" in one_line_error(invoke("dream", "--digit", "12", "--out", "d.png"))
    assert "'huge' is not one of" in one_line_error(invoke("dream", "--classifier", "huge", "--out", "d.png"))
    assert "must end in .png" in one_line_error(invoke("dream", "--out", "d.gif"))
