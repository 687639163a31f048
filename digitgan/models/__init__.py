"""Model registry: build G and D from a ModelConfig; noise and label helpers shared by train/sample/explore."""

from __future__ import annotations

import torch

from digitgan.config import ModelConfig
from digitgan.models.conditioning import D_CONDITIONING, G_CONDITIONING
from digitgan.models.discriminator import Discriminator
from digitgan.models.generator import G_BODIES, Generator

__all__ = ["D_CONDITIONING", "G_BODIES", "G_CONDITIONING", "Discriminator", "Generator", "build_discriminator",
           "build_generator", "is_conditional", "one_hot", "sample_noise"]


def build_generator(config: ModelConfig) -> Generator:
    return Generator(config)


def build_discriminator(config: ModelConfig) -> Discriminator:
    return Discriminator(config)


def is_conditional(config: ModelConfig) -> bool:
    return config.g_cond != "none"


def sample_noise(count: int, config: ModelConfig, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """(count, z_dim) float32: standard normal, or uniform in [-1, 1) (the Keras ACGAN's noise)."""
    if config.noise == "uniform":
        return torch.rand(count, config.z_dim, generator=generator, device=device) * 2.0 - 1.0
    if config.noise == "normal":
        return torch.randn(count, config.z_dim, generator=generator, device=device)
    raise ValueError(f"unknown noise '{config.noise}'; choose normal or uniform")


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """labels (N,) int -> (N, num_classes) float32 one-hot label vectors."""
    return torch.nn.functional.one_hot(labels, num_classes).to(torch.float32)
