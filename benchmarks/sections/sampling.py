"""Sampling the default model: the shipped path and each part of it switched off; smaller generators."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import Context, apply_changes
from benchmarks.probe import run_probe
from digitgan.config import load_preset
from digitgan.models import one_hot, sample_noise

VARIANTS = {"shipped (BN folded + channels_last, allocator kept)": (1, 1),
            "BN folded + channels_last, default allocator": (1, 0),
            "as trained, allocator kept": (0, 1),
            "as trained, default allocator": (0, 0)}

SIZES = {"128 -> 64 -> 32 (the shipped model's recipe)": {"g_base": 128, "g_stages": [[64, 4, 2], [32, 4, 2]]},
         "64 -> 32 -> 16 (fast)": {},
         "64 -> 32 -> 8": {"g_stages": [[32, 4, 2], [8, 4, 2]]},
         "32 -> 32 -> 16": {"g_base": 32},
         "32 -> 32 -> 8": {"g_base": 32, "g_stages": [[32, 4, 2], [8, 4, 2]]},
         "32 -> 16 -> 8": {"g_base": 32, "g_stages": [[16, 4, 2], [8, 4, 2]]},
         "16 -> 16 -> 8": {"g_base": 16, "g_stages": [[16, 4, 2], [8, 4, 2]]}}


def generator_flops(generator: torch.nn.Module, config) -> float:  # noqa: ANN001 - RunConfig
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        generator.eval()(sample_noise(1, config.model), one_hot(torch.tensor([0]), config.model.num_classes))
    return float(counter.get_total_flops())


def sampling(model_dir: Path | None, threads: int, peak: float, repeats: int = 15) -> dict:
    """Each variant in a fresh process, because the allocator setting is process-wide."""
    from digitgan.modelfolder.folder import default_model_dir, load_generator

    generator, config, _ = load_generator(model_dir or default_model_dir(), for_sampling=False)
    flops_per_image = generator_flops(generator, config)
    measured = {}
    for name, (fold, allocator) in VARIANTS.items():
        times = run_probe("sampling", threads, fold, allocator, model_dir or "", repeats, repeats * 13)
        measured[name] = {"images_per_second_batch_1024": round(1024 / statistics.median(times["batch"])),
                          "latency_ms_batch_1": round(1000 * statistics.median(times["single"]), 3),
                          "latency_ms_batch_1_p99": round(1000 * float(np.percentile(times["single"], 99)), 3)}
    shipped = measured[next(iter(VARIANTS))]
    rate = shipped["images_per_second_batch_1024"]
    return {**shipped, "variants": measured, "flops_per_image": flops_per_image,
            "by_generator_size": sampling_by_size(2 if repeats < 5 else 7),
            "achieved_gflops": round(rate * flops_per_image / 1e9, 1),
            "gflops_needed_for_20k": round(20000 * flops_per_image / 1e9, 1),
            "fraction_of_matmul_peak": round(rate * flops_per_image / 1e9 / peak, 3)}


def sampling_by_size(rounds: int = 7) -> dict[str, dict[str, float]]:
    """Images/s at batch 1024 of smaller `fast` generators (random weights, sampling copy), in alternating rounds:
    how far a smaller default model would move the sampling rate."""
    from digitgan.models import build_generator
    from digitgan.models.inference import for_inference

    generators = {}
    for name, changes in SIZES.items():
        config = apply_changes(load_preset("fast"), changes)
        z = torch.randn(1024, config.model.z_dim, generator=torch.Generator().manual_seed(0))
        label_vector = one_hot(torch.arange(1024) % 10, 10)
        torch.manual_seed(0)
        generator = build_generator(config.model)
        with torch.no_grad():
            generator(z[:256], label_vector[:256])  # BatchNorm running statistics of a sort
        generators[name] = (for_inference(generator), generator_flops(generator, config), z, label_vector)
    rates: dict[str, list[float]] = {name: [] for name in generators}
    with torch.no_grad():
        for _ in range(rounds):
            for name, (generator, _, z, label_vector) in generators.items():
                generator(z, label_vector)
                start = time.perf_counter()
                generator(z, label_vector)
                rates[name].append(1024 / (time.perf_counter() - start))
    return {name: {"mflop_per_image": round(flops / 1e6, 2), "images_per_second_batch_1024":
                   round(statistics.median(rates[name]))} for name, (_, flops, _, _) in generators.items()}


def run(context: Context) -> None:
    context.results["sampling"] = sampling(context.args.model, context.args.threads, context.peak,
                                           2 if context.smoke else 15)
    print(f"sampling: {context.results['sampling']}", flush=True)
