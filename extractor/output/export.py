"""Exporting a job store: the JSONL of its results, or flat CSV tables for spreadsheets.

CSV: exercises.csv, aircraft.csv and statements.csv, one row per item with its article_id;
nested actors become "name (COUNTRY)", lists are joined with "; ", evidence quotes with " | ".
With failures: in the JSONL, one record per failed article among the results (input order),
`{"status": "failed", "id", "where", "error_class", "cause", "http_status", "message",
"attempts"}`; as CSV, failures.csv with those columns. With skipped articles (triage) the
same way: `{"status": "skipped", "id", "where", "reason"}` records, or skipped.csv. Text cells
a spreadsheet would run as a formula are neutralized (see `safe_cell`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import InputError
from ..jobs.outcome import Origin, Status
from ..jobs.schema import Row
from ..jobs.store import StoreReader
from ..schemas import Aircraft, ArticleExtraction, Exercise, PoliticalStatement

TABLES: dict[str, type[BaseModel]] = {"exercises": Exercise, "aircraft": Aircraft, "statements": PoliticalStatement}
FAILURE_COLUMNS = ("id", "where", "cause", "http_status", "attempts", "error_class", "message")
SKIPPED_COLUMNS = ("id", "where", "reason")
LIST_SEPARATOR = "; "
QUOTE_SEPARATOR = " | "
# OWASP CSV injection: a cell starting with one of these is a formula to Excel and friends.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def iter_results(store: StoreReader) -> Iterator[tuple[str, str]]:
    """(key, result JSON) of every done article, in input order."""
    for row in store.rows(status="done"):
        if row.result is not None:
            yield row.key, row.result


def failure_record(row: Any) -> dict[str, Any]:
    """A failed article's record, as `export` and `extractor failures --format jsonl` write it."""
    return {"status": "failed", **row.outcome(origin=Origin.RESUMED).failure_record()}


def skip_record(row: Row) -> dict[str, Any]:
    """An article triage skipped, as `export --include-skipped` writes it."""
    return row.outcome(origin=Origin.RESUMED).skip_record()


def iter_lines(store: StoreReader, *, failures: bool = False, skipped: bool = False) -> Iterator[str]:
    """Every done article's result line, in input order; with `failures` and `skipped`, the
    records of failed and skipped articles too."""
    for row in store.rows():
        if row.status == Status.DONE and row.result is not None:
            yield row.result
        elif failures and row.status == Status.FAILED:
            yield json.dumps(failure_record(row), ensure_ascii=False)
        elif skipped and row.status == Status.SKIPPED:
            yield json.dumps(skip_record(row), ensure_ascii=False)


def export_jsonl(store: StoreReader, path: Path, *, failures: bool = False, skipped: bool = False) -> int:
    """The JSONL file (written whole); the number of records."""
    from .files import write_atomically

    lines = list(iter_lines(store, failures=failures, skipped=skipped))
    write_atomically(path, "".join(line + "\n" for line in lines))
    return len(lines)


def export_csv(store: StoreReader, directory: Path, *, failures: bool = False, skipped: bool = False) -> dict[str, int]:
    """Write the three tables (and failures.csv, skipped.csv) into `directory` (created if needed); rows per table."""
    from .files import write_atomically

    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: not a directory (CSV export writes three files)")
    directory.mkdir(parents=True, exist_ok=True)
    buffers = {name: io.StringIO() for name in TABLES}
    writers = {name: csv.writer(buffers[name]) for name in TABLES}
    columns = {name: ["article_id", "item", *model.model_fields] for name, model in TABLES.items()}
    counts = dict.fromkeys(TABLES, 0)
    for name, writer in writers.items():
        writer.writerow(columns[name])
    for _, result_json in iter_results(store):
        extraction = ArticleExtraction.model_validate_json(result_json)
        for name in TABLES:
            for number, item in enumerate(getattr(extraction, name), start=1):
                data = item.model_dump(mode="json")
                row = [extraction.article.id, number, *(flat(data[column]) for column in columns[name][2:])]
                writers[name].writerow([safe_cell(cell) for cell in row])
                counts[name] += 1
    for name, buffer in buffers.items():
        write_atomically(directory / f"{name}.csv", buffer.getvalue())
    if failures:
        counts["failures"] = write_failures_csv(store, directory / "failures.csv")
    if skipped:
        records = [skip_record(row) for row in store.rows(status=str(Status.SKIPPED))]
        write_atomically(directory / "skipped.csv", records_table(records, SKIPPED_COLUMNS))
        counts["skipped"] = len(records)
    return counts


def records_table(records: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Records as CSV text with these columns, every cell neutralized."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for record in records:
        writer.writerow([safe_cell(record.get(column)) for column in columns])
    return buffer.getvalue()


def failures_table(records: list[dict[str, Any]]) -> str:
    """Failure records as CSV text (FAILURE_COLUMNS), every cell neutralized."""
    return records_table(records, FAILURE_COLUMNS)


def write_failures_csv(store: StoreReader, path: Path) -> int:
    from .files import write_atomically

    records = [failure_record(row) for row in store.rows(status=str(Status.FAILED))]
    write_atomically(path, failures_table(records))
    return len(records)


def safe_cell(value: Any) -> Any:
    """A text cell that starts like a formula gets a leading single quote; numbers stay as they are.

    Article text is untrusted: a quote such as `=HYPERLINK(...)` must show as text when the
    table is opened in a spreadsheet.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def flat(value: Any) -> str | int | float | bool | None:
    """One CSV cell for any contract value."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        if "quote" in value:
            return str(value["quote"])
        if "name" in value:
            return f"{value['name']} ({value['country']})" if value.get("country") else str(value["name"])
        return LIST_SEPARATOR.join(f"{k}={flat(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        separator = QUOTE_SEPARATOR if value and isinstance(value[0], dict) and "quote" in value[0] else LIST_SEPARATOR
        return separator.join(str(flat(item)) for item in value)
    return str(value)
