"""Exploration commands on a tiny trained model: files, sizes, frame counts, and clear errors."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from digitgan.checkpoint import load_generator
from digitgan.data import load_dataset
from digitgan.explain import explain_run
from digitgan.explore import clock_frames, generate, interpolate, parse_scales, parse_time, write_number
from digitgan.models import one_hot
from digitgan.train import train
from tests.conftest import run_cli, tiny_config


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from tests.conftest import tiny_arrays

    folder = tmp_path_factory.mktemp("explore")
    images, labels = tiny_arrays(96)
    np.savez(folder / "tiny.npz", x_train=images, y_train=labels, x_test=images[:16], y_test=labels[:16])
    config = tiny_config(dataset=str(folder / "tiny.npz"), steps=4)
    train(config, folder / "run", quiet=True)
    return folder / "run"


def test_write_has_one_cell_per_character_and_one_writer_per_row(tiny_run):
    generator, config, _ = load_generator(tiny_run)
    cells = write_number(generator, config, "0123456789", styles=3, seed=1)
    assert cells.shape == (3, 10, 28, 28)
    # one writer per row: the same latent drawn as a plain sample gives the same digit
    z = torch.Generator().manual_seed(1)
    from digitgan.models import sample_noise

    writers = sample_noise(3, config.model, z)
    plain = generate(generator, config, one_hot(torch.tensor([4]), 10), z=writers[1:2])
    assert np.abs(plain[0].astype(int) - cells[1, 4].astype(int)).max() <= 1
    with_separators = write_number(generator, config, "12:3-4 5", styles=1)
    assert with_separators.shape == (1, 8, 28, 28) and with_separators[0, 2].max() == 255


def test_label_interpolation_ends_are_plain_samples(tiny_run):
    generator, config, _ = load_generator(tiny_run)
    frames = interpolate(generator, config, 7, 9, steps=6, space="label", styles=2, seed=5)
    assert frames.shape == (2, 6, 28, 28)
    from digitgan.models import sample_noise

    z = sample_noise(2, config.model, torch.Generator().manual_seed(5))
    for end, digit in ((0, 7), (-1, 9)):
        plain = generate(generator, config, one_hot(torch.tensor([digit, digit]), 10), z=z)
        assert np.abs(plain.astype(int) - frames[:, end].astype(int)).max() <= 1
    latent = interpolate(generator, config, 3, 3, steps=5, space="latent", styles=1)
    assert latent.shape == (1, 5, 28, 28) and not np.array_equal(latent[0, 0], latent[0, -1])


def test_clock_frames_and_crossfade(tiny_run):
    generator, config, _ = load_generator(tiny_run)
    frames = clock_frames(generator, config, parse_time("12:34:58"), duration=3, fps=4)
    assert len(frames) == 12 and frames[0].shape == (32, 8 * 28 + 4)
    assert parse_time("23:59") == 86340


def test_parse_scales():
    assert parse_scales("0,0.25,...,1") == [0, 0.25, 0.5, 0.75, 1.0]
    assert parse_scales("1,2") == [1.0, 2.0]


def test_cli_files(tiny_run, tmp_path):
    def ok(*args):
        result = run_cli(*args, "--run", str(tiny_run), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
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


def test_export_round_trips(tiny_run, tmp_path):
    for fmt in ("npz", "idx", "png"):
        out = tmp_path / fmt
        result = run_cli("export", "--run", str(tiny_run), "--n", "50", "--format", fmt, "--out", str(out))
        assert result.returncode == 0, result.stderr
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["count"] == 50 and manifest["per_class"]["3"] == 5
        source = out / "synthetic.npz" if fmt == "npz" else out
        data = load_dataset(str(source))
        assert len(data) == 50 and np.bincount(data.labels).tolist() == [5] * 10
    result = run_cli("export", "--run", str(tiny_run), "--n", "30", "--labels", "3,5,8", "--out", str(tmp_path / "l"))
    assert np.bincount(load_dataset(str(tmp_path / "l" / "synthetic.npz")).labels, minlength=10)[[3, 5, 8]].tolist() \
        == [10, 10, 10]
    result = run_cli("export", "--run", str(tiny_run), "--n", "30", "--out", str(tmp_path / "npz"))
    assert result.returncode == 2 and "not empty" in result.stderr


def test_explain_report(tiny_run, tmp_path):
    generator, config, _ = load_generator(tiny_run)
    numbers = explain_run(generator, config, tmp_path / "explain", "tiny", per_class=100)
    assert set(numbers["probes"]) == {"linear_code", "mlp_code", "linear_abs_code", "mlp_abs_code"}
    assert numbers["concat_probes"]["linear_code"] > 0.95  # the one-hot has dimensions of its own
    assert numbers["mean_code_norm_over_scale_norm"] < 0.5
    for name in ("explain.md", "codes.png", "embedding.png"):
        assert (tmp_path / "explain" / name).exists()


@pytest.mark.parametrize("args, message", [
    (["write", "12a"], "cannot write 'a'"),
    (["write", "::"], "no digit"),
    (["interpolate", "--from", "7", "--to", "9", "--steps", "0"], "--steps must be"),
    (["interpolate", "--from", "7", "--to", "12"], "digits must be 0-9"),
    (["clock", "--time", "25:99"], "not a time of day"),
    (["clock", "--time", "noon"], "HH:MM"),
    (["intensity", "--digit", "x"], "--digit must be"),
    (["intensity", "--digit", "4", "--scales", "a,b"], "--scales must be"),
    (["export", "--n", "10", "--format", "npz", "--labels", "3:x", "--out", "e"], "--labels must be"),
    (["sample", "--digit", "11", "--out", "x.png"], "--digit must be"),
])
def test_bad_input_exit_2(tiny_run, tmp_path, args, message):
    full = [*args, "--run", str(tiny_run)] if args[0] != "sample" else [args[0], str(tiny_run), *args[1:]]
    result = run_cli(*full, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_shipped_default_model_draws_the_asked_digit():
    """The model inside the package: >= 97% conditional accuracy with the reference classifier."""
    from digitgan.evaluate.classifier import load_reference, predict
    from digitgan.pretrained import default_model_dir

    generator, config, raw = load_generator(default_model_dir())
    assert (default_model_dir() / "generator.safetensors").stat().st_size <= 5 * 1024 * 1024
    classifier, _ = load_reference("mnist")
    requested = np.repeat(np.arange(10), 300)
    images = generate(generator, config, one_hot(torch.from_numpy(requested), 10), seed=123)
    logits, _ = predict(classifier, images)
    assert (logits.argmax(1) == requested).mean() >= 0.97
    assert (default_model_dir() / "report.md").exists() and raw["step"] > 0


def test_commands_default_to_the_shipped_model(tmp_path):
    result = run_cli("write", "42", "--styles", "1", "--out", str(tmp_path / "42.png"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "42.png").exists()
