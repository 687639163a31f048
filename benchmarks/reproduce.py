"""`make reproduce`: every way of drawing a digit on one scale, on this machine (about two hours on 2 cores).

Each source preset trains by a committed budget in images (BUDGETS), with the light evaluation along the way, then
gets the standard evaluation (10,000 samples) and a CAS on 10,000 generated images; the autoencoders the same; the
classifier driven backwards (`digitgan dream`) is scored on 10,000 dreamed images. Writes
benchmarks/reproductions.json, benchmarks/REPRODUCTIONS.md and benchmarks/reproductions/*.png.

Resumable: a preset whose run reached its budget is not trained again, one interrupted mid-way resumes from its
checkpoint, and finished evaluations are reused. `--only PRESET ...` runs some; `--smoke` checks the code.

`--equal-minutes M` asks the laptop question instead: every preset (the autoencoders included) trains M minutes of
the trainer's own clock on this machine's CPU threads, images seen recorded, scored the same way (the section "at
equal time"); a run stopped before its M minutes starts again (at most M minutes lost).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common import HERE, reached, train_towards
from benchmarks.reproductions_report import render
from digitgan.config import load_preset, with_train
from digitgan.data import load_dataset
from digitgan.errors import UserError
from digitgan.files import pyplot, save_figure, write_json, write_text
from digitgan.images import from_uint8
from digitgan.runtime import set_threads
from digitgan.training import train
from digitgan.training.history import read_history


@dataclass(frozen=True)
class Budget:
    images: int             # training budget of the run, in images seen by D (or the encoder)
    eval_every: int         # images between light evaluations
    claim: str              # what the source says
    gpu_epochs: float = 0   # the source's budget in epochs, for the command that finishes it on a GPU
    recipe: str = ""        # how the preset follows the source's recipe, where that is the row's point


BUDGETS = {
    "fast": Budget(1_000_000, 50_000, "digitgan's default: ≥ 98% conditional accuracy within 60 s of 2-core CPU "
                                      "(benchmarks/RESULTS.md)"),
    "keras-acgan": Budget(12_000, 2_000, "Keras mnist_acgan.py: \"You should start to see reasonable images after "
                                         "~5 epochs, and good images by ~15 epochs\"; 3 hours per epoch on a CPU, "
                                         "4 minutes on a Titan X", gpu_epochs=15),
    "acgan": Budget(90_000, 15_000, "a smaller ACGAN (the project's own reduction of the Keras example); no budget "
                                    "stated", gpu_epochs=15),
    "dcgan": Budget(40_000, 8_000, "the DCGAN notebook (unconditional); no budget stated in our record of it",
                    gpu_epochs=50),
    "simple-gan": Budget(2_560_000, 256_000, "the two-layer MLP GAN (unconditional): \"relatively realistic "
                                             "handwritten characters\" with white dots in the background after "
                                             "20,000 iterations of batch 128; D accuracy 80-90% from 4,000 on",
                         recipe="matched to the source's Keras loop: Glorot-uniform initialisation with zero biases, "
                                "Adam's epsilon 1e-7, D stepped twice per iteration (a batch of reals, then a batch "
                                "of fakes); 20,000 iterations of batch 128"),
    "writing-numbers": Budget(900_000, 90_000, "\"Writing numbers with a GAN\" (one-hot CGAN, TensorFlow): "
                                               "training \"takes a few days on my PC\"", gpu_epochs=100),
    "vae": Budget(600_000, 60_000, "the AE/VAE explainer: a VAE's latent space is regular, so sampling N(0, I) "
                                   "gives digits"),
    "cvae": Budget(600_000, 60_000, "the conditional VAE of the same explainer: ask for a digit"),
    "ae": Budget(300_000, 60_000, "the explainer's plain autoencoder: reconstructs well, but sampling N(0, I) in "
                                  "its latent space gives no digits"),
}
# The TV weights are the largest (of 0.0003, 0.001, 0.003, 0.008, 0.02) at which the driven classifier still gets
# to the asked digit from a blank page; larger ones stall there.
DREAMS = {"dream (plain classifier, noise start)": {"classifier": "plain", "start": "noise"},
          "dream + TV prior (blank start)": {"classifier": "plain", "start": "blank", "tv_weight": 0.001},
          "dream, robust classifier + TV prior": {"classifier": "robust", "start": "blank", "tv_weight": 0.0003}}
CAS_N = 10_000
TRAIN_IMAGES = 60_000  # one MNIST epoch


def steps_for(config: Any, images: int) -> int:
    return max(1, images // (config.train.batch_size * config.train.d_steps))


def budget_images(budget: Budget, device: str, smoke: bool) -> tuple[int, str]:
    """Images to train on this device, and whose budget that is: on CUDA the source's own epochs where it names
    some (else the project's budget, labelled as ours); on the CPU the committed 2-core budget."""
    if smoke:
        return 2_000, "smoke"
    if device == "cuda" and budget.gpu_epochs:
        return int(budget.gpu_epochs * TRAIN_IMAGES), "source"
    return budget.images, "ours"


def train_to_budget(preset: str, budget: Budget, runs: Path, seed: int, smoke: bool, device: str = "cpu",
                    slice_minutes: float = 0.0) -> tuple[Path, bool]:
    """Train runs/.../PRESET to its budget: skip when reached, resume when a checkpoint exists. slice_minutes > 0
    stops this invocation's training after that many minutes (a later invocation resumes). Returns (run, reached)."""
    run = runs / preset
    config = load_preset(preset)
    images, _ = budget_images(budget, device, smoke)
    # On a GPU the source budgets are long: about ten light evaluations per run, not one per CPU interval.
    eval_images = 1_000 if smoke else budget.eval_every if device == "cpu" else max(budget.eval_every, images // 10)
    steps, every = steps_for(config, images), steps_for(config, eval_images)
    # A slice checkpoints often, so that a run stopped by the device's time limit loses little.
    config = with_train(config, seed=seed, steps=steps, epochs=0.0, minutes=0.0, eval_every=every,
                        checkpoint_every=max(every // (5 if slice_minutes else 1), 1), keep_checkpoints=2)
    if not reached(run, steps):
        print(f"reproduce {preset} ({device}): training to {steps} steps ({images:,} images)", flush=True)
    return run, train_towards(config, run, slice_minutes, device)


def equal_time_row(preset: str, minutes: float, runs: Path, seed: int, smoke: bool,
                   pictures: Path) -> dict[str, Any]:
    """PRESET trained `minutes` of training time (the trainer's clock) from scratch, then scored as the other rows."""
    run = runs / preset
    summary_path = run / "summary.json"
    done = summary_path.exists() and json.loads(summary_path.read_text()).get("total_seconds", 0) >= 60 * minutes * 0.99
    if not done:
        if run.exists():
            shutil.rmtree(run)  # an unfinished run: its clock cannot be continued exactly, so it starts again
        config = load_preset(preset)
        every = steps_for(config, 1_000 if smoke else 50_000)
        config = with_train(config, seed=seed, steps=0, epochs=0, minutes=minutes, eval_every=every,
                            checkpoint_every=every, keep_checkpoints=1)
        print(f"reproduce {preset}: {minutes:g} minutes of training", flush=True)
        train(config, run, quiet=True)
    summary = json.loads(summary_path.read_text())
    report = evaluate(run, load_preset(preset).model.conditional, smoke)
    shutil.copyfile(run / "samples" / "final.png", pictures / f"{preset}-equal-time.png")
    strip = keep_strip(run, pictures, f"{preset}-equal-time")
    return {"run": str(run), "minutes": minutes, "strip": strip,
            "images_seen": summary["images_seen"],
            "epochs": round(summary["images_seen"] / TRAIN_IMAGES, 3), "train_seconds": summary.get("total_seconds"),
            "model": {k: v for k, v in report["model"].items() if not isinstance(v, list)},
            "real_floor": {k: v for k, v in report["real_floor"].items() if not isinstance(v, list)}}


@torch.no_grad()
def discriminator_accuracy(run: Path, count: int = 10_000) -> dict[str, float] | None:
    """How often the run's final D (eval mode) is right: on `count` real test digits (logit > 0) and on `count`
    fresh fakes of its final (not EMA) G, against which it was trained (logit < 0). None for an autoencoder."""
    from digitgan.config import RunConfig
    from digitgan.kinds import kind_of
    from digitgan.models import build_generator, build_partner, one_hot, sample_noise
    from digitgan.training.checkpoints import load_resumable

    _, saved = load_resumable(run)
    config = RunConfig.from_dict(saved["config"])
    if kind_of(config.model.kind).partner != "discriminator":
        return None
    generator, discriminator = build_generator(config.model), build_partner(config.model)
    generator.load_state_dict(saved["generator"])
    discriminator.load_state_dict(saved["partner"])
    generator.eval(), discriminator.eval()
    classes = config.model.num_classes
    test = load_dataset("mnist", "test")
    rng = torch.Generator().manual_seed(0)
    real_images = from_uint8(torch.from_numpy(test.images[:count]))
    real_vector = one_hot(torch.from_numpy(test.labels[:count]), classes)
    fake_vector = one_hot(torch.randint(0, classes, (len(real_images),), generator=rng), classes)
    right = {"real": 0.0, "fake": 0.0}
    for start in range(0, len(real_images), 1000):
        part = slice(start, start + 1000)
        real_logits, _ = discriminator(real_images[part], real_vector[part])
        fakes = generator(sample_noise(len(real_logits), config.model, rng), fake_vector[part])
        fake_logits, _ = discriminator(fakes, fake_vector[part])
        right["real"] += float((real_logits > 0).sum())
        right["fake"] += float((fake_logits < 0).sum())
    real, fake = right["real"] / len(real_images), right["fake"] / len(real_images)
    return {"real": round(real, 4), "fake": round(fake, 4), "both": round((real + fake) / 2, 4)}


def keep_strip(run: Path, pictures: Path, name: str) -> str:
    """Copy RUN's strip of samples (eval/row.png: the first of each class) to pictures/rows/NAME.png, so the
    comparison pictures can be drawn again after the run folders are gone (they are not committed). Returns the
    strip's path relative to pictures."""
    (pictures / "rows").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "eval" / "row.png", pictures / "rows" / f"{name}.png")
    return f"rows/{name}.png"


def strips_picture(named: list[tuple[str, str | None]], pictures: Path, out: Path) -> None:
    """pictures/OUT: one strip of samples per (label, strip path relative to pictures), real data last; rows whose
    strip is missing are left out, with a note."""
    from digitgan.evaluate.report import sample_rows_picture

    present = [(label, pictures / strip) for label, strip in named if strip and (pictures / strip).exists()]
    missing = [label for label, strip in named if not strip or not (pictures / strip).exists()]
    if missing:
        print(f"reproduce: {out.name} leaves out {', '.join(missing)} (no strip of samples kept for them)")
    if present:
        sample_rows_picture([path for _, path in present], [label for label, _ in present], "mnist", out)


def evaluate(run: Path, conditional: bool, smoke: bool) -> dict[str, Any]:
    from digitgan.evaluate.report import evaluate_run

    report_path = run / "eval" / "report.json"
    model_path = run / "model" / "generator.safetensors"
    if report_path.exists() and report_path.stat().st_mtime > model_path.stat().st_mtime:
        return json.loads(report_path.read_text())
    return evaluate_run(run, n_per_class=20 if smoke else 1000, cas=conditional, cas_n=200 if smoke else CAS_N,
                        log=lambda _: None)


def dream_row(name: str, options: dict[str, Any], runs: Path, smoke: bool) -> Path:
    """Dream 1,000 images of each digit (smoke: 5) and evaluate them as a run directory of their own."""
    from digitgan.classifiers.reference import Recipe
    from digitgan.drawing.dream import DreamSettings, dream, driven_confidence, load_driven
    from digitgan.evaluate.report import accuracy_of_recipe, evaluate_images

    run = runs / ("dream-" + "-".join(f"{k}={v}" for k, v in options.items()))
    if (run / "eval" / "report.json").exists():
        return run
    per = 5 if smoke else 1000
    digits = np.repeat(np.arange(10), per)
    classifier, _ = load_driven(options["classifier"])
    started = time.monotonic()
    settings = DreamSettings(options["classifier"], options["start"], steps=20 if smoke else 200,
                             tv_weight=options.get("tv_weight", 0.0))
    images = dream(classifier, digits, settings, seed=0)
    seconds = time.monotonic() - started
    said, probability = driven_confidence(classifier, images, digits)

    def cas(test: Any) -> float:
        return accuracy_of_recipe(images, digits, test.images, test.labels, 10, Recipe(seed=0), log=lambda _: None)

    about = {"run": str(run), "preset": name, "step": None, "images_seen": int(len(images)), "n_per_class": per,
             "driven": {"classifier": options["classifier"], "says_asked": said, "mean_probability": probability}}
    evaluate_images(images, digits, "mnist", 10, run / "eval", about, seed=0, cas=cas)
    write_json(run / "summary.json", {"images_seen": int(len(images)), "seconds": seconds, "dreamed": True})
    return run


def curves(results: dict[str, Any], out: Path) -> None:
    plt = pyplot()
    figure, (accuracy_axis, fcd_axis) = plt.subplots(1, 2, figsize=(13, 4.5))
    for preset, row in results["runs"].items():
        points = row.get("curve", [])
        if not points:
            continue
        seen = [p["images_seen"] for p in points]
        if any(p.get("accuracy") is not None for p in points):
            accuracy_axis.plot(seen, [p.get("accuracy") for p in points], marker=".", label=preset)
        fcd_axis.plot(seen, [p["fcd"] for p in points], marker=".", label=preset)
    for axis, name in ((accuracy_axis, "conditional accuracy (2k samples)"), (fcd_axis, "FCD (2k samples)")):
        axis.set_xscale("log")
        axis.set_xlabel("images seen (log)")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7)
    fcd_axis.set_yscale("log")
    figure.tight_layout()
    save_figure(figure, out, dpi=90)


def run_row(preset: str, runs: Path, seed: int, smoke: bool, pictures: Path, device: str = "cpu",
            slice_minutes: float = 0.0, shared_cores: bool = False) -> dict[str, Any]:
    budget = BUDGETS[preset]
    run, reached = train_to_budget(preset, budget, runs, seed, smoke, device, slice_minutes)
    images, whose = budget_images(budget, device, smoke)
    summary = json.loads((run / "summary.json").read_text())
    evals = [r for r in read_history(run / "history.jsonl") if r["kind"] == "eval"]
    seen = summary["images_seen"]
    row: dict[str, Any] = {"run": str(run), "budget_images": images, "budget_of": whose, "reached": reached,
                           "images_seen": seen, "epochs": round(seen / TRAIN_IMAGES, 3),
                           "train_seconds": summary.get("total_seconds", summary.get("last_log", {}).get("seconds")),
                           "claim": budget.claim, "gpu_epochs": budget.gpu_epochs,
                           **({"recipe": budget.recipe} if budget.recipe else {}),
                           **({"shared_cores": True} if shared_cores else {}),
                           "curve": [{"images_seen": r["images_seen"], "accuracy": r.get("accuracy"),
                                      "fcd": round(r["fcd"], 3)} for r in evals]}
    if not reached:  # a slice: the full evaluation waits for the budget
        return row
    config = load_preset(preset)
    report = evaluate(run, config.model.conditional, smoke)
    suffix = "" if device == "cpu" else f"-{device}"
    shutil.copyfile(run / "samples" / "final.png", pictures / f"{preset}{suffix}.png")
    row["strip"] = keep_strip(run, pictures, f"{preset}{suffix}")
    if (run / "samples" / "reconstructions.png").exists():
        shutil.copyfile(run / "samples" / "reconstructions.png",
                        pictures / f"{preset}{suffix}-reconstructions.png")
    d_accuracy = discriminator_accuracy(run, 200 if smoke else 10_000)
    return {**row, **({"d_accuracy": d_accuracy} if d_accuracy else {}),
            "model": {k: v for k, v in report["model"].items() if not isinstance(v, list)},
            "real_floor": {k: v for k, v in report["real_floor"].items() if not isinstance(v, list)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=[*BUDGETS, "dream"], help="rows to run (default: all)")
    parser.add_argument("--runs", type=Path, help="run directories (default runs/reproduce, on CUDA "
                                                  "runs/reproduce-cuda)")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cpu: the committed 2-core budgets; cuda: the sources' own budgets (GPU rows)")
    parser.add_argument("--slice-minutes", type=float, default=0.0,
                        help="stop this invocation's training after this many minutes per preset, and every "
                             "preset after the first slice that did not finish (run again to continue)")
    parser.add_argument("--equal-minutes", type=float, default=0.0,
                        help="CPU: train every preset this many minutes instead of its budget (the equal-time section)")
    parser.add_argument("--shared-cores", action="store_true",
                        help="other work shares the cores with this run: its rows' seconds are marked as upper bounds "
                             "(not for --equal-minutes, whose budget is time)")
    parser.add_argument("--smoke", action="store_true", help="tiny budgets, to check the code runs")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available")
    runs = args.runs or Path("runs/reproduce" if args.device == "cpu" else f"runs/reproduce-{args.device}")
    load_dataset("mnist", "train")  # fetched once, before anything is timed
    results_path = args.out / "reproductions.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results.setdefault("runs", {})
    results.setdefault("dreams", {})
    pictures = args.out / "reproductions"
    pictures.mkdir(parents=True, exist_ok=True)
    chosen = args.only or [*BUDGETS, "dream"]
    if args.device == "cpu":
        rows, machine_key = results["runs"], "machine"
    else:
        gpu = results.setdefault("gpu", {"runs": {}})
        rows, machine_key = gpu["runs"], "gpu_machine"
    started = time.monotonic()
    if args.equal_minutes:
        if args.device != "cpu":
            raise UserError("--equal-minutes is the CPU question; on a GPU the rows keep the sources' budgets")
        if args.shared_cores:
            raise UserError("--equal-minutes rows are trained on quiet cores (their budget is time); run them alone")
        equal = results.setdefault("equal_time", {"minutes": args.equal_minutes, "runs": {}})
        if equal["minutes"] != args.equal_minutes:
            raise UserError(f"reproductions.json holds equal-time rows of {equal['minutes']:g} minutes; the same "
                            "budget for every row, or move them away")
        for preset in [p for p in chosen if p in BUDGETS]:
            if preset in equal["runs"] and not (runs / "equal-time" / preset).exists():
                # measured by an earlier session whose run folder is gone: keep its row (training again would give
                # the same model only on the same machine, and the cores' time would buy nothing new)
                print(f"reproduce {preset}: equal-time row kept from reproductions.json", flush=True)
                continue
            equal["runs"][preset] = equal_time_row(preset, args.equal_minutes, runs / "equal-time", args.seed,
                                                   args.smoke, pictures)
            results["equal_time_machine"] = {"threads": torch.get_num_threads(), "torch": torch.__version__,
                                             "date": time.strftime("%Y-%m-%d"), "device": device_name("cpu")}
            results = store(results_path, results, args.device)
        chosen = [name for name in chosen if name == "dream"]
    for preset in [p for p in chosen if p in BUDGETS]:
        left = args.slice_minutes - (time.monotonic() - started) / 60 if args.slice_minutes else 0.0
        if args.slice_minutes and left <= 0.5:
            print(f"reproduce: slice of {args.slice_minutes:g} minutes used; run the same command again to continue")
            break
        rows[preset] = run_row(preset, runs, args.seed, args.smoke, pictures, args.device, left, args.shared_cores)
        results[machine_key] = {"threads": torch.get_num_threads(), "torch": torch.__version__,
                                "date": time.strftime("%Y-%m-%d"), "device": device_name(args.device)}
        results = store(results_path, results, args.device)
    if "dream" in chosen and args.device == "cpu":
        for name, options in DREAMS.items():
            run = dream_row(name, options, runs, args.smoke)
            report = json.loads((run / "eval" / "report.json").read_text())
            shutil.copyfile(run / "eval" / "row.png", pictures / f"{run.name}.png")
            summary = json.loads((run / "summary.json").read_text())
            results["dreams"][name] = {"run": str(run), "strip": keep_strip(run, pictures, run.name),
                                       "driven": report["driven"], "seconds": summary["seconds"],
                                       "model": {k: v for k, v in report["model"].items() if not isinstance(v, list)}}
            results = store(results_path, results, args.device)
    finished = {preset: row for preset, row in rows.items() if row.get("reached", True) and "model" in row}
    suffix = "" if args.device == "cpu" else f"-{args.device}"
    curves({"runs": rows}, pictures / f"curves{suffix}.png")
    dreams = [(name, row.get("strip")) for name, row in results.get("dreams", {}).items()]
    named = [(preset, row.get("strip")) for preset, row in finished.items()]
    strips_picture(named + (dreams if args.device == "cpu" else []), pictures, pictures / f"all{suffix}.png")
    if args.device == "cpu" and results.get("equal_time", {}).get("runs"):
        named = [(preset, row.get("strip")) for preset, row in results["equal_time"]["runs"].items()]
        strips_picture(named + dreams, pictures, pictures / "all-equal-time.png")

    write_text(args.out / "REPRODUCTIONS.md", render(results, Path("runs/reproduce")))
    print(f"wrote {results_path} and {args.out / 'REPRODUCTIONS.md'}")
    return 0


def store(path: Path, results: dict[str, Any], device: str) -> dict[str, Any]:
    """Write this device's part of reproductions.json, keeping what another device's run wrote there meanwhile
    (a GPU slice may land while the CPU rows are still training). Returns the merged results."""
    mine = (("runs", "dreams", "machine", "equal_time", "equal_time_machine") if device == "cpu"
            else ("gpu", "gpu_machine"))
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update({key: results[key] for key in mine if key in results})
    write_json(path, merged)
    return merged


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    import platform

    return f"{platform.machine()} CPU ({platform.processor() or 'unknown'})"


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except UserError as error:
        raise SystemExit(f"reproduce: {error}") from None
