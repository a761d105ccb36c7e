"""The `extractor` typer app: the version option and the registration of every command group.

Command modules are imported here but keep their heavy imports (openai, instructor, the batch
machinery) inside the command bodies, so `--version`, `--help` and `schema` start fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .._version import __version__
from . import batch, evaluate, events, extract, failures, fixtures, review, serve, testing

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Grounded extraction of military exercises, aircraft and political statements from news articles.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"extractor {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Grounded extraction of military exercises, aircraft and political statements."""


# Registration order is the order `extractor --help` lists the commands in.
for _group in (extract, batch, failures, testing, fixtures, evaluate, review, events, serve):
    _group.register(app)


def main() -> None:
    """Entry point of the `extractor` console script."""
    app()


if __name__ == "__main__":
    main()
