"""The `digitgan` program (console script, `python -m digitgan`): process settings that must precede torch's
start, then the CLI. Library code that imports digitgan is left with its own settings."""

from __future__ import annotations

from collections.abc import Sequence

from digitgan.runtime import apply_openmp_defaults


def main(argv: Sequence[str] | None = None) -> int:
    apply_openmp_defaults()  # OpenMP reads its settings once, when torch loads it: before the CLI imports torch
    from digitgan.cli import main as cli_main

    return cli_main(argv)
