"""`extractor fixtures ...`: check, prune and author the recorded model responses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import run_guarded

fixtures_app = typer.Typer(no_args_is_help=True, help="Recorded model responses for offline runs and tests.")

DirOpt = Annotated[
    Optional[Path],
    typer.Option("--fixtures", help="fixtures directory (default: EXTRACTOR_FIXTURES_DIR or ./fixtures)"),
]


def _fixtures_dir(given: Path | None) -> Path:
    from ..errors import InputError
    from ..settings import Settings

    root = given or Settings().fixtures_dir
    if not root.is_dir():
        raise InputError(f"{root}: no such fixtures directory")
    return root


@fixtures_app.command()
def check(fixtures_dir: DirOpt = None) -> None:
    """Re-validate every stored answer against the current schema and list stale fixtures.

    Exits 3 when a fixture cannot be replayed at all (BROKEN: unreadable, or a response that is
    no chat completion), else 1 when an answer no longer validates; stale fixtures alone are
    reported, not failed.
    """

    def action() -> None:
        from ..replay.tools.check import check_fixtures

        reports = check_fixtures(_fixtures_dir(fixtures_dir))
        failed = [r for r in reports if r.failed]
        for report in reports:
            status = "BROKEN" if report.broken else "INVALID" if report.failed else "stale" if report.stale else "ok"
            details = [report.problem] if report.problem else []
            details += report.stale
            if report.reasked:
                details.append("re-asked answer (invalid by design)")
            suffix = f"  ({'; '.join(d for d in details if d)})" if details else ""
            typer.echo(f"{status:8} {report.origin:9} {report.path.name}{suffix}")
        stale = sum(1 for r in reports if r.stale)
        broken = sum(1 for r in reports if r.broken)
        typer.echo(f"{len(reports)} fixtures: {broken} broken, {len(failed) - broken} invalid, {stale} stale", err=True)
        if broken:
            raise typer.Exit(3)  # as a bad fixture is for every other command
        if failed:
            raise typer.Exit(1)

    run_guarded(action)


@fixtures_app.command()
def prune(
    fixtures_dir: DirOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="delete; without it only list what would go")] = False,
) -> None:
    """List stale fixtures (their prompt version, system prompt or schema is no longer current); --yes deletes them."""

    def action() -> None:
        from ..replay.tools.check import check_fixtures, stale_fixtures

        stale = stale_fixtures(check_fixtures(_fixtures_dir(fixtures_dir)))
        for report in stale:
            if yes:
                report.path.unlink(missing_ok=True)
            typer.echo(f"{'deleted' if yes else 'stale':8} {report.path.name}  ({'; '.join(report.stale)})")
        verb = "deleted" if yes else "would delete (dry run; pass --yes)"
        typer.echo(f"{len(stale)} stale fixtures {verb}", err=True)

    run_guarded(action)


@fixtures_app.command()
def author(
    articles: Annotated[list[Path], typer.Argument(help="article files; the answer is <answers>/<file stem>.json")],
    answers: Annotated[Path, typer.Option("--answers", help="folder of reference answers")] = Path(
        "fixtures/reference"
    ),
    fixtures_dir: Annotated[Optional[Path], typer.Option("--fixtures", help="fixtures directory")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="for the strict structured-outputs request (api.openai.com's)")
    ] = False,
) -> None:
    """Write authored reference fixtures: the request the default extractor sends, answered by hand."""

    def action() -> None:
        from ..replay.tools.author import author_fixture
        from ..settings import Settings

        target = fixtures_dir or Settings().fixtures_dir
        for article in articles:
            for path in author_fixture(article, answers / f"{article.stem}.json", target, strict=strict):
                typer.echo(f"authored {path}")

    run_guarded(action)


def register(app: typer.Typer) -> None:
    """Add the `fixtures` group to the app."""
    app.add_typer(fixtures_app, name="fixtures")
