"""On CUDA: training images/s for fast and the faithful presets, and the sampling rate; recorded as unavailable
on a machine without a GPU."""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from benchmarks.common import QUALITY_PRESETS, Context, step
from digitgan.config import load_preset
from digitgan.models import one_hot, sample_noise
from digitgan.training.state import start_state


def _timed(function, repeats: int) -> float:  # noqa: ANN001 - a callable to time
    """Median seconds of `function()` on CUDA (synchronised around each call)."""
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gpu(presets: list[str], seconds: float, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """Set up as `digitgan train --device cuda` does: the data set on the device, channels_last modules, bf16
    autocast (train.amp)."""
    if not torch.cuda.is_available():
        return {"available": False, "reason": f"no CUDA device visible to torch {torch.__version__}"}
    from digitgan.modelfolder.folder import default_model_dir, load_generator

    device = torch.device("cuda")
    results: dict[str, Any] = {"available": True, "device": torch.cuda.get_device_name(0),
                               "cuda": torch.version.cuda, "throughput": {}, "sampling": {}}
    on_device = images.to(device), labels.to(device)
    for preset in presets:
        config = load_preset(preset)
        state = start_state(config, len(images), device)  # as `digitgan train` sets it up
        for _ in range(5):
            step(state, config, *on_device)
        rates = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(rates) < 3:
            seen = state.images_seen
            elapsed = _timed(lambda: [step(state, config, *on_device) for _ in range(20)], 1)  # noqa: B023
            rates.append((state.images_seen - seen) / elapsed)
        results["throughput"][preset] = round(statistics.median(rates), 1)
        print(f"gpu throughput {preset}: {results['throughput'][preset]} img/s", flush=True)
    generator, config, _ = load_generator(default_model_dir(), device=device)
    for batch in (1024, 16384):
        z = sample_noise(batch, config.model, device=device)
        label_vector = one_hot(torch.arange(batch, device=device) % 10, 10)
        with torch.no_grad():
            for _ in range(3):
                generator(z, label_vector)
            seconds_per_batch = _timed(lambda: generator(z, label_vector), 20)  # noqa: B023
        results["sampling"][f"images_per_second_batch_{batch}"] = round(batch / seconds_per_batch)
    results["peak_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return results


def run(context: Context) -> None:
    seconds = 0.5 if context.smoke else context.args.throughput_seconds
    context.results["gpu"] = gpu(["fast"] if context.smoke else QUALITY_PRESETS, seconds, context.images,
                                 context.labels)
    print(f"gpu: {context.results['gpu']}", flush=True)
