"""`digitgan serve`: the local web page and HTTP API."""

from __future__ import annotations

from pathlib import Path

import click

from digitgan.cli.options import run_option, threads_option


@click.command()
@run_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to bind (127.0.0.1: this machine "
                                                                      "only)")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@threads_option()
def serve(run: str | None, host: str, port: int, threads: int | None) -> int:
    """A local web page and HTTP API (OpenAPI schema at /openapi.json)."""
    from digitgan.pages.server import serve as serve_app
    from digitgan.runtime import set_threads

    set_threads(threads)
    serve_app(Path(run) if run else None, host, port,
              announce=lambda url: print(f"serving on {url} (Ctrl-C stops)", flush=True))
    return 0
