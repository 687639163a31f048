"""The exceptions the CLI turns into a one-line message: UserError (exit 2) and TrainingDiverged (exit 3)."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Bad input or a missing resource the user can fix; the message says how, in one line."""


class MissingSplit(UserError):
    """The source exists but holds no such split (e.g. a single-set .npz asked for 'test')."""


class DiskFull(UserError):
    """A file could not be written for want of space; the message names the file and the space left."""

    def __init__(self, path: Path, free: int | None) -> None:
        left = "unknown" if free is None else f"{free / 2**20:.1f} MiB"
        super().__init__(f"no space left to write {path} ({left} free on its filesystem); free some space or write "
                         "elsewhere — the files written before it are intact")
        self.path, self.free = path, free


class CannotWrite(UserError):
    """A file or folder cannot be made where the user asked (a file where a folder should be, no permission, a
    read-only filesystem); the message names what the user asked for, not a temporary file beside it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path


class TrainingDiverged(Exception):
    """A loss or weight became NaN/Inf; `checkpoint` is the last good one (or None)."""

    def __init__(self, message: str, checkpoint: Path | None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
