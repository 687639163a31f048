"""Driving a classifier backwards: start from noise (or a blank page) and change the pixels until a classifier says
"4". The tutorials' remark that this "unfortunately doesn't work", measured.

The classifiers driven here are not the evaluator: `plain` has its own recipe and seed (a narrower network, no
augmentation); `robust` has the same shape but was trained on adversarial examples (FGSM with a random start),
the textbook fix, since a robust classifier's gradients point towards features a person would call a 4.
Both ship in digitgan/classifiers/weights/ with model cards (`make dream-classifiers` rebuilds them by their recipes). A
total-variation prior (tv_weight) is the other fix: it penalises the high-frequency noise that fools a network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from digitgan.classifiers.reference import (
    Recipe,
    ReferenceClassifier,
    load_reference,
    predict,
    save_reference,
    weights_dir,
)
from digitgan.errors import UserError
from digitgan.images import to_uint8

# The driven classifiers' recipes: deliberately not the evaluator's (width 16, seed 0, shifts, 8 epochs).
DRIVEN_RECIPES = {"plain": Recipe(epochs=3, width=8, seed=11, max_shift=0),
                  "robust": Recipe(epochs=3, width=8, seed=11, max_shift=0, adversarial_epsilon=0.6)}
STARTS = ("noise", "blank")


@dataclass
class DreamSettings:
    classifier: str = "plain"     # plain | robust
    start: str = "noise"          # noise (uniform in [-1, 1]) | blank (the background, -1, plus a faint noise in
                                  # [0, 0.05) so that no two dreams are alike)
    steps: int = 200
    lr: float = 0.05              # Adam on the pixels
    tv_weight: float = 0.0        # weight of the total-variation prior (per image, summed absolute differences)


def load_driven(name: str) -> tuple[ReferenceClassifier, dict]:
    if name not in DRIVEN_RECIPES:
        raise UserError(f"unknown classifier '{name}'; choose {', '.join(DRIVEN_RECIPES)}")
    return load_reference(f"mnist-{name}", weights_dir())


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """(N,1,28,28) -> (N,): summed absolute differences between neighbouring pixels."""
    return ((images[..., 1:, :] - images[..., :-1, :]).abs().flatten(1).sum(1)
            + (images[..., :, 1:] - images[..., :, :-1]).abs().flatten(1).sum(1))


def dream(classifier: torch.nn.Module, digits: np.ndarray, settings: DreamSettings, seed: int = 0,
          batch_size: int = 500) -> np.ndarray:
    """(N,) asked-for classes -> (N, 28, 28) uint8 pictures whose pixels were optimised so that `classifier` gives
    that class: cross-entropy (+ tv_weight x total variation), Adam on the pixels, kept in [-1, 1]."""
    if settings.start not in STARTS:
        raise UserError(f"unknown start '{settings.start}'; choose {', '.join(STARTS)}")
    classifier.eval().requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    pictures = []
    for begin in range(0, len(digits), batch_size):
        target = torch.as_tensor(digits[begin:begin + batch_size], dtype=torch.long)
        if settings.start == "noise":
            pixels = torch.rand(len(target), 1, 28, 28, generator=generator) * 2 - 1
        else:
            pixels = torch.rand(len(target), 1, 28, 28, generator=generator) * 0.05 - 1.0
        pixels.requires_grad_(True)
        optimizer = torch.optim.Adam([pixels], lr=settings.lr)
        for _ in range(settings.steps):
            loss = F.cross_entropy(classifier(pixels), target, reduction="sum")
            if settings.tv_weight:
                loss = loss + settings.tv_weight * total_variation(pixels).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                pixels.clamp_(-1, 1)
        pictures.append(to_uint8(pixels.detach()))
    return np.concatenate(pictures)


def driven_confidence(classifier: torch.nn.Module, images: np.ndarray, digits: np.ndarray) -> tuple[float, float]:
    """(share of images the classifier labels as asked, its mean probability of the asked class)."""
    logits, _ = predict(classifier, images)
    probabilities = torch.softmax(torch.from_numpy(logits), 1).numpy()
    return (float((logits.argmax(1) == digits).mean()),
            float(probabilities[np.arange(len(digits)), digits].mean()))


def train_driven(name: str, train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray,
                 test_labels: np.ndarray, log=print) -> Path:  # noqa: ANN001 - a print-like function
    """Train a driven classifier by its committed recipe and save it with its card into weights_dir()."""
    import time

    from digitgan.classifiers.reference import card_facts, train_reference

    recipe = DRIVEN_RECIPES[name]
    started = time.monotonic()
    model = train_reference(train_images, train_labels, 10, recipe, log=log)
    card = {"num_classes": 10, "train_seconds": round(time.monotonic() - started, 1), "torch": torch.__version__,
            "purpose": f"driven backwards by `digitgan dream --classifier {name}`; not an evaluator",
            **card_facts(model, test_images, test_labels)}
    return save_reference(model, f"mnist-{name}", recipe, card, weights_dir())


def card_of(name: str) -> dict:
    return json.loads((weights_dir() / f"mnist-{name}.json").read_text())


if __name__ == "__main__":  # `make dream-classifiers`: retrain both driven classifiers by their recipes
    import sys

    from digitgan.data import load_dataset
    from digitgan.runtime import set_threads

    set_threads(2)
    train_set, test_set = load_dataset("mnist", "train"), load_dataset("mnist", "test")
    for driven in DRIVEN_RECIPES:
        path = train_driven(driven, train_set.images, train_set.labels, test_set.images, test_set.labels,
                            log=lambda line: print(line, file=sys.stderr))
        print(f"{driven}: test accuracy {card_of(driven)['test_accuracy']:.4f}; weights {path}")
