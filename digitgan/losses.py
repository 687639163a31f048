"""GAN losses by name, as the literature defines them; logits are D's raw adversarial outputs (N,).

Each loss has a D side (real_logits, fake_logits) -> scalar and a G side (fake_logits) -> scalar.
`bce` is the non-saturating loss of Goodfellow et al. (G maximises log D(G(z))), written with softplus
so that it is exactly binary cross-entropy on sigmoid(logits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Loss:
    d: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
    g: Callable[[torch.Tensor], torch.Tensor]
    gradient_penalty: bool = False


def _bce_d(real: torch.Tensor, fake: torch.Tensor, smoothing: float) -> torch.Tensor:
    target = torch.full_like(real, 1.0 - smoothing)
    return (F.binary_cross_entropy_with_logits(real, target)
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def _hinge_d(real: torch.Tensor, fake: torch.Tensor, smoothing: float) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _lsgan_d(real: torch.Tensor, fake: torch.Tensor, smoothing: float) -> torch.Tensor:
    return 0.5 * ((real - (1.0 - smoothing)) ** 2).mean() + 0.5 * (fake ** 2).mean()


def _wgan_d(real: torch.Tensor, fake: torch.Tensor, smoothing: float) -> torch.Tensor:
    return fake.mean() - real.mean()


LOSSES: dict[str, Loss] = {
    "bce": Loss(_bce_d, lambda fake: F.softplus(-fake).mean()),
    "hinge": Loss(_hinge_d, lambda fake: -fake.mean()),
    "lsgan": Loss(_lsgan_d, lambda fake: 0.5 * ((fake - 1.0) ** 2).mean()),
    "wgan-gp": Loss(_wgan_d, lambda fake: -fake.mean(), gradient_penalty=True),
}


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"unknown loss '{name}'; choose from {', '.join(LOSSES)}")
    return LOSSES[name]


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
