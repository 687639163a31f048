"""`digitgan export-model`: a trained generator as a portable file (ONNX), callable without Python or PyTorch."""

from __future__ import annotations

from pathlib import Path

import click

from digitgan.cli.options import OutputFile


@click.command("export-model")
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--format", "file_format", type=click.Choice(["onnx"]), default="onnx", show_default=True,
              help="the file format")
@click.option("--out", type=OutputFile(".onnx"), required=True, help="output file")
@click.option("--opset", type=click.IntRange(13, 21), default=17, show_default=True, help="ONNX opset version")
def export_model(run: Path | None, file_format: str, out: Path, opset: int) -> int:
    """Write RUN's generator (a run or model directory; default: the model shipped with digitgan) as ONNX.

    Inputs z (N, z_dim) and label_vector (N, classes), output images (N, 1, 28, 28) in [-1, 1]; z_dim, the noise,
    the class names and the evaluation summary travel inside the file as metadata. When the model folder has a hand
    encoder, it is written beside OUT as OUT's name + .hand-encoder.onnx (images (N, 1, 28, 28) in [-1, 1] and
    label_vector -> z)."""
    from digitgan.modelfolder.onnx_export import encoder_path, export_encoder_onnx, export_onnx

    print(export_onnx(run, out, opset))
    encoder = export_encoder_onnx(run, encoder_path(out), opset)
    if encoder is not None:
        print(encoder)
    return 0
