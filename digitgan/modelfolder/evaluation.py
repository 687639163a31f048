"""A model folder's evaluation: the one list of headline metrics, where the report is found, and the summary that
the served page (`/api/model`), the ONNX file's metadata and the model card all show.

`digitgan evaluate` writes the full report (digitgan/evaluate/report.py); everything else reads it through here,
so every place that shows a model's figures shows the same keys and values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple


class Metric(NamedTuple):
    key: str           # the report's key
    name: str          # what a reader is shown
    higher_is_better: bool


HEADLINE_METRICS = (
    Metric("accuracy", "conditional accuracy", True),
    Metric("fcd", "FCD (reference-classifier features)", False),
    Metric("kid", "KID (reference-classifier features)", False),
    Metric("precision", "precision", True),
    Metric("recall", "recall", True),
    Metric("density", "density", True),
    Metric("coverage", "coverage", True),
    Metric("cas", "CAS (classifier trained on generated, tested on real)", True),
    Metric("classifier_score", "classifier score", True),
    Metric("broken", "broken share", False),
)
HEADLINE_KEYS = tuple(metric.key for metric in HEADLINE_METRICS)


def headline_metrics() -> list[dict[str, Any]]:
    """The headline metrics as the pages show them: [{key, name, higher_is_better}] in order."""
    return [metric._asdict() for metric in HEADLINE_METRICS]


def report_paths(model_dir: Path) -> tuple[Path, Path]:
    """Where a model's report may be: beside the weights (the shipped model), or the run's RUN/eval/."""
    return model_dir / "report.json", model_dir.parent / "eval" / "report.json"


def read_report(model_dir: Path) -> dict[str, Any] | None:
    """The model's evaluation report (report.json's contents), or None when it has none or it is unreadable (an
    unreadable report only hides the figures)."""
    for path in report_paths(model_dir):
        if path.is_file():
            try:
                report = json.loads(path.read_text())
            except (OSError, ValueError):
                return None
            return report if isinstance(report, dict) else None
    return None


def evaluation_summary(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The headline figures of a report, the model's beside the real floor's:
    {"n_per_class": int, "model": {key: float}, "real_floor": {key: float}} (keys of HEADLINE_METRICS present)."""
    if not report:
        return None
    model, floor = report.get("model") or {}, report.get("real_floor") or {}
    return {"n_per_class": report.get("n_per_class"),
            "model": {key: model[key] for key in HEADLINE_KEYS if model.get(key) is not None},
            "real_floor": {key: floor[key] for key in HEADLINE_KEYS if floor.get(key) is not None}}
