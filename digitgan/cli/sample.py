"""`digitgan sample`: a PNG grid from a run, a model folder, or the shipped model."""

from __future__ import annotations

from pathlib import Path

import click

from digitgan.cli.options import (
    OutputFile,
    Parsed,
    device_option,
    digit_or_all,
    load_model,
    seed_option,
    threads_option,
)


@click.command()
@click.argument("run", required=False)
@click.option("--digit", type=Parsed("digit", digit_or_all), default="all", show_default=True,
              help="0-9, or 'all' for one row per class")
@click.option("-n", "count", type=click.IntRange(1, 100_000),
              help="how many (per class with --digit all; default 64, or 10 for all)")
@seed_option()
@click.option("--out", type=OutputFile(".png"), required=True, help="output PNG")
@threads_option()
@device_option()
def sample(run: str | None, digit: int | None, count: int | None, seed: int, out: Path, threads: int | None,
           device: str) -> int:
    """Draw digits from RUN (a run or model directory; default: the model shipped with digitgan) into a PNG."""

    from digitgan.drawing.sampling import class_grid, digit_grid
    from digitgan.files import save_png
    from digitgan.runtime import pick_device

    generator, config, _ = load_model(run, threads, device=pick_device(device).type)
    if digit is None:
        picture = class_grid(generator, config, count or 10, seed)
    else:
        picture = digit_grid(generator, config, digit, count or 64, seed)
    print(save_png(out, picture, scale=2))
    return 0
