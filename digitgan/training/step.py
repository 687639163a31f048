"""One training step: d_steps updates of D, then one of G, then the EMA. The objective owns the math.

D's phase never updates G (its fakes are detached or made without a graph); G's phase freezes D's weights.
Under DDP each side's gradient-carrying forward goes through its DDP wrapper (state.g_train / state.d_train),
which averages gradients across ranks in backward; forwards that need no gradient use the module itself.
"""

from __future__ import annotations

from typing import Any

import torch

from digitgan.config import RunConfig
from digitgan.models import one_hot, sample_noise
from digitgan.training.objective import Objective
from digitgan.training.state import TrainState, ema_decay, ema_update, next_batch, set_learning_rates


def make_fakes(state: TrainState, config: RunConfig, count: int, with_grad: bool,
               generator: torch.nn.Module, objective: Objective) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (count,1,28,28), label vectors (count,C)) for random classes, from the run's noise stream."""
    device = state.noise_rng.device  # the training device: build_state makes the noise stream there
    z = sample_noise(count, config.model, state.noise_rng, device)
    labels = torch.randint(0, config.model.num_classes, (count,), generator=state.noise_rng, device=device)
    label_vector = one_hot(labels, config.model.num_classes)
    with torch.set_grad_enabled(with_grad), objective.autocast(device):
        return generator(z, label_vector), label_vector


def _optimize(optimizer: torch.optim.Optimizer, loss: torch.Tensor, skip: bool) -> None:
    optimizer.zero_grad(set_to_none=True)
    if not skip:
        loss.backward()
        optimizer.step()


def train_step(state: TrainState, config: RunConfig, objective: Objective, images: torch.Tensor,
               labels: torch.Tensor) -> dict[str, Any]:
    """One step on the data set `images` (N,28,28) uint8 / `labels` (N,); returns scalar metrics for logging."""
    t = config.train
    if t.lr_half_life:
        set_learning_rates(state, config)
    G, D = state.generator, state.discriminator
    paused = state.balance["paused"] if t.balance else ""
    g_forward = state.g_train if state.g_train is not None and paused != "G" else G
    d_forward = state.d_train if state.d_train is not None and paused != "D" else D
    # One forward for real and fake together: under DDP one forward per backward is what the wrapper expects, and
    # on one process larger products run faster. A D with BatchNorm keeps them apart (its statistics would mix).
    joint = state.world > 1 or (t.d_joint_forward and config.model.d_norm != "batch")
    g_batch = t.batch_size * t.g_batch_multiplier
    shared = make_fakes(state, config, g_batch, True, g_forward, objective) if t.reuse_fake else None

    D.requires_grad_(True)
    for _ in range(t.d_steps):
        real, real_labels = next_batch(state, images, labels, t.batch_size)
        real_vector = one_hot(real_labels, config.model.num_classes)
        if shared is not None:
            fake, fake_vector = shared[0][:t.batch_size].detach(), shared[1][:t.batch_size]
        else:
            fake, fake_vector = make_fakes(state, config, t.batch_size, False, G, objective)
        real.requires_grad_(objective.needs_real_gradient)
        d_loss, metrics = objective.discriminator_loss(d_forward if joint else D, real, real_vector, fake,
                                                       fake_vector, joint)
        _optimize(state.d_opt, d_loss, skip=paused == "D")
        state.images_seen += t.batch_size * state.world

    D.requires_grad_(False)  # G's phase: D's weights get no gradient
    fake, fake_vector = shared if shared is not None else make_fakes(state, config, g_batch, True, g_forward,
                                                                     objective)
    g_loss, g_metrics = objective.generator_loss(D, fake, fake_vector)
    _optimize(state.g_opt, g_loss, skip=paused == "G")
    D.requires_grad_(True)

    ema_update(state.ema, G, ema_decay(config, state))
    state.step += 1
    return {**metrics, **g_metrics, "paused": paused}


def update_balance(state: TrainState, d_adv: float, g_adv: float, band: list[float]) -> str | None:
    """Pause the side that is winning while the ratio of averaged losses is outside `band`.

    ratio = G loss / (D loss per term); D far ahead (ratio > band[1]) pauses D, G far ahead pauses G.
    Returns the new paused side when it changes ("D", "G" or "" for none).
    """
    b = state.balance
    b["d_avg"] = d_adv / 2 if b["d_avg"] is None else 0.95 * b["d_avg"] + 0.05 * d_adv / 2
    b["g_avg"] = g_adv if b["g_avg"] is None else 0.95 * b["g_avg"] + 0.05 * g_adv
    ratio = b["g_avg"] / max(b["d_avg"], 1e-8)
    paused = "D" if ratio > band[1] else "G" if ratio < band[0] else ""
    if paused != b["paused"]:
        b["paused"] = paused
        return paused
    return None
