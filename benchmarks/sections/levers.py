"""What each speed lever on `fast` buys: every variant in one process, in alternating bursts of training steps."""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from benchmarks.common import Context, burst_rate, prepare, step

LEVERS = {"fast (as shipped)": {},
          "no shared fake batch (reuse_fake=false)": {"changes": {"reuse_fake": False}},
          "D sees real and fake in separate forwards": {"changes": {"d_joint_forward": False}},
          "oneDNN for the 1-channel convs (no ThinConv2d)": {"thin_convs": False},
          "NCHW instead of channels_last": {"channels_last": False},
          "foreach instead of fused Adam": {"fused_adam": False},
          "torch.compile (inductor), after compiling": {"compile_models": True},
          "1 thread instead of 2": {"threads": 1},
          "batch 32": {"changes": {"batch_size": 32}}, "batch 128": {"changes": {"batch_size": 128}},
          "G stages 64/32 (2x channels)": {"changes": {"g_stages": [[64, 4, 2], [32, 4, 2]]}},
          "G stages 32/8 (half the last stage)": {"changes": {"g_stages": [[32, 4, 2], [8, 4, 2]]}},
          # opt-in: pays only on a CPU with bf16 units, and changes the numerics
          "bf16 autocast on the CPU (cpu_amp)": {"changes": {"cpu_amp": True}},
          "G stages 64/32 in bf16 (cpu_amp)": {"changes": {"g_stages": [[64, 4, 2], [32, 4, 2]], "cpu_amp": True}},
          "G stages 64/32, bf16 for D only (amp_networks=discriminator)": {"changes": {
              "g_stages": [[64, 4, 2], [32, 4, 2]], "cpu_amp": True, "amp_networks": "discriminator"}},
          "G stages 64/32, bf16 for G only (amp_networks=generator)": {"changes": {
              "g_stages": [[64, 4, 2], [32, 4, 2]], "cpu_amp": True, "amp_networks": "generator"}}}


def lever_throughput(variants: dict[str, dict[str, Any]], seconds: float, images: torch.Tensor,
                     labels: torch.Tensor, preset: str = "fast") -> dict[str, dict[str, float]]:
    """Throughput of `preset` with each lever changed, measured in alternating bursts in one process.

    Every variant gets a burst of steps in turn until `seconds` pass, so a slow minute of this shared machine
    lands on all of them; "vs_first" is the median over rounds of (variant's burst rate / the first variant's).
    """
    threads_before = torch.get_num_threads()
    prepared = {}
    for name, options in variants.items():
        torch.set_num_threads(options.get("threads") or threads_before)
        prepared[name] = prepare(preset, images, labels, **{k: v for k, v in options.items() if k != "threads"})
    rates: dict[str, list[float]] = {name: [] for name in variants}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or min(len(r) for r in rates.values()) < 3:
        for name, (state, config) in prepared.items():
            torch.set_num_threads(variants[name].get("threads") or threads_before)
            step(state, config, images, labels)  # one untimed step after switching variants
            rates[name].append(burst_rate(state, config, images, labels))
    torch.set_num_threads(threads_before)
    first = rates[next(iter(variants))]
    return {name: {"images_per_second": round(statistics.median(r), 1), "bursts": len(r),
                   "vs_first": round(statistics.median(a / b for a, b in zip(r, first, strict=True)), 3)}
            for name, r in rates.items()}


def run(context: Context) -> None:
    levers = context.results["levers"] = {"throughput": {},
                                          "quality_60s": context.results.get("levers", {}).get("quality_60s", {})}
    runs = LEVERS if not context.smoke else {k: v for k, v in LEVERS.items() if "compile_models" not in v}
    seconds = 0.5 if context.smoke else 12 * context.args.throughput_seconds
    levers["throughput"] = lever_throughput(runs, seconds, context.images, context.labels)
    for name, data in levers["throughput"].items():
        print(f"lever {name}: {data}", flush=True)
