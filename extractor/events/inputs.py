"""Reading the results to merge: result JSONL/JSON files, folders of them, batch job stores."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..input.reading import checked_file
from ..jobs.store import is_job_store, open_reader
from ..output.results import load_results
from ..schemas import ArticleExtraction

RESULT_SUFFIXES = (".json", ".jsonl", ".ndjson")


def _from_store(path: Path) -> list[dict[str, Any]]:
    from ..output.export import iter_results

    store = None
    try:
        store = open_reader(path)  # reading must not prepare the store for work, nor wait on it
        return [json.loads(result) for _, result in iter_results(store)]
    except (sqlite3.Error, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable batch job store ({exc})") from None
    finally:
        if store is not None:
            store.close()


def _raw_results(path: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in RESULT_SUFFIXES)
        for file in files:
            yield str(file), load_results(file)
        return
    checked_file(path)  # a FIFO or a device is refused before it is opened
    if is_job_store(path):
        yield str(path), _from_store(path)
    else:
        yield str(path), load_results(path)


def read_results(paths: Iterable[Path]) -> list[ArticleExtraction]:
    """Every ArticleExtraction in the inputs, in the order given; a malformed one is an InputError."""
    results: list[ArticleExtraction] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        for name, raw in _raw_results(path):
            for number, data in enumerate(raw, start=1):
                try:
                    results.append(ArticleExtraction.model_validate(data))
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(part) for part in first["loc"])
                    raise InputError(
                        f"{name}: result {number} is not an ArticleExtraction ({where}: {first['msg']})"
                    ) from None
    return results
