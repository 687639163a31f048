"""One training step, the same frame for every objective: the learning rate, the objective's update, the EMA, the
step count. The objective owns the math (training/objective.py for GANs, training/autoencoder.py for autoencoders);
`TrainingObjective` is the shape every objective has, so the loop and the recorder never ask which kind it is.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch

from digitgan.config import RunConfig
from digitgan.training.state import TrainState, ema_decay, ema_update, set_learning_rates


class TrainingObjective(Protocol):
    """What the trainer needs of an objective. Images are (N, 28, 28) uint8 with labels (N,) int64."""

    losses: tuple[str, ...]                   # metric keys checked for finiteness every step, plotted as losses
    rates: tuple[tuple[str, str], ...]        # (metric key, label) plotted in [0, 1]
    progress: tuple[tuple[str, str, str], ...]  # (label, metric key, format) on the progress line
    table: tuple[tuple[str, str, str], ...]   # end-of-epoch table: (row, training metric, held-out key)

    def update(self, state: TrainState, config: RunConfig, images: torch.Tensor,
               labels: torch.Tensor) -> dict[str, Any]:
        """The objective's parameter updates for one step (batches drawn from state's streams); scalar metrics."""

    def held_out_losses(self, state: TrainState, config: RunConfig, images: torch.Tensor,
                        labels: torch.Tensor) -> dict[str, float]:
        """The table's held-out losses, without touching the training streams."""

    def pictures(self, state: TrainState, config: RunConfig,
                 test_data: tuple[torch.Tensor, torch.Tensor] | None) -> dict[str, np.ndarray]:
        """Pictures of its own beside the samples grid: file name -> (H, W) uint8 (e.g. reconstructions)."""


def train_step(state: TrainState, config: RunConfig, objective: TrainingObjective, images: torch.Tensor,
               labels: torch.Tensor) -> dict[str, Any]:
    """One step on the data set `images` (N,28,28) uint8 / `labels` (N,); returns scalar metrics for logging."""
    if config.train.lr_half_life:
        set_learning_rates(state, config)
    metrics = objective.update(state, config, images, labels)
    ema_update(state.ema, state.generator, ema_decay(config, state))
    state.step += 1
    return metrics


def update_balance(state: TrainState, d_adv: float, g_adv: float, band: list[float]) -> str | None:
    """Pause the side that is winning while the ratio of averaged losses is outside `band`.

    ratio = G loss / (D loss per term); D far ahead (ratio > band[1]) pauses D, G far ahead pauses G.
    Returns the new paused side when it changes ("D", "G" or "" for none).
    """
    b = state.balance
    b.d_avg = d_adv / 2 if b.d_avg is None else 0.95 * b.d_avg + 0.05 * d_adv / 2
    b.g_avg = g_adv if b.g_avg is None else 0.95 * b.g_avg + 0.05 * g_adv
    ratio = b.g_avg / max(b.d_avg, 1e-8)
    paused = "D" if ratio > band[1] else "G" if ratio < band[0] else ""
    if paused != b.paused:
        b.paused = paused
        return paused
    return None
