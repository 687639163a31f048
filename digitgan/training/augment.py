"""Differentiable augmentation of D's input (DiffAugment, Zhao et al. 2020): the same kind of random transform is
applied to every image D sees — real and fake, in D's step and in G's — so that D cannot memorise a small training
set, while G, whose images are transformed only on their way into D, still learns the untransformed distribution.
Every transform is a differentiable function of the image (G's gradient flows through it) and draws its randomness
from the run's noise stream (checkpointed: a resumed run draws the same transforms).

Images are (N, 1, 28, 28) float in [-1, 1]; the background is -1, and what a transform uncovers is background.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from digitgan.choices import AUGMENT_NAMES, check_registry

SIDE = 28
BACKGROUND = -1.0


def translate(images: torch.Tensor, rng: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Each image moved by whole pixels, independently in y and x, up to ratio * 28 (3 px at 0.125)."""
    shift = max(1, int(SIDE * ratio))
    count, device = len(images), images.device
    dy = torch.randint(-shift, shift + 1, (count, 1, 1), generator=rng, device=device)
    dx = torch.randint(-shift, shift + 1, (count, 1, 1), generator=rng, device=device)
    padded = F.pad(images, (shift,) * 4, value=BACKGROUND)
    rows = torch.arange(SIDE, device=device).view(1, SIDE, 1) - dy + shift
    cols = torch.arange(SIDE, device=device).view(1, 1, SIDE) - dx + shift
    batch = torch.arange(count, device=device).view(count, 1, 1)
    return padded[batch, 0, rows.expand(count, SIDE, SIDE), cols.expand(count, SIDE, SIDE)].unsqueeze(1)


def cutout(images: torch.Tensor, rng: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Each image with a square of ratio * 28 pixels a side (14 at 0.5), centred anywhere, set to background."""
    size = round(SIDE * ratio)
    count, device = len(images), images.device
    centre_y = torch.randint(0, SIDE, (count, 1, 1), generator=rng, device=device)
    centre_x = torch.randint(0, SIDE, (count, 1, 1), generator=rng, device=device)
    top, left = centre_y - size // 2, centre_x - size // 2
    rows = torch.arange(SIDE, device=device).view(1, SIDE, 1)
    cols = torch.arange(SIDE, device=device).view(1, 1, SIDE)
    inside = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    keep = (~inside).unsqueeze(1).to(images.dtype)
    return images * keep + BACKGROUND * (1 - keep)


Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _chain(*transforms: Augment) -> Augment:
    def augment(images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        for transform in transforms:
            images = transform(images, rng)
        return images
    return augment


# D's input augmentation by name (train.d_augment); "none" leaves D's input as it is
AUGMENTS: dict[str, Augment | None] = {"none": None, "translation": _chain(translate),
                                       "translation-cutout": _chain(translate, cutout)}
check_registry("d_augment", AUGMENTS, AUGMENT_NAMES)
