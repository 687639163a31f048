"""A run: what `digitgan train` prepares before training, and what the loop and the recorder work on.

`prepare_run` reads a resumed checkpoint once (the trainer is handed its contents), checks that the requested
changes fit the saved model, and picks the run directory (a RunPlan). The loop then sets up a `Run` (the state,
objective and data of this invocation) and hands it to the recorder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from digitgan.config import RunConfig, apply_overrides, load_preset, with_train
from digitgan.errors import UserError
from digitgan.training.checkpoints import config_mismatch, list_checkpoints, load_resumable
from digitgan.training.state import TrainState
from digitgan.training.step import TrainingObjective


@dataclass
class Run:
    """One invocation of a run, set up by the loop (training.loop.train) and recorded by training.recorder."""
    config: RunConfig
    directory: Path
    objective: TrainingObjective
    state: TrainState
    num_images: int                                          # training images (an epoch)
    test_data: tuple[torch.Tensor, torch.Tensor] | None      # held-out (uint8 images, labels), on the device
    evaluator: Any | None                                    # evaluate.light.LightEvaluator, rank 0 only
    resumed_from: Path | None                                # the checkpoint this invocation continues
    main: bool = True                                        # rank 0: the process that writes files
    quiet: bool = False


@dataclass
class RunPlan:
    config: RunConfig
    run_dir: Path
    resume: tuple[Path, dict[str, Any]] | None = None    # (checkpoint path, contents) to continue from


def _resume_plan(target: Path, preset: str | None, overrides: list[str], out: Path | None) -> RunPlan:
    source, saved = load_resumable(target)
    config = RunConfig.from_dict(saved["config"])
    if preset or overrides:
        wanted = apply_overrides(load_preset(preset) if preset else config, overrides)
        mismatch = config_mismatch(saved["config"], wanted.to_dict())
        if mismatch:
            raise UserError(f"{source} was trained with a different model: {'; '.join(mismatch[:4])}")
        if overrides:  # train settings may change on a resume (a new learning rate, say); the model may not
            config.train = wanted.train
    run_dir = target if target.is_dir() else source.parent.parent
    if out is not None and out.resolve() != run_dir.resolve():
        raise UserError(f"the output directory {out} differs from the run being resumed ({run_dir})")
    return RunPlan(config, run_dir, resume=(source, saved))


def prepare_run(preset: str | None = None, overrides: list[str] | None = None, resume: Path | None = None,
                out: Path | None = None, dataset: str | None = None, seed: int | None = None,
                steps: int | None = None, epochs: float | None = None, minutes: float | None = None,
                world: int = 1, rank: int = 0) -> RunPlan:
    """What to train and where. A resume keeps the model, data set and seed of its run; budgets are totals for
    the run (steps, epochs) or wall time for this invocation (minutes); a new run refuses a directory that
    already holds one."""
    overrides = overrides or []
    if resume is not None:
        plan = _resume_plan(resume, preset, overrides, out)
    else:
        config = apply_overrides(load_preset(preset or "fast"), overrides)
        if world > 1 and out is None:
            raise UserError("under torchrun every rank must name the same run directory: give an output directory")
        run_dir = out if out is not None else Path("runs") / f"{config.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
        if rank == 0 and (list_checkpoints(run_dir) or (run_dir / "model").exists()):
            raise UserError(f"{run_dir} already holds a run; continue it (resume {run_dir}) or pick another "
                            "output directory")
        plan = RunPlan(config, run_dir)
    changes: dict[str, Any] = {}
    if dataset is not None:
        if plan.resume is not None and dataset != plan.config.train.dataset:
            raise UserError(f"{plan.run_dir} was trained on {plan.config.train.dataset}, not {dataset}")
        changes["dataset"] = dataset
    if seed is not None:
        if plan.resume is not None and seed != plan.config.train.seed:
            raise UserError(f"{plan.run_dir} was trained with seed {plan.config.train.seed}; a resume keeps it")
        changes["seed"] = seed
    if any(value is not None for value in (steps, epochs, minutes)):
        changes.update(steps=steps or 0, epochs=epochs or 0.0, minutes=minutes or 0.0)
    plan.config = with_train(plan.config, **changes)
    return plan
