"""A generator (and its hand encoder) as ONNX files, for onnxruntime on any platform (and onnxruntime-web in a
browser).

Inputs `z` (N, z_dim) float32 and `label_vector` (N, classes) float32 (one-hot, or a soft mix), N dynamic; output
`images` (N, 1, 28, 28) float32 in [-1, 1]. The file carries what a user needs to call it, as metadata_props
(strings; JSON where structured): z_dim, noise, classes, class_names, the evaluation summary beside its real
floor (evaluation.py), the opset, the digitgan version. Plain ONNX operators only (the TorchScript exporter; no
custom ops). The hand encoder, when the model folder has one: inputs `images` (N, 1, 28, 28) float32 in [-1, 1] and
`label_vector`, output `z` (N, z_dim).
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
from digitgan.modelfolder.encoder import optional_encoder
from digitgan.modelfolder.evaluation import evaluation_summary, read_report
from digitgan.modelfolder.folder import default_model_dir, find_model_dir, load_generator

OPSET = 17
INPUTS, OUTPUT = ("z", "label_vector"), "images"
ENCODER_INPUTS, ENCODER_OUTPUT = ("images", "label_vector"), "z"


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
            "conditional": json.dumps(config.model.conditional), "preset": config.preset,
            "dataset": config.train.dataset, "output": "images (N, 1, 28, 28) float32 in [-1, 1]; 255 * (x + 1) / 2",
            "evaluation": json.dumps(evaluation_summary(report))}


def _export(network: nn.Module, wrapper: nn.Module, example: tuple[torch.Tensor, ...], inputs: tuple[str, ...],
            output: str, opset: int) -> Any:
    """`wrapper` (which calls `network`, or is it) exported in eval mode as an onnx.ModelProto, the first axis of
    every input and the output dynamic; `network` keeps the mode it had."""
    import onnx

    was_training = network.training
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation notes are not the user's business
            torch.onnx.export(wrapper.eval().cpu(), example, buffer, dynamo=False, input_names=list(inputs),
                              output_names=[output], opset_version=opset, do_constant_folding=True,
                              dynamic_axes={name: {0: "N"} for name in (*inputs, output)})
    finally:
        network.train(was_training)
    return onnx.load_from_string(buffer.getvalue())


def _finish(model: Any, properties: dict[str, str]) -> bytes:
    import onnx

    onnx.helper.set_model_props(model, properties)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def onnx_bytes(generator: nn.Module, config: RunConfig, properties: dict[str, str], opset: int = OPSET,
               mantissa_bits: int | None = None) -> bytes:
    """The ONNX model of a generator, with `properties` as its metadata_props.

    mantissa_bits: round the weights to this many mantissa bits (round_weights; None keeps all 23)."""
    example = (torch.zeros(2, config.model.z_dim), torch.zeros(2, config.model.num_classes))
    model = _export(generator, _Drawing(generator), example, INPUTS, OUTPUT, opset)
    if mantissa_bits is not None:
        round_weights(model, mantissa_bits)
    return _finish(model, properties)


def encoder_onnx_bytes(encoder: nn.Module, properties: dict[str, str], opset: int = OPSET,
                       int8_weights: bool = False) -> bytes:
    """The ONNX model of a hand encoder (digitgan.models.hand_encoder): images (N, 1, 28, 28) in [-1, 1] and
    label_vector (N, classes) -> z (N, z_dim). int8_weights: store each weight matrix as int8 with one scale per
    output row (quantize_weights; a quarter of the bytes, for the offline page)."""
    example = (torch.zeros(2, 1, 28, 28), torch.zeros(2, encoder.classes))
    model = _export(encoder, encoder, example, ENCODER_INPUTS, ENCODER_OUTPUT, opset)
    if int8_weights:
        quantize_weights(model)
    return _finish(model, properties)


def quantize_weights(model: Any, min_elements: int = 1024) -> None:
    """Replace every float32 initializer of at least `min_elements` values (the weight matrices, not the biases) of
    an onnx.ModelProto in place by int8 values and a float32 scale per slice of its first axis (symmetric: the
    slice's largest magnitude maps to 127), multiplied back in the graph (Cast + Mul: plain operators that every
    runtime has)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    nodes = []
    for initializer in list(model.graph.initializer):
        if initializer.data_type != TensorProto.FLOAT:
            continue
        weights = numpy_helper.to_array(initializer).astype(np.float32)
        if weights.size < min_elements or weights.ndim < 2:
            continue
        largest = np.abs(weights.reshape(len(weights), -1)).max(axis=1)
        scale = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
        scale = scale.reshape((-1,) + (1,) * (weights.ndim - 1))
        codes = np.clip(np.rint(weights / scale), -127, 127).astype(np.int8)
        name = initializer.name
        model.graph.initializer.remove(initializer)
        model.graph.initializer.extend([numpy_helper.from_array(codes, f"{name}.int8"),
                                        numpy_helper.from_array(scale, f"{name}.scale")])
        nodes += [helper.make_node("Cast", [f"{name}.int8"], [f"{name}.float"], to=TensorProto.FLOAT),
                  helper.make_node("Mul", [f"{name}.float", f"{name}.scale"], [name])]
    # the dequantising nodes come first: every later node reads the weights by their old names
    existing = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes + existing)


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


def encoder_metadata(config: RunConfig) -> dict[str, str]:
    return {"producer": f"digitgan {__version__}", "format": "digitgan-hand-encoder-onnx-1",
            "z_dim": str(config.model.z_dim), "classes": str(config.model.num_classes), "preset": config.preset,
            "input": "images (N, 1, 28, 28) float32 in [-1, 1], preprocessed the MNIST way (digitgan.drawing.hand)",
            "output": "z (N, z_dim): the noise with which the generator draws that image as that class"}


def encoder_path(out: Path) -> Path:
    """The hand encoder's file beside the generator's file `out` (gen.onnx -> gen.hand-encoder.onnx)."""
    return out.with_name(f"{out.stem}.hand-encoder.onnx")


def export_onnx(target: Path | None, out: Path, opset: int = OPSET) -> Path:
    """Write the model of a run or model directory (default: the shipped one) as ONNX to `out`; returns `out`."""
    model_dir = find_model_dir(target) if target is not None else default_model_dir()
    generator, config, _ = load_generator(model_dir, for_sampling=False)
    properties = metadata(config, read_report(model_dir),
                          class_names_of(config.train.dataset, config.model.num_classes), opset)
    return atomic_write(out, onnx_bytes(generator, config, properties, opset))


def export_encoder_onnx(target: Path | None, out: Path, opset: int = OPSET) -> Path | None:
    """Write the hand encoder of a run or model directory as ONNX to `out` (float32 weights, as trained); None, and
    nothing written, when the folder has no encoder."""
    model_dir = find_model_dir(target) if target is not None else default_model_dir()
    encoder = optional_encoder(model_dir)
    if encoder is None:
        return None
    _, config, _ = load_generator(model_dir, for_sampling=False)
    return atomic_write(out, encoder_onnx_bytes(encoder, encoder_metadata(config), opset))
