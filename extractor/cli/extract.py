"""`extractor extract` (one article to ArticleExtraction JSON) and `extractor schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import InputError
from .common import check_output_path, fail, make_extractor, run_guarded, with_provider_options, write_atomically
from .web_options import AllowNetworkOpt, AllowPrivateOpt, IgnoreRobotsOpt, fetch_settings, print_notes


@with_provider_options
def extract(
    path: Annotated[str, typer.Argument(help="article file (.txt .md .html .json), an http(s) URL, or - for stdin")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write here instead of stdout")] = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="indent the JSON")] = False,
    save_article: Annotated[
        Optional[Path],
        typer.Option("--save-article", help="write the text extracted from (with its metadata header) here"),
    ] = None,
    allow_private: AllowPrivateOpt = False,
    allow_network: AllowNetworkOpt = None,
    ignore_robots: IgnoreRobotsOpt = False,
    overrides: dict[str, Any] | None = None,
) -> None:
    """Extract one article (a file, a web page, or stdin) and print the ArticleExtraction JSON."""

    def action() -> None:
        from ..input.article import load_article
        from ..input.html import fallback_note
        from ..input.web import is_url, read_url, url_list

        for target in (output, save_article):
            if target is not None:
                check_output_path(target)
        extractor = make_extractor(**(overrides or {}))
        if is_url(path):
            settings = fetch_settings(
                allow_private=allow_private, allow_network=allow_network, ignore_robots=ignore_robots
            )
            article = read_url(path, settings=settings, max_bytes=extractor.settings.max_input_bytes)
        elif url_list(Path(path)) is not None:
            raise InputError(f"{path}: a list of URLs; extract reads one article (use extractor batch {path})")
        else:
            article = load_article(path, max_bytes=extractor.settings.max_input_bytes)
        print_notes(list(filter(None, [fallback_note()])))
        if save_article is not None:
            write_atomically(save_article, article_file(article))
        result = extractor.extract_article(article)
        text = result.model_dump_json(indent=2 if pretty else None)
        if output is not None:
            write_atomically(output, text + "\n")
        else:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    run_guarded(action)


def article_file(article: Any) -> str:
    """The article as a `.txt` with a metadata header: loading it gives back the same text and offsets."""
    header = [("Title", article.title), ("Published", article.published), ("URL", article.url)]
    lines = [f"{name}: {' '.join(str(value).split())}" for name, value in header if value]
    return "\n".join(lines) + ("\n\n" if lines else "") + str(article.text)


def schema(
    draft: Annotated[bool, typer.Option("--draft", help="the schema the model is asked to fill instead")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="with --draft: as sent with OpenAI strict structured outputs")
    ] = False,
) -> None:
    """Print the JSON Schema of the output contract."""
    # Only the pydantic models: printing the contract must not load the model client.
    from ..schemas import ArticleExtraction, ExtractionDraft

    if strict and not draft:
        fail(InputError("--strict goes with --draft: the contract itself is not sent to a model"), 2)
    model = ExtractionDraft if draft else ArticleExtraction
    schema = model.model_json_schema()
    if strict:
        from ..model_call.strict_schema import strict_json_schema

        schema = strict_json_schema(schema)
    typer.echo(json.dumps(schema, indent=2))


def register(app: typer.Typer) -> None:
    """Add `extract` and `schema` to the app."""
    app.command("extract")(extract)
    app.command("schema")(schema)
