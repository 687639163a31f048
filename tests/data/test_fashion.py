import numpy as np
import pytest

from digitgan.data import FASHION_DIR, FASHION_NAMES, has_idx_files, load_dataset

pytestmark = pytest.mark.skipif(not has_idx_files(FASHION_DIR),
                                reason=f"{FASHION_DIR} missing (make test installs dataset-fashion-mnist as root)")


def test_fashion_mnist():
    train = load_dataset("fashion-mnist", "train")
    test = load_dataset("fashion-mnist", "test")
    assert train.images.shape == (60000, 28, 28) and len(test) == 10000
    assert train.class_names == FASHION_NAMES
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
