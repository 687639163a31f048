"""The shipped model through onnxruntime (CPU) beside PyTorch's sampling path, at batch 1 and 1024, in one process
in alternating rounds (medians): what a user gains or loses by leaving Python's PyTorch."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import Context
from digitgan.modelfolder.folder import default_model_dir, load_generator
from digitgan.modelfolder.onnx_export import export_onnx
from digitgan.models import one_hot, sample_noise


def _rate(draw, count: int, repeats: int) -> float:  # noqa: ANN001 - a callable drawing `count` images
    draw(count)  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        draw(count)
        times.append(time.perf_counter() - started)
    return count / statistics.median(times)


def onnx_rates(threads: int, rounds: int, repeats: int) -> dict:
    import onnxruntime

    generator, config, _ = load_generator(default_model_dir())
    with tempfile.TemporaryDirectory() as folder:
        path = export_onnx(None, Path(folder) / "gen.onnx")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    classes = config.model.num_classes
    inputs = {count: (sample_noise(count, config.model, torch.Generator().manual_seed(0)),
                      one_hot(torch.arange(count) % classes, classes)) for count in (1, 1024)}

    def torch_draw(count: int) -> None:
        with torch.no_grad():
            generator(*inputs[count])

    def onnx_draw(count: int) -> None:
        z, label_vector = inputs[count]
        session.run(None, {"z": z.numpy(), "label_vector": label_vector.numpy()})

    rows: dict[str, list[float]] = {}
    for _ in range(rounds):
        for count in (1, 1024):
            for name, draw in (("PyTorch (digitgan's sampling copy)", torch_draw), ("onnxruntime", onnx_draw)):
                rows.setdefault(f"{name}, batch {count}", []).append(_rate(draw, count, repeats if count > 1
                                                                            else repeats * 20))
    with torch.no_grad():
        z, label_vector = inputs[1024]
        expected = generator(z, label_vector).numpy()
    (got,) = session.run(None, {"z": z.numpy(), "label_vector": label_vector.numpy()})
    return {"threads": threads, "onnxruntime": onnxruntime.__version__,
            "max_abs_difference": float(np.abs(got - expected).max()),
            "images_per_second": {name: round(statistics.median(values), 1) for name, values in rows.items()}}


def run(context: Context) -> None:
    rounds, repeats = (1, 2) if context.smoke else (5, 10)
    context.results["onnx"] = onnx_rates(torch.get_num_threads(), rounds, repeats)
    print(f"onnx: {context.results['onnx']}", flush=True)
