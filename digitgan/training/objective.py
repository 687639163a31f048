"""The GAN objective: every term of D's and G's losses, and the forwards through D that feed them.

Adversarial losses are registered by name as the literature defines them; logits are D's raw adversarial outputs
(N,). `bce` is the non-saturating loss of Goodfellow et al. (G maximises log D(G(z))), written with softplus so
that it is exactly binary cross-entropy on sigmoid(logits). On top of the adversarial term the objective adds the
ACGAN auxiliary class loss (when D has a classifier head; with twin classifiers the TAC-GAN terms of Gong et al.
2019), the WGAN-GP gradient penalty, R1 and balanced consistency regularisation. `rpgan` is relativistic: D's term
compares each real logit with a fake one and G's each fake logit with a real one, so D's forward on real images also
runs in G's phase. G's loss may add the mode-seeking term of MSGAN (Mao et al. 2019), and its adversarial term may
count only the fakes D finds most real (top-k training, Sinha et al. 2020).

The training step only asks `discriminator_loss(...)` and `generator_loss(...)` for (loss, metrics); the held-out
losses of the epoch table use the same two calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from digitgan import seeds
from digitgan.choices import LOSS_NAMES, check_registry
from digitgan.images import from_uint8
from digitgan.kinds import OBJECTIVE_NAMES, kind_of
from digitgan.models import D_CONDITIONING, one_hot, sample_noise
from digitgan.training.augment import AUGMENTS
from digitgan.training.autoencoder import AutoencoderObjective
from digitgan.training.state import next_batch

if TYPE_CHECKING:
    from digitgan.config import RunConfig
    from digitgan.training.state import TrainState


@dataclass(frozen=True)
class AdversarialLoss:
    """D's loss is a term on the real logits plus a term on the fake logits (what lets D step on real and fake
    batches apart), or, for a relativistic loss, one term on each real logit paired with the fake logit of the
    same index (`d_pair`); G's is a term on the fake logits, which a relativistic loss pairs with real ones."""
    d_real: Callable[[torch.Tensor, float], torch.Tensor] | None    # (real_logits, smoothing)
    d_fake: Callable[[torch.Tensor], torch.Tensor] | None           # (fake_logits)
    g: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]  # (fake_logits, paired real_logits or None)
    gradient_penalty: bool = False
    d_pair: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor] | None = None  # (real, fake, smoothing)

    @property
    def relativistic(self) -> bool:
        """Whether the loss compares each fake logit with a real one (G's loss then needs D's real logits)."""
        return self.d_pair is not None

    def d(self, real: torch.Tensor, fake: torch.Tensor, smoothing: float) -> torch.Tensor:
        if self.d_pair is not None:
            return self.d_pair(real, fake, smoothing)
        return self.d_real(real, smoothing) + self.d_fake(fake)


def _bce_real(real: torch.Tensor, smoothing: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(real, torch.full_like(real, 1.0 - smoothing))


def paired_logits(real: torch.Tensor, count: int) -> torch.Tensor:
    """The real logits (N,) paired index by index with `count` fake ones: real logit i % N for fake i (G's batch
    may be a multiple of D's)."""
    return real[torch.arange(count, device=real.device) % len(real)]


LOSSES: dict[str, AdversarialLoss] = {
    "bce": AdversarialLoss(_bce_real, lambda fake: F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)),
                           lambda fake, real: F.softplus(-fake).mean()),
    "hinge": AdversarialLoss(lambda real, smoothing: F.relu(1.0 - real).mean(),
                             lambda fake: F.relu(1.0 + fake).mean(), lambda fake, real: -fake.mean()),
    "lsgan": AdversarialLoss(lambda real, smoothing: 0.5 * ((real - (1.0 - smoothing)) ** 2).mean(),
                             lambda fake: 0.5 * (fake ** 2).mean(),
                             lambda fake, real: 0.5 * ((fake - 1.0) ** 2).mean()),
    "wgan-gp": AdversarialLoss(lambda real, smoothing: -real.mean(), lambda fake: fake.mean(),
                               lambda fake, real: -fake.mean(), gradient_penalty=True),
    # relativistic pairing (RpGAN, Jolicoeur-Martineau 2019; R3GAN's loss, Huang et al. 2024): D learns that each
    # real image is more real than the fake of its pair, G that each fake is more real than its real partner; label
    # smoothing sets the target of that comparison below 1
    "rpgan": AdversarialLoss(None, None, lambda fake, real: F.softplus(real - fake).mean(),
                             d_pair=lambda real, fake, smoothing: _bce_real(real - fake, smoothing)),
}
check_registry("loss", LOSSES, LOSS_NAMES)


def class_loss(class_logits: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
    """ACGAN auxiliary cross-entropy; label_vector may be soft (N, C) probabilities."""
    return F.cross_entropy(class_logits, label_vector)


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """E ||∇_x D(x)||² on real images (Mescheder et al. 2018); real_images must require grad."""
    (gradient,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return gradient.pow(2).flatten(1).sum(1).mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: E (||∇ D(x̂)|| - 1)² on random interpolates x̂ of real and fake (Gulrajani et al. 2017)."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    mixed = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((gradient.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def consistency_penalty(logits: torch.Tensor, transformed_logits: torch.Tensor) -> torch.Tensor:
    """Mean squared change of D's adversarial logits (N,) when its input is transformed (bCR, Zhao et al. 2021);
    the gradient reaches D through both forwards."""
    return (transformed_logits - logits).pow(2).mean()


def mode_seeking_ratio(images: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """MSGAN's ratio for a batch made in pairs (sample i and sample i + ceil(N/2) share a class, an odd last one
    is unpaired): the pairs' mean absolute image difference over their mean absolute noise difference.
    images: (N, 1, 28, 28), noise: (N, z_dim); a scalar that G raises by drawing distinct codes apart."""
    half = (len(images) + 1) // 2
    pairs = len(images) - half
    image_distance = (images[:pairs] - images[half:]).abs().mean()
    return image_distance / (noise[:pairs] - noise[half:]).abs().mean()


def top_k_count(batch: int, images_seen: int, minimum: float, half_life: int) -> int:
    """How many of G's `batch` samples its adversarial loss counts after `images_seen` images: the share
    0.5 ** (images_seen / half_life), never below `minimum` (half_life 0: `minimum` from the start), at least one."""
    share = minimum if half_life == 0 else max(minimum, 0.5 ** (images_seen / half_life))
    return min(batch, max(1, math.ceil(share * batch - 1e-9)))


def _float(value: torch.Tensor | None) -> torch.Tensor | None:
    return value.float() if value is not None else None


class Objective:
    """D's and G's losses for one run configuration.

    Images are (N, 1, 28, 28) float in [-1, 1], label vectors (N, C) float. `discriminator` is called as
    D(images, label_vector) -> (adversarial logits (N,), class logits (N, C) or None).
    held_out: the plain losses for the epoch table (no label smoothing, no gradient penalties).
    The class attributes tell the trainer's displays what this objective's metrics are.
    """

    losses = ("d_loss", "g_loss")  # checked for finiteness every step, plotted as the loss curves
    rates = (("d_real", "D(x)"), ("d_fake", "D(G(z))"), ("aux_acc", "aux accuracy (real)"))  # plotted in [0, 1]
    progress = (("D", "d_loss", ".3f"), ("G", "g_loss", ".3f"), ("D(x)", "d_real", ".2f"),
                ("D(G(z))", "d_fake", ".2f"), ("aux acc", "aux_acc", ".2f"))
    # The Keras ACGAN's end-of-epoch table: (row, training metric, held-out key); adversarial and auxiliary apart.
    table = (("generator (adversarial)", "g_adv", "g_loss"), ("discriminator (adversarial)", "d_adv", "d_loss"),
             ("auxiliary class loss", "aux_loss", "aux_loss"))

    def __init__(self, config: RunConfig, held_out: bool = False) -> None:
        t = config.train
        self.adversarial, self.adversarial_name = LOSSES[t.loss], t.loss
        self.aux_weight = t.aux_weight
        conditioning = D_CONDITIONING[config.model.d_cond]
        self.twin, self.discriminative = conditioning.twin, conditioning.discriminative
        self.class_outputs = conditioning.class_outputs
        self.label_smoothing = 0.0 if held_out else t.label_smoothing
        self.gp_lambda = 0.0 if held_out or not self.adversarial.gradient_penalty else t.gp_lambda
        self.r1_gamma = 0.0 if held_out else t.r1_gamma
        self.augment = None if held_out else AUGMENTS[t.d_augment]
        self.consistency_weight = 0.0 if held_out else t.consistency_weight
        self.consistency_transform = AUGMENTS[t.consistency_augment] if self.consistency_weight else None
        self.mode_seeking = 0.0 if held_out else t.mode_seeking
        self.amp = t.amp
        self.cpu_amp = t.cpu_amp
        self.amp_networks = t.amp_networks

    def augmented(self, discriminator: Callable, rng: torch.Generator) -> Callable:
        """D as the losses call it: behind the run's input augmentation (training/augment.py), when it has one."""
        if self.augment is None:
            return discriminator
        augment = self.augment
        return lambda images, label_vector: discriminator(augment(images, rng), label_vector)

    def classifier_logits(self, class_logits: torch.Tensor) -> torch.Tensor:
        """D's class logits (N, C or 2C) -> the classifier's (N, C): the head that learns real images' classes (with
        a discriminative classifier, its "real k" logits: what its accuracy on real images is read from)."""
        return class_logits[:, :class_logits.shape[1] // 2] if self.class_outputs == 2 else class_logits

    def fake_class_logits(self, class_logits: torch.Tensor) -> torch.Tensor:
        """The head that learns generated images' classes (N, C): the twin's with twin classifiers (TAC), else the
        classifier itself (ACGAN trains one classifier on both)."""
        return class_logits[:, class_logits.shape[1] // 2:] if self.twin else class_logits

    @staticmethod
    def discriminative_targets(label_vector: torch.Tensor, real: bool) -> torch.Tensor:
        """A discriminative classifier's (ADC) targets (N, 2C) for label vectors (N, C): class k of a real image is
        "real k" (the first C), of a generated one "generated k" (the last C)."""
        absent = torch.zeros_like(label_vector)
        return torch.cat([label_vector, absent] if real else [absent, label_vector], dim=1)

    def d_class_loss(self, class_logits: torch.Tensor, label_vector: torch.Tensor, real: bool) -> torch.Tensor:
        """D's class loss on a real or a generated batch: ACGAN's classifier learns both batches' classes, TAC's
        classifier the real ones and its twin the generated ones, ADC's one classifier "real k" and "generated k"."""
        if self.discriminative:
            return class_loss(class_logits, self.discriminative_targets(label_vector, real))
        heads = self.classifier_logits(class_logits) if real else self.fake_class_logits(class_logits)
        return class_loss(heads, label_vector)

    def g_class_loss(self, class_logits: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        """G's class loss on its batch: ACGAN lowers the classifier's; TAC also raises the twin's (the classifier's
        term alone would lower the conditional entropy of G's classes, drawing every sample to where its class is
        easiest to tell); ADC lowers "real k"'s and raises "generated k"'s (Hou et al. 2022)."""
        if self.discriminative:
            return (class_loss(class_logits, self.discriminative_targets(label_vector, True))
                    - class_loss(class_logits, self.discriminative_targets(label_vector, False)))
        auxiliary = class_loss(self.classifier_logits(class_logits), label_vector)
        if self.twin:
            auxiliary = auxiliary - class_loss(self.fake_class_logits(class_logits), label_vector)
        return auxiliary

    @property
    def needs_real_gradient(self) -> bool:
        """R1 differentiates D's output with respect to the real images: they must require grad."""
        return bool(self.r1_gamma)

    def autocast(self, device: torch.device, network: str) -> torch.autocast:
        """bf16 autocast for `network`'s forwards ("generator" or "discriminator"): on CUDA with `amp`, on the CPU
        only with `cpu_amp` (float32 is faster on a CPU without bf16 units); either way only for the networks
        `amp_networks` names."""
        enabled = self.amp if device.type == "cuda" else device.type == "cpu" and self.cpu_amp
        enabled = enabled and self.amp_networks in ("both", network)
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)

    def discriminator_loss(self, discriminator: Callable, real: torch.Tensor, real_vector: torch.Tensor,
                           fake: torch.Tensor, fake_vector: torch.Tensor, joint: bool,
                           r1_weight: float = 1.0,
                           rng: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """D's loss on a real and a fake batch. joint: one forward of both batches (faster, and what DDP needs);
        never for a D with BatchNorm, whose statistics would mix real and fake. r1_weight: the R1 term's factor
        this step (lazy R1: 0 on most steps, r1_every on the others). rng: the stream the consistency term's
        transforms draw from (needed when it is on)."""
        batches, vectors = [real, fake], [real_vector, fake_vector]
        if self.consistency_transform is not None:  # the transformed copies go through D in the same forward(s)
            batches += [self.consistency_transform(real, rng), self.consistency_transform(fake, rng)]
            vectors += [real_vector, fake_vector]
        with self.autocast(real.device, "discriminator"):
            if joint:
                logits, classes = discriminator(torch.cat(batches), torch.cat(vectors))
                sizes = [len(batch) for batch in batches]
                outputs = list(zip(logits.split(sizes), classes.split(sizes) if classes is not None
                                   else [None] * len(sizes), strict=True))
            else:
                outputs = [discriminator(batch, vector) for batch, vector in zip(batches, vectors, strict=True)]
        (real_logits, real_class), (fake_logits, fake_class) = outputs[:2]
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        real_class, fake_class = _float(real_class), _float(fake_class)
        adversarial = self.adversarial.d(real_logits, fake_logits, self.label_smoothing)
        loss = adversarial
        metrics = {"d_adv": adversarial.item(), "d_real": torch.sigmoid(real_logits).mean().item(),
                   "d_fake": torch.sigmoid(fake_logits).mean().item()}
        if self.consistency_transform is not None:
            consistency = (consistency_penalty(real_logits, outputs[2][0].float())
                           + consistency_penalty(fake_logits, outputs[3][0].float()))
            loss = loss + self.consistency_weight * consistency
            metrics["consistency"] = consistency.item()
        if real_class is not None:
            auxiliary = (self.d_class_loss(real_class, real_vector, True)
                         + self.d_class_loss(fake_class, fake_vector, False))
            loss = loss + self.aux_weight * auxiliary
            metrics["aux_loss"] = 0.5 * auxiliary.item()
            metrics["aux_acc"] = (self.classifier_logits(real_class).argmax(1)
                                  == real_vector.argmax(1)).float().mean().item()
        if self.gp_lambda:
            loss = loss + self.gp_lambda * gradient_penalty(lambda x: discriminator(x, real_vector)[0], real, fake)
        if self.r1_gamma and r1_weight:
            loss = loss + 0.5 * self.r1_gamma * r1_weight * r1_penalty(real_logits, real)
        metrics["d_loss"] = loss.item()
        return loss, metrics

    def discriminator_side_loss(self, discriminator: Callable, images: torch.Tensor, label_vector: torch.Tensor,
                                real: bool, r1_weight: float = 1.0,
                                rng: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """D's loss on one kind of batch alone, real or fake (its terms of discriminator_loss, R1 with the real
        one, the consistency term of this kind): the Keras loops train D with one optimizer step on each."""
        with self.autocast(images.device, "discriminator"):
            logits, classes = discriminator(images, label_vector)
            transformed = (discriminator(self.consistency_transform(images, rng), label_vector)[0]
                           if self.consistency_transform is not None else None)
        logits, classes = logits.float(), _float(classes)
        adversarial = (self.adversarial.d_real(logits, self.label_smoothing) if real
                       else self.adversarial.d_fake(logits))
        loss = adversarial
        metrics = {"d_adv": adversarial.item(), "d_real" if real else "d_fake": torch.sigmoid(logits).mean().item()}
        if transformed is not None:
            consistency = consistency_penalty(logits, transformed.float())
            loss = loss + self.consistency_weight * consistency
            metrics["consistency"] = consistency.item()
        if classes is not None:
            auxiliary = self.d_class_loss(classes, label_vector, real)
            loss = loss + self.aux_weight * auxiliary
            metrics["aux_loss"] = auxiliary.item()
            if real:
                metrics["aux_acc"] = (self.classifier_logits(classes).argmax(1)
                                      == label_vector.argmax(1)).float().mean().item()
        if real and self.r1_gamma and r1_weight:
            loss = loss + 0.5 * self.r1_gamma * r1_weight * r1_penalty(logits, images)
        metrics["d_loss"] = loss.item()
        return loss, metrics

    def generator_loss(self, discriminator: Callable, fake: torch.Tensor, fake_vector: torch.Tensor,
                       noise: torch.Tensor | None = None, counted: int | None = None,
                       real: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """G's loss on a fake batch (which carries G's graph), D's weights frozen by the caller; its class term as
        g_class_loss says (ACGAN, TAC-GAN or ADC-GAN). With mode seeking the batch was made in pairs
        (make_fakes(paired=True)) from `noise` (N, z_dim), and G also pays weight / (ratio + 1e-5), MSGAN's form:
        the penalty grows without bound as the pairs' images coincide.
        counted (top-k training, top_k_count): the adversarial term averages over only the `counted` fakes with
        the highest logits, the ones D finds most real; None counts all. real (real images, their label vectors): the
        batch a relativistic loss pairs the fakes with (D's logits on it carry no gradient); with top-k such a loss
        counts the pairs whose fake D finds most real beside its partner."""
        with self.autocast(fake.device, "discriminator"):
            fake_logits, fake_class = discriminator(fake, fake_vector)
            real_logits = None
            if self.adversarial.relativistic:
                if real is None:
                    raise ValueError(f"the {self.adversarial_name} loss pairs G's fakes with real images: pass real")
                with torch.no_grad():
                    real_logits = paired_logits(discriminator(*real)[0].float(), len(fake_logits))
        fake_logits = fake_logits.float()
        if counted is not None and counted < len(fake_logits):
            score = fake_logits if real_logits is None else fake_logits - real_logits
            chosen = torch.topk(score, counted, sorted=False).indices
            fake_logits = fake_logits[chosen]
            real_logits = None if real_logits is None else real_logits[chosen]
        adversarial = self.adversarial.g(fake_logits, real_logits)
        loss = adversarial
        if fake_class is not None:
            loss = adversarial + self.aux_weight * self.g_class_loss(fake_class.float(), fake_vector)
        metrics = {"g_adv": adversarial.item()}
        if self.mode_seeking and noise is not None:
            ratio = mode_seeking_ratio(fake.float(), noise.float())
            loss = loss + self.mode_seeking / (ratio + 1e-5)
            metrics["mode_ratio"] = ratio.item()
        return loss, {"g_loss": loss.item(), **metrics}

    def update(self, state: TrainState, config: RunConfig, images: torch.Tensor,
               labels: torch.Tensor) -> dict[str, Any]:
        return gan_update(state, config, self, images, labels)

    def pictures(self, state: TrainState, config: RunConfig,
                 test_data: tuple[torch.Tensor, torch.Tensor] | None) -> dict[str, Any]:
        return {}

    @torch.no_grad()
    def held_out_losses(self, state: TrainState, config: RunConfig, images: torch.Tensor,
                        labels: torch.Tensor) -> dict[str, float]:
        """D's and G's losses on held-out real images and fresh fakes: eval mode, no smoothing or penalties, a
        private RNG (the training streams are untouched)."""
        t, m = config.train, config.model
        plain = Objective(config, held_out=True)
        rng = torch.Generator(device=images.device).manual_seed(t.seed + seeds.HELD_OUT)
        G, D = state.generator, state.partner
        G.eval(), D.eval()
        sums = {"d_loss": 0.0, "g_loss": 0.0, "aux_loss": 0.0}
        batches = max(1, min(t.test_batches, len(images) // t.batch_size))
        for index in range(batches):
            chosen = slice(index * t.batch_size, (index + 1) * t.batch_size)
            real, real_vector = from_uint8(images[chosen]), one_hot(labels[chosen], m.num_classes)
            z = sample_noise(len(real), m, rng, images.device)
            fake_vector = one_hot(torch.randint(0, m.num_classes, (len(real),), generator=rng, device=images.device),
                                  m.num_classes)
            fake = G(z, fake_vector)
            _, d_metrics = plain.discriminator_loss(D, real, real_vector, fake, fake_vector, joint=False)
            _, g_metrics = plain.generator_loss(D, fake, fake_vector, real=(real, real_vector))
            sums["d_loss"] += d_metrics["d_adv"]
            sums["g_loss"] += g_metrics["g_adv"]
            sums["aux_loss"] += d_metrics.get("aux_loss", 0.0)
        G.train(), D.train()
        return {key: value / batches for key, value in sums.items()}


def make_fakes(state: TrainState, config: RunConfig, count: int, with_grad: bool, generator: torch.nn.Module,
               objective: Objective, paired: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(images (count,1,28,28), label vectors (count,C), noise (count,z_dim)) for random classes, from the run's
    noise stream. paired: sample i and sample i + ceil(count/2) share a class (mode seeking's pairs)."""
    device = state.noise_rng.device  # the training device: build_state makes the noise stream there
    z = sample_noise(count, config.model, state.noise_rng, device)
    drawn = (count + 1) // 2 if paired else count
    labels = torch.randint(0, config.model.num_classes, (drawn,), generator=state.noise_rng, device=device)
    if paired:
        labels = labels.repeat(2)[:count]
    label_vector = one_hot(labels, config.model.num_classes)
    with torch.set_grad_enabled(with_grad), objective.autocast(device, "generator"):
        images = generator(z, label_vector)
    # a D outside autocast takes float32 only (with autocast on both, D's forward casts its input itself)
    return (images.float() if objective.amp_networks == "generator" else images), label_vector, z


def _optimize(optimizer: torch.optim.Optimizer, loss: torch.Tensor, skip: bool) -> None:
    optimizer.zero_grad(set_to_none=True)
    if not skip:
        loss.backward()
        optimizer.step()


def _split_d_update(state: TrainState, objective: Objective, discriminator: Callable, real: torch.Tensor,
                    real_vector: torch.Tensor, fake: torch.Tensor, fake_vector: torch.Tensor,
                    skip: bool, r1_weight: float) -> dict[str, float]:
    """One D update as two optimizer steps, on the real batch and then on the fake batch; the metrics of the two
    together, as discriminator_loss reports them."""
    real_loss, real_metrics = objective.discriminator_side_loss(discriminator, real, real_vector, real=True,
                                                                r1_weight=r1_weight, rng=state.noise_rng)
    _optimize(state.partner_opt, real_loss, skip)
    fake_loss, fake_metrics = objective.discriminator_side_loss(discriminator, fake, fake_vector, real=False,
                                                                rng=state.noise_rng)
    _optimize(state.partner_opt, fake_loss, skip)
    metrics = {**real_metrics, **fake_metrics, "d_adv": real_metrics["d_adv"] + fake_metrics["d_adv"],
               "d_loss": real_metrics["d_loss"] + fake_metrics["d_loss"]}
    if "consistency" in real_metrics:
        metrics["consistency"] = real_metrics["consistency"] + fake_metrics["consistency"]
    if "aux_loss" in real_metrics:
        metrics["aux_loss"] = 0.5 * (real_metrics["aux_loss"] + fake_metrics["aux_loss"])
        metrics["aux_acc"] = real_metrics["aux_acc"]
    return metrics


def gan_update(state: TrainState, config: RunConfig, objective: Objective, images: torch.Tensor,
               labels: torch.Tensor) -> dict[str, Any]:
    """d_steps updates of D, then one of G. D's phase never updates G (its fakes are detached or made without a
    graph); G's phase freezes D's weights. Under DDP each side's gradient-carrying forward goes through its DDP
    wrapper (state.generator_train / state.partner_train), which averages gradients across ranks in backward;
    forwards that need no gradient use the module itself."""
    t = config.train
    G, D = state.generator, state.partner
    paused = state.balance.paused if t.balance else ""
    g_forward = state.generator_train if state.generator_train is not None and paused != "G" else G
    d_forward = state.partner_train if state.partner_train is not None and paused != "D" else D
    # One forward for real and fake together: under DDP one forward per backward is what the wrapper expects, and
    # on one process larger products run faster. A D with BatchNorm keeps them apart (its statistics would mix), as
    # does a minibatch standard deviation whose groups would straddle the real and the fake half.
    mbstd = config.model.d_mbstd
    joint = state.world > 1 or (t.d_joint_forward and config.model.d_norm != "batch"
                                and not (mbstd and t.batch_size % mbstd))
    g_batch = t.batch_size * t.g_batch_multiplier
    paired = bool(objective.mode_seeking)
    shared = make_fakes(state, config, g_batch, True, g_forward, objective, paired) if t.reuse_fake else None

    # lazy R1 (Karras et al. 2020): the penalty on every r1_every-th step only, weighted to keep its strength
    r1_weight = float(t.r1_every) if state.step % t.r1_every == 0 else 0.0
    D.requires_grad_(True)
    for _ in range(t.d_steps):
        real, real_labels = next_batch(state, images, labels, t.batch_size)
        real_vector = one_hot(real_labels, config.model.num_classes)
        if shared is not None:
            fake, fake_vector = shared[0][:t.batch_size].detach(), shared[1][:t.batch_size]
        else:
            fake, fake_vector, _ = make_fakes(state, config, t.batch_size, False, G, objective)
        real.requires_grad_(objective.needs_real_gradient and bool(r1_weight))
        if t.d_split_steps:
            metrics = _split_d_update(state, objective, objective.augmented(d_forward, state.noise_rng), real,
                                      real_vector, fake, fake_vector, skip=paused == "D", r1_weight=r1_weight)
        else:
            d_loss, metrics = objective.discriminator_loss(objective.augmented(d_forward if joint else D,
                                                                               state.noise_rng),
                                                           real, real_vector, fake, fake_vector, joint, r1_weight,
                                                           rng=state.noise_rng)
            _optimize(state.partner_opt, d_loss, skip=paused == "D")
        state.images_seen += t.batch_size * state.world

    D.requires_grad_(False)  # G's phase: D's weights get no gradient
    fake, fake_vector, noise = shared if shared is not None else make_fakes(state, config, g_batch, True, g_forward,
                                                                            objective, paired)
    counted = top_k_count(len(fake), state.images_seen, t.top_k_min, t.top_k_half_life) if t.top_k_min < 1 else None
    g_loss, g_metrics = objective.generator_loss(objective.augmented(D, state.noise_rng), fake, fake_vector, noise,
                                                 counted, real=(real.detach(), real_vector))
    _optimize(state.generator_opt, g_loss, skip=paused == "G")
    D.requires_grad_(True)
    return {**metrics, **g_metrics, "paused": paused}


# the objective of each kind of model, by the name the kind declares (digitgan/kinds.py)
OBJECTIVES: dict[str, type[Objective] | type[AutoencoderObjective]] = {"adversarial": Objective,
                                                                        "autoencoder": AutoencoderObjective}
check_registry("objective", OBJECTIVES, OBJECTIVE_NAMES)


def objective_for(config: RunConfig) -> Objective | AutoencoderObjective:
    """The objective of a run, as its model's kind declares (the GAN objective, or the autoencoders')."""
    return OBJECTIVES[kind_of(config.model.kind).objective](config)
