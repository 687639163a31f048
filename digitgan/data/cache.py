"""Where fetched data sets (and results computed from them: evaluate.stored) live: $DIGITGAN_CACHE, else
$XDG_CACHE_HOME/digitgan, else ~/.cache/digitgan."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    explicit = os.environ.get("DIGITGAN_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "digitgan"
