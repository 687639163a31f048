"""`digitgan presets`: the shipped presets, described by their own TOML files."""

from __future__ import annotations

import click

from digitgan.config import preset_descriptions

DEFAULT_PRESET = "fast"


def preset_help() -> str:
    """The --preset help: every shipped preset by name (read from digitgan/presets/)."""
    names = [f"{name} (default)" if name == DEFAULT_PRESET else name for name in preset_descriptions()]
    return f"{', '.join(names)} (`digitgan presets` describes them), or a .toml file"


def markdown_table() -> str:
    """The README's preset table, generated from the TOML descriptions."""
    rows = ["| preset | what it is |", "|---|---|"]
    order = [DEFAULT_PRESET] + [name for name in preset_descriptions() if name != DEFAULT_PRESET]
    descriptions = preset_descriptions()
    rows += [f"| `{name}` | {descriptions[name]} |" for name in order]
    return "\n".join(rows)


@click.command()
@click.option("--markdown", is_flag=True, help="as the Markdown table README.md carries")
def presets(markdown: bool) -> int:
    """List the shipped presets and what each one is (from its TOML file's description)."""
    if markdown:
        print(markdown_table())
        return 0
    descriptions = preset_descriptions()
    width = max(map(len, descriptions))
    for name, text in descriptions.items():
        print(f"{name:<{width}}  {text}")
    return 0
