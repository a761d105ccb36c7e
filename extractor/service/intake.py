"""A job's input as it is stored: one JSON line per article, whatever the request looked like.

A JSON list and an NDJSON body end up the same, and a record that could not be read is kept
(as its reason) so that it fails alone, under its own number, on every run of the job. Lines
are parsed as the CLI's JSONL lines are (`extractor.input.reading.parse_json`): a lone
surrogate or a line nested too deeply is that article's failure, not the request's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..input.reading import check_unicode, parse_json
from .models import JobRequest

INVALID = "__invalid__"  # marks an input line that was not JSON, with the reason


def records_from_ndjson(body: bytes) -> list[str]:
    """One stored line per non-blank input line; an unreadable line is kept as its reason."""
    lines = []
    for raw in body.splitlines():
        if not raw.strip():
            continue
        try:
            record = parse_json(raw)
        except InputError as exc:
            record = {INVALID: str(exc)}
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def records_from_json(body: bytes) -> list[str]:
    """The stored lines of a `{"articles": [...]}` body; a body that is not JSON is an `InputError`.

    Parsed here rather than by pydantic's JSON parser, which refuses a whole body for one
    article holding a lone surrogate; the body's shape is still checked by `JobRequest`
    (a `ValidationError`).
    """
    try:
        document = parse_json(body, check_text=False)  # each article is checked alone
    except InputError as exc:
        raise InputError(f"request body: {exc}") from None
    return records_from_list(JobRequest.model_validate(document).articles)


def records_from_list(articles: list[Any]) -> list[str]:
    lines = []
    for record in articles:
        try:
            check_unicode(record)
        except InputError as exc:
            record = {INVALID: str(exc)}
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def read_stored(path: Path) -> list[str]:
    """The stored lines back. Split on "\\n" only: str.splitlines would also cut at U+2028,
    U+0085 and the like, which JSON leaves unescaped inside an article's text."""
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]
