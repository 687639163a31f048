"""Discriminators: features (conv stages or the flat image) -> [label injected] -> dense -> heads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from digitgan.models.conditioning import D_CONDITIONING
from digitgan.models.thin_conv import ThinConv2d

if TYPE_CHECKING:
    from digitgan.config import ModelConfig

D_BODIES = {"conv": "convolution stages (d_stages)", "mlp": "the flat image into dense layers",
            "resnet": "residual blocks (d_stages: channels, odd kernel, 2 = average-pooled), SNGAN's"}
D_POOLS = {"flatten": nn.Identity, "gap": lambda: nn.AdaptiveAvgPool2d(1)}
D_NORMS = {"none": lambda channels: None, "batch": nn.BatchNorm2d}


def feature_width(config: ModelConfig) -> int:
    """The width of FeatureStack.features' output for (N, 1, 28, 28) images, from the stages' arithmetic (a conv of
    kernel k, stride s, padding (k - 1) // 2 maps size n to (n + 2 * padding - k) // s + 1) rather than a probe
    forward pass, which on the meta device (models.check_buildable) would load torch's compiler stack.
    ValueError when a stage's kernel is larger than its padded input, or a residual stage's kernel is even (its
    convolutions must keep the size for the sum)."""
    if config.d_body == "mlp":
        return 28 * 28
    size, channels = 28, 1
    for index, (out_channels, kernel, stride) in enumerate(config.d_stages):
        if config.d_body == "resnet":
            if kernel % 2 == 0 or kernel > size:
                raise ValueError(f"d_stages[{index}]: a residual stage needs an odd kernel no larger than its "
                                 f"{size}x{size} input, not {kernel}")
            size, channels = size // stride, out_channels
            continue
        padded = size + 2 * ((kernel - 1) // 2)
        if padded < kernel:
            raise ValueError(f"d_stages[{index}]: kernel {kernel} is larger than its {size}x{size} input "
                             f"({padded}x{padded} padded)")
        size, channels = (padded - kernel) // stride + 1, out_channels
    return channels if config.d_pool == "gap" else channels * size * size


class ResidualBlock(nn.Module):
    """SNGAN's discriminator block (Miyato et al. 2018, its CIFAR-10 D): x (N, C, H, W) -> residual(x) + shortcut(x),
    (N, C', H / stride, W / stride). residual: [ReLU,] conv k x k, [norm,] ReLU, conv k x k, [norm,] [2 x 2 average
    pool]; shortcut: a 1 x 1 conv where the width or size changes (pooled before it in the first block, after it
    elsewhere, as SNGAN's). The first block has no ReLU on the raw pixels."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, first: bool,
                 wrap: Callable[[nn.Module], nn.Module], norm: Callable[[int], nn.Module | None]) -> None:
        super().__init__()

        def conv(cin: int, cout: int, size: int) -> list[nn.Module]:
            layers = [wrap(ThinConv2d(cin, cout, size, padding=size // 2))]
            normalisation = norm(cout) if size > 1 else None
            return layers + ([normalisation] if normalisation is not None else [])

        pool = [nn.AvgPool2d(2)] if stride == 2 else []
        self.residual = nn.Sequential(*([] if first else [nn.ReLU()]), *conv(in_channels, out_channels, kernel),
                                      nn.ReLU(), *conv(out_channels, out_channels, kernel), *pool)
        learned = conv(in_channels, out_channels, 1) if in_channels != out_channels or stride == 2 else []
        self.shortcut = nn.Sequential(*(pool + learned if first else learned + pool))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class MinibatchStd(nn.Module):
    """ProGAN's minibatch standard deviation (Karras et al. 2018) on D's flat features: x (N, F) -> (N, F + 1). The
    added feature is each feature's standard deviation over a group of consecutive samples, averaged over the
    features: the same value for every member of a group. A batch of near-copies shows D a small value, so G is paid
    for variety, which a D that judges one sample at a time cannot see. Groups hold `group` samples, or the largest
    divisor of N no larger than that (a batch of prime size: one sample each, and the value 1e-4, the square root of
    the variance's floor 1e-8)."""

    def __init__(self, group: int) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        group = max(size for size in range(1, min(self.group, n) + 1) if n % size == 0)
        grouped = x.reshape(n // group, group, -1)
        # the variance written out: torch's var over a middle dimension is a slow reduction on the CPU
        centred = grouped - grouped.mean(dim=1, keepdim=True)
        spread = centred.square().mean(dim=1).add(1e-8).sqrt().mean(dim=1)  # (N / group,)
        return torch.cat([x, spread.repeat_interleave(group).unsqueeze(1)], dim=1)


class FeatureStack(nn.Module):
    """What D and the autoencoders' encoder share: images (N,1,28,28) in [-1,1] and label vectors (N,C) -> features
    (N, self.width): conv stages (or the flat image), [the label concatenated], dense layers."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.cond = D_CONDITIONING[config.d_cond]
        self.sn = spectral_norm if config.spectral_norm else (lambda module: module)
        layers: list[nn.Module] = []
        channels = 1
        if config.d_body == "conv":
            for out_channels, kernel, stride in config.d_stages:
                layers.append(self.sn(ThinConv2d(channels, out_channels, kernel, stride, padding=(kernel - 1) // 2)))
                norm = D_NORMS[config.d_norm](out_channels)
                if norm is not None:
                    layers.append(norm)
                layers.append(nn.LeakyReLU(0.2))
                if config.d_dropout:
                    layers.append(nn.Dropout(config.d_dropout))
                channels = out_channels
        elif config.d_body == "resnet":
            for index, (out_channels, kernel, stride) in enumerate(config.d_stages):
                layers.append(ResidualBlock(channels, out_channels, kernel, stride, index == 0, self.sn,
                                            D_NORMS[config.d_norm]))
                if config.d_dropout:
                    layers.append(nn.Dropout(config.d_dropout))
                channels = out_channels
            layers.append(nn.ReLU())
        layers.append(D_POOLS[config.d_pool]() if config.d_body != "mlp" else nn.Identity())
        layers.append(nn.Flatten())
        width = feature_width(config)
        if config.d_mbstd:
            layers.append(MinibatchStd(config.d_mbstd))
            width += 1
        self.features = nn.Sequential(*layers)
        if self.cond.inject:
            width += config.num_classes
        dense: list[nn.Module] = []
        for hidden in config.d_dense:
            dense += [self.sn(nn.Linear(width, hidden)), nn.LeakyReLU(0.2)]
            if config.d_dropout:
                dense.append(nn.Dropout(config.d_dropout))
            width = hidden
        self.dense = nn.Sequential(*dense)
        self.width = width

    def embed(self, images: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        features = self.features(images)
        if self.cond.inject:
            features = torch.cat([features, label_vector], dim=1)
        return self.dense(features)


class Discriminator(FeatureStack):
    """D(images: (N,1,28,28) in [-1,1], label_vector: (N,C)) -> (adversarial logits (N,), class logits | None).

    Class logits are (N, C) for an auxiliary classifier; with twin classifiers (TAC) (N, 2C): the classifier's C
    logits, then the twin's (one dense layer for both: one matrix product); with a discriminative classifier (ADC)
    (N, 2C) too: the logits of "real 0..C-1", then those of "generated 0..C-1", one softmax over all 2C."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.adversarial = self.sn(nn.Linear(self.width, 1))
        self.projection = self.sn(nn.Linear(config.num_classes, self.width, bias=False)) if self.cond.project else None
        self.classifier = (nn.Linear(self.width, self.cond.class_outputs * config.num_classes) if self.cond.aux
                           else None)

    def forward(self, images: torch.Tensor, label_vector: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        features = self.embed(images, label_vector)
        logits = self.adversarial(features).squeeze(1)
        if self.projection is not None:
            logits = logits + (self.projection(label_vector) * features).sum(dim=1)
        class_logits = self.classifier(features) if self.classifier is not None else None
        return logits, class_logits


class Encoder(FeatureStack):
    """The autoencoders' encoder: (images (N,1,28,28) in [-1,1], label_vector (N,C)) -> (mean (N, z_dim),
    log-variance (N, z_dim)) of the approximate posterior q(z | x, c); the same body as D (d_* settings)."""

    def __init__(self, config: ModelConfig) -> None:
        if config.d_mbstd:  # a posterior of one image must not depend on the others in its batch
            raise ValueError(f"d_mbstd: {config.d_mbstd} is for a discriminator; an encoder takes 0")
        super().__init__(config)
        self.posterior = nn.Linear(self.width, 2 * config.z_dim)

    def forward(self, images: torch.Tensor, label_vector: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_variance = self.posterior(self.embed(images, label_vector)).chunk(2, dim=1)
        return mean, log_variance
