"""Model registry: build G and D from a ModelConfig; noise and label helpers shared by training and sampling.

Every choice a ModelConfig names is a key of one registry here (`CHOICES`); the names themselves are declared in
digitgan/choices.py (which the config checks against), and this module asserts at import that both agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from digitgan.choices import MAX_PARAMETERS, MODEL_CHOICES, check_registry
from digitgan.errors import UserError
from digitgan.kinds import KINDS as ALL_KINDS
from digitgan.kinds import PARTNER_NAMES, kind_of
from digitgan.models.conditioning import D_CONDITIONING, G_CONDITIONING
from digitgan.models.discriminator import D_BODIES, D_NORMS, D_POOLS, Discriminator, Encoder
from digitgan.models.generator import ACTIVATIONS, G_BODIES, G_NORMS, OUTPUTS, Generator

if TYPE_CHECKING:
    from digitgan.config import ModelConfig

__all__ = ["CHOICES", "D_CONDITIONING", "G_BODIES", "G_CONDITIONING", "NOISES", "Discriminator", "Encoder", "Generator",
           "build_partner", "build_generator", "check_buildable", "load_weights", "one_hot",
           "sample_noise"]


def _normal(count: int, z_dim: int, generator: torch.Generator | None, device: torch.device | str) -> torch.Tensor:
    return torch.randn(count, z_dim, generator=generator, device=device)


def _uniform(count: int, z_dim: int, generator: torch.Generator | None, device: torch.device | str) -> torch.Tensor:
    return torch.rand(count, z_dim, generator=generator, device=device) * 2.0 - 1.0


NOISES = {"normal": _normal, "uniform": _uniform}  # uniform in [-1, 1): the Keras ACGAN's noise


def _glorot(network: torch.nn.Module) -> None:
    """Keras's initialisation of Dense and Conv layers: Glorot-uniform weights, zero biases (the original weight of
    a spectrally normalised layer)."""
    for module in network.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            parametrized = getattr(module, "parametrizations", None)
            weight = parametrized.weight.original if parametrized is not None and "weight" in parametrized \
                else module.weight
            with torch.no_grad():
                torch.nn.init.xavier_uniform_(weight)
                if module.bias is not None:
                    module.bias.zero_()


INITS = {"torch": None, "glorot": _glorot}  # None: the layers keep PyTorch's default initialisation

KINDS = {name: kind.description for name, kind in ALL_KINDS.items()}
# the network trained beside the generator, by the name a kind declares (digitgan/kinds.py)
PARTNERS: dict[str, type[Discriminator] | type[Encoder]] = {"discriminator": Discriminator, "encoder": Encoder}

CHOICES: dict[str, dict] = {
    "kind": KINDS, "noise": NOISES, "g_body": G_BODIES, "g_cond": G_CONDITIONING, "g_norm": G_NORMS,
    "g_act": ACTIVATIONS, "g_out": OUTPUTS, "d_body": D_BODIES, "d_cond": D_CONDITIONING, "d_pool": D_POOLS,
    "d_norm": D_NORMS, "init": INITS,
}


check_registry("partner", PARTNERS, PARTNER_NAMES)
check_registry("model", CHOICES, tuple(MODEL_CHOICES))
for _name, _registry in CHOICES.items():
    check_registry(f"model.{_name}", _registry, MODEL_CHOICES[_name])


def _initialised(network: torch.nn.Module, config: ModelConfig) -> torch.nn.Module:
    initialise = INITS[config.init]
    if initialise is not None:
        initialise(network)
    return network


def build_generator(config: ModelConfig) -> Generator:
    return _initialised(Generator(config), config)


def build_partner(config: ModelConfig) -> Discriminator | Encoder:
    """The network trained beside the generator, as the model's kind declares: D for a GAN, the encoder for an
    autoencoder."""
    return _initialised(PARTNERS[kind_of(config.kind).partner](config), config)


def sample_noise(count: int, config: ModelConfig, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """(count, z_dim) float32: standard normal, or uniform in [-1, 1) (config.noise)."""
    return NOISES[config.noise](count, config.z_dim, generator, device)


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """labels (N,) int -> (N, num_classes) float32 one-hot label vectors."""
    return torch.nn.functional.one_hot(labels, num_classes).to(torch.float32)


def check_buildable(config: ModelConfig) -> None:
    """Build G and D and run one sample through: UserError if a network exceeds MAX_PARAMETERS (counted on shapes
    alone, before any memory is taken), they do not fit together, or G does not draw (N, 1, 28, 28)."""
    try:
        with torch.device("meta"):  # shapes only: no memory, no initialisation, no draw from the random generator
            generator, partner = Generator(config), build_partner(config)
        for name, network in (("generator", generator), (kind_of(config.kind).partner, partner)):
            count = sum(p.numel() for p in network.parameters())
            if count > MAX_PARAMETERS:
                raise UserError(f"the {name} would have {count:,} parameters, more than {MAX_PARAMETERS:,}; "
                                "choose smaller widths")
        # The sample runs on the CPU in uninitialised memory (only shapes matter): a forward pass on the meta device
        # would load torch's compiler stack, seconds of every process that trains or loads a model.
        # Eval mode: dropout would draw from the random generator a run is about to seed.
        generator, partner = generator.to_empty(device="cpu").eval(), partner.to_empty(device="cpu").eval()
        with torch.no_grad():
            z, label_vector = torch.zeros(2, config.z_dim), torch.zeros(2, config.num_classes)
            images = generator(z, label_vector)
            if tuple(images.shape[1:]) != (1, 28, 28):
                raise UserError(f"the generator draws {tuple(images.shape[1:])} images, not (1, 28, 28); a conv "
                                "generator needs exactly two scale-2 stages (7 -> 14 -> 28)")
            partner(images, label_vector)
    except UserError:
        raise
    except (RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise UserError(f"this model does not build: {first}") from None


def load_weights(module: torch.nn.Module, state_dict: dict[str, torch.Tensor], what: str, source: Path) -> None:
    """load_state_dict with a one-line UserError when the shapes or names do not fit."""
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as error:
        first = next((line.strip() for line in str(error).splitlines()[1:] if line.strip()), str(error))
        raise UserError(f"{source}: {what} weights do not fit this model ({first[:200]})") from None
