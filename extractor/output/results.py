"""Reading finished extractions back: one ArticleExtraction JSON file, or a JSONL of them.

Result files come from anywhere (edited by hand, cut short, another tool's output), so each
result is checked here: a malformed one is an `InputError` naming the file, the line and the
first failing field, never a crash further down. The check is the shape readers rely on
(`ReadableResult`), looser than the contract, so partial or older results still load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import InputError
from ..input.reading import checked_file, parse_json


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Evidence(_Loose):
    quote: str = ""
    start: int | None = None
    end: int | None = None
    match: str | None = None


class _Actor(_Loose):
    name: str
    abbreviation: str | None = None


class _Item(_Loose):
    evidence: list[_Evidence] = []
    participants: list[_Actor] = []
    operator: _Actor | None = None
    speaker: _Actor | None = None
    name: str | None = None
    description: str | None = None
    designation: str | None = None
    mention: str | None = None
    role: str | None = None
    count: int | None = None
    date_text: str | None = None
    start_date: str | None = None
    stance: str | None = None
    summary: str | None = None


class _ArticleHead(_Loose):
    id: str
    title: str | None = None


class _Notice(_Loose):
    code: str
    detail: str = ""
    path: str | None = None


class _Meta(_Loose):
    warnings: list[str] = []
    notices: list[_Notice] = []


class ReadableResult(_Loose):
    """The fields of an ArticleExtraction that readers (review, eval) use, with their types."""

    article: _ArticleHead
    exercises: list[_Item] = []
    aircraft: list[_Item] = []
    statements: list[_Item] = []
    meta: _Meta | None = None


def read_json_file(path: Path) -> Any:
    """A JSON document from a regular file; unreadable or malformed is an `InputError`."""
    checked_file(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return parse_json(data)
    except InputError as exc:
        raise InputError(f"{path}: cannot read JSON ({exc})") from None


def checked_result(record: Any, *, where: str) -> dict[str, Any]:
    """`record` when it has the shape of an ArticleExtraction; else an `InputError`."""
    try:
        return ReadableResult.model_validate(record).model_dump(mode="json", exclude_unset=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "result"
        raise InputError(f"{where}: not an ArticleExtraction ({field}: {first['msg']})") from None


def _unwrapped(record: Any) -> Any:
    # Batch records may wrap the extraction as `result`.
    return record.get("result", record) if isinstance(record, dict) else record


def load_results(path: Path) -> list[dict[str, Any]]:
    """One ArticleExtraction (.json) or a JSONL of them; batch records may wrap it as `result`."""
    path = Path(path)
    checked_file(path)
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        return [checked_result(_unwrapped(read_json_file(path)), where=str(path))]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    results = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = _unwrapped(parse_json(line))
        except InputError as exc:
            raise InputError(f"{path}:{number}: {exc}") from None
        # Lines without an extraction (a failed article's record) are not results: skip them.
        if isinstance(record, dict) and "article" in record:
            results.append(checked_result(record, where=f"{path}:{number}"))
    return results
