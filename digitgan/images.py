"""Image grids and PNG/GIF output with Pillow (no torchvision)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def to_uint8(images: np.ndarray) -> np.ndarray:
    """images: (N,1,H,W) or (N,H,W) float in [-1, 1] -> (N,H,W) uint8 in [0, 255]."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:
        images = images[:, 0]
    return np.rint((images.clip(-1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


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


def _atomic_target(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)


def save_png(path: str | Path, picture: np.ndarray, scale: int = 1) -> Path:
    """Save a (H,W) uint8 array as a grayscale PNG, optionally enlarged by an integer factor."""
    from PIL import Image

    path = Path(path)
    image = Image.fromarray(np.ascontiguousarray(picture), mode="L")
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    fd, tmp = _atomic_target(path)
    os.close(fd)
    try:
        image.save(tmp, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
