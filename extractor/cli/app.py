"""The `extractor` command: parse arguments, call the Python API, map errors to exit codes."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .._version import __version__
from .common import check_output_path, make_extractor, run_guarded, with_provider_options, write_atomically

# instructor logs every failed attempt at ERROR; the CLI reports failures itself, once.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False

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


@app.command()
@with_provider_options
def extract(
    path: Annotated[str, typer.Argument(help="article file (.txt .md .html .json) or - for stdin")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write here instead of stdout")] = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="indent the JSON")] = False,
    overrides: dict[str, Any] | None = None,
) -> None:
    """Extract one article and print the ArticleExtraction JSON."""

    def action() -> None:
        from ..article import load_article

        if output is not None:
            check_output_path(output)
        extractor = make_extractor(**(overrides or {}))
        article = load_article(path, max_bytes=extractor.settings.max_input_bytes)
        result = extractor.extract_article(article)
        text = result.model_dump_json(indent=2 if pretty else None)
        if output is not None:
            write_atomically(output, text + "\n")
        else:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    run_guarded(action)


@app.command()
def schema(
    draft: Annotated[bool, typer.Option("--draft", help="the schema the model is asked to fill instead")] = False,
) -> None:
    """Print the JSON Schema of the output contract."""
    from ..schemas import ArticleExtraction, ExtractionDraft

    model = ExtractionDraft if draft else ArticleExtraction
    typer.echo(json.dumps(model.model_json_schema(), indent=2))


def _register_subcommands() -> None:
    from . import batch as cli_batch, evaluate as cli_eval, fixtures as cli_fixtures, serve as cli_serve

    for module in (cli_batch, cli_fixtures, cli_eval, cli_serve):
        module.register(app)


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
