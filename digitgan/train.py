"""The training loop: alternating D and G updates, EMA, history, grids, atomic checkpoints, exact resume.

`train(config, run_dir)` is the library entry point; `digitgan train` is a thin shell over it.
Progress is counted in images seen by D (comparable across batch sizes).
"""

from __future__ import annotations

import copy
import json
import math
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from digitgan import checkpoint as ckpt
from digitgan import distributed
from digitgan.config import RunConfig
from digitgan.data import load_dataset
from digitgan.errors import MissingSplit, UserError
from digitgan.losses import class_loss, get_loss, gradient_penalty, r1_penalty
from digitgan.models import build_discriminator, build_generator, one_hot, sample_noise
from digitgan.train_log import History, ProgressBar, epoch_table, plot_history, read_history, save_sample_grid


class TrainingDiverged(Exception):
    """A loss or weight became NaN/Inf; `checkpoint` is the last good one (or None)."""

    def __init__(self, message: str, checkpoint: Path | None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


@dataclass
class TrainState:
    generator: torch.nn.Module
    discriminator: torch.nn.Module
    ema: torch.nn.Module
    g_opt: torch.optim.Optimizer
    d_opt: torch.optim.Optimizer
    data_rng: torch.Generator       # epoch permutations
    noise_rng: torch.Generator      # z and fake labels
    permutation: torch.Tensor
    step: int = 0
    images_seen: int = 0
    epoch: int = 0
    position: int = 0
    seconds: float = 0.0            # training wall time of earlier invocations (for history across resumes)
    window: list[dict[str, Any]] = field(default_factory=list)  # metrics since the last history row
    world: int = 1                  # DDP world size and this process's rank (1 and 0 without torchrun)
    rank: int = 0
    g_train: torch.nn.Module | None = None  # the modules the gradient forwards go through (DDP wrappers)
    d_train: torch.nn.Module | None = None
    balance: dict[str, Any] = field(default_factory=lambda: {"d_avg": None, "g_avg": None, "paused": ""})


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise UserError(f"unknown device '{name}'; choose auto, cpu or cuda")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_state(config: RunConfig, num_images: int, device: torch.device) -> TrainState:
    seed_everything(config.train.seed)
    generator = build_generator(config.model).to(device)
    discriminator = build_discriminator(config.model).to(device)
    ema = copy.deepcopy(generator).eval().requires_grad_(False)
    t = config.train
    # fused: one kernel per parameter group instead of one op per tensor (benchmarks/RESULTS.md, "levers").
    g_opt = torch.optim.Adam(generator.parameters(), lr=t.lr_g, betas=(t.beta1, t.beta2), fused=True)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=t.lr_d, betas=(t.beta1, t.beta2), fused=True)
    data_rng = torch.Generator().manual_seed(t.seed + 1)
    noise_rng = torch.Generator(device=device).manual_seed(t.seed + 2)
    permutation = torch.randperm(num_images, generator=data_rng)
    return TrainState(generator, discriminator, ema, g_opt, d_opt, data_rng, noise_rng, permutation)


def use_channels_last(state: TrainState) -> None:
    """Conv weights in NHWC: oneDNN (CPU) and cuDNN (CUDA) run these small convolutions fastest that way.

    Same arithmetic, another memory layout: benchmarks/RESULTS.md ("levers") measures it against NCHW on CPU.
    Parameters keep their identity, so optimizers built before this still hold them.
    """
    for module in (state.generator, state.discriminator, state.ema):
        module.to(memory_format=torch.channels_last)


def state_to_dict(state: TrainState, config: RunConfig) -> dict[str, Any]:
    np_state = np.random.get_state()
    return {
        "config": config.to_dict(),
        "generator": state.generator.state_dict(), "discriminator": state.discriminator.state_dict(),
        "ema": state.ema.state_dict(), "g_opt": state.g_opt.state_dict(), "d_opt": state.d_opt.state_dict(),
        "step": state.step, "images_seen": state.images_seen, "epoch": state.epoch, "position": state.position,
        "seconds": state.seconds, "window": list(state.window), "permutation": state.permutation,
        "balance": dict(state.balance),
        "rng": {"torch": torch.get_rng_state(), "data": state.data_rng.get_state(),
                "noise": state.noise_rng.get_state(),
                "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *map(float, np_state[2:])],
                "python": random.getstate(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
    }


def restore_state(state: TrainState, saved: dict[str, Any], source: Path) -> None:
    for name in ("generator", "discriminator", "ema"):
        ckpt.load_state(getattr(state, name), saved[name], name, source)
    state.g_opt.load_state_dict(saved["g_opt"])
    state.d_opt.load_state_dict(saved["d_opt"])
    state.step, state.images_seen = saved["step"], saved["images_seen"]
    state.epoch, state.position = saved["epoch"], saved["position"]
    state.permutation = saved["permutation"]
    state.seconds = float(saved.get("seconds", 0.0))
    state.window = list(saved.get("window", []))
    state.balance = dict(saved["balance"])
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


def next_batch(state: TrainState, images: torch.Tensor, labels: torch.Tensor, batch_size: int):
    """This rank's next (images float (B,1,28,28) in [-1,1], labels (B,)) of the epoch's permutation.

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
    return images[index].float().div_(127.5).sub_(1.0).unsqueeze(1), labels[index]


def ema_update(ema: torch.nn.Module, generator: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        torch._foreach_lerp_(list(ema.parameters()), list(generator.parameters()), 1.0 - decay)
        for ema_buffer, buffer in zip(ema.buffers(), generator.buffers(), strict=True):
            ema_buffer.copy_(buffer)


def all_finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


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


def train_step(state: TrainState, config: RunConfig, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """One D update (or d_steps of them) then one G update. Returns scalar metrics for logging."""
    t, m = config.train, config.model
    loss = get_loss(t.loss)
    G, D = state.generator, state.discriminator
    # Under DDP, each side's one gradient-carrying forward per step goes through its DDP wrapper (which
    # averages the gradients across ranks in backward); forwards that need no gradient use the module itself.
    G_train = state.g_train if state.g_train is not None else G
    D_train = state.d_train if state.d_train is not None else D
    distributed = state.world > 1
    device = images.device
    # bf16 autocast for the forwards on CUDA (train.amp); a no-op on CPU, where float32 is faster here
    amp = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda" and t.amp)
    paused = state.balance["paused"] if t.balance else ""
    metrics: dict[str, float] = {}

    def fake_batch(count: int, with_grad: bool):
        z = sample_noise(count, m, state.noise_rng, device)
        fake_labels = torch.randint(0, m.num_classes, (count,), generator=state.noise_rng, device=device)
        label_vector = one_hot(fake_labels, m.num_classes)
        with torch.set_grad_enabled(with_grad), amp:
            return (G_train if with_grad and paused != "G" else G)(z, label_vector), label_vector

    g_batch = t.batch_size * t.g_batch_multiplier
    shared_fake = fake_batch(g_batch, with_grad=True) if t.reuse_fake else None

    # --- D phase: G's weights get no gradient (fake images are detached / made under no_grad).
    D.requires_grad_(True)
    for _ in range(t.d_steps):
        real, real_labels = next_batch(state, images, labels, t.batch_size)
        real_vector = one_hot(real_labels, m.num_classes)
        if shared_fake is not None:
            fake, fake_vector = shared_fake[0][:t.batch_size].detach(), shared_fake[1][:t.batch_size]
        else:
            fake, fake_vector = fake_batch(t.batch_size, with_grad=False)
        if t.r1_gamma:
            real.requires_grad_(True)
        with amp:
            if distributed or (t.d_joint_forward and m.d_norm != "batch"):
                # One forward for real and fake together, split after: under DDP one forward per backward is what
                # the wrapper expects, and on one process larger matrix products run faster (benchmarks, "levers").
                # A D with BatchNorm keeps separate batches: its statistics would mix real and fake.
                logits, classes = (D_train if paused != "D" else D)(torch.cat([real, fake]),
                                                                    torch.cat([real_vector, fake_vector]))
                real_logits, fake_logits = logits.float().split([len(real), len(fake)])
                real_class, fake_class = (classes.float().split([len(real), len(fake)]) if classes is not None
                                          else (None, None))
            else:
                real_logits, real_class = D(real, real_vector)
                fake_logits, fake_class = D(fake, fake_vector)
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        if real_class is not None:
            real_class, fake_class = real_class.float(), fake_class.float()
        d_adv = loss.d(real_logits, fake_logits, t.label_smoothing)
        d_loss = d_adv
        if real_class is not None:
            d_aux = class_loss(real_class, real_vector) + class_loss(fake_class, fake_vector)
            d_loss = d_loss + t.aux_weight * d_aux
        if loss.gradient_penalty:
            d_loss = d_loss + t.gp_lambda * gradient_penalty(lambda x, v=real_vector: D(x, v)[0], real, fake)
        if t.r1_gamma:
            d_loss = d_loss + 0.5 * t.r1_gamma * r1_penalty(real_logits, real)
        state.d_opt.zero_grad(set_to_none=True)
        if paused != "D":
            d_loss.backward()
            state.d_opt.step()
        state.images_seen += t.batch_size * state.world
    metrics.update(d_loss=d_loss.item(), d_adv=d_adv.item(), d_real=torch.sigmoid(real_logits).mean().item(),
                   d_fake=torch.sigmoid(fake_logits).mean().item())
    if real_class is not None:
        metrics["aux_acc"] = (real_class.argmax(1) == real_labels).float().mean().item()
        metrics["aux_loss"] = 0.5 * d_aux.item()

    # --- G phase: D's weights are frozen (no gradient), only G's optimizer steps.
    D.requires_grad_(False)
    fake, fake_vector = shared_fake if shared_fake is not None else fake_batch(g_batch, with_grad=True)
    with amp:
        fake_logits, fake_class = D(fake, fake_vector)
    g_adv = loss.g(fake_logits.float())
    fake_class = fake_class.float() if fake_class is not None else None
    g_loss = g_adv if fake_class is None else g_adv + t.aux_weight * class_loss(fake_class, fake_vector)
    state.g_opt.zero_grad(set_to_none=True)
    if paused != "G":
        g_loss.backward()
        state.g_opt.step()
    D.requires_grad_(True)
    metrics.update(g_loss=g_loss.item(), g_adv=g_adv.item())

    # Warm-up ramp (as in TF's ExponentialMovingAverage with num_updates) so early EMA is not the random init.
    decay = min(t.ema_decay, (1 + state.step) / (10 + state.step)) if state.images_seen >= t.ema_start_images else 0.0
    ema_update(state.ema, G, decay)
    state.step += 1
    metrics["paused"] = paused
    return metrics


@torch.no_grad()
def held_out_losses(state: TrainState, config: RunConfig, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """D and G losses on held-out real images and fresh fakes, eval mode, a private RNG (training RNG untouched)."""
    t, m = config.train, config.model
    loss = get_loss(t.loss)
    rng = torch.Generator(device=images.device).manual_seed(t.seed + 99)
    G, D = state.generator, state.discriminator
    G.eval(), D.eval()
    sums = {"d_loss": 0.0, "g_loss": 0.0, "aux_loss": 0.0}
    batches = max(1, min(t.test_batches, len(images) // t.batch_size))
    for index in range(batches):
        real = images[index * t.batch_size:(index + 1) * t.batch_size].float().div(127.5).sub(1.0).unsqueeze(1)
        real_vector = one_hot(labels[index * t.batch_size:(index + 1) * t.batch_size], m.num_classes)
        z = sample_noise(len(real), m, rng, images.device)
        fake_vector = one_hot(torch.randint(0, m.num_classes, (len(real),), generator=rng,
                                            device=images.device), m.num_classes)
        fake = G(z, fake_vector)
        real_logits, real_class = D(real, real_vector)
        fake_logits, fake_class = D(fake, fake_vector)
        sums["d_loss"] += loss.d(real_logits, fake_logits, 0.0).item()
        sums["g_loss"] += loss.g(fake_logits).item()
        if real_class is not None:
            sums["aux_loss"] += 0.5 * (class_loss(real_class, real_vector) + class_loss(fake_class, fake_vector)).item()
    G.train(), D.train()
    return {key: value / batches for key, value in sums.items()}


def budget_reached(state: TrainState, config: RunConfig, num_images: int, started: float) -> bool:
    t = config.train
    if t.steps and state.step >= t.steps:
        return True
    if t.epochs and state.images_seen >= t.epochs * num_images:
        return True
    return bool(t.minutes) and time.monotonic() - started >= t.minutes * 60


def train(config: RunConfig, run_dir: Path, resume: Path | None = None, device: str = "auto",
          quiet: bool = False, step_callback: Callable[[TrainState], None] | None = None) -> dict[str, Any]:
    """Train (or resume) a run in run_dir. Returns a summary dict. Raises TrainingDiverged / UserError."""
    t = config.train
    if not (t.steps or t.epochs or t.minutes):
        raise UserError("no training budget: give --steps, --epochs or --minutes")
    if t.batch_size < 1:
        raise UserError("batch_size must be at least 1")
    dist_info = distributed.from_env()
    if dist_info.active:
        if t.r1_gamma or get_loss(t.loss).gradient_penalty:
            raise UserError("R1 and WGAN-GP penalties need double backward, which this DDP trainer does not run; "
                            "train them in one process")
        if config.model.d_norm == "batch":
            raise UserError("under DDP, D sees real and fake in one batch; BatchNorm in D would mix their statistics "
                            "(use d_norm=none)")
    torch_device = distributed.setup(dist_info, pick_device(device))
    main = dist_info.main
    train_set = load_dataset(t.dataset, "train")
    try:
        test_set = load_dataset(t.dataset, "test")
    except MissingSplit:
        test_set = None  # a single-set source: the epoch table shows no held-out column
    if train_set.num_classes != config.model.num_classes:
        raise UserError(f"{t.dataset} has {train_set.num_classes} classes but the model expects "
                        f"{config.model.num_classes} (use --set num_classes={train_set.num_classes})")
    if len(train_set) < t.batch_size * t.d_steps:
        raise UserError(f"{t.dataset} has {len(train_set)} images, fewer than one batch ({t.batch_size})")
    images = torch.from_numpy(train_set.images).to(torch_device)
    labels = torch.from_numpy(train_set.labels).to(torch_device)
    test_images = torch.from_numpy(test_set.images).to(torch_device) if test_set is not None else None
    test_labels = torch.from_numpy(test_set.labels).to(torch_device) if test_set is not None else None

    evaluator = None
    if t.eval_every and main:
        try:
            from digitgan.evaluate.light import LightEvaluator

            evaluator = LightEvaluator(t.dataset, config.model.num_classes, seed=t.seed)
        except UserError as error:  # e.g. a custom data set has no reference classifier
            print(f"digitgan: note: no light evaluation during training ({error})", file=sys.stderr)
    state = build_state(config, len(images), torch_device)
    last_good: Path | None = None
    if resume is not None:
        source = ckpt.resolve_checkpoint(resume)
        saved = ckpt.load_checkpoint(source, map_location=torch_device)
        restore_state(state, saved, source)
        last_good = source
    use_channels_last(state)
    if dist_info.active:
        state.world, state.rank = dist_info.world, dist_info.rank
        if dist_info.rank:  # other ranks draw other noise and dropout masks; rank 0 keeps the saved streams
            state.noise_rng.manual_seed(t.seed + 2 + 1000 * dist_info.rank + state.step)
            torch.manual_seed(t.seed + 1000 * dist_info.rank + state.step)
        state.g_train = distributed.wrap(state.generator, torch_device)
        state.d_train = distributed.wrap(state.discriminator, torch_device)
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
    # Only rank 0 writes: other ranks keep a history that goes nowhere.
    history = History(run_dir / "history.jsonl", truncate_after_step=state.step if resume else None, enabled=main)
    progress = ProgressBar(quiet=quiet or not main)
    started = time.monotonic()
    seconds_before = state.seconds
    step_start, images_start = state.step, state.images_seen
    epoch_rows: list[dict[str, float]] = []
    epoch_started = time.monotonic()
    status = "finished"

    def checkpoint_now() -> Path:
        for name in ("generator", "discriminator"):
            if not all_finite(getattr(state, name)):
                raise TrainingDiverged(f"{name} weights are not finite at step {state.step}", last_good)
        state.seconds = seconds_before + time.monotonic() - started
        return ckpt.save_checkpoint(run_dir, state_to_dict(state, config), state.step, t.keep_checkpoints)

    def export() -> None:
        ckpt.export_model(run_dir / "model", state.ema, config,
                          {"step": state.step, "images_seen": state.images_seen, "epoch": state.epoch})

    interrupted = False

    def on_signal(signum, frame):  # noqa: ANN001 - signal handler signature
        # Finish the current step so the checkpoint is a clean step boundary; a second Ctrl-C aborts now.
        nonlocal interrupted
        if interrupted and signum == signal.SIGINT:
            raise KeyboardInterrupt
        interrupted = True
        progress.note("interrupt received: finishing this step, then saving a checkpoint (Ctrl-C again to abort)")

    handled = (signal.SIGINT, signal.SIGTERM) if _main_thread() else ()
    previous_handlers = {signum: signal.signal(signum, on_signal) for signum in handled}
    try:
        while True:
            stop = budget_reached(state, config, len(images), started) or interrupted
            _, (stop,) = distributed.mean_and_any([], [stop], torch_device, dist_info)  # all ranks agree
            if stop:
                break
            epoch_before = state.epoch
            metrics = train_step(state, config, images, labels)
            distributed.sync_buffers(dist_info, state.generator, state.discriminator, state.ema)
            if dist_info.active:  # the logged numbers and the balance decision are the mean over ranks
                keys = [k for k, v in metrics.items() if isinstance(v, float)]
                values, _ = distributed.mean_and_any([metrics[k] for k in keys], [], torch_device, dist_info)
                metrics.update(zip(keys, values, strict=True))
            for key in ("d_loss", "g_loss"):
                if not math.isfinite(metrics[key]):
                    raise TrainingDiverged(f"{key.replace('_', ' ').upper()[:1]} loss is {metrics[key]} at step "
                                           f"{state.step}", last_good)
            if t.balance:
                change = update_balance(state, metrics["d_adv"], metrics["g_adv"], t.balance_band)
                if change is not None:
                    history.event(state, "balance", paused=change or "none")
                    progress.note(f"step {state.step}: " + (f"pausing {change}" if change else "both sides train"))
            if step_callback is not None:
                step_callback(state)
            state.window.append(metrics)
            epoch_rows.append(metrics)
            progress.update(state, metrics, t, len(images), started, images_start)
            if state.step % t.log_every == 0:
                history.log(state, state.window, seconds_before + time.monotonic() - started)
                state.window = []
                if not (all_finite(state.generator) and all_finite(state.discriminator)):
                    raise TrainingDiverged(f"weights are not finite at step {state.step}", last_good)
            if state.epoch != epoch_before and main:
                overhead_started = time.monotonic()
                held_out = held_out_losses(state, config, test_images, test_labels) if test_images is not None else {}
                table = epoch_table(epoch_before + 1, epoch_rows, held_out, time.monotonic() - epoch_started)
                progress.note(table)
                history.event(state, "epoch", epoch=epoch_before + 1, seconds=time.monotonic() - epoch_started,
                              **{f"test_{k}": v for k, v in held_out.items()})
                save_sample_grid(state.ema, config, run_dir / "samples" / f"epoch-{epoch_before + 1:04d}.png")
                plot_history(run_dir / "history.jsonl", run_dir / "loss.png")
                started += time.monotonic() - overhead_started  # grids and tables are not training time
                epoch_rows, epoch_started = [], time.monotonic()
            if evaluator is not None and state.step % t.eval_every == 0:
                eval_started = time.monotonic()
                scores = evaluator(state.ema, config)
                started += time.monotonic() - eval_started  # evaluation time is not training time
                history.event(state, "eval", seconds=round(seconds_before + time.monotonic() - started, 3), **scores)
                progress.note(f"step {state.step}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
            if t.checkpoint_every and state.step % t.checkpoint_every == 0 and main:
                last_good = checkpoint_now()
    finally:
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
        progress.close()
    if interrupted:
        status = "interrupted"
    elapsed = time.monotonic() - started
    if main:
        last_good = checkpoint_now()  # keeps the open window, so a resume logs exactly as an uninterrupted run
        if state.window:
            history.log(state, state.window, seconds_before + time.monotonic() - started, partial=True)
        export()
        save_sample_grid(state.ema, config, run_dir / "samples" / "final.png")
        plot_history(run_dir / "history.jsonl", run_dir / "loss.png")
    distributed.teardown(dist_info)
    summary = {"status": status, "step": state.step, "epoch": state.epoch, "images_seen": state.images_seen,
            "seconds": elapsed, "images_per_second": (state.images_seen - images_start) / max(elapsed, 1e-9),
            "steps_this_run": state.step - step_start, "checkpoint": str(last_good),
            "model_dir": str(run_dir / "model"), "world_size": dist_info.world,
            "global_batch": t.batch_size * dist_info.world}
    if not main:
        return summary
    last_log = next((row for row in reversed(read_history(run_dir / "history.jsonl")) if row["kind"] == "log"), {})
    summary["last_log"] = last_log
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
