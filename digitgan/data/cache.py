"""Where fetched data sets live: $DIGITGAN_CACHE, else $XDG_CACHE_HOME/digitgan, else ~/.cache/digitgan."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    explicit = os.environ.get("DIGITGAN_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "digitgan"


def atomic_save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write an .npz so that a crash never leaves a half-written file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
