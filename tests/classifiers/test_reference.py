"""The shipped reference classifiers and the evaluation pipeline on real data."""

import json

import numpy as np
import pytest
import torch

from digitgan.classifiers.reference import Recipe, load_reference, predict, weights_dir
from digitgan.data import FASHION_DIR, has_idx_files, load_dataset
from digitgan.errors import UserError
from digitgan.evaluate.report import accuracy_of_recipe, evaluate_run, real_reference, real_side, score_images
from digitgan.training import train
from tests.conftest import run_cli, tiny_config


@pytest.fixture(scope="module")
def mnist_test():
    return load_dataset("mnist", "test")


@pytest.fixture(scope="module")
def reference():
    return load_reference("mnist")


def test_shipped_mnist_classifier_meets_target(reference, mnist_test):
    model, card = reference
    logits, features = predict(model, mnist_test.images)
    accuracy = (logits.argmax(1) == mnist_test.labels).mean()
    assert accuracy >= 0.995 and card["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert features.shape == (10000, card["feature_dim"]) == (10000, 128)
    # the feature layer is healthy: no dead unit, covariance well conditioned
    assert features.std(0).min() > 0.1
    eigenvalues = np.linalg.eigvalsh(np.cov(features, rowvar=False))
    assert eigenvalues.min() > 0 and eigenvalues.max() / eigenvalues.min() < 1e6
    assert (weights_dir() / "mnist.safetensors").stat().st_size <= 2 * 1024 * 1024


@pytest.mark.skipif(not has_idx_files(FASHION_DIR), reason="dataset-fashion-mnist not installed")
def test_shipped_fashion_classifier_meets_target():
    model, card = load_reference("fashion-mnist")
    test = load_dataset("fashion-mnist", "test")
    logits, _ = predict(model, test.images)
    assert (logits.argmax(1) == test.labels).mean() >= 0.93
    assert (weights_dir() / "fashion-mnist.safetensors").stat().st_size <= 2 * 1024 * 1024


@pytest.mark.slow
def test_real_digits_asked_for_their_class_score_as_the_classifier(small_real_floor):
    side = real_side("mnist", 10, seed=0)  # what evaluations judge against (computed once per machine)
    digits = load_dataset("mnist", "train")
    images, labels = digits.images[-2000:], digits.labels[-2000:]
    scores, _ = score_images(images, labels, side.classifier, side.reference, 10, seed=0)
    assert scores["accuracy"] > 0.99
    # FCD at n=2000 carries a small-sample bias of about 2 (the 10k floor is ~0.3)
    assert scores["fcd"] < 5.0 and scores["precision"] > 0.7 and scores["recall"] > 0.7
    assert scores["classifier_score"] > 9.0
    shuffled = np.random.default_rng(0).permutation(labels)
    assert score_images(images, shuffled, side.classifier, side.reference, 10, seed=0, full=False)[0][
        "accuracy"] < 0.2


@pytest.mark.slow
def test_cas_behaves_on_a_small_real_subset(mnist_test):
    train_set = load_dataset("mnist", "train")
    recipe = Recipe(epochs=2, seed=0)
    images, labels = train_set.images[:3000], train_set.labels[:3000]
    test_images, test_labels = mnist_test.images[:2000], mnist_test.labels[:2000]
    real = accuracy_of_recipe(images, labels, test_images, test_labels, 10, recipe, log=lambda _: None)
    noise = accuracy_of_recipe(images, np.random.default_rng(1).permutation(labels), test_images, test_labels, 10,
                               recipe, log=lambda _: None)
    assert real > 0.9 and noise < 0.3


def test_report_of_a_tiny_run_has_every_field(tmp_path, small_real_floor):
    config = tiny_config(dataset="mnist", steps=3)
    torch.set_num_threads(2)
    train(config, tmp_path / "run", quiet=True)
    report = evaluate_run(tmp_path / "run", n_per_class=20, seed=0)
    for key in ("accuracy", "per_class", "confusion", "fcd", "kid", "kid_std", "precision", "recall", "density",
                "coverage", "classifier_score", "intra_class_diversity", "predicted_class_histogram", "broken",
                "broken_low_confidence", "broken_outlier"):
        assert key in report["model"] and key in report["real_floor"], key
    assert report["model"]["n"] == 200 and report["real_floor"]["n"] == 1000
    assert report["real_floor"]["accuracy"] > 0.99 and report["model"]["fcd"] > report["real_floor"]["fcd"]
    for name in ("report.json", "report.md", "confusion.png", "worst.png"):
        assert (tmp_path / "run" / "eval" / name).exists()
    assert "real floor" in (tmp_path / "run" / "eval" / "report.md").read_text()
    result = run_cli("compare", str(tmp_path / "run"), str(tmp_path / "run"), "--markdown")
    assert result.returncode == 0 and result.stdout.count("| ") > 10 and "real floor" in result.stdout
    text = run_cli("compare", str(tmp_path / "run"))
    assert text.returncode == 0 and "| " not in text.stdout and "broken share" in text.stdout
    assert json.loads((tmp_path / "run" / "eval" / "report.json").read_text())["n_per_class"] == 20


def test_unconditional_run_gets_unconditional_metrics(tmp_path, small_real_floor):
    config = tiny_config("simple-gan", dataset="mnist", steps=2)
    train(config, tmp_path / "run", quiet=True)
    report = evaluate_run(tmp_path / "run", n_per_class=20)
    assert "accuracy" not in report["model"] and "histogram_tv_from_uniform" in report["model"]
    with pytest.raises(UserError, match="conditional"):
        evaluate_run(tmp_path / "run", n_per_class=20, cas=True)


@pytest.mark.slow
def test_evaluate_cli_errors(tmp_path, tiny_npz):
    assert run_cli("evaluate", str(tmp_path / "nope")).returncode == 2
    result = run_cli("compare", str(tmp_path))
    assert result.returncode == 2 and "no eval/report.json" in result.stderr
    train(tiny_config(dataset=str(tiny_npz), steps=2), tmp_path / "custom", quiet=True)
    result = run_cli("evaluate", str(tmp_path / "custom"))
    assert result.returncode == 2 and "no reference classifier" in result.stderr


@pytest.mark.slow
def test_broken_share_flags_squares_and_noise_not_real_digits(reference, mnist_test):
    """White squares and noise are broken; real test digits are not (their share is the real data's own)."""
    reference, _ = reference
    train_set = load_dataset("mnist", "train")
    real = real_reference(reference, mnist_test.images[:2000], train_set.images[:5000])
    rng = np.random.default_rng(0)
    squares = np.zeros((100, 28, 28), dtype=np.uint8)
    squares[:, 3:25, 3:25] = 255
    noise = rng.integers(0, 256, size=(100, 28, 28), dtype=np.uint8)
    garbage = np.concatenate([squares, noise])
    asked = np.tile(np.arange(10), 20)
    scores, worst = score_images(garbage, asked, reference, real, 10, seed=0, full=False)
    assert scores["broken"] == 1.0 and scores["broken_ink"] == 1.0
    digits = mnist_test.images[5000:5200]
    scores, _ = score_images(digits, mnist_test.labels[5000:5200], reference, real, 10, seed=0, full=False)
    assert scores["broken"] < 0.03
    mixed = np.concatenate([digits, squares[:10]])
    _, worst = score_images(mixed, np.concatenate([mnist_test.labels[5000:5200], np.ones(10, dtype=np.int64)]),
                            reference, real, 10, seed=0, full=False)
    assert set(worst[:10].tolist()) == set(range(200, 210)), "the squares are the least convincing"
