"""`digitgan data` as a user types it; --help everywhere; clear one-line errors with exit code 2."""

import json
import subprocess
import sys

import pytest

from tests.cli.conftest import one_line_error

VERBS = [[], ["data"], ["data", "fetch"], ["data", "info"], ["train"], ["sample"], ["write"], ["interpolate"],
         ["clock"], ["intensity"], ["explain"], ["export"], ["serve"], ["evaluate"], ["compare"], ["evaluator"],
         ["evaluator", "train"]]


@pytest.mark.parametrize("verb", VERBS)
def test_help(invoke, verb):
    result = invoke(*verb, "--help")
    assert result.exit_code == 0 and "Usage: digitgan" in result.stdout


def test_python_dash_m_and_console_script():
    result = subprocess.run([sys.executable, "-m", "digitgan", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("digitgan ")


def test_data_info_idx_dir(invoke, idx_dir, tmp_path):
    sheet = tmp_path / "sheet.png"
    result = invoke("data", "info", str(idx_dir), "--sheet", str(sheet), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["splits"]["train"]["count"] == 40 and report["splits"]["test"]["count"] == 20
    assert report["splits"]["train"]["per_class"]["3"] == 4
    from PIL import Image

    with Image.open(sheet) as picture:
        assert picture.size == (2 * (16 * 30 + 2), 2 * (10 * 30 + 2))


def test_data_info_mnist_text(invoke, tmp_path):
    result = invoke("data", "info", "mnist", "--sheet", str(tmp_path / "s.png"))
    assert result.exit_code == 0, result.stderr
    assert "5923" in result.stdout and "60000" in result.stdout and "10000" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["data", "info", "/no/such/dir"], "unknown data source"),
    (["data", "fetch", "cifar"], "'cifar' is not one of 'mnist', 'fashion-mnist'"),
    (["data", "fetch", "mnist", "--from", "/no/such/dir"], "does not exist"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["data"], "give a command: fetch, info"),
    (["data", "info", "--per-class", "many"], "'many' is not a valid integer"),
    (["data", "info", "--per-class", "0"], "0 is not in the range"),
])
def test_bad_input_one_line_exit_2(invoke, args, message):
    assert message in one_line_error(invoke(*args))


def test_corrupt_idx_file(invoke, idx_dir):
    path = idx_dir / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:100])
    assert "t10k-images-idx3-ubyte" in one_line_error(invoke("data", "info", str(idx_dir)))
