"""`digitgan site`: the offline page, one file that draws digits in any browser with no server and no network."""

from __future__ import annotations

from pathlib import Path

import click

from digitgan.cli.options import OutputFile, run_option, threads_option


@click.command()
@run_option()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="a folder for the page: index.html, its data script and the ONNX model")
@click.option("--single-file", type=OutputFile(".html", ".htm"),
              help="one HTML file holding everything (at most 8 MiB: it can be e-mailed)")
@threads_option()
def site(run: str | None, out: Path | None, single_file: Path | None, threads: int | None) -> int:
    """Write the offline page: write a number in several hands or in your own (a drawing canvas; needs the model
    folder's hand encoder), morph, the clock, style sliders and the model's evaluation, all drawn in the browser
    (onnxruntime-web inside the page), from a file or any static host."""
    from digitgan.errors import UserError
    from digitgan.pages.site import build_site
    from digitgan.runtime import set_threads

    if out is None and single_file is None:
        raise UserError("give --out FOLDER, --single-file PAGE.html, or both")
    set_threads(threads)
    written = build_site(Path(run) if run else None, out, single_file)
    for key in ("single_file", "folder"):
        if key in written:
            print(f"{written[key]['path']}: {written[key]['bytes'] / 2**20:.2f} MiB")
    checks = ", ".join(f"{name} {s['rises_at_step_1']:.0%}" for name, s in written["styles"].items())
    print(f"model {written['model_gzip_bytes'] / 2**20:.2f} MiB gzipped; style directions rise their property "
          f"in {checks} of 200 pairs; open the page in any browser, no server needed")
    if "encoder_gzip_bytes" in written:
        print(f"hand encoder {written['encoder_gzip_bytes'] / 2**20:.2f} MiB gzipped: the page finds your hand")
    else:
        print("this model folder has no hand encoder, so the page's canvas is off: `digitgan hand-encoder --run "
              "MODEL` trains one")
    return 0
