"""Drawing with a trained generator: sample grids now; write, interpolate and clock build on these."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from digitgan.config import RunConfig
from digitgan.errors import UserError
from digitgan.images import make_grid, save_png, to_uint8
from digitgan.models import is_conditional, one_hot, sample_noise


@torch.no_grad()
def generate(generator: torch.nn.Module, config: RunConfig, label_vector: torch.Tensor,
             z: torch.Tensor | None = None, seed: int = 0, batch_size: int = 1024) -> np.ndarray:
    """label_vector: (N, C) float -> (N, 28, 28) uint8. Noise from `seed` unless z (N, z_dim) is given."""
    device = next(generator.parameters()).device
    if z is None:
        z = sample_noise(len(label_vector), config.model, torch.Generator(device=device).manual_seed(seed), device)
    outputs = [generator(z[i:i + batch_size].to(device), label_vector[i:i + batch_size].to(device)).float().cpu()
               for i in range(0, len(label_vector), batch_size)]
    return to_uint8(torch.cat(outputs).numpy())


def parse_digit(text: str, num_classes: int) -> int | None:
    """'all' -> None; '7' -> 7; anything else is a UserError."""
    if text == "all":
        return None
    if not text.isdigit() or int(text) >= num_classes:
        raise UserError(f"--digit must be 0-{num_classes - 1} or 'all', got '{text}'")
    return int(text)


def sample_grid(generator: torch.nn.Module, config: RunConfig, digit: int | None, count: int, seed: int,
                columns: int | None = None) -> np.ndarray:
    """A grid picture (H, W) uint8: `count` samples of one digit, or C rows x `count` columns for all."""
    if count < 1:
        raise UserError("-n must be at least 1")
    classes = config.model.num_classes
    if digit is not None and not is_conditional(config.model):
        raise UserError(f"this model ({config.preset}) is unconditional: it cannot be asked for a digit; "
                        "use --digit all")
    if digit is None:
        labels = torch.arange(classes).repeat_interleave(count)
        columns = count
    else:
        labels = torch.full((count,), digit)
        columns = columns or int(np.ceil(np.sqrt(count)))
    images = generate(generator, config, one_hot(labels, classes), seed=seed)
    return make_grid(images, columns=columns)


def save_grid(picture: np.ndarray, out: Path, scale: int = 2) -> Path:
    if out.suffix.lower() != ".png":
        raise UserError(f"--out must end in .png, got '{out}'")
    return save_png(out, picture, scale=scale)
