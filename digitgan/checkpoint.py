"""Checkpoints (full training state, atomic, last K kept) and the exported model (EMA generator only).

Layout of a run directory:
    runs/NAME/checkpoints/step-00001000.pt   torch.save dict, loadable with weights_only=True
    runs/NAME/model/config.json              the RunConfig the generator was built from
    runs/NAME/model/generator.safetensors    EMA generator weights (and BatchNorm buffers)
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from digitgan.config import RunConfig
from digitgan.errors import UserError
from digitgan.models import Generator, build_generator
from digitgan.models.inference import for_inference

FORMAT = "digitgan-checkpoint-1"
_STEP_FILE = re.compile(r"step-(\d+)\.pt$")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Any) -> None:
    """Call write(file_object) on a temporary file beside `path`, fsync it, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint files of a run, oldest first."""
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_FILE.search(p.name))]
    return [p for _, p in sorted(found)]


def save_checkpoint(run_dir: Path, state: dict[str, Any], step: int, keep: int) -> Path:
    path = run_dir / "checkpoints" / f"step-{step:08d}.pt"
    atomic_write(path, lambda handle: torch.save({"format": FORMAT, **state}, handle))
    for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return path


def resolve_checkpoint(target: Path) -> Path:
    """A checkpoint file, or the newest checkpoint of a run directory."""
    if target.is_file():
        return target
    if not target.exists():
        raise UserError(f"{target} does not exist")
    found = list_checkpoints(target)
    if not found:
        raise UserError(f"{target} has no checkpoints/step-*.pt to resume from")
    return found[-1]


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means the file is unusable
        raise UserError(f"{path} is not a loadable digitgan checkpoint ({type(error).__name__}: "
                        f"{str(error).splitlines()[0][:160]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise UserError(f"{path} is not a digitgan checkpoint (format {found})")
    return state


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


def load_state(module: torch.nn.Module, state_dict: dict[str, torch.Tensor], what: str, source: Path) -> None:
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as error:
        first = next((line.strip() for line in str(error).splitlines()[1:] if line.strip()), str(error))
        raise UserError(f"{source}: {what} weights do not fit this model ({first[:200]})") from None


# --- exported model -----------------------------------------------------------------------------------

def export_model(model_dir: Path, generator: Generator, config: RunConfig, extra: dict[str, Any] | None = None) -> Path:
    """Write config.json + generator.safetensors (atomic each) so sampling needs no training state."""
    model_dir.mkdir(parents=True, exist_ok=True)
    tensors = {name: tensor.detach().to("cpu").contiguous() for name, tensor in generator.state_dict().items()}
    weights = model_dir / "generator.safetensors"
    tmp = model_dir / ".generator.safetensors.tmp"
    save_file(tensors, str(tmp), metadata={"format": "digitgan-generator-1"})
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, weights)
    payload = {"format": "digitgan-model-1", **config.to_dict(), **(extra or {})}
    atomic_write(model_dir / "config.json", lambda handle: handle.write(json.dumps(payload, indent=2).encode()))
    return model_dir


def find_model_dir(target: Path) -> Path:
    """Accept a run directory, its model/ directory, or a config.json/generator.safetensors inside it."""
    if target.is_file():
        target = target.parent
    for candidate in (target, target / "model"):
        if (candidate / "generator.safetensors").is_file() and (candidate / "config.json").is_file():
            return candidate
    if not target.exists():
        raise UserError(f"{target} does not exist")
    raise UserError(f"{target} has no exported model (model/config.json + generator.safetensors); "
                    "train it to the end or interrupt it with Ctrl-C to export one")


def load_generator(target: Path, device: str | torch.device = "cpu",
                   for_sampling: bool = True) -> tuple[Generator, RunConfig, dict[str, Any]]:
    """(generator in eval mode, its RunConfig, the raw config.json) from a run or model directory.

    for_sampling: return models.inference.for_inference(generator) — the same images, BatchNorm folded and
    channels_last, several times faster at batch 1024 — instead of the trained module as saved.
    """
    model_dir = find_model_dir(target)
    try:
        raw = json.loads((model_dir / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"{model_dir / 'config.json'} is unreadable ({error})") from None
    config = RunConfig.from_dict({k: raw[k] for k in ("preset", "model", "train") if k in raw})
    generator = build_generator(config.model)
    try:
        tensors = load_file(str(model_dir / "generator.safetensors"))
    except Exception as error:  # noqa: BLE001 - corrupt safetensors raise several types
        raise UserError(f"{model_dir / 'generator.safetensors'} is unreadable ({error})") from None
    load_state(generator, tensors, "generator", model_dir / "generator.safetensors")
    generator = generator.to(device).eval()
    return (for_inference(generator) if for_sampling else generator), config, raw
