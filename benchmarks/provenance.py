"""Where each measurement in results.json comes from: the commit and date a bench section was measured at, and the
source paths it measures. RESULTS.md states both for every section and marks a section *stale* when any of those
paths changed after its commit (so a file stitched from several runs stays honest without a full rerun).

A section's sources are paths of today's tree (files or folders). A file moved after the section's commit counts as
changed under its new path. Uncommitted changes count too: run `make bench` on a committed tree.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent

# What each `make bench` section measures (besides the benchmark code it runs, benchmarks/common.py and probe.py).
# the networks G and D are built from (not every file of models/: the hand encoder, say, is measured by "mimic")
_NETWORKS = tuple(f"digitgan/models/{name}.py" for name in ("__init__", "generator", "discriminator", "conditioning",
                                                             "thin_conv", "inference"))
_TRAINING = (*_NETWORKS, "digitgan/training", "digitgan/presets/fast.toml", "digitgan/runtime.py")
_SHIPPED = ("digitgan/modelfolder/pretrained/generator.safetensors", "digitgan/modelfolder/pretrained/config.json",
            "digitgan/modelfolder/folder.py", *_NETWORKS)
_EVALUATION = ("digitgan/evaluate", "digitgan/classifiers")
SOURCES: dict[str, tuple[str, ...]] = {
    "throughput": (*_TRAINING, "benchmarks/sections/throughput.py"),
    "memory": (*_TRAINING, "digitgan/data", "benchmarks/sections/throughput.py", "benchmarks/probes/rss.py"),
    "sampling": (*_SHIPPED, "digitgan/drawing/sampling.py", "benchmarks/sections/sampling.py",
                 "benchmarks/probes/sampling.py"),
    "quality": (*_TRAINING, *_EVALUATION, "digitgan/presets", "benchmarks/sections/quality.py"),
    "conditioning": (*_TRAINING, *_EVALUATION, "benchmarks/sections/quality.py"),
    "levers": (*_TRAINING, "benchmarks/sections/levers.py"),
    "levers-quality": (*_TRAINING, *_EVALUATION, "benchmarks/sections/quality.py"),
    "gpu": (*_TRAINING, *_SHIPPED, "benchmarks/sections/gpu.py"),
    "serve": (*_SHIPPED, "digitgan/pages/server.py", "digitgan/drawing/numbers.py", "digitgan/drawing/sampling.py",
              "benchmarks/sections/serve.py"),
    "load": (*_TRAINING, *_SHIPPED, "digitgan/pages/server.py", "digitgan/cli", "benchmarks/sections/load.py",
             "benchmarks/sections/serve.py", "benchmarks/probes"),
    "onnx": (*_SHIPPED, "digitgan/modelfolder/onnx_export.py", "benchmarks/sections/onnx.py"),
    "page": (*_SHIPPED, "digitgan/pages/site.py", "digitgan/pages/page.py", "digitgan/pages/assets",
             "digitgan/drawing/style.py", "digitgan/modelfolder/onnx_export.py", "package-lock.json",
             "benchmarks/sections/page.py"),
    "mimic": (*_SHIPPED, *_EVALUATION, "digitgan/modelfolder/pretrained/hand-encoder.safetensors",
              "digitgan/drawing/hand.py", "digitgan/drawing/style.py", "digitgan/modelfolder/encoder.py",
              "digitgan/models/hand_encoder.py", "tests/fixtures/drawn-digits", "benchmarks/sections/mimic.py"),
    "distribution": (*_TRAINING, *_EVALUATION, "benchmarks/sections/distribution.py"),
    "shipped": (*_SHIPPED, *_EVALUATION, "digitgan/modelfolder/pretrained/report.json",
                "benchmarks/sections/distribution.py"),
    "recipe": (*_TRAINING, *_EVALUATION, "digitgan/presets/shipped.toml", "benchmarks/sections/recipe.py",
               "benchmarks/sections/quality.py"),
    "recipe_classes": (*_TRAINING, *_EVALUATION, "digitgan/presets/shipped.toml",
                       "benchmarks/sections/recipe_classes.py", "benchmarks/sections/recipe.py",
                       "benchmarks/sections/quality.py"),
    "recipe_long": (*_TRAINING, *_EVALUATION, *_SHIPPED, "digitgan/presets/shipped.toml",
                    "benchmarks/sections/recipe_long.py", "benchmarks/sections/recipe.py",
                    "benchmarks/sections/recipe_classes.py"),
    "fast_budget": (*_TRAINING, *_EVALUATION, "benchmarks/sections/fast_budget.py", "benchmarks/sections/recipe.py",
                    "benchmarks/sections/quality.py"),
    "gpu_recipe": (*_TRAINING, *_EVALUATION, "digitgan/presets/shipped.toml", "benchmarks/sections/gpu_recipe.py",
                   "benchmarks/sections/recipe.py"),
}
COMMON = ("benchmarks/common.py", "benchmarks/probe.py")


def _git(*args: str, repository: Path = REPOSITORY) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=repository, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def head() -> str | None:
    """The commit the tree is at (None outside a git checkout)."""
    out = _git("rev-parse", "HEAD")
    return out.strip() if out else None


def record(section: str, machine: dict[str, Any]) -> dict[str, Any]:
    """What results.json keeps about a section just measured (`machine`: this run's CPU and matmul peak: sections
    of one RESULTS.md may come from different machines)."""
    return {"commit": head(), "date": time.strftime("%Y-%m-%d"), "sources": sources(section),
            "machine": {key: machine.get(key) for key in ("cpu", "threads", "matmul_peak_gflops")}}


def sources(section: str) -> list[str]:
    """The paths a section measures, each once."""
    return list(dict.fromkeys([*SOURCES[section], *COMMON]))


def changed_since(commit: str | None, paths: list[str], repository: Path = REPOSITORY) -> list[str] | None:
    """The files under `paths` that differ between `commit` and the working tree (committed or not; a file moved
    since counts under its new path); None when the commit is unknown here (no git, or a shallow clone)."""
    if not commit or _git("cat-file", "-e", f"{commit}^{{commit}}", repository=repository) is None:
        return None
    out = _git("diff", "--name-only", "--no-renames", commit, "--", *paths, repository=repository)
    untracked = _git("ls-files", "--others", "--exclude-standard", "--", *paths, repository=repository)
    if out is None or untracked is None:
        return None
    return sorted(set(out.split()) | set(untracked.split()))


def staleness(provenance: dict[str, dict[str, Any]], repository: Path = REPOSITORY) -> dict[str, list[str] | None]:
    """{section: the measured files changed since its commit ([] = fresh; None = cannot tell)}."""
    return {section: changed_since(entry.get("commit"), entry.get("sources", []), repository)
            for section, entry in provenance.items()}
