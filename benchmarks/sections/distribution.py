"""The whole distribution: recall, coverage, FCD, the broken share and CAS beside the real floor, for the levers
against a narrow slice of handwriting (equal training time, the same seeds), for `fast` from scratch, and for the
shipped model.

- levers: each variant of `fast` trains --distribution-minutes, then the standard evaluation (10,000 samples);
  the finalists again with a second seed.
- fast: 10 minutes from scratch with the light evaluation (time to 98%), then the standard evaluation and CAS on
  60,000 generated images.
- shipped (a section of its own, `--only shipped`: it trains nothing, so a newly shipped model's row does not wait
  on an hour of levers): the model inside the package, evaluated with CAS (60,000 generated; the committed CAS
  recipe); the model shipped before it keeps its row.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import Context
from benchmarks.sections.quality import time_to_quality

LEVERS = {"hadamard G (fast before this change)": {"g_cond": "hadamard", "standing_stats": 0},
          "hadamard G + standing BN statistics": {"g_cond": "hadamard"},
          "concat G, no standing statistics": {"standing_stats": 0},
          "concat G + standing statistics (fast now)": {},
          "+ R1 (gamma 1)": {"r1_gamma": 1.0},
          "+ z_dim 128": {"z_dim": 128},
          "+ projection-only D (no auxiliary classifier)": {"d_cond": "projection"},
          "+ hinge loss": {"loss": "hinge"},
          "+ G without BatchNorm": {"g_norm": "none"},
          "+ G 128 -> 64 -> 32 channels": {"g_base": 128, "g_stages": [[64, 4, 2], [32, 4, 2]]}}
FINALISTS = ("hadamard G (fast before this change)", "concat G + standing statistics (fast now)")
KEYS = ("accuracy", "fcd", "precision", "recall", "coverage", "broken", "broken_low_confidence", "broken_outlier",
        "broken_ink")


def _scores(report: dict[str, Any]) -> dict[str, Any]:
    return {key: report["model"].get(key) for key in KEYS if key in report["model"]}


def lever_rows(context: Context, minutes: float) -> dict[str, Any]:
    from digitgan.evaluate.report import evaluate_run

    rows: dict[str, Any] = {}
    n_per_class = 50 if context.smoke else 1000
    for name, changes in LEVERS.items():
        seeds = (0, 1) if name in FINALISTS and not context.smoke else (0,)
        per_seed = []
        for seed in seeds:
            outcome = time_to_quality("fast", minutes, 1e9, context.args.runs / "distribution",
                                      context.steps_per_second("fast"), changes={**changes, "seed": seed})
            report = evaluate_run(Path(outcome["run_dir"]), n_per_class=n_per_class, seed=0, log=lambda _: None)
            per_seed.append({"seed": seed, "steps": outcome["steps"], "train_seconds": outcome["train_seconds"],
                             **_scores(report)})
        rows[name] = {"seeds": per_seed, **{key: statistics.mean(r[key] for r in per_seed) for key in KEYS
                                            if key in per_seed[0]}}
        print(f"distribution lever {name}: {rows[name]}", flush=True)
        context.save()
    return rows


def fast_from_scratch(context: Context, minutes: float) -> dict[str, Any]:
    from digitgan.evaluate.report import evaluate_run

    outcome = time_to_quality("fast", minutes, 2 if context.smoke else 10, context.args.runs / "distribution-fast",
                              context.steps_per_second("fast"), changes={"seed": 0})
    report = evaluate_run(Path(outcome["run_dir"]), n_per_class=50 if context.smoke else 1000, seed=0, cas=True,
                          cas_n=1000 if context.smoke else 60000, log=lambda _: None)
    return {"minutes": minutes, "steps": outcome["steps"], "seconds_to_98": outcome["seconds_to_98"],
            "accuracy_at_60s": next((p["accuracy"] for p in reversed(outcome["curve"]) if p["seconds"] <= 60), None),
            **_scores(report), "cas": report["model"]["cas"],
            "real_floor": {key: report["real_floor"].get(key) for key in (*KEYS, "cas")}}


def shipped(context: Context) -> dict[str, Any]:
    """The shipped model's evaluation with CAS: its committed report when `make pretrained` wrote it by the bench's
    recipe (10,000 samples, seed 0, CAS on 60,000 generated; the evaluation is seeded, so recomputing it repeats
    the same numbers), otherwise evaluated here in a scratch copy (the package directory stays untouched)."""
    from digitgan.evaluate.report import evaluate_run
    from digitgan.modelfolder.folder import default_model_dir

    committed = default_model_dir() / "report.json"
    report = json.loads(committed.read_text()) if committed.exists() and not context.smoke else {}
    source = "the committed report (make pretrained)"
    if not (report.get("n_per_class") == 1000 and report.get("seed") == 0 and "cas" in report.get("model", {})):
        source = "evaluated by the bench"
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "shipped"
            shutil.copytree(default_model_dir(), copy / "model",
                            ignore=shutil.ignore_patterns("report.*", "*.py", "__pycache__"))
            report = evaluate_run(copy, n_per_class=50 if context.smoke else 1000, seed=0, cas=True,
                                  cas_n=1000 if context.smoke else 60000, log=lambda _: None)
    raw = json.loads((default_model_dir() / "config.json").read_text())
    return {"step": report.get("step"), "preset": report.get("preset"), "images_seen": report.get("images_seen"),
            "source": source, "recipe": recipe_note(raw), **_scores(report), "cas": report["model"]["cas"],
            "real_floor": {key: report["real_floor"].get(key) for key in (*KEYS, "cas")}}


def recipe_note(raw: dict[str, Any]) -> str:
    """What tells one shipped model from the next, from its config.json: label smoothing and what the EMA export
    averaged (e.g. "one-sided label smoothing 0.1, the EMA averaged over steps 70,000-90,000")."""
    smoothing = raw.get("train", {}).get("label_smoothing", 0.0)
    averaged = raw.get("averaged_steps") or [raw.get("step") or 0]
    export = (f"the EMA averaged over steps {averaged[0]:,}-{averaged[-1]:,}" if len(averaged) > 1
              else f"the EMA at step {averaged[0]:,}")
    return f"{f'one-sided label smoothing {smoothing:g}' if smoothing else 'no label smoothing'}, {export}"


def run(context: Context) -> None:
    minutes = 0.1 if context.smoke else context.args.distribution_minutes
    results = context.results.setdefault("distribution", {})
    results["lever_minutes"] = minutes
    results["levers"] = lever_rows(context, minutes)
    context.save()
    results["fast"] = fast_from_scratch(context, 0.2 if context.smoke else 10.0)
    print(f"distribution: fast {results['fast']}", flush=True)


def run_shipped(context: Context) -> None:
    results = context.results.setdefault("distribution", {})
    results["shipped"] = keep_earlier_shipped(results, shipped(context))
    print(f"distribution: shipped {results['shipped']}", flush=True)


def keep_earlier_shipped(results: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """When the shipped model changed since the last measurement (other figures), the earlier one's row moves to
    results['earlier_shipped'] (newest first), so the report keeps every model that was shipped. Returns `now`."""
    before = results.get("shipped")
    if before and {key: before.get(key) for key in KEYS} != {key: now.get(key) for key in KEYS}:
        results.setdefault("earlier_shipped", []).insert(0, before)
    return now
