"""Summaries of a data set for `digitgan data info`: counts per class and split, pixel statistics, a contact sheet."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitgan.data import Dataset
from digitgan.files import save_png
from digitgan.images import make_grid


def pixel_stats(images: np.ndarray) -> dict[str, float]:
    """images: (N,28,28) uint8. Statistics of pixel/255."""
    scaled = images.astype(np.float64) / 255.0
    return {
        "mean": round(float(scaled.mean()), 4),
        "std": round(float(scaled.std()), 4),
        "min": round(float(scaled.min()), 4),
        "max": round(float(scaled.max()), 4),
        "fraction_zero": round(float((images == 0).mean()), 4),
    }


def summarize(dataset: Dataset) -> dict:
    counts = np.bincount(dataset.labels, minlength=dataset.num_classes)
    return {
        "split": dataset.split,
        "count": len(dataset),
        "per_class": {name: int(c) for name, c in zip(dataset.class_names, counts, strict=True)},
        "pixels": pixel_stats(dataset.images),
    }


def contact_sheet(dataset: Dataset, path: Path, per_class: int = 16, seed: int = 0) -> Path:
    """One row per class, `per_class` random examples each (seeded), enlarged 2x."""
    rng = np.random.default_rng(seed)
    rows = []
    for label in range(dataset.num_classes):
        indices = np.flatnonzero(dataset.labels == label)
        chosen = rng.choice(indices, size=min(per_class, len(indices)), replace=False) if len(indices) else []
        row = np.zeros((per_class, 28, 28), dtype=np.uint8)
        row[: len(chosen)] = dataset.images[np.sort(chosen)]
        rows.append(row)
    return save_png(path, make_grid(np.concatenate(rows), columns=per_class), scale=2)
