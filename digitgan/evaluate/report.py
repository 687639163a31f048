"""`digitgan evaluate RUN`: every metric of the generator beside the same metric for real data (the floor).

Generated: n_per_class images of every class (conditional) or n_per_class x C images (unconditional).
Real floor: 10,000 real training images (same count as the default generated set), scored the same way
against the real test set; for CAS, the shipped classifier's own test accuracy (same recipe, real data).
"""

from __future__ import annotations

import copy
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from digitgan import seeds
from digitgan.classifiers.reference import Recipe, load_reference, predict, reference_name, train_reference
from digitgan.data import load_dataset
from digitgan.drawing.sampling import generate
from digitgan.errors import UserError
from digitgan.evaluate.metrics import (
    K_DC,
    K_PR,
    broken_shares,
    classifier_score,
    conditional_accuracy,
    fcd,
    ink_share,
    intra_class_diversity,
    kid,
    knn_radii,
    least_convincing,
    nearest_distances,
    precision_recall_density_coverage,
)
from digitgan.evaluate.stored import digest, stored
from digitgan.files import pyplot, save_figure, save_png, write_json, write_text
from digitgan.images import make_grid
from digitgan.modelfolder.card import write_model_card
from digitgan.modelfolder.folder import find_model_dir, load_generator
from digitgan.models import one_hot

FLOOR_SIZE = 10000
OUTLIER_QUANTILE = 99.9


@dataclass
class RealReference:
    """What a sample set is judged against: the real test set's features, and for the broken share a second real
    set (training images outside the floor sample) with the outlier distance threshold, the real test set's
    OUTLIER_QUANTILE-th percentile distance to its nearest neighbour in that set."""

    test_features: np.ndarray
    reference_features: np.ndarray
    outlier_threshold: float
    ink_range: tuple[float, float]  # the reference images' (0.1th, 99.9th) percentile of ink share
    test_radii: tuple[np.ndarray, np.ndarray]  # the test features' k-NN radii for precision/recall and density/coverage

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields as named arrays (to keep on disk; `from_arrays` reads them back)."""
        return {"test_features": self.test_features, "reference_features": self.reference_features,
                "outlier_threshold": np.float64(self.outlier_threshold), "ink_range": np.array(self.ink_range),
                "test_radii_pr": self.test_radii[0], "test_radii_dc": self.test_radii[1]}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> RealReference:
        low, high = arrays["ink_range"].tolist()
        return cls(arrays["test_features"], arrays["reference_features"], float(arrays["outlier_threshold"]),
                   (low, high), (arrays["test_radii_pr"], arrays["test_radii_dc"]))


def real_reference(classifier: torch.nn.Module, test_images: np.ndarray, reference_images: np.ndarray) -> RealReference:
    _, test_features = predict(classifier, test_images)
    _, reference_features = predict(classifier, reference_images)
    threshold = float(np.percentile(nearest_distances(test_features, reference_features), OUTLIER_QUANTILE))
    low, high = np.percentile(ink_share(reference_images), [100 - OUTLIER_QUANTILE, OUTLIER_QUANTILE])
    radii = (knn_radii(test_features, K_PR), knn_radii(test_features, K_DC))
    return RealReference(test_features, reference_features, threshold, (float(low), float(high)), radii)


def judgements(logits: np.ndarray, features: np.ndarray, requested: np.ndarray | None,
               reference: RealReference) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: (the classifier's probability of the asked-for class — of its own top class for an
    unconditional model —, the distance to the nearest real reference image in feature space)."""
    shifted = logits - logits.max(1, keepdims=True)
    probabilities = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
    asked = requested if requested is not None else probabilities.argmax(1)
    return probabilities[np.arange(len(asked)), asked], nearest_distances(features, reference.reference_features)


def score_images(images: np.ndarray, requested: np.ndarray | None, classifier: torch.nn.Module,
                 reference: RealReference, num_classes: int, seed: int,
                 full: bool = True) -> tuple[dict[str, Any], np.ndarray]:
    """All metrics of one image set (N,28,28) uint8 against the real data, and the indices of its least convincing
    samples (worst first)."""
    test_features = reference.test_features
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
    asked_probability, distance = judgements(logits, features, requested, reference)
    ink = ink_share(images)
    result.update(broken_shares(asked_probability, distance, reference.outlier_threshold, ink, reference.ink_range))
    if full:
        result.update(precision_recall_density_coverage(test_features, features, real_radii=reference.test_radii))
        by_class = requested if requested is not None else predicted
        result["intra_class_diversity"] = intra_class_diversity(features, by_class, num_classes, seed=seed)
    return result, least_convincing(asked_probability, distance, reference.outlier_threshold, ink, reference.ink_range)


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
    images = generate(generator, config, one_hot(torch.from_numpy(labels), classes), seed=seed + seeds.CAS_SAMPLES)
    recipe = Recipe(seed=seed) if epochs is None else Recipe(seed=seed, epochs=epochs)
    return accuracy_of_recipe(images, labels, test_images, test_labels, classes, recipe, log=log)


def evaluate_run(run: Path, n_per_class: int = 1000, seed: int = 0, cas: bool = False, cas_n: int = 60000,
                 log=print) -> dict[str, Any]:  # noqa: ANN001 - a print-like function
    """Evaluate the exported generator of `run` (n_per_class samples of each class, from `seed`); writes
    RUN/eval/{report.json, report.md, confusion.png, worst.png, row.png}, and rewrites the model folder's card
    (README.md) with the figures."""
    if n_per_class < 10:
        raise UserError(f"an evaluation needs at least 10 samples per class, got {n_per_class}")
    generator, config, raw = load_generator(run)
    classes = config.model.num_classes
    conditional = config.model.conditional
    if cas and not conditional:
        raise UserError("CAS needs a conditional model (it trains a classifier on labelled samples)")
    requested = np.repeat(np.arange(classes), n_per_class)
    images = generate(generator, config, one_hot(torch.from_numpy(requested), classes), seed=seed)

    def cas_score(test: Any) -> float:
        return classification_accuracy_score(generator, config, test.images, test.labels, cas_n, seed, log=log)

    about = {"run": str(run), "preset": config.preset, "step": raw.get("step"), "images_seen": raw.get("images_seen"),
             "n_per_class": n_per_class}
    report = evaluate_images(images, requested if conditional else None, config.train.dataset, classes, run / "eval",
                             about, seed, cas_score if cas else None)
    write_model_card(find_model_dir(run), config, raw, report)  # the card now carries the figures
    return report


@dataclass
class RealSide:
    """Everything an evaluation computes from real data alone: the same for every sample set judged against one
    data set with one seed."""
    classifier: torch.nn.Module
    card: dict[str, Any]
    test: Any                       # data.Dataset: the real test split
    reference: RealReference
    floor_scores: dict[str, Any]    # the real floor: FLOOR_SIZE real training images scored like a sample set


_REAL_SIDES: dict[tuple[str, int, int, int, str], RealSide] = {}


def real_side(dataset: str, num_classes: int, seed: int) -> RealSide:
    """The real side of an evaluation of `dataset` with `seed`: kept per process and on disk (evaluate.stored), each
    keyed by the data's bytes (a changed file is computed afresh), the classifier's weights and this code."""
    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    data = digest(train.images, train.labels, test.images, test.labels)
    key = (dataset, num_classes, seed, FLOOR_SIZE, data)
    if key not in _REAL_SIDES:
        classifier, card = load_reference(reference_name(dataset))
        code = [seeds, *(sys.modules[function.__module__] for function in (real_side, fcd, predict))]
        arrays = stored("real-side", digest(data, num_classes, seed, FLOOR_SIZE, OUTLIER_QUANTILE, classifier, *code),
                        lambda: _real_side_arrays(classifier, train, test, num_classes, seed))
        _REAL_SIDES.clear()  # one data set at a time: the features of another would only hold memory
        _REAL_SIDES[key] = RealSide(classifier, card, test, RealReference.from_arrays(arrays),
                                    json.loads(str(arrays["floor_scores"])))
    return _REAL_SIDES[key]


def _real_side_arrays(classifier: torch.nn.Module, train: Any, test: Any, num_classes: int,
                      seed: int) -> dict[str, np.ndarray]:
    """The real side computed, as arrays to keep: the RealReference's fields and the floor's scores (as JSON)."""
    floor_index = np.sort(np.random.default_rng(seed).choice(len(train), min(FLOOR_SIZE, len(train)), replace=False))
    # The broken share's reference: other real training images than the floor's, so the floor is judged fairly.
    others = np.setdiff1d(np.arange(len(train)), floor_index)
    reference_rng = np.random.default_rng(seed + seeds.BROKEN_REFERENCE)
    reference_index = np.sort(reference_rng.choice(others, min(FLOOR_SIZE, len(others)), replace=False))
    reference = real_reference(classifier, test.images, train.images[reference_index])
    floor_scores, _ = score_images(train.images[floor_index], train.labels[floor_index], classifier, reference,
                                   num_classes, seed)
    return {**reference.arrays(), "floor_scores": np.array(json.dumps(floor_scores))}


def evaluate_images(images: np.ndarray, requested: np.ndarray | None, dataset: str, num_classes: int, out: Path,
                    about: dict[str, Any], seed: int = 0, cas: Any = None) -> dict[str, Any]:
    """Score (N,28,28) uint8 images (asked for `requested` classes, or None when unconditional) beside the real
    floor of `dataset`; write report.json, report.md, worst.png, row.png (and confusion.png) into `out`.
    cas(test_set) -> float computes the classification accuracy score when given."""
    started = time.monotonic()
    real = real_side(dataset, num_classes, seed)
    classifier, card, test, reference = real.classifier, real.card, real.test, real.reference
    model_scores, worst = score_images(images, requested, classifier, reference, num_classes, seed)
    floor_scores = copy.deepcopy(real.floor_scores)
    if cas is not None:
        model_scores["cas"] = cas(test)
        floor_scores["cas"] = card.get("test_accuracy")  # the same recipe on the 60,000 real training images
    report: dict[str, Any] = {
        **about, "dataset": dataset, "conditional": requested is not None, "seed": seed,
        "classifier": {"dataset": card["dataset"], "test_accuracy": card.get("test_accuracy"),
                       "feature_dim": card.get("feature_dim")},
        "model": model_scores, "real_floor": floor_scores, "outlier_threshold": reference.outlier_threshold,
        "ink_range": list(reference.ink_range), "seconds": round(time.monotonic() - started, 1),
    }
    save_png(out / "worst.png", make_grid(images[worst], columns=10), scale=2)
    first = [np.flatnonzero(requested == c)[0] for c in range(num_classes)] if requested is not None else \
        list(range(min(num_classes, len(images))))
    save_png(out / "row.png", make_grid(images[first], columns=len(first)), scale=1)
    write_json(out / "report.json", report)
    write_text(out / "report.md", render_markdown(report))
    if requested is not None:
        plot_confusion(np.asarray(model_scores["confusion"]), out / "confusion.png")
    return report


ROWS = [("conditional accuracy", "accuracy", "{:.4f}"), ("FCD", "fcd", "{:.3f}"), ("KID x1000", "kid", None),
        ("precision", "precision", "{:.3f}"), ("recall", "recall", "{:.3f}"), ("density", "density", "{:.3f}"),
        ("coverage", "coverage", "{:.3f}"), ("broken share", "broken", "{:.4f}"),
        ("  asked-class probability < 0.5", "broken_low_confidence", "{:.4f}"),
        ("  outlier beyond the real 99.9th percentile", "broken_outlier", "{:.4f}"),
        ("  ink share outside the real 0.1-99.9th pct", "broken_ink", "{:.4f}"),
        ("classifier score", "classifier_score", "{:.3f}"),
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
    low, high = report["ink_range"]
    lines += ["", f"Broken share: a sample whose asked-for class gets probability < 0.5 from the reference classifier, "
              f"or whose features lie farther from {FLOOR_SIZE:,} other real training images than the real test set's "
              f"{OUTLIER_QUANTILE}th percentile ({report['outlier_threshold']:.2f}), or whose ink share (pixels above "
              f"mid-grey) lies outside the real images' range [{low:.3f}, {high:.3f}]. worst.png: the 100 least "
              "convincing samples, worst first (outliers, farthest first, then the lowest asked-class probability)."]
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
            lines.append(f"  {label:<44} {_cell(model, key, fmt):>16}   real floor {_cell(floor, key, fmt):>16}")
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


def _read_reports(runs: list[Path]) -> list[dict[str, Any]]:
    reports = []
    for run in runs:
        path = run / "eval" / "report.json"
        if not path.is_file():
            raise UserError(f"{run} has no eval/report.json; evaluate it first (digitgan evaluate {run})")
        try:
            reports.append(json.loads(path.read_text()))
        except (OSError, ValueError) as error:
            raise UserError(f"{path} is unreadable ({error})") from None
    return reports


def training_cost(run: Path) -> tuple[str, str]:
    """(training seconds over all invocations, images/s) from RUN/summary.json, as table cells ('—' if none)."""
    try:
        summary = json.loads((run / "summary.json").read_text())
    except (OSError, ValueError):
        return "—", "—"
    seconds = summary.get("last_log", {}).get("seconds") or summary.get("seconds")
    if not seconds:
        return "—", "—"
    return f"{seconds:,.0f}", f"{summary['images_seen'] / seconds:,.0f}"


def compare_runs(runs: list[Path], markdown: bool = False) -> str:
    """One table, a row per run (from RUN/eval/report.json and RUN/summary.json) plus the real-data floor row:
    aligned text for a terminal, or markdown."""
    reports = _read_reports(runs)
    keys = [(label.strip(), key, fmt) for label, key, fmt in ROWS
            if key != "intra_class_diversity" and any(key in r["model"] for r in reports)]
    header = ["run", "preset", "step", "n", *(label for label, _, _ in keys), "training s", "images/s"]
    rows = [[str(r["run"]), str(r["preset"]), str(r["step"]), str(r["model"]["n"]),
             *(_cell(r["model"], key, fmt) for _, key, fmt in keys), *training_cost(run)]
            for run, r in zip(runs, reports, strict=True)]
    floor = reports[0]["real_floor"]
    rows.append([f"real floor ({reports[0]['dataset']})", "—", "—", str(floor["n"]),
                 *(_cell(floor, key, fmt) for _, key, fmt in keys), "—", "—"])
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


def compare_picture(runs: list[Path], out: Path, names: list[str] | None = None) -> Path:
    """One PNG: a row of samples (RUN/eval/row.png: the first of each class) per run, named on the left, and the
    real data's row (the first test image of each class) last."""
    reports = _read_reports(runs)
    return sample_rows_picture([run / "eval" / "row.png" for run in runs],
                               names or [str(r["preset"]) for r in reports], reports[0]["dataset"], out)


def sample_rows_picture(strips: list[Path], names: list[str], dataset: str, out: Path) -> Path:
    """One PNG: each strip of samples (a PNG such as RUN/eval/row.png) named on the left, and `dataset`'s real row
    (the first test image of each class) last."""
    from PIL import Image, ImageDraw

    rows = []
    for strip in strips:
        with Image.open(strip) as picture:
            rows.append(np.asarray(picture.convert("L")))
    test = load_dataset(dataset, "test")
    real = test.images[[np.flatnonzero(test.labels == c)[0] for c in range(test.num_classes)]]
    rows.append(make_grid(real, columns=len(real)))
    labels = [*names, "real data"]
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    label_width = max(150, 8 + int(max(measure.textlength(label) for label in labels)))
    height = max(row.shape[0] for row in rows)
    canvas = Image.new("L", (label_width + max(row.shape[1] for row in rows), height * len(rows)), 0)
    draw = ImageDraw.Draw(canvas)
    for index, (label, row) in enumerate(zip(labels, rows, strict=True)):
        canvas.paste(Image.fromarray(row), (label_width, index * height))
        draw.text((4, index * height + height // 2 - 6), label, fill=255)
    scaled = canvas.resize((canvas.width * 2, canvas.height * 2), Image.Resampling.NEAREST)
    return save_png(out, np.asarray(scaled))
