"""Your own hand: a drawn digit (scripted strokes on paper, tests/fixtures/drawn-digits/, never MNIST) is made to
look like MNIST, its noise found, and any number written with it; bad images are one line and exit 2."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from digitgan.drawing.hand import (
    InversionSettings,
    hand_code,
    hand_code_length,
    hand_from_code,
    invert,
    load_hand,
    preprocess,
    read_class,
    read_image,
)
from digitgan.drawing.sampling import generate
from digitgan.errors import UserError
from digitgan.modelfolder.folder import default_model_dir, load_generator
from digitgan.models import one_hot
from tests.conftest import run_cli

DRAWN = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "drawn-digits").glob("drawn-*.png"))


def digit_of(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def test_a_drawn_digit_is_made_to_look_like_mnist():
    assert len(DRAWN) == 20
    for path in DRAWN:
        seen = preprocess(read_image(path))
        assert seen.shape == (28, 28) and seen.dtype == np.uint8
        rows, cols = np.flatnonzero((seen > 0).any(1)), np.flatnonzero((seen > 0).any(0))
        assert rows[-1] - rows[0] <= 21 and cols[-1] - cols[0] <= 21, path.name  # fitted into 20x20
        mass = seen.astype(float)
        ys, xs = np.mgrid[0:28, 0:28]
        centre = ((ys * mass).sum() / mass.sum(), (xs * mass).sum() / mass.sum())
        assert abs(centre[0] - 14) <= 1 and abs(centre[1] - 14) <= 1, (path.name, centre)
        assert seen[0].max() == 0 and seen.max() > 200  # bright ink on a dark field, as MNIST


def test_the_reference_classifier_reads_most_drawn_digits():
    read = [read_class(preprocess(read_image(path)))[0] == digit_of(path) for path in DRAWN]
    assert sum(read) >= 15, read


def test_inversion_redraws_the_digit_closer_than_random_noise():
    generator, config, _ = load_generator(default_model_dir())
    seen = np.stack([preprocess(read_image(path)) for path in DRAWN[:2]])
    labels = np.array([digit_of(path) for path in DRAWN[:2]])
    z, loss = invert(generator, config, seen, labels, InversionSettings(steps=60, restarts=2))
    vectors = one_hot(torch.as_tensor(labels), 10)
    found = generate(generator, config, vectors, z=z).astype(float)
    random = generate(generator, config, vectors, seed=5).astype(float)
    assert np.abs(found - seen).mean() < np.abs(random - seen).mean() and np.all(np.isfinite(loss))
    assert float(z.norm(dim=1).max()) <= 1.2 * 8 + 1e-4  # clipped: typical for the model's noise


@pytest.mark.parametrize("content, message", [(b"not an image", "not a readable image"),
                                              ("blank", "no ink"), ("ink", "nearly all ink")])
def test_bad_images_are_one_line_and_exit_2(tmp_path, content, message):
    from PIL import Image

    path = tmp_path / "bad.png"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        Image.fromarray(np.full((60, 60), 230 if content == "blank" else 20, np.uint8)).save(path)
        if content == "ink":  # dark everywhere but a light frame: the "ink" fills the picture
            frame = np.full((60, 60), 20, np.uint8)
            frame[0], frame[-1], frame[:, 0], frame[:, -1] = 230, 230, 230, 230
            Image.fromarray(frame).save(path)
    result = run_cli("mimic", "--image", str(path), "--digit", "3", "--write", "12", "--out", str(tmp_path / "o.png"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


def test_mimic_writes_a_number_in_a_drawn_hand_and_the_hand_is_kept(tmp_path):
    from PIL import Image

    source = DRAWN[3]  # a drawn 3
    result = run_cli("mimic", "--image", str(source), "--write", "2026", "--out", str(tmp_path / "mine.png"),
                     "--save-hand", str(tmp_path / "hand.json"), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "read as a 3" in result.stdout
    written = np.asarray(Image.open(tmp_path / "mine.png"))
    assert written.shape[1] == 2 * (4 * 28 + 4) and (tmp_path / "mine.seen.png").exists()
    hand = json.loads((tmp_path / "hand.json").read_text())
    assert hand["digit"] == 3 and len(hand["z"]) == 64 and np.asarray(hand["preprocessed"]).shape == (28, 28)
    again = run_cli("write", "2026", "--hand", str(tmp_path / "hand.json"), "--out", str(tmp_path / "again.png"))
    assert again.returncode == 0, again.stderr
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png")), written)  # the same hand, the same digits
    _, config, _ = load_generator(default_model_dir())
    assert load_hand(tmp_path / "hand.json", config).shape == (1, 64)
    (tmp_path / "bad.json").write_text("{}")
    result = run_cli("write", "12", "--hand", str(tmp_path / "bad.json"), "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "not a hand file" in result.stderr


def test_a_trained_hand_encoder_lives_in_the_model_folder_and_mimic_starts_from_it(tiny_run, tmp_path):
    import shutil

    from digitgan.drawing.hand import encode
    from digitgan.errors import UserError
    from digitgan.modelfolder.encoder import ENCODER_CARD, load_encoder

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    with pytest.raises(UserError, match="hand-encoder"):
        load_encoder(run / "model")  # a folder without one says how to make one
    result = run_cli("hand-encoder", "--run", str(run), "--steps", "3")
    assert result.returncode == 0, result.stderr
    card = json.loads((run / "model" / ENCODER_CARD).read_text())
    assert card["recipe"]["steps"] == 3 and card["z_dim"] == 8
    seen = preprocess(read_image(DRAWN[0]))[None]
    assert encode(load_encoder(run / "model"), seen, np.array([0]), 10).shape == (1, 8)
    result = run_cli("mimic", "--image", str(DRAWN[0]), "--digit", "0", "--write", "10", "--run", str(run),
                     "--out", str(tmp_path / "o.png"))
    assert result.returncode == 0, result.stderr


def test_a_hand_travels_as_a_short_code_and_every_code_is_a_hand():
    z = torch.randn(1, 64, generator=torch.Generator().manual_seed(0)) * 2
    code = hand_code(z)
    assert len(code) == hand_code_length(64) == 171 and set(code) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert torch.allclose(hand_from_code(code, 64), z, atol=0.5 / 4096 + 1e-7)
    assert hand_from_code(hand_code(torch.full((1, 64), 20.0)), 64).max() < 8  # clipped to the code's range
    rng = np.random.default_rng(1)
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
    for _ in range(20):  # any string of the right length and alphabet is a finite hand in [-8, 8)
        decoded = hand_from_code("".join(rng.choice(alphabet, 171)), 64)
        assert decoded.shape == (1, 64) and bool(torch.isfinite(decoded).all()) and decoded.abs().max() <= 8
    for bad in (code[:-1], code + "A", code[:-1] + "=", code[:-1] + "é"):
        with pytest.raises(UserError, match="171 characters"):
            hand_from_code(bad, 64)
