"""The options that let a preset train as its Keras source does: Glorot-uniform initialisation with zero biases,
Adam's epsilon, D stepped on reals then fakes (two optimizer steps), lazy R1 — each trains, and a run repeats and
resumes bit for bit with them; what cannot be combined is refused in one line."""

import math

import numpy as np
import pytest
import torch

from digitgan.errors import UserError
from digitgan.models import build_generator, build_partner
from digitgan.training import train
from tests.conftest import resumes_exactly, tiny_arrays, tiny_config


def test_glorot_initialisation_is_uniform_in_its_bound_with_zero_biases():
    config = tiny_config()
    config.model.init = "glorot"
    torch.manual_seed(0)
    for network in (build_generator(config.model), build_partner(config.model)):
        layers = [m for m in network.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d,
                                                                  torch.nn.ConvTranspose2d))]
        assert layers
        for layer in layers:
            fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(layer.weight)
            bound = math.sqrt(6 / (fan_in + fan_out))
            assert layer.weight.abs().max() <= bound + 1e-6
            assert layer.bias is None or torch.count_nonzero(layer.bias) == 0


def test_the_simple_gan_preset_trains_as_its_source(tmp_path):
    from digitgan.config import load_preset

    source = load_preset("simple-gan")
    assert source.model.init == "glorot" and source.train.adam_eps == 1e-7 and source.train.d_split_steps


def _data(tmp_path):
    path = tmp_path / "tiny.npz"
    images, labels = tiny_arrays(96)
    np.savez(path, x_train=images, y_train=labels)
    return str(path)


def test_split_d_steps_and_lazy_r1_train_and_resume_exactly(tmp_path):
    data = _data(tmp_path)

    def config(steps):
        config = tiny_config(dataset=data, steps=steps, adam_eps=1e-7, d_split_steps=True, r1_gamma=1.0,
                             r1_every=2, checkpoint_every=3)
        config.model.init = "glorot"
        return config

    assert resumes_exactly(tmp_path, config)


def test_split_d_steps_refuse_a_gradient_penalty(tmp_path):
    with pytest.raises(UserError, match="gradient penalty"):
        train(tiny_config(dataset=_data(tmp_path), steps=2, loss="wgan-gp", d_split_steps=True), tmp_path / "run",
              quiet=True)
