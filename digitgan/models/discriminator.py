"""Discriminators: features (conv stages or the flat image) -> [label injected] -> dense -> heads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from digitgan.models.conditioning import D_CONDITIONING
from digitgan.models.thin_conv import ThinConv2d

if TYPE_CHECKING:
    from digitgan.config import ModelConfig

D_BODIES = {"conv": "convolution stages (d_stages)", "mlp": "the flat image into dense layers"}
D_POOLS = {"flatten": nn.Identity, "gap": lambda: nn.AdaptiveAvgPool2d(1)}
D_NORMS = {"none": lambda channels: None, "batch": nn.BatchNorm2d}


class Discriminator(nn.Module):
    """D(images: (N,1,28,28) in [-1,1], label_vector: (N,C)) -> (adversarial logits (N,), class logits (N,C) | None)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.cond = D_CONDITIONING[config.d_cond]
        sn = spectral_norm if config.spectral_norm else (lambda module: module)

        layers: list[nn.Module] = []
        channels = 1
        if config.d_body == "conv":
            for out_channels, kernel, stride in config.d_stages:
                layers.append(sn(ThinConv2d(channels, out_channels, kernel, stride, padding=(kernel - 1) // 2)))
                norm = D_NORMS[config.d_norm](out_channels)
                if norm is not None:
                    layers.append(norm)
                layers.append(nn.LeakyReLU(0.2))
                if config.d_dropout:
                    layers.append(nn.Dropout(config.d_dropout))
                channels = out_channels
        layers.append(D_POOLS[config.d_pool]() if config.d_body == "conv" else nn.Identity())
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            width = self.features(torch.zeros(1, 1, 28, 28)).shape[1]
        if self.cond.inject:
            width += config.num_classes
        dense: list[nn.Module] = []
        for hidden in config.d_dense:
            dense += [sn(nn.Linear(width, hidden)), nn.LeakyReLU(0.2)]
            if config.d_dropout:
                dense.append(nn.Dropout(config.d_dropout))
            width = hidden
        self.dense = nn.Sequential(*dense)
        self.adversarial = sn(nn.Linear(width, 1))
        self.projection = sn(nn.Linear(config.num_classes, width, bias=False)) if self.cond.project else None
        self.classifier = nn.Linear(width, config.num_classes) if self.cond.aux else None

    def forward(self, images: torch.Tensor, label_vector: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        features = self.features(images)
        if self.cond.inject:
            features = torch.cat([features, label_vector], dim=1)
        features = self.dense(features)
        logits = self.adversarial(features).squeeze(1)
        if self.projection is not None:
            logits = logits + (self.projection(label_vector) * features).sum(dim=1)
        class_logits = self.classifier(features) if self.classifier is not None else None
        return logits, class_logits
