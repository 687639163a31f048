"""Metrics on inputs with known answers."""

import numpy as np
import pytest

from digitgan.evaluate.metrics import (
    classifier_score,
    conditional_accuracy,
    fcd,
    frechet_distance,
    intra_class_diversity,
    kid,
    precision_recall_density_coverage,
)


def gaussian(n, dim, mean=0.0, scale=1.0, seed=0):
    return np.random.default_rng(seed).normal(mean, scale, size=(n, dim))


def test_fcd_of_a_set_with_itself_is_zero():
    x = gaussian(2000, 16)
    assert fcd(x, x) == pytest.approx(0.0, abs=1e-6)


def test_frechet_closed_form():
    # diagonal Gaussians: ||mu1-mu2||² + Σ (s1 + s2 - 2 sqrt(s1 s2))
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 1.0, 9.0])
    expected = 5.0 + (1 + 4 - 2 * 2) + (4 + 1 - 2 * 2) + 0.0
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected)
    # non-diagonal, against scipy-free reference for commuting case: sigma2 = 4 sigma1 -> Tr(s1 + 4 s1 - 4 s1)
    a = np.random.default_rng(1).normal(size=(4, 4))
    s = a @ a.T + np.eye(4)
    assert frechet_distance(mu1[:1].repeat(4) * 0, s, np.zeros(4), 4 * s) == pytest.approx(np.trace(s))


def test_fcd_grows_with_shift():
    x = gaussian(3000, 8)
    assert fcd(x, gaussian(3000, 8, seed=1)) < 0.05 < fcd(x, gaussian(3000, 8, mean=0.5, seed=1))


def test_kid_unbiased_sign():
    same = kid(gaussian(2000, 8), gaussian(2000, 8, seed=1), subsets=20, subset_size=500)
    different = kid(gaussian(2000, 8), gaussian(2000, 8, mean=0.5, seed=1), subsets=20, subset_size=500)
    assert abs(same[0]) < 3 * same[1] + 1e-3  # unbiased: centred on 0 for equal distributions (may be < 0)
    assert different[0] > 10 * different[1] and different[0] > 0.01


def test_precision_recall_real_vs_real_high_noise_low():
    real = gaussian(1500, 8)
    other_real = gaussian(1500, 8, seed=1)
    scores = precision_recall_density_coverage(real, other_real)
    assert scores["precision"] > 0.8 and scores["recall"] > 0.8 and scores["coverage"] > 0.8
    assert 0.7 < scores["density"] < 1.3
    noise = gaussian(1500, 8, mean=6.0, seed=2)
    far = precision_recall_density_coverage(real, noise)
    assert far["precision"] < 0.02 and far["recall"] < 0.02 and far["coverage"] < 0.02


def test_precision_without_recall_on_collapse():
    real = gaussian(1500, 8)
    collapsed = real[:50].repeat(30, axis=0) + 1e-3 * gaussian(1500, 8, seed=3)
    scores = precision_recall_density_coverage(real, collapsed)
    assert scores["precision"] > 0.9 and scores["recall"] < 0.3


def test_classifier_score_bounds():
    confident_balanced = np.eye(10)[np.arange(1000) % 10] * 50
    assert classifier_score(confident_balanced) == pytest.approx(10.0, rel=1e-3)
    assert classifier_score(np.eye(10)[np.zeros(1000, int)] * 50) == pytest.approx(1.0, rel=1e-3)  # collapse


def test_conditional_accuracy_and_confusion():
    result = conditional_accuracy(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    assert result["accuracy"] == 0.75 and result["per_class"] == [1.0, 1.0, 0.5]
    assert result["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_intra_class_diversity_orders_spread():
    labels = np.repeat([0, 1], 300)
    features = np.concatenate([gaussian(300, 4, scale=0.1), gaussian(300, 4, scale=1.0, seed=1)])
    tight, wide = intra_class_diversity(features, labels, 2)
    assert tight < wide / 5
