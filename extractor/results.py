"""Reading finished extractions back: one ArticleExtraction JSON file, or a JSONL of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InputError


def read_json_file(path: Path) -> Any:
    """A JSON document from a file; unreadable or malformed is an `InputError`."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read JSON ({exc})") from None


def load_results(path: Path) -> list[dict[str, Any]]:
    """One ArticleExtraction (.json) or a JSONL of them; batch records may wrap it as `result`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        return [read_json_file(path)]
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    results = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: malformed JSON ({exc.msg})") from None
        record = record.get("result", record) if isinstance(record, dict) else None
        if isinstance(record, dict) and "article" in record:
            results.append(record)
    return results
