"""The training loop: set a run up, step until the budget or a signal says stop, finish it.

`train(config, run_dir)` is the library entry point; `digitgan train` prepares its arguments (training/run.py).
Progress is counted in images seen by D (comparable across batch sizes).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

import torch

from digitgan.config import RunConfig
from digitgan.data import Dataset, load_dataset
from digitgan.errors import MissingSplit, UserError
from digitgan.files import write_json
from digitgan.models import check_buildable
from digitgan.runtime import ThreadGovernor, cpu_has_bf16, pick_device
from digitgan.training import distributed
from digitgan.training.checkpoints import load_resumable
from digitgan.training.lock import RunLock
from digitgan.training.objective import LOSSES, objective_for
from digitgan.training.recorder import Recorder
from digitgan.training.run import Run
from digitgan.training.state import TrainState, start_state
from digitgan.training.step import train_step, update_balance

Resume = Path | tuple[Path, dict[str, Any]]  # a run or checkpoint path, or an already loaded (path, contents)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    """Ctrl-C, SIGTERM and SIGHUP (the terminal closed) ask the loop to stop after the current step (a clean
    checkpoint); a second Ctrl-C aborts at once. Installed only on the main thread (signal handlers cannot be set
    elsewhere)."""

    def __init__(self, note: Callable[[str], None]) -> None:
        self.requested = False
        self.note = note
        self.previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        self.note("interrupt received: finishing this step, then saving a checkpoint (Ctrl-C again to abort)")

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def check_trainable(config: RunConfig, train_set: Dataset, dist_info: distributed.Dist) -> None:
    """What the config alone cannot know: the data set's classes and size, and what DDP cannot run."""
    t = config.train
    if not (t.steps or t.epochs or t.minutes):
        raise UserError("no training budget: give a number of steps, epochs or minutes")
    if dist_info.active:
        if t.r1_gamma or LOSSES[t.loss].gradient_penalty:
            raise UserError("R1 and WGAN-GP penalties need double backward, which this DDP trainer does not run; "
                            "train them in one process")
        if config.model.d_norm == "batch":
            raise UserError("under DDP, D sees real and fake in one batch; BatchNorm in D would mix their statistics "
                            "(use d_norm=none)")
        if config.model.d_mbstd and t.batch_size % config.model.d_mbstd:
            raise UserError(f"under DDP, D sees real and fake in one batch; batch_size {t.batch_size} must be a "
                            f"multiple of d_mbstd {config.model.d_mbstd}, or its groups would mix them")
    if t.d_split_steps and LOSSES[t.loss].gradient_penalty:
        raise UserError(f"d_split_steps steps D on real and fake batches apart; the {t.loss} gradient penalty needs "
                        "both in one step")
    if t.d_split_steps and LOSSES[t.loss].relativistic:
        raise UserError(f"d_split_steps steps D on real and fake batches apart; the {t.loss} loss compares each real "
                        "image with a fake one in one step")
    if t.consistency_weight and t.consistency_augment == "none":
        raise UserError("consistency_weight needs a transform to be consistent under: set consistency_augment to "
                        "translation or translation-cutout")
    if t.average_checkpoints > 1 and (not t.checkpoint_every or t.keep_checkpoints < t.average_checkpoints):
        raise UserError(f"average_checkpoints {t.average_checkpoints} averages the exported EMA over that many "
                        f"checkpoints: checkpoint_every ({t.checkpoint_every}) must be above 0 and keep_checkpoints "
                        f"({t.keep_checkpoints}) at least {t.average_checkpoints}")
    if train_set.num_classes != config.model.num_classes:
        raise UserError(f"{t.dataset} has {train_set.num_classes} classes but the model expects "
                        f"{config.model.num_classes} (set model.num_classes={train_set.num_classes})")
    if len(train_set) < t.batch_size * t.d_steps * dist_info.world:
        raise UserError(f"{t.dataset} has {len(train_set)} images, fewer than one batch "
                        f"({t.batch_size * t.d_steps * dist_info.world})")


def _light_evaluator(config: RunConfig, main: bool, test_set: Dataset | None) -> Any | None:
    if not (config.train.eval_every and main):
        return None
    from digitgan.evaluate.light import LightEvaluator

    if test_set is None:
        print("digitgan: note: no light evaluation during training (the data set has no test split)", file=sys.stderr)
        return None
    try:
        return LightEvaluator(config.train.dataset, test_set.images, config.model.num_classes,
                              seed=config.train.seed)
    except UserError as error:  # e.g. a custom data set has no reference classifier
        print(f"digitgan: note: no light evaluation during training ({error})", file=sys.stderr)
        return None


def train(config: RunConfig, run_dir: Path, resume: Resume | None = None, device: str = "auto",
          quiet: bool = False, step_callback: Callable[[TrainState], None] | None = None) -> dict[str, Any]:
    """Train (or resume) a run in run_dir. Returns the summary. Raises TrainingDiverged / UserError.

    resume: a run directory or checkpoint file (its newest loadable checkpoint), or (path, contents) already
    loaded by training.run.prepare_run. step_callback(state) runs after every step (tests use it).
    The thread count stays what the caller set (runtime.set_threads) unless config.train.adapt_threads asks the
    runtime.ThreadGovernor to adapt it (CPU, one process only; runs then no longer repeat exactly).
    """
    check_buildable(config.model)  # G and D fit together: checked here, before anything is written or built
    dist_info = distributed.from_env()
    train_set = load_dataset(config.train.dataset, "train")
    check_trainable(config, train_set, dist_info)
    with ExitStack() as stack:
        if dist_info.main:  # one owner per run directory; only rank 0 writes
            stack.enter_context(RunLock(run_dir))
            write_json(run_dir / "config.json", config.to_dict())
        torch_device, releases = stack.enter_context(distributed.process_group(dist_info, pick_device(device)))
        try:
            test_set = load_dataset(config.train.dataset, "test")
            test_data = (torch.from_numpy(test_set.images).to(torch_device),
                         torch.from_numpy(test_set.labels).to(torch_device))
        except MissingSplit:
            test_set, test_data = None, None  # a single-set source: the epoch table shows no held-out column
        images = torch.from_numpy(train_set.images).to(torch_device)
        labels = torch.from_numpy(train_set.labels).to(torch_device)
        evaluator = _light_evaluator(config, dist_info.main, test_set)
        source, saved = None, None
        if resume is not None:
            source, saved = resume if isinstance(resume, tuple) else load_resumable(resume, map_location=torch_device)
        state = start_state(config, len(images), torch_device, (source, saved) if source is not None else None,
                            dist_info)
        releases.append(lambda: _unwrap(state))
        objective = objective_for(config)
        recorder = Recorder(Run(config, run_dir, objective, state, len(images), test_data, evaluator, source,
                                dist_info.main, quiet))
        stack.callback(recorder.close)
        stop = stack.enter_context(StopSignals(recorder.note))
        if config.train.cpu_amp and torch_device.type == "cpu" and cpu_has_bf16() is False:
            recorder.note("cpu_amp: this CPU has no bf16 units (AVX512-BF16 or AMX), so bf16 autocast trains slower "
                          "than float32 here")
        adapting = config.train.adapt_threads and torch_device.type == "cpu" and not dist_info.active
        governor = ThreadGovernor(torch.get_num_threads() if adapting else 1)  # 1: never switches
        while True:
            _, (done,) = distributed.mean_and_any([], [recorder.budget_reached(state) or stop.requested],
                                                  torch_device, dist_info)  # all ranks agree
            if done:
                break
            epoch_before, images_before, step_started = state.epoch, state.images_seen, time.perf_counter()
            metrics = train_step(state, config, objective, images, labels)
            threads = governor.record(time.perf_counter() - step_started, state.images_seen - images_before)
            if threads is not None:
                recorder.event(state, "threads", threads=threads)
            metrics = _agree(metrics, state, torch_device, dist_info)
            recorder.check_losses(state, metrics)
            if config.train.balance:
                change = update_balance(state, metrics["d_adv"], metrics["g_adv"], config.train.balance_band)
                if change is not None:
                    recorder.event(state, "balance", paused=change or "none")
                    recorder.note(f"step {state.step}: " + (f"pausing {change}" if change else "both sides train"))
            if step_callback is not None:
                step_callback(state)
            recorder.tick(state, metrics, epoch_before)
        summary = recorder.finish(state, "interrupted" if stop.requested else "finished", dist_info.world)
    return summary


def _unwrap(state: TrainState) -> None:
    """Drop the DDP wrappers (and with them their reducers' hold on the process group)."""
    state.generator_train = state.partner_train = None


def _agree(metrics: dict[str, Any], state: TrainState, device: torch.device,
           dist_info: distributed.Dist) -> dict[str, Any]:
    """Under DDP: every rank ends the step with rank 0's buffers, and logs (and balances on) the mean metrics."""
    if not dist_info.active:
        return metrics
    distributed.sync_buffers(dist_info, state.generator, state.partner, state.ema)
    keys = [k for k, v in metrics.items() if isinstance(v, float)]
    values, _ = distributed.mean_and_any([metrics[k] for k in keys], [], device, dist_info)
    return {**metrics, **dict(zip(keys, values, strict=True))}
