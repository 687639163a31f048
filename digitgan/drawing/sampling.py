"""Drawing digits with a generator: a batch for label vectors, a grid per class or of one digit.

Label vectors: (N, C) float; a one-hot row asks for one class, a mix of two rows morphs between classes. Pictures
come back as uint8 (digitgan/images.py holds the conversions).
"""

from __future__ import annotations

import numpy as np
import torch

from digitgan.config import RunConfig
from digitgan.errors import UserError
from digitgan.images import make_grid, to_uint8
from digitgan.models import one_hot, sample_noise

GRID_SEED = 1234  # the fixed noise of the per-epoch training grids, so that frames compare


def label_mix(start: int, end: int, t: float | torch.Tensor, num_classes: int) -> torch.Tensor:
    """Label vectors (1 - t)·e_start + t·e_end: (C,) for a float t, (T, C) for t of shape (T,)."""
    eye = torch.eye(num_classes)
    if isinstance(t, torch.Tensor):
        return (1 - t)[:, None] * eye[start] + t[:, None] * eye[end]
    return (1 - t) * eye[start] + t * eye[end]


@torch.no_grad()
def generate(generator: torch.nn.Module, config: RunConfig, label_vector: torch.Tensor,
             z: torch.Tensor | None = None, seed: int = 0, batch_size: int = 1024) -> np.ndarray:
    """label_vector: (N, C) float -> (N, 28, 28) uint8. Noise from `seed` unless z (N, z_dim) is given."""
    device = next(generator.parameters()).device
    if z is None:
        z = sample_noise(len(label_vector), config.model, torch.Generator(device=device).manual_seed(seed), device)
    was_training = generator.training
    generator.eval()
    outputs = [generator(z[i:i + batch_size].to(device), label_vector[i:i + batch_size].to(device)).float().cpu()
               for i in range(0, len(label_vector), batch_size)]
    generator.train(was_training)
    return to_uint8(torch.cat(outputs))


def class_grid(generator: torch.nn.Module, config: RunConfig, per_class: int, seed: int,
               noise_per_column: bool = False) -> np.ndarray:
    """A picture with one row per class and `per_class` columns (an unconditional model: C x per_class samples).

    noise_per_column: every row uses the same noise vector in a column (the training grids: rows then differ only
    by the class asked for); otherwise every cell draws its own noise (`digitgan sample --digit all`).
    """
    if per_class < 1:
        raise UserError(f"a grid needs at least 1 sample per class, got {per_class}")
    classes = config.model.num_classes
    labels = torch.arange(classes).repeat_interleave(per_class)
    z = None
    if noise_per_column and config.model.conditional:
        device = next(generator.parameters()).device
        z = sample_noise(per_class, config.model, torch.Generator(device=device).manual_seed(seed), device)
        z = z.repeat(classes, 1)
    images = generate(generator, config, one_hot(labels, classes), z=z, seed=seed)
    return make_grid(images, columns=per_class)


def digit_grid(generator: torch.nn.Module, config: RunConfig, digit: int, count: int, seed: int) -> np.ndarray:
    """A square-ish grid picture of `count` samples of one class."""
    if count < 1:
        raise UserError(f"a grid needs at least 1 sample, got {count}")
    if not config.model.conditional:
        raise UserError(f"this model ({config.preset}) is unconditional: it cannot be asked for a digit")
    if not 0 <= digit < config.model.num_classes:
        raise UserError(f"digit {digit} is not a class of this model (0-{config.model.num_classes - 1})")
    images = generate(generator, config, one_hot(torch.full((count,), digit), config.model.num_classes), seed=seed)
    return make_grid(images, columns=int(np.ceil(np.sqrt(count))))
