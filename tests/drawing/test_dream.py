"""Driving a classifier backwards: the loop raises the driven classifier's confidence."""

import numpy as np
import pytest
import torch

from digitgan.drawing.dream import DreamSettings, dream, driven_confidence, load_driven, total_variation


@pytest.mark.parametrize("name", ["plain", "robust"])
def test_dreaming_raises_the_driven_classifiers_probability(name):
    classifier, card = load_driven(name)
    assert card["test_accuracy"] > 0.98 and "not an evaluator" in card["purpose"]
    digits = np.array([4] * 6 + [7] * 6)
    before = dream(classifier, digits, DreamSettings(name, steps=0), seed=1)
    after = dream(classifier, digits, DreamSettings(name, steps=30), seed=1)
    assert driven_confidence(classifier, after, digits)[1] > driven_confidence(classifier, before, digits)[1] + 0.3
    assert after.shape == (12, 28, 28) and after.dtype == np.uint8


def test_blank_start_and_total_variation():
    classifier, _ = load_driven("plain")
    blank = dream(classifier, np.array([3, 3]), DreamSettings(start="blank", steps=0), seed=0)
    assert blank.max() < 10 and not np.array_equal(blank[0], blank[1])  # the background, faintly different
    flat, stripes = torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 28, 28)
    stripes[..., ::2] = 1.0
    assert total_variation(flat).item() == 0 and total_variation(stripes).item() == 28 * 27
