"""The sampling copy of a generator computes the same images as the trained one and leaves it untouched."""

import pytest
import torch
from torch import nn

from digitgan.config import RunConfig, load_preset, preset_names
from digitgan.modelfolder.folder import export_model, load_generator
from digitgan.models import G_BODIES, G_CONDITIONING, build_generator, one_hot, sample_noise
from digitgan.models.generator import G_NORMS, ClassBatchNorm2d
from digitgan.models.inference import UnflattenChannelsLast, for_inference
from tests.models.test_models import small_model


def trained_looking(config) -> nn.Module:
    """A generator whose BatchNorms hold non-trivial running statistics and affine (or per-class) parameters, in eval
    mode."""
    torch.manual_seed(0)
    generator = build_generator(config)
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.3, 3.0)
                if module.affine:
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.3, 0.3)
            if isinstance(module, ClassBatchNorm2d):
                module.gain.uniform_(-0.5, 0.5)
                module.shift.uniform_(-0.3, 0.3)
    return generator.eval()


def assert_same_images(generator: nn.Module, config, count: int = 33) -> None:
    z = sample_noise(count, config, torch.Generator().manual_seed(1))
    label_vector = torch.softmax(torch.randn(count, config.num_classes), 1)  # soft labels, as interpolation uses
    with torch.no_grad():
        expected = generator(z, label_vector)
        fused = for_inference(generator)
        got = fused(z, label_vector)
    assert got.shape == expected.shape == (count, 1, 28, 28)
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_samples_the_same_images(preset):
    config = load_preset(preset).model
    assert_same_images(trained_looking(config), config)


@pytest.mark.parametrize("g_body", list(G_BODIES))
@pytest.mark.parametrize("g_cond", list(G_CONDITIONING))
@pytest.mark.parametrize("g_norm", list(G_NORMS))
def test_every_body_and_conditioning(g_body, g_cond, g_norm):
    config = small_model(g_body=g_body, g_cond=g_cond, g_norm=g_norm)
    assert_same_images(trained_looking(config), config)


def test_batchnorm_is_folded_and_conv_runs_channels_last():
    config = load_preset("fast").model
    fused = for_inference(trained_looking(config))
    kinds = [type(module) for module in fused.body.modules()]
    assert nn.BatchNorm2d not in kinds and nn.BatchNorm1d not in kinds
    assert UnflattenChannelsLast in kinds and nn.Unflatten not in kinds  # the Linear writes channels-last
    conv = next(m for m in fused.body.modules() if isinstance(m, nn.ConvTranspose2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert all(not p.requires_grad for p in fused.parameters())


def test_the_trained_generator_is_left_untouched():
    config = load_preset("fast").model
    generator = trained_looking(config)
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    layers_before = [type(m) for m in generator.body]
    for_inference(generator)
    assert [type(m) for m in generator.body] == layers_before
    for key, value in generator.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.requires_grad for p in generator.parameters())


def test_load_generator_returns_the_sampling_copy_unless_asked(tmp_path):
    config = RunConfig(model=load_preset("fast").model)
    generator = trained_looking(config.model)
    export_model(tmp_path / "model", generator, config)
    fast, _, _ = load_generator(tmp_path)
    as_trained, _, _ = load_generator(tmp_path, for_sampling=False)
    assert any(isinstance(m, nn.BatchNorm2d) for m in as_trained.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    z = sample_noise(8, config.model)
    labels = one_hot(torch.arange(8), 10)
    with torch.no_grad():
        torch.testing.assert_close(fast(z, labels), generator(z, labels), atol=2e-5, rtol=1e-4)


def test_the_copy_keeps_the_trained_dtype_and_device():
    """Folded layers are built like the layers they replace: a float64 (or CUDA) generator stays wholly so."""
    config = load_preset("fast").model
    generator = trained_looking(config).double()
    fused = for_inference(generator)
    assert {p.dtype for p in fused.parameters()} == {torch.float64}
    assert {p.device for p in fused.parameters()} == {p.device for p in generator.parameters()}
    z = sample_noise(4, config).double()
    labels = one_hot(torch.arange(4), 10).double()
    with torch.no_grad():
        torch.testing.assert_close(fused(z, labels), generator(z, labels))
