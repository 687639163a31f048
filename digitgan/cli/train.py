"""`digitgan train`: prepare a run (training.prepare_run), train it (training.train), report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digitgan.cli.options import SEED_MAX, device_option
from digitgan.cli.presets import preset_help
from digitgan.errors import TrainingDiverged


def _arguments_for_ranks(argv: list[str]) -> list[str]:
    """`train ...` as typed, without --nproc (each rank is one process)."""
    rest, skip = [], False
    for arg in argv[1:]:  # argv = [train, ...]
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            rest.append(arg)
    return rest


@click.command()
@click.option("--preset", help=preset_help())
@click.option("--dataset", help="mnist (default), fashion-mnist, or a path (see `digitgan data info`)")
@click.option("--minutes", type=click.FloatRange(0, 1e9, min_open=True), help="wall-clock minutes for this "
                                                                                "invocation")
@click.option("--epochs", type=click.FloatRange(0, 1e9, min_open=True), help="total epochs for the run")
@click.option("--steps", type=click.IntRange(1, 2**62), help="total G steps for the run")
@click.option("--out", type=click.Path(path_type=Path), help="run directory (default runs/PRESET-DATE-TIME)")
@click.option("--seed", type=click.IntRange(0, SEED_MAX), help="seed for weights, data order and noise (default 0)")
@click.option("--resume", type=click.Path(path_type=Path), metavar="RUN",
              help="continue a run (directory or checkpoint file) exactly")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="override a preset setting, e.g. --set lr_g=1e-4 --set model.z_dim=32")
@click.option("--threads", type=click.IntRange(1, 1024),
              help="CPU threads (default: all this process may use; under --nproc, shared out among the ranks)")
@click.option("--adapt-threads", is_flag=True,
              help="drop to 1 thread while that trains faster beside other busy processes; faster under load, but "
                   "the same seed no longer gives the same model (recorded in the run's config)")
@device_option()
@click.option("--quiet", is_flag=True, help="no progress line or epoch tables")
@click.option("--nproc", type=click.IntRange(1, 256), help="processes on this machine (DDP: gloo on CPU, nccl on "
                                                           "CUDA); the ranks' exit codes come back, and no rank "
                                                           "outlives the launch")
@click.pass_context
def train(ctx: click.Context, preset: str | None, dataset: str | None, minutes: float | None, epochs: float | None,
          steps: int | None, out: Path | None, seed: int | None, resume: Path | None, overrides: tuple[str, ...],
          threads: int | None, adapt_threads: bool, device: str, quiet: bool, nproc: int | None) -> int:
    """Train a model (a GAN, or an autoencoder: `digitgan presets` lists them): a preset plus overrides, or
    continue a run with --resume."""
    from digitgan.runtime import cpu_count, launch_env, say_stop_line, set_threads
    from digitgan.training import prepare_run
    from digitgan.training import train as train_run
    from digitgan.training.launch import launch, watch_launcher

    watch_launcher()  # a rank of `--nproc`: die with the launcher, whatever ends it
    if sum(value is not None for value in (minutes, epochs, steps)) > 1:
        raise click.UsageError("give one budget: --steps, --epochs or --minutes")
    world, rank, _ = launch_env()
    if nproc is not None and nproc > 1 and world == 1:
        return launch(nproc, _arguments_for_ranks((ctx.obj or {}).get("argv", sys.argv[1:])))
    set_threads(threads or (max(1, cpu_count() // world) if world > 1 else None))
    if adapt_threads:
        overrides = (*overrides, "adapt_threads=true")
    plan = prepare_run(preset=preset, overrides=list(overrides), resume=resume, out=out, dataset=dataset, seed=seed,
                       steps=steps, epochs=epochs, minutes=minutes, world=world, rank=rank)
    try:
        summary = train_run(plan.config, plan.run_dir, resume=plan.resume, device=device, quiet=quiet)
    except TrainingDiverged as error:
        where = (f"the last good checkpoint {error.checkpoint} is intact (resume with "
                 f"`digitgan train --resume {plan.run_dir}`)") if error.checkpoint else "no checkpoint was written yet"
        say_stop_line(f"digitgan: training stopped: {error}; {where}")  # every rank diverges; one line says it
        return 3
    code = 130 if summary["status"] == "interrupted" else 0
    if rank != 0:
        return code
    if world > 1:
        print(f"DDP: {world} processes, global batch {summary['global_batch']}")
    this_run = f"; this run {summary['seconds']:.1f} s" if summary["steps_this_run"] != summary["step"] else ""
    print(f"{summary['status']} at step {summary['step']} ({summary['images_seen']:,} images, "
          f"{summary['total_seconds']:.1f} s of training{this_run}, {summary['images_per_second']:,.0f} img/s)")
    print(f"run: {plan.run_dir}  model: {summary['model_dir']}  samples: {plan.run_dir / 'samples'}")
    print(f"sample it: digitgan sample {plan.run_dir} --digit 7 --out seven.png")
    return code
