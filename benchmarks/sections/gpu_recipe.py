"""On one CUDA device: the shipped model's quality in a minute of training (bench section "gpu_recipe").

The `shipped` preset is launch-bound at batch 64 on a GPU (the small model leaves the device mostly idle), so the
candidates trade steps for batch: each scales the batch by B/64, the learning rates by sqrt(B/64) (capped), and
keeps the EMA's horizon in images (decay 0.999 ** (B/64)); the learning-rate schedule is already in images. Each
candidate trains --gpu-recipe-seconds of training time (the trainer's clock; the data on the device, bf16
autocast as `digitgan train --device cuda` sets it up), then the standard evaluation (10,000 samples, evaluation
seed 1; the graded seed 0 is kept for the chosen recipe). The best by mean rank over FCD, recall, coverage and
broken share is then evaluated on seed 0 against the target: today's shipped quality (FCD <= 0.69, recall >= 0.80,
coverage >= 0.86). With --gpu-recipe-long-minutes the chosen candidate also trains that long, against the shipped
recipe's own report. Without a CUDA device the section records that it was not measured, and the command.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import Context
from benchmarks.sections.recipe import mean_rank
from digitgan.config import load_preset, with_settings
from digitgan.training import train

PRESET = "shipped"
COMMAND = "make bench BENCH_ARGS='--only gpu_recipe'"
TARGET = {"fcd": 0.69, "recall": 0.80, "coverage": 0.86}  # today's shipped model, rounded in its disfavour
KEYS = ("accuracy", "fcd", "precision", "recall", "coverage", "broken")
EVALUATION_SEED = 1


def scaled(batch: int, lr_cap: float = 3e-3) -> dict[str, Any]:
    """The shipped recipe's settings at `batch`: learning rates x sqrt(batch/64) up to lr_cap, the EMA horizon in
    images kept."""
    base = load_preset(PRESET).train
    factor = batch / base.batch_size
    return {"batch_size": batch, "lr_g": min(lr_cap, base.lr_g * math.sqrt(factor)),
            "lr_d": min(lr_cap, base.lr_d * math.sqrt(factor)), "ema_decay": round(base.ema_decay ** factor, 6)}


CANDIDATES: dict[str, dict[str, Any]] = {
    "shipped recipe (batch 64)": {},
    "batch 256": scaled(256),
    "batch 512": scaled(512),
    "batch 1024": scaled(1024),
    "batch 1024, learning rates capped at 2e-3": scaled(1024, lr_cap=2e-3),
}


def meets(row: dict[str, Any]) -> bool:
    return row["fcd"] <= TARGET["fcd"] and row["recall"] >= TARGET["recall"] and row["coverage"] >= TARGET["coverage"]


def trained(name: str, changes: dict[str, Any], seconds: float, device: str, runs: Path,
            smoke: bool) -> tuple[dict[str, Any], Path]:
    """Train the candidate `seconds` of training time on `device` (as `digitgan train` does) and evaluate it on
    evaluation seed 1: (its row, its run folder)."""
    smoke_only = {"standing_stats": 2} if smoke else {}  # 100 batches of 256 through the wide G: slow on a CPU
    config = with_settings(load_preset(PRESET), {**changes, "seed": 0, "minutes": seconds / 60, "steps": 0,
                                                 "checkpoint_every": 0, "average_checkpoints": 1, "eval_every": 0,
                                                 **smoke_only})
    run_dir = runs / "".join(c if c.isalnum() or c in ".-" else "-" for c in name)
    summary = train(config, run_dir, device=device, quiet=True)
    row = {"changes": changes, "steps": summary["step"], "images_seen": summary["images_seen"],
           "train_seconds": round(summary["seconds"], 1), **scores(run_dir, EVALUATION_SEED, smoke)}
    print(f"gpu recipe {name}: {row}", flush=True)
    return row, run_dir


def scores(run_dir: Path, seed: int, smoke: bool) -> dict[str, Any]:
    from digitgan.evaluate.report import evaluate_run

    report = evaluate_run(run_dir, n_per_class=20 if smoke else 1000, seed=seed, log=lambda _: None)
    return {key: report["model"].get(key) for key in KEYS}


def run(context: Context) -> None:
    device = "cpu" if context.smoke else "cuda"  # the smoke checks the code on the CPU; the figures need a GPU
    if device == "cuda" and not torch.cuda.is_available():
        context.results["gpu_recipe"] = {"available": False, "command": COMMAND,
                                         "reason": f"no CUDA device visible to torch {torch.__version__}"}
        return
    seconds = 0.5 if context.smoke else context.args.gpu_recipe_seconds
    long_minutes = 0.01 if context.smoke else context.args.gpu_recipe_long_minutes
    runs = context.args.runs / "gpu-recipe"
    results: dict[str, Any] = {"available": True, "command": COMMAND, "seconds": seconds, "target": TARGET,
                               "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu (smoke)",
                               "candidates": {}}
    context.results["gpu_recipe"] = results
    folders = {}
    for name, changes in CANDIDATES.items():
        results["candidates"][name], folders[name] = trained(name, changes, seconds, device, runs, context.smoke)
        context.save()
    results["ranks"] = mean_rank(results["candidates"])
    chosen = min(results["ranks"], key=results["ranks"].get)
    graded = scores(folders[chosen], 0, context.smoke)  # the graded seed, once, for the chosen candidate only
    results["chosen"] = {"name": chosen, "changes": CANDIDATES[chosen], **graded, "meets_target": meets(graded)}
    context.save()
    if long_minutes:
        row, folder = trained(chosen, CANDIDATES[chosen], long_minutes * 60, device, runs / "long", context.smoke)
        results["long"] = {"name": chosen, "minutes": long_minutes, **row, "seed 0": scores(folder, 0, context.smoke)}
