"""The CLI as a user types it: help on every verb, data commands, clear errors with exit code 2."""

import json

import pytest

from tests.conftest import run_cli

VERBS = [[], ["data"], ["data", "fetch"], ["data", "info"]]


@pytest.mark.parametrize("verb", VERBS)
def test_help(verb):
    result = run_cli(*verb, "--help")
    assert result.returncode == 0 and "usage: digitgan" in result.stdout


def test_python_dash_m():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "digitgan", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("digitgan ")


def test_data_info_idx_dir(idx_dir, tmp_path):
    sheet = tmp_path / "sheet.png"
    result = run_cli("data", "info", str(idx_dir), "--sheet", str(sheet), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["splits"]["train"]["count"] == 40 and report["splits"]["test"]["count"] == 20
    assert report["splits"]["train"]["per_class"]["3"] == 4
    from PIL import Image

    with Image.open(sheet) as picture:
        assert picture.size == (2 * (16 * 30 + 2), 2 * (10 * 30 + 2))


def test_data_info_mnist_text(tmp_path):
    result = run_cli("data", "info", "mnist", "--sheet", str(tmp_path / "s.png"))
    assert result.returncode == 0, result.stderr
    assert "5923" in result.stdout and "60000" in result.stdout and "10000" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["data", "info", "/no/such/dir"], "unknown data source"),
    (["data", "fetch", "cifar"], "invalid choice"),
    (["data", "fetch", "mnist", "--from", "/no/such/dir"], "is not a directory"),
    (["frobnicate"], "invalid choice"),
    (["data", "info", "--per-class", "many"], "invalid int value"),
])
def test_bad_input_one_line_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_corrupt_idx_file_cli(idx_dir):
    path = idx_dir / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:100])
    result = run_cli("data", "info", str(idx_dir))
    assert result.returncode == 2 and "t10k-images-idx3-ubyte" in result.stderr
    assert "Traceback" not in result.stderr
