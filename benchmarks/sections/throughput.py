"""Training images/s per preset, achieved GFLOP/s as a fraction of the matmul peak, and peak memory."""

from __future__ import annotations

import statistics
import time

import torch

from benchmarks.common import Context, burst_rate, matmul_rate, prepare, step_flops
from benchmarks.probe import run_probe


def throughput(preset: str, seconds: float, images: torch.Tensor, labels: torch.Tensor, peak_size: int) -> dict:
    """Training images/s for `preset` and its achieved GFLOP/s as a fraction of the matmul peak.

    This machine's speed drifts by 10-20% over minutes, so the peak is re-measured after every burst of training
    steps and the fraction is the median over bursts of (burst GFLOP/s / the peak measured beside it).
    """
    state, config = prepare(preset, images, labels)
    flops = step_flops(config, images, labels)
    images_per_step = config.train.batch_size * config.train.d_steps
    rates, peaks = [], []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates) < 3:
        rates.append(burst_rate(state, config, images, labels))
        peaks.append(matmul_rate(peak_size, repeats=2))
    rate = statistics.median(rates)
    fraction = statistics.median(flops * r / images_per_step / 1e9 / p for r, p in zip(rates, peaks, strict=True))
    return {"images_per_second": round(rate, 1), "flops_per_step": flops, "images_per_step": images_per_step,
            "gflops": round(flops * rate / images_per_step / 1e9, 2), "fraction_of_matmul_peak": round(fraction, 3),
            "matmul_peak_beside_gflops": round(statistics.median(peaks), 1), "matmul_size": peak_size,
            "bursts": len(rates),
            "g_params": sum(p.numel() for p in state.generator.parameters()),
            "d_params": sum(p.numel() for p in state.partner.parameters())}


def peak_rss(preset: str, steps: int = 20, allocator: bool = True) -> float:
    """MiB of peak resident memory of a fresh process that loads MNIST and trains `steps` steps."""
    return run_probe("rss", preset, steps, int(allocator))["peak_rss_mib"]


def run(context: Context) -> None:
    results = context.results["throughput"] = {}
    for preset in context.presets:
        results[preset] = throughput(preset, 0.5 if context.smoke else context.args.throughput_seconds,
                                     context.images, context.labels, context.peak_size)
        print(f"throughput {preset}: {results[preset]}", flush=True)


def run_memory(context: Context) -> None:
    steps = 2 if context.smoke else 20
    context.results["memory_mib"] = {preset: peak_rss(preset, steps) for preset in context.presets}
    # What keeping freed memory (tune_allocator, on in every digitgan command) costs in peak RSS:
    context.results["memory_mib_default_allocator"] = {preset: peak_rss(preset, steps, allocator=False)
                                                       for preset in context.presets}
    print(f"memory: {context.results['memory_mib']} (default allocator: "
          f"{context.results['memory_mib_default_allocator']})", flush=True)
