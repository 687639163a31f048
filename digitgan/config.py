"""Run configuration as data: dataclasses filled from a TOML preset plus `key=value` overrides, checked at the door.

A preset file has two tables, [model] (what is exported with the generator) and [train] (how it learns).
Every field carries its own bounds (a range, a registry of choices, a list shape); `RunConfig.from_dict` checks
every value against them, and against the names of models and losses (digitgan/choices.py: config imports nothing
above it), before anything is loaded or built,
so a bad preset, override, checkpoint or model folder is one clear error naming the key, the value and what is
allowed.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from digitgan.choices import MAX_PARAMETERS as MAX_PARAMETERS  # re-exported: the limit every config obeys
from digitgan.choices import registries
from digitgan.errors import UserError

MAX_WIDTH = 4096          # channels / embedding widths
MAX_DENSE = 16384         # hidden units of a dense layer
MAX_LAYERS = 8            # stages or dense layers per network


def _int(default: int, low: int, high: int) -> Any:
    return field(default=default, metadata={"kind": int, "range": (low, high)})


def _float(default: float, low: float, high: float, open_high: bool = False) -> Any:
    return field(default=default, metadata={"kind": float, "range": (low, high), "open_high": open_high})


def _choice(default: str, registry: str) -> Any:
    return field(default=default, metadata={"kind": str, "choices": registry})


def _bool(default: bool) -> Any:
    return field(default=default, metadata={"kind": bool})


def _ints(default: list[int], high: int) -> Any:
    return field(default_factory=lambda: list(default), metadata={"kind": "ints", "range": (1, high)})


def _stages(default: list[list[int]], names: tuple[str, str, str], last: tuple[int, int]) -> Any:
    return field(default_factory=lambda: [list(s) for s in default], metadata={"kind": "stages", "names": names,
                                                                              "last": last})


@dataclass
class ModelConfig:
    """Architecture of G and D. Stage lists: G [channels, kernel, scale]; D [channels, kernel, stride]."""

    kind: str = _choice("gan", "kind")                     # gan | vae | ae (the encoder uses the d_* settings)
    num_classes: int = _int(10, 1, 1000)
    z_dim: int = _int(100, 1, MAX_WIDTH)
    noise: str = _choice("normal", "noise")                 # normal | uniform (in [-1, 1])
    g_body: str = _choice("dcgan", "g_body")                # mlp | dcgan | upsample
    g_cond: str = _choice("hadamard", "g_cond")             # hadamard | concat | none
    g_embed_dim: int = _int(0, 0, MAX_WIDTH)                # concat: 0 = concatenate the raw label vector
    g_dense: list[int] = _ints([], MAX_DENSE)              # hidden dense widths before the 7x7 base (mlp: all)
    g_base: int = _int(128, 1, MAX_WIDTH)                   # channels of the 7x7 map the dense layer produces
    g_stages: list[list[int]] = _stages([[64, 4, 2], [32, 4, 2]], ("channels", "kernel", "scale"), (1, 2))
    g_out_kernel: int = _int(3, 1, 9)
    g_norm: str = _choice("batch", "g_norm")                # batch | none | class-batch (per-class scale, shift)
    g_act: str = _choice("relu", "g_act")                   # relu | lrelu
    g_out: str = _choice("tanh", "g_out")                   # tanh | sigmoid (rescaled to [-1, 1])
    d_body: str = _choice("conv", "d_body")                 # mlp | conv | resnet (SNGAN's residual blocks)
    # none | concat | projection | acgan | projection-acgan | tac | projection-tac (twin auxiliary classifiers)
    d_cond: str = _choice("projection", "d_cond")
    d_stages: list[list[int]] = _stages([[64, 4, 2], [128, 4, 2]], ("channels", "kernel", "stride"), (1, 2))
    d_dense: list[int] = _ints([], MAX_DENSE)              # hidden dense widths after the features
    d_pool: str = _choice("flatten", "d_pool")              # flatten | gap
    d_norm: str = _choice("none", "d_norm")                 # none | batch
    d_dropout: float = _float(0.0, 0.0, 1.0, open_high=True)
    spectral_norm: bool = _bool(False)
    # ProGAN's minibatch standard deviation: D's features gain one, the spread of the features over groups of this
    # many consecutive samples (0 = off)
    d_mbstd: int = _int(0, 0, 256)
    # initial weights of G's and D's dense and convolution layers: torch (PyTorch's defaults) | glorot (Keras's:
    # Glorot-uniform weights, zero biases)
    init: str = _choice("torch", "init")

    def __post_init__(self) -> None:
        _check_fields(self, "model")

    @property
    def conditional(self) -> bool:
        """Whether G draws the class it is asked for: through its input code (g_cond) or its BatchNorms."""
        return self.g_cond != "none" or self.g_norm == "class-batch"


@dataclass
class TrainConfig:
    dataset: str = field(default="mnist", metadata={"kind": str})
    loss: str = _choice("bce", "loss")                      # bce | hinge | lsgan | wgan-gp | rpgan
    batch_size: int = _int(64, 1, 65536)
    g_batch_multiplier: int = _int(1, 1, 64)                # G trained on multiplier x batch (Keras ACGAN: 2)
    lr_g: float = _float(2e-4, 0.0, 1.0)
    lr_d: float = _float(2e-4, 0.0, 1.0)
    lr_decay_after: int = _int(0, 0, 2**62)                 # images seen before the learning rates start to decay
    lr_half_life: int = _int(0, 0, 2**62)                   # images per halving after that (0 = constant rates)
    beta1: float = _float(0.5, 0.0, 1.0, open_high=True)
    beta2: float = _float(0.999, 0.0, 1.0, open_high=True)
    adam_eps: float = _float(1e-8, 0.0, 1.0)               # PyTorch's default; Keras's is 1e-7
    d_steps: int = _int(1, 1, 100)                          # D updates per G update
    # each D update as two optimizer steps, one on the real batch and one on the fake batch (the Keras loops'
    # two train_on_batch calls); not with a gradient penalty, which needs both in one step
    d_split_steps: bool = _bool(False)
    aux_weight: float = _float(1.0, 0.0, 1000.0)            # ACGAN class-loss weight
    label_smoothing: float = _float(0.0, 0.0, 1.0, open_high=True)  # real target 1 - s for the BCE loss
    r1_gamma: float = _float(0.0, 0.0, 1e6)
    r1_every: int = _int(1, 1, 1000)                        # lazy R1: the penalty every N steps, weighted N times
    # D's input: none | translation | translation-cutout (DiffAugment: the same transforms on real and fake images)
    d_augment: str = _choice("none", "d_augment")
    # balanced consistency regularisation (Zhao et al. 2021): D's step adds weight x the mean squared change of D's
    # adversarial logits when consistency_augment transforms its real and its fake images (0 = off)
    consistency_weight: float = _float(0.0, 0.0, 1e6)
    consistency_augment: str = _choice("translation", "d_augment")
    # mode seeking (MSGAN, Mao et al. 2019): G's batch comes in pairs of one class, and G's loss adds weight / the
    # ratio of the pairs' mean image distance to their mean noise distance, so close codes may not draw alike (0 = off)
    mode_seeking: float = _float(0.0, 0.0, 1000.0)
    # top-k training (Sinha et al. 2020): G's adversarial loss counts only the share of its batch that D finds most
    # real; the share starts at 1 and halves every top_k_half_life images, down to top_k_min (1 = off; half-life 0:
    # top_k_min from the first step). The class loss still counts every sample.
    top_k_min: float = _float(1.0, 0.0, 1.0)
    top_k_half_life: int = _int(0, 0, 2**62)
    gp_lambda: float = _float(10.0, 0.0, 1e6)               # wgan-gp
    kl_weight: float = _float(1.0, 0.0, 1000.0)             # vae: weight of the KL term (1 = the ELBO)
    ema_decay: float = _float(0.999, 0.0, 1.0, open_high=True)  # 0 disables EMA (sampling then uses G itself)
    ema_start_images: int = _int(0, 0, 2**62)               # copy G into EMA until this many images were seen
    # >1: the exported G is the EMA's mean over the last N checkpoints at multiples of checkpoint_every (the final
    # state the last of them); its BatchNorm statistics then as standing_stats says
    average_checkpoints: int = _int(1, 1, 1000)
    standing_stats: int = _int(0, 0, 100_000)               # >0: batches that recompute the exported G's BatchNorm
                                                            # statistics for its own (EMA) weights
    amp: bool = _bool(True)                                 # bf16 autocast on CUDA (ignored on CPU)
    # bf16 autocast on the CPU too: faster only where the CPU has bf16 units (AVX512-BF16, AMX), much slower where
    # not; the model differs from a float32 run's (the same seed on the same machine still repeats it)
    cpu_amp: bool = _bool(False)
    # whose forwards (and so backwards) autocast covers: both | generator | discriminator (the other in float32)
    amp_networks: str = _choice("both", "amp_networks")
    reuse_fake: bool = _bool(False)                         # one G forward per step: D sees it detached, G reuses it
    d_joint_forward: bool = _bool(True)                     # D's step runs real and fake as one batch
    balance: bool = _bool(False)
    # True: on the CPU, move between all threads and one as other load comes and goes (runtime.ThreadGovernor):
    # faster beside other busy processes, but the numerics follow the thread count, so runs no longer repeat exactly
    adapt_threads: bool = _bool(False)
    balance_band: list[float] = field(default_factory=lambda: [0.5, 2.0], metadata={"kind": "band"})
    steps: int = _int(0, 0, 2**62)                          # budgets: total steps / epochs for the run; 0 = unset
    epochs: float = _float(0.0, 0.0, 1e9)
    minutes: float = _float(0.0, 0.0, 1e9)                  # wall-clock minutes for this invocation
    log_every: int = _int(50, 1, 2**62)
    checkpoint_every: int = _int(1000, 0, 2**62)
    keep_checkpoints: int = _int(3, 1, 1000)
    eval_every: int = _int(0, 0, 2**62)                     # light evaluation every N steps (0 = off)
    test_batches: int = _int(4, 1, 100_000)                 # held-out batches for the epoch table
    # the epoch table, sample grid and loss plot every N epochs; 0: never (a run on a few dozen images, where an
    # epoch is a step or two, would spend its time drawing them). The model does not depend on it.
    epoch_report_every: int = _int(1, 0, 2**62)
    seed: int = _int(0, 0, 2**63 - 1)

    def __post_init__(self) -> None:
        _check_fields(self, "train")


@dataclass
class RunConfig:
    preset: str = "fast"
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Build and check a config from plain values (a preset's tables, a checkpoint's or model folder's JSON).

        Raises UserError naming the first bad key. Whether G and D fit together and stay within MAX_PARAMETERS
        is checked by the code that builds them (models.check_buildable), before it builds anything.
        """
        if not isinstance(data, dict):
            raise UserError(f"a run configuration must be a table of settings, got {type(data).__name__}")
        preset = data.get("preset", "custom")
        if not isinstance(preset, str):
            raise UserError(f"preset: {preset!r} must be a name")
        config = cls(preset=preset, model=_fill(ModelConfig, data.get("model", {}), "model"),
                     train=_fill(TrainConfig, data.get("train", {}), "train"))
        return config


# --- checking values ----------------------------------------------------------------------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_range(key: str, value: float, meta: dict[str, Any]) -> None:
    low, high = meta["range"]
    too_high = value >= high if meta.get("open_high") else value > high
    if value < low or too_high:
        upper = f"below {high:g}" if meta.get("open_high") else f"at most {high:g}"
        raise UserError(f"{key}: {value!r} is out of range (at least {low:g} and {upper})")


def _check_value(key: str, value: Any, meta: dict[str, Any]) -> Any:
    """The value, checked (and an int given for a float converted); UserError naming key and value otherwise."""
    kind = meta.get("kind")
    if kind is bool:
        if not isinstance(value, bool):
            raise UserError(f"{key}: {value!r} must be true or false")
    elif kind is int:
        if not _is_int(value):
            raise UserError(f"{key}: {value!r} must be a whole number")
        _check_range(key, value, meta)
    elif kind is float:
        if not (_is_int(value) or isinstance(value, float)):
            raise UserError(f"{key}: {value!r} must be a number")
        value = float(value)
        if not math.isfinite(value):
            raise UserError(f"{key}: {value!r} must be a finite number")
        _check_range(key, value, meta)
    elif kind is str:
        if not isinstance(value, str) or not value:
            raise UserError(f"{key}: {value!r} must be a non-empty string")
        if "choices" in meta:
            allowed = registries()[meta["choices"]]
            if value not in allowed:
                raise UserError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
    elif kind == "ints":
        if (not isinstance(value, list) or len(value) > MAX_LAYERS or not all(_is_int(v) for v in value)):
            raise UserError(f"{key}: {value!r} must be a list of at most {MAX_LAYERS} whole numbers (layer widths)")
        for width in value:
            _check_range(key, width, meta)
    elif kind == "stages":
        names = meta["names"]
        shape = f"[{', '.join(names)}]"
        if (not isinstance(value, list) or len(value) > MAX_LAYERS
                or not all(isinstance(s, list) and len(s) == 3 and all(_is_int(v) for v in s) for s in value)):
            raise UserError(f"{key}: {value!r} must be a list of at most {MAX_LAYERS} {shape} triples of whole "
                            "numbers")
        for stage in value:
            for name, number, bounds in zip(names, stage, ((1, MAX_WIDTH), (1, 9), meta["last"]), strict=True):
                if not bounds[0] <= number <= bounds[1]:
                    raise UserError(f"{key}: {name} {number} in {stage} is out of range ({bounds[0]}-{bounds[1]})")
    elif kind == "band":
        if (not isinstance(value, list) or len(value) != 2 or not all(_is_int(v) or isinstance(v, float)
                                                                       for v in value)
                or not all(math.isfinite(v) for v in value) or not 0 < value[0] < value[1]):
            raise UserError(f"{key}: {value!r} must be [low, high] with 0 < low < high")
        value = [float(v) for v in value]
    return value


def _check_fields(instance: Any, section: str) -> None:
    """Check every field of a ModelConfig / TrainConfig in place (ints given for floats become floats)."""
    for spec in fields(instance):
        value = getattr(instance, spec.name)
        checked = _check_value(f"{section}.{spec.name}", value, spec.metadata)
        if checked is not value:
            setattr(instance, spec.name, checked)


def _fill(kind: type, values: Any, section: str) -> Any:
    if not isinstance(values, dict):
        raise UserError(f"{section}: must be a table of settings, got {values!r}")
    unknown = sorted(set(values) - {f.name for f in fields(kind)})
    if unknown:
        raise UserError(f"unknown {section} setting(s): {', '.join(unknown)}")
    return kind(**values)


# --- presets and overrides ----------------------------------------------------------------------------------

def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("digitgan.presets").iterdir() if p.name.endswith(".toml"))


def preset_descriptions() -> dict[str, str]:
    """name -> the `description` its TOML gives (what `digitgan presets`, `--preset` help and README show)."""
    found = {}
    for name in preset_names():
        data = tomllib.loads((resources.files("digitgan.presets") / f"{name}.toml").read_text())
        found[name] = " ".join(str(data.get("description", "")).split())
    return found


def load_preset(name: str) -> RunConfig:
    """A shipped preset by name, or a TOML file path; checked."""
    path = Path(name)
    if name.endswith(".toml"):
        if not path.is_file():
            raise UserError(f"preset file {path} does not exist")
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
    data.setdefault("preset", path.stem if name.endswith(".toml") else name)
    try:
        return RunConfig.from_dict(data)
    except UserError as error:
        raise UserError(f"preset {name}: {error}") from None


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def setting_section(config: RunConfig, key: str) -> tuple[str, str]:
    """(section, name) of a setting given as `model.x`, `train.x`, or a bare name unique to one section."""
    section, _, name = key.rpartition(".")
    names = {"model": {f.name for f in fields(ModelConfig)}, "train": {f.name for f in fields(TrainConfig)}}
    if section:
        if section not in names:
            raise UserError(f"setting '{key}': the section must be model or train")
        candidates = [section] if name in names[section] else []
    else:
        candidates = [s for s in names if name in names[s]]
    if not candidates:
        raise UserError(f"setting '{key}': no such setting (the preset TOML files list them)")
    return candidates[0], name


def apply_overrides(config: RunConfig, assignments: list[str]) -> RunConfig:
    """A new config with `key=value` strings applied (values in TOML syntax; bare words are strings); checked."""
    data = config.to_dict()
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key:
            raise UserError(f"a setting must look like key=value, got '{assignment}'")
        section, name = setting_section(config, key.strip())
        data[section][name] = _parse_value(raw.strip())
    return RunConfig.from_dict(data)


def with_settings(config: RunConfig, changes: dict[str, Any]) -> RunConfig:
    """A checked copy of `config` with settings given by name (`model.x`, `train.x`, or a bare name unique to one
    section, as `--set` takes them) set to already typed values."""
    data = config.to_dict()
    for key, value in changes.items():
        section, name = setting_section(config, key)
        data[section][name] = value
    return RunConfig.from_dict(data)


def with_train(config: RunConfig, **changes: Any) -> RunConfig:
    """A copy of `config` with train settings changed, checked."""
    data = config.to_dict()
    data["train"].update(changes)
    return RunConfig.from_dict(data)
