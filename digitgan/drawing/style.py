"""Style you can measure and steer: properties of a drawn digit from its pixels, and directions in the noise that
move them.

Properties (images (N, 28, 28) uint8, ink bright on dark, as the generator draws):
- slant: how far the strokes lean right, -mu11 / mu02 of the ink's central image moments (y grows downwards, so a
  stroke whose top lies right of its bottom has a negative mu11); 0 for upright;
- thickness: stroke width in pixels, ink area over half the ink's boundary length (for a stroke of width w and length
  L, the area is about w·L and the boundary about 2·L);
- width: the ink's horizontal spread, sqrt(mu20 / mu00), in pixels.

The noise is isotropic, so its own principal directions mean nothing; a style direction is found by regressing a
property (z-scored within each class, so the class's own shape does not count) on z over many samples, and taking
the unit vector of the coefficients. `check_directions` measures whether moving along it raises the property.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from digitgan.config import RunConfig
from digitgan.drawing.sampling import generate
from digitgan.models import one_hot, sample_noise

PROPERTIES = ("slant", "thickness", "width")
INK_LEVEL = 128  # a pixel is ink above mid-grey (for area and boundary)


def image_properties(images: np.ndarray) -> dict[str, np.ndarray]:
    """{property: (N,) float64} of (N, 28, 28) uint8 images (see the module docstring); NaN for an empty image."""
    ink = images.astype(np.float64) / 255.0
    mass = ink.sum(axis=(1, 2))
    ys, xs = np.mgrid[0:images.shape[1], 0:images.shape[2]].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (ink * xs).sum(axis=(1, 2)) / mass
        cy = (ink * ys).sum(axis=(1, 2)) / mass
        dx, dy = xs[None] - cx[:, None, None], ys[None] - cy[:, None, None]
        mu20, mu02, mu11 = ((ink * dx * dx).sum(axis=(1, 2)), (ink * dy * dy).sum(axis=(1, 2)),
                            (ink * dx * dy).sum(axis=(1, 2)))
        solid = images >= INK_LEVEL
        padded = np.pad(solid, ((0, 0), (1, 1), (1, 1)))
        interior = (padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:])
        boundary = (solid & ~interior).sum(axis=(1, 2)).astype(np.float64)
        area = solid.sum(axis=(1, 2)).astype(np.float64)
        return {"slant": -mu11 / mu02, "thickness": area / (boundary / 2.0), "width": np.sqrt(mu20 / mass)}


def zscore_within_class(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """values standardised within each class (mean 0, std 1 per class; NaN stays NaN)."""
    out = np.full_like(values, np.nan, dtype=np.float64)
    for label in np.unique(labels):
        chosen = labels == label
        part = values[chosen]
        std = np.nanstd(part)
        out[chosen] = (part - np.nanmean(part)) / (std if std > 0 else 1.0)
    return out


@dataclass
class StyleDirections:
    """Unit directions in the noise (one per property) and the samples they were fitted on."""
    directions: dict[str, np.ndarray]   # property -> (z_dim,) float64, unit length
    correlation: dict[str, float]       # property -> Pearson r of the fit (z-scored property vs z·direction)
    samples: int


@torch.no_grad()
def fit_directions(generator: torch.nn.Module, config: RunConfig, samples: int = 10000,
                   seed: int = 0) -> StyleDirections:
    """Regress each property (z-scored within class) on z over `samples` (noise, class) pairs drawn from `seed`."""
    classes, rng = config.model.num_classes, torch.Generator().manual_seed(seed)
    z = sample_noise(samples, config.model, rng)
    labels = torch.randint(0, classes, (samples,), generator=rng)
    images = generate(generator, config, one_hot(labels, classes), z=z)
    properties = image_properties(images)
    z_np, labels_np = z.double().numpy(), labels.numpy()
    directions, correlation = {}, {}
    for name in PROPERTIES:
        target = zscore_within_class(properties[name], labels_np)
        keep = np.isfinite(target)
        design = np.concatenate([z_np[keep], np.ones((int(keep.sum()), 1))], axis=1)
        coefficients, *_ = np.linalg.lstsq(design, target[keep], rcond=None)
        direction = coefficients[:-1] / np.linalg.norm(coefficients[:-1])
        directions[name] = direction
        correlation[name] = float(np.corrcoef(z_np[keep] @ direction, target[keep])[0, 1])
    return StyleDirections(directions, correlation, samples)


@torch.no_grad()
def check_directions(generator: torch.nn.Module, config: RunConfig, directions: dict[str, np.ndarray],
                     step: float, pairs: int = 200, seed: int = 1) -> dict[str, float]:
    """{property: the share of `pairs` fresh (noise, class) pairs whose property rises when z moves `step` along
    the property's direction} (a slider works when this is at least 0.9)."""
    classes, rng = config.model.num_classes, torch.Generator().manual_seed(seed)
    z = sample_noise(pairs, config.model, rng)
    labels = one_hot(torch.randint(0, classes, (pairs,), generator=rng), classes)
    before = image_properties(generate(generator, config, labels, z=z))
    shares = {}
    for name, direction in directions.items():
        moved = z + step * torch.as_tensor(direction, dtype=z.dtype)
        after = image_properties(generate(generator, config, labels, z=moved))[name]
        shares[name] = float(np.mean(after > before[name]))
    return shares
