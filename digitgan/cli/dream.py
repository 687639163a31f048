"""`digitgan dream`: drive a classifier backwards until it says the digit asked for, and see what that draws."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digitgan.cli.options import OutputFile, Parsed, digit_or_all, seed_option, threads_option
from digitgan.drawing.dream import DRIVEN_RECIPES, STARTS


@click.command()
@click.option("--digit", type=Parsed("digit", digit_or_all), default="all", show_default=True,
              help="0-9, or 'all' for one row per digit")
@click.option("-n", "count", type=click.IntRange(1, 10_000), help="how many (per digit with --digit all; default 64, "
                                                                  "or 10 for all)")
@click.option("--classifier", type=click.Choice(list(DRIVEN_RECIPES)), default="plain", show_default=True,
              help="the classifier to drive: plain, or robust (adversarially trained)")
@click.option("--start", type=click.Choice(STARTS), default="noise", show_default=True)
@click.option("--steps", type=click.IntRange(1, 10_000), default=200, show_default=True, help="optimisation steps")
@click.option("--tv", "tv_weight", type=click.FloatRange(0, 100), default=0.0, show_default=True,
              help="weight of the total-variation (smoothness) prior")
@click.option("--out", type=OutputFile(".png"), required=True, help="output PNG")
@seed_option()
@threads_option()
def dream(digit: int | None, count: int | None, classifier: str, start: str, steps: int, tv_weight: float, out: Path,
          seed: int, threads: int | None) -> int:
    """Start from noise (or a blank page) and change the pixels until a classifier says DIGIT; report how far the
    driven classifier and the independent reference classifier agree."""
    import numpy as np

    from digitgan.classifiers.reference import load_reference
    from digitgan.drawing.dream import DreamSettings, driven_confidence, load_driven
    from digitgan.drawing.dream import dream as dream_images
    from digitgan.files import save_png
    from digitgan.images import make_grid
    from digitgan.runtime import set_threads

    set_threads(threads)
    if digit is not None and digit > 9:
        raise click.BadParameter(f"{digit} is not a digit 0-9", param_hint="'--digit'")
    per = count or (10 if digit is None else 64)
    digits = np.repeat(np.arange(10), per) if digit is None else np.full(per, digit)
    driven, _ = load_driven(classifier)
    images = dream_images(driven, digits, DreamSettings(classifier, start, steps, tv_weight=tv_weight), seed=seed)
    columns = per if digit is None else int(np.ceil(np.sqrt(per)))
    print(save_png(out, make_grid(images, columns=columns), scale=2))
    said, probability = driven_confidence(driven, images, digits)
    reference, _ = load_reference("mnist")
    agreed, _ = driven_confidence(reference, images, digits)
    print(f"driven classifier ({classifier}) says the asked digit for {said:.1%} (mean probability {probability:.3f}); "
          f"the independent reference classifier agrees for {agreed:.1%}", file=sys.stderr)
    return 0
