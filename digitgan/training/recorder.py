"""Everything periodic in a run, behind one tick: history rows, the epoch table, grids and curves, the light
evaluation, checkpoints; and the clock that says how long the run has trained.

The clock pauses while the recorder works, so tables, grids, evaluation and checkpoints are not training time:
budgets in minutes and the images/s figure count training only.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from digitgan.config import RunConfig
from digitgan.drawing.sampling import GRID_SEED, class_grid
from digitgan.errors import TrainingDiverged
from digitgan.files import save_png, write_json
from digitgan.kinds import kind_of
from digitgan.modelfolder.folder import export_model
from digitgan.training.checkpoints import save_checkpoint, space_warning, tensor_bytes
from digitgan.training.history import History, ProgressBar, epoch_table, plot_history, read_history
from digitgan.training.run import Run
from digitgan.training.state import TrainState, all_finite, checkpoint_average, exported_sampler, state_to_dict


class Clock:
    """Training seconds of this invocation (pauses excluded), plus those of earlier invocations of the run."""

    def __init__(self, seconds_before: float = 0.0) -> None:
        self.seconds_before = seconds_before
        self.started = time.monotonic()
        self.paused_seconds = 0.0
        self.paused_at: float | None = None  # while paused, the clock reads as it did when the pause began

    def this_run(self) -> float:
        now = self.paused_at if self.paused_at is not None else time.monotonic()
        return now - self.started - self.paused_seconds

    def total(self) -> float:
        return self.seconds_before + self.this_run()

    @contextmanager
    def paused(self) -> Iterator[None]:
        if self.paused_at is not None:  # already paused: an inner pause changes nothing
            yield
            return
        self.paused_at = time.monotonic()
        try:
            yield
        finally:
            self.paused_seconds += time.monotonic() - self.paused_at
            self.paused_at = None


def checkpoint_size(state: TrainState, config: RunConfig) -> int:
    """About the bytes of one checkpoint, also before the first step: Adam's two moments per parameter appear
    only then, so they are counted from the parameters that have none yet."""
    pending = sum(2 * p.numel() * p.element_size() for optimizer in (state.generator_opt, state.partner_opt)
                  for group in optimizer.param_groups for p in group["params"] if p not in optimizer.state)
    return tensor_bytes(state_to_dict(state, config)) + pending


class Recorder:
    """The run's periodic work. `tick` after every step; `finish` once at the end.

    Only the main process (rank 0) writes files; other ranks keep a clock and do nothing else.
    """

    def __init__(self, run: Run) -> None:
        config, state, run_dir, main = run.config, run.state, run.directory, run.main
        self.config, self.objective, self.run_dir, self.num_images = config, run.objective, run_dir, run.num_images
        self.main = main
        self.test_data, self.evaluator = run.test_data, run.evaluator
        self.history = History(run_dir / "history.jsonl",
                               truncate_after_step=state.step if run.resumed_from is not None else None, enabled=main)
        self.progress = ProgressBar(quiet=run.quiet or not main)
        self.clock = Clock(state.seconds)
        self.last_good = run.resumed_from
        self.step_start, self.images_start = state.step, state.images_seen
        self.epoch_rows: list[dict[str, Any]] = []
        if main and config.train.checkpoint_every:
            warning = space_warning(run_dir, checkpoint_size(state, config), config.train.keep_checkpoints)
            if warning:
                print(f"digitgan: warning: {warning}", file=sys.stderr, flush=True)
        self.epoch_started = time.monotonic()

    def budget_reached(self, state: TrainState) -> bool:
        t = self.config.train
        if t.steps and state.step >= t.steps:
            return True
        if t.epochs and state.images_seen >= t.epochs * self.num_images:
            return True
        return bool(t.minutes) and self.clock.this_run() >= t.minutes * 60

    def note(self, text: str) -> None:
        self.progress.note(text)

    def event(self, state: TrainState, kind: str, **fields: Any) -> None:
        self.history.event(state, kind, **fields)

    def tick(self, state: TrainState, metrics: dict[str, Any], epoch_before: int) -> None:
        """After every step: the progress line, and whatever falls due on this step."""
        t = self.config.train
        state.window.append(metrics)
        self.epoch_rows.append(metrics)
        self.progress.update(state, metrics, t, self.num_images, self.clock.this_run(),
                             state.images_seen - self.images_start, self.objective.progress)
        with self.clock.paused():
            if state.step % t.log_every == 0:
                self.history.log(state, state.window, self.clock.total())
                state.window = []
                self.check_weights(state)
            if state.epoch != epoch_before and self.main:
                self.end_epoch(state, epoch_before + 1)
            if self.evaluator is not None and state.step % t.eval_every == 0:
                scores = self.evaluator(self.sampler(state), self.config)
                self.history.event(state, "eval", seconds=round(self.clock.total(), 3), **scores)
                self.note(f"step {state.step}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
            if t.checkpoint_every and state.step % t.checkpoint_every == 0 and self.main:
                self.checkpoint(state)

    def check_weights(self, state: TrainState) -> None:
        for name, network in (("generator", state.generator),
                              (kind_of(self.config.model.kind).partner, state.partner)):
            if not all_finite(network):
                raise TrainingDiverged(f"{name} weights are not finite at step {state.step}", self.last_good)

    def check_losses(self, state: TrainState, metrics: dict[str, Any]) -> None:
        for key in self.objective.losses:
            if not math.isfinite(metrics[key]):
                name = {"d_loss": "D loss", "g_loss": "G loss"}.get(key, key.replace("_", " "))
                raise TrainingDiverged(f"{name} is {metrics[key]} at step {state.step}", self.last_good)

    def end_epoch(self, state: TrainState, epoch: int) -> None:
        """The epoch table, its history event, a sample grid and the loss plot; when epoch_report_every asks for
        them (the table then covers the epochs since the last one)."""
        every = self.config.train.epoch_report_every
        if not every:
            self.epoch_rows = []
            return
        if epoch % every:
            return
        seconds = time.monotonic() - self.epoch_started
        held_out = (self.objective.held_out_losses(state, self.config, *self.test_data)
                    if self.test_data is not None else {})
        self.note(epoch_table(epoch, self.epoch_rows, held_out, seconds, self.objective.table))
        self.history.event(state, "epoch", epoch=epoch, seconds=seconds,
                           **{f"test_{k}": v for k, v in held_out.items()})
        self.save_grid(state, f"epoch-{epoch:04d}.png")
        self.plot()
        self.epoch_rows, self.epoch_started = [], time.monotonic()

    def plot(self) -> None:
        plot_history(self.run_dir / "history.jsonl", self.run_dir / "loss.png", self.objective.losses,
                     self.objective.rates)

    def sampler(self, state: TrainState) -> torch.nn.Module:
        """The generator that is evaluated and exported: the EMA, with standing statistics when configured."""
        return exported_sampler(state.ema, self.config)

    def save_grid(self, state: TrainState, name: str, sampler: torch.nn.Module | None = None) -> None:
        picture = class_grid(sampler or self.sampler(state), self.config, per_class=10, seed=GRID_SEED,
                             noise_per_column=True)
        save_png(self.run_dir / "samples" / name, picture, scale=2)
        for file_name, extra in self.objective.pictures(state, self.config, self.test_data).items():
            save_png(self.run_dir / "samples" / file_name, extra, scale=2)

    def checkpoint(self, state: TrainState) -> Path:
        self.check_weights(state)
        state.seconds = self.clock.total()
        self.last_good = save_checkpoint(self.run_dir, state_to_dict(state, self.config), state.step,
                                         self.config.train.keep_checkpoints)
        return self.last_good

    def finish(self, state: TrainState, status: str, world: int) -> dict[str, Any]:
        """The last checkpoint (with the open window, so a resume logs exactly as an uninterrupted run), the
        exported model (the EMA, averaged over checkpoints when average_checkpoints asks), the final grid and curves,
        summary.json. Returns the summary."""
        elapsed = self.clock.this_run()
        t = self.config.train
        rate = (state.images_seen - self.images_start) / max(elapsed, 1e-9)
        summary = {"status": status, "step": state.step, "epoch": state.epoch, "images_seen": state.images_seen,
                   "seconds": elapsed, "images_per_second": rate, "total_seconds": self.clock.total(),
                   "steps_this_run": state.step - self.step_start, "checkpoint": None,
                   "model_dir": str(self.run_dir / "model"), "world_size": world, "global_batch": t.batch_size * world}
        if not self.main:
            return summary
        with self.clock.paused():
            summary["checkpoint"] = str(self.checkpoint(state))
            if state.window:
                self.history.log(state, state.window, self.clock.total(), partial=True)
            averaged, steps = checkpoint_average(state.ema, self.run_dir, self.config, state.step)
            exported = exported_sampler(averaged, self.config)
            export_model(self.run_dir / "model", exported, self.config,
                         {"step": state.step, "images_seen": state.images_seen, "epoch": state.epoch,
                          **({"averaged_steps": steps} if len(steps) > 1 else {})})
            self.save_grid(state, "final.png", exported)
            self.plot()
        rows = read_history(self.run_dir / "history.jsonl")
        summary["last_log"] = next((row for row in reversed(rows) if row["kind"] == "log"), {})
        write_json(self.run_dir / "summary.json", summary)
        return summary

    def close(self) -> None:
        self.progress.close()
