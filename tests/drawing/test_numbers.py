"""Exploration commands on a tiny trained model: files, sizes, frame counts, and clear errors."""

import numpy as np
import torch

from digitgan.drawing.explain import explain_run
from digitgan.drawing.numbers import clock_frames, interpolate, parse_scales, parse_time, write_number
from digitgan.drawing.sampling import generate
from digitgan.modelfolder.folder import load_generator
from digitgan.models import one_hot


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


def test_explain_report(tiny_npz, tmp_path):
    from digitgan.training import train
    from tests.conftest import tiny_config

    hadamard = tiny_config(dataset=str(tiny_npz), steps=2)
    hadamard.model.g_cond = "hadamard"
    train(hadamard, tmp_path / "run", quiet=True)
    generator, config, _ = load_generator(tmp_path / "run")
    numbers = explain_run(generator, config, tmp_path / "explain", "tiny", per_class=100)
    assert set(numbers["probes"]) == {"linear_code", "mlp_code", "linear_abs_code", "mlp_abs_code"}
    assert numbers["concat_probes"]["linear_code"] > 0.95  # the one-hot has dimensions of its own
    assert numbers["mean_code_norm_over_scale_norm"] < 0.5
    dims = numbers["effective_noise_dimensions"]
    assert len(dims) == 10 and all(1.0 <= d <= config.model.z_dim for d in dims)
    for name in ("explain.md", "codes.png", "embedding.png"):
        assert (tmp_path / "explain" / name).exists()


def test_shipped_default_model_draws_the_asked_digit():
    """The model inside the package: >= 97% conditional accuracy with the reference classifier."""
    from digitgan.classifiers.reference import load_reference, predict
    from digitgan.modelfolder.folder import default_model_dir

    generator, config, raw = load_generator(default_model_dir())
    assert (default_model_dir() / "generator.safetensors").stat().st_size <= 5 * 1024 * 1024
    classifier, _ = load_reference("mnist")
    requested = np.repeat(np.arange(10), 300)
    images = generate(generator, config, one_hot(torch.from_numpy(requested), 10), seed=123)
    logits, _ = predict(classifier, images)
    assert (logits.argmax(1) == requested).mean() >= 0.97
    assert (default_model_dir() / "report.md").exists() and raw["step"] > 0


def test_effective_dimensions():
    from digitgan.drawing.explain import effective_dimensions

    dims = effective_dimensions(np.array([[1.0, 0, 0, 0], [1.0, 1, 1, 1], [3.0, 1, 1, 1]]))
    assert dims[0] == 1.0 and dims[1] == 4.0 and 1.0 < dims[2] < 2.0
