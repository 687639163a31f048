"""The objective: the losses are the ones the literature names, and D's loss is the same whether real and fake
go through D together or apart."""

import math

import pytest
import torch

from digitgan.models import build_partner, one_hot
from digitgan.training.objective import LOSSES, Objective, class_loss, r1_penalty
from tests.conftest import tiny_config


def test_losses_are_the_named_ones():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    bce = LOSSES["bce"]
    expected = -(torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean())
    assert torch.allclose(bce.d(real, fake, 0.0), expected)
    assert torch.allclose(bce.g(fake, None), -torch.log(torch.sigmoid(fake)).mean())  # non-saturating
    smoothed = -(0.9 * torch.log(torch.sigmoid(real)) + 0.1 * torch.log(1 - torch.sigmoid(real))).mean() \
        - torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(bce.d(real, fake, 0.1), smoothed)
    assert torch.allclose(LOSSES["hinge"].d(real, fake, 0.0), torch.tensor((0 + 2) / 2 + (1.5 + 0) / 2))
    assert torch.allclose(LOSSES["lsgan"].g(fake, None), 0.5 * ((fake - 1) ** 2).mean())
    assert torch.allclose(LOSSES["wgan-gp"].d(real, fake, 0.0), fake.mean() - real.mean())
    # relativistic pairing: -log sigmoid(real_i - fake_i) for D, -log sigmoid(fake_i - real_i) for G
    rpgan = LOSSES["rpgan"]
    assert torch.allclose(rpgan.d(real, fake, 0.0), -torch.log(torch.sigmoid(real - fake)).mean())
    assert torch.allclose(rpgan.g(fake, real), -torch.log(torch.sigmoid(fake - real)).mean())
    difference = real - fake
    assert torch.allclose(rpgan.d(real, fake, 0.1), -(0.9 * torch.log(torch.sigmoid(difference))
                                                       + 0.1 * torch.log(1 - torch.sigmoid(difference))).mean())
    assert rpgan.relativistic and not any(loss.relativistic for name, loss in LOSSES.items() if name != "rpgan")


def _batch(config, count=8):
    torch.manual_seed(1)
    real = torch.rand(count, 1, 28, 28) * 2 - 1
    fake = torch.rand(count, 1, 28, 28) * 2 - 1
    return real, one_hot(torch.arange(count) % 10, 10), fake, one_hot((torch.arange(count) + 3) % 10, 10)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_joint_and_separate_forwards_give_the_same_loss(loss):
    config = tiny_config(loss=loss)
    discriminator = build_partner(config.model).eval()  # eval: dropout off, so the forwards compare
    objective = Objective(config)
    real, real_vector, fake, fake_vector = _batch(config)
    torch.manual_seed(0)
    joint, joint_metrics = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, True)
    torch.manual_seed(0)
    apart, apart_metrics = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False)
    assert torch.allclose(joint, apart, atol=1e-5)
    assert set(joint_metrics) == set(apart_metrics) >= {"d_loss", "d_adv", "d_real", "d_fake", "aux_loss", "aux_acc"}


def test_auxiliary_terms_and_weights():
    config = tiny_config(aux_weight=0.5)
    discriminator = build_partner(config.model).eval()
    real, real_vector, fake, fake_vector = _batch(config)
    loss, metrics = Objective(config).discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False)
    _, real_class = discriminator(real, real_vector)
    _, fake_class = discriminator(fake, fake_vector)
    auxiliary = class_loss(real_class, real_vector) + class_loss(fake_class, fake_vector)
    assert metrics["aux_loss"] == pytest.approx(0.5 * auxiliary.item(), rel=1e-5)
    assert loss.item() == pytest.approx(metrics["d_adv"] + 0.5 * auxiliary.item(), rel=1e-5)
    g_loss, g_metrics = Objective(config).generator_loss(discriminator, fake, fake_vector)
    assert g_loss.item() == pytest.approx(g_metrics["g_adv"] + 0.5 * class_loss(fake_class, fake_vector).item(),
                                          rel=1e-5)


def _class_head_config(d_cond="projection-tac", **train_changes):
    from digitgan.config import RunConfig

    config = tiny_config(**train_changes)
    config.model.d_cond = d_cond
    return RunConfig.from_dict(config.to_dict())


def test_twin_classifiers_learn_real_and_generated_classes_apart_and_g_raises_the_twin_s_loss():
    """TAC-GAN (Gong et al. 2019): D's classifier learns the classes of real images, its twin those of generated
    ones; G lowers the classifier's class loss and raises the twin's."""
    config = _class_head_config(aux_weight=0.5)
    discriminator = build_partner(config.model).eval()
    objective = Objective(config)
    real, real_vector, fake, fake_vector = _batch(config)
    _, real_classes = discriminator(real, real_vector)
    _, fake_classes = discriminator(fake, fake_vector)
    assert real_classes.shape == (len(real), 20)  # the classifier's 10 logits, then the twin's
    loss, metrics = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False)
    auxiliary = class_loss(real_classes[:, :10], real_vector) + class_loss(fake_classes[:, 10:], fake_vector)
    assert loss.item() == pytest.approx(metrics["d_adv"] + 0.5 * auxiliary.item(), rel=1e-5)
    assert metrics["aux_acc"] == (real_classes[:, :10].argmax(1) == real_vector.argmax(1)).float().mean().item()
    real_side, _ = objective.discriminator_side_loss(discriminator, real, real_vector, real=True)
    fake_side, _ = objective.discriminator_side_loss(discriminator, fake, fake_vector, real=False)
    assert torch.allclose(real_side + fake_side, loss, atol=1e-5)
    g_loss, g_metrics = objective.generator_loss(discriminator, fake, fake_vector)
    twin_term = class_loss(fake_classes[:, :10], fake_vector) - class_loss(fake_classes[:, 10:], fake_vector)
    assert g_loss.item() == pytest.approx(g_metrics["g_adv"] + 0.5 * twin_term.item(), rel=1e-5)


def test_a_discriminative_classifier_tells_real_from_generated_within_each_class_and_g_pulls_to_real():
    """ADC-GAN (Hou et al. 2022): one softmax over 2C classes; D learns "real k" for real images of class k and
    "generated k" for generated ones; G, drawing class k, lowers the cross-entropy towards "real k" and raises the
    one towards "generated k"."""
    config = _class_head_config("projection-adc", aux_weight=0.5)
    discriminator = build_partner(config.model).eval()
    objective = Objective(config)
    real, real_vector, fake, fake_vector = _batch(config)
    _, real_classes = discriminator(real, real_vector)
    _, fake_classes = discriminator(fake, fake_vector)
    assert real_classes.shape == (len(real), 20)  # "real 0..9", then "generated 0..9"
    real_k, fake_k = real_vector.argmax(1), fake_vector.argmax(1)
    loss, metrics = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False)
    auxiliary = (torch.nn.functional.cross_entropy(real_classes, real_k)
                 + torch.nn.functional.cross_entropy(fake_classes, fake_k + 10))
    assert loss.item() == pytest.approx(metrics["d_adv"] + 0.5 * auxiliary.item(), rel=1e-5)
    assert metrics["aux_acc"] == (real_classes[:, :10].argmax(1) == real_k).float().mean().item()
    real_side, _ = objective.discriminator_side_loss(discriminator, real, real_vector, real=True)
    fake_side, _ = objective.discriminator_side_loss(discriminator, fake, fake_vector, real=False)
    assert torch.allclose(real_side + fake_side, loss, atol=1e-5)
    g_loss, g_metrics = objective.generator_loss(discriminator, fake, fake_vector)
    log_p = torch.log_softmax(fake_classes, dim=1)
    towards_real = -(log_p[torch.arange(len(fake)), fake_k] - log_p[torch.arange(len(fake)), fake_k + 10]).mean()
    assert g_loss.item() == pytest.approx(g_metrics["g_adv"] + 0.5 * towards_real.item(), rel=1e-5)


def test_a_discriminative_classifier_trains_and_resumes_exactly(tmp_path):
    import numpy as np

    from tests.conftest import resumes_exactly, tiny_arrays

    path = tmp_path / "tiny.npz"
    np.savez(path, **dict(zip(("x_train", "y_train"), tiny_arrays(96), strict=True)))
    assert resumes_exactly(tmp_path / "run", lambda steps: _class_head_config("adc", dataset=str(path), steps=steps,
                                                                         checkpoint_every=3))


def test_twin_classifiers_train_and_resume_exactly(tmp_path):
    import numpy as np

    from tests.conftest import resumes_exactly, tiny_arrays

    path = tmp_path / "tiny.npz"
    np.savez(path, **dict(zip(("x_train", "y_train"), tiny_arrays(96), strict=True)))
    assert resumes_exactly(tmp_path / "run", lambda steps: _class_head_config(dataset=str(path), steps=steps,
                                                                         checkpoint_every=3))


def test_r1_is_the_squared_input_gradient():
    x = torch.randn(4, 1, 28, 28, requires_grad=True)
    logits = (x ** 2).flatten(1).sum(1)  # gradient 2x
    assert torch.allclose(r1_penalty(logits, x), (2 * x).pow(2).flatten(1).sum(1).mean())


def test_held_out_objective_has_no_smoothing_or_penalties():
    config = tiny_config(label_smoothing=0.2, r1_gamma=5.0, loss="wgan-gp")
    held_out = Objective(config, held_out=True)
    assert held_out.label_smoothing == 0.0 and held_out.r1_gamma == 0.0 and held_out.gp_lambda == 0.0
    training = Objective(config)
    assert training.r1_gamma == 5.0 and training.gp_lambda == 10.0 and training.needs_real_gradient


@pytest.mark.parametrize("loss", [name for name, loss in LOSSES.items() if not loss.relativistic])
def test_each_side_of_d_s_loss_adds_up_to_the_whole(loss):
    config = tiny_config(loss=loss)
    discriminator = build_partner(config.model).eval()
    objective = Objective(config)
    real, real_vector, fake, fake_vector = _batch(config)
    whole, metrics = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False)
    real_side, real_metrics = objective.discriminator_side_loss(discriminator, real, real_vector, real=True)
    fake_side, fake_metrics = objective.discriminator_side_loss(discriminator, fake, fake_vector, real=False)
    if not LOSSES[loss].gradient_penalty:  # the penalty joins real and fake: not split
        assert torch.allclose(real_side + fake_side, whole, atol=1e-5)
    assert real_metrics["d_real"] == pytest.approx(metrics["d_real"]) and fake_metrics["d_fake"] == pytest.approx(
        metrics["d_fake"])


def test_lazy_r1_weights_the_penalty_on_the_steps_it_runs():
    config = tiny_config(r1_gamma=2.0)
    discriminator = build_partner(config.model).eval()
    objective = Objective(config)
    real, real_vector, fake, fake_vector = _batch(config)
    real.requires_grad_(True)
    plain, _ = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False, r1_weight=0.0)
    once, _ = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False, r1_weight=1.0)
    lazy, _ = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False, r1_weight=16.0)
    assert (lazy - plain).item() == pytest.approx(16 * (once - plain).item(), rel=1e-4) and once > plain


def test_consistency_term_is_the_weighted_change_of_d_under_the_transform():
    """bCR: weight x (mean squared change of D's logits on real + the same on fake), the transforms drawn from the
    given stream; joint and separate forwards agree, and the held-out losses leave it out."""
    from digitgan.training.augment import AUGMENTS
    from digitgan.training.objective import consistency_penalty

    config = tiny_config(consistency_weight=10.0)
    discriminator = build_partner(config.model).eval()
    objective = Objective(config)
    real, real_vector, fake, fake_vector = _batch(config)
    losses = {}
    for joint in (True, False):
        rng = torch.Generator().manual_seed(3)
        losses[joint] = objective.discriminator_loss(discriminator, real, real_vector, fake, fake_vector, joint,
                                                     rng=rng)
    assert torch.allclose(losses[True][0], losses[False][0], atol=1e-5)
    rng = torch.Generator().manual_seed(3)
    moved_real, moved_fake = AUGMENTS["translation"](real, rng), AUGMENTS["translation"](fake, rng)
    expected = (consistency_penalty(discriminator(real, real_vector)[0], discriminator(moved_real, real_vector)[0])
                + consistency_penalty(discriminator(fake, fake_vector)[0], discriminator(moved_fake, fake_vector)[0]))
    loss, metrics = losses[False]
    assert metrics["consistency"] == pytest.approx(expected.item(), rel=1e-4) and expected > 0
    plain, _ = Objective(tiny_config()).discriminator_loss(discriminator, real, real_vector, fake, fake_vector, False)
    assert loss.item() == pytest.approx(plain.item() + 10.0 * expected.item(), rel=1e-4)
    assert Objective(config, held_out=True).consistency_transform is None
    # each side of a split D step carries its own half of the term
    real_side, real_metrics = objective.discriminator_side_loss(discriminator, real, real_vector, real=True,
                                                                rng=torch.Generator().manual_seed(3))
    assert real_metrics["consistency"] == pytest.approx(
        consistency_penalty(discriminator(real, real_vector)[0], discriminator(moved_real, real_vector)[0]).item(),
        rel=1e-4)


def test_consistency_trains_resumes_exactly_and_needs_a_transform(tmp_path):
    import numpy as np

    from digitgan.errors import UserError
    from digitgan.training import train
    from tests.conftest import resumes_exactly, tiny_arrays

    path = tmp_path / "tiny.npz"
    np.savez(path, **dict(zip(("x_train", "y_train"), tiny_arrays(96), strict=True)))

    def config(steps, split):  # the joint forward of fast, and the split steps of the Keras loops
        return tiny_config(dataset=str(path), steps=steps, consistency_weight=5.0, checkpoint_every=3,
                           d_split_steps=split)

    assert resumes_exactly(tmp_path / "joint", lambda steps: config(steps, False))
    assert resumes_exactly(tmp_path / "split", lambda steps: config(steps, True))
    with pytest.raises(UserError, match="consistency_augment"):
        train(tiny_config(dataset=str(path), steps=2, consistency_weight=1.0, consistency_augment="none"),
              tmp_path / "run", quiet=True)


def test_mode_seeking_ratio_is_the_pairs_image_distance_over_their_noise_distance():
    from digitgan.training.objective import mode_seeking_ratio

    images = torch.zeros(5, 1, 28, 28)
    images[3] = 0.5  # pairs (0, 3) and (1, 4); sample 2 is the odd one out, unpaired
    noise = torch.zeros(5, 4)
    noise[3], noise[4] = 2.0, 1.0
    assert mode_seeking_ratio(images, noise).item() == pytest.approx((0.5 / 2) / (3.0 / 2))


def test_mode_seeking_adds_weight_over_the_ratio_to_g_s_loss_and_is_off_when_held_out():
    from digitgan.training.objective import mode_seeking_ratio

    config = tiny_config(mode_seeking=2.0)
    discriminator = build_partner(config.model).eval()
    _, _, fake, fake_vector = _batch(config)
    noise = torch.randn(len(fake), config.model.z_dim)
    loss, metrics = Objective(config).generator_loss(discriminator, fake, fake_vector, noise)
    plain, _ = Objective(tiny_config()).generator_loss(discriminator, fake, fake_vector, noise)
    ratio = mode_seeking_ratio(fake, noise).item()
    assert metrics["mode_ratio"] == pytest.approx(ratio, rel=1e-5)
    assert loss.item() == pytest.approx(plain.item() + 2.0 / (ratio + 1e-5), rel=1e-5)
    held_out, _ = Objective(config, held_out=True).generator_loss(discriminator, fake, fake_vector, noise)
    assert held_out.item() == pytest.approx(plain.item(), rel=1e-6)


def test_mode_seeking_pairs_g_s_batch_by_class_and_leaves_the_stream_alone_when_off():
    from digitgan.training.objective import make_fakes
    from digitgan.training.state import build_state

    for weight in (0.0, 1.0):
        config = tiny_config(mode_seeking=weight)
        state = build_state(config, 96, torch.device("cpu"))
        generator, objective = state.generator, Objective(config)
        if weight:
            _, vectors, noise = make_fakes(state, config, 7, False, generator, objective, paired=True)
            labels = vectors.argmax(1)
            assert torch.equal(labels[:3], labels[4:]) and not torch.equal(noise[:3], noise[4:])
        else:  # unpaired: the draws of the noise stream the runs before mode seeking made
            expected = torch.Generator().set_state(state.noise_rng.get_state())
            _, vectors, noise = make_fakes(state, config, 7, False, generator, objective)
            expected_noise = torch.randn(7, config.model.z_dim, generator=expected)
            expected_labels = torch.randint(0, 10, (7,), generator=expected)
            assert torch.equal(noise, expected_noise) and torch.equal(vectors.argmax(1), expected_labels)


def test_mode_seeking_trains_and_resumes_exactly(tmp_path):
    import numpy as np

    from tests.conftest import resumes_exactly, tiny_arrays

    path = tmp_path / "tiny.npz"
    np.savez(path, **dict(zip(("x_train", "y_train"), tiny_arrays(96), strict=True)))
    assert resumes_exactly(tmp_path, lambda steps: tiny_config(dataset=str(path), steps=steps, mode_seeking=1.0,
                                                               checkpoint_every=3))


def test_cpu_amp_is_opt_in_and_trains_in_bf16_resuming_exactly(tmp_path):
    import numpy as np
    from safetensors.torch import load_file

    from digitgan.training import train
    from tests.conftest import resumes_exactly, tiny_arrays

    cpu, layer = torch.device("cpu"), torch.nn.Linear(4, 4)
    for cpu_amp, dtype in ((False, torch.float32), (True, torch.bfloat16)):
        for network in ("generator", "discriminator"):
            with Objective(tiny_config(cpu_amp=cpu_amp)).autocast(cpu, network):
                assert layer(torch.randn(2, 4)).dtype == dtype
    path = tmp_path / "tiny.npz"
    np.savez(path, **dict(zip(("x_train", "y_train"), tiny_arrays(96), strict=True)))
    assert resumes_exactly(tmp_path / "bf16", lambda steps: tiny_config(dataset=str(path), steps=steps,
                                                                        checkpoint_every=3, cpu_amp=True))
    train(tiny_config(dataset=str(path), steps=6, checkpoint_every=3), tmp_path / "fp32", quiet=True)
    bf16, fp32 = (load_file(str(tmp_path / run / "model" / "generator.safetensors")) for run in ("bf16/whole", "fp32"))
    assert all(torch.isfinite(bf16[name]).all() for name in bf16)
    assert any(not torch.equal(bf16[name], fp32[name]) for name in fp32)  # the setting reaches the training step


@pytest.mark.parametrize("networks", ["generator", "discriminator"])
def test_amp_networks_puts_one_network_in_bf16_and_the_other_in_float32(tmp_path, networks):
    import numpy as np
    from safetensors.torch import load_file

    from digitgan.training import train
    from tests.conftest import resumes_exactly, tiny_arrays

    objective, cpu, layer = Objective(tiny_config(cpu_amp=True, amp_networks=networks)), torch.device("cpu"), \
        torch.nn.Linear(4, 4)
    for network in ("generator", "discriminator"):
        with objective.autocast(cpu, network):
            assert layer(torch.randn(2, 4)).dtype == (torch.bfloat16 if network == networks else torch.float32)
    path = tmp_path / "tiny.npz"
    np.savez(path, **dict(zip(("x_train", "y_train"), tiny_arrays(96), strict=True)))
    settings = {"dataset": str(path), "checkpoint_every": 3, "cpu_amp": True}
    assert resumes_exactly(tmp_path / "one", lambda steps: tiny_config(steps=steps, amp_networks=networks,
                                                                       **settings))
    train(tiny_config(steps=6, **settings), tmp_path / "both", quiet=True)
    one, both = (load_file(str(tmp_path / run / "model" / "generator.safetensors")) for run in ("one/whole", "both"))
    assert all(torch.isfinite(one[name]).all() for name in one)
    assert any(not torch.equal(one[name], both[name]) for name in both)  # a different model from bf16 on both


def test_top_k_count_halves_the_share_of_g_s_batch_down_to_its_floor():
    from digitgan.training.objective import top_k_count

    assert [top_k_count(64, seen, 0.25, 1000) for seen in (0, 1000, 2000, 3000, 10**9)] == [64, 32, 16, 16, 16]
    assert top_k_count(64, 500, 0.25, 1000) == math.ceil(64 * 0.5 ** 0.5)
    assert top_k_count(64, 0, 0.5, 0) == 32  # half-life 0: the floor from the first step
    assert top_k_count(64, 0, 0.0, 0) == 1 and top_k_count(7, 0, 1.0, 0) == 7  # never none, never more than all


def test_top_k_counts_only_the_fakes_d_finds_most_real_in_the_adversarial_term():
    """Top-k training (Sinha et al. 2020): G's adversarial term averages over the k highest logits; the class loss
    still counts every sample."""
    config = tiny_config()
    discriminator = build_partner(config.model).eval()
    _, _, fake, fake_vector = _batch(config, count=8)
    logits, classes = discriminator(fake, fake_vector)
    objective = Objective(config)
    for loss_name in [name for name, loss in LOSSES.items() if not loss.relativistic]:
        objective.adversarial = LOSSES[loss_name]
        loss, metrics = objective.generator_loss(discriminator, fake, fake_vector, counted=3)
        best = logits.sort(descending=True).values[:3]
        assert metrics["g_adv"] == pytest.approx(LOSSES[loss_name].g(best, None).item(), rel=1e-5)
        assert loss.item() == pytest.approx(metrics["g_adv"] + class_loss(classes, fake_vector).item(), rel=1e-5)
        every, every_metrics = objective.generator_loss(discriminator, fake, fake_vector, counted=8)
        assert every_metrics["g_adv"] == pytest.approx(LOSSES[loss_name].g(logits, None).item(), rel=1e-5)


def test_top_k_trains_resumes_exactly_and_changes_the_model(tmp_path):
    import numpy as np
    from safetensors.torch import load_file

    from digitgan.training import train
    from tests.conftest import resumes_exactly, tiny_arrays

    path = tmp_path / "tiny.npz"
    np.savez(path, **dict(zip(("x_train", "y_train"), tiny_arrays(96), strict=True)))
    settings = {"dataset": str(path), "checkpoint_every": 3}
    # the share halves every 16 images (two steps of 8): it moves across the resume
    assert resumes_exactly(tmp_path / "top-k", lambda steps: tiny_config(steps=steps, top_k_min=0.25,
                                                                         top_k_half_life=16, **settings))
    train(tiny_config(steps=6, **settings), tmp_path / "all", quiet=True)
    top_k, every = (load_file(str(tmp_path / run / "model" / "generator.safetensors"))
                    for run in ("top-k/whole", "all"))
    assert all(torch.isfinite(top_k[name]).all() for name in top_k)
    assert any(not torch.equal(top_k[name], every[name]) for name in every)  # the setting reaches the training step


def test_relativistic_g_loss_pairs_each_fake_with_a_real_logit_that_carries_no_gradient():
    """rpgan: G's adversarial term is softplus(real_i - fake_i) over pairs; a G batch larger than D's real batch
    pairs fake i with real i mod N; top-k counts the pairs whose fake D finds most real beside its partner."""
    config = tiny_config(loss="rpgan")
    discriminator = build_partner(config.model).eval()
    real, real_vector, fake, fake_vector = _batch(config, count=8)
    objective = Objective(config)
    with pytest.raises(ValueError, match="rpgan loss pairs"):
        objective.generator_loss(discriminator, fake, fake_vector)
    fake = torch.cat([fake, fake.flip(0)]).requires_grad_(True)  # G's batch twice D's
    fake_vector = torch.cat([fake_vector, fake_vector.flip(0)])
    real = real.clone().requires_grad_(True)
    real_logits = discriminator(real, real_vector)[0].detach().repeat(2)
    fake_logits, fake_class = discriminator(fake, fake_vector)
    loss, metrics = objective.generator_loss(discriminator, fake, fake_vector, real=(real, real_vector))
    pairs = torch.nn.functional.softplus(real_logits - fake_logits)
    assert metrics["g_adv"] == pytest.approx(pairs.mean().item(), rel=1e-5)
    assert loss.item() == pytest.approx(metrics["g_adv"] + class_loss(fake_class, fake_vector).item(), rel=1e-5)
    loss.backward()
    assert real.grad is None and fake.grad is not None  # the real side is a constant for G
    _, top = objective.generator_loss(discriminator, fake, fake_vector, counted=5, real=(real, real_vector))
    assert top["g_adv"] == pytest.approx(pairs.sort().values[:5].mean().item(), rel=1e-5)


def test_relativistic_loss_trains_resumes_exactly_and_needs_one_d_step(tmp_path):
    import numpy as np

    from digitgan.errors import UserError
    from digitgan.training import train
    from tests.conftest import resumes_exactly, tiny_arrays

    path = tmp_path / "tiny.npz"
    np.savez(path, **dict(zip(("x_train", "y_train"), tiny_arrays(96), strict=True)))
    settings = {"dataset": str(path), "checkpoint_every": 3, "loss": "rpgan", "label_smoothing": 0.1}
    assert resumes_exactly(tmp_path / "rpgan", lambda steps: tiny_config(steps=steps, **settings))
    with pytest.raises(UserError, match="compares each real image with a fake one"):
        train(tiny_config(steps=2, d_split_steps=True, **settings), tmp_path / "split", quiet=True)
