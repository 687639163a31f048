"""Training checkpoints: the full training state in RUN/checkpoints/step-NNNNNNNN.pt, written atomically, the last
K kept, loadable with torch.load(..., weights_only=True).

What a checkpoint holds is training/state.py's business; this module writes, finds, checks and reads the files.
A damaged newest checkpoint (a full disk, a crash in an older version) is skipped for the newest one that loads.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import torch

from digitgan.config import RunConfig
from digitgan.errors import UserError
from digitgan.files import atomic_write

FORMAT = "digitgan-checkpoint-1"
_STEP_FILE = re.compile(r"step-(\d+)\.pt$")


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint files of a run, oldest first."""
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_FILE.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def step_of(path: Path) -> int:
    """The step a checkpoint file (step-NNNNNNNN.pt) was saved at."""
    found = _STEP_FILE.fullmatch(path.name)
    if found is None:
        raise ValueError(f"{path.name} is not a checkpoint's file name")
    return int(found.group(1))


def save_checkpoint(run_dir: Path, state: dict[str, Any], step: int, keep: int) -> Path:
    path = run_dir / "checkpoints" / f"step-{step:08d}.pt"
    atomic_write(path, lambda handle: torch.save({"format": FORMAT, **state}, handle))
    for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return path


def tensor_bytes(value: Any) -> int:
    """Bytes of the tensors inside nested dicts/lists (a checkpoint's size, less pickling overhead)."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return sum(tensor_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(tensor_bytes(v) for v in value)
    return 0


def space_warning(run_dir: Path, checkpoint_bytes: int, keep: int) -> str | None:
    """A warning when the filesystem of run_dir cannot hold `keep` checkpoints of about `checkpoint_bytes` each
    (plus the temporary file of the next one); None when it can, or when the free space is unknown."""
    from digitgan.files import free_bytes

    free = free_bytes(run_dir)
    if free is None:
        return None
    existing = sum(p.stat().st_size for p in list_checkpoints(run_dir))  # rotated away as new ones arrive
    need = (keep + 1) * checkpoint_bytes
    if free + existing >= need:
        return None
    return (f"{run_dir} has {free / 2**20:.1f} MiB free, less than {keep} checkpoints of about "
            f"{checkpoint_bytes / 2**20:.1f} MiB need ({need / 2**20:.1f} MiB with the next one's temporary file); "
            "training will stop with a one-line error when the disk is full (lower keep_checkpoints or free space)")


class UnusableCheckpoint(UserError):
    """A checkpoint file that cannot be resumed from; `reason` says why, without the path."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} is not a usable digitgan checkpoint ({reason})")
        self.reason = reason


# checkpoints written before the state's names fitted every kind of model (digitgan 0.1 to 837d60e)
LEGACY_KEYS = {"discriminator": "partner", "g_opt": "generator_opt", "d_opt": "partner_opt"}


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint's contents under today's names (training.state.TrainState's; a legacy checkpoint's keys
    renamed, values untouched), its config checked; UnusableCheckpoint if the file cannot be resumed from."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means the file is unusable
        first_line = (str(error).strip().splitlines() or [""])[0][:160]
        raise UnusableCheckpoint(path, f"{type(error).__name__}: {first_line}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise UnusableCheckpoint(path, f"format {found}")
    try:
        state["config"] = RunConfig.from_dict(state.get("config")).to_dict()
    except UserError as error:
        raise UnusableCheckpoint(path, f"its configuration is not valid: {error}") from None
    return {LEGACY_KEYS.get(key, key): value for key, value in state.items()}


def load_resumable(target: Path, map_location: str | torch.device = "cpu") -> tuple[Path, dict[str, Any]]:
    """(path, contents) of the checkpoint to resume from: `target` itself when it is a file, else the newest of
    the run's checkpoints that loads. Skipping a damaged one prints a one-line warning naming both and renames
    the damaged file(s) to *.pt.damaged."""
    if target.is_file():
        return target, load_checkpoint(target, map_location)
    if not target.exists():
        raise UserError(f"{target} does not exist")
    found = list_checkpoints(target)
    if not found:
        raise UserError(f"{target} has no checkpoints/step-*.pt to resume from")
    failures: list[UnusableCheckpoint] = []
    for path in reversed(found):
        try:
            contents = load_checkpoint(path, map_location)
        except UnusableCheckpoint as error:
            failures.append(error)
            continue
        if failures:
            # Set the damaged files aside (never deleted) so that they do not shadow the checkpoints to come.
            for damaged in found[found.index(path) + 1:]:
                damaged.rename(damaged.with_name(damaged.name + ".damaged"))
            print(f"digitgan: warning: {found[-1].name} is damaged ({failures[0].reason}); resuming from "
                  f"{path.name} (the damaged file is kept as {found[-1].name}.damaged)", file=sys.stderr)
        return path, contents
    raise UserError(f"none of the {len(found)} checkpoints of {target} loads; the newest: {failures[0]}")


def config_mismatch(saved: dict[str, Any], wanted: dict[str, Any], sections: tuple[str, ...] = ("model",)) -> list[str]:
    """Human-readable differences `section.key: saved -> wanted` in the given config sections."""
    differences = []
    if saved.get("preset") != wanted.get("preset"):
        differences.append(f"preset: {saved.get('preset')} -> {wanted.get('preset')}")
    for section in sections:
        for key in sorted(set(saved.get(section, {})) | set(wanted.get(section, {}))):
            old, new = saved.get(section, {}).get(key), wanted.get(section, {}).get(key)
            if old != new:
                differences.append(f"{section}.{key}: {old} -> {new}")
    return differences
