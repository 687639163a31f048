"""The discriminator as a feature extractor, measured: a linear probe on D's penultimate features with k labels per
class, beside the same probe on raw pixels and on a randomly initialised D of the same shape; accuracy on the real
test set, mean ± std over seeds (each seed redraws the labelled subset).

The D must not have seen more labels than the probe: the unconditional presets' D (dcgan, simple-gan), trained on
all 60,000 images without labels by `make reproduce`, is the source's claim. The probe: multinomial logistic
regression on standardised features (L-BFGS, a fixed L2 weight), the same for every extractor.

usage: python -m benchmarks.feature_probe [--runs runs/reproduce] [--tag "10 minutes of 2-core CPU"]
                                         [--ks 10 100 1000] [--seeds 0 1 2] [--quick] [--fresh]
Writes benchmarks/features.json and benchmarks/FEATURES.md. Rows measured by earlier invocations with the same
protocol (ks, seeds, test images) stay: a D trained another way (its --tag says how) gets rows of its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common import HERE
from digitgan.config import RunConfig
from digitgan.data import load_dataset
from digitgan.errors import UserError
from digitgan.files import write_json, write_text
from digitgan.images import from_uint8
from digitgan.models import build_partner
from digitgan.runtime import set_threads
from digitgan.training.checkpoints import load_resumable

SOURCES = ("dcgan", "simple-gan")
L2 = 1e-3


def trained_discriminator(run: Path) -> tuple[torch.nn.Module, RunConfig, dict[str, Any]]:
    """(D in eval mode, its config, {step, images_seen}) from a run's newest checkpoint."""
    _, saved = load_resumable(run)
    config = RunConfig.from_dict(saved["config"])
    if config.model.d_cond != "none":
        raise UserError(f"{run}: its D was trained with labels (d_cond = {config.model.d_cond}); the probe needs an "
                        "unconditional D")
    discriminator = build_partner(config.model)
    discriminator.load_state_dict(saved["partner"])
    return discriminator.eval(), config, {"step": saved["step"], "images_seen": saved["images_seen"]}


@torch.no_grad()
def features(extractor: torch.nn.Module | None, images: np.ndarray, classes: int, batch: int = 500) -> torch.Tensor:
    """(N, F) float32: D's penultimate features (`embed`), or the raw pixels in [-1, 1] when extractor is None."""
    x = from_uint8(torch.from_numpy(images))
    if extractor is None:
        return x.flatten(1)
    blank = torch.zeros(batch, classes)
    return torch.cat([extractor.embed(x[i:i + batch], blank[:len(x[i:i + batch])]) for i in range(0, len(x), batch)])


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                 classes: int, iterations: int = 200) -> float:
    """Test accuracy of multinomial logistic regression fitted on (train_x, train_y), features standardised by the
    training subset's statistics."""
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    a, b = (train_x - mean) / std, (test_x - mean) / std
    torch.manual_seed(0)
    layer = torch.nn.Linear(a.shape[1], classes)
    optimizer = torch.optim.LBFGS(layer.parameters(), lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(a), train_y) + L2 * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return float((layer(b).argmax(1) == test_y).float().mean())


def subset(labels: np.ndarray, k: int, seed: int, classes: int) -> np.ndarray:
    """k indices of each class, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), k, replace=False) for c in range(classes)])


def run_probe(runs: Path, ks: list[int], seeds: list[int], quick: bool, tag: str = "",
              measured: dict[str, Any] | None = None) -> dict[str, Any]:
    """Probe raw pixels (unless `measured` has them) and every unconditional D under `runs`, trained and at random
    weights; their rows are named with `tag` (how the D was trained), beside the rows already `measured`."""
    train, test = load_dataset("mnist", "train"), load_dataset("mnist", "test")
    if quick:
        test_images, test_labels = test.images[:500], test.labels[:500]
    else:
        test_images, test_labels = test.images, test.labels
    classes = train.num_classes
    rows: dict[str, Any] = dict(measured or {})
    extractors: dict[str, tuple[torch.nn.Module | None, dict[str, Any]]] = {}
    if "raw pixels" not in rows:
        extractors["raw pixels"] = (None, {})
    named = f" ({tag})" if tag else ""
    for preset in SOURCES:
        if not (runs / preset).exists():
            continue
        discriminator, config, about = trained_discriminator(runs / preset)
        extractors[f"{preset} D{named}, trained without labels"] = (discriminator, {**about, "preset": preset,
                                                                                    "tag": tag})
        torch.manual_seed(1234)
        extractors[f"{preset} D{named}, random weights"] = (build_partner(config.model).eval(), {"preset": preset,
                                                                                                 "tag": tag})
    if not any(about for _, about in extractors.values()):
        raise UserError(f"no unconditional run under {runs} (train dcgan or simple-gan with `make reproduce`)")
    for name, (extractor, about) in extractors.items():
        started = time.monotonic()
        test_features = features(extractor, test_images, classes)
        per_k = {}
        for k in ks:
            scores = []
            for seed in seeds:
                chosen = subset(train.labels, k, seed, classes)
                train_features = features(extractor, train.images[chosen], classes)
                scores.append(linear_probe(train_features, torch.from_numpy(train.labels[chosen]), test_features,
                                           torch.from_numpy(test_labels), classes, 20 if quick else 200))
            per_k[str(k)] = {"mean": statistics.mean(scores), "std": statistics.pstdev(scores), "runs": scores}
        rows[name] = {**about, "width": int(test_features.shape[1]), "accuracy": per_k,
                      "seconds": round(time.monotonic() - started, 1)}
        print(f"feature probe {name}: " + ", ".join(f"k={k} {v['mean']:.4f}" for k, v in per_k.items()), flush=True)
    missing = [preset for preset in SOURCES if not any(row.get("preset") == preset for row in rows.values())]
    return {"ks": ks, "seeds": seeds, "test_images": int(len(test_images)), "l2": L2, "extractors": rows,
            "missing": missing}


def render(results: dict[str, Any]) -> str:
    ks = results["ks"]
    lines = ["# The discriminator as a feature extractor", "",
             "The sources say a GAN's discriminator \"can be used as a feature extractor\". Measured here: a linear "
             "probe (multinomial logistic regression on standardised features, L-BFGS, L2 weight "
             f"{results['l2']:g}) with k labelled training images per class, on the penultimate features of the "
             "unconditional presets' D (trained by `make reproduce` on all 60,000 images, no labels), beside the same "
             "probe on raw pixels and on a D of the same shape with random weights. Accuracy on "
             f"{results['test_images']:,} real test images, mean ± std over {len(results['seeds'])} seeds (each "
             "draws its own labelled subset). Rerun: `python -m benchmarks.feature_probe`.", "",
             "| features | width | " + " | ".join(f"k = {k}" for k in ks) + " |",
             "|---|---|" + "---|" * len(ks)]
    for name, row in results["extractors"].items():
        cells = [f"{100 * row['accuracy'][str(k)]['mean']:.1f}% ± {100 * row['accuracy'][str(k)]['std']:.1f}"
                 for k in ks]
        trained = f" ({row['images_seen']:,} images seen)" if "images_seen" in row else ""
        lines.append(f"| {name}{trained} | {row['width']:,} | " + " | ".join(cells) + " |")
    if results.get("missing"):
        lines += ["", "Not in this run: " + ", ".join(f"the {preset} D" for preset in results["missing"])
                  + " (no run of it under the runs folder yet; `make reproduce` trains it, then rerun this)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=Path("runs/reproduce"))
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="500 test images, short fits: checks the code")
    parser.add_argument("--tag", default="", help="how the runs' D were trained (in their rows' names), e.g. "
                                                  "'10 minutes of 2-core CPU'")
    parser.add_argument("--fresh", action="store_true", help="drop the rows already in features.json")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    measured = {}
    saved_path = args.out / "features.json"
    if saved_path.exists() and not args.fresh:
        saved = json.loads(saved_path.read_text())
        same = {"ks": args.ks, "seeds": args.seeds, "l2": L2}
        if {key: saved.get(key) for key in same} != same or (saved.get("test_images") == 500) != args.quick:
            raise UserError(f"{saved_path} holds rows of another protocol (ks {saved.get('ks')}, seeds "
                            f"{saved.get('seeds')}, {saved.get('test_images')} test images); give those, or --fresh")
        measured = saved["extractors"]
    results = run_probe(args.runs, args.ks, args.seeds, args.quick, args.tag, measured)
    write_json(args.out / "features.json", results)
    write_text(args.out / "FEATURES.md", render(results))
    print(f"wrote {args.out / 'features.json'} and {args.out / 'FEATURES.md'}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except UserError as error:
        raise SystemExit(f"feature_probe: {error}") from None
