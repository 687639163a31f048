"""Option types and options shared by the verbs. Ranges and choices live here, in the types, so that a bad flag
is reported by click naming the flag; the library functions behind the verbs speak of values only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from digitgan.errors import UserError

SEED_MAX = 2**63 - 1


class Parsed(click.ParamType):
    """A value read by a library parser; the parser's UserError becomes click's 'Invalid value for --flag'."""

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except UserError as error:
            self.fail(str(error), param, ctx)


class OutputFile(click.ParamType):
    """A file to write: one of the given suffixes, not an existing directory."""

    name = "file"

    def __init__(self, *suffixes: str) -> None:
        self.suffixes = suffixes

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if path.is_dir():
            self.fail(f"{path} is a directory", param, ctx)
        if self.suffixes and path.suffix.lower() not in self.suffixes:
            self.fail(f"'{path}' must end in {' or '.join(self.suffixes)}", param, ctx)
        return path


def digit_or_all(text: str) -> int | None:
    """'all' -> None, '7' -> 7 (checked against the model's classes by the library)."""
    if text == "all":
        return None
    if not text.isdigit():
        raise UserError(f"'{text}' is not a digit or 'all'")
    return int(text)


def seed_option(help_text: str = "seed for the noise (default 0)") -> Callable:
    return click.option("--seed", type=click.IntRange(0, SEED_MAX), default=0, show_default=False, help=help_text)


def threads_option() -> Callable:
    return click.option("--threads", type=click.IntRange(1, 1024), help="CPU threads (default: all this process may "
                                                                        "use)")


def device_option() -> Callable:
    return click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)


def run_option() -> Callable:
    return click.option("--run", "run", metavar="RUN", help="run or model directory (default: the model shipped "
                                                             "with digitgan)")


def resolve_model(run: str | None) -> Path:
    """A run or model directory, or the default model shipped inside the package."""
    if run is not None:
        return Path(run)
    from digitgan.modelfolder.folder import default_model_dir

    return default_model_dir()


def load_model(run: str | None, threads: int | None, device: str = "cpu") -> tuple[Any, Any, dict]:
    """Set the process up (threads, allocator) and load the generator, its config and raw config.json."""
    from digitgan.modelfolder.folder import load_generator
    from digitgan.runtime import set_threads

    set_threads(threads)
    return load_generator(resolve_model(run), device=device)
