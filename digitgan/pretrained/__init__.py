"""The default model shipped inside the package (used when a command gets no --run).

`make pretrained` trains it by the committed recipe (the Makefile's `pretrained` target: preset, steps, seed,
threads), evaluates it, and copies config.json, generator.safetensors and the evaluation report here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from digitgan.errors import UserError


def default_model_dir() -> Path:
    directory = Path(str(resources.files("digitgan.pretrained")))
    if not (directory / "generator.safetensors").is_file():
        raise UserError(f"no default model in {directory}; build it with `make pretrained`, or pass --run RUN")
    return directory
