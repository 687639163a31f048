import numpy as np
import pytest
from PIL import Image

from digitgan.data import load_dataset
from digitgan.data.idx import write_idx
from digitgan.errors import UserError
from tests.conftest import tiny_arrays


def test_idx_dir_gzip_and_raw(idx_dir):
    train = load_dataset(str(idx_dir), "train")
    test = load_dataset(str(idx_dir), "test")
    expected_x, expected_y = tiny_arrays(40)
    assert train.images.dtype == np.uint8 and train.images.shape == (40, 28, 28)
    assert train.labels.dtype == np.int64
    assert np.array_equal(train.images, expected_x) and np.array_equal(train.labels, expected_y)
    assert len(test) == 20 and train.class_names == tuple(str(i) for i in range(10))


def test_named_mnist_from_dir(idx_dir):
    data = load_dataset(f"mnist:{idx_dir}", "test")
    assert data.name == "mnist" and len(data) == 20


def test_image_count_mismatch(idx_dir):
    write_idx(idx_dir / "t10k-labels-idx1-ubyte", np.zeros(7, dtype=np.uint8))
    with pytest.raises(UserError, match="20 images but .* 7 labels"):
        load_dataset(str(idx_dir), "test")


def test_label_out_of_range(tmp_path):
    x, _ = tiny_arrays(10)
    np.savez(tmp_path / "d.npz", images=x, labels=np.full(10, 12), class_names=np.array(list("abc")))
    with pytest.raises(UserError, match=r"labels must lie in \[0, 2\]"):
        load_dataset(str(tmp_path / "d.npz"))


def test_negative_labels(tmp_path):
    x, _ = tiny_arrays(10)
    np.savez(tmp_path / "d.npz", x=x, y=-np.ones(10, dtype=np.int64))
    with pytest.raises(UserError, match="labels must lie"):
        load_dataset(str(tmp_path / "d.npz"))


@pytest.mark.parametrize("keys", [("images", "labels"), ("x", "y")])
def test_npz_single_set(tmp_path, keys):
    x, y = tiny_arrays(30)
    np.savez(tmp_path / "d.npz", **{keys[0]: x, keys[1]: y})
    data = load_dataset(str(tmp_path / "d.npz"))
    assert np.array_equal(data.images, x) and np.array_equal(data.labels, y)
    with pytest.raises(UserError, match="no 'test' split"):
        load_dataset(str(tmp_path / "d.npz"), "test")


def test_npz_keras_layout_and_float_and_flat(tmp_path):
    x, y = tiny_arrays(30)
    np.savez(tmp_path / "d.npz", x_train=x.reshape(30, 784) / 255.0, y_train=y, x_test=x[:5], y_test=y[:5])
    train = load_dataset(str(tmp_path / "d.npz"), "train")
    assert np.array_equal(train.images, x)
    assert len(load_dataset(str(tmp_path / "d.npz"), "test")) == 5


@pytest.mark.parametrize("bad, message", [
    (dict(images=np.zeros((4, 32, 32), np.uint8), labels=np.zeros(4, np.int64)), "shape"),
    (dict(images=np.zeros((4, 28, 28), np.int32), labels=np.zeros(4, np.int64)), "uint8"),
    (dict(images=np.zeros((4, 28, 28), np.uint8), labels=np.zeros(4, np.float32)), "integer"),
    (dict(images=np.zeros((4, 28, 28), np.uint8), labels=np.zeros(3, np.int64)), "4 images but 3 labels"),
    (dict(pictures=np.zeros((4, 28, 28), np.uint8)), "expected images/labels"),
])
def test_npz_validation(tmp_path, bad, message):
    np.savez(tmp_path / "d.npz", **bad)
    with pytest.raises(UserError, match=message):
        load_dataset(str(tmp_path / "d.npz"))


def test_npz_corrupt(tmp_path):
    (tmp_path / "d.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(UserError, match="not a readable .npz"):
        load_dataset(str(tmp_path / "d.npz"))


def test_image_folder(tmp_path, capsys):
    x, y = tiny_arrays(20, classes=2)
    for name in ("cat", "dog"):
        (tmp_path / "set" / name).mkdir(parents=True)
    for index, (image, label) in enumerate(zip(x, y, strict=True)):
        picture = Image.fromarray(image)
        if index == 0:
            picture = picture.resize((56, 56))  # other sizes are resized with a warning
        picture.save(tmp_path / "set" / ("cat", "dog")[label] / f"{index:03d}.png")
    data = load_dataset(str(tmp_path / "set"))
    assert data.class_names == ("cat", "dog")
    assert sorted(np.bincount(data.labels).tolist()) == [10, 10]
    assert data.images.shape == (20, 28, 28)
    assert np.array_equal(data.images[1], x[2])  # sorted file order within the class
    assert "resized 1 image" in capsys.readouterr().err


def test_image_folder_with_splits_and_numeric_names(tmp_path):
    for split in ("train", "test"):
        for digit in (0, 2, 10):
            folder = tmp_path / split / str(digit)
            folder.mkdir(parents=True)
            Image.fromarray(np.full((28, 28), digit, np.uint8)).save(folder / "a.png")
    data = load_dataset(str(tmp_path), "test")
    assert data.class_names == ("0", "2", "10") and data.labels.tolist() == [0, 1, 2]


def test_missing_source():
    with pytest.raises(UserError, match="unknown data source 'no/such/thing'"):
        load_dataset("no/such/thing")


def test_unknown_split(idx_dir):
    with pytest.raises(UserError, match="unknown split"):
        load_dataset(str(idx_dir), "valid")


def test_missing_idx_member_names_file(idx_dir):
    (idx_dir / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte"):
        load_dataset(f"mnist:{idx_dir}", "test")
