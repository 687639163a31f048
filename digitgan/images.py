"""The conversions between what networks see and what files hold, and the grid every picture is tiled on.

Images in networks: (N, 1, 28, 28) float in [-1, 1]. Images in files and data sets: (N, 28, 28) uint8 in [0, 255].
"""

from __future__ import annotations

import numpy as np
import torch


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
