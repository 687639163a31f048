"""A generator as an ONNX file, for onnxruntime on any platform (and onnxruntime-web in a browser).

Inputs `z` (N, z_dim) float32 and `label_vector` (N, classes) float32 (one-hot, or a soft mix), N dynamic; output
`images` (N, 1, 28, 28) float32 in [-1, 1]. The file carries what a user needs to call it, as metadata_props
(strings; JSON where structured): z_dim, noise, classes, class_names, the evaluation summary beside its real
floor (evaluation.py), the opset, the digitgan version. Plain ONNX operators only (the TorchScript exporter; no
custom ops).
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from digitgan import __version__
from digitgan.config import RunConfig
from digitgan.data import class_names_of
from digitgan.files import atomic_write
from digitgan.modelfolder.evaluation import evaluation_summary, read_report
from digitgan.modelfolder.folder import default_model_dir, find_model_dir, load_generator

OPSET = 17
INPUTS, OUTPUT = ("z", "label_vector"), "images"


class _Drawing(nn.Module):
    """G(z, label_vector), with the label vector kept as an input even when G ignores it (unconditional models):
    every exported file has the same two inputs."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        images = self.generator(z, label_vector) + 0.0 * label_vector[:, :1, None, None]  # keeps the input in the graph
        # The documented range, guaranteed: onnxruntime's Tanh rounds one unit in the last place past -1 on some CPUs.
        return images.clamp(-1.0, 1.0)


def metadata(config: RunConfig, report: dict[str, Any] | None, class_names: tuple[str, ...],
             opset: int) -> dict[str, str]:
    """The file's metadata_props: everything a caller needs besides the graph (`report`: the model's evaluation
    report, whose headline figures it carries)."""
    return {"producer": f"digitgan {__version__}", "format": "digitgan-onnx-1", "opset": str(opset),
            "z_dim": str(config.model.z_dim), "noise": config.model.noise,
            "noise_range": "standard normal" if config.model.noise == "normal" else "uniform in [-1, 1)",
            "classes": str(config.model.num_classes), "class_names": json.dumps(list(class_names)),
            "conditional": json.dumps(config.model.g_cond != "none"), "preset": config.preset,
            "dataset": config.train.dataset, "output": "images (N, 1, 28, 28) float32 in [-1, 1]; 255 * (x + 1) / 2",
            "evaluation": json.dumps(evaluation_summary(report))}


def onnx_bytes(generator: nn.Module, config: RunConfig, properties: dict[str, str], opset: int = OPSET,
               mantissa_bits: int | None = None) -> bytes:
    """The ONNX model of an eval-mode generator, with `properties` as its metadata_props.

    mantissa_bits: round the weights to this many mantissa bits (round_weights; None keeps all 23)."""
    import onnx

    was_training = generator.training
    generator = generator.eval()
    example = (torch.zeros(2, config.model.z_dim), torch.zeros(2, config.model.num_classes))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation notes are not the user's business
        torch.onnx.export(_Drawing(generator).cpu(), example, buffer, dynamo=False, input_names=list(INPUTS),
                          output_names=[OUTPUT], opset_version=opset, do_constant_folding=True,
                          dynamic_axes={name: {0: "N"} for name in (*INPUTS, OUTPUT)})
    generator.train(was_training)
    model = onnx.load_from_string(buffer.getvalue())
    if mantissa_bits is not None:
        round_weights(model, mantissa_bits)
    onnx.helper.set_model_props(model, properties)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def round_weights(model: Any, mantissa_bits: int) -> None:
    """Round every float32 initializer of an onnx.ModelProto in place to `mantissa_bits` of its 23 mantissa bits
    (round half up). The file stays plain float32 for every runtime; its low bits become zeros, so it compresses
    (gzip) by about a quarter at 16 bits."""
    import numpy as np
    from onnx import TensorProto, numpy_helper

    drop = 23 - mantissa_bits
    for initializer in model.graph.initializer:
        if initializer.data_type != TensorProto.FLOAT or drop <= 0:
            continue
        bits = numpy_helper.to_array(initializer).astype(np.float32).view(np.uint32).astype(np.uint64)
        rounded = (((bits + (1 << (drop - 1))) >> drop) << drop).astype(np.uint32)
        initializer.CopyFrom(numpy_helper.from_array(rounded.view(np.float32), initializer.name))


def export_onnx(target: Path | None, out: Path, opset: int = OPSET) -> Path:
    """Write the model of a run or model directory (default: the shipped one) as ONNX to `out`; returns `out`."""
    model_dir = find_model_dir(target) if target is not None else default_model_dir()
    generator, config, _ = load_generator(model_dir, for_sampling=False)
    properties = metadata(config, read_report(model_dir),
                          class_names_of(config.train.dataset, config.model.num_classes), opset)
    return atomic_write(out, onnx_bytes(generator, config, properties, opset))
