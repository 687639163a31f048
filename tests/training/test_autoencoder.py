"""The autoencoders train on the same trainer, checkpoints and export as the GANs, and every drawing command works
on them."""

import numpy as np
import pytest
import torch

from digitgan.config import load_preset
from digitgan.drawing.sampling import generate
from digitgan.modelfolder.folder import load_generator
from digitgan.models import Encoder, build_partner, one_hot
from digitgan.training import train
from digitgan.training.autoencoder import AutoencoderObjective, kl_divergence, reconstruction_loss
from digitgan.training.history import read_history
from tests.conftest import tiny_config


@pytest.mark.parametrize("preset", ["vae", "cvae", "ae"])
def test_each_autoencoder_preset_trains_exports_and_draws(preset, tiny_npz, tmp_path):
    config = tiny_config(preset, dataset=str(tiny_npz), steps=30, lr_g=3e-3, lr_d=3e-3)
    assert isinstance(build_partner(config.model), Encoder)
    summary = train(config, tmp_path / "run", quiet=True)
    assert summary["step"] == 30
    rows = [r for r in read_history(tmp_path / "run" / "history.jsonl") if r["kind"] == "log"]
    assert rows[-1]["reconstruction"] < rows[0]["reconstruction"], "it learns to reconstruct"
    assert (rows[-1]["kl"] > 0) == (preset != "ae")
    assert (tmp_path / "run" / "samples" / "reconstructions.png").exists()
    generator, loaded, raw = load_generator(tmp_path / "run")
    assert loaded.model.kind == config.model.kind and raw["step"] == 30
    images = generate(generator, loaded, one_hot(torch.arange(10), 10), seed=1)
    assert images.shape == (10, 28, 28) and images.dtype == np.uint8


def test_losses_are_the_elbo_terms():
    images = torch.full((2, 1, 28, 28), -1.0)
    images[:, :, 10:18, 10:18] = 1.0
    assert reconstruction_loss(images, images).item() < 1e-2  # a perfect reconstruction costs ~0
    half = torch.zeros_like(images)  # predicts 0.5 everywhere: 784 x ln 2 per image
    assert reconstruction_loss(images, half).item() == pytest.approx(784 * np.log(2), rel=1e-4)
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0
    assert kl_divergence(torch.ones(1, 4), torch.zeros(1, 4)).item() == pytest.approx(2.0)


def test_the_plain_autoencoder_has_no_kl_and_no_sampling_noise():
    config = load_preset("ae")
    objective = AutoencoderObjective(config)
    assert not objective.variational and objective.kl_weight == 0.0
    assert AutoencoderObjective(load_preset("vae")).kl_weight == 1.0
