"""README.md model cards for exported model folders, in the common hub style: YAML front matter (library, license,
tags, datasets, metrics with their real floors), then the training recipe, intended use and limits.

Written by the export (a run's model/ at the end of training), rewritten with the metrics when `digitgan evaluate`
has scored the run; the shipped model's card comes from the same function.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from digitgan.config import RunConfig
from digitgan.files import write_text
from digitgan.kinds import kind_of
from digitgan.modelfolder.evaluation import HEADLINE_METRICS, evaluation_summary

DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def front_matter(config: RunConfig, evaluation: dict[str, Any] | None) -> list[str]:
    dataset = config.train.dataset
    tags = ["digitgan", "pytorch", "safetensors", kind_of(config.model.kind).tag,
            "class-conditional" if config.model.conditional else "unconditional", "image-generation"]
    lines = ["---", "library_name: digitgan", "license: mit", "tags:", *[f"- {tag}" for tag in tags]]
    if dataset in DATASET_NAMES:
        lines += ["datasets:", f"- {dataset}"]
    summary = evaluation_summary(evaluation) or {}
    scores, floor = summary.get("model", {}), summary.get("real_floor", {})
    present = [metric for metric in HEADLINE_METRICS if metric.key in scores]
    if present:
        lines += ["model-index:", f"- name: {_yaml_string('digitgan ' + config.preset)}", "  results:",
                  "  - task:", "      type: image-generation", "      name: " + _yaml_string(
                      "class-conditional image generation" if config.model.conditional else "image generation"),
                  "    dataset:", f"      name: {DATASET_NAMES.get(dataset, dataset)}", f"      type: {dataset}",
                  "    metrics:"]
        for key, name, _ in present:
            real = floor.get(key)
            label = name + (f" (real data: {real:.4g})" if real is not None else "")
            lines += [f"    - type: {key}", f"      value: {scores[key]:.4g}", f"      name: {_yaml_string(label)}"]
    return [*lines, "---"]


def _steps_text(steps: list[int]) -> str:
    """[70000, 80000, 90000] -> "70,000, 80,000 and 90,000"."""
    named = [f"{step:,}" for step in steps]
    return ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else "".join(named)


def card_text(config: RunConfig, extra: dict[str, Any], evaluation: dict[str, Any] | None) -> str:
    m, t = config.model, config.train
    kind = kind_of(m.kind)
    noise = "standard normal" if m.noise == "normal" else "uniform in [-1, 1)"
    conditional = m.conditional
    lines = [*front_matter(config, evaluation), "", f"# digitgan `{config.preset}` {kind.title}", "",
             f"A {'class-conditional ' if conditional else ''}generator of 28×28 grayscale "
             f"{DATASET_NAMES.get(t.dataset, t.dataset)} images, trained with digitgan. Files: `config.json` (the "
             f"configuration), `generator.safetensors` (the weights: {kind.exported}).", "",
             "## Use", "", "```bash",
             f"digitgan sample {'MODEL_DIR'} --digit {'7' if conditional else 'all'} --out samples.png",
             "digitgan export-model MODEL_DIR --format onnx --out generator.onnx   # onnxruntime, no PyTorch",
             "```", "", "```python", "from pathlib import Path", "import torch",
             "from digitgan.modelfolder.folder import load_generator", "from digitgan.models import one_hot",
             "from digitgan.drawing.sampling import generate", "",
             'generator, config, _ = load_generator(Path("MODEL_DIR"))',
             f"images = generate(generator, config, one_hot(torch.tensor([2, 0, 2, 6]), {m.num_classes}), seed=3)"
             "  # (4, 28, 28) uint8", "```", "",
             f"Input: noise z of {m.z_dim} dimensions ({noise})"
             + (f" and a label vector of {m.num_classes} classes (one-hot, or a soft mix between classes)"
                if conditional else "") + "; output (N, 1, 28, 28) in [-1, 1].", "",
             "## Training recipe", "",
             f"Preset `{config.preset}`, seed {t.seed}, batch {t.batch_size}, loss `{t.loss}`, Adam "
             f"{t.lr_g:g}/{t.lr_d:g} (β1 {t.beta1:g}), EMA decay {t.ema_decay:g}"
             + (f"; {extra['step']:,} steps, {extra['images_seen']:,} images seen" if "step" in extra else "")
             + (f"; the EMA averaged over the checkpoints at steps {_steps_text(extra['averaged_steps'])}"
                if len(extra.get("averaged_steps", [])) > 1 else "")
             + ". `config.json` holds every setting; `digitgan train --preset ... --seed ...` with the same settings "
             "on the same machine gives the same weights.", "", "## Evaluation", ""]
    summary = evaluation_summary(evaluation) or {}
    scores, floor = summary.get("model", {}), summary.get("real_floor", {})
    rows = [(name, scores[key], floor.get(key)) for key, name, _ in HEADLINE_METRICS if key in scores]
    if rows:
        lines += ["Scored by digitgan's own reference classifier (not Inception) against the real test set, beside "
                  "the same score of real images (the real floor):", "", "| metric | model | real data |",
                  "|---|---|---|"]
        lines += [f"| {name} | {value:.4g} | {'—' if real is None else f'{real:.4g}'} |" for name, value, real in rows]
    else:
        lines += ["Not evaluated yet: `digitgan evaluate RUN` scores it and rewrites this card with the figures."]
    lines += ["", "## Intended use and limits", "",
              "Research, teaching and demos: drawing digits on request, interpolating between classes, synthetic "
              "training data to be checked against real data. It draws only what its training set holds "
              f"({DATASET_NAMES.get(t.dataset, t.dataset)}-style, centred, 28×28); it covers part of the real "
              "variety (see recall and coverage against the real floor), and a few samples are broken (see the "
              "broken share). Do not use its images as real handwriting evidence or to judge people's writing.", ""]
    return "\n".join(lines)


def write_model_card(model_dir: Path, config: RunConfig, extra: dict[str, Any] | None = None,
                     evaluation: dict[str, Any] | None = None) -> Path:
    """model_dir/README.md from the config, what the export recorded (`extra`: step, images seen) and, when the
    model has been scored, the evaluation report (report.json's contents)."""
    return write_text(model_dir / "README.md", card_text(config, extra or {}, evaluation))
