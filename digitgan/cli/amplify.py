"""`digitgan amplify`: do generated digits help a classifier that has only k real ones per class? (the sweep of
digitgan.studies.amplify; resumes when run again with the same settings)."""

from __future__ import annotations

from pathlib import Path

import click

from digitgan.cli.options import threads_option


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="the sweep's folder (amplify.json, amplify.md, the generators); run again to resume")
@click.option("--k", "ks", type=click.IntRange(1, 5000), multiple=True,
              help="labelled images per class (repeatable; default 10, 100, 1000)")
@click.option("--seeds", type=click.IntRange(1, 100), default=5, show_default=True,
              help="seeds 0..N-1: each redraws the subset, the generator and the classifiers")
@click.option("--generator-steps", type=click.IntRange(1, 10_000_000), default=3000, show_default=True)
@click.option("--classifier-steps", type=click.IntRange(1, 10_000_000), default=1000, show_default=True,
              help="optimizer steps of every classifier arm (equal for all arms)")
@click.option("--d-augment", "d_augments", type=click.Choice(["none", "translation", "translation-cutout"]),
              multiple=True, help="D's input augmentation of the small-data generators (repeatable; default none "
                                  "and translation-cutout: both are measured)")
@click.option("--no-upper-bound", is_flag=True, help="leave out the arm with the shipped (full-data) generator")
@click.option("--quick", is_flag=True, help="a tiny sweep that runs end to end in seconds (checks the protocol)")
@click.option("--report-only", is_flag=True, help="write OUT/amplify.md again from OUT/amplify.json; train nothing")
@threads_option()
def amplify(out: Path, ks: tuple[int, ...], seeds: int, generator_steps: int, classifier_steps: int,
            d_augments: tuple[str, ...], no_upper_bound: bool, quick: bool, report_only: bool,
            threads: int | None) -> int:
    """Train a generator on k labelled digits per class only, and classifiers on real, real + affine, real +
    generated (1x, 10x) and generated digits, the same number of steps each; report test accuracy over seeds with
    Welch's t-test against real + affine (OUT/amplify.md)."""
    from digitgan.runtime import set_threads
    from digitgan.studies.amplify import REPORT, AmplifySettings, rerender, run_amplify

    if report_only:
        print(rerender(out))
        return 0
    set_threads(threads)
    if quick:
        settings = AmplifySettings.quick()
    else:
        settings = AmplifySettings(seeds=list(range(seeds)), generator_steps=generator_steps,
                                   classifier_steps=classifier_steps, upper_bound=not no_upper_bound)
        if ks:
            settings.ks = sorted(set(ks))
        if d_augments:
            settings.d_augments = list(dict.fromkeys(d_augments))
    run_amplify(out, settings)
    print(out / REPORT)
    return 0
