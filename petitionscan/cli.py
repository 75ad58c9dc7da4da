"""The ``petitionscan`` command line: parse options, call one library function, print.

All user-facing errors arrive here as :class:`PetitionscanError` and leave as
one line on stderr and the error's exit code; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from petitionscan import __version__
from petitionscan.errors import Interrupted, PetitionscanError

F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    """Turns the project's exceptions into one line and an exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PetitionscanError as exc:
            _fail(ctx, exc)
        except KeyboardInterrupt:
            _fail(
                ctx,
                Interrupted("interrupted; everything stored so far is complete: run the same command again to go on"),
            )
        return None


def _fail(ctx: click.Context, exc: PetitionscanError) -> None:
    if ctx.find_root().params.get("verbose"):
        traceback.print_exc(file=sys.stderr)
    click.echo(f"petitionscan: error: {exc.message}", err=True)
    ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="petitionscan")
@click.option("-v", "--verbose", is_flag=True, help="Log details and show full tracebacks on errors.")
def main(verbose: bool) -> None:
    """Print petition sheets, read returned scans, count unique signatures. Offline."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# --- sheets -----------------------------------------------------------------


@main.command()
@click.argument("campaign", required=False, type=click.Path(path_type=Path))
@click.option("--sheets", "-n", type=int, default=1, show_default=True, help="Signature sheets to print.")
@click.option("--branch", help="Branch or workplace printed on every sheet.")
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True, help="PDF to write.")
@click.option("--layout", type=click.Path(path_type=Path), help="Also write the exact geometry as JSON.")
@click.option("--no-appeal", is_flag=True, help="Leave out the appeal page(s).")
def generate(
    campaign: Path | None, sheets: int, branch: str | None, out: Path, layout: Path | None, no_appeal: bool
) -> None:
    """Print a campaign's appeal and N numbered signature sheets as one PDF.

    CAMPAIGN is a TOML campaign file; without it the default campaign is used.
    """
    from petitionscan.forms import generate as run

    result = run(campaign, sheets=sheets, out=out, branch=branch, layout_out=layout, with_appeal=not no_appeal)
    click.echo(f"wrote {result.pdf} ({result.pages} pages, {len(result.serials)} signature sheets)")
    if result.layout:
        click.echo(f"wrote {result.layout}")


# --- more commands are added below, one function each ------------------------
