"""`make bench`: speed, memory and quality measurements on this machine -> results.json + RESULTS.md + plots.

Sections (each can be run alone with --only; one module each under benchmarks/sections/):
  machine         CPU, threads, torch version, matmul peak (GFLOP/s, median of repeats); always measured
  throughput      images/s through D per preset and achieved GFLOP/s of a training step vs the matmul peak
  memory          peak RSS of a fresh process training each preset for a few steps
  sampling        images/s at batch 1024 and latency at batch 1 for the default model
  quality         time to conditional accuracy >= 90/95/98% and FCD over training time, per preset
  conditioning    hadamard / concat / projection / acgan on the fast body at an equal CPU budget
  levers          what each speed lever on `fast` buys in throughput (alternating bursts in one process)
  levers-quality  what optimizer, batch, loss, EMA and G width choices give after 60 s of training
  gpu             on CUDA (when torch sees a GPU): training images/s for fast + faithful presets, sampling rate
  serve           a bounded load test of the HTTP API on loopback (2,000 requests, 32 concurrent)
  load            training and sampling beside other busy processes, per OpenMP waiting setting
  onnx            the shipped model through onnxruntime beside PyTorch, at batch 1 and 1024
  page            the offline page in headless chromium: size, time to the first number, digits/s in the page
  mimic           your own hand: 1,000 MNIST test digits and 20 drawn ones inverted three ways, redrawn, style kept
  distribution    recall, coverage, FCD, broken share, CAS: levers at equal time, fast from scratch
  shipped         the same for the shipped model (its committed report; the one shipped before keeps its row)
  recipe          levers on the shipped recipe at equal time towards the real floor (screens, then finals)
  recipe_classes  a second screen, two seeds each: levers on the class loss's pull (narrow 7s and 9s)
  recipe_long     the shipped model's full budget against levers at equal time (a long run; resumes)
  fast_budget     fast and levers of it in 15 minutes, two seeds each, against the model shipped before #31
  gpu_recipe      on CUDA: the shipped model's quality in a minute of training (batch-scaled candidates)

Timings are medians where repeats are cheap; ratios are from one run on one machine. Every section records the
commit and date it was measured at and the paths it measures (benchmarks/provenance.py); RESULTS.md marks a
section stale when those paths changed since. `python -m benchmarks.report` rewrites RESULTS.md from results.json
(the marks as of the working tree) without measuring anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.common import ALL_PRESETS, HERE, Context, cpu_model, matmul_peak, tensors
from benchmarks.provenance import record
from benchmarks.report import render
from benchmarks.sections import (
    distribution,
    fast_budget,
    gpu,
    gpu_recipe,
    levers,
    load,
    mimic,
    onnx,
    page,
    quality,
    recipe,
    recipe_classes,
    recipe_long,
    sampling,
    serve,
    throughput,
)
from digitgan.files import write_json, write_text
from digitgan.runtime import tune_allocator

SECTIONS: dict[str, Callable[[Context], None]] = {
    "throughput": throughput.run, "memory": throughput.run_memory, "sampling": sampling.run,
    "quality": quality.run, "conditioning": quality.run_conditioning, "levers": levers.run,
    "levers-quality": quality.run_levers_quality, "gpu": gpu.run, "serve": serve.run, "load": load.run,
    "onnx": onnx.run, "page": page.run, "mimic": mimic.run,
    "distribution": distribution.run, "shipped": distribution.run_shipped, "recipe": recipe.run,
    "recipe_classes": recipe_classes.run, "recipe_long": recipe_long.run,
    "fast_budget": fast_budget.run, "gpu_recipe": gpu_recipe.run,
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=6.0, help="training minutes per preset for 'quality'")
    parser.add_argument("--fast-minutes", type=float, help="training minutes for fast (default --minutes)")
    parser.add_argument("--study-minutes", type=float, default=2.0, help="minutes per variant for 'conditioning'")
    parser.add_argument("--eval-seconds", type=float, default=10.0, help="training seconds between evaluations")
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--load-rounds", type=int, default=3, help="interleaved rounds for 'load'")
    parser.add_argument("--recipe-minutes", type=float, default=3.0,
                        help="training minutes per lever and seed, 'recipe' and 'recipe_classes' screens")
    parser.add_argument("--recipe-final-minutes", type=float, default=15.0,
                        help="training minutes per finalist and seed, 'recipe' finals")
    parser.add_argument("--recipe-long-slice-minutes", type=float, default=0.0,
                        help="'recipe_long': minutes of training per invocation (0: to the end); the next resumes")
    parser.add_argument("--fast-budget-minutes", type=float, default=15.0,
                        help="training minutes per lever and seed, 'fast_budget'")
    parser.add_argument("--gpu-recipe-seconds", type=float, default=60.0,
                        help="training seconds per candidate, 'gpu_recipe'")
    parser.add_argument("--gpu-recipe-long-minutes", type=float, default=0.0,
                        help="'gpu_recipe': also train the chosen candidate this many minutes (the 10-minute target)")
    parser.add_argument("--distribution-minutes", type=float, default=3.0,
                        help="training minutes per lever for 'distribution'")
    parser.add_argument("--only", nargs="*", choices=list(SECTIONS), help="sections to run (default: all)")
    parser.add_argument("--presets", nargs="*", help="presets for quality (default: fast + faithful ones)")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.json / RESULTS.md go")
    parser.add_argument("--runs", type=Path, default=Path("runs/bench"))
    parser.add_argument("--model", type=Path, help="model for 'sampling' (default: the shipped one)")
    parser.add_argument("--smoke", action="store_true", help="tiny budgets, to check the code runs")
    parser.add_argument("--reuse-runs", action="store_true",
                        help="quality: read finished runs in --runs with the same budget instead of retraining")
    parser.add_argument("--slow-eval-seconds", type=float, default=60.0,
                        help="evaluation interval for presets under 200 images/s (sampling 2k images is slow)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    tune_allocator()  # as every `digitgan` command does
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if not args.only:
        results.pop("notes", None)  # notes explain sections carried over from other runs; a full run has none
    results["machine"] = {"cpu": cpu_model(), "threads": torch.get_num_threads(), "cores": os.cpu_count(),
                          "torch": torch.__version__, "python": platform.python_version(),
                          "date": time.strftime("%Y-%m-%d")}
    peak, peak_size = matmul_peak((256,) if args.smoke else (512, 1024, 2048))  # smoke: the code runs, quickly
    results["machine"].update(matmul_peak_gflops=round(peak, 1), matmul_peak_size=peak_size)
    print(f"machine: {results['machine']}", flush=True)
    images, labels = tensors()
    running: list[str] = []

    def save() -> None:
        # a section stopped part-way (the long ones save row by row and resume) still says where its rows come from
        if running and not args.smoke:
            results.setdefault("provenance", {})[running[-1]] = record(running[-1], results["machine"])
        write_json(results_path, results)

    context = Context(args, results, images, labels, peak, peak_size,
                      presets=["fast"] if args.smoke else ALL_PRESETS, save=save)
    for name in args.only or list(SECTIONS):
        running.append(name)
        SECTIONS[name](context)
        context.save()  # after every section, so an interrupted benchmark keeps what it measured
    write_text(args.out / "RESULTS.md", render(results))
    print(f"wrote {results_path} and {args.out / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
