"""`digitgan evaluate`, `digitgan compare` and `digitgan evaluator train`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from digitgan.cli.options import OutputFile, seed_option, threads_option


def _log(line: str) -> None:
    print(line, file=sys.stderr)


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--n-per-class", type=click.IntRange(10, 100_000), default=1000, show_default=True,
              help="generated images per class")
@click.option("--cas", is_flag=True, help="also train a classifier on generated data and test it on real (minutes)")
@click.option("--cas-n", type=click.IntRange(100, 1_000_000), default=60000, show_default=True,
              help="generated training set size for CAS")
@seed_option()
@threads_option()
def evaluate(run: Path, n_per_class: int, cas: bool, cas_n: int, seed: int, threads: int | None) -> int:
    """Score the model of RUN beside the real-data floor: RUN/eval/report.{json,md}, confusion.png, worst.png."""
    from digitgan.evaluate.report import evaluate_run, summary_lines
    from digitgan.runtime import set_threads

    set_threads(threads)
    report = evaluate_run(run, n_per_class=n_per_class, seed=seed, cas=cas, cas_n=cas_n, log=_log)
    print("\n".join(summary_lines(report)))
    print(f"report: {run / 'eval' / 'report.md'}")
    return 0


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="RUN...")
@click.option("--markdown", is_flag=True, help="a markdown table (default: aligned text for the terminal)")
@click.option("--picture", type=OutputFile(".png"), help="also a PNG with a row of samples (0-9) per run and of real "
                                                         "data")
def compare(runs: tuple[Path, ...], markdown: bool, picture: Path | None) -> int:
    """One table of evaluated runs, a row each, plus the real-data floor row."""
    from digitgan.evaluate.report import compare_picture, compare_runs

    print(compare_runs(list(runs), markdown=markdown))
    if picture is not None:
        print(f"picture: {compare_picture(list(runs), picture)}")
    return 0


@click.group()
def evaluator() -> None:
    """The reference classifiers that evaluate uses."""


@evaluator.command("train")
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), default="mnist", show_default=True)
@seed_option("seed of the recipe (default 0)")
@click.option("--epochs", type=click.IntRange(1, 1000), help="override the recipe's epoch count (for experiments)")
@click.option("--out", type=click.Path(path_type=Path), help="directory for weights + card (default: the package's "
                                                            "weights/)")
@threads_option()
def evaluator_train(dataset: str, seed: int, epochs: int | None, out: Path | None, threads: int | None) -> int:
    """Train a reference classifier by the committed recipe."""
    import torch

    from digitgan.classifiers.reference import card_facts, recipe_for, save_reference, train_reference, weights_dir
    from digitgan.data import load_dataset
    from digitgan.runtime import set_threads

    used = set_threads(threads)
    recipe = recipe_for(dataset, seed=seed, epochs=epochs)
    train_set, test_set = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    started = time.monotonic()
    model = train_reference(train_set.images, train_set.labels, train_set.num_classes, recipe, log=_log)
    card = {"num_classes": train_set.num_classes, "train_seconds": round(time.monotonic() - started, 1),
            "threads": used, "torch": torch.__version__, **card_facts(model, test_set.images, test_set.labels)}
    path = save_reference(model, dataset, recipe, card, out or weights_dir())
    print(f"{dataset}: test accuracy {card['test_accuracy']:.4f}; weights {path}")
    return 0
