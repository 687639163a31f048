"""The exploration verbs: write, interpolate, clock, intensity, explain, export. Each loads a model (default: the
one shipped with digitgan), calls one function of digitgan.drawing.numbers / drawing.explain, and writes its files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click

from digitgan.cli.options import OutputFile, Parsed, load_model, run_option, seed_option, threads_option
from digitgan.drawing.numbers import (
    EXPORT_FORMATS,
    MAX_EXPORT,
    MAX_FPS,
    MAX_SECONDS,
    MAX_STEPS,
    MAX_STYLES,
    parse_scales,
    parse_time,
)
from digitgan.errors import UserError

STYLES = click.IntRange(1, MAX_STYLES)
FPS = click.FloatRange(0, MAX_FPS, min_open=True)


def explore_command(function: Callable) -> click.Command:
    """A command with the options every exploration verb shares (--run, --seed, --threads), listed last."""
    for option in (threads_option(), seed_option(), run_option()):
        function = option(function)
    command = click.command()(function)
    shared = {"run", "seed", "threads"}
    command.params = [p for p in command.params if p.name not in shared] + [p for p in command.params
                                                                          if p.name in shared]
    return command


@explore_command
@click.argument("text")
@click.option("--styles", type=STYLES, default=4, show_default=True, help="rows, one writer each")
@click.option("--scale", type=click.IntRange(1, 16), default=2, show_default=True, help="pixel enlargement")
@click.option("--out", type=OutputFile(".png"), help="PNG (default write-TEXT.png)")
@click.option("--hand", type=click.Path(dir_okay=False, path_type=Path),
              help="write in this hand (a hand.json from `digitgan mimic --save-hand`) instead of --styles writers")
def write(text: str, styles: int, scale: int, out: Path | None, hand: Path | None, run: str | None, seed: int,
          threads: int | None) -> int:
    """Write TEXT (digits and the separators ':', '-', space, e.g. 2026 or 12:34) by hand, one writer per row."""
    from digitgan.drawing.hand import load_hand
    from digitgan.drawing.numbers import rows_picture, write_number
    from digitgan.files import save_png

    generator, config, _ = load_model(run, threads)
    writers = load_hand(hand, config) if hand is not None else None
    cells = write_number(generator, config, text, styles=styles, seed=seed, writers=writers)
    out = out or Path("write-" + "".join(ch if ch.isdigit() else "_" for ch in text) + ".png")
    print(save_png(out, rows_picture(cells), scale=scale))
    return 0


@explore_command
@click.option("--from", "start", type=click.IntRange(0), required=True, help="first digit")
@click.option("--to", "end", type=click.IntRange(0), help="last digit (label space)")
@click.option("--steps", type=click.IntRange(2, MAX_STEPS), default=10, show_default=True)
@click.option("--space", type=click.Choice(["label", "latent"]), default="label", show_default=True)
@click.option("--styles", type=STYLES, default=4, show_default=True, help="rows, one noise vector each")
@click.option("--fps", type=FPS, default=8.0, show_default=True, help="animation frames per second")
@click.option("--touching", is_flag=True, help="PNG without gaps between frames")
@click.option("--out", type=click.Path(path_type=Path), help=".png grid, .gif/.mp4 animation or a folder of frames")
def interpolate(start: int, end: int | None, steps: int, space: str, styles: int, fps: float, touching: bool,
                out: Path | None, run: str | None, seed: int, threads: int | None) -> int:
    """Morph one digit into another (label space) or walk the noise for one digit (latent space)."""
    from digitgan.drawing.numbers import interpolate as interpolate_frames
    from digitgan.drawing.numbers import rows_picture
    from digitgan.files import save_frames, save_png
    from digitgan.images import make_grid

    if space == "latent" and end is not None and end != start:
        raise click.UsageError("--space latent walks the noise for one class: give --from only (or --to equal to it)")
    end = start if end is None else end
    generator, config, _ = load_model(run, threads)
    frames = interpolate_frames(generator, config, start, end, steps, space, styles=styles, seed=seed)
    out = out or Path(f"interpolate-{start}-{end}-{space}.png")
    if out.suffix.lower() == ".png":
        picture = rows_picture(frames) if touching else make_grid(frames.reshape(-1, 28, 28), columns=steps)
        print(save_png(out, picture, scale=2))
    else:
        pictures = [make_grid(frames[:, step], columns=styles) for step in range(steps)]
        print(save_frames(out, pictures + pictures[-2:0:-1], fps=fps))  # ping-pong, so the loop has no jump
    return 0


@explore_command
@click.option("--time", "start_time", type=Parsed("time", parse_time), help="start time HH:MM or HH:MM:SS "
                                                                            "(default: now)")
@click.option("--now", is_flag=True, help="start at the current local time")
@click.option("--seconds", type=click.IntRange(1, MAX_SECONDS), default=5, show_default=True,
              help="how long the clock runs")
@click.option("--fps", type=FPS, default=10.0, show_default=True)
@click.option("--fade", type=click.FloatRange(0, 60), default=0.5, show_default=True,
              help="crossfade duration in seconds")
@click.option("--out", type=click.Path(path_type=Path), default="clock.gif", show_default=True,
              help=".gif, .mp4 (needs ffmpeg) or a folder of PNG frames")
@click.option("--hand", type=click.Path(dir_okay=False, path_type=Path),
              help="the clock in this hand (a hand.json from `digitgan mimic --save-hand`)")
def clock(start_time: int | None, now: bool, seconds: int, fps: float, fade: float, out: Path, hand: Path | None,
          run: str | None, seed: int, threads: int | None) -> int:
    """A handwritten digital clock whose digits crossfade."""
    from digitgan.drawing.hand import load_hand
    from digitgan.drawing.numbers import clock_frames
    from digitgan.files import save_frames

    if now and start_time is not None:
        raise click.UsageError("give --time or --now, not both")
    if start_time is None:
        local = time.localtime()
        start_time = local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec
    generator, config, _ = load_model(run, threads)
    writer = load_hand(hand, config) if hand is not None else None
    frames = clock_frames(generator, config, start_time, seconds, fps, fade=fade, seed=seed, writer=writer)
    print(save_frames(out, frames, fps=fps))
    return 0


@explore_command
@click.option("--digit", type=click.IntRange(0), required=True)
@click.option("--scales", type=Parsed("scales", parse_scales), default="0,0.25,...,2.25", show_default=True,
              help="comma list, or first,second,...,last")
@click.option("--styles", type=STYLES, default=4, show_default=True)
@click.option("--out", type=OutputFile(".png"), help="PNG (default intensity-DIGIT.png)")
def intensity(digit: int, scales: list[float], styles: int, out: Path | None, run: str | None, seed: int,
              threads: int | None) -> int:
    """Draw a digit with its label vector scaled by each of --scales."""
    from digitgan.drawing.numbers import intensity as intensity_frames
    from digitgan.files import save_png
    from digitgan.images import make_grid

    generator, config, _ = load_model(run, threads)
    frames = intensity_frames(generator, config, digit, scales, styles=styles, seed=seed)
    out = out or Path(f"intensity-{digit}.png")
    print(save_png(out, make_grid(frames.reshape(-1, 28, 28), columns=len(scales)), scale=2))
    print("columns: label vector scale " + ", ".join(f"{s:g}" for s in scales))
    return 0


@explore_command
@click.option("--per-class", type=click.IntRange(10, 100_000), default=500, show_default=True,
              help="codes per class to measure")
@click.option("--out", type=click.Path(path_type=Path), help="folder (default RUN/explain or ./explain)")
def explain(per_class: int, out: Path | None, run: str | None, seed: int, threads: int | None) -> int:
    """Why noise * embedding carries the class: probes, plots and a report."""
    from digitgan.drawing.explain import explain_run

    generator, config, _ = load_model(run, threads)
    out = out or (Path(run) / "explain" if run else Path("explain"))
    numbers = explain_run(generator, config, out, run or "the shipped default model", per_class=per_class, seed=seed)
    probes = numbers["probes"]
    print(f"linear probe on z*e_c {probes['linear_code']:.1%}, on |z*e_c| {probes['linear_abs_code']:.1%}, "
          f"MLP probe on z*e_c {probes['mlp_code']:.1%} (chance {numbers['chance']:.0%})")
    print(f"report: {out / 'explain.md'}")
    return 0


@explore_command
@click.option("--n", "count", type=click.IntRange(1, MAX_EXPORT), default=60000, show_default=True,
              help="number of images")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="npz", show_default=True)
@click.option("--labels", help="which classes: '3,5,8' (balanced over them) or '0:100,7:900'")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="a new or empty folder")
def export(count: int, fmt: str, labels: str | None, out: Path, run: str | None, seed: int,
           threads: int | None) -> int:
    """Write a labelled synthetic data set (and manifest.json) that loads back like any other source."""
    from digitgan.drawing.numbers import export_dataset, parse_label_counts

    generator, config, _ = load_model(run, threads)
    try:
        counts = parse_label_counts(labels, count, config.model.num_classes)
    except UserError as error:  # the spec depends on the model's classes, so it is read here, not by click
        raise click.BadParameter(str(error), param_hint="'--labels'") from None
    manifest = export_dataset(generator, config, counts, out, fmt, seed, run or "the shipped default model")
    print(f"{manifest['count']} images ({fmt}) in {out}; manifest {out / 'manifest.json'}")
    return 0
