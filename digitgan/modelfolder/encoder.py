"""The hand encoder's files in a model folder: hand-encoder.safetensors (its weights) and hand-encoder.json (its
shape, the recipe that trained it, and facts about the training). digitgan.drawing.hand trains and uses it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from digitgan.errors import UserError
from digitgan.files import atomic_write, write_json

ENCODER_FILE, ENCODER_CARD = "hand-encoder.safetensors", "hand-encoder.json"
ENCODER_FORMAT = "digitgan-hand-encoder-1"


def save_encoder(model_dir: Path, encoder: torch.nn.Module, recipe: Any, facts: dict[str, Any]) -> Path:
    """hand-encoder.safetensors + hand-encoder.json beside the generator it inverts (`recipe`: the dataclass of the
    settings that trained it)."""
    from safetensors.torch import save

    tensors = {name: tensor.contiguous() for name, tensor in encoder.state_dict().items()}
    atomic_write(model_dir / ENCODER_FILE, save(tensors, metadata={"format": ENCODER_FORMAT}))
    write_json(model_dir / ENCODER_CARD, {"format": ENCODER_FORMAT, "z_dim": encoder.z_dim, "classes": encoder.classes,
                                          "width": encoder.width, "recipe": asdict(recipe), **facts})
    return model_dir / ENCODER_FILE


def load_encoder(model_dir: Path) -> torch.nn.Module:
    """The hand encoder of a model folder; UserError saying how to make one when the folder has none."""
    from safetensors.torch import load_file

    from digitgan.models import load_weights
    from digitgan.models.hand_encoder import HandEncoder

    weights, card_path = model_dir / ENCODER_FILE, model_dir / ENCODER_CARD
    if not weights.is_file() or not card_path.is_file():
        raise UserError(f"{model_dir} has no hand encoder; `digitgan hand-encoder --run {model_dir}` trains one "
                        "(a few minutes on 2 cores)")
    try:
        card = json.loads(card_path.read_text())
        encoder = HandEncoder(int(card["z_dim"]), int(card["classes"]), int(card["width"]))
        tensors = load_file(str(weights))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{weights} is unreadable ({type(error).__name__})") from None
    load_weights(encoder, tensors, "hand encoder", weights)
    return encoder.eval().requires_grad_(False)


def optional_encoder(model_dir: Path) -> torch.nn.Module | None:
    """The model folder's hand encoder, or None when it has none (an unreadable one is still a UserError)."""
    if not (model_dir / ENCODER_FILE).is_file() and not (model_dir / ENCODER_CARD).is_file():
        return None
    return load_encoder(model_dir)
