"""Data amplification, measured: with only k labelled digits per class, does a classifier gain from digits that a
conditional generator — trained on those same k x 10 images and nothing else — draws?

For each k and seed: the seed draws k images per class from the training split (the subset); a generator trains on
the subset alone (a file holding only those images is its data set), once per D-input augmentation asked for; then
classifiers by the committed reference recipe (digitgan.classifiers.reference) train on each arm's images and are
tested on the real test split. Every arm trains for the same number of optimizer steps (a stream of whole passes
over its set, shuffled, cut to steps x batch images), so an arm with more images does not simply train longer.
Arms: real (the recipe's own shift augmentation), real without it, real + random affine (classic augmentation),
real + generated (1x and 10x the real count), generated only (10x); and, labelled as an upper bound, real + 10x
from the shipped generator, which saw all 60,000 training digits. Results land in a JSON file after every arm, so a
stopped sweep resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from digitgan.classifiers.reference import Recipe, load_reference, predict, train_reference
from digitgan.config import load_preset, with_settings
from digitgan.data import load_dataset
from digitgan.drawing.sampling import generate
from digitgan.errors import UserError
from digitgan.files import make_folder, write_json, write_text
from digitgan.images import from_uint8, to_uint8
from digitgan.modelfolder.folder import default_model_dir, load_generator
from digitgan.models import one_hot
from digitgan.studies.stats import mean_std, welch_t_test
from digitgan.training import train
from digitgan.training.checkpoints import list_checkpoints

RESULTS, REPORT = "amplify.json", "amplify.md"
PICTURES = "amplification"  # OUT/amplification/*.png, linked from the report by that relative path
FORMAT = "digitgan-amplify-1"
REAL_ARMS = ("real", "real, no shift", "real + affine")
UPPER_BOUND = "real + 10x shipped generator (upper bound: it saw all 60,000)"


@dataclass
class AmplifySettings:
    ks: list[int] = field(default_factory=lambda: [10, 100, 1000])   # labelled images per class
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    preset: str = "fast"
    generator_steps: int = 3000
    d_augments: list[str] = field(default_factory=lambda: ["none", "translation-cutout"])
    classifier_steps: int = 1000
    batch_size: int = 128
    test_count: int = 0          # 0: the whole test split
    upper_bound: bool = True

    @classmethod
    def quick(cls) -> AmplifySettings:
        """End to end in seconds (the tests): two images per class, two seeds, a few steps."""
        return cls(ks=[2], seeds=[0, 1], generator_steps=4, d_augments=["none", "translation-cutout"],
                   classifier_steps=3, batch_size=32, test_count=300, upper_bound=True)


def arm_names(settings: AmplifySettings) -> list[str]:
    names = list(REAL_ARMS)
    for augment in settings.d_augments:
        names += [f"real + 1x generated ({augment})", f"real + 10x generated ({augment})",
                  f"generated only, 10x ({augment})"]
    return names + ([UPPER_BOUND] if settings.upper_bound else [])


def subset_indices(labels: np.ndarray, k: int, seed: int, classes: int = 10) -> np.ndarray:
    """k indices per class, drawn without replacement by (seed, k), sorted."""
    rng = np.random.default_rng([seed, k])
    chosen = []
    for label in range(classes):
        members = np.flatnonzero(labels == label)
        if len(members) < k:
            raise UserError(f"class {label} has {len(members)} training images, fewer than k = {k}")
        chosen.append(rng.choice(members, k, replace=False))
    return np.sort(np.concatenate(chosen))


def random_affine(images: np.ndarray, rng: torch.Generator) -> np.ndarray:
    """Classic augmentation: each (N, 28, 28) uint8 image rotated by up to 15 degrees, sheared by up to 10, scaled by
    0.9-1.1 and moved by up to 10% of its side (bilinear, background filled)."""
    count = len(images)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(count, generator=rng)

    angle, shear = torch.deg2rad(uniform(-15, 15)), torch.deg2rad(uniform(-10, 10))
    scale, shift_x, shift_y = uniform(0.9, 1.1), uniform(-0.2, 0.2), uniform(-0.2, 0.2)  # shifts in [-1, 1] units
    cos, sin = torch.cos(angle), torch.sin(angle)
    # the sampling grid's map from output to input coordinates: the inverse of rotate-shear-scale, then the shift
    a, b = cos / scale, (sin + torch.tan(shear) * cos) / scale
    c, d = -sin / scale, (cos - torch.tan(shear) * sin) / scale
    theta = torch.stack([torch.stack([a, b, shift_x], 1), torch.stack([c, d, shift_y], 1)], 1)
    x = from_uint8(images)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    moved = F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1
    return to_uint8(moved)


def training_stream(images: np.ndarray, labels: np.ndarray, steps: int, batch_size: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """steps x batch_size (image, label) pairs: whole shuffled passes over the set, cut to length, so every image
    appears equally often (to one) whatever the set's size."""
    rng = np.random.default_rng(seed)
    total = steps * batch_size
    order = np.concatenate([rng.permutation(len(images)) for _ in range(math.ceil(total / len(images)))])[:total]
    return images[order], labels[order]


def train_classifier(images: np.ndarray, labels: np.ndarray, settings: AmplifySettings, seed: int,
                     shift: bool = True, affine: bool = False) -> torch.nn.Module:
    """The reference recipe for exactly settings.classifier_steps optimizer steps on (images, labels)."""
    stream, stream_labels = training_stream(images, labels, settings.classifier_steps, settings.batch_size, seed)
    if affine:
        stream = random_affine(stream, torch.Generator().manual_seed(seed))
    recipe = Recipe(epochs=1, batch_size=settings.batch_size, seed=seed, max_shift=Recipe.max_shift if shift else 0)
    return train_reference(stream, stream_labels, 10, recipe, log=lambda _: None)


def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    logits, _ = predict(model, images)
    return float((logits.argmax(1) == labels).mean())


def train_small_generator(images: np.ndarray, labels: np.ndarray, settings: AmplifySettings, seed: int,
                          augment: str, folder: Path) -> tuple[torch.nn.Module, Any, dict[str, Any]]:
    """A generator of settings.preset trained on (images, labels) only: they are written to folder/subset.npz, the
    run's whole data set. Resumes an interrupted run from its checkpoints; a finished one is loaded."""
    make_folder(folder)
    data = folder / "subset.npz"
    if not data.exists():
        np.savez(data, x_train=images, y_train=labels)
    run_dir = folder / "run"
    preset = load_preset(settings.preset)
    config = with_settings(preset, {"dataset": str(data), "steps": settings.generator_steps, "seed": seed,
                                    "d_augment": augment, "eval_every": 0, "epoch_report_every": 0,
                                    "checkpoint_every": max(1, settings.generator_steps // 4),
                                    "batch_size": min(preset.train.batch_size, len(images))})
    started = time.monotonic()
    if not _finished(run_dir, settings.generator_steps):
        resume = run_dir if run_dir.exists() and list_checkpoints(run_dir) else None
        summary = train(config, run_dir, resume=resume, quiet=True)
        if summary["status"] != "finished":
            # asked to stop (Ctrl-C, SIGTERM): the checkpoint is saved; the sweep stops too, and a rerun resumes the
            # generator from it — its exported model is not the finished one and must not be used
            raise KeyboardInterrupt
    generator, loaded, raw = load_generator(run_dir)
    return generator, loaded, {"steps": raw.get("step"), "images_seen": raw.get("images_seen"),
                               "seconds": round(time.monotonic() - started, 1)}


def _finished(run_dir: Path, steps: int) -> bool:
    """Whether the generator's run finished its budget (an interrupted run also exports a model)."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return summary.get("status") == "finished" and summary.get("step", 0) >= steps


def generated_set(generator: torch.nn.Module, config: Any, per_class: int,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """per_class digits of each class (N, 28, 28) uint8 with their labels (N,)."""
    labels = np.repeat(np.arange(10), per_class)
    with torch.no_grad():
        images = generate(generator, config, one_hot(torch.from_numpy(labels), 10), seed=seed)
    return images, labels


class Sweep:
    """The sweep's results file: read at start (resume), written after every arm."""

    def __init__(self, out: Path, settings: AmplifySettings) -> None:
        self.path = out / RESULTS
        self.results: dict[str, Any] = {"format": FORMAT, "settings": asdict(settings), "units": {}}
        if self.path.exists():
            try:
                saved = json.loads(self.path.read_text())
            except ValueError as error:
                raise UserError(f"{self.path} is unreadable ({error}); move it away to start again") from None
            if saved.get("settings") != asdict(settings):
                raise UserError(f"{self.path} holds a sweep with other settings; choose another output folder")
            self.results = saved

    def unit(self, k: int, seed: int) -> dict[str, Any]:
        return self.results["units"].setdefault(f"k={k} seed={seed}", {"k": k, "seed": seed, "arms": {},
                                                                          "generators": {}})

    def save(self) -> None:
        """The results and the report as they stand (a stopped sweep leaves a report of what it measured)."""
        write_json(self.path, self.results)
        write_text(self.path.parent / REPORT, amplify_markdown(self.results, self.path.parent))


def run_amplify(out: Path, settings: AmplifySettings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run (or resume) the sweep into `out`; returns the results (also out/amplify.json, and out/amplify.md)."""
    train_set, test_set = load_dataset("mnist", "train"), load_dataset("mnist", "test")
    test_images, test_labels = test_set.images, test_set.labels
    if settings.test_count:
        pick = np.random.default_rng(0).choice(len(test_images), settings.test_count, replace=False)
        test_images, test_labels = test_images[pick], test_labels[pick]
    sweep = Sweep(out, settings)
    names = arm_names(settings)
    total, done = len(settings.ks) * len(settings.seeds) * len(names), 0
    shipped = load_generator(default_model_dir()) if settings.upper_bound else None
    started = time.monotonic()
    for k in settings.ks:
        for seed in settings.seeds:
            unit = sweep.unit(k, seed)
            chosen = subset_indices(train_set.labels, k, seed)
            unit["subset_sha256"] = hashlib.sha256(chosen.astype("<i8").tobytes()).hexdigest()
            real_images, real_labels = train_set.images[chosen], train_set.labels[chosen]
            generators: dict[str, Any] = {}
            for name in names:
                if name in unit["arms"]:
                    done += 1
                    continue
                images, labels, shift, affine = real_images, real_labels, name != "real, no shift", False
                if name == "real + affine":
                    affine = True
                elif name == UPPER_BOUND:
                    extra = generated_set(*shipped[:2], 10 * k, seed + 1)
                    images, labels = np.concatenate([real_images, extra[0]]), np.concatenate([real_labels, extra[1]])
                elif name not in REAL_ARMS:
                    augment = name[name.rindex("(") + 1:-1]
                    if augment not in generators:
                        folder = out / "generators" / f"k{k}-seed{seed}-{augment}"
                        generator, config, facts = train_small_generator(real_images, real_labels, settings, seed,
                                                                         augment, folder)
                        if seed == min(settings.seeds):  # what a small-data generator draws, for the report
                            make_folder(out / PICTURES)
                            shutil.copyfile(folder / "run" / "samples" / "final.png",
                                            out / PICTURES / f"k{k}-{augment}.png")
                        probe, probe_labels = generated_set(generator, config, 100, seed + 2)
                        reference, _ = load_reference("mnist")
                        facts["conditional_accuracy"] = round(accuracy(reference, probe, probe_labels), 4)
                        unit["generators"][augment] = facts
                        generators[augment] = (generator, config)
                    times = 1 if name.startswith("real + 1x") else 10
                    extra = generated_set(*generators[augment], times * k, seed + 1)
                    if name.startswith("generated only"):
                        images, labels = extra
                    else:
                        images = np.concatenate([real_images, extra[0]])
                        labels = np.concatenate([real_labels, extra[1]])
                model = train_classifier(images, labels, settings, seed, shift=shift, affine=affine)
                unit["arms"][name] = round(accuracy(model, test_images, test_labels), 4)
                sweep.save()
                done += 1
                log(f"amplify k={k} seed {seed}: {name}: test accuracy {unit['arms'][name]:.4f} "
                    f"({done}/{total} arms, {time.monotonic() - started:.0f} s)")
    sweep.save()
    return sweep.results


def rerender(out: Path) -> Path:
    """Write OUT/amplify.md again from OUT/amplify.json (after a change of the report's text); trains nothing."""
    path = out / RESULTS
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: no sweep to report ({error})") from None
    return write_text(out / REPORT, amplify_markdown(results, out))


def summary(results: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Per k: per arm the seeds' accuracies with mean and std; Welch's test of each real + generated arm against
    real + affine; and the generators' conditional accuracy."""
    table: dict[int, dict[str, Any]] = {}
    for unit in results["units"].values():
        row = table.setdefault(unit["k"], {"arms": {}, "generators": {}})
        for name, value in unit["arms"].items():
            row["arms"].setdefault(name, []).append(value)
        for augment, facts in unit["generators"].items():
            row["generators"].setdefault(augment, []).append(facts["conditional_accuracy"])
    for row in table.values():
        baseline = row["arms"].get("real + affine", [])
        row["tests"] = {name: welch_t_test(values, baseline) for name, values in row["arms"].items()
                        if name.startswith("real + ") and name != "real + affine" and len(values) > 1
                        and len(baseline) > 1}
    return dict(sorted(table.items()))


def amplify_markdown(results: dict[str, Any], out: Path | None = None) -> str:
    """The report: a table per k (pictures of the first seed's generators where OUT/amplification has them)."""
    settings = results["settings"]
    tested_on = (f"{settings['test_count']:,} test digits" if settings["test_count"]
                 else "the 10,000 test digits")
    names = arm_names(AmplifySettings(**settings))
    units = len(settings["ks"]) * len(settings["seeds"])
    complete = sum(len(unit["arms"]) == len(names) for unit in results["units"].values())
    lines = ["# Data amplification: do generated digits help a classifier with few real ones?", "",
             f"MNIST; k labelled training images per class; {len(settings['seeds'])} seeds (each redraws the subset, "
             f"the generator and the classifier); every classifier {settings['classifier_steps']:,} optimizer steps "
             f"of batch {settings['batch_size']} by the reference recipe, tested on {tested_on}; generators: "
             f"`{settings['preset']}`, {settings['generator_steps']:,} steps on the subset alone, D's input "
             "augmented as named. p: Welch's two-sided t-test against real + affine.", ""]
    if complete < units:
        lines += [f"**Not finished**: {complete} of {units} (k, seed) units complete; the figures below are of the "
                  "seeds measured so far (`make amplify` resumes the sweep where it stopped).", ""]
    for k, row in summary(results).items():
        lines += [f"## k = {k} per class ({10 * k:,} labelled images)", "",
                  "| arm | test accuracy, mean ± std | seeds | vs real + affine | p |", "|---|---|---|---|---|"]
        affine_mean = mean_std(row["arms"]["real + affine"])[0] if "real + affine" in row["arms"] else None
        for name, values in row["arms"].items():
            mean, std = mean_std(values)
            difference = ("" if affine_mean is None or name == "real + affine"
                          else f"{100 * (mean - affine_mean):+.2f} points")
            p = f"{row['tests'][name][2]:.3f}" if name in row["tests"] else ""
            lines.append(f"| {name} | {mean:.4f} ± {std:.4f} | {len(values)} | {difference} | {p} |")
        if row["generators"]:
            lines += ["", "Generators' conditional accuracy (the reference classifier reads 1,000 of their digits): "
                      + ", ".join(f"{augment} {mean_std(v)[0]:.3f} ± {mean_std(v)[1]:.3f}"
                                  for augment, v in row["generators"].items()) + "."]
            pictures = [(augment, f"{PICTURES}/k{k}-{augment}.png") for augment in row["generators"]]
            pictures = [(augment, link) for augment, link in pictures if out is not None and (out / link).exists()]
            if pictures:
                lines += ["", f"What seed {min(settings['seeds'])}'s generators draw, each trained on its {10 * k:,} "
                              "images alone (a row per class):", ""]
                lines += [f"- D's input {augment}: ![k = {k}, {augment}]({link})" for augment, link in pictures]
        lines.append("")
    return "\n".join(lines)
