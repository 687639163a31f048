"""What every benchmark section shares: the machine's description and matmul peak, MNIST tensors, and a training
state set up as `digitgan train` sets it up (or with one lever changed), stepped in timed bursts."""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from digitgan.config import RunConfig, load_preset, with_settings, with_train
from digitgan.data import load_dataset
from digitgan.models.thin_conv import ThinConv2d
from digitgan.training import prepare_run, train
from digitgan.training.checkpoints import list_checkpoints
from digitgan.training.objective import objective_for
from digitgan.training.state import TrainState, build_state, start_state
from digitgan.training.step import train_step

HERE = Path(__file__).resolve().parent
QUALITY_PRESETS = ["fast", "keras-acgan", "acgan", "writing-numbers"]
ALL_PRESETS = ["fast", "keras-acgan", "acgan", "dcgan", "simple-gan", "writing-numbers"]


@dataclass
class Context:
    """What a section gets: the command line, the results so far, MNIST tensors, the matmul peak."""

    args: Any
    results: dict[str, Any]
    images: torch.Tensor
    labels: torch.Tensor
    peak: float
    peak_size: int
    presets: list[str] = field(default_factory=list)
    save: Callable[[], Any] = lambda: None  # writes results.json as it stands

    @property
    def smoke(self) -> bool:
        return bool(self.args.smoke)

    def steps_per_second(self, preset: str) -> float:
        """fast's measured training rate from this run's throughput section (a guess when it did not run)."""
        config = load_preset(preset)
        measured = self.results.get("throughput", {}).get(preset, {}).get("images_per_second")
        return (measured or 500.0) / (config.train.batch_size * config.train.d_steps)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def matmul_rate(size: int, repeats: int = 7) -> float:
    """GFLOP/s of a float32 size x size matmul on this process's threads: median over repeats (of 5 products)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(5):
            a @ b
        times.append((time.perf_counter() - start) / 5)
    return 2 * size**3 / statistics.median(times) / 1e9


def matmul_peak(sizes: tuple[int, ...] = (512, 1024, 2048)) -> tuple[float, int]:
    """(GFLOP/s, size) of the fastest of several square matmul sizes.

    Large oneDNN convolutions can run closer to the hardware's FMA limit than one matmul size does, so the best
    of several sizes is taken; a preset above 100% of it would show the peak is still underestimated.
    """
    rate, size = max((matmul_rate(size), size) for size in sizes)
    return rate, size


def tensors(count: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    data = load_dataset("mnist", "train")
    return torch.from_numpy(data.images[:count]), torch.from_numpy(data.labels[:count])


def apply_changes(config: RunConfig, changes: dict[str, Any]) -> RunConfig:
    """A checked copy of `config` with settings changed by name, by the same rule as `--set` (config.with_settings)."""
    return with_settings(config, changes)


def step(state: TrainState, config: RunConfig, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """One training step as the trainer runs it (training.step.train_step with the run's objective)."""
    return train_step(state, config, objective_for(config), images, labels)


def step_flops(config: RunConfig, images: torch.Tensor, labels: torch.Tensor) -> float:
    """FLOPs of one training step (forward + backward of everything the step runs), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    state = build_state(config, len(images), torch.device("cpu"))
    counter = FlopCounterMode(display=False)
    with counter:
        step(state, config, images, labels)
    return float(counter.get_total_flops())


def plain_convs(module: torch.nn.Module) -> None:
    """Turn every ThinConv2d back into nn.Conv2d (oneDNN for all convolutions): the 'thin convs' lever's baseline."""
    for layer in module.modules():
        if type(layer) is ThinConv2d:
            layer.__class__ = torch.nn.Conv2d


def prepare(preset: str, images: torch.Tensor, labels: torch.Tensor, changes: dict[str, Any] | None = None,
            channels_last: bool = True, fused_adam: bool = True, compile_models: bool = False,
            thin_convs: bool = True) -> tuple[TrainState, RunConfig]:
    """A training state for `preset` set up as `digitgan train` does, or with one lever changed; warmed up."""
    config = apply_changes(load_preset(preset), changes or {})
    # the trainer's own setup (training.state.start_state); the channels_last lever measures the state without it
    cpu = torch.device("cpu")
    state = start_state(config, len(images), cpu) if channels_last else build_state(config, len(images), cpu)
    if not thin_convs:
        plain_convs(state.generator)
        plain_convs(state.partner)
    if compile_models:  # inductor on CPU; the warm-up steps below pay the compilation
        state.generator = torch.compile(state.generator)
        state.partner = torch.compile(state.partner)
    if not fused_adam:  # the trainer's optimizers are fused; the lever measures the per-tensor (foreach) kind
        t = config.train
        state.generator_opt = torch.optim.Adam(state.generator.parameters(), lr=t.lr_g, betas=(t.beta1, t.beta2))
        state.partner_opt = torch.optim.Adam(state.partner.parameters(), lr=t.lr_d, betas=(t.beta1, t.beta2))
    for _ in range(3):
        step(state, config, images, labels)
    return state, config


def burst_rate(state: TrainState, config: RunConfig, images: torch.Tensor, labels: torch.Tensor,
               steps: int = 5) -> float:
    """Images/s through D over `steps` training steps."""
    start, seen = time.perf_counter(), state.images_seen
    for _ in range(steps):
        step(state, config, images, labels)
    return (state.images_seen - seen) / (time.perf_counter() - start)


def reached(run: Path, steps: int) -> bool:
    """Whether `run` has trained `steps` steps (its summary.json says so)."""
    summary = run / "summary.json"
    return summary.exists() and json.loads(summary.read_text())["step"] >= steps


def train_towards(config: RunConfig, run: Path, minutes: float = 0.0, device: str = "cpu") -> bool:
    """Train `run` towards config's steps, at most `minutes` of training in this call (0: to the end), so that a long
    run spreads over invocations: nothing once reached; a run with a checkpoint resumes it exactly (its own saved
    model and seed, `config`'s steps and periodic settings); otherwise a fresh run of `config` (a folder left without
    a checkpoint is cleared). True once the run has reached its steps."""
    steps = config.train.steps
    if reached(run, steps):
        return True
    if list_checkpoints(run):
        plan = prepare_run(resume=run, steps=steps, minutes=minutes or None)
        periodic = {key: getattr(config.train, key) for key in ("eval_every", "checkpoint_every", "keep_checkpoints")}
        train(with_train(plan.config, **periodic, minutes=minutes), run, resume=plan.resume, quiet=True, device=device)
    else:
        shutil.rmtree(run, ignore_errors=True)
        train(with_train(config, minutes=minutes), run, quiet=True, device=device)
    return reached(run, steps)
