"""The hand encoder: E(image, label_vector) -> z, the noise with which the generator would draw that image as that
class. One forward pass instead of an optimisation (digitgan.drawing.hand trains it and refines its answer); small
enough to run in the offline page."""

from __future__ import annotations

import torch
from torch import nn

WIDTH = 16
HIDDEN = 256


class HandEncoder(nn.Module):
    """images (N,1,28,28) float in [-1, 1], label_vector (N, classes) -> z (N, z_dim)."""

    def __init__(self, z_dim: int, classes: int, width: int = WIDTH) -> None:
        super().__init__()
        self.z_dim, self.classes, self.width = z_dim, classes, width
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),            # 14x14
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),    # 7x7
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.LeakyReLU(0.2),  # 4x4
            nn.Flatten())
        self.head = nn.Sequential(nn.Linear(4 * width * 16 + classes, HIDDEN), nn.LeakyReLU(0.2),
                                  nn.Linear(HIDDEN, z_dim))

    def forward(self, images: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.body(images), label_vector], dim=1))
