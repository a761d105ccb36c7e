"""`extractor failures`: why articles failed, from a job store or a Ray output.

One row per failed article: its id, where it came from, the cause (`extractor.errors.Cause`),
the HTTP status the server refused it with, the model calls it took and the message. A table
on the terminal, or `--format jsonl` / `csv` for tools (CSV cells neutralized as `export` does).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from .common import run_guarded


class FailuresFormat(StrEnum):
    """--format of `extractor failures`."""

    TABLE = "table"
    JSONL = "jsonl"
    CSV = "csv"


def failures(
    source: Annotated[Path, typer.Argument(help="a job store (.db), or a Ray output (OUT or OUT.failures.jsonl)")],
    format: Annotated[FailuresFormat, typer.Option("--format", "-f", help="a table, JSONL or CSV")] = (
        FailuresFormat.TABLE
    ),
) -> None:
    """List the failed articles of a job with their cause, HTTP status, attempts and message."""

    def action() -> None:
        from ..output.export import failures_table

        records = read_failures(source)
        if format is FailuresFormat.JSONL:
            sys.stdout.write("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
        elif format is FailuresFormat.CSV:
            sys.stdout.write(failures_table(records))
        else:
            show_table(source, records)

    run_guarded(action)


def read_failures(source: Path) -> list[dict[str, object]]:
    """The failure records of a job store, or of a Ray output's failures file."""
    from ..engines.ray.output import failures_path
    from ..jobs.outcome import Status
    from ..jobs.store import is_job_store, open_reader
    from ..output.export import failure_record

    if is_job_store(source):
        try:
            reader = open_reader(source)
        except sqlite3.Error as exc:
            raise InputError(f"{source}: not a readable job store ({exc})") from None
        try:
            return [failure_record(row) for row in reader.rows(status=str(Status.FAILED))]
        except sqlite3.Error as exc:
            raise InputError(f"{source}: not a readable job store ({exc})") from None
        finally:
            reader.close()
    if source.name.endswith(".failures.jsonl") and source.is_file():
        file = source
    elif failures_path(source).is_file():
        file = failures_path(source)
    elif not source.exists():
        raise InputError(f"{source}: no such job store or output")
    else:
        raise InputError(f"{source}: neither a job store nor a Ray output with a failures file")
    from ..engines.ray.output import read_failures as read_ray_failures

    return [{"status": "failed", **outcome.failure_record()} for outcome in read_ray_failures(file)]


def show_table(source: Path, records: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not records:
        console.print(f"{source}: no failed articles")
        return
    table = Table(title=f"{len(records)} failed articles in {source}", title_justify="left")
    for column in ("id", "where", "cause", "http", "attempts", "message"):
        table.add_column(column, overflow="fold")
    for record in records:
        status = record.get("http_status")
        cells = (
            record["id"],
            record.get("where") or "",
            record.get("cause") or "",
            "" if status is None else status,
            record.get("attempts") or 0,
            record.get("message") or "",
        )
        # Ids and messages are text from outside: shown as plain text, never read as rich markup.
        table.add_row(*(Text(str(cell)) for cell in cells))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `failures` to the app."""
    app.command("failures")(failures)
