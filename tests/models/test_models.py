"""Every registered model/conditioning/loss combination builds, keeps shapes and ranges, and trains."""

import itertools
import re
import subprocess
import sys

import pytest
import torch

from digitgan.config import ModelConfig, RunConfig, TrainConfig, load_preset, preset_names
from digitgan.errors import UserError
from digitgan.models import (
    D_CONDITIONING,
    G_BODIES,
    G_CONDITIONING,
    build_generator,
    build_partner,
    check_buildable,
    one_hot,
    sample_noise,
)
from digitgan.models.discriminator import MinibatchStd, ResidualBlock, feature_width
from digitgan.models.generator import ClassBatchNorm2d
from digitgan.training.objective import LOSSES, objective_for
from digitgan.training.state import build_state
from digitgan.training.step import train_step
from tests.conftest import tiny_arrays, tiny_config


def step(state, config, images, labels):
    return train_step(state, config, objective_for(config), images, labels)


def small_model(**changes) -> ModelConfig:
    base = dict(z_dim=8, g_dense=[16], g_base=8, g_stages=[[8, 4, 2], [4, 3, 2]], d_stages=[[4, 4, 2], [8, 4, 2]],
                d_dense=[16])
    base.update(changes)
    return ModelConfig(**base)


def tiny_tensors():
    images, labels = tiny_arrays(64)
    return torch.from_numpy(images), torch.from_numpy(labels)


# Every D conditioning with every G; the twin and the discriminative classifiers differ from ACGAN only in D's head
# and the objective, so they meet each D body and loss with one G.
TWIN = [name for name, cond in D_CONDITIONING.items() if cond.class_outputs == 2]
COMBOS = [*itertools.product(G_BODIES, G_CONDITIONING, ["mlp", "conv"], [n for n in D_CONDITIONING if n not in TWIN],
                             LOSSES),
          *itertools.product(["dcgan"], ["concat"], ["mlp", "conv"], TWIN, LOSSES)]


@pytest.mark.parametrize("g_body, g_cond, d_body, d_cond, loss", COMBOS)
def test_every_combination_trains(g_body, g_cond, d_body, d_cond, loss):
    config = RunConfig(model=small_model(g_body=g_body, g_cond=g_cond, d_body=d_body, d_cond=d_cond),
                       train=TrainConfig(loss=loss, batch_size=8, ema_decay=0.9))
    images, labels = tiny_tensors()
    state = build_state(config, len(images), torch.device("cpu"))
    before = [p.detach().clone() for p in state.generator.parameters()]
    for _ in range(2):
        metrics = step(state, config, images, labels)
    assert all(torch.isfinite(torch.tensor(metrics[k])) for k in ("d_loss", "g_loss"))
    assert any(not torch.equal(a, b) for a, b in zip(before, state.generator.parameters(), strict=True))
    z = sample_noise(5, config.model)
    out = state.ema(z, one_hot(torch.arange(5), 10))
    assert out.shape == (5, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
    logits, class_logits = state.partner(out, one_hot(torch.arange(5), 10))
    assert logits.shape == (5,)
    assert (class_logits is not None) == D_CONDITIONING[d_cond].aux
    if class_logits is not None:
        assert class_logits.shape == (5, 10 * D_CONDITIONING[d_cond].class_outputs)  # the twin's 10 after


@pytest.mark.parametrize("options", [dict(spectral_norm=True), dict(d_dropout=0.3), dict(d_norm="batch"),
                                     dict(g_norm="none", g_act="lrelu", g_out="sigmoid"), dict(d_pool="gap"),
                                     dict(g_norm="class-batch"), dict(d_mbstd=4), dict(d_mbstd=3),
                                     dict(d_body="resnet", d_stages=[[4, 3, 2], [8, 3, 2]], spectral_norm=True),
                                     dict(d_body="resnet", d_stages=[[4, 3, 2], [4, 3, 1]], d_norm="batch")])
@pytest.mark.parametrize("train_options", [dict(), dict(r1_gamma=1.0), dict(label_smoothing=0.1),
                                           dict(reuse_fake=True), dict(d_steps=2, g_batch_multiplier=2)])
def test_options_train(options, train_options):
    config = RunConfig(model=small_model(**options), train=TrainConfig(batch_size=8, **train_options))
    images, labels = tiny_tensors()
    state = build_state(config, len(images), torch.device("cpu"))
    metrics = step(state, config, images, labels)
    assert torch.isfinite(torch.tensor([metrics["d_loss"], metrics["g_loss"]])).all()


@pytest.mark.parametrize("name", preset_names())
def test_each_preset_builds_and_steps(name):
    config = load_preset(name)
    config.train.batch_size = min(config.train.batch_size, 16)
    images, labels = tiny_tensors()
    state = build_state(config, len(images), torch.device("cpu"))
    metrics = step(state, config, images, labels)
    assert all(value == value for value in metrics.values() if isinstance(value, float)), "no NaN"
    out = state.generator(sample_noise(2, config.model), one_hot(torch.tensor([1, 2]), 10))
    assert out.shape == (2, 1, 28, 28)


def test_preset_architectures_match_sources():
    keras = load_preset("keras-acgan")
    g = build_generator(keras.model)
    convs = [m for m in g.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(256, (5, 5)), (128, (5, 5)), (1, (2, 2))]
    linears = [m.out_features for m in g.modules() if isinstance(m, torch.nn.Linear)]
    assert linears == [1024, 128 * 7 * 7]
    d = build_partner(keras.model)
    assert [c.out_channels for c in d.modules() if isinstance(c, torch.nn.Conv2d)] == [32, 64, 128, 256]
    assert keras.train.lr_d == 5e-5 and keras.train.batch_size == 100 and keras.train.g_batch_multiplier == 2
    z = sample_noise(1000, keras.model)
    assert z.min() >= -1 and z.max() < 1 and z.min() < -0.9  # uniform(-1, 1)
    simple = build_generator(load_preset("simple-gan").model)
    assert [m.out_features for m in simple.modules() if isinstance(m, torch.nn.Linear)] == [128, 784]
    assert load_preset("writing-numbers").train.balance and load_preset("writing-numbers").model.z_dim == 2


def test_hadamard_is_noise_times_embedding():
    g = build_generator(small_model(g_cond="hadamard"))
    z, y = torch.randn(3, 8), one_hot(torch.tensor([0, 4, 9]), 10)
    assert torch.allclose(g.conditioning(z, y), z * g.conditioning.embedding[[0, 4, 9]])
    soft = torch.full((1, 10), 0.1)
    assert torch.allclose(g.conditioning(z[:1], soft), z[:1] * g.conditioning.embedding.mean(0))


def test_unconditional_ignores_label():
    g = build_generator(small_model(g_cond="none")).eval()
    z = torch.randn(2, 8)
    assert torch.equal(g(z, one_hot(torch.tensor([1, 1]), 10)), g(z, one_hot(torch.tensor([5, 7]), 10)))


def test_class_batchnorm_is_plain_batchnorm_at_start_and_the_class_reaches_every_stage():
    config = small_model(g_cond="none", g_norm="class-batch")
    assert config.conditional and not small_model(g_cond="none").conditional  # evaluation and drawing ask for digits
    g = build_generator(config)
    norms = [m for m in g.modules() if isinstance(m, ClassBatchNorm2d)]
    assert len(norms) == 1 + len(config.g_stages)  # the 7x7 base and every stage
    x, y = torch.randn(4, 3, 5, 5), one_hot(torch.tensor([0, 3, 3, 9]), 10)
    layer = ClassBatchNorm2d(3, 10).train()
    torch.testing.assert_close(layer(x, y), torch.nn.functional.batch_norm(x, None, None, training=True))
    with torch.no_grad():
        layer.gain[3] = torch.tensor([1.0, 0.0, -0.5])
        layer.shift[3] = torch.tensor([0.0, 2.0, 0.0])
    expected = torch.nn.functional.batch_norm(x, None, None, training=True)  # classes 0 and 9 keep it, the 3s:
    gain, shift = torch.tensor([2.0, 1.0, 0.5])[:, None, None], torch.tensor([0.0, 2.0, 0.0])[:, None, None]
    expected[1:3] = expected[1:3] * gain + shift
    torch.testing.assert_close(layer(x, y), expected)
    with torch.no_grad():  # the unconditional code: the class moves the picture through the norms alone
        for norm in norms:
            norm.gain.normal_()
    g.eval()
    z = torch.randn(2, 8)
    assert not torch.allclose(g(z, one_hot(torch.tensor([1, 1]), 10)), g(z, one_hot(torch.tensor([5, 7]), 10)))


def test_projection_uses_label():
    d = build_partner(small_model(d_cond="projection")).eval()
    x = torch.rand(2, 1, 28, 28)
    assert not torch.allclose(d(x, one_hot(torch.tensor([1, 1]), 10))[0], d(x, one_hot(torch.tensor([2, 2]), 10))[0])


@pytest.mark.parametrize(("d_norm", "joint", "d_mbstd"), [("none", True, 0), ("none", False, 0), ("batch", True, 0),
                                                          ("none", True, 4), ("none", True, 3)])
def test_phases_freeze_the_other_side(d_norm, joint, d_mbstd):
    """During D's update no gradient reaches G's output; during G's update D's weights take no gradient."""
    config = tiny_config(reuse_fake=False, d_joint_forward=joint)
    config.model.d_norm = d_norm
    config.model.d_mbstd = d_mbstd
    images, labels = tiny_tensors()
    state = build_state(config, len(images), torch.device("cpu"))
    calls = []
    original = state.partner.forward

    def spy(x, v):
        calls.append((len(x), x.requires_grad, any(p.requires_grad for p in state.partner.parameters())))
        return original(x, v)

    state.partner.forward = spy
    step(state, config, images, labels)
    batch = config.train.batch_size
    # D phase: real (no grad) and fake (detached, no grad), D trainable; G phase: fake carries G's graph, D frozen.
    # Real and fake go through D in one forward, except with BatchNorm in D (its statistics must not mix them) or
    # minibatch groups that the batch (8) does not divide (a group would hold real and fake samples).
    together = joint and d_norm == "none" and batch % max(d_mbstd, 1) == 0
    d_phase = [(2 * batch, False, True)] if together else [(batch, False, True), (batch, False, True)]
    assert calls == d_phase + [(batch, True, False)]


def test_paused_side_keeps_its_weights():
    config = tiny_config(balance=True)
    images, labels = tiny_tensors()
    state = build_state(config, len(images), torch.device("cpu"))
    state.balance.paused = "D"
    d_before = [p.detach().clone() for p in state.partner.parameters()]
    g_before = [p.detach().clone() for p in state.generator.parameters()]
    step(state, config, images, labels)
    assert all(torch.equal(a, b) for a, b in zip(d_before, state.partner.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, state.generator.parameters(), strict=True))


@pytest.mark.parametrize("name", preset_names())
def test_check_buildable_passes_every_preset_and_leaves_the_random_stream_alone(name):
    state = torch.random.get_rng_state()
    check_buildable(load_preset(name).model)
    assert torch.equal(torch.random.get_rng_state(), state), "a check must not move the seeds a run draws from"


@pytest.mark.parametrize("changes, message", [
    (dict(g_stages=[[8, 4, 2]]), "draws (1, 14, 14) images"),
    (dict(d_stages=[[4, 4, 2], [8, 4, 2], [8, 4, 2], [8, 4, 2], [8, 4, 2]]), "does not build"),
    (dict(g_body="mlp", g_dense=[16384, 16384]), "parameters, more than"),
    (dict(d_body="resnet", d_stages=[[4, 4, 2]]), "a residual stage needs an odd kernel"),
])
def test_check_buildable_says_what_does_not_fit(changes, message):
    with pytest.raises(UserError, match=re.escape(message)):
        check_buildable(small_model(**changes))


def test_check_buildable_takes_no_memory_for_a_model_it_refuses_and_loads_no_compiler():
    """The parameter count comes from shapes alone; the one-sample check runs on the CPU, not the meta device, whose
    kernels would import torch's compiler stack (seconds of every process that trains or loads a model)."""
    code = ("import sys, resource\n"
            "from digitgan.config import ModelConfig\n"
            "from digitgan.models import check_buildable\n"
            "from digitgan.errors import UserError\n"
            "check_buildable(ModelConfig())\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "try:\n"
            "    check_buildable(ModelConfig(g_body='mlp', g_dense=[16384, 16384]))\n"
            "except UserError:\n"
            "    pass\n"
            "grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
            "print(grown < 100_000, 'torch._dynamo' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "False"], result.stdout + result.stderr


@pytest.mark.parametrize("d_stages", [[[4, 4, 2], [8, 4, 2]], [[4, 3, 1]], [[4, 5, 2], [8, 3, 2], [8, 2, 2]],
                                      [[4, 9, 2], [8, 4, 1]], [[4, 1, 1], [8, 6, 2], [8, 7, 2]]])
@pytest.mark.parametrize("d_pool", ["flatten", "gap"])
def test_feature_width_is_the_width_the_stages_give(d_stages, d_pool):
    config = small_model(d_stages=d_stages, d_pool=d_pool)
    features = build_partner(config).features(torch.zeros(2, 1, 28, 28))
    assert features.shape == (2, feature_width(config))
    assert feature_width(small_model(d_body="mlp")) == 784


@pytest.mark.parametrize("d_stages", [[[4, 3, 2], [8, 3, 2]], [[4, 3, 1]], [[4, 5, 2], [8, 3, 1], [8, 1, 2]],
                                      [[4, 3, 2], [8, 3, 2], [8, 3, 2]]])
@pytest.mark.parametrize("d_pool", ["flatten", "gap"])
def test_residual_feature_width_is_the_width_the_blocks_give(d_stages, d_pool):
    config = small_model(d_body="resnet", d_stages=d_stages, d_pool=d_pool)
    features = build_partner(config).features(torch.zeros(2, 1, 28, 28))
    assert features.shape == (2, feature_width(config))


def test_residual_block_adds_its_branch_to_the_input_where_nothing_changes():
    block = ResidualBlock(4, 4, 3, 1, first=False, wrap=lambda module: module, norm=lambda channels: None)
    assert len(block.shortcut) == 0  # the identity: no 1x1 conv where width and size stay
    x = torch.randn(2, 4, 7, 7)
    torch.testing.assert_close(block(x), x + block.residual(x))
    first = ResidualBlock(1, 4, 3, 2, first=True, wrap=lambda module: module, norm=lambda channels: None)
    assert isinstance(first.residual[0], torch.nn.Conv2d)  # no ReLU on the raw pixels
    assert isinstance(first.shortcut[0], torch.nn.AvgPool2d)  # pooled, then the 1x1 conv (SNGAN's first block)
    assert first(torch.randn(2, 1, 28, 28)).shape == (2, 4, 14, 14)


def test_minibatch_std_adds_each_groups_spread_and_keeps_samples_apart_across_groups():
    layer = MinibatchStd(4)
    x = torch.randn(8, 5)
    out = layer(x)
    assert out.shape == (8, 6) and torch.equal(out[:, :5], x)
    for first in (0, 4):
        group = x[first:first + 4]
        spread = (group.var(dim=0, correction=0) + 1e-8).sqrt().mean()
        torch.testing.assert_close(out[first:first + 4, 5], spread.expand(4))
    copies = layer(x[:1].expand(8, 5))[:, 5]
    assert copies.max() < 1e-3  # a batch of one image drawn 8 times: no spread at all
    changed = x.clone()
    changed[5] += 10.0  # a sample of the second group moves: the first group's value does not
    assert torch.equal(layer(changed)[:4, 5], out[:4, 5]) and not torch.equal(layer(changed)[4:, 5], out[4:, 5])
    # a batch the group does not divide: the largest divisor below it (6 -> 3), a prime size one sample each
    assert torch.equal(layer(x[:6])[:3, 5], MinibatchStd(3)(x[:3])[:, 5])
    torch.testing.assert_close(layer(x[:7])[:, 5], torch.full((7,), 1e-4))


def test_minibatch_std_reaches_d_and_the_encoder_refuses_it():
    config = small_model(d_mbstd=4)
    d = build_partner(config)
    assert d.features(torch.zeros(4, 1, 28, 28)).shape == (4, feature_width(config) + 1)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    vector = one_hot(torch.tensor([1, 2, 3, 4]), 10)
    same = d(torch.cat([x[:1]] * 4), vector)[0]
    varied = d(torch.cat([x[:1], x[1:]]), vector)[0]
    assert not torch.allclose(same[0], varied[0]), "the first image's logit must see its group's spread"
    with pytest.raises(UserError, match="d_mbstd: 4 is for a discriminator"):
        check_buildable(ModelConfig(kind="vae", d_mbstd=4))
