"""The reference classifier: a small CNN trained by a fixed, seeded recipe; its 128-d features feed the
distance metrics (FCD, KID, precision/recall). Weights ship in digitgan/classifiers/weights/ with a model card.

Features are the batch-normalised output of the 128-unit dense layer *before* its ReLU, so no unit is dead.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from digitgan.errors import UserError
from digitgan.files import atomic_write, make_folder, write_json
from digitgan.images import from_uint8

FEATURE_DIM = 128


class ReferenceClassifier(nn.Module):
    """images (N,1,28,28) float in [-1, 1] -> logits (N, num_classes); .features(images) -> (N, 128)."""

    def __init__(self, num_classes: int = 10, width: int = 16) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.body = nn.Sequential(*block(1, width), *block(width, width), nn.MaxPool2d(2),
                                  *block(width, 2 * width), *block(2 * width, 2 * width), nn.MaxPool2d(2),
                                  nn.Flatten())
        # The whole 7x7 map (2*width*49 values) feeds the 128 features: a map from a much wider input keeps
        # the features' covariance full-rank (a pooled, ReLU'd input of 128 channels left it near singular).
        self.embed = nn.Sequential(nn.Linear(2 * width * 49, FEATURE_DIM, bias=False), nn.BatchNorm1d(FEATURE_DIM))
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.2), nn.Linear(FEATURE_DIM, num_classes))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.body(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


@dataclass
class Recipe:
    epochs: int = 8
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    max_shift: int = 2            # random translation in pixels (augmentation)
    seed: int = 0
    width: int = 16
    adversarial_epsilon: float = 0.0  # > 0: train on FGSM examples with a random start (Wong et al. 2020), L-inf
                                      # radius in [-1, 1] units; the reference classifiers use 0


def _adversarial(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, epsilon: float,
                 generator: torch.Generator) -> torch.Tensor:
    """x moved by one signed-gradient step of 1.25 epsilon from a random start, kept within epsilon and [-1, 1]."""
    delta = (torch.rand(x.shape, generator=generator) * 2 - 1) * epsilon
    delta.requires_grad_(True)
    loss = F.cross_entropy(model((x + delta).clamp(-1, 1)), labels)
    (gradient,) = torch.autograd.grad(loss, delta)
    delta = (delta + 1.25 * epsilon * gradient.sign()).clamp(-epsilon, epsilon).detach()
    return (x + delta).clamp(-1, 1)


# The committed recipe per data set: Fashion-MNIST is harder and gets more epochs.
RECIPES = {"mnist": Recipe(), "fashion-mnist": Recipe(epochs=15)}


def recipe_for(dataset: str, seed: int = 0, epochs: int | None = None) -> Recipe:
    base = RECIPES.get(dataset, Recipe())
    return replace(base, seed=seed, epochs=epochs or base.epochs)


def _shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Random integer translations of a batch (zero fill): (N,1,28,28) -> same."""
    if max_shift == 0:
        return images
    padded = F.pad(images, (max_shift,) * 4, value=-1.0)
    offsets = torch.randint(0, 2 * max_shift + 1, (2,), generator=generator).tolist()
    return padded[:, :, offsets[0]:offsets[0] + 28, offsets[1]:offsets[1] + 28]


@torch.no_grad()
def predict(model: ReferenceClassifier, images_uint8: np.ndarray,
            batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """(logits (N, C) float32, features (N, 128) float64) for uint8 images, in eval mode."""
    model.eval()
    logits, features = [], []
    for start in range(0, len(images_uint8), batch_size):
        x = from_uint8(images_uint8[start:start + batch_size])
        feature = model.features(x)
        features.append(feature.double().numpy())
        logits.append(model.head(feature).numpy())
    return np.concatenate(logits), np.concatenate(features)


def train_reference(train_images: np.ndarray, train_labels: np.ndarray, num_classes: int, recipe: Recipe,
                    log=print) -> ReferenceClassifier:
    """The committed recipe: AdamW + one-cycle LR, shift augmentation, fixed seed and data order (and, when the
    recipe says so, adversarial training)."""
    torch.manual_seed(recipe.seed)
    generator = torch.Generator().manual_seed(recipe.seed)
    model = ReferenceClassifier(num_classes, recipe.width)
    images = from_uint8(train_images)
    labels = torch.as_tensor(train_labels)
    steps_per_epoch = max(1, len(images) // recipe.batch_size)  # a set smaller than a batch is one short step
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr,
                                                   total_steps=recipe.epochs * steps_per_epoch)
    model.train()
    for epoch in range(recipe.epochs):
        started = time.monotonic()
        order = torch.randperm(len(images), generator=generator)
        correct = 0
        for step in range(steps_per_epoch):
            index = order[step * recipe.batch_size:(step + 1) * recipe.batch_size]
            x = _shift(images[index], recipe.max_shift, generator)
            if recipe.adversarial_epsilon:
                x = _adversarial(model, x, labels[index], recipe.adversarial_epsilon, generator)
            logits = model(x)
            loss = F.cross_entropy(logits, labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            correct += int((logits.argmax(1) == labels[index]).sum())
        log(f"epoch {epoch + 1}/{recipe.epochs}: train accuracy {correct / (steps_per_epoch * recipe.batch_size):.4f} "
            f"({time.monotonic() - started:.0f} s)")
    return model.eval()


def card_facts(model: ReferenceClassifier, test_images: np.ndarray, test_labels: np.ndarray) -> dict:
    """Test accuracy and feature health (smallest feature std, covariance condition number) for the card."""
    logits, features = predict(model, test_images)
    eigenvalues = np.linalg.eigvalsh(np.cov(features, rowvar=False))
    return {"test_accuracy": round(float((logits.argmax(1) == test_labels).mean()), 4),
            "feature_min_std": round(float(features.std(0).min()), 4),
            "feature_covariance_condition": round(float(eigenvalues.max() / eigenvalues.min()), 1)}


def reference_name(dataset: str) -> str:
    """The reference classifier that judges a data-set source: 'mnist' for mnist and mnist:DIR, etc."""
    name = dataset.partition(":")[0]
    if name not in ("mnist", "fashion-mnist"):
        raise UserError(f"no reference classifier for data set '{dataset}' (have: mnist, fashion-mnist)")
    return name


def weights_dir() -> Path:
    return Path(str(resources.files("digitgan.classifiers") / "weights"))


def save_reference(model: ReferenceClassifier, dataset: str, recipe: Recipe, card: dict, directory: Path) -> Path:
    from safetensors.torch import save

    make_folder(directory)
    atomic_write(directory / f"{dataset}.safetensors", save({k: v.contiguous() for k, v in model.state_dict().items()}))
    card = {"dataset": dataset, "recipe": asdict(recipe), "feature_layer": "embed (BatchNorm1d output, pre-ReLU)",
            "feature_dim": FEATURE_DIM, **card}
    write_json(directory / f"{dataset}.json", card)
    return directory / f"{dataset}.safetensors"


def load_reference(dataset: str = "mnist", directory: Path | None = None) -> tuple[ReferenceClassifier, dict]:
    """The shipped classifier for `dataset` (mnist or fashion-mnist) in eval mode, and its model card."""
    from safetensors.torch import load_file

    directory = directory or weights_dir()
    card_path, weights_path = directory / f"{dataset}.json", directory / f"{dataset}.safetensors"
    if not card_path.is_file() or not weights_path.is_file():
        raise UserError(f"no reference classifier for '{dataset}' in {directory}; "
                        f"train one with `digitgan evaluator train --dataset {dataset}`")
    card = json.loads(card_path.read_text())
    model = ReferenceClassifier(card.get("num_classes", 10), card["recipe"]["width"])
    model.load_state_dict(load_file(str(weights_path)))
    return model.eval(), card
