"""Towards the real floor (issue: the shipped model within 1.3x of real data's Frechet distance): levers on the
shipped recipe (the `shipped` preset) at equal training time, judged with the whole report.

- screen: every lever trains --recipe-minutes (3 by default) from scratch, seed 0, then the standard evaluation on
  evaluation seed 1 (10,000 samples; the graded seed 0 is kept for the final model);
- finals: the baseline and the best three levers by mean rank over FCD, recall, coverage and broken share train
  --recipe-final-minutes (15) with seeds 0 and 1, evaluated the same way plus CAS on 60,000 generated;
- scaled: a run of the finals' length never reaches the shipped schedule's decay (it starts after 2.88 M images, half
  the committed model's 90,000 steps), so the shipped recipe trains again for the steps its finals made (their mean)
  with the schedule scaled to them (decay from half the run, halving three times by the end), seeds 0 and 1.

Every row is saved as soon as it is measured; the section resumes a stopped run where it stopped (rows already in
results.json with the same minutes are kept)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import Context, apply_changes, train_towards
from benchmarks.sections.quality import time_to_quality
from digitgan.config import RunConfig, load_preset

PRESET = "shipped"
BASE_STEPS = 90_000  # the Makefile's PRETRAINED_STEPS: the committed model's budget, the unit of a scaled schedule
EVALUATION_SEED = 1
LEVERS: dict[str, dict[str, Any]] = {
    "shipped recipe": {},
    "D twice as wide (64 -> 128 channels)": {"d_stages": [[64, 4, 2], [128, 4, 2]]},
    "D twice as wide + dense 256": {"d_stages": [[64, 4, 2], [128, 4, 2]], "d_dense": [256]},
    "two time-scale: lr_d 2e-3": {"lr_d": 2e-3},
    "two time-scale: lr_g 5e-4": {"lr_g": 5e-4},
    "batch 128, learning rates x1.4": {"batch_size": 128, "lr_g": 1.4e-3, "lr_d": 1.4e-3},
    "EMA 0.9995": {"ema_decay": 0.9995},
    "lazy R1 (gamma 1, every 16 steps)": {"r1_gamma": 1.0, "r1_every": 16},
    "DiffAugment: translation": {"d_augment": "translation"},
    "DiffAugment: translation + cutout": {"d_augment": "translation-cutout"},
    "G body: upsample + conv": {"g_body": "upsample"},
    "consistency (bCR, weight 10, translation)": {"consistency_weight": 10.0},
    "standing statistics: 400 batches": {"standing_stats": 400},
    "no standing statistics (EMA's running ones)": {"standing_stats": 0},
    "G twice as wide again (256 -> 128 -> 64)": {"g_base": 256, "g_stages": [[128, 4, 2], [64, 4, 2]]},
}
KEYS = ("accuracy", "fcd", "precision", "recall", "coverage", "broken")
FINALISTS = 3
SCALED = "shipped recipe, schedule scaled to the run"


def scaled_config(changes: dict[str, Any], ratio: float, base_steps: int = BASE_STEPS) -> RunConfig:
    """The `shipped` preset with `changes`, training seed 0 unless `changes` sets one, for `ratio` times `base_steps`
    steps (rounded to hundreds), the schedule's image counts (decay start, half-life: those after `changes`) scaled
    by the images that run sees against base_steps of the preset's batch, so the decay comes at the same point of
    the run."""
    base = load_preset(PRESET)
    # the EMA at the run's end, as every row was exported before the shipped preset averaged its last checkpoints
    # (recipe_long's averaging table measures that on finished runs)
    config = apply_changes(base, {"seed": 0, "average_checkpoints": 1, **changes})
    steps = int(round(base_steps * ratio, -2))
    images = (steps * config.train.batch_size) / (base_steps * base.train.batch_size)
    return apply_changes(config, {"steps": steps, "epochs": 0, "minutes": 0,
                                  "lr_decay_after": int(round(config.train.lr_decay_after * images)),
                                  "lr_half_life": int(round(config.train.lr_half_life * images))})


def evaluated(run: Path, cas: bool, smoke: bool) -> dict[str, Any]:
    """The standard evaluation of `run` on EVALUATION_SEED (10,000 samples; CAS on 60,000 generated when asked)."""
    from digitgan.evaluate.report import evaluate_run

    report = evaluate_run(run, n_per_class=50 if smoke else 1000, seed=EVALUATION_SEED, cas=cas,
                          cas_n=1000 if smoke else 60000, log=lambda _: None)
    return {key: report["model"].get(key) for key in (*KEYS, *(("cas",) if cas else ()))}


def measured(name: str, changes: dict[str, Any], minutes: float, seed: int, context: Context, cas: bool,
             runs: Path, extra: Callable[[Path], dict[str, Any]] | None = None,
             section: str = "recipe") -> dict[str, Any]:
    """One row: the shipped recipe with `changes` trained `minutes` from scratch with training seed `seed`, then
    evaluated; `extra(run_dir)` adds fields read from the finished run (its report is in run_dir/eval)."""
    outcome = time_to_quality(PRESET, minutes, 1e9, runs, context.steps_per_second(PRESET),
                              changes={**changes, "seed": seed})
    run = Path(outcome["run_dir"])
    row = {"seed": seed, "steps": outcome["steps"], "images_seen": outcome["images_seen"],
           "train_seconds": outcome["train_seconds"], **evaluated(run, cas, context.smoke)}
    if extra is not None:
        row.update(extra(run))
    print(f"{section} {name} ({minutes:g} min, seed {seed}): {row}", flush=True)
    return row


def scaled_run(steps: int, seed: int, context: Context, runs: Path) -> dict[str, Any]:
    """The shipped recipe for `steps` steps with its schedule scaled to them, seed `seed` (resumes a stopped run)."""
    config = apply_changes(scaled_config({}, steps / BASE_STEPS), {"seed": seed, "steps": steps})
    run = runs / f"steps={steps}-seed={seed}"
    train_towards(config, run)
    summary = json.loads((run / "summary.json").read_text())
    row = {"seed": seed, "steps": summary["step"], "images_seen": summary["images_seen"],
           "train_seconds": round(summary["total_seconds"], 1), "lr_decay_after": config.train.lr_decay_after,
           "lr_half_life": config.train.lr_half_life, **evaluated(run, True, context.smoke)}
    print(f"recipe {SCALED} ({steps:,} steps, seed {seed}): {row}", flush=True)
    return row


def mean_rank(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each lever's mean rank over FCD (lower is better), recall, coverage (higher) and broken share (lower)."""
    names = list(rows)
    ranks = {name: [] for name in names}
    for key, higher in (("fcd", False), ("recall", True), ("coverage", True), ("broken", False)):
        ordered = sorted(names, key=lambda n: rows[n][key], reverse=higher)
        for place, name in enumerate(ordered):
            ranks[name].append(place + 1)
    return {name: statistics.mean(values) for name, values in ranks.items()}


def run(context: Context) -> None:
    minutes = 0.1 if context.smoke else context.args.recipe_minutes
    final_minutes = 0.2 if context.smoke else context.args.recipe_final_minutes
    results = context.results.setdefault("recipe", {})
    if results.get("minutes") != [minutes, final_minutes]:
        results.clear()
        results["minutes"] = [minutes, final_minutes]
    runs = context.args.runs / "recipe"
    screen = results.setdefault("screen", {})
    for name, changes in LEVERS.items():
        if name not in screen:
            screen[name] = measured(name, changes, minutes, 0, context, False, runs / "screen")
            context.save()
    ranks = mean_rank(screen)
    results["screen_rank"] = ranks
    challengers = [name for name in sorted(ranks, key=ranks.get) if name != "shipped recipe"][:FINALISTS]
    finals = results.setdefault("finals", {})
    for name in ["shipped recipe", *challengers]:
        seeds = finals.setdefault(name, {"seeds": []})["seeds"]
        for seed in (0, 1):
            if not any(row["seed"] == seed for row in seeds):
                seeds.append(measured(name, LEVERS[name], final_minutes, seed, context, True, runs / "finals"))
                context.save()
        for key in (*KEYS, "cas"):
            finals[name][key] = statistics.mean(row[key] for row in seeds)
    context.save()
    steps = int(round(statistics.mean(row["steps"] for row in finals["shipped recipe"]["seeds"]), -2))
    scaled = results.setdefault("scaled", {"steps": steps, "seeds": []})
    for seed in (0, 1):
        if not any(row["seed"] == seed for row in scaled["seeds"]):
            scaled["seeds"].append(scaled_run(scaled["steps"], seed, context, runs / "scaled"))
            context.save()
