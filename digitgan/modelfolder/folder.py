"""Load and save a model folder: config.json + generator.safetensors, all that drawing needs (+ README.md, its card).

Training writes it (the EMA generator, or an autoencoder's decoder) at the end of a run and on Ctrl-C; every
command that draws digits loads it; with no folder named, they use the one shipped in pretrained/ (`make
pretrained` trains it by the committed recipe, evaluates it, and copies it there). The config is checked before
anything is built, so a model folder from elsewhere with a bad or oversized config is a one-line error, not a 12 TB
allocation.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save

from digitgan.config import RunConfig
from digitgan.errors import UserError
from digitgan.files import atomic_write, write_json
from digitgan.modelfolder.card import write_model_card
from digitgan.models import Generator, build_generator, check_buildable, load_weights
from digitgan.models.inference import for_inference

MODEL_FORMAT = "digitgan-model-1"
WEIGHTS_FORMAT = "digitgan-generator-1"


def export_model(model_dir: Path, generator: Generator, config: RunConfig, extra: dict[str, Any] | None = None) -> Path:
    """Write config.json + generator.safetensors (each atomically) so that sampling needs no training state, and
    README.md, its model card (card.py)."""
    tensors = {name: tensor.detach().to("cpu").contiguous() for name, tensor in generator.state_dict().items()}
    atomic_write(model_dir / "generator.safetensors", save(tensors, metadata={"format": WEIGHTS_FORMAT}))
    write_json(model_dir / "config.json", {"format": MODEL_FORMAT, **config.to_dict(), **(extra or {})})
    write_model_card(model_dir, config, extra)
    return model_dir


def default_model_dir() -> Path:
    """The model shipped inside the package (used when a command names no model)."""
    directory = Path(str(resources.files("digitgan.modelfolder") / "pretrained"))
    if not (directory / "generator.safetensors").is_file():
        raise UserError(f"no default model in {directory}; build it with `make pretrained`, or pass --run RUN")
    return directory


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


def read_model_config(model_dir: Path) -> tuple[RunConfig, dict[str, Any]]:
    """(checked RunConfig, raw config.json) of a model directory."""
    path = model_dir / "config.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is unreadable ({error})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path} does not hold a model configuration")
    try:
        config = RunConfig.from_dict({k: raw[k] for k in ("preset", "model", "train") if k in raw})
    except UserError as error:
        raise UserError(f"{path}: {error}") from None
    return config, raw


def load_generator(target: Path, device: str | torch.device = "cpu",
                   for_sampling: bool = True) -> tuple[Generator, RunConfig, dict[str, Any]]:
    """(generator in eval mode, its RunConfig, the raw config.json) from a run or model directory.

    for_sampling: return models.inference.for_inference(generator) — the same images, BatchNorm folded and
    channels_last, several times faster at batch 1024 — instead of the trained module as saved.
    """
    model_dir = find_model_dir(target)
    config, raw = read_model_config(model_dir)
    check_buildable(config.model)  # e.g. a folder whose config asks for a billion weights: refused before building
    generator = build_generator(config.model)
    weights = model_dir / "generator.safetensors"
    try:
        tensors = load_file(str(weights))
    except Exception as error:  # noqa: BLE001 - corrupt safetensors raise several types
        raise UserError(f"{weights} is unreadable ({error})") from None
    load_weights(generator, tensors, "generator", weights)
    generator = generator.to(device).eval()
    return (for_inference(generator) if for_sampling else generator), config, raw
