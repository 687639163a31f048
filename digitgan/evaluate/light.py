"""The light evaluation that runs during training: conditional accuracy and FCD on a small sample."""

from __future__ import annotations

import numpy as np
import torch

from digitgan.classifiers.reference import load_reference, predict, reference_name
from digitgan.drawing.sampling import generate
from digitgan.evaluate.metrics import fcd
from digitgan.models import one_hot
from digitgan.models.inference import for_inference


class LightEvaluator:
    """Scores a generator on n_per_class x C samples (default 2,000) against the real test set.

    The reference classifier and the test features are computed once; scoring uses a fixed seed, so
    successive points of the curve differ only because the generator changed.
    """

    def __init__(self, dataset: str, test_images: np.ndarray, num_classes: int, n_per_class: int = 200,
                 seed: int = 0) -> None:
        """dataset: the data set's name (which reference classifier); test_images: (N, 28, 28) uint8, its test split
        as the trainer already holds it."""
        self.classifier, _ = load_reference(reference_name(dataset))
        _, self.test_features = predict(self.classifier, test_images)
        self.requested = np.repeat(np.arange(num_classes), n_per_class)
        self.label_vector = one_hot(torch.from_numpy(self.requested), num_classes)
        self.seed = seed

    def __call__(self, generator: torch.nn.Module, config) -> dict[str, float]:  # noqa: ANN001 - RunConfig
        # A folded copy: the same images, sampled faster, and the training generator is left untouched.
        images = generate(for_inference(generator), config, self.label_vector, seed=self.seed)
        logits, features = predict(self.classifier, images)
        scores = {"fcd": fcd(features, self.test_features)}
        if config.model.conditional:
            scores["accuracy"] = float((logits.argmax(1) == self.requested).mean())
        return scores
