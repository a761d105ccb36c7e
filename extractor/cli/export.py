"""`extractor export`: a batch job's results out of its store, as JSONL or CSV tables.

Failed articles (`--include-failures`) and articles triage skipped (`--include-skipped`)
come along on request: records of their own among the JSONL results, or failures.csv and
skipped.csv beside the tables.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InputError
from .common import check_output_path, run_guarded


class ExportFormat(StrEnum):
    """--format of `extractor export`."""

    JSONL = "jsonl"
    CSV = "csv"


def export(
    db: Annotated[Path, typer.Argument(help="a batch job store (sqlite)")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="a JSONL file, or CSV tables")] = (
        ExportFormat.JSONL
    ),
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="JSONL file, or directory for the CSV tables")
    ] = None,
    include_failures: Annotated[
        bool,
        typer.Option("--include-failures", help="failed articles too: JSONL records of their own, or failures.csv"),
    ] = False,
    include_skipped: Annotated[
        bool,
        typer.Option(
            "--include-skipped", help="articles triage skipped too: JSONL records of their own, or skipped.csv"
        ),
    ] = False,
) -> None:
    """Export a job's results: JSONL, or CSV tables exercises.csv, aircraft.csv, statements.csv."""

    def action() -> None:
        from ..input.reading import checked_file
        from ..jobs.store import JobStore
        from ..output.export import export_csv, export_jsonl, iter_lines
        from ..output.files import check_distinct

        if not db.exists():
            raise InputError(f"{db}: no such job store")
        checked_file(db)  # a FIFO or a device is refused before it is opened
        if format is ExportFormat.JSONL and out is not None:
            check_distinct([db], {"--out": out})
            check_output_path(out)
        if format is ExportFormat.CSV and out is not None and out.exists() and not out.is_dir():
            raise InputError(f"{out}: not a directory (CSV export writes one file per table into it)")
        with JobStore(db) as store:
            if format is ExportFormat.CSV:
                counts = export_csv(store, out or Path("."), failures=include_failures, skipped=include_skipped)
                typer.echo(", ".join(f"{name}.csv: {count} rows" for name, count in counts.items()), err=True)
            elif out is None:
                for line in iter_lines(store, failures=include_failures, skipped=include_skipped):
                    sys.stdout.write(line + "\n")
            else:
                written = export_jsonl(store, out, failures=include_failures, skipped=include_skipped)
                typer.echo(f"{written} records written to {out}", err=True)

    run_guarded(action)
