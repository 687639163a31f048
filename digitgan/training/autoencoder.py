"""Autoencoders trained like any model (digitgan/kinds.py: vae and ae): the encoder sits where a GAN's D sits, the
decoder is the generator, and the exported model is the decoder, so every command that draws works on them.

vae (Kingma & Welling 2014): q(z | x, c) = N(mean, exp(log_variance)), z sampled by reparameterisation; the loss
per image is the Bernoulli reconstruction term (binary cross-entropy over the 784 pixels read as [0, 1]
intensities) plus kl_weight x KL(q || N(0, I)). With the label vector fed to both networks (g_cond = concat,
d_cond = concat) it is the conditional VAE. ae: the plain autoencoder of the same shape: z = mean, no KL term, so
nothing shapes its latent space, and sampling z ~ N(0, I) there shows what that costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from digitgan.images import from_uint8, make_grid, to_uint8
from digitgan.kinds import kind_of
from digitgan.models import one_hot
from digitgan.training.state import next_batch

if TYPE_CHECKING:
    from digitgan.config import RunConfig
    from digitgan.training.state import TrainState


def reconstruction_loss(images: torch.Tensor, reconstructions: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy summed over pixels, mean over images; both (N,1,28,28) in [-1, 1]."""
    target = (images + 1) / 2
    predicted = ((reconstructions + 1) / 2).clamp(1e-6, 1 - 1e-6)
    return F.binary_cross_entropy(predicted, target, reduction="none").flatten(1).sum(1).mean()


def kl_divergence(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_variance)) || N(0, I)) summed over latent dimensions, mean over images."""
    return (0.5 * (mean.pow(2) + log_variance.exp() - 1 - log_variance)).sum(1).mean()


class AutoencoderObjective:
    """The (variational) autoencoder's loss and update: the same shape as the GAN objective (step.TrainingObjective)."""

    losses = ("loss",)
    rates: tuple[tuple[str, str], ...] = ()
    progress = (("loss", "loss", ".2f"), ("reconstruction", "reconstruction", ".2f"), ("KL", "kl", ".2f"))
    table = (("reconstruction (BCE per image)", "reconstruction", "reconstruction"), ("KL per image", "kl", "kl"),
             ("loss", "loss", "loss"))

    def __init__(self, config: RunConfig) -> None:
        self.variational = kind_of(config.model.kind).variational
        self.kl_weight = config.train.kl_weight if self.variational else 0.0

    def loss(self, encoder: torch.nn.Module, decoder: torch.nn.Module, images: torch.Tensor,
             label_vector: torch.Tensor, noise: torch.Generator | None) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss of one batch; noise: the generator for the reparameterisation (None: use the mean, as the ae does
        and as held-out reconstructions do)."""
        mean, log_variance = encoder(images, label_vector)
        z = mean
        if self.variational and noise is not None:
            epsilon = torch.randn(mean.shape, generator=noise, device=mean.device)
            z = mean + (0.5 * log_variance).exp() * epsilon
        reconstruction = reconstruction_loss(images, decoder(z, label_vector))
        kl = kl_divergence(mean, log_variance) if self.variational else torch.zeros((), device=images.device)
        loss = reconstruction + self.kl_weight * kl
        return loss, {"loss": loss.item(), "reconstruction": reconstruction.item(), "kl": kl.item()}

    def update(self, state: TrainState, config: RunConfig, images: torch.Tensor,
               labels: torch.Tensor) -> dict[str, Any]:
        """One update of encoder and decoder together (each with its optimizer)."""
        t = config.train
        real, real_labels = next_batch(state, images, labels, t.batch_size)
        # under DDP the gradient-carrying forwards go through the wrappers (state.partner_train wraps the encoder)
        encoder = state.partner_train if state.partner_train is not None else state.partner
        decoder = state.generator_train if state.generator_train is not None else state.generator
        loss, metrics = self.loss(encoder, decoder, real, one_hot(real_labels, config.model.num_classes),
                                  state.noise_rng)
        state.generator_opt.zero_grad(set_to_none=True)
        state.partner_opt.zero_grad(set_to_none=True)
        loss.backward()
        state.generator_opt.step()
        state.partner_opt.step()
        state.images_seen += t.batch_size * state.world
        return metrics

    def pictures(self, state: TrainState, config: RunConfig,
                 test_data: tuple[torch.Tensor, torch.Tensor] | None) -> dict[str, np.ndarray]:
        """reconstructions.png: rows of held-out digits (two of each class), each above what the autoencoder (its
        decoder's EMA) makes of it."""
        if test_data is None:
            return {}
        images, labels = test_data
        classes = config.model.num_classes
        chosen = torch.cat([torch.nonzero(labels == c).flatten()[:2] for c in range(classes)])
        originals = from_uint8(images[chosen])
        rebuilt = reconstructions(state.partner, state.ema, originals, one_hot(labels[chosen], classes))
        rows = [to_uint8(originals), to_uint8(rebuilt)]
        half = len(chosen) // 2
        return {"reconstructions.png": make_grid(np.concatenate([rows[0][:half], rows[1][:half], rows[0][half:],
                                                                 rows[1][half:]]), columns=half)}

    @torch.no_grad()
    def held_out_losses(self, state: TrainState, config: RunConfig, images: torch.Tensor,
                        labels: torch.Tensor) -> dict[str, float]:
        """Losses on held-out images with z = the posterior mean, eval mode (no randomness at all)."""
        t = config.train
        encoder, decoder = state.partner.eval(), state.generator.eval()
        sums: dict[str, float] = {}
        batches = max(1, min(t.test_batches, len(images) // t.batch_size))
        for index in range(batches):
            chosen = slice(index * t.batch_size, (index + 1) * t.batch_size)
            _, metrics = self.loss(encoder, decoder, from_uint8(images[chosen]),
                                   one_hot(labels[chosen], config.model.num_classes), None)
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value
        encoder.train(), decoder.train()
        return {key: value / batches for key, value in sums.items()}


@torch.no_grad()
def reconstructions(encoder: torch.nn.Module, decoder: torch.nn.Module, images: torch.Tensor,
                    label_vector: torch.Tensor) -> torch.Tensor:
    """Decoder(posterior mean) of (N,1,28,28) images in [-1, 1], eval mode: what the autoencoder makes of them."""
    was = encoder.training, decoder.training
    encoder.eval(), decoder.eval()
    mean, _ = encoder(images, label_vector)
    out = decoder(mean, label_vector)
    encoder.train(was[0]), decoder.train(was[1])
    return out
