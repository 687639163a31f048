"""D's input augmentation (DiffAugment): translation moves whole pixels by at most 3 and uncovers background,
cutout blanks one 14x14 square, both let gradients through and repeat with the same stream; a run with it trains
and resumes exactly."""

import numpy as np
import torch

from digitgan.training.augment import AUGMENTS, cutout, translate
from tests.conftest import resumes_exactly, tiny_arrays, tiny_config


def images(count=16):
    return torch.rand(count, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_translation_moves_whole_pixels_by_at_most_three():
    x = images()
    moved = translate(x, torch.Generator().manual_seed(1))
    assert moved.shape == x.shape
    for original, shifted in zip(x[:, 0], moved[:, 0], strict=True):
        matches = [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)
                   if torch.equal(shifted[max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)],
                                  original[max(-dy, 0):28 + min(-dy, 0), max(-dx, 0):28 + min(-dx, 0)])]
        assert len(matches) == 1
        dy, dx = matches[0]
        uncovered = torch.ones(28, 28, dtype=torch.bool)
        uncovered[max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)] = False
        assert torch.all(shifted[uncovered] == -1)
    assert torch.equal(moved, translate(x, torch.Generator().manual_seed(1)))


def test_cutout_blanks_one_square_and_gradients_flow():
    x = images().requires_grad_(True)
    out = cutout(x, torch.Generator().manual_seed(2))
    blanked = (out != x).detach()[:, 0]
    for mask in blanked:
        rows, cols = torch.nonzero(mask.any(1)).flatten(), torch.nonzero(mask.any(0)).flatten()
        assert len(rows) <= 14 and len(cols) <= 14 and mask.sum() > 0
    chained = AUGMENTS["translation-cutout"](x, torch.Generator().manual_seed(3))
    chained.sum().backward()
    assert x.grad is not None and 0 < (x.grad != 0).float().mean() < 1


def test_a_run_with_d_augmentation_trains_and_resumes_exactly(tmp_path):
    data = tmp_path / "tiny.npz"
    tiny_images, labels = tiny_arrays(96)
    np.savez(data, x_train=tiny_images, y_train=labels)

    def config(steps):
        return tiny_config(dataset=str(data), steps=steps, d_augment="translation-cutout", checkpoint_every=3)

    assert resumes_exactly(tmp_path, config)
