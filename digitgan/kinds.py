"""The registry of model kinds: what a `model.kind` name means, declared once (no torch, no imports of ours).

Every layer that acts on the kind reads its entry here and looks the named part up in its own registry: models
builds `partner` (models.PARTNERS), training runs `objective` (training.objective.OBJECTIVES), the model card
writes `title` and `tag`. No code outside this module compares a kind's name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelKind:
    name: str
    description: str     # one line, for help texts
    partner: str         # the network trained beside the one that draws: "discriminator" or "encoder"
    objective: str       # the training objective: "adversarial" or "autoencoder"
    variational: bool    # the encoder's posterior is sampled and a KL term shapes the latent space
    title: str           # what the exported network is, in a model card's heading
    tag: str             # the model card's tag for the method
    exported: str        # what generator.safetensors holds


KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (
    ModelKind("gan", "generator and discriminator", "discriminator", "adversarial", False, "GAN generator",
              "generative-adversarial-network", "the EMA generator"),
    ModelKind("vae", "variational autoencoder (decoder and encoder)", "encoder", "autoencoder", True, "VAE decoder",
              "variational-autoencoder", "the decoder"),
    ModelKind("ae", "plain autoencoder (decoder and encoder, no KL term)", "encoder", "autoencoder", False,
              "autoencoder decoder", "autoencoder", "the decoder"),
)}
PARTNER_NAMES = ("discriminator", "encoder")
OBJECTIVE_NAMES = ("adversarial", "autoencoder")


def kind_of(name: str) -> ModelKind:
    """The registry entry of a kind name (config has checked the name against KINDS)."""
    return KINDS[name]
