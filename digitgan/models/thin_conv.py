"""Convolutions with one input or one output channel, computed as one matrix product each.

A 28x28 GAN has two such layers: D's first conv (1 grey channel in) and G's last (1 channel out). They are a
few % of the FLOPs, but oneDNN runs them slowly on CPU (profiled at 8-15 GFLOP/s against 70-100 for the wide
layers), above all G's output conv and the input gradient of D's first conv. Here each is one matrix product
(K = C x k x k) plus an unfold or k x k shifted adds. Measured on 2 cores: `fast` trains 2.8% faster
(benchmarks/RESULTS.md, "levers") and the shipped model samples ~6% faster. Same parameters and state_dict as
nn.Conv2d (these are subclasses), same results to float rounding (tests/models/test_thin_conv.py compares values
and gradients)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _SingleOutputConv(torch.autograd.Function):
    """Stride-1 conv with one output channel: all k*k taps in one product, then out = sum of the shifted taps.

    taps[a*k + b, n, i, j] = sum_c weight[0, c, a, b] * x[n, c, i, j]; out[n, i, j] = sum_{a,b} of taps[a*k + b]
    (zero-padded by p) read at (i + a, j + b). Taps are laid out tap-major, (k*k, N*H*W): at batch 64 that product
    took 0.41 ms against 1.56 ms for the pixel-major (N*H*W, k*k) one, and the shifted adds are contiguous.
    """

    # Under autocast (cpu_amp) the backward runs in the forward's autocast state, so its products take the dtype the
    # forward's did.
    @staticmethod
    @torch.amp.custom_fwd(device_type="cpu")
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: int):
        n, channels, height, width = x.shape
        kernel = weight.shape[-1]
        rows = x.permute(0, 2, 3, 1).reshape(-1, channels)               # (N*H*W, C), free for channels_last
        tap_weights = weight.reshape(channels, kernel * kernel)
        taps = (tap_weights.t() @ rows.t()).view(kernel * kernel, n, height, width)
        padded = F.pad(taps, (padding, padding, padding, padding))
        out_h, out_w = height + 2 * padding - kernel + 1, width + 2 * padding - kernel + 1
        out = padded[0, :, :out_h, :out_w].clone()
        if bias is not None:
            out += bias
        for tap in range(1, kernel * kernel):
            a, b = divmod(tap, kernel)
            out += padded[tap, :, a:a + out_h, b:b + out_w]
        ctx.save_for_backward(rows, tap_weights)
        ctx.shape, ctx.kernel, ctx.padding, ctx.has_bias = x.shape, kernel, padding, bias is not None
        ctx.weight_layout, ctx.weight_dtype = weight.stride(), weight.dtype
        return out.unsqueeze(1)

    @staticmethod
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad_out: torch.Tensor):
        rows, tap_weights = ctx.saved_tensors
        n, channels, height, width = ctx.shape
        kernel, padding = ctx.kernel, ctx.padding
        grad = grad_out.reshape(n, grad_out.shape[-2], grad_out.shape[-1])
        out_h, out_w = grad.shape[1:]
        # Each tap was read at (i + a, j + b) of its padded plane: put the gradient back there, then unpad.
        grad_padded = grad.new_zeros(kernel * kernel, n, height + 2 * padding, width + 2 * padding)
        for tap in range(kernel * kernel):
            a, b = divmod(tap, kernel)
            grad_padded[tap, :, a:a + out_h, b:b + out_w] = grad
        grad_taps = grad_padded[:, :, padding:padding + height, padding:padding + width].reshape(kernel * kernel, -1)
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad_taps.t() @ tap_weights.t()).view(n, height, width, channels).permute(0, 3, 1, 2)
        if ctx.needs_input_grad[1]:
            # Laid out as the weight is: DDP's gradient buckets take the parameter's strides and warn on any other,
            # even on the stride of the size-1 output dimension, which no arithmetic reads.
            grad_weight = grad_out.new_empty_strided((1, channels, kernel, kernel), ctx.weight_layout,
                                                     dtype=ctx.weight_dtype)
            grad_weight.copy_((grad_taps @ rows).t().reshape(1, channels, kernel, kernel))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad.sum().reshape(1)
        return grad_x, grad_weight, grad_bias, None


def _is_plain(conv: nn.Conv2d) -> bool:
    square = conv.kernel_size[0] == conv.kernel_size[1] and conv.stride[0] == conv.stride[1]
    symmetric = isinstance(conv.padding, tuple) and conv.padding[0] == conv.padding[1]
    return (square and symmetric and conv.groups == 1 and conv.dilation == (1, 1)
            and conv.padding_mode == "zeros")


class ThinConv2d(nn.Conv2d):
    """nn.Conv2d whose forward takes the matrix-product route when in_channels or out_channels is 1.

    Input (N, C, H, W) in any memory format; output as nn.Conv2d's, stored channels_last when out_channels > 1.
    Other shapes (and dilation, groups, non-square kernels, stride > 1 with one output channel, non-CPU tensors,
    and tracing for an export) use nn.Conv2d's forward.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Measured on CPU only; on CUDA, cuDNN's own kernels are used. An export (ONNX, tracing) records the plain
        # convolution: the same function, as one standard operator rather than a custom one.
        if x.device.type != "cpu" or x.dim() != 4 or not _is_plain(self) or torch.jit.is_tracing():
            return super().forward(x)
        kernel, stride, padding = self.kernel_size[0], self.stride[0], self.padding[0]
        if self.in_channels == 1 and x.requires_grad:
            # Only when the input needs a gradient (D seeing G's fakes in G's step): oneDNN's input gradient is the
            # slow part; its forward and weight gradient alone are as fast as this route (measured).
            n = x.shape[0]
            patches = F.unfold(x, kernel, padding=padding, stride=stride)                # (N, k*k, L)
            out_h = (x.shape[2] + 2 * padding - kernel) // stride + 1
            out_w = (x.shape[3] + 2 * padding - kernel) // stride + 1
            flat_weight = self.weight.reshape(self.out_channels, kernel * kernel)
            if self.bias is not None:
                out = torch.addmm(self.bias, patches.transpose(1, 2).reshape(-1, kernel * kernel), flat_weight.t())
            else:
                out = patches.transpose(1, 2).reshape(-1, kernel * kernel) @ flat_weight.t()
            return out.view(n, out_h, out_w, self.out_channels).permute(0, 3, 1, 2)
        if self.out_channels == 1 and stride == 1:
            return _SingleOutputConv.apply(x, self.weight, self.bias, padding)
        return super().forward(x)
