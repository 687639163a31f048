"""`digitgan evaluate RUN`: every metric of the generator beside the same metric for real data (the floor).

Generated: n_per_class images of every class (conditional) or n_per_class x C images (unconditional).
Real floor: 10,000 real training images (same count as the default generated set), scored the same way
against the real test set; for CAS, the shipped classifier's own test accuracy (same recipe, real data).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from digitgan.data import load_dataset
from digitgan.errors import UserError
from digitgan.evaluate.classifier import Recipe, load_reference, predict, reference_name, train_reference
from digitgan.evaluate.metrics import (
    classifier_score,
    conditional_accuracy,
    fcd,
    intra_class_diversity,
    kid,
    precision_recall_density_coverage,
)
from digitgan.exported import load_generator
from digitgan.files import pyplot, save_figure, write_json, write_text
from digitgan.models import is_conditional, one_hot
from digitgan.sampling import generate

FLOOR_SIZE = 10000


def score_images(images: np.ndarray, requested: np.ndarray | None, classifier: torch.nn.Module,
                 test_features: np.ndarray, num_classes: int, seed: int, full: bool = True) -> dict[str, Any]:
    """All metrics of one image set (N,28,28) uint8 against the real test features."""
    logits, features = predict(classifier, images)
    predicted = logits.argmax(1)
    kid_mean, kid_std = kid(features, test_features, seed=seed)
    histogram = np.bincount(predicted, minlength=num_classes) / len(predicted)
    result: dict[str, Any] = {"n": int(len(images)), "fcd": fcd(features, test_features), "kid": kid_mean,
                              "kid_std": kid_std, "classifier_score": classifier_score(logits),
                              "predicted_class_histogram": histogram.tolist(),
                              "histogram_tv_from_uniform": float(0.5 * np.abs(histogram - 1 / num_classes).sum())}
    if requested is not None:
        result.update(conditional_accuracy(predicted, requested, num_classes))
    if full:
        result.update(precision_recall_density_coverage(test_features, features))
        by_class = requested if requested is not None else predicted
        result["intra_class_diversity"] = intra_class_diversity(features, by_class, num_classes, seed=seed)
    return result


def accuracy_of_recipe(train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray,
                       test_labels: np.ndarray, num_classes: int, recipe: Recipe, log=print) -> float:
    """Train a fresh classifier by `recipe` on (train_images, train_labels); its accuracy on the test set."""
    model = train_reference(train_images, train_labels, num_classes, recipe, log=log)
    logits, _ = predict(model, test_images)
    return float((logits.argmax(1) == test_labels).mean())


def classification_accuracy_score(generator: torch.nn.Module, config: Any, test_images: np.ndarray,
                                  test_labels: np.ndarray, n_total: int, seed: int, log=print,
                                  epochs: int | None = None) -> float:
    """CAS (Ravuri & Vinyals 2019): train the reference recipe on a balanced generated set, test on real.

    `epochs` overrides the recipe's epoch count (cheaper studies say so in their labels)."""
    classes = config.model.num_classes
    labels = np.repeat(np.arange(classes), n_total // classes)
    images = generate(generator, config, one_hot(torch.from_numpy(labels), classes), seed=seed + 7)
    recipe = Recipe(seed=seed) if epochs is None else Recipe(seed=seed, epochs=epochs)
    return accuracy_of_recipe(images, labels, test_images, test_labels, classes, recipe, log=log)


def evaluate_run(run: Path, n_per_class: int = 1000, seed: int = 0, cas: bool = False, cas_n: int = 60000,
                 log=print) -> dict[str, Any]:
    """Evaluate the exported generator of `run`; writes RUN/eval/{report.json, report.md, confusion.png}."""
    if n_per_class < 10:
        raise UserError("--n-per-class must be at least 10")
    started = time.monotonic()
    generator, config, raw = load_generator(run)
    dataset = config.train.dataset
    classifier, card = load_reference(reference_name(dataset))
    classes = config.model.num_classes
    conditional = is_conditional(config.model)
    requested = np.repeat(np.arange(classes), n_per_class)
    images = generate(generator, config, one_hot(torch.from_numpy(requested), classes), seed=seed)

    test, train = load_dataset(dataset, "test"), load_dataset(dataset, "train")
    _, test_features = predict(classifier, test.images)
    floor_index = np.sort(np.random.default_rng(seed).choice(len(train), min(FLOOR_SIZE, len(train)), replace=False))
    model_scores = score_images(images, requested if conditional else None, classifier, test_features, classes, seed)
    floor_scores = score_images(train.images[floor_index], train.labels[floor_index], classifier, test_features,
                                classes, seed)
    if cas:
        if not conditional:
            raise UserError("--cas needs a conditional model (it trains a classifier on labelled samples)")
        model_scores["cas"] = classification_accuracy_score(generator, config, test.images, test.labels, cas_n,
                                                            seed, log=log)
        floor_scores["cas"] = card.get("test_accuracy")
    report: dict[str, Any] = {
        "run": str(run), "preset": config.preset, "step": raw.get("step"), "images_seen": raw.get("images_seen"),
        "dataset": dataset, "conditional": conditional, "n_per_class": n_per_class, "seed": seed,
        "classifier": {"dataset": card["dataset"], "test_accuracy": card.get("test_accuracy"),
                       "feature_dim": card.get("feature_dim")},
        "model": model_scores, "real_floor": floor_scores,
        "seconds": round(time.monotonic() - started, 1),
    }
    out = run / "eval"
    write_json(out / "report.json", report)
    write_text(out / "report.md", render_markdown(report))
    if conditional:
        plot_confusion(np.asarray(model_scores["confusion"]), out / "confusion.png")
    return report


ROWS = [("conditional accuracy", "accuracy", "{:.4f}"), ("FCD", "fcd", "{:.3f}"), ("KID x1000", "kid", None),
        ("precision", "precision", "{:.3f}"), ("recall", "recall", "{:.3f}"), ("density", "density", "{:.3f}"),
        ("coverage", "coverage", "{:.3f}"), ("classifier score", "classifier_score", "{:.3f}"),
        ("class histogram TV from uniform", "histogram_tv_from_uniform", "{:.4f}"),
        ("mean intra-class diversity", "intra_class_diversity", None), ("CAS", "cas", "{:.4f}")]


def _cell(scores: dict[str, Any], key: str, fmt: str | None) -> str:
    if key not in scores or scores[key] is None:
        return "—"
    if key == "kid":
        return f"{1000 * scores['kid']:.3f} ± {1000 * scores['kid_std']:.3f}"
    if key == "intra_class_diversity":
        return f"{np.nanmean(scores[key]):.3f}"
    return fmt.format(scores[key])


def metric_table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """A markdown table, one column per (name, scores) pair."""
    lines = ["| metric | " + " | ".join(name for name, _ in rows) + " |", "|---" * (len(rows) + 1) + "|"]
    for label, key, fmt in ROWS:
        if any(key in scores for _, scores in rows):
            lines.append(f"| {label} | " + " | ".join(_cell(scores, key, fmt) for _, scores in rows) + " |")
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    model, floor = report["model"], report["real_floor"]
    lines = [f"# Evaluation: {report['run']} ({report['preset']}, step {report['step']})", "",
             f"{model['n']} generated images ({report['n_per_class']} per class) and {floor['n']} real training "
             f"images, each against the real {report['dataset']} test set, in the 128-d feature space of the shipped "
             f"reference classifier (test accuracy {report['classifier']['test_accuracy']}). FCD is the Fréchet "
             "distance on those features (not Inception FID). Seed " + str(report["seed"]) + ".", "",
             metric_table([("model", model), ("real floor", floor)])]
    if "per_class" in model:
        lines += ["", "Per-class conditional accuracy: "
                  + ", ".join(f"{c}: {a:.3f}" for c, a in enumerate(model["per_class"]))]
    lines += ["", "Predicted-class histogram of the samples: "
              + ", ".join(f"{c}: {h:.3f}" for c, h in enumerate(model["predicted_class_histogram"]))]
    if "intra_class_diversity" in model:
        ratios = np.asarray(model["intra_class_diversity"]) / np.asarray(floor["intra_class_diversity"])
        lines += ["", "Intra-class diversity, model / real, per class: "
                  + ", ".join(f"{c}: {r:.2f}" for c, r in enumerate(ratios))]
    return "\n".join(lines)


def summary_lines(report: dict[str, Any]) -> list[str]:
    model, floor = report["model"], report["real_floor"]
    lines = [f"{report['run']} ({report['preset']}, step {report['step']}), {model['n']} samples"]
    for label, key, fmt in ROWS:
        if key in model:
            lines.append(f"  {label:<34} {_cell(model, key, fmt):>16}   real floor {_cell(floor, key, fmt):>16}")
    return lines


def plot_confusion(confusion: np.ndarray, path: Path) -> Path:
    plt = pyplot()
    rates = confusion / confusion.sum(1, keepdims=True).clip(min=1)
    figure, axis = plt.subplots(figsize=(5.5, 5))
    axis.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for (row, col), value in np.ndenumerate(rates):
        if value >= 0.005:
            axis.text(col, row, f"{100 * value:.0f}", ha="center", va="center", fontsize=7,
                      color="white" if value > 0.5 else "black")
    axis.set_xlabel("classifier's prediction")
    axis.set_ylabel("class asked for")
    axis.set_xticks(range(len(rates)))
    axis.set_yticks(range(len(rates)))
    axis.set_title("conditional confusion (%)")
    figure.tight_layout()
    return save_figure(figure, path, dpi=90)


def compare_runs(runs: list[Path], markdown: bool = False) -> str:
    """One table, a row per run (from RUN/eval/report.json) plus the real-data floor row: aligned text for a
    terminal, or markdown."""
    reports = []
    for run in runs:
        path = run / "eval" / "report.json"
        if not path.is_file():
            raise UserError(f"{run} has no eval/report.json; evaluate it first (digitgan evaluate {run})")
        try:
            reports.append(json.loads(path.read_text()))
        except (OSError, ValueError) as error:
            raise UserError(f"{path} is unreadable ({error})") from None
    keys = [(label, key, fmt) for label, key, fmt in ROWS
            if key != "intra_class_diversity" and any(key in r["model"] for r in reports)]
    header = ["run", "preset", "step", "n", *(label for label, _, _ in keys)]
    rows = [[str(r["run"]), str(r["preset"]), str(r["step"]), str(r["model"]["n"]),
             *(_cell(r["model"], key, fmt) for _, key, fmt in keys)] for r in reports]
    floor = reports[0]["real_floor"]
    rows.append([f"real floor ({reports[0]['dataset']})", "—", "—", str(floor["n"]),
                 *(_cell(floor, key, fmt) for _, key, fmt in keys)])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                 for row in [header, *rows]]
    if len({r["n_per_class"] for r in reports}) > 1 or len({r["dataset"] for r in reports}) > 1:
        lines.append("\nWarning: these reports differ in sample count or data set; their numbers do not compare.")
    return "\n".join(lines)
