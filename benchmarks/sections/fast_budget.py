"""`fast` in 15 minutes (issue: the shipped model at the real floor, its 15-minute part): the default preset and
levers of it trained --fast-budget-minutes (15) from scratch with training seeds 0 and 1, judged against the model
that was shipped when the issue was filed (the `recipe_long` section's baseline row: the same evaluation).

- rows: `fast` as it is; `fast` with the shipped recipe's two levers (the generator's width, 64 -> 128 channels:
  the lever that moved FCD most at long budgets, at twice G's cost per step; one-sided label smoothing, the lever that
  made the shipped model: it costs nothing per step), without and with the shipped learning-rate schedule scaled to
  15 minutes, and with the shipped recipe's averaging of the EMA over the last checkpoints; and label smoothing
  alone; the averaged row again with bf16 autocast on the CPU (`cpu_amp`), its schedule stretched to the steps it
  makes, and that row's configuration in float32 and with bf16 for G only (`amp_networks`), each trained to the bf16
  run's steps (by steps, not minutes: what bf16 costs per step, and which network pays it);
- every row: the standard evaluation (10,000 samples) and CAS on 60,000 generated, on evaluation seed 1 (the graded
  seed 0 is kept for a shipped model), the two seeds' mean against the target.

Each run is saved as soon as it is measured; the section resumes a stopped run where it stopped (runs already in
results.json with the same minutes are kept)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from benchmarks.common import Context, apply_changes, train_towards
from benchmarks.sections.quality import time_to_quality
from benchmarks.sections.recipe import KEYS, evaluated
from digitgan.config import load_preset

PRESET = "fast"
BASELINE = "fast (as it is)"
# The shipped generator's width and label smoothing: the shipped recipe's two levers that pay at long budgets.
WIDE_SMOOTHED = {"label_smoothing": 0.1, "g_base": 128, "g_stages": [[64, 4, 2], [32, 4, 2]]}
# bf16 autocast on the CPU (opt-in `cpu_amp`): about 1.3x the wide G's steps per second on a CPU with bf16 units
# (benchmarks/RESULTS.md, "levers"), so the averaged row's schedule is stretched 1.5x in images for it
BF16_ROW = ("the averaged row in bf16 (cpu_amp), its schedule 1.5x as long (rates halving every 384,000 images after "
            "1,152,000)")
BF16_STRETCHED = {**WIDE_SMOOTHED, "lr_decay_after": 1_152_000, "lr_half_life": 384_000, "checkpoint_every": 2000,
                  "average_checkpoints": 3}
LEVERS: dict[str, dict[str, Any]] = {
    BASELINE: {},
    "fast + label smoothing + the shipped G's width (128 -> 64 -> 32)": WIDE_SMOOTHED,
    # the shipped schedule (rates halving three times over the second half of the run) scaled to the ~24,000 steps
    # the wide G makes in 15 minutes on 2 cores: in images, so a run repeats whatever the machine's speed
    "the row above + rates halving every 256,000 images after 768,000 (the shipped schedule over 15 minutes)": {
        **WIDE_SMOOTHED, "lr_decay_after": 768_000, "lr_half_life": 256_000},
    "fast + one-sided label smoothing (real target 0.9)": {"label_smoothing": 0.1},
    # the shipped recipe's last lever: the exported G the mean of the EMA at the last 3 checkpoints (here every 2,000
    # steps, the last ~5,000 of the decay; the shipped run's every 10,000 of 90,000)
    "the schedule's row + the EMA averaged over its last 3 checkpoints (one every 2,000 steps)": {
        **WIDE_SMOOTHED, "lr_decay_after": 768_000, "lr_half_life": 256_000, "checkpoint_every": 2000,
        "average_checkpoints": 3},
    BF16_ROW: {**BF16_STRETCHED, "cpu_amp": True},
}
# What bf16 costs per step, apart from what it buys in steps: the bf16 row's configuration in float32, and with bf16
# for one network only (`amp_networks`), trained (by steps, not minutes) to the steps the bf16 row made with each
# seed. Name -> (the row whose steps it takes, its changes, its runs' folder tag).
AT_BF16_STEPS = {
    "the bf16 row in float32, at the steps the bf16 row made with each seed": (BF16_ROW, BF16_STRETCHED, "float32"),
    # bf16 for G alone buys most of bf16's speed (RESULTS.md, "levers"): does it cost FCD per step too?
    "the bf16 row with bf16 for G only (D in float32), at the bf16 row's steps": (
        BF16_ROW, {**BF16_STRETCHED, "cpu_amp": True, "amp_networks": "generator"}, "bf16-g"),
}
SEEDS = (0, 1)
# The figures to reach: those of the model shipped when the issue was filed, on the same evaluation (its row in the
# long run's table); RESULTS.md judges the baseline's mean against them.
TARGET_SECTION, TARGET_ROW = "recipe_long", "shipped recipe"


def measured(name: str, changes: dict[str, Any], minutes: float, seed: int, context: Context) -> dict[str, Any]:
    """One run: `fast` with `changes` trained `minutes` from scratch with training seed `seed`, then the recipe
    sections' evaluation with CAS (evaluation seed 1)."""
    outcome = time_to_quality(PRESET, minutes, 1e9, context.args.runs / "fast_budget", context.steps_per_second(PRESET),
                              changes={**changes, "seed": seed})
    row = {"seed": seed, "steps": outcome["steps"], "images_seen": outcome["images_seen"],
           "train_seconds": outcome["train_seconds"], **evaluated(Path(outcome["run_dir"]), True, context.smoke)}
    print(f"fast_budget {name} ({minutes:g} min, seed {seed}): {row}", flush=True)
    return row


def measured_at_steps(name: str, changes: dict[str, Any], steps: int, seed: int, tag: str,
                      context: Context) -> dict[str, Any]:
    """One run: `fast` with `changes` trained to `steps` steps (whatever time that takes; resumes a stopped run) with
    training seed `seed`, in the folder `{tag}-{steps}-steps-seed={seed}`, then the same evaluation as a timed
    row's."""
    config = apply_changes(load_preset(PRESET), {**changes, "seed": seed, "steps": steps, "eval_every": 0})
    run = context.args.runs / "fast_budget" / f"{tag}-{steps}-steps-seed={seed}"
    train_towards(config, run)
    summary = json.loads((run / "summary.json").read_text())
    row = {"seed": seed, "steps": summary["step"], "images_seen": summary["images_seen"],
           "train_seconds": round(summary["total_seconds"], 1), **evaluated(run, True, context.smoke)}
    print(f"fast_budget {name} ({steps:,} steps, seed {seed}): {row}", flush=True)
    return row


def run(context: Context) -> None:
    minutes = 0.2 if context.smoke else context.args.fast_budget_minutes
    results = context.results.setdefault("fast_budget", {})
    if results.get("minutes") != minutes:
        results.clear()
        results["minutes"] = minutes
    target = context.results.get(TARGET_SECTION, {}).get("rows", {}).get(TARGET_ROW)
    results["baseline"] = BASELINE
    if target:
        results["target"] = {key: target[key] for key in (*KEYS, "cas")}
    rows = results.setdefault("rows", {})
    for name, changes in LEVERS.items():
        seeds = rows.setdefault(name, {"seeds": []})["seeds"]
        for seed in SEEDS:
            if not any(row["seed"] == seed for row in seeds):
                seeds.append(measured(name, changes, minutes, seed, context))
                context.save()
        _mean(rows[name])
        context.save()
    for name, (source, changes, tag) in AT_BF16_STEPS.items():
        rows.setdefault(name, {"seeds": []})["source"] = source  # the report sets the two side by side
        seeds = rows[name]["seeds"]
        for source_row in rows[source]["seeds"]:
            if not any(row["seed"] == source_row["seed"] for row in seeds):
                seeds.append(measured_at_steps(name, changes, source_row["steps"], source_row["seed"], tag, context))
                context.save()
        _mean(rows[name])
        context.save()


def _mean(row: dict[str, Any]) -> None:
    """The seeds' mean of each measure, on the row itself."""
    for key in (*KEYS, "cas"):
        row[key] = statistics.mean(one[key] for one in row["seeds"])
