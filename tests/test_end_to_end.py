"""Real runs on real MNIST, on tiny budgets, asserting real outcomes."""

import numpy as np
import pytest
import torch

from digitgan.config import load_preset
from digitgan.data import load_dataset
from digitgan.drawing.sampling import generate
from digitgan.modelfolder.folder import load_generator
from digitgan.models import one_hot
from digitgan.training import train

pytestmark = pytest.mark.slow


def linear_probe(seed: int = 0) -> torch.nn.Module:
    """A softmax regression on 20k real training digits (about 90% on the real test set): an outside judge."""
    torch.manual_seed(seed)
    data = load_dataset("mnist", "train")
    x = torch.from_numpy(data.images[:20000]).float().div(127.5).sub(1).flatten(1)
    y = torch.from_numpy(data.labels[:20000])
    model = torch.nn.Linear(784, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    x = torch.from_numpy(images).float().div(127.5).sub(1).flatten(1)
    return float((model(x).argmax(1).numpy() == labels).mean())


def test_short_fast_run_draws_the_digits_asked_for(tmp_path):
    probe = linear_probe()
    test = load_dataset("mnist", "test")
    real_accuracy = accuracy(probe, test.images, test.labels)
    assert real_accuracy > 0.88

    config = load_preset("fast")
    config.train.steps = 400
    torch.set_num_threads(2)
    summary = train(config, tmp_path / "run", quiet=True)
    assert summary["images_seen"] == 400 * config.train.batch_size
    generator, loaded, _ = load_generator(tmp_path / "run")
    labels = np.repeat(np.arange(10), 100)
    images = generate(generator, loaded, one_hot(torch.from_numpy(labels), 10), seed=1)
    sample_accuracy = accuracy(probe, images, labels)
    # chance is 10%; a run of about 30 CPU-seconds already draws mostly the requested digit
    assert sample_accuracy > 0.6, sample_accuracy
