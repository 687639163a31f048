"""Generators: conditioning -> body. Bodies are registered by name and built from ModelConfig stage lists."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from digitgan.models.conditioning import G_CONDITIONING
from digitgan.models.thin_conv import ThinConv2d

if TYPE_CHECKING:
    from digitgan.config import ModelConfig


class _RescaledSigmoid(nn.Module):
    # sigmoid models (the DCGAN notebook) draw in [0, 1]; 2*sigmoid(x)-1 = tanh(x/2) keeps our [-1, 1] contract.
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) * 2.0 - 1.0


class ClassBatchNorm2d(nn.Module):
    """BatchNorm whose scale and shift belong to the class (conditional BatchNorm, de Vries et al. 2017; BigGAN's G):
    the class reaches every stage of G, not only its input code.

    x (N, C, H, W), label_vector (N, K) -> BN(x) * (1 + label_vector @ gain) + label_vector @ shift, gain and shift
    (K, C) starting at zero: at initialisation the plain BatchNorm without affine parameters."""

    takes_label = True  # Body passes the label vector to this layer

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Parameter(torch.zeros(num_classes, channels))
        self.shift = nn.Parameter(torch.zeros(num_classes, channels))

    def forward(self, x: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        scale = (1.0 + label_vector @ self.gain)[:, :, None, None]
        return self.norm(x) * scale + (label_vector @ self.shift)[:, :, None, None]


class Body(nn.Sequential):
    """A generator body: layers in order, as nn.Sequential (the same state-dict names); a layer that declares
    `takes_label` also receives the label vector. (code (N, D), label_vector (N, C)) -> images (N, 1, 28, 28)."""

    def forward(self, x: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, label_vector) if getattr(layer, "takes_label", False) else layer(x)
        return x


ACTIVATIONS = {"relu": nn.ReLU, "lrelu": lambda: nn.LeakyReLU(0.2)}
OUTPUTS = {"tanh": nn.Tanh, "sigmoid": _RescaledSigmoid}
# (channels, num_classes) -> the layer after each of G's convolutions
G_NORMS = {"batch": lambda channels, num_classes: nn.BatchNorm2d(channels),
           "none": lambda channels, num_classes: nn.Identity(),
           "class-batch": ClassBatchNorm2d}


def activation(name: str) -> nn.Module:
    return ACTIVATIONS[name]()


def output_activation(name: str) -> nn.Module:
    return OUTPUTS[name]()


def same_conv(in_channels: int, out_channels: int, kernel: int, bias: bool = True) -> nn.Module:
    """Stride-1 conv keeping H x W; even kernels pad (k-1)//2 before and k//2 after, as Keras 'same' does."""
    if kernel % 2:
        return ThinConv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=bias)
    before, after = (kernel - 1) // 2, kernel // 2
    return nn.Sequential(nn.ZeroPad2d((before, after, before, after)),
                         ThinConv2d(in_channels, out_channels, kernel, bias=bias))


def _dense_stack(in_dim: int, widths: list[int], act: str) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(in_dim, width), activation(act)]
        in_dim = width
    return nn.Sequential(*layers), in_dim


def mlp_body(config: ModelConfig, in_dim: int) -> nn.Module:
    """Dense layers (g_dense) then 784 outputs: the simple GAN's 100 -> 128 -> 784."""
    hidden, width = _dense_stack(in_dim, config.g_dense, config.g_act)
    return Body(hidden, nn.Linear(width, 28 * 28), output_activation(config.g_out), nn.Unflatten(1, (1, 28, 28)))


def _conv_body(config: ModelConfig, in_dim: int, upsample: str) -> nn.Module:
    def norm2d(channels: int) -> nn.Module:
        return G_NORMS[config.g_norm](channels, config.num_classes)

    bias = config.g_norm == "none"  # a BatchNorm's mean subtraction cancels the bias before it
    hidden, width = _dense_stack(in_dim, config.g_dense, config.g_act)
    layers: list[nn.Module] = [hidden, nn.Linear(width, config.g_base * 49, bias=bias),
                               nn.Unflatten(1, (config.g_base, 7, 7)), norm2d(config.g_base), activation(config.g_act)]
    channels = config.g_base
    for out_channels, kernel, scale in config.g_stages:
        if scale == 2 and upsample == "transposed":
            pad = (kernel - 1) // 2
            layers.append(nn.ConvTranspose2d(channels, out_channels, kernel, stride=2, padding=pad,
                                             output_padding=2 - kernel + 2 * pad, bias=bias))
        else:
            if scale == 2:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            layers.append(same_conv(channels, out_channels, kernel, bias=bias))
        layers += [norm2d(out_channels), activation(config.g_act)]
        channels = out_channels
    layers += [same_conv(channels, 1, config.g_out_kernel), output_activation(config.g_out)]
    return Body(*layers)


G_BODIES = {
    "mlp": mlp_body,
    "dcgan": lambda config, in_dim: _conv_body(config, in_dim, upsample="transposed"),
    "upsample": lambda config, in_dim: _conv_body(config, in_dim, upsample="nearest"),
}


class Generator(nn.Module):
    """G(z: (N, z_dim), label_vector: (N, C) float) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.z_dim, self.num_classes = config.z_dim, config.num_classes
        self.conditioning = G_CONDITIONING[config.g_cond](config)
        self.body = G_BODIES[config.g_body](config, self.conditioning.out_dim)

    def forward(self, z: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        return self.body(self.conditioning(z, label_vector), label_vector)
