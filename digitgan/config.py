"""Run configuration as data: dataclasses filled from a shipped TOML preset plus `--set key=value` overrides.

A preset file has two tables, [model] (what is exported with the generator) and [train] (how it learns).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from digitgan.errors import UserError


@dataclass
class ModelConfig:
    """Architecture of G and D. Stage lists: G [channels, kernel, scale]; D [channels, kernel, stride]."""

    num_classes: int = 10
    z_dim: int = 100
    noise: str = "normal"               # normal | uniform (in [-1, 1])
    g_body: str = "dcgan"               # mlp | dcgan | upsample
    g_cond: str = "hadamard"            # hadamard | concat | none
    g_embed_dim: int = 0                # concat: 0 = concatenate the raw label vector
    g_dense: list[int] = field(default_factory=list)   # hidden dense widths before the 7x7 base (mlp: all)
    g_base: int = 128                   # channels of the 7x7 map the dense layer produces
    g_stages: list[list[int]] = field(default_factory=lambda: [[64, 4, 2], [32, 4, 2]])
    g_out_kernel: int = 3
    g_norm: str = "batch"               # batch | none
    g_act: str = "relu"                 # relu | lrelu
    g_out: str = "tanh"                 # tanh | sigmoid (rescaled to [-1, 1])
    d_body: str = "conv"                # mlp | conv
    d_cond: str = "projection"          # none | concat | projection | acgan | projection-acgan
    d_stages: list[list[int]] = field(default_factory=lambda: [[64, 4, 2], [128, 4, 2]])
    d_dense: list[int] = field(default_factory=list)   # hidden dense widths after the features
    d_pool: str = "flatten"             # flatten | gap
    d_norm: str = "none"                # none | batch
    d_dropout: float = 0.0
    spectral_norm: bool = False


@dataclass
class TrainConfig:
    dataset: str = "mnist"
    loss: str = "bce"                   # bce | hinge | lsgan | wgan-gp
    batch_size: int = 64
    g_batch_multiplier: int = 1         # G trained on multiplier x batch (Keras ACGAN: 2)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1                    # D updates per G update
    aux_weight: float = 1.0             # ACGAN class-loss weight
    label_smoothing: float = 0.0        # real target 1 - s for the BCE loss
    r1_gamma: float = 0.0
    gp_lambda: float = 10.0             # wgan-gp
    ema_decay: float = 0.999            # 0 disables EMA (sampling then uses G itself)
    ema_start_images: int = 0           # copy G into EMA until this many images were seen
    amp: bool = True                    # bf16 autocast on CUDA (ignored on CPU)
    reuse_fake: bool = False            # one G forward per step: D sees it detached, G's step reuses it
    d_joint_forward: bool = True        # D's step runs real and fake as one batch (separate if D has BatchNorm)
    balance: bool = False
    balance_band: list[float] = field(default_factory=lambda: [0.5, 2.0])
    steps: int = 0                      # budgets: total steps / epochs for the run; 0 = unset
    epochs: float = 0.0
    minutes: float = 0.0                # wall-clock minutes for this invocation
    log_every: int = 50
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    eval_every: int = 0                 # light evaluation every N steps (0 = off)
    test_batches: int = 4               # held-out batches for the epoch table
    seed: int = 0


@dataclass
class RunConfig:
    preset: str = "fast"
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        return cls(preset=data.get("preset", "custom"),
                   model=_fill(ModelConfig, data.get("model", {}), "model"),
                   train=_fill(TrainConfig, data.get("train", {}), "train"))


def _fill(kind: type, values: dict[str, Any], section: str) -> Any:
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"unknown {section} setting(s): {', '.join(unknown)}")
    return kind(**values)


def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("digitgan.presets").iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> RunConfig:
    """A shipped preset by name, or a TOML file path."""
    path = Path(name)
    if name.endswith(".toml") and path.is_file():
        text = path.read_text()
    else:
        resource = resources.files("digitgan.presets") / f"{name}.toml"
        if not resource.is_file():
            raise UserError(f"unknown preset '{name}'; choose from {', '.join(preset_names())} or a .toml file")
        text = resource.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"preset {name}: {error}") from None
    config = RunConfig.from_dict(data)
    config.preset = data.get("preset", path.stem if name.endswith(".toml") else name)
    return config


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(config: RunConfig, assignments: list[str]) -> RunConfig:
    """Apply `key=value` strings; key is `model.x`, `train.x`, or a bare name unique to one section."""
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key:
            raise UserError(f"--set expects key=value, got '{assignment}'")
        section_name, _, name = key.rpartition(".")
        sections = {"model": config.model, "train": config.train}
        if section_name:
            if section_name not in sections:
                raise UserError(f"--set {key}: section must be model or train")
            candidates = [section_name]
        else:
            candidates = [s for s, obj in sections.items() if hasattr(obj, name)]
        candidates = [s for s in candidates if hasattr(sections[s], name)]
        if not candidates:
            raise UserError(f"--set {key}: no such setting (see the preset TOML files for the names)")
        target = sections[candidates[0]]
        current = getattr(target, name)
        value = _parse_value(raw)
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise UserError(f"--set {key}: expected true or false, got '{raw}'")
        elif isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif type(value) is not type(current):
            raise UserError(f"--set {key}: expected a {type(current).__name__}, got '{raw}'")
        setattr(target, name, value)
    return config


def replace(config: RunConfig, **train_changes: Any) -> RunConfig:
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **train_changes))
