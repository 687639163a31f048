"""Sample-quality metrics on reference-classifier features. Inputs are float64 numpy arrays (N, D).

FCD is the Fréchet distance of Heusel et al. (2017) computed on *our* classifier's features, so it is
called FCD, never FID. KID is the unbiased MMD² with the cubic polynomial kernel (Bińkowski et al. 2018),
averaged over subsets, with its standard deviation.
"""

from __future__ import annotations

import numpy as np


def _sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(values.clip(min=0))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||² + Tr(S1 + S2 - 2 (S1^½ S2 S1^½)^½), exact for Gaussians; symmetric PSD square roots."""
    root1 = _sqrtm_psd(sigma1)
    cross = _sqrtm_psd(root1 @ sigma2 @ root1)
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(cross))
    return max(value, 0.0)


def fcd(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D)."""
    return frechet_distance(features_a.mean(0), np.cov(features_a, rowvar=False),
                            features_b.mean(0), np.cov(features_b, rowvar=False))


def kid(features_a: np.ndarray, features_b: np.ndarray, subsets: int = 50, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """(mean, std) of unbiased MMD² over random subsets, kernel k(x, y) = (x·y / D + 1)³."""
    rng = np.random.default_rng(seed)
    dim = features_a.shape[1]
    size = min(subset_size, len(features_a), len(features_b))
    estimates = []
    for _ in range(subsets):
        a = features_a[rng.choice(len(features_a), size, replace=False)]
        b = features_b[rng.choice(len(features_b), size, replace=False)]
        k_aa = (a @ a.T / dim + 1) ** 3
        k_bb = (b @ b.T / dim + 1) ** 3
        k_ab = (a @ b.T / dim + 1) ** 3
        off_diagonal = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (size * (size - 1))
        estimates.append(off_diagonal - 2 * k_ab.mean())
    return float(np.mean(estimates)), float(np.std(estimates))


def conditional_accuracy(predicted: np.ndarray, requested: np.ndarray, num_classes: int) -> dict:
    """Overall and per-class accuracy of predicted vs requested labels, and the confusion matrix (rows = asked)."""
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (requested, predicted), 1)
    per_class = confusion.diagonal() / confusion.sum(1).clip(min=1)
    return {"accuracy": float((predicted == requested).mean()), "per_class": per_class.tolist(),
            "confusion": confusion.tolist()}


def _pairwise_min_and_count(queries: np.ndarray, points: np.ndarray, radii: np.ndarray,
                            chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """For each query: (min over points of d(q, p) - radius_p, number of points whose ball contains q)."""
    import torch

    points_t = torch.from_numpy(points).float()
    radii_t = torch.from_numpy(radii).float()
    slack, counts = [], []
    for start in range(0, len(queries), chunk):
        distances = torch.cdist(torch.from_numpy(queries[start:start + chunk]).float(), points_t)
        inside = distances <= radii_t
        slack.append((distances - radii_t).min(1).values.numpy())
        counts.append(inside.sum(1).numpy())
    return np.concatenate(slack), np.concatenate(counts)


def knn_radii(features: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Distance from each point to its k-th nearest neighbour in the same set (itself excluded)."""
    import torch

    points = torch.from_numpy(features).float()
    radii = []
    for start in range(0, len(points), chunk):
        distances = torch.cdist(points[start:start + chunk], points)
        radii.append(distances.kthvalue(k + 1, dim=1).values.numpy())  # k+1: the point itself is at 0
    return np.concatenate(radii)


K_PR, K_DC = 3, 5


def precision_recall_density_coverage(real: np.ndarray, fake: np.ndarray, k_pr: int = K_PR, k_dc: int = K_DC,
                                      real_radii: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, float]:
    """Improved precision/recall (Kynkäänniemi et al. 2019, k=3) and density/coverage (Naeem et al. 2020, k=5).

    real_radii: (knn_radii(real, k_pr), knn_radii(real, k_dc)) when already computed (the same for every sample
    set judged against one real set)."""
    real_radii_pr, real_radii_dc = real_radii if real_radii is not None else (knn_radii(real, k_pr),
                                                                             knn_radii(real, k_dc))
    fake_radii_pr = knn_radii(fake, k_pr)
    precision_slack, _ = _pairwise_min_and_count(fake, real, real_radii_pr)
    recall_slack, _ = _pairwise_min_and_count(real, fake, fake_radii_pr)
    _, density_counts = _pairwise_min_and_count(fake, real, real_radii_dc)
    # coverage: real points whose k-NN ball holds at least one fake sample
    coverage_slack, _ = _pairwise_min_and_count(real, fake, np.zeros(len(fake)))
    return {"precision": float((precision_slack <= 0).mean()), "recall": float((recall_slack <= 0).mean()),
            "density": float(density_counts.sum() / (k_dc * len(fake))),
            "coverage": float((coverage_slack <= real_radii_dc).mean())}


def classifier_score(logits: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))): the Inception-Score formula with our classifier (max = number of classes)."""
    shifted = logits - logits.max(1, keepdims=True)
    probabilities = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
    marginal = probabilities.mean(0, keepdims=True)
    kl = (probabilities * (np.log(probabilities + 1e-12) - np.log(marginal + 1e-12))).sum(1)
    return float(np.exp(kl.mean()))


def intra_class_diversity(features: np.ndarray, labels: np.ndarray, num_classes: int,
                          max_per_class: int = 500, seed: int = 0) -> list[float]:
    """Mean pairwise feature distance within each class (a subset of at most max_per_class per class)."""
    import torch

    rng = np.random.default_rng(seed)
    values = []
    for label in range(num_classes):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            values.append(float("nan"))
            continue
        chosen = rng.choice(members, min(max_per_class, len(members)), replace=False)
        points = torch.from_numpy(features[chosen]).float()
        distances = torch.cdist(points, points)
        values.append(float(distances.sum() / (len(chosen) * (len(chosen) - 1))))
    return values


def nearest_distances(queries: np.ndarray, points: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Distance from each query (M, D) to its nearest point (N, D)."""
    import torch

    points_t = torch.from_numpy(points).float()
    return np.concatenate([torch.cdist(torch.from_numpy(queries[start:start + chunk]).float(), points_t)
                           .min(1).values.numpy() for start in range(0, len(queries), chunk)])


def ink_share(images: np.ndarray) -> np.ndarray:
    """(N,28,28) uint8 -> (N,) share of pixels above mid-grey: how much of the picture is stroke."""
    return (images > 127).mean(axis=(1, 2))


def broken_shares(asked_probability: np.ndarray, outlier_distance: np.ndarray, threshold: float,
                  ink: np.ndarray, ink_range: tuple[float, float]) -> dict[str, float]:
    """Shares of samples that are no convincing digit: the reference classifier gives the asked-for class a
    probability below 0.5; or the sample lies farther from the real data (feature space) than `threshold` (the
    real test set's 99.9th-percentile nearest-neighbour distance); or its ink share lies outside the real data's
    0.1-99.9th percentile range (a filled square, a blank). `broken` is any of them."""
    low = asked_probability < 0.5
    outlier = outlier_distance > threshold
    odd_ink = (ink < ink_range[0]) | (ink > ink_range[1])
    return {"broken": float((low | outlier | odd_ink).mean()), "broken_low_confidence": float(low.mean()),
            "broken_outlier": float(outlier.mean()), "broken_ink": float(odd_ink.mean())}


def least_convincing(asked_probability: np.ndarray, outlier_distance: np.ndarray, threshold: float,
                     ink: np.ndarray, ink_range: tuple[float, float], count: int = 100) -> np.ndarray:
    """Indices of the `count` least convincing samples, worst first: outliers in ink share or in feature space
    (farthest first), then the lowest asked-class probability."""
    outlier = (outlier_distance > threshold) | (ink < ink_range[0]) | (ink > ink_range[1])
    order = np.lexsort((asked_probability, -np.where(outlier, outlier_distance, 0.0), ~outlier))
    return order[:count]
