"""Your own hand, measured: MNIST test digits (and the 20 drawn ones of tests/fixtures/drawn-digits/) taken as the
drawn digits, their hands found three ways — the encoder alone, the encoder plus refinement, refinement alone — and
judged by what a user wants: the digit redrawn (pixel L1; the distance in the reference classifier's features, a
network the inversion does not use, beside the same distance between two real digits of one class), the other
nine digits written in that hand read as asked (conditional accuracy), and the style kept: Pearson r, pooled after
z-scoring within each class, between the source's slant / stroke thickness and the mean of its nine written digits',
beside the same r for random noise (the floor). Time per inversion on this machine's threads."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common import Context
from digitgan.classifiers.reference import load_reference, predict
from digitgan.data import load_dataset
from digitgan.drawing.hand import (
    InversionSettings,
    encode,
    find_hand,
    invert,
    preprocess,
    read_image,
    shape_network,
)
from digitgan.drawing.sampling import generate
from digitgan.drawing.style import image_properties, zscore_within_class
from digitgan.errors import UserError
from digitgan.files import save_png
from digitgan.images import make_grid
from digitgan.modelfolder.encoder import load_encoder
from digitgan.modelfolder.folder import default_model_dir, load_generator
from digitgan.models import one_hot

DRAWN = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "drawn-digits"


def written_in(generator: torch.nn.Module, config: Any, z: torch.Tensor, sources: np.ndarray) -> np.ndarray:
    """(N, 9, 28, 28): for each hand, the nine digits other than its source's class."""
    others = np.array([[d for d in range(10) if d != label] for label in sources])
    vectors = one_hot(torch.as_tensor(others.reshape(-1)), 10)
    return generate(generator, config, vectors, z=z.repeat_interleave(9, dim=0)).reshape(len(z), 9, 28, 28), others


def style_kept(sources: np.ndarray, labels: np.ndarray, written: np.ndarray, others: np.ndarray) -> dict[str, float]:
    """Pearson r between each source's property and the mean of its written digits' (all z-scored within class)."""
    source_props = image_properties(sources)
    written_props = image_properties(written.reshape(-1, 28, 28))
    result = {}
    for name in ("slant", "thickness"):
        source = zscore_within_class(source_props[name], labels)
        mean_written = np.nanmean(zscore_within_class(written_props[name], others.reshape(-1)).reshape(-1, 9), axis=1)
        keep = np.isfinite(source) & np.isfinite(mean_written)
        result[name] = round(float(np.corrcoef(source[keep], mean_written[keep])[0, 1]), 3)
    return result


def judge(generator: torch.nn.Module, config: Any, digits: np.ndarray, labels: np.ndarray, z: torch.Tensor,
          reference: torch.nn.Module) -> dict[str, Any]:
    redrawn = generate(generator, config, one_hot(torch.as_tensor(labels), 10), z=z)
    _, source_features = predict(reference, digits)
    _, redrawn_features = predict(reference, redrawn)
    written, others = written_in(generator, config, z, labels)
    logits, _ = predict(reference, written.reshape(-1, 28, 28))
    return {"pixel_l1": round(float(np.abs(redrawn.astype(float) - digits).mean() / 255), 4),
            "feature_distance": round(float(np.linalg.norm(source_features - redrawn_features, axis=1).mean()), 3),
            "written_accuracy": round(float((logits.argmax(1) == others.reshape(-1)).mean()), 4),
            "style_r": style_kept(digits, labels, written, others)}


def same_class_distance(reference: torch.nn.Module, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Mean feature distance between each digit and another real digit of its class: how far "the same digit in
    another hand" lies."""
    rng = np.random.default_rng(seed)
    partners = np.array([rng.choice(np.flatnonzero(labels == label)) for label in labels])
    _, features = predict(reference, images)
    return round(float(np.linalg.norm(features - features[partners], axis=1).mean()), 3)


def one_digit_seconds(generator: torch.nn.Module, config: Any, drawn: list[Path], labels: np.ndarray,
                      encoder: torch.nn.Module | None, settings: InversionSettings) -> dict[str, float]:
    """Median seconds for one drawn digit at a time: the whole of find_hand (read the file, preprocess, encoder +
    refinement), and the encoder's forward pass alone."""
    whole, alone = [], []
    for path, label in zip(drawn, labels, strict=True):
        picture = path.read_bytes()
        started = time.perf_counter()
        find_hand(generator, config, picture, int(label), encoder=encoder, settings=settings)
        whole.append(time.perf_counter() - started)
        if encoder is not None:
            seen = preprocess(read_image(picture))[None]
            started = time.perf_counter()
            encode(encoder, seen, np.array([label]), 10)
            alone.append(time.perf_counter() - started)
    result = {"find_hand": round(statistics.median(whole), 3)}
    if alone:
        result["encoder alone"] = round(statistics.median(alone), 4)
    return result


def mimic_benchmark(count: int, settings: InversionSettings, picture: Path | None = None) -> dict[str, Any]:
    generator, config, _ = load_generator(default_model_dir())
    reference, _ = load_reference("mnist")
    test = load_dataset("mnist", "test")
    chosen = np.random.default_rng(0).choice(len(test), count, replace=False)
    digits, labels = test.images[chosen], test.labels[chosen]
    features = shape_network()
    try:
        encoder = load_encoder(default_model_dir())
    except UserError as error:
        encoder, missing = None, str(error)
    ways: dict[str, Any] = {}
    timings: dict[str, float] = {}
    if encoder is not None:
        started = time.perf_counter()
        start = encode(encoder, digits, labels, 10)
        timings["encoder alone"] = (time.perf_counter() - started) / count
        ways["encoder alone"] = start
        started = time.perf_counter()
        ways["encoder + refinement"], _ = invert(generator, config, digits, labels, settings, start=start,
                                                 features=features)
        timings["encoder + refinement"] = (time.perf_counter() - started) / count
    started = time.perf_counter()
    ways["refinement alone"], _ = invert(generator, config, digits, labels, settings, features=features)
    timings["refinement alone"] = (time.perf_counter() - started) / count
    ways["random noise (floor)"] = torch.randn(count, config.model.z_dim, generator=torch.Generator().manual_seed(9))
    result = {"digits": count, "settings": vars(settings),
              "same_class_feature_distance": same_class_distance(reference, digits, labels),
              "ways": {name: {**judge(generator, config, digits, labels, z, reference),
                              **({"seconds_per_digit": round(timings[name], 4)} if name in timings else {})}
                       for name, z in ways.items()}}
    if encoder is None:
        result["encoder"] = missing
    drawn = sorted(DRAWN.glob("drawn-*.png"))
    seen = np.stack([preprocess(read_image(path)) for path in drawn])
    drawn_labels = np.array([int(path.stem.rsplit("-", 1)[1]) for path in drawn])
    start = encode(encoder, seen, drawn_labels, 10) if encoder is not None else None
    z, _ = invert(generator, config, seen, drawn_labels, settings, start=start, features=features)
    result["drawn"] = judge(generator, config, seen, drawn_labels, z, reference)
    result["one_digit_seconds"] = one_digit_seconds(generator, config, drawn, drawn_labels, encoder, settings)
    if picture is not None:
        written = generate(generator, config, one_hot(torch.arange(10).repeat(len(z)), 10),
                           z=z.repeat_interleave(10, dim=0)).reshape(len(z), 10, 28, 28)
        rows = np.concatenate([seen[:, None], np.zeros((len(z), 1, 28, 28), np.uint8), written], axis=1)
        save_png(picture, make_grid(rows.reshape(-1, 28, 28), columns=12), scale=2)
    return result


def run(context: Context) -> None:
    count = 40 if context.smoke else 1000
    settings = InversionSettings(steps=20, restarts=2) if context.smoke else InversionSettings()
    context.results["mimic"] = mimic_benchmark(count, settings, context.args.out / "mimic.png")
    print(f"mimic: {context.results['mimic']}", flush=True)
