"""A job's input as it is stored: one JSON line per article, whatever the request looked like.

A JSON list and an NDJSON body end up the same, and a line that could not be read is kept
(as its reason) so that it fails alone, under its own number, on every run of the job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

INVALID = "__invalid__"  # marks an input line that was not JSON, with the reason


def records_from_ndjson(body: bytes) -> list[str]:
    """One stored line per non-blank input line; an unreadable line is kept as its reason."""
    lines = []
    for raw in body.splitlines():
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            record = {INVALID: f"not valid UTF-8 (byte {exc.start})"}
        except json.JSONDecodeError as exc:
            record = {INVALID: f"malformed JSON (column {exc.colno}: {exc.msg})"}
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def records_from_list(articles: list[Any]) -> list[str]:
    return [json.dumps(record, ensure_ascii=False) for record in articles]


def read_stored(path: Path) -> list[str]:
    """The stored lines back. Split on "\\n" only: str.splitlines would also cut at U+2028,
    U+0085 and the like, which JSON leaves unescaped inside an article's text."""
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]
