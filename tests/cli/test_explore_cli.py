"""The exploration verbs as a user types them: files, sizes, frame counts, and clear errors."""

import json

import numpy as np
import pytest
from PIL import Image

from digitgan.data import load_dataset
from tests.cli.conftest import one_line_error


def test_files(invoke, tiny_run, tmp_path):
    def ok(*args):
        result = invoke(*args, "--run", str(tiny_run))
        assert result.exit_code == 0, result.stderr
        return result

    ok("write", "2026", "--styles", "2", "--out", str(tmp_path / "w.png"))
    with Image.open(tmp_path / "w.png") as picture:
        assert picture.size == (2 * (4 * 28 + 4), 2 * (2 * 30 + 2))
    ok("interpolate", "--from", "7", "--to", "9", "--steps", "10", "--out", str(tmp_path / "i.gif"))
    with Image.open(tmp_path / "i.gif") as gif:
        assert gif.n_frames == 18  # 10 steps, ping-pong back without repeating the ends
    ok("interpolate", "--from", "7", "--to", "9", "--steps", "10", "--out", str(tmp_path / "i.png"))
    ok("clock", "--time", "12:34", "--seconds", "2", "--fps", "5", "--out", str(tmp_path / "c.gif"))
    with Image.open(tmp_path / "c.gif") as gif:
        # Pillow merges identical consecutive frames into one longer frame; the total time is what must hold
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
        assert sum(durations) == 2000 and gif.n_frames >= 3
    ok("clock", "--time", "12:34", "--seconds", "1", "--fps", "3", "--out", str(tmp_path / "frames"))
    assert len(list((tmp_path / "frames").glob("*.png"))) == 3
    ok("intensity", "--digit", "4", "--styles", "2", "--out", str(tmp_path / "s.png"))
    with Image.open(tmp_path / "s.png") as picture:
        assert picture.size == (2 * (10 * 30 + 2), 2 * (2 * 30 + 2))


def test_export_round_trips(invoke, tiny_run, tmp_path):
    for fmt in ("npz", "idx", "png"):
        out = tmp_path / fmt
        result = invoke("export", "--run", str(tiny_run), "--n", "50", "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.stderr
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["count"] == 50 and manifest["per_class"]["3"] == 5
        source = out / "synthetic.npz" if fmt == "npz" else out
        data = load_dataset(str(source))
        assert len(data) == 50 and np.bincount(data.labels).tolist() == [5] * 10
    result = invoke("export", "--run", str(tiny_run), "--n", "30", "--labels", "3,5,8", "--out", str(tmp_path / "l"))
    assert np.bincount(load_dataset(str(tmp_path / "l" / "synthetic.npz")).labels, minlength=10)[[3, 5, 8]].tolist() \
        == [10, 10, 10]
    line = one_line_error(invoke("export", "--run", str(tiny_run), "--n", "30", "--out", str(tmp_path / "npz")))
    assert "is not an empty folder" in line


@pytest.mark.parametrize("args, message", [
    (["write", "12a"], "cannot write 'a'"),
    (["write", "::"], "no digit"),
    (["write", "12", "--styles", "0"], "Invalid value for '--styles': 0 is not in the range 1<=x<=64"),
    (["write", "12", "--out", "w.gif"], "'w.gif' must end in .png"),
    (["interpolate", "--from", "7", "--to", "9", "--steps", "1"], "Invalid value for '--steps'"),
    (["interpolate", "--from", "7", "--to", "12"], "digits must be 0-9"),
    (["interpolate", "--from", "7", "--to", "9", "--out", "x.bmp"], "frames are written as .gif, .mp4 or into"),
    (["interpolate", "--from", "7", "--to", "9", "--space", "latent"], "--space latent walks the noise"),
    (["clock", "--time", "25:99"], "Invalid value for '--time': 25:99 is not a time of day"),
    (["clock", "--time", "noon"], "is not a time in the form HH:MM"),
    (["clock", "--time", "12:00", "--now"], "give --time or --now, not both"),
    (["clock", "--fps", "0"], "Invalid value for '--fps'"),
    (["intensity", "--digit", "x"], "Invalid value for '--digit'"),
    (["intensity", "--digit", "4", "--scales", "a,b"], "Invalid value for '--scales': 'a,b' is not a list"),
    (["export", "--n", "10", "--labels", "3:x", "--out", "e"], "Invalid value for '--labels': '3:x' is not"),
    (["export", "--n", "0", "--out", "e"], "Invalid value for '--n'"),
    (["export", "--n", "10", "--format", "csv", "--out", "e"], "'csv' is not one of 'npz', 'idx', 'png'"),
    (["explain", "--per-class", "5"], "Invalid value for '--per-class'"),
    (["sample", "--digit", "11", "--out", "x.png"], "digit 11 is not a class of this model (0-9)"),
])
def test_bad_input_exit_2(invoke, tiny_run, args, message):
    full = [*args, "--run", str(tiny_run)] if args[0] != "sample" else [args[0], str(tiny_run), *args[1:]]
    assert message in one_line_error(invoke(*full))


@pytest.mark.parametrize("args", [
    ["sample", "--digit", "7", "--out", "taken/seven.png"],
    ["write", "12", "--out", "taken/deeper/12.png"],
    ["export", "--n", "10", "--out", "taken/set"],
    ["train", "--steps", "1", "--out", "taken/run"],
    ["interpolate", "--from", "1", "--to", "2", "--out", "taken"],
])
def test_an_out_path_through_a_file_is_one_line_and_the_file_is_kept(invoke, tiny_run, tmp_path, args):
    (tmp_path / "taken").write_text("a user's file")
    full = [args[0], str(tiny_run), *args[1:]] if args[0] == "sample" else list(args)
    full += ["--run", str(tiny_run)] if args[0] in ("write", "export", "interpolate") else []
    assert one_line_error(invoke(*full)) == f"digitgan: error: cannot write {args[-1]}: taken is a file, not a folder"
    assert (tmp_path / "taken").read_text() == "a user's file"


def test_commands_default_to_the_shipped_model(invoke, tmp_path):
    result = invoke("write", "42", "--styles", "1", "--out", str(tmp_path / "42.png"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "42.png").exists()
