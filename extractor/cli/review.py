"""`extractor review`: a self-contained HTML page highlighting every evidence span."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import check_output_path, run_guarded, write_atomically


def review(
    result: Annotated[Path, typer.Argument(help="an ArticleExtraction .json, or a .jsonl of them")],
    html_out: Annotated[Path, typer.Option("--html", help="write the page here")],
    article: Annotated[Optional[Path], typer.Option("--article", help="the article text the result came from")] = None,
    articles: Annotated[
        Optional[Path],
        typer.Option("--articles", help="folder of <article id>.txt files, or the batch's job store (web pages)"),
    ] = None,
) -> None:
    """Write a self-contained HTML page highlighting every evidence span."""

    def action() -> None:
        from ..review import build_review

        check_output_path(html_out)  # before reading every result and article
        write_atomically(html_out, build_review(result, article, articles))
        typer.echo(f"wrote {html_out}", err=True)

    run_guarded(action)


def register(app: typer.Typer) -> None:
    """Add `review` to the app."""
    app.command("review")(review)
