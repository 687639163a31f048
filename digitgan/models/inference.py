"""A trained generator rewritten for sampling: same function, fewer passes over memory.

Sampling 1024 digits on a 2-core CPU spends more time moving activations than multiplying (benchmarks/RESULTS.md,
section "sampling"). `for_inference` returns a copy that computes the same images (to float rounding, ~1e-5) with:
- every eval-mode BatchNorm folded into the Linear / Conv / ConvTranspose before it (one pass instead of two);
- conv activations in channels_last, where oneDNN's convolutions and transposed convolutions are fastest on CPU
  (the first Linear's outputs reordered so that its result already is the channels-last map);
- activations applied in place (an out-of-place ReLU on a 50 MB tensor costs more than the ReLU itself);
and `digitgan.runtime.tune_allocator` keeps freed activation memory in the process, which otherwise makes each
forward pass page-fault its outputs in again.
The training generator is never modified: its checkpoints and state_dict stay as trained.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from digitgan.models.generator import Body, Generator


class ToChannelsLast(nn.Module):
    """(N, C, H, W) -> the same values stored channels-last."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last)


class UnflattenChannelsLast(nn.Module):
    """(N, H*W*C) laid out pixel-major -> (N, C, H, W) stored channels-last, without a copy."""

    def __init__(self, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.shape = (height, width, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], *self.shape).permute(0, 3, 1, 2)


def _pixel_major(linear: nn.Linear, channels: int, height: int, width: int) -> nn.Linear:
    """The same Linear with its outputs reordered from (C, H, W) to (H, W, C): what a channels-last map stores."""
    reordered = nn.Linear(linear.in_features, linear.out_features, bias=linear.bias is not None,
                          device=linear.weight.device, dtype=linear.weight.dtype)
    with torch.no_grad():
        weight = linear.weight.view(channels, height, width, linear.in_features)
        reordered.weight.copy_(weight.permute(1, 2, 0, 3).reshape(linear.out_features, linear.in_features))
        if linear.bias is not None:
            reordered.bias.copy_(linear.bias.view(channels, height, width).permute(1, 2, 0).reshape(-1))
    return reordered


def _fold_unflattened_bn(linear: nn.Linear, unflatten: nn.Unflatten, norm: nn.BatchNorm2d) -> nn.Linear:
    """Linear -> Unflatten(C, H, W) -> BatchNorm2d(C) as one Linear: each output unit scaled by its channel's BN."""
    channels = norm.num_features
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    shift = norm.bias - norm.running_mean * scale
    per_unit = linear.out_features // channels  # H * W units per channel, channel-major as Unflatten lays them out
    # Built where the trained layer lives (a CUDA generator must stay wholly on CUDA).
    like = {"device": linear.weight.device, "dtype": linear.weight.dtype}
    fused = nn.Linear(linear.in_features, linear.out_features, bias=True, **like)
    bias = linear.bias if linear.bias is not None else torch.zeros(linear.out_features, **like)
    with torch.no_grad():
        fused.weight.copy_(linear.weight * scale.repeat_interleave(per_unit)[:, None])
        fused.bias.copy_(bias * scale.repeat_interleave(per_unit) + shift.repeat_interleave(per_unit))
    return fused


def _conv_of(module: nn.Module) -> nn.Module | None:
    """The conv inside a layer: a bare Conv2d/ConvTranspose2d, or the Conv2d of a (ZeroPad2d, Conv2d) 'same' pair."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        return module
    if isinstance(module, nn.Sequential) and len(module) == 2 and isinstance(module[1], nn.Conv2d):
        return module[1]
    return None


def _fuse_sequential(layers: list[nn.Module]) -> list[nn.Module]:
    fused: list[nn.Module] = []
    index = 0
    while index < len(layers):
        layer, following = layers[index], layers[index + 1:index + 3]
        if (isinstance(layer, nn.Linear) and len(following) == 2 and isinstance(following[0], nn.Unflatten)
                and isinstance(following[1], nn.BatchNorm2d)):
            fused += [_fold_unflattened_bn(layer, following[0], following[1]), following[0]]
            index += 3
            continue
        if isinstance(layer, nn.Linear) and following and isinstance(following[0], nn.BatchNorm1d):
            fused.append(fuse_linear_bn_eval(layer, following[0]))
            index += 2
            continue
        conv = _conv_of(layer)
        if conv is not None and following and isinstance(following[0], nn.BatchNorm2d):
            merged = fuse_conv_bn_eval(conv, following[0], transpose=isinstance(conv, nn.ConvTranspose2d))
            if conv is layer:
                fused.append(merged)
            else:
                fused.append(nn.Sequential(layer[0], merged))
            index += 2
            continue
        if isinstance(layer, nn.Sequential):
            fused.append(nn.Sequential(*_fuse_sequential(list(layer))))
        elif isinstance(layer, nn.ReLU):
            fused.append(nn.ReLU(inplace=True))
        elif isinstance(layer, nn.LeakyReLU):
            fused.append(nn.LeakyReLU(layer.negative_slope, inplace=True))
        else:
            fused.append(layer)
        index += 1
    return fused


def _channels_last_after_unflatten(layers: list[nn.Module]) -> list[nn.Module]:
    """Make the map an Unflatten builds channels-last: for free after a Linear (reorder its outputs), else a copy."""
    placed: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, nn.Unflatten) and placed and isinstance(placed[-1], nn.Linear):
            channels, height, width = layer.unflattened_size
            placed[-1] = _pixel_major(placed[-1], channels, height, width)
            placed.append(UnflattenChannelsLast(channels, height, width))
        elif isinstance(layer, nn.Unflatten):
            placed += [layer, ToChannelsLast()]
        else:
            placed.append(layer)
    return placed


def for_inference(generator: Generator) -> Generator:
    """A copy of `generator` (eval mode, no grad) computing the same images faster on CPU and GPU.

    Input and output are those of Generator: (z (N, z_dim), label_vector (N, C)) -> (N, 1, 28, 28) in [-1, 1].
    """
    fused = copy.deepcopy(generator).eval()
    layers = _fuse_sequential(list(fused.body))
    is_conv_body = any(_conv_of(layer) is not None for layer in layers)
    if is_conv_body:
        layers = _channels_last_after_unflatten(layers)
    fused.body = Body(*layers)
    if is_conv_body:
        fused.body.to(memory_format=torch.channels_last)
    for parameter in fused.parameters():
        parameter.requires_grad_(False)
    return fused
