"""`digitgan site`: the offline page — one HTML file (or a folder) that draws digits in any browser, opened from
disk or from any static host, with no server and no network.

A browser refuses `fetch()` of file:// URLs and a module loaded by `import()` from a file, so everything the page
needs is inside it: onnxruntime-web's bundle build (its JS glue included) as an inline module whose exports become
`window.ort`, its wasm binary as gzip in base64 (unpacked by the page with DecompressionStream), the generator's
ONNX export (float32 weights rounded to 16 mantissa bits, gzip, base64), the hand encoder's (int8 weights, gzip,
base64; when the model folder has one), the model's description and evaluation, and the style directions.
onnxruntime-web comes from npm (`make setup` installs it into node_modules/; nothing is fetched when the page runs).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from digitgan.data import class_names_of
from digitgan.drawing.style import PROPERTIES, check_directions, fit_directions
from digitgan.errors import UserError
from digitgan.files import atomic_write, write_text
from digitgan.modelfolder.encoder import optional_encoder
from digitgan.modelfolder.evaluation import evaluation_summary, headline_metrics, read_report
from digitgan.modelfolder.folder import default_model_dir, find_model_dir, load_generator
from digitgan.modelfolder.onnx_export import encoder_metadata, encoder_onnx_bytes, metadata, onnx_bytes
from digitgan.pages.page import asset, inline_script, page_html

RUNTIME_VARIABLE = "DIGITGAN_ONNXRUNTIME_WEB"  # a folder holding onnxruntime-web's dist/ files, if not node_modules
BUNDLE, WASM = "ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"
MAX_SINGLE_FILE = 8 * 2**20
STYLE_LABELS = {"slant": "Slant (leans right)", "thickness": "Stroke thickness", "width": "Width"}
STYLE_RANGE = 3.0      # a slider moves z up to this far along its direction (z has unit variance per dimension)
STYLE_CHECK_STEP = 1.0  # the step at which a direction must raise its property in at least 90% of pairs
# Weights rounded to 16 of float32's 23 mantissa bits: the page's pictures stay within 1e-3 of PyTorch's (float16's
# 10 bits do not: benchmarks/RESULTS.md, "page"), and the gzip of the model is about a quarter smaller.
MANTISSA_BITS = 16


def runtime_dir() -> Path:
    """onnxruntime-web's dist/ folder: $DIGITGAN_ONNXRUNTIME_WEB, else node_modules/ of the checkout digitgan runs
    from; UserError (one line) when its files are not there."""
    configured = os.environ.get(RUNTIME_VARIABLE)
    folder = Path(configured) if configured else (
        Path(__file__).resolve().parents[2] / "node_modules" / "onnxruntime-web" / "dist")
    missing = [name for name in (BUNDLE, WASM) if not (folder / name).is_file()]
    if missing:
        raise UserError(f"onnxruntime-web's {' and '.join(missing)} not found in {folder}: `make setup` installs it "
                        f"from npm (or set {RUNTIME_VARIABLE} to a folder holding its dist/ files)")
    return folder


def bundle_as_script(text: str) -> str:
    """onnxruntime-web's bundle (an ES module) as code for an inline module script: its closing `export{...}`
    becomes `window.ort = {...}`, so the page's other scripts reach it without an import."""
    match = re.search(r"export\s*\{([^}]*)\}\s*;?\s*(//[^\n]*)?\s*$", text)
    if match is None:
        raise UserError("onnxruntime-web's bundle does not end in an export list; this digitgan expects 1.30")
    names = []
    for item in match.group(1).split(","):
        local, _, exported = item.strip().partition(" as ")
        names.append(f"{json.dumps(exported or local)}: {local}")
    return text[:match.start()] + "window.ort = {" + ", ".join(names) + "};\n"


def page_data(model_dir: Path, runtime: Path, style_samples: int = 10000) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the data the page carries, a summary for the user): model and wasm (each gzip in base64), info (what the
    page shows), styles (directions with their measured check), encoder (the hand encoder, gzip in base64; absent
    when the model folder has none)."""
    generator, config, raw = load_generator(model_dir, for_sampling=False)
    if not config.model.conditional:
        raise UserError(f"{model_dir}: the offline page writes chosen digits, and this model is unconditional")
    report = read_report(model_dir)
    properties = metadata(config, report, class_names_of(config.train.dataset, config.model.num_classes), 17)
    model = onnx_bytes(generator, config, properties, mantissa_bits=MANTISSA_BITS)
    sampler = load_generator(model_dir)[0]
    fitted = fit_directions(sampler, config, samples=style_samples)
    rises = check_directions(sampler, config, fitted.directions, STYLE_CHECK_STEP)
    styles = {name: {"label": STYLE_LABELS[name], "direction": [round(float(v), 6) for v in fitted.directions[name]],
                     "min": -STYLE_RANGE, "max": STYLE_RANGE, "step": 0.25, "fit_r": round(fitted.correlation[name], 3),
                     "rises_at_step_1": round(rises[name], 3)} for name in PROPERTIES}
    wasm = gzip.compress((runtime / WASM).read_bytes(), compresslevel=9, mtime=0)
    info = {"preset": config.preset, "step": raw.get("step"), "images_seen": raw.get("images_seen"),
            "conditional": True, "z_dim": config.model.z_dim, "noise": config.model.noise,
            "classes": config.model.num_classes, "evaluation": evaluation_summary(report),
            "headline_metrics": headline_metrics()}
    packed = gzip.compress(model, compresslevel=9, mtime=0)
    data = {"model": base64.b64encode(packed).decode(), "wasm": base64.b64encode(wasm).decode(), "info": info,
            "styles": styles}
    summary = {"model_bytes": len(model), "model_gzip_bytes": len(packed), "wasm_gzip_bytes": len(wasm),
               "styles": styles}
    encoder = optional_encoder(model_dir)
    if encoder is not None:
        # int8 weights: a quarter of float32's bytes, which is what lets it fit beside the generator in 8 MiB
        packed_encoder = gzip.compress(encoder_onnx_bytes(encoder, encoder_metadata(config), int8_weights=True),
                                       compresslevel=9, mtime=0)
        data["encoder"] = base64.b64encode(packed_encoder).decode()
        summary["encoder_gzip_bytes"] = len(packed_encoder)
    return data, summary


def page_scripts(runtime: Path, data_script: str) -> list[str]:
    """The offline page's scripts in order: the data, onnxruntime-web, the painter, the page."""
    return [data_script, inline_script(bundle_as_script((runtime / BUNDLE).read_text())),
            inline_script(asset("offline.js")), inline_script(asset("page.js"))]


def data_code(data: dict[str, Any]) -> str:
    return "window.digitganData = " + json.dumps(data, separators=(",", ":")) + ";"


def build_site(target: Path | None, out: Path | None = None, single_file: Path | None = None) -> dict[str, Any]:
    """Write the offline page for the model of a run or model folder (default: the shipped one): `single_file` (one
    HTML file, at most 8 MiB) and/or `out` (a folder: index.html and its data as a classic script beside it, plus
    the ONNX model). Returns what was written, with sizes."""
    if out is None and single_file is None:
        raise UserError("say where the page goes: a folder, a single file, or both")
    runtime = runtime_dir()
    model_dir = find_model_dir(target) if target is not None else default_model_dir()
    with torch.no_grad():
        data, summary = page_data(model_dir, runtime)
    written: dict[str, Any] = {"model_dir": str(model_dir), **summary}
    if single_file is not None:
        if single_file.suffix.lower() not in (".html", ".htm"):
            raise UserError(f"{single_file}: the single file must end in .html")
        html = page_html(page_scripts(runtime, inline_script(data_code(data), module=False)))
        if len(html.encode()) > MAX_SINGLE_FILE:
            raise UserError(f"the page would be {len(html.encode()) / 2**20:.1f} MiB, more than the 8 MiB a file "
                            "one can e-mail may have")
        write_text(single_file, html)
        written["single_file"] = {"path": str(single_file), "bytes": single_file.stat().st_size}
    if out is not None:
        # a classic <script src> loads from file:// (a fetch or a module import would not)
        write_text(out / "digitgan-data.js", data_code(data))
        html = page_html(page_scripts(runtime, '<script src="digitgan-data.js"></script>'))
        write_text(out / "index.html", html)
        atomic_write(out / "generator.onnx", gzip.decompress(base64.b64decode(data["model"])))
        written["folder"] = {"path": str(out), "bytes": int(sum(p.stat().st_size for p in out.iterdir()))}
    return written


def rounded_parity(model_dir: Path | None = None, mantissa_bits: int = MANTISSA_BITS, count: int = 256) -> float:
    """Largest |ONNX with rounded weights - PyTorch| over `count` random (noise, class) pairs, in [-1, 1] units."""
    import onnxruntime

    from digitgan.models import one_hot, sample_noise

    generator, config, _ = load_generator(model_dir or default_model_dir(), for_sampling=False)
    model = onnx_bytes(generator, config, {}, mantissa_bits=mantissa_bits)
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    rng = torch.Generator().manual_seed(0)
    z = sample_noise(count, config.model, rng)
    labels = one_hot(torch.randint(0, config.model.num_classes, (count,), generator=rng), config.model.num_classes)
    with torch.no_grad():
        expected = generator(z, labels).numpy()
    (got,) = session.run(None, {"z": z.numpy(), "label_vector": labels.numpy()})
    return float(np.abs(got - expected).max())
