"""Drawing digits with a generator, and the conversions between what networks see and what files hold.

Images in networks: (N, 1, 28, 28) float in [-1, 1]. Images in files and data sets: (N, 28, 28) uint8 in [0, 255].
Label vectors: (N, C) float; a one-hot row asks for one class, a mix of two rows morphs between classes.
"""

from __future__ import annotations

import numpy as np
import torch

from digitgan.config import RunConfig
from digitgan.errors import UserError
from digitgan.models import is_conditional, one_hot, sample_noise

GRID_SEED = 1234  # the fixed noise of the per-epoch training grids, so that frames compare


def to_uint8(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """images: (N,1,H,W) or (N,H,W) float in [-1, 1] -> (N,H,W) uint8 in [0, 255]."""
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu().numpy()
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:
        images = images[:, 0]
    return np.rint((images.clip(-1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def from_uint8(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N,28,28) uint8 -> (N,1,28,28) float32 in [-1, 1], on the input's device (the input is not modified)."""
    return torch.as_tensor(images).to(torch.float32, copy=True).div_(127.5).sub_(1.0).unsqueeze(1)


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


def make_grid(images: np.ndarray, columns: int, padding: int = 2, background: int = 0) -> np.ndarray:
    """Tile (N,H,W) uint8 images row-major into one (rows*(H+p)+p, columns*(W+p)+p) uint8 picture."""
    count, height, width = images.shape
    rows = max(1, -(-count // columns))
    canvas = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding),
                     background, dtype=np.uint8)
    for index in range(count):
        row, col = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        canvas[top:top + height, left:left + width] = images[index]
    return canvas


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
    if noise_per_column and is_conditional(config.model):
        device = next(generator.parameters()).device
        z = sample_noise(per_class, config.model, torch.Generator(device=device).manual_seed(seed), device)
        z = z.repeat(classes, 1)
    images = generate(generator, config, one_hot(labels, classes), z=z, seed=seed)
    return make_grid(images, columns=per_class)


def digit_grid(generator: torch.nn.Module, config: RunConfig, digit: int, count: int, seed: int) -> np.ndarray:
    """A square-ish grid picture of `count` samples of one class."""
    if count < 1:
        raise UserError(f"a grid needs at least 1 sample, got {count}")
    if not is_conditional(config.model):
        raise UserError(f"this model ({config.preset}) is unconditional: it cannot be asked for a digit")
    if not 0 <= digit < config.model.num_classes:
        raise UserError(f"digit {digit} is not a class of this model (0-{config.model.num_classes - 1})")
    images = generate(generator, config, one_hot(torch.full((count,), digit), config.model.num_classes), seed=seed)
    return make_grid(images, columns=int(np.ceil(np.sqrt(count))))
