"""How the class reaches each network. Registered by name; every one takes a float label vector (N, C).

G side: a module mapping (z (N, z_dim), label_vector (N, C)) -> input code (N, out_dim).
D side: a set of switches a discriminator composes: inject the label before the first dense layer
(concat), add a projection term (Miyato & Koyama 2018), add an auxiliary classifier head (ACGAN), or twin
auxiliary classifiers (TAC-GAN, Gong et al. 2019): the classifier learns the classes of real images only and a twin
those of generated ones; G lowers the first's class loss and raises the twin's, which removes ACGAN's pull of every
sample towards where its class is easiest to tell; or an auxiliary discriminative classifier (ADC-GAN, Hou et al.
2022): one classifier over 2C classes, "real k" and "generated k", so it tells real from generated within each class
and G, drawing class k, raises "real k" against "generated k" (the objective, training/objective.py, owns that math).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from digitgan.config import ModelConfig



class HadamardConditioning(nn.Module):
    """z ⊙ (label_vector @ E), E: (C, z_dim) — the Keras ACGAN's Embedding multiplied into the noise."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.empty(config.num_classes, config.z_dim))
        if not self.embedding.is_meta:  # a shapes-only build (models.check_buildable) has no values to draw
            nn.init.xavier_normal_(self.embedding)  # Keras: glorot_normal
        self.out_dim = config.z_dim

    def forward(self, z: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        return z * (label_vector @ self.embedding)


class ConcatConditioning(nn.Module):
    """cat(z, label_vector) or cat(z, label_vector @ E) when g_embed_dim > 0."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        width = config.g_embed_dim or config.num_classes
        self.embedding = nn.Parameter(torch.empty(config.num_classes, width)) if config.g_embed_dim else None
        if self.embedding is not None and not self.embedding.is_meta:  # as above: a shapes-only build draws nothing
            nn.init.normal_(self.embedding)
        self.out_dim = config.z_dim + width

    def forward(self, z: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        code = label_vector if self.embedding is None else label_vector @ self.embedding
        return torch.cat([z, code], dim=1)


class NoConditioning(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.out_dim = config.z_dim

    def forward(self, z: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        return z


G_CONDITIONING: dict[str, type[nn.Module]] = {
    "hadamard": HadamardConditioning,
    "concat": ConcatConditioning,
    "none": NoConditioning,
}


@dataclass(frozen=True)
class DConditioning:
    inject: bool = False      # label concatenated before D's first dense layer
    project: bool = False     # + <embed(label), features>
    aux: bool = False         # auxiliary classifier head (ACGAN)
    twin: bool = False        # and a twin classifier head for generated images (TAC-GAN; needs aux)
    discriminative: bool = False  # the classifier over 2C classes, real k and generated k (ADC-GAN; needs aux)

    @property
    def class_outputs(self) -> int:
        """How many logits per class the classifier head has: 2 with twin or discriminative classifiers, else 1."""
        return 2 if self.twin or self.discriminative else 1


D_CONDITIONING: dict[str, DConditioning] = {
    "none": DConditioning(),
    "concat": DConditioning(inject=True),
    "projection": DConditioning(project=True),
    "acgan": DConditioning(aux=True),
    "projection-acgan": DConditioning(project=True, aux=True),
    "tac": DConditioning(aux=True, twin=True),
    "projection-tac": DConditioning(project=True, aux=True, twin=True),
    "adc": DConditioning(aux=True, discriminative=True),
    "projection-adc": DConditioning(project=True, aux=True, discriminative=True),
}
