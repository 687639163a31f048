"""The `digitgan` command: a thin, typed shell (click) over library functions. Every verb has --help.

Exit codes: 0 done; 2 a usage error or a problem the user can fix (one line on stderr, never a traceback);
3 training diverged (NaN/Inf); 130 interrupted (Ctrl-C / SIGTERM / SIGHUP, after saving what was running).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import click

from digitgan import __version__
from digitgan.cli.amplify import amplify
from digitgan.cli.data import data
from digitgan.cli.dream import dream
from digitgan.cli.evaluate import compare, evaluate, evaluator
from digitgan.cli.explore import clock, explain, export, intensity, interpolate, write
from digitgan.cli.export_model import export_model
from digitgan.cli.mimic import hand_encoder, mimic
from digitgan.cli.presets import presets
from digitgan.cli.sample import sample
from digitgan.cli.serve import serve
from digitgan.cli.site import site
from digitgan.cli.train import train
from digitgan.errors import UserError
from digitgan.files import free_bytes, is_out_of_space
from digitgan.runtime import say_stop_line


class DigitganGroup(click.Group):
    """The root command: turns every error the user can fix into one line on stderr and an exit code."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, standalone_mode: bool = True,
             **extra: object) -> int:
        args = list(sys.argv[1:] if args is None else args)
        code = _run(lambda: super(DigitganGroup, self).main(args=args, prog_name=prog_name or "digitgan",
                                                            standalone_mode=False, obj={"argv": args}, **extra))
        if standalone_mode:
            sys.exit(code)
        return code


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _run(invoke: Callable[[], object]) -> int:
    try:
        code = invoke()
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.UsageError as error:
        where = error.ctx.command_path if error.ctx is not None else "digitgan"
        message = error.format_message()
        if isinstance(error, click.exceptions.NoArgsIsHelpError) and isinstance(error.ctx.command, click.Group):
            message = "give a command: " + ", ".join(error.ctx.command.list_commands(error.ctx))
        print(f"{where}: error: {_one_line(message)} (see `{where} --help`)", file=sys.stderr)
        return 2
    except click.ClickException as error:
        print(f"digitgan: error: {_one_line(error.format_message())}", file=sys.stderr)
        return 2
    except UserError as error:
        say_stop_line(f"digitgan: error: {_one_line(str(error))}")  # once, whichever rank of a launch meets it
        return 2
    except OSError as error:
        if not is_out_of_space(error):
            raise
        where = f" to write {error.filename}" if error.filename else ""
        free = free_bytes(error.filename) if error.filename else None
        left = "" if free is None else f" ({free / 2**20:.1f} MiB free)"
        print(f"digitgan: error: no space left on the device{where}{left}; files written before are intact",
              file=sys.stderr)
        return 2
    except (KeyboardInterrupt, click.Abort):
        print("digitgan: aborted; files already written (checkpoints, exported model) are intact", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else 0


@click.group(cls=DigitganGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="digitgan", message="%(prog)s %(version)s")
def cli() -> None:
    """Train, explore and evaluate class-conditional GANs on handwritten digits."""


for command in (data, presets, train, sample, write, interpolate, clock, mimic, intensity, explain, export,
                export_model, hand_encoder,
                dream, serve, site, evaluate, compare, evaluator, amplify):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on argv (default sys.argv[1:]); returns the exit code."""
    return cli.main(args=argv, prog_name="digitgan", standalone_mode=False)
