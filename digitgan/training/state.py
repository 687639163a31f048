"""Everything a run needs to continue exactly: networks, EMA, optimizers, data order, every RNG stream.

`state_to_dict` / `restore_state` are the two halves of a checkpoint's contents (training/checkpoints.py writes
and reads the files). Resuming restores every stream, so N steps + resume + N steps equals 2N steps on CPU.
"""

from __future__ import annotations

import copy
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from digitgan import seeds
from digitgan.config import RunConfig
from digitgan.images import from_uint8
from digitgan.models import build_generator, build_partner, load_weights, one_hot, sample_noise
from digitgan.training.checkpoints import list_checkpoints, load_checkpoint, step_of
from digitgan.training.distributed import Dist, wrap

BATCH_NORMS = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)


@dataclass
class Balance:
    """The `balance` option's running averages of D's (per term) and G's adversarial losses, and the side it has
    paused: "" (none), "D" or "G"."""
    d_avg: float | None = None
    g_avg: float | None = None
    paused: str = ""


@dataclass
class TrainState:
    """What a checkpoint saves, under the same names (state_to_dict). For every kind of model: `generator` draws
    (a GAN's G, an autoencoder's decoder) and is what the model folder exports (as `ema`, its average); `partner`
    is the network trained beside it (a GAN's D, an autoencoder's encoder; digitgan/kinds.py)."""
    generator: torch.nn.Module
    partner: torch.nn.Module
    ema: torch.nn.Module
    generator_opt: torch.optim.Optimizer
    partner_opt: torch.optim.Optimizer
    data_rng: torch.Generator       # epoch permutations
    noise_rng: torch.Generator      # z and fake labels
    permutation: torch.Tensor
    step: int = 0
    images_seen: int = 0
    epoch: int = 0
    position: int = 0
    seconds: float = 0.0            # training wall time of earlier invocations (for history across resumes)
    window: list[dict[str, Any]] = field(default_factory=list)  # metrics since the last history row
    world: int = 1                  # DDP world size and this process's rank (1 and 0 without a launcher)
    rank: int = 0
    generator_train: torch.nn.Module | None = None  # the modules the gradient forwards go through (DDP wrappers)
    partner_train: torch.nn.Module | None = None
    balance: Balance = field(default_factory=Balance)


NETWORKS = ("generator", "partner", "ema")
OPTIMIZERS = ("generator_opt", "partner_opt")
def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_state(config: RunConfig, num_images: int, device: torch.device) -> TrainState:
    """A fresh state: networks initialised from train.seed, fused Adam, the first epoch's permutation."""
    seed_everything(config.train.seed + seeds.GLOBAL)
    generator = build_generator(config.model).to(device)
    partner = build_partner(config.model).to(device)
    ema = copy.deepcopy(generator).eval().requires_grad_(False)
    t = config.train
    # fused: one kernel per parameter group instead of one op per tensor (benchmarks/RESULTS.md, "levers").
    generator_opt = torch.optim.Adam(generator.parameters(), lr=t.lr_g, betas=(t.beta1, t.beta2), eps=t.adam_eps,
                                     fused=True)
    partner_opt = torch.optim.Adam(partner.parameters(), lr=t.lr_d, betas=(t.beta1, t.beta2), eps=t.adam_eps,
                                   fused=True)
    data_rng = torch.Generator().manual_seed(t.seed + seeds.DATA_ORDER)
    noise_rng = torch.Generator(device=device).manual_seed(t.seed + seeds.TRAINING_NOISE)
    permutation = torch.randperm(num_images, generator=data_rng)
    return TrainState(generator, partner, ema, generator_opt, partner_opt, data_rng, noise_rng, permutation)


def use_channels_last(state: TrainState) -> None:
    """Conv weights in NHWC: oneDNN (CPU) and cuDNN (CUDA) run these small convolutions fastest that way.

    Same arithmetic, another memory layout: benchmarks/RESULTS.md ("levers") measures it against NCHW on CPU.
    Parameters keep their identity, so optimizers built before this still hold them.
    """
    for module in (state.generator, state.partner, state.ema):
        module.to(memory_format=torch.channels_last)


def state_to_dict(state: TrainState, config: RunConfig) -> dict[str, Any]:
    np_state = np.random.get_state()
    return {
        "config": config.to_dict(),
        **{name: getattr(state, name).state_dict() for name in (*NETWORKS, *OPTIMIZERS)},
        "step": state.step, "images_seen": state.images_seen, "epoch": state.epoch, "position": state.position,
        "seconds": state.seconds, "window": list(state.window), "permutation": state.permutation,
        "balance": asdict(state.balance),
        "rng": {"torch": torch.get_rng_state(), "data": state.data_rng.get_state(),
                "noise": state.noise_rng.get_state(),
                "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *map(float, np_state[2:])],
                "python": random.getstate(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
    }


def restore_state(state: TrainState, saved: dict[str, Any], source: Path) -> None:
    """Continue from a checkpoint's contents (checkpoints.load_checkpoint: under today's names)."""
    for name in NETWORKS:
        load_weights(getattr(state, name), saved[name], name, source)
    for name in OPTIMIZERS:
        getattr(state, name).load_state_dict(saved[name])
    state.step, state.images_seen = saved["step"], saved["images_seen"]
    state.epoch, state.position = saved["epoch"], saved["position"]
    state.permutation = saved["permutation"]
    state.seconds = float(saved.get("seconds", 0.0))
    state.window = list(saved.get("window", []))
    state.balance = Balance(**saved["balance"])
    rng = saved["rng"]
    torch.set_rng_state(rng["torch"])
    state.data_rng.set_state(rng["data"])
    state.noise_rng.set_state(rng["noise"])
    kind, keys, pos, has_gauss, cached = rng["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), cached))
    version, internal, gauss = rng["python"]
    random.setstate((version, tuple(internal), gauss))
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def next_batch(state: TrainState, images: torch.Tensor, labels: torch.Tensor,
               batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """This rank's next (images (B,1,28,28) float in [-1,1], labels (B,)) of the epoch's permutation.

    Every rank holds the same permutation; a global batch is world x B consecutive entries and rank r takes
    the r-th slice, so ranks draw disjoint shards and the data order does not depend on the world size.
    """
    global_batch = batch_size * state.world
    if state.position + global_batch > len(state.permutation):
        state.epoch += 1
        state.position = 0
        state.permutation = torch.randperm(len(images), generator=state.data_rng)
    start = state.position + state.rank * batch_size
    index = state.permutation[start:start + batch_size].to(images.device)
    state.position += global_batch
    return from_uint8(images[index]), labels[index]


def learning_rate_scale(config: RunConfig, images_seen: int) -> float:
    """The factor on lr_g / lr_d after `images_seen` images: 1 until lr_decay_after, then halving every
    lr_half_life images (a function of images seen, so a resumed run continues the same schedule)."""
    t = config.train
    if not t.lr_half_life or images_seen <= t.lr_decay_after:
        return 1.0
    return 0.5 ** ((images_seen - t.lr_decay_after) / t.lr_half_life)


def set_learning_rates(state: TrainState, config: RunConfig) -> None:
    scale = learning_rate_scale(config, state.images_seen)
    for optimizer, base in ((state.generator_opt, config.train.lr_g), (state.partner_opt, config.train.lr_d)):
        for group in optimizer.param_groups:
            group["lr"] = base * scale


def ema_update(ema: torch.nn.Module, generator: torch.nn.Module, decay: float) -> None:
    """ema <- decay·ema + (1 - decay)·generator for parameters; buffers (BatchNorm statistics) copied."""
    with torch.no_grad():
        for average, parameter in zip(ema.parameters(), generator.parameters(), strict=True):
            average.lerp_(parameter, 1.0 - decay)
        for ema_buffer, buffer in zip(ema.buffers(), generator.buffers(), strict=True):
            ema_buffer.copy_(buffer)


def ema_decay(config: RunConfig, state: TrainState) -> float:
    """The EMA decay for this step: 0 (copy G) before ema_start_images, then warmed up as TF's
    ExponentialMovingAverage with num_updates does, so that early EMA is not the random initialisation."""
    t = config.train
    if state.images_seen < t.ema_start_images:
        return 0.0
    return min(t.ema_decay, (1 + state.step) / (10 + state.step))


def all_finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


@torch.no_grad()
def standing_statistics(generator: torch.nn.Module, config: RunConfig, batches: int, batch_size: int = 256,
                        seed: int = 0) -> torch.nn.Module:
    """A copy of `generator` whose BatchNorm statistics are those of its own weights ("standing statistics").

    The EMA generator's buffers are copied from the training G, whose weights differ from the averaged ones; for
    rare noise vectors the mismatch draws a filled square or a blob (benchmarks/RESULTS.md, "distribution").
    Here the copy runs `batches` batches of fresh noise and random classes in train mode and keeps the cumulative
    averages. A private RNG: training streams are untouched. batches = 0, or no BatchNorm, returns `generator`.
    """
    norms = [m for m in generator.modules() if isinstance(m, BATCH_NORMS)]
    if not batches or not norms:
        return generator
    copy_ = copy.deepcopy(generator)
    for module in copy_.modules():
        if isinstance(module, BATCH_NORMS):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over all batches
    device = next(copy_.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed)
    copy_.train()
    classes = config.model.num_classes
    for _ in range(batches):
        z = sample_noise(batch_size, config.model, rng, device)
        labels = torch.randint(0, classes, (batch_size,), generator=rng, device=device)
        copy_(z, one_hot(labels, classes))
    return copy_.eval()


def exported_sampler(generator: torch.nn.Module, config: RunConfig, batches: int | None = None) -> torch.nn.Module:
    """`generator` (the EMA) as a run exports it: standing statistics over `batches` batches (None: the run's
    standing_stats) drawn from the run's export stream, so a model re-exported later draws what the run drew."""
    return standing_statistics(generator, config, config.train.standing_stats if batches is None else batches,
                               seed=config.train.seed + seeds.STANDING_STATISTICS)


def checkpoint_average(ema: torch.nn.Module, run_dir: Path, config: RunConfig, step: int
                       ) -> tuple[torch.nn.Module, list[int]]:
    """The EMA the run exports: `ema` (the EMA at `step`) when train.average_checkpoints is 1, else a copy whose
    floating-point parameters and buffers are the mean of `ema`'s and the EMA's at the run's last
    average_checkpoints - 1 regular checkpoints before `step` (those at multiples of checkpoint_every: a run
    trained in slices also keeps one where each slice stopped, which would weigh the steps near it twice); the
    other buffers are `ema`'s. Fewer are averaged when the run has fewer. Returns it and the averaged steps, oldest
    first (`step` last)."""
    count, every = config.train.average_checkpoints, config.train.checkpoint_every
    earlier = [path for path in list_checkpoints(run_dir)
               if every and step_of(path) < step and step_of(path) % every == 0][-(count - 1):] if count > 1 else []
    if not earlier:
        return ema, [step]
    saved = [load_checkpoint(path)["ema"] for path in earlier]
    mean = {name: torch.stack([*(weights[name] for weights in saved), tensor.detach().cpu()]).mean(0)
            if tensor.is_floating_point() else tensor for name, tensor in ema.state_dict().items()}
    averaged = copy.deepcopy(ema)
    load_weights(averaged, mean, "ema", run_dir)
    return averaged, [*map(step_of, earlier), step]


def start_state(config: RunConfig, num_images: int, device: torch.device,
                saved: tuple[Path, dict[str, Any]] | None = None, dist_info: Dist | None = None) -> TrainState:
    """The state a run trains from, set up the one way `digitgan train` does (the benchmarks and probes call this
    too): built from the seed, restored from a checkpoint's (path, contents) when given (this config's learning
    rates win over the saved ones, e.g. a `--resume --set lr_g`), channels_last, and under a launcher this rank's
    streams and the DDP wrappers (`dist_info`; the process group is already joined)."""
    state = build_state(config, num_images, device)
    if saved is not None:
        restore_state(state, saved[1], saved[0])
        set_learning_rates(state, config)
    use_channels_last(state)
    if dist_info is not None and dist_info.active:
        state.world, state.rank = dist_info.world, dist_info.rank
        if dist_info.rank:  # other ranks draw other noise and dropout masks; rank 0 keeps the saved streams
            seed, step = config.train.seed, state.step
            state.noise_rng.manual_seed(seeds.rank_seed(seed, seeds.TRAINING_NOISE, dist_info.rank, step))
            torch.manual_seed(seeds.rank_seed(seed, seeds.GLOBAL, dist_info.rank, step))
        state.generator_train = wrap(state.generator, device)
        state.partner_train = wrap(state.partner, device)
    return state
