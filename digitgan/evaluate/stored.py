"""Results computed from real data alone, kept on disk between processes (`<cache>/computed/`, beside the data).

An evaluation's real side (the reference classifier's features of 30,000 real images, the real floor's metrics) is the
same for every model judged against the same data with the same seed; computing it costs a process tens of seconds.
Each stored result is named by a digest of everything it is computed from: the arrays' bytes, the classifier's
weights, the source of the code that computes it, torch's version and its thread count (a different thread count may
change the last bits of a sum). Any change to one of them computes afresh, so a stored result is exactly what this
process would compute. A cache that cannot be read or written only costs time: the result is computed, never refused.
"""

from __future__ import annotations

import hashlib
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from digitgan.data.cache import cache_dir
from digitgan.errors import UserError
from digitgan.files import atomic_write


def digest(*parts: Any) -> str:
    """A short hex digest of `parts`: arrays by dtype, shape and bytes; modules (torch.nn.Module) by their state's
    names and values; Python modules by their source file; anything else by its repr."""
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, np.ndarray):
            hasher.update(f"{part.dtype.str}{part.shape}".encode())
            hasher.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, torch.nn.Module):
            for name, tensor in part.state_dict().items():
                hasher.update(name.encode())
                hasher.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        elif isinstance(part, types.ModuleType):
            hasher.update(Path(part.__file__).read_bytes())
        else:
            hasher.update(repr(part).encode())
        hasher.update(b"\0")
    return hasher.hexdigest()


def stored_path(kind: str, key: str) -> Path:
    """Where the result `kind` with `key` (a digest) is kept, for torch's version and thread count of this process."""
    return cache_dir() / "computed" / f"{kind}-{digest(key, torch.__version__, torch.get_num_threads())}.npz"


def stored(kind: str, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """compute() once per machine: the arrays it returns ({name: array}, no object arrays) are kept under `kind` and
    `key` (a digest of every input, see `digest`) and read back by any later call with the same key."""
    path = stored_path(kind, key)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # not there yet, or unreadable (a torn copy, another format): computed afresh below
    arrays = compute()
    try:
        atomic_write(path, lambda handle: np.savez(handle, **arrays))
    except (OSError, UserError):
        pass  # a read-only or full cache: the next process computes it again
    return arrays
