"""Quality over training time: time to conditional accuracy thresholds and FCD per preset (light evaluation), the
conditioning study, and the quality side of the levers on `fast`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import QUALITY_PRESETS, Context, apply_changes
from digitgan.config import load_preset
from digitgan.data import load_dataset
from digitgan.files import pyplot, save_figure
from digitgan.training import train
from digitgan.training.history import read_history

THRESHOLDS = (0.90, 0.95, 0.98)


def time_to_quality(preset: str, minutes: float, eval_seconds: float, out: Path, steps_per_second: float,
                    changes: dict[str, Any] | None = None, reuse: bool = False) -> dict:
    """Train for `minutes` of training time with a light evaluation (2k samples) about every eval_seconds.

    reuse: read a finished earlier run of this benchmark in the same directory (same preset, changes and
    budget) instead of training again."""
    # no checkpoints, so the model is the EMA at the run's end (the shipped preset's averaging needs checkpoints),
    # unless `changes` ask for both
    config = apply_changes(load_preset(preset), {"checkpoint_every": 0, "average_checkpoints": 1, **(changes or {}),
                                                 "minutes": minutes,
                                                 "eval_every": max(1, int(round(steps_per_second * eval_seconds)))})
    run_dir = out / preset if not changes else out / ("-".join(f"{k}={v}" for k, v in changes.items()))
    previous = run_dir / "summary.json"
    if reuse and previous.exists() and json.loads((run_dir / "model" / "config.json").read_text())["train"][
            "minutes"] == minutes and json.loads(previous.read_text())["status"] == "finished":
        summary = json.loads(previous.read_text())
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
        summary = train(config, run_dir, quiet=True)
    if summary["status"] != "finished":
        # Asked to stop (Ctrl-C, a signal): the trainer saved and returned, but a run cut short of its minutes is no
        # measurement; the bench stops as asked, with nothing recorded for it.
        raise KeyboardInterrupt
    evals = [row for row in read_history(run_dir / "history.jsonl") if row["kind"] == "eval"]
    result: dict[str, Any] = {
        "train_seconds": round(summary["seconds"], 1), "steps": summary["step"],
        "images_seen": summary["images_seen"],
        "curve": [{"seconds": row["seconds"], "images_seen": row["images_seen"], "accuracy": row.get("accuracy"),
                   "fcd": round(row["fcd"], 3)} for row in evals]}
    for threshold in THRESHOLDS:
        reached = [row["seconds"] for row in evals if (row.get("accuracy") or 0) >= threshold]
        result[f"seconds_to_{int(threshold * 100)}"] = round(reached[0], 1) if reached else None
    if evals:
        result["final_accuracy"] = evals[-1].get("accuracy")
        result["final_fcd"] = round(evals[-1]["fcd"], 3)
        result["best_fcd"] = round(min(row["fcd"] for row in evals), 3)
    result["run_dir"] = str(run_dir)
    return result


def fcd_floor(n: int = 2000, seed: int = 0) -> float:
    """FCD of n real training images vs the test set: the floor for the light evaluation's 2k samples."""
    from digitgan.classifiers.reference import load_reference, predict
    from digitgan.evaluate.metrics import fcd

    classifier, _ = load_reference("mnist")
    train_set, test_set = load_dataset("mnist", "train"), load_dataset("mnist", "test")
    index = np.random.default_rng(seed).choice(len(train_set), n, replace=False)
    _, features = predict(classifier, train_set.images[index])
    _, test_features = predict(classifier, test_set.images)
    return fcd(features, test_features)


def plot_curves(results: dict, path: Path) -> None:
    plt = pyplot()
    figure, (accuracy_axis, fcd_axis) = plt.subplots(1, 2, figsize=(12, 4.2))
    for preset, data in results["quality"].items():
        seconds = [p["seconds"] for p in data["curve"]]
        accuracy_axis.plot(seconds, [p["accuracy"] for p in data["curve"]], label=preset)
        fcd_axis.plot(seconds, [p["fcd"] for p in data["curve"]], label=preset)
    floor = results.get("fcd_floor_2k")
    if floor:
        fcd_axis.axhline(floor, color="gray", linestyle="--", label="real-data floor")
        fcd_axis.axhline(10 * floor, color="gray", linestyle=":", label="10x floor")
    accuracy_axis.set_xlabel("training seconds (2 threads)")
    accuracy_axis.set_ylabel("conditional accuracy (2k samples)")
    accuracy_axis.set_ylim(0, 1)
    fcd_axis.set_xlabel("training seconds (2 threads)")
    fcd_axis.set_ylabel("FCD (2k samples)")
    fcd_axis.set_yscale("log")
    for axis in (accuracy_axis, fcd_axis):
        axis.legend()
        axis.grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path, dpi=90)


def run(context: Context) -> None:
    args, results = context.args, context.results
    results["fcd_floor_2k"] = round(fcd_floor(), 4)
    results["quality"] = results.get("quality", {}) if args.presets else {}
    for preset in args.presets or (["fast"] if context.smoke else QUALITY_PRESETS):
        minutes = 0.05 if context.smoke else (args.fast_minutes or args.minutes) if preset == "fast" else args.minutes
        slow = context.steps_per_second(preset) * load_preset(preset).train.batch_size < 200
        interval = 1 if context.smoke else args.slow_eval_seconds if slow else args.eval_seconds
        outcome = time_to_quality(preset, minutes, interval, args.runs, context.steps_per_second(preset),
                                  reuse=args.reuse_runs)
        results["quality"][preset] = {**outcome, "eval_every_seconds": interval, "budget_minutes": minutes}
        print(f"quality {preset}: " + json.dumps({k: v for k, v in outcome.items() if k != "curve"}), flush=True)
        context.save()
    plot_curves(results, args.out / "time_to_quality.png")


CONDITIONING = {"hadamard (G) + projection-acgan (D)": {},
                "concat (G) + concat (D)": {"g_cond": "concat", "d_cond": "concat"},
                "concat (G) + projection (D)": {"g_cond": "concat", "d_cond": "projection"},
                "hadamard (G) + acgan (D)": {"d_cond": "acgan"}}


def run_conditioning(context: Context) -> None:
    """The conditioning variants on the fast body at an equal training time, with a short CAS."""
    from digitgan.evaluate.report import classification_accuracy_score
    from digitgan.modelfolder.folder import load_generator

    results = context.results["conditioning"] = {}
    test_set = load_dataset("mnist", "test")
    for name, changes in CONDITIONING.items():
        minutes = 0.1 if context.smoke else context.args.study_minutes
        outcome = time_to_quality("fast", minutes, 4 if context.smoke else 30, context.args.runs / "conditioning",
                                  context.steps_per_second("fast"), changes={**changes, "seed": 0})
        generator, config, _ = load_generator(Path(outcome["run_dir"]))
        outcome["cas_10k_4ep"] = classification_accuracy_score(
            generator, config, test_set.images, test_set.labels, 1000 if context.smoke else 10000, seed=0,
            log=lambda _: None, epochs=1 if context.smoke else 4)
        results[name] = {k: v for k, v in outcome.items() if k != "curve"}
        print(f"conditioning {name}: {results[name]}", flush=True)
        context.save()


LEVERS_QUALITY = {"Adam 2e-4, beta1 0.5 (DCGAN default)": {"lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5},
                  "Adam 1e-3, beta1 0 (shipped)": {},
                  "Adam 2e-3, beta1 0": {"lr_g": 2e-3, "lr_d": 2e-3},
                  "Adam 1e-3, beta1 0, batch 128": {"batch_size": 128},
                  "TTUR: D 2e-3, G 1e-3": {"lr_d": 2e-3},
                  "hinge loss": {"loss": "hinge"},
                  "no EMA (raw G evaluated)": {"ema_decay": 0.0},
                  "G stages 64/32": {"g_stages": [[64, 4, 2], [32, 4, 2]]},
                  "G stages 32/8": {"g_stages": [[32, 4, 2], [8, 4, 2]]}}


def run_levers_quality(context: Context) -> None:
    """What optimizer, batch, loss, EMA and G width choices give after 60 s of training."""
    results = context.results.setdefault("levers", {"throughput": {}})["quality_60s"] = {}
    for name, changes in LEVERS_QUALITY.items():
        outcome = time_to_quality("fast", 0.1 if context.smoke else 1.0, 2 if context.smoke else 10,
                                  context.args.runs / "levers", context.steps_per_second("fast"),
                                  changes={**changes, "seed": 0})
        results[name] = {k: outcome.get(k) for k in ("seconds_to_90", "seconds_to_95", "seconds_to_98",
                                                     "final_accuracy", "final_fcd", "steps")}
        print(f"lever {name}: {results[name]}", flush=True)
        context.save()
