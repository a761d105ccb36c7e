"""Batch inputs as a Ray Dataset, and the articles of one dataset batch.

Inputs are read by Ray Data on the cluster, so they may be local paths or any URI pyarrow
can open (`s3://`, `gs://`, `hdfs://`…): JSONL files (one record a line), Parquet files or
directories (one record a row), and folders of article files (.txt .md .html .json). The
rows keep the raw line or bytes; the actors turn them into articles with the same loaders
the local engine uses, so a bad line or file becomes an input failure of its own instead
of failing the job.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator, Sequence
from typing import Any

from ...errors import InputError
from ...input.article import SUPPORTED_SUFFIXES, article_from_bytes, article_from_record
from ...input.reading import checked_file
from ...input.sources import JSONL_SUFFIXES, InputFailure, SourcedArticle, SourceItem, jsonl_item

# Rows the CLI reads carry where they came from and what they are; a user's own dataset
# (the Python API) has plain record columns instead: text, id, title, url, published.
KIND = "_extractor_kind"
WHERE = "_extractor_where"
DATA = "_extractor_data"
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_inputs(inputs: Sequence[str], *, rows_per_block: int) -> Any:
    """One Ray Dataset over every input, in blocks of `rows_per_block` for the actor pool."""
    import ray.data

    check_inputs(inputs)
    parts = []
    for given in inputs:
        name = str(given)
        suffix = posixpath.splitext(name.rstrip("/"))[1].lower()
        if suffix in JSONL_SUFFIXES:
            lines = ray.data.read_text(name, include_paths=True)
            parts.append(lines.map_batches(_tag("line", "text"), batch_format="pyarrow"))
        elif suffix in PARQUET_SUFFIXES or _is_parquet_dir(name):
            parts.append(ray.data.read_parquet(name))
        else:
            files = ray.data.read_binary_files(name, include_paths=True, file_extensions=_extensions())
            parts.append(files.map_batches(_tag("file", "bytes"), batch_format="pyarrow"))
    dataset = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    # Small blocks spread the articles over every actor instead of one actor per file.
    return dataset.repartition(target_num_rows_per_block=rows_per_block)


def check_inputs(inputs: Sequence[str]) -> None:
    """Fail before Ray starts on what Ray cannot read: nothing, stdin, a missing local path, a FIFO or device."""
    from pathlib import Path

    if not inputs:
        raise InputError("no inputs given")
    for given in inputs:
        name = str(given)
        if name == "-":
            raise InputError("--engine ray reads files or URIs, not stdin (-)")
        if "://" in name:
            continue
        if not Path(name).exists():
            raise InputError(f"{name}: no such file or directory")
        if not Path(name).is_dir():
            checked_file(name)  # a FIFO or a device would hang Ray's readers


def _extensions() -> list[str]:
    return [suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES]


def _is_parquet_dir(name: str) -> bool:
    from pathlib import Path

    path = Path(name)
    return "://" not in name and path.is_dir() and any(path.rglob("*.parquet"))


def _tag(kind: str, column: str) -> Any:
    """A batch function keeping the raw payload and its path under our own column names."""

    def tag(table: Any) -> Any:
        import pyarrow as pa

        data = table.column(column)
        if kind == "line":
            data = data.cast(pa.string()).cast(pa.binary())
        return pa.table({KIND: pa.array([kind] * table.num_rows), WHERE: table.column("path"), DATA: data})

    return tag


def items_from_batch(batch: dict[str, Any], *, max_bytes: int) -> Iterator[SourceItem]:
    """The articles (or input failures) of one batch of rows, as the local engine sees them."""
    if KIND in batch:
        for kind, where, data in zip(batch[KIND], batch[WHERE], batch[DATA], strict=True):
            yield _tagged_item(str(kind), str(where), bytes(data), max_bytes=max_bytes)
        return
    columns = list(batch)
    count = len(batch[columns[0]]) if columns else 0
    for index in range(count):
        record = {name: _plain(batch[name][index]) for name in columns}
        where = str(record.get("id") or f"<row {index}>")
        try:
            yield SourcedArticle(where, article_from_record(record, where=where, max_bytes=max_bytes))
        except InputError as exc:
            yield InputFailure(where, str(exc))


def _tagged_item(kind: str, where: str, data: bytes, *, max_bytes: int) -> SourceItem:
    if kind == "line":
        # Ray does not number lines; a digest of the line tells bad lines of one file apart.
        return jsonl_item(data, where=f"{where}#{hashlib.sha1(data).hexdigest()[:12]}", max_bytes=max_bytes)
    name = posixpath.basename(where)
    stem, suffix = posixpath.splitext(name)
    try:
        suffix = suffix.lower() or ".txt"
        return SourcedArticle(
            where, article_from_bytes(data, suffix=suffix, source=where, stem=stem, max_bytes=max_bytes)
        )
    except InputError as exc:
        return InputFailure(where, str(exc))


def _plain(value: Any) -> Any:
    """numpy scalars and None-like values from a batch as plain Python values."""
    if hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (ValueError, TypeError):
            return value
    return value
